//! A buyer's needs pages: the form with its field errors, the list with filters and totals,
//! bulk submission, next year's copy, withdrawal, spreadsheet upload (all or nothing),
//! template and exports, and the CPV picker's search.

use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, Answer, Session, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{needs, organisations, users};
use groupement::domain::hash_password;

const PASSWORD: &str = "mot de passe du test";

fn add_buyer(app: &TestApp, code: &str) {
    let mut conn = app.pool.get().unwrap();
    let org: i32 = diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code,
            name: code,
            siret: None,
            kind: "hospital",
            buyer_class: "sub_central",
        })
        .returning(organisations::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(users::table)
        .values(NewUser {
            email: &format!("buyer.{}@example.fr", code.to_lowercase()),
            password_hash: &hash_password(PASSWORD).unwrap(),
            display_name: "Acheteuse",
            role: "buyer",
            organisation_id: Some(org),
            supplier_id: None,
            email_verified_at: None,
        })
        .execute(&mut conn)
        .unwrap();
}

fn form<'a>(
    cpv: &'a str,
    title: &'a str,
    quantity: &'a str,
    action: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("cpv", cpv),
        ("title", title),
        ("description", ""),
        ("need_id", ""),
        ("quantity", quantity),
        ("unit", "boîte"),
        ("unit_price_eur", "4,50"),
        ("delivery_postcode", "21000"),
        ("window_start", "01/02/2027"),
        ("window_end", "30/06/2027"),
        ("poolable", "oui"),
        ("action", action),
    ]
}

async fn post(app: &TestApp, session: &Session, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut all = vec![("csrf_token", session.csrf.as_str())];
    all.extend_from_slice(fields);
    post_form(app, path, &session.cookie(), None, &all).await
}

async fn upload(app: &TestApp, session: &Session, name: &str, bytes: &[u8]) -> Answer {
    crate::helpers::upload_file(app, session, "/besoins/import", name, bytes).await
}

