//! From a published tender to contracts, over HTTP: the bids stay closed until the deadline;
//! the coordinator's lead opens them, marks them (a bad mark is named), reads the outcome with
//! the abnormally low bid flagged and asks for its justification, approves; every bidder gets
//! its result through a real SMTP conversation; contracts are recorded per member with the
//! standstill of a formal procedure; the public notice shows the results; the OCDS and DECP
//! exports validate against their schemas.

use crate::bids::{published, supplier, user};
use crate::helpers::{get_with, post_form, session_of, spawn_app_with, TestBackend};
use crate::smtp::SmtpServer;
use diesel::prelude::*;
use groupement::db::schema::{awards, contracts, needs, organisations, tenders};
use std::time::Duration;

const PASSWORD: &str = "mot de passe des offres";

/// A schema of `tests/fixtures/open-data` (copied from the shared data, with its provenance).
fn schema(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/open-data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// Every error of `document` against the schema (`extra`: schemas it refers to by URI).
fn errors(
    schema: &serde_json::Value,
    extra: &[(&str, serde_json::Value)],
    document: &serde_json::Value,
) -> Vec<String> {
    let mut options = jsonschema::options();
    for (uri, contents) in extra {
        options = options.with_resource(
            *uri,
            jsonschema::Resource::from_contents(contents.clone()).unwrap(),
        );
    }
    let validator = options.build(schema).expect("a valid schema");
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn assert_valid(
    schema: &serde_json::Value,
    extra: &[(&str, serde_json::Value)],
    document: &serde_json::Value,
) {
    let errors = errors(schema, extra, document);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

pub fn ocds_schemas() -> (serde_json::Value, serde_json::Value) {
    (
        schema("release-package-schema.json"),
        schema("release-schema.json"),
    )
}

pub fn assert_ocds_valid(package: &serde_json::Value) {
    let (package_schema, release_schema) = ocds_schemas();
    let uri = release_schema["id"].as_str().unwrap().to_string();
    assert_valid(&package_schema, &[(&uri, release_schema.clone())], package);
    // Each release against the release schema itself too.
    for release in package["releases"].as_array().unwrap() {
        assert_valid(&release_schema, &[], release);
    }
}

pub fn assert_decp_valid(document: &serde_json::Value) {
    assert_valid(&schema("schema_decp_v2.0.3.json"), &[], document);
}

async fn from_published_tender_to_contracts(backend: TestBackend) {
    let server = SmtpServer::start(0);
    let Some(app) = spawn_app_with(
        backend,
        &[(
            "GROUPEMENT_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )],
    )
    .await
    else {
        return;
    };
    let (reference, ..) = published(&app);
    let mut conn = app.pool.get().unwrap();
    // UB has a SIRET (DECP names the buyer by it); the tender is formal (a standstill).
    diesel::update(organisations::table.filter(organisations::code.eq("UB")))
        .set(organisations::siret.eq("19211237300019"))
        .execute(&mut conn)
        .unwrap();
    let tender_id: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut conn)
        .unwrap();
    diesel::update(tenders::table.find(tender_id))
        .set(tenders::procedure.eq("formal"))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let ids = [
        supplier(&app, "24210041000123", "Alpha"),
        supplier(&app, "21210231500017", "Beta"),
        supplier(&app, "21210001700017", "Gamma"),
    ];
    let mut sessions = Vec::new();
    for (id, (email, price)) in ids.iter().zip([
        ("alpha@example.fr", "48 000"),
        ("beta@example.fr", "50 000"),
        ("gamma@example.fr", "24 000"),
    ]) {
        user(&app, email, "supplier", None, Some(*id));
        let session = session_of(&app, email, PASSWORD).await;
        let answer = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/offre"),
            &session.cookie(),
            None,
            &[
                ("csrf_token", session.csrf.as_str()),
                ("price_eur", price),
                ("technical_memo", "Mémoire"),
                ("environment_data", "Livraisons groupées"),
            ],
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        sessions.push(session);
    }
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    let other_lead = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
    let post = |session: &crate::helpers::Session, path: String, fields: Vec<(String, String)>| {
        let (app, session) = (&app, session.clone());
        async move {
            let mut form: Vec<(&str, &str)> = vec![("csrf_token", session.csrf.as_str())];
            form.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            post_form(app, &path, &session.cookie(), None, &form).await
        }
    };
    let opening = format!("/consultations/{tender_id}/ouverture");
    let comparison = format!("/consultations/{tender_id}/offres");

    // Sealed until the deadline: the lead cannot open, nor read the comparison.
    let early = post(&lead, opening.clone(), vec![]).await;
    assert_eq!(early.status, 409);
    assert!(early.body.contains("scellées jusqu"), "{}", early.body);
    assert_eq!(
        get_with(&app, &comparison, &lead.cookie()).await.status,
        409
    );
    diesel::update(tenders::table.find(tender_id))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    // The coordinator's lead finds the opening waiting on their home; a bidder finds its bid,
    // sealed, under examination.
    let home = get_with(&app, "/accueil", &lead.cookie()).await;
    assert!(
        home.body.contains("Ouvrir les offres de") && home.body.contains(&reference),
        "{}",
        home.body
    );
    let home = get_with(&app, "/accueil", &sessions[0].cookie()).await;
    assert!(
        home.body.contains("Mes offres") && home.body.contains("en cours d&#x27;examen"),
        "{}",
        home.body
    );
    // Another organisation's lead is not a member (404); a supplier has no such page (403).
    assert_eq!(post(&other_lead, opening.clone(), vec![]).await.status, 404);
    assert_eq!(
        get_with(&app, &comparison, &sessions[0].cookie())
            .await
            .status,
        403
    );
    assert_eq!(
        get_with(&app, &comparison, &lead.cookie()).await.status,
        409,
        "not opened yet"
    );

    // Opened: audited, the three bids side by side, waiting for their marks.
    let opened = post(
        &lead,
        opening.clone(),
        vec![("passphrase".into(), crate::bids::OPENING.into())],
    )
    .await;
    assert_eq!(opened.status, 303);
    let page = get_with(&app, &comparison, &lead.cookie()).await;
    assert_eq!(page.status, 200);
    for name in [
        "Alpha",
        "Beta",
        "Gamma",
        "48\u{202f}000,00",
        "24\u{202f}000,00",
    ] {
        assert!(page.body.contains(name), "{name} missing");
    }
    assert!(page.body.contains("3 offre(s) attendent leurs notes"));
    let bid_ids: Vec<i32> = groupement::db::schema::bids::table
        .order(groupement::db::schema::bids::id)
        .select(groupement::db::schema::bids::id)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    let marks = |values: [(&str, &str); 3]| -> Vec<(String, String)> {
        bid_ids
            .iter()
            .zip(values)
            .flat_map(|(id, (q, e))| {
                [
                    (format!("quality-{id}"), q.to_string()),
                    (format!("environment-{id}"), e.to_string()),
                ]
            })
            .collect()
    };
    let bad = post(
        &lead,
        format!("/consultations/{tender_id}/notes"),
        marks([("80", "70"), ("120", "90"), ("10", "0")]),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains(&format!("offre n° {} (lot 1)", bid_ids[1])),
        "{}",
        bad.body
    );
    assert!(get_with(&app, &comparison, &lead.cookie())
        .await
        .body
        .contains("3 offre(s) attendent"));
    let marked = post(
        &lead,
        format!("/consultations/{tender_id}/notes"),
        marks([("80", "70"), ("90", "90"), ("10", "0")]),
    )
    .await;
    assert_eq!(marked.status, 303);

    // The outcome: Beta 64.80 (winner), Gamma 63.00 flagged abnormally low, Alpha 61.00.
    let page = get_with(&app, &comparison, &lead.cookie()).await;
    assert!(
        page.body.contains("64,80") && page.body.contains("63,00") && page.body.contains("61,00")
    );
    assert!(page.body.contains("anormalement basse"));
    let justification = post(
        &lead,
        format!(
            "/consultations/{tender_id}/offres/{}/justification",
            bid_ids[2]
        ),
        vec![],
    )
    .await;
    assert_eq!(justification.status, 200, "{}", justification.body);
    assert!(justification.body.contains("Justification demandée"));
    let not_low = post(
        &lead,
        format!(
            "/consultations/{tender_id}/offres/{}/justification",
            bid_ids[0]
        ),
        vec![],
    )
    .await;
    assert_eq!(not_low.status, 409);

    // Approval: refused on an outdated outcome, then recorded.
    let stale = post(
        &lead,
        format!("/consultations/{tender_id}/attribution"),
        vec![("fingerprint".into(), "0000".into())],
    )
    .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("les notes ont changé"));
    // The comparison links to a confirmation that says what approving does; its button
    // carries the fingerprint of the outcome shown.
    assert!(page
        .body
        .contains(&format!("href=\"/consultations/{tender_id}/attribution\"")));
    let confirmation = get_with(
        &app,
        &format!("/consultations/{tender_id}/attribution"),
        &lead.cookie(),
    )
    .await;
    assert_eq!(confirmation.status, 200, "{}", confirmation.body);
    assert!(confirmation
        .body
        .contains("Approuver l&#x27;attribution de"));
    assert!(confirmation.body.contains("ne se défait pas"));
    let fingerprint = confirmation
        .body
        .split("name=\"fingerprint\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let approved = post(
        &lead,
        format!("/consultations/{tender_id}/attribution"),
        vec![("fingerprint".into(), fingerprint)],
    )
    .await;
    assert_eq!(approved.status, 303, "{}", approved.body);

    let mut conn = app.pool.get().unwrap();
    let (status, standstill): (String, Option<chrono::NaiveDateTime>) = tenders::table
        .find(tender_id)
        .select((tenders::status, tenders::standstill_until))
        .first(&mut conn)
        .unwrap();
    assert_eq!(status, "awarded");
    let days = (standstill.unwrap() - chrono::Utc::now().naive_utc()).num_hours();
    assert!(
        (10 * 24..=11 * 24).contains(&days),
        "standstill of 11 days, {days} h"
    );
    let winner: Option<i32> = awards::table
        .select(awards::winning_bid_id)
        .first(&mut conn)
        .unwrap();
    assert_eq!(winner, Some(bid_ids[1]));
    let contract: (String, i64, i32) = contracts::table
        .select((
            contracts::uid,
            contracts::amount_cents,
            contracts::supplier_id,
        ))
        .first(&mut conn)
        .unwrap();
    assert_eq!(contract, ("2027-001-01-1".to_string(), 5_000_000, ids[1]));
    let need_status: Vec<String> = needs::table.select(needs::status).load(&mut conn).unwrap();
    assert_eq!(need_status, ["awarded"]);
    drop(conn);
    // Each bidder's home says its result.
    let home = get_with(&app, "/accueil", &sessions[1].cookie()).await;
    assert!(
        home.body.contains("retenue : vous êtes attributaire"),
        "{}",
        home.body
    );
    let home = get_with(&app, "/accueil", &sessions[0].cookie()).await;
    assert!(home.body.contains("non retenue"), "{}", home.body);

    // Every bidder's result over SMTP: the winner's, and the others' with the winner's score.
    let results = || -> Vec<crate::helpers::Mail> {
        server
            .messages()
            .iter()
            .map(|m| crate::helpers::Mail::parse(m.data.as_bytes()))
            .filter(|m| m.subject.starts_with("Résultat"))
            .collect()
    };
    for _ in 0..200 {
        if results().len() >= 3 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let results = results();
    assert_eq!(results.len(), 3, "one result per bidder");
    let to = |email: &str| results.iter().find(|m| m.to == email).unwrap();
    assert!(to("beta@example.fr")
        .text
        .contains("Votre offre est retenue (note 64,80"));
    let alpha = &to("alpha@example.fr").text;
    assert!(alpha.contains("note 61,00 / 100, rang 3 sur 3"), "{alpha}");
    assert!(alpha.contains("Offre retenue : Beta, note 64,80 / 100"));
    assert!(
        alpha.contains("pas signés avant le"),
        "the standstill is said"
    );
    assert!(server
        .messages()
        .iter()
        .any(|m| m.to == "gamma@example.fr" && m.data.contains("R2152-3")));

    // The members' and the public's view.
    let tender_page = get_with(&app, &format!("/consultations/{tender_id}"), &lead.cookie()).await;
    assert!(tender_page.body.contains("Nos marchés") && tender_page.body.contains("2027-001-01-1"));
    let notice = get_with(&app, &format!("/appels-d-offres/{reference}"), "").await;
    assert!(notice.body.contains("Résultats") && notice.body.contains("Beta"));
    // The lot's row: its winner, the winning price, the number of bids.
    let row = notice
        .body
        .split("<td>Beta</td>")
        .nth(1)
        .expect("the winner's row");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("50\u{202f}000,00") && row.contains("<td class=\"num\">3</td>"),
        "{row}"
    );

    // The contract is pending until its signature is recorded: OCDS shows it without a
    // signature date, DECP leaves it out; the lead cannot sign it within the standstill.
    let ocds: serde_json::Value =
        serde_json::from_str(&get_with(&app, "/open-data/ocds.json", "").await.body).unwrap();
    assert_eq!(ocds["releases"][0]["contracts"][0]["status"], "pending");
    assert!(ocds["releases"][0]["contracts"][0]
        .get("dateSigned")
        .is_none());
    assert_ocds_valid(&ocds);
    let decp: serde_json::Value =
        serde_json::from_str(&get_with(&app, "/open-data/decp.json", "").await.body).unwrap();
    assert_eq!(decp["marches"]["marche"].as_array().unwrap().len(), 0);
    let sign = |day: String| {
        let (app, lead) = (&app, lead.clone());
        async move {
            crate::helpers::post_form(
                app,
                &format!("/consultations/{tender_id}/marches/2027-001-01-1/signature"),
                &lead.cookie(),
                None,
                &[
                    ("csrf_token", lead.csrf.as_str()),
                    ("signed_on", day.as_str()),
                    ("signatory", "Camille Martin, directrice des achats"),
                ],
            )
            .await
        }
    };
    let today = chrono::Utc::now().date_naive();
    let early = sign(today.format("%d/%m/%Y").to_string()).await;
    assert_eq!(early.status, 422, "{}", early.body);
    assert!(early.body.contains("la fin du délai de suspension"));
    // The standstill over (brought back here), the signature is recorded.
    diesel::update(groupement::db::schema::contracts::table)
        .set(groupement::db::schema::contracts::notified_on.eq(today - chrono::Duration::days(3)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let future = sign(
        (today + chrono::Duration::days(2))
            .format("%d/%m/%Y")
            .to_string(),
    )
    .await;
    assert_eq!(future.status, 422, "a day to come");
    let signed_day = today - chrono::Duration::days(1);
    let signed = sign(signed_day.format("%d/%m/%Y").to_string()).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(
        sign(signed_day.format("%d/%m/%Y").to_string()).await.status,
        409,
        "signed once"
    );
    let tender_page = get_with(&app, &format!("/consultations/{tender_id}"), &lead.cookie()).await;
    assert!(tender_page.body.contains("signé le") && tender_page.body.contains("Camille Martin"));

    // The public page of the open data says what is published, and links to it.
    let open_data = get_with(&app, "/open-data", "").await;
    assert_eq!(open_data.status, 200);
    for said in [
        "href=\"/open-data/ocds.json\"",
        "href=\"/open-data/decp.json\"",
        "Licence Ouverte 2.0",
        "1 consultation(s)",
        "1 marché(s)",
    ] {
        assert!(open_data.body.contains(said), "{said}: {}", open_data.body);
    }
    // Open data: valid OCDS with the award and the contract; valid DECP with the contract.
    let ocds: serde_json::Value =
        serde_json::from_str(&get_with(&app, "/open-data/ocds.json", "").await.body).unwrap();
    assert_ocds_valid(&ocds);
    // (The check can fail: a release without its ocid, an award with an unknown status.)
    let (package_schema, release_schema) = ocds_schemas();
    let mut broken = ocds.clone();
    broken["releases"][0]
        .as_object_mut()
        .unwrap()
        .remove("ocid");
    broken["releases"][0]["awards"][0]["status"] = "won".into();
    let uri = release_schema["id"].as_str().unwrap().to_string();
    assert!(errors(&package_schema, &[(&uri, release_schema.clone())], &broken).len() >= 2);
    let release = &ocds["releases"][0];
    assert_eq!(
        release["tag"],
        serde_json::json!(["tender", "award", "contract"])
    );
    assert_eq!(release["awards"][0]["suppliers"][0]["name"], "Beta");
    assert_eq!(release["awards"][0]["relatedLots"][0], "lot-1");
    assert_eq!(release["tender"]["numberOfTenderers"], 3);
    assert_eq!(release["contracts"][0]["value"]["amount"], 50_000.0);
    let roles = |name: &str| {
        release["parties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["roles"].clone())
            .unwrap()
    };
    assert_eq!(roles("Beta"), serde_json::json!(["tenderer", "supplier"]));
    assert_eq!(roles("Alpha"), serde_json::json!(["tenderer"]));
    let decp: serde_json::Value =
        serde_json::from_str(&get_with(&app, "/open-data/decp.json", "").await.body).unwrap();
    assert_decp_valid(&decp);
    let mut broken = decp.clone();
    broken["marches"]["marche"][0]["acheteur"]["id"] = "1234".into();
    assert!(!errors(&schema("schema_decp_v2.0.3.json"), &[], &broken).is_empty());
    let marche = &decp["marches"]["marche"][0];
    assert_eq!(marche["acheteur"]["id"], "19211237300019");
    assert_eq!(marche["titulaires"][0]["titulaire"]["id"], "21210231500017");
    assert_eq!(marche["montant"], 50_000.0);
    assert_eq!(marche["offresRecues"], 3);
    assert_eq!(marche["procedure"], "Appel d'offres ouvert");
    assert_eq!(
        marche["dateNotification"],
        signed_day.format("%Y-%m-%d").to_string()
    );
    assert_eq!(release["contracts"][0]["status"], "active");
    assert_eq!(
        release["contracts"][0]["dateSigned"],
        format!("{}T00:00:00Z", signed_day.format("%Y-%m-%d"))
    );

    // The dashboard: the awarded spend, all of it won by a territorial SME, three bids on the
    // lot, the saving expected and obtained; filters and exports.
    let board = get_with(
        &app,
        "/tableau-de-bord?annee=2027&organisation=UB",
        &lead.cookie(),
    )
    .await;
    assert_eq!(board.status, 200);
    assert_eq!(board.body.matches("<svg").count(), 6, "a chart per section");
    assert!(board.body.contains("50\u{202f}000,00\u{a0}€ HT"));
    assert!(
        board.body.contains("<dd>100,0 %</dd>"),
        "territorial and SME shares"
    );
    assert!(board.body.contains("GRP-2027-001 lot 1"));
    assert!(board.body.contains("<dd>3,0</dd>"), "bids per lot");
    let empty = get_with(&app, "/tableau-de-bord?annee=2026", &lead.cookie()).await;
    assert!(empty.body.contains("Rien à montrer pour ces filtres"));
    let bad = get_with(&app, "/tableau-de-bord?annee=deux-mille", &lead.cookie()).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("année : « deux-mille »"));
    let unknown = get_with(&app, "/tableau-de-bord?organisation=XYZ", &lead.cookie()).await;
    assert_eq!(unknown.status, 422);
    let csv = get_with(
        &app,
        "/tableau-de-bord/export.csv?annee=2027",
        &lead.cookie(),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("indicateur;libellé;série;valeur"));
    assert!(csv
        .body
        .contains("Offres reçues par lot;GRP-2027-001 lot 1;offres;3"));
    assert!(csv
        .body
        .contains("Dépense attribuée par organisation;UB;attribuée;50000"));
    let xlsx = app
        .client
        .get(format!("{}/tableau-de-bord/export.xlsx", app.address))
        .insert_header(("Cookie", lead.cookie()))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status().as_u16(), 200);
    server.stop();
}

#[actix_web::test]
async fn from_published_tender_to_contracts_on_sqlite() {
    from_published_tender_to_contracts(TestBackend::Sqlite).await;
}

#[actix_web::test]
async fn from_published_tender_to_contracts_on_postgres() {
    from_published_tender_to_contracts(TestBackend::Postgres).await;
}

crate::both_backends!(
    a_lot_without_bids_is_unsuccessful_and_its_needs_go_back,
    |app| {
        use groupement::services::{awards as award_service, needs as need_service};
        let (reference, lead, ..) = crate::bids::published(&app);
        let tender_id: i32 = tenders::table
            .filter(tenders::reference.eq(&reference))
            .select(tenders::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        diesel::update(tenders::table.find(tender_id))
            .set(
                tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        award_service::open(
            &app.pool,
            &lead,
            tender_id,
            Some(award_service::KeyEntry::Passphrase(crate::bids::OPENING)),
        )
        .unwrap();
        let shown = award_service::comparison(&app.pool, &lead, tender_id).unwrap();
        assert_eq!(shown.unmarked, 0);
        assert!(shown.lots[0].bids.is_empty());
        award_service::approve(
            &app.pool,
            &lead,
            tender_id,
            &shown.fingerprint,
            &app.address,
        )
        .unwrap();
        let mut conn = app.pool.get().unwrap();
        let (status, winner): (String, Option<i32>) = awards::table
            .select((awards::status, awards::winning_bid_id))
            .first(&mut conn)
            .unwrap();
        assert_eq!((status.as_str(), winner), ("unsuccessful", None));
        let contracts: i64 = contracts::table.count().get_result(&mut conn).unwrap();
        assert_eq!(contracts, 0);
        let need: i32 = needs::table.select(needs::id).first(&mut conn).unwrap();
        drop(conn);
        // Back with its buyer: editable, and submitted again for the next pooling.
        let view = need_service::get(&app.pool, &lead, need).unwrap();
        assert_eq!(view.status, "unsuccessful");
        assert!(view.editable);
        assert_eq!(need_service::submit(&app.pool, &lead, &[need]).unwrap(), 1);
        let notice =
            crate::helpers::get_with(&app, &format!("/appels-d-offres/{reference}"), "").await;
        assert!(notice.body.contains("infructueux"));
    }
);
