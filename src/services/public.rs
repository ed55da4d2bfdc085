//! What anyone may read without signing in.

use crate::db::{queries, Pool};
use crate::domain::Cents;
use crate::error::AppError;
use serde::Serialize;

/// A published tender as the public lists it.
#[derive(Debug, Serialize)]
pub struct TenderCard {
    pub reference: String,
    pub title: String,
    pub coordinator: String,
    pub procedure: String,
    pub lots: i64,
    pub value: String,
    pub deadline: String,
}

pub fn published_tenders(pool: &Pool) -> Result<Vec<TenderCard>, AppError> {
    let mut conn = pool.get()?;
    let rows = queries::published_tenders(&mut conn)?;
    Ok(rows
        .into_iter()
        .map(|row| TenderCard {
            procedure: procedure_label(&row.tender.procedure).to_string(),
            value: Cents::new(row.tender.total_value_cents).to_string(),
            deadline: row
                .tender
                .deadline
                .map(crate::domain::paris_text)
                .unwrap_or_else(|| "non fixée".into()),
            reference: row.tender.reference,
            title: row.tender.title,
            coordinator: row.coordinator,
            lots: row.lots,
        })
        .collect())
}

fn procedure_label(code: &str) -> &str {
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