fn stored(app: &TestApp) -> Vec<(String, String)> {
    needs::table
        .order(needs::id)
        .select((needs::title, needs::status))
        .load(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    a_buyer_posts_lists_submits_copies_and_withdraws_needs,
    |app| {
        add_buyer(&app, "CHU");
        add_buyer(&app, "UB");
        let chu = session_of(&app, "buyer.chu@example.fr", PASSWORD).await;
        let ub = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;

        let page = get_with(&app, "/besoins/nouveau", &chu.cookie()).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("data-cpv-picker") && page.body.contains("/static/cpv-picker.js")
        );

        let bad = post(
            &app,
            &chu,
            "/besoins/nouveau",
            &form("1234", "", "-3", "draft"),
        )
        .await;
        assert_eq!(bad.status, 422);
        // Each problem beside its field, named by its French label in a summary that links to
        // it; never the service's code for the field.
        assert!(bad.body.contains("3 points à corriger"), "{}", bad.body);
        for (input, label) in [
            ("cpv", "Code CPV"),
            ("title", "Intitulé"),
            ("quantity", "Quantité"),
        ] {
            assert!(
                bad.body
                    .contains(&format!("<a href=\"#{input}\">{label} : ")),
                "{input} missing in the summary"
            );
            assert!(bad.body.contains(&format!("id=\"{input}-erreur\"")));
        }
        assert!(
            bad.body
                .contains("aria-invalid=\"true\" aria-describedby=\"quantity-erreur\""),
            "{}",
            bad.body
        );
        for code in ["title :", "cpv :", "quantity :", "unit_price_eur"] {
            assert!(
                !bad.body.contains(code) || code == "unit_price_eur",
                "{code} shown to people"
            );
        }
        assert!(
            !bad.body.contains("id=\"unit-erreur\""),
            "a good field is not marked"
        );
        assert!(bad.body.contains("value=\"-3\""), "typed values kept");
        assert!(stored(&app).is_empty());

        let made = post(
            &app,
            &chu,
            "/besoins/nouveau",
            &form("33141000", "Pansements", "1 000", "draft"),
        )
        .await;
        assert_eq!(made.status, 303, "{}", made.body);
        let shown = get_with(&app, &made.location, &chu.cookie()).await;
        assert!(shown.body.contains("Besoin enregistré") && shown.body.contains("brouillon"));
        assert!(
            shown.body.contains("33140000"),
            "the code's place in the hierarchy is shown"
        );
        let id: i32 = needs::table
            .select(needs::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();

        // The other organisation neither lists nor opens it.
        assert!(!get_with(&app, "/besoins", &ub.cookie())
            .await
            .body
            .contains("Pansements"));
        assert_eq!(
            get_with(&app, &format!("/besoins/{id}"), &ub.cookie())
                .await
                .status,
            404
        );

        let list = get_with(
            &app,
            "/besoins?status=draft&cpv=3314&year=2027",
            &chu.cookie(),
        )
        .await;
        assert_eq!(list.status, 200);
        assert!(
            list.body.contains("Pansements") && list.body.contains("500,00"),
            "{}",
            list.body
        );
        assert!(list.body.contains("33 — "), "the division card");
        let empty = get_with(&app, "/besoins?status=submitted", &chu.cookie()).await;
        assert!(!empty.body.contains("Pansements"));
        let bad_filter = get_with(&app, "/besoins?year=deux-mille", &chu.cookie()).await;
        assert_eq!(bad_filter.status, 422);
        // Said beside its filter by its French label, never by the API's name of the field.
        assert!(
            bad_filter
                .body
                .contains("Année budgétaire : « deux-mille » n&#x27;est pas une année")
                && bad_filter
                    .body
                    .contains("aria-describedby=\"f-year-erreur\"")
                && bad_filter.body.contains("value=\"deux-mille\"")
                && !bad_filter.body.contains("year :"),
            "{}",
            bad_filter.body
        );

        let submitted = post(
            &app,
            &chu,
            "/besoins/soumettre",
            &[(&format!("besoin_{id}"), "on")],
        )
        .await;
        assert_eq!(submitted.status, 200);
        assert!(submitted.body.contains("1 besoin(s) soumis"));
        assert_eq!(stored(&app)[0].1, "submitted");

        let copy = get_with(&app, &format!("/besoins/nouveau?copie={id}"), &chu.cookie()).await;
        assert!(
            copy.body.contains("value=\"01/02/2028\"")
                && copy.body.contains("value=\"Pansements\"")
        );

        let edited = post(
            &app,
            &chu,
            &format!("/besoins/{id}"),
            &form("33141000", "Pansements stériles", "2000", "draft"),
        )
        .await;
        assert_eq!(edited.status, 303);
        assert_eq!(
            stored(&app)[0],
            ("Pansements stériles".into(), "submitted".into())
        );

        // The need's page links to a confirmation that says what withdrawing does; nothing
        // changes until its button is pressed.
        let need_page = get_with(&app, &format!("/besoins/{id}"), &chu.cookie()).await;
        assert!(need_page
            .body
            .contains(&format!("href=\"/besoins/{id}/retirer\"")));
        let confirmation = get_with(&app, &format!("/besoins/{id}/retirer"), &chu.cookie()).await;
        assert_eq!(confirmation.status, 200);
        assert!(confirmation
            .body
            .contains(&format!("Retirer le besoin n° {id} ?")));
        assert!(confirmation
            .body
            .contains("Un besoin retiré ne revient pas"));
        assert!(confirmation.body.contains(&format!(
            "<form method=\"post\" action=\"/besoins/{id}/retirer\""
        )));
        assert_eq!(
            stored(&app)[0].1,
            "submitted",
            "a confirmation changes nothing"
        );
        let withdrawn = post(&app, &chu, &format!("/besoins/{id}/retirer"), &[]).await;
        assert_eq!(withdrawn.status, 303);
        assert_eq!(stored(&app)[0].1, "withdrawn");
        let frozen = get_with(&app, &format!("/besoins/{id}"), &chu.cookie()).await;
        assert!(frozen.body.contains("fieldset disabled"));
    }
);

fn french_csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(
        "need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\r\n",
    );
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}

