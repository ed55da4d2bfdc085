//! Bids by a group of companies (#24): the representative names its co-contractors by SIRET
//! with their shares, each confirms from its own account before the deadline, a company
//! answers a lot once, an unconfirmed group is not admissible, and the award, OCDS and DECP
//! carry the whole group.

use crate::bids::{open_bids, published, supplier, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, Session, TestApp};
use diesel::prelude::*;
use groupement::db::schema::{bids, contracts, notifications, organisations, tenders};
use groupement::services::{awards, open_data};
use groupement::web::nav::Viewer;
use std::collections::HashMap;

const ALPHA: &str = "24210041000123";
const BRAVO: &str = "21210231500018";
const CHARLIE: &str = "44386207300014";

fn unescaped(body: &str) -> String {
    body.replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&amp;", "&")
}

async fn bid(
    app: &TestApp,
    session: &Session,
    reference: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Answer {
    let mut form = vec![("csrf_token", session.csrf.as_str())];
    form.extend_from_slice(fields);
    post_form(
        app,
        &format!("/appels-d-offres/{reference}/lots/1/offre"),
        &session.cookie(),
        None,
        &form,
    )
    .await
}

/// The tender's deadline passes, the bids are closed and opened by its lead.
pub(crate) fn opened_after_deadline(app: &TestApp, lead: &Viewer, tender_id: i32, reference: &str) {
    diesel::update(tenders::table.find(tender_id))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    groupement::services::bids::close_due(&app.pool).unwrap();
    open_bids(app, lead, reference);
}

/// Every bid marked 80 (quality) and 70 (environment): the comparison the lead then reads.
pub(crate) fn marked(app: &TestApp, lead: &Viewer, tender_id: i32) -> awards::Comparison {
    let ids: Vec<i32> = bids::table
        .select(bids::id)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    let marks: HashMap<String, String> = ids
        .iter()
        .flat_map(|id| {
            [
                (format!("quality-{id}"), "80".to_string()),
                (format!("environment-{id}"), "70".to_string()),
            ]
        })
        .collect();
    awards::evaluate(&app.pool, lead, tender_id, &marks).unwrap();
    awards::comparison(&app.pool, lead, tender_id).unwrap()
}

/// The award approved as compared, the standstill over, the member (given its SIRET, which
/// the DECP needs) signs each of its contracts today.
pub(crate) fn awarded_and_signed(
    app: &TestApp,
    lead: &Viewer,
    tender_id: i32,
    comparison: &awards::Comparison,
    (organisation, siret): (i32, &str),
) {
    awards::approve(
        &app.pool,
        lead,
        tender_id,
        &comparison.fingerprint,
        &app.address,
    )
    .unwrap();
    diesel::update(organisations::table.find(organisation))
        .set(organisations::siret.eq(siret))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    diesel::update(tenders::table.find(tender_id))
        .set(
            tenders::standstill_until
                .eq(chrono::Utc::now().naive_utc() - chrono::Duration::days(1)),
        )
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let uids: Vec<String> = contracts::table
        .filter(contracts::tender_id.eq(tender_id))
        .select(contracts::uid)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    for uid in &uids {
        awards::sign_contract(
            &app.pool,
            lead,
            tender_id,
            uid,
            &awards::Signature {
                signed_on: chrono::Utc::now().format("%d/%m/%Y").to_string(),
                signatory: "La présidente".into(),
            },
        )
        .unwrap();
    }
}

/// The published tender's id and Alpha, Bravo and Charlie registered, each with a person.
fn setting(app: &TestApp, reference: &str) -> i32 {
    for (siret, name) in [(ALPHA, "Alpha"), (BRAVO, "Bravo"), (CHARLIE, "Charlie")] {
        let id = supplier(app, siret, name);
        user(
            app,
            &format!("{}@example.fr", name.to_lowercase()),
            "supplier",
            None,
            Some(id),
        );
    }
    tenders::table
        .filter(tenders::reference.eq(reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    a_group_of_companies_bids_confirms_wins_and_shows_in_the_open_data,
    |app| {
        let (reference, lead, _, _) = published(&app);
        let tender_id = setting(&app, &reference);
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let bravo = session_of(&app, "bravo@example.fr", PASSWORD).await;
        let charlie = session_of(&app, "charlie@example.fr", PASSWORD).await;

        // Refused, in French, field by field: an unregistered company, itself, shares that
        // leave the representative nothing; nothing stored.
        let refused = bid(
            &app,
            &alpha,
            &reference,
            &[
                ("price_eur", "45000"),
                ("group_kind", "solidaire"),
                ("co_siret_1", "34889929500300"),
                ("co_share_1", "40"),
                ("co_siret_2", ALPHA),
                ("co_share_2", "10"),
                ("co_siret_3", BRAVO),
                ("co_share_3", "100"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let text = unescaped(&refused.body);
        for expected in [
            "SIRET du co-traitant 1 : l'entreprise 34889929500300 n'est pas inscrite sur Groupement",
            "SIRET du co-traitant 2 : c'est votre entreprise",
            "part du co-traitant 3 : un pourcentage entier de 1 à 99",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        let stored: i64 = bids::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(stored, 0);
        let lonely = bid(
            &app,
            &alpha,
            &reference,
            &[("price_eur", "45000"), ("group_kind", "conjoint")],
        )
        .await;
        assert_eq!(lonely.status, 422);
        assert!(unescaped(&lonely.body).contains("un groupement compte au moins un co-traitant"));

        // Alpha bids as representative of a joint group with Bravo (40 %).
        let sent = bid(
            &app,
            &alpha,
            &reference,
            &[
                ("price_eur", "45000"),
                ("group_kind", "solidaire"),
                ("co_siret_1", BRAVO),
                ("co_share_1", "40"),
            ],
        )
        .await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        let text = unescaped(&sent.body);
        assert!(
            text.contains("groupement solidaire — mandataire 60 %"),
            "{text}"
        );
        assert!(text.contains("Bravo (SIRET 21210231500018, 40 %, non confirmé)"));
        let told: Vec<(String, String)> = notifications::table
            .filter(notifications::template.eq("group_invitation"))
            .select((notifications::recipient, notifications::data))
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].0, "bravo@example.fr");
        assert!(!told[0].1.contains("45000") && !told[0].1.contains("45 000"));

        // Bravo sees the group bid (never its price) and confirms it.
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &bravo.cookie(),
        )
        .await;
        let text = unescaped(&page.body);
        assert!(
            text.contains("Offres en groupement qui vous nomment co-traitant"),
            "{text}"
        );
        assert!(
            text.contains("offre de <strong>Alpha</strong>, groupement solidaire, votre part 40 %")
        );
        assert!(!text.contains("45\u{202f}000"));
        let group_bid: i32 = bids::table
            .select(bids::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let confirm_path =
            format!("/appels-d-offres/{reference}/groupements/{group_bid}/confirmation");
        // Charlie is not in the group: not found.
        let stranger = post_form(
            &app,
            &confirm_path,
            &charlie.cookie(),
            None,
            &[("csrf_token", charlie.csrf.as_str())],
        )
        .await;
        assert_eq!(stranger.status, 404);
        let confirmed = post_form(
            &app,
            &confirm_path,
            &bravo.cookie(),
            None,
            &[("csrf_token", bravo.csrf.as_str())],
        )
        .await;
        assert_eq!(confirmed.status, 303, "{}", confirmed.body);
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &bravo.cookie(),
        )
        .await;
        assert!(page.body.contains("Participation confirmée"));
        // Having confirmed, Bravo does not bid alone on the same lot.
        let twice = bid(&app, &bravo, &reference, &[("price_eur", "15000")]).await;
        assert_eq!(twice.status, 409, "{}", twice.body);
        assert!(unescaped(&twice.body).contains("a confirmé sa place dans le groupement de Alpha"));
        // Charlie bids alone, dearer. (Both above 40 000 €: the contract is in the DECP.)
        assert_eq!(
            bid(&app, &charlie, &reference, &[("price_eur", "48000")])
                .await
                .status,
            201
        );

        // The deadline passes; the bids are opened, marked, the award approved.
        opened_after_deadline(&app, &lead, tender_id, &reference);
        let comparison = marked(&app, &lead, tender_id);
        let compared = &comparison.lots[0].bids;
        let group_line = compared.iter().find(|b| b.id == group_bid).unwrap();
        assert!(group_line.winner, "{compared:?}");
        assert!(group_line.group.as_deref().unwrap().contains("Bravo"));

        // Awarded and signed: the open data carry the group.
        let ub: i32 = organisations::table
            .filter(organisations::code.eq("UB"))
            .select(organisations::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        awarded_and_signed(&app, &lead, tender_id, &comparison, (ub, "19210000200018"));
        // OCDS: both companies of the group are tenderers and suppliers of the award.
        let package = {
            let mut conn = app.pool.get().unwrap();
            open_data::ocds_package(&mut conn, &app.address).unwrap()
        };
        let release = package["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ocid"] == format!("ocds-grpdijon-{reference}"))
            .unwrap()
            .clone();
        let names = |value: &serde_json::Value| -> Vec<String> {
            let mut names: Vec<String> = value
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names(&release["tender"]["tenderers"]),
            ["Alpha", "Bravo", "Charlie"]
        );
        let award = &release["awards"][0];
        assert_eq!(names(&award["suppliers"]), ["Alpha", "Bravo"]);
        crate::award_journey::assert_ocds_valid(&package);

        // DECP: the contract's holders are both, as a joint group.
        let decp = {
            let mut conn = app.pool.get().unwrap();
            open_data::decp(&mut conn).unwrap()
        };
        let marche = &decp["marches"]["marche"][0];
        assert_eq!(marche["typeGroupementOperateurs"], "Solidaire", "{decp}");
        let holders: Vec<&str> = marche["titulaires"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["titulaire"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(holders, [ALPHA, BRAVO]);
        crate::award_journey::assert_decp_valid(&decp);
        // The members' contracts name the group.
        let lead_session = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let page = get_with(
            &app,
            &format!("/consultations/{tender_id}"),
            &lead_session.cookie(),
        )
        .await;
        assert!(
            unescaped(&page.body).contains("Alpha, mandataire du groupement solidaire avec Bravo"),
            "{}",
            page.body
        );
        // The public list of contracts names the group.
        let (status, _, page) = app.get("/open-data/marches").await;
        assert_eq!(status, 200);
        assert!(
            unescaped(&page).contains("en groupement solidaire avec Bravo (SIRET 21210231500018)"),
            "{page}"
        );
    }
);

both_backends!(a_group_bid_left_unconfirmed_is_not_scored, |app| {
    let (reference, lead, _, _) = published(&app);
    let tender_id = setting(&app, &reference);
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let charlie = session_of(&app, "charlie@example.fr", PASSWORD).await;
    let sent = bid(
        &app,
        &alpha,
        &reference,
        &[
            ("price_eur", "10000"),
            ("group_kind", "conjoint"),
            ("co_siret_1", BRAVO),
            ("co_share_1", "30"),
        ],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(
        bid(&app, &charlie, &reference, &[("price_eur", "19500")])
            .await
            .status,
        201
    );
    opened_after_deadline(&app, &lead, tender_id, &reference);
    // Bravo never confirmed: the cheaper group bid is not admissible, Charlie's wins.
    let charlie_bid: i32 = bids::table
        .order(bids::id.desc())
        .select(bids::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let marks: HashMap<String, String> = [
        (format!("quality-{charlie_bid}"), "50".to_string()),
        (format!("environment-{charlie_bid}"), "50".to_string()),
    ]
    .into_iter()
    .collect();
    awards::evaluate(&app.pool, &lead, tender_id, &marks).unwrap();
    let comparison = awards::comparison(&app.pool, &lead, tender_id).unwrap();
    let compared = &comparison.lots[0].bids;
    let group = compared.iter().find(|b| b.id != charlie_bid).unwrap();
    assert!(
        group.unconfirmed && !group.winner && group.score.is_none(),
        "{compared:?}"
    );
    assert!(
        compared
            .iter()
            .find(|b| b.id == charlie_bid)
            .unwrap()
            .winner
    );
    // After the deadline nobody confirms any more.
    let bravo = session_of(&app, "bravo@example.fr", PASSWORD).await;
    let late = post_form(
        &app,
        &format!(
            "/appels-d-offres/{reference}/groupements/{}/confirmation",
            group.id
        ),
        &bravo.cookie(),
        None,
        &[("csrf_token", bravo.csrf.as_str())],
    )
    .await;
    assert!(late.status == 409 || late.status == 404, "{}", late.status);
});
