//! The rate limits of the forms anyone can post, checked before any costly work
//! (`services::limits`: kept in the database, for the whole platform).

use crate::db::Pool;
use crate::error::AppError;
use crate::services::limits::{self, Limit};
use actix_web::web::{self, Data};
use actix_web::HttpRequest;

/// The client's address as the connection shows it: a forwarded header could be forged to
/// dodge the limit. (Behind a load balancer, it is the balancer's unless it passes the client's
/// own address through, as the README's haproxy example does with the PROXY protocol.)
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Counts one attempt against each limit; `false` when one is reached (logged).
pub async fn allow(pool: &Data<Pool>, checks: Vec<(Limit, String)>) -> Result<bool, AppError> {
    let pool = pool.clone().into_inner();
    let buckets: Vec<&'static str> = checks.iter().map(|(l, _)| l.bucket).collect();
    let allowed = web::block(move || {
        let checks: Vec<(Limit, &str)> = checks.iter().map(|(l, k)| (*l, k.as_str())).collect();
        limits::allow(&pool, &checks)
    })
    .await??;
    if !allowed {
        tracing::warn!(limits = ?buckets, "rate limit reached");
    }
    Ok(allowed)
}

/// [`allow`] for a form that hashes a password (new password, invitation, registration):
/// a refusal is the 429 error page.
pub async fn password_form(req: &HttpRequest, pool: &Data<Pool>) -> Result<(), AppError> {
    match allow(
        pool,
        vec![(limits::PASSWORD_FORMS_BY_ADDRESS, client_address(req))],
    )
    .await?
    {
        true => Ok(()),
        false => Err(AppError::TooMany(limits::TOO_MANY.into())),
    }
}
