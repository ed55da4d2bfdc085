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
