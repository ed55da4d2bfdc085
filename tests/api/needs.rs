//! Buyers' needs through the JSON API and the command-line import: field-named errors, the
//! organisation's scope, the life cycle, idempotent creation, all-or-nothing imports of French
//! spreadsheets.

use crate::both_backends;
use crate::helpers::{TestApp, TestBackend, TestDatabase};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{needs, organisations, users};
use groupement::domain::hash_password;
use groupement::services::auth;
use serde_json::{json, Value};

fn organisation(conn: &mut groupement::db::AnyConnection, code: &str) -> i32 {
    diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code,
            name: code,
            siret: None,
            kind: "local_authority",
            buyer_class: "sub_central",
        })
        .returning(organisations::id)
        .get_result(conn)
        .unwrap()
}

/// A signed-in buyer of the organisation `org` (its code `code`).
fn buyer(pool: &groupement::db::Pool, org: i32, code: &str) -> groupement::web::nav::Viewer {
    let email = format!("buyer.{}@example.fr", code.to_lowercase());
    diesel::insert_into(users::table)
        .values(NewUser {
            email: &email,
            password_hash: &hash_password("mot de passe long").unwrap(),
            display_name: "Acheteur",
            role: "buyer",
            organisation_id: Some(org),
            supplier_id: None,
            email_verified_at: None,
        })
        .execute(&mut pool.get().unwrap())
        .unwrap();
    let session = auth::sign_in(pool, &email, "mot de passe long", None).unwrap();
    auth::viewer(pool, &session).unwrap().unwrap()
}

