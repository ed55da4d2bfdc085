//! E-mail through a real SMTP conversation: a small SMTP server on 127.0.0.1 started by the
//! test (greeting, EHLO, MAIL, RCPT, DATA, QUIT, as RFC 5321 says) receives what the mail worker
//! sends with lettre. Publication mails reach exactly the expected suppliers; with the server
//! down, mails wait and arrive once each when it is back; two workers on one PostgreSQL
//! database never send a row twice.

use crate::helpers::{spawn_app_with, TestBackend, TestDatabase};
use diesel::prelude::*;
use groupement::db::schema::notifications;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A message as the server received it: envelope recipient, the data, and what the
/// conversation was like (over TLS or not, the credentials given with AUTH PLAIN).
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub data: String,
    pub tls: bool,
    pub login: Option<String>,
}

/// How the test server secures its connections.
#[derive(Clone)]
pub enum Security {
    Plain,
    /// Offers STARTTLS after EHLO and refuses mail until the client has upgraded.
    StartTls(Arc<rustls::ServerConfig>),
    /// TLS from the first byte (`smtps://`).
    Implicit(Arc<rustls::ServerConfig>),
}

impl Security {
    /// The test certificate (`tests/fixtures/tls`: `localhost` and 127.0.0.1, signed by a test
    /// authority whose key was thrown away).
    fn config() -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
        let chain = vec![
            CertificateDer::from_pem_file(format!("{dir}/server.pem")).unwrap(),
            CertificateDer::from_pem_file(format!("{dir}/ca.pem")).unwrap(),
        ];
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }

    pub fn start_tls() -> Self {
        Security::StartTls(Self::config())
    }

    pub fn implicit() -> Self {
        Security::Implicit(Self::config())
    }
}

pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmtpServer {
    pub fn start(port: u16) -> SmtpServer {
        Self::start_with(port, Arc::new(Mutex::new(Vec::new())), Security::Plain)
    }

    pub fn start_secured(security: Security) -> SmtpServer {
        Self::start_with(0, Arc::new(Mutex::new(Vec::new())), security)
    }

    fn start_with(
        port: u16,
        received: Arc<Mutex<Vec<Received>>>,
        security: Security,
    ) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP test server");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, store) = (stop.clone(), received.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let (store, security) = (store.clone(), security.clone());
                    std::thread::spawn(move || {
                        let _ = serve(stream, &store, &security);
                    });
                }
            }
        });
        SmtpServer {
            port,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops listening (connections are refused until it starts again on the same port).
    pub fn stop(mut self) -> Arc<Mutex<Vec<Received>>> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.received.clone()
    }

    pub fn restart(port: u16, received: Arc<Mutex<Vec<Received>>>) -> SmtpServer {
        Self::start_with(port, received, Security::Plain)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// One connection: plain, upgraded by STARTTLS, or TLS from the start.
fn serve(
    stream: TcpStream,
    store: &Mutex<Vec<Received>>,
    security: &Security,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let tls = |config: &Arc<rustls::ServerConfig>, stream: TcpStream| {
        let connection =
            rustls::ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
        Ok::<_, std::io::Error>(BufReader::new(rustls::StreamOwned::new(connection, stream)))
    };
    // The greeting opens a session; after STARTTLS the client speaks first (EHLO again).
    fn greet<S: std::io::Read + Write>(reader: &mut BufReader<S>) -> std::io::Result<()> {
        reader
            .get_mut()
            .write_all(b"220 groupement-test ESMTP\r\n")?;
        reader.get_mut().flush()
    }
    match security {
        Security::Plain => {
            let mut plain = BufReader::new(stream);
            greet(&mut plain)?;
            converse(&mut plain, store, Offer::Nothing).map(drop)
        }
        Security::Implicit(config) => {
            let mut secured = tls(config, stream)?;
            greet(&mut secured)?;
            converse(&mut secured, store, Offer::Encrypted).map(drop)
        }
        Security::StartTls(config) => {
            let mut plain = BufReader::new(stream);
            greet(&mut plain)?;
            if converse(&mut plain, store, Offer::StartTls)? == Ending::StartTls {
                let mut secured = tls(config, plain.into_inner())?;
                converse(&mut secured, store, Offer::Encrypted)?;
            }
            Ok(())
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// A plain server: no STARTTLS.
    Nothing,
    /// Plain for now, STARTTLS offered and required before MAIL.
    StartTls,
    /// Already encrypted.
    Encrypted,
}

#[derive(PartialEq, Eq)]
enum Ending {
    Quit,
    StartTls,
}

fn converse<S: std::io::Read + Write>(
    reader: &mut BufReader<S>,
    store: &Mutex<Vec<Received>>,
    offer: Offer,
) -> std::io::Result<Ending> {
    let mut to = Vec::new();
    let mut login = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(Ending::Quit);
        }
        let writer = reader.get_mut();
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            let extensions = match offer {
                Offer::StartTls => "250-STARTTLS\r\n",
                Offer::Encrypted => "250-AUTH PLAIN\r\n",
                Offer::Nothing => "",
            };
            write!(
                writer,
                "250-groupement-test\r\n{extensions}250 8BITMIME\r\n"
            )?;
        } else if command == "STARTTLS" && offer == Offer::StartTls {
            writer.write_all(b"220 Ready to start TLS\r\n")?;
            writer.flush()?;
            return Ok(Ending::StartTls);
        } else if command.starts_with("AUTH PLAIN ") {
            login = Some(decode_plain(&line.trim_end()[11..]));
            writer.write_all(b"235 Authentication succeeded\r\n")?;
        } else if command.starts_with("MAIL FROM") && offer == Offer::StartTls {
            writer.write_all(b"530 Must issue a STARTTLS command first\r\n")?;
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL FROM")
            || command.starts_with("RSET")
            || command.starts_with("NOOP")
        {
            writer.write_all(b"250 OK\r\n")?;
        } else if command.starts_with("RCPT TO") {
            to.push(
                line.trim_end()[8..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_string(),
            );
            writer.write_all(b"250 OK\r\n")?;
        } else if command == "DATA" {
            writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            writer.flush()?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(Ending::Quit);
                }
                if line == ".\r\n" {
                    break;
                }
                // Dot-stuffing (RFC 5321 §4.5.2): a line the client began with a dot has a
                // second one that the receiver takes away.
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().unwrap().push(Received {
                to: to.join(","),
                data,
                tls: offer == Offer::Encrypted,
                login: login.clone(),
            });
            to.clear();
            reader.get_mut().write_all(b"250 OK queued\r\n")?;
        } else if command == "QUIT" {
            writer.write_all(b"221 Bye\r\n")?;
            writer.flush()?;
            return Ok(Ending::Quit);
        } else {
            writer.write_all(b"502 Command not implemented\r\n")?;
        }
        reader.get_mut().flush()?;
    }
}

/// The `user:password` of an AUTH PLAIN answer (base64 of `\0user\0password`).
fn decode_plain(text: &str) -> String {
    let bytes = crate::browser::base64_decode(text.trim());
    let text = String::from_utf8(bytes).unwrap();
    let mut parts = text.split('\0').skip(1);
    format!(
        "{}:{}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    )
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out: {what}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn reset_requests(app: &crate::helpers::TestApp, emails: &[&str]) {
    for email in emails {
        let (cookie, csrf) = crate::helpers::anonymous_csrf(app).await;
        let answer = crate::helpers::post_form(
            app,
            "/mot-de-passe-oublie",
            &cookie,
            None,
            &[("csrf_token", &csrf), ("email", email)],
        )
        .await;
        assert_eq!(answer.status, 200);
    }
}

fn add_users(app: &crate::helpers::TestApp, emails: &[&str]) {
    use groupement::db::models::NewUser;
    use groupement::db::schema::users;
    for email in emails {
        diesel::insert_into(users::table)
            .values(NewUser {
                email,
                password_hash: "x",
                display_name: "Quelqu'un",
                role: "admin",
                organisation_id: None,
                supplier_id: None,
                email_verified_at: None,
            })
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    }
}

async fn smtp_mail_survives_an_outage(backend: TestBackend) {
    let port = free_port();
    let server = SmtpServer::start(port);
    let Some(app) = spawn_app_with(
        backend,
        &[("GROUPEMENT_SMTP_URL", format!("smtp://127.0.0.1:{port}"))],
    )
    .await
    else {
        return;
    };
    add_users(
        &app,
        &["un@example.fr", "deux@example.fr", "trois@example.fr"],
    );

    // Up: a reset mail goes through SMTP, with its text and HTML parts.
    reset_requests(&app, &["un@example.fr"]).await;
    wait_until("the first mail", || server.messages().len() == 1).await;
    let first = &server.messages()[0];
    assert_eq!(first.to, "un@example.fr");
    assert!(first.data.contains("multipart/alternative") && first.data.contains("text/html"));
    assert!(first.data.contains("/mot-de-passe/nouveau?jeton="));

    // Down: the mails wait in the outbox, their failures recorded.
    let received = server.stop();
    reset_requests(&app, &["deux@example.fr", "trois@example.fr"]).await;
    let pool = app.pool.clone();
    wait_until("failed attempts recorded", || {
        notifications::table
            .filter(notifications::status.eq("pending"))
            .filter(notifications::attempts.ge(1))
            .filter(notifications::last_error.is_not_null())
            .count()
            .get_result::<i64>(&mut pool.get().unwrap())
            .unwrap()
            == 2
    })
    .await;
    assert_eq!(received.lock().unwrap().len(), 1);

    // Back: once their back-off is over (brought forward here), each arrives once.
    let server = SmtpServer::restart(port, received);
    diesel::update(notifications::table.filter(notifications::status.eq("pending")))
        .set(notifications::next_attempt_at.eq(chrono::Utc::now().naive_utc()))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    wait_until("the two waiting mails", || server.messages().len() == 3).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mut to: Vec<String> = server.messages().iter().map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        ["deux@example.fr", "trois@example.fr", "un@example.fr"],
        "each once, none twice"
    );
    let sent: i64 = notifications::table
        .filter(notifications::status.eq("sent"))
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(sent, 3);
    server.stop();
}

#[actix_web::test]
async fn smtp_mail_survives_an_outage_on_sqlite() {
    smtp_mail_survives_an_outage(TestBackend::Sqlite).await;
}

#[actix_web::test]
async fn smtp_mail_survives_an_outage_on_postgres() {
    smtp_mail_survives_an_outage(TestBackend::Postgres).await;
}

#[test]
fn two_workers_on_postgres_never_send_a_row_twice() {
    let Some(database) = TestDatabase::create(TestBackend::Postgres) else {
        return;
    };
    let server = SmtpServer::start(0);
    let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = groupement::db::open(&url).unwrap();
    {
        let mut conn = pool.get().unwrap();
        for i in 0..60 {
            groupement::mail::enqueue(
                &mut conn,
                &format!("fournisseur{i}@example.fr"),
                "password_reset",
                &serde_json::json!({ "name": "X", "link": "http://x", "hours": 1 }),
                &format!("test:{i}"),
            )
            .unwrap();
        }
    }
    let settings = groupement::Settings::from_lookup(|name| match name {
        "GROUPEMENT_DATABASE_URL" => Some(database.url.clone()),
        "GROUPEMENT_SMTP_URL" => Some(format!("smtp://127.0.0.1:{}", server.port)),
        _ => None,
    })
    .unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let worker = groupement::mail::worker::Worker::new(&settings).unwrap();
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut sent = 0;
                for _ in 0..20 {
                    sent += worker.run_once(&pool).unwrap().sent;
                }
                sent
            })
        })
        .collect();
    let sent: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(sent.iter().sum::<usize>(), 60, "{sent:?}");
    let messages = server.messages();
    assert_eq!(messages.len(), 60);
    let mut recipients: Vec<&str> = messages.iter().map(|m| m.to.as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!(recipients.len(), 60, "no recipient got a row twice");
    server.stop();
}

