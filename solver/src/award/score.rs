//! Scores and ranks (DESIGN §5).

use super::{AwardLot, Bid, Weights};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Bids priced under this share of the lot's mean price are flagged as possibly abnormally low.
pub const ABNORMALLY_LOW_SHARE: f64 = 0.7;

/// `100 × P_min / P`: the cheapest admissible bid gets 100.
pub fn price_score(min_price: f64, price: f64) -> f64 {
    100.0 * min_price / price
}

/// `(w_price · price_score + w_quality · quality + w_env · environment) / 100`.
pub fn score(weights: &Weights, price_score: f64, quality: f64, environment: f64) -> f64 {
    (f64::from(weights.price) * price_score
        + f64::from(weights.quality) * quality
        + f64::from(weights.environment) * environment)
        / 100.0
}

/// A bid with its scores, as ranked on its lot.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredBid {
    pub bid: Bid,
    pub price_score: f64,
    pub score: f64,
    pub abnormally_low: bool,
}

/// Scores are compared on a grid of 1e-9 points, so that two bids equal up to rounding are
/// equal and the announced tie-breaks decide, and so that the order is a true total order.
fn score_key(score: f64) -> i64 {
    (score * 1e9).round() as i64
}

/// Best first: higher score, then lower price, then earlier submission, then bid id.
pub fn rank_order(a: &ScoredBid, b: &ScoredBid) -> Ordering {
    score_key(b.score)
        .cmp(&score_key(a.score))
        .then(a.bid.price_eur.total_cmp(&b.bid.price_eur))
        .then(a.bid.submitted_at.cmp(&b.bid.submitted_at))
        .then(a.bid.bid_id.cmp(&b.bid.bid_id))
}

/// Whether two scores are equal for the award (same grid as the ranking).
pub fn same_score(a: f64, b: f64) -> bool {
    score_key(a) == score_key(b)
}

/// Every lot's bids, scored and ranked best first; lots without bids map to an empty list.
pub fn rank_lots(
    lots: &[AwardLot],
    bids: &[Bid],
    weights: &Weights,
) -> BTreeMap<String, Vec<ScoredBid>> {
    let mut by_lot: BTreeMap<String, Vec<&Bid>> = lots
        .iter()
        .map(|l| (l.lot_id.clone(), Vec::new()))
        .collect();
    for bid in bids {
        if let Some(list) = by_lot.get_mut(&bid.lot_id) {
            list.push(bid);
        }
    }
    by_lot
        .into_iter()
        .map(|(lot_id, lot_bids)| {
            let min_price = lot_bids
                .iter()
                .map(|b| b.price_eur)
                .fold(f64::INFINITY, f64::min);
            let mean_price =
                lot_bids.iter().map(|b| b.price_eur).sum::<f64>() / lot_bids.len().max(1) as f64;
            let mut scored: Vec<ScoredBid> = lot_bids
                .into_iter()
                .map(|bid| {
                    let ps = price_score(min_price, bid.price_eur);
                    ScoredBid {
                        price_score: ps,
                        score: score(weights, ps, bid.quality, bid.environment),
                        abnormally_low: bid.price_eur < ABNORMALLY_LOW_SHARE * mean_price,
                        bid: bid.clone(),
                    }
                })
                .collect();
            scored.sort_by(rank_order);
            (lot_id, scored)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(id: &str, price: f64, quality: f64, environment: f64, at: &str) -> Bid {
        Bid {
            bid_id: id.into(),
            supplier_id: format!("s-{id}"),
            lot_id: "L1".into(),
            price_eur: price,
            quality,
            environment,
            submitted_at: at.into(),
            members: Vec::new(),
        }
    }

    #[test]
    fn hand_computed_scores() {
        let lots = [AwardLot {
            lot_id: "L1".into(),
            tender_id: String::new(),
            title: String::new(),
            cpv: String::new(),
            value_eur: 100_000.0,
        }];
        let bids = [
            bid("a", 100_000.0, 50.0, 50.0, "2027-01-01T10:00:00Z"),
            bid("b", 80_000.0, 40.0, 20.0, "2027-01-01T11:00:00Z"),
        ];
        let ranked = rank_lots(&lots, &bids, &Weights::default());
        let list = &ranked["L1"];
        // b: price score 100 → 60 + 0.3·40 + 0.1·20 = 74; a: 80 → 48 + 15 + 5 = 68.
        assert_eq!(list[0].bid.bid_id, "b");
        assert!((list[0].score - 74.0).abs() < 1e-9);
        assert!((list[1].price_score - 80.0).abs() < 1e-9);
        assert!((list[1].score - 68.0).abs() < 1e-9);
    }

    #[test]
    fn ties_go_to_lower_price_then_earlier_submission_then_id() {
        let w = Weights {
            price: 50,
            quality: 40,
            environment: 10,
        };
        let a = ScoredBid {
            bid: bid("a", 90.0, 0.0, 0.0, "2027-01-02"),
            price_score: 0.0,
            score: 70.0,
            abnormally_low: false,
        };
        let mut b = a.clone();
        b.bid = bid("b", 95.0, 0.0, 0.0, "2027-01-01");
        assert_eq!(rank_order(&a, &b), Ordering::Less, "lower price first");
        b.bid.price_eur = 90.0;
        assert_eq!(
            rank_order(&a, &b),
            Ordering::Greater,
            "then earlier submission"
        );
        b.bid.submitted_at = "2027-01-02".into();
        assert_eq!(rank_order(&a, &b), Ordering::Less, "then bid id");
        b.score = 70.000_000_000_1;
        assert_eq!(
            rank_order(&a, &b),
            Ordering::Less,
            "rounding noise is a tie"
        );
        assert!(score(&w, 100.0, 100.0, 100.0) - 100.0 < 1e-12);
    }
}
