//! Upper bounds on a family's objective for plans the MILP did not prove optimal. Each is a
//! relaxation: windows and the indivisibility of needs are ignored.

use super::score::{euros, LotScorer};

/// The largest score per euro a single lot of value in `(0, max_value]` cents can reach,
/// local or not. On each linear piece of the curve the ratio is monotone, so its maximum is at
/// a piece's end: the curve's kinks, the local capacity and the largest value.
fn best_ratio(scorer: &LotScorer, max_value: i64, local_only: bool) -> f64 {
    let mut candidates: Vec<i64> = scorer
        .curve
        .kinks()
        .map(|k| (k * 100.0).round() as i64)
        .filter(|&k| k > 0 && k <= max_value)
        .collect();
    candidates.extend([max_value, scorer.c_cents, scorer.c_cents + 1]);
    candidates
        .into_iter()
        .filter(|&v| v > 0 && v <= max_value && (!local_only || scorer.is_local(v)))
        .map(|v| scorer.score(v) / euros(v))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// A bound valid for any curve and any cap: every lot scores at most the best ratio times its
/// value, and the lots' values add up to the family's total.
pub fn ratio_bound(scorer: &LotScorer, total: i64) -> f64 {
    best_ratio(scorer, total, false) * euros(total)
}

/// A tighter bound for a superadditive curve without a cap on lot value: at most one lot is
/// not local, and the local part scores at most the best local ratio times its value.
/// Maximised over the value `x` put in local lots, at the points where the pieces change.
pub fn split_bound(scorer: &LotScorer, total: i64, local_eligible: i64) -> f64 {
    let rho = if local_eligible > 0 && scorer.c_cents > 0 {
        best_ratio(scorer, scorer.c_cents.min(local_eligible), true).max(0.0)
    } else {
        0.0
    };
    let big = |x: i64| {
        let rest = total - x;
        if rest > 0 {
            scorer.curve.value(euros(rest)) - scorer.lot_cost
        } else {
            0.0
        }
    };
    let mut candidates: Vec<i64> = vec![0, local_eligible];
    candidates.extend(
        scorer
            .curve
            .kinks()
            .map(|k| total - (k * 100.0).round() as i64)
            .filter(|&x| (0..=local_eligible).contains(&x)),
    );
    candidates
        .into_iter()
        .map(|x| rho * euros(x) + big(x))
        .fold(f64::NEG_INFINITY, f64::max)
}
