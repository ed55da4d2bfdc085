//! A bound that knows needs are indivisible: the linear relaxation of the family as a set
//! partitioning over every feasible lot (the configuration LP of bin packing), computed by
//! generating lots.
//!
//! `max Σ_T s(T)·x_T` over the feasible lots `T` (windows sharing a day, value within the cap),
//! each need in exactly one lot, `x ≥ 0`. Its dual is `min Σ_i π_i` under `π(T) ≥ s(T)` for
//! every lot: any `π` meeting those constraints bounds every plan. Starting from the single
//! needs and the lots of a known plan, the dual is solved on the lots known so far, and the lot
//! with the largest reduced score `s(T) − π(T)` is sought exactly (below); it is added while
//! that score is positive. When none is, `Σ π_i` is the relaxation's optimum, a bound that
//! counts how full lots can really be (the bounds of `bound.rs` fill local lots to the brim).
//! Before that, `Σ π_i + n · max(0, best reduced score)` is still a bound, since a plan has at
//! most `n` lots.
//!
//! Pricing: a lot's score is affine in its value on each piece between the curve's kinks, the
//! local capacity and the cap; for a delivery day and a piece `[a, b]` with
//! `s(v) = α + β·v`, the best lot is a knapsack `max α + Σ (β·v_i − π_i)` with
//! `a ≤ Σ v_i ≤ b` over the needs whose windows hold that day, solved exactly by depth-first
//! branch and bound with the fractional knapsack as bound. Every limit is counted (iterations
//! and knapsack nodes), never timed.
//!
//! Under a cap, the relaxation may use fewer lots than any plan can have (needs that no
//! packing fits in so few lots of at most the cap): `packing.rs` shows it, and the number of
//! lots is then held at one more.
//!
//! The lots generated also give plans: the best partition using only them (a small set
//! partitioning MILP) is often better than the heuristic's.

use super::instance::Need;
use super::packing;
use super::score::{euros, LotScorer};
use crate::lp::{self, CuttingPlanes, LpOptions};
use good_lp::{variable, Expression, ProblemVariables, Variable};

/// What generating lots gave.
#[derive(Debug, Clone)]
pub struct Relaxation {
    /// An upper bound on every plan of the family.
    pub bound: f64,
    /// The lots generated, as positions in `members` (singletons and the start's lots first).
    pub lots: Vec<Vec<usize>>,
    /// Counted work: LP iterations plus knapsack nodes.
    pub work: u64,
    /// When converged, the prices of the needs (by position in `members`): every feasible lot
    /// `T` scores at most `π(T) + slack`.
    pub prices: Option<Vec<f64>>,
    pub slack: f64,
}

/// The most nodes of one pricing knapsack.
const KNAPSACK_NODES: u64 = 1_000_000;

/// How far prices are smoothed towards those of the best bound so far.
const SMOOTHING: f64 = 0.5;

/// The most relaxations of the search over numbers of lots of one family.
const COUNT_NODES: u64 = 40;

/// The most nodes of the packing that shows a relaxation uses too few lots.
const PACKING_NODES: u64 = 1_000_000;

/// The most nodes of one pricing knapsack while diving.
const DIVE_KNAPSACK_NODES: u64 = 20_000;

/// A piece of the lot score: values in `[from, to]` cents score `alpha + beta · v`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    from: i64,
    to: i64,
    alpha: f64,
    beta: f64,
}

fn pieces(scorer: &LotScorer, largest: i64) -> Vec<Piece> {
    let mut cuts: Vec<i64> = scorer
        .curve
        .kinks()
        .map(|k| (k * 100.0).round() as i64)
        .chain([scorer.c_cents])
        .filter(|&k| k > 0 && k < largest)
        .collect();
    cuts.push(largest);
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut from = 1i64;
    for to in cuts {
        if to < from {
            continue;
        }
        let (low, high) = (scorer.score(from), scorer.score(to));
        let beta = if to > from {
            (high - low) / (to - from) as f64
        } else {
            0.0
        };
        pieces.push(Piece {
            from,
            to,
            alpha: low - beta * from as f64,
            beta,
        });
        from = to + 1;
    }
    pieces
}

/// The best lot of the items `items` (positions) for one piece, by branch and bound.
struct Knapsack<'a> {
    values: &'a [i64],
    profits: Vec<f64>,
    /// Items by decreasing profit per cent.
    order: Vec<usize>,
    piece: Piece,
    best: f64,
    best_set: Vec<usize>,
    nodes: u64,
    limit: u64,
    /// Branches that cannot beat the best by more than this are not explored: at the
    /// relaxation's optimum many needs have a profit of zero give or take rounding, and
    /// telling those apart would take exponentially many nodes. The search proves no lot
    /// scores above `best + tolerance`.
    tolerance: f64,
}