/// A fresh database holding one password-reset e-mail to `fournisseur@example.fr`.
fn database_with_one_mail(backend: TestBackend) -> Option<(TestDatabase, groupement::db::Pool)> {
    let database = TestDatabase::create(backend)?;
    let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = groupement::db::open(&url).unwrap();
    groupement::mail::enqueue(
        &mut pool.get().unwrap(),
        "fournisseur@example.fr",
        "password_reset",
        &serde_json::json!({ "name": "X", "link": "http://x", "hours": 1 }),
        "test:one",
    )
    .unwrap();
    Some((database, pool))
}

/// One password-reset row in a fresh database, sent by a worker configured with `smtp_url`;
/// returns the round and the row's last error.
fn send_one(
    smtp_url: &str,
    ca_file: bool,
) -> Option<(groupement::mail::worker::Round, Option<String>)> {
    let (database, pool) = database_with_one_mail(TestBackend::Sqlite)?;
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let settings = groupement::Settings::from_lookup(|name| match name {
        "GROUPEMENT_DATABASE_URL" => Some(database.url.clone()),
        "GROUPEMENT_SMTP_URL" => Some(smtp_url.to_string()),
        "GROUPEMENT_SMTP_CA_FILE" if ca_file => Some(ca.to_string()),
        _ => None,
    })
    .unwrap();
    let worker = groupement::mail::worker::Worker::new(&settings).unwrap();
    let round = worker.run_once(&pool).unwrap();
    let error: Option<String> = notifications::table
        .select(notifications::last_error)
        .first(&mut pool.get().unwrap())
        .unwrap();
    Some((round, error))
}

