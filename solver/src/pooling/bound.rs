//! Upper bounds on a family's objective for plans the MILP did not prove optimal. Each is a
//! relaxation: windows and the indivisibility of needs are ignored.

use super::instance::Need;
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

/// The ratio bound under a cap on lot value: a need above the cap is a lot of its own and
/// scores exactly; every other lot is worth at most the cap, so scores at most the best ratio
/// of a lot up to the cap times its value.
pub fn capped_ratio_bound(scorer: &LotScorer, values: &[i64], cap: i64) -> f64 {
    let alone: f64 = values
        .iter()
        .filter(|&&v| v > cap)
        .map(|&v| scorer.score(v))
        .sum();
    let rest: i64 = values.iter().filter(|&&v| v <= cap).sum();
    if rest == 0 {
        return alone;
    }
    alone + best_ratio(scorer, cap.min(rest), false) * euros(rest)
}

/// What the large lots can score together when their values add up to `value`: by
/// superadditivity, at most one merged lot.
fn large_part(scorer: &LotScorer, value: i64) -> f64 {
    if value > 0 {
        scorer.curve.value(euros(value)) - scorer.lot_cost
    } else {
        0.0
    }
}

/// Whether the curve is convex on `[0, limit]` (slopes never fall below `limit` cents).
fn convex_up_to(scorer: &LotScorer, limit: i64) -> bool {
    let slopes: Vec<f64> = scorer
        .curve
        .segments()
        .iter()
        .filter(|s| s.from * 100.0 < limit as f64)
        .map(|s| s.slope)
        .collect();
    slopes.windows(2).all(|w| w[1] >= w[0])
}

/// The most local lots of value `x` in total can score. When the curve is convex up to the
/// local capacity, the lot score is convex there and the best is as many full lots as possible
/// plus one for the rest; otherwise the best ratio times `x`.
fn local_part(scorer: &LotScorer, x: i64, rho: f64, convex: bool) -> f64 {
    let c = scorer.c_cents;
    if x <= 0 || c <= 0 {
        return 0.0;
    }
    if !convex {
        return rho * euros(x);
    }
    let full = x / c;
    let rest = x % c;
    full as f64 * scorer.score(c) + if rest > 0 { scorer.score(rest) } else { 0.0 }
}

