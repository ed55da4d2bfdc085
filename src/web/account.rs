//! The signed-in person's own page: who they are, their sessions and their API tokens.

use super::auth::{see_other, MaybeViewer, Posted, SESSION_COOKIE};
use super::blocking;
use super::form_errors::{self, Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::error::Problems;
use crate::services::{accounts, auth};
use crate::web::nav::Viewer;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

fn signed_in(viewer: MaybeViewer) -> Result<Viewer, AppError> {
    viewer.0.ok_or(AppError::Forbidden)
}

/// The account page's fields (problem name, input, label).
const ACCOUNT_FIELDS: &[Field] = &[
    Field {
        problem: "langue",
        input: "locale",
        label: "Langue de vos courriels",
    },
    Field {
        problem: "nom",
        input: "token-name",
        label: "Nom du jeton",
    },
    Field {
        problem: "phrase secrète",
        input: "passphrase",
        label: "Phrase secrète",
    },
    Field {
        problem: "confirmation",
        input: "passphrase-confirmation",
        label: "Confirmation",
    },
    Field {
        problem: "phrase secrète actuelle",
        input: "old-passphrase",
        label: "Phrase secrète actuelle",
    },
    Field {
        problem: "nouvelle phrase secrète",
        input: "new-passphrase",
        label: "Nouvelle phrase secrète",
    },
];

async fn account_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    new_token: Option<String>,
    refused: (Option<AppError>, String),
) -> Result<HttpResponse, AppError> {
    account_page_with(pool, hb, viewer, new_token, refused, None).await
}

async fn account_page_with(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    new_token: Option<String>,
    (refusal, token_name): (Option<AppError>, String),
    notice: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    // A refusal (its problems beside their fields) or a conflict goes with its own status; a
    // new token is a creation.
    let (error, problems, status) = match (refusal, &new_token) {
        (Some(refusal), _) => form_errors::refused(refusal)?,
        (None, Some(_)) => (None, Problems::default(), StatusCode::CREATED),
        (None, None) => (None, Problems::default(), StatusCode::OK),
    };
    let (pool, who) = (pool.into_inner(), viewer.clone());
    let (summary, tokens, opening_key) = blocking(&pool, move |pool| {
        let opening_key = match who.role {
            crate::web::nav::Role::Lead => Some(crate::services::keys::own(pool, &who)?),
            _ => None,
        };
        Ok::<_, AppError>((
            accounts::account_summary(pool, &who)?,
            auth::api_tokens_of(pool, &who)?,
            opening_key,
        ))
    })
    .await?;
    Page::new(
        "pages/account/profile",
        "Mon compte — Groupement",
        "/compte",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        AccountPage {
            account: summary,
            is_lead: opening_key.is_some(),
            opening_key: opening_key.flatten().map(|k| OpeningKeyView {
                recipient: k.recipient,
                created_at: crate::domain::paris_text(k.created_at),
                changed_at: (k.changed_at != k.created_at)
                    .then(|| crate::domain::paris_text(k.changed_at)),
            }),
            notice,
            tokens,
            new_token,
            error,
            errors: FormErrors::of(&problems, ACCOUNT_FIELDS),
            token_name,
        },
    )
}

#[derive(Deserialize)]
pub struct ProfileQuery {
    #[serde(default)]
    cle: String,
}

pub async fn profile(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
    query: actix_web::web::Query<ProfileQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = match query.cle.as_str() {
        "creee" => Some(
            "Votre clé d'ouverture est créée. Retenez votre phrase secrète : elle n'est conservée \
             nulle part et personne ne peut la retrouver.",
        ),
        "changee" => Some("La phrase secrète de votre clé d'ouverture est changée."),
        _ => None,
    };
    account_page_with(
        pool,
        &hb,
        signed_in(viewer)?,
        None,
        (None, String::new()),
        notice,
    )
    .await
}

/// The keep-alive of the inactivity warning: reading it pushes the idle limit back (the
/// session lookup does), and it answers how long the session now has.
pub async fn keep_alive(viewer: MaybeViewer) -> Result<HttpResponse, AppError> {
    let viewer = signed_in(viewer)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(KeepAlive {
            idle_seconds: viewer.idle_minutes * 60,
        }))
}

