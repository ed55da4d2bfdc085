//! Sealed bids: a supplier submits, revises and withdraws its bid on a lot until the deadline,
//! with a receipt by e-mail; nobody else reads it before the deadline — not another supplier,
//! not the lead, not the admin, not the audit log; one second after the deadline nothing more
//! is accepted, and the coordinator's lead alone reads the bids.

use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, wait_for_mails, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewSupplier, NewSupplierCpv, NewUser};
use groupement::db::schema::{organisations, supplier_cpv, suppliers, tenders, users};
use groupement::domain::hash_password;
use groupement::services::{auth, bids, needs, pooling, tenders as tender_service};
use groupement::web::nav::Viewer;

pub(crate) const PASSWORD: &str = "mot de passe des offres";
/// The passphrase of every test lead's opening key (made with the account).
pub(crate) const OPENING: &str = "phrase d'ouverture des tests";

pub fn user(
    app: &TestApp,
    email: &str,
    role: &str,
    organisation: Option<i32>,
    supplier: Option<i32>,
) -> Viewer {
    diesel::insert_into(users::table)
        .values(NewUser {
            email,
            password_hash: &hash_password(PASSWORD).unwrap(),
            display_name: email,
            role,
            organisation_id: organisation,
            supplier_id: supplier,
            email_verified_at: Some(chrono::Utc::now().naive_utc()),
        })
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let session = auth::sign_in(&app.pool, email, PASSWORD, None).unwrap();
    let viewer = auth::viewer(&app.pool, &session).unwrap().unwrap();
    // A lead has an opening key: without one, their organisation's tenders are not published.
    if role == "lead" && organisation.is_some() {
        groupement::services::keys::create(&app.pool, &viewer, OPENING, OPENING).unwrap();
    }
    viewer
}

