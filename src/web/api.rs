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

use crate::db::Pool;
use crate::services::needs::{self, ImportError, ImportRow, NeedFilter, RawNeed};
use crate::web::nav::Viewer;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::HttpRequest;
use serde_json::Value;

fn caller(viewer: MaybeViewer) -> Result<Viewer, AppError> {
    viewer.0.ok_or(AppError::Unauthorized)
}

/// A need in a JSON body: numbers may come as numbers or as text, dates as `AAAA-MM-JJ`.
fn raw_need(body: &Value) -> Result<(RawNeed, bool), AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::validation("body", "un objet JSON est attendu"));
    };
    let text = |name: &str| match object.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let submit = match object.get("submit") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(AppError::validation("submit", "true ou false")),
    };
    Ok((
        RawNeed {
            need_id: text("need_id"),
            cpv: text("cpv"),
            title: text("title"),
            description: text("description"),
            quantity: text("quantity"),
            unit: text("unit"),
            unit_price_eur: text("unit_price_eur"),
            delivery_postcode: text("delivery_postcode"),
            window_start: text("window_start"),
            window_end: text("window_end"),
            poolable: text("poolable"),
        },
        submit,
    ))
}

fn json_body(bytes: &Bytes) -> Result<Value, AppError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::validation("body", format!("JSON illisible : {e}")))
}

/// `GET /api/v1/needs`: the caller's organisation's needs, filtered, a page at a time.
pub async fn needs_list(
    viewer: MaybeViewer,
    query: Query<NeedFilter>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let pool = pool.into_inner();
    let list = web::block(move || needs::list(&pool, &viewer, &query)).await??;
    Ok(HttpResponse::Ok().json(list))
}

/// `POST /api/v1/needs`: creates a need; with an `Idempotency-Key` header a retry returns the
/// first call's need (200, `Idempotent-Replayed: true`) instead of making another.
pub async fn need_create(
    req: HttpRequest,
    viewer: MaybeViewer,
    body: Bytes,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    use sha2::{Digest, Sha256};
    let viewer = caller(viewer)?;
    let (raw, submit) = raw_need(&json_body(&body)?)?;
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| AppError::validation("Idempotency-Key", "une clé en ASCII"))?;
    let hash: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let pool = pool.into_inner();
    let (need, replayed) = web::block(move || {
        let idempotency = key.as_deref().map(|key| needs::Idempotency {
            key,
            request_hash: &hash,
        });
        needs::create_once(&pool, &viewer, &raw, submit, idempotency)
    })
    .await??;
    let mut response = match replayed {
        true => HttpResponse::Ok(),
        false => HttpResponse::Created(),
    };
    Ok(response
        .insert_header(("Location", format!("/api/v1/needs/{}", need.id)))
        .insert_header(("Idempotent-Replayed", replayed.to_string()))
        .json(need))
}

pub async fn need_get(
    viewer: MaybeViewer,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = web::block(move || needs::get(&pool, &viewer, id)).await??;
    Ok(HttpResponse::Ok().json(need))
}

/// `PUT /api/v1/needs/{id}`: replaces the need's fields (its status stays).
pub async fn need_update(
    viewer: MaybeViewer,
    id: Path<i32>,
    body: Bytes,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (raw, _) = raw_need(&json_body(&body)?)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = web::block(move || needs::update(&pool, &viewer, id, &raw)).await??;
    Ok(HttpResponse::Ok().json(need))
}

pub async fn need_withdraw(
    viewer: MaybeViewer,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = web::block(move || needs::withdraw(&pool, &viewer, id)).await??;
    Ok(HttpResponse::Ok().json(need))
}

/// `POST /api/v1/needs/import`: a JSON list of needs, all or nothing (submitted needs). Bad
/// items are all listed, by position (1 = the first).
pub async fn needs_import(
    viewer: MaybeViewer,
    body: Bytes,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let Value::Array(items) = json_body(&body)? else {
        return Err(AppError::validation(
            "body",
            "une liste JSON de besoins est attendue",
        ));
    };
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (need, _) = raw_need(item).map_err(|e| match e {
            AppError::Validation { field, message } => {
                AppError::validation(format!("{}.{field}", i + 1), message)
            }
            other => other,
        })?;
        let buyer = item
            .get("buyer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        rows.push(ImportRow {
            number: i + 1,
            buyer: buyer.to_string(),
            need,
        });
    }
    let pool = pool.into_inner();
    match web::block(move || needs::import(&pool, needs::Importer::Viewer(&viewer), &rows)).await? {
        Ok(count) => Ok(HttpResponse::Created().json(json!({ "imported": count }))),
        Err(ImportError::Rows(errors)) => Ok(HttpResponse::UnprocessableEntity().json(json!({
            "error": {
                "code": "validation",
                "message": format!("{} problème(s) : rien n'a été importé", errors.len()),
                "field": errors.first().map(|e| e.field.clone()),
                "rows": errors.iter().map(|e| json!({ "row": e.row, "field": e.field, "message": e.message })).collect::<Vec<_>>(),
            }
        }))),
        Err(ImportError::Other(error)) => Err(error),
    }
}
