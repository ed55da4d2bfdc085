//! The HTTP layer: thin handlers that extract, call one service, and render.

pub mod access;
pub mod account;
pub mod accounts;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod awards;
pub mod bids;
pub mod body;
pub mod canonical;
pub mod charts;
pub mod cobidding;
pub mod confirm;
pub mod dashboard;
pub mod form_errors;
pub mod health;
pub mod home;
pub mod limits;
pub mod nav;
pub mod needs;
pub mod open_data;
pub mod openapi;
pub mod pages;
pub mod pooling;
pub mod practice;
pub mod programme;
pub mod receipts;
pub mod route;
pub mod suppliers;
pub mod templates;
pub mod tenders;
pub mod uploads;

use crate::error::{AppError, ErrorMessage};
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::web::{self, Data};
use actix_web::HttpResponse;
use handlebars::Handlebars;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route("/connexion", web::get().to(auth::sign_in_page))
        .route("/connexion", web::post().to(auth::sign_in))
        .route("/deconnexion", web::post().to(auth::sign_out))
        .route("/healthz", web::get().to(health::healthz))
        .route("/static/{path:.*}", web::get().to(assets::serve))
        .route("/inscription", web::get().to(accounts::register_page))
        .route("/inscription", web::post().to(accounts::register))
        .route("/mot-de-passe-oublie", web::get().to(accounts::forgot_page))
        .route("/mot-de-passe-oublie", web::post().to(accounts::forgot))
        .route(
            "/mot-de-passe/nouveau",
            web::get().to(accounts::new_password_page),
        )
        .route(
            "/mot-de-passe/nouveau",
            web::post().to(accounts::new_password),
        )
        .route("/invitation", web::get().to(accounts::new_password_page))
        .route("/invitation", web::post().to(accounts::new_password))
        .route("/verification", web::get().to(accounts::verify))
        .route("/desabonnement", web::get().to(suppliers::unsubscribe_page))
        .route("/desabonnement", web::post().to(suppliers::unsubscribe))
        .route("/entreprise", web::get().to(suppliers::show))
        .route("/entreprise", web::post().to(suppliers::update))
        .route(
            "/entreprise/adresse",
            web::get().to(suppliers::confirm_address),
        )
        .route("/accueil", web::get().to(home::show))
        .route("/compte", web::get().to(account::profile))
        .route("/compte/session", web::get().to(account::keep_alive))
        .route(
            "/compte/sessions/fermer",
            web::post().to(account::sign_out_everywhere),
        )
        .route("/compte/langue", web::post().to(account::set_locale))
        .route(
            "/compte/verification",
            web::post().to(account::resend_verification),
        )
        .route("/compte/jetons", web::post().to(account::create_token))
        .route(
            "/compte/cle-d-ouverture",
            web::post().to(account::create_opening_key),
        )
        .route(
            "/compte/cle-d-ouverture/phrase",
            web::post().to(account::change_opening_passphrase),
        )
        .route(
            "/compte/jetons/{id}/revoquer",
            web::post().to(account::revoke_token),
        )
        .route("/admin/organisations", web::get().to(admin::organisations))
        .route(
            "/admin/organisations/{code}",
            web::get().to(admin::organisation),
        )
        .route(
            "/admin/organisations/{code}",
            web::post().to(admin::update_organisation),
        )
        .route(
            "/admin/instance-de-recours",
            web::post().to(admin::review_body),
        )
        .route(
            "/admin/organisations",
            web::post().to(admin::create_organisation),
        )
        .route("/admin/utilisateurs", web::get().to(admin::users))
        .route(
            "/admin/utilisateurs/{id}",
            web::post().to(admin::change_user),
        )
        .route("/admin/invitations", web::post().to(admin::invite))
        .route("/admin/courriels", web::get().to(admin::outbox))
        .route(
            "/admin/courriels/{id}/renvoyer",
            web::post().to(admin::retry),
        )
        .route("/admin/journal", web::get().to(admin::audit_log))
        .route("/admin/cle-de-secours", web::get().to(admin::recovery_key))
        .route(
            "/admin/cle-de-secours",
            web::post().to(admin::create_recovery_key),
        )
        .route(
            "/admin/parametres",
            web::get().to(admin::procurement_settings),
        )
        .route("/admin/parametres", web::post().to(admin::record_settings))
        .route("/besoins", web::get().to(needs::list))
        .route("/besoins/nouveau", web::get().to(needs::new_form))
        .route("/besoins/nouveau", web::post().to(needs::create))
        .route("/besoins/soumettre", web::post().to(needs::submit))
        .route("/besoins/import", web::get().to(needs::import_form))
        .route("/besoins/import", web::post().to(needs::import))
        .route("/besoins/modele.csv", web::get().to(needs::template))
        .route("/besoins/modele.xlsx", web::get().to(needs::template))
        .route("/besoins/export.csv", web::get().to(needs::export))
        .route("/besoins/export.xlsx", web::get().to(needs::export))
        .route("/besoins/{id}", web::get().to(needs::show))
        .route("/besoins/{id}", web::post().to(needs::update))
        .route(
            "/besoins/{id}/retirer",
            web::get().to(needs::confirm_withdraw),
        )
        .route("/besoins/{id}/retirer", web::post().to(needs::withdraw))
        .route(
            "/besoins/{id}/programme",
            web::post().to(needs::publish_title),
        )
        .route("/cpv/recherche", web::get().to(needs::cpv_search))
        .route("/mutualisation", web::get().to(pooling::runs))
        .route("/mutualisation", web::post().to(pooling::start))
        .route("/mutualisation/{id}", web::get().to(pooling::show))
        .route(
            "/mutualisation/{id}/consultations/{family}",
            web::get().to(pooling::tender),
        )
        .route(
            "/mutualisation/{id}/ajuster",
            web::post().to(pooling::adjust),
        )
        .route(
            "/mutualisation/{id}/frontiere",
            web::post().to(pooling::choose),
        )
        .route(
            "/mutualisation/{id}/accepter",
            web::get().to(pooling::confirm_accept),
        )
        .route(
            "/mutualisation/{id}/accepter",
            web::post().to(pooling::accept),
        )
        .route(
            "/mutualisation/{id}/abandonner",
            web::post().to(pooling::discard),
        )
        .route("/consultations", web::get().to(tenders::list))
        .route(
            "/consultations/{id}/marches/{uid}/signature",
            web::post().to(tenders::sign_contract),
        )
        .route("/consultations/{id}", web::get().to(tenders::show))
        .route(
            "/consultations/{id}/ouverture",
            web::get().to(awards::confirm_open),
        )
        .route(
            "/consultations/{id}/ouverture",
            web::post().to(awards::open),
        )
        .route("/consultations/{id}/offres", web::get().to(awards::show))
        .route("/consultations/{id}/notes", web::post().to(awards::mark))
        .route(
            "/consultations/{id}/offres/{bid}/justification",
            web::post().to(awards::justification),
        )
        .route(
            "/consultations/{id}/attribution",
            web::get().to(awards::confirm_approve),
        )
        .route(
            "/consultations/{id}/attribution",
            web::post().to(awards::approve),
        )
        .route(
            "/consultations/{id}/offres/documents/{document}",
            web::get().to(awards::document),
        )
        .route(
            "/consultations/{id}/decision",
            web::post().to(tenders::decide),
        )
        .route(
            "/consultations/{id}/resoumettre",
            web::post().to(tenders::resubmit),
        )
        .route(
            "/consultations/{id}/documents",
            web::post().to(tenders::upload_document),
        )
        .route(
            "/consultations/{id}/rectificatif",
            web::post().to(tenders::change),
        )
        .route(
            "/consultations/{id}/journal",
            web::get().to(tenders::journal),
        )
        .route(
            "/consultations/{id}/copies/{copy}/reception",
            web::post().to(tenders::record_backup),
        )
        .route(
            "/consultations/{id}/copies/{copy}/ouverture",
            web::post().to(tenders::open_backup),
        )
        .route(
            "/appels-d-offres/{reference}/copie-de-sauvegarde",
            web::post().to(bids::declare_backup),
        )
        .route(
            "/appels-d-offres/{reference}/dume.xml",
            web::get().to(bids::dume_request),
        )
        .route(
            "/appels-d-offres/{reference}/dume",
            web::post().to(bids::dume_form),
        )
        .route(
            "/appels-d-offres/{reference}/dume/fichier",
            web::post().to(bids::dume_file),
        )
        .route(
            "/appels-d-offres/{reference}/dume/mien.xml",
            web::get().to(bids::own_dume),
        )
        .route(
            "/consultations/{id}/dume/{supplier}",
            web::get().to(bids::opened_dume),
        )
        .route(
            "/consultations/{id}/journal.csv",
            web::get().to(tenders::journal_csv),
        )
        .route(
            "/consultations/{id}/avis-ue.xml",
            web::get().to(tenders::latest_notice),
        )
        .route(
            "/consultations/{id}/avis-ue/{file}",
            web::get().to(tenders::notice_file),
        )
        .route(
            "/consultations/{id}/avis-ue/{notice}/envoi",
            web::post().to(tenders::send_notice),
        )
        .route(
            "/consultations/{id}/avis-ue/{notice}/publication",
            web::post().to(tenders::notice_published),
        )
        .route(
            "/consultations/{id}/archive.zip",
            web::get().to(tenders::archive),
        )
        .route(
            "/consultations/{id}/publier",
            web::post().to(tenders::publish),
        )
        .route(
            "/consultations/{id}/publier/verifier",
            web::post().to(tenders::confirm_publish),
        )
        .route(
            "/appels-d-offres/{reference}/documents/{id}",
            web::get().to(tenders::document),
        )
        .route("/tableau-de-bord", web::get().to(dashboard::show))
        .route(
            "/tableau-de-bord/export.csv",
            web::get().to(dashboard::export),
        )
        .route(
            "/tableau-de-bord/export.xlsx",
            web::get().to(dashboard::export),
        )
        .route("/accuses/cles", web::get().to(receipts::keys))
        .route("/accuses/verifier", web::get().to(receipts::verify_form))
        .route("/accuses/verifier", web::post().to(receipts::verify))
        .route("/offres/accuses/{id}", web::get().to(bids::receipt_file))
        .route("/entrainement", web::get().to(practice::show))
        .route("/entrainement", web::post().to(practice::deposit))
        .route("/open-data", web::get().to(open_data::page))
        .route("/open-data/ocds.json", web::get().to(open_data::ocds))
        .route("/open-data/decp.json", web::get().to(open_data::decp))
        .route("/open-data/marches", web::get().to(open_data::contracts))
        .route("/appels-d-offres", web::get().to(tenders::public_list))
        .route("/appels-d-offres.atom", web::get().to(tenders::atom))
        .route("/programme-achats", web::get().to(programme::page))
        .route("/programme-achats.atom", web::get().to(programme::atom))
        .route(
            "/programme-achats/declaration",
            web::get().to(programme::declaration),
        )
        .route(
            "/programme-achats/declaration",
            web::post().to(programme::declare),
        )
        .route(
            "/programme-achats/declarations",
            web::get().to(programme::declarations),
        )
        .route(
            "/programme-achats/reponse",
            web::post().to(programme::answer),
        )
        .route("/co-traitance", web::get().to(cobidding::page))
        .route("/co-traitance/annonce", web::post().to(cobidding::post))
        .route("/co-traitance/contact", web::post().to(cobidding::contact))
        .route("/co-traitance/reponse", web::post().to(cobidding::answer))
        .route(
            "/appels-d-offres/{reference}/offre",
            web::get().to(bids::show),
        )
        .route(
            "/appels-d-offres/{reference}/questions",
            web::post().to(tenders::ask),
        )
        .route(
            "/appels-d-offres/{reference}/dce.zip",
            web::get().to(tenders::file_zip),
        )
        .route(
            "/appels-d-offres/{reference}/cle-publique.txt",
            web::get().to(tenders::public_key),
        )
        .route(
            "/consultations/{id}/questions/{question}/reponse",
            web::post().to(tenders::answer_question),
        )
        .route(
            "/appels-d-offres/{reference}/lots/{lot}/offre",
            web::post().to(bids::submit),
        )
        .route(
            "/appels-d-offres/{reference}/groupements/{bid}/confirmation",
            web::post().to(bids::confirm_group),
        )
        .route(
            "/appels-d-offres/{reference}/lots/{lot}/retrait",
            web::get().to(bids::confirm_withdraw),
        )
        .route(
            "/appels-d-offres/{reference}/lots/{lot}/retrait",
            web::post().to(bids::withdraw),
        )
        .route(
            "/appels-d-offres/{reference}/lots/{lot}/documents",
            web::post().to(bids::upload_document),
        )
        .route(
            "/appels-d-offres/{reference}/lots/{lot}/documents/{id}/supprimer",
            web::post().to(bids::remove_document),
        )
        .route(
            "/appels-d-offres/{reference}/offre/documents/{id}",
            web::get().to(bids::own_document),
        )
        .route(
            "/appels-d-offres/{reference}",
            web::get().to(tenders::notice),
        )
        .route("/api/openapi.json", web::get().to(openapi::openapi_json))
        .route("/documentation/api", web::get().to(openapi::docs))
        .route("/api/v1/me", web::get().to(api::me))
        .route("/api/v1/needs", web::get().to(api::needs_list))
        .route("/api/v1/needs", web::post().to(api::need_create))
        .route("/api/v1/needs/import", web::post().to(api::needs_import))
        .route("/api/v1/needs/{id}", web::get().to(api::need_get))
        .route("/api/v1/needs/{id}", web::put().to(api::need_update))
        .route(
            "/api/v1/needs/{id}/withdraw",
            web::post().to(api::need_withdraw),
        )
        .default_service(web::to(pages::not_found));
}

