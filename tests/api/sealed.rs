//! The seal, walked: every page and API route of `web::access::RULES`, for every kind of person,
//! before the deadline, after it, and after the opening. A bid's amount, memo, environmental
//! data, document name and content appear only to its supplier — and, once the bids are
//! opened, to the coordinator's lead on the comparison and the document route. The routes that
//! act on bids (opening, marks, justification, approval) are refused before the deadline.

use crate::bids::{published, supplier, user};
use crate::helpers::{csrf_in, home_as, post_form, upload_file, Session, TestApp};
use diesel::prelude::*;
use groupement::db::schema::{bid_documents, bids, organisations, tenders};
use groupement::services::auth;
use groupement::web::access::RULES;

const PASSWORD: &str = "mot de passe des offres";

/// What must stay sealed, in every form a page or document could write it.
const SECRETS: [&str; 9] = [
    "12\u{202f}345,67",
    "12 345,67",
    "12345,67",
    "12345.67",
    "1234567",
    "MEMOIRE-SECRET-ALPHA",
    "ENVIRONNEMENT-SECRET-ALPHA",
    "CONTENU-SECRET-ALPHA",
    "secret-alpha.pdf",
];

struct Walker {
    name: &'static str,
    session: Option<Session>,
    api_token: Option<String>,
}

struct Ids {
    reference: String,
    tender: i32,
    bid: i32,
    document: i32,
}

fn concrete(pattern: &str, ids: &Ids) -> String {
    let id = match pattern {
        p if p.starts_with("/consultations/") => ids.tender.to_string(),
        p if p.contains("/offre/documents/") => ids.document.to_string(),
        _ => "1".to_string(),
    };
    pattern
        .replace("{reference}", &ids.reference)
        .replace("{lot}", "1")
        .replace("{bid}", &ids.bid.to_string())
        .replace("{document}", &ids.document.to_string())
        .replace("{path:.*}", "style.css")
        .replace("{id}", &id)
}

/// What a bid received after the deadline holds: nobody ever reads it, not even after the
/// opening (it is kept, never opened).
const LATE_SECRETS: [&str; 3] = ["7\u{202f}654,32", "MEMOIRE-TARDIVE-BETA", "7654.32"];

/// Where `walker` may read the secrets at this stage.
fn may_read(walker: &str, pattern: &str, opened: bool) -> bool {
    match walker {
        "alpha" => {
            // Its own bid: the bid page, its documents, the confirmation of its withdrawal,
            // its home ("Mes offres").
            pattern == "/accueil"
                || pattern == "/appels-d-offres/{reference}/offre"
                || pattern == "/appels-d-offres/{reference}/offre/documents/{id}"
                || pattern == "/appels-d-offres/{reference}/lots/{lot}/retrait"
                // Its signed receipts name its documents.
                || pattern == "/offres/accuses/{id}"
        }
        "lead" => {
            opened
                && (pattern == "/consultations/{id}/offres"
                    || pattern == "/consultations/{id}/offres/documents/{document}"
                    // The archive holds the receipts, which name the documents.
                    || pattern == "/consultations/{id}/archive.zip")
        }
        _ => false,
    }
}

async fn walk(app: &TestApp, walkers: &[Walker], ids: &Ids, stage: &str, opened: bool) {
    for rule in RULES.iter().filter(|r| r.method == "GET") {
        let path = concrete(rule.path, ids);
        for walker in walkers {
            let mut request = app.client.get(format!("{}{path}", app.address));
            if path.starts_with("/api/") {
                if let Some(token) = &walker.api_token {
                    request = request.insert_header(("Authorization", format!("Bearer {token}")));
                }
            } else if let Some(session) = &walker.session {
                request = request.insert_header(("Cookie", session.cookie()));
            }
            let mut response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.body().limit(64 << 20).await.unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(status < 500, "{stage}: {path} as {}: {status}", walker.name);
            for secret in LATE_SECRETS {
                assert!(
                    !body.contains(secret),
                    "{stage}: GET {path} as {} shows the late bid's « {secret} »",
                    walker.name
                );
            }
            if may_read(walker.name, rule.path, opened) {
                continue;
            }
            for secret in SECRETS {
                assert!(
                    !body.contains(secret),
                    "{stage}: GET {path} as {} shows « {secret} »",
                    walker.name
                );
            }
        }
    }
}

async fn bid_routes_refused(app: &TestApp, walkers: &[Walker], ids: &Ids, stage: &str) {
    for pattern in [
        "/consultations/{id}/ouverture",
        "/consultations/{id}/notes",
        "/consultations/{id}/offres/{bid}/justification",
        "/consultations/{id}/attribution",
    ] {
        let path = concrete(pattern, ids);
        for walker in walkers.iter().filter(|w| w.session.is_some()) {
            let session = walker.session.as_ref().unwrap();
            let answer = post_form(
                app,
                &path,
                &session.cookie(),
                None,
                &[("csrf_token", session.csrf.as_str()), ("fingerprint", "x")],
            )
            .await;
            assert!(
                [403, 404, 409].contains(&answer.status),
                "{stage}: POST {path} as {}: {}",
                walker.name,
                answer.status
            );
            for secret in SECRETS {
                assert!(
                    !answer.body.contains(secret),
                    "{stage}: {path} shows {secret}"
                );
            }
        }
    }
    let opened: Option<chrono::NaiveDateTime> = tenders::table
        .find(ids.tender)
        .select(tenders::opened_at)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(opened.is_none(), "{stage}: nothing opened the bids");
}

