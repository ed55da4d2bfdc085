//! Who wins: without a cap, each lot's best bid; with a cap, the two announced rules.

use super::score::{same_score, ScoredBid};
use super::{AwardError, AwardLot, BidOutcome, CapRule, LotOutcome, LotStatus, Winners};
use crate::lp::{self, LpOptions};
use good_lp::{variable, Expression, ProblemVariables};
use std::collections::{BTreeMap, HashMap};

type Ranked = BTreeMap<String, Vec<ScoredBid>>;

pub fn winners(
    lots: &[AwardLot],
    ranked: &Ranked,
    cap: Option<u32>,
    rule: CapRule,
) -> Result<Winners, AwardError> {
    let best: Winners = ranked
        .iter()
        .filter(|(_, bids)| !bids.is_empty())
        .map(|(lot, _)| (lot.clone(), 0))
        .collect();
    let Some(cap) = cap else {
        return Ok(best);
    };
    match rule {
        CapRule::DecreasingImportance => Ok(decreasing_importance(lots, ranked, cap)),
        // Each lot's best bid is the best total whenever it respects the cap.
        CapRule::BestTotal if within_cap(ranked, &best, cap) => Ok(best),
        CapRule::BestTotal => best_total(lots, ranked, cap),
    }
}

fn wins_by_supplier<'a>(ranked: &'a Ranked, winners: &Winners) -> HashMap<&'a str, u32> {
    let mut wins = HashMap::new();
    for (lot, &index) in winners {
        if let Some(bid) = ranked.get(lot).and_then(|bids| bids.get(index)) {
            for company in bid.bid.companies() {
                *wins.entry(company).or_insert(0) += 1;
            }
        }
    }
    wins
}

/// Whether each company of a bid is still under the cap with these wins.
fn under_cap(bid: &super::Bid, wins: &HashMap<&str, u32>, cap: u32) -> bool {
    bid.companies()
        .all(|c| wins.get(c).copied().unwrap_or(0) < cap)
}

fn within_cap(ranked: &Ranked, winners: &Winners, cap: u32) -> bool {
    wins_by_supplier(ranked, winners)
        .values()
        .all(|&w| w <= cap)
}

/// Lots by decreasing estimated value (ties in the order given), each to its best-ranked bidder
/// that has not yet reached the cap.
fn decreasing_importance(lots: &[AwardLot], ranked: &Ranked, cap: u32) -> Winners {
    let mut order: Vec<usize> = (0..lots.len()).collect();
    order.sort_by(|&a, &b| {
        lots[b]
            .value_eur
            .total_cmp(&lots[a].value_eur)
            .then(a.cmp(&b))
    });
    let mut wins: HashMap<&str, u32> = HashMap::new();
    let mut winners = Winners::new();
    for i in order {
        let lot = &lots[i].lot_id;
        let Some(bids) = ranked.get(lot) else {
            continue;
        };
        let chosen = bids.iter().position(|b| under_cap(&b.bid, &wins, cap));
        if let Some(index) = chosen {
            for company in bids[index].bid.companies() {
                *wins.entry(company).or_insert(0) += 1;
            }
            winners.insert(lot.clone(), index);
        }
    }
    winners
}

