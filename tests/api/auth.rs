//! Signing in and out: sessions in HttpOnly cookies, one message for every wrong credential,
//! a new session at each sign-in, requests from other origins refused, every attempt audited.

use crate::both_backends;
use crate::helpers::{anonymous_csrf, csrf_in, home_as, post_form, token_of, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{audit_log, organisations, users};
use groupement::domain::hash_password;

fn add_lead(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    let org: i32 = diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code: "DM",
            name: "Dijon Métropole",
            siret: None,
            kind: "local_authority",
            buyer_class: "sub_central",
        })
        .returning(organisations::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(users::table)
        .values(NewUser {
            email: "lead.dm@example.fr",
            password_hash: &hash_password("correct horse battery").unwrap(),
            display_name: "Camille Responsable",
            role: "lead",
            organisation_id: Some(org),
            supplier_id: None,
            email_verified_at: None,
        })
        .execute(&mut conn)
        .unwrap();
}

/// Posts the sign-in form with a valid anti-forgery pair, from `origin` (none at all when
/// `None`); returns status, the session cookie's Set-Cookie header ("" when none), body.
async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    origin: Option<&str>,
) -> (u16, String, String) {
    let (cookie, csrf) = anonymous_csrf(app).await;
    let mut request = app
        .client
        .post(format!("{}/connexion", app.address))
        .insert_header(("Cookie", cookie));
    if let Some(origin) = origin {
        request = request.insert_header(("Origin", origin));
    }
    let mut response = request
        .send_form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("groupement_session="))
        .unwrap_or_default()
        .to_string();
    let body = response.body().await.unwrap();
    (
        response.status().as_u16(),
        cookie,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn audited(app: &TestApp, action: &str) -> i64 {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    sign_in_opens_a_fresh_http_only_session_and_sign_out_ends_it,
    |app| {
        add_lead(&app);
        let (status, body_type, page) = app.get("/connexion").await;
        assert_eq!(status, 200);
        assert!(body_type.starts_with("text/html") && page.contains("name=\"password\""));

        let origin = app.address.clone();
        let (status, cookie, _) = sign_in(
            &app,
            "Lead.DM@example.fr ",
            "correct horse battery",
            Some(&origin),
        )
        .await;
        assert_eq!(status, 303);
        let lower = cookie.to_lowercase();
        assert!(
            lower.contains("httponly")
                && lower.contains("samesite=lax")
                && lower.contains("path=/"),
            "{cookie}"
        );
        assert!(
            !lower.contains("secure"),
            "no Secure flag over plain http: {cookie}"
        );
        let token = token_of(&cookie);
        assert_eq!(token.len(), 64);
        let home = home_as(&app, &token).await;
        assert!(home.contains("Camille Responsable") && home.contains("Se déconnecter"));

        // Each sign-in gets a token of its own: a session id is never reused.
        let (_, again, _) = sign_in(
            &app,
            "lead.dm@example.fr",
            "correct horse battery",
            Some(&origin),
        )
        .await;
        assert_ne!(token_of(&again), token);
        assert_eq!(audited(&app, "auth.sign_in"), 2);

        let sign_out = |csrf: String| {
            app.client
                .post(format!("{}/deconnexion", app.address))
                .insert_header(("Origin", origin.as_str()))
                .insert_header(("Cookie", format!("groupement_session={token}")))
                .send_form(&[("csrf_token", csrf)])
        };
        // Without the session's anti-forgery token (a forged form), nothing happens.
        let response = sign_out("0".repeat(64)).await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert!(home_as(&app, &token).await.contains("Camille Responsable"));
        let csrf = csrf_in(&home);
        assert_eq!(csrf.len(), 64);
        let response = sign_out(csrf).await.unwrap();
        assert_eq!(response.status().as_u16(), 303);
        let home = home_as(&app, &token).await;
        assert!(
            home.contains("Se connecter") && !home.contains("Camille Responsable"),
            "the old token is dead"
        );
        assert!(
            home_as(&app, &token_of(&again))
                .await
                .contains("Camille Responsable"),
            "the other session lives on"
        );
        assert_eq!(audited(&app, "auth.sign_out"), 1);
    }
);

both_backends!(
    wrong_credentials_get_one_message_whether_or_not_the_account_exists,
    |app| {
        add_lead(&app);
        let origin = app.address.clone();
        let (wrong_status, wrong_cookie, wrong_page) =
            sign_in(&app, "lead.dm@example.fr", "wrong", Some(&origin)).await;
        let (absent_status, absent_cookie, absent_page) =
            sign_in(&app, "nobody@example.fr", "wrong", Some(&origin)).await;
        assert_eq!((wrong_status, absent_status), (401, 401));
        assert!(wrong_cookie.is_empty() && absent_cookie.is_empty());
        let message = groupement::services::auth::WRONG_CREDENTIALS.replace('\'', "&#x27;");
        assert!(wrong_page.contains(&message), "{wrong_page}");
        assert!(absent_page.contains(&message));
        assert!(!wrong_page.contains("wrong") && absent_page.contains("nobody@example.fr"));
        assert_eq!(audited(&app, "auth.sign_in_failed"), 2);
    }
);

both_backends!(sign_in_from_another_origin_is_refused, |app| {
    add_lead(&app);
    let (status, cookie, _) = sign_in(
        &app,
        "lead.dm@example.fr",
        "correct horse battery",
        Some("https://evil.example"),
    )
    .await;
    assert_eq!((status, cookie.as_str()), (403, ""));
    let (status, _, _) = sign_in(&app, "lead.dm@example.fr", "correct horse battery", None).await;
    assert_eq!(status, 403);
    assert_eq!(audited(&app, "auth.sign_in"), 0);
});

both_backends!(sign_in_is_rate_limited, |app| {
    add_lead(&app);
    let origin = app.address.clone();
    let limit = groupement::startup::SIGN_IN_ATTEMPTS_PER_MINUTE as usize;
    for _ in 0..limit {
        let (status, _, _) = sign_in(&app, "lead.dm@example.fr", "guess", Some(&origin)).await;
        assert_eq!(status, 401);
    }
    let (status, cookie, page) = sign_in(
        &app,
        "lead.dm@example.fr",
        "correct horse battery",
        Some(&origin),
    )
    .await;
    assert_eq!(
        status, 429,
        "even the right password waits once the limit is reached"
    );
    assert!(cookie.is_empty() && page.contains("Trop de tentatives"));
    assert_eq!(audited(&app, "auth.sign_in_failed"), limit as i64);
});

both_backends!(sign_in_without_the_anti_forgery_pair_is_refused, |app| {
    add_lead(&app);
    let form = [
        ("email", "lead.dm@example.fr"),
        ("password", "correct horse battery"),
    ];
    // No token at all, as a form on another site would post it.
    let bare = post_form(&app, "/connexion", "", None, &form).await;
    assert_eq!(bare.status, 403);
    // A token in the form but not the browser's cookie (login CSRF with the attacker's own
    // token).
    let (_, other) = anonymous_csrf(&app).await;
    let mut with_field = form.to_vec();
    with_field.push(("csrf_token", other.as_str()));
    let (mine, _) = anonymous_csrf(&app).await;
    let mismatch = post_form(&app, "/connexion", &mine, None, &with_field).await;
    assert_eq!(mismatch.status, 403);
    assert!(mismatch.cookie("groupement_session").is_empty());
    assert_eq!(audited(&app, "auth.sign_in"), 0);
});