/// An API token for a buyer of `code` (the organisation is created).
async fn buyer_token(app: &TestApp, code: &'static str) -> String {
    let pool = app.pool.clone();
    actix_web::web::block(move || {
        let org = organisation(&mut pool.get().unwrap(), code);
        let viewer = buyer(&pool, org, code);
        auth::create_api_token(&pool, &viewer, "tests").unwrap()
    })
    .await
    .unwrap()
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let url = format!("{}{path}", app.address);
    let mut request = match method {
        "GET" => app.client.get(url),
        "POST" => app.client.post(url),
        "PUT" => app.client.put(url),
        other => panic!("{other}"),
    }
    .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(key) = key {
        request = request.insert_header(("Idempotency-Key", key));
    }
    let mut response = match body {
        Some(body) => request.send_json(&body).await.unwrap(),
        None => request.send().await.unwrap(),
    };
    let status = response.status().as_u16();
    let bytes = response.body().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn office_supplies() -> Value {
    json!({
        "need_id": "UB-2027-001", "cpv": "30192000", "title": "Fournitures de bureau",
        "quantity": "1 200,5", "unit": "lot", "unit_price_eur": 12.4,
        "delivery_postcode": "21000", "window_start": "01/03/2027", "window_end": "2027-06-30",
        "poolable": "oui", "submit": true
    })
}

both_backends!(
    the_needs_api_creates_reads_updates_and_withdraws_within_the_organisation,
    |app| {
        let ub = buyer_token(&app, "UB").await;
        let chu = buyer_token(&app, "CHU").await;

        // Every bad field named at once.
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/needs",
            &ub,
            Some(
                json!({ "cpv": "99999999", "title": "", "quantity": -1, "unit": "kg",
                     "unit_price_eur": "abc", "delivery_postcode": "21000",
                     "window_start": "2027-05-01", "window_end": "2027-04-01" }),
            ),
            None,
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "title");
        let message = body["error"]["message"].as_str().unwrap();
        for field in [
            "title :",
            "cpv :",
            "quantity :",
            "unit_price_eur :",
            "window_end :",
        ] {
            assert!(message.contains(field), "{field} missing in {message}");
        }
        // Each field at fault, on its own, for clients to show beside their own fields.
        let problems: Vec<&str> = body["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap())
            .collect();
        for field in ["title", "cpv", "quantity", "unit_price_eur", "window_end"] {
            assert!(problems.contains(&field), "{field} not in {problems:?}");
        }
        assert!(body["error"]["problems"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty() && !m.starts_with("title")));

        let (status, created) = call(
            &app,
            "POST",
            "/api/v1/needs",
            &ub,
            Some(office_supplies()),
            Some("k-1"),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["status"], "submitted");
        assert_eq!(created["quantity"], 1200.5);
        assert_eq!(created["value_eur"], 14886.2);
        assert_eq!(created["budget_year"], 2027);
        assert_eq!(created["buyer"], "UB");
        let id = created["id"].as_i64().unwrap();

        // A retry with the same key gives the same need, not a second one; another body is refused.
        let (status, again) = call(
            &app,
            "POST",
            "/api/v1/needs",
            &ub,
            Some(office_supplies()),
            Some("k-1"),
        )
        .await;
        assert_eq!((status, again["id"].as_i64()), (200, Some(id)));
        let mut other = office_supplies();
        other["need_id"] = json!("UB-2027-002");
        let (status, _) = call(&app, "POST", "/api/v1/needs", &ub, Some(other), Some("k-1")).await;
        assert_eq!(status, 409);
        // The same reference twice in one organisation is refused.
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/needs",
            &ub,
            Some(office_supplies()),
            None,
        )
        .await;
        assert_eq!(status, 409, "{body}");
        let count: i64 = needs::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(count, 1);

        // Another organisation sees nothing of it.
        for (method, path) in [
            ("GET", format!("/api/v1/needs/{id}")),
            ("POST", format!("/api/v1/needs/{id}/withdraw")),
        ] {
            let (status, _) = call(&app, method, &path, &chu, None, None).await;
            assert_eq!(status, 404, "{method} {path}");
        }
        let (status, _) = call(
            &app,
            "PUT",
            &format!("/api/v1/needs/{id}"),
            &chu,
            Some(office_supplies()),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (_, list) = call(&app, "GET", "/api/v1/needs", &chu, None, None).await;
        assert_eq!(list["total"], 0);

        let (_, list) = call(
            &app,
            "GET",
            "/api/v1/needs?status=submitted&cpv=3019&year=2027",
            &ub,
            None,
            None,
        )
        .await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["by_status"][0]["value_eur"], 14886.2);
        let (_, none) = call(
            &app,
            "GET",
            "/api/v1/needs?cpv=45&from=2027-07-01",
            &ub,
            None,
            None,
        )
        .await;
        assert_eq!(none["total"], 0);
        let (status, bad) = call(&app, "GET", "/api/v1/needs?status=envoye", &ub, None, None).await;
        assert_eq!(
            (status, bad["error"]["field"].as_str()),
            (422, Some("status"))
        );

        let mut changed = office_supplies();
        changed["quantity"] = json!(10);
        let (status, updated) = call(
            &app,
            "PUT",
            &format!("/api/v1/needs/{id}"),
            &ub,
            Some(changed.clone()),
            None,
        )
        .await;
        assert_eq!((status, updated["value_eur"].as_f64()), (200, Some(124.0)));

        // Once its lot is approved (tendered), the need is read-only to its buyer.
        diesel::update(needs::table.find(id as i32))
            .set(needs::status.eq("tendered"))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let (status, body) = call(
            &app,
            "PUT",
            &format!("/api/v1/needs/{id}"),
            &ub,
            Some(changed),
            None,
        )
        .await;
        assert_eq!(status, 409, "{body}");
        let (status, _) = call(
            &app,
            "POST",
            &format!("/api/v1/needs/{id}/withdraw"),
            &ub,
            None,
            None,
        )
        .await;
        assert_eq!(status, 409);
        diesel::update(needs::table.find(id as i32))
            .set(needs::status.eq("submitted"))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let (status, withdrawn) = call(
            &app,
            "POST",
            &format!("/api/v1/needs/{id}/withdraw"),
            &ub,
            None,
            None,
        )
        .await;
        assert_eq!(
            (status, withdrawn["status"].as_str()),
            (200, Some("withdrawn"))
        );
    }
);

/// Creates a need through the API, which must accept it.
async fn create_need(app: &TestApp, token: &str, need: Value) {
    let (status, body) = call(app, "POST", "/api/v1/needs", token, Some(need), None).await;
    assert_eq!(status, 201, "{body}");
}

