//! Opening and award, for the coordinator's lead: the opening, the comparison of the bids lot
//! by lot with the marks to enter and the engine's outcome, the request for justification of
//! an abnormally low bid, the approval; and the bids' documents, under the seal.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::{paris_text, Cents};
use crate::error::AppError;
use crate::services::awards::{self, Comparison};
use crate::web::nav::Viewer;
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn rule_label(rule: &str) -> &'static str {
    match rule {
        "best-total" => "meilleur score total",
        _ => "ordre d'importance décroissant des lots",
    }
}

fn score(value: Option<f64>) -> Option<String> {
    value.map(|v| crate::domain::Locale::Fr.decimal(v, 2))
}

async fn comparison_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    tender_id: i32,
    notice: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (p, who) = (pool.into_inner(), viewer.clone());
    let shown: Comparison = blocking(&p, move |p| awards::comparison(p, &who, tender_id)).await?;
    let (who, reference) = (viewer.clone(), shown.reference.clone());
    let dumes = blocking(&p, move |p| {
        let mut conn = p.get()?;
        crate::services::espd::opened(&mut conn, &who, &reference)
    })
    .await?;
    let (wp, wq, we) = shown.weights;
    let lots = shown
        .lots
        .iter()
        .map(|lot| LotBids {
            number: lot.number,
            heading: crate::services::tenders::lot_heading(lot.number, &lot.title),
            cpv: lot.cpv.clone(),
            value: Cents::new(lot.value_cents).to_string(),
            unsuccessful: lot.status == Some(groupement_solver::award::LotStatus::Unsuccessful),
            bids: lot
                .bids
                .iter()
                .map(|b| BidLine {
                    id: b.id,
                    supplier: b.supplier.clone(),
                    price: Cents::new(b.price_cents).to_string(),
                    memo: b.technical_memo.clone(),
                    environment_data: b.environment_data.clone(),
                    documents: b
                        .documents
                        .iter()
                        .map(|d| DocumentLink {
                            href: format!("/consultations/{tender_id}/offres/documents/{}", d.id),
                            name: d.name.clone(),
                        })
                        .collect(),
                    quality: b.quality,
                    environment: b.environment,
                    submitted_at: paris_text(b.submitted_at),
                    price_score: score(b.price_score),
                    score: score(b.score),
                    rank: b.rank,
                    abnormally_low: b.abnormally_low,
                    lost_to_cap: b.lost_to_cap,
                    winner: b.winner,
                    winner_other_rule: b.winner_other_rule,
                    justification: b.justification_requested_at.map(paris_text),
                    group: b.group.clone(),
                    unconfirmed: b.unconfirmed,
                })
                .collect(),
        })
        .collect();
    let awarded = shown.status == "awarded";
    let view = ComparisonPage {
        id: tender_id,
        criteria: format!("prix {wp} %, qualité {wq} %, environnement {we} %"),
        needs_quality: wq > 0,
        needs_environment: we > 0,
        cap: shown.cap,
        rule: rule_label(shown.rule),
        opened: shown.opened_at.map(paris_text),
        unmarked: shown.unmarked,
        ready: shown.unmarked == 0,
        total_score: score(shown.total_score),
        other_rule: shown.other_rule.as_ref().map(|o| OtherRule {
            rule: rule_label(o.rule),
            total_score: crate::domain::Locale::Fr.decimal(o.total_score, 2),
            changed_lots: o.changed_lots.clone(),
        }),
        awarded,
        can_mark: !awarded,
        can_approve: !awarded && shown.unmarked == 0,
        standstill: shown.standstill_until.map(paris_text),
        lots,
        notice,
        error,
        reference: shown.reference,
        title: shown.title,
        fingerprint: shown.fingerprint,
        dumes: dumes
            .iter()
            .map(|(supplier, d)| DumeLine {
                href: format!("/consultations/{tender_id}/dume/{supplier}"),
                company: d.company.clone(),
                summary: d.declaration.as_ref().map_or_else(
                    || {
                        "ALTÉRÉ : son contenu chiffré ne correspond plus à son accusé de \
                         réception ; il n'a pas été ouvert"
                            .to_string()
                    },
                    super::bids::dume_summary,
                ),
                excluded: d
                    .declaration
                    .as_ref()
                    .is_none_or(|d| !d.exclusions.is_empty()),
            })
            .collect(),
        tampered: shown.tampered.iter().map(LateLine::of).collect(),
        late: shown.late.iter().map(LateLine::of).collect(),
    };
    Page::new(
        "pages/tenders/bids",
        format!("Offres de {} — Groupement", view.reference),
        "/consultations",
    )
    .status(status)
    .render(hb, Some(&viewer), view)
}

