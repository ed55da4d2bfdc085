//! The platform's receipt keys and the page that checks a receipt, for anyone: a company, a
//! buyer, a judge.

use super::auth::{anonymous_csrf, MaybeViewer, Posted};
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::receipts::{self, Verdict};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

/// `GET /accuses/cles`: every public key that signed receipts here (JSON).
pub async fn keys(pool: Data<Pool>) -> Result<HttpResponse, AppError> {
    let keys = blocking(&pool, receipts::public_keys).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .json(serde_json::json!({
            "platform": "Groupement",
            "format": "receipts signed with Ed25519 over the line `groupement-receipt-v1` and the receipt's JSON",
            "keys": keys,
        })))
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    receipt: String,
}

#[derive(Serialize)]
struct VerifyPage {
    csrf_token: String,
    keys: Vec<receipts::PublicKey>,
    typed: String,
    /// What the check found, once a receipt was sent.
    result: Option<Outcome>,
}

#[derive(Serialize)]
struct Outcome {
    valid: bool,
    message: String,
    facts: Vec<(String, String)>,
    documents: Vec<receipts::DocumentHash>,
}

async fn page(
    req: &HttpRequest,
    hb: &Handlebars<'static>,
    viewer: Option<super::nav::Viewer>,
    typed: String,
    result: Option<Outcome>,
    keys: Vec<receipts::PublicKey>,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = match &viewer {
        Some(v) => (v.csrf_token.clone(), None),
        None => anonymous_csrf(req),
    };
    let status = match &result {
        Some(outcome) if !outcome.valid => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let mut response = Page::new(
        "pages/receipts/verify",
        "Vérifier un accusé de réception — Groupement",
        "/accuses/verifier",
    )
    .status(status)
    .render(
        hb,
        viewer.as_ref(),
        VerifyPage {
            csrf_token,
            keys,
            typed,
            result,
        },
    )?;
    if let Some(cookie) = cookie {
        response.add_cookie(&cookie).map_err(AppError::internal)?;
    }
    Ok(response)
}

/// `GET /accuses/verifier`: the form.
pub async fn verify_form(
    req: HttpRequest,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let keys = blocking(&pool, receipts::public_keys).await?;
    page(&req, &hb, viewer.0, String::new(), None, keys).await
}

/// `POST /accuses/verifier`: the receipt pasted, checked against this platform's keys.
pub async fn verify(
    req: HttpRequest,
    posted: Posted<VerifyForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let text = posted.form.receipt;
    let keys = blocking(&pool, receipts::public_keys).await?;
    let trusted: Vec<String> = keys.iter().map(|k| k.public_key.clone()).collect();
    let outcome = match receipts::parse(&text) {
        Err(message) => Outcome {
            valid: false,
            message,
            facts: Vec::new(),
            documents: Vec::new(),
        },
        Ok(signed) => {
            let verdict = receipts::verify(&signed, Some(&trusted));
            let r = &signed.receipt;
            Outcome {
                valid: verdict == Verdict::Valid,
                message: match verdict {
                    Verdict::Valid => format!(
                        "Accusé authentique : signé par la plateforme (clé {}), il n'a pas été modifié.",
                        signed.key_id
                    ),
                    Verdict::BadSignature => "Accusé NON valide : la signature ne correspond pas au contenu — l'accusé a été modifié, ou n'a pas été signé par cette clé.".into(),
                    Verdict::UnknownKey => format!(
                        "Accusé NON reconnu : sa signature est cohérente, mais la clé {} n'est pas une clé de cette plateforme.",
                        signed.key_id
                    ),
                },
                facts: vec![
                    ("Accusé n°".into(), r.number.clone()),
                    ("Dépôt".into(), receipts::event_label(&r.event).into()),
                    (
                        "Consultation".into(),
                        match r.lot {
                            0 => format!("{}, toute la consultation", r.tender),
                            lot => format!("{}, lot {lot}", r.tender),
                        },
                    ),
                    ("Entreprise".into(), format!("{} (SIRET {})", r.company, r.siret)),
                    ("Reçu le".into(), receipts::moment(&r.received_at)),
                    ("Date limite".into(), receipts::moment(&r.deadline)),
                    (
                        "Dans le délai".into(),
                        if r.late { "non : hors délai, non ouverte" } else { "oui" }.into(),
                    ),
                    (
                        "Empreinte de l'offre (SHA-256)".into(),
                        r.form_sha256.clone().unwrap_or_else(|| "— (offre retirée)".into()),
                    ),
                    (
                        "Empreinte de l'offre chiffrée, conservée jusqu'à l'ouverture".into(),
                        r.sealed_sha256
                            .clone()
                            .unwrap_or_else(|| "— (non chiffrée)".into()),
                    ),
                ],
                documents: r.documents.clone(),
            }
        }
    };
    let typed = match text.len() > 64 * 1024 {
        true => String::new(),
        false => text,
    };
    page(&req, &hb, posted.viewer, typed, Some(outcome), keys).await
}
