//! Sign-in and sign-out pages, and the extractor that tells handlers who is signed in.

use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services;
use crate::web::nav::{Role, Viewer};
use crate::Settings;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::{Data, Form};
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
        let credential = credential_of(req);
        let pool = req.app_data::<Data<Pool>>().cloned();
        Box::pin(async move {
            let (Some(credential), Some(pool)) = (credential, pool) else {
                return Ok(MaybeViewer(None));
            };
            let viewer = blocking(&pool, move |pool| match credential {
                Credential::Session(token) => services::auth::viewer(pool, &token),
                Credential::ApiToken(token) => services::auth::api_viewer(pool, &token),
            })
            .await?;
            request.extensions_mut().insert(KnownViewer(viewer.clone()));
            Ok(MaybeViewer(viewer))
        })
    }
}

/// The signed-in person of a request, when it was looked up already (by the access check or a
/// handler): for pages rendered outside a handler, as the error page.
pub fn known_viewer(req: &HttpRequest) -> Option<Viewer> {
    req.extensions()
        .get::<KnownViewer>()
        .and_then(|known| known.0.clone())
}

/// Whether the request was made by someone signed in (its viewer was looked up and found).
pub fn signed_in(req: &HttpRequest) -> bool {
    req.extensions()
        .get::<KnownViewer>()
        .is_some_and(|known| known.0.is_some())
}

enum Credential {
    Session(String),
    ApiToken(String),
}

/// The JSON API takes API tokens only (`Authorization: Bearer …`), so that a browser's cookie
/// never acts on it; pages take the session cookie only.
/// The path is the canonical one (`web::canonical`), the one the router matched; any case of
/// `/api/` counts as the API.
fn credential_of(req: &HttpRequest) -> Option<Credential> {
    let api = req
        .path()
        .get(..5)
        .is_some_and(|start| start.eq_ignore_ascii_case("/api/"));
    if api {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| Credential::ApiToken(t.trim().to_string()))
    } else {
        req.cookie(SESSION_COOKIE)
            .map(|c| Credential::Session(c.value().to_string()))
    }
}

/// The cookie that carries the anti-forgery token of forms posted before signing in.
pub const ANONYMOUS_CSRF_COOKIE: &str = "groupement_csrf";

/// The anti-forgery token for a form shown to someone not signed in, and the cookie to set
/// when the browser has none yet (double-submit: the form field must equal the cookie).
pub fn anonymous_csrf(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req
        .cookie(ANONYMOUS_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64)
    {
        return (existing, None);
    }
    let token = services::auth::random_token();
    let secure = req
        .app_data::<Data<Settings>>()
        .is_some_and(|s| s.is_https());
    let cookie = Cookie::build(ANONYMOUS_CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    (token, Some(cookie))
}

/// A posted form whose anti-forgery token and origin were checked: the session's token for a
/// signed-in person, the double-submit cookie otherwise. Every state-changing form of the
/// portal is taken through this extractor.
pub struct Posted<T> {
    pub form: T,
    pub viewer: Option<Viewer>,
}

#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    form: T,
}

