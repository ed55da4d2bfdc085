//! The rate limits of the forms anyone can post, checked before any costly work
//! (`services::limits`: kept in the database, for the whole platform).

use crate::db::Pool;
use crate::error::AppError;
use crate::services::limits::{self, Limit};
use actix_web::web::{self, Data};
use actix_web::HttpRequest;

/// The client's address: the connection's peer, or — when the peer is one of the trusted load
/// balancers (`GROUPEMENT_TRUSTED_PROXIES`) — the last address of `X-Forwarded-For` that is not
/// one of them. A header from anyone else is ignored: it could be forged to dodge the limits.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let trusted: &[std::net::IpAddr] = req
        .app_data::<Data<crate::Settings>>()
        .map_or(&[], |s| s.trusted_proxies.as_slice());
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
        .to_string()
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
