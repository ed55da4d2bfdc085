//! Pages reached without signing in: supplier registration, forgotten password, and the
//! single-use links of e-mails (new password, invitation, address verification).

use super::auth::{anonymous_csrf, see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{self, Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::accounts::{self, Purpose, Registration, MIN_PASSWORD_CHARS};
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

/// Renders an anonymous form page with its anti-forgery token (and cookie when new).
fn form_page<T: Serialize>(
    req: &HttpRequest,
    hb: &Handlebars<'static>,
    template: &str,
    title: &str,
    form: T,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = anonymous_csrf(req);
    let mut page = Page::new(template, title, req.path())
        .status(status)
        .render(hb, None, AnonymousForm { csrf_token, form })?;
    if let Some(cookie) = cookie {
        page.add_cookie(&cookie).map_err(AppError::internal)?;
    }
    Ok(page)
}

/// A page with one message: an outcome, or what is wrong with a link.
pub fn notice(
    hb: &Handlebars<'static>,
    status: StatusCode,
    heading: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Result<HttpResponse, AppError> {
    Page::new("pages/auth/notice", format!("{heading} — Groupement"), "")
        .status(status)
        .render(
            hb,
            None,
            NoticePage {
                heading,
                message,
                alert: !status.is_success(),
                link: link.map(|(href, label)| Link { href, label }),
            },
        )
}

/// The registration form's fields (problem name, input, label).
const REGISTER_FIELDS: &[Field] = &[
    Field {
        problem: "SIRET",
        input: "siret",
        label: "SIRET",
    },
    Field {
        problem: "raison sociale",
        input: "company",
        label: "Raison sociale",
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
        problem: "langue",
        input: "locale",
        label: "Langue de vos courriels",
    },
    Field {
        problem: "nom du contact",
        input: "contact_name",
        label: "Nom et prénom",
    },
    Field {
        problem: "adresse e-mail",
        input: "email",
        label: "Adresse e-mail",
    },
    Field {
        problem: "mot de passe",
        input: "password",
        label: "Mot de passe",
    },
    Field {
        problem: "confirmation",
        input: "password_confirmation",
        label: "Le même, une seconde fois",
    },
];

pub async fn register_page(
    req: HttpRequest,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    if viewer.0.is_some() {
        return Ok(see_other("/compte"));
    }
    form_page(
        &req,
        &hb,
        "pages/auth/register",
        "Inscrire votre entreprise — Groupement",
        RegisterPage {
            error: None,
            errors: FormErrors::none(REGISTER_FIELDS),
            form: &Registration::default(),
            min_chars: MIN_PASSWORD_CHARS,
        },
        StatusCode::OK,
    )
}

pub async fn register(
    req: HttpRequest,
    posted: Posted<Registration>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let form = posted.form;
    let outcome = match super::limits::password_form(&req, &pool).await {
        Ok(()) => {
            let (pool, base_url, submitted) =
                (pool.into_inner(), settings.base_url.clone(), form.clone());
            blocking(&pool, move |pool| {
                accounts::register_supplier(pool, &base_url, &submitted)
            })
            .await
        }
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(()) => notice(
            &hb,
            StatusCode::CREATED,
            "Entreprise inscrite",
            &format!(
                "Votre entreprise est inscrite. Un lien de confirmation a été envoyé à {} ; \
                 vous pouvez déjà vous connecter.",
                form.email.trim().to_lowercase()
            ),
            Some(("/connexion", "Se connecter")),
        ),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            form_page(
                &req,
                &hb,
                "pages/auth/register",
                "Inscrire votre entreprise — Groupement",
                RegisterPage {
                    error: message,
                    errors: FormErrors::of(&problems, REGISTER_FIELDS),
                    form: &form,
                    min_chars: MIN_PASSWORD_CHARS,
                },
                status,
            )
        }
    }
}

pub async fn forgot_page(
    req: HttpRequest,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    form_page(
        &req,
        &hb,
        "pages/auth/forgot",
        "Mot de passe oublié — Groupement",
        ForgotPage {
            error: None,
            email: "",
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether the account exists or not.
pub const RESET_SENT: &str = "Si un compte existe pour cette adresse, un e-mail vient de lui être \
     envoyé avec un lien valable une heure. Pensez à regarder dans les courriers indésirables.";

pub async fn forgot(
    req: HttpRequest,
    posted: Posted<ForgotForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    use crate::services::limits::{RESET_BY_ACCOUNT, RESET_BY_ADDRESS};
    let email = posted.form.email;
    let checks = vec![
        (RESET_BY_ADDRESS, super::limits::client_address(&req)),
        (RESET_BY_ACCOUNT, email.clone()),
    ];
    if !super::limits::allow(&pool, checks).await? {
        let email: String = email.chars().take(254).collect();
        return form_page(
            &req,
            &hb,
            "pages/auth/forgot",
            "Mot de passe oublié — Groupement",
            ForgotPage {
                error: Some("Trop de demandes : réessayez dans une minute."),
                email: &email,
            },
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let (pool, base_url) = (pool.into_inner(), settings.base_url.clone());
    blocking(&pool, move |pool| {
        accounts::request_password_reset(pool, &base_url, &email)
    })
    .await?;
    notice(
        &hb,
        StatusCode::OK,
        "Demande enregistrée",
        RESET_SENT,
        Some(("/connexion", "Retour à la connexion")),
    )
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    jeton: String,
}

fn purpose_of(req: &HttpRequest) -> Purpose {
    match req.path() {
        "/invitation" => Purpose::Invitation,
        _ => Purpose::PasswordReset,
    }
}

fn heading_of(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Invitation => "Activer votre compte",
        _ => "Choisir un nouveau mot de passe",
    }
}

fn bad_link(hb: &Handlebars<'static>, error: AppError) -> Result<HttpResponse, AppError> {
    let (message, _) = super::refused(error)?;
    notice(
        hb,
        StatusCode::BAD_REQUEST,
        "Lien inutilisable",
        &message,
        Some(("/mot-de-passe-oublie", "Demander un nouveau lien")),
    )
}

/// The new password form's fields (problem name, input, label).
const PASSWORD_FIELDS: &[Field] = &[
    Field {
        problem: "mot de passe",
        input: "password",
        label: "Nouveau mot de passe",
    },
    Field {
        problem: "confirmation",
        input: "password_confirmation",
        label: "Le même, une seconde fois",
    },
];

fn new_password_form(
    req: &HttpRequest,
    hb: &Handlebars<'static>,
    purpose: Purpose,
    token: &str,
    email: &str,
    problems: &crate::error::Problems,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    form_page(
        req,
        hb,
        "pages/auth/new_password",
        &format!("{} — Groupement", heading_of(purpose)),
        NewPasswordPage {
            heading: heading_of(purpose),
            action: purpose.path(),
            token,
            email,
            error: None,
            errors: FormErrors::of(problems, PASSWORD_FIELDS),
            min_chars: MIN_PASSWORD_CHARS,
        },
        status,
    )
}

/// The form a reset or invitation link opens (after checking the link).
pub async fn new_password_page(
    req: HttpRequest,
    query: Query<LinkQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let purpose = purpose_of(&req);
    let token = query.into_inner().jeton;
    let (pool, checked) = (pool.into_inner(), token.clone());
    match blocking(&pool, move |pool| {
        accounts::check_link(pool, purpose, &checked)
    })
    .await
    {
        Ok(user) => new_password_form(
            &req,
            &hb,
            purpose,
            &token,
            &user.email,
            &crate::error::Problems::default(),
            StatusCode::OK,
        ),
        Err(error) => bad_link(&hb, error),
    }
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

pub async fn new_password(
    req: HttpRequest,
    posted: Posted<NewPasswordForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let purpose = purpose_of(&req);
    super::limits::password_form(&req, &pool).await?;
    let form = posted.form;
    let (pool, token) = (pool.into_inner(), form.jeton.clone());
    let outcome = blocking(&pool, move |pool| {
        accounts::set_password_by_link(
            pool,
            purpose,
            &token,
            &form.password,
            &form.password_confirmation,
        )
    })
    .await;
    match outcome {
        Ok(()) => notice(
            &hb,
            StatusCode::OK,
            "Mot de passe enregistré",
            "Votre mot de passe est enregistré et toutes vos sessions ouvertes ont été fermées. \
             Connectez-vous avec le nouveau mot de passe.",
            Some(("/connexion", "Se connecter")),
        ),
        Err(AppError::Validation(problems))
            if problems.iter().all(|problem| problem.field != "lien") =>
        {
            let token = form.jeton.clone();
            let checked = token.clone();
            let user = blocking(&pool, move |pool| {
                accounts::check_link(pool, purpose, &checked)
            })
            .await?;
            new_password_form(
                &req,
                &hb,
                purpose,
                &token,
                &user.email,
                &problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(error) => bad_link(&hb, error),
    }
}

pub async fn verify(
    query: Query<LinkQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let (pool, token) = (pool.into_inner(), query.into_inner().jeton);
    match blocking(&pool, move |pool| accounts::verify_email(pool, &token)).await {
        Ok(user) => notice(
            &hb,
            StatusCode::OK,
            "Adresse confirmée",
            &format!("L'adresse {} est confirmée. Merci !", user.email),
            Some(("/compte", "Mon compte")),
        ),
        Err(error) => bad_link(&hb, error),
    }
}

/// An anonymous form and the anti-forgery token it posts back.
#[derive(Serialize)]
struct AnonymousForm<T: Serialize> {
    csrf_token: String,
    #[serde(flatten)]
    form: T,
}

/// A page with one message and, maybe, where to go next.
#[derive(Serialize)]
struct NoticePage<'a> {
    heading: &'a str,
    message: &'a str,
    alert: bool,
    link: Option<Link<'a>>,
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    label: &'a str,
}

#[derive(Serialize)]
struct RegisterPage<'a> {
    error: Option<String>,
    errors: FormErrors,
    form: &'a Registration,
    min_chars: usize,
}

#[derive(Serialize)]
struct ForgotPage<'a> {
    error: Option<&'a str>,
    email: &'a str,
}

#[derive(Serialize)]
struct NewPasswordPage<'a> {
    heading: &'a str,
    action: &'a str,
    token: &'a str,
    email: &'a str,
    error: Option<String>,
    errors: FormErrors,
    min_chars: usize,
}
