//! The frontier of plans between savings and local access (#26).
//!
//! The objective of a family's plan is linear in the local weight `w`:
//! `f_P(w) = A_P + w · L_P`, where `A_P` sums the expected discounts minus the lot costs and
//! `L_P` is the value (EUR) of its lots local SMEs can take. The best plan as `w` grows is
//! therefore piecewise constant, its local value never decreasing; it changes at breakpoints
//! where two plans' lines cross. Each family's breakpoints are found by the parametric search
//! of Eisner and Severance: solve at both ends; where the plans differ, solve where their lines
//! cross; if the plan there is one of the two (or scores no better than their crossing), that
//! crossing is a breakpoint, otherwise the interval splits at it. No plan between two tried
//! weights is missed (for exact solves), and a family of `k` distinct plans costs `2k − 1`
//! solves. Families are independent: the frontier of the whole run is the union of their
//! breakpoints, each point the sum of the families' plans in force there.
//!
//! Every solve is the engine's own (`solve::solve_family`, counted work, no clock): the plan of a
//! point is the plan `pool` gives at any weight of its interval.

use super::family::LocalCapacity;
use super::instance::{Need, Params, Supplier};
use super::score::{euros, LotScorer};
use super::{solve, PoolError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The weight beyond which no plan changes: a local lot then outweighs any discount the curves
/// give (their slopes stay far below one euro per euro).
pub const MAX_WEIGHT: f64 = 1.0;
/// Most solves of one family's search; past them the remaining interval is split at its
/// middle and said in `Frontier::truncated`.
pub const MAX_SOLVES: usize = 64;

/// One plan of the frontier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPoint {
    /// The local weights for which this plan is the engine's: `[weight_from, weight_to)` (the
    /// last point's interval ends at [`MAX_WEIGHT`], beyond which nothing changes).
    pub weight_from: f64,
    pub weight_to: f64,
    /// Expected discounts minus lot costs, against each buyer alone (EUR).
    pub savings_eur: f64,
    /// The expected discounts alone (EUR).
    pub expected_discount_eur: f64,
    /// The value in lots local SMEs can take (EUR), and its share of the whole.
    pub local_value_eur: f64,
    pub local_share: f64,
    pub lots: usize,
    /// Tenders by procedure (`no_competition`, `adapted`, `formal`), the needs bought alone
    /// counted one each, as the plan's `procedures_after` counts them. A family is one tender
    /// whose procedure follows its total value, so this is the same at every point: shown so
    /// that nobody has to guess it.
    #[serde(default)]
    pub procedures: BTreeMap<String, usize>,
}

/// One family's plans along the weight: what its tender gains and opens to local SMEs at each
/// point, so a page can say what a choice cost or gained for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyFrontier {
    /// The family's CPV prefix and unit (a tender of the plan is found by both).
    pub family: String,
    pub unit: String,
    pub pieces: Vec<FamilyPiece>,
}

/// A family's plan from a weight on (until the next piece's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyPiece {
    pub weight_from: f64,
    /// Expected discounts minus lot costs, against its members buying alone (EUR).
    pub savings_eur: f64,
    pub expected_discount_eur: f64,
    /// The value of its lots local SMEs can take (EUR).
    pub local_value_eur: f64,
    /// Its lots, each the ids of its needs (sorted), the lots sorted.
    pub lots: Vec<Vec<String>>,
}

impl FamilyFrontier {
    /// The family's plan at weight `w`.
    pub fn at(&self, w: f64) -> Option<&FamilyPiece> {
        self.pieces
            .iter()
            .rev()
            .find(|p| p.weight_from <= w + 1e-12)
            .or(self.pieces.first())
    }

    /// The family's savings-only plan (weight 0).
    pub fn savings_only(&self) -> Option<&FamilyPiece> {
        self.pieces.first()
    }
}

impl FrontierPoint {
    /// A weight inside the point's interval (its middle; past the last breakpoint, the start
    /// plus a little): `pool` at that weight gives this plan.
    pub fn weight(&self) -> f64 {
        match self.weight_to > self.weight_from {
            true => (self.weight_from + self.weight_to) / 2.0,
            false => self.weight_from,
        }
    }
}

/// The frontier of a run: its plans from savings only (`w = 0`) to the most local.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frontier {
    pub points: Vec<FrontierPoint>,
    pub total_value_eur: f64,
    pub families: usize,
    /// Family plans solved in all.
    pub solves: usize,
    /// Families whose search stopped at [`MAX_SOLVES`].
    pub truncated: usize,
    /// Each family's plans along the weight (families whose plan never changes included).
    #[serde(default)]
    pub by_family: Vec<FamilyFrontier>,
}

impl Frontier {
    /// The plan with the most savings whose local share reaches `share` (0–1).
    pub fn cheapest_reaching(&self, share: f64) -> Option<&FrontierPoint> {
        self.points
            .iter()
            .filter(|p| p.local_share + 1e-12 >= share)
            .max_by(|a, b| a.savings_eur.total_cmp(&b.savings_eur))
    }

