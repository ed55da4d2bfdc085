//! The authorization matrix: every route of `web::access::RULES`, with every kind of person,
//! gets exactly the access its rule gives. A route registered without a rule is refused.

use crate::both_backends;
use crate::helpers::{csrf_in, home_as, token_of, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewSupplier, NewUser};
use groupement::db::schema::{organisations, suppliers, users};
use groupement::domain::hash_password;
use groupement::web::access::RULES;
use groupement::web::nav::{Role, Viewer};

const PASSWORD: &str = "matrix password";

/// A session token and its anti-forgery token.
type Session = (String, String);

fn add_people(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let org: i32 = diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code: "UB",
            name: "Université de Bourgogne",
            siret: None,
            kind: "university",
            buyer_class: "central",
        })
        .returning(organisations::id)
        .get_result(&mut conn)
        .unwrap();
    let supplier: i32 = diesel::insert_into(suppliers::table)
        .values(NewSupplier {
            siret: "24210041000123",
            name: "Fournisseur",
            postcode: "21000",
            commune: "DIJON",
            department_code: "21",
            latitude: None,
            longitude: None,
            sme: true,
            annual_capacity_cents: 0,
            notification_email: "s@example.fr",
            opt_in: true,
            provenance: None,
        })
        .returning(suppliers::id)
        .get_result(&mut conn)
        .unwrap();
    for (role, organisation_id, supplier_id) in [
        ("buyer", Some(org), None),
        ("lead", Some(org), None),
        ("supplier", None, Some(supplier)),
        ("admin", None, None),
    ] {
        diesel::insert_into(users::table)
            .values(NewUser {
                email: &format!("{role}@example.fr"),
                password_hash: &hash,
                display_name: role,
                role,
                organisation_id,
                supplier_id,
                email_verified_at: None,
            })
            .execute(&mut conn)
            .unwrap();
    }
}

/// Signs in; returns the session token and the anti-forgery token of the signed-in pages.
async fn session(app: &TestApp, role: &str) -> Session {
    let response = app
        .client
        .post(format!("{}/connexion", app.address))
        .insert_header(("Origin", app.address.as_str()))
        .send_form(&[
            ("email", format!("{role}@example.fr")),
            ("password", PASSWORD.to_string()),
        ])
        .await
        .unwrap();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = token_of(set_cookie);
    assert!(!token.is_empty(), "{role} could not sign in");
    let csrf = csrf_in(&home_as(app, &token).await);
    (token, csrf)
}

both_backends!(every_route_gives_each_role_exactly_its_access, |app| {
    add_people(&app);
    let mut actors: Vec<(Option<Role>, Option<Session>)> = vec![(None, None)];
    for (role, name) in [
        (Role::Buyer, "buyer"),
        (Role::Lead, "lead"),
        (Role::Supplier, "supplier"),
        (Role::Admin, "admin"),
    ] {
        actors.push((Some(role), Some(session(&app, name).await)));
    }
    // Signing out ends the session: that route goes last.
    let mut rules: Vec<_> = RULES.iter().collect();
    rules.sort_by_key(|r| r.path == "/deconnexion");
    for rule in rules {
        let path = rule.path.replace("{path:.*}", "style.css");
        for (role, session) in &actors {
            let mut request = match rule.method {
                "GET" => app.client.get(format!("{}{path}", app.address)),
                "POST" => app
                    .client
                    .post(format!("{}{path}", app.address))
                    .insert_header(("Origin", app.address.as_str())),
                other => panic!("no test request for method {other}"),
            };
            if let Some((token, _)) = session {
                request = request.insert_header(("Cookie", format!("groupement_session={token}")));
            }
            let csrf = session.as_ref().map(|s| s.1.clone()).unwrap_or_default();
            let response = match rule.method {
                "POST" => request
                    .send_form(&[
                        ("csrf_token", csrf),
                        ("email", "nobody@example.fr".into()),
                        ("password", "x".into()),
                    ])
                    .await
                    .unwrap(),
                _ => request.send().await.unwrap(),
            };
            let viewer = role.map(|role| Viewer {
                display_name: String::new(),
                role,
                organisation: None,
                csrf_token: String::new(),
            });
            let expected = rule.access.allows(viewer.as_ref());
            let status = response.status().as_u16();
            assert_eq!(
                status == 403,
                !expected,
                "{} {path} as {role:?}: status {status}",
                rule.method
            );
            assert_ne!(
                status, 404,
                "{} {path} is in the rules but not routed",
                rule.method
            );
        }
    }
});

#[actix_web::test]
async fn a_route_without_a_rule_is_refused_to_everyone() {
    use actix_web::{middleware::from_fn, test, web, App, HttpResponse};
    let app = test::init_service(
        App::new()
            .wrap(from_fn(groupement::web::access::enforce))
            .route(
                "/sans-regle",
                web::get().to(|| async { HttpResponse::Ok().body("secret") }),
            )
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    let refused = test::call_service(
        &app,
        test::TestRequest::get().uri("/sans-regle").to_request(),
    )
    .await;
    assert_eq!(refused.status().as_u16(), 403);
    let allowed =
        test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(allowed.status().as_u16(), 200);
}
