//! Tenders for the members: the list of those their organisation takes part in, a tender's
//! page with the organisation's share and the approvals, the lead's decision, the
//! coordinator's resubmission and publication; and the public notice of a published tender.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::{paris_text, Cents, ContractStatus};
use crate::error::AppError;
use crate::services::documents;
use crate::services::public::procedure_label;
use crate::services::tenders::{self, Publication, TenderDetail};
use crate::web::nav::{Role, Viewer};
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

pub fn status_label(status: &str) -> &'static str {
    crate::domain::TenderStatus::parse(status)
        .map_or("inconnu", crate::domain::TenderStatus::label_fr)
}

fn decision_label(decision: &str) -> &'static str {
    crate::domain::ApprovalStatus::parse(decision)
        .map_or("", crate::domain::ApprovalStatus::label_fr)
}

fn euros(cents: i64) -> String {
    Cents::new(cents).to_string()
}

/// A document's size, in French: `1,2 Mo`.
/// A file's size as people read it: `634 octets`, `12 Ko`, `3,4 Mo`.
fn megabytes(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} octets"),
        b if b < 1_048_576 => format!("{} Ko", (b + 1023) / 1024),
        b => format!(
            "{} Mo",
            crate::domain::Locale::Fr.decimal(b as f64 / 1_048_576.0, 1)
        ),
    }
}

fn day(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// The tenders of the member's organisation.
#[derive(Serialize)]
struct ListPage {
    tenders: Vec<TenderLine>,
}

#[derive(Serialize)]
struct TenderLine {
    id: i32,
    reference: String,
    title: String,
    status: &'static str,
    coordinator: String,
    procedure: String,
    total: String,
    share: String,
    decision: &'static str,
    to_decide: bool,
}

pub async fn list(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let who = viewer.clone();
    let rows = blocking(&pool, move |p| tenders::of_organisation(p, &who)).await?;
    let tenders = rows
        .into_iter()
        .map(|t| TenderLine {
            to_decide: t.decision == "pending" && t.status == "approving",
            status: status_label(&t.status),
            procedure: procedure_label(&t.procedure).to_string(),
            total: euros(t.total_value_cents),
            share: euros(t.share_cents),
            decision: decision_label(&t.decision),
            id: t.id,
            reference: t.reference,
            title: t.title,
            coordinator: t.coordinator,
        })
        .collect();
    Page::new(
        "pages/tenders/list",
        "Consultations — Groupement",
        "/consultations",
    )
    .render(&hb, Some(&viewer), ListPage { tenders })
}

/// A tender as its members see it: the whole, their share, the approvals, and what the lead
/// may do now.
#[derive(Serialize)]
struct DetailPage<'a> {
    tender: TenderHead,
    lots: Vec<LotLine>,
    approvals: Vec<ApprovalLine>,
    share: Vec<ShareLine>,
    share_total: String,
    share_savings: String,
    can_decide: bool,
    can_resubmit: bool,
    can_publish: bool,
    publication: &'a Publication,
    error: Option<String>,
    errors: super::form_errors::FormErrors,
    documents: Vec<DocumentLine>,
    can_upload: bool,
    /// What a document may be, for the upload form.
    kinds: Vec<KindChoice>,
    can_open: bool,
    /// What opening means here: at once, or keys to gather.
    open_hint: &'static str,
    opened: Option<String>,
    can_compare: bool,
    standstill: Option<String>,
    contracts: Vec<ContractLine>,
    max_mb: usize,
    formats: String,
    /// The companies' questions, waiting ones first (the coordinator's lead only).
    questions: Vec<QuestionLine>,
    /// Whether answers may still be given (before the answers' cut-off).
    can_answer: bool,
    answers_by: Option<String>,
    /// The changes since the publication, and whether one can be made now.
    changes: Vec<ChangeLine>,
    can_change: bool,
    /// The coordinator's lead: the journal and the archive.
    is_coordinator: bool,
    /// The backup copies declared (the coordinator's lead), and the reasons to open one.
    backups: Vec<BackupLine>,
    reasons: Vec<KindChoice>,
    /// The documents a change may replace: (id, name).
    replaceable: Vec<ChangeDocument>,
    change: &'a tenders::ChangeForm,
    /// The EU notices (eForms), or why there are none; the coordinator's lead sends them and
    /// records their publication.
    notices: Vec<NoticeLine>,
    no_notice: Option<&'static str>,
    can_send: bool,
}

#[derive(Serialize)]
struct NoticeLine {
    id: i32,
    kind: &'static str,
    notice_id: String,
    status: &'static str,
    created_at: String,
    sent: Option<String>,
    ted_number: Option<String>,
    to_send: bool,
    awaiting_publication: bool,
}

#[derive(Serialize)]
struct QuestionLine {
    id: i32,
    about: String,
    company: String,
    question: String,
    asked_at: String,
    answer: Option<String>,
    answered_at: Option<String>,
}

#[derive(Serialize)]
struct TenderHead {
    id: i32,
    reference: String,
    title: String,
    status: &'static str,
    coordinator: String,
    procedure: String,
    total: String,
    deadline: Option<String>,
    weights: Option<String>,
    min_days: u32,
}

#[derive(Serialize)]
struct LotLine {
    number: i32,
    title: String,
    cpv: String,
    value: String,
    savings: String,
    local: bool,
    eligible: i32,
    small: bool,
}

#[derive(Serialize)]
struct ApprovalLine {
    organisation: String,
    status: &'static str,
    comment: Option<String>,
}

#[derive(Serialize)]
struct ShareLine {
    lot: i32,
    id: i32,
    title: String,
    value: String,
}

#[derive(Serialize)]
struct BackupLine {
    id: i32,
    company: String,
    medium: &'static str,
    declared_at: String,
    received_at: Option<String>,
    late: bool,
    opened: Option<String>,
    can_record: bool,
    can_open: bool,
}

