//! Opening and award (DESIGN §5). After the deadline the coordinator's lead opens the bids
//! (audited) and compares them lot by lot; enters the quality and environment marks the
//! criteria need; reads the award engine's outcome under the announced rule and cap, with the
//! other rule's beside it and the abnormally low bids flagged (a justification can be asked
//! for); and approves. Approval records one award per lot, one contract per member and
//! awarded lot (each member contracts for its own needs), sets the standstill of formal
//! procedures, sends every bidder its result, and gives the needs of lots without a winner
//! back to their buyers — all in one transaction.

use crate::auth::Actor;
use crate::db::models::{NewAward, Tender};
use crate::db::schema::{awards, bids, contracts, lot_needs, lots, needs, suppliers, tenders};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{BidStatus, Cents, ContractStatus, Locale, NeedStatus};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Change};
use crate::services::bids::{self as sealed, BidDocument};
use crate::services::tenders::coordinated_status;
use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::award::{self as engine, AwardRules, CapRule, LotStatus, Weights};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Days between the award decision and the signature in a formal procedure (R2182-1).
pub const STANDSTILL_DAYS: i64 = 11;

/// The tender, when the actor is the lead of its coordinator (403 for another member's lead,
/// 404 for anyone else).
fn coordinated(
    conn: &mut AnyConnection,
    actor: &Actor,
    tender_id: i32,
) -> Result<Tender, AppError> {
    let organisation_id = actor.require_lead()?;
    coordinated_status(conn, organisation_id, tender_id)?;
    Ok(tenders::table
        .find(tender_id)
        .select(Tender::as_select())
        .first(conn)?)
}

fn past_deadline(tender: &Tender) -> Result<(), AppError> {
    match tender.deadline {
        Some(deadline) if Utc::now().naive_utc() >= deadline => Ok(()),
        Some(deadline) => Err(AppError::Conflict(format!(
            "les offres sont scellées jusqu'à la date limite, le {} : elles ne s'ouvrent qu'après",
            crate::domain::paris_text(deadline)
        ))),
        None => Err(AppError::Conflict(
            "la consultation n'est pas publiée : il n'y a pas d'offres à ouvrir".into(),
        )),
    }
}

/// Opens the bids of a tender whose deadline has passed (the coordinator's lead); the tender
/// is closed if the ticker has not done it yet. Opening twice does nothing more.
pub fn open(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let tender = coordinated(conn, actor, tender_id)?;
        if !["published", "closed"].contains(&tender.status.as_str()) {
            if tender.opened_at.is_some() {
                return Ok(());
            }
            return Err(AppError::Conflict(format!(
                "la consultation est « {} » : il n'y a pas d'offres à ouvrir",
                tender.status
            )));
        }
        past_deadline(&tender)?;
        if tender.opened_at.is_some() {
            return Ok(());
        }
        let count: i64 = bids::table
            .inner_join(lots::table)
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .count()
            .get_result(conn)?;
        // Opened before the ticker closed it: closed now (its deadline has passed).
        if tender.status == "published" {
            crate::services::tenders::move_tender(
                conn,
                tender_id,
                crate::domain::TenderStatus::Closed,
            )?;
        }
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::opened_at.eq(Utc::now().naive_utc()),
                tenders::opened_by.eq(actor.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.opened", "tender", tender_id).after(format!("{count} offre(s)")),
        )?;
        Ok(())
    })
}

/// A bid as the award reads it.
#[derive(Debug, Clone, Queryable)]
struct BidRow {
    id: i32,
    lot_id: i32,
    supplier_id: i32,
    price_cents: i64,
    quality: Option<i32>,
    environment: Option<i32>,
    submitted_at: NaiveDateTime,
}

/// The announced rules of a published tender.
fn rules_of(tender: &Tender) -> AwardRules {
    AwardRules {
        weights: Weights {
            price: tender.weight_price.unwrap_or(0).max(0) as u32,
            quality: tender.weight_quality.unwrap_or(0).max(0) as u32,
            environment: tender.weight_environment.unwrap_or(0).max(0) as u32,
        },
        cap: tender
            .max_lots_per_supplier
            .filter(|cap| *cap > 0)
            .map(|cap| cap as u32),
        rule: tender
            .cap_rule
            .as_deref()
            .and_then(CapRule::parse)
            .unwrap_or(CapRule::DecreasingImportance),
    }
}

/// The lots (id, number, title, CPV, value) and submitted bids of a tender.
type LotRow = (i32, i32, String, String, i64);

