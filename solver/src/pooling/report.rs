//! Turns the families' solutions into the plan: tenders and lots with their explanation,
//! procedures, the baseline of buying alone, KPIs and the solver's report.

use super::family::{Family, LocalCapacity};
use super::heuristic::day_groups;
use super::instance::{Need, Params};
use super::plan::{FamilyReport, Kpis, Lot, Plan, SolverReport, Tender};
use super::score::{euros, LotScorer};
use super::solve::{relative_gap, FamilySolution, Status};
use crate::procedure::{BuyerClass, Nature, ProcedureRuling, Publication, Thresholds};
use std::collections::{BTreeMap, BTreeSet};

/// A lot as the KPIs count it: value, whether local, expected discount, score.
struct Counted {
    value: i64,
    local: bool,
    discount: f64,
    score: f64,
}

fn count(lot: &[usize], needs: &[Need], scorer: &LotScorer) -> Counted {
    let value: i64 = lot.iter().map(|&i| needs[i].value_cents()).sum();
    Counted {
        value,
        local: scorer.is_local(value),
        discount: scorer.curve.value(euros(value)),
        score: scorer.score(value),
    }
}

fn class_name(class: BuyerClass) -> &'static str {
    match class {
        BuyerClass::Central => "central",
        BuyerClass::SubCentral => "sub_central",
    }
}

fn publication_name(publication: Publication) -> &'static str {
    match publication {
        Publication::None => "none",
        Publication::Free => "free",
        Publication::BoampOrLegalJournal => "boamp_or_legal_journal",
        Publication::BoampAndJoue => "boamp_and_joue",
    }
}

/// The ruling for a tender of these needs, on the reference day (by default the earliest
/// delivery day).
fn ruling<'p>(
    needs: &[Need],
    members: &[usize],
    prefix: &str,
    params: &'p Params,
) -> Option<(ProcedureRuling, BuyerClass, &'p Thresholds)> {
    let class = BuyerClass::strictest(members.iter().map(|&i| params.buyer_class(&needs[i].buyer)));
    let day = params
        .reference_date
        .clone()
        .or_else(|| members.iter().map(|&i| needs[i].window_start.clone()).min())?;
    let total: i64 = members.iter().map(|&i| needs[i].value_cents()).sum();
    let thresholds = params.thresholds.in_force(&day)?;
    Some((
        thresholds.rule(euros(total), Nature::of_cpv(prefix), class),
        class,
        thresholds,
    ))
}

/// The procedure code (`no_competition`, `adapted`, `formal`) of a tender of these needs.
pub fn procedure_code(needs: &[Need], members: &[usize], prefix: &str, params: &Params) -> String {
    ruling(needs, members, prefix, params).map_or("adapted".to_string(), |(r, _, _)| {
        r.procedure.code().to_string()
    })
}

fn explanation(lot: &Lot, needs_count: usize, params: &Params) -> String {
    let thanks_to = &lot.thanks_to;
    let rate = if lot.value_eur > 0.0 {
        100.0 * lot.savings_eur / lot.value_eur
    } else {
        0.0
    };
    let local = if lot.local_accessible && !thanks_to.is_empty() {
        format!(
            "accessible aux entreprises du territoire grâce aux capacités déclarées sur le programme d'achats et aux équipes de co-traitance ({}) : le registre seul ne le permettait pas ; {} candidat(s) local(aux) peuvent le prendre (valeur ≤ C_f = {:.0} €, il en faut {})",
            thanks_to.join(", "),
            lot.eligible_local_suppliers,
            lot.local_capacity_eur,
            params.local_min_bidders
        )
    } else if lot.local_accessible {
        format!(
            "accessible aux entreprises du territoire : {} fournisseur(s) local(aux) du domaine peuvent le prendre (valeur ≤ C_f = {:.0} €, il en faut {})",
            lot.eligible_local_suppliers, lot.local_capacity_eur, params.local_min_bidders
        )
    } else if lot.local_capacity_eur > 0.0 {
        format!(
            "trop gros pour le territoire : moins de {} fournisseurs locaux ont la capacité de {:.0} € (C_f = {:.0} €) ; regroupé pour l'économie d'échelle",
            params.local_min_bidders, lot.value_eur, lot.local_capacity_eur
        )
    } else {
        format!("moins de {} fournisseurs du territoire servent ce domaine : lot dimensionné pour l'économie d'échelle", params.local_min_bidders)
    };
    format!(
        "{} besoin(s) de {} pour {:.2} € HT ; économie attendue {:.2} € ({:.1} %) ; {}{}.",
        needs_count,
        lot.buyers.join(", "),
        lot.value_eur,
        lot.savings_eur,
        rate,
        local,
        if lot.small_lot {
            " ; petit lot (R2123-1 2°) : peut suivre les règles de la procédure adaptée"
        } else {
            ""
        }
    )
}