/// Runs a service call on the blocking pool (diesel and argon2 block the thread): the one way
/// handlers call services. `pool` is the handler's `Data<Pool>` (or the `Arc` inside it); the
/// closure gets the pool, and what it needs besides is moved in.
pub async fn blocking<T, E>(
    pool: &impl PoolHandle,
    call: impl FnOnce(&crate::db::Pool) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<AppError> + Send + 'static,
{
    let pool = pool.handle();
    match actix_web::web::block(move || call(&pool)).await {
        Ok(outcome) => outcome,
        Err(stopped) => Err(E::from(AppError::from(stopped))),
    }
}

/// What [`blocking`] takes the pool from.
pub trait PoolHandle {
    fn handle(&self) -> std::sync::Arc<crate::db::Pool>;
}

impl PoolHandle for actix_web::web::Data<crate::db::Pool> {
    fn handle(&self) -> std::sync::Arc<crate::db::Pool> {
        self.clone().into_inner()
    }
}

impl PoolHandle for std::sync::Arc<crate::db::Pool> {
    fn handle(&self) -> std::sync::Arc<crate::db::Pool> {
        self.clone()
    }
}

/// The message and status of a refused form (a validation error or a conflict), to show the
/// form again with it; any other error goes on as an error.
pub fn refused(error: AppError) -> Result<(String, actix_web::http::StatusCode), AppError> {
    use actix_web::ResponseError;
    match error {
        AppError::Validation(_) | AppError::Conflict(_) | AppError::TooMany(_) | AppError::Busy => {
            Ok((error.public_message(), error.status_code()))
        }
        other => Err(other),
    }
}

/// Security headers on every response: nothing loaded from elsewhere, no inline script, no
/// framing, no MIME sniffing, no referrer leak; HSTS when the portal is served over https.
pub fn security_headers(https: bool) -> actix_web::middleware::DefaultHeaders {
    let mut headers = actix_web::middleware::DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"));
    if https {
        headers = headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
}

/// Paths answered in JSON, whose errors are never turned into pages.
fn is_machine_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path.starts_with("/open-data/")
}

/// Turns every error response of a page that is not already a page into the error page, with
/// the public message the handler gave (or the status's own) and nothing else.
pub fn page_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_error_page)
}