#[derive(Serialize)]
struct KindChoice {
    code: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct DocumentLine {
    name: String,
    size: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct ContractLine {
    uid: String,
    lot: i32,
    supplier: String,
    amount: String,
    estimated: String,
    notified_on: String,
    signed: bool,
    signed_on: Option<String>,
    signatory: Option<String>,
    can_sign: bool,
}

/// The fields of the tender page's forms (problem name, input, label): the publication's (the
/// sum of the weights is said at the first weight) and the change's.
const PUBLICATION_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "clés pour ouvrir",
        input: "opening_threshold",
        label: "Clés pour ouvrir les offres",
    },
    super::form_errors::Field {
        problem: "clés d'ouverture",
        input: "opening_threshold",
        label: "Clés d'ouverture des membres",
    },
    super::form_errors::Field {
        problem: "pondérations",
        input: "weight_price",
        label: "Pondérations",
    },
    super::form_errors::Field {
        problem: "pondération prix",
        input: "weight_price",
        label: "Prix",
    },
    super::form_errors::Field {
        problem: "pondération qualité",
        input: "weight_quality",
        label: "Valeur technique",
    },
    super::form_errors::Field {
        problem: "pondération environnement",
        input: "weight_environment",
        label: "Performance environnementale",
    },
    super::form_errors::Field {
        problem: "lots par fournisseur",
        input: "max_lots_per_supplier",
        label: "Nombre maximal de lots par fournisseur",
    },
    super::form_errors::Field {
        problem: "règle de plafonnement",
        input: "cap_rule",
        label: "Règle annoncée",
    },
    super::form_errors::Field {
        problem: "date limite",
        input: "deadline",
        label: "Date limite",
    },
    super::form_errors::Field {
        problem: "documents",
        input: "fichier",
        label: "Documents de la consultation",
    },
    // The change form of a published tender.
    super::form_errors::Field {
        problem: "description du changement",
        input: "change-summary",
        label: "Ce qui change",
    },
    super::form_errors::Field {
        problem: "nouvelle date limite",
        input: "change-deadline",
        label: "Nouvelle date limite",
    },
    super::form_errors::Field {
        problem: "document remplacé",
        input: "change-replaces",
        label: "Document remplacé",
    },
    super::form_errors::Field {
        problem: "nature du document",
        input: "change-kind",
        label: "Nature du document",
    },
    super::form_errors::Field {
        problem: "change-fichier",
        input: "change-file",
        label: "Document",
    },
];

fn detail_page(
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    tender: &TenderDetail,
    (publication, change): (&Publication, &tenders::ChangeForm),
    (error, problems): (Option<String>, crate::error::Problems),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lead = viewer.role == Role::Lead;
    let coordinator = lead && tender.is_coordinator;
    let is = |statuses: &[&str]| statuses.contains(&tender.status.as_str());
    let page = DetailPage {
        tender: TenderHead {
            id: tender.id,
            reference: tender.reference.clone(),
            title: tender.title.clone(),
            status: status_label(&tender.status),
            coordinator: tender.coordinator.clone(),
            procedure: procedure_label(&tender.procedure).to_string(),
            total: euros(tender.total_value_cents),
            deadline: tender.deadline.map(paris_text),
            weights: tender
                .weights
                .map(|(p, q, e)| format!("prix {p} %, qualité {q} %, environnement {e} %")),
            min_days: tender.min_days,
        },
        lots: tender
            .lots
            .iter()
            .map(|l| LotLine {
                number: l.number,
                title: l.title.clone(),
                cpv: l.cpv.clone(),
                value: euros(l.value_cents),
                savings: euros(l.expected_savings_cents),
                local: l.local_accessible,
                eligible: l.eligible_local_suppliers,
                small: l.small_lot,
            })
            .collect(),
        approvals: tender
            .approvals
            .iter()
            .map(|a| ApprovalLine {
                organisation: a.organisation.clone(),
                status: decision_label(&a.status),
                comment: a.comment.clone(),
            })
            .collect(),
        share: tender
            .share
            .iter()
            .map(|n| ShareLine {
                lot: n.lot,
                id: n.need_id,
                title: n.title.clone(),
                value: euros(n.value_cents),
            })
            .collect(),
        share_total: euros(tender.share.iter().map(|n| n.value_cents).sum()),
        share_savings: euros(tender.share_savings_cents),
        can_decide: lead && tender.status == "approving" && tender.my_decision == "pending",
        can_resubmit: coordinator && tender.status == "draft",
        can_publish: coordinator && tender.status == "approved",
        publication,
        error,
        errors: super::form_errors::FormErrors::of(&problems, PUBLICATION_FIELDS),
        documents: tender
            .documents
            .iter()
            .map(|d| DocumentLine {
                kind: tenders::kind_label(&d.kind),
                name: d.name.clone(),
                size: megabytes(d.size_bytes),
            })
            .collect(),
        can_upload: coordinator && is(&["draft", "approving", "approved"]),
        kinds: tenders::DOCUMENT_KINDS
            .iter()
            .map(|(code, label)| KindChoice { code, label })
            .collect(),
        // A sealed tender's other members enter their keys on the opening page too.
        can_open: (coordinator
            || (viewer.role == Role::Lead
                && tender
                    .sealing
                    .as_ref()
                    .is_some_and(|s| s.opening_started_at.is_some())))
            && tender.opened_at.is_none()
            && is(&["published", "closed"])
            && tender
                .deadline
                .is_some_and(|d| chrono::Utc::now().naive_utc() >= d),
        open_hint: match &tender.sealing {
            None => {
                "La date limite est passée : les offres peuvent être ouvertes (l'ouverture est \
                 enregistrée au journal)."
            }
            Some(s) if s.opening_started_at.is_some() => {
                "L'ouverture est lancée : les offres, chiffrées, s'ouvriront quand les clés \
                 nécessaires des membres seront entrées."
            }
            Some(_) => {
                "La date limite est passée : lancez l'ouverture avec votre clé ; les offres, \
                 chiffrées, s'ouvriront quand les clés nécessaires des membres seront entrées."
            }
        },
        opened: tender.opened_at.map(paris_text),
        can_compare: coordinator && tender.opened_at.is_some(),
        standstill: tender.standstill_until.map(paris_text),
        contracts: tender
            .contracts
            .iter()
            .map(|c| ContractLine {
                uid: c.uid.clone(),
                lot: c.lot,
                supplier: c.supplier.clone(),
                amount: euros(c.amount_cents),
                estimated: euros(c.estimated_cents),
                notified_on: day(c.notified_on),
                signed: c.status == ContractStatus::Active,
                signed_on: c.signed_on.map(day),
                signatory: c.signatory.clone(),
                can_sign: lead && c.status == ContractStatus::Pending,
            })
            .collect(),
        max_mb: documents::MAX_BYTES >> 20,
        formats: documents::accepted(),
        questions: tender
            .questions
            .iter()
            .map(|q| QuestionLine {
                id: q.id,
                about: q
                    .lot
                    .map_or("toute la consultation".into(), |n| format!("lot {n}")),
                company: q.company.clone(),
                question: q.question.clone(),
                asked_at: paris_text(q.asked_at),
                answer: q.answer.clone(),
                answered_at: q.answered_at.map(paris_text),
            })
            .collect(),
        can_answer: tender.status == "published"
            && tender.deadline.is_some_and(|d| {
                chrono::Utc::now().naive_utc() <= tenders::cut_offs(d, tender.urgent).1
            }),
        answers_by: tender
            .deadline
            .map(|d| paris_text(tenders::cut_offs(d, tender.urgent).1)),
        changes: change_lines(&tender.reference, &tender.changes),
        can_change: coordinator
            && tender.status == "published"
            && tender
                .deadline
                .is_some_and(|d| chrono::Utc::now().naive_utc() < d),
        replaceable: tender
            .documents
            .iter()
            .map(|d| ChangeDocument {
                href: d.id.to_string(),
                name: format!("{} — {}", d.name, tenders::kind_label(&d.kind)),
            })
            .collect(),
        change,
        is_coordinator: coordinator,
        backups: tender
            .backups
            .iter()
            .map(|b| BackupLine {
                id: b.id,
                company: b.company.clone(),
                medium: tenders::medium_label(&b.medium),
                declared_at: paris_text(b.declared_at),
                received_at: b.received_at.map(paris_text),
                late: b.late,
                opened: b.opened_at.map(|at| {
                    format!(
                        "ouverte le {} : {}",
                        paris_text(at),
                        tenders::reason_label(b.open_reason.as_deref().unwrap_or_default())
                    )
                }),
                can_record: coordinator && b.received_at.is_none(),
                can_open: coordinator
                    && tender.opened_at.is_some()
                    && b.received_at.is_some()
                    && !b.late
                    && b.opened_at.is_none(),
            })
            .collect(),
        reasons: tenders::OPEN_REASONS
            .iter()
            .map(|(code, label)| KindChoice { code, label })
            .collect(),
        notices: tender
            .notices
            .iter()
            .map(|n| NoticeLine {
                id: n.id,
                kind: n.kind_label,
                notice_id: n.notice_id.clone(),
                status: n.status_label,
                created_at: paris_text(n.created_at),
                sent: n.sent_at.map(|at| {
                    format!(
                        "envoi {} le {}",
                        n.channel.as_deref().unwrap_or("manuel"),
                        paris_text(at)
                    )
                }),
                ted_number: n.ted_number.clone(),
                to_send: n.to_send,
                awaiting_publication: n.sent,
            })
            .collect(),
        no_notice: tender.no_notice,
        can_send: coordinator && viewer.role == crate::auth::Role::Lead,
    };
    Page::new(
        "pages/tenders/show",
        format!("{} — Groupement", tender.reference),
        "/consultations",
    )
    .status(status)
    .render(hb, Some(viewer), page)
}

