//! The authorization matrix: every route of `web::access::RULES` — pages and API — with every
//! kind of person, and a buyer of another organisation, gets exactly the access its rule
//! gives; objects that belong to someone are "not found" to everyone else. A route added
//! without a rule is refused (second test); a rule added without an example here makes the
//! first test fail, so every route is walked.

use crate::both_backends;
use crate::helpers::{anonymous_csrf, csrf_in, home_as, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewSupplier, NewUser};
use groupement::db::schema::{api_tokens, organisations, suppliers, users};
use groupement::domain::hash_password;
use groupement::services::auth;
use groupement::web::access::RULES;
use groupement::web::nav::Role;

pub(crate) const PASSWORD: &str = "matrix password";

/// Who walks the routes.
pub(crate) struct Actor {
    pub name: &'static str,
    pub role: Option<Role>,
    /// Session cookie and form token (pages), API token (API).
    pub session: Option<(String, String)>,
    pub api_token: Option<String>,
}

fn organisation(conn: &mut groupement::db::AnyConnection, code: &str) -> i32 {
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
}

pub(crate) fn add_people(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let ub = organisation(&mut conn, "UB");
    let chu = organisation(&mut conn, "CHU");
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
    for (name, role, organisation_id, supplier_id) in [
        ("buyer", "buyer", Some(ub), None),
        ("lead", "lead", Some(ub), None),
        ("supplier", "supplier", None, Some(supplier)),
        ("admin", "admin", None, None),
        ("foreign", "buyer", Some(chu), None),
    ] {
        diesel::insert_into(users::table)
            .values(NewUser {
                email: &format!("{name}@example.fr"),
                password_hash: &hash,
                display_name: name,
                role,
                organisation_id,
                supplier_id,
                email_verified_at: None,
            })
            .execute(&mut conn)
            .unwrap();
    }
}

/// A need of UB (the buyer's and lead's organisation).
pub(crate) fn ub_need(conn: &mut groupement::db::AnyConnection, status: &str) -> i32 {
    ub_need_in(conn, status, 2027)
}

/// A need of UB delivered on 1 March of `year`.
pub(crate) fn ub_need_in(conn: &mut groupement::db::AnyConnection, status: &str, year: i32) -> i32 {
    use groupement::db::models::NewNeed;
    use groupement::db::schema::needs;
    let ub: i32 = organisations::table
        .filter(organisations::code.eq("UB"))
        .select(organisations::id)
        .first(conn)
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(year, 3, 1).unwrap();
    diesel::insert_into(needs::table)
        .values(NewNeed {
            organisation_id: ub,
            external_ref: None,
            cpv_code: "30192000",
            title: "Fournitures de bureau",
            description: "",
            quantity_milli: 1000,
            unit: "lot",
            unit_price_cents: 100_000,
            delivery_postcode: "21000",
            window_start: day,
            window_end: day,
            budget_year: year,
            poolable: true,
            status,
            provenance: None,
            created_by: None,
        })
        .returning(needs::id)
        .get_result(conn)
        .unwrap()
}