/// The anti-forgery check of a posted form (its origin was checked before): the session's
/// token for a signed-in person, the double-submit cookie otherwise; compared in constant time.
pub fn check_csrf(req: &HttpRequest, viewer: Option<&Viewer>, token: &str) -> Result<(), AppError> {
    let expected = match viewer {
        Some(v) => Some(v.csrf_token.clone()),
        None => req
            .cookie(ANONYMOUS_CSRF_COOKIE)
            .map(|c| c.value().to_string()),
    };
    let valid = expected.is_some_and(|expected| {
        !expected.is_empty() && services::auth::same_secret(&expected, token)
    });
    if !valid {
        tracing::warn!(path = %req.path(), "form refused: anti-forgery token missing or wrong");
        return Err(AppError::Forbidden);
    }
    Ok(())
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = Form::<WithToken<T>>::from_request(&req, payload);
        let viewer = MaybeViewer::from_request(&req, &mut Payload::None);
        Box::pin(async move {
            let settings = req
                .app_data::<Data<Settings>>()
                .ok_or_else(|| AppError::internal("settings missing"))?;
            check_origin(&req, settings)?;
            let viewer = viewer.await?.0;
            let form = form.await.map_err(|e| {
                AppError::validation("formulaire", format!("formulaire illisible : {e}"))
            })?;
            check_csrf(&req, viewer.as_ref(), &form.csrf_token)?;
            Ok(Posted {
                form: form.into_inner().form,
                viewer,
            })
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
    req: HttpRequest,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    if viewer.0.is_some() {
        return Ok(see_other("/compte"));
    }
    form_again(&req, &hb, None, "", StatusCode::OK)
}

/// A 303 redirection (after a form, or to a page that fits better).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The sign-in form (again, with what went wrong: never the password).
fn form_again(
    req: &HttpRequest,
    hb: &Handlebars<'static>,
    error: Option<&str>,
    email: &str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = anonymous_csrf(req);
    let mut page = Page::new("pages/auth/sign_in", "Connexion — Groupement", "/connexion")
        .status(status)
        .render(
            hb,
            None,
            SignInPage {
                error,
                email,
                csrf_token,
            },
        )?;
    if let Some(cookie) = cookie {
        page.add_cookie(&cookie).map_err(AppError::internal)?;
    }
    Ok(page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
}

pub async fn sign_in(
    req: HttpRequest,
    posted: Posted<SignInForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    use crate::services::limits::{SIGN_IN_BY_ACCOUNT, SIGN_IN_BY_ADDRESS};
    let form = posted.form;
    let address = super::limits::client_address(&req);
    let ip = Some(address.clone());
    let checks = vec![
        (SIGN_IN_BY_ADDRESS, address),
        (SIGN_IN_BY_ACCOUNT, form.email.clone()),
    ];
    if !super::limits::allow(&pool, checks).await? {
        // (An e-mail field too long to be an address is refused the same way.)
        let email: String = form.email.chars().take(254).collect();
        return form_again(
            &req,
            &hb,
            Some(TOO_MANY),
            &email,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let email = form.email.clone();
    let pool = pool.into_inner();
    let outcome = blocking(&pool, move |pool| {
        let token = services::auth::sign_in(pool, &form.email, &form.password, ip.as_deref())?;
        let role = services::auth::viewer(pool, &token)?.map(|v| v.role);
        Ok::<_, AppError>((token, role))
    })
    .await;
    match outcome {
        Ok((token, role)) => {
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(settings.is_https())
                .finish();
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, landing(role)))
                .cookie(cookie)
                .finish())
        }
        Err(AppError::Validation(problems)) => form_again(
            &req,
            &hb,
            Some(&problems.messages()),
            &email,
            StatusCode::UNAUTHORIZED,
        ),
        Err(other) => Err(other),
    }
}

/// Where a person lands after signing in: where their work is, not the public home page.
fn landing(role: Option<Role>) -> &'static str {
    match role {
        Some(_) => "/accueil",
        None => "/",
    }
}

/// A form with nothing but its anti-forgery token.
#[derive(Deserialize)]
pub struct NoFields {}

pub async fn sign_out(
    req: HttpRequest,
    posted: Posted<NoFields>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    if let (Some(token), Some(viewer)) = (
        req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()),
        posted.viewer,
    ) {
        let pool = pool.into_inner();
        let csrf = viewer.csrf_token;
        blocking(&pool, move |pool| {
            services::auth::sign_out(pool, &token, &csrf)
        })
        .await?;
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

/// The sign-in form: what went wrong and the address typed, never the password.
#[derive(serde::Serialize)]
struct SignInPage<'a> {
    error: Option<&'a str>,
    email: &'a str,
    csrf_token: String,
}