async fn load(pool: &Data<Pool>, viewer: &Viewer, id: i32) -> Result<TenderDetail, AppError> {
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    blocking(&p, move |p| tenders::detail(p, &who, id)).await
}

fn default_publication() -> Publication {
    Publication {
        weight_price: "60".into(),
        weight_quality: "30".into(),
        weight_environment: "10".into(),
        ..Publication::default()
    }
}

pub async fn show(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let tender = load(&pool, &viewer, id.into_inner()).await?;
    detail_page(
        &hb,
        &viewer,
        &tender,
        (&default_publication(), &tenders::ChangeForm::default()),
        (None, crate::error::Problems::default()),
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

/// The tender's page again, with what was refused (a validation error or a conflict); any other
/// error goes on as an error.
async fn refused_page(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    id: i32,
    error: AppError,
) -> Result<HttpResponse, AppError> {
    let (message, problems, status) = super::form_errors::refused(error)?;
    let tender = load(pool, viewer, id).await?;
    detail_page(
        hb,
        viewer,
        &tender,
        (&default_publication(), &tenders::ChangeForm::default()),
        (message, problems),
        status,
    )
}

/// The member's lead records a contract's signature.
pub async fn sign_contract(
    path: Path<(i32, String)>,
    posted: Posted<crate::services::awards::Signature>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, uid) = path.into_inner();
    let (p, who, form) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    match blocking(&p, move |p| {
        crate::services::awards::sign_contract(p, &who, id, &uid, &form)
    })
    .await
    {
        Ok(()) => Ok(see_other(&format!("/consultations/{id}#marches"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

pub async fn decide(
    id: Path<i32>,
    posted: Posted<DecisionForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let approve = match posted.form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::validation("décision", "approuver ou refuser")),
    };
    let (p, who, comment) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.comment,
    );
    match blocking(&p, move |p| tenders::decide(p, &who, id, approve, &comment)).await {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

pub async fn resubmit(
    id: Path<i32>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, id, base) = (
        pool.into_inner(),
        id.into_inner(),
        settings.base_url.clone(),
    );
    blocking(&p, move |p| tenders::resubmit(p, &viewer, id, &base)).await?;
    Ok(see_other(&format!("/consultations/{id}")))
}

pub async fn publish(
    id: Path<i32>,
    posted: Posted<Publication>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (p, who, form, base) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
        settings.base_url.clone(),
    );
    match blocking(&p, move |p| tenders::publish(p, &who, &base, id, &form)).await {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}"))),
        Err(error) => {
            let (message, problems, status) = super::form_errors::refused(error)?;
            let tender = load(&pool, &viewer, id).await?;
            detail_page(
                &hb,
                &viewer,
                &tender,
                (&posted.form, &tenders::ChangeForm::default()),
                (message, problems),
                status,
            )
        }
    }
}

/// `POST /consultations/{id}/publier/verifier`: what publishing with these criteria does,
/// before it is done; the confirmation posts the same fields to `/publier`.
pub async fn confirm_publish(
    id: Path<i32>,
    posted: Posted<Publication>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let tender = load(&pool, &viewer, id).await?;
    let form = posted.form;
    // A form that does not read, or a file without its required documents, comes back with
    // its problems, before any confirmation is asked.
    let missing = tenders::missing_kinds(&tender.documents);
    let (mut problems, checked) = match tenders::check_publication(&form) {
        Ok(checked) => (crate::error::Problems::default(), Some(checked)),
        Err(AppError::Validation(problems)) => (problems, None),
        Err(other) => return Err(other),
    };
    // A formal tender's EU notice: what its data lacks, said before the confirmation.
    let mut notice = false;
    if let Some(c) = checked {
        let weights = (
            c.price.unwrap_or(0),
            c.quality.unwrap_or(0),
            c.environment.unwrap_or(0),
        );
        let p = pool.clone().into_inner();
        if let Some(failed) = blocking(&p, move |p| {
            crate::services::notices::preflight(p, id, weights, c.deadline)
        })
        .await?
        {
            notice = true;
            for rule in failed {
                problems.add("avis européen (eForms)", rule);
            }
        }
    }
    if !missing.is_empty() {
        problems.add("documents", tenders::missing_text(&missing));
    }
    // The bids will be encrypted to the members' keys: each needs one before the publication.
    let p = pool.clone().into_inner();
    if let Some(text) = blocking(&p, move |p| tenders::members_without_keys(p, id)).await? {
        problems.add("clés d'ouverture", text);
    }
    if let Err(error) = problems.finish() {
        let (message, problems, status) = super::form_errors::refused(error)?;
        return detail_page(
            &hb,
            &viewer,
            &tender,
            (&form, &tenders::ChangeForm::default()),
            (message, problems),
            status,
        );
    }
    let cap = match form.max_lots_per_supplier.trim() {
        "" => "sans limite de lots par entreprise".to_string(),
        n => format!("{n} lot(s) au plus par entreprise"),
    };
    let fields = [
        ("weight_price", &form.weight_price),
        ("weight_quality", &form.weight_quality),
        ("weight_environment", &form.weight_environment),
        ("max_lots_per_supplier", &form.max_lots_per_supplier),
        ("cap_rule", &form.cap_rule),
        ("deadline", &form.deadline),
        ("urgent", &form.urgent),
        ("opening_threshold", &form.opening_threshold),
    ]
    .into_iter()
    .map(|(name, value)| super::confirm::HiddenField {
        name: name.into(),
        value: value.clone(),
    })
    .collect();
    super::confirm::Confirmation {
        heading: format!("Publier {} ?", tender.reference),
        consequences: vec![
            format!(
                "L'avis de « {} » ({} lot(s), {} HT) devient public, avec ses documents.",
                tender.title,
                tender.lots.len(),
                euros(tender.total_value_cents)
            ),
            format!(
                "Critères annoncés : prix {} %, valeur technique {} %, performance \
                 environnementale {} % ; {cap} ; offres jusqu'au {} à 12:00 (heure de Paris).",
                form.weight_price.trim(),
                form.weight_quality.trim(),
                form.weight_environment.trim(),
                form.deadline.trim()
            ),
            "Les entreprises intéressées du territoire sont prévenues par e-mail aujourd'hui, \
             les autres deux jours plus tard."
                .into(),
            match form.urgent.trim().is_empty() {
                true => "Les questions des entreprises sont reçues jusqu'à 10 jours avant la date \
                         limite, les réponses données au plus tard 6 jours avant."
                    .into(),
                false => {
                    "Urgence déclarée : questions reçues jusqu'à 7 jours avant la date limite, \
                          réponses données au plus tard 4 jours avant (article R2132-6)."
                        .into()
                }
            },
            format!(
                "Les offres seront chiffrées dès leur réception et ne s'ouvriront qu'avec {} \
                 des clés des membres (ou la clé de secours).",
                match form.opening_threshold.trim() {
                    "" => "deux".to_string(),
                    n => n.to_string(),
                }
            ),
            "Une consultation publiée ne se retire pas ; ses critères ne changent plus.".into(),
        ]
        .into_iter()
        .chain(notice.then(|| {
            "Procédure formalisée : l'avis de marché européen (eForms) est produit, à              télécharger et envoyer au Journal officiel de l'Union européenne (eSender ou BOAMP)              depuis la page de la consultation."
                .to_string()
        }))
        .collect(),
        action: format!("/consultations/{id}/publier"),
        fields,
        button: "Publier la consultation".into(),
        danger: false,
        back: format!("/consultations/{id}"),
    }
    .render(&hb, &viewer, "/consultations")
}

/// A span of days in words: whole months when it is about that (`12 mois`), else days.
fn span_in_words(from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    let days = (to - from).num_days() + 1;
    let months = (days as f64 / 30.44).round() as i64;
    match months {
        m if m >= 1 && (days as f64 - m as f64 * 30.44).abs() <= 4.0 => format!("{m} mois"),
        _ => format!("{days} jour(s)"),
    }
}

#[derive(Serialize)]
struct Contact {
    name: String,
    email: String,
}

/// A published tender's notice, as anyone reads it.
#[derive(Serialize)]
struct NoticePage {
    /// The members buying together.
    members: String,
    /// What the buyers wrote of their needs.
    descriptions: Vec<String>,
    /// The span of the deliveries, first day to last.
    duration: Option<String>,
    contact: Option<Contact>,
    reference: String,
    title: String,
    status: &'static str,
    coordinator: String,
    procedure: String,
    deadline: Option<String>,
    weights: Option<Weights>,
    cap: Option<i32>,
    cap_rule: Option<&'static str>,
    lots: Vec<NoticeLot>,
    results: Vec<ResultLine>,
    documents: Vec<NoticeDocument>,
    questions: QuestionsView,
    changes: Vec<ChangeLine>,
    urgent: bool,
    /// A company may look for partners on each lot's co-bidding exchange (open to bids).
    cobidding: bool,
    sealing: Option<SealingView>,
    /// Its notices in the Official Journal of the EU, with their links on TED.
    eu_notices: Vec<EuNoticeLink>,
}

#[derive(Serialize)]
struct EuNoticeLink {
    kind: &'static str,
    number: String,
    href: String,
}

/// How a notice announces the sealing of its bids.
#[derive(Serialize)]
struct SealingView {
    threshold: i32,
    holders: String,
    recipient: String,
}

/// A change of a published tender, as the notice and the lead's page show it.
#[derive(Serialize)]
struct ChangeLine {
    made_at: String,
    summary: String,
    substantial: bool,
    /// `du … au …` when the deadline moved.
    moved: Option<String>,
    documents: Vec<ChangeDocument>,
    replaced: String,
}

#[derive(Serialize)]
struct ChangeDocument {
    href: String,
    name: String,
}

fn change_lines(reference: &str, changes: &[tenders::ChangeView]) -> Vec<ChangeLine> {
    changes
        .iter()
        .map(|c| ChangeLine {
            made_at: paris_text(c.made_at),
            summary: c.summary.clone(),
            substantial: c.substantial,
            moved: c.deadline_moved.map(|(before, after)| {
                format!("du {} au {}", paris_text(before), paris_text(after))
            }),
            documents: c
                .documents
                .iter()
                .map(|(id, name)| ChangeDocument {
                    href: format!("/appels-d-offres/{reference}/documents/{id}"),
                    name: name.clone(),
                })
                .collect(),
            replaced: c.replaced.join(", "),
        })
        .collect()
}

#[derive(Serialize)]
struct Weights {
    price: i32,
    quality: i32,
    environment: i32,
}

#[derive(Serialize)]
struct NoticeLot {
    number: i32,
    title: String,
    cpv: String,
    /// The CPV code's French label.
    cpv_label: String,
    value: String,
    /// Where it is delivered (`21000 Dijon, 21800 Quetigny`).
    places: String,
    /// When: `du 01/03/2027 au 30/06/2027`.
    window: String,
}

#[derive(Serialize)]
struct ResultLine {
    number: i32,
    title: String,
    awarded: bool,
    winner: Option<String>,
    amount: Option<String>,
    bidders: usize,
}

#[derive(Serialize)]
struct NoticeDocument {
    href: String,
    name: String,
    size: String,
    kind: &'static str,
}

/// The question form of a notice: what was typed, and its problems once refused.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct QuestionForm {
    #[serde(default)]
    lot: String,
    #[serde(default)]
    question: String,
}

/// The question form's fields (problem name, input, label).
const QUESTION_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "lot",
        input: "question-lot",
        label: "Objet de la question",
    },
    super::form_errors::Field {
        problem: "question",
        input: "question-text",
        label: "Votre question",
    },
];

