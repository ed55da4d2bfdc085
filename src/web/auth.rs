//! Sign-in and sign-out pages, and the extractor that tells handlers who is signed in.

use super::templates::render_page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services;
use crate::web::limits::SignInLimits;
use crate::web::nav::Viewer;
use crate::Settings;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Data, Form};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;

pub const SESSION_COOKIE: &str = "groupement_session";

const TOO_MANY: &str = "Trop de tentatives de connexion : réessayez dans une minute.";

/// The signed-in person, if any. Who may use which route is decided by `web::access`.
pub struct MaybeViewer(pub Option<Viewer>);

#[derive(Clone)]
struct KnownViewer(Option<Viewer>);

impl FromRequest for MaybeViewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Looked up once a request: the access check and the handler share it.
        if let Some(known) = req.extensions().get::<KnownViewer>() {
            let viewer = known.0.clone();
            return Box::pin(async move { Ok(MaybeViewer(viewer)) });
        }
        let request = req.clone();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let pool = req.app_data::<Data<Pool>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(pool)) = (token, pool) else {
                return Ok(MaybeViewer(None));
            };
            let viewer = web::block(move || services::auth::viewer(&pool, &token)).await??;
            request.extensions_mut().insert(KnownViewer(viewer.clone()));
            Ok(MaybeViewer(viewer))
        })
    }
}

/// A state-changing request must come from the portal's own pages: its Origin (or Referer)
/// must be the portal's address.
pub fn check_origin(req: &HttpRequest, settings: &Settings) -> Result<(), AppError> {
    let from = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let own = |value: &str| {
        value == settings.base_url || value.starts_with(&format!("{}/", settings.base_url))
    };
    match from {
        Some(value) if own(value) => Ok(()),
        _ => {
            tracing::warn!(path = %req.path(), origin = ?from, "state-changing request from another origin refused");
            Err(AppError::Forbidden)
        }
    }
}

pub async fn sign_in_page(
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    render_page(
        &hb,
        "pages/auth/sign_in",
        "Connexion — Groupement",
        "/connexion",
        viewer.0.as_ref(),
        serde_json::json!({ "error": null, "email": "" }),
    )
}

/// The sign-in form shown again with what went wrong (never the password).
fn form_again(
    hb: &Handlebars<'static>,
    error: &str,
    email: &str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut page = render_page(
        hb,
        "pages/auth/sign_in",
        "Connexion — Groupement",
        "/connexion",
        None,
        serde_json::json!({ "error": error, "email": email }),
    )?;
    *page.status_mut() = status;
    Ok(page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
}

pub async fn sign_in(
    req: HttpRequest,
    form: Form<SignInForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
    limits: Data<SignInLimits>,
) -> Result<HttpResponse, AppError> {
    check_origin(&req, &settings)?;
    let form = form.into_inner();
    // The peer address: a forwarded header could be forged to dodge the limit.
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    if !limits.allow(ip.as_deref().unwrap_or("unknown"), &form.email) {
        tracing::warn!(ip = ?ip, "sign-in rate limit reached");
        return form_again(&hb, TOO_MANY, &form.email, StatusCode::TOO_MANY_REQUESTS);
    }
    let email = form.email.clone();
    let pool = pool.into_inner();
    let outcome = web::block(move || {
        services::auth::sign_in(&pool, &form.email, &form.password, ip.as_deref())
    })
    .await?;
    match outcome {
        Ok(token) => {
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(settings.is_https())
                .finish();
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .cookie(cookie)
                .finish())
        }
        Err(AppError::Validation { message, .. }) => {
            form_again(&hb, &message, &email, StatusCode::UNAUTHORIZED)
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn sign_out(
    req: HttpRequest,
    form: Form<CsrfForm>,
    pool: Data<Pool>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    check_origin(&req, &settings)?;
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        let pool = pool.into_inner();
        let csrf = form.into_inner().csrf_token;
        web::block(move || services::auth::sign_out(&pool, &token, &csrf)).await??;
    }
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .finish();
    gone.set_max_age(CookieDuration::ZERO);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(gone)
        .finish())
}