    /// The point whose interval holds weight `w` (the last one from its start on), with its
    /// index.
    pub fn point_at(&self, w: f64) -> Option<(usize, &FrontierPoint)> {
        self.points
            .iter()
            .enumerate()
            .rev()
            .find(|(_, p)| p.weight_from <= w + 1e-12)
            .or(self.points.first().map(|p| (0, p)))
    }

    /// A family's plans along the weight.
    pub fn family(&self, family: &str, unit: &str) -> Option<&FamilyFrontier> {
        self.by_family
            .iter()
            .find(|f| f.family == family && f.unit == unit)
    }
}

/// A family's plan at one weight, summed.
#[derive(Debug, Clone)]
struct Summary {
    lots: Vec<Vec<usize>>,
    /// Expected discounts minus lot costs (EUR).
    a: f64,
    discount: f64,
    /// Local value (EUR).
    l: f64,
}

impl Summary {
    fn at(&self, w: f64) -> f64 {
        self.a + w * self.l
    }
}

fn summarise(lots: Vec<Vec<usize>>, needs: &[Need], scorer: &LotScorer) -> Summary {
    let mut out = Summary {
        lots: Vec::new(),
        a: 0.0,
        discount: 0.0,
        l: 0.0,
    };
    for lot in &lots {
        let value: i64 = lot.iter().map(|&i| needs[i].value_cents()).sum();
        let discount = scorer.savings(value);
        out.discount += discount;
        out.a += discount - scorer.lot_cost;
        if scorer.is_local(value) {
            out.l += euros(value);
        }
    }
    let mut lots = lots;
    for lot in &mut lots {
        lot.sort_unstable();
    }
    lots.sort();
    out.lots = lots;
    out
}

/// One family's plans along the weight: `(weight_from, plan)`, the weights increasing.
fn family_frontier(
    needs: &[Need],
    members: &[usize],
    params: &Params,
    prefix: &str,
    c_cents: i64,
) -> (Vec<(f64, Summary)>, usize, bool) {
    let solves = std::cell::Cell::new(0usize);
    let solve_at = |w: f64| -> Summary {
        solves.set(solves.get() + 1);
        let at = Params {
            local_weight: w,
            ..params.clone()
        };
        let scorer = LotScorer::new(&at, prefix, c_cents);
        let solution = solve::solve_family(needs, members, &scorer, &at);
        summarise(solution.lots, needs, &scorer)
    };
    let low = solve_at(0.0);
    let high = solve_at(MAX_WEIGHT);
    let mut out = vec![(0.0, low.clone())];
    let mut truncated = false;
    // Intervals still to search, left to right (a stack, the leftmost on top).
    let mut stack = vec![(0.0, low, MAX_WEIGHT, high)];
    while let Some((a, pa, b, pb)) = stack.pop() {
        if pa.lots == pb.lots {
            continue;
        }
        let crossing = match pb.l - pa.l {
            d if d > 1e-9 => ((pa.a - pb.a) / d).clamp(a, b),
            _ => (a + b) / 2.0,
        };
        if solves.get() >= MAX_SOLVES || b - a < 1e-9 {
            truncated |= solves.get() >= MAX_SOLVES;
            out.push((crossing, pb));
            continue;
        }
        let pm = solve_at(crossing);
        let same = pm.lots == pa.lots || pm.lots == pb.lots;
        // No better than the crossing of the two lines: the crossing is the breakpoint.
        if same || pm.at(crossing) <= pa.at(crossing).max(pb.at(crossing)) + 1e-6 {
            out.push((crossing, pb));
            continue;
        }
        // A third plan between: search both sides (the left one first).
        stack.push((crossing, pm.clone(), b, pb));
        stack.push((a, pa, crossing, pm));
    }
    out.sort_by(|x, y| x.0.total_cmp(&y.0));
    // The same plan twice in a row (found on both sides of a split) is one piece.
    out.dedup_by(|later, earlier| later.1.lots == earlier.1.lots);
    (out, solves.get(), truncated)
}

/// The frontier of the plans `pool` would give for every local weight from 0 to
/// [`MAX_WEIGHT`].
pub fn frontier(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
) -> Result<Frontier, PoolError> {
    frontier_reporting(needs, suppliers, params, &|_| {})
}

