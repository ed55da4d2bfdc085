//! `/programme-achats`: the purchase programme (#24), public, and its Atom feed.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::programme::{self, PlannedPurchase};
use crate::services::sourcing::{self, DeclarationForm};
use crate::web::nav::Role;
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct ProgrammePage {
    months: u32,
    /// The purchases shown and planned.
    count: usize,
    total: usize,
    quarters: Vec<Quarter>,
    errors: FormErrors,
    filter: ProgrammeFilter,
    /// A company's people declare their interest; the members' leads read the declarations.
    supplier: bool,
    lead: bool,
}

const FIELDS: &[Field] = &[Field {
    problem: "cpv",
    input: "cpv",
    label: "Code CPV commençant par",
}];

#[derive(Serialize)]
struct Quarter {
    quarter: String,
    anchor: String,
    purchases: Vec<Card>,
}

#[derive(Serialize)]
struct Card {
    anchor: String,
    label: String,
    unit: String,
    value_band: String,
    procedure: &'static str,
    members: String,
    lots: String,
    stage: &'static str,
    cpv: String,
    /// Where a company declares its interest, and how many did.
    declare: String,
    declared: i64,
    /// The viewing company's own declaration is on it.
    ours: bool,
    /// Its co-bidding exchange, and how many companies posted there.
    exchange: String,
    posted: i64,
    /// The companies' questions answered by the buyers, for everyone.
    answers: Vec<Answered>,
    /// The needs' titles their members chose to publish.
    titles: String,
}

#[derive(Serialize)]
struct Answered {
    question: String,
    answer: String,
}

