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
