//! `/co-traitance`: the co-bidding exchange of a planned purchase or a published lot (#24).

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{Field, FormErrors};
use super::programme::query_value;
use super::templates::Page;
use crate::db::Pool;
use crate::error::{AppError, Problems};
use crate::services::cobidding::{self, AnswerForm, ContactForm, Exchange, PostForm};
use crate::web::nav::Viewer;
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

const FIELDS: &[Field] = &[
    Field {
        problem: "annonce",
        input: "kind-offer",
        label: "Notre annonce",
    },
    Field {
        problem: "part",
        input: "part",
        label: "La part que nous prendrions",
    },
    Field {
        problem: "code CPV de la part",
        input: "part_cpv",
        label: "Code CPV de cette part",
    },
    Field {
        problem: "part de la valeur",
        input: "share",
        label: "Part de la valeur",
    },
    Field {
        problem: "capacité",
        input: "capacity",
        label: "Valeur que nous pourrions livrer",
    },
    Field {
        problem: "départements",
        input: "departments",
        label: "Départements où nous livrons",
    },
    Field {
        problem: "note",
        input: "note",
        label: "Précisions",
    },
    Field {
        problem: "message",
        input: "message",
        label: "Message",
    },
    Field {
        problem: "réponse",
        input: "answer",
        label: "Réponse",
    },
];

#[derive(Serialize)]
struct ExchangePage<'a> {
    exchange: &'a Exchange,
    form: PostForm,
    offer: bool,
    error: Option<String>,
    errors: FormErrors,
    /// The message typed in a refused request, and to whom.
    message: String,
    to_post: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TargetQuery {
    #[serde(default)]
    cible: String,
}

struct Shown {
    form: Option<PostForm>,
    contact: Option<ContactForm>,
    error: Option<String>,
    problems: Problems,
    status: StatusCode,
}

async fn render(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    key: String,
    shown: Shown,
) -> Result<HttpResponse, AppError> {
    let who = viewer.clone();
    let exchange = blocking(pool, move |p| cobidding::exchange(p, &who, &key)).await?;
    let form = shown
        .form
        .or_else(|| exchange.own.clone())
        .unwrap_or_else(|| PostForm {
            cible: exchange.target.key.clone(),
            kind: "offer".into(),
            departments: "21".into(),
            ..PostForm::default()
        });
    let contact = shown.contact.unwrap_or_default();
    Page::new(
        "pages/cobidding",
        format!(
            "Bourse à la co-traitance — {} — Groupement",
            exchange.target.label
        ),
        "/programme-achats",
    )
    .status(shown.status)
    .render(
        hb,
        Some(viewer),
        ExchangePage {
            exchange: &exchange,
            offer: form.kind != "search",
            form,
            error: shown.error,
            errors: FormErrors::of(&shown.problems, FIELDS),
            message: contact.message,
            to_post: contact.annonce.trim().parse().ok(),
        },
    )
}

/// `GET /co-traitance?cible=KEY`.
pub async fn page(
    query: Query<TargetQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let shown = Shown {
        form: None,
        contact: None,
        error: None,
        problems: Problems::default(),
        status: StatusCode::OK,
    };
    render(&pool, &hb, &viewer, query.into_inner().cible, shown).await
}

fn back(key: &str, anchor: &str) -> HttpResponse {
    see_other(&format!(
        "/co-traitance?cible={}#{anchor}",
        query_value(key)
    ))
}

/// `POST /co-traitance/annonce`: the company's entry, recorded or replaced.
pub async fn post(
    posted: Posted<PostForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (who, sent) = (viewer.clone(), form.clone());
    match blocking(&pool, move |p| cobidding::post(p, &who, &sent)).await {
        Ok(()) => Ok(back(&form.cible, "notre-annonce")),
        Err(error) => {
            let key = form.cible.clone();
            refused_page(&pool, &hb, &viewer, key, error, (Some(form), None)).await
        }
    }
}

/// `POST /co-traitance/contact`: asks a company to answer together.
pub async fn contact(
    posted: Posted<ContactForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (who, sent, base) = (viewer.clone(), form.clone(), settings.base_url.clone());
    match blocking(&pool, move |p| cobidding::contact(p, &who, &base, &sent)).await {
        Ok(()) => Ok(back(
            &form.cible,
            &format!("annonce-{}", form.annonce.trim()),
        )),
        Err(error) => {
            let key = form.cible.clone();
            refused_page(&pool, &hb, &viewer, key, error, (None, Some(form))).await
        }
    }
}

/// `POST /co-traitance/reponse`: accepts or declines a request.
pub async fn answer(
    posted: Posted<AnswerForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (who, sent, base) = (viewer.clone(), form.clone(), settings.base_url.clone());
    match blocking(&pool, move |p| cobidding::answer(p, &who, &base, &sent)).await {
        Ok(key) => Ok(back(&key, "partenaires")),
        Err(error) => {
            let key = form.cible.clone();
            refused_page(&pool, &hb, &viewer, key, error, (None, None)).await
        }
    }
}

/// The exchange shown again with why a form was refused, and what was typed in it.
async fn refused_page(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    key: String,
    error: AppError,
    (form, contact): (Option<PostForm>, Option<ContactForm>),
) -> Result<HttpResponse, AppError> {
    let (error, problems, status) = super::form_errors::refused(error)?;
    let shown = Shown {
        form,
        contact,
        error,
        problems,
        status,
    };
    render(pool, hb, viewer, key, shown).await
}