/// A bid received after the deadline, as the opening lists it.
#[derive(Serialize)]
struct LateLine {
    lot: i32,
    supplier: String,
    receipt: String,
    received_at: String,
}

impl LateLine {
    fn of(l: &crate::services::bids::LateBid) -> Self {
        LateLine {
            lot: l.lot,
            supplier: l.supplier.clone(),
            receipt: l.receipt.clone(),
            received_at: paris_text(l.received_at),
        }
    }
}

/// A company's DUME as the opening shows it.
#[derive(Serialize)]
struct DumeLine {
    href: String,
    company: String,
    summary: String,
    /// Whether it declares an exclusion ground.
    excluded: bool,
}

/// The opened bids side by side, lot by lot, with the engine's outcome.
#[derive(Serialize)]
struct ComparisonPage<'a> {
    id: i32,
    reference: String,
    title: String,
    criteria: String,
    needs_quality: bool,
    needs_environment: bool,
    cap: Option<u32>,
    rule: &'static str,
    opened: Option<String>,
    unmarked: usize,
    ready: bool,
    total_score: Option<String>,
    other_rule: Option<OtherRule>,
    fingerprint: String,
    /// Bids received late: listed, never opened.
    late: Vec<LateLine>,
    /// Bids found tampered with at the opening: never opened nor scored.
    tampered: Vec<LateLine>,
    /// The companies' DUMEs, read at the opening.
    dumes: Vec<DumeLine>,
    awarded: bool,
    can_mark: bool,
    can_approve: bool,
    standstill: Option<String>,
    lots: Vec<LotBids>,
    notice: Option<&'a str>,
    error: Option<String>,
}

/// What the rule not announced would have given.
#[derive(Serialize)]
struct OtherRule {
    rule: &'static str,
    total_score: String,
    changed_lots: Vec<i32>,
}

#[derive(Serialize)]
struct LotBids {
    number: i32,
    heading: String,
    cpv: String,
    value: String,
    unsuccessful: bool,
    bids: Vec<BidLine>,
}

#[derive(Serialize)]
struct BidLine {
    id: i32,
    supplier: String,
    price: String,
    memo: String,
    environment_data: String,
    documents: Vec<DocumentLink>,
    quality: Option<i32>,
    environment: Option<i32>,
    submitted_at: String,
    price_score: Option<String>,
    score: Option<String>,
    rank: Option<u32>,
    abnormally_low: bool,
    lost_to_cap: bool,
    winner: bool,
    winner_other_rule: bool,
    justification: Option<String>,
    group: Option<String>,
    unconfirmed: bool,
}

#[derive(Serialize)]
struct DocumentLink {
    href: String,
    name: String,
}

/// A key entered at the opening: the passphrase of one's opening key, or the recovery key.
#[derive(Deserialize, Default)]
pub struct OpeningForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    recovery_key: String,
}

/// The fields of the opening page (problem name, input, label).
const OPENING_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "phrase secrète",
        input: "passphrase",
        label: "Phrase secrète de votre clé d'ouverture",
    },
    super::form_errors::Field {
        problem: "clé de secours",
        input: "recovery-key",
        label: "Clé de secours",
    },
];

/// `POST /consultations/{id}/ouverture`: a tender published before sealing opens at once; a
/// sealed one takes the key entered (the coordinator's lead starts with theirs) and opens once
/// enough keys are in.
pub async fn open(
    id: Path<i32>,
    posted: Posted<OpeningForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (id, p, who) = (id.into_inner(), pool.clone().into_inner(), viewer.clone());
    let outcome = blocking(&p, move |p| {
        let key = match (form.passphrase.as_str(), form.recovery_key.trim()) {
            ("", "") => None,
            ("", recovery) => Some(awards::KeyEntry::Recovery(recovery)),
            (passphrase, _) => Some(awards::KeyEntry::Passphrase(passphrase)),
        };
        awards::open(p, &who, id, key)
    })
    .await;
    match outcome {
        Ok(awards::Opening::Opened { .. }) => {
            let (p, who) = (pool.into_inner(), viewer.clone());
            let coordinator = blocking(&p, move |p| {
                Ok::<_, AppError>(crate::services::tenders::detail(p, &who, id)?.is_coordinator)
            })
            .await?;
            Ok(see_other(&match coordinator {
                true => format!("/consultations/{id}/offres"),
                false => format!("/consultations/{id}"),
            }))
        }
        Ok(awards::Opening::Waiting { .. }) => {
            Ok(see_other(&format!("/consultations/{id}/ouverture")))
        }
        Err(error) => {
            // A tender published before sealing has no opening page: its refusal as it is.
            match is_sealed(&pool, id).await? {
                true => opening_page(pool, &hb, viewer, id, Some(error)).await,
                false => Err(error),
            }
        }
    }
}

