use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use groupement::db;
use groupement::{Application, Settings};
use std::io::Write;
use std::sync::Once;

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on (an admin URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`).
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("GROUPEMENT_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// Says once, on the real stderr (not captured), that PostgreSQL tests are skipped; fails
/// instead when `GROUPEMENT_TEST_REQUIRE_POSTGRES` is set, as CI does.
pub fn postgres_or_skip() -> Option<String> {
    static WARN: Once = Once::new();
    let url = postgres_admin_url();
    if url.is_none() {
        assert!(
            std::env::var_os("GROUPEMENT_TEST_REQUIRE_POSTGRES").is_none(),
            "GROUPEMENT_TEST_REQUIRE_POSTGRES is set but GROUPEMENT_TEST_POSTGRES_URL is not"
        );
        WARN.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** PostgreSQL tests SKIPPED: set GROUPEMENT_TEST_POSTGRES_URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them ***\n"
            );
        });
    }
    url
}

/// A database of its own for one test, dropped at the end.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// `None` when the backend is PostgreSQL and no server is configured.
    pub fn create(backend: TestBackend) -> Option<TestDatabase> {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("groupement.db");
                Some(TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            TestBackend::Postgres => {
                let admin = postgres_or_skip()?;
                let name = format!("groupement_test_{}", unique_suffix());
                let mut conn = PgConnection::establish(&admin).expect("connect to PostgreSQL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let url = replace_database(&admin, &name);
                Some(TestDatabase {
                    url,
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The same server URL with another database name.
pub fn replace_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("PostgreSQL URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// The real application on a free port, with its own database.
pub struct TestApp {
    pub address: String,
    pub pool: db::Pool,
    pub client: awc::Client,
    /// Where the mail worker writes the e-mails (no SMTP relay in these tests).
    pub outbox: tempfile::TempDir,
    _database: TestDatabase,
}

pub async fn spawn_app(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// The application with more settings (`GROUPEMENT_SMTP_URL`, …).
pub async fn spawn_app_with(backend: TestBackend, extra: &[(&str, String)]) -> Option<TestApp> {
    // The opening keys' passphrases derived with a small scrypt factor (the portal's default
    // costs about half a second each, by design).
    groupement::services::seal::set_work_factor(10);
    let database = TestDatabase::create(backend)?;
    let url = database.url.clone();
    let outbox = tempfile::tempdir().expect("outbox dir");
    let outbox_path = outbox.path().display().to_string();
    let settings = Settings::from_lookup(|name| match name {
        "GROUPEMENT_DATABASE_URL" => Some(url.clone()),
        "GROUPEMENT_BIND" => Some("127.0.0.1:0".into()),
        "GROUPEMENT_OUTBOX_DIR" => Some(outbox_path.clone()),
        "GROUPEMENT_MAIL_POLL_MS" => Some("50".into()),
        // The tests tell the suppliers of the programme themselves, when they mean to.
        "GROUPEMENT_PROGRAMME_ALERTS" => Some("0".into()),
        other => extra
            .iter()
            .find(|(name, _)| *name == other)
            .map(|(_, value)| value.clone()),
    })
    .expect("test settings");
    let database_url = settings.database_url.clone();
    let pool = actix_web::rt::task::spawn_blocking(move || db::open(&database_url))
        .await
        .expect("join")
        .expect("open test database");
    let app = Application::build(settings, pool.clone()).expect("build app");
    let address = app.url();
    actix_web::rt::spawn(app.into_server());
    Some(TestApp {
        address,
        pool,
        client: awc::Client::builder()
            .disable_redirects()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        outbox,
        _database: database,
    })
}

impl TestApp {
    /// The database this app runs on (another process can serve it too).
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let mut response = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request");
        let body = response.body().limit(10 << 20).await.expect("body");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (
            response.status().as_u16(),
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }
}

/// Declares an async test run once per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::helpers::{spawn_app, TestBackend};

            async fn run(backend: TestBackend) {
                let Some($app) = spawn_app(backend).await else {
                    return;
                };
                $body
            }

            #[actix_web::test]
            async fn sqlite() {
                run(TestBackend::Sqlite).await;
            }

            #[actix_web::test]
            async fn postgres() {
                run(TestBackend::Postgres).await;
            }
        }
    };
}

/// Runs the `groupement` binary in `dir`.
pub fn groupement(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run groupement")
}

/// The session token in a `Set-Cookie` header ("" when none).
pub fn token_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("groupement_session="))
        .unwrap_or_default()
        .to_string()
}

/// The home page as the holder of a session token sees it.
pub async fn home_as(app: &TestApp, token: &str) -> String {
    let mut response = app
        .client
        .get(format!("{}/", app.address))
        .insert_header(("Cookie", format!("groupement_session={token}")))
        .send()
        .await
        .expect("request");
    String::from_utf8_lossy(&response.body().await.expect("body")).into_owned()
}

/// The anti-forgery token written into a page's forms ("" when none).
pub fn csrf_in(page: &str) -> String {
    page.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// What a request got back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub location: String,
    pub content_type: String,
    pub cache_control: String,
    pub body: String,
}

impl Answer {
    /// A header the tests read (only `cache-control` is kept; "" when absent).
    pub fn header(&self, name: &str) -> String {
        match name {
            "cache-control" => self.cache_control.clone(),
            other => panic!("the header {other} is not kept by Answer"),
        }
    }

    /// The value the response set for a cookie ("" when none).
    pub fn cookie(&self, name: &str) -> String {
        self.set_cookies
            .iter()
            .filter_map(|c| c.split(';').next())
            .filter_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .next_back()
            .unwrap_or_default()
            .to_string()
    }
}

async fn answer(
    mut response: awc::ClientResponse<
        impl futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    >,
) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (location, content_type) = (header("location"), header("content-type"));
    let cache_control = header("cache-control");
    let set_cookies = response
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let body = response.body().limit(10 << 20).await.expect("body");
    Answer {
        status: response.status().as_u16(),
        set_cookies,
        location,
        content_type,
        cache_control,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// GET with a `Cookie` header ("" for none).
pub async fn get_with(app: &TestApp, path: &str, cookie: &str) -> Answer {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if !cookie.is_empty() {
        request = request.insert_header(("Cookie", cookie.to_string()));
    }
    answer(request.send().await.expect("request")).await
}

/// POSTs a form with a `Cookie` header ("" for none) and an `Origin` (the portal's own when
/// `None`).
pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> Answer {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .insert_header(("Origin", origin.unwrap_or(app.address.as_str())));
    if !cookie.is_empty() {
        request = request.insert_header(("Cookie", cookie.to_string()));
    }
    answer(request.send_form(&form).await.expect("request")).await
}

/// A visitor's anti-forgery pair for forms posted before signing in: the `Cookie` header to
/// send back and the form token.
pub async fn anonymous_csrf(app: &TestApp) -> (String, String) {
    let page = get_with(app, "/connexion", "").await;
    let cookie = page.cookie("groupement_csrf");
    assert_eq!(
        cookie.len(),
        64,
        "no anti-forgery cookie: {:?}",
        page.set_cookies
    );
    assert_eq!(csrf_in(&page.body), cookie);
    (format!("groupement_csrf={cookie}"), cookie)
}

/// Posts the sign-in form as a browser would (anti-forgery cookie and field, own origin).
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Answer {
    let (cookie, csrf) = anonymous_csrf(app).await;
    post_form(
        app,
        "/connexion",
        &cookie,
        None,
        &[
            ("csrf_token", &csrf),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

/// A signed-in browser: its session cookie and the anti-forgery token of its forms.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub csrf: String,
}

impl Session {
    pub fn cookie(&self) -> String {
        format!("groupement_session={}", self.token)
    }
}

/// Signs in and returns the session; panics when the credentials are refused.
pub async fn session_of(app: &TestApp, email: &str, password: &str) -> Session {
    let answer = sign_in(app, email, password).await;
    let token = answer.cookie("groupement_session");
    assert_eq!(
        answer.status, 303,
        "{email} could not sign in: {}",
        answer.body
    );
    let csrf = csrf_in(&home_as(app, &token).await);
    Session { token, csrf }
}

/// An e-mail the worker wrote to the outbox, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The message as written, headers included.
    pub raw: String,
}

impl Mail {
    /// The first link of the text part that starts with `prefix` (an absolute URL).
    pub fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link {prefix} in {}", self.text))
            .to_string()
    }
}

/// Every e-mail in the outbox, oldest first.
pub fn outbox(app: &TestApp) -> Vec<Mail> {
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> =
        std::fs::read_dir(app.outbox.path())
            .expect("outbox")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .map(|p| (p.metadata().and_then(|m| m.modified()).expect("mtime"), p))
            .collect();
    files.sort();
    // A file the worker is still writing does not parse yet: it is read on the next look.
    files
        .into_iter()
        .filter_map(|(_, path)| Mail::try_parse(&std::fs::read(&path).expect("read mail")))
        .collect()
}

impl Mail {
    /// A message as written to a file or received over SMTP.
    pub fn parse(bytes: &[u8]) -> Mail {
        Mail::try_parse(bytes).expect("a parsable e-mail")
    }

    /// [`Mail::parse`], or `None` for bytes that are not (yet) a whole message.
    pub fn try_parse(bytes: &[u8]) -> Option<Mail> {
        let message = mail_parser::MessageParser::default().parse(bytes)?;
        // A message cut in the middle of its writing has no body yet.
        message.body_text(0)?;
        Some(Mail {
            to: message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string(),
            subject: message.subject().unwrap_or_default().to_string(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            raw: String::from_utf8_lossy(bytes).into_owned(),
        })
    }

    /// A header's value as written (unfolded), when present.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        message
            .header_raw(name)
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// Waits (up to 10 s) until the outbox holds an e-mail to `to` whose text contains `text`, and
/// returns it.
pub async fn wait_for_mail_to(app: &TestApp, to: &str, text: &str) -> Mail {
    for _ in 0..200 {
        if let Some(mail) = outbox(app)
            .into_iter()
            .find(|m| m.to == to && m.text.contains(text))
        {
            return mail;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no e-mail to {to} with « {text} » in the outbox");
}

/// Waits (up to 10 s) until the outbox holds `count` e-mails, and returns them.
pub async fn wait_for_mails(app: &TestApp, count: usize) -> Vec<Mail> {
    for _ in 0..200 {
        let mails = outbox(app);
        if mails.len() >= count {
            return mails;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} e-mails, the outbox has {}",
        outbox(app).len()
    );
}

/// The path and query of an absolute link to the portal.
pub fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{link} is not a link to {}", app.address))
        .to_string()
}

/// A file sent by a form (`multipart/form-data`, field `fichier`) as a browser sends it.
pub async fn upload_file(
    app: &TestApp,
    session: &Session,
    path: &str,
    name: &str,
    bytes: &[u8],
) -> Answer {
    upload_form(app, session, path, &[], Some((name, bytes))).await
}

/// A `multipart/form-data` form as a browser sends it: its text fields, then its file (field
/// `fichier`) if any — a file input left empty is sent with an empty name and no content.
pub async fn upload_form(
    app: &TestApp,
    session: &Session,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Answer {
    let boundary = "----groupement-test-boundary";
    let mut body = Vec::new();
    let csrf = [("csrf_token", session.csrf.as_str())];
    for (name, value) in csrf.iter().chain(fields) {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (name, bytes) = file.unwrap_or(("", b""));
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .insert_header(("Origin", app.address.as_str()))
        .insert_header(("Cookie", session.cookie()))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .send_body(body)
        .await
        .expect("request");
    answer(response).await
}

/// What the admin fills before the first tender above the EU thresholds: each organisation's
/// SIRET (made up, its key valid), address, telephone and e-mail, and the review body's SIRET —
/// without which such a tender's publication is refused (its eForms notice would break rules).
pub fn complete_for_eu_notices(pool: &groupement::db::Pool) {
    use diesel::prelude::*;
    use groupement::db::schema::{organisations, platform_settings};
    fn with_key(base: u64) -> String {
        let body = format!("{base:013}");
        (0..10)
            .map(|k| format!("{body}{k}"))
            .find(|s| groupement::domain::Siret::parse(s).is_ok())
            .unwrap()
    }
    let mut conn = pool.get().unwrap();
    let ids: Vec<(i32, String)> = organisations::table
        .select((organisations::id, organisations::code))
        .load(&mut conn)
        .unwrap();
    for (id, code) in ids {
        diesel::update(organisations::table.find(id))
            .set((
                organisations::siret.eq(with_key(2_621_000_010_000 + 10 * id as u64)),
                organisations::street.eq("1 rue de la Liberté"),
                organisations::postcode.eq("21000"),
                organisations::city.eq("Dijon"),
                organisations::phone.eq("+33 3 53 01 00 00"),
                organisations::email.eq(format!("achats.{}@example.fr", code.to_lowercase())),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    diesel::insert_into(platform_settings::table)
        .values((
            platform_settings::key.eq("review_body_id"),
            platform_settings::value.eq(with_key(1_721_000_040_001)),
            platform_settings::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(&mut conn)
        .unwrap();
}
