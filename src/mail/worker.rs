//! The outbox worker: claims due rows, renders and sends them, and records the outcome.
//!
//! Claiming is one conditional `UPDATE` per row (`… WHERE id = ? AND <still due>`), which both
//! backends run atomically: of several workers (several app instances on one PostgreSQL) only
//! the one whose update touched the row sends it. A claim is a lease: a worker killed while
//! sending leaves a row whose lease runs out and which is then due again. Failures are retried
//! with exponential back-off, and after [`MAX_ATTEMPTS`] the row is `failed` for an admin.

use super::render::MailTemplates;
use crate::db::models::Notification;
use crate::db::schema::notifications;
use crate::db::Pool;
use crate::error::AppError;
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};
use std::path::PathBuf;

/// Attempts before a row is marked `failed`.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim lasts before another worker may take the row again.
const LEASE_SECONDS: i64 = 300;
/// Rows claimed a round.
const BATCH: i64 = 50;

/// Where messages go.
pub enum Transport {
    /// `.eml` files in a folder (no SMTP relay configured).
    Files(PathBuf),
    Smtp(Box<SmtpTransport>),
}

impl Transport {
    /// SMTP when a relay URL is set, otherwise files in `outbox_dir`.
    pub fn from_settings(settings: &crate::Settings) -> Result<Self, String> {
        match &settings.smtp_url {
            Some(url) => smtp_transport(url, settings.smtp_ca_file.as_deref())
                .map(|smtp| Transport::Smtp(Box::new(smtp)))
                .map_err(|e| format!("GROUPEMENT_SMTP_URL: {e}")),
            None => {
                std::fs::create_dir_all(&settings.outbox_dir)
                    .map_err(|e| format!("cannot create {}: {e}", settings.outbox_dir.display()))?;
                Ok(Transport::Files(settings.outbox_dir.clone()))
            }
        }
    }

    fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Transport::Files(dir) => FileTransport::new(dir)
                .send(message)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Smtp(smtp) => smtp.send(message).map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// How the connection to the relay is secured, from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://host` — no TLS (a relay on a trusted network, port 25).
    Plain,
    /// `smtp://host?tls=required` — STARTTLS, refused if the relay does not offer it (587).
    StartTls,
    /// `smtp://host?tls=opportunistic` — STARTTLS when offered (587).
    Opportunistic,
    /// `smtps://host` — TLS from the first byte (465).
    Implicit,
}

impl Security {
    fn of(url: &url::Url) -> Result<Self, String> {
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => Ok(Security::Plain),
            ("smtp", Some("required")) => Ok(Security::StartTls),
            ("smtp", Some("opportunistic")) => Ok(Security::Opportunistic),
            ("smtps", None) => Ok(Security::Implicit),
            (scheme, tls) => Err(format!(
                "{scheme}:// with tls={} is not understood: use smtp://host (plain), \
                 smtp://host?tls=required (STARTTLS) or smtps://host (TLS)",
                tls.unwrap_or_default()
            )),
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls | Security::Opportunistic => 587,
            Security::Implicit => 465,
        }
    }
}

/// An SMTP transport from `smtp[s]://[user:password@]host[:port][?tls=required|opportunistic]`,
/// the relay's certificate checked against the system's authorities and, when given, those of
/// `ca_file` (a private relay's own authority).
fn smtp_transport(text: &str, ca_file: Option<&std::path::Path>) -> Result<SmtpTransport, String> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let security = Security::of(&url)?;
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port().unwrap_or(security.default_port());
    let tls = if security == Security::Plain {
        None
    } else {
        let mut parameters = TlsParameters::builder(host.to_string());
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("GROUPEMENT_SMTP_CA_FILE {}: {e}", path.display()))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| format!("GROUPEMENT_SMTP_CA_FILE {}: {e}", path.display()))?;
            parameters = parameters.add_root_certificate(certificate);
        }
        Some(parameters.build().map_err(|e| e.to_string())?)
    };
    let mut builder = SmtpTransport::builder_dangerous(host).port(port);
    builder = match (security, tls) {
        (Security::StartTls, Some(tls)) => builder.tls(Tls::Required(tls)),
        (Security::Opportunistic, Some(tls)) => builder.tls(Tls::Opportunistic(tls)),
        (Security::Implicit, Some(tls)) => builder.tls(Tls::Wrapper(tls)),
        _ => builder,
    };
    if !url.username().is_empty() {
        let decode = percent_decoded;
        builder = builder.credentials(Credentials::new(
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        ));
    }
    Ok(builder.build())
}