/// Whether a tender's bids are sealed by its key (published since sealing exists).
async fn is_sealed(pool: &Data<Pool>, id: i32) -> Result<bool, AppError> {
    blocking(pool, move |p| {
        let mut conn = p.get()?;
        Ok::<_, AppError>(crate::services::tenders::sealing_of(&mut conn, id)?.is_some())
    })
    .await
}

/// The opening page of a sealed tender: who holds the keys, whose are in, and the form to
/// enter one's own.
#[derive(Serialize)]
struct OpeningPage {
    id: i32,
    reference: String,
    title: String,
    threshold: i32,
    /// Keys still needed, and the members whose keys are not in.
    missing: usize,
    pending: String,
    holder_count: usize,
    holders: Vec<HolderLine>,
    entered: usize,
    started: bool,
    is_coordinator: bool,
    /// Whether the viewer's member has a share not yet entered.
    can_enter: bool,
    own_holder: Option<String>,
    has_recovery: bool,
    recovery_entered: bool,
    /// The recovery key's form shown open (it was refused).
    recovery_open: bool,
    deadline_passed: bool,
    opened: Option<String>,
    error: Option<String>,
    errors: super::form_errors::FormErrors,
}

#[derive(Serialize)]
struct HolderLine {
    holder: String,
    entered: Option<String>,
}

async fn opening_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    id: i32,
    refusal: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let (error, problems, status) = match refusal {
        Some(refusal) => super::form_errors::refused(refusal)?,
        None => (None, crate::error::Problems::default(), StatusCode::OK),
    };
    let (p, who) = (pool.into_inner(), viewer.clone());
    let (tender, state) = blocking(&p, move |p| {
        let tender = crate::services::tenders::detail(p, &who, id)?;
        let mut conn = p.get()?;
        Ok::<_, AppError>((tender, awards::opening_state(&mut conn, id)?))
    })
    .await?;
    let Some(state) = state else {
        return Err(AppError::NotFound);
    };
    let entered_of = |holder: &str| {
        state
            .entered
            .iter()
            .find(|(h, _, _)| h == holder)
            .map(|(_, by, at)| format!("entrée par {by} le {}", paris_text(*at)))
    };
    let own_holder = viewer.organisation.clone().filter(|code| {
        viewer.role == crate::web::nav::Role::Lead && state.sealing.holders.contains(code)
    });
    let view = OpeningPage {
        id,
        reference: tender.reference.clone(),
        title: tender.title.clone(),
        threshold: state.sealing.threshold,
        holder_count: state.sealing.holders.len(),
        missing: (state.sealing.threshold.max(0) as usize).saturating_sub(state.entered.len()),
        pending: state
            .sealing
            .holders
            .iter()
            .filter(|h| *h != "clé de secours" && entered_of(h).is_none())
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        holders: state
            .sealing
            .holders
            .iter()
            .map(|h| HolderLine {
                holder: h.clone(),
                entered: entered_of(h),
            })
            .collect(),
        entered: state.entered.len(),
        started: state.sealing.opening_started_at.is_some(),
        is_coordinator: tender.is_coordinator,
        can_enter: own_holder
            .as_deref()
            .is_some_and(|h| entered_of(h).is_none())
            && (tender.is_coordinator || state.sealing.opening_started_at.is_some()),
        own_holder,
        has_recovery: state.sealing.holders.iter().any(|h| h == "clé de secours"),
        recovery_entered: entered_of("clé de secours").is_some(),
        recovery_open: problems.iter().any(|p| p.field == "clé de secours"),
        deadline_passed: tender
            .deadline
            .is_some_and(|d| chrono::Utc::now().naive_utc() >= d),
        opened: tender.opened_at.map(paris_text),
        error,
        errors: super::form_errors::FormErrors::of(&problems, OPENING_FIELDS),
    };
    Page::new(
        "pages/tenders/opening",
        format!("Ouverture des offres de {} — Groupement", view.reference),
        "/consultations",
    )
    .status(status)
    .render(hb, Some(&viewer), view)
}

