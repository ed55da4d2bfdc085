//! Exact planning of a family by dynamic programming over the sets of needs still to place.
//!
//! A lot scores by its value alone (curve, local bonus, lot cost) and is feasible when its
//! needs' windows share a day (for intervals: the latest start is not after the earliest end)
//! and, under a cap, when its value fits. So the best plan of a set `S` of needs is
//! `best(S) = max over feasible lots T ∋ first(S), T ⊆ S of score(T) + best(S \ T)`.
//!
//! Only the sets reached from the whole family are computed (memoised, from the top), never
//! all `2ⁿ`: the needs with the narrowest windows come first, and a lot holding the first need
//! takes only needs whose windows meet it, so the needs of other periods are all still there
//! when their turn comes. On a year of yearly and quarterly needs the sets reached are the
//! subsets of the yearly needs times a position, instead of every subset of the family. The
//! lots of a set are enumerated depth first, a branch dropped as soon as its windows share no
//! day or its value passes the cap.
//!
//! The work is counted (lots tried), not timed: past `budget` lots the enumeration gives up
//! and the family goes to the other methods, so the plan never depends on the machine.

use super::instance::Need;
use super::score::LotScorer;

/// The most needs a family may have to be enumerated. The memo is indexed by the set itself
/// (`2ⁿ` entries reserved, zeroed lazily by the system: only the pages of the sets reached are
/// ever written, and the bit order keeps those sets close together).
pub const MAX_NEEDS: usize = 26;

