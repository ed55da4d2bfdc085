//! An independent checker of plans, in the spirit of vrp's: from the instance, the parameters
//! and a plan, it re-derives with its own code the territory, `C_f`, the curve, the objective,
//! the baseline of buying alone (the savings every screen shows), and each tender's procedure,
//! publication, minimum period, standstill and small lots from the threshold table, and lists
//! every rule the plan breaks. Every test plan goes through it.

use super::instance::{Need, Params, Supplier};
use super::plan::Plan;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn curve_at(breakpoints: &[(f64, f64)], v: f64) -> f64 {
    let points: Vec<(f64, f64)> = breakpoints.iter().map(|&(x, r)| (x, r * x)).collect();
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        if v <= x1 {
            return y0 + (y1 - y0) * (v - x0) / (x1 - x0);
        }
    }
    let (x_last, y_last) = points.last().copied().unwrap_or((0.0, 0.0));
    let r_last = breakpoints.last().map_or(0.0, |b| b.1);
    y_last + r_last * (v - x_last)
}

fn department(postcode: &str) -> String {
    let p = postcode.trim();
    if p.starts_with("20") {
        return if p[2..3].parse::<u8>().unwrap_or(9) < 2 {
            "2A".into()
        } else {
            "2B".into()
        };
    }
    if p.starts_with("97") || p.starts_with("98") {
        return p.chars().take(3).collect();
    }
    p.chars().take(2).collect()
}

/// Capacities (cents) of the territorial suppliers serving a prefix, largest first.
fn local_capacities(
    prefix: &str,
    suppliers: &[Supplier],
    params: &Params,
) -> Vec<(i64, BTreeSet<String>, bool)> {
    let mut caps: Vec<(i64, BTreeSet<String>, bool)> = suppliers
        .iter()
        .filter(|s| {
            params
                .territory
                .iter()
                .any(|t| t.trim() == department(&s.postcode))
        })
        .filter(|s| {
            s.cpv_prefixes.iter().any(|interest| {
                let p = if interest.len() == 8 {
                    let t = interest.trim_end_matches('0');
                    if t.len() < 2 {
                        &interest[..2]
                    } else {
                        t
                    }
                } else {
                    interest.as_str()
                };
                prefix.starts_with(p) || p.starts_with(prefix)
            })
        })
        .filter(|s| params.count_sourcing || s.members.is_empty())
        .map(|s| {
            let companies: BTreeSet<String> = match s.members.is_empty() {
                true => BTreeSet::from([s.supplier_id.clone()]),
                false => s.members.iter().cloned().collect(),
            };
            (
                (s.annual_capacity_eur * 100.0).round() as i64,
                companies,
                !s.members.is_empty(),
            )
        })
        .collect();
    caps.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
    caps
}

/// `C_f` from the rows: the largest capacity `v` such that `k` rows of capacity ≥ `v` share no
/// company. Registered rows are one company each; every disjoint choice of sourcing rows (at
/// most 16 are tried exhaustively) is completed by the registered rows it leaves free.
fn c_f_of(rows: &[(i64, BTreeSet<String>, bool)], k: usize) -> i64 {
    let sourcing: Vec<&(i64, BTreeSet<String>, bool)> = rows.iter().filter(|r| r.2).collect();
    let registered: Vec<&(i64, BTreeSet<String>, bool)> = rows.iter().filter(|r| !r.2).collect();
    let bidders_at = |v: i64| -> usize {
        let n = sourcing.len().min(16);
        let mut best = 0;
        for mask in 0u32..(1 << n) {
            let chosen: Vec<_> = (0..n)
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| sourcing[b])
                .collect();
            if chosen.iter().any(|r| r.0 < v) {
                continue;
            }
            let mut used = BTreeSet::new();
            if !chosen
                .iter()
                .all(|r| r.1.iter().all(|c| used.insert(c.clone())))
            {
                continue;
            }
            let free = registered
                .iter()
                .filter(|r| r.0 >= v && r.1.iter().all(|c| !used.contains(c)))
                .count();
            best = best.max(chosen.len() + free);
        }
        best
    };
    rows.iter()
        .map(|r| r.0)
        .find(|&v| bidders_at(v) >= k)
        .unwrap_or(0)
}

/// Buying alone (DESIGN §4): the fewest lots whose windows share a day, by the earliest end
/// still open; returns the groups as lists of needs.
fn fewest_day_groups<'a>(list: &[&'a Need]) -> Vec<Vec<&'a Need>> {
    let mut open: Vec<&Need> = list.to_vec();
    open.sort_by(|a, b| {
        (
            a.window_end.as_str(),
            a.window_start.as_str(),
            a.need_id.as_str(),
        )
            .cmp(&(
                b.window_end.as_str(),
                b.window_start.as_str(),
                b.need_id.as_str(),
            ))
    });
    let mut groups = Vec::new();
    while let Some(first) = open.first() {
        let day = first.window_end.clone();
        let (group, rest): (Vec<&Need>, Vec<&Need>) =
            open.into_iter().partition(|n| n.window_start <= day);
        groups.push(group);
        open = rest;
    }
    groups
}

