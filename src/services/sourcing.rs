//! Sourcing (R2111-1, #24): on a planned purchase of the programme, a company declares its
//! interest and what it could take on (the value it could deliver, its sites, its
//! certifications), and may ask a question; the members' leads read the declarations per
//! purchase. A declaration informs the design of the lots: it commits no one and gives no
//! advantage at the award (the pages say so).

use crate::auth::Actor;
use crate::db::schema::{sourcing_declarations, suppliers};
use crate::db::{write_transaction, Pool};
use crate::domain::Cents;
use crate::error::{AppError, Problems};
use crate::services::audit::{self, Change};
use crate::services::programme::{self, PlannedPurchase};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest sites' and certifications' texts, and question, in characters.
pub const TEXT_CHARS: usize = 500;
pub const QUESTION_CHARS: usize = 2000;

/// A company's declaration as it types it.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct DeclarationForm {
    /// The planned purchase (its key on the programme).
    #[serde(default)]
    pub achat: String,
    /// The value it could deliver over the purchase's year, in euros excluding VAT.
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub sites: String,
    #[serde(default)]
    pub certifications: String,
    #[serde(default)]
    pub question: String,
}

/// The planned purchase of a key, as the programme says it today.
pub fn purchase(pool: &Pool, key: &str) -> Result<PlannedPurchase, AppError> {
    programme::current(pool)?
        .into_iter()
        .find(|p| p.key == key)
        .ok_or(AppError::NotFound)
}

/// The company's declaration on a purchase, to edit it (empty form when none yet).
pub fn own(pool: &Pool, actor: &Actor, key: &str) -> Result<DeclarationForm, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let found: Option<(i64, String, String, Option<String>)> = sourcing_declarations::table
        .filter(sourcing_declarations::purchase_key.eq(key))
        .filter(sourcing_declarations::supplier_id.eq(supplier_id))
        .select((
            sourcing_declarations::capacity_cents,
            sourcing_declarations::sites,
            sourcing_declarations::certifications,
            sourcing_declarations::question,
        ))
        .first(&mut conn)
        .optional()?;
    Ok(match found {
        Some((capacity, sites, certifications, question)) => DeclarationForm {
            achat: key.to_string(),
            capacity: crate::services::needs::french_number(capacity as f64 / 100.0),
            sites,
            certifications,
            question: question.unwrap_or_default(),
        },
        None => DeclarationForm {
            achat: key.to_string(),
            ..DeclarationForm::default()
        },
    })
}

/// Records (or replaces) the company's declaration on a planned purchase; every problem named
/// by its field. Returns whether it replaced an earlier one.
pub fn declare(pool: &Pool, actor: &Actor, form: &DeclarationForm) -> Result<bool, AppError> {
    let supplier_id = actor.require_supplier()?;
    // Only a purchase still on the programme takes declarations (one that is not: not found,
    // whatever the form says).
    if form.achat.len() > 300 {
        return Err(AppError::NotFound);
    }
    let planned = purchase(pool, &form.achat)?;
    let mut problems = Problems::default();
    let capacity = problems.check("capacité", Cents::parse_positive_euros(&form.capacity));
    let sites = problems.text("sites", &form.sites, 0, TEXT_CHARS);
    let certifications = problems.text("certifications", &form.certifications, 0, TEXT_CHARS);
    let question = problems.text("question", &form.question, 0, QUESTION_CHARS);
    problems.finish()?;
    let capacity = capacity.ok_or_else(|| AppError::internal("capacity checked without value"))?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let now = Utc::now().naive_utc();
        // An answer already given stays with the question it answers.
        let kept: Option<(Option<String>, Option<String>, Option<NaiveDateTime>)> =
            sourcing_declarations::table
                .filter(sourcing_declarations::purchase_key.eq(&planned.key))
                .filter(sourcing_declarations::supplier_id.eq(supplier_id))
                .select((
                    sourcing_declarations::question,
                    sourcing_declarations::answer,
                    sourcing_declarations::answered_at,
                ))
                .first(conn)
                .optional()?;
        let (answer, answered_at) = match kept {
            Some((Some(asked), answer, at)) if asked == question => (answer, at),
            _ => (None, None),
        };
        let replaced = diesel::delete(
            sourcing_declarations::table
                .filter(sourcing_declarations::purchase_key.eq(&planned.key))
                .filter(sourcing_declarations::supplier_id.eq(supplier_id)),
        )
        .execute(conn)?;
        diesel::insert_into(sourcing_declarations::table)
            .values((
                sourcing_declarations::purchase_key.eq(&planned.key),
                sourcing_declarations::cpv.eq(&planned.cpv),
                sourcing_declarations::supplier_id.eq(supplier_id),
                sourcing_declarations::capacity_cents.eq(capacity.get()),
                sourcing_declarations::sites.eq(&sites),
                sourcing_declarations::certifications.eq(&certifications),
                sourcing_declarations::question.eq((!question.is_empty()).then_some(&question)),
                sourcing_declarations::declared_at.eq(now),
                sourcing_declarations::answer.eq(answer),
                sourcing_declarations::answered_at.eq(answered_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("sourcing.declared", "planned_purchase", &planned.key).after(format!(
                "capacité {capacity} ; sites : {sites} ; certifications : {certifications}{}",
                match question.is_empty() {
                    true => String::new(),
                    false => " ; avec une question".into(),
                }
            )),
        )?;
        Ok(replaced > 0)
    })
}

