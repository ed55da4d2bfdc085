//! What anyone may read without signing in: the list of published tenders, and a tender's
//! notice with, once awarded, each lot's result.

use crate::db::schema::{lots, organisations, tenders};
use crate::db::{queries, Pool};
use crate::domain::Cents;
use crate::domain::TenderStatus;
use crate::error::AppError;
use crate::services::tenders::{documents_of, weights_of, DocumentRow, LotView};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use groupement_solver::award as engine;
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
    /// Open to bids, closed, or awarded (in words).
    pub status: String,
    /// Whether it still takes bids.
    pub open: bool,
}

/// Whether the portal holds needs derived from other buyers' contracts (the demo's), which the
/// home page must then say.
pub fn holds_derived_needs(pool: &Pool) -> Result<bool, AppError> {
    use crate::db::schema::needs;
    use diesel::prelude::*;
    let mut conn = pool.get()?;
    let derived: i64 = needs::table
        .filter(needs::provenance.is_not_null())
        .count()
        .get_result(&mut conn)?;
    Ok(derived > 0)
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
    /// `tous`: the tenders closed and awarded too; otherwise those open to bids.
    #[serde(default)]
    pub etat: String,
    /// Words that must all be found in the reference, the title, the coordinator or the CPV
    /// label of the family, whatever their case and accents.
    #[serde(default)]
    pub q: String,
}

/// The members of the groupement, code and name, for the public list's buyer filter.
pub fn members(pool: &Pool) -> Result<Vec<(String, String)>, AppError> {
    let mut conn = pool.get()?;
    Ok(organisations::table
        .order(organisations::code)
        .select((organisations::code, organisations::name))
        .load(&mut conn)?)
}

/// A CPV prefix of a search: 0 to 8 digits.
pub fn cpv_prefix(text: &str) -> Result<(), &'static str> {
    match text.bytes().all(|b| b.is_ascii_digit()) && text.len() <= 8 {
        true => Ok(()),
        false => Err("un début de code CPV : de 1 à 8 chiffres"),
    }
}