impl Knapsack<'_> {
    /// An upper bound on the profit the items from `k` on can add to a lot of `value` cents
    /// (the linear relaxation: items by decreasing profit per cent, those of negative profit
    /// only as far as the piece's lowest value needs them, the last one in part);
    /// `f64::NEG_INFINITY` when the piece cannot be reached.
    fn fractional(&self, k: usize, value: i64) -> f64 {
        let mut room = (self.piece.to - value) as f64;
        let mut short = (self.piece.from - value).max(0) as f64;
        let mut gain = 0.0;
        for &i in &self.order[k..] {
            let p = self.profits[i];
            if room <= 0.0 || (p <= 0.0 && short <= 0.0) {
                break;
            }
            let w = self.values[i] as f64;
            let take = if p > 0.0 {
                w.min(room)
            } else {
                w.min(room).min(short)
            };
            gain += p * take / w;
            room -= take;
            short -= take;
        }
        if short > 0.0 {
            f64::NEG_INFINITY
        } else {
            gain
        }
    }

    fn search(&mut self, k: usize, value: i64, profit: f64, chosen: &mut Vec<usize>) {
        self.nodes += 1;
        if self.nodes > self.limit {
            return;
        }
        let here = self.piece.alpha + profit;
        if value >= self.piece.from && !chosen.is_empty() && here > self.best {
            self.best = here;
            self.best_set = chosen.clone();
        }
        // The linear relaxation of what is left: nothing from here can beat it.
        if k == self.order.len() || here + self.fractional(k, value) <= self.best + self.tolerance {
            return;
        }
        let i = self.order[k];
        if value + self.values[i] <= self.piece.to {
            chosen.push(i);
            self.search(
                k + 1,
                value + self.values[i],
                profit + self.profits[i],
                chosen,
            );
            chosen.pop();
        }
        self.search(k + 1, value, profit, chosen);
    }
}

/// The family as the generation sees it: values by position, which positions each delivery
/// day holds, and how lots are scored.
struct Master<'a> {
    values: Vec<i64>,
    holding: Vec<Vec<usize>>,
    scorer: &'a LotScorer<'a>,
    max_lot: Option<i64>,
    /// The most nodes of one pricing knapsack.
    knapsack_nodes: u64,
    /// A bound low enough: the generation stops once its bound reaches it.
    enough: f64,
}

/// A number of lots held (a branch of the search over counts): the lots whose value is
/// within `[from, to]` cents are at most `lots` (`at_most`) or at least `lots`.
#[derive(Debug, Clone, Copy)]
struct Held {
    lots: f64,
    from: i64,
    to: i64,
    at_most: bool,
}

impl Held {
    fn counts(&self, value: i64) -> bool {
        (self.from..=self.to).contains(&value)
    }
}

/// What one pricing found.
struct Priced {
    best_reduced: f64,
    /// Lots with a positive reduced score, with their scores.
    found: Vec<(Vec<usize>, f64)>,
    /// Whether a knapsack was cut short.
    cut: bool,
    work: u64,
}

/// The price the holds put on a lot of this value.
fn held_price(holds: &[Held], mu: &[f64], value: i64) -> f64 {
    holds
        .iter()
        .zip(mu)
        .filter(|(h, _)| h.counts(value))
        .map(|(_, m)| m)
        .sum()
}

/// One generation over the needs still active.
struct Generated {
    /// An upper bound on every plan of the active needs.
    bound: f64,
    /// The prices by position (0 for inactive needs) when no lot is left with a positive
    /// reduced score.
    prices: Option<Vec<f64>>,
    slack: f64,
    /// The primal values of the last master solved: `(index in the pool, x)`, `x > 0`.
    primal: Vec<(usize, f64)>,
    work: u64,
}

impl<'a> Master<'a> {
    fn new(
        needs: &[Need],
        members: &[usize],
        scorer: &'a LotScorer<'a>,
        max_lot: Option<i64>,
    ) -> Self {
        let n = members.len();
        let values: Vec<i64> = members.iter().map(|&i| needs[i].value_cents()).collect();
        // Needs above the cap stand alone: they are never in a generated lot.
        let poolable: Vec<bool> = values
            .iter()
            .map(|&v| max_lot.is_none_or(|m| v <= m))
            .collect();
        let mut days: Vec<&str> = members
            .iter()
            .map(|&i| needs[i].window_start.as_str())
            .collect();
        days.sort_unstable();
        days.dedup();
        let holding = days
            .iter()
            .map(|&d| {
                (0..n)
                    .filter(|&k| {
                        poolable[k]
                            && needs[members[k]].window_start.as_str() <= d
                            && d <= needs[members[k]].window_end.as_str()
                    })
                    .collect()
            })
            .collect();
        Master {
            values,
            holding,
            scorer,
            max_lot,
            knapsack_nodes: KNAPSACK_NODES,
            enough: f64::NEG_INFINITY,
        }
    }

