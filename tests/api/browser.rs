//! The portal in a real browser: headless Chromium driven through chromedriver's WebDriver
//! protocol (plain HTTP, so no extra crate). A lead signs in through the form, opens the
//! pooling proposal (screenshot kept as a test artifact), and the need form's CPV picker and
//! draft autosave work under the portal's Content-Security-Policy.
//!
//! Needs `chromium` and `chromium-driver` (Debian); `.ci/run` installs them and sets
//! `GROUPEMENT_TEST_REQUIRE_BROWSER`, without which a machine lacking them skips loudly.

use crate::helpers::{spawn_app, TestApp, TestBackend};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{organisations, users};
use groupement::domain::hash_password;
use groupement::services::{auth, needs, pooling};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "mot de passe du navigateur";

/// Where screenshots are kept: `<target>/tmp/artifacts/`.
pub fn artifacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

pub fn browser_or_skip() -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var_os("GROUPEMENT_TEST_REQUIRE_BROWSER").is_none(),
            "GROUPEMENT_TEST_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!("\n*** browser tests SKIPPED: install chromium and chromium-driver ***\n");
    }
    present
}

/// A chromedriver process and one browser session.
pub struct Browser {
    driver: Child,
    url: String,
    client: awc::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session is ended first, so that chromedriver closes its Chromium: a killed driver
        // leaves the browser running. (`Drop` cannot await: one plain HTTP request.)
        use std::io::{Read, Write};
        if let Some((address, path)) = self
            .url
            .strip_prefix("http://")
            .and_then(|u| u.split_once('/'))
        {
            if let Ok(mut stream) = std::net::TcpStream::connect(address) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /{path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(mut r) = client.get(format!("{base}/status")).send().await {
                let status: Value = r.json().await.unwrap_or(Value::Null);
                if status["value"]["ready"] == json!(true) {
                    break;
                }
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        // Scripts (axe on a whole page) get two minutes, not WebDriver's 30 s: the 2 cores of CI
        // are shared with every other test and, at times, a C++ build.
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "timeouts": { "script": 120_000 },
            "goog:chromeOptions": { "binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1600", format!("--user-data-dir={}", profile.path().display()),
            ] }
        } } });
        let mut response = client
            .post(format!("{base}/session"))
            .send_json(&capabilities)
            .await
            .unwrap();
        let body: Value = response.json().limit(1 << 20).await.unwrap();
        let session = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_string();
        Browser {
            driver,
            url: format!("{base}/session/{session}"),
            client,
            _profile: profile,
        }
    }

    pub async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.url);
        let mut response = match method {
            "GET" => self.client.get(url).send().await,
            _ => self.client.post(url).send_json(&body).await,
        }
        .unwrap();
        let value: Value = response.json().limit(64 << 20).await.unwrap();
        assert!(value["value"]["error"].is_null(), "{path}: {value}");
        value["value"].clone()
    }

    pub async fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                "POST",
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command("POST", &format!("/element/{element}/click"), json!({}))
            .await;
    }

    pub async fn script(&self, code: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": code, "args": [] }),
        )
        .await
    }

    /// Waits (up to 10 s) until the script returns true.
    pub async fn wait_for(&self, code: &str) {
        for _ in 0..100 {
            if self.script(code).await == json!(true) {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let shown = self
            .script("return location.href + '\\n' + document.body.innerText.slice(0, 800)")
            .await;
        panic!("timed out waiting for {code}; the page: {shown}");
    }

    /// Runs an asynchronous script: its last argument is the callback that returns a value.
    pub async fn async_script(&self, code: &str) -> Value {
        self.command(
            "POST",
            "/execute/async",
            json!({ "script": code, "args": [] }),
        )
        .await
    }

    /// Renders the page as a 390 px wide phone (Chrome's device emulation), or as the desk
    /// again with `None`.
    pub async fn phone(&self, width: Option<u32>) {
        match width {
            Some(width) => {
                self.command(
                    "POST",
                    "/goog/cdp/execute",
                    json!({ "cmd": "Emulation.setDeviceMetricsOverride",
                            "params": { "width": width, "height": 844, "deviceScaleFactor": 1, "mobile": true } }),
                )
                .await
            }
            None => {
                self.command(
                    "POST",
                    "/goog/cdp/execute",
                    json!({ "cmd": "Emulation.clearDeviceMetricsOverride", "params": {} }),
                )
                .await
            }
        };
    }

    /// How much wider than `width` the page is (0 when nothing runs off the screen), with
    /// the first elements that do.
    pub async fn overflow(&self, width: u32) -> (i64, Vec<String>) {
        let found = self
            .script(&format!(
                "const w = {width};
                 const over = document.documentElement.scrollWidth - w;
                 const who = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('table'))
                   .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className);
                 return [over, who];"
            ))
            .await;
        (
            found[0].as_i64().unwrap_or_default().max(0),
            serde_json::from_value(found[1].clone()).unwrap_or_default(),
        )
    }

    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let data = self.command("GET", "/screenshot", Value::Null).await;
        let png = base64_decode(data.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"));
        let path = artifacts().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | value(c) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

/// Two members with needs of one family, a lead, and a proposed run; returns the run's id.
fn proposal(app: &TestApp) -> i32 {
    let mut conn = app.pool.get().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let mut leads = Vec::new();
    for code in ["UB", "CHU"] {
        let org: i32 = diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code,
                name: code,
                siret: None,
                kind: "university",
                buyer_class: "sub_central",
            })
            .returning(organisations::id)
            .get_result(&mut conn)
            .unwrap();
        let email = format!("lead.{}@example.fr", code.to_lowercase());
        diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: &hash,
                display_name: "Responsable",
                role: "lead",
                organisation_id: Some(org),
                supplier_id: None,
                email_verified_at: None,
            })
            .execute(&mut conn)
            .unwrap();
        let session = auth::sign_in(&app.pool, &email, PASSWORD, None).unwrap();
        leads.push(auth::viewer(&app.pool, &session).unwrap().unwrap());
    }
    drop(conn);
    for (viewer, title, quantity) in [
        (&leads[0], "Compresses stériles", "30000"),
        (&leads[1], "Pansements", "12000"),
        (&leads[0], "Bandes", "8000"),
    ] {
        let raw = needs::RawNeed {
            cpv: "33141000".into(),
            title: title.into(),
            quantity: quantity.into(),
            unit: "boîte".into(),
            unit_price_eur: "4,5".into(),
            delivery_postcode: "21000".into(),
            window_start: "01/03/2027".into(),
            window_end: "30/09/2027".into(),
            poolable: "oui".into(),
            ..Default::default()
        };
        needs::create(&app.pool, viewer, &raw, true).unwrap();
    }
    let run = pooling::start(&app.pool, &leads[0], &pooling::RunForm::defaults(2027)).unwrap();
    pooling::execute(&app.pool, run).unwrap();
    run
}

