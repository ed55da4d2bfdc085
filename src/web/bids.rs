//! A supplier's bids on a published tender: one form per lot (submit, revise, withdraw until
//! the deadline; after it, a bid is received as late) and the signed receipts.

use super::auth::{MaybeViewer, Posted};
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::{paris_text, Cents};
use crate::error::AppError;
use crate::services::bids::{self, BidForm, Receipt};
use crate::services::documents;
use crate::web::nav::Viewer;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::Serialize;

/// A supplier's page of a tender: a form per lot, its bid if any, the receipt of the last one.
#[derive(Serialize)]
struct BidPage {
    reference: String,
    title: String,
    deadline: String,
    open: bool,
    verified: bool,
    can_bid: bool,
    lots: Vec<LotForm>,
    error: Option<String>,
    max_mb: usize,
    formats: String,
    max_documents: usize,
    receipt: Option<ReceiptView>,
    receipts: Vec<SignedLine>,
    /// The backup copy declared, in words, or the media to choose from.
    backup: Option<String>,
    media: Vec<Medium>,
    /// The DUME given, in words, and its form (what was typed when refused).
    dume: Option<DumeView>,
    dume_form: crate::services::espd::DumeForm,
    dume_errors: super::form_errors::FormErrors,
    /// Group bids naming the company as co-contractor, to confirm (#24).
    invitations: Vec<crate::services::groups::Invitation>,
}

#[derive(Serialize)]
struct DumeView {
    /// Encrypted until the opening: its XML is nobody's to read back before.
    sealed: bool,
    received_at: String,
    source: &'static str,
    summary: String,
}

/// The DUME form's fields (problem name, input, label).
const DUME_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "exercice",
        input: "dume-year",
        label: "Dernier exercice clos",
    },
    super::form_errors::Field {
        problem: "chiffre d'affaires",
        input: "dume-turnover",
        label: "Chiffre d'affaires",
    },
    super::form_errors::Field {
        problem: "effectif",
        input: "dume-headcount",
        label: "Effectif moyen",
    },
    super::form_errors::Field {
        problem: "déclaration sur l'honneur",
        input: "dume-sworn",
        label: "Déclaration sur l'honneur",
    },
    super::form_errors::Field {
        problem: "fichier",
        input: "dume-file",
        label: "Fichier DUME",
    },
];

/// A DUME in words: what the lead reads at the opening and the company on its page.
pub fn dume_summary(d: &crate::services::espd::Declaration) -> String {
    let mut parts = vec![format!("{} (SIRET {})", d.company, d.siret)];
    if let (Some(year), Some(cents)) = (d.turnover_year, d.turnover_cents) {
        parts.push(format!("chiffre d'affaires {year} : {}", Cents::new(cents)));
    }
    if let Some(n) = d.headcount {
        parts.push(format!("effectif moyen : {n}"));
    }
    parts.push(if d.sme {
        "PME".into()
    } else {
        "hors PME".into()
    });
    parts.push(match d.exclusions.is_empty() {
        true => "aucun motif d'exclusion déclaré".into(),
        false => format!("MOTIFS D'EXCLUSION DÉCLARÉS : {}", d.exclusions.join(", ")),
    });
    parts.join(" ; ")
}

#[derive(Serialize)]
struct Medium {
    code: &'static str,
    label: &'static str,
}

/// A signed receipt of the company, listed with its lot.
#[derive(Serialize)]
struct SignedLine {
    id: i32,
    /// The lot, or « — » for the whole tender (a DUME).
    lot: String,
    number: String,
    event: &'static str,
    at: String,
}

#[derive(Serialize)]
struct LotForm {
    number: i32,
    heading: String,
    value: String,
    bid: Option<BidView>,
    /// What the form shows: what was just typed when it was refused (nothing typed is lost),
    /// else the bid as stored.
    form: BidForm,
    /// Why the lot's form was refused, beside it.
    error: Option<String>,
}

#[derive(Serialize)]
struct BidView {
    id: i32,
    receipt: String,
    price_text: String,
    /// Encrypted to the tender's key: its price is not shown, not even to its company.
    sealed: bool,
    withdrawn: bool,
    at: String,
    documents: Vec<DocumentLine>,
    /// Its group of companies, in words.
    group: Option<String>,
}