    /// More lots than the relaxation uses (`used`, a number of lots), when a packing proves
    /// that no plan has so few: the needs above the cap alone, the others in at most
    /// `⌈used⌉` lots of at most `cap` shown not to fit (within `PACKING_NODES`). With the
    /// nodes spent.
    fn fewest_lots(&self, cap: i64, used: f64) -> (Option<usize>, u64) {
        let n = self.values.len();
        let mut days = vec![(usize::MAX, 0usize); n];
        for (d, day) in self.holding.iter().enumerate() {
            for &k in day {
                days[k] = (days[k].0.min(d), d);
            }
        }
        let items: Vec<packing::Item> = (0..n)
            .filter(|&k| days[k].0 != usize::MAX)
            .map(|k| packing::Item {
                value: self.values[k],
                first: days[k].0,
                last: days[k].1,
            })
            .collect();
        let alone = n - items.len();
        let total: i64 = items.iter().map(|i| i.value).sum();
        let by_value = (total + cap - 1) / cap;
        let by_relaxation = (used - alone as f64 - 1e-6).ceil().max(0.0) as i64;
        let bins = by_value.max(by_relaxation) as usize;
        match packing::fits(&items, cap, bins, PACKING_NODES) {
            (Some(false), nodes) => (Some(alone + bins + 1), nodes),
            (_, nodes) => (None, nodes),
        }
    }

    fn score_of(&self, lot: &[usize]) -> f64 {
        self.scorer.score(lot.iter().map(|&k| self.values[k]).sum())
    }

    /// Prices lots at the needs' prices `pi` (by position) and the holds' `mu`: the best lot
    /// of each delivery day and piece with a reduced score above `threshold`, and the largest
    /// reduced score no lot exceeds.
    fn price(
        &self,
        active: &[bool],
        pi: &[f64],
        holds: &[Held],
        mu: &[f64],
        threshold: f64,
    ) -> Priced {
        let n = self.values.len();
        let mut work = 0u64;
        let mut best_reduced = 0.0f64;
        let mut found: Vec<(Vec<usize>, f64)> = Vec::new();
        let mut cut = false;
        for day in &self.holding {
            let items: Vec<usize> = day.iter().copied().filter(|&k| active[k]).collect();
            if items.is_empty() {
                continue;
            }
            let largest: i64 = items.iter().map(|&k| self.values[k]).sum();
            let largest = self.max_lot.map_or(largest, |m| m.min(largest));
            for mut piece in pieces(self.scorer, largest) {
                // The class's bounds are pieces' bounds: a piece is in or out.
                let counted: f64 = holds
                    .iter()
                    .zip(mu)
                    .filter(|(h, _)| h.counts(piece.from) && h.counts(piece.to))
                    .map(|(_, m)| m)
                    .sum();
                piece.alpha -= counted;
                let profits: Vec<f64> = (0..n)
                    .map(|k| piece.beta * self.values[k] as f64 - pi[k])
                    .collect();
                let mut order = items.clone();
                order.sort_by(|&a, &b| {
                    (profits[b] / self.values[b] as f64)
                        .total_cmp(&(profits[a] / self.values[a] as f64))
                        .then(a.cmp(&b))
                });
                let mut knapsack = Knapsack {
                    values: &self.values,
                    profits,
                    order,
                    piece,
                    best: threshold,
                    best_set: Vec::new(),
                    nodes: 0,
                    limit: self.knapsack_nodes,
                    tolerance: threshold,
                };
                knapsack.search(0, 0, 0.0, &mut Vec::new());
                work += knapsack.nodes;
                if knapsack.nodes > knapsack.limit {
                    // The pricing was cut: the fractional knapsack still bounds this
                    // piece, and the best lot found so far may still join.
                    cut = true;
                    let root = knapsack.piece.alpha + knapsack.fractional(0, 0);
                    best_reduced = best_reduced.max(root);
                }
                best_reduced = best_reduced.max(knapsack.best + knapsack.tolerance);
                let mut lot = knapsack.best_set;
                if lot.is_empty() {
                    continue;
                }
                // Every piece's best lot with a positive reduced score joins the LP.
                lot.sort_unstable();
                let score = self.score_of(&lot);
                let reduced = score - counted - lot.iter().map(|&k| pi[k]).sum::<f64>();
                best_reduced = best_reduced.max(reduced);
                if reduced > 1e-7 && !found.iter().any(|(l, _)| *l == lot) {
                    found.push((lot, score));
                }
            }
        }
        Priced {
            best_reduced,
            found,
            cut,
            work,
        }
    }

