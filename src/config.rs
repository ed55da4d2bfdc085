//! Configuration is a value read once from the `GROUPEMENT_*` environment variables and passed
//! explicitly; nothing reads the environment after start-up.

use crate::db::{DatabaseUrl, OpenError};
use std::fmt;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://groupement.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: String,
    /// `smtp://` or `smtps://` URL of the mail relay; unset, mails are written to `outbox_dir`.
    pub smtp_url: Option<String>,
    /// A PEM file of certificate authorities trusted for the relay besides the system's.
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_from: String,
    /// The address people reach the portal at, for links in e-mails and secure cookies.
    pub base_url: String,
    /// Whether `base_url` was configured; otherwise it follows the address actually bound.
    pub base_url_configured: bool,
    /// Signs cookies and links; never logged.
    pub secret_key: Option<String>,
    pub outbox_dir: PathBuf,
    /// How often the mail worker looks for due messages.
    pub mail_poll: std::time::Duration,
    /// How long a request body may send nothing before it is dropped.
    pub idle_body: std::time::Duration,
    /// Pooling runs this instance executes at once (0: none, a `groupement worker` does).
    pub pooling_workers: usize,
    /// Whether this instance tells the suppliers of the planned purchases once a day
    /// (`GROUPEMENT_PROGRAMME_ALERTS=0`: not; the tests, which call it themselves).
    pub programme_alerts: bool,
    /// Addresses of the load balancers in front of the portal, whose `X-Forwarded-For` gives
    /// the client's address (for the rate limits and the journal).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads variables through `lookup`, so that tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = DatabaseUrl::parse(
            &lookup("GROUPEMENT_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        )?;
        let bind = lookup("GROUPEMENT_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
        let base_url_configured = lookup("GROUPEMENT_BASE_URL").is_some();
        let base_url = lookup("GROUPEMENT_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "GROUPEMENT_BASE_URL",
                message: format!("« {base_url} » must start with http:// or https://"),
            });
        }
        let smtp_url = lookup("GROUPEMENT_SMTP_URL");
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid {
                    name: "GROUPEMENT_SMTP_URL",
                    message: "must start with smtp:// or smtps://".into(),
                });
            }
        }
        let number = |name: &'static str, default: u64, min: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= min)
                    .ok_or_else(|| ConfigError::Invalid {
                        name,
                        message: format!("« {text} » is not a whole number of at least {min}"),
                    }),
            }
        };
        let idle_body =
            std::time::Duration::from_secs(number("GROUPEMENT_IDLE_BODY_SECONDS", 30, 1)?);
        let pooling_workers = number("GROUPEMENT_POOLING_WORKERS", 1, 0)? as usize;
        let programme_alerts = !matches!(
            lookup("GROUPEMENT_PROGRAMME_ALERTS")
                .as_deref()
                .map(str::trim),
            Some("0" | "false" | "non")
        );
        let trusted_proxies = match lookup("GROUPEMENT_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(text) => text
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    t.parse::<std::net::IpAddr>()
                        .map_err(|_| ConfigError::Invalid {
                            name: "GROUPEMENT_TRUSTED_PROXIES",
                            message: format!("« {t} » is not an IP address"),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Settings {
            trusted_proxies,
            idle_body,
            pooling_workers,
            programme_alerts,
            database_url,
            bind,
            smtp_url,
            smtp_ca_file: lookup("GROUPEMENT_SMTP_CA_FILE").map(PathBuf::from),
            mail_from: lookup("GROUPEMENT_MAIL_FROM")
                .unwrap_or_else(|| "Groupement <no-reply@groupement.localhost>".into()),
            base_url,
            base_url_configured,
            secret_key: lookup("GROUPEMENT_SECRET_KEY"),
            outbox_dir: lookup("GROUPEMENT_OUTBOX_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("outbox")),
            mail_poll: match lookup("GROUPEMENT_MAIL_POLL_MS") {
                None => std::time::Duration::from_secs(2),
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(std::time::Duration::from_millis)
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "GROUPEMENT_MAIL_POLL_MS",
                        message: format!("« {text} » is not a positive number of milliseconds"),
                    })?,
            },
        })
    }

    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// Secrets stay out of logs and debug output.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url)
            .field("bind", &self.bind)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("base_url", &self.base_url)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .field("outbox_dir", &self.outbox_dir)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.base_url, "http://127.0.0.1:8080");
        assert!(
            matches!(s.database_url, DatabaseUrl::Sqlite { ref path } if path == "groupement.db")
        );
        assert!(!s.is_https());
    }

    #[test]
    fn secrets_never_in_debug_output() {
        let s = settings(&[
            ("GROUPEMENT_SECRET_KEY", "very-secret"),
            ("GROUPEMENT_SMTP_URL", "smtp://user:pw@mail:587"),
            ("GROUPEMENT_DATABASE_URL", "postgres://u:dbpw@h/db"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["very-secret", "pw@mail", "dbpw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = settings(&[("GROUPEMENT_BASE_URL", "groupement.fr")]).unwrap_err();
        assert!(err.to_string().starts_with("GROUPEMENT_BASE_URL"), "{err}");
        let err = settings(&[("GROUPEMENT_SMTP_URL", "mail:25")]).unwrap_err();
        assert!(err.to_string().starts_with("GROUPEMENT_SMTP_URL"), "{err}");
        let err = settings(&[("GROUPEMENT_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(err.to_string().contains("GROUPEMENT_DATABASE_URL"), "{err}");
    }
}
