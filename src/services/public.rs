//! What anyone may read without signing in.

use crate::db::{queries, Pool};
use crate::domain::Cents;
use crate::error::AppError;
use serde::Serialize;

/// A published tender as the public lists it.
#[derive(Debug, Serialize)]
pub struct TenderCard {
    pub reference: String,
    /// When it was published (UTC), for the feed.
    #[serde(skip)]
    pub published_at: Option<chrono::NaiveDateTime>,
    pub title: String,
    pub coordinator: String,
    pub procedure: String,
    pub lots: i64,
    pub value: String,
    pub deadline: String,
}

pub fn published_tenders(pool: &Pool) -> Result<Vec<TenderCard>, AppError> {
    search(pool, &TenderFilter::default())
}

/// Filters of the public list of tenders; every field optional.
#[derive(Debug, Default, Clone, serde::Deserialize, Serialize)]
pub struct TenderFilter {
    /// Start of a lot's CPV code.
    #[serde(default)]
    pub cpv: String,
    /// Code of a member organisation taking part.
    #[serde(default)]
    pub buyer: String,
    /// `no_competition`, `adapted` or `formal`.
    #[serde(default)]
    pub procedure: String,
    /// Deadline on or before this day (`AAAA-MM-JJ` or `JJ/MM/AAAA`).
    #[serde(default)]
    pub before: String,
}

/// Published tenders matching the filter, the nearest deadline first.
pub fn search(pool: &Pool, filter: &TenderFilter) -> Result<Vec<TenderCard>, AppError> {
    let before = match filter.before.trim() {
        "" => None,
        text => Some(
            crate::domain::parse_date(text)
                .map_err(|e| AppError::validation("before", e.0))?
                .and_hms_opt(23, 59, 59)
                .map(crate::domain::from_paris)
                .unwrap_or_default(),
        ),
    };
    let cpv = filter.cpv.trim();
    if !cpv.bytes().all(|b| b.is_ascii_digit()) || cpv.len() > 8 {
        return Err(AppError::validation(
            "cpv",
            "un début de code CPV : de 1 à 8 chiffres",
        ));
    }
    let buyer = filter.buyer.trim().to_uppercase();
    let procedure = filter.procedure.trim();
    fn nonempty(text: &str) -> Option<&str> {
        (!text.is_empty()).then_some(text)
    }
    let mut conn = pool.get()?;
    let kept = queries::published_tenders(
        &mut conn,
        &queries::PublishedFilter {
            procedure: nonempty(procedure),
            deadline_by: before,
            cpv_prefix: nonempty(cpv),
            buyer: nonempty(&buyer),
        },
    )?;
    Ok(kept
        .into_iter()
        .map(|row| TenderCard {
            procedure: procedure_label(&row.tender.procedure).to_string(),
            value: Cents::new(row.tender.total_value_cents).to_string(),
            deadline: row
                .tender
                .deadline
                .map(crate::domain::paris_text)
                .unwrap_or_else(|| "non fixée".into()),
            published_at: row.tender.published_at,
            reference: row.tender.reference,
            title: row.tender.title,
            coordinator: row.coordinator,
            lots: row.lots,
        })
        .collect())
}

/// The French name of a procedure code (the solver's own wording).
pub fn procedure_label(code: &str) -> &str {
    use groupement_solver::procedure::Procedure;
    [
        Procedure::NoCompetition,
        Procedure::Adapted,
        Procedure::Formal,
    ]
    .into_iter()
    .find(|p| p.code() == code)
    .map(|p| p.label_fr())
    .unwrap_or(code)
}