/// The words of a search, folded (no case, no accents): at most 12, in 200 characters.
pub fn search_words(q: &str) -> Result<Vec<String>, &'static str> {
    let words: Vec<String> = crate::domain::fold(q)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    match words.len() > 12 || q.chars().count() > 200 {
        true => Err("au plus 12 mots et 200 caractères"),
        false => Ok(words),
    }
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
    if let Err(message) = cpv_prefix(cpv) {
        return Err(AppError::validation("cpv", message));
    }
    let buyer = filter.buyer.trim().to_uppercase();
    let procedure = filter.procedure.trim();
    fn nonempty(text: &str) -> Option<&str> {
        (!text.is_empty()).then_some(text)
    }
    let words = search_words(&filter.q).map_err(|m| AppError::validation("q", m))?;
    let mut conn = pool.get()?;
    let kept = queries::published_tenders(
        &mut conn,
        &queries::PublishedFilter {
            procedure: nonempty(procedure),
            deadline_by: before,
            cpv_prefix: nonempty(cpv),
            buyer: nonempty(&buyer),
            with_ended: filter.etat == "tous",
        },
    )?;
    Ok(kept
        .into_iter()
        .filter(|row| {
            words.is_empty() || {
                let text = crate::domain::fold(&format!(
                    "{} {} {} {}",
                    row.tender.reference,
                    row.tender.title,
                    row.coordinator,
                    crate::services::tenders::family_label(&row.tender.cpv_family)
                ));
                words.iter().all(|w| text.contains(w.as_str()))
            }
        })
        .map(|row| TenderCard {
            status: match TenderStatus::parse(&row.tender.status) {
                Some(TenderStatus::Published) => "ouvert aux offres".to_string(),
                Some(TenderStatus::Closed) => "clos, offres en examen".to_string(),
                Some(TenderStatus::Awarded) => "attribué".to_string(),
                _ => row.tender.status.clone(),
            },
            open: row.tender.status == TenderStatus::Published.code(),
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

/// What anyone may read of a published tender (its notice): lots, criteria, deadline.
#[derive(Debug, Serialize)]
pub struct Notice {
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub procedure: String,
    pub deadline: Option<NaiveDateTime>,
    pub weights: Option<(i32, i32, i32)>,
    pub max_lots_per_supplier: Option<i32>,
    pub cap_rule: Option<String>,
    pub lots: Vec<LotView>,
    pub documents: Vec<DocumentRow>,
    /// Lot by lot, once the award is approved.
    pub results: Vec<PublicResult>,
    /// Where and when each lot is delivered, by lot number.
    pub deliveries: std::collections::BTreeMap<i32, Delivery>,
    /// The members buying together (organisations' names).
    pub members: Vec<String>,
    /// What the buyers wrote of their needs (distinct, at most [`DESCRIPTIONS`]).
    pub descriptions: Vec<String>,
    /// Who answers for the coordinator: a lead's name and address.
    pub contact: Option<(String, String)>,
    /// The questions answered, oldest first (never who asked).
    pub answers: Vec<crate::services::tenders::PublicAnswer>,
    /// The changes since the publication (rectificatifs), oldest first.
    pub changes: Vec<crate::services::tenders::ChangeView>,
    /// Urgency declared at publication (shorter cut-offs for questions).
    pub urgent: bool,
    /// How its bids are sealed (none for a tender published before sealing).
    pub sealing: Option<crate::services::tenders::Sealing>,
    /// Its notices published in the Official Journal of the EU: (kind, TED number).
    pub eu_notices: Vec<(String, String)>,
}

/// The needs' own descriptions a notice shows at most.
pub const DESCRIPTIONS: usize = 5;

/// The members of a tender, what their needs say, and the coordinator's contact (name and
/// address).
type About = (Vec<String>, Vec<String>, Option<(String, String)>);

/// The members of a tender, what their needs say, and the coordinator's contact.
fn about_of(
    conn: &mut crate::db::AnyConnection,
    tender_id: i32,
    coordinator_id: i32,
) -> QueryResult<About> {
    use crate::db::schema::{lot_needs, needs, tender_approvals, users};
    let members: Vec<String> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .order(organisations::name)
        .select(organisations::name)
        .load(conn)?;
    let mut descriptions: Vec<String> = Vec::new();
    let written: Vec<String> = lot_needs::table
        .inner_join(lots::table)
        .inner_join(needs::table)
        .filter(lots::tender_id.eq(tender_id))
        .filter(needs::description.ne(""))
        .order(needs::id)
        .select(needs::description)
        .load(conn)?;
    for text in written {
        let text = text.trim().to_string();
        if !text.is_empty() && !descriptions.contains(&text) && descriptions.len() < DESCRIPTIONS {
            descriptions.push(text);
        }
    }
    let contact = users::table
        .filter(users::organisation_id.eq(coordinator_id))
        .filter(users::role.eq("lead"))
        .order(users::id)
        .select((users::display_name, users::email))
        .first::<(String, String)>(conn)
        .optional()?;
    Ok((members, descriptions, contact))
}

/// Where and when a lot is delivered: the communes of its needs, and the span of their windows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    /// `21000 Dijon`, one a place.
    pub places: Vec<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// The deliveries of a tender's lots, in one query (with each postcode's commune, when known).
fn deliveries_of(
    conn: &mut crate::db::AnyConnection,
    tender_id: i32,
) -> QueryResult<std::collections::BTreeMap<i32, Delivery>> {
    use crate::db::schema::{communes, lot_needs, needs};
    let rows: Vec<(i32, String, chrono::NaiveDate, chrono::NaiveDate)> = lot_needs::table
        .inner_join(lots::table)
        .inner_join(needs::table)
        .filter(lots::tender_id.eq(tender_id))
        .select((
            lots::number,
            needs::delivery_postcode,
            needs::window_start,
            needs::window_end,
        ))
        .load(conn)?;
    let postcodes: Vec<&String> = rows.iter().map(|r| &r.1).collect();
    let names: std::collections::HashMap<String, String> = communes::table
        .filter(communes::postcode.eq_any(postcodes))
        .select((communes::postcode, communes::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut out: std::collections::BTreeMap<i32, Delivery> = Default::default();
    for (lot, postcode, start, end) in rows {
        let d = out.entry(lot).or_default();
        let place = match names.get(&postcode) {
            Some(name) => format!("{postcode} {name}"),
            None => postcode,
        };
        if !d.places.contains(&place) {
            d.places.push(place);
        }
        d.from = Some(d.from.map_or(start, |f| f.min(start)));
        d.to = Some(d.to.map_or(end, |t| t.max(end)));
    }
    for d in out.values_mut() {
        d.places.sort();
    }
    Ok(out)
}

/// Two queries whatever the number of lots: the tender with each lot and its approved award
/// (winner and price), then the documents.
pub fn notice(pool: &Pool, reference: &str) -> Result<Notice, AppError> {
    use crate::db::models::Lot;
    use crate::db::schema::{awards, bids, suppliers};
    let mut conn = pool.get()?;
    type Head = (
        i32,
        i32,
        String,
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<String>,
    );
    type Award = (Option<String>, Option<String>, Option<i64>, Option<String>);
    let rows: Vec<(Head, Lot, Award)> = tenders::table
        .inner_join(organisations::table.on(organisations::id.eq(tenders::coordinator_id)))
        .inner_join(lots::table.on(lots::tender_id.eq(tenders::id)))
        .left_join(
            awards::table.on(awards::lot_id
                .eq(lots::id)
                .and(awards::approved_at.is_not_null())),
        )
        .left_join(bids::table.on(awards::winning_bid_id.eq(bids::id.nullable())))
        .left_join(suppliers::table.on(suppliers::id.eq(bids::supplier_id)))
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .order(lots::number)
        .select((
            (
                tenders::id,
                tenders::coordinator_id,
                tenders::title,
                tenders::status,
                organisations::name,
                tenders::procedure,
                tenders::deadline,
                tenders::weight_price,
                tenders::weight_quality,
                tenders::weight_environment,
                tenders::max_lots_per_supplier,
                tenders::cap_rule,
            ),
            Lot::as_select(),
            (
                awards::status.nullable(),
                suppliers::name.nullable(),
                bids::price_cents.nullable(),
                awards::scores.nullable(),
            ),
        ))
        .load(&mut conn)?;
    let mut rows = rows.into_iter();
    let Some((head, first_lot, first_award)) = rows.next() else {
        return Err(AppError::NotFound);
    };
    let mut lots = Vec::with_capacity(rows.len() + 1);
    let mut results = Vec::new();
    let each_lot = std::iter::once((first_lot, first_award)).chain(rows.map(|(_, l, a)| (l, a)));
    for (lot, (status, winner, amount_cents, scores)) in each_lot {
        if let (Some(status), Some(scores)) = (status, scores) {
            results.push(PublicResult::new(
                lot.number,
                lot.title.clone(),
                status,
                winner,
                amount_cents,
                &scores,
            ));
        }
        lots.push(LotView::from(lot));
    }
    let (members, descriptions, contact) = about_of(&mut conn, head.0, head.1)?;
    Ok(Notice {
        reference: reference.to_string(),
        title: head.2,
        status: head.3,
        coordinator: head.4,
        procedure: head.5,
        deadline: head.6,
        weights: weights_of(head.7, head.8, head.9),
        max_lots_per_supplier: head.10,
        cap_rule: head.11,
        documents: documents_of(&mut conn, head.0)?,
        deliveries: deliveries_of(&mut conn, head.0)?,
        members,
        descriptions,
        contact,
        answers: crate::services::tenders::public_answers(&mut conn, head.0)?,
        changes: crate::services::tenders::changes_of(&mut conn, head.0)?,
        eu_notices: crate::services::notices::notices_of(&mut conn, head.0)?
            .into_iter()
            .filter_map(|n| Some((n.kind, n.ted_number?)))
            .collect(),
        urgent: tenders::table
            .find(head.0)
            .select(tenders::urgent)
            .first(&mut conn)?,
        sealing: crate::services::tenders::sealing_of(&mut conn, head.0)?,
        results,
        lots,
    })
}

/// A lot's result as the public notice shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicResult {
    pub number: i32,
    pub title: String,
    pub status: String,
    pub winner: Option<String>,
    pub amount_cents: Option<i64>,
    pub bidders: usize,
}

impl PublicResult {
    /// The public result of a lot from its approved award: its status, the winner and its
    /// price, and the outcome's scores (where the bidders are counted).
    pub fn new(
        number: i32,
        title: String,
        status: String,
        winner: Option<String>,
        amount_cents: Option<i64>,
        scores: &str,
    ) -> Self {
        let bidders = serde_json::from_str::<engine::LotOutcome>(scores)
            .map(|o| o.bids.len())
            .unwrap_or_default();
        PublicResult {
            number,
            title,
            status,
            amount_cents: amount_cents.filter(|_| winner.is_some()),
            winner,
            bidders,
        }
    }
}
