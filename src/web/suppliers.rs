//! The supplier's own company page (`/entreprise`): its profile, reused everywhere.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{self, Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::error::Problems;
use crate::services::suppliers::{self, ProfileForm};
use crate::web::nav::Viewer;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

/// The profile form's fields (problem name, input, label).
const PROFILE_FIELDS: &[Field] = &[
    Field {
        problem: "intérêts CPV",
        input: "interests",
        label: "Codes CPV",
    },
    Field {
        problem: "code postal",
        input: "postcode",
        label: "Code postal de l'établissement",
    },
    Field {
        problem: "commune",
        input: "commune",
        label: "Commune",
    },
    Field {
        problem: "capacité annuelle",
        input: "annual_capacity_eur",
        label: "Capacité annuelle",
    },
    Field {
        problem: "adresse des avis",
        input: "notification_email",
        label: "Adresse qui reçoit les avis",
    },
    Field {
        problem: "fréquence",
        input: "digest",
        label: "Fréquence",
    },
    Field {
        problem: "langue des avis",
        input: "locale",
        label: "Langue des avis",
    },
];

/// The profile page; after a refusal, the form shows what was typed (`typed`), not what is
/// stored, with each problem beside its field.
async fn profile_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    notice: Option<&str>,
    (error, problems, typed): (Option<String>, Problems, Option<ProfileForm>),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (p, who) = (pool.into_inner(), viewer.clone());
    let mut profile = blocking(&p, move |p| suppliers::profile(p, &who)).await?;
    let mut interests = profile
        .interests
        .iter()
        .map(|i| i.prefix.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(form) = typed {
        interests = format!("{} {}", form.interests.trim(), form.add_interest.trim())
            .trim()
            .to_string();
        profile.postcode = form.postcode;
        profile.commune = form.commune;
        profile.annual_capacity_eur = form.annual_capacity_eur;
        profile.sme = form.sme.is_some();
        profile.notification_email = form.notification_email;
        profile.pending_notification_email = None;
        profile.opt_in = form.opt_in.is_some();
        profile.digest = form.digest;
        profile.locale = form.locale;
    }
    Page::new(
        "pages/suppliers/profile",
        "Mon entreprise — Groupement",
        "/entreprise",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        ProfilePage {
            daily: profile.digest == "daily",
            english: profile.locale == "en",
            territory: profile.territory.clone(),
            interests_text: interests,
            profile,
            notice,
            error,
            errors: FormErrors::of(&problems, PROFILE_FIELDS),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    enregistre: Option<String>,
}

pub async fn show(
    query: Query<SavedQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let notice = query.enregistre.as_ref().map(|_| "Profil enregistré.");
    let nothing = (None, Problems::default(), None);
    profile_page(pool, &hb, viewer, notice, nothing, StatusCode::OK).await
}

pub async fn update(
    posted: Posted<ProfileForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<crate::Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, form) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    let (base, typed) = (settings.base_url.clone(), form.clone());
    match blocking(&p, move |p| suppliers::update(p, &who, &base, &form)).await {
        Ok(()) => Ok(see_other("/entreprise?enregistre=1")),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            let refused = (message, problems, Some(typed));
            profile_page(pool, &hb, viewer, None, refused, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    jeton: String,
}

/// The link of a notice e-mail: asks to confirm (a link followed by a mail scanner must not
/// unsubscribe anybody).
pub async fn unsubscribe_page(
    query: Query<TokenQuery>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    Page::new(
        "pages/suppliers/unsubscribe",
        "Ne plus recevoir les avis — Groupement",
        "",
    )
    .render(
        &hb,
        None,
        UnsubscribePage {
            token: &query.jeton,
            done: None,
        },
    )
}

/// The one-click unsubscription (RFC 8058): the mail client posts `List-Unsubscribe=One-Click`
/// to the link, without cookie or form token — the token in the link is the authority.
pub async fn unsubscribe(
    query: Query<TokenQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let (p, token) = (pool.into_inner(), query.into_inner().jeton);
    match blocking(&p, move |p| suppliers::unsubscribe(p, &token)).await {
        Ok(name) => Page::new(
            "pages/suppliers/unsubscribe",
            "Désabonnement — Groupement",
            "",
        )
        .render(
            &hb,
            None,
            UnsubscribePage {
                token: "",
                done: Some(name),
            },
        ),
        Err(error) => {
            let (message, _) = super::refused(error)?;
            super::accounts::notice(
                &hb,
                StatusCode::BAD_REQUEST,
                "Lien inutilisable",
                &message,
                None,
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AddressLink {
    #[serde(default)]
    jeton: String,
}

/// The link that confirms a new notification address (opened from the mailbox, signed in or
/// not).
pub async fn confirm_address(
    query: Query<AddressLink>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let (pool, token) = (pool.into_inner(), query.into_inner().jeton);
    let (status, heading, message) =
        match blocking(&pool, move |pool| suppliers::confirm_address(pool, &token)).await {
            Ok((company, email)) => (
                StatusCode::OK,
                "Adresse confirmée",
                format!(
                    "Les avis d'appels d'offres de {company} seront désormais envoyés à {email}."
                ),
            ),
            // The link's own words, without the field's name before them.
            Err(AppError::Validation(problems)) => (
                StatusCode::BAD_REQUEST,
                "Lien inutilisable",
                problems.messages(),
            ),
            Err(other) => return Err(other),
        };
    super::accounts::notice(
        &hb,
        status,
        heading,
        &message,
        Some(("/entreprise", "Mon entreprise")),
    )
}

/// A company's profile and its form.
#[derive(Serialize)]
struct ProfilePage<'a> {
    profile: suppliers::Profile,
    /// The interests as typed in their field.
    interests_text: String,
    daily: bool,
    english: bool,
    notice: Option<&'a str>,
    error: Option<String>,
    errors: FormErrors,
    territory: String,
}

/// The unsubscription: the confirmation asked, or done for the company named.
#[derive(Serialize)]
struct UnsubscribePage<'a> {
    token: &'a str,
    done: Option<String>,
}
