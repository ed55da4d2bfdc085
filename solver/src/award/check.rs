//! An independent checker of awards, in the spirit of vrp's: it re-derives every number from
//! the lots, the bids and the rules with its own code, and lists every broken rule. Every test
//! award goes through it.

use super::{Award, AwardLot, AwardRules, Bid, CapRule, LotStatus};
use std::collections::{BTreeMap, HashMap};

const EPS: f64 = 1e-6;

/// `Ok` when the award follows the rules; otherwise every violation found.
pub fn check_award(
    lots: &[AwardLot],
    bids: &[Bid],
    rules: &AwardRules,
    award: &Award,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut fail = |m: String| errors.push(m);
    let w = rules.weights;
    if award.rule != rules.rule || award.cap != rules.cap || award.weights != w {
        fail("the award does not restate the announced rule, cap and weights".into());
    }
    let bids_by_id: HashMap<&str, &Bid> = bids.iter().map(|b| (b.bid_id.as_str(), b)).collect();
    let mut lot_count: HashMap<&str, usize> = HashMap::new();
    for outcome in &award.lots {
        *lot_count.entry(outcome.lot_id.as_str()).or_default() += 1;
    }
    for lot in lots {
        match lot_count.get(lot.lot_id.as_str()) {
            Some(1) => {}
            Some(n) => fail(format!("lot {} reported {n} times", lot.lot_id)),
            None => fail(format!("lot {} missing from the award", lot.lot_id)),
        }
    }
    if award.lots.len() != lots.len() {
        fail("the award reports lots that are not in the tender".into());
    }

    // Scores, ranks and flags, lot by lot.
    let mut recomputed_score: HashMap<&str, f64> = HashMap::new();
    let mut wins: BTreeMap<&str, u32> = BTreeMap::new();
    let mut winner_of: HashMap<&str, &str> = HashMap::new();
    for outcome in &award.lots {
        let lot_bids: Vec<&Bid> = bids.iter().filter(|b| b.lot_id == outcome.lot_id).collect();
        let mut reported: Vec<&str> = outcome.bids.iter().map(|b| b.bid_id.as_str()).collect();
        let mut expected: Vec<&str> = lot_bids.iter().map(|b| b.bid_id.as_str()).collect();
        reported.sort_unstable();
        expected.sort_unstable();
        if reported != expected {
            fail(format!(
                "lot {}: the bids listed are not the bids on the lot",
                outcome.lot_id
            ));
            continue;
        }
        let p_min = lot_bids
            .iter()
            .map(|b| b.price_eur)
            .fold(f64::MAX, f64::min);
        let mean = lot_bids.iter().map(|b| b.price_eur).sum::<f64>() / lot_bids.len().max(1) as f64;
        for (position, reported) in outcome.bids.iter().enumerate() {
            let Some(bid) = bids_by_id.get(reported.bid_id.as_str()) else {
                continue;
            };
            let price_score = 100.0 * p_min / bid.price_eur;
            let total = (f64::from(w.price) * price_score
                + f64::from(w.quality) * bid.quality
                + f64::from(w.environment) * bid.environment)
                / 100.0;
            recomputed_score.insert(bid.bid_id.as_str(), total);
            if (reported.price_score - price_score).abs() > EPS
                || (reported.score - total).abs() > EPS
            {
                fail(format!(
                    "bid {}: scores {} / {} instead of {price_score} / {total}",
                    bid.bid_id, reported.price_score, reported.score
                ));
            }
            if reported.rank as usize != position + 1 {
                fail(format!(
                    "bid {}: rank {} at position {}",
                    bid.bid_id,
                    reported.rank,
                    position + 1
                ));
            }
            if reported.abnormally_low != (bid.price_eur < 0.7 * mean) {
                fail(format!("bid {}: abnormally-low flag wrong", bid.bid_id));
            }
            if reported.supplier_id != bid.supplier_id {
                fail(format!("bid {}: wrong supplier", bid.bid_id));
            }
        }
        // Consecutive bids must follow the ranking: score, then price, then time, then id.
        for pair in outcome.bids.windows(2) {
            let (Some(a), Some(b)) = (
                bids_by_id.get(pair[0].bid_id.as_str()),
                bids_by_id.get(pair[1].bid_id.as_str()),
            ) else {
                continue;
            };
            let (sa, sb) = (
                recomputed_score[a.bid_id.as_str()],
                recomputed_score[b.bid_id.as_str()],
            );
            let in_order = if (sa - sb).abs() > 1e-8 {
                sa > sb
            } else {
                (a.price_eur, &a.submitted_at, &a.bid_id)
                    <= (b.price_eur, &b.submitted_at, &b.bid_id)
            };
            if !in_order {
                fail(format!(
                    "lot {}: bid {} ranked before {}",
                    outcome.lot_id, a.bid_id, b.bid_id
                ));
            }
        }
        match (&outcome.status, &outcome.winner_bid_id) {
            (LotStatus::Awarded, Some(id)) => match bids_by_id.get(id.as_str()) {
                Some(bid) if bid.lot_id == outcome.lot_id => {
                    for company in std::iter::once(&bid.supplier_id).chain(&bid.members) {
                        *wins.entry(company.as_str()).or_default() += 1;
                    }
                    winner_of.insert(outcome.lot_id.as_str(), id.as_str());
                }
                _ => fail(format!(
                    "lot {}: winner {id} is not a bid on the lot",
                    outcome.lot_id
                )),
            },
            (LotStatus::Unsuccessful, None) => {}
            _ => fail(format!(
                "lot {}: status and winner disagree",
                outcome.lot_id
            )),
        }
    }

    // The cap, and bids that lost to it.
    if let Some(cap) = rules.cap {
        for (supplier, &n) in &wins {
            if n > cap {
                fail(format!(
                    "supplier {supplier} wins {n} lots, above the cap of {cap}"
                ));
            }
        }
    }
    for outcome in &award.lots {
        let winner_rank = outcome
            .bids
            .iter()
            .position(|b| Some(&b.bid_id) == outcome.winner_bid_id.as_ref());
        for (i, b) in outcome.bids.iter().enumerate() {
            // A group's bid is at the cap when any of its companies is.
            let members: &[String] = bids_by_id
                .get(b.bid_id.as_str())
                .map_or(&[], |bid| bid.members.as_slice());
            let at_cap = rules.cap.is_some_and(|c| {
                std::iter::once(&b.supplier_id)
                    .chain(members)
                    .any(|company| wins.get(company.as_str()).copied().unwrap_or(0) >= c)
            });
            let above = winner_rank.is_none_or(|w| i < w);
            if b.lost_to_cap != (at_cap && above) {
                fail(format!("bid {}: lost_to_cap flag wrong", b.bid_id));
            }
            // A better bid may lose only to the cap.
            if above && !at_cap {
                fail(format!("lot {}: bid {} is better ranked than the winner and its supplier is under the cap", outcome.lot_id, b.bid_id));
            }
        }
    }

    // The announced rule.
    let total: f64 = winner_of
        .values()
        .filter_map(|id| recomputed_score.get(id))
        .sum();
    if (total - award.total_score).abs() > 1e-6 * total.abs().max(1.0) {
        fail(format!(
            "total score {} instead of {total}",
            award.total_score
        ));
    }
    if let Some(cap) = rules.cap {
        let (sequential, sequential_total) =
            sequential_award(lots, award, cap, &recomputed_score, &bids_by_id);
        match rules.rule {
            CapRule::DecreasingImportance => {
                for outcome in &award.lots {
                    if sequential.get(outcome.lot_id.as_str()).copied()
                        != outcome.winner_bid_id.as_deref()
                    {
                        fail(format!(
                            "lot {}: not the winner under decreasing order of importance",
                            outcome.lot_id
                        ));
                    }
                }
            }
            CapRule::BestTotal => {
                if total + 1e-6 < sequential_total {
                    fail(format!("best-total scores {total}, below decreasing importance's {sequential_total}"));
                }
            }
        }
        match &award.other_rule {
            Some(other) if other.rule != rules.rule => {}
            _ => fail("with a cap, the other rule's outcome must be shown beside".into()),
        }
    } else {
        if award.other_rule.is_some() {
            fail("without a cap there is no other rule to compare".into());
        }
        for outcome in &award.lots {
            if !outcome.bids.is_empty()
                && outcome.winner_bid_id.as_ref() != Some(&outcome.bids[0].bid_id)
            {
                fail(format!(
                    "lot {}: without a cap the best-ranked bid wins",
                    outcome.lot_id
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Decreasing order of importance, re-derived: lots by value (stable), each to the first bid in
/// the reported ranking whose supplier is under the cap.
fn sequential_award<'a>(
    lots: &'a [AwardLot],
    award: &'a Award,
    cap: u32,
    scores: &HashMap<&str, f64>,
    bids: &HashMap<&str, &'a Bid>,
) -> (HashMap<&'a str, &'a str>, f64) {
    let mut order: Vec<&AwardLot> = lots.iter().collect();
    order.sort_by(|a, b| b.value_eur.total_cmp(&a.value_eur));
    let mut wins: HashMap<&str, u32> = HashMap::new();
    let mut chosen = HashMap::new();
    let mut total = 0.0;
    for lot in order {
        let Some(outcome) = award.lots.iter().find(|o| o.lot_id == lot.lot_id) else {
            continue;
        };
        for b in &outcome.bids {
            let Some(bid) = bids.get(b.bid_id.as_str()) else {
                continue;
            };
            let companies: Vec<&str> = std::iter::once(bid.supplier_id.as_str())
                .chain(bid.members.iter().map(String::as_str))
                .collect();
            if companies
                .iter()
                .all(|c| wins.get(c).copied().unwrap_or(0) < cap)
            {
                for c in companies {
                    *wins.entry(c).or_default() += 1;
                }
                chosen.insert(lot.lot_id.as_str(), b.bid_id.as_str());
                total += scores.get(b.bid_id.as_str()).copied().unwrap_or(0.0);
                break;
            }
        }
    }
    (chosen, total)
}
