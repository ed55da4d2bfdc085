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

/// A message as the server received it: envelope recipient and the data.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub data: String,
}

pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmtpServer {
    pub fn start(port: u16) -> SmtpServer {
        Self::start_with(port, Arc::new(Mutex::new(Vec::new())))
    }

    fn start_with(port: u16, received: Arc<Mutex<Vec<Received>>>) -> SmtpServer {
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
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let _ = converse(stream, &store);
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
        Self::start_with(port, received)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn converse(stream: TcpStream, store: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 groupement-test ESMTP\r\n")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            writer.write_all(b"250-groupement-test\r\n250 8BITMIME\r\n")?;
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
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            store.lock().unwrap().push(Received {
                to: to.join(","),
                data,
            });
            to.clear();
            writer.write_all(b"250 OK queued\r\n")?;
        } else if command == "QUIT" {
            writer.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"502 Command not implemented\r\n")?;
        }
    }
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