/// The assignment MILP: each lot at most one winner, each supplier at most `cap` lots,
/// maximise the sum of the winners' scores. Its constraint matrix is that of a bipartite
/// b-matching (totally unimodular), so HiGHS proves optimality at the root.
fn best_total(lots: &[AwardLot], ranked: &Ranked, cap: u32) -> Result<Winners, AwardError> {
    let mut vars = ProblemVariables::new();
    let mut columns = Vec::new();
    let mut variables = Vec::new();
    for lot in lots {
        for (index, bid) in ranked.get(&lot.lot_id).into_iter().flatten().enumerate() {
            variables.push(vars.add(variable().binary()));
            columns.push((lot.lot_id.as_str(), index, bid));
        }
    }
    if variables.is_empty() {
        return Ok(Winners::new());
    }
    let objective: Expression = columns
        .iter()
        .zip(&variables)
        .map(|((_, _, bid), &v)| bid.score * v)
        .sum();
    let mut per_lot: BTreeMap<&str, Expression> = BTreeMap::new();
    let mut per_supplier: BTreeMap<&str, Expression> = BTreeMap::new();
    for ((lot, _, bid), &v) in columns.iter().zip(&variables) {
        *per_lot.entry(lot).or_default() += v;
        for company in bid.bid.companies() {
            *per_supplier.entry(company).or_default() += v;
        }
    }
    let constraints = per_lot
        .into_values()
        .map(|e| e.leq(1))
        .chain(per_supplier.into_values().map(|e| e.leq(f64::from(cap))))
        .collect();
    let solution = lp::maximise(
        vars,
        &variables,
        objective,
        constraints,
        LpOptions::default(),
    )
    .map_err(|e| AwardError::Solver(e.to_string()))?;
    let mut winners = Winners::new();
    for ((lot, index, _), value) in columns.iter().zip(&solution.values) {
        if *value > 0.5 {
            winners.insert(lot.to_string(), *index);
        }
    }
    if !within_cap(ranked, &winners, cap) {
        return Err(AwardError::Solver(
            "the solver's assignment breaks the cap".into(),
        ));
    }
    Ok(prefer_ranking_on_ties(lots, ranked, winners, cap))
}

/// Among assignments of equal total score, the announced tie-breaks decide: a better-ranked bid
/// with the same score replaces the winner when its supplier is still under the cap.
fn prefer_ranking_on_ties(
    lots: &[AwardLot],
    ranked: &Ranked,
    mut winners: Winners,
    cap: u32,
) -> Winners {
    let mut changed = true;
    while changed {
        changed = false;
        for lot in lots {
            let Some(bids) = ranked.get(&lot.lot_id) else {
                continue;
            };
            let current = winners.get(&lot.lot_id).copied();
            // The wins of the other lots: the lot's current winner gives its place up.
            let mut others = winners.clone();
            others.remove(&lot.lot_id);
            let wins = wins_by_supplier(ranked, &others);
            let upto = current.unwrap_or(bids.len());
            let better = (0..upto).find(|&i| {
                let no_loss = current.is_none_or(|c| same_score(bids[i].score, bids[c].score));
                under_cap(&bids[i].bid, &wins, cap) && no_loss
            });
            if let Some(i) = better {
                winners.insert(lot.lot_id.clone(), i);
                changed = true;
            }
        }
    }
    winners
}

pub fn total_score(ranked: &Ranked, winners: &Winners) -> f64 {
    winners
        .iter()
        .filter_map(|(lot, &i)| ranked.get(lot).and_then(|b| b.get(i)))
        .map(|b| b.score)
        .sum()
}

/// The report of every lot, in the order of the lots given.
pub fn outcomes(
    lots: &[AwardLot],
    ranked: &Ranked,
    winners: &Winners,
    cap: Option<u32>,
) -> Vec<LotOutcome> {
    let wins = wins_by_supplier(ranked, winners);
    lots.iter()
        .map(|lot| {
            let bids = ranked
                .get(&lot.lot_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let winner = winners.get(&lot.lot_id).copied();
            let outcomes = bids
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let at_cap = cap.is_some_and(|c| !under_cap(&b.bid, &wins, c));
                    let ranked_above_winner = winner.is_none_or(|w| i < w);
                    BidOutcome {
                        bid_id: b.bid.bid_id.clone(),
                        supplier_id: b.bid.supplier_id.clone(),
                        price_score: b.price_score,
                        score: b.score,
                        rank: i as u32 + 1,
                        abnormally_low: b.abnormally_low,
                        lost_to_cap: at_cap && ranked_above_winner,
                    }
                })
                .collect();
            LotOutcome {
                lot_id: lot.lot_id.clone(),
                status: if winner.is_some() {
                    LotStatus::Awarded
                } else {
                    LotStatus::Unsuccessful
                },
                winner_bid_id: winner.map(|w| bids[w].bid.bid_id.clone()),
                bids: outcomes,
            }
        })
        .collect()
}