fn lots_and_bids(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> QueryResult<(Vec<LotRow>, Vec<BidRow>)> {
    let lot_rows: Vec<LotRow> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select((
            lots::id,
            lots::number,
            lots::title,
            lots::cpv_code,
            lots::value_cents,
        ))
        .load(conn)?;
    let ids: Vec<i32> = lot_rows.iter().map(|l| l.0).collect();
    let bid_rows: Vec<BidRow> = bids::table
        .filter(bids::lot_id.eq_any(&ids))
        .filter(bids::status.eq(BidStatus::Submitted))
        .order(bids::id)
        .select((
            bids::id,
            bids::lot_id,
            bids::supplier_id,
            bids::price_cents,
            bids::quality,
            bids::environment,
            bids::submitted_at,
        ))
        .load(conn)?;
    Ok((lot_rows, bid_rows))
}

/// Bids that lack a mark a criterion needs (a criterion of weight 0 needs none).
fn unmarked(rules: &AwardRules, bid_rows: &[BidRow]) -> usize {
    bid_rows
        .iter()
        .filter(|b| {
            (rules.weights.quality > 0 && b.quality.is_none())
                || (rules.weights.environment > 0 && b.environment.is_none())
        })
        .count()
}

/// The award engine on the tender's bids, under its announced rules.
fn run_engine(
    tender: &Tender,
    lot_rows: &[LotRow],
    bid_rows: &[BidRow],
) -> Result<engine::Award, AppError> {
    let award_lots: Vec<engine::AwardLot> = lot_rows
        .iter()
        .map(|(id, _, title, cpv, value)| engine::AwardLot {
            lot_id: id.to_string(),
            tender_id: tender.id.to_string(),
            title: title.clone(),
            cpv: cpv.clone(),
            value_eur: Cents::new(*value).to_euros_f64(),
        })
        .collect();
    let award_bids: Vec<engine::Bid> = bid_rows
        .iter()
        .map(|b| engine::Bid {
            bid_id: b.id.to_string(),
            supplier_id: b.supplier_id.to_string(),
            lot_id: b.lot_id.to_string(),
            price_eur: Cents::new(b.price_cents).to_euros_f64(),
            quality: f64::from(b.quality.unwrap_or(0)),
            environment: f64::from(b.environment.unwrap_or(0)),
            submitted_at: b.submitted_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        })
        .collect();
    engine::award(&award_lots, &award_bids, &rules_of(tender))
        .map_err(|e| AppError::internal(format!("award of {}: {e}", tender.reference)))
}

/// What the outcome depends on — bids, prices and marks — so that an approval is refused when
/// any of it changed since the lead read the outcome.
fn fingerprint(bid_rows: &[BidRow]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for b in bid_rows {
        hasher.update(format!(
            "{}:{}:{}:{:?}:{:?};",
            b.id, b.lot_id, b.price_cents, b.quality, b.environment
        ));
    }
    hasher
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One bid on the comparison page.
#[derive(Debug, Clone, Serialize)]
pub struct ComparedBid {
    pub id: i32,
    pub supplier: String,
    pub price_cents: i64,
    pub technical_memo: String,
    pub environment_data: String,
    pub documents: Vec<BidDocument>,
    pub quality: Option<i32>,
    pub environment: Option<i32>,
    pub submitted_at: NaiveDateTime,
    pub justification_requested_at: Option<NaiveDateTime>,
    pub price_score: Option<f64>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub abnormally_low: bool,
    pub lost_to_cap: bool,
    pub winner: bool,
    /// Whether this bid wins under the rule not announced.
    pub winner_other_rule: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparedLot {
    pub id: i32,
    pub number: i32,
    pub title: String,
    pub cpv: String,
    pub value_cents: i64,
    pub status: Option<LotStatus>,
    pub bids: Vec<ComparedBid>,
}

/// The other rule's outcome, beside the announced one (only with a cap).
#[derive(Debug, Clone, Serialize)]
pub struct OtherOutcome {
    pub rule: &'static str,
    pub total_score: f64,
    pub changed_lots: Vec<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub tender_id: i32,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub procedure: String,
    pub weights: (u32, u32, u32),
    pub cap: Option<u32>,
    pub rule: &'static str,
    pub opened_at: Option<NaiveDateTime>,
    pub awarded_at: Option<NaiveDateTime>,
    pub standstill_until: Option<NaiveDateTime>,
    /// Bids still without the marks the criteria need; the outcome waits for them.
    pub unmarked: usize,
    pub total_score: Option<f64>,
    pub other_rule: Option<OtherOutcome>,
    pub fingerprint: String,
    pub lots: Vec<ComparedLot>,
}

/// The opened bids of a tender side by side, lot by lot, with the engine's outcome once every
/// bid has its marks (the coordinator's lead, after opening).
pub fn comparison(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<Comparison, AppError> {
    let mut conn = pool.get()?;
    let tender = coordinated(&mut conn, actor, tender_id)?;
    if tender.opened_at.is_none() {
        past_deadline(&tender)?;
        return Err(AppError::Conflict(
            "ouvrez d'abord les offres : l'ouverture est enregistrée au journal".into(),
        ));
    }
    // Amounts and contents come through the one sealed query.
    let opened = sealed::sealed_bids_on(&mut conn, actor, &tender.reference)?;
    let (lot_rows, bid_rows) = lots_and_bids(&mut conn, tender_id)?;
    let marks: HashMap<i32, &BidRow> = bid_rows.iter().map(|b| (b.id, b)).collect();
    let requested: HashMap<i32, Option<NaiveDateTime>> = bids::table
        .filter(bids::id.eq_any(marks.keys().copied().collect::<Vec<_>>()))
        .select((bids::id, bids::justification_requested_at))
        .load::<(i32, Option<NaiveDateTime>)>(&mut conn)?
        .into_iter()
        .collect();
    let rules = rules_of(&tender);
    let missing = unmarked(&rules, &bid_rows);
    let outcome = match missing {
        0 => Some(run_engine(&tender, &lot_rows, &bid_rows)?),
        _ => None,
    };
    let other_winners: Vec<String> = match (&outcome, rules.cap) {
        (Some(_), Some(_)) => {
            let mut other = tender.clone();
            other.cap_rule = Some(rules.rule.other().name().to_string());
            run_engine(&other, &lot_rows, &bid_rows)?
                .lots
                .into_iter()
                .filter_map(|l| l.winner_bid_id)
                .collect()
        }
        _ => Vec::new(),
    };
    let number_of: HashMap<String, i32> = lot_rows
        .iter()
        .map(|(id, number, ..)| (id.to_string(), *number))
        .collect();
    let mut lots = Vec::with_capacity(lot_rows.len());
    for (lot_id, number, title, cpv, value_cents) in &lot_rows {
        let lot_outcome = outcome
            .as_ref()
            .and_then(|o| o.lots.iter().find(|l| l.lot_id == lot_id.to_string()));
        let mut compared: Vec<ComparedBid> = opened
            .iter()
            .filter(|b| b.lot == *number)
            .map(|b| {
                let mark = marks.get(&b.id);
                let result =
                    lot_outcome.and_then(|l| l.bids.iter().find(|o| o.bid_id == b.id.to_string()));
                ComparedBid {
                    id: b.id,
                    supplier: b.supplier.clone(),
                    price_cents: b.price_cents,
                    technical_memo: b.technical_memo.clone(),
                    environment_data: b.environment_data.clone(),
                    documents: b.documents.clone(),
                    quality: mark.and_then(|m| m.quality),
                    environment: mark.and_then(|m| m.environment),
                    submitted_at: b.submitted_at,
                    justification_requested_at: requested.get(&b.id).copied().flatten(),
                    price_score: result.map(|r| r.price_score),
                    score: result.map(|r| r.score),
                    rank: result.map(|r| r.rank),
                    abnormally_low: result.is_some_and(|r| r.abnormally_low),
                    lost_to_cap: result.is_some_and(|r| r.lost_to_cap),
                    winner: lot_outcome
                        .and_then(|l| l.winner_bid_id.as_deref())
                        .is_some_and(|w| w == b.id.to_string()),
                    winner_other_rule: other_winners.contains(&b.id.to_string()),
                }
            })
            .collect();
        compared.sort_by_key(|b| (b.rank.unwrap_or(u32::MAX), b.id));
        lots.push(ComparedLot {
            id: *lot_id,
            number: *number,
            title: title.clone(),
            cpv: cpv.clone(),
            value_cents: *value_cents,
            status: lot_outcome.map(|l| l.status),
            bids: compared,
        });
    }
    Ok(Comparison {
        tender_id,
        reference: tender.reference.clone(),
        title: tender.title.clone(),
        status: tender.status.clone(),
        procedure: tender.procedure.clone(),
        weights: (
            rules.weights.price,
            rules.weights.quality,
            rules.weights.environment,
        ),
        cap: rules.cap,
        rule: rules.rule.name(),
        opened_at: tender.opened_at,
        awarded_at: tender.awarded_at,
        standstill_until: tender.standstill_until,
        unmarked: missing,
        total_score: outcome.as_ref().map(|o| o.total_score),
        other_rule: outcome
            .as_ref()
            .and_then(|o| o.other_rule.as_ref())
            .map(|other| OtherOutcome {
                rule: other.rule.name(),
                total_score: other.total_score,
                changed_lots: other
                    .changed_lots
                    .iter()
                    .filter_map(|id| number_of.get(id).copied())
                    .collect(),
            }),
        fingerprint: fingerprint(&bid_rows),
        lots,
    })
}

/// Marks entered by the lead: `quality-<bid>` and `environment-<bid>`, whole numbers 0 to 100.
pub fn evaluate(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    form: &HashMap<String, String>,
) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let tender = coordinated(conn, actor, tender_id)?;
        if tender.opened_at.is_none() || tender.status != "closed" {
            return Err(AppError::Conflict(format!(
                "la consultation est « {} »{} : les notes ne se saisissent qu'entre l'ouverture et l'attribution",
                tender.status,
                if tender.opened_at.is_none() { ", offres non ouvertes" } else { "" }
            )));
        }
        let (lot_rows, bid_rows) = lots_and_bids(conn, tender_id)?;
        let number_of: HashMap<i32, i32> = lot_rows.iter().map(|l| (l.0, l.1)).collect();
        let mut problems = crate::error::Problems::default();
        let mut changes: Vec<(i32, Option<i32>, Option<i32>)> = Vec::new();
        for bid in &bid_rows {
            let mut mark = |criterion: &str, label: &'static str| -> Option<i32> {
                let text = form.get(&format!("{criterion}-{}", bid.id))?.trim();
                if text.is_empty() {
                    return None;
                }
                match text.parse::<i32>() {
                    Ok(value) if (0..=100).contains(&value) => Some(value),
                    _ => {
                        problems.add(
                            label,
                            format!(
                                "offre n° {} (lot {}) : « {text} » n'est pas une note entière de 0 à 100",
                                bid.id,
                                number_of.get(&bid.lot_id).copied().unwrap_or_default()
                            ),
                        );
                        None
                    }
                }
            };
            let quality = mark("quality", "qualité");
            let environment = mark("environment", "environnement");
            if quality.is_some() || environment.is_some() {
                changes.push((bid.id, quality, environment));
            }
        }
        problems.finish()?;
        for (id, quality, environment) in &changes {
            if let Some(q) = quality {
                diesel::update(bids::table.find(id))
                    .set(bids::quality.eq(q))
                    .execute(conn)?;
            }
            if let Some(e) = environment {
                diesel::update(bids::table.find(id))
                    .set(bids::environment.eq(e))
                    .execute(conn)?;
            }
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.bids_marked", "tender", tender_id)
                .after(format!("{} offre(s) notée(s)", changes.len())),
        )?;
        Ok(changes.len())
    })
}