#[derive(Serialize)]
struct DocumentLine {
    id: i32,
    sealed: bool,
    name: String,
    size: String,
}

#[derive(Serialize)]
struct ReceiptView {
    bid: String,
    lot: i32,
    at: String,
    revised: bool,
    late: bool,
    /// The signed receipt's id.
    signed: i32,
}

/// What was refused on one lot's form: the lot, what was typed, why.
struct Refused {
    lot: i32,
    /// What was typed, when the form itself was sent (a refused document leaves the form as
    /// stored).
    typed: Option<BidForm>,
    message: String,
    /// The DUME's form as typed and its problems, when it was the one refused.
    dume: Option<(crate::services::espd::DumeForm, crate::error::Problems)>,
}

async fn bid_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    reference: String,
    receipt: Option<Receipt>,
    refused: Option<Refused>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let who = viewer.clone();
    let page = blocking(&pool, move |p| bids::page(p, &who, &reference)).await?;
    let lots = page
        .lots
        .iter()
        .map(|l| {
            // A sealed bid is unreadable, its company's included: revised by typing it again.
            let readable = l.bid.as_ref().filter(|b| !b.sealed);
            let stored = BidForm {
                price_eur: readable
                    .map(|b| {
                        crate::services::needs::french_number(
                            Cents::new(b.price_cents).to_euros_f64(),
                        )
                    })
                    .unwrap_or_default(),
                technical_memo: readable
                    .map(|b| b.technical_memo.clone())
                    .unwrap_or_default(),
                environment_data: readable
                    .map(|b| b.environment_data.clone())
                    .unwrap_or_default(),
                group: l
                    .bid
                    .as_ref()
                    .and_then(|b| b.group_form.clone())
                    .unwrap_or_default(),
            };
            let (form, error) = match &refused {
                Some(r) if r.lot == l.number => {
                    (r.typed.clone().unwrap_or(stored), Some(r.message.clone()))
                }
                _ => (stored, None),
            };
            LotForm {
                number: l.number,
                heading: crate::services::tenders::lot_heading(l.number, &l.title),
                value: Cents::new(l.value_cents).to_string(),
                bid: l.bid.as_ref().map(|b| BidView {
                    id: b.id,
                    receipt: b.receipt.clone(),
                    price_text: Cents::new(b.price_cents).to_string(),
                    sealed: b.sealed,
                    withdrawn: b.status == crate::domain::BidStatus::Withdrawn,
                    at: paris_text(b.updated_at),
                    group: b.group.as_ref().map(|g| g.describe()),
                    documents: b
                        .documents
                        .iter()
                        .map(|d| DocumentLine {
                            id: d.id,
                            sealed: d.seal_state.as_deref() == Some("sealed"),
                            name: d.name.clone(),
                            size: format!(
                                "{} Mo",
                                crate::domain::Locale::Fr
                                    .decimal(d.size_bytes as f64 / 1_048_576.0, 1)
                            ),
                        })
                        .collect(),
                }),
                form,
                error,
            }
        })
        .collect();
    let view = BidPage {
        deadline: paris_text(page.deadline),
        open: page.open,
        verified: page.verified,
        // After the deadline a bid is still received, as late: kept, never opened.
        can_bid: page.verified,
        lots,
        // (Lot 0: the tender's backup copy, not a lot's form.)
        error: refused.as_ref().map(|r| match r.lot {
            0 => r.message.clone(),
            lot => format!("Lot {lot} : {}", r.message),
        }),
        max_mb: documents::MAX_BYTES >> 20,
        formats: documents::accepted(),
        max_documents: bids::MAX_DOCUMENTS_PER_BID,
        receipt: receipt.map(|r| ReceiptView {
            bid: r.number,
            lot: r.lot,
            at: paris_text(r.at),
            revised: r.revised,
            late: r.late,
            signed: r.signed,
        }),
        backup: page.backup.as_ref().map(|b| {
            let mut text = format!(
                "déclarée le {}, {}",
                paris_text(b.declared_at),
                crate::services::tenders::medium_label(&b.medium)
            );
            if let Some(at) = b.received_at {
                text.push_str(&format!(" ; reçue par l'acheteur le {}", paris_text(at)));
            }
            text
        }),
        dume: page.dume.as_ref().map(|d| DumeView {
            sealed: d.seal_state.as_deref() == Some("sealed"),
            received_at: paris_text(d.received_at),
            source: match d.source.as_str() {
                "fichier" => "fichier DUME déposé",
                _ => "DUME simplifié rempli en ligne",
            },
            summary: d.declaration.as_ref().map_or_else(
                || {
                    "chiffré dès sa réception : personne ne peut le lire avant l'ouverture des \
                     plis (son empreinte figure sur votre accusé de réception)"
                        .to_string()
                },
                dume_summary,
            ),
        }),
        dume_form: refused
            .as_ref()
            .and_then(|r| r.dume.as_ref())
            .map(|(f, _)| f.clone())
            .unwrap_or_default(),
        dume_errors: super::form_errors::FormErrors::of(
            &refused
                .as_ref()
                .and_then(|r| r.dume.as_ref())
                .map(|(_, p)| p.clone())
                .unwrap_or_default(),
            DUME_FIELDS,
        ),
        media: crate::services::tenders::MEDIA
            .iter()
            .map(|(code, label)| Medium { code, label })
            .collect(),
        receipts: page
            .receipts
            .iter()
            .map(|r| SignedLine {
                id: r.id,
                lot: match r.lot {
                    0 => "—".to_string(),
                    n => n.to_string(),
                },
                number: r.number.clone(),
                event: crate::services::receipts::event_label(&r.event),
                at: paris_text(r.issued_at),
            })
            .collect(),
        invitations: page.invitations.clone(),
        reference: page.reference,
        title: page.title,
    };
    Page::new(
        "pages/bids/tender",
        format!("Répondre à {} — Groupement", view.reference),
        "",
    )
    .status(status)
    .render(hb, Some(&viewer), view)
}