fn card(
    p: &PlannedPurchase,
    counts: &std::collections::BTreeMap<String, i64>,
    ours: &std::collections::BTreeSet<String>,
    posted: &std::collections::BTreeMap<String, i64>,
    answered: &std::collections::BTreeMap<String, Vec<(String, String)>>,
) -> Card {
    Card {
        titles: p.public_titles.join(" ; "),
        answers: answered
            .get(&p.key)
            .map(|list| {
                list.iter()
                    .map(|(q, a)| Answered {
                        question: q.clone(),
                        answer: a.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        exchange: format!("/co-traitance?cible={}", query_value(&p.key)),
        posted: posted.get(&p.key).copied().unwrap_or(0),
        ours: ours.contains(&p.key),
        declare: format!(
            "/programme-achats/declaration?achat={}",
            query_value(&p.key)
        ),
        declared: counts.get(&p.key).copied().unwrap_or(0),
        anchor: programme::anchor(&p.key),
        label: p.label.clone(),
        unit: p.unit.clone(),
        value_band: p.value_band.clone(),
        procedure: p.procedure,
        members: p.members.join(", "),
        lots: p.lots.clone(),
        stage: p.stage,
        cpv: p.cpv.clone(),
    }
}

/// What a company narrows the programme to: a CPV code's first digits.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ProgrammeFilter {
    #[serde(default)]
    cpv: String,
}

/// `GET /programme-achats`: the planned purchases by expected quarter of publication, those of
/// a CPV code's first digits when asked.
pub async fn page(
    query: Query<ProgrammeFilter>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let role = viewer.0.as_ref().map(|v| v.role);
    let filter = query.into_inner();
    let cpv = filter.cpv.trim().to_string();
    let mut problems = crate::error::Problems::default();
    if !cpv.is_empty() && (cpv.len() > 8 || !cpv.bytes().all(|b| b.is_ascii_digit())) {
        problems.add(
            "cpv",
            format!(
                "« {} » : tapez de 1 à 8 chiffres d'un code CPV (ex. 3314)",
                cpv.chars().take(20).collect::<String>()
            ),
        );
    }
    let status = match problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let company = viewer.0.as_ref().and_then(|v| v.supplier_id);
    let (purchases, counts, ours, (posted, answered)) = blocking(&pool, move |p| {
        let ours = match company {
            Some(id) => sourcing::declared_by(p, id)?,
            None => Default::default(),
        };
        Ok::<_, AppError>((
            programme::current(p)?,
            sourcing::counts(p)?,
            ours,
            (
                crate::services::cobidding::counts(p)?,
                sourcing::answered(p)?,
            ),
        ))
    })
    .await?;
    // A filter that does not read is said, and the whole programme shown.
    let narrowed = problems.is_empty() && !cpv.is_empty();
    let wanted = |p: &&PlannedPurchase| {
        !narrowed || crate::services::tenders::interest_matches(&cpv, &p.cpv)
    };
    let shown: Vec<&PlannedPurchase> = purchases.iter().filter(wanted).collect();
    let mut quarters: Vec<Quarter> = Vec::new();
    for p in &shown {
        match quarters.last_mut() {
            Some(q) if q.quarter == p.quarter => q
                .purchases
                .push(card(p, &counts, &ours, &posted, &answered)),
            _ => quarters.push(Quarter {
                anchor: programme::anchor(&p.quarter),
                quarter: p.quarter.clone(),
                purchases: vec![card(p, &counts, &ours, &posted, &answered)],
            }),
        }
    }
    Page::new(
        "pages/programme",
        "Programme des achats mutualisés — Groupement",
        "/programme-achats",
    )
    .status(status)
    .render(
        &hb,
        viewer.0.as_ref(),
        ProgrammePage {
            months: programme::HORIZON_MONTHS,
            count: shown.len(),
            total: purchases.len(),
            quarters,
            errors: FormErrors::of(&problems, FIELDS),
            filter: ProgrammeFilter { cpv },
            supplier: role == Some(Role::Supplier),
            lead: role == Some(Role::Lead),
        },
    )
}

/// `GET /programme-achats.atom`.
pub async fn atom(pool: Data<Pool>, settings: Data<Settings>) -> Result<HttpResponse, AppError> {
    let purchases = blocking(&pool, programme::current).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(programme::atom(&settings.base_url, &purchases)))
}

#[derive(Debug, Default, Deserialize)]
pub struct PurchaseQuery {
    #[serde(default)]
    achat: String,
}

#[derive(Serialize)]
struct DeclarationPage<'a> {
    purchase: &'a PlannedPurchase,
    anchor: String,
    members: String,
    form: &'a DeclarationForm,
    saved: bool,
    error: Option<String>,
    errors: FormErrors,
}

const DECLARATION_FIELDS: &[Field] = &[
    Field {
        problem: "capacité",
        input: "capacity",
        label: "Valeur que nous pourrions livrer",
    },
    Field {
        problem: "sites",
        input: "sites",
        label: "Nos sites",
    },
    Field {
        problem: "certifications",
        input: "certifications",
        label: "Nos certifications",
    },
    Field {
        problem: "question",
        input: "question",
        label: "Une question aux acheteurs",
    },
];

fn declaration_page(
    hb: &Handlebars<'static>,
    viewer: &crate::web::nav::Viewer,
    purchase: &PlannedPurchase,
    form: &DeclarationForm,
    saved: bool,
    (error, problems): (Option<String>, crate::error::Problems),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    Page::new(
        "pages/programme_declaration",
        format!("Déclarer notre intérêt — {} — Groupement", purchase.label),
        "/programme-achats",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        DeclarationPage {
            purchase,
            anchor: programme::anchor(&purchase.key),
            members: purchase.members.join(", "),
            form,
            saved,
            error,
            errors: FormErrors::of(&problems, DECLARATION_FIELDS),
        },
    )
}

/// `GET /programme-achats/declaration?achat=KEY`: a company's declaration of interest.
pub async fn declaration(
    query: Query<PurchaseQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let key = query.into_inner().achat;
    let who = viewer.clone();
    let (purchase, form) = blocking(&pool, move |p| {
        let purchase = sourcing::purchase(p, &key)?;
        let form = sourcing::own(p, &who, &key)?;
        Ok::<_, AppError>((purchase, form))
    })
    .await?;
    let saved = !form.capacity.is_empty();
    declaration_page(
        &hb,
        &viewer,
        &purchase,
        &form,
        saved,
        (None, crate::error::Problems::default()),
        StatusCode::OK,
    )
}

/// `POST /programme-achats/declaration`.
pub async fn declare(
    posted: Posted<DeclarationForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (who, sent) = (viewer.clone(), form.clone());
    match blocking(&pool, move |p| sourcing::declare(p, &who, &sent)).await {
        Ok(_) => Ok(see_other(&format!(
            "/programme-achats/declaration?achat={}",
            query_value(&form.achat)
        ))),
        Err(error) => {
            let (message, problems, status) = super::form_errors::refused(error)?;
            let key = form.achat.clone();
            let purchase = blocking(&pool, move |p| sourcing::purchase(p, &key)).await?;
            declaration_page(
                &hb,
                &viewer,
                &purchase,
                &form,
                false,
                (message, problems),
                status,
            )
        }
    }
}

#[derive(Serialize)]
struct DeclarationsPage {
    purchases: Vec<DeclaredPurchase>,
    error: Option<String>,
    errors: FormErrors,
    /// The declaration whose answer was refused, and the answer typed.
    refused: Option<i32>,
    typed: String,
}

const ANSWER_FIELDS: &[Field] = &[Field {
    problem: "réponse",
    input: "answer",
    label: "Réponse",
}];

#[derive(Serialize)]
struct DeclaredPurchase {
    anchor: String,
    label: String,
    unit: String,
    quarter: String,
    value_band: String,
    count: usize,
    rows: Vec<sourcing::DeclarationRow>,
}

/// `GET /programme-achats/declarations`: the companies' declarations, for the members' leads.
pub async fn declarations(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    declarations_page(&pool, &hb, viewer, None, StatusCode::OK).await
}

/// `POST /programme-achats/reponse`: a lead answers a company's question.
pub async fn answer(
    posted: Posted<sourcing::AnswerForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let form = posted.form;
    let (who, sent, base) = (viewer.clone(), form.clone(), settings.base_url.clone());
    match blocking(&pool, move |p| sourcing::answer(p, &who, &base, &sent)).await {
        Ok(key) => Ok(see_other(&format!(
            "/programme-achats/declarations#{}",
            programme::anchor(&key)
        ))),
        Err(error) => {
            let (message, problems, status) = super::form_errors::refused(error)?;
            declarations_page(&pool, &hb, viewer, Some((form, message, problems)), status).await
        }
    }
}

async fn declarations_page(
    pool: &Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: crate::web::nav::Viewer,
    refused: Option<(sourcing::AnswerForm, Option<String>, crate::error::Problems)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let who = viewer.clone();
    let (form, error, problems) = match refused {
        Some((form, error, problems)) => (Some(form), error, problems),
        None => (None, None, crate::error::Problems::default()),
    };
    let found = blocking(pool, move |p| sourcing::declarations(p, &who)).await?;
    let refused: Option<i32> = form
        .as_ref()
        .and_then(|f| f.declaration.trim().parse().ok());
    let mut errors = FormErrors::of(&problems, ANSWER_FIELDS);
    // Each question has its own answer field: the summary links to the one refused.
    if let Some(id) = refused {
        for line in &mut errors.summary {
            if line.href == "#answer" {
                line.href = format!("#answer-{id}");
            }
        }
    }
    Page::new(
        "pages/programme_declarations",
        "Déclarations d'intérêt — Groupement",
        "/programme-achats",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        DeclarationsPage {
            error,
            errors,
            refused,
            typed: form.map(|f| f.answer).unwrap_or_default(),
            purchases: found
                .into_iter()
                .map(|(p, rows)| DeclaredPurchase {
                    anchor: programme::anchor(&p.key),
                    label: p.label,
                    unit: p.unit,
                    quarter: p.quarter,
                    value_band: p.value_band,
                    count: rows.len(),
                    rows,
                })
                .collect(),
        },
    )
}

/// A value for a query string, percent-encoded (the purchase keys have `:` and accents).
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