fn render_error_page<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_a_page = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // JSON answers, and pages a handler rendered itself (a form shown again with its error),
    // stay as they are.
    let carried = res.response().extensions().get::<ErrorMessage>().cloned();
    if res.request().path().starts_with("/api/") {
        return Ok(ErrorHandlerResponse::Response(api_error(res, carried)));
    }
    if is_machine_path(res.request().path()) || already_a_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = carried.map(|m| m.message);
    let viewer = auth::known_viewer(res.request());
    let body = res
        .request()
        .app_data::<Data<Handlebars<'static>>>()
        .and_then(|hb| templates::render_error(hb, status, message, viewer.as_ref()).ok())
        .unwrap_or_else(|| format!("Erreur {}", status.as_u16()));
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body);
    let response: ServiceResponse<EitherBody<B>> =
        ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(response))
}

/// An API error as JSON: `{"error": {"code", "message", "field"}}`, whatever produced it (a
/// handler, the access check, the router, a body that did not parse).
fn api_error<B>(
    res: ServiceResponse<B>,
    carried: Option<ErrorMessage>,
) -> ServiceResponse<EitherBody<B>> {
    let status = res.status();
    let is_json = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res.map_into_left_body();
    }
    let (code, message, field, problems) = match carried {
        Some(m) => (m.code, m.message, m.field, m.problems),
        None => (
            match status.as_u16() {
                400 => "bad_request",
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                _ if status.is_server_error() => "internal",
                _ => "error",
            },
            status.canonical_reason().unwrap_or("error").to_string(),
            None,
            Vec::new(),
        ),
    };
    let mut body =
        serde_json::json!({ "error": { "code": code, "message": message, "field": field } });
    if !problems.is_empty() {
        body["error"]["problems"] = serde_json::json!(problems);
    }
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = HttpResponse::build(status)
        .content_type("application/json")
        .body(body.to_string());
    ServiceResponse::new(req, response).map_into_right_body()
}