pub async fn show(
    reference: Path<String>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    bid_page(
        pool,
        &hb,
        viewer,
        reference.into_inner(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn submit(
    path: Path<(String, i32)>,
    posted: Posted<BidForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<crate::Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (reference, lot) = path.into_inner();
    let (who, r, form) = (viewer.clone(), reference.clone(), posted.form.clone());
    let base = settings.base_url.clone();
    match blocking(&pool, move |p| {
        bids::submit_as(p, &who, &base, &r, lot, &form)
    })
    .await
    {
        Ok(receipt) => {
            bid_page(
                pool,
                &hb,
                viewer,
                reference,
                Some(receipt),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot,
                typed: Some(posted.form),
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}

pub async fn withdraw(
    path: Path<(String, i32)>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (reference, lot) = path.into_inner();
    let (p, who, r) = (pool.clone().into_inner(), viewer.clone(), reference.clone());
    match blocking(&p, move |p| bids::withdraw(p, &who, &r, lot)).await {
        Ok(()) => bid_page(pool, &hb, viewer, reference, None, None, StatusCode::OK).await,
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot,
                typed: None,
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}

/// `GET …/lots/{lot}/retrait`: what withdrawing the bid does, before it is done.
pub async fn confirm_withdraw(
    path: Path<(String, i32)>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (reference, lot) = path.into_inner();
    let (who, r) = (viewer.clone(), reference.clone());
    let page = blocking(&pool, move |p| bids::page(p, &who, &r)).await?;
    let bid = page
        .lots
        .iter()
        .find(|l| l.number == lot)
        .and_then(|l| l.bid.as_ref())
        .filter(|b| b.status == crate::domain::BidStatus::Submitted)
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "vous n'avez pas d'offre en cours sur le lot {lot} : rien à retirer"
            ))
        })?;
    let documents = match bid.documents.len() {
        0 => "Elle n'a pas de document joint.".to_string(),
        1 => "Son document joint sera supprimé.".to_string(),
        n => format!("Ses {n} documents joints seront supprimés."),
    };
    super::confirm::Confirmation {
        heading: format!("Retirer votre offre sur le lot {lot} ?"),
        consequences: vec![
            match bid.sealed {
                true => format!(
                    "Votre offre n° {}, chiffrée, déposée le {}, sera retirée et son contenu \
                     chiffré effacé : l'acheteur ne la lira pas.",
                    bid.receipt,
                    paris_text(bid.updated_at)
                ),
                false => format!(
                    "Votre offre n° {} ({} HT) sera retirée : l'acheteur ne la lira pas.",
                    bid.receipt,
                    Cents::new(bid.price_cents)
                ),
            },
            documents,
            format!(
                "Vous pourrez remettre une nouvelle offre jusqu'à la date limite, le {}.",
                paris_text(page.deadline)
            ),
        ],
        action: format!("/appels-d-offres/{reference}/lots/{lot}/retrait"),
        fields: Vec::new(),
        button: "Retirer mon offre".into(),
        danger: true,
        back: format!("/appels-d-offres/{reference}/offre#lot-{lot}"),
    }
    .render(&hb, &viewer, "")
}

/// Attaches a document to the supplier's bid on a lot (multipart upload).
pub async fn upload_document(
    req: actix_web::HttpRequest,
    path: Path<(String, i32)>,
    form: actix_multipart::Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<crate::Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (reference, lot) = path.into_inner();
    // (A document the company encrypted itself is slightly larger than its content.)
    let max = documents::MAX_BYTES + (1 << 20);
    let outcome = match super::uploads::read_posted(&req, form, &settings, &viewer, max).await {
        Ok(upload) => {
            let (p, who, r) = (pool.clone().into_inner(), viewer.clone(), reference.clone());
            super::uploads::store_document(upload, move |name, bytes| {
                bids::add_document(&p, &who, &r, lot, name, bytes)
            })
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#lot-{lot}"
        ))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot,
                typed: None,
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}

/// Removes a document from the supplier's bid.
pub async fn remove_document(
    path: Path<(String, i32, i32)>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (reference, lot, id) = path.into_inner();
    let (p, who, r) = (pool.clone().into_inner(), viewer.clone(), reference.clone());
    match blocking(&p, move |p| bids::remove_document(p, &who, &r, lot, id)).await {
        Ok(()) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#lot-{lot}"
        ))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot,
                typed: None,
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}

/// One of the supplier's own bid documents.
pub async fn own_document(
    path: Path<(String, i32)>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (reference, id) = path.into_inner();
    let pool = pool.into_inner();
    let (name, content_type, bytes) = blocking(&pool, move |pool| {
        bids::own_document(pool, &viewer, &reference, id)
    })
    .await?;
    Ok(super::uploads::download(&name, &content_type, bytes))
}

/// `GET /offres/accuses/{id}`: one of the company's signed receipts, as a JSON file.
pub async fn receipt_file(
    id: Path<i32>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (name, json) = blocking(&pool, move |p| {
        crate::services::receipts::own(p, &viewer, id)
    })
    .await?;
    Ok(super::uploads::download(
        &name,
        "application/json",
        json.into_bytes(),
    ))
}

#[derive(serde::Deserialize)]
pub struct BackupForm {
    #[serde(default)]
    medium: String,
}

/// `POST /appels-d-offres/{reference}/copie-de-sauvegarde`: the company declares it sent a
/// backup copy (R2132-11).
pub async fn declare_backup(
    reference: Path<String>,
    posted: Posted<BackupForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let reference = reference.into_inner();
    let (who, r, medium) = (viewer.clone(), reference.clone(), posted.form.medium);
    match blocking(&pool, move |p| {
        crate::services::tenders::declare_backup(p, &who, &r, &medium)
    })
    .await
    {
        Ok(()) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#copie"
        ))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot: 0,
                typed: None,
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}

/// `POST /appels-d-offres/{reference}/dume`: the simplified DUME, filled in.
pub async fn dume_form(
    reference: Path<String>,
    posted: Posted<crate::services::espd::DumeForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let reference = reference.into_inner();
    let (who, r, form) = (viewer.clone(), reference.clone(), posted.form.clone());
    match blocking(&pool, move |p| {
        crate::services::espd::submit_form(p, &who, &r, &form)
    })
    .await
    {
        Ok(()) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#dume"
        ))),
        Err(error) => dume_refused(pool, &hb, viewer, reference, posted.form, error).await,
    }
}