/// What the notice's questions section shows.
#[derive(Serialize)]
struct QuestionsView {
    answers: Vec<AnswerLine>,
    /// Whether the person may ask now (a signed-in company before the cut-off).
    can_ask: bool,
    /// When questions stop being taken, and when answers are due.
    until: Option<String>,
    answers_by: Option<String>,
    form: QuestionForm,
    lots: Vec<LotChoice>,
    errors: super::form_errors::FormErrors,
    error: Option<String>,
    sent: bool,
}

#[derive(Serialize)]
struct LotChoice {
    number: i32,
    selected: bool,
}

#[derive(Serialize)]
struct AnswerLine {
    id: i32,
    about: String,
    question: String,
    answer: String,
    answered_at: String,
}

pub async fn notice(
    reference: Path<String>,
    query: actix_web::web::Query<std::collections::HashMap<String, String>>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let sent = query.contains_key("question");
    let asking = Asking {
        sent,
        ..Asking::default()
    };
    notice_page(
        &pool,
        &hb,
        viewer.0,
        reference.into_inner(),
        asking,
        StatusCode::OK,
    )
    .await
}

/// The state of the question form on a notice.
#[derive(Default)]
struct Asking {
    form: QuestionForm,
    problems: crate::error::Problems,
    error: Option<String>,
    sent: bool,
}

