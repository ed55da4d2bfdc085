use super::auth::MaybeViewer;
use super::templates::render_page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services;
use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use handlebars::Handlebars;

/// The home page: what the platform is, and the tenders open to bids.
pub async fn home(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let tenders = web::block(move || services::public::published_tenders(&pool)).await??;
    render_page(
        &hb,
        "pages/home",
        "Groupement — achats publics mutualisés",
        "/",
        viewer.0.as_ref(),
        serde_json::json!({ "tenders": tenders }),
    )
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
