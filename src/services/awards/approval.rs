//! Approval of the award: awards and lots recorded, needs moved, contracts created for each
//! member's share (price split by estimate), bidders told, the standstill started.

#[allow(unused_imports)]
use super::*;

/// Days between the award decision and the signature in a formal procedure (R2182-1).
pub const STANDSTILL_DAYS: i64 = 11;

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
pub(super) struct Share {
    pub(super) organisation_id: i32,
    pub(super) estimated_cents: i64,
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
    pub(super) postcode: String,
}

pub(super) fn shares_of(conn: &mut AnyConnection, lot_id: i32) -> QueryResult<Vec<Share>> {
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
pub(super) fn months_between(start: NaiveDate, end: NaiveDate) -> i32 {
    use chrono::Datelike;
    let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32
        + i32::from(end.day() >= start.day());
    months.max(1)
}

/// Writes an approved outcome: awards, lots, needs, contracts, the tender's dates, and (with
/// a base URL) every bidder's result by e-mail.
pub(super) fn record(
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
        crate::services::needs::move_needs_together(
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
    // The award notice of a tender announced in the Official Journal.
    crate::services::notices::record_award_notice(conn, tender.id, now)?;
    if let Some(base_url) = base_url {
        notify_bidders(conn, tender, lot_rows, outcome, standstill, base_url)?;
    }
    Ok(())
}

/// One e-mail per bidder with the result of each lot it bid on: won, or lost with the winner's
/// name and score and its own (R2181-1 and R2181-3), and the standstill date.
pub(super) fn notify_bidders(
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
            // Marks as the bidder reads numbers (`92,42` in French).
            let locale = people
                .get(&supplier)
                .map_or(Locale::Fr, |p| Locale::of(&p.2));
            by_supplier.entry(supplier).or_default().push(json!({
                "number": number, "heading": crate::services::tenders::lot_heading(number, &title),
                "won": won,
                "score": locale.decimal(bid.score, 2), "rank": bid.rank,
                "bidders": lot.bids.len(),
                "winner": winner.map(|w| name_of(&w.supplier_id)),
                "winner_score": winner.map(|w| locale.decimal(w.score, 2)),
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

/// The reference of a tender the actor's organisation coordinates (its lead).
pub fn reference_of(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<String, AppError> {
    let mut conn = pool.get()?;
    Ok(coordinated(&mut conn, actor, tender_id)?.reference)
}
