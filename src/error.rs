//! Error policy.
//!
//! - Every handler and service returns [`AppError`]. Its five variants are all a person or a
//!   client system can act on; the HTTP status of each is decided here and nowhere else.
//! - `Validation` carries [`Problems`]: every field at fault (or `ligne N : champ`), each with
//!   what is wrong, in French. Services gather them all before refusing (`Problems::finish`),
//!   so a person or a client fixes everything at once.
//! - `Internal` keeps its cause for the log; the response says only that something failed and
//!   gives the request's time, never the cause, a query or a path.
//! - Pages render errors through `templates/pages/error.hbs`; the JSON API answers
//!   `{"error": {"code", "message", "field", "problems": [{"field", "message"}]}}` (see
//!   `web::api_error`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session or API token where one is needed (the API's 401).
    #[error("Authentification requise : jeton d'API manquant, inconnu ou révoqué.")]
    Unauthorized,
    #[error("Cette page n'existe pas ou n'est pas accessible.")]
    NotFound,
    #[error("Vous n'avez pas accès à cette page.")]
    Forbidden,
    #[error("{0}")]
    Validation(Problems),
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts from one address or at one account: wait a minute (429).
    #[error("{0}")]
    TooMany(String),
    /// Too much of one costly kind of work at once (password checks, uploads): try again in a
    /// moment (503).
    #[error("Le service est très sollicité : réessayez dans un instant.")]
    Busy,
    #[error("erreur interne")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut problems = Problems::default();
        problems.add(field, message);
        AppError::Validation(problems)
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(cause.into())
    }

    /// A stable, machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::Validation(_) => "validation",
            AppError::Conflict(_) => "conflict",
            AppError::TooMany(_) => "too_many_requests",
            AppError::Busy => "busy",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message shown to people: the cause of an internal error is never part of it.
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Validation(problems) => problems.0.first().map(|p| p.field.as_str()),
            _ => None,
        }
    }

    /// The problems of a validation error (none for the others).
    pub fn problems(&self) -> &[Problem] {
        match self {
            AppError::Validation(problems) => &problems.0,
            _ => &[],
        }
    }

    /// The message with the whole cause chain: for logs and the command line, never for pages.
    pub fn detailed(&self) -> String {
        let mut chain = self.to_string();
        if let AppError::Internal(cause) = self {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(cause.as_ref());
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
        }
        chain
    }

    fn log(&self) {
        if let AppError::Internal(_) = self {
            tracing::error!(error = %self.detailed(), "internal error");
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            // Two requests raced to write the same thing and the database kept one: the other
            // is told so, not handed an internal error.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::warn!(detail = info.message(), "unique constraint refused a write");
                AppError::Conflict(
                    "cette donnée vient d'être enregistrée par une autre requête : rechargez la page"
                        .into(),
                )
            }
            other => AppError::internal(other),
        }
    }
}

impl From<crate::domain::HashError> for AppError {
    fn from(e: crate::domain::HashError) -> Self {
        match e {
            crate::domain::HashError::Busy(_) => AppError::Busy,
            other => AppError::internal(other),
        }
    }
}

impl From<crate::domain::Busy> for AppError {
    fn from(_: crate::domain::Busy) -> Self {
        AppError::Busy
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::internal(e)
    }
}

/// One thing wrong with what was sent: the field (`cpv`, `ligne 3 : quantité`, `2.cpv` for an
/// item of an API list) and what is wrong with it, in words its reader can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// Every problem of a form or a request, gathered before anything is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the value, or records the problem and returns `None`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.add(field, e.to_string())).ok()
    }

    /// A free text trimmed, of `min` to `max` characters (`min` 0: optional); a text out of
    /// bounds is recorded as the field's problem, in French.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let value = value.trim();
        let chars = value.chars().count();
        if chars < min {
            self.add(field, "à renseigner");
        } else if chars > max {
            self.add(field, format!("{max} caractères au plus"));
        }
        value.to_string()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// `Ok` when there is nothing to say; otherwise one validation error with every problem.
    pub fn finish(self) -> Result<(), AppError> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(AppError::Validation(self)),
        }
    }

    /// The same problems with each field placed within `prefix` (`2.cpv` for item 2's `cpv`).
    pub fn within(self, prefix: &str) -> Problems {
        Problems(
            self.0
                .into_iter()
                .map(|p| Problem {
                    field: format!("{prefix}.{}", p.field),
                    message: p.message,
                })
                .collect(),
        )
    }

    /// What is wrong, without the fields' names: for a form of one field.
    pub fn messages(&self) -> String {
        self.0
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join(" ; ")
    }

    /// One line a problem: `champ : ce qui ne va pas`.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|p| format!("{} : {}", p.field, p.message))
            .collect()
    }
}

/// `champ : message ; autre champ : message`: each field named once.
impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines().join(" ; "))
    }
}

/// What an error response carries to the error renderer, which turns it into a page or, under
/// `/api/`, into `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Clone)]
pub struct ErrorMessage {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub problems: Vec<Problem>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("text/plain; charset=utf-8");
        match self {
            AppError::TooMany(_) => {
                response.insert_header(("Retry-After", "60"));
            }
            AppError::Busy => {
                response.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        let mut response = response.body(self.public_message());
        response.extensions_mut().insert(ErrorMessage {
            code: self.code(),
            message: self.public_message(),
            field: self.field().map(str::to_string),
            problems: self.problems().to_vec(),
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal("relation \"needs\" does not exist at /var/lib/db");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.public_message().contains("needs"));
        let validation = AppError::validation("cpv", "le code CPV est vide");
        assert_eq!(validation.public_message(), "cpv : le code CPV est vide");
        assert_eq!(validation.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn every_problem_is_kept_and_each_field_named_once() {
        let mut problems = Problems::default();
        assert!(problems.clone().finish().is_ok());
        problems.add("cpv", "le code CPV 9999 n'existe pas");
        let quantity = problems.check(
            "quantité",
            "abc"
                .parse::<u32>()
                .map_err(|_| "« abc » n'est pas un nombre"),
        );
        assert_eq!(quantity, None);
        let error = problems.finish().unwrap_err();
        assert_eq!(
            error.public_message(),
            "cpv : le code CPV 9999 n'existe pas ; quantité : « abc » n'est pas un nombre"
        );
        assert_eq!(error.field(), Some("cpv"));
        assert_eq!(error.problems().len(), 2);
        let AppError::Validation(problems) = error else {
            unreachable!()
        };
        assert_eq!(
            problems.clone().within("2").lines()[1],
            "2.quantité : « abc » n'est pas un nombre"
        );
        assert_eq!(
            problems.messages(),
            "le code CPV 9999 n'existe pas ; « abc » n'est pas un nombre"
        );
    }
}