/// [`frontier`], calling `progress` as each family's search finishes, from any thread.
pub fn frontier_reporting(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    progress: &(dyn Fn(super::Progress) + Sync),
) -> Result<Frontier, PoolError> {
    let started = std::time::Instant::now();
    let super::Prepared {
        families,
        solo,
        capacities,
    } = super::prepare(needs, suppliers, params)?;
    let empty = LocalCapacity::default();
    let capacity_of = |prefix: &str| capacities.get(prefix).unwrap_or(&empty);
    // Per family: its plans along the weight, its solves, whether its search stopped, and
    // buying alone.
    type Searched = (Vec<(f64, Summary)>, usize, bool, Summary);
    let done = std::sync::Mutex::new((0usize, 0usize));
    let needs_total: usize = families.iter().map(|f| f.needs.len()).sum();
    let searched: Vec<Searched> = families
        .par_iter()
        .map(|family| {
            let c_cents = capacity_of(&family.prefix).c_cents;
            let (pieces, solves, truncated) =
                family_frontier(needs, &family.needs, params, &family.prefix, c_cents);
            // Buying alone, the same at every weight.
            let scorer = LotScorer::new(params, &family.prefix, c_cents);
            let alone = summarise(solve::buying_alone(needs, &family.needs), needs, &scorer);
            if let Ok(mut counts) = done.lock() {
                counts.0 += 1;
                counts.1 += family.needs.len();
                progress(super::Progress {
                    families_done: counts.0,
                    families: families.len(),
                    needs_done: counts.1,
                    needs: needs_total,
                    elapsed_seconds: started.elapsed().as_secs_f64(),
                });
            }
            (pieces, solves, truncated, alone)
        })
        .collect();
    // Needs bought alone count the same in every plan (a lot each): their discount and local
    // value, as the plan's figures count them.
    let (mut solo_discount, mut solo_local) = (0.0, 0.0);
    for &i in &solo {
        let prefix: String = needs[i].cpv.chars().take(params.family_digits).collect();
        let scorer = LotScorer::new(params, &prefix, capacity_of(&prefix).c_cents);
        let value = needs[i].value_cents();
        solo_discount += scorer.savings(value);
        if scorer.is_local(value) {
            solo_local += euros(value);
        }
    }
    // Tenders by procedure: one per family (its procedure follows its total value, whatever
    // its lots), one per need bought alone.
    let mut procedures: BTreeMap<String, usize> = BTreeMap::new();
    for family in &families {
        *procedures
            .entry(super::report::procedure_code(
                needs,
                &family.needs,
                &family.prefix,
                params,
            ))
            .or_default() += 1;
    }
    for &i in &solo {
        let prefix: String = needs[i].cpv.chars().take(params.family_digits).collect();
        *procedures
            .entry(super::report::procedure_code(needs, &[i], &prefix, params))
            .or_default() += 1;
    }
    let total_value: f64 = euros(needs.iter().map(Need::value_cents).sum());
    let mut weights: Vec<f64> = searched
        .iter()
        .flat_map(|(pieces, ..)| pieces.iter().map(|(w, _)| *w))
        .collect();
    weights.sort_by(f64::total_cmp);
    weights.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    let mut points: Vec<FrontierPoint> = Vec::with_capacity(weights.len());
    for (k, &w) in weights.iter().enumerate() {
        let (mut savings, mut discount, mut local, mut lots) =
            (0.0, solo_discount, solo_local, solo.len());
        for (pieces, _, _, alone) in &searched {
            let (_, plan) = pieces
                .iter()
                .rev()
                .find(|(from, _)| *from <= w + 1e-12)
                .unwrap_or(&pieces[0]);
            savings += plan.a - alone.a;
            discount += plan.discount;
            local += plan.l;
            lots += plan.lots.len();
        }
        let point = FrontierPoint {
            weight_from: w,
            weight_to: weights.get(k + 1).copied().unwrap_or(MAX_WEIGHT),
            savings_eur: savings,
            expected_discount_eur: discount,
            local_value_eur: local,
            local_share: if total_value > 0.0 {
                local / total_value
            } else {
                0.0
            },
            lots,
            procedures: procedures.clone(),
        };
        // Two families may change at once without the whole changing: one point then.
        match points.last_mut() {
            Some(last)
                if last.lots == point.lots
                    && (last.savings_eur - point.savings_eur).abs() < 1e-6
                    && (last.local_value_eur - point.local_value_eur).abs() < 1e-6 =>
            {
                last.weight_to = point.weight_to
            }
            _ => points.push(point),
        }
    }
    let by_family = families
        .iter()
        .zip(&searched)
        .map(|(family, (pieces, _, _, alone))| FamilyFrontier {
            family: family.prefix.clone(),
            unit: family.unit.clone(),
            pieces: pieces
                .iter()
                .map(|(w, plan)| FamilyPiece {
                    weight_from: *w,
                    savings_eur: plan.a - alone.a,
                    expected_discount_eur: plan.discount,
                    local_value_eur: plan.l,
                    lots: plan
                        .lots
                        .iter()
                        .map(|lot| {
                            let mut ids: Vec<String> =
                                lot.iter().map(|&i| needs[i].need_id.clone()).collect();
                            ids.sort();
                            ids
                        })
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(Frontier {
        points,
        total_value_eur: total_value,
        families: families.len(),
        solves: searched.iter().map(|s| s.1).sum(),
        truncated: searched.iter().filter(|s| s.2).count(),
        by_family,
    })
}
