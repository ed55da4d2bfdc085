//! The JSON API (`/api/v1`), for buyers' and suppliers' own systems. Authenticated by API
//! tokens only (`Authorization: Bearer gpt_…`); errors are `{"error": {"code", "message",
//! "field"}}`.

use super::auth::MaybeViewer;
use crate::error::AppError;
use actix_web::HttpResponse;
use serde_json::json;

/// Who the token acts for: the first call a client makes to check its set-up.
pub async fn me(viewer: MaybeViewer) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(json!({
        "email": viewer.email,
        "display_name": viewer.display_name,
        "role": viewer.role,
        "organisation": viewer.organisation,
    })))
}