both_backends!(
    every_filter_criterion_narrows_the_list_and_its_totals,
    |app| {
        let dm = buyer_token(&app, "DM").await;
        // (reference, CPV, window, submitted): the budget year is the window's first year.
        let needs = [
            ("A", "30192000", "2027-01-01", "2027-03-31", true),
            ("B", "30197000", "2027-06-01", "2027-09-30", false),
            ("C", "33141000", "2028-01-01", "2028-06-30", true),
            ("D", "45000000", "2027-11-01", "2028-02-29", false),
        ];
        for (reference, cpv, start, end, submit) in needs {
            create_need(
                &app,
                &dm,
                json!({
                    "need_id": reference, "cpv": cpv, "title": reference, "quantity": 1,
                    "unit": "u", "unit_price_eur": 100, "delivery_postcode": "21000",
                    "window_start": start, "window_end": end, "submit": submit
                }),
            )
            .await;
        }
        // Criteria one by one, together, and none again: the same statement serves every filter, so
        // each must narrow exactly as written whatever the call before it asked for.
        let cases = [
            ("", "DCBA"),
            ("status=draft", "DB"),
            ("cpv=30", "BA"),
            ("cpv=30192", "A"),
            ("cpv=4", "D"),
            ("year=2028", "C"),
            ("year=2027", "DBA"),
            ("from=2027-10-01", "DC"),
            ("to=2027-05-31", "A"),
            ("from=2027-04-01&to=2027-12-31", "DB"),
            (
                "status=submitted&cpv=33&year=2028&from=2028-06-30&to=2028-01-01",
                "C",
            ),
            ("status=submitted&cpv=33&year=2027", ""),
            ("", "DCBA"),
            ("per_page=1&page=3", "B"),
        ];
        for (query, expected) in cases {
            let (status, list) = call(
                &app,
                "GET",
                &format!("/api/v1/needs?{query}"),
                &dm,
                None,
                None,
            )
            .await;
            assert_eq!(status, 200, "{query}: {list}");
            let shown: String = list["needs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["need_id"].as_str().unwrap())
                .collect();
            assert_eq!(shown, expected, "{query}");
            if !query.starts_with("per_page") {
                assert_eq!(list["total"], expected.len(), "{query}");
                assert_eq!(
                    list["total_value_eur"],
                    100.0 * expected.len() as f64,
                    "{query}"
                );
            }
        }
    }
);

/// Runs SQL on the app's database directly, as another instance or a tool would.
async fn sql(app: &TestApp, statements: &'static str) {
    let pool = app.pool.clone();
    actix_web::web::block(move || {
        use diesel::connection::SimpleConnection;
        pool.get().unwrap().batch_execute(statements).unwrap()
    })
    .await
    .unwrap();
}

async fn titles(app: &TestApp, token: &str) -> Vec<String> {
    let (status, list) = call(app, "GET", "/api/v1/needs", token, None, None).await;
    assert_eq!(status, 200, "{list}");
    list["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    a_list_is_served_again_only_while_the_needs_are_unchanged,
    |app| {
        let dm = buyer_token(&app, "DM").await;
        let version = || {
            let pool = app.pool.clone();
            actix_web::web::block(move || {
                organisations::table
                    .filter(organisations::code.eq("DM"))
                    .select(organisations::needs_version)
                    .first::<i64>(&mut pool.get().unwrap())
                    .unwrap()
            })
        };
        let before = version().await.unwrap();
        create_need(
            &app,
            &dm,
            json!({
                "need_id": "A", "cpv": "30192000", "title": "Papier", "quantity": 1, "unit": "u",
                "unit_price_eur": 10, "delivery_postcode": "21000",
                "window_start": "2027-01-01", "window_end": "2027-12-31"
            }),
        )
        .await;
        assert!(
            version().await.unwrap() > before,
            "a new need raises the version"
        );
        assert_eq!(titles(&app, &dm).await, ["Papier"]);

        // Changes made outside the portal's code are counted by the database itself.
        sql(&app, "UPDATE needs SET title = 'Papier recyclé'").await;
        assert_eq!(titles(&app, &dm).await, ["Papier recyclé"]);

        // A change the database does not count (its trigger set aside) is not seen: the list is
        // served again; once counted, it is.
        let (set_aside, restore) = match app.pool.get().unwrap().backend() {
            groupement::db::Backend::Postgres => (
                "ALTER TABLE needs DISABLE TRIGGER needs_version",
                "ALTER TABLE needs ENABLE TRIGGER needs_version",
            ),
            groupement::db::Backend::Sqlite => (
                "DROP TRIGGER needs_version_updated",
                "CREATE TRIGGER needs_version_updated AFTER UPDATE ON needs BEGIN \
             UPDATE organisations SET needs_version = needs_version + 1 \
             WHERE id IN (OLD.organisation_id, NEW.organisation_id); END",
            ),
        };
        sql(&app, set_aside).await;
        sql(&app, "UPDATE needs SET title = 'Non compté'").await;
        assert_eq!(titles(&app, &dm).await, ["Papier recyclé"], "served again");
        sql(&app, restore).await;
        sql(&app, "UPDATE needs SET title = 'Compté'").await;
        assert_eq!(titles(&app, &dm).await, ["Compté"]);

        sql(&app, "DELETE FROM needs").await;
        assert!(titles(&app, &dm).await.is_empty(), "a deleted need is gone");

        // An import of several needs in one transaction: PostgreSQL raises the version once.
        let before = version().await.unwrap();
        let rows: Vec<Value> = (0..3)
            .map(|i| {
                json!({
                    "need_id": format!("I{i}"), "cpv": "30192000", "title": format!("Import {i}"),
                    "quantity": 1, "unit": "u", "unit_price_eur": 10, "delivery_postcode": "21000",
                    "window_start": "2027-01-01", "window_end": "2027-12-31"
                })
            })
            .collect();
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/needs/import",
            &dm,
            Some(Value::Array(rows)),
            None,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let raised = version().await.unwrap() - before;
        match app.pool.get().unwrap().backend() {
            groupement::db::Backend::Postgres => assert_eq!(raised, 1),
            groupement::db::Backend::Sqlite => assert_eq!(raised, 3),
        }
        assert_eq!(
            titles(&app, &dm).await,
            ["Import 2", "Import 1", "Import 0"]
        );
    }
);

both_backends!(a_bulk_import_through_the_api_is_all_or_nothing, |app| {
    let dm = buyer_token(&app, "DM").await;
    let mut good = office_supplies();
    good["buyer"] = json!("DM");
    let mut second = office_supplies();
    second["need_id"] = json!("DM-2");
    let mut bad = office_supplies();
    bad["need_id"] = json!("DM-3");
    bad["cpv"] = json!("1234");
    bad["buyer"] = json!("CHU");
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/needs/import",
        &dm,
        Some(json!([good.clone(), second.clone(), bad])),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let rows = body["error"]["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["row"] == 3 && r["field"] == "cpv"));
    assert!(rows.iter().any(|r| r["row"] == 3 && r["field"] == "buyer"));
    let count: i64 = needs::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(count, 0, "nothing stored");
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/needs/import",
        &dm,
        Some(json!([good, second])),
        None,
    )
    .await;
    assert_eq!((status, body["imported"].as_i64()), (201, Some(2)));
});

both_backends!(
    the_list_totals_are_summed_by_the_database_as_each_need_is_rounded,
    |app| {
        let gdh = buyer_token(&app, "GDH").await;
        // Values with half cents and a division spread over several codes and statuses: the
        // totals must be the sums of each need's value rounded to the cent, as the needs show.
        let needs = [
            ("30192000", "0,333", "0,015", true),     // 0.004995 € → 0.00
            ("30192000", "0,5", "0,01", true),        // 0.005 € → 0.01
            ("30197000", "3", "33,335", false),       // 100.005 € → 100.01
            ("33141000", "1 000", "0,125", true),     // 125.00
            ("33141000", "7,777", "1 234,56", false), // 9,601.17312 € → 9,601.17
            ("45000000", "1", "100 000 000", true),   // a need of a hundred million
        ];
        for (i, (cpv, quantity, price, submit)) in needs.iter().enumerate() {
            let (status, body) = call(
                &app,
                "POST",
                "/api/v1/needs",
                &gdh,
                Some(json!({
                    "need_id": format!("GDH-{i}"), "cpv": cpv, "title": format!("Besoin {i}"),
                    "quantity": quantity, "unit": "u", "unit_price_eur": price,
                    "delivery_postcode": "21000", "window_start": "2027-01-01",
                    "window_end": "2027-12-31", "submit": submit
                })),
                None,
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, list) =
            call(&app, "GET", "/api/v1/needs?per_page=500", &gdh, None, None).await;
        assert_eq!(status, 200, "{list}");
        let cents = |v: &Value| (v.as_f64().unwrap() * 100.0).round() as i64;
        let shown: Vec<(String, String, i64)> = list["needs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let status = n["status"].as_str().unwrap().to_string();
                (
                    status,
                    n["cpv"].as_str().unwrap()[..2].to_string(),
                    cents(&n["value_eur"]),
                )
            })
            .collect();
        assert_eq!(shown.len(), 6);
        let sum = |keep: &dyn Fn(&(String, String, i64)) -> bool| {
            shown.iter().filter(|n| keep(n)).map(|n| n.2).sum::<i64>()
        };
        assert_eq!(sum(&|n| n.1 == "45"), 10_000_000_000);
        assert_eq!(cents(&list["total_value_eur"]), sum(&|_| true));
        assert_eq!(list["total"], 6);
        for total in list["by_status"].as_array().unwrap() {
            let status = total["status"].as_str().unwrap();
            assert_eq!(
                cents(&total["value_eur"]),
                sum(&|n| n.0 == status),
                "{status}"
            );
        }
        assert_eq!(list["by_status"].as_array().unwrap().len(), 2);
        let divisions: Vec<(String, i64, i64)> = list["by_division"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let division = d["division"].as_str().unwrap().to_string();
                (
                    division,
                    d["count"].as_i64().unwrap(),
                    cents(&d["value_eur"]),
                )
            })
            .collect();
        let expected: Vec<(String, i64, i64)> = ["45", "33", "30"]
            .iter()
            .map(|d| {
                let count = shown.iter().filter(|n| n.1 == *d).count() as i64;
                (d.to_string(), count, sum(&|n| n.1 == *d))
            })
            .collect();
        assert_eq!(divisions, expected, "largest value first");
        // Filtered: the totals follow the filter.
        let (_, drafts) = call(
            &app,
            "GET",
            "/api/v1/needs?status=draft&cpv=30",
            &gdh,
            None,
            None,
        )
        .await;
        assert_eq!(
            (drafts["total"].as_i64(), cents(&drafts["total_value_eur"])),
            (Some(1), sum(&|n| n.0 == "draft" && n.1 == "30"))
        );

        // Ten billion euros is the most one need may be worth; above, the price is named.
        let mut too_much = json!({
            "cpv": "45000000", "title": "Trop", "quantity": 2, "unit": "u",
            "unit_price_eur": "5 000 000 000", "delivery_postcode": "21000",
            "window_start": "2027-01-01", "window_end": "2027-12-31"
        });
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/needs",
            &gdh,
            Some(too_much.clone()),
            None,
        )
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (201, None),
            "{body}"
        );
        too_much["unit_price_eur"] = json!("5 000 000 000,01");
        let (status, body) = call(&app, "POST", "/api/v1/needs", &gdh, Some(too_much), None).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("unit_price_eur")),
            "{body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("10 milliards"), "{message}");
    }
);