/// What a tender's total calls for (procedure, publication, minimum days, standstill days),
/// with the small-lot limit and share of its nature.
struct Expected {
    procedure: &'static str,
    publication: &'static str,
    min_days: Option<u32>,
    standstill: Option<u32>,
    small: f64,
    share: f64,
}

/// What the threshold table calls for, re-derived from DESIGN §3 for a tender of `total` EUR.
fn expected_procedure(
    params: &Params,
    day: &str,
    total: f64,
    works: bool,
    central: bool,
) -> Option<Expected> {
    let table = &params.thresholds.0;
    let t = table
        .iter()
        .filter(|t| t.effective_from.as_str() <= day)
        .max_by(|a, b| a.effective_from.cmp(&b.effective_from))
        .or_else(|| {
            table
                .iter()
                .min_by(|a, b| a.effective_from.cmp(&b.effective_from))
        })?;
    let formal = if works {
        t.formal_works
    } else if central {
        t.formal_central
    } else {
        t.formal_sub_central
    };
    let free = if works {
        t.no_competition_works
    } else {
        t.no_competition_supplies
    };
    let small = if works {
        t.small_lot_works
    } else {
        t.small_lot_supplies
    };
    Some(if total >= formal {
        Expected {
            procedure: "formal",
            publication: "boamp_and_joue",
            min_days: Some(t.formal_min_days),
            standstill: Some(t.standstill_days),
            small,
            share: t.small_lots_max_share,
        }
    } else if total >= free {
        let publication = if total >= t.boamp {
            "boamp_or_legal_journal"
        } else {
            "free"
        };
        Expected {
            procedure: "adapted",
            publication,
            min_days: None,
            standstill: None,
            small,
            share: 0.0,
        }
    } else {
        Expected {
            procedure: "no_competition",
            publication: "none",
            min_days: None,
            standstill: None,
            small,
            share: 0.0,
        }
    })
}