    /// Column generation over the `active` positions, from the lots of `pool` made of active
    /// needs only (the singletons must be there), at most `rounds` rounds (0: the master over
    /// the pool alone, no bound); new lots join `pool`. `None` when an LP fails.
    fn generate(
        &self,
        active: &[bool],
        pool: &mut Vec<(Vec<usize>, f64)>,
        rounds: u64,
        holds: &[Held],
    ) -> Option<Generated> {
        let n = self.values.len();
        // LP columns: the active positions in order.
        let mut column = vec![usize::MAX; n];
        let mut count = 0usize;
        for k in (0..n).filter(|&k| active[k]) {
            column[k] = count;
            count += 1;
        }
        // Each number of lots of a range held, `Σ x_T ≤ L` (or `≥ L`) over the lots of the
        // range, is a dual variable `μ ≥ 0` (or `≤ 0`) of cost `L`, in the rows of those lots.
        let mut costs = vec![1.0; count];
        costs.extend(holds.iter().map(|h| h.lots));
        let with_count = |lot: &[usize]| -> Vec<usize> {
            let mut mapped: Vec<usize> = lot.iter().map(|&k| column[k]).collect();
            let value: i64 = lot.iter().map(|&k| self.values[k]).sum();
            for (h, held) in holds.iter().enumerate() {
                if held.counts(value) {
                    mapped.push(count + h);
                }
            }
            mapped
        };
        let mut dual = CuttingPlanes::new(costs);
        if !holds.is_empty() {
            // `μ` boxed: the primal may break a hold at a price `M` above any plan's worth, so
            // that the lots known so far need not meet it (the bound stays a bound of the
            // plans that do).
            let worth: f64 = (0..n)
                .filter(|&k| active[k])
                .map(|k| self.score_of(&[k]).abs() + euros(self.values[k]))
                .sum();
            let price = 4.0 * worth + 1e4;
            for (h, held) in holds.iter().enumerate() {
                if held.at_most {
                    dual.bound(count + h, 0.0, price);
                } else {
                    dual.bound(count + h, -price, 0.0);
                }
            }
        }
        let mut rows: Vec<usize> = Vec::new();
        for (index, (lot, score)) in pool.iter().enumerate() {
            if lot.iter().all(|&k| active[k]) {
                let mapped = with_count(lot);
                dual.add_row(&mapped, *score).ok()?;
                rows.push(index);
            }
        }
        let mut work = 0u64;
        let mut bound = f64::INFINITY;
        let mut prices = None;
        let mut slack = 0.0;
        let mut primal = Vec::new();
        // The prices of the best bound so far, and that bound.
        let mut center: Option<(Vec<f64>, f64)> = None;
        for _ in 0..rounds.max(1) {
            let (y, duals, lp_work) = dual.solve_with_duals().ok()?;
            work += lp_work;
            primal = rows
                .iter()
                .zip(&duals)
                .filter(|(_, &x)| x > 1e-9)
                .map(|(&index, &x)| (index, x))
                .collect();
            if rounds == 0 {
                // The master alone, no lot generated.
                break;
            }
            let mut pi = vec![0.0; n];
            for k in 0..n {
                if active[k] {
                    pi[k] = y[column[k]];
                }
            }
            let mu = &y[count..];
            let base: f64 = y[..count].iter().sum::<f64>()
                + holds.iter().zip(mu).map(|(h, m)| h.lots * m).sum::<f64>();
            // A lot must gain more than this to join (a cent, or a part in 10⁸ of the bound).
            let threshold = 0.01_f64.max(1e-8 * base.abs());
            let most_lots = holds
                .iter()
                .filter(|h| h.at_most && h.from == i64::MIN && h.to == i64::MAX)
                .map(|h| h.lots)
                .fold(count as f64, f64::min);
            // The bound of prices whose sum is `sum` when no lot gains more than `reduced`.
            let lagrangian =
                |sum: f64, reduced: f64| sum + most_lots * reduced.max(2.0 * threshold);
            // Smoothed prices (Wentges): between the prices of the best bound so far and the
            // LP's, which swing from round to round near the end. Every price vector gives a
            // bound (`Σ π + lots · best reduced score`); the lots found join when they gain at
            // the LP's prices. When none does, the LP's own prices are tried.
            let smoothed: Option<Vec<f64>> =
                center
                    .as_ref()
                    .filter(|_| holds.is_empty())
                    .map(|(centre, _)| {
                        (0..n)
                            .map(|k| SMOOTHING * centre[k] + (1.0 - SMOOTHING) * pi[k])
                            .collect()
                    });
            let mut priced = None;
            if let Some(sep) = &smoothed {
                let at_sep = self.price(active, sep, holds, mu, threshold);
                work += at_sep.work;
                let sep_bound = lagrangian(sep.iter().sum(), at_sep.best_reduced);
                bound = bound.min(sep_bound);
                if center.as_ref().is_none_or(|(_, b)| sep_bound < *b) {
                    center = Some((sep.clone(), sep_bound));
                }
                let gaining = at_sep
                    .found
                    .iter()
                    .any(|(lot, score)| score - lot.iter().map(|&k| pi[k]).sum::<f64>() > 1e-7);
                if gaining && !at_sep.cut {
                    priced = Some(at_sep);
                }
            }
            let priced = match priced {
                Some(p) => p,
                None => {
                    let at_lp = self.price(active, &pi, holds, mu, threshold);
                    work += at_lp.work;
                    let lp_bound = lagrangian(base, at_lp.best_reduced);
                    bound = bound.min(lp_bound);
                    if holds.is_empty() && center.as_ref().is_none_or(|(_, b)| lp_bound < *b) {
                        center = Some((pi.clone(), lp_bound));
                    }
                    at_lp
                }
            };
            let Priced {
                best_reduced,
                found,
                cut,
                ..
            } = priced;
            if bound <= self.enough {
                // The bound already proves what it is asked to: no more rounds.
                break;
            }
            let found: Vec<(Vec<usize>, f64)> = found
                .into_iter()
                .filter(|(lot, score)| {
                    let value: i64 = lot.iter().map(|&k| self.values[k]).sum();
                    score - held_price(holds, mu, value) - lot.iter().map(|&k| pi[k]).sum::<f64>()
                        > 1e-7
                })
                .collect();
            let new: Vec<(Vec<usize>, f64)> = found
                .into_iter()
                .filter(|(lot, _)| !pool.iter().any(|(l, _)| l == lot))
                .collect();
            if cut {
                // The pricing got too hard to finish: the bound of this round stands, and the
                // lots found still serve the plans over generated lots.
                pool.extend(new);
                break;
            }
            if new.is_empty() {
                // No lot left with a positive reduced score: the bound is the relaxation's
                // optimum.
                if best_reduced <= 2.0 * threshold && holds.is_empty() {
                    prices = Some(pi);
                    slack = 2.0 * threshold;
                }
                break;
            }
            for (lot, score) in new {
                let mapped = with_count(&lot);
                dual.add_row(&mapped, score).ok()?;
                rows.push(pool.len());
                pool.push((lot, score));
            }
        }
        Some(Generated {
            bound,
            prices,
            slack,
            primal,
            work,
        })
    }
}

