use super::OpenError;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }
}

/// `GROUPEMENT_DATABASE_URL`, parsed: `sqlite://FILE` (relative to where the server runs, or
/// `sqlite:///absolute/path`) or `postgres://user@host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: String },
    Postgres { url: String, target: String },
}

impl DatabaseUrl {
    pub fn parse(input: &str) -> Result<Self, OpenError> {
        let input = input.trim();
        if let Some(path) = input.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(OpenError::Url(
                    "GROUPEMENT_DATABASE_URL: sqlite:// needs a file name, e.g. sqlite://groupement.db"
                        .into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite {
                path: path.to_string(),
            });
        }
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            let parsed = url::Url::parse(input).map_err(|e| {
                OpenError::Url(format!(
                    "GROUPEMENT_DATABASE_URL is not a valid PostgreSQL URL: {e}"
                ))
            })?;
            let host = parsed.host_str().unwrap_or("localhost");
            let port = parsed.port().unwrap_or(5432);
            let database = parsed.path().trim_start_matches('/');
            return Ok(DatabaseUrl::Postgres {
                url: input.to_string(),
                target: format!("{host}:{port}/{database}"),
            });
        }
        Err(OpenError::Url(format!(
            "GROUPEMENT_DATABASE_URL must start with sqlite:// or postgres://, not « {} »",
            redact(input)
        )))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// Hides what could be a password in a URL shown to people or logs.
fn redact(input: &str) -> String {
    match input.split_once('@') {
        Some((_, rest)) => format!("…@{rest}"),
        None => input.to_string(),
    }
}

/// Never print a password: the debug form shows only the target.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{path}"),
            DatabaseUrl::Postgres { target, .. } => write!(f, "postgres://{target}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://groupement.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "groupement.db".into()
            }
        );
        let pg = DatabaseUrl::parse("postgres://app:secret@127.0.0.1:5433/gp").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(format!("{pg:?}"), "postgres://127.0.0.1:5433/gp");
    }

    #[test]
    fn refuses_other_schemes_without_leaking_passwords() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/x").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sqlite:// or postgres://"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("postgres://[bad").is_err());
    }
}