/// A company asks a question on a published tender; the notice again, the question sent or
/// refused beside its field.
pub async fn ask(
    reference: Path<String>,
    posted: Posted<QuestionForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let reference = reference.into_inner();
    let (p, who, form, asked) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
        reference.clone(),
    );
    match blocking(&p, move |p| {
        tenders::ask(p, &who, &asked, &form.lot, &form.question)
    })
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/appels-d-offres/{reference}?question=envoyee#questions"
        ))),
        Err(error) => {
            let (error, problems, status) = super::form_errors::refused(error)?;
            let asking = Asking {
                form: posted.form,
                problems,
                error,
                sent: false,
            };
            notice_page(&pool, &hb, Some(viewer), reference, asking, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
}

/// The coordinator's lead answers a question: published on the notice, e-mailed to the
/// companies that asked or bid.
pub async fn answer_question(
    path: Path<(i32, i32)>,
    posted: Posted<AnswerForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, question) = path.into_inner();
    let (p, who, text, base) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.answer,
        settings.base_url.clone(),
    );
    match blocking(&p, move |p| {
        tenders::answer(p, &who, &base, id, question, &text)
    })
    .await
    {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}#questions"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

async fn notice_page(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Option<Viewer>,
    reference: String,
    asking: Asking,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let notice = blocking(pool, move |p| {
        crate::services::public::notice(p, &reference)
    })
    .await?;
    let supplier = viewer.as_ref().is_some_and(|v| v.role == Role::Supplier);
    let now = chrono::Utc::now().naive_utc();
    let cut_offs = notice.deadline.map(|d| tenders::cut_offs(d, notice.urgent));
    let cobidding =
        supplier && notice.status == "published" && notice.deadline.is_some_and(|d| now < d);
    let questions = QuestionsView {
        answers: notice
            .answers
            .iter()
            .map(|a| AnswerLine {
                id: a.id,
                about: a
                    .lot
                    .map_or("toute la consultation".into(), |n| format!("lot {n}")),
                question: a.question.clone(),
                answer: a.answer.clone(),
                answered_at: paris_text(a.answered_at),
            })
            .collect(),
        can_ask: supplier
            && notice.status == "published"
            && cut_offs.is_some_and(|(until, _)| now <= until),
        until: cut_offs.map(|(until, _)| paris_text(until)),
        answers_by: cut_offs.map(|(_, by)| paris_text(by)),
        lots: notice
            .lots
            .iter()
            .map(|l| LotChoice {
                number: l.number,
                selected: asking.form.lot.trim() == l.number.to_string(),
            })
            .collect(),
        errors: super::form_errors::FormErrors::of(&asking.problems, QUESTION_FIELDS),
        form: asking.form,
        error: asking.error,
        sent: asking.sent,
    };
    let from = notice.deliveries.values().filter_map(|d| d.from).min();
    let to = notice.deliveries.values().filter_map(|d| d.to).max();
    let page = NoticePage {
        eu_notices: notice
            .eu_notices
            .iter()
            .map(|(kind, number)| EuNoticeLink {
                kind: match kind.as_str() {
                    "contract" => "Avis de marché",
                    "change" => "Avis rectificatif",
                    _ => "Avis d'attribution",
                },
                href: format!(
                    "https://ted.europa.eu/fr/notice/-/detail/{}",
                    number.trim_start_matches('0')
                ),
                number: number.clone(),
            })
            .collect(),
        members: notice.members.join(", "),
        descriptions: notice.descriptions.clone(),
        duration: match (from, to) {
            (Some(from), Some(to)) => Some(format!(
                "du {} au {} ({})",
                day(from),
                day(to),
                span_in_words(from, to)
            )),
            _ => None,
        },
        contact: notice
            .contact
            .clone()
            .map(|(name, email)| Contact { name, email }),
        status: status_label(&notice.status),
        procedure: procedure_label(&notice.procedure).to_string(),
        deadline: notice.deadline.map(paris_text),
        weights: notice.weights.map(|(price, quality, environment)| Weights {
            price,
            quality,
            environment,
        }),
        cap: notice.max_lots_per_supplier,
        cap_rule: notice.cap_rule.as_deref().map(|r| match r {
            "best-total" => "meilleur score total",
            _ => "ordre d'importance décroissant des lots",
        }),
        lots: notice
            .lots
            .iter()
            .map(|l| {
                let delivery = notice
                    .deliveries
                    .get(&l.number)
                    .cloned()
                    .unwrap_or_default();
                NoticeLot {
                    number: l.number,
                    title: l.title.clone(),
                    cpv_label: crate::domain::CpvCatalog::embedded()
                        .get(&l.cpv)
                        .map(|e| e.label_fr.clone())
                        .unwrap_or_default(),
                    cpv: l.cpv.clone(),
                    value: euros(l.value_cents),
                    places: delivery.places.join(", "),
                    window: match (delivery.from, delivery.to) {
                        (Some(from), Some(to)) => format!("du {} au {}", day(from), day(to)),
                        _ => String::new(),
                    },
                }
            })
            .collect(),
        results: notice
            .results
            .iter()
            .map(|r| ResultLine {
                number: r.number,
                title: r.title.clone(),
                awarded: r.status == "awarded",
                winner: r.winner.clone(),
                amount: r.amount_cents.map(euros),
                bidders: r.bidders,
            })
            .collect(),
        documents: notice
            .documents
            .iter()
            .map(|d| NoticeDocument {
                kind: tenders::kind_label(&d.kind),
                href: format!("/appels-d-offres/{}/documents/{}", notice.reference, d.id),
                name: d.name.clone(),
                size: megabytes(d.size_bytes),
            })
            .collect(),
        changes: change_lines(&notice.reference, &notice.changes),
        urgent: notice.urgent,
        cobidding,
        sealing: notice.sealing.as_ref().map(|s| SealingView {
            threshold: s.threshold,
            holders: s.holders.join(", "),
            recipient: s.recipient.clone(),
        }),
        reference: notice.reference,
        title: notice.title,
        coordinator: notice.coordinator,
        questions,
    };
    Page::new(
        "pages/tenders/notice",
        format!("{} — Groupement", page.reference),
        "/",
    )
    .status(status)
    .render(hb, viewer.as_ref(), page)
}

