//! The exact model of one family (DESIGN §4) as a MILP over lot slots.
//!
//! A lot is a set of needs whose windows share a day; every such lot contains the latest start
//! of its needs, so lots are tied to the distinct window starts ("days"). Each day offers local
//! slots (value ≤ min(C_f, max_lot_value), with the local bonus) and large slots. When the
//! curve is superadditive, merging two large lots of a day, or two local lots that still fit,
//! never lowers the objective: one large slot a day (or ⌊2T/max⌋+1 under a cap) and
//! ⌊2T/C⌋+1 local slots contain an optimal plan. Otherwise every need may have its own slot.
//! The savings curve is exact: one binary per linear piece and slot.

use super::instance::Need;
use super::score::{euros, LotScorer};
use crate::lp::{self, LpError, LpOptions};
use good_lp::{variable, Expression, ProblemVariables, Variable};
use std::collections::BTreeMap;

pub struct MilpPlan {
    pub lots: Vec<Vec<usize>>,
    /// The solver's bound on the model's objective (its optimum when proved optimal).
    pub bound: f64,
    pub iterations: u64,
}

struct Slot {
    day: String,
    local: bool,
    cap_cents: i64,
    needs: Vec<usize>,
}

/// One family's data, as the model sees it.
#[derive(Clone, Copy)]
pub struct FamilyModel<'a> {
    pub needs: &'a [Need],
    pub members: &'a [usize],
    pub scorer: &'a LotScorer<'a>,
    pub max_lot: Option<i64>,
    pub superadditive: bool,
}

/// The number of assignment variables of the model: a measure of its size.
pub fn size(family: &FamilyModel) -> usize {
    slots(family).iter().map(|s| s.needs.len()).sum()
}

fn slots(family: &FamilyModel) -> Vec<Slot> {
    let FamilyModel {
        needs,
        members,
        scorer,
        max_lot,
        superadditive,
    } = *family;
    let mut days: Vec<&String> = members.iter().map(|&i| &needs[i].window_start).collect();
    days.sort();
    days.dedup();
    let local_cap = max_lot.map_or(scorer.c_cents, |m| m.min(scorer.c_cents));
    let mut slots = Vec::new();
    for day in days {
        let present: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| needs[i].window_start <= *day && *day <= needs[i].window_end)
            .filter(|&i| max_lot.is_none_or(|m| needs[i].value_cents() <= m))
            .collect();
        let total: i64 = present.iter().map(|&i| needs[i].value_cents()).sum();
        let big_cap = max_lot.map_or(total, |m| m.min(total));
        let big_count = match (superadditive, max_lot) {
            (true, None) => 1,
            (true, Some(m)) => ((2 * total / m.max(1)) as usize + 1).min(present.len()),
            (false, _) => present.len(),
        };
        for _ in 0..big_count {
            slots.push(Slot {
                day: day.clone(),
                local: false,
                cap_cents: big_cap,
                needs: present.clone(),
            });
        }
        if local_cap > 0 {
            let small: Vec<usize> = present
                .iter()
                .copied()
                .filter(|&i| needs[i].value_cents() <= local_cap)
                .collect();
            let small_total: i64 = small.iter().map(|&i| needs[i].value_cents()).sum();
            let count = if superadditive {
                ((2 * small_total / local_cap) as usize + 1).min(small.len())
            } else {
                small.len()
            };
            for _ in 0..count {
                slots.push(Slot {
                    day: day.clone(),
                    local: true,
                    cap_cents: local_cap.min(small_total),
                    needs: small.clone(),
                });
            }
        }
    }
    slots
}

/// Places a plan's lots in slots, for a MIP start: each lot on its latest start day, local when
/// it fits, larger lots in earlier slots (the ordering the model imposes).
fn place(plan: &[Vec<usize>], needs: &[Need], slots: &[Slot]) -> Option<Vec<Option<usize>>> {
    let mut lots: Vec<(String, bool, i64, usize)> = Vec::new();
    for (k, lot) in plan.iter().enumerate() {
        let day = lot.iter().map(|&i| needs[i].window_start.clone()).max()?;
        let value: i64 = lot.iter().map(|&i| needs[i].value_cents()).sum();
        let local = slots.iter().any(|s| {
            s.local
                && s.day == day
                && value <= s.cap_cents
                && lot.iter().all(|i| s.needs.contains(i))
        });
        lots.push((day, local, value, k));
    }
    lots.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.cmp(&a.2))
            .then(a.3.cmp(&b.3))
    });
    let mut lot_of_slot = vec![None; slots.len()];
    for (day, local, value, k) in lots {
        let slot = (0..slots.len()).find(|&s| {
            lot_of_slot[s].is_none()
                && slots[s].day == day
                && slots[s].local == local
                && value <= slots[s].cap_cents
        })?;
        lot_of_slot[slot] = Some(k);
    }
    Some(lot_of_slot)
}