async fn dume_refused(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    reference: String,
    typed: crate::services::espd::DumeForm,
    error: AppError,
) -> Result<HttpResponse, AppError> {
    let (message, problems, status) = super::form_errors::refused(error)?;
    let refused = Refused {
        lot: 0,
        typed: None,
        message: message
            .unwrap_or_else(|| "le DUME n'est pas enregistré : voyez ses champs".into()),
        dume: Some((typed, problems)),
    };
    bid_page(pool, hb, viewer, reference, None, Some(refused), status).await
}

/// `POST /appels-d-offres/{reference}/dume/fichier`: an ESPD response written by another tool.
pub async fn dume_file(
    req: actix_web::HttpRequest,
    reference: Path<String>,
    form: actix_multipart::Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<crate::Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let reference = reference.into_inner();
    let max = crate::services::espd::MAX_RESPONSE_BYTES + 1;
    let outcome = match super::uploads::read_posted(&req, form, &settings, &viewer, max).await {
        Ok(upload) => match upload.file {
            Some(file) => {
                let (p, who, r) = (pool.clone().into_inner(), viewer.clone(), reference.clone());
                actix_web::web::block(move || {
                    let bytes = file.bytes()?;
                    crate::services::espd::submit_file(&p, &who, &r, &bytes)
                })
                .await
                .map_err(AppError::from)
                .and_then(|r| r)
            }
            None => Err(AppError::validation(
                "fichier",
                "choisissez le fichier XML de votre DUME",
            )),
        },
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#dume"
        ))),
        Err(error) => dume_refused(pool, &hb, viewer, reference, Default::default(), error).await,
    }
}