/// The coordinator's lead adds a document (multipart upload, limits shown on the page).
pub async fn upload_document(
    req: actix_web::HttpRequest,
    id: Path<i32>,
    form: actix_multipart::Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    // A little over the limit is read, so that the service says the size was too large.
    let outcome =
        match super::uploads::read_posted(&req, form, &settings, &viewer, documents::MAX_BYTES + 1)
            .await
        {
            Ok(upload) => {
                let (p, who, kind) = (
                    pool.clone().into_inner(),
                    viewer.clone(),
                    upload.kind.clone(),
                );
                super::uploads::store_document(upload, move |name, bytes| {
                    tenders::add_document(&p, &who, id, (name, &kind), bytes)
                })
                .await
            }
            Err(error) => Err(error),
        };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

/// `POST /consultations/{id}/rectificatif`: the coordinator's lead changes a published tender
/// (multipart: the description, a later deadline, a document added or replaced); the page
/// again with the problems beside their fields, or the tender with its history.
pub async fn change(
    req: actix_web::HttpRequest,
    id: Path<i32>,
    form: actix_multipart::Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let upload =
        super::uploads::read_posted(&req, form, &settings, &viewer, documents::MAX_BYTES + 1).await;
    let (typed, outcome) = match upload {
        Ok(mut upload) => {
            let typed = tenders::ChangeForm {
                summary: upload.field("summary"),
                deadline: upload.field("deadline"),
                substantial: !upload.field("substantial").is_empty(),
                kind: upload.kind.clone(),
                replaces: upload.field("replaces"),
            };
            let (p, who, base, change) = (
                pool.clone().into_inner(),
                viewer.clone(),
                settings.base_url.clone(),
                typed.clone(),
            );
            let outcome = super::uploads::with_optional_file(
                upload.file_name.clone(),
                upload.file.take(),
                move |file| tenders::change(&p, &who, &base, id, &change, file),
            )
            .await;
            (typed, outcome)
        }
        Err(error) => (tenders::ChangeForm::default(), Err(error)),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}#changements"))),
        Err(error) => {
            let (message, problems, status) = super::form_errors::refused(error)?;
            let tender = load(&pool, &viewer, id).await?;
            // The change form's file is its own, not the documents' form's.
            let mut own = crate::error::Problems::default();
            for p in problems.iter() {
                let field = match p.field.as_str() {
                    "fichier" => "change-fichier",
                    other => other,
                };
                own.add(field, p.message.clone());
            }
            let problems = own;
            detail_page(
                &hb,
                &viewer,
                &tender,
                (&default_publication(), &typed),
                (message, problems),
                status,
            )
        }
    }
}