/// The singletons and the lots of `start` (needs of `members`), as positions, with their
/// scores: where every generation starts.
fn first_lots(master: &Master, members: &[usize], start: &[Vec<usize>]) -> Vec<(Vec<usize>, f64)> {
    let n = members.len();
    let position = |need: usize| members.iter().position(|&m| m == need);
    let mut lots: Vec<(Vec<usize>, f64)> =
        (0..n).map(|k| (vec![k], master.score_of(&[k]))).collect();
    for lot in start {
        let mut lot: Vec<usize> = lot.iter().filter_map(|&i| position(i)).collect();
        lot.sort_unstable();
        if lot.len() > 1 && !lots.iter().any(|(l, _)| *l == lot) {
            let score = master.score_of(&lot);
            lots.push((lot, score));
        }
    }
    lots
}

/// Generates lots for the family `members` from the lots of `start`, at most `iterations`
/// rounds, then tightens the bound by the numbers of lots down to `enough` (or as far as its
/// counted work goes); `None` when an LP fails.
pub fn relax(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    start: &[Vec<usize>],
    iterations: u64,
    enough: f64,
) -> Option<Relaxation> {
    let mut master = Master::new(needs, members, scorer, max_lot);
    let mut lots = first_lots(&master, members, start);
    let all = vec![true; members.len()];
    master.enough = enough;
    let generated = master.generate(&all, &mut lots, iterations, &[])?;
    let mut bound = generated.bound;
    let mut work = generated.work;
    // A plan has a whole number of lots, and a whole number of lots whose value is in any
    // range: when the relaxation uses a fractional number `c` of lots of a range (every lot,
    // or the lots of one piece of the score: between the curve's kinks, the local capacity
    // and the cap), every plan has at most `⌊c⌋` or at least `⌈c⌉` of them. A search over such
    // counts (best bound first, at most `COUNT_NODES` relaxations, each a bound of the plans
    // its holds allow) tightens the bound; it stops once the best bound left is `enough`, or
    // when it cannot split it further.
    if generated.prices.is_some() && generated.bound > enough {
        let values = &master.values;
        let total: i64 = values.iter().sum();
        let largest = max_lot.map_or(total, |m| m.min(total));
        let mut ranges = vec![(i64::MIN, i64::MAX)];
        let cut_pieces = pieces(scorer, largest);
        if cut_pieces.len() > 1 {
            let last = cut_pieces.len() - 1;
            ranges.extend(
                cut_pieces
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.from, if i == last { i64::MAX } else { p.to })),
            );
        }
        struct CountNode {
            bound: f64,
            holds: Vec<Held>,
            primal: Vec<(usize, f64)>,
        }
        let mut root = CountNode {
            bound: generated.bound,
            holds: Vec::new(),
            primal: generated.primal.clone(),
        };
        // Under a cap, a plan may need more lots than the relaxation uses: when packing
        // proves that, every plan has at least one more, and the search starts from that hold.
        if let Some(cap) = max_lot {
            let used: f64 = root.primal.iter().map(|(_, x)| x).sum();
            let (fewest, packing_work) = master.fewest_lots(cap, used);
            work += packing_work;
            if let Some(fewest) = fewest {
                let holds = vec![Held {
                    lots: fewest as f64,
                    from: i64::MIN,
                    to: i64::MAX,
                    at_most: false,
                }];
                if let Some(held) = master.generate(&all, &mut lots, iterations, &holds) {
                    work += held.work;
                    root = CountNode {
                        bound: held.bound.min(root.bound),
                        holds,
                        primal: held.primal,
                    };
                }
            }
        }
        let mut open = vec![root];
        let mut relaxations = 0u64;
        // The node of the highest bound (the first made among equals).
        let highest = |open: &[CountNode]| {
            (0..open.len()).reduce(|a, b| if open[b].bound > open[a].bound { b } else { a })
        };
        while let Some(i) = highest(&open) {
            if open[i].bound <= enough || relaxations >= COUNT_NODES {
                break;
            }
            let split = ranges.iter().find_map(|&(from, to)| {
                let used: f64 = open[i]
                    .primal
                    .iter()
                    .filter(|(index, _)| {
                        (from..=to).contains(&lots[*index].0.iter().map(|&k| values[k]).sum())
                    })
                    .map(|(_, x)| x)
                    .sum();
                ((used - used.round()).abs() > 1e-6).then_some((from, to, used))
            });
            let Some((from, to, used)) = split else {
                // Whole everywhere: this bound cannot be split further.
                break;
            };
            let node = open.remove(i);
            for (at_most, lots_held) in [(true, used.floor()), (false, used.ceil())] {
                let mut holds = node.holds.clone();
                holds.push(Held {
                    lots: lots_held,
                    from,
                    to,
                    at_most,
                });
                relaxations += 1;
                match master.generate(&all, &mut lots, iterations, &holds) {
                    Some(child) => {
                        work += child.work;
                        open.push(CountNode {
                            bound: child.bound.min(node.bound),
                            holds,
                            primal: child.primal,
                        });
                    }
                    // An LP that fails leaves its parent's bound, never split again.
                    None => open.push(CountNode {
                        bound: node.bound,
                        holds,
                        primal: Vec::new(),
                    }),
                }
            }
        }
        if let Some(i) = highest(&open) {
            bound = bound.min(open[i].bound);
        }
    }
    Some(Relaxation {
        bound,
        lots: lots.into_iter().map(|(l, _)| l).collect(),
        work,
        prices: generated.prices,
        slack: generated.slack,
    })
}

