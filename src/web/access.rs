//! Authorization in one place. Every route the portal answers is listed here with who may use
//! it; a middleware checks each request against this table before any handler runs. A route
//! registered without a rule is refused to everyone (and logged), so a new route cannot slip
//! through unguarded. Finer rules — which organisation's rows a person may see — are the
//! services' job, on top of this.

use super::auth::MaybeViewer;
use super::nav::{Role, Viewer};
use super::route::pattern_of;
use crate::error::AppError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::middleware::Next;
use actix_web::Error;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    SignedIn,
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, viewer: Option<&Viewer>) -> bool {
        match self {
            Access::Public => true,
            Access::SignedIn => viewer.is_some(),
            Access::Roles(roles) => viewer.is_some_and(|v| roles.contains(&v.role)),
        }
    }
}

/// One route: method, actix path pattern, access.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: &'static str, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
    }
}

/// Every route of the portal and who may use it.
pub const RULES: &[Rule] = &[
    rule("GET", "/", Access::Public),
    rule("GET", "/connexion", Access::Public),
    rule("POST", "/connexion", Access::Public),
    rule("POST", "/deconnexion", Access::SignedIn),
    rule("GET", "/healthz", Access::Public),
    rule("GET", "/static/{path:.*}", Access::Public),
    rule("GET", "/inscription", Access::Public),
    rule("POST", "/inscription", Access::Public),
    rule("GET", "/mot-de-passe-oublie", Access::Public),
    rule("POST", "/mot-de-passe-oublie", Access::Public),
    rule("GET", "/mot-de-passe/nouveau", Access::Public),
    rule("POST", "/mot-de-passe/nouveau", Access::Public),
    rule("GET", "/invitation", Access::Public),
    rule("POST", "/invitation", Access::Public),
    rule("GET", "/verification", Access::Public),
    rule("GET", "/desabonnement", Access::Public),
    rule("POST", "/desabonnement", Access::Public),
    rule("GET", "/entreprise", SUPPLIERS),
    rule("POST", "/entreprise", SUPPLIERS),
    rule("GET", "/entreprise/adresse", Access::Public),
    rule("GET", "/accueil", Access::SignedIn),
    rule("GET", "/compte", Access::SignedIn),
    rule("GET", "/compte/session", Access::SignedIn),
    rule("POST", "/compte/sessions/fermer", Access::SignedIn),
    rule("POST", "/compte/langue", Access::SignedIn),
    rule("POST", "/compte/verification", Access::SignedIn),
    rule("POST", "/compte/jetons", Access::SignedIn),
    rule("POST", "/compte/jetons/{id}/revoquer", Access::SignedIn),
    rule("POST", "/compte/cle-d-ouverture", LEADS),
    rule("POST", "/compte/cle-d-ouverture/phrase", LEADS),
    rule("GET", "/admin/organisations", ADMIN),
    rule("POST", "/admin/organisations", ADMIN),
    rule("GET", "/admin/organisations/{code}", ADMIN),
    rule("POST", "/admin/organisations/{code}", ADMIN),
    rule("POST", "/admin/instance-de-recours", ADMIN),
    rule("GET", "/admin/utilisateurs", ADMIN),
    rule("POST", "/admin/utilisateurs/{id}", ADMIN),
    rule("POST", "/admin/invitations", ADMIN),
    rule("GET", "/admin/journal", ADMIN),
    rule("GET", "/admin/cle-de-secours", ADMIN),
    rule("POST", "/admin/cle-de-secours", ADMIN),
    rule("GET", "/admin/parametres", ADMIN),
    rule("POST", "/admin/parametres", ADMIN),
    rule("GET", "/admin/courriels", ADMIN),
    rule("POST", "/admin/courriels/{id}/renvoyer", ADMIN),
    rule("GET", "/besoins", BUYERS),
    rule("GET", "/besoins/nouveau", BUYERS),
    rule("POST", "/besoins/nouveau", BUYERS),
    rule("POST", "/besoins/soumettre", BUYERS),
    rule("GET", "/besoins/import", BUYERS),
    rule("POST", "/besoins/import", BUYERS),
    rule("GET", "/besoins/modele.csv", BUYERS),
    rule("GET", "/besoins/modele.xlsx", BUYERS),
    rule("GET", "/besoins/export.csv", BUYERS),
    rule("GET", "/besoins/export.xlsx", BUYERS),
    rule("GET", "/besoins/{id}", BUYERS),
    rule("POST", "/besoins/{id}", BUYERS),
    rule("GET", "/besoins/{id}/retirer", BUYERS),
    rule("POST", "/besoins/{id}/retirer", BUYERS),
    rule("POST", "/besoins/{id}/programme", BUYERS),
    rule("GET", "/cpv/recherche", Access::Public),
    rule("GET", "/mutualisation", LEADS),
    rule("POST", "/mutualisation", LEADS),
    rule("GET", "/mutualisation/{id}", LEADS),
    rule("GET", "/mutualisation/{id}/consultations/{family}", LEADS),
    rule(
        "POST",
        "/consultations/{id}/questions/{question}/reponse",
        LEADS,
    ),
    rule("POST", "/mutualisation/{id}/ajuster", LEADS),
    rule("POST", "/mutualisation/{id}/frontiere", LEADS),
    rule("GET", "/mutualisation/{id}/accepter", LEADS),
    rule("POST", "/mutualisation/{id}/accepter", LEADS),
    rule("POST", "/mutualisation/{id}/abandonner", LEADS),
    rule("GET", "/consultations", BUYERS),
    rule("GET", "/consultations/{id}", BUYERS),
    rule("POST", "/consultations/{id}/decision", LEADS),
    rule("POST", "/consultations/{id}/resoumettre", LEADS),
    rule("POST", "/consultations/{id}/publier", LEADS),
    rule("POST", "/consultations/{id}/publier/verifier", LEADS),
    rule("POST", "/consultations/{id}/documents", LEADS),
    rule("POST", "/consultations/{id}/rectificatif", LEADS),
    rule("POST", "/consultations/{id}/copies/{copy}/reception", LEADS),
    rule("POST", "/consultations/{id}/copies/{copy}/ouverture", LEADS),
    rule(
        "POST",
        "/appels-d-offres/{reference}/copie-de-sauvegarde",
        SUPPLIERS,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/dume.xml",
        Access::Public,
    ),
    rule("POST", "/appels-d-offres/{reference}/dume", SUPPLIERS),
    rule(
        "POST",
        "/appels-d-offres/{reference}/dume/fichier",
        SUPPLIERS,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/dume/mien.xml",
        SUPPLIERS,
    ),
    rule("GET", "/consultations/{id}/dume/{supplier}", LEADS),
    rule("GET", "/consultations/{id}/journal", LEADS),
    rule("GET", "/consultations/{id}/journal.csv", LEADS),
    rule("GET", "/consultations/{id}/avis-ue.xml", BUYERS),
    rule("GET", "/consultations/{id}/avis-ue/{file}", BUYERS),
    rule("POST", "/consultations/{id}/avis-ue/{notice}/envoi", LEADS),
    rule(
        "POST",
        "/consultations/{id}/avis-ue/{notice}/publication",
        LEADS,
    ),
    rule("GET", "/consultations/{id}/archive.zip", LEADS),
    rule("GET", "/consultations/{id}/ouverture", LEADS),
    rule("POST", "/consultations/{id}/ouverture", LEADS),
    rule("GET", "/consultations/{id}/offres", LEADS),
    rule("POST", "/consultations/{id}/notes", LEADS),
    rule(
        "POST",
        "/consultations/{id}/offres/{bid}/justification",
        LEADS,
    ),
    rule("GET", "/consultations/{id}/attribution", LEADS),
    rule("POST", "/consultations/{id}/attribution", LEADS),
    rule("POST", "/consultations/{id}/marches/{uid}/signature", LEADS),
    rule(
        "GET",
        "/consultations/{id}/offres/documents/{document}",
        LEADS,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/documents/{id}",
        Access::Public,
    ),
    rule("GET", "/tableau-de-bord", BUYERS),
    rule("GET", "/tableau-de-bord/export.csv", BUYERS),
    rule("GET", "/tableau-de-bord/export.xlsx", BUYERS),
    rule("GET", "/open-data", Access::Public),
    rule("GET", "/accuses/cles", Access::Public),
    rule("GET", "/accuses/verifier", Access::Public),
    rule("POST", "/accuses/verifier", Access::Public),
    rule("GET", "/offres/accuses/{id}", SUPPLIERS),
    rule("GET", "/entrainement", SUPPLIERS),
    rule("POST", "/entrainement", SUPPLIERS),
    rule("GET", "/open-data/ocds.json", Access::Public),
    rule("GET", "/open-data/decp.json", Access::Public),
    rule("GET", "/open-data/marches", Access::Public),
    rule("GET", "/appels-d-offres", Access::Public),
    rule("GET", "/appels-d-offres.atom", Access::Public),
    rule("GET", "/programme-achats", Access::Public),
    rule("GET", "/programme-achats.atom", Access::Public),
    rule("GET", "/programme-achats/declaration", SUPPLIERS),
    rule("POST", "/programme-achats/declaration", SUPPLIERS),
    rule("GET", "/programme-achats/declarations", LEADS),
    rule("POST", "/programme-achats/reponse", LEADS),
    rule("GET", "/co-traitance", SUPPLIERS),
    rule("POST", "/co-traitance/annonce", SUPPLIERS),
    rule("POST", "/co-traitance/contact", SUPPLIERS),
    rule("POST", "/co-traitance/reponse", SUPPLIERS),
    rule("GET", "/appels-d-offres/{reference}", Access::Public),
    rule(
        "GET",
        "/appels-d-offres/{reference}/dce.zip",
        Access::Public,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/cle-publique.txt",
        Access::Public,
    ),
    rule("GET", "/appels-d-offres/{reference}/offre", SUPPLIERS),
    rule("POST", "/appels-d-offres/{reference}/questions", SUPPLIERS),
    rule(
        "POST",
        "/appels-d-offres/{reference}/lots/{lot}/offre",
        SUPPLIERS,
    ),
    rule(
        "POST",
        "/appels-d-offres/{reference}/groupements/{bid}/confirmation",
        SUPPLIERS,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/lots/{lot}/retrait",
        SUPPLIERS,
    ),
    rule(
        "POST",
        "/appels-d-offres/{reference}/lots/{lot}/retrait",
        SUPPLIERS,
    ),
    rule(
        "POST",
        "/appels-d-offres/{reference}/lots/{lot}/documents",
        SUPPLIERS,
    ),
    rule(
        "POST",
        "/appels-d-offres/{reference}/lots/{lot}/documents/{id}/supprimer",
        SUPPLIERS,
    ),
    rule(
        "GET",
        "/appels-d-offres/{reference}/offre/documents/{id}",
        SUPPLIERS,
    ),
    rule("GET", "/api/openapi.json", Access::Public),
    rule("GET", "/documentation/api", Access::Public),
    rule("GET", "/api/v1/me", Access::SignedIn),
    rule("GET", "/api/v1/needs", BUYERS),
    rule("POST", "/api/v1/needs", BUYERS),
    rule("POST", "/api/v1/needs/import", BUYERS),
    rule("GET", "/api/v1/needs/{id}", BUYERS),
    rule("PUT", "/api/v1/needs/{id}", BUYERS),
    rule("POST", "/api/v1/needs/{id}/withdraw", BUYERS),
];

