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
    _database: TestDatabase,
}

pub async fn spawn_app(backend: TestBackend) -> Option<TestApp> {
    let database = TestDatabase::create(backend)?;
    let url = database.url.clone();
    let settings = Settings::from_lookup(|name| match name {
        "GROUPEMENT_DATABASE_URL" => Some(url.clone()),
        "GROUPEMENT_BIND" => Some("127.0.0.1:0".into()),
        _ => None,
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
        _database: database,
    })
}

impl TestApp {
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