pub fn supplier(app: &TestApp, siret: &str, name: &str) -> i32 {
    diesel::insert_into(suppliers::table)
        .values(NewSupplier {
            siret,
            name,
            postcode: "21000",
            commune: "DIJON",
            department_code: "21",
            latitude: None,
            longitude: None,
            sme: true,
            annual_capacity_cents: 100_000_000,
            notification_email: &format!("{}@example.fr", name.to_lowercase()),
            opt_in: true,
            provenance: None,
        })
        .returning(suppliers::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

/// The coordinator's lead opens the bids of a tender past its deadline.
pub fn open_bids(app: &TestApp, lead: &Viewer, reference: &str) {
    let id: i32 = tenders::table
        .filter(tenders::reference.eq(reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let opened = groupement::services::awards::open(
        &app.pool,
        lead,
        id,
        Some(groupement::services::awards::KeyEntry::Passphrase(OPENING)),
    )
    .unwrap();
    assert!(
        matches!(opened, groupement::services::awards::Opening::Opened { .. }),
        "{opened:?}"
    );
}

/// A published tender of UB, through the services; returns its reference and the viewers.
/// The documents a tender needs to be published: its rules and a price schedule.
pub fn consultation_file(app: &TestApp, lead: &Viewer, tender: i32) {
    for (name, kind) in [
        ("reglement-consultation.pdf", "reglement"),
        ("bordereau-des-prix.pdf", "prix"),
    ] {
        tender_service::add_document(
            &app.pool,
            lead,
            tender,
            (name, kind),
            b"%PDF-1.7\n% document de la consultation\n%%EOF\n",
        )
        .unwrap();
    }
}

pub fn published(app: &TestApp) -> (String, Viewer, Viewer, Viewer) {
    let mut conn = app.pool.get().unwrap();
    let org = |code: &str, conn: &mut groupement::db::AnyConnection| -> i32 {
        diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code,
                name: code,
                siret: None,
                kind: "university",
                buyer_class: "central",
            })
            .returning(organisations::id)
            .get_result(conn)
            .unwrap()
    };
    let ub = org("UB", &mut conn);
    let chu = org("CHU", &mut conn);
    drop(conn);
    let lead = user(app, "lead.ub@example.fr", "lead", Some(ub), None);
    let other_lead = user(app, "lead.chu@example.fr", "lead", Some(chu), None);
    let admin = user(app, "admin@example.fr", "admin", None, None);
    let raw = needs::RawNeed {
        cpv: "30192000".into(),
        title: "Fournitures de bureau".into(),
        quantity: "1000".into(),
        unit: "lot".into(),
        unit_price_eur: "20".into(),
        delivery_postcode: "21000".into(),
        window_start: "01/03/2027".into(),
        window_end: "30/06/2027".into(),
        poolable: "oui".into(),
        ..Default::default()
    };
    needs::create(&app.pool, &lead, &raw, true).unwrap();
    let run = pooling::start(&app.pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
    pooling::execute(&app.pool, run).unwrap();
    let reference = pooling::accept(&app.pool, &lead, run, &app.address)
        .unwrap()
        .remove(0);
    let id: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    publish(app, &lead, id);
    (reference, lead, other_lead, admin)
}

/// A tender of a single member approved by it, its file given, published with the criteria
/// 60/30/10 and a deadline 40 days ahead.
pub fn publish(app: &TestApp, lead: &Viewer, id: i32) {
    tender_service::decide(&app.pool, lead, id, true, "").unwrap();
    consultation_file(app, lead, id);
    let publication = tender_service::Publication {
        weight_price: "60".into(),
        weight_quality: "30".into(),
        weight_environment: "10".into(),
        deadline: (chrono::Utc::now() + chrono::Duration::days(40))
            .format("%d/%m/%Y")
            .to_string(),
        ..Default::default()
    };
    tender_service::publish(&app.pool, lead, &app.address, id, &publication).unwrap();
}

both_backends!(
    bids_stay_sealed_until_the_deadline_and_freeze_after_it,
    |app| {
        let (reference, lead, other_lead, admin) = published(&app);
        let a = supplier(&app, "24210041000123", "Alpha");
        let b = supplier(&app, "21210231500017", "Beta");
        user(&app, "alpha@example.fr", "supplier", None, Some(a));
        user(&app, "beta@example.fr", "supplier", None, Some(b));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
        let page = format!("/appels-d-offres/{reference}/offre");
        let bid_path = format!("/appels-d-offres/{reference}/lots/1/offre");
        let bid = |session: &crate::helpers::Session, price: &'static str| {
            // A memo of its own for each bid, so that a leak would show.
            let (app, session, path) = (&app, session.clone(), bid_path.clone());
            let memo = format!("Mémoire de l'offre à {price} euros");
            async move {
                post_form(
                    app,
                    &path,
                    &session.cookie(),
                    None,
                    &[
                        ("csrf_token", session.csrf.as_str()),
                        ("price_eur", price),
                        ("technical_memo", memo.as_str()),
                        ("environment_data", "Véhicules électriques"),
                    ],
                )
                .await
            }
        };

        let form = get_with(&app, &page, &alpha.cookie()).await;
        assert_eq!(form.status, 200);
        assert!(
            form.body.contains("heure de Paris"),
            "the deadline says its zone"
        );
        let bad = bid(&alpha, "gratuit").await;
        assert_eq!(bad.status, 422);
        // Nothing typed is lost: the refused price, the memo and the environmental data come
        // back in the lot's form, the price marked invalid with the reason beside it.
        assert!(
            bad.body
                .contains("value=\"gratuit\" aria-invalid=\"true\" aria-describedby=\"erreur-1\""),
            "{}",
            bad.body
        );
        assert!(
            bad.body
                .contains("Mémoire de l&#x27;offre à gratuit euros</textarea>"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains(">Véhicules électriques</textarea>"));
        assert!(bad.body.contains("id=\"erreur-1\""));
        let first = bid(&alpha, "18 750,50").await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert!(first.body.contains("reçue pour le lot 1"));
        let revised = bid(&alpha, "18 400").await;
        assert_eq!(revised.status, 201);
        assert!(revised.body.contains("modifiée pour le lot 1"));
        assert_eq!(bid(&beta, "19 999").await.status, 201);

        // The receipts, by e-mail.
        let mails = wait_for_mails(&app, 3).await;
        let to_alpha: Vec<_> = mails
            .iter()
            .filter(|m| m.to == "alpha@example.fr")
            .collect();
        assert_eq!(to_alpha.len(), 2);
        assert!(to_alpha
            .iter()
            .all(|m| m.subject.starts_with("Accusé de réception")));

        // Sealed: each supplier sees its own bid only; the lead, another lead and the admin are
        // refused by the query layer; the audit log holds no amount.
        // Encrypted on receipt: its company sees its receipt, not its bid.
        let beta_page = get_with(&app, &page, &beta.cookie()).await;
        assert!(beta_page.body.contains(", chiffrée,"), "{}", beta_page.body);
        assert!(!beta_page.body.contains("19999") && !beta_page.body.contains("19 999"));
        assert!(!beta_page.body.contains("18400") && !beta_page.body.contains("offre à 18 400"));
        for viewer in [&lead, &other_lead, &admin] {
            let refused = bids::sealed_bids(&app.pool, viewer, &reference).unwrap_err();
            assert!(refused.to_string().contains("scellées"), "{refused}");
        }
        let admin_session = session_of(&app, "admin@example.fr", PASSWORD).await;
        // Until the opening the journal does not even say that a bid exists (issue #18).
        let journal = get_with(&app, "/admin/journal?action=bid.", &admin_session.cookie()).await;
        assert_eq!(journal.status, 200);
        assert!(!journal.body.contains("bid.revised") && !journal.body.contains("bid.submitted"));
        for amount in ["18 400", "18400", "1840000", "19 999", "1999900"] {
            assert!(
                !journal.body.contains(amount),
                "the audit log shows an amount"
            );
        }
        let lead_session = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        assert_eq!(
            get_with(&app, &page, &lead_session.cookie()).await.status,
            403
        );

        // Beta withdraws, told first what it does; then the deadline passes (one second ago):
        // nothing more is accepted.
        let confirmation = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/retrait"),
            &beta.cookie(),
        )
        .await;
        assert_eq!(confirmation.status, 200, "{}", confirmation.body);
        assert!(confirmation
            .body
            .contains("Retirer votre offre sur le lot 1 ?"));
        assert!(
            confirmation.body.contains("chiffrée"),
            "the bid: {}",
            confirmation.body
        );
        assert!(
            confirmation.body.contains("l'acheteur ne la lira pas")
                || confirmation.body.contains("l&#x27;acheteur ne la lira pas")
        );
        let withdrawn = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/retrait"),
            &beta.cookie(),
            None,
            &[("csrf_token", beta.csrf.as_str())],
        )
        .await;
        assert_eq!(withdrawn.status, 200);
        assert!(withdrawn.body.contains("retirée"));
        diesel::update(tenders::table.filter(tenders::reference.eq(&reference)))
            .set(
                tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        // A bid sent now is received as late (kept, never opened: tests/api/buyer_profile.rs);
        // the bid made in time stays as it was, and can no longer be withdrawn.
        let late = bid(&alpha, "17 000").await;
        assert_eq!(late.status, 201);
        assert!(late.body.contains("après la date limite"), "{}", late.body);
        assert!(late.body.contains("heure de Paris"));
        let too_late = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/retrait"),
            &alpha.cookie(),
            None,
            &[("csrf_token", alpha.csrf.as_str())],
        )
        .await;
        assert_eq!(too_late.status, 409);
        assert!(
            too_late
                .body
                .contains("plus aucune offre ne peut être remise"),
            "{}",
            too_late.body
        );

        // Opened after the deadline, by the coordinator's lead only and through the audited
        // opening: Alpha's revised bid, not Beta's withdrawn one.
        assert!(matches!(
            bids::sealed_bids(&app.pool, &other_lead, &reference),
            Err(groupement::AppError::Forbidden)
        ));
        // The ticker closes the tender at its deadline; bids freeze.
        assert_eq!(bids::close_due(&app.pool).unwrap(), 1);
        let unopened = bids::sealed_bids(&app.pool, &lead, &reference).unwrap_err();
        assert!(unopened.to_string().contains("ouvrez d'abord les offres"));
        open_bids(&app, &lead, &reference);
        let opened = bids::sealed_bids(&app.pool, &lead, &reference).unwrap();
        assert_eq!(opened.len(), 1);
        assert_eq!(
            (opened[0].supplier.as_str(), opened[0].price_cents),
            ("Alpha", 1_840_000)
        );
        let status: String = tenders::table
            .filter(tenders::reference.eq(&reference))
            .select(tenders::status)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(status, "closed");
    }
);

both_backends!(a_notice_carries_a_one_click_unsubscription, |app| {
    let alpha = supplier(&app, "24210041000123", "Alpha");
    diesel::insert_into(supplier_cpv::table)
        .values(NewSupplierCpv {
            supplier_id: alpha,
            cpv_prefix: "3019",
        })
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    published(&app);
    let notice = &crate::helpers::wait_for_mail_to(&app, "alpha@example.fr", "").await;
    assert!(
        notice
            .raw
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        notice.raw
    );
    let url = notice
        .raw
        .split("List-Unsubscribe: <")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap()
        .replace("=\r\n", "");
    let path = crate::helpers::path_of(&app, &url);
    let opted = || -> bool {
        suppliers::table
            .find(alpha)
            .select(suppliers::opt_in)
            .first(&mut app.pool.get().unwrap())
            .unwrap()
    };
    // Following the link (as a mail scanner does) only asks.
    let page = get_with(&app, &path, "").await;
    assert!(page.body.contains("Confirmer le désabonnement"));
    assert!(opted());
    // The mail client's one-click POST: no cookie, no form token, another origin.
    let mut response = app
        .client
        .post(format!("{}{path}", app.address))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body("List-Unsubscribe=One-Click")
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = String::from_utf8_lossy(&response.body().await.unwrap()).into_owned();
    assert!(body.contains("Alpha ne recevra plus"));
    assert!(!opted());
    let bogus = app
        .client
        .post(format!("{}/desabonnement?jeton=faux", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status().as_u16(), 400);
});

both_backends!(suppliers_who_chose_it_get_a_daily_digest_once, |app| {
    let gamma = supplier(&app, "24210041000131", "Gamma");
    let delta = supplier(&app, "21690123100011", "Delta");
    let mut conn = app.pool.get().unwrap();
    for (id, department) in [(gamma, "21"), (delta, "69")] {
        diesel::update(suppliers::table.find(id))
            .set((
                suppliers::digest.eq("daily"),
                suppliers::department_code.eq(department),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::insert_into(supplier_cpv::table)
            .values(NewSupplierCpv {
                supplier_id: id,
                cpv_prefix: "30",
            })
            .execute(&mut conn)
            .unwrap();
    }
    drop(conn);
    let (reference, ..) = published(&app);
    use groupement::db::schema::notifications;
    let digests = || -> Vec<String> {
        notifications::table
            .filter(notifications::template.eq("daily_digest"))
            .order(notifications::recipient)
            .select(notifications::recipient)
            .load(&mut app.pool.get().unwrap())
            .unwrap()
    };
    let single: i64 = notifications::table
        .filter(notifications::template.eq("tender_published"))
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(single, 0, "no single notice for those who chose the digest");
    // The digest that covers now: tomorrow's when it is past 07:00 in Paris, else today's.
    let (paris_now, _) = groupement::domain::to_paris(chrono::Utc::now().naive_utc());
    let day = match paris_now.time() >= chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap() {
        true => paris_now.date() + chrono::Duration::days(1),
        false => paris_now.date(),
    };
    let write = |day: chrono::NaiveDate| {
        tender_service::enqueue_digests(&app.pool, &app.address, day).unwrap()
    };
    assert_eq!(
        write(day - chrono::Duration::days(1)),
        0,
        "the day before covers nothing"
    );
    assert_eq!(write(day), 1);
    assert_eq!(write(day), 0, "once per supplier and day");
    assert_eq!(digests(), ["gamma@example.fr"]);
    assert_eq!(
        write(day + chrono::Duration::days(2)),
        1,
        "outside the territory, two days later"
    );
    assert_eq!(digests(), ["delta@example.fr", "gamma@example.fr"]);
    let mails = wait_for_mails(&app, 2).await;
    let gamma_mail = mails.iter().find(|m| m.to == "gamma@example.fr").unwrap();
    assert!(gamma_mail.subject.contains("1 appel(s) d'offres pour vous"));
    assert!(
        gamma_mail.text.contains(&reference) && gamma_mail.raw.contains("List-Unsubscribe-Post")
    );
});

both_backends!(bid_documents_are_sealed_with_the_bid, |app| {
    use crate::helpers::upload_file;
    let (reference, lead, other_lead, admin) = published(&app);
    let a = supplier(&app, "24210041000123", "Alpha");
    let b = supplier(&app, "21210231500017", "Beta");
    user(&app, "alpha@example.fr", "supplier", None, Some(a));
    user(&app, "beta@example.fr", "supplier", None, Some(b));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
    let documents = format!("/appels-d-offres/{reference}/lots/1/documents");
    let memo = b"%PDF-1.7 memoire technique Alpha".to_vec();

    // A document belongs to a bid: none before the bid.
    let early = upload_file(&app, &alpha, &documents, "memoire.pdf", &memo).await;
    assert_eq!(early.status, 409);
    assert!(early
        .body
        .contains("une offre sur le lot 1 : les documents s"));
    let submitted = post_form(
        &app,
        &format!("/appels-d-offres/{reference}/lots/1/offre"),
        &alpha.cookie(),
        None,
        &[("csrf_token", alpha.csrf.as_str()), ("price_eur", "18 000")],
    )
    .await;
    assert_eq!(submitted.status, 201);

    // Refused: a file that is not what its name says; accepted: a real PDF.
    let fake = upload_file(&app, &alpha, &documents, "prix.pdf", b"PK\x03\x04").await;
    assert_eq!(fake.status, 422);
    assert!(
        fake.body.contains("n&#x27;est pas un vrai fichier pdf")
            || fake.body.contains("n'est pas un vrai fichier pdf")
    );
    let added = upload_file(&app, &alpha, &documents, "memoire.pdf", &memo).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = get_with(
        &app,
        &format!("/appels-d-offres/{reference}/offre"),
        &alpha.cookie(),
    )
    .await;
    assert!(page.body.contains("memoire.pdf"));
    let id: i32 = groupement::db::schema::bid_documents::table
        .select(groupement::db::schema::bid_documents::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let own = format!("/appels-d-offres/{reference}/offre/documents/{id}");
    // Encrypted on receipt: not even its company reads it back before the opening.
    let download = get_with(&app, &own, &alpha.cookie()).await;
    assert_eq!(download.status, 409);
    assert!(download.body.contains("chiffré"), "{}", download.body);
    let stored: Vec<u8> = groupement::db::schema::bid_documents::table
        .find(id)
        .select(groupement::db::schema::bid_documents::content)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(stored.starts_with(b"age-encryption.org/v1\n"));
    assert!(!stored.windows(memo.len()).any(|w| w == memo.as_slice()));

    // Sealed before the deadline: another supplier gets nothing, the leads and the admin are
    // refused by the query layer.
    assert_eq!(get_with(&app, &own, &beta.cookie()).await.status, 404);
    assert!(!get_with(
        &app,
        &format!("/appels-d-offres/{reference}/offre"),
        &beta.cookie()
    )
    .await
    .body
    .contains("memoire.pdf"));
    for viewer in [&lead, &other_lead, &admin] {
        let refused = bids::sealed_document(&app.pool, viewer, &reference, id).unwrap_err();
        assert!(refused.to_string().contains("scellées"), "{refused}");
    }

    // Removed, added again; Beta's withdrawn bid takes its documents with it.
    let removed = post_form(
        &app,
        &format!("{documents}/{id}/supprimer"),
        &alpha.cookie(),
        None,
        &[("csrf_token", alpha.csrf.as_str())],
    )
    .await;
    assert_eq!(removed.status, 303);
    assert_eq!(get_with(&app, &own, &alpha.cookie()).await.status, 404);
    assert_eq!(
        upload_file(&app, &alpha, &documents, "memoire.pdf", &memo)
            .await
            .status,
        303
    );
    post_form(
        &app,
        &format!("/appels-d-offres/{reference}/lots/1/offre"),
        &beta.cookie(),
        None,
        &[("csrf_token", beta.csrf.as_str()), ("price_eur", "19 000")],
    )
    .await;
    assert_eq!(
        upload_file(&app, &beta, &documents, "beta.pdf", b"%PDF beta")
            .await
            .status,
        303
    );
    post_form(
        &app,
        &format!("/appels-d-offres/{reference}/lots/1/retrait"),
        &beta.cookie(),
        None,
        &[("csrf_token", beta.csrf.as_str())],
    )
    .await;
    let kept: Vec<String> = groupement::db::schema::bid_documents::table
        .select(groupement::db::schema::bid_documents::name)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(
        kept,
        ["memoire.pdf"],
        "the withdrawn bid's document is gone"
    );

    // After the deadline: frozen for the supplier, opened for the coordinator's lead only.
    diesel::update(tenders::table.filter(tenders::reference.eq(&reference)))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let late = upload_file(&app, &alpha, &documents, "annexe.pdf", b"%PDF late").await;
    assert_eq!(late.status, 409);
    assert!(late.body.contains("plus aucune offre ne peut être remise"));
    open_bids(&app, &lead, &reference);
    let opened = bids::sealed_bids(&app.pool, &lead, &reference).unwrap();
    assert_eq!(opened[0].documents.len(), 1);
    let document = opened[0].documents[0].id;
    let (name, _, content) = bids::sealed_document(&app.pool, &lead, &reference, document).unwrap();
    assert_eq!((name.as_str(), content), ("memoire.pdf", memo));
    for viewer in [&other_lead, &admin] {
        assert!(matches!(
            bids::sealed_document(&app.pool, viewer, &reference, document),
            Err(groupement::AppError::Forbidden)
        ));
    }
    // The journal says a document was added, not what it is called.
    let admin_session = session_of(&app, "admin@example.fr", PASSWORD).await;
    let journal = get_with(&app, "/admin/journal?action=bid.", &admin_session.cookie()).await;
    assert!(journal.body.contains("bid.document_added"));
    assert!(!journal.body.contains("memoire.pdf"));
});

both_backends!(concurrent_first_bids_of_one_supplier_make_one_bid, |app| {
    let (reference, ..) = published(&app);
    let a = supplier(&app, "24210041000123", "Alpha");
    user(&app, "alpha@example.fr", "supplier", None, Some(a));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let path = format!("/appels-d-offres/{reference}/lots/1/offre");
    let submissions = (0..48).map(|i| {
        let (app, alpha, path) = (&app, alpha.clone(), path.clone());
        async move {
            let price = format!("{}", 18_000 + i);
            post_form(
                app,
                &path,
                &alpha.cookie(),
                None,
                &[
                    ("csrf_token", alpha.csrf.as_str()),
                    ("price_eur", price.as_str()),
                ],
            )
            .await
            .status
        }
    });
    let statuses = futures_util::future::join_all(submissions).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let count: i64 = groupement::db::schema::bids::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(count, 1, "one bid, revised");
});