#[test]
fn starttls_with_credentials_reaches_a_relay_signed_by_a_private_authority() {
    let server = SmtpServer::start_secured(Security::start_tls());
    let url = format!(
        "smtp://alerte%40chu:s%C3%A9same@localhost:{}?tls=required",
        server.port
    );
    let Some((round, error)) = send_one(&url, true) else {
        return;
    };
    assert_eq!(round.sent, 1, "{error:?}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].tls,
        "the message went over the upgraded connection"
    );
    assert_eq!(messages[0].login.as_deref(), Some("alerte@chu:sésame"));
    assert_eq!(messages[0].to, "fournisseur@example.fr");
    server.stop();
}

#[test]
fn implicit_tls_reaches_the_relay_and_an_unknown_authority_is_refused() {
    let server = SmtpServer::start_secured(Security::implicit());
    let url = format!("smtps://127.0.0.1:{}", server.port);
    let Some((round, error)) = send_one(&url, true) else {
        return;
    };
    assert_eq!(round.sent, 1, "{error:?}");
    assert!(server.messages()[0].tls);

    // Without the private authority the relay's certificate is not trusted: nothing is sent,
    // the row waits for a retry with the reason.
    let (round, error) = send_one(&url, false).unwrap();
    assert_eq!((round.sent, round.retried), (0, 1));
    let error = error.unwrap_or_default();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert_eq!(server.messages().len(), 1);
    server.stop();
}

#[test]
fn a_relay_without_starttls_is_refused_when_tls_is_required() {
    let server = SmtpServer::start(0);
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    let Some((round, error)) = send_one(&url, true) else {
        return;
    };
    assert_eq!(round.sent, 0, "never sent in clear when TLS is required");
    assert!(error.is_some());
    assert!(server.messages().is_empty());
    server.stop();
}

