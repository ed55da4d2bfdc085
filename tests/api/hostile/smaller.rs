//! The smaller holes of issue #18, each tried again: pages kept by caches, API tokens that
//! outlived a new password, sessions without an end, the admin reading who bid before the
//! opening, receipt numbers that counted the platform's bids, bids from unconfirmed addresses.

use crate::bids::{published, supplier, user};
use crate::both_backends;
use crate::helpers::{get_with, session_of};
use diesel::prelude::*;
use groupement::db::schema::{sessions, tenders, users};
use groupement::services::{accounts, admin, audit, auth, bids};

both_backends!(pages_of_a_signed_in_person_are_not_cached, |app| {
    crate::access::add_people(&app);
    let session = session_of(&app, "buyer@example.fr", crate::access::PASSWORD).await;
    for path in ["/besoins", "/", "/compte"] {
        let page = get_with(&app, path, &session.cookie()).await;
        assert_eq!(page.status, 200, "{path}");
        let cache = page.header("cache-control");
        assert!(cache.contains("no-store"), "{path}: {cache:?}");
    }
    let public = get_with(&app, "/", "").await;
    assert!(!public.header("cache-control").contains("no-store"));
    let style = get_with(&app, "/static/style.css", &session.cookie()).await;
    assert!(
        !style.header("cache-control").contains("no-store"),
        "assets stay cacheable"
    );
});

both_backends!(
    api_tokens_end_with_a_new_password_and_signing_out_everywhere,
    |app| {
        crate::access::add_people(&app);
        let pool = app.pool.clone();
        let base = app.address.clone();
        let (first, second) = actix_web::web::block(move || {
            let session = auth::sign_in(&pool, "buyer@example.fr", crate::access::PASSWORD, None)?;
            let buyer = auth::viewer(&pool, &session)?.unwrap();
            let first = auth::create_api_token(&pool, &buyer, "logiciel")?;
            assert!(auth::api_viewer(&pool, &first)?.is_some());
            auth::sign_out_everywhere(&pool, &buyer)?;
            let session = auth::sign_in(&pool, "buyer@example.fr", crate::access::PASSWORD, None)?;
            let buyer = auth::viewer(&pool, &session)?.unwrap();
            let second = auth::create_api_token(&pool, &buyer, "logiciel 2")?;
            accounts::request_password_reset(&pool, &base, "buyer@example.fr")?;
            Ok::<_, groupement::AppError>((first, second))
        })
        .await
        .unwrap()
        .unwrap();
        assert!(
            auth::api_viewer(&app.pool, &first).unwrap().is_none(),
            "ended everywhere"
        );
        assert!(auth::api_viewer(&app.pool, &second).unwrap().is_some());
        let mails = crate::helpers::wait_for_mails(&app, 1).await;
        let link = mails[0].link(&format!("{}/mot-de-passe/nouveau", app.address));
        let token = link.split("jeton=").nth(1).unwrap().to_string();
        let pool = app.pool.clone();
        actix_web::web::block(move || {
            accounts::set_password_by_link(
                &pool,
                accounts::Purpose::PasswordReset,
                &token,
                "un tout nouveau mot de passe",
                "un tout nouveau mot de passe",
            )
        })
        .await
        .unwrap()
        .unwrap();
        assert!(
            auth::api_viewer(&app.pool, &second).unwrap().is_none(),
            "ended by the reset"
        );
    }
);

both_backends!(
    a_session_ends_twelve_hours_after_sign_in_however_active,
    |app| {
        crate::access::add_people(&app);
        let token =
            auth::sign_in(&app.pool, "buyer@example.fr", crate::access::PASSWORD, None).unwrap();
        assert!(auth::viewer(&app.pool, &token).unwrap().is_some());
        // Active a minute ago, signed in 13 hours ago.
        let now = chrono::Utc::now().naive_utc();
        diesel::update(sessions::table)
            .set((
                sessions::created_at.eq(now - chrono::Duration::hours(13)),
                sessions::last_seen_at.eq(now - chrono::Duration::minutes(1)),
            ))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(auth::viewer(&app.pool, &token).unwrap().is_none());
    }
);

both_backends!(nobody_but_the_bidder_sees_a_bid_before_the_opening, |app| {
    let (reference, lead, _, admin_viewer) = published(&app);
    let company = supplier(&app, "24210041000123", "Alpha");
    let alpha = user(&app, "alpha@example.fr", "supplier", None, Some(company));
    let form = bids::BidForm {
        price_eur: "15 000".into(),
        technical_memo: "Mémoire".into(),
        ..Default::default()
    };
    let receipt = bids::submit(&app.pool, &alpha, &reference, 1, &form).unwrap();
    assert_eq!(receipt.number.len(), 10);
    assert!(receipt.number.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(receipt.number, receipt.bid_id.to_string());
    crate::helpers::wait_for_mails(&app, 1).await;

    let journal = || {
        audit::search(&app.pool, &audit::AuditFilter::default())
            .unwrap()
            .rows
            .into_iter()
            .filter(|r| r.action.starts_with("bid."))
            .count()
    };
    let receipts = || {
        admin::outbox(&app.pool)
            .unwrap()
            .0
            .into_iter()
            .filter(|r| r.template == "bid_receipt")
            .count()
    };
    assert_eq!(journal(), 0, "the journal says nothing of the bid");
    assert_eq!(receipts(), 0, "nor does the outbox");
    let _ = admin_viewer;
    // From the opening on, both show it.
    diesel::update(tenders::table.filter(tenders::reference.eq(&reference)))
        .set((
            tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)),
            tenders::status.eq("closed"),
        ))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    crate::bids::open_bids(&app, &lead, &reference);
    assert_eq!(journal(), 1);
    assert_eq!(receipts(), 1);
});

both_backends!(a_company_bids_through_a_confirmed_address, |app| {
    let (reference, ..) = published(&app);
    let company = supplier(&app, "24210041000123", "Alpha");
    let alpha = user(&app, "alpha@example.fr", "supplier", None, Some(company));
    diesel::update(users::table.find(alpha.user_id))
        .set(users::email_verified_at.eq(None::<chrono::NaiveDateTime>))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let form = bids::BidForm {
        price_eur: "15 000".into(),
        ..Default::default()
    };
    let refused = bids::submit(&app.pool, &alpha, &reference, 1, &form).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("confirmez d'abord votre adresse e-mail"),
        "{refused}"
    );
    let page = bids::page(&app.pool, &alpha, &reference).unwrap();
    assert!(!page.verified);
    // The link asked again from « Mon compte » confirms it.
    let email = accounts::resend_verification(&app.pool, &alpha, &app.address).unwrap();
    assert_eq!(email, "alpha@example.fr");
    let mut link = None;
    for _ in 0..200 {
        link = crate::helpers::outbox(&app)
            .into_iter()
            .find(|m| m.to == "alpha@example.fr" && m.text.contains("/verification?jeton="))
            .map(|m| m.link(&format!("{}/verification", app.address)));
        if link.is_some() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = link.expect("the verification e-mail");
    accounts::verify_email(&app.pool, link.split("jeton=").nth(1).unwrap()).unwrap();
    assert!(bids::submit(&app.pool, &alpha, &reference, 1, &form).is_ok());
});