/// A declaration as the leads read it.
#[derive(Debug, Clone, Serialize)]
pub struct DeclarationRow {
    pub id: i32,
    pub company: String,
    pub siret: String,
    pub commune: String,
    pub sme: bool,
    pub local: bool,
    pub capacity: String,
    pub sites: String,
    pub certifications: String,
    pub question: Option<String>,
    pub declared_at: NaiveDateTime,
    pub answer: Option<String>,
}

/// The declarations on the programme's purchases, by purchase (those still planned), for the
/// members' leads.
pub fn declarations(
    pool: &Pool,
    actor: &Actor,
) -> Result<Vec<(PlannedPurchase, Vec<DeclarationRow>)>, AppError> {
    actor.require_lead()?;
    let planned = programme::current(pool)?;
    let mut conn = pool.get()?;
    let territory = crate::services::settings::today(&mut conn)?;
    type Row = (
        String,
        (String, String, String, String, bool),
        (i64, String, String, Option<String>, NaiveDateTime),
        (i32, Option<String>),
    );
    let rows: Vec<Row> = sourcing_declarations::table
        .inner_join(suppliers::table)
        .order((
            sourcing_declarations::purchase_key,
            sourcing_declarations::capacity_cents.desc(),
            suppliers::name,
        ))
        .select((
            sourcing_declarations::purchase_key,
            (
                suppliers::name,
                suppliers::siret,
                suppliers::commune,
                suppliers::department_code,
                suppliers::sme,
            ),
            (
                sourcing_declarations::capacity_cents,
                sourcing_declarations::sites,
                sourcing_declarations::certifications,
                sourcing_declarations::question,
                sourcing_declarations::declared_at,
            ),
            (sourcing_declarations::id, sourcing_declarations::answer),
        ))
        .load(&mut conn)?;
    let mut by_key: BTreeMap<String, Vec<DeclarationRow>> = BTreeMap::new();
    for (
        key,
        (company, siret, commune, department, sme),
        (capacity, sites, certifications, question, at),
        (id, answer),
    ) in rows
    {
        by_key.entry(key).or_default().push(DeclarationRow {
            id,
            answer,
            company,
            siret,
            commune,
            sme,
            local: territory.is_local(&department),
            capacity: Cents::new(capacity).to_string(),
            sites,
            certifications,
            question,
            declared_at: at,
        });
    }
    Ok(planned
        .into_iter()
        .filter_map(|p| by_key.remove(&p.key).map(|rows| (p, rows)))
        .collect())
}

