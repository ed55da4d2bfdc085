//! The router decodes a path before matching it; the access check and the choice between the
//! session cookie and an API token once read the path as sent. `GET /%61pi/v1/me` with a
//! browser's cookie answered 200, and `POST /%61pi/v1/needs` as text/plain created a need.
//! Every route of the access table is tried here under four other spellings.

use crate::access::{actor, add_people, example, pooled, Actor};
use crate::both_backends;
use crate::helpers::TestApp;
use diesel::prelude::*;
use groupement::db::schema::{api_tokens, needs, users};
use groupement::web::access::{Access, RULES};
use groupement::web::nav::Role;

/// Other spellings of `path`: its static segments' first letters percent-encoded, doubled
/// slashes, a trailing slash, capitals.
fn spellings(path: &str) -> Vec<(&'static str, String)> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let map = |f: &dyn Fn(&str) -> String| -> String {
        segments.iter().map(|s| format!("/{}", f(s))).collect()
    };
    let encoded = map(&|s: &str| match s.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => format!("%{:02x}{}", c as u8, &s[1..]),
        _ => s.to_string(),
    });
    let capitals = map(&|s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    });
    vec![
        ("percent-encoded", encoded),
        ("doubled slashes", path.replace('/', "//")),
        ("trailing slash", format!("{path}/")),
        ("mixed case", capitals),
    ]
}

#[test]
fn the_spellings_are_the_ones_meant() {
    let all = spellings("/api/v1/needs/7");
    assert_eq!(all[0].1, "/%61pi/%761/%6eeeds/7");
    assert_eq!(all[1].1, "//api//v1//needs//7");
    assert_eq!(all[2].1, "/api/v1/needs/7/");
    assert_eq!(all[3].1, "/Api/V1/Needs/7");
}

async fn send(app: &TestApp, method: &str, path: &str, cookie: Option<&str>, csrf: &str) -> u16 {
    let url = format!("{}{path}", app.address);
    let mut request = match method {
        "GET" => app.client.get(url),
        "POST" => app.client.post(url),
        "PUT" => app.client.put(url),
        other => panic!("no request for {other}"),
    }
    .insert_header(("Origin", app.address.as_str()));
    if let Some(token) = cookie {
        request = request.insert_header(("Cookie", format!("groupement_session={token}")));
    }
    let response = match method {
        "GET" => request.send().await,
        _ => {
            request
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .send_body(format!("csrf_token={csrf}"))
                .await
        }
    }
    .unwrap();
    response.status().as_u16()
}

both_backends!(no_spelling_of_a_path_gets_around_the_access_table, |app| {
    add_people(&app);
    let mut people: Vec<Actor> = Vec::new();
    for (name, role) in [
        ("buyer", Role::Buyer),
        ("lead", Role::Lead),
        ("supplier", Role::Supplier),
        ("admin", Role::Admin),
    ] {
        people.push(actor(&app, name, role).await);
    }
    let mut conn = app.pool.get().unwrap();
    let token: i32 = api_tokens::table
        .inner_join(users::table)
        .filter(users::email.eq("buyer@example.fr"))
        .select(api_tokens::id)
        .first(&mut conn)
        .unwrap();
    let someone: i32 = users::table.select(users::id).first(&mut conn).unwrap();
    let need = crate::access::ub_need(&mut conn, "draft");
    drop(conn);
    let fixtures = pooled(&app, token, someone, need);
    let needs_before: i64 = needs::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();

    for rule in RULES.iter().filter(|r| r.access != Access::Public) {
        if ["/deconnexion", "/compte/sessions/fermer"].contains(&rule.path) {
            continue; // they end the session the walk goes on with
        }
        let path = example(rule.path, &fixtures).unwrap();
        let api = rule.path.starts_with("/api/");
        for (spelling, spelled) in spellings(&path) {
            // Pages: each person whom the rule refuses, with their session cookie. The API:
            // every person, with their session cookie and no token.
            for person in &people {
                let allowed = rule
                    .access
                    .allows(person.role.map(crate::access::someone).as_ref());
                if !api && allowed {
                    continue;
                }
                let (cookie, csrf) = person.session.clone().unwrap();
                let status = send(&app, rule.method, &spelled, Some(&cookie), &csrf).await;
                let who = format!(
                    "{} {spelled} ({spelling}) as {} with a session cookie",
                    rule.method, person.name
                );
                let expected: &[u16] = match api {
                    true => &[401, 404],
                    false => &[403, 404],
                };
                assert!(expected.contains(&status), "{who}: status {status}");
            }
        }
    }
    // The attack itself: a need posted as text/plain, by cookie, with no Origin.
    let (cookie, _) = people[0].session.clone().unwrap();
    let response = app
        .client
        .post(format!("{}/%61pi/v1/needs", app.address))
        .insert_header(("Cookie", format!("groupement_session={cookie}")))
        .insert_header(("Content-Type", "text/plain"))
        .send_body(r#"{"cpv":"30192000","title":"x","quantity":1,"unit":"u","unit_price_eur":1,"delivery_postcode":"21000","window_start":"2027-03-01","window_end":"2027-03-02"}"#)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let needs_after: i64 = needs::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(needs_after, needs_before, "no need created");
    // The canonical spellings still serve the person the rule allows.
    let (cookie, csrf) = people[0].session.clone().unwrap();
    assert_eq!(
        send(&app, "GET", "/%62esoins", Some(&cookie), &csrf).await,
        200
    );
    assert_eq!(
        send(&app, "GET", "//besoins", Some(&cookie), &csrf).await,
        200
    );
});
