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
//! The lots generated also give plans: the best partition using only them (a small set
//! partitioning MILP) is often better than the heuristic's.

use super::instance::Need;
use super::score::LotScorer;
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
}

impl Knapsack<'_> {
    /// An upper bound on the profit the items from `k` on can add within `room` cents.
    fn fractional(&self, k: usize, room: i64) -> f64 {
        let mut room = room as f64;
        let mut gain = 0.0;
        for &i in &self.order[k..] {
            let p = self.profits[i];
            if p <= 0.0 || room <= 0.0 {
                break;
            }
            let w = self.values[i] as f64;
            if w <= room {
                gain += p;
                room -= w;
            } else {
                gain += p * room / w;
                break;
            }
        }
        gain
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
        // The fractional bound holds whatever items of negative profit a lot below the piece
        // would still need: nothing from here can beat it.
        if k == self.order.len()
            || here + self.fractional(k, self.piece.to - value) <= self.best + 1e-9
        {
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

/// Generates lots for the family `members` from the lots of `start`, at most `iterations`
/// rounds; `None` when an LP fails.
pub fn relax(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    start: &[Vec<usize>],
    iterations: u64,
) -> Option<Relaxation> {
    let n = members.len();
    let values: Vec<i64> = members.iter().map(|&i| needs[i].value_cents()).collect();
    let position = |need: usize| members.iter().position(|&m| m == need);
    let score_of = |lot: &[usize]| scorer.score(lot.iter().map(|&k| values[k]).sum());
    let mut lots: Vec<(Vec<usize>, f64)> = (0..n).map(|k| (vec![k], score_of(&[k]))).collect();
    for lot in start {
        let mut lot: Vec<usize> = lot.iter().filter_map(|&i| position(i)).collect();
        lot.sort_unstable();
        if lot.len() > 1 && !lots.iter().any(|(l, _)| *l == lot) {
            let score = score_of(&lot);
            lots.push((lot, score));
        }
    }
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
    let holding: Vec<Vec<usize>> = days
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
    // The dual: prices `π` of the needs, `min Σ π` under `π(T) ≥ s(T)` for the lots known.
    let mut dual = CuttingPlanes::new(vec![1.0; n]);
    for (lot, score) in &lots {
        dual.add_row(lot, *score).ok()?;
    }
    let mut work = 0u64;
    let mut bound = f64::INFINITY;
    let mut prices = None;
    let mut slack = 0.0;
    for _ in 0..iterations {
        let (pi, lp_work) = dual.solve().ok()?;
        work += lp_work;
        let base: f64 = pi.iter().sum();
        let mut best_reduced = 0.0f64;
        let mut found: Vec<(Vec<usize>, f64)> = Vec::new();
        let mut cut = false;
        let threshold = 1e-6_f64.max(1e-9 * base.abs());
        for items in &holding {
            let largest: i64 = items.iter().map(|&k| values[k]).sum();
            let largest = max_lot.map_or(largest, |m| m.min(largest));
            for piece in pieces(scorer, largest) {
                let profits: Vec<f64> = (0..n)
                    .map(|k| piece.beta * values[k] as f64 - pi[k])
                    .collect();
                let mut order = items.clone();
                order.sort_by(|&a, &b| {
                    (profits[b] / values[b] as f64)
                        .total_cmp(&(profits[a] / values[a] as f64))
                        .then(a.cmp(&b))
                });
                let mut knapsack = Knapsack {
                    values: &values,
                    profits,
                    order,
                    piece,
                    best: threshold,
                    best_set: Vec::new(),
                    nodes: 0,
                    limit: KNAPSACK_NODES,
                };
                knapsack.search(0, 0, 0.0, &mut Vec::new());
                work += knapsack.nodes;
                if knapsack.nodes > knapsack.limit {
                    // The pricing was cut: the fractional knapsack still bounds this piece,
                    // and the best lot found so far may still join.
                    cut = true;
                    let root = knapsack.piece.alpha + knapsack.fractional(0, knapsack.piece.to);
                    best_reduced = best_reduced.max(root);
                }
                best_reduced = best_reduced.max(knapsack.best);
                let mut lot = knapsack.best_set;
                if lot.is_empty() {
                    continue;
                }
                // Every piece's best lot with a positive reduced score joins the LP.
                lot.sort_unstable();
                let score = score_of(&lot);
                let reduced = score - lot.iter().map(|&k| pi[k]).sum::<f64>();
                best_reduced = best_reduced.max(reduced);
                if reduced > 1e-7 && !found.iter().any(|(l, _)| *l == lot) {
                    found.push((lot, score));
                }
            }
        }
        // No lot has a reduced score above `best_reduced` (or the threshold): a plan has at
        // most `n` lots.
        bound = bound.min(base + n as f64 * best_reduced.max(threshold));
        let new: Vec<(Vec<usize>, f64)> = found
            .into_iter()
            .filter(|(lot, _)| !lots.iter().any(|(l, _)| l == lot))
            .collect();
        if cut {
            // The pricing got too hard to finish: the bound of this round stands, and the
            // lots found still serve the plan over generated lots.
            lots.extend(new);
            break;
        }
        if new.is_empty() {
            // No lot left with a positive reduced score: the bound is the relaxation's optimum.
            if best_reduced <= threshold {
                prices = Some(pi);
                slack = threshold;
            }
            break;
        }
        for (lot, score) in &new {
            dual.add_row(lot, *score).ok()?;
        }
        lots.extend(new);
    }
    Some(Relaxation {
        bound,
        lots: lots.into_iter().map(|(l, _)| l).collect(),
        work,
        prices,
        slack,
    })
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