#[actix_web::test]
async fn a_lead_reads_the_proposal_and_fills_a_need_in_a_real_browser() {
    if !browser_or_skip() {
        return;
    }
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let run = proposal(&app);
    let browser = Browser::start().await;

    // Sign in through the form, as a person does.
    browser.go(&format!("{}/connexion", app.address)).await;
    browser.type_into("#email", "lead.ub@example.fr").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for("return document.querySelector('.viewer form') !== null")
        .await;

    // The proposal: KPIs, the frontier of plans and four charts drawn as SVG, the tenders with
    // their lots.
    browser
        .go(&format!("{}/mutualisation/{run}", app.address))
        .await;
    browser
        .wait_for("return document.querySelectorAll('figure svg').length === 5")
        .await;
    // The lead asks for the plan reaching a share of local value: 0 % is reached by every
    // plan, so it is the one with the most savings, the first; the run is computed again (this
    // test app has no worker of its own: the test executes the job) and the page shows it.
    browser.type_into("#part_locale", "0").await;
    browser.click(".share-form button[type=submit]").await;
    browser
        .wait_for("return document.body.innerText.includes('en cours de calcul')")
        .await;
    pooling::execute(&app.pool, run).unwrap();
    browser
        .go(&format!("{}/mutualisation/{run}", app.address))
        .await;
    browser
        .wait_for(
            "return [...document.querySelectorAll('.frontier-table tr.current th')]\
             .some(th => th.innerText.startsWith('1 (choix actuel)'))",
        )
        .await;
    let text = browser.script("return document.body.innerText").await;
    let text = text.as_str().unwrap();
    for expected in [
        "Gain de la mutualisation",
        "D'où vient le gain",
        "Consultations proposées",
        "Accepter la proposition…",
    ] {
        assert!(text.contains(expected), "{expected} missing from the page");
    }
    // One tender of the proposal, reached from its line of the summary.
    browser.click("table.tenders-summary th a").await;
    browser
        .wait_for("return document.body.innerText.includes('Déplacer un besoin')")
        .await;
    // (The needs are in a closed <details>: read from the text content.)
    let text = browser.script("return document.body.textContent").await;
    let text = text.as_str().unwrap();
    for expected in ["Compresses stériles", "Pansements", "coordonnateur"] {
        assert!(
            text.contains(expected),
            "{expected} missing from the tender's page"
        );
    }
    browser.screenshot("proposal-tender.png").await;
    browser
        .go(&format!("{}/mutualisation/{run}", app.address))
        .await;
    // The stylesheet applied (served from the portal itself, allowed by the CSP).
    let styled = browser
        .script("return getComputedStyle(document.querySelector('.site-header')).display")
        .await;
    assert_ne!(styled, json!("inline"));
    let shot = browser.screenshot("proposal.png").await;
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a real picture of the page"
    );

    // The CPV picker (a script of the portal, under the CSP) finds codes by words.
    browser
        .go(&format!("{}/besoins/nouveau", app.address))
        .await;
    browser.type_into("#cpv", "gants chirurgie").await;
    browser
        .wait_for("return document.querySelectorAll('.cpv-option').length > 0")
        .await;
    browser.click(".cpv-option").await;
    let code = browser
        .script("return document.querySelector('#cpv').value")
        .await;
    assert!(code.as_str().unwrap().starts_with("3314"), "{code}");

    // Draft autosave: what was typed comes back after a reload, with a notice.
    browser.type_into("#title", "Gants d'examen").await;
    browser
        .go(&format!("{}/besoins/nouveau", app.address))
        .await;
    browser
        .wait_for("return document.querySelector('#title').value === \"Gants d'examen\"")
        .await;
    let notice = browser
        .script("return document.body.innerText.includes('Brouillon restauré')")
        .await;
    assert_eq!(notice, json!(true));
    browser.screenshot("need-form.png").await;

    // The draft is this person's (the key names them), and signing out clears every draft.
    let keys = browser
        .script(
            "return Object.keys(localStorage).filter(k => k.startsWith('groupement:brouillon:'))",
        )
        .await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = keys[0].as_str().unwrap();
    let person = key
        .trim_start_matches("groupement:brouillon:")
        .split(':')
        .next()
        .unwrap();
    assert!(
        person.len() == 16 && person.chars().all(|c| c.is_ascii_hexdigit()),
        "{key}"
    );
    browser.click(".viewer form button[type=submit]").await;
    browser
        .wait_for("return document.querySelector('.viewer a[href=\"/connexion\"]') !== null")
        .await;
    let left = browser
        .script("return Object.keys(localStorage).filter(k => k.startsWith('groupement:brouillon:')).length")
        .await;
    assert_eq!(left, json!(0), "drafts cleared at sign-out");
}