crate::both_backends!(no_route_shows_a_sealed_bid_to_anyone_else, |app| {
    let (reference, ..) = published(&app);
    let alpha_id = supplier(&app, "24210041000123", "Alpha");
    let beta_id = supplier(&app, "21210231500017", "Beta");
    user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
    user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
    let ub: i32 = organisations::table
        .filter(organisations::code.eq("UB"))
        .select(organisations::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    user(&app, "buyer.ub@example.fr", "buyer", Some(ub), None);
    let mut walkers = vec![Walker {
        name: "public",
        session: None,
        api_token: None,
    }];
    for (name, email) in [
        ("alpha", "alpha@example.fr"),
        ("beta", "beta@example.fr"),
        ("lead", "lead.ub@example.fr"),
        ("other lead", "lead.chu@example.fr"),
        ("admin", "admin@example.fr"),
        ("buyer", "buyer.ub@example.fr"),
    ] {
        // Through the service, not the sign-in form and its rate limit.
        let pool = app.pool.clone();
        let (token, api_token) = actix_web::web::block(move || {
            let token = auth::sign_in(&pool, email, PASSWORD, None).unwrap();
            let viewer = auth::viewer(&pool, &token).unwrap().unwrap();
            let api = auth::create_api_token(&pool, &viewer, "seal").unwrap();
            (token, api)
        })
        .await
        .unwrap();
        let csrf = csrf_in(&home_as(&app, &token).await);
        let session = Session { token, csrf };
        walkers.push(Walker {
            name,
            session: Some(session),
            api_token: Some(api_token),
        });
    }
    let alpha = walkers[1].session.clone().unwrap();
    let bid = post_form(
        &app,
        &format!("/appels-d-offres/{reference}/lots/1/offre"),
        &alpha.cookie(),
        None,
        &[
            ("csrf_token", alpha.csrf.as_str()),
            ("price_eur", "12 345,67"),
            ("technical_memo", "MEMOIRE-SECRET-ALPHA"),
            ("environment_data", "ENVIRONNEMENT-SECRET-ALPHA"),
        ],
    )
    .await;
    assert_eq!(bid.status, 201);
    let document = format!("/appels-d-offres/{reference}/lots/1/documents");
    let uploaded = upload_file(
        &app,
        &alpha,
        &document,
        "secret-alpha.pdf",
        b"%PDF-1.7 CONTENU-SECRET-ALPHA",
    )
    .await;
    assert_eq!(uploaded.status, 303);
    let mut conn = app.pool.get().unwrap();
    let ids = Ids {
        tender: tenders::table
            .filter(tenders::reference.eq(&reference))
            .select(tenders::id)
            .first(&mut conn)
            .unwrap(),
        bid: bids::table.select(bids::id).first(&mut conn).unwrap(),
        document: bid_documents::table
            .select(bid_documents::id)
            .first(&mut conn)
            .unwrap(),
        reference: reference.clone(),
    };
    drop(conn);
    // Encrypted on receipt: the supplier itself no longer reads its bid back, it has its
    // receipt (so the walk would see a leak anywhere, the bid's own pages included).
    let own = crate::helpers::get_with(
        &app,
        &format!("/appels-d-offres/{reference}/offre"),
        &alpha.cookie(),
    )
    .await;
    assert!(own.body.contains(", chiffrée,"), "{}", own.body);
    assert!(!own.body.contains("MEMOIRE-SECRET-ALPHA"));

    walk(&app, &walkers, &ids, "before the deadline", false).await;
    bid_routes_refused(&app, &walkers, &ids, "before the deadline").await;

    diesel::update(tenders::table.find(ids.tender))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    // Beta's bid arrives one second late: received, kept, never shown.
    let beta = walkers[2].session.clone().unwrap();
    let late = post_form(
        &app,
        &format!("/appels-d-offres/{reference}/lots/1/offre"),
        &beta.cookie(),
        None,
        &[
            ("csrf_token", beta.csrf.as_str()),
            ("price_eur", "7 654,32"),
            ("technical_memo", "MEMOIRE-TARDIVE-BETA"),
        ],
    )
    .await;
    assert_eq!(late.status, 201, "{}", late.body);
    walk(&app, &walkers, &ids, "after the deadline, unopened", false).await;

    let lead = walkers[3].session.clone().unwrap();
    let opened = post_form(
        &app,
        &format!("/consultations/{}/ouverture", ids.tender),
        &lead.cookie(),
        None,
        &[
            ("csrf_token", lead.csrf.as_str()),
            ("passphrase", crate::bids::OPENING),
        ],
    )
    .await;
    assert_eq!(opened.status, 303);
    walk(&app, &walkers, &ids, "after the opening", true).await;
    let comparison = crate::helpers::get_with(
        &app,
        &format!("/consultations/{}/offres", ids.tender),
        &lead.cookie(),
    )
    .await;
    assert!(
        comparison.body.contains("MEMOIRE-SECRET-ALPHA")
            && comparison.body.contains("12\u{202f}345,67")
    );
    let document = crate::helpers::get_with(
        &app,
        &format!(
            "/consultations/{}/offres/documents/{}",
            ids.tender, ids.document
        ),
        &lead.cookie(),
    )
    .await;
    assert!(document.body.contains("CONTENU-SECRET-ALPHA"));
});