/// A tighter bound for a superadditive curve without a cap on lot value: at most one lot is
/// not local (all large lots merged score at least as much), and the local lots score at most
/// [`local_part`]. Maximised over the value `x` put in local lots, at every point where one of
/// the two parts changes slope, since between those points their sum is convex.
pub fn split_bound(scorer: &LotScorer, total: i64, local_eligible: i64) -> f64 {
    let c = scorer.c_cents;
    let usable = local_eligible > 0 && c > 0;
    let rho = if usable {
        best_ratio(scorer, c.min(local_eligible), true).max(0.0)
    } else {
        0.0
    };
    let convex = usable && convex_up_to(scorer, c);
    let big = |x: i64| large_part(scorer, total - x);
    let kinks: Vec<i64> = scorer
        .curve
        .kinks()
        .map(|k| (k * 100.0).round() as i64)
        .collect();
    let mut candidates: Vec<i64> = vec![0, local_eligible];
    candidates.extend(kinks.iter().map(|&k| total - k));
    if usable && convex {
        for m in 0..=local_eligible / c {
            candidates.push(m * c);
            candidates.extend(
                kinks
                    .iter()
                    .filter(|&&k| k > 0 && k < c)
                    .map(|&k| m * c + k),
            );
            candidates.push(m * c + 1);
        }
    }
    candidates
        .into_iter()
        .filter(|x| (0..=local_eligible).contains(x))
        .map(|x| local_part(scorer, x, rho, convex) + big(x))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// A bound that keeps the delivery days apart (superadditive curve, no cap, curve convex up to
/// `C_f`): local lots are tied to a day, and a need whose window holds only one of the family's
/// days can only be local on that day. With `L_d` the value local on day `d` (full local lots
/// plus one partial lot each day) and every large lot merged into one, the bound is
/// `max Σ_d local(L_d) + large(T − Σ_d L_d)` under `Σ_d (L_d − fixed_d)⁺ ≤ flexible`. The
/// maximum is at a vertex: every day at one of its breakpoints except at most two, set by the
/// flexible value running out and by a kink of the large lot's curve. `None` when the family
/// has too many days or breakpoints for the enumeration.
pub fn day_bound(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_evaluations: usize,
) -> Option<f64> {
    let c = scorer.c_cents;
    if c <= 0 || !convex_up_to(scorer, c) {
        return None;
    }
    let mut days: Vec<&String> = members.iter().map(|&i| &needs[i].window_start).collect();
    days.sort();
    days.dedup();
    if days.len() > 6 {
        return None;
    }
    let total: i64 = members.iter().map(|&i| needs[i].value_cents()).sum();
    let mut fixed = vec![0i64; days.len()];
    let mut flexible = 0i64;
    for &i in members {
        let v = needs[i].value_cents();
        if v > c {
            continue;
        }
        let holds: Vec<usize> = (0..days.len())
            .filter(|&d| needs[i].window_start <= *days[d] && *days[d] <= needs[i].window_end)
            .collect();
        match holds.as_slice() {
            [d] => fixed[*d] += v,
            _ => flexible += v,
        }
    }
    let kinks: Vec<i64> = scorer
        .curve
        .kinks()
        .map(|k| (k * 100.0).round() as i64)
        .collect();
    let candidates: Vec<Vec<i64>> = (0..days.len())
        .map(|d| {
            let top = fixed[d] + flexible;
            let mut list = vec![0, fixed[d], top];
            for m in 0..=top / c {
                list.push(m * c);
                list.push(m * c + 1);
                list.extend(
                    kinks
                        .iter()
                        .filter(|&&k| k > 0 && k < c)
                        .map(|&k| m * c + k),
                );
            }
            list.retain(|&x| (0..=top).contains(&x));
            list.sort_unstable();
            list.dedup();
            list
        })
        .collect();
    let product = candidates
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))?;
    if product.saturating_mul(days.len() * days.len() + 1) > max_evaluations {
        return None;
    }
    let large = |s: i64| large_part(scorer, total - s);
    let value = |loads: &[i64]| -> Option<f64> {
        let extra: i64 = loads.iter().zip(&fixed).map(|(l, f)| (l - f).max(0)).sum();
        if extra > flexible
            || loads
                .iter()
                .zip(&candidates)
                .any(|(&l, list)| l < 0 || l > *list.last().unwrap_or(&0))
        {
            return None;
        }
        let local: f64 = loads
            .iter()
            .map(|&l| local_part(scorer, l, 0.0, true))
            .sum();
        Some(local + large(loads.iter().sum()))
    };
    let n = days.len();
    let mut best = f64::NEG_INFINITY;
    // Free days: none, one set by the flexible value or by a kink, or one of each.
    let mut choices: Vec<(Option<usize>, Option<usize>)> = vec![(None, None)];
    for r in 0..n {
        choices.push((Some(r), None));
        choices.push((None, Some(r)));
        for q in 0..n {
            if q != r {
                choices.push((Some(r), Some(q)));
            }
        }
    }
    for (by_flexible, by_kink) in choices {
        let others: Vec<usize> = (0..n)
            .filter(|&d| Some(d) != by_flexible && Some(d) != by_kink)
            .collect();
        let mut index = vec![0usize; others.len()];
        loop {
            let mut loads = vec![0i64; n];
            for (k, &d) in others.iter().enumerate() {
                loads[d] = candidates[d][index[k]];
            }
            if let Some(r) = by_flexible {
                let used: i64 = others.iter().map(|&d| (loads[d] - fixed[d]).max(0)).sum();
                loads[r] = fixed[r] + (flexible - used);
            }
            let kink_targets: Vec<i64> = match by_kink {
                Some(_) => kinks.iter().map(|&k| total - k).chain([total]).collect(),
                None => vec![0],
            };
            for target in kink_targets {
                if let Some(q) = by_kink {
                    let others_sum: i64 = (0..n).filter(|&d| d != q).map(|d| loads[d]).sum();
                    loads[q] = target - others_sum;
                }
                if let Some(v) = value(&loads) {
                    best = best.max(v);
                }
            }
            // Next combination of the other days' breakpoints.
            let mut k = 0;
            while k < others.len() {
                index[k] += 1;
                if index[k] < candidates[others[k]].len() {
                    break;
                }
                index[k] = 0;
                k += 1;
            }
            if k == others.len() {
                break;
            }
        }
    }
    best.is_finite().then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::SplitMix64;
    use crate::pooling::instance::{test_need, Params};

    /// The best objective over every partition whose lots share a day, by enumeration.
    fn optimum(needs: &[Need], scorer: &LotScorer) -> f64 {
        optimum_capped(needs, scorer, i64::MAX)
    }

    /// The same, lots of several needs at most `cap`.
    fn optimum_capped(needs: &[Need], scorer: &LotScorer, cap: i64) -> f64 {
        fn go(
            i: usize,
            lots: &mut Vec<Vec<usize>>,
            needs: &[Need],
            scorer: &LotScorer,
            cap: i64,
        ) -> f64 {
            if i == needs.len() {
                let values = lots
                    .iter()
                    .map(|l| (l.len(), l.iter().map(|&j| needs[j].value_cents()).sum()));
                if values.clone().any(|(n, v): (usize, i64)| n > 1 && v > cap) {
                    return f64::NEG_INFINITY;
                }
                return values.map(|(_, v)| scorer.score(v)).sum();
            }
            let mut best = f64::NEG_INFINITY;
            for k in 0..lots.len() {
                if lots[k].iter().all(|&j| needs[j].overlaps(&needs[i])) {
                    lots[k].push(i);
                    best = best.max(go(i + 1, lots, needs, scorer, cap));
                    lots[k].pop();
                }
            }
            lots.push(vec![i]);
            best = best.max(go(i + 1, lots, needs, scorer, cap));
            lots.pop();
            best
        }
        go(0, &mut Vec::new(), needs, scorer, cap)
    }

    #[test]
    fn relaxation_bounds_are_never_below_the_optimum() {
        let params = Params::default();
        let windows = [
            ("2027-01-01", "2027-12-31"),
            ("2027-01-01", "2027-03-31"),
            ("2027-04-01", "2027-09-30"),
        ];
        let mut rng = SplitMix64::new(11);
        for case in 0..300 {
            let n = 1 + rng.below(7);
            let needs: Vec<Need> = (0..n)
                .map(|k| {
                    let (start, end) = windows[rng.below(windows.len())];
                    test_need(
                        format!("{case}-{k}"),
                        rng.range(5_000.0, 900_000.0).round(),
                        start,
                        end,
                    )
                })
                .collect();
            let c_cents = (rng.range(0.0, 2_000_000.0) * 100.0).round() as i64;
            let scorer = LotScorer::new(&params, "3314", c_cents);
            let total: i64 = needs.iter().map(Need::value_cents).sum();
            let local: i64 = needs
                .iter()
                .map(Need::value_cents)
                .filter(|&v| v <= c_cents)
                .sum();
            let best = optimum(&needs, &scorer);
            let split = split_bound(&scorer, total, local);
            let ratio = ratio_bound(&scorer, total);
            let values: Vec<i64> = needs.iter().map(Need::value_cents).collect();
            let cap = (rng.range(10_000.0, 1_000_000.0) * 100.0).round() as i64;
            let capped = capped_ratio_bound(&scorer, &values, cap);
            let best_capped = optimum_capped(&needs, &scorer, cap);
            assert!(
                capped + 1e-6 >= best_capped,
                "case {case}: capped ratio bound {capped} below optimum {best_capped}"
            );
            let members: Vec<usize> = (0..needs.len()).collect();
            if let Some(days) = day_bound(&needs, &members, &scorer, 10_000_000) {
                assert!(
                    days + 1e-6 >= best,
                    "case {case}: day bound {days} below optimum {best}"
                );
            }
            assert!(
                split + 1e-6 >= best,
                "case {case}: split bound {split} below optimum {best}"
            );
            assert!(
                ratio + 1e-6 >= best,
                "case {case}: ratio bound {ratio} below optimum {best}"
            );
        }
    }
}