/// Needs with the narrowest windows first (fewest needs met), those of one window together,
/// then by value (largest first), then by position.
fn ordered(needs: &[Need], members: &[usize]) -> Vec<usize> {
    let meeting = |i: usize| {
        members
            .iter()
            .filter(|&&j| needs[i].overlaps(&needs[j]))
            .count()
    };
    let mut keyed: Vec<_> = members
        .iter()
        .map(|&i| {
            (
                meeting(i),
                needs[i].window_start.as_str(),
                needs[i].window_end.as_str(),
                std::cmp::Reverse(needs[i].value_cents()),
                i,
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|k| k.4).collect()
}

/// For each position of `order`, the mask of the positions whose windows meet its window.
fn meeting_masks(needs: &[Need], order: &[usize]) -> Vec<u64> {
    order
        .iter()
        .map(|&a| {
            order
                .iter()
                .enumerate()
                .filter(|(_, &b)| needs[a].overlaps(&needs[b]))
                .fold(0u64, |bits, (k, _)| bits | (1u64 << k))
        })
        .collect()
}

/// The lots the enumeration would try at most, from the windows alone, before anything is
/// built. With `f` the first need of a set reached, the needs after it that meet an earlier
/// need (`R`) may be gone or not; the others are all still there. A set of `R` present leaves
/// the first need's lot among its meeting needs still present:
/// `Σ_f Σ_{A ⊆ R_f} 2^{|M_f \ A|} = Σ_f 2^{|M_f \ R_f|} · 3^{|M_f ∩ R_f|} · 2^{|R_f \ M_f|}`,
/// `M_f` the later needs meeting `f`.
pub fn estimate(needs: &[Need], members: &[usize]) -> Option<u64> {
    if members.len() > MAX_NEEDS {
        return None;
    }
    let order = ordered(needs, members);
    let meets = meeting_masks(needs, &order);
    let mut total: u64 = 0;
    let mut earlier: u64 = 0;
    for (f, &m) in meets.iter().enumerate() {
        let after = !((2u64 << f) - 1);
        let reached = earlier & after;
        let meeting = m & after;
        let both = (meeting & reached).count_ones();
        let single = (meeting ^ reached).count_ones();
        let lots = 3u64
            .checked_pow(both)?
            .checked_mul(1u64.checked_shl(single)?)?;
        total = total.checked_add(lots)?;
        earlier |= m;
    }
    Some(total)
}

struct Search<'a> {
    values: Vec<i64>,
    /// Each position's window as ranks of the family's dates.
    starts: Vec<u32>,
    ends: Vec<u32>,
    /// For each position, the mask of the positions whose windows meet its window.
    meets: Vec<u32>,
    scorer: &'a LotScorer<'a>,
    max_lot: Option<i64>,
    /// Prices bounding every lot (`s(T) ≤ π(T)`), by position, when known: a lot is weighed
    /// only when its score plus the prices of the rest can beat the best lot of the set so far.
    prices: Option<Vec<f64>>,
    /// The best objective of each set reached, and the lot of its first need (0: not reached).
    best: Vec<f64>,
    choice: Vec<u32>,
    tried: u64,
    budget: u64,
}

/// Marks a memo entry that holds only a bound: the set's plans were not all weighed, since
/// none could matter.
const BOUNDED: u32 = 1 << 31;

/// What is done with each lot of a set.
enum Visit<'w> {
    /// Keep the lot with the best score minus its prices, as (that, lot, value, prices).
    Favourite(&'w mut (f64, u32, i64, f64)),
    /// Weigh every lot of `set` but `skip`.
    Weigh {
        set: u32,
        skip: u32,
        weighing: &'w mut Weighing,
    },
}

/// The weighing of one set's lots.
struct Weighing {
    /// The best exact objective found and its lot.
    top: f64,
    lot: u32,
    /// The largest bound of the lots not weighed exactly.
    ceiling: f64,
    /// Below this, the set's objective need not be known exactly.
    floor: f64,
    /// The prices of the set, when prices are known.
    set_price: Option<f64>,
}

impl Search<'_> {
    /// The best objective of `set` when it is above `floor`; otherwise a bound on it no higher
    /// than `floor` (with prices, the plans that cannot reach the floor are not weighed).
    /// `None` once the budget is spent. The first need of a set is its highest position: the
    /// narrowest windows sit in the high bits, so the sets reached differ in their low bits and
    /// share the memo's pages.
    fn best(&mut self, set: u32, floor: f64) -> Option<f64> {
        if set == 0 {
            return Some(0.0);
        }
        let entry = self.choice[set as usize];
        if entry != 0 {
            let value = self.best[set as usize];
            if entry & BOUNDED == 0 || value <= floor {
                return Some(value);
            }
        }
        let first = 31 - set.leading_zeros() as usize;
        let pool = set & self.meets[first] & !(1u32 << first);
        let mut weighing = Weighing {
            top: f64::NEG_INFINITY,
            lot: 0,
            ceiling: f64::NEG_INFINITY,
            floor,
            set_price: self.price(set),
        };
        let favourite = if weighing.set_price.is_some() {
            // First the lot the prices favour, so that the bound cuts from the start.
            let mut favourite = (f64::NEG_INFINITY, 0u32, 0i64, 0.0);
            self.walk(
                pool,
                1u32 << first,
                (self.values[first], self.price_of(first)),
                (self.starts[first], self.ends[first]),
                &mut Visit::Favourite(&mut favourite),
            )?;
            self.weigh(set, favourite.1, (favourite.2, favourite.3), &mut weighing)?;
            favourite.1
        } else {
            0
        };
        self.walk(
            pool,
            1u32 << first,
            (self.values[first], self.price_of(first)),
            (self.starts[first], self.ends[first]),
            &mut Visit::Weigh {
                set,
                skip: favourite,
                weighing: &mut weighing,
            },
        )?;
        if weighing.top > floor {
            self.best[set as usize] = weighing.top;
            self.choice[set as usize] = weighing.lot;
            Some(weighing.top)
        } else {
            // At most the floor (up to rounding, which must not make it look exact).
            let bound = weighing.ceiling.max(weighing.top).min(floor);
            self.best[set as usize] = bound;
            self.choice[set as usize] = BOUNDED | 1;
            Some(bound)
        }
    }

    /// The price of the need at position `k` (0 without prices).
    fn price_of(&self, k: usize) -> f64 {
        self.prices.as_ref().map_or(0.0, |p| p[k])
    }

    /// The prices of `set`, when prices are known.
    fn price(&self, set: u32) -> Option<f64> {
        let prices = self.prices.as_ref()?;
        Some(
            (0..prices.len())
                .filter(|k| set & (1u32 << k) != 0)
                .map(|k| prices[k])
                .sum(),
        )
    }

    /// Weighs the lot `lot` (of value `value` and prices `lot_price`) of `set`.
    fn weigh(
        &mut self,
        set: u32,
        lot: u32,
        (value, lot_price): (i64, f64),
        weighing: &mut Weighing,
    ) -> Option<()> {
        let score = self.scorer.score(value);
        let bar = weighing.top.max(weighing.floor);
        let floor = match weighing.set_price {
            Some(total) => {
                // The rest scores at most its prices.
                let bound = score + (total - lot_price);
                if bound <= bar {
                    weighing.ceiling = weighing.ceiling.max(bound);
                    return Some(());
                }
                bar - score
            }
            None => f64::NEG_INFINITY,
        };
        let rest = self.best(set ^ lot, floor)?;
        let candidate = score + rest;
        if rest > floor {
            if candidate > weighing.top {
                weighing.top = candidate;
                weighing.lot = lot;
            }
        } else {
            weighing.ceiling = weighing.ceiling.max(candidate);
        }
        Some(())
    }

    /// Visits every feasible lot made of `lot` and needs of `pool`, depth first.
    fn walk(
        &mut self,
        pool: u32,
        lot: u32,
        (value, lot_price): (i64, f64),
        (start, end): (u32, u32),
        visit: &mut Visit,
    ) -> Option<()> {
        self.tried += 1;
        if self.tried > self.budget {
            return None;
        }
        if lot.count_ones() == 1 || self.max_lot.is_none_or(|m| value <= m) {
            match visit {
                Visit::Favourite(best) => {
                    let reduced = self.scorer.score(value) - lot_price;
                    if reduced > best.0 {
                        **best = (reduced, lot, value, lot_price);
                    }
                }
                Visit::Weigh {
                    set,
                    skip,
                    weighing,
                } => {
                    if lot != *skip {
                        self.weigh(*set, lot, (value, lot_price), weighing)?;
                    }
                }
            }
        }
        let mut rest = pool;
        while rest != 0 {
            let k = 31 - rest.leading_zeros() as usize;
            rest &= !(1u32 << k);
            let value = value + self.values[k];
            let window = (start.max(self.starts[k]), end.min(self.ends[k]));
            // Adding needs never brings the windows back together nor the value under the cap.
            if window.0 > window.1 || self.max_lot.is_some_and(|m| value > m) {
                continue;
            }
            let price = lot_price + self.price_of(k);
            self.walk(rest, lot | (1u32 << k), (value, price), window, visit)?;
        }
        Some(())
    }
}

