use crate::db::Pool;
use crate::services;
use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use serde_json::json;

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(pool: Data<Pool>) -> HttpResponse {
    let pool = pool.into_inner();
    let checked = web::block(move || services::health::check(&pool)).await;
    match checked {
        Ok(Ok(backend)) => HttpResponse::Ok().json(json!({ "status": "ok", "database": backend })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" })),
    }
}