/// A French spreadsheet's CSV: `;`, decimal comma, `JJ/MM/AAAA`, Windows-1252 accents.
fn french_csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(
        "need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\r\n",
    );
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    // Windows-1252: every character here is Latin-1.
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}

fn stored(url: &str) -> i64 {
    let pool = groupement::db::open(&groupement::db::DatabaseUrl::parse(url).unwrap()).unwrap();
    needs::table
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap()
}

fn import_cli(backend: TestBackend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let pool =
        groupement::db::open(&groupement::db::DatabaseUrl::parse(&database.url).unwrap()).unwrap();
    organisation(&mut pool.get().unwrap(), "GDH");
    drop(pool);
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
            .args(["import", "needs", file, "--org", "gdh"])
            .current_dir(dir.path())
            .env("GROUPEMENT_DATABASE_URL", &database.url)
            .output()
            .unwrap()
    };

    std::fs::write(
        dir.path().join("mauvais.csv"),
        french_csv(&[
            "G-1;GDH;33141000;Pansements stériles;1 000;boîte;4,5;21000;01/02/2027;30/06/2027;oui",
            "G-2;GDH;3314100;Gants;abc;boîte;-2;2100;31/02/2027;30/06/2027;peut-être",
            "G-1;CHU;33141000;Doublon;1;boîte;1;21000;01/02/2027;30/06/2027;non",
        ]),
    )
    .unwrap();
    let output = run("mauvais.csv");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "row 3: cpv:",
        "row 3: quantity:",
        "row 3: unit_price_eur:",
        "row 3: delivery_postcode:",
        "row 3: window_start:",
        "row 3: poolable:",
        "row 4: buyer: le fichier est importé pour GDH, cette ligne est pour CHU",
        "row 4: need_id: « G-1 » est déjà à la ligne 2",
    ] {
        assert!(stderr.contains(expected), "{expected} missing:\n{stderr}");
    }
    assert_eq!(stored(&database.url), 0, "nothing stored");

    std::fs::write(
        dir.path().join("besoins.csv"),
        french_csv(&[
            "G-1;GDH;33141000;Pansements stériles;1 000;boîte;4,5;21000;01/02/2027;30/06/2027;oui",
            "G-2;gdh;39830000;Produits d'entretien;250,25;litre;3,10;21240;2027-03-01;2027-12-31;non",
        ]),
    )
    .unwrap();
    let output = run("besoins.csv");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "imported 2 needs"
    );
    let pool =
        groupement::db::open(&groupement::db::DatabaseUrl::parse(&database.url).unwrap()).unwrap();
    let titles: Vec<(String, String, i64)> = needs::table
        .order(needs::external_ref)
        .select((needs::title, needs::status, needs::quantity_milli))
        .load(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(
        titles[0],
        (
            "Pansements stériles".to_string(),
            "submitted".to_string(),
            1_000_000
        )
    );
    assert_eq!(titles[1].2, 250_250);

    // The same file again: every reference is already there, nothing more stored.
    let output = run("besoins.csv");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("row 2: need_id: GDH a déjà un besoin de référence « G-1 »"));

    // An .xlsx written by a spreadsheet library, dates as real dates.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in groupement::services::needs::NEED_COLUMNS.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 9, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    for (col, value) in ["G-3", "GDH", "30192000", "Ramettes de papier"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, col as u16, *value).unwrap();
    }
    sheet.write_number(1, 4, 300.0).unwrap();
    sheet.write_string(1, 5, "ramette").unwrap();
    sheet.write_number(1, 6, 3.25).unwrap();
    sheet.write_string(1, 7, "21000").unwrap();
    sheet
        .write_datetime_with_format(1, 8, &date, &format)
        .unwrap();
    sheet
        .write_datetime_with_format(1, 9, &date, &format)
        .unwrap();
    sheet.write_string(1, 10, "oui").unwrap();
    book.save(dir.path().join("besoins.xlsx")).unwrap();
    let output = run("besoins.xlsx");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stored(&database.url), 3);

    // Broken files: a wrong header, an empty file.
    std::fs::write(dir.path().join("entete.csv"), "besoin;acheteur\n1;GDH\n").unwrap();
    let output = run("entete.csv");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("row 1: header: missing column(s) need_id"));
    std::fs::write(dir.path().join("vide.csv"), "").unwrap();
    assert_eq!(run("vide.csv").status.code(), Some(2));
    assert_eq!(stored(&database.url), 3);
}