/// Asks the bidder of an abnormally low bid to justify its price (R2152-3), by e-mail.
pub fn request_justification(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    bid_id: i32,
    base_url: &str,
) -> Result<(), AppError> {
    let shown = comparison(pool, actor, tender_id)?;
    let Some((lot, bid)) = shown
        .lots
        .iter()
        .find_map(|l| l.bids.iter().find(|b| b.id == bid_id).map(|b| (l, b)))
    else {
        return Err(AppError::NotFound);
    };
    if !bid.abnormally_low {
        return Err(AppError::Conflict(format!(
            "l'offre n° {bid_id} n'est pas signalée comme anormalement basse"
        )));
    }
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (email, locale): (String, String) = bids::table
            .inner_join(suppliers::table)
            .filter(bids::id.eq(bid_id))
            .select((suppliers::notification_email, suppliers::locale))
            .first(conn)?;
        let locale = Locale::of(&locale);
        let now = Utc::now().naive_utc();
        diesel::update(bids::table.find(bid_id))
            .set(bids::justification_requested_at.eq(now))
            .execute(conn)?;
        mail::enqueue(
            conn,
            &email,
            "justification_request",
            &json!({
                "locale": locale.code(), "company": bid.supplier, "reference": shown.reference,
                "title": shown.title, "lot": lot.number, "bid": bid_id,
                "price": locale.euros(Cents::new(bid.price_cents)),
                "link": format!("{base_url}/appels-d-offres/{}", shown.reference),
            }),
            &format!("justification:{bid_id}"),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("bid.justification_requested", "lot", lot.id)
                .after(format!("offre n° {bid_id}")),
        )?;
        Ok(())
    })
}

