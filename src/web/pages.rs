use super::auth::MaybeViewer;
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services;
use actix_web::web::Data;
use actix_web::HttpResponse;
use handlebars::Handlebars;

/// The home page: what the platform is, and the tenders open to bids.
pub async fn home(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let tenders = blocking(&pool, services::public::published_tenders).await?;
    let derived = blocking(&pool, services::public::holds_derived_needs).await?;
    Page::new("pages/home", "Groupement — achats publics mutualisés", "/").render(
        &hb,
        viewer.0.as_ref(),
        HomePage { tenders, derived },
    )
}

/// The home page: the tenders open to bids.
#[derive(serde::Serialize)]
struct HomePage {
    tenders: Vec<services::public::TenderCard>,
    /// Demonstration data: the page says where the members' needs come from.
    derived: bool,
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