/// `GET /consultations/{id}/ouverture`: what opening the bids does, before it is done; for a
/// sealed tender, the page where the members enter their keys.
pub async fn confirm_open(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    // (The opening page reads the tender as its viewer may, refusing anyone else.)
    if is_sealed(&pool, id).await? {
        return opening_page(pool, &hb, viewer, id, None).await;
    }
    let who = viewer.clone();
    let tender = blocking(&pool, move |p| {
        crate::services::tenders::detail(p, &who, id)
    })
    .await?;
    super::confirm::Confirmation {
        heading: format!("Ouvrir les offres de {} ?", tender.reference),
        consequences: vec![
            format!(
                "Les offres remises pour « {} » seront ouvertes : vous les lirez, lot par lot.",
                tender.title
            ),
            "L'ouverture est consignée au journal, à votre nom et à l'heure près ; elle ne se \
             défait pas."
                .into(),
        ],
        action: format!("/consultations/{id}/ouverture"),
        fields: Vec::new(),
        button: "Ouvrir les offres".into(),
        danger: false,
        back: format!("/consultations/{id}"),
    }
    .render(&hb, &viewer, "/consultations")
}

pub async fn show(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    comparison_page(
        pool,
        &hb,
        viewer,
        id.into_inner(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

/// The marks of quality and environment, `quality-<bid>` and `environment-<bid>`.
pub async fn mark(
    id: Path<i32>,
    posted: Posted<HashMap<String, String>>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (p, who, form) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    match blocking(&p, move |p| awards::evaluate(p, &who, id, &form)).await {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}/offres"))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            comparison_page(pool, &hb, viewer, id, None, Some(message), status).await
        }
    }
}

pub async fn justification(
    path: Path<(i32, i32)>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, bid) = path.into_inner();
    let (p, who, base) = (
        pool.clone().into_inner(),
        viewer.clone(),
        settings.base_url.clone(),
    );
    let outcome = blocking(&p, move |p| {
        awards::request_justification(p, &who, id, bid, &base)
    })
    .await;
    let (notice, error, status) = match outcome {
        Ok(()) => (
            Some("Justification demandée : le fournisseur est prévenu par e-mail."),
            None,
            StatusCode::OK,
        ),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            (None, Some(message), status)
        }
    };
    comparison_page(pool, &hb, viewer, id, notice, error, status).await
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    #[serde(default)]
    fingerprint: String,
}

pub async fn approve(
    id: Path<i32>,
    posted: Posted<ApprovalForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (p, who, base, shown) = (
        pool.clone().into_inner(),
        viewer.clone(),
        settings.base_url.clone(),
        posted.form.fingerprint,
    );
    match blocking(&p, move |p| awards::approve(p, &who, id, &shown, &base)).await {
        Ok(()) => Ok(see_other(&format!("/consultations/{id}"))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            comparison_page(pool, &hb, viewer, id, None, Some(message), status).await
        }
    }
}

/// `GET /consultations/{id}/attribution`: what approving the award does, before it is done.
pub async fn confirm_approve(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (who, id) = (viewer.clone(), id.into_inner());
    let shown = blocking(&pool, move |p| awards::comparison(p, &who, id)).await?;
    let unsuccessful = shown
        .lots
        .iter()
        .filter(|l| l.status == Some(groupement_solver::award::LotStatus::Unsuccessful))
        .count();
    let bidders: std::collections::BTreeSet<&str> = shown
        .lots
        .iter()
        .flat_map(|l| l.bids.iter().map(|b| b.supplier.as_str()))
        .collect();
    super::confirm::Confirmation {
        heading: format!("Approuver l'attribution de {} ?", shown.reference),
        consequences: vec![
            format!(
                "{} lot(s) attribué(s) selon le classement affiché, {} infructueux : les besoins \
                 des lots infructueux reviennent à leurs acheteurs.",
                shown.lots.len() - unsuccessful,
                unsuccessful
            ),
            "Un marché est enregistré par membre et par lot attribué, à signer par le \
             responsable achats de chaque membre."
                .into(),
            format!(
                "Les {} entreprise(s) qui ont remis une offre sont informées par e-mail de leur \
                 résultat (attributaire, note et rang) ; en procédure formalisée, le délai de \
                 suspension de 11 jours commence.",
                bidders.len()
            ),
            "L'attribution approuvée ne se défait pas.".into(),
        ],
        action: format!("/consultations/{id}/attribution"),
        fields: vec![super::confirm::HiddenField {
            name: "fingerprint".into(),
            value: shown.fingerprint,
        }],
        button: "Approuver l'attribution".into(),
        danger: false,
        back: format!("/consultations/{id}/offres"),
    }
    .render(&hb, &viewer, "/consultations")
}

/// A bid's document, under the seal: the coordinator's lead, after the deadline.
pub async fn document(
    path: Path<(i32, i32)>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (tender_id, document_id) = path.into_inner();
    let pool = pool.into_inner();
    let (name, content_type, bytes) = blocking(&pool, move |pool| {
        let reference = awards::reference_of(pool, &viewer, tender_id)?;
        crate::services::bids::sealed_document(pool, &viewer, &reference, document_id)
    })
    .await?;
    Ok(super::uploads::download(&name, &content_type, bytes))
}