fn tender(
    needs: &[Need],
    params: &Params,
    family: &Family,
    solution: &FamilySolution,
    capacity: &LocalCapacity,
) -> Tender {
    let scorer = LotScorer::new(params, &family.prefix, capacity.c_cents);
    let mut lots: Vec<&Vec<usize>> = solution.lots.iter().collect();
    let value_of = |lot: &[usize]| -> i64 { lot.iter().map(|&i| needs[i].value_cents()).sum() };
    lots.sort_by(|a, b| {
        value_of(b)
            .cmp(&value_of(a))
            .then(a.first().cmp(&b.first()))
    });
    let mut by_buyer: BTreeMap<&str, i64> = BTreeMap::new();
    for &i in &family.needs {
        *by_buyer.entry(needs[i].buyer.as_str()).or_default() += needs[i].value_cents();
    }
    let coordinator = by_buyer
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(code, _)| code.to_string())
        .unwrap_or_default();
    let ruling = ruling(needs, &family.needs, &family.prefix, params);
    let lot_values: Vec<f64> = lots.iter().map(|l| euros(value_of(l))).collect();
    let small = match &ruling {
        Some((r, _, thresholds)) => {
            thresholds.small_lots(&lot_values, Nature::of_cpv(&family.prefix), r.procedure)
        }
        None => vec![false; lots.len()],
    };
    let lots: Vec<Lot> = lots
        .iter()
        .enumerate()
        .map(|(k, members)| {
            let value = value_of(members);
            let eligible = capacity.eligible(value);
            let buyers: BTreeSet<&str> = members.iter().map(|&i| needs[i].buyer.as_str()).collect();
            let mut lot = Lot {
                lot: k as u32 + 1,
                need_ids: members.iter().map(|&i| needs[i].need_id.clone()).collect(),
                buyers: buyers.into_iter().map(str::to_string).collect(),
                value_eur: euros(value),
                savings_eur: scorer.curve.value(euros(value)),
                local_accessible: scorer.is_local(value),
                eligible_local_suppliers: eligible.len(),
                eligible_local_supplier_ids: eligible,
                small_lot: small.get(k).copied().unwrap_or(false),
                local_capacity_eur: euros(capacity.c_cents),
                explanation: String::new(),
                thanks_to: capacity.thanks_to(value),
            };
            lot.explanation = explanation(&lot, members.len(), params);
            lot
        })
        .collect();
    let (procedure, publication, min_days, standstill_days, class) = match ruling {
        Some((r, class, _)) => (
            r.procedure.code(),
            publication_name(r.publication),
            r.min_days,
            r.standstill_days,
            class_name(class),
        ),
        None => ("adapted", "free", None, None, "sub_central"),
    };
    Tender {
        family: family.prefix.clone(),
        unit: family.unit.clone(),
        coordinator,
        procedure: procedure.to_string(),
        publication: publication.to_string(),
        min_days,
        standstill_days,
        buyer_class: class.to_string(),
        total_value_eur: euros(family.needs.iter().map(|&i| needs[i].value_cents()).sum()),
        lots,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn assemble<'c>(
    needs: &[Need],
    params: &Params,
    families: &[Family],
    solutions: &[FamilySolution],
    solo: &[usize],
    taken_out: &[usize],
    capacity_of: &dyn Fn(&str) -> &'c LocalCapacity,
    seconds: f64,
) -> Plan {
    let prefix_of =
        |i: usize| -> String { needs[i].cpv.chars().take(params.family_digits).collect() };
    let scorer_of = |prefix: &str| LotScorer::new(params, prefix, capacity_of(prefix).c_cents);
    let procedure_of = |members: &[usize], prefix: &str| -> String {
        ruling(needs, members, prefix, params).map_or("adapted".to_string(), |(r, _, _)| {
            r.procedure.code().to_string()
        })
    };
    let mut after: Vec<Counted> = Vec::new();
    let mut before: Vec<Counted> = Vec::new();
    let mut procedures_after: BTreeMap<String, usize> = BTreeMap::new();
    let mut procedures_before: BTreeMap<String, usize> = BTreeMap::new();
    let mut tenders = Vec::new();
    let mut reports = Vec::new();
    for (family, solution) in families.iter().zip(solutions) {
        let capacity = capacity_of(&family.prefix);
        let scorer = scorer_of(&family.prefix);
        after.extend(solution.lots.iter().map(|lot| count(lot, needs, &scorer)));
        // Needs a lead took out of the joint tender are bought alone (below); the tender is
        // made of the others.
        let kept = Family {
            prefix: family.prefix.clone(),
            unit: family.unit.clone(),
            needs: family
                .needs
                .iter()
                .copied()
                .filter(|i| !taken_out.contains(i))
                .collect(),
        };
        if !kept.needs.is_empty() {
            *procedures_after
                .entry(procedure_of(&kept.needs, &family.prefix))
                .or_default() += 1;
        }
        // Buying alone: each buyer's needs of the family as one lot, split only where windows
        // force it (as few lots as possible).
        let mut by_buyer: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in &family.needs {
            by_buyer.entry(needs[i].buyer.as_str()).or_default().push(i);
        }
        for members in by_buyer.values() {
            before.extend(
                day_groups(needs, members)
                    .iter()
                    .map(|lot| count(lot, needs, &scorer)),
            );
            *procedures_before
                .entry(procedure_of(members, &family.prefix))
                .or_default() += 1;
        }
        if !kept.needs.is_empty() {
            tenders.push(tender(needs, params, &kept, solution, capacity));
        }
        reports.push(FamilyReport {
            family: family.prefix.clone(),
            unit: family.unit.clone(),
            needs: family.needs.len(),
            lots: solution.lots.len(),
            local_capacity_eur: euros(capacity.c_cents),
            status: solution.status,
            method: solution.method,
            objective: solution.objective,
            bound: solution.bound,
            gap: relative_gap(solution.objective, solution.bound),
            seconds: solution.seconds,
            work: solution.work,
        });
    }
    for &i in solo {
        let prefix = prefix_of(i);
        let lot = count(&[i], needs, &scorer_of(&prefix));
        before.push(count(&[i], needs, &scorer_of(&prefix)));
        after.push(lot);
        let procedure = procedure_of(&[i], &prefix);
        *procedures_before.entry(procedure.clone()).or_default() += 1;
        *procedures_after.entry(procedure).or_default() += 1;
    }
    for &i in taken_out {
        let prefix = prefix_of(i);
        after.push(count(&[i], needs, &scorer_of(&prefix)));
        *procedures_after
            .entry(procedure_of(&[i], &prefix))
            .or_default() += 1;
    }
    let total_value: i64 = needs.iter().map(Need::value_cents).sum();
    let sum = |lots: &[Counted], f: &dyn Fn(&Counted) -> f64| -> f64 { lots.iter().map(f).sum() };
    let local_share = |lots: &[Counted]| -> f64 {
        if total_value == 0 {
            0.0
        } else {
            lots.iter()
                .filter(|l| l.local)
                .map(|l| l.value)
                .sum::<i64>() as f64
                / total_value as f64
        }
    };
    let pooled = sum(&after, &|l| l.score);
    let baseline = sum(&before, &|l| l.score);
    let solo_score: f64 = solo
        .iter()
        .chain(taken_out)
        .map(|&i| scorer_of(&prefix_of(i)).score(needs[i].value_cents()))
        .sum();
    let bound = solutions.iter().map(|s| s.bound).sum::<f64>() + solo_score;
    let status = if solutions.iter().all(|s| s.status == Status::Optimal) {
        Status::Optimal
    } else {
        Status::TimeLimited
    };
    Plan {
        kpis: Kpis {
            baseline_objective: baseline,
            pooled_objective: pooled,
            savings_eur: pooled - baseline,
            savings_pct: if total_value > 0 {
                100.0 * (pooled - baseline) / euros(total_value)
            } else {
                0.0
            },
            lots_before: before.len(),
            lots_after: after.len(),
            local_share_before: local_share(&before),
            local_share_after: local_share(&after),
            total_value_eur: euros(total_value),
            expected_discount_before: sum(&before, &|l| l.discount),
            expected_discount_after: sum(&after, &|l| l.discount),
            procedures_before,
            procedures_after,
        },
        tenders,
        solo: {
            let mut alone: Vec<usize> = solo.iter().chain(taken_out).copied().collect();
            alone.sort_unstable();
            alone.iter().map(|&i| needs[i].need_id.clone()).collect()
        },
        solver: SolverReport {
            status,
            objective: pooled,
            bound: bound.max(pooled),
            gap: relative_gap(pooled, bound.max(pooled)),
            seconds,
            backend: if cfg!(feature = "highs") {
                "highs".into()
            } else {
                "microlp".into()
            },
            families: reports,
        },
    }
}

/// The procedure each member of each tender would have followed buying its share alone: by
/// tender family, `(buyer, procedure code)` in the order of the tender's buyers. It is what a
/// lead compares with the tender's own procedure ("adapted alone, formal together"). Needs the
/// plan names and `needs` lacks are left out.
pub fn procedures_alone(
    plan: &super::plan::Plan,
    needs: &[Need],
    params: &Params,
) -> BTreeMap<String, Vec<(String, String)>> {
    let index: BTreeMap<&str, usize> = needs
        .iter()
        .enumerate()
        .map(|(i, n)| (n.need_id.as_str(), i))
        .collect();
    plan.tenders
        .iter()
        .map(|t| {
            let mut by_buyer: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for id in t.lots.iter().flat_map(|l| &l.need_ids) {
                if let Some(&i) = index.get(id.as_str()) {
                    by_buyer.entry(needs[i].buyer.as_str()).or_default().push(i);
                }
            }
            let alone = t
                .buyers()
                .into_iter()
                .filter_map(|b| {
                    let members = by_buyer.get(b)?;
                    Some((
                        b.to_string(),
                        procedure_code(needs, members, &t.family, params),
                    ))
                })
                .collect();
            (t.family.clone(), alone)
        })
        .collect()
}