fn xml_file(name: &str, xml: String) -> HttpResponse {
    super::uploads::download(name, "application/xml; charset=utf-8", xml.into_bytes())
}

/// `GET /appels-d-offres/{reference}/dume.xml`: the tender's DUME request, for anyone.
pub async fn dume_request(
    reference: Path<String>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let reference = reference.into_inner();
    let (name, xml) = blocking(&pool, move |p| {
        crate::services::espd::tender_request(p, &reference)
    })
    .await?;
    Ok(xml_file(&name, xml))
}

/// `GET /appels-d-offres/{reference}/dume/mien.xml`: the company's own DUME.
pub async fn own_dume(
    reference: Path<String>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let reference = reference.into_inner();
    let (name, xml) = blocking(&pool, move |p| {
        crate::services::espd::own_xml(p, &viewer, &reference)
    })
    .await?;
    Ok(xml_file(&name, xml))
}

/// `GET /consultations/{id}/dume/{supplier}`: a company's DUME, for the coordinator's lead once
/// the bids are opened.
pub async fn opened_dume(
    path: Path<(i32, i32)>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (id, supplier) = path.into_inner();
    let (name, xml) = blocking(&pool, move |p| {
        crate::services::espd::opened_xml(p, &viewer, id, supplier)
    })
    .await?;
    Ok(xml_file(&name, xml))
}

/// `POST /appels-d-offres/{reference}/groupements/{bid}/confirmation`: a co-contractor confirms
/// its place in a group bid (#24).
pub async fn confirm_group(
    path: Path<(String, i32)>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (reference, bid) = path.into_inner();
    let (who, r) = (viewer.clone(), reference.clone());
    match blocking(&pool, move |p| {
        crate::services::groups::confirm(p, &who, &r, bid)
    })
    .await
    {
        Ok(()) => Ok(super::auth::see_other(&format!(
            "/appels-d-offres/{reference}/offre#groupements"
        ))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            let refused = Refused {
                lot: 0,
                typed: None,
                message,
                dume: None,
            };
            bid_page(pool, &hb, viewer, reference, None, Some(refused), status).await
        }
    }
}
