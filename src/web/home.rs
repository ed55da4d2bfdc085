//! `/accueil`: each signed-in person's home, what is waiting for them first
//! ([`crate::services::home`]).

use super::auth::MaybeViewer;
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::home;
use actix_web::web::Data;
use actix_web::HttpResponse;
use handlebars::Handlebars;

pub async fn show(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let who = viewer.clone();
    let page = blocking(&pool, move |pool| home::home(pool, &who)).await?;
    Page::new("pages/home_person", "Mon espace — Groupement", "/accueil").render(
        &hb,
        Some(&viewer),
        page,
    )
}