/// `%XX` escapes of a URL's user information decoded (a `+` stays a `+`).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

pub struct Worker {
    pub id: String,
    pub from: Mailbox,
    pub templates: MailTemplates,
    pub transport: Transport,
}

/// The data of a sent e-mail without its single-use link: the link (address verification,
/// password reset, invitation) works once and only from the e-mail, so once the e-mail is
/// sent, its token is kept nowhere in clear — the `link` becomes the page without its token.
pub fn without_secrets(data: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(data) else {
        return data.to_string();
    };
    let secret = value
        .get("link")
        .and_then(|l| l.as_str())
        .and_then(|l| l.split_once("jeton=").map(|(page, _)| page.to_string()));
    match secret {
        Some(page) => {
            value["link"] = serde_json::Value::String(format!("{page}jeton=(envoyé)"));
            value.to_string()
        }
        None => data.to_string(),
    }
}

impl Worker {
    pub fn new(settings: &crate::Settings) -> Result<Self, String> {
        let from = settings
            .mail_from
            .parse::<Mailbox>()
            .map_err(|e| format!("GROUPEMENT_MAIL_FROM: {e}"))?;
        Ok(Self {
            id: format!(
                "{}-{}",
                std::process::id(),
                crate::services::auth::random_token()
            ),
            from,
            templates: MailTemplates::load()?,
            transport: Transport::from_settings(settings)?,
        })
    }

    /// Sends every row that is due now; returns what happened.
    pub fn run_once(&self, pool: &Pool) -> Result<Round, AppError> {
        let mut conn = pool.get()?;
        let now = Utc::now().naive_utc();
        let candidates: Vec<i32> = notifications::table
            .filter(due(now))
            .order(notifications::id)
            .select(notifications::id)
            .limit(BATCH)
            .load(&mut conn)?;
        let mut round = Round::default();
        for id in candidates {
            let now = Utc::now().naive_utc();
            let claimed = diesel::update(notifications::table.find(id).filter(due(now)))
                .set((
                    notifications::status.eq("sending"),
                    notifications::locked_by.eq(&self.id),
                    notifications::locked_until.eq(now + Duration::seconds(LEASE_SECONDS)),
                    notifications::attempts.eq(notifications::attempts + 1),
                ))
                .execute(&mut conn)?;
            if claimed != 1 {
                continue; // another worker has it
            }
            let row: Notification = notifications::table
                .find(id)
                .select(Notification::as_select())
                .first(&mut conn)?;
            let outcome = self.message(&row).and_then(|m| self.transport.send(&m));
            let mine = notifications::table
                .find(id)
                .filter(notifications::locked_by.eq(&self.id));
            match outcome {
                Ok(()) => {
                    diesel::update(mine)
                        .set((
                            notifications::data.eq(without_secrets(&row.data)),
                            notifications::status.eq("sent"),
                            notifications::sent_at.eq(Utc::now().naive_utc()),
                            notifications::locked_by.eq(None::<String>),
                            notifications::locked_until.eq(None::<NaiveDateTime>),
                            notifications::last_error.eq(None::<String>),
                        ))
                        .execute(&mut conn)?;
                    round.sent += 1;
                }
                Err(error) => {
                    let give_up = row.attempts >= MAX_ATTEMPTS;
                    tracing::warn!(notification = id, attempts = row.attempts, %error, "e-mail not sent");
                    diesel::update(mine)
                        .set((
                            notifications::status.eq(if give_up { "failed" } else { "pending" }),
                            notifications::next_attempt_at
                                .eq(Utc::now().naive_utc() + backoff(row.attempts)),
                            notifications::locked_by.eq(None::<String>),
                            notifications::locked_until.eq(None::<NaiveDateTime>),
                            notifications::last_error.eq(Some(error)),
                        ))
                        .execute(&mut conn)?;
                    match give_up {
                        true => round.failed += 1,
                        false => round.retried += 1,
                    }
                }
            }
        }
        Ok(round)
    }