pub async fn sign_out_everywhere(
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let pool = pool.into_inner();
    blocking(&pool, move |pool| auth::sign_out_everywhere(pool, &viewer)).await?;
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .finish();
    gone.set_max_age(CookieDuration::ZERO);
    let mut response = see_other("/connexion");
    response.add_cookie(&gone).map_err(AppError::internal)?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LocaleForm {
    #[serde(default)]
    locale: String,
}

/// Sends the address verification link again (to one's own, not yet confirmed address).
pub async fn resend_verification(
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<crate::Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, base) = (
        pool.clone().into_inner(),
        viewer.clone(),
        settings.base_url.clone(),
    );
    match blocking(&p, move |p| accounts::resend_verification(p, &who, &base)).await {
        Ok(email) => super::accounts::notice(
            &hb,
            StatusCode::OK,
            "Lien envoyé",
            &format!("Un nouveau lien de confirmation vient d'être envoyé à {email}."),
            Some(("/compte", "Mon compte")),
        ),
        Err(error) => account_page(pool, &hb, viewer, None, (Some(error), String::new())).await,
    }
}

/// The language of one's e-mails.
pub async fn set_locale(
    posted: Posted<LocaleForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, code) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.locale,
    );
    match blocking(&p, move |p| accounts::set_locale(p, &who, &code)).await {
        Ok(()) => Ok(see_other("/compte")),
        Err(error) => account_page(pool, &hb, viewer, None, (Some(error), String::new())).await,
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create_token(
    posted: Posted<TokenForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, name) = (pool.clone().into_inner(), viewer.clone(), posted.form.name);
    let typed = name.clone();
    match blocking(&p, move |p| auth::create_api_token(p, &who, &name)).await {
        Ok(token) => account_page(pool, &hb, viewer, Some(token), (None, String::new())).await,
        Err(error) => account_page(pool, &hb, viewer, None, (Some(error), typed)).await,
    }
}

pub async fn revoke_token(
    posted: Posted<super::auth::NoFields>,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    blocking(&pool, move |pool| auth::revoke_api_token(pool, &viewer, id)).await?;
    Ok(see_other("/compte"))
}

#[derive(Serialize)]
struct OpeningKeyView {
    recipient: String,
    created_at: String,
    changed_at: Option<String>,
}

#[derive(Deserialize)]
pub struct OpeningKeyForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    confirmation: String,
    #[serde(default)]
    old_passphrase: String,
}

/// `POST /compte/cle-d-ouverture`: a lead makes their opening key under a passphrase.
pub async fn create_opening_key(
    posted: Posted<OpeningKeyForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, form) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    match blocking(&p, move |p| {
        crate::services::keys::create(p, &who, &form.passphrase, &form.confirmation)
    })
    .await
    {
        Ok(_) => Ok(see_other("/compte?cle=creee#cle-d-ouverture")),
        Err(error) => {
            account_page_with(pool, &hb, viewer, None, (Some(error), String::new()), None).await
        }
    }
}

/// `POST /compte/cle-d-ouverture/phrase`: a lead changes the passphrase of their opening key.
pub async fn change_opening_passphrase(
    posted: Posted<OpeningKeyForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, form) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    match blocking(&p, move |p| {
        crate::services::keys::change_passphrase(
            p,
            &who,
            &form.old_passphrase,
            &form.passphrase,
            &form.confirmation,
        )
    })
    .await
    {
        Ok(()) => Ok(see_other("/compte?cle=changee#cle-d-ouverture")),
        Err(error) => {
            account_page_with(pool, &hb, viewer, None, (Some(error), String::new()), None).await
        }
    }
}

/// A person's account: who they are, their API tokens (a new one shown once).
#[derive(Serialize)]
struct AccountPage {
    account: accounts::AccountSummary,
    /// A lead: the opening key section is shown.
    is_lead: bool,
    opening_key: Option<OpeningKeyView>,
    notice: Option<&'static str>,
    tokens: Vec<auth::TokenCard>,
    new_token: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    /// The name typed for a new token, given back when it was refused.
    token_name: String,
}

/// How long the session has left, for the inactivity warning.
#[derive(Serialize)]
struct KeepAlive {
    idle_seconds: i64,
}