/// A plan by diving on the relaxation (price and dive): generate lots over the needs still
/// free, fix the lots the relaxation takes whole (or else the one it takes most of), and go
/// on with the needs left, until every need is in a lot. Starts from `lots` (positions in
/// `members`, e.g. [`Relaxation::lots`]); stops generating once `budget` work is spent and
/// then fixes by the last relaxation alone. As needs, with the work counted; `None` when an
/// LP fails or the back end does not give the relaxation's primal values.
pub fn dive(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    lots: &[Vec<usize>],
    rounds: u64,
    budget: u64,
) -> Option<(Vec<Vec<usize>>, u64)> {
    let n = members.len();
    let mut master = Master::new(needs, members, scorer, max_lot);
    // The dive needs good lots, not proofs: a smaller pricing.
    master.knapsack_nodes = DIVE_KNAPSACK_NODES;
    let mut pool = first_lots(&master, members, &[]);
    for lot in lots {
        if lot.len() > 1 && !pool.iter().any(|(l, _)| l == lot) {
            pool.push((lot.clone(), master.score_of(lot)));
        }
    }
    let mut active = vec![true; n];
    let mut plan: Vec<Vec<usize>> = Vec::new();
    let mut work = 0u64;
    while active.iter().any(|&a| a) {
        let rounds = if work < budget { rounds } else { 0 };
        let generated = master.generate(&active, &mut pool, rounds, &[])?;
        work += generated.work;
        let mut primal = generated.primal;
        if primal.is_empty() {
            return None;
        }
        // The lots taken whole first, else the one taken most; ties by score, then by the
        // lot itself, so that the plan depends on the input alone.
        primal.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(pool[b.0].1.total_cmp(&pool[a.0].1))
                .then(pool[a.0].0.cmp(&pool[b.0].0))
        });
        let whole: Vec<usize> = primal
            .iter()
            .take_while(|(_, x)| *x >= 1.0 - 1e-6)
            .map(|(index, _)| *index)
            .collect();
        let chosen = if whole.is_empty() {
            vec![primal[0].0]
        } else {
            whole
        };
        for index in chosen {
            let lot = &pool[index].0;
            if lot.iter().all(|&k| active[k]) {
                for &k in lot {
                    active[k] = false;
                }
                plan.push(lot.iter().map(|&k| members[k]).collect());
            }
        }
    }
    Some((plan, work))
}