    fn message(&self, row: &Notification) -> Result<Message, String> {
        let data: serde_json::Value =
            serde_json::from_str(&row.data).map_err(|e| format!("data: {e}"))?;
        let rendered = self.templates.render(&row.template, &data)?;
        let to = row
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient {}: {e}", row.recipient))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject);
        // Notices a recipient can stop carry the one-click unsubscription of RFC 8058.
        if let Some(url) = data.get("unsubscribe").and_then(|u| u.as_str()) {
            use lettre::message::header::{HeaderName, HeaderValue};
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        builder
            .message_id(Some(format!(
                "<{}@groupement>",
                row.idempotency_key.replace(['<', '>', '@', ' '], "-")
            )))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(rendered.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(rendered.html),
                    ),
            )
            .map_err(|e| e.to_string())
    }
}

/// Rows a worker may take now: pending and due, or claimed by a worker whose lease ran out.
fn due(
    now: NaiveDateTime,
) -> Box<
    dyn BoxableExpression<
        notifications::table,
        crate::db::MultiBackend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    Box::new(
        notifications::status
            .eq("pending")
            .and(notifications::next_attempt_at.le(now))
            .or(notifications::status
                .eq("sending")
                .and(notifications::locked_until.assume_not_null().lt(now))),
    )
}

/// Wait before attempt `attempts + 1`: 30 s, 1 min, 2 min, … capped at 1 h.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 8) - 1;
    Duration::seconds((30_i64 << exponent).min(3600))
}

/// Runs the worker forever on the actix runtime, a round every `interval`.
pub fn spawn(worker: Worker, pool: Pool, interval: std::time::Duration) {
    let worker = std::sync::Arc::new(worker);
    actix_web::rt::spawn(async move {
        loop {
            let (w, p) = (worker.clone(), pool.clone());
            match actix_web::web::block(move || w.run_once(&p)).await {
                Ok(Ok(round)) if round != Round::default() => {
                    tracing::info!(
                        sent = round.sent,
                        retried = round.retried,
                        failed = round.failed,
                        "outbox round"
                    );
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e.detailed(), "outbox round failed"),
                Err(e) => tracing::error!(error = %e, "outbox round failed"),
            }
            actix_web::rt::time::sleep(interval).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_link_keeps_no_token() {
        let data =
            r#"{"link":"https://portail.fr/mot-de-passe/nouveau?jeton=abc123","name":"Camille"}"#;
        let kept = without_secrets(data);
        assert!(!kept.contains("abc123"), "{kept}");
        assert!(kept.contains("/mot-de-passe/nouveau?jeton=(envoyé)"));
        assert!(kept.contains("Camille"));
        let plain = r#"{"reference":"GRP-2027-001"}"#;
        assert_eq!(without_secrets(plain), plain);
    }

    #[test]
    fn smtp_urls_give_host_port_and_decoded_credentials() {
        assert_eq!(percent_decoded("j%40n+e%2"), "j@n+e%2");
        assert!(smtp_transport("smtp://user:p%40ss@127.0.0.1:2525", None).is_ok());
        assert!(smtp_transport("smtps://relay.example", None).is_ok());
        assert!(smtp_transport("smtp://relay.example?tls=required", None).is_ok());
        let unknown = smtp_transport("smtp://relay.example?tls=sometimes", None)
            .err()
            .unwrap_or_default();
        assert!(
            unknown.contains("tls=sometimes is not understood"),
            "{unknown}"
        );
        let missing = smtp_transport("smtps://relay.example", Some("/nowhere/ca.pem".as_ref()))
            .err()
            .unwrap_or_default();
        assert!(
            missing.contains("GROUPEMENT_SMTP_CA_FILE /nowhere/ca.pem"),
            "{missing}"
        );
    }

    #[test]
    fn security_follows_the_scheme_and_the_tls_parameter() {
        let of =
            |text: &str| Security::of(&url::Url::parse(text).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(of("smtp://h"), Ok(Security::Plain));
        assert_eq!(of("smtp://h?tls=required"), Ok(Security::StartTls));
        assert_eq!(
            of("smtp://h?tls=opportunistic"),
            Ok(Security::Opportunistic)
        );
        assert_eq!(of("smtps://h"), Ok(Security::Implicit));
        assert_eq!(Security::StartTls.default_port(), 587);
        assert_eq!(Security::Implicit.default_port(), 465);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(20), Duration::seconds(3600));
    }
}
