//! The open-data documents, for anyone: `/open-data/ocds.json` (OCDS release package) and
//! `/open-data/decp.json` (DECP v2).

use super::blocking;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::open_data;
use crate::Settings;
use actix_web::web::Data;
use actix_web::HttpResponse;

fn document(value: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(value)
}

pub async fn ocds(pool: Data<Pool>, settings: Data<Settings>) -> Result<HttpResponse, AppError> {
    let (pool, base) = (pool.into_inner(), settings.base_url.clone());
    let value = blocking(&pool, move |pool| {
        let mut conn = pool.get()?;
        Ok::<_, AppError>(open_data::ocds_package(&mut conn, &base)?)
    })
    .await?;
    Ok(document(value))
}

pub async fn decp(pool: Data<Pool>) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let value = blocking(&pool, move |pool| {
        let mut conn = pool.get()?;
        Ok::<_, AppError>(open_data::decp(&mut conn)?)
    })
    .await?;
    Ok(document(value))
}

/// `/open-data`: what the groupement publishes, in which formats, under which licence, how
/// fresh, with the links — for a journalist, a researcher or a company's tool.
pub async fn page(
    pool: Data<Pool>,
    hb: Data<handlebars::Handlebars<'static>>,
    viewer: super::auth::MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let (releases, contracts) = blocking(&pool, move |pool| {
        let mut conn = pool.get()?;
        Ok::<_, AppError>(open_data::counts(&mut conn)?)
    })
    .await?;
    super::templates::Page::new(
        "pages/open_data",
        "Données ouvertes — Groupement",
        "/open-data",
    )
    .render(
        &hb,
        viewer.0.as_ref(),
        OpenDataPage {
            releases,
            contracts,
            at: crate::domain::paris_text(chrono::Utc::now().naive_utc()),
            decp_threshold: crate::domain::Cents::new(open_data::DECP_THRESHOLD_CENTS).to_string(),
        },
    )
}

#[derive(serde::Serialize)]
struct OpenDataPage {
    releases: i64,
    contracts: i64,
    at: String,
    decp_threshold: String,
}

/// The filters of the contracts' search, by their French labels.
const CONTRACT_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "q",
        input: "q",
        label: "Mots",
    },
    super::form_errors::Field {
        problem: "cpv",
        input: "cpv",
        label: "Code CPV",
    },
    super::form_errors::Field {
        problem: "from",
        input: "from",
        label: "Notifiés depuis le",
    },
    super::form_errors::Field {
        problem: "to",
        input: "to",
        label: "Notifiés jusqu'au",
    },
];

#[derive(serde::Serialize)]
struct Choice {
    code: String,
    label: String,
    selected: bool,
}

#[derive(serde::Serialize)]
struct ContractsPage {
    filter: open_data::ContractFilter,
    contracts: Vec<open_data::ContractCard>,
    matched: usize,
    shown: usize,
    buyers: Vec<Choice>,
    procedures: Vec<Choice>,
    errors: super::form_errors::FormErrors,
    error: Option<String>,
    decp_threshold: String,
    /// Whether any filter was given (an empty result then says so differently).
    filtered: bool,
}

/// `GET /open-data/marches`: the contracts the DECP file publishes, searched with the filters
/// of the public list of tenders (words, CPV, member, procedure, period of notification).
pub async fn contracts(
    query: actix_web::web::Query<open_data::ContractFilter>,
    pool: Data<Pool>,
    hb: Data<handlebars::Handlebars<'static>>,
    viewer: super::auth::MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let wanted = filter.clone();
    let (found, matched, error, problems, status) =
        match blocking(&pool, move |p| open_data::search_contracts(p, &wanted)).await {
            Ok((found, matched)) => (
                found,
                matched,
                None,
                crate::error::Problems::default(),
                actix_web::http::StatusCode::OK,
            ),
            Err(e) => {
                let (message, problems, status) = super::form_errors::refused(e)?;
                (Vec::new(), 0, message, problems, status)
            }
        };
    let members = blocking(&pool, crate::services::public::members).await?;
    let buyers = members
        .into_iter()
        .map(|(code, name)| Choice {
            selected: filter.buyer.trim().eq_ignore_ascii_case(&code),
            label: format!("{name} ({code})"),
            code,
        })
        .collect();
    let procedures = ["no_competition", "adapted", "formal"]
        .into_iter()
        .map(|code| Choice {
            code: code.to_string(),
            label: crate::services::public::procedure_label(code).to_string(),
            selected: filter.procedure == code,
        })
        .collect();
    super::templates::Page::new(
        "pages/open_data_contracts",
        "Marchés publiés (données essentielles) — Groupement",
        "/open-data",
    )
    .status(status)
    .render(
        &hb,
        viewer.0.as_ref(),
        ContractsPage {
            filtered: [
                &filter.q,
                &filter.cpv,
                &filter.buyer,
                &filter.procedure,
                &filter.from,
                &filter.to,
            ]
            .iter()
            .any(|f| !f.trim().is_empty()),
            shown: found.len(),
            contracts: found,
            matched,
            filter,
            buyers,
            procedures,
            errors: super::form_errors::FormErrors::of(&problems, CONTRACT_FIELDS),
            error,
            decp_threshold: crate::domain::Cents::new(open_data::DECP_THRESHOLD_CENTS).to_string(),
        },
    )
}