/// Supplier companies (their own bids).
const SUPPLIERS: Access = Access::Roles(&[Role::Supplier]);

/// Procurement leads (pooling, approvals, publication).
const LEADS: Access = Access::Roles(&[Role::Lead]);

/// Buyers and leads, each on its own organisation's needs (the services scope them).
const BUYERS: Access = Access::Roles(&[Role::Buyer, Role::Lead]);

const ADMIN: Access = Access::Roles(&[Role::Admin]);

/// The middleware: looks the request's route up in [`RULES`] and refuses what is not allowed
/// with 403 (logged).
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(pattern) = pattern_of(&req) else {
        // No route: the default service answers 404.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let method = req.method().as_str().to_string();
    let rules: Vec<&Rule> = RULES.iter().filter(|r| r.path == &*pattern).collect();
    let mut anonymous = false;
    let allowed = match rules.iter().find(|r| r.method == method) {
        Some(rule) if rule.access == Access::Public => true,
        Some(rule) => {
            let viewer = req.extract::<MaybeViewer>().await?;
            anonymous = viewer.0.is_none();
            rule.access.allows(viewer.0.as_ref())
        }
        // The route exists for other methods only: 405, with the ones it takes.
        None if !rules.is_empty() => {
            let allow: Vec<&str> = rules.iter().map(|r| r.method).collect();
            let response = actix_web::HttpResponse::MethodNotAllowed()
                .insert_header((actix_web::http::header::ALLOW, allow.join(", ")))
                .json(serde_json::json!({ "error": {
                    "code": "method_not_allowed",
                    "message": format!("{method} n'est pas permis ici : {}", allow.join(", ")),
                    "field": null,
                } }));
            return Ok(req.into_response(response).map_into_right_body());
        }
        None => {
            tracing::error!(%pattern, %method, "route without an access rule refused");
            false
        }
    };
    if allowed {
        let mut response = next.call(req).await?;
        // What a signed-in person is shown is theirs alone: no cache keeps it (the back button
        // after signing out, a shared computer, a proxy).
        if super::auth::signed_in(response.request())
            && !response.headers().contains_key(CACHE_CONTROL)
        {
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response.map_into_left_body())
    } else {
        tracing::warn!(%pattern, %method, "access denied");
        // The API tells a client without a valid token to authenticate (401); a person or a
        // token without the right gets 403.
        let error = match anonymous && pattern.starts_with("/api/") {
            true => AppError::Unauthorized,
            false => AppError::Forbidden,
        };
        Ok(req.error_response(error).map_into_right_body())
    }
}
