//! The JSON API (`/api/v1`), for buyers' and suppliers' own systems. Authenticated by API
//! tokens only (`Authorization: Bearer gpt_…`); errors are `{"error": {"code", "message",
//! "field"}}`.

use super::auth::MaybeViewer;
use super::blocking;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::needs::{
    self, ImportError, ImportRow, ListCache, NeedFilter, NeedList, NeedView, RawNeed,
};
use crate::web::nav::Viewer;
use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::HttpRequest;
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Who a token acts for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub email: String,
    pub display_name: String,
    /// `buyer`, `lead`, `supplier` or `admin`.
    pub role: String,
    /// Code of the buyer organisation (buyers and leads).
    pub organisation: Option<String>,
}

/// Every error of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `validation`, `conflict`, `internal`, …
    pub code: String,
    /// In French, for people.
    pub message: String,
    /// The (first) field at fault (`title`, `Idempotency-Key`, `2.cpv` for an item of a list).
    pub field: Option<String>,
    /// Every field at fault, each with what is wrong (validation errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<FieldProblem>>,
    /// The bad items of an import, by position: the first 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RowProblem>>,
    /// How many more problems an import has beyond those listed in `rows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// Position in the list, 1 for the first.
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// A need sent to the API. Numbers may also be sent as French text (`"1 200,5"`), dates as
/// `AAAA-MM-JJ` or `JJ/MM/AAAA`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedInput {
    /// Your own reference, unique in your organisation.
    pub need_id: Option<String>,
    /// 8 digits (a check digit after `-` is accepted); must exist in CPV 2008.
    pub cpv: String,
    pub title: String,
    pub description: Option<String>,
    pub quantity: f64,
    pub unit: String,
    /// Estimated unit price, EUR excluding VAT.
    pub unit_price_eur: f64,
    pub delivery_postcode: String,
    pub window_start: String,
    pub window_end: String,
    /// Default true.
    pub poolable: Option<bool>,
    /// Create the need submitted for pooling rather than as a draft (default false).
    pub submit: Option<bool>,
    /// In an import, the organisation code (must be the caller's, or left out).
    pub buyer: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// Who the token acts for: the first call a client makes to check its set-up.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = ApiError)),
    security(("token" = [])))]
pub async fn me(viewer: MaybeViewer) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(Me {
        role: viewer.role.code().to_string(),
        email: viewer.actor.email,
        display_name: viewer.display_name,
        organisation: viewer.actor.organisation,
    }))
}

fn caller(viewer: MaybeViewer) -> Result<Viewer, AppError> {
    viewer.0.ok_or(AppError::Unauthorized)
}

/// A need in a JSON body: numbers may come as numbers or as text, dates as `AAAA-MM-JJ`.
fn raw_need(body: &Value) -> Result<(RawNeed, bool), AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::validation("body", "un objet JSON est attendu"));
    };
    // Each field takes the JSON types the document announces, and nothing else: text as a
    // string; a number as a number or as (French) text; a yes/no as a boolean or as text.
    let problems = std::cell::RefCell::new(crate::error::Problems::default());
    let field = |name: &'static str, numbers: bool, booleans: bool| match object.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if numbers => n.to_string(),
        Some(Value::Bool(b)) if booleans => b.to_string(),
        Some(_) => {
            let expected = match (numbers, booleans) {
                (true, _) => "un nombre ou un texte est attendu",
                (_, true) => "true, false ou un texte est attendu",
                _ => "un texte est attendu",
            };
            problems.borrow_mut().add(name, expected);
            String::new()
        }
    };
    let text = |name: &'static str| field(name, false, false);
    let raw = RawNeed {
        need_id: text("need_id"),
        cpv: text("cpv"),
        title: text("title"),
        description: text("description"),
        quantity: field("quantity", true, false),
        unit: text("unit"),
        unit_price_eur: field("unit_price_eur", true, false),
        delivery_postcode: text("delivery_postcode"),
        window_start: text("window_start"),
        window_end: text("window_end"),
        poolable: field("poolable", false, true),
    };
    // (`buyer` is read by the import; here only its type is checked.)
    text("buyer");
    let submit = match object.get("submit") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            problems.borrow_mut().add("submit", "true ou false");
            false
        }
    };
    problems.into_inner().finish()?;
    Ok((raw, submit))
}

fn json_body(bytes: &Bytes) -> Result<Value, AppError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::validation("body", format!("JSON illisible : {e}")))
}

/// The caller's organisation's needs, filtered, newest first, a page at a time, with count and
/// value by status and by CPV division.
#[utoipa::path(get, path = "/api/v1/needs", tag = "needs", params(NeedFilter),
    responses((status = 200, body = NeedList), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("token" = [])))]