/// Approves the outcome the lead read (`fingerprint`), in one transaction: see the module.
pub fn approve(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    shown_fingerprint: &str,
    base_url: &str,
) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let tender = coordinated(conn, actor, tender_id)?;
        if tender.status != "closed" || tender.opened_at.is_none() {
            return Err(AppError::Conflict(format!(
                "la consultation est « {} » : seule une consultation close, aux offres ouvertes, s'attribue",
                tender.status
            )));
        }
        let (lot_rows, bid_rows) = lots_and_bids(conn, tender_id)?;
        let missing = unmarked(&rules_of(&tender), &bid_rows);
        if missing > 0 {
            return Err(AppError::Conflict(format!(
                "{missing} offre(s) n'ont pas encore leurs notes de qualité ou d'environnement"
            )));
        }
        if fingerprint(&bid_rows) != shown_fingerprint.trim() {
            return Err(AppError::Conflict(
                "les notes ont changé depuis l'affichage du résultat : relisez-le avant d'approuver"
                    .into(),
            ));
        }
        let outcome = run_engine(&tender, &lot_rows, &bid_rows)?;
        record(
            conn,
            &tender,
            &lot_rows,
            &outcome,
            Some(actor.user_id),
            Utc::now().naive_utc(),
            Some(base_url),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.awarded", "tender", tender_id).after(format!(
                "{} lot(s) attribué(s) sur {}, règle {}",
                outcome
                    .lots
                    .iter()
                    .filter(|l| l.status == LotStatus::Awarded)
                    .count(),
                outcome.lots.len(),
                outcome.rule.name()
            )),
        )?;
        Ok(())
    })
}

