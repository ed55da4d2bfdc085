//! Acknowledged writes survive a crash: the real binary serves a stream of writes — needs by
//! the JSON API, bid revisions by the supplier's form — and is killed with SIGKILL in the
//! middle of it; restarted on the same database, it has every need it acknowledged, the last
//! bid price it acknowledged (or the one in flight), and nothing half-written: each need has
//! its audit entry, each bid revision its receipt e-mail, written in the same transaction.

use crate::bids::{published, supplier, user};
use crate::helpers::{spawn_app, TestBackend};
use diesel::prelude::*;
use groupement::db::schema::{audit_log, bids, needs, notifications};
use std::cell::{Cell, RefCell};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Writes acknowledged before the kill.
const BEFORE_KILL: usize = 30;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(database_url: &str, port: u16, outbox: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_groupement"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("GROUPEMENT_DATABASE_URL", database_url)
        .env("GROUPEMENT_OUTBOX_DIR", outbox)
        .env("GROUPEMENT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start groupement serve")
}

/// A cookie's value from the `Set-Cookie` headers.
fn cookie(headers: &actix_web::http::header::HeaderMap, name: &str) -> String {
    headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

async fn wait_until_up(client: &awc::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up at {base}");
}

async fn acknowledged_writes_survive_a_kill(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (reference, lead, ..) = published(&app);
    let alpha = supplier(&app, "24210041000123", "Alpha");
    user(&app, "alpha@example.fr", "supplier", None, Some(alpha));
    let pool = app.pool.clone();
    let token = actix_web::web::block(move || {
        groupement::services::auth::create_api_token(&pool, &lead, "durability").unwrap()
    })
    .await
    .unwrap();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let outbox = tempfile::tempdir().unwrap();
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut server = serve(app.database_url(), port, outbox.path());
    wait_until_up(&client, &base).await;

    // The supplier signs in on the real server (a session of its own).
    let mut home = client
        .get(format!("{base}/connexion"))
        .send()
        .await
        .unwrap();
    let anonymous = cookie(home.headers(), "groupement_csrf");
    let _ = home.body().await;
    let signed_in = client
        .post(format!("{base}/connexion"))
        .insert_header(("Origin", base.as_str()))
        .insert_header(("Cookie", format!("groupement_csrf={anonymous}")))
        .send_form(&[
            ("csrf_token", anonymous.as_str()),
            ("email", "alpha@example.fr"),
            ("password", "mot de passe des offres"),
        ])
        .await
        .unwrap();
    let session = cookie(signed_in.headers(), "groupement_session");
    let page = client
        .get(format!("{base}/appels-d-offres/{reference}/offre"))
        .insert_header(("Cookie", format!("groupement_session={session}")))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_in(&String::from_utf8_lossy(&page));

    let acked_needs = RefCell::new(Vec::<String>::new());
    let acked_price = Cell::new(None::<i64>);
    let in_flight_price = Cell::new(None::<i64>);
    let killed = Cell::new(false);
    let needs_stream = async {
        for i in 0.. {
            let reference = format!("DUR-{i:04}");
            let sent = client
                .post(format!("{base}/api/v1/needs"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .send_json(&serde_json::json!({
                    "need_id": reference, "cpv": "30192000", "title": format!("Besoin {i}"),
                    "quantity": 10 + i, "unit": "lot", "unit_price_eur": 12.5,
                    "delivery_postcode": "21000", "window_start": "2027-03-01",
                    "window_end": "2027-06-30", "submit": true,
                }))
                .await;
            match sent {
                Ok(response) if response.status().as_u16() == 201 => {
                    acked_needs.borrow_mut().push(reference)
                }
                _ if killed.get() => break,
                Ok(response) => panic!("need {i}: {}", response.status()),
                Err(e) => panic!("need {i}: {e}"),
            }
        }
    };
    let bids_stream = async {
        for i in 0.. {
            let cents: i64 = 1_000_000 + i;
            in_flight_price.set(Some(cents));
            let price = format!("{},{:02}", cents / 100, cents % 100);
            let sent = client
                .post(format!("{base}/appels-d-offres/{reference}/lots/1/offre"))
                .insert_header(("Origin", base.as_str()))
                .insert_header(("Cookie", format!("groupement_session={session}")))
                .send_form(&[("csrf_token", csrf.as_str()), ("price_eur", price.as_str())])
                .await;
            match sent {
                Ok(response) if response.status().as_u16() == 201 => acked_price.set(Some(cents)),
                _ if killed.get() => break,
                Ok(response) => panic!("bid {i}: {}", response.status()),
                Err(e) => panic!("bid {i}: {e}"),
            }
        }
    };
    let killer = async {
        while acked_needs.borrow().len() < BEFORE_KILL {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        killed.set(true);
        server.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        server.wait().unwrap();
    };
    tokio::join!(needs_stream, bids_stream, killer);
    let acked = acked_needs.into_inner();
    assert!(acked.len() >= BEFORE_KILL);
    let acked_price = acked_price.get().expect("bids were acknowledged");
    eprintln!(
        "killed after {} needs and {} bid revisions acknowledged",
        acked.len(),
        acked_price - 1_000_000 + 1
    );

    // Restarted on the same database (migrations and start-up recovery run again).
    let mut server = serve(app.database_url(), port, outbox.path());
    wait_until_up(&client, &base).await;
    let mut conn = app.pool.get().unwrap();
    let stored: Vec<String> = needs::table
        .filter(needs::external_ref.like("DUR-%"))
        .select(needs::external_ref.assume_not_null())
        .load(&mut conn)
        .unwrap();
    for reference in &acked {
        assert!(
            stored.contains(reference),
            "acknowledged need {reference} lost"
        );
    }
    assert!(
        stored.len() <= acked.len() + 1,
        "at most the one in flight besides"
    );
    let audited: i64 = audit_log::table
        .filter(audit_log::action.eq("need.created"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let all_needs: i64 = needs::table.count().get_result(&mut conn).unwrap();
    assert_eq!(
        audited, all_needs,
        "every need with its audit entry, none without"
    );
    // The bid is encrypted: the digest of its form, kept beside it, says which was stored.
    let stored: Option<String> = bids::table
        .select(bids::form_sha256)
        .first(&mut conn)
        .unwrap();
    let digest = |cents: i64| groupement::services::receipts::form_digest(cents, "", "");
    assert!(
        stored == Some(digest(acked_price)) || in_flight_price.get().map(digest) == stored,
        "stored {stored:?}, acknowledged {acked_price}"
    );
    let revisions: i64 = audit_log::table
        .filter(audit_log::action.eq_any(["bid.submitted", "bid.revised"]))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let receipts: i64 = notifications::table
        .filter(notifications::template.eq("bid_receipt"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(revisions, receipts, "each revision with its receipt");
    // And the restarted server serves them.
    let listed = client
        .get(format!("{base}/api/v1/needs?per_page=100"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(listed.as_u16(), 200);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[actix_web::test]
async fn acknowledged_writes_survive_a_kill_on_sqlite() {
    acknowledged_writes_survive_a_kill(TestBackend::Sqlite).await;
}

#[actix_web::test]
async fn acknowledged_writes_survive_a_kill_on_postgres() {
    acknowledged_writes_survive_a_kill(TestBackend::Postgres).await;
}
