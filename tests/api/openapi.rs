//! The OpenAPI document describes the API as it is: every API route is documented with its
//! method, and every answer the API gives (success and error) validates against the schema the
//! document announces for that status.

use crate::both_backends;
use crate::helpers::TestApp;
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{needs, organisations, users};
use groupement::domain::hash_password;
use groupement::services::auth;
use groupement::web::access::RULES;
use groupement::web::openapi::document;
use serde_json::{json, Value};

#[test]
fn every_api_route_is_documented_and_nothing_else() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = 0;
    for rule in RULES.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &doc["paths"][rule.path][rule.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not in the OpenAPI document",
            rule.method,
            rule.path
        );
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        documented += 1;
    }
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        operations, documented,
        "the document has operations the portal does not route"
    );
}

/// Validates a body against the schema the document gives for this operation and status.
fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} answered {status}, which the document does not announce: {body}"
    );
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

fn token(app: &TestApp, email: &str, role: &str, organisation: Option<&str>) -> String {
    let mut conn = app.pool.get().unwrap();
    let organisation_id = organisation.map(|code| {
        diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code,
                name: code,
                siret: None,
                kind: "university",
                buyer_class: "central",
            })
            .returning(organisations::id)
            .get_result::<i32>(&mut conn)
            .unwrap()
    });
    diesel::insert_into(users::table)
        .values(NewUser {
            email,
            password_hash: &hash_password("mot de passe long").unwrap(),
            display_name: "API",
            role,
            organisation_id,
            supplier_id: None,
            email_verified_at: None,
        })
        .execute(&mut conn)
        .unwrap();
    let session = auth::sign_in(&app.pool, email, "mot de passe long", None).unwrap();
    let viewer = auth::viewer(&app.pool, &session).unwrap().unwrap();
    auth::create_api_token(&app.pool, &viewer, "openapi").unwrap()
}

both_backends!(every_answer_matches_the_document, |app| {
    let doc = document();
    let ub = token(&app, "ub@example.fr", "buyer", Some("UB"));
    let chu = token(&app, "chu@example.fr", "lead", Some("CHU"));
    let admin = token(&app, "admin@example.fr", "admin", None);
    let need = json!({ "cpv": "30192000", "title": "Ramettes", "quantity": 300, "unit": "ramette",
                       "unit_price_eur": "3,25", "delivery_postcode": "21000",
                       "window_start": "2027-09-01", "window_end": "2027-09-30" });
    let call = |method: &'static str,
                path: String,
                template: &'static str,
                token: Option<String>,
                body: Option<Value>,
                key: Option<&'static str>| {
        let (app, doc) = (&app, &doc);
        async move {
            let url = format!("{}{path}", app.address);
            let mut request = match method {
                "get" => app.client.get(url),
                "post" => app.client.post(url),
                _ => app.client.put(url),
            };
            if let Some(token) = token {
                request = request.insert_header(("Authorization", format!("Bearer {token}")));
            }
            if let Some(key) = key {
                request = request.insert_header(("Idempotency-Key", key));
            }
            let mut response = match body {
                Some(body) => request.send_json(&body).await.unwrap(),
                None => request.send().await.unwrap(),
            };
            let status = response.status().as_u16();
            let value: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
            check(doc, method, template, status, &value);
            (status, value)
        }
    };
    let some = |t: &String| Some(t.clone());
    assert_eq!(
        call(
            "get",
            "/api/v1/me".into(),
            "/api/v1/me",
            some(&ub),
            None,
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call("get", "/api/v1/me".into(), "/api/v1/me", None, None, None)
            .await
            .0,
        401
    );
    let (status, created) = call(
        "post",
        "/api/v1/needs".into(),
        "/api/v1/needs",
        some(&ub),
        Some(need.clone()),
        Some("cle-1"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        call(
            "post",
            "/api/v1/needs".into(),
            "/api/v1/needs",
            some(&ub),
            Some(need.clone()),
            Some("cle-1")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            "post",
            "/api/v1/needs".into(),
            "/api/v1/needs",
            some(&ub),
            Some(json!({"title": ""})),
            None
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call(
            "post",
            "/api/v1/needs".into(),
            "/api/v1/needs",
            some(&admin),
            Some(need.clone()),
            None
        )
        .await
        .0,
        403
    );
    let id = created["id"].as_i64().unwrap();
    let one = format!("/api/v1/needs/{id}");
    assert_eq!(
        call(
            "get",
            one.clone(),
            "/api/v1/needs/{id}",
            some(&ub),
            None,
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            "get",
            one.clone(),
            "/api/v1/needs/{id}",
            some(&chu),
            None,
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(
            "put",
            one.clone(),
            "/api/v1/needs/{id}",
            some(&ub),
            Some(need.clone()),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            "put",
            one.clone(),
            "/api/v1/needs/{id}",
            some(&ub),
            Some(json!([])),
            None
        )
        .await
        .0,
        422
    );
    let (status, list) = call(
        "get",
        "/api/v1/needs?year=2027".into(),
        "/api/v1/needs",
        some(&ub),
        None,
        None,
    )
    .await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(1)));
    assert_eq!(
        call(
            "get",
            "/api/v1/needs?from=demain".into(),
            "/api/v1/needs",
            some(&ub),
            None,
            None
        )
        .await
        .0,
        422
    );
    let mut bad = need.clone();
    bad["cpv"] = json!("0");
    assert_eq!(
        call(
            "post",
            "/api/v1/needs/import".into(),
            "/api/v1/needs/import",
            some(&chu),
            Some(json!([need.clone(), bad])),
            None
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call(
            "post",
            "/api/v1/needs/import".into(),
            "/api/v1/needs/import",
            some(&chu),
            Some(json!([need.clone()])),
            None
        )
        .await
        .0,
        201
    );
    diesel::update(needs::table.find(id as i32))
        .set(needs::status.eq("tendered"))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(
        call(
            "put",
            one.clone(),
            "/api/v1/needs/{id}",
            some(&ub),
            Some(need.clone()),
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            "post",
            format!("{one}/withdraw"),
            "/api/v1/needs/{id}/withdraw",
            some(&ub),
            None,
            None
        )
        .await
        .0,
        409
    );
    diesel::update(needs::table.find(id as i32))
        .set(needs::status.eq("submitted"))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(
        call(
            "post",
            format!("{one}/withdraw"),
            "/api/v1/needs/{id}/withdraw",
            some(&ub),
            None,
            None
        )
        .await
        .0,
        200
    );

    // The documentation page renders the same document, offline.
    let (status, _, page) = app.get("/documentation/api").await;
    assert_eq!(status, 200);
    assert!(page.contains("POST /api/v1/needs/import") && page.contains("NeedView"));
    assert!(!page.contains("https://"), "nothing loaded from elsewhere");
});

#[test]
fn the_check_catches_a_body_that_breaks_its_schema() {
    let doc = document();
    let wrong = json!({ "error": { "code": 401, "message": "x" } });
    let caught = std::panic::catch_unwind(|| check(&doc, "get", "/api/v1/me", 401, &wrong));
    assert!(
        caught.is_err(),
        "a numeric code must not validate as the error schema"
    );
    let undocumented =
        std::panic::catch_unwind(|| check(&doc, "get", "/api/v1/me", 418, &json!({})));
    assert!(
        undocumented.is_err(),
        "a status the document does not announce is refused"
    );
}
