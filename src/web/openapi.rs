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
use serde::Serialize;
use serde_json::Value;
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
            Errors are `{\"error\": {\"code\", \"message\", \"field\", \"problems\"}}`: \
            a validation error lists every field at fault in `problems`."
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

/// The little Markdown the API's descriptions use, as HTML: the text escaped, then `code`,
/// *emphasis* and **strong** marked up (the descriptions are the code's own, not input).
fn light_markdown(text: &str) -> String {
    let escaped = handlebars::html_escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut code = false;
    // (The escape writes a backtick `&#x60;`.)
    for (i, part) in escaped.split("&#x60;").enumerate() {
        if i > 0 {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
        }
        if code {
            out.push_str(part);
        } else {
            out.push_str(&emphasis(part));
        }
    }
    if code {
        out.push_str("</code>");
    }
    out
}

/// `**strong**` then `*emphasis*`, outside code.
fn emphasis(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str("<strong>");
            out.push_str(part);
            out.push_str("</strong>");
        } else {
            for (j, piece) in part.split('*').enumerate() {
                match j % 2 {
                    1 => {
                        out.push_str("<em>");
                        out.push_str(piece);
                        out.push_str("</em>");
                    }
                    _ => out.push_str(piece),
                }
            }
        }
    }
    out
}

/// The documentation page: every operation with its parameters, body and answers, then every
/// schema with its fields.
pub async fn docs(
    hb: actix_web::web::Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let doc = document();
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    // Descriptions are the code's Markdown, shown as HTML.
    let rich = |v: &Value| light_markdown(v.as_str().unwrap_or(""));
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ParameterDoc {
                    name: text(&p["name"]),
                    place: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: rich(&p["description"]),
                    schema: schema_name(&p["schema"]),
                })
                .collect();
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| ResponseDoc {
                    status: status.clone(),
                    description: rich(&r["description"]),
                    schema: schema_name(&r["content"]["application/json"]["schema"]),
                })
                .collect();
            operations.push(OperationDoc {
                method: method.to_uppercase(),
                path: path.clone(),
                anchor: format!("{method}-{path}").replace(['/', '{', '}'], "-"),
                summary: text(&op["summary"]),
                description: rich(&op["description"]),
                parameters,
                body: (!body.is_null()).then(|| schema_name(body)),
                responses,
            });
        }
    }
    let schemas = doc["components"]["schemas"]
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
            let fields = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, s)| FieldDoc {
                    name: field.clone(),
                    kind: schema_name(s),
                    required: required.contains(&field.as_str()),
                    description: rich(&s["description"]),
                })
                .collect();
            SchemaDoc {
                name: name.clone(),
                description: rich(&schema["description"]),
                fields,
            }
        })
        .collect();
    let page = DocsPage {
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: rich(&doc["info"]["description"]),
        operations,
        schemas,
    };
    Page::new("pages/api_docs", "API — Groupement", "/documentation/api").render(
        &hb,
        viewer.0.as_ref(),
        page,
    )
}

/// The API's documentation page, read from its OpenAPI document.
#[derive(Serialize)]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    operations: Vec<OperationDoc>,
    schemas: Vec<SchemaDoc>,
}

#[derive(Serialize)]
struct OperationDoc {
    method: String,
    path: String,
    anchor: String,
    summary: String,
    description: String,
    parameters: Vec<ParameterDoc>,
    body: Option<String>,
    responses: Vec<ResponseDoc>,
}

#[derive(Serialize)]
struct ParameterDoc {
    name: String,
    /// Where it goes: `path`, `query`, `header`.
    #[serde(rename = "in")]
    place: String,
    required: bool,
    description: String,
    schema: String,
}

#[derive(Serialize)]
struct ResponseDoc {
    status: String,
    description: String,
    schema: String,
}

#[derive(Serialize)]
struct SchemaDoc {
    name: String,
    description: String,
    fields: Vec<FieldDoc>,
}

#[derive(Serialize)]
struct FieldDoc {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    required: bool,
    description: String,
}

#[cfg(test)]
mod markdown_tests {
    use super::light_markdown;

    #[test]
    fn code_and_emphasis_are_marked_up_and_the_rest_escaped() {
        assert_eq!(
            light_markdown("on *Mon compte* (`Authorization: Bearer <t>`) & **once**"),
            "on <em>Mon compte</em> (<code>Authorization: Bearer &lt;t&gt;</code>) &amp; <strong>once</strong>"
        );
        assert_eq!(light_markdown("`a*b`"), "<code>a*b</code>");
    }
}