/// The best plan made only of `lots` (positions in `members`), by a set partitioning MILP of
/// at most `max_nodes` nodes; as needs, with the simplex iterations it took.
pub fn best_plan(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    lots: &[Vec<usize>],
    max_nodes: u64,
) -> Option<(Vec<Vec<usize>>, u64)> {
    let n = members.len();
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = lots.iter().map(|_| vars.add(variable().binary())).collect();
    let objective: Expression = lots
        .iter()
        .zip(&x)
        .map(|(lot, &v)| {
            scorer.score(lot.iter().map(|&k| needs[members[k]].value_cents()).sum()) * v
        })
        .sum();
    let mut rows: Vec<Expression> = vec![Expression::default(); n];
    for (lot, &v) in lots.iter().zip(&x) {
        for &k in lot {
            rows[k] += v;
        }
    }
    let constraints = rows.into_iter().map(|row| row.eq(1.0)).collect();
    let options = LpOptions {
        time_limit_seconds: f64::INFINITY,
        max_nodes: Some(max_nodes),
        relative_gap: 1e-9,
        start: None,
    };
    let solution = lp::maximise(vars, &x, objective, constraints, options).ok()?;
    let plan = lots
        .iter()
        .zip(&solution.values)
        .filter(|(_, &v)| v > 0.5)
        .map(|(lot, _)| lot.iter().map(|&k| members[k]).collect())
        .collect();
    Some((plan, solution.iterations))
}