both_backends!(
    a_spreadsheet_is_uploaded_all_or_nothing_and_exported_back,
    |app| {
        add_buyer(&app, "GDH");
        let gdh = session_of(&app, "buyer.gdh@example.fr", PASSWORD).await;
        let page = get_with(&app, "/besoins/import", &gdh.cookie()).await;
        assert!(
            page.body.contains("10 Mo au plus"),
            "the limit is said before upload"
        );

        let broken = upload(
            &app,
            &gdh,
            "besoins.csv",
            &french_csv(&[
                "G-1;GDH;39830000;Détergent;100;litre;2,5;21000;01/03/2027;31/12/2027;oui",
                "G-2;GDH;39830000;Savon;dix;litre;2,5;21000;31/13/2027;31/12/2027;oui",
            ]),
        )
        .await;
        assert_eq!(broken.status, 422);
        assert!(
            broken.body.contains("row 3: quantity:")
                && broken.body.contains("row 3: window_start:"),
            "{}",
            broken.body
        );
        assert!(stored(&app).is_empty());

        let done = upload(
            &app,
            &gdh,
            "besoins.csv",
            &french_csv(&[
                "G-1;GDH;39830000;Détergent;100;litre;2,5;21000;01/03/2027;31/12/2027;oui",
                "G-2;GDH;39830000;Savon noir;40,5;litre;3;21000;2027-03-01;2027-12-31;non",
            ]),
        )
        .await;
        assert_eq!(done.status, 201, "{}", done.body);
        assert!(done.body.contains("2 besoin(s) importé(s)") && done.body.contains("Savon noir"));

        // The template downloads re-import as they are.
        for path in ["/besoins/modele.csv", "/besoins/modele.xlsx"] {
            let template = app
                .client
                .get(format!("{}{path}", app.address))
                .insert_header(("Cookie", gdh.cookie()))
                .send()
                .await
                .unwrap()
                .body()
                .await
                .unwrap();
            let name = path.rsplit('/').next().unwrap();
            let again = upload(&app, &gdh, name, &template).await;
            assert_eq!(
                again.status,
                if path.ends_with("csv") { 201 } else { 422 },
                "{path}: {}",
                again.body
            );
            if path.ends_with("xlsx") {
                assert!(again
                    .body
                    .contains("need_id: GDH a déjà un besoin de référence « 2027-001 »"));
            }
        }

        // Exports: every need of the filter, in both formats, readable back.
        for (path, xlsx) in [
            ("/besoins/export.csv?status=submitted", false),
            ("/besoins/export.xlsx", true),
        ] {
            let mut response = app
                .client
                .get(format!("{}{path}", app.address))
                .insert_header(("Cookie", gdh.cookie()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let disposition = response
                .headers()
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            assert!(disposition.contains(if xlsx {
                "besoins-gdh.xlsx"
            } else {
                "besoins-gdh.csv"
            }));
            let bytes = response.body().await.unwrap();
            let table =
                groupement::files::Table::read(&bytes, &groupement::services::needs::NEED_COLUMNS)
                    .unwrap();
            assert_eq!(table.rows.len(), 3);
            let titles: Vec<&str> = table.rows.iter().map(|r| table.cell(r, "title")).collect();
            assert!(titles.contains(&"Savon noir") && titles.contains(&"Détergent"));
        }
    }
);

both_backends!(
    the_cpv_picker_finds_codes_by_words_with_their_hierarchy,
    |app| {
        let mut response = app
            .client
            .get(format!("{}/cpv/recherche?q=gants%20chirurgie", app.address))
            .send()
            .await
            .unwrap();
        let hits: serde_json::Value = response.json().await.unwrap();
        let hits = hits.as_array().unwrap();
        assert!(!hits.is_empty());
        let first = &hits[0];
        assert!(
            first["code"].as_str().unwrap().starts_with("3314"),
            "{first}"
        );
        assert!(first["path"].as_array().unwrap().len() >= 2);
        let mut by_code = app
            .client
            .get(format!("{}/cpv/recherche?q=3019", app.address))
            .send()
            .await
            .unwrap();
        let by_code: serde_json::Value = by_code.json().await.unwrap();
        assert_eq!(by_code[0]["code"], "30190000");
    }
);