/// Compares `actual` with the snapshot file `tests/snapshots/<name>`; with
/// `GROUPEMENT_UPDATE_SNAPSHOTS=1` the file is (re)written instead, to be reviewed in the diff.
fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("GROUPEMENT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with GROUPEMENT_UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its snapshot from line {}:\n--- expected\n{}\n--- actual\n{}",
            line + 1,
            expected
                .lines()
                .skip(line)
                .take(5)
                .collect::<Vec<_>>()
                .join("\n"),
            actual
                .lines()
                .skip(line)
                .take(5)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

/// What changes from run to run taken out of a message: the portal's port, one-time tokens,
/// the deadline (forty days from today).
fn redacted(text: &str, address: &str, deadlines: &[String]) -> String {
    let mut text = text.replace(address, "http://portail.test");
    for deadline in deadlines {
        text = text.replace(deadline.as_str(), "<DATE LIMITE>");
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    // (`=` is written `&#x3D;` in the HTML part.)
    while let Some((at, key)) = ["jeton=", "jeton&#x3D;"]
        .iter()
        .filter_map(|key| rest.find(key).map(|at| (at, key.len())))
        .min()
    {
        out.push_str(&rest[..at + key]);
        out.push_str("<JETON>");
        rest = rest[at + key..]
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    out.push_str(rest);
    out
}

/// Publication through the real SMTP server: exactly the two territorial suppliers whose
/// interests match get a notice at once — one in French, one in English as it chose — each
/// message as in its snapshot; the supplier outside the territory is scheduled two days later;
/// nothing for a supplier selling something else or one that opted out.
async fn publication_mails_match_their_snapshots(backend: TestBackend) {
    use crate::bids;
    use groupement::db::models::NewSupplierCpv;
    use groupement::db::schema::{supplier_cpv, suppliers, tenders};
    let server = SmtpServer::start(0);
    let Some(app) = spawn_app_with(
        backend,
        &[(
            "GROUPEMENT_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )],
    )
    .await
    else {
        return;
    };
    let interest = |supplier: i32, prefix: &str| {
        diesel::insert_into(supplier_cpv::table)
            .values(NewSupplierCpv {
                supplier_id: supplier,
                cpv_prefix: prefix,
            })
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    };
    let alpha = bids::supplier(&app, "24210041000123", "Alpha");
    let beta = bids::supplier(&app, "21210231500017", "Beta");
    let gamma = bids::supplier(&app, "21210001700017", "Gamma");
    let delta = bids::supplier(&app, "21210002500019", "Delta");
    let lyon = bids::supplier(&app, "21690123100011", "Lyon");
    interest(alpha, "30");
    interest(beta, "3019");
    interest(gamma, "33");
    interest(delta, "30");
    interest(lyon, "30");
    let mut conn = app.pool.get().unwrap();
    diesel::update(suppliers::table.find(beta))
        .set(suppliers::locale.eq("en"))
        .execute(&mut conn)
        .unwrap();
    diesel::update(suppliers::table.find(delta))
        .set(suppliers::opt_in.eq(false))
        .execute(&mut conn)
        .unwrap();
    diesel::update(suppliers::table.find(lyon))
        .set((
            suppliers::department_code.eq("69"),
            suppliers::postcode.eq("69001"),
        ))
        .execute(&mut conn)
        .unwrap();
    drop(conn);

    let (reference, ..) = bids::published(&app);
    // (The lead's approval request of the acceptance goes out too: notices only here.)
    let notices = || -> Vec<Received> {
        server
            .messages()
            .into_iter()
            .filter(|m| m.data.contains("List-Unsubscribe-Post"))
            .collect()
    };
    wait_until("two notices", || notices().len() >= 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let mut messages = notices();
    messages.sort_by(|a, b| a.to.cmp(&b.to));
    let recipients: Vec<&str> = messages.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(recipients, ["alpha@example.fr", "beta@example.fr"]);
    let scheduled: Vec<(String, chrono::NaiveDateTime)> = notifications::table
        .filter(notifications::status.eq("pending"))
        .select((notifications::recipient, notifications::next_attempt_at))
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0].0, "lyon@example.fr");
    assert!(scheduled[0].1 > chrono::Utc::now().naive_utc() + chrono::Duration::days(1));

    let deadline: chrono::NaiveDateTime = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::deadline.assume_not_null())
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let deadlines = [
        groupement::domain::Locale::Fr.moment(deadline),
        groupement::domain::Locale::En.moment(deadline),
    ];
    for (message, name) in messages
        .iter()
        .zip(["publication.fr.txt", "publication.en.txt"])
    {
        let mail = crate::helpers::Mail::parse(message.data.as_bytes());
        let header = |name: &str| mail.header(name).unwrap_or_else(|| "(absent)".into());
        let shown = format!(
            "To: {}\nSubject: {}\nList-Unsubscribe: {}\nList-Unsubscribe-Post: {}\n\n--- text/plain\n{}\n--- text/html\n{}",
            mail.to,
            mail.subject,
            header("List-Unsubscribe"),
            header("List-Unsubscribe-Post"),
            mail.text.replace("\r\n", "\n").trim_end(),
            mail.html.replace("\r\n", "\n").trim_end(),
        );
        assert_snapshot(name, &redacted(&shown, &app.address, &deadlines));
    }
    server.stop();
}

#[actix_web::test]
async fn publication_mails_match_their_snapshots_on_sqlite() {
    publication_mails_match_their_snapshots(TestBackend::Sqlite).await;
}

#[actix_web::test]
async fn publication_mails_match_their_snapshots_on_postgres() {
    publication_mails_match_their_snapshots(TestBackend::Postgres).await;
}

#[test]
fn the_mail_worker_runs_alone_from_the_command_line() {
    let Some((database, _pool)) = database_with_one_mail(TestBackend::Sqlite) else {
        return;
    };
    let server = SmtpServer::start(0);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
        .args(["mail-worker", "--once"])
        .env("GROUPEMENT_DATABASE_URL", &database.url)
        .env(
            "GROUPEMENT_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "sent 1, to retry 0, failed 0"
    );
    assert_eq!(server.messages().len(), 1);
    assert_eq!(server.messages()[0].to, "fournisseur@example.fr");
    server.stop();
}