/// A document of a published tender, for anyone (a signed-in download is registered).
pub async fn document(
    path: Path<(String, i32)>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let (reference, id) = path.into_inner();
    let pool = pool.into_inner();
    let (name, content_type, bytes) = blocking(&pool, move |pool| {
        tenders::public_document(pool, viewer.0.as_deref(), &reference, id)
    })
    .await?;
    Ok(super::uploads::download(&name, &content_type, bytes))
}

/// The whole consultation file of a published tender as one zip, for anyone (a signed-in
/// download is registered).
pub async fn file_zip(
    reference: Path<String>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let reference = reference.into_inner();
    let pool = pool.into_inner();
    let (name, bytes) = blocking(&pool, move |pool| {
        tenders::public_file(pool, viewer.0.as_deref(), &reference)
    })
    .await?;
    Ok(super::uploads::download(&name, "application/zip", bytes))
}

/// The public list of published tenders, with filters.
/// The public list of published tenders, with its filters.
#[derive(Serialize)]
struct PublicListPage {
    count: usize,
    tenders: Vec<crate::services::public::TenderCard>,
    filter: crate::services::public::TenderFilter,
    procedures: Vec<ProcedureChoice>,
    buyers: Vec<BuyerChoice>,
    all: bool,
    errors: super::form_errors::FormErrors,
    error: Option<String>,
}

#[derive(Serialize)]
struct BuyerChoice {
    code: String,
    name: String,
    selected: bool,
}

/// The filters of the public list, by their French labels.
const LIST_FIELDS: &[super::form_errors::Field] = &[
    super::form_errors::Field {
        problem: "cpv",
        input: "cpv",
        label: "Code CPV",
    },
    super::form_errors::Field {
        problem: "before",
        input: "before",
        label: "Date limite au plus tard le",
    },
    super::form_errors::Field {
        problem: "q",
        input: "q",
        label: "Mots",
    },
];

#[derive(Serialize)]
struct ProcedureChoice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

pub async fn public_list(
    query: actix_web::web::Query<crate::services::public::TenderFilter>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let wanted = filter.clone();
    let (found, error, problems, status) =
        match blocking(&pool, move |p| crate::services::public::search(p, &wanted)).await {
            Ok(found) => (
                found,
                None,
                crate::error::Problems::default(),
                StatusCode::OK,
            ),
            Err(e) => {
                let (message, problems, status) = super::form_errors::refused(e)?;
                (Vec::new(), message, problems, status)
            }
        };
    let members = blocking(&pool, crate::services::public::members).await?;
    let buyers = members
        .into_iter()
        .map(|(code, name)| BuyerChoice {
            selected: filter.buyer.trim().eq_ignore_ascii_case(&code),
            code,
            name,
        })
        .collect();
    let procedures = ["no_competition", "adapted", "formal"]
        .into_iter()
        .map(|code| ProcedureChoice {
            code,
            label: procedure_label(code),
            selected: filter.procedure == code,
        })
        .collect();
    Page::new(
        "pages/tenders/public_list",
        "Appels d'offres — Groupement",
        "/appels-d-offres",
    )
    .status(status)
    .render(
        &hb,
        viewer.0.as_ref(),
        PublicListPage {
            count: found.len(),
            tenders: found,
            all: filter.etat == "tous",
            filter,
            procedures,
            buyers,
            errors: super::form_errors::FormErrors::of(&problems, LIST_FIELDS),
            error,
        },
    )
}

/// An Atom feed (RFC 4287) of the published tenders.
pub async fn atom(pool: Data<Pool>, settings: Data<Settings>) -> Result<HttpResponse, AppError> {
    let p = pool.into_inner();
    let tenders = blocking(&p, crate::services::public::published_tenders).await?;
    let base = &settings.base_url;
    let stamp = |t: Option<chrono::NaiveDateTime>| {
        t.unwrap_or_default()
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let updated = tenders.iter().filter_map(|t| t.published_at).max();
    let mut feed = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">\n\
         <title>Groupement — appels d'offres publiés</title>\n<id>{base}/appels-d-offres</id>\n\
         <link rel=\"self\" href=\"{base}/appels-d-offres.atom\"/>\n<link href=\"{base}/appels-d-offres\"/>\n\
         <updated>{}</updated>\n<author><name>Groupement de commandes de la métropole de Dijon</name></author>\n",
        stamp(updated)
    );
    for t in &tenders {
        let link = format!(
            "{base}/appels-d-offres/{}",
            super::charts::xml(&t.reference)
        );
        feed.push_str(&format!(
            "<entry>\n<title>{} — {}</title>\n<id>{link}</id>\n<link href=\"{link}\"/>\n<updated>{}</updated>\n\
             <summary>{} ; {} ; {} lot(s), {} HT ; date limite {}</summary>\n</entry>\n",
            super::charts::xml(&t.reference),
            super::charts::xml(&t.title),
            stamp(t.published_at),
            super::charts::xml(&t.coordinator),
            super::charts::xml(&t.procedure),
            t.lots,
            super::charts::xml(&t.value),
            super::charts::xml(&t.deadline),
        ));
    }
    feed.push_str("</feed>\n");
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(feed))
}