#[test]
fn import_needs_from_french_files_on_sqlite() {
    import_cli(TestBackend::Sqlite);
}

#[test]
fn import_needs_from_french_files_on_postgres() {
    import_cli(TestBackend::Postgres);
}

#[test]
fn import_ten_thousand_rows() {
    let database = TestDatabase::create(TestBackend::Sqlite).unwrap();
    let pool =
        groupement::db::open(&groupement::db::DatabaseUrl::parse(&database.url).unwrap()).unwrap();
    let chu = organisation(&mut pool.get().unwrap(), "CHU");
    let rows: Vec<String> = (1..=10_000)
        .map(|i| {
            format!("C-{i};CHU;33141000;Besoin {i};{i};boîte;1,5;21000;01/02/2027;30/06/2027;oui")
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    std::fs::write(dir.path().join("gros.csv"), french_csv(&refs)).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
        .args(["import", "needs", "gros.csv", "--org", "CHU"])
        .current_dir(dir.path())
        .env("GROUPEMENT_DATABASE_URL", &database.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "imported 10000 needs"
    );
    assert_eq!(stored(&database.url), 10_000);
    // An export takes every need, not a page of them.
    let viewer = buyer(&pool, chu, "CHU");
    let every = groupement::services::needs::all_matching(&pool, &viewer, &Default::default());
    assert_eq!(every.unwrap().len(), 10_000);
}

/// Two transactions changing needs of the same two organisations in opposite orders, committed
/// at the same moment (PostgreSQL raises the versions at the commit), both succeed: the
/// organisations are raised in one order, so neither holds a row the other waits for. Each raise
/// is slowed down here, so that without that order each would hold its first organisation's row
/// when it asks for the second: a deadlock every time.
#[test]
fn needs_of_several_organisations_changed_at_once_do_not_deadlock() {
    use diesel::connection::SimpleConnection;
    use diesel::PgConnection;
    use std::sync::{Arc, Barrier};
    let Some(database) = TestDatabase::create(TestBackend::Postgres) else {
        return;
    };
    let pool =
        groupement::db::open(&groupement::db::DatabaseUrl::parse(&database.url).unwrap()).unwrap();
    let (a, b) = {
        let mut conn = pool.get().unwrap();
        (
            organisation(&mut conn, "AAA"),
            organisation(&mut conn, "BBB"),
        )
    };
    let connect = || PgConnection::establish(&database.url).unwrap();
    let mut conn = connect();
    conn.batch_execute(&format!(
        "INSERT INTO needs (organisation_id, external_ref, cpv_code, title, quantity_milli, \
         unit, unit_price_cents, delivery_postcode, window_start, window_end, budget_year) \
         SELECT o, r, '30192000', r, 1000, 'u', 100, '21000', '2027-01-01', '2027-12-31', 2027 \
         FROM (VALUES ({a}, 'a1'), ({a}, 'a2'), ({b}, 'b1'), ({b}, 'b2')) AS n (o, r); \
         CREATE FUNCTION slow_raise() RETURNS TRIGGER LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$; \
         CREATE TRIGGER slow_raise BEFORE UPDATE OF needs_version ON organisations \
         FOR EACH ROW EXECUTE FUNCTION slow_raise()"
    ))
    .unwrap();
    let versions = |conn: &mut PgConnection| -> Vec<i64> {
        organisations::table
            .filter(organisations::id.eq_any([a, b]))
            .order(organisations::id)
            .select(organisations::needs_version)
            .load(conn)
            .unwrap()
    };
    let before = versions(&mut conn);
    let together = Arc::new(Barrier::new(2));
    let writer = |first: &'static str, second: &'static str| {
        let (mut conn, together) = (connect(), together.clone());
        std::thread::spawn(move || {
            conn.batch_execute(&format!(
                "BEGIN; \
                 UPDATE needs SET title = 'changé' WHERE external_ref = '{first}'; \
                 UPDATE needs SET title = 'changé' WHERE external_ref = '{second}'"
            ))?;
            together.wait();
            conn.batch_execute("COMMIT")
        })
    };
    let writers = [writer("a1", "b1"), writer("b2", "a2")];
    for writer in writers {
        writer
            .join()
            .unwrap()
            .expect("both transactions commit (none aborted as a deadlock)");
    }
    let after = versions(&mut conn);
    assert_eq!(
        after,
        [before[0] + 2, before[1] + 2],
        "each raised once per transaction"
    );
}
