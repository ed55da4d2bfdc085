//! Passwords never reach the logs: the real binary, logging at `debug`, through sign-in
//! failures and successes, registration and a password reset.

use crate::helpers::csrf_in;
use std::process::{Command, Stdio};
use std::time::Duration;

const SECRET_WRONG: &str = "Mot-De-Passe-Faux-4711";
const SECRET_RIGHT: &str = "Mot-De-Passe-Juste-0815";

#[actix_web::test]
async fn passwords_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let out_path = dir.path().join("server.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_groupement"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("GROUPEMENT_DATABASE_URL", "sqlite://groupement.db")
        .env("GROUPEMENT_LOG", "debug")
        .env("GROUPEMENT_MAIL_POLL_MS", "50")
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let mut address = None;
    for _ in 0..600 {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(url) = out.split("serving at ").nth(1) {
            address = Some(url.trim().to_string());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(address) = address else {
        let _ = child.kill();
        panic!(
            "the server did not start: {}",
            std::fs::read_to_string(&log_path).unwrap()
        );
    };
    let client = awc::Client::builder().disable_redirects().finish();
    let form = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let (client, address) = (client.clone(), address.clone());
        async move {
            let mut page = client
                .get(format!("{address}/connexion"))
                .send()
                .await
                .unwrap();
            let cookie = page
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .unwrap()
                .to_string();
            let csrf = csrf_in(&String::from_utf8_lossy(&page.body().await.unwrap()));
            let mut body = vec![("csrf_token", csrf.as_str())];
            body.extend(fields);
            client
                .post(format!("{address}{path}"))
                .insert_header(("Origin", address.as_str()))
                .insert_header(("Cookie", cookie))
                .send_form(&body)
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let wrong = form(
        "/connexion",
        vec![("email", "personne@example.fr"), ("password", SECRET_WRONG)],
    )
    .await;
    assert_eq!(wrong, 401);
    let registered = form(
        "/inscription",
        vec![
            ("siret", "24210041000123"),
            ("company", "Entreprise"),
            ("postcode", "21000"),
            ("contact_name", "Alex"),
            ("email", "alex@example.fr"),
            ("password", SECRET_RIGHT),
            ("password_confirmation", SECRET_RIGHT),
        ],
    )
    .await;
    assert_eq!(registered, 201);
    let right = form(
        "/connexion",
        vec![("email", "alex@example.fr"), ("password", SECRET_RIGHT)],
    )
    .await;
    assert_eq!(right, 303);
    let reset = form("/mot-de-passe-oublie", vec![("email", "alex@example.fr")]).await;
    assert_eq!(reset, 200);
    // Let the mail worker write its files (and log what it does).
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        log.contains("/connexion") && log.contains("/inscription"),
        "the requests are logged at debug: {log}"
    );
    for secret in [SECRET_WRONG, SECRET_RIGHT] {
        assert!(!log.contains(secret), "a password is in the log");
        assert!(!out.contains(secret), "a password is on stdout");
    }
}
