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

/// One request of the walk: method, path, the document's path template, token, body and
/// idempotency key.
struct Call {
    method: &'static str,
    path: String,
    template: &'static str,
    token: Option<String>,
    body: Option<Value>,
    key: Option<&'static str>,
}

fn call(
    method: &'static str,
    path: impl Into<String>,
    template: &'static str,
    token: &str,
) -> Call {
    Call {
        method,
        path: path.into(),
        template,
        token: Some(token.to_string()).filter(|t| !t.is_empty()),
        body: None,
        key: None,
    }
}

impl Call {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn key(mut self, key: &'static str) -> Self {
        self.key = Some(key);
        self
    }

    /// Sends it, checks the status is `expected` and the body validates against the schema
    /// the document announces for it; returns the body.
    async fn expect(self, app: &TestApp, doc: &Value, expected: u16) -> Value {
        let url = format!("{}{}", app.address, self.path);
        let mut request = match self.method {
            "get" => app.client.get(url),
            "post" => app.client.post(url),
            _ => app.client.put(url),
        };
        if let Some(token) = &self.token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        if let Some(key) = self.key {
            request = request.insert_header(("Idempotency-Key", key));
        }
        let mut response = match &self.body {
            Some(body) => request.send_json(body).await.unwrap(),
            None => request.send().await.unwrap(),
        };
        let status = response.status().as_u16();
        let value: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
        assert_eq!(status, expected, "{} {}: {value}", self.method, self.path);
        check(doc, self.method, self.template, status, &value);
        value
    }
}

both_backends!(every_answer_matches_the_document, |app| {
    let doc = document();
    let ub = token(&app, "ub@example.fr", "buyer", Some("UB"));
    let chu = token(&app, "chu@example.fr", "lead", Some("CHU"));
    let admin = token(&app, "admin@example.fr", "admin", None);
    let need = json!({ "cpv": "30192000", "title": "Ramettes", "quantity": 300, "unit": "ramette",
                       "unit_price_eur": "3,25", "delivery_postcode": "21000",
                       "window_start": "2027-09-01", "window_end": "2027-09-30" });
    let (needs_path, one_path) = ("/api/v1/needs", "/api/v1/needs/{id}");
    let (import, withdraw) = ("/api/v1/needs/import", "/api/v1/needs/{id}/withdraw");
    call("get", "/api/v1/me", "/api/v1/me", &ub)
        .expect(&app, &doc, 200)
        .await;
    call("get", "/api/v1/me", "/api/v1/me", "")
        .expect(&app, &doc, 401)
        .await;
    let created = call("post", needs_path, needs_path, &ub)
        .body(need.clone())
        .key("cle-1")
        .expect(&app, &doc, 201)
        .await;
    call("post", needs_path, needs_path, &ub)
        .body(need.clone())
        .key("cle-1")
        .expect(&app, &doc, 200)
        .await;
    call("post", needs_path, needs_path, &ub)
        .body(json!({ "title": "" }))
        .expect(&app, &doc, 422)
        .await;
    call("post", needs_path, needs_path, &admin)
        .body(need.clone())
        .expect(&app, &doc, 403)
        .await;
    let id = created["id"].as_i64().unwrap();
    let one = format!("/api/v1/needs/{id}");
    call("get", &one, one_path, &ub)
        .expect(&app, &doc, 200)
        .await;
    call("get", &one, one_path, &chu)
        .expect(&app, &doc, 404)
        .await;
    call("put", &one, one_path, &ub)
        .body(need.clone())
        .expect(&app, &doc, 200)
        .await;
    call("put", &one, one_path, &ub)
        .body(json!([]))
        .expect(&app, &doc, 422)
        .await;
    let list = call("get", "/api/v1/needs?year=2027", needs_path, &ub)
        .expect(&app, &doc, 200)
        .await;
    assert_eq!(list["total"], 1);
    call("get", "/api/v1/needs?from=demain", needs_path, &ub)
        .expect(&app, &doc, 422)
        .await;
    // What schemathesis found: a query that does not parse is a 422 naming it (not a bare 400),
    // a field of the wrong JSON type is refused (not stored as text), a method the route does
    // not take is a 405 with the ones it does.
    let overflow = call("get", "/api/v1/needs?year=2147483648", needs_path, &ub)
        .expect(&app, &doc, 422)
        .await;
    assert_eq!(overflow["error"]["field"], "query");
    let mut typed = need.clone();
    typed["unit"] = json!({});
    typed["buyer"] = json!(3);
    let refused = call("put", &one, one_path, &ub)
        .body(typed)
        .expect(&app, &doc, 422)
        .await;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unit : un texte est attendu") && message.contains("buyer"),
        "{message}"
    );
    let mut trace = app
        .client
        .request(
            actix_web::http::Method::TRACE,
            format!("{}/api/v1/me", app.address),
        )
        .insert_header(("Authorization", format!("Bearer {ub}")))
        .send()
        .await
        .unwrap();
    assert_eq!(trace.status().as_u16(), 405);
    assert_eq!(trace.headers().get("allow").unwrap(), "GET");
    let body: Value = trace.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let mut bad = need.clone();
    bad["cpv"] = json!("0");
    call("post", import, import, &chu)
        .body(json!([need.clone(), bad]))
        .expect(&app, &doc, 422)
        .await;
    call("post", import, import, &chu)
        .body(json!([need.clone()]))
        .expect(&app, &doc, 201)
        .await;
    let set_status = |status: &str| {
        diesel::update(needs::table.find(id as i32))
            .set(needs::status.eq(status))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    };
    set_status("tendered");
    call("put", &one, one_path, &ub)
        .body(need.clone())
        .expect(&app, &doc, 409)
        .await;
    call("post", format!("{one}/withdraw"), withdraw, &ub)
        .expect(&app, &doc, 409)
        .await;
    set_status("submitted");
    call("post", format!("{one}/withdraw"), withdraw, &ub)
        .expect(&app, &doc, 200)
        .await;

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