pub async fn needs_list(
    viewer: MaybeViewer,
    query: Query<NeedFilter>,
    pool: Data<Pool>,
    cache: Data<ListCache>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let pool = pool.into_inner();
    let list = blocking(&pool, move |pool| {
        needs::list(pool, &cache, &viewer, &query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(&*list))
}

/// Creates a need; with an `Idempotency-Key` header a retry returns the first call's need (200,
/// `Idempotent-Replayed: true`) instead of making another.
#[utoipa::path(post, path = "/api/v1/needs", tag = "needs", request_body = NeedInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any text of 1 to 200 characters, unique per need you create")),
    responses((status = 201, body = NeedView), (status = 200, body = NeedView, description = "Replayed: the need of an earlier call with the same key"),
              (status = 401, body = ApiError), (status = 403, body = ApiError),
              (status = 409, body = ApiError), (status = 422, body = ApiError)),
    security(("token" = [])))]
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
    let (need, replayed) = blocking(&pool, move |pool| {
        let idempotency = key.as_deref().map(|key| needs::Idempotency {
            key,
            request_hash: &hash,
        });
        needs::create_once(pool, &viewer, &raw, submit, idempotency)
    })
    .await?;
    let mut response = match replayed {
        true => HttpResponse::Ok(),
        false => HttpResponse::Created(),
    };
    Ok(response
        .insert_header(("Location", format!("/api/v1/needs/{}", need.id)))
        .insert_header(("Idempotent-Replayed", replayed.to_string()))
        .json(need))
}

/// One need of the caller's organisation (404 for any other).
#[utoipa::path(get, path = "/api/v1/needs/{id}", tag = "needs",
    params(("id" = i32, Path, description = "The need's number")),
    responses((status = 200, body = NeedView), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("token" = [])))]
pub async fn need_get(
    viewer: MaybeViewer,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = blocking(&pool, move |pool| needs::get(pool, &viewer, id)).await?;
    Ok(HttpResponse::Ok().json(need))
}

/// Replaces the need's fields (its status stays); refused once its lot is approved.
#[utoipa::path(put, path = "/api/v1/needs/{id}", tag = "needs", request_body = NeedInput,
    params(("id" = i32, Path, description = "The need's number")),
    responses((status = 200, body = NeedView), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 404, body = ApiError),
              (status = 409, body = ApiError), (status = 422, body = ApiError)),
    security(("token" = [])))]
pub async fn need_update(
    viewer: MaybeViewer,
    id: Path<i32>,
    body: Bytes,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (raw, _) = raw_need(&json_body(&body)?)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = blocking(&pool, move |pool| needs::update(pool, &viewer, id, &raw)).await?;
    Ok(HttpResponse::Ok().json(need))
}

/// Withdraws the need (refused once its lot is approved).
#[utoipa::path(post, path = "/api/v1/needs/{id}/withdraw", tag = "needs",
    params(("id" = i32, Path, description = "The need's number")),
    responses((status = 200, body = NeedView), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 404, body = ApiError),
              (status = 409, body = ApiError)),
    security(("token" = [])))]
pub async fn need_withdraw(
    viewer: MaybeViewer,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = caller(viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    let need = blocking(&pool, move |pool| needs::withdraw(pool, &viewer, id)).await?;
    Ok(HttpResponse::Ok().json(need))
}

/// A list of needs, imported as submitted needs, all or nothing: bad items are listed in
/// `error.rows`, by position (1 = the first) — the first 100, `error.more` counting the others.
#[utoipa::path(post, path = "/api/v1/needs/import", tag = "needs", request_body = Vec<NeedInput>,
    responses((status = 201, body = Imported), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("token" = [])))]
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
            AppError::Validation(problems) => {
                AppError::Validation(problems.within(&(i + 1).to_string()))
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
    match blocking(&pool, move |pool| needs::import(pool, needs::Importer::Actor(&viewer), &rows)).await {
        Ok(count) => Ok(HttpResponse::Created().json(Imported { imported: count })),
        Err(ImportError::Rows(errors)) => Ok(HttpResponse::UnprocessableEntity().json(json!({
            "error": {
                "code": "validation",
                "message": format!("{} problème(s) : rien n'a été importé", errors.len()),
                "field": errors.first().map(|e| e.field.clone()),
                // The first problems; `more` counts the others.
                "rows": errors.iter().take(crate::files::REPORTED_ERRORS).map(|e| json!({ "row": e.row, "field": e.field, "message": e.message })).collect::<Vec<_>>(),
                "more": errors.len().saturating_sub(crate::files::REPORTED_ERRORS),
            }
        }))),
        Err(ImportError::Other(error)) => Err(error),
    }
}