/// The planned purchases (keys) a company has declared its interest in.
pub fn declared_by(
    pool: &Pool,
    supplier_id: i32,
) -> Result<std::collections::BTreeSet<String>, AppError> {
    let mut conn = pool.get()?;
    Ok(sourcing_declarations::table
        .filter(sourcing_declarations::supplier_id.eq(supplier_id))
        .select(sourcing_declarations::purchase_key)
        .load::<String>(&mut conn)?
        .into_iter()
        .collect())
}

/// How many companies declared an interest in each planned purchase (its key).
pub fn counts(pool: &Pool) -> Result<BTreeMap<String, i64>, AppError> {
    let mut conn = pool.get()?;
    Ok(sourcing_declarations::table
        .group_by(sourcing_declarations::purchase_key)
        .select((
            sourcing_declarations::purchase_key,
            diesel::dsl::count_star(),
        ))
        .load::<(String, i64)>(&mut conn)?
        .into_iter()
        .collect())
}

/// The longest answer, in characters.
pub const ANSWER_CHARS: usize = 4000;

/// A lead's answer to a company's question.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AnswerForm {
    #[serde(default)]
    pub declaration: String,
    #[serde(default)]
    pub answer: String,
}

/// A members' lead answers the question of a declaration: recorded, e-mailed to the company and
/// published on the programme for every company, without its name. An answer given again
/// replaces the first (the company is told again).
pub fn answer(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    form: &AnswerForm,
) -> Result<String, AppError> {
    actor.require_lead()?;
    let id: i32 = form
        .declaration
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let mut problems = Problems::default();
    let text = problems.text("réponse", &form.answer, 1, ANSWER_CHARS);
    problems.finish()?;
    let planned = programme::current(pool)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let found: Option<(String, Option<String>, String, String, String)> =
            sourcing_declarations::table
                .inner_join(suppliers::table)
                .filter(sourcing_declarations::id.eq(id))
                .select((
                    sourcing_declarations::purchase_key,
                    sourcing_declarations::question,
                    suppliers::name,
                    suppliers::notification_email,
                    suppliers::locale,
                ))
                .first(conn)
                .optional()?;
        let (key, question, company, email, locale) = found.ok_or(AppError::NotFound)?;
        let question = question.ok_or_else(|| {
            AppError::validation("réponse", "cette déclaration ne pose pas de question")
        })?;
        let purchase = planned
            .iter()
            .find(|p| p.key == key)
            .ok_or(AppError::NotFound)?;
        let now = Utc::now().naive_utc();
        diesel::update(sourcing_declarations::table.find(id))
            .set((
                sourcing_declarations::answer.eq(&text),
                sourcing_declarations::answered_at.eq(now),
            ))
            .execute(conn)?;
        crate::mail::enqueue(
            conn,
            &email,
            "sourcing_answered",
            &serde_json::json!({
                "locale": crate::domain::Locale::of(&locale).code(),
                "supplier": company,
                "title": format!("{} ({})", purchase.label, purchase.unit),
                "question": question,
                "answer": text,
                "link": format!("{base_url}/programme-achats#{}", programme::anchor(&key)),
            }),
            &format!("sourcing:{id}:{}", crate::services::auth::hash_token(&text)),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("sourcing.answered", "planned_purchase", &key)
                .after(format!("déclaration n° {id} : {text}")),
        )?;
        Ok(key)
    })
}

/// The questions answered, by planned purchase (its key), as every company reads them: the
/// question and its answer, never who asked.
pub fn answered(pool: &Pool) -> Result<BTreeMap<String, Vec<(String, String)>>, AppError> {
    let mut conn = pool.get()?;
    let rows: Vec<(String, Option<String>, Option<String>)> = sourcing_declarations::table
        .filter(sourcing_declarations::answer.is_not_null())
        .order(sourcing_declarations::answered_at)
        .select((
            sourcing_declarations::purchase_key,
            sourcing_declarations::question,
            sourcing_declarations::answer,
        ))
        .load(&mut conn)?;
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (key, question, answer) in rows {
        if let (Some(q), Some(a)) = (question, answer) {
            out.entry(key).or_default().push((q, a));
        }
    }
    Ok(out)
}