/// `Ok` when the plan follows DESIGN §4; otherwise every violation found.
pub fn check_plan(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    plan: &Plan,
) -> Result<(), Vec<String>> {
    let mut errors: Vec<String> = Vec::new();
    let by_id: HashMap<&str, &Need> = needs.iter().map(|n| (n.need_id.as_str(), n)).collect();
    let cents = |n: &Need| (n.quantity * n.unit_price_eur * 100.0).round() as i64;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    type Rows = Vec<(i64, BTreeSet<String>, bool)>;
    let mut capacity_cache: HashMap<String, Rows> = HashMap::new();
    let mut capacities = |prefix: &str| -> Rows {
        capacity_cache
            .entry(prefix.to_string())
            .or_insert_with(|| local_capacities(prefix, suppliers, params))
            .clone()
    };
    let c_f = |caps: &Rows| c_f_of(caps, params.local_min_bidders);
    let lot_score = |value: i64, c: i64, cpv: &str| -> f64 {
        let curve = params.curve_for(cpv).breakpoints().to_vec();
        let v = value as f64 / 100.0;
        curve_at(&curve, v)
            + if value <= c {
                params.local_weight * v
            } else {
                0.0
            }
            - params.lot_cost
    };
    let mut objective = 0.0;
    let mut family_keys = BTreeSet::new();
    for tender in &plan.tenders {
        let unit_key = tender.unit.trim().to_lowercase();
        if !family_keys.insert((tender.family.clone(), unit_key.clone())) {
            errors.push(format!(
                "family {} / {} gives more than one tender",
                tender.family, tender.unit
            ));
        }
        let caps = capacities(&tender.family);
        let c = c_f(&caps);
        let mut buyers_value: BTreeMap<&str, i64> = BTreeMap::new();
        for (k, lot) in tender.lots.iter().enumerate() {
            if lot.lot as usize != k + 1 {
                errors.push(format!(
                    "tender {}: lot numbered {} at position {}",
                    tender.family,
                    lot.lot,
                    k + 1
                ));
            }
            let mut members = Vec::new();
            for id in &lot.need_ids {
                *seen.entry(id.as_str()).or_default() += 1;
                match by_id.get(id.as_str()) {
                    Some(need) => members.push(*need),
                    None => errors.push(format!(
                        "lot {} of {}: unknown need {id}",
                        lot.lot, tender.family
                    )),
                }
            }
            for need in &members {
                if !need.poolable {
                    errors.push(format!(
                        "need {} is not poolable but is in a joint tender",
                        need.need_id
                    ));
                }
                if !need.cpv.starts_with(&tender.family)
                    || tender.family.len() != params.family_digits
                {
                    errors.push(format!(
                        "need {} (CPV {}) is not of family {}",
                        need.need_id, need.cpv, tender.family
                    ));
                }
                if need.unit.trim().to_lowercase() != unit_key {
                    errors.push(format!(
                        "need {} has unit {} in a tender of unit {}",
                        need.need_id, need.unit, tender.unit
                    ));
                }
                *buyers_value.entry(need.buyer.as_str()).or_default() += cents(need);
            }
            for a in &members {
                for b in &members {
                    if a.window_start > b.window_end {
                        errors.push(format!(
                            "needs {} and {} share lot {} but their windows do not overlap",
                            a.need_id, b.need_id, lot.lot
                        ));
                    }
                }
            }
            let value: i64 = members.iter().map(|n| cents(n)).sum();
            if (lot.value_eur * 100.0 - value as f64).abs() > 0.5 {
                errors.push(format!(
                    "lot {} of {}: value {} instead of {}",
                    lot.lot,
                    tender.family,
                    lot.value_eur,
                    value as f64 / 100.0
                ));
            }
            if lot.local_accessible != (value <= c) {
                errors.push(format!(
                    "lot {} of {}: local_accessible is {} with value {} and C_f {}",
                    lot.lot,
                    tender.family,
                    lot.local_accessible,
                    value as f64 / 100.0,
                    c as f64 / 100.0
                ));
            }
            let eligible = caps.iter().filter(|r| r.0 >= value).count();
            if lot.eligible_local_suppliers != eligible {
                errors.push(format!(
                    "lot {} of {}: {} eligible local suppliers instead of {eligible}",
                    lot.lot, tender.family, lot.eligible_local_suppliers
                ));
            }
            let curve = params.curve_for(&tender.family).breakpoints().to_vec();
            if (lot.savings_eur - curve_at(&curve, value as f64 / 100.0)).abs() > 0.01 {
                errors.push(format!(
                    "lot {} of {}: savings {} instead of the curve's value",
                    lot.lot, tender.family, lot.savings_eur
                ));
            }
            if let Some(max) = params.max_lot_value {
                if members.len() > 1 && value as f64 / 100.0 > max + 1e-6 {
                    errors.push(format!(
                        "lot {} of {}: value above max_lot_value",
                        lot.lot, tender.family
                    ));
                }
            }
            let buyers: BTreeSet<&str> = members.iter().map(|n| n.buyer.as_str()).collect();
            if lot
                .buyers
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>()
                != buyers
            {
                errors.push(format!(
                    "lot {} of {}: buyers listed wrongly",
                    lot.lot, tender.family
                ));
            }
            objective += lot_score(value, c, &tender.family);
        }
        let top = buyers_value.values().copied().max().unwrap_or(0);
        let coordinator_value = buyers_value
            .get(tender.coordinator.as_str())
            .copied()
            .unwrap_or(-1);
        if coordinator_value != top {
            errors.push(format!(
                "tender {}: coordinator {} does not have the largest value",
                tender.family, tender.coordinator
            ));
        }
        let tender_needs: Vec<&Need> = tender
            .lots
            .iter()
            .flat_map(|l| l.need_ids.iter())
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        let central = tender_needs
            .iter()
            .any(|n| match params.buyers.get(&n.buyer) {
                Some(class) => *class == crate::procedure::BuyerClass::Central,
                None => n.buyer == "UB",
            });
        let day = params
            .reference_date
            .clone()
            .or_else(|| tender_needs.iter().map(|n| n.window_start.clone()).min());
        let lot_values: Vec<f64> = tender
            .lots
            .iter()
            .map(|l| {
                l.need_ids
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()))
                    .map(|n| cents(n))
                    .sum::<i64>() as f64
                    / 100.0
            })
            .collect();
        let total: f64 = lot_values.iter().sum();
        if (tender.total_value_eur - total).abs() > 0.005 * tender.lots.len().max(1) as f64 {
            errors.push(format!(
                "tender {}: total value {} instead of {total}",
                tender.family, tender.total_value_eur
            ));
        }
        let expected = day.as_deref().and_then(|day| {
            expected_procedure(params, day, total, tender.family.starts_with("45"), central)
        });
        if let Some(Expected {
            procedure,
            publication,
            min_days,
            standstill,
            small,
            share,
        }) = expected
        {
            if tender.procedure != procedure
                || tender.publication != publication
                || tender.min_days != min_days
                || tender.standstill_days != standstill
            {
                errors.push(format!(
                    "tender {} ({total} EUR): {} / {} / {:?} / {:?} instead of {procedure} / {publication} / {min_days:?} / {standstill:?}",
                    tender.family, tender.procedure, tender.publication, tender.min_days, tender.standstill_days
                ));
            }
            let expected_class = if central { "central" } else { "sub_central" };
            if tender.buyer_class != expected_class {
                errors.push(format!(
                    "tender {}: buyer class {} instead of {expected_class}",
                    tender.family, tender.buyer_class
                ));
            }
            // Small lots (R2123-1 2°): only in a formal tender, each under the limit, together
            // within the share, and as many as the share allows (smallest first is the most).
            let flagged: Vec<usize> = (0..tender.lots.len())
                .filter(|&k| tender.lots[k].small_lot)
                .collect();
            let flagged_value: f64 = flagged.iter().map(|&k| lot_values[k]).sum();
            if flagged.iter().any(|&k| lot_values[k] >= small)
                || flagged_value > share * total + 1e-6
            {
                errors.push(format!(
                    "tender {}: small lots flagged beyond the rule (each under {small} EUR, together at most {share} of {total})",
                    tender.family
                ));
            }
            let mut under: Vec<f64> = lot_values.iter().copied().filter(|&v| v < small).collect();
            under.sort_by(f64::total_cmp);
            let mut room = share * total + 1e-6;
            let most = under
                .iter()
                .take_while(|&&v| {
                    room -= v;
                    room >= 0.0
                })
                .count();
            if flagged.len() != most {
                errors.push(format!(
                    "tender {}: {} small lot(s) flagged, the rule allows {most}",
                    tender.family,
                    flagged.len()
                ));
            }
        }
    }
    for id in &plan.solo {
        *seen.entry(id.as_str()).or_default() += 1;
        match by_id.get(id.as_str()) {
            Some(need) if need.poolable => {
                errors.push(format!("need {id} is poolable but left alone"))
            }
            Some(need) => {
                let prefix: String = need.cpv.chars().take(params.family_digits).collect();
                let c = c_f(&capacities(&prefix));
                objective += lot_score(cents(need), c, &prefix);
            }
            None => errors.push(format!("solo: unknown need {id}")),
        }
    }
    for need in needs {
        match seen.get(need.need_id.as_str()) {
            Some(1) => {}
            Some(n) => errors.push(format!("need {} appears {n} times", need.need_id)),
            None => errors.push(format!("need {} is missing from the plan", need.need_id)),
        }
    }
    // The baseline: each buyer's poolable needs of a family, as few lots as windows allow;
    // needs that cannot be pooled alone.
    let mut alone_by: BTreeMap<(String, String, &str), Vec<&Need>> = BTreeMap::new();
    let mut baseline = 0.0;
    for need in needs {
        let prefix: String = need.cpv.chars().take(params.family_digits).collect();
        if need.poolable {
            alone_by
                .entry((prefix, need.unit.trim().to_lowercase(), need.buyer.as_str()))
                .or_default()
                .push(need);
        } else {
            let c = c_f(&capacities(&prefix));
            baseline += lot_score(cents(need), c, &prefix);
        }
    }
    let mut lots_before = plan.solo.len();
    for ((prefix, _, _), list) in &alone_by {
        let c = c_f(&capacities(prefix));
        for group in fewest_day_groups(list) {
            lots_before += 1;
            baseline += lot_score(group.iter().map(|n| cents(n)).sum(), c, prefix);
        }
    }
    let tolerance = 1e-6 * objective.abs().max(baseline.abs()).max(1.0);
    if (plan.kpis.baseline_objective - baseline).abs() > tolerance {
        errors.push(format!(
            "kpis.baseline_objective is {}, buying alone gives {baseline}",
            plan.kpis.baseline_objective
        ));
    }
    if plan.kpis.lots_before != lots_before {
        errors.push(format!(
            "kpis.lots_before is {}, buying alone makes {lots_before} lots",
            plan.kpis.lots_before
        ));
    }
    for (name, reported) in [
        ("solver.objective", plan.solver.objective),
        ("kpis.pooled_objective", plan.kpis.pooled_objective),
    ] {
        if (reported - objective).abs() > tolerance {
            errors.push(format!("{name} is {reported}, the lots give {objective}"));
        }
    }
    if plan.solver.bound + tolerance < plan.solver.objective {
        errors.push("the bound is below the objective".into());
    }
    if params.max_lot_value.is_none()
        && plan.kpis.pooled_objective + tolerance < plan.kpis.baseline_objective
    {
        errors.push(format!(
            "pooling ({}) does worse than buying alone ({})",
            plan.kpis.pooled_objective, plan.kpis.baseline_objective
        ));
    }
    if (plan.kpis.savings_eur - (plan.kpis.pooled_objective - plan.kpis.baseline_objective)).abs()
        > tolerance
    {
        errors.push("kpis.savings_eur is not the pooled minus the baseline objective".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