/// A tender in approval made by a first accepted run, a second run proposed, and a published
/// tender, all through the services.
pub(crate) fn pooled(app: &TestApp, owned_token: i32, some_user: i32, need: i32) -> Fixtures {
    use groupement::services::pooling;
    let lead_session = auth::sign_in(&app.pool, "lead@example.fr", PASSWORD, None).unwrap();
    let lead = auth::viewer(&app.pool, &lead_session).unwrap().unwrap();
    let run = || {
        let form = pooling::RunForm::defaults(2027);
        let id = pooling::start(&app.pool, &lead, &form).unwrap();
        pooling::execute(&app.pool, id).unwrap();
        id
    };
    let mut conn = app.pool.get().unwrap();
    ub_need(&mut conn, "submitted");
    drop(conn);
    let accepted = run();
    let references = pooling::accept(&app.pool, &lead, accepted, &app.address).unwrap();
    let mut conn = app.pool.get().unwrap();
    let tender: i32 = groupement::db::schema::tenders::table
        .filter(groupement::db::schema::tenders::reference.eq(&references[0]))
        .select(groupement::db::schema::tenders::id)
        .first(&mut conn)
        .unwrap();
    ub_need(&mut conn, "submitted");
    drop(conn);
    let proposed = run();
    // A published tender, for the public notice.
    let mut conn = app.pool.get().unwrap();
    ub_need(&mut conn, "submitted");
    drop(conn);
    let published_run = run();
    let published = pooling::accept(&app.pool, &lead, published_run, &app.address)
        .unwrap()
        .remove(0);
    diesel::update(
        groupement::db::schema::tenders::table
            .filter(groupement::db::schema::tenders::reference.eq(&published)),
    )
    .set((
        groupement::db::schema::tenders::status.eq("published"),
        groupement::db::schema::tenders::deadline
            .eq(chrono::Utc::now().naive_utc() + chrono::Duration::days(30)),
    ))
    .execute(&mut app.pool.get().unwrap())
    .unwrap();
    // Its bids' key, as at a publication (the matrix's leads have no opening key).
    {
        use groupement::db::schema::tender_seals as seals;
        diesel::insert_into(seals::table)
            .values((
                seals::tender_id.eq(published_id(app, &published)),
                seals::recipient.eq(groupement::services::seal::KeyPair::generate().recipient),
                seals::threshold.eq(1),
                seals::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    }
    use groupement::db::schema::tender_documents as docs;
    let document: i32 = diesel::insert_into(docs::table)
        .values((
            docs::tender_id.eq(published_id(app, &published)),
            docs::name.eq("reglement.pdf"),
            docs::content_type.eq("application/pdf"),
            docs::size_bytes.eq(8_i64),
            docs::content.eq(b"%PDF-1.7".to_vec()),
        ))
        .returning(docs::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    Fixtures {
        owned_token,
        some_user,
        need,
        run: proposed,
        tender,
        published,
        document,
    }
}

fn published_id(app: &TestApp, reference: &str) -> i32 {
    groupement::db::schema::tenders::table
        .filter(groupement::db::schema::tenders::reference.eq(reference))
        .select(groupement::db::schema::tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

/// Someone of `role`, for asking the access table what it allows.
pub(crate) fn someone(role: Role) -> groupement::web::nav::Viewer {
    groupement::web::nav::Viewer {
        actor: groupement::auth::Actor {
            user_id: 0,
            email: String::new(),
            role,
            organisation: None,
            organisation_id: None,
            supplier_id: None,
            needs_version: None,
        },
        display_name: String::new(),
        csrf_token: String::new(),
        idle_minutes: 0,
    }
}

/// A fresh session and API token for a person (through the services, not the rate-limited
/// form: the matrix needs many).
pub(crate) async fn actor(app: &TestApp, name: &'static str, role: Role) -> Actor {
    let pool = app.pool.clone();
    let email = format!("{name}@example.fr");
    let (token, api_token) = actix_web::web::block(move || {
        let token = auth::sign_in(&pool, &email, PASSWORD, None).unwrap();
        let viewer = auth::viewer(&pool, &token).unwrap().unwrap();
        let api = auth::create_api_token(&pool, &viewer, "matrix").unwrap();
        (token, api)
    })
    .await
    .unwrap();
    let csrf = csrf_in(&home_as(app, &token).await);
    Actor {
        name,
        role: Some(role),
        session: Some((token, csrf)),
        api_token: Some(api_token),
    }
}

/// The concrete path the matrix requests for a route pattern; `None` for a pattern it does not
/// know, which fails the test.
/// Ids the examples use.
pub(crate) struct Fixtures {
    owned_token: i32,
    some_user: i32,
    need: i32,
    run: i32,
    tender: i32,
    published: String,
    document: i32,
}

pub(crate) fn example(pattern: &str, f: &Fixtures) -> Option<String> {
    let (owned_token, some_user, need) = (f.owned_token, f.some_user, f.need);
    Some(match pattern {
        "/mutualisation/{id}" => format!("/mutualisation/{}", f.run),
        "/mutualisation/{id}/consultations/{family}" => {
            format!("/mutualisation/{}/consultations/3019", f.run)
        }
        "/mutualisation/{id}/accepter" => format!("/mutualisation/{}/accepter", f.run),
        "/mutualisation/{id}/ajuster" => format!("/mutualisation/{}/ajuster", f.run),
        "/mutualisation/{id}/frontiere" => format!("/mutualisation/{}/frontiere", f.run),
        "/mutualisation/{id}/abandonner" => format!("/mutualisation/{}/abandonner", f.run),
        "/consultations/{id}" => format!("/consultations/{}", f.tender),
        "/consultations/{id}/decision" => format!("/consultations/{}/decision", f.tender),
        "/consultations/{id}/resoumettre" => format!("/consultations/{}/resoumettre", f.tender),
        "/consultations/{id}/publier" => format!("/consultations/{}/publier", f.tender),
        "/consultations/{id}/publier/verifier" => {
            format!("/consultations/{}/publier/verifier", f.tender)
        }
        "/consultations/{id}/documents" => format!("/consultations/{}/documents", f.tender),
        "/consultations/{id}/rectificatif" => format!("/consultations/{}/rectificatif", f.tender),
        "/consultations/{id}/journal" => format!("/consultations/{}/journal", f.tender),
        "/consultations/{id}/journal.csv" => format!("/consultations/{}/journal.csv", f.tender),
        "/consultations/{id}/archive.zip" => format!("/consultations/{}/archive.zip", f.tender),
        "/consultations/{id}/avis-ue.xml" => format!("/consultations/{}/avis-ue.xml", f.tender),
        "/consultations/{id}/avis-ue/{file}" => {
            format!("/consultations/{}/avis-ue/1.xml", f.tender)
        }
        "/consultations/{id}/avis-ue/{notice}/envoi" => {
            format!("/consultations/{}/avis-ue/1/envoi", f.tender)
        }
        "/consultations/{id}/avis-ue/{notice}/publication" => {
            format!("/consultations/{}/avis-ue/1/publication", f.tender)
        }
        "/admin/organisations/{code}" => "/admin/organisations/UB".to_string(),
        "/offres/accuses/{id}" => "/offres/accuses/1".to_string(),
        "/consultations/{id}/copies/{copy}/reception" => {
            format!("/consultations/{}/copies/1/reception", f.tender)
        }
        "/consultations/{id}/copies/{copy}/ouverture" => {
            format!("/consultations/{}/copies/1/ouverture", f.tender)
        }
        "/appels-d-offres/{reference}/copie-de-sauvegarde" => {
            format!("/appels-d-offres/{}/copie-de-sauvegarde", f.published)
        }
        "/appels-d-offres/{reference}/cle-publique.txt" => {
            format!("/appels-d-offres/{}/cle-publique.txt", f.published)
        }
        "/appels-d-offres/{reference}/dume.xml" => {
            format!("/appels-d-offres/{}/dume.xml", f.published)
        }
        "/appels-d-offres/{reference}/dume" => format!("/appels-d-offres/{}/dume", f.published),
        "/appels-d-offres/{reference}/dume/fichier" => {
            format!("/appels-d-offres/{}/dume/fichier", f.published)
        }
        "/appels-d-offres/{reference}/dume/mien.xml" => {
            format!("/appels-d-offres/{}/dume/mien.xml", f.published)
        }
        "/consultations/{id}/dume/{supplier}" => format!("/consultations/{}/dume/1", f.tender),
        "/consultations/{id}/ouverture" => format!("/consultations/{}/ouverture", f.tender),
        "/consultations/{id}/offres" => format!("/consultations/{}/offres", f.tender),
        "/consultations/{id}/notes" => format!("/consultations/{}/notes", f.tender),
        "/consultations/{id}/offres/{bid}/justification" => {
            format!("/consultations/{}/offres/1/justification", f.tender)
        }
        "/consultations/{id}/attribution" => format!("/consultations/{}/attribution", f.tender),
        "/consultations/{id}/marches/{uid}/signature" => {
            format!("/consultations/{}/marches/2027-01-1/signature", f.tender)
        }
        "/consultations/{id}/offres/documents/{document}" => {
            format!("/consultations/{}/offres/documents/1", f.tender)
        }
        "/appels-d-offres/{reference}/documents/{id}" => {
            format!("/appels-d-offres/{}/documents/{}", f.published, f.document)
        }
        "/appels-d-offres/{reference}" => format!("/appels-d-offres/{}", f.published),
        "/appels-d-offres/{reference}/offre" => format!("/appels-d-offres/{}/offre", f.published),
        "/appels-d-offres/{reference}/dce.zip" => {
            format!("/appels-d-offres/{}/dce.zip", f.published)
        }
        "/appels-d-offres/{reference}/questions" => {
            format!("/appels-d-offres/{}/questions", f.published)
        }
        "/consultations/{id}/questions/{question}/reponse" => {
            format!("/consultations/{}/questions/1/reponse", f.tender)
        }
        "/appels-d-offres/{reference}/lots/{lot}/offre" => {
            format!("/appels-d-offres/{}/lots/1/offre", f.published)
        }
        "/appels-d-offres/{reference}/groupements/{bid}/confirmation" => {
            format!(
                "/appels-d-offres/{}/groupements/1/confirmation",
                f.published
            )
        }
        "/appels-d-offres/{reference}/lots/{lot}/retrait" => {
            format!("/appels-d-offres/{}/lots/1/retrait", f.published)
        }
        "/appels-d-offres/{reference}/lots/{lot}/documents" => {
            format!("/appels-d-offres/{}/lots/1/documents", f.published)
        }
        "/appels-d-offres/{reference}/lots/{lot}/documents/{id}/supprimer" => {
            format!(
                "/appels-d-offres/{}/lots/1/documents/1/supprimer",
                f.published
            )
        }
        "/appels-d-offres/{reference}/offre/documents/{id}" => {
            format!("/appels-d-offres/{}/offre/documents/1", f.published)
        }
        "/api/v1/needs/{id}" => format!("/api/v1/needs/{need}"),
        "/besoins/{id}" => format!("/besoins/{need}"),
        "/besoins/{id}/retirer" => format!("/besoins/{need}/retirer"),
        "/besoins/{id}/programme" => format!("/besoins/{need}/programme"),
        "/api/v1/needs/{id}/withdraw" => format!("/api/v1/needs/{need}/withdraw"),
        "/static/{path:.*}" => "/static/style.css".into(),
        "/compte/jetons/{id}/revoquer" => format!("/compte/jetons/{owned_token}/revoquer"),
        "/admin/utilisateurs/{id}" => format!("/admin/utilisateurs/{some_user}"),
        "/admin/courriels/{id}/renvoyer" => "/admin/courriels/1/renvoyer".to_string(),
        p if !p.contains('{') => p.to_string(),
        _ => return None,
    })
}

/// Objects that belong to some people (a person, an organisation): anyone else allowed on the
/// route gets 404.
const OWNED: &[(&str, &[&str])] = &[
    // The matrix's tender has no contract yet: "not found" to everyone.
    ("/consultations/{id}/marches/{uid}/signature", &[]),
    ("/compte/jetons/{id}/revoquer", &["buyer"]),
    ("/api/v1/needs/{id}", &["buyer", "lead"]),
    ("/besoins/{id}", &["buyer", "lead"]),
    ("/consultations/{id}", &["buyer", "lead"]),
    ("/besoins/{id}/retirer", &["buyer", "lead"]),
    ("/besoins/{id}/programme", &["buyer", "lead"]),
    ("/api/v1/needs/{id}/withdraw", &["buyer", "lead"]),
    // A bid document is its supplier's alone; the matrix's supplier has none.
    ("/appels-d-offres/{reference}/offre/documents/{id}", &[]),
    // A receipt is its company's alone; the matrix's supplier has none.
    ("/offres/accuses/{id}", &[]),
    // A DUME is its company's alone; the matrix's supplier gave none.
    ("/appels-d-offres/{reference}/dume/mien.xml", &[]),
    // The matrix's tender is under the EU thresholds: it has no EU notice.
    ("/consultations/{id}/avis-ue.xml", &[]),
    ("/consultations/{id}/avis-ue/{file}", &[]),
    ("/consultations/{id}/avis-ue/{notice}/envoi", &[]),
    ("/consultations/{id}/avis-ue/{notice}/publication", &[]),
    // The matrix names no planned purchase: a declaration on it is not found.
    ("/programme-achats/declaration", &[]),
    // … nor an exchange, a post, a request or an answer on it.
    ("/co-traitance", &[]),
    ("/programme-achats/reponse", &[]),
    // The matrix's supplier is named in no group bid.
    (
        "/appels-d-offres/{reference}/groupements/{bid}/confirmation",
        &[],
    ),
    ("/co-traitance/annonce", &[]),
    ("/co-traitance/contact", &[]),
    ("/co-traitance/reponse", &[]),
];

/// Routes that end the session they are called with: called with a fresh one.
const ENDS_SESSION: &[&str] = &["/deconnexion", "/compte/sessions/fermer"];

both_backends!(every_route_gives_each_role_exactly_its_access, |app| {
    add_people(&app);
    let mut actors = vec![Actor {
        name: "public",
        role: None,
        session: None,
        api_token: None,
    }];
    for (name, role) in [
        ("buyer", Role::Buyer),
        ("lead", Role::Lead),
        ("supplier", Role::Supplier),
        ("admin", Role::Admin),
        ("foreign", Role::Buyer),
    ] {
        actors.push(actor(&app, name, role).await);
    }
    let mut conn = app.pool.get().unwrap();
    let buyer_token: i32 = api_tokens::table
        .inner_join(users::table)
        .filter(users::email.eq("buyer@example.fr"))
        .select(api_tokens::id)
        .first(&mut conn)
        .unwrap();
    let supplier_user: i32 = users::table
        .filter(users::email.eq("supplier@example.fr"))
        .select(users::id)
        .first(&mut conn)
        .unwrap();
    let need = ub_need(&mut conn, "draft");
    drop(conn);
    let fixtures = pooled(&app, buyer_token, supplier_user, need);
    let (anonymous_cookie, anonymous_csrf) = anonymous_csrf(&app).await;

    // Signing out (everywhere) ends the person's other sessions too: those routes go last.
    let mut rules: Vec<_> = RULES.iter().collect();
    rules.sort_by_key(|r| ENDS_SESSION.contains(&r.path));
    for rule in rules {
        let path = example(rule.path, &fixtures)
            .unwrap_or_else(|| panic!("no example path for {} {}", rule.method, rule.path));
        let api = path.starts_with("/api/");
        for actor in &actors {
            // Revoking the buyer's token must not stop the next routes from using it.
            let fresh;
            let actor = if ENDS_SESSION.contains(&rule.path)
                || (rule.path.contains("revoquer") && actor.name == "buyer")
            {
                fresh = match actor.role {
                    Some(role) => crate::access::actor(&app, actor.name, role).await,
                    None => Actor {
                        name: "public",
                        role: None,
                        session: None,
                        api_token: None,
                    },
                };
                &fresh
            } else {
                actor
            };
            let path = if rule.path.contains("revoquer") && actor.name == "buyer" {
                // The fresh actor's own, newest token.
                let mut conn = app.pool.get().unwrap();
                let newest: i32 = api_tokens::table
                    .inner_join(users::table)
                    .filter(users::email.eq("buyer@example.fr"))
                    .filter(api_tokens::revoked_at.is_null())
                    .order(api_tokens::id.desc())
                    .select(api_tokens::id)
                    .first(&mut conn)
                    .unwrap();
                format!("/compte/jetons/{newest}/revoquer")
            } else {
                path.clone()
            };
            let url = format!("{}{path}", app.address);
            let mut request = match rule.method {
                "GET" => app.client.get(url),
                "POST" => app
                    .client
                    .post(url)
                    .insert_header(("Origin", app.address.as_str())),
                "PUT" => app
                    .client
                    .put(url)
                    .insert_header(("Origin", app.address.as_str())),
                other => panic!("no test request for method {other}"),
            };
            let csrf = match (&actor.session, api) {
                (Some((token, csrf)), false) => {
                    request =
                        request.insert_header(("Cookie", format!("groupement_session={token}")));
                    csrf.clone()
                }
                (_, true) => {
                    if let Some(token) = &actor.api_token {
                        request =
                            request.insert_header(("Authorization", format!("Bearer {token}")));
                    }
                    String::new()
                }
                (None, false) => {
                    request = request.insert_header(("Cookie", anonymous_cookie.clone()));
                    anonymous_csrf.clone()
                }
            };
            let response = match rule.method {
                "POST" | "PUT" if api => request
                    .insert_header(("Content-Type", "application/json"))
                    .send_body("{}")
                    .await
                    .unwrap(),
                "POST" => request
                    .send_form(&[
                        ("csrf_token", csrf.as_str()),
                        ("email", "nobody@example.fr"),
                        ("password", "x"),
                        ("name", "matrix"),
                        ("code", "MATRIX"),
                        ("role", "buyer"),
                        ("jeton", "0"),
                    ])
                    .await
                    .unwrap(),
                _ => request.send().await.unwrap(),
            };
            let status = response.status().as_u16();
            let who = format!("{} {path} as {}", rule.method, actor.name);
            assert!(status < 500, "{who}: status {status}");
            let viewer = actor.role.map(someone);
            if !rule.access.allows(viewer.as_ref()) {
                let expected = if api && actor.role.is_none() {
                    401
                } else {
                    403
                };
                assert_eq!(status, expected, "{who}");
                continue;
            }
            // (401 on a page is the sign-in form's wrong password, not a refusal.)
            assert!(
                status != 403 && status != 405 && !(api && status == 401),
                "{who}: status {status}"
            );
            match OWNED.iter().find(|(p, _)| *p == rule.path) {
                Some((_, owners)) if !owners.contains(&actor.name) => {
                    assert_eq!(status, 404, "{who}: someone else's object")
                }
                _ => assert_ne!(status, 404, "{who}: in the rules but not routed"),
            }
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