/// For the tests: the relaxation of a small family started from every need alone and its
/// count search run to the end, checked never to bound below the optimum `best`.
#[cfg(test)]
pub(crate) fn relaxed_from_alone(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    cap: Option<i64>,
    best: f64,
    case: usize,
) -> Relaxation {
    let alone: Vec<Vec<usize>> = members.iter().map(|&i| vec![i]).collect();
    let relaxed = relax(needs, members, scorer, cap, &alone, 500, f64::NEG_INFINITY)
        .expect("the relaxation solves");
    assert!(
        relaxed.bound + 1e-6 >= best,
        "case {case}: bound {} below the optimum {best}",
        relaxed.bound
    );
    relaxed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::SplitMix64;
    use crate::pooling::enumerate;
    use crate::pooling::instance::{test_need, Params};
    use crate::pooling::SavingsCurve;

    /// What a lead may set in the portal: a cap that makes the family a packing problem, a
    /// heavy lot cost, another curve.
    fn lead_params() -> Params {
        Params {
            lot_cost: 5_000.0,
            local_weight: 0.05,
            max_lot_value: Some(400_000.0),
            curve: SavingsCurve::new(vec![
                (0.0, 0.0),
                (25_000.0, 0.01),
                (150_000.0, 0.04),
                (2_000_000.0, 0.08),
            ])
            .expect("a valid curve"),
            ..Params::default()
        }
    }

    /// `095 / litre` of the many-small 20k instance under the lead's parameters: 24 needs
    /// under the cap worth 5.995 caps, which the relaxation spread over 6 lots, and four
    /// above it. No 6 lots hold them (a packing search shows it in a few thousand nodes), so
    /// every plan has at least 7 + 4 lots: held there, the relaxation bounds the best plan
    /// known (the MILP's, 547,323.06) within 10⁻⁵; it was 552,549.54, 0.95 % above.
    #[test]
    fn packing_holds_the_number_of_lots() {
        let (q2, q3, q4, year) = (
            ("2027-04-01", "2027-06-30"),
            ("2027-07-01", "2027-09-30"),
            ("2027-10-01", "2027-12-31"),
            ("2027-01-01", "2027-12-31"),
        );
        let cents = [
            (6426660, q3),
            (90594801, year),
            (4358600, q2),
            (1375848, year),
            (1926274, year),
            (13050355, q2),
            (466900, year),
            (2324904, q4),
            (2726537, year),
            (27193938, year),
            (3598735, year),
            (43945860, year),
            (27352080, year),
            (43351958, year),
            (390894, year),
            (36461292, year),
            (83209440, year),
            (19438848, year),
            (35678120, q4),
            (9761675, q2),
            (308460, q4),
            (11464787, year),
            (20523510, year),
            (5677072, year),
            (2796948, q2),
            (701470, q4),
            (2914304, q4),
            (2878562, year),
        ];
        let needs: Vec<Need> = cents
            .iter()
            .enumerate()
            .map(|(k, &(c, (start, end)))| test_need(k.to_string(), c as f64 / 100.0, start, end))
            .collect();
        let members: Vec<usize> = (0..needs.len()).collect();
        let params = lead_params();
        let scorer = LotScorer::new(&params, "095", 172_900_000);
        let cap = Some(40_000_000);
        let known = 547_323.06;
        let alone: Vec<Vec<usize>> = members.iter().map(|&i| vec![i]).collect();
        let relaxed = relax(
            &needs,
            &members,
            &scorer,
            cap,
            &alone,
            300,
            f64::NEG_INFINITY,
        )
        .expect("the relaxation solves");
        if cfg!(feature = "highs") {
            assert!(
                relaxed.bound >= known - 0.01 && relaxed.bound <= known * (1.0 + 1e-5),
                "bound {}",
                relaxed.bound
            );
        }
    }

    /// Against the exact enumeration on families of up to 12 needs under the default and the
    /// lead's parameters: the bound (searched over whole numbers of lots, of all lots and of
    /// each piece's) is never below the optimum, and the dive's plan is a partition of lots
    /// sharing a day, within the cap, never above the optimum. The counts tighten the bound on
    /// some cases (the test counts that they do).
    #[test]
    fn bounds_hold_and_dives_give_plans() {
        let windows = [
            ("2027-01-01", "2027-12-31"),
            ("2027-01-01", "2027-03-31"),
            ("2027-04-01", "2027-06-30"),
            ("2027-10-01", "2027-12-31"),
        ];
        let mut rng = SplitMix64::new(21);
        let mut dives_at_optimum = 0;
        let mut tight = 0;
        for case in 0..200 {
            let params = if case % 2 == 0 {
                lead_params()
            } else {
                Params::default()
            };
            let cap = params.max_lot_value.map(|m| (m * 100.0).round() as i64);
            let n = 3 + rng.below(10);
            let needs: Vec<Need> = (0..n)
                .map(|k| {
                    let (start, end) = windows[rng.below(windows.len())];
                    test_need(
                        format!("{case}-{k}"),
                        rng.range(20_000.0, 450_000.0).round(),
                        start,
                        end,
                    )
                })
                .collect();
            let members: Vec<usize> = (0..n).collect();
            let c_cents = (rng.range(0.0, 1_200_000.0) * 100.0).round() as i64;
            let scorer = LotScorer::new(&params, "3314", c_cents);
            let (_, best, _) =
                enumerate::solve(&needs, &members, &scorer, cap, u64::MAX).expect("small");
            let relaxed = relaxed_from_alone(&needs, &members, &scorer, cap, best, case);
            if relaxed.bound <= best + 1e-6 * best.abs().max(1.0) {
                tight += 1;
            }
            // The fallback back end gives no primal values: no dive, no search over counts.
            let Some((plan, _)) =
                dive(&needs, &members, &scorer, cap, &relaxed.lots, 500, u64::MAX)
            else {
                if cfg!(feature = "highs") {
                    panic!("case {case}: the dive failed");
                }
                continue;
            };
            let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
            seen.sort_unstable();
            assert_eq!(seen, members, "case {case}: not a partition");
            for lot in &plan {
                let value: i64 = lot.iter().map(|&i| needs[i].value_cents()).sum();
                assert!(lot.len() == 1 || cap.is_none_or(|m| value <= m));
                assert!(lot
                    .iter()
                    .all(|&a| lot.iter().all(|&b| needs[a].overlaps(&needs[b]))));
            }
            let value = crate::pooling::solve::objective(&plan, &needs, &scorer);
            assert!(value <= best + 1e-6, "case {case}: dive above the optimum");
            if value >= best - 1e-6 {
                dives_at_optimum += 1;
            }
        }
        // Measured: 91 of 200 bounds exact (88 splitting each range's count once, 85 the
        // number of all lots only, 76 with no count) and 187 dives optimal; fewer would mean
        // the search over counts or the dive stopped working.
        if cfg!(feature = "highs") {
            assert!(tight >= 89, "only {tight} bounds at the optimum");
            assert!(
                dives_at_optimum >= 170,
                "only {dives_at_optimum} dives optimal"
            );
        }
    }
}
