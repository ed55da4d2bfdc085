//! The practice deposit's page (`/entrainement`): what the platform accepts, said before the
//! upload, and a rehearsal of a bid that counts nowhere, with its signed receipt.

use super::auth::MaybeViewer;
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::{documents, practice, receipts};
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::Serialize;

#[derive(Serialize)]
struct PracticePage {
    formats: String,
    max_mb: usize,
    max_documents: usize,
    form: practice::PracticeForm,
    errors: super::form_errors::FormErrors,
    error: Option<String>,
    /// What the last deposit gave.
    done: Option<Done>,
    receipts: Vec<Line>,
}

#[derive(Serialize)]
struct Done {
    receipt_id: i32,
    number: String,
    at: String,
    form_sha256: String,
    documents: Vec<receipts::DocumentHash>,
}

#[derive(Serialize)]
struct Line {
    id: i32,
    number: String,
    at: String,
}

const FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "prix",
        input: "prix",
        label: "Prix",
    },
    super::form_errors::Field {
        problem: "mémoire technique",
        input: "memoire",
        label: "Mémoire technique",
    },
    super::form_errors::Field {
        problem: "fichier",
        input: "fichier",
        label: "Document",
    },
];

async fn page(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: super::nav::Viewer,
    (form, problems, error): (
        practice::PracticeForm,
        crate::error::Problems,
        Option<String>,
    ),
    done: Option<practice::PracticeOutcome>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let who = viewer.clone();
    let lines = blocking(pool, move |p| practice::receipts_of(p, &who)).await?;
    Page::new(
        "pages/bids/practice",
        "Dépôt d'entraînement — Groupement",
        "/entrainement",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        PracticePage {
            formats: documents::accepted(),
            max_mb: documents::MAX_BYTES >> 20,
            max_documents: crate::services::bids::MAX_DOCUMENTS_PER_BID,
            form,
            errors: super::form_errors::FormErrors::of(&problems, FIELDS),
            error,
            done: done.map(|d| Done {
                receipt_id: d.receipt_id,
                number: d.receipt.receipt.number.clone(),
                at: receipts::moment(&d.receipt.receipt.received_at),
                form_sha256: d.receipt.receipt.form_sha256.clone().unwrap_or_default(),
                documents: d.receipt.receipt.documents.clone(),
            }),
            receipts: lines
                .into_iter()
                .map(|l| Line {
                    id: l.id,
                    number: l.number,
                    at: crate::domain::paris_text(l.issued_at),
                })
                .collect(),
        },
    )
}

/// `GET /entrainement`.
pub async fn show(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    page(&pool, &hb, viewer, Default::default(), None, StatusCode::OK).await
}

/// `POST /entrainement` (multipart: the price, the memo, a document): the rehearsal.
pub async fn deposit(
    req: HttpRequest,
    form: actix_multipart::Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let upload =
        super::uploads::read_posted(&req, form, &settings, &viewer, documents::MAX_BYTES + 1).await;
    let (typed, outcome) = match upload {
        Ok(mut upload) => {
            let typed = practice::PracticeForm {
                price_eur: upload.field("price_eur"),
                technical_memo: upload.field("technical_memo"),
            };
            let (p, who, wanted) = (pool.clone().into_inner(), viewer.clone(), typed.clone());
            let outcome = super::uploads::with_optional_file(
                upload.file_name.clone(),
                upload.file.take(),
                move |file| practice::deposit(&p, &who, &wanted, file),
            )
            .await;
            (typed, outcome)
        }
        Err(error) => (practice::PracticeForm::default(), Err(error)),
    };
    match outcome {
        Ok(done) => {
            page(
                &pool,
                &hb,
                viewer,
                Default::default(),
                Some(done),
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let (message, problems, status) = super::form_errors::refused(error)?;
            page(&pool, &hb, viewer, (typed, problems, message), None, status).await
        }
    }
}