pub fn solve(
    family: &FamilyModel,
    start: &[Vec<usize>],
    max_nodes: u64,
    relative_gap: f64,
) -> Result<MilpPlan, LpError> {
    let FamilyModel {
        needs,
        members,
        scorer,
        max_lot,
        ..
    } = *family;
    let slots = slots(family);
    let placement = place(start, needs, &slots);
    let segments = scorer.curve.segments();
    let mut vars = ProblemVariables::new();
    let mut all: Vec<Variable> = Vec::new();
    let mut start_values: Vec<f64> = Vec::new();
    let mut add = |vars: &mut ProblemVariables, def: good_lp::VariableDefinition, value: f64| {
        let v = vars.add(def);
        all.push(v);
        start_values.push(value);
        (v, all.len() - 1)
    };
    let mut objective = Expression::default();
    let mut constraints = Vec::new();
    let mut need_rows: BTreeMap<usize, Expression> = BTreeMap::new();
    let mut assignment: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut slot_values: Vec<Expression> = Vec::new();
    for (s, slot) in slots.iter().enumerate() {
        let started: Option<&Vec<usize>> = placement.as_ref().and_then(|p| p[s]).map(|k| &start[k]);
        let start_value: i64 =
            started.map_or(0, |lot| lot.iter().map(|&i| needs[i].value_cents()).sum());
        let (used, _) = add(
            &mut vars,
            variable().binary(),
            if started.is_some() { 1.0 } else { 0.0 },
        );
        objective -= scorer.lot_cost * used;
        let mut value = Expression::default();
        let mut choice = Expression::default();
        let ub = euros(slot.cap_cents);
        let start_euros = euros(start_value);
        let mut start_piece_taken = false;
        for piece in segments.iter().filter(|p| p.from < ub) {
            let to = piece.to.min(ub);
            let in_piece = started.is_some()
                && !start_piece_taken
                && start_euros >= piece.from
                && start_euros <= to;
            if in_piece {
                start_piece_taken = true;
            }
            let (on, _) = add(
                &mut vars,
                variable().binary(),
                if in_piece { 1.0 } else { 0.0 },
            );
            let (amount, _) = add(
                &mut vars,
                variable().min(0.0).max(to),
                if in_piece { start_euros } else { 0.0 },
            );
            constraints.push((amount - piece.from * on).geq(0.0));
            constraints.push((amount - to * on).leq(0.0));
            objective += (piece.at_from - piece.slope * piece.from) * on + piece.slope * amount;
            value += amount;
            choice += on;
        }
        constraints.push((choice - used).eq(0.0));
        if slot.local {
            objective += scorer.local_weight * value.clone();
        }
        let mut load = Expression::default();
        let mut ys = Vec::new();
        for &i in &slot.needs {
            let chosen = started.is_some_and(|lot| lot.contains(&i));
            let (y, column) = add(
                &mut vars,
                variable().binary(),
                if chosen { 1.0 } else { 0.0 },
            );
            load += euros(needs[i].value_cents()) * y;
            constraints.push((y - used).leq(0.0));
            *need_rows.entry(i).or_default() += y;
            ys.push((i, column));
        }
        constraints.push((load - value.clone()).eq(0.0));
        assignment.push(ys);
        slot_values.push(value);
    }
    // Slots of one day and kind are interchangeable: order them by value.
    for s in 1..slots.len() {
        if slots[s].day == slots[s - 1].day && slots[s].local == slots[s - 1].local {
            constraints.push((slot_values[s - 1].clone() - slot_values[s].clone()).geq(0.0));
        }
    }
    for &i in members {
        match need_rows.remove(&i) {
            Some(row) => constraints.push(row.eq(1.0)),
            // A need above the cap on lot value has no slot: it stays alone, outside the model.
            None => continue,
        }
    }
    let options = LpOptions {
        time_limit_seconds: f64::INFINITY,
        max_nodes: Some(max_nodes),
        relative_gap,
        start: placement.map(|_| start_values),
    };
    let solution = lp::maximise(vars, &all, objective, constraints, options)?;
    let mut lots: Vec<Vec<usize>> = assignment
        .iter()
        .map(|ys| {
            ys.iter()
                .filter(|(_, column)| solution.values.get(*column).is_some_and(|&v| v > 0.5))
                .map(|(i, _)| *i)
                .collect::<Vec<usize>>()
        })
        .filter(|lot| !lot.is_empty())
        .collect();
    for &i in members {
        if max_lot.is_some_and(|m| needs[i].value_cents() > m) {
            lots.push(vec![i]);
        }
    }
    Ok(MilpPlan {
        lots,
        bound: solution.bound,
        iterations: solution.iterations,
    })
}