/// Runs the award of a closed tender and records it as approved by `lead` at `now` — the demo's
/// awarded tenders, through the same code as an approval, without e-mails.
pub fn award_now(
    conn: &mut AnyConnection,
    tender_id: i32,
    lead: Option<i32>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let tender: Tender = tenders::table
        .find(tender_id)
        .select(Tender::as_select())
        .first(conn)?;
    let (lot_rows, bid_rows) = lots_and_bids(conn, tender_id)?;
    let outcome = run_engine(&tender, &lot_rows, &bid_rows)?;
    record(conn, &tender, &lot_rows, &outcome, lead, now, None)
}

/// A member's part of a lot: its needs' estimated value, the earliest start and latest end of
/// their delivery windows, and a delivery postcode.
struct Share {
    organisation_id: i32,
    estimated_cents: i64,
    start: NaiveDate,
    end: NaiveDate,
    postcode: String,
}

fn shares_of(conn: &mut AnyConnection, lot_id: i32) -> QueryResult<Vec<Share>> {
    let rows: Vec<(i32, i64, i64, NaiveDate, NaiveDate, String)> = lot_needs::table
        .inner_join(needs::table)
        .filter(lot_needs::lot_id.eq(lot_id))
        .order(needs::id)
        .select((
            needs::organisation_id,
            needs::quantity_milli,
            needs::unit_price_cents,
            needs::window_start,
            needs::window_end,
            needs::delivery_postcode,
        ))
        .load(conn)?;
    let mut shares: BTreeMap<i32, Share> = BTreeMap::new();
    for (organisation_id, quantity, price, start, end, postcode) in rows {
        let value = crate::services::needs::value_cents(quantity, price);
        let share = shares.entry(organisation_id).or_insert(Share {
            organisation_id,
            estimated_cents: 0,
            start,
            end,
            postcode,
        });
        share.estimated_cents += value;
        share.start = share.start.min(start);
        share.end = share.end.max(end);
    }
    Ok(shares.into_values().collect())
}

