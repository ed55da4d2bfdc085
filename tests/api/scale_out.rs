//! The scale-out path, for real: two portal instances and a separate pooling worker (the
//! `groupement` binary, three processes) on one PostgreSQL database, behind haproxy from
//! Debian's packages balancing round robin. The whole browser journey runs through the balancer
//! — sessions, anti-forgery tokens, pooling runs (executed by the worker alone: the portals run
//! none), the outbox — and the sign-in limit holds across the instances.

use crate::browser::browser_or_skip;
use crate::helpers::{postgres_or_skip, TestBackend, TestDatabase};
use crate::smtp::SmtpServer;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Child processes, killed at the end whatever happens.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_up(url: &str) {
    let client = awc::Client::default();
    for _ in 0..300 {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                return;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

fn haproxy_or_skip() -> bool {
    let present = Path::new(HAPROXY).exists();
    if !present {
        assert!(
            std::env::var_os("GROUPEMENT_TEST_REQUIRE_BROWSER").is_none(),
            "GROUPEMENT_TEST_REQUIRE_BROWSER is set but {HAPROXY} is missing (apt-get install haproxy)"
        );
        eprintln!("\n*** scale-out test SKIPPED: install haproxy ***\n");
    }
    present
}

#[actix_web::test]
async fn the_whole_journey_through_a_load_balancer_with_two_instances_and_a_worker() {
    if !browser_or_skip() || !haproxy_or_skip() || postgres_or_skip().is_none() {
        return;
    }
    let database = TestDatabase::create(TestBackend::Postgres).unwrap();
    let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = actix_web::web::block(move || groupement::db::open(&url))
        .await
        .unwrap()
        .unwrap();
    crate::journey::people(&pool);
    let smtp = SmtpServer::start(0);
    let dir = tempfile::tempdir().unwrap();
    let (one, two, balancer) = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{balancer}");
    let groupement = |args: &[&str], log: &str, extra: &[(&str, String)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_groupement"));
        command
            .args(args)
            .current_dir(dir.path())
            .env("GROUPEMENT_DATABASE_URL", &database.url)
            .env("GROUPEMENT_BASE_URL", &base)
            .env(
                "GROUPEMENT_SMTP_URL",
                format!("smtp://127.0.0.1:{}", smtp.port),
            )
            .env("GROUPEMENT_MAIL_POLL_MS", "100")
            .env("GROUPEMENT_PROGRAMME_ALERTS", "0")
            .env("GROUPEMENT_TRUSTED_PROXIES", "127.0.0.1")
            .env("GROUPEMENT_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(log)).unwrap());
        for (name, value) in extra {
            command.env(name, value);
        }
        command.spawn().unwrap()
    };
    let no_worker = [("GROUPEMENT_POOLING_WORKERS", "0".to_string())];
    let mut processes = Processes(Vec::new());
    processes.0.push(groupement(
        &["serve", "--bind", &format!("127.0.0.1:{one}")],
        "one.log",
        &no_worker,
    ));
    processes.0.push(groupement(
        &["serve", "--bind", &format!("127.0.0.1:{two}")],
        "two.log",
        &no_worker,
    ));
    processes.0.push(groupement(&["worker"], "worker.log", &[]));
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "global\n  maxconn 512\n\
             defaults\n  mode http\n  timeout connect 5s\n  timeout client 120s\n  timeout server 120s\n  option forwardfor\n\
             frontend portal\n  bind 127.0.0.1:{balancer}\n  default_backend instances\n\
             backend instances\n  balance roundrobin\n  http-response add-header X-Served-By %[srv_name]\n\
             \x20 server one 127.0.0.1:{one}\n  server two 127.0.0.1:{two}\n"
        ),
    )
    .unwrap();
    processes.0.push(
        Command::new(HAPROXY)
            .args(["-f", &config.display().to_string(), "-db"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("haproxy.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_until_up(&format!("http://127.0.0.1:{one}/healthz")).await;
    wait_until_up(&format!("http://127.0.0.1:{two}/healthz")).await;
    wait_until_up(&format!("{base}/healthz")).await;

    // Round robin: both instances answer through the balancer.
    let client = awc::Client::default();
    let mut served = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let response = client.get(format!("{base}/")).send().await.unwrap();
        served.insert(
            response
                .headers()
                .get("x-served-by")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        served.into_iter().collect::<Vec<_>>(),
        ["one", "two"],
        "both instances serve"
    );

    crate::journey::journey(&base, &pool, &smtp, "balanced").await;

    // The run was executed by the worker (the portals run none).
    let worker_log = std::fs::read_to_string(dir.path().join("worker.log")).unwrap();
    assert!(
        worker_log.contains("pooling worker started"),
        "{worker_log}"
    );
    // The sign-in limit counts the attempts of both instances: the sixth attempt at one account
    // (one nobody used yet) is refused, wherever it lands.
    let limit = groupement::startup::SIGN_IN_ATTEMPTS_PER_MINUTE as usize;
    let mut statuses = Vec::new();
    for _ in 0..=limit {
        let page = client
            .get(format!("{base}/connexion"))
            .send()
            .await
            .unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .strip_prefix("groupement_csrf=")
                    .map(str::to_string)
            })
            .unwrap();
        let response = client
            .post(format!("{base}/connexion"))
            .insert_header(("Origin", base.as_str()))
            .insert_header(("Cookie", format!("groupement_csrf={cookie}")))
            .send_form(&[
                ("csrf_token", cookie.as_str()),
                ("email", "quelquun@example.fr"),
                ("password", "wrong"),
            ])
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..limit], vec![401; limit][..], "{statuses:?}");
    assert_eq!(statuses[limit], 429, "{statuses:?}");
    drop(processes);
    smtp.stop();
}