#[actix_web::test]
async fn a_lead_compares_the_bids_and_reads_the_dashboard_in_a_real_browser() {
    if !browser_or_skip() {
        return;
    }
    use groupement::db::schema::tenders;
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    groupement::demo::seed_if_empty(&mut app.pool.get().unwrap()).unwrap();
    // The demo's closed tender, opened by its coordinator's lead.
    let (tender, coordinator): (i32, String) = tenders::table
        .inner_join(organisations::table)
        .filter(tenders::status.eq("closed"))
        .select((tenders::id, organisations::code))
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let email = format!("lead.{}@demo.groupement.fr", coordinator.to_lowercase());
    let session = auth::sign_in(&app.pool, &email, "demo-groupement", None).unwrap();
    let lead = auth::viewer(&app.pool, &session).unwrap().unwrap();
    // Its bids are encrypted: its members' leads enter their keys (the demo's password is
    // their passphrase), the coordinator's first.
    let members: Vec<String> =
        groupement::db::schema::tender_approvals::table
            .inner_join(organisations::table.on(
                organisations::id.eq(groupement::db::schema::tender_approvals::organisation_id),
            ))
            .filter(groupement::db::schema::tender_approvals::tender_id.eq(tender))
            .filter(organisations::code.ne(&coordinator))
            .select(organisations::code)
            .load(&mut app.pool.get().unwrap())
            .unwrap();
    let key = Some(groupement::services::awards::KeyEntry::Passphrase(
        groupement::demo::DEMO_PASSWORD,
    ));
    let first = groupement::services::awards::open(&app.pool, &lead, tender, key).unwrap();
    assert!(
        matches!(first, groupement::services::awards::Opening::Waiting { .. }),
        "{first:?}"
    );
    let other = format!("lead.{}@demo.groupement.fr", members[0].to_lowercase());
    let session = auth::sign_in(&app.pool, &other, "demo-groupement", None).unwrap();
    let other = auth::viewer(&app.pool, &session).unwrap().unwrap();
    let opened = groupement::services::awards::open(
        &app.pool,
        &other,
        tender,
        Some(groupement::services::awards::KeyEntry::Passphrase(
            groupement::demo::DEMO_PASSWORD,
        )),
    )
    .unwrap();
    assert!(
        matches!(
            opened,
            groupement::services::awards::Opening::Opened { tampered: 0, .. }
        ),
        "{opened:?}"
    );

    let browser = Browser::start().await;
    browser.go(&format!("{}/connexion", app.address)).await;
    browser.type_into("#email", &email).await;
    browser.type_into("#password", "demo-groupement").await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for("return document.querySelector('.viewer form') !== null")
        .await;

    // The comparison: every lot's bids side by side, with their scores (the demo's bids
    // carry marks), one of them the winner.
    browser
        .go(&format!("{}/consultations/{tender}/offres", app.address))
        .await;
    browser
        .wait_for("return document.querySelectorAll('table tbody tr').length > 0")
        .await;
    let text = browser.script("return document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("Critères annoncés") && text.contains("attributaire"),
        "{text}"
    );
    browser.screenshot("comparison.png").await;

    // The dashboard: six charts with their tables, drawn under the CSP.
    browser
        .go(&format!("{}/tableau-de-bord", app.address))
        .await;
    browser
        .wait_for("return document.querySelectorAll('figure.card').length === 6")
        .await;
    let charts = browser
        .script("return document.querySelectorAll('figure.card svg').length")
        .await;
    assert!(charts.as_u64().unwrap() >= 4, "{charts}");
    let shot = browser.screenshot("dashboard.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}