/// The optimal lots of `members`, their objective and the lots tried; `None` when the family
/// is too large or its enumeration would pass `budget` lots.
pub fn solve(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    budget: u64,
) -> Option<(Vec<Vec<usize>>, f64, u64)> {
    let (lots, objective, tried) = solve_priced(
        needs,
        members,
        scorer,
        max_lot,
        None,
        f64::NEG_INFINITY,
        budget,
    )?;
    Some((lots?, objective, tried))
}

/// [`solve`] with prices bounding every lot (`s(T) ≤ π(T)`, by position in `members`, slack
/// included), which spare the sets that cannot lead to a plan above `floor` (the objective of
/// a plan known). Exact: returns the optimal lots when they score above `floor`, otherwise
/// `None` for the lots and a bound no higher than `floor` (the known plan is optimal).
#[allow(clippy::type_complexity)]
pub fn solve_priced(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    prices: Option<&[f64]>,
    floor: f64,
    budget: u64,
) -> Option<(Option<Vec<Vec<usize>>>, f64, u64)> {
    if members.len() > MAX_NEEDS || members.is_empty() {
        return None;
    }
    // Position n − 1 is the first need (narrowest window).
    let mut order = ordered(needs, members);
    order.reverse();
    let mut dates: Vec<&str> = order
        .iter()
        .flat_map(|&i| [needs[i].window_start.as_str(), needs[i].window_end.as_str()])
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let rank = |d: &str| dates.binary_search(&d).unwrap_or(0) as u32;
    // At most MAX_NEEDS positions: the masks fit 32 bits.
    let meets = meeting_masks(needs, &order)
        .into_iter()
        .map(|m| m as u32)
        .collect();
    let n = order.len();
    let size = 1usize << n;
    let mut search = Search {
        values: order.iter().map(|&i| needs[i].value_cents()).collect(),
        starts: order
            .iter()
            .map(|&i| rank(&needs[i].window_start))
            .collect(),
        ends: order.iter().map(|&i| rank(&needs[i].window_end)).collect(),
        meets,
        scorer,
        max_lot,
        prices: prices.map(|prices| {
            order
                .iter()
                .map(|&i| {
                    members
                        .iter()
                        .position(|&m| m == i)
                        .map_or(0.0, |k| prices[k])
                })
                .collect()
        }),
        best: vec![0.0; size],
        choice: vec![0; size],
        tried: 0,
        budget,
    };
    let all = (size - 1) as u32;
    let objective = search.best(all, floor)?;
    if objective <= floor {
        return Some((None, objective, search.tried));
    }
    let mut lots = Vec::new();
    let mut set = all;
    while set != 0 {
        let lot = match search.choice[set as usize] {
            0 => set,
            lot => lot,
        };
        lots.push(
            (0..n)
                .filter(|k| lot & (1u32 << k) != 0)
                .map(|k| order[k])
                .collect(),
        );
        set ^= lot;
    }
    Some((Some(lots), objective, search.tried))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::SplitMix64;
    use crate::pooling::columns;
    use crate::pooling::instance::{test_need, Params};

    fn family(rng: &mut SplitMix64, case: usize, n: usize) -> Vec<Need> {
        let windows = [
            ("2027-01-01", "2027-12-31"),
            ("2027-01-01", "2027-03-31"),
            ("2027-04-01", "2027-06-30"),
            ("2027-02-01", "2027-08-31"),
        ];
        (0..n)
            .map(|k| {
                let (start, end) = windows[rng.below(windows.len())];
                test_need(
                    format!("{case}-{k}"),
                    rng.range(5_000.0, 700_000.0).round(),
                    start,
                    end,
                )
            })
            .collect()
    }

    fn score_of(needs: &[Need], lots: &[Vec<usize>], scorer: &LotScorer) -> f64 {
        crate::pooling::solve::objective(lots, needs, scorer)
    }

    /// The estimate is computed before anything is built and bounds the lots tried; the
    /// priced enumeration finds the same optimum as the plain one, above or below a floor; and
    /// the prices of the set partitioning relaxation bound every feasible lot.
    #[test]
    fn priced_enumeration_is_exact_and_prices_bound_every_lot() {
        let params = Params::default();
        let mut rng = SplitMix64::new(5);
        for case in 0..120 {
            let n = 2 + rng.below(9);
            let needs = family(&mut rng, case, n);
            let members: Vec<usize> = (0..n).collect();
            let c_cents = (rng.range(0.0, 1_500_000.0) * 100.0).round() as i64;
            let scorer = LotScorer::new(&params, "3314", c_cents);
            let cap = (case % 3 == 1).then_some(60_000_000i64);
            let (lots, best, tried) =
                solve(&needs, &members, &scorer, cap, u64::MAX).expect("small family");
            assert!((score_of(&needs, &lots, &scorer) - best).abs() < 1e-6);
            assert!(estimate(&needs, &members).expect("estimate") >= tried);
            // A poor start: every need alone.
            let relaxed = columns::relaxed_from_alone(&needs, &members, &scorer, cap, best, case);
            let prices = relaxed.prices.expect("converged on a small family");
            // Every feasible lot (windows sharing a day, within the cap) is bounded.
            for mask in 1u32..(1 << n) {
                let lot: Vec<usize> = (0..n).filter(|k| mask & (1 << k) != 0).collect();
                let value: i64 = lot.iter().map(|&i| needs[i].value_cents()).sum();
                let shares_a_day = lot
                    .iter()
                    .all(|&a| lot.iter().all(|&b| needs[a].overlaps(&needs[b])));
                let fits = lot.len() == 1 || cap.is_none_or(|m| value <= m);
                if shares_a_day && fits {
                    let price: f64 = lot.iter().map(|&k| prices[k]).sum();
                    assert!(
                        price + relaxed.slack + 1e-6 >= scorer.score(value),
                        "case {case}: lot {lot:?} scores above its prices"
                    );
                }
            }
            let priced: Vec<f64> = prices.iter().map(|p| p + relaxed.slack).collect();
            let below = solve_priced(
                &needs,
                &members,
                &scorer,
                cap,
                Some(&priced),
                best - 1.0,
                u64::MAX,
            )
            .expect("within budget");
            let found = below.0.expect("a plan above the floor");
            assert!(
                (score_of(&needs, &found, &scorer) - best).abs() < 1e-6,
                "case {case}"
            );
            let above = solve_priced(
                &needs,
                &members,
                &scorer,
                cap,
                Some(&priced),
                best + 1.0,
                u64::MAX,
            )
            .expect("within budget");
            assert!(above.0.is_none() && above.1 <= best + 1.0, "case {case}");
        }
    }
}
