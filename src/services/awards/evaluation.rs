//! Evaluation: quality and environment marks, the award engine run on the announced criteria
//! and limits, abnormally low bids asked to justify themselves.

#[allow(unused_imports)]
use super::*;

/// A bid as the award reads it.
#[derive(Debug, Clone)]
pub(super) struct BidRow {
    pub(super) id: i32,
    pub(super) lot_id: i32,
    pub(super) supplier_id: i32,
    pub(super) price_cents: i64,
    pub(super) quality: Option<i32>,
    pub(super) environment: Option<i32>,
    pub(super) submitted_at: NaiveDateTime,
    /// The co-contractors of a group bid (#24), beside its representative `supplier_id`.
    pub(super) members: Vec<i32>,
}

/// The announced rules of a published tender.
pub(super) fn rules_of(tender: &Tender) -> AwardRules {
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
pub(super) type LotRow = (i32, i32, String, String, i64);

pub(super) fn lots_and_bids(
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
    type Row = (i32, i32, i32, i64, Option<i32>, Option<i32>, NaiveDateTime);
    let rows: Vec<Row> = bids::table
        .filter(bids::lot_id.eq_any(&ids))
        .filter(bids::status.eq(BidStatus::Submitted))
        // A bid found tampered with at the opening is never scored.
        .filter(sealed::not_tampered())
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
    // A group bid that some co-contractor did not confirm before the deadline is not
    // admissible: never scored (#24).
    let bid_ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let groups = crate::services::groups::of_bids(conn, &bid_ids)?;
    let bid_rows = rows
        .into_iter()
        .filter(|r| groups.get(&r.0).is_none_or(|g| g.confirmed()))
        .map(
            |(id, lot_id, supplier_id, price_cents, quality, environment, submitted_at)| BidRow {
                id,
                lot_id,
                supplier_id,
                price_cents,
                quality,
                environment,
                submitted_at,
                members: groups
                    .get(&id)
                    .map(|g| g.members.iter().map(|m| m.supplier_id).collect())
                    .unwrap_or_default(),
            },
        )
        .collect();
    Ok((lot_rows, bid_rows))
}

/// Bids that lack a mark a criterion needs (a criterion of weight 0 needs none).
pub(super) fn unmarked(rules: &AwardRules, bid_rows: &[BidRow]) -> usize {
    bid_rows
        .iter()
        .filter(|b| {
            (rules.weights.quality > 0 && b.quality.is_none())
                || (rules.weights.environment > 0 && b.environment.is_none())
        })
        .count()
}

/// The award engine on the tender's bids, under its announced rules.
pub(super) fn run_engine(
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
            members: b.members.iter().map(i32::to_string).collect(),
        })
        .collect();
    engine::award(&award_lots, &award_bids, &rules_of(tender))
        .map_err(|e| AppError::internal(format!("award of {}: {e}", tender.reference)))
}

/// What the outcome depends on — bids, prices and marks — so that an approval is refused when
/// any of it changed since the lead read the outcome.
pub(super) fn fingerprint(bid_rows: &[BidRow]) -> String {
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
    /// Its group of companies, in words (#24).
    pub group: Option<String>,
    /// A group bid some co-contractor did not confirm: not admissible, not scored.
    pub unconfirmed: bool,
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
    /// The bids received after the deadline: who and when, never opened nor scored.
    pub late: Vec<sealed::LateBid>,
    /// The bids whose ciphertext no longer matched their receipt at the opening: reported,
    /// never opened nor scored.
    pub tampered: Vec<sealed::LateBid>,
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
    let late = sealed::late_bids_on(&mut conn, actor, &tender.reference)?;
    let tampered = sealed::tampered_bids_on(&mut conn, actor, &tender.reference)?;
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
    let opened_ids: Vec<i32> = opened.iter().map(|b| b.id).collect();
    let groups = crate::services::groups::of_bids(&mut conn, &opened_ids)?;
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
                    group: groups.get(&b.id).map(|g| g.describe()),
                    unconfirmed: groups.get(&b.id).is_some_and(|g| !g.confirmed()),
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
        late,
        tampered,
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