/// The journal of a tender, as its page shows it.
#[derive(Serialize)]
struct JournalPage {
    id: i32,
    reference: String,
    title: String,
    sealed: bool,
    entries: Vec<JournalLine>,
}

#[derive(Serialize)]
struct JournalLine {
    at: String,
    who: String,
    what: String,
    detail: String,
}

/// `GET /consultations/{id}/journal`: everything that happened to the tender (its
/// coordinator's lead).
pub async fn journal(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (id, who) = (id.into_inner(), viewer.clone());
    let journal = blocking(&pool, move |p| tenders::journal(p, &who, id)).await?;
    let page = JournalPage {
        id: journal.tender_id,
        sealed: journal.sealed,
        entries: journal
            .entries
            .iter()
            .map(|e| JournalLine {
                at: paris_text(e.at),
                who: e.who.clone(),
                what: e.what.clone(),
                detail: e.detail.clone(),
            })
            .collect(),
        reference: journal.reference,
        title: journal.title,
    };
    Page::new(
        "pages/tenders/journal",
        format!("Journal de {} — Groupement", page.reference),
        "/consultations",
    )
    .render(&hb, Some(&viewer), page)
}

/// A notice of a tender as a download, for its members: the one named, or the latest.
async fn notice_download(
    pool: Data<Pool>,
    viewer: MaybeViewer,
    id: i32,
    which: Option<i32>,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (name, xml) = blocking(&pool, move |p| {
        crate::services::notices::notice_file(p, &viewer, id, which)
    })
    .await?;
    Ok(super::uploads::download(
        &name,
        "application/xml; charset=utf-8",
        xml.into_bytes(),
    ))
}

/// `GET /consultations/{id}/avis-ue.xml`: the tender's latest EU notice (eForms XML).
pub async fn latest_notice(
    id: Path<i32>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    notice_download(pool, viewer, id.into_inner(), None).await
}

/// `GET /consultations/{id}/avis-ue/{notice}.xml`: one of its EU notices.
pub async fn notice_file(
    path: Path<(i32, String)>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let (id, file) = path.into_inner();
    let notice: i32 = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse().ok())
        .ok_or(AppError::NotFound)?;
    notice_download(pool, viewer, id, Some(notice)).await
}

/// `POST /consultations/{id}/avis-ue/{notice}/envoi`: the coordinator's lead sent the notice
/// (through the eSender or BOAMP, by hand).
pub async fn send_notice(
    path: Path<(i32, i32)>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, notice) = path.into_inner();
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    match blocking(&p, move |p| {
        crate::services::notices::send(p, &who, id, notice, &crate::services::notices::ManualSender)
    })
    .await
    {
        Ok(()) => Ok(see_other(&format!("/consultations/{id}#avis-europeens"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct TedForm {
    #[serde(default)]
    ted_number: String,
}

/// `POST /consultations/{id}/avis-ue/{notice}/publication`: the notice's TED publication number.
pub async fn notice_published(
    path: Path<(i32, i32)>,
    posted: Posted<TedForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, notice) = path.into_inner();
    let (p, who, number) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.ted_number,
    );
    match blocking(&p, move |p| {
        crate::services::notices::record_publication(p, &who, id, notice, &number)
    })
    .await
    {
        Ok(_) => Ok(see_other(&format!("/consultations/{id}#avis-europeens"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

/// `GET /consultations/{id}/journal.csv`.
pub async fn journal_csv(
    id: Path<i32>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (name, bytes) = blocking(&pool, move |p| {
        let journal = tenders::journal(p, &viewer, id)?;
        Ok::<_, AppError>((
            format!("{}-journal.csv", journal.reference),
            tenders::journal_csv(&journal)?,
        ))
    })
    .await?;
    Ok(super::uploads::download(
        &name,
        "text/csv; charset=utf-8",
        bytes,
    ))
}

/// `GET /consultations/{id}/archive.zip`: the tender's archive (journal, every version of its
/// file, changes, questions, signed receipts once opened).
pub async fn archive(
    id: Path<i32>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (name, bytes) = blocking(&pool, move |p| tenders::archive(p, &viewer, id)).await?;
    Ok(super::uploads::download(&name, "application/zip", bytes))
}

#[derive(Debug, Deserialize)]
pub struct BackupReceiptForm {
    #[serde(default)]
    received: String,
}

/// `POST /consultations/{id}/copies/{copy}/reception`: the coordinator's lead records that a
/// backup copy arrived.
pub async fn record_backup(
    path: Path<(i32, i32)>,
    posted: Posted<BackupReceiptForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, copy) = path.into_inner();
    let (who, received) = (viewer.clone(), posted.form.received);
    match blocking(&pool, move |p| {
        tenders::record_backup(p, &who, id, copy, &received)
    })
    .await
    {
        Ok(()) => Ok(see_other(&format!("/consultations/{id}#copies"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct BackupOpenForm {
    #[serde(default)]
    reason: String,
}

/// `POST /consultations/{id}/copies/{copy}/ouverture`: the coordinator's lead opens a backup
/// copy, for one of the reasons the code allows.
pub async fn open_backup(
    path: Path<(i32, i32)>,
    posted: Posted<BackupOpenForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (id, copy) = path.into_inner();
    let (who, reason) = (viewer.clone(), posted.form.reason);
    match blocking(&pool, move |p| {
        tenders::open_backup(p, &who, id, copy, &reason)
    })
    .await
    {
        Ok(()) => Ok(see_other(&format!("/consultations/{id}#copies"))),
        Err(error) => refused_page(&pool, &hb, &viewer, id, error).await,
    }
}

/// `GET /appels-d-offres/{reference}/cle-publique.txt`: the public key a published tender's
/// bids are encrypted to, for a company that encrypts its documents itself.
pub async fn public_key(
    reference: Path<String>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let reference = reference.into_inner();
    let p = pool.into_inner();
    let shown = reference.clone();
    let notice = blocking(&p, move |p| crate::services::public::notice(p, &shown)).await?;
    let sealing = notice.sealing.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{reference}-cle-publique.txt\""),
        ))
        .body(format!("{}\n", sealing.recipient)))
}
