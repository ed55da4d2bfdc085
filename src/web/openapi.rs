//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' annotations and the
//! types they return (utoipa), at `/api/openapi.json`; and its documentation page at
//! `/api/docs`, rendered on the server from the same document — nothing loaded from a CDN, no
//! script.

use super::api;
use super::auth::MaybeViewer;
use super::templates::Page;
use crate::error::AppError;
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde_json::{json, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Groupement — API",
        version = "1",
        description = "The JSON API of Groupement, the joint procurement platform of the Dijon \
            area's public buyers. Authenticate with an API token created on *Mon compte* \
            (`Authorization: Bearer gpt_…`); a token acts with its owner's role and organisation. \
            Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    paths(
        api::me,
        api::needs_list,
        api::need_create,
        api::needs_import,
        api::need_get,
        api::need_update,
        api::need_withdraw,
    ),
    components(schemas(api::NeedInput, api::ApiError)),
    modifiers(&BearerToken),
    tags(
        (name = "account", description = "The token's owner"),
        (name = "needs", description = "Purchasing needs of the caller's organisation"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as JSON.
pub fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null)
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// A schema reference's name (`#/components/schemas/NeedView` → `NeedView`).
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    if let Some(items) = schema.get("items") {
        return format!("liste de {}", schema_name(items));
    }
    schema
        .get("type")
        .map(|t| t.to_string().replace('"', ""))
        .unwrap_or_default()
}

/// The documentation page: every operation with its parameters, body and answers, then every
/// schema with its fields.
pub async fn docs(
    hb: actix_web::web::Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let doc = document();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let parameters: Vec<Value> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    json!({ "name": p["name"], "in": p["in"], "required": p["required"].as_bool().unwrap_or(false),
                            "description": p["description"].as_str().unwrap_or(""),
                            "schema": schema_name(&p["schema"]) })
                })
                .collect();
            let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
            let responses: Vec<Value> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    json!({ "status": status, "description": r["description"].as_str().unwrap_or(""),
                            "schema": schema_name(&r["content"]["application/json"]["schema"]) })
                })
                .collect();
            operations.push(json!({
                "method": method.to_uppercase(), "path": path, "anchor": format!("{method}-{path}").replace(['/', '{', '}'], "-"),
                "summary": op["summary"].as_str().unwrap_or(""), "description": op["description"].as_str().unwrap_or(""),
                "parameters": parameters, "body": (!body.is_null()).then(|| schema_name(&body)), "responses": responses,
            }));
        }
    }
    let schemas: Vec<Value> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields: Vec<Value> = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, s)| {
                    json!({ "name": field, "type": schema_name(s), "required": required.contains(&field.as_str()),
                            "description": s["description"].as_str().unwrap_or("") })
                })
                .collect();
            json!({ "name": name, "description": schema["description"].as_str().unwrap_or(""), "fields": fields })
        })
        .collect();
    Page::new("pages/api_docs", "API — Groupement", "/documentation/api").render(&hb, viewer.0.as_ref(), json!({ "title": doc["info"]["title"], "version": doc["info"]["version"],
                "description": doc["info"]["description"], "operations": operations, "schemas": schemas }))
}