/// The winning price divided between members in proportion to their estimated shares, in
/// whole cents that add up to the price (largest remainders).
pub fn split_price(price_cents: i64, estimates: &[i64]) -> Vec<i64> {
    let total: i128 = estimates.iter().map(|e| i128::from(*e)).sum();
    if total <= 0 || estimates.is_empty() {
        let n = estimates.len().max(1) as i64;
        return (0..estimates.len())
            .map(|i| price_cents / n + i64::from((i as i64) < price_cents % n))
            .collect();
    }
    let exact: Vec<(i64, i128)> = estimates
        .iter()
        .map(|e| {
            let numerator = i128::from(price_cents) * i128::from(*e);
            ((numerator / total) as i64, numerator % total)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(floor, _)| *floor).collect();
    let mut left = price_cents - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Whole months a delivery window spans, at least one.
fn months_between(start: NaiveDate, end: NaiveDate) -> i32 {
    use chrono::Datelike;
    let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32
        + i32::from(end.day() >= start.day());
    months.max(1)
}

/// Writes an approved outcome: awards, lots, needs, contracts, the tender's dates, and (with
/// a base URL) every bidder's result by e-mail.
fn record(
    conn: &mut AnyConnection,
    tender: &Tender,
    lot_rows: &[LotRow],
    outcome: &engine::Award,
    lead: Option<i32>,
    now: NaiveDateTime,
    base_url: Option<&str>,
) -> Result<(), AppError> {
    let formal = tender.procedure == "formal";
    let standstill = formal.then(|| now + Duration::days(STANDSTILL_DAYS));
    let notified_on = crate::domain::to_paris(standstill.unwrap_or(now)).0.date();
    let year_number = tender
        .reference
        .strip_prefix("GRP-")
        .unwrap_or(&tender.reference)
        .to_string();
    let prices: HashMap<i32, (i32, i64)> = bids::table
        .inner_join(lots::table)
        .filter(lots::tender_id.eq(tender.id))
        .select((bids::id, bids::supplier_id, bids::price_cents))
        .load::<(i32, i32, i64)>(conn)?
        .into_iter()
        .map(|(id, supplier, price)| (id, (supplier, price)))
        .collect();
    for lot in &outcome.lots {
        let lot_id: i32 = lot
            .lot_id
            .parse()
            .map_err(|_| AppError::internal(format!("lot id {}", lot.lot_id)))?;
        let winner: Option<i32> = lot.winner_bid_id.as_deref().and_then(|id| id.parse().ok());
        let status = match lot.status {
            LotStatus::Awarded => "awarded",
            LotStatus::Unsuccessful => "unsuccessful",
        };
        let scores = serde_json::to_string(lot).map_err(AppError::internal)?;
        diesel::insert_into(awards::table)
            .values(NewAward {
                lot_id,
                status,
                winning_bid_id: winner,
                rule: outcome.rule.name(),
                scores: &scores,
                approved_by: lead,
                approved_at: Some(now),
            })
            .execute(conn)?;
        diesel::update(lots::table.find(lot_id))
            .set(lots::status.eq(status))
            .execute(conn)?;
        let need_ids: Vec<i32> = lot_needs::table
            .filter(lot_needs::lot_id.eq(lot_id))
            .select(lot_needs::need_id)
            .load(conn)?;
        super::needs::move_needs_together(
            conn,
            &need_ids,
            match lot.status {
                LotStatus::Awarded => NeedStatus::Awarded,
                LotStatus::Unsuccessful => NeedStatus::Unsuccessful,
            },
        )?;
        let Some(bid_id) = winner else {
            continue;
        };
        let (supplier_id, price) = prices
            .get(&bid_id)
            .copied()
            .ok_or_else(|| AppError::internal(format!("winning bid {bid_id} not found")))?;
        let number = lot_rows
            .iter()
            .find(|l| l.0 == lot_id)
            .map(|l| l.1)
            .ok_or_else(|| AppError::internal(format!("lot {lot_id} not in its tender")))?;
        let shares = shares_of(conn, lot_id)?;
        let amounts = split_price(
            price,
            &shares.iter().map(|s| s.estimated_cents).collect::<Vec<_>>(),
        );
        for (share, amount) in shares.iter().zip(amounts) {
            if amount <= 0 {
                continue;
            }
            diesel::insert_into(contracts::table)
                .values((
                    contracts::uid.eq(format!(
                        "{year_number}-{number:02}-{}",
                        share.organisation_id
                    )),
                    contracts::tender_id.eq(tender.id),
                    contracts::lot_id.eq(lot_id),
                    contracts::organisation_id.eq(share.organisation_id),
                    contracts::supplier_id.eq(supplier_id),
                    contracts::bid_id.eq(bid_id),
                    contracts::amount_cents.eq(amount),
                    contracts::estimated_cents.eq(share.estimated_cents),
                    contracts::months.eq(months_between(share.start, share.end)),
                    contracts::delivery_postcode.eq(&share.postcode),
                    contracts::awarded_at.eq(now),
                    contracts::notified_on.eq(notified_on),
                ))
                .execute(conn)?;
        }
    }
    crate::services::tenders::move_tender(conn, tender.id, crate::domain::TenderStatus::Awarded)?;
    diesel::update(tenders::table.find(tender.id))
        .set((
            tenders::awarded_at.eq(now),
            tenders::standstill_until.eq(standstill),
        ))
        .execute(conn)?;
    if let Some(base_url) = base_url {
        notify_bidders(conn, tender, lot_rows, outcome, standstill, base_url)?;
    }
    Ok(())
}

/// One e-mail per bidder with the result of each lot it bid on: won, or lost with the winner's
/// name and score and its own (R2181-1 and R2181-3), and the standstill date.
fn notify_bidders(
    conn: &mut AnyConnection,
    tender: &Tender,
    lot_rows: &[LotRow],
    outcome: &engine::Award,
    standstill: Option<NaiveDateTime>,
    base_url: &str,
) -> QueryResult<()> {
    let bidders: Vec<i32> = outcome
        .lots
        .iter()
        .flat_map(|l| &l.bids)
        .filter_map(|b| b.supplier_id.parse().ok())
        .collect();
    let people: HashMap<i32, (String, String, String)> = suppliers::table
        .filter(suppliers::id.eq_any(&bidders))
        .select((
            suppliers::id,
            suppliers::name,
            suppliers::notification_email,
            suppliers::locale,
        ))
        .load::<(i32, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, email, locale)| (id, (name, email, locale)))
        .collect();
    let lot_info: HashMap<String, (i32, String)> = lot_rows
        .iter()
        .map(|(id, number, title, ..)| (id.to_string(), (*number, title.clone())))
        .collect();
    let name_of = |supplier: &str| -> String {
        supplier
            .parse::<i32>()
            .ok()
            .and_then(|id| people.get(&id))
            .map(|p| p.0.clone())
            .unwrap_or_default()
    };
    // Each bidder's lots, in lot order.
    let mut by_supplier: BTreeMap<i32, Vec<serde_json::Value>> = BTreeMap::new();
    for lot in &outcome.lots {
        let (number, title) = lot_info.get(&lot.lot_id).cloned().unwrap_or_default();
        let winner = lot
            .winner_bid_id
            .as_ref()
            .and_then(|w| lot.bids.iter().find(|b| &b.bid_id == w));
        for bid in &lot.bids {
            let Ok(supplier) = bid.supplier_id.parse::<i32>() else {
                continue;
            };
            let won = winner.is_some_and(|w| w.bid_id == bid.bid_id);
            by_supplier.entry(supplier).or_default().push(json!({
                "number": number, "heading": crate::services::tenders::lot_heading(number, &title),
                "won": won,
                "score": format!("{:.2}", bid.score), "rank": bid.rank,
                "bidders": lot.bids.len(),
                "winner": winner.map(|w| name_of(&w.supplier_id)),
                "winner_score": winner.map(|w| format!("{:.2}", w.score)),
                "lost_to_cap": bid.lost_to_cap,
            }));
        }
    }
    for (supplier, lots_of) in by_supplier {
        let Some((name, email, locale)) = people.get(&supplier) else {
            continue;
        };
        let locale = Locale::of(locale);
        mail::enqueue(
            conn,
            email,
            "award_result",
            &json!({
                "locale": locale.code(), "company": name, "reference": tender.reference,
                "title": tender.title, "lots": lots_of,
                "standstill": standstill.map(|s| locale.moment(s)),
                "link": format!("{base_url}/appels-d-offres/{}", tender.reference),
            }),
            &format!("award:{}:{supplier}", tender.id),
        )?;
    }
    Ok(())
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

/// The reference of a tender the actor's organisation coordinates (its lead).
pub fn reference_of(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<String, AppError> {
    let mut conn = pool.get()?;
    Ok(coordinated(&mut conn, actor, tender_id)?.reference)
}

/// The one way a contract's status changes: a conditional update on the statuses that may
/// move to `to`, so that two signatures at once leave one, and the other is told.
pub fn move_contract(
    conn: &mut AnyConnection,
    contract_id: i32,
    to: ContractStatus,
) -> Result<(), AppError> {
    let moved = diesel::update(
        contracts::table
            .find(contract_id)
            .filter(contracts::status.eq_any(ContractStatus::predecessors(to))),
    )
    .set(contracts::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let (uid, now): (String, ContractStatus) = contracts::table
        .find(contract_id)
        .select((contracts::uid, contracts::status))
        .first(conn)?;
    Err(AppError::Conflict(format!(
        "le marché {uid} est « {} » : il ne peut pas devenir « {} »",
        now.label_fr(),
        to.label_fr()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_is_split_in_proportion_and_adds_up() {
        assert_eq!(
            split_price(100_000, &[1, 1, 1]),
            vec![33_334, 33_333, 33_333]
        );
        assert_eq!(split_price(1_000, &[3_000, 1_000]), vec![750, 250]);
        assert_eq!(split_price(7, &[0, 0]), vec![4, 3]);
        let parts = split_price(1_234_567, &[123, 4_567, 89]);
        assert_eq!(parts.iter().sum::<i64>(), 1_234_567);
    }

    #[test]
    fn months_count_started_months_at_least_one() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(months_between(day(2027, 3, 1), day(2027, 6, 30)), 4);
        assert_eq!(months_between(day(2027, 3, 15), day(2027, 3, 20)), 1);
        assert_eq!(months_between(day(2027, 1, 1), day(2027, 12, 31)), 12);
    }
}

/// What the member's lead records when a contract is signed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Signature {
    /// `JJ/MM/AAAA` or `AAAA-MM-JJ`.
    #[serde(default)]
    pub signed_on: String,
    #[serde(default)]
    pub signatory: String,
}

/// The member's lead records the signature of one of its organisation's contracts: the day
/// (not before the standstill's end, not in the future) and who signed. The contract becomes
/// `active` (a conditional update: a contract is signed once); open data follows.
pub fn sign_contract(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    uid: &str,
    form: &Signature,
) -> Result<(), AppError> {
    let organisation_id = actor.require_lead()?;
    let mut conn = pool.get()?;
    // Another organisation's contract, or none: "not found", before anything is checked.
    let owned: i64 = contracts::table
        .filter(contracts::uid.eq(uid))
        .filter(contracts::tender_id.eq(tender_id))
        .filter(contracts::organisation_id.eq(organisation_id))
        .count()
        .get_result(&mut conn)?;
    if owned == 0 {
        return Err(AppError::NotFound);
    }
    let mut problems = crate::error::Problems::default();
    let day = problems.check(
        "date de signature",
        crate::domain::parse_date(&form.signed_on).map_err(|e| e.0),
    );
    let signatory = form.signatory.trim();
    if signatory.is_empty() || signatory.chars().count() > 200 {
        problems.add(
            "signataire",
            "le nom et la qualité de qui a signé, 200 caractères au plus",
        );
    }
    problems.finish()?;
    let day = day.ok_or_else(|| AppError::internal("date checked without value"))?;
    write_transaction(&mut conn, |conn| {
        let (id, earliest, status): (i32, NaiveDate, ContractStatus) = contracts::table
            .filter(contracts::uid.eq(uid))
            .filter(contracts::tender_id.eq(tender_id))
            .filter(contracts::organisation_id.eq(organisation_id))
            .select((contracts::id, contracts::notified_on, contracts::status))
            .first(conn)?;
        if status != ContractStatus::Pending {
            return Err(AppError::Conflict(format!(
                "le marché {uid} est déjà signé"
            )));
        }
        let today = crate::domain::to_paris(Utc::now().naive_utc()).0.date();
        if day < earliest {
            return Err(AppError::validation(
                "date de signature",
                format!(
                    "pas avant le {} : la fin du délai de suspension (R2182-1)",
                    earliest.format("%d/%m/%Y")
                ),
            ));
        }
        if day > today {
            return Err(AppError::validation(
                "date de signature",
                "une signature se constate : pas de date à venir",
            ));
        }
        // The signature first: a contract is active only with it (the migrations' checks).
        diesel::update(contracts::table.find(id))
            .set((
                contracts::signed_on.eq(Some(day)),
                contracts::signatory.eq(Some(signatory)),
            ))
            .execute(conn)?;
        move_contract(conn, id, ContractStatus::Active)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("contract.signed", "contract", uid)
                .after(format!("{} par {signatory}", day.format("%d/%m/%Y"))),
        )?;
        Ok(())
    })
}
