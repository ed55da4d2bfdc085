//! A proposal adjusted by a lead: lots set by hand (needs moved between lots, lots split or
//! merged, needs taken out to be bought alone) are evaluated with the same scoring, KPIs and
//! procedures as the engine's own plans. What breaks a rule of DESIGN §3–4 or lowers the
//! objective is said as a warning; what cannot be a plan at all is refused.

use super::family::{families, LocalCapacity};
use super::instance::{Need, Params, Supplier};
use super::plan::Plan;
use super::report::{self, procedure_code};
use super::score::LotScorer;
use super::solve::{self, FamilySolution, Method, Status};
use std::collections::HashMap;

/// An evaluated adjustment.
#[derive(Debug, Clone)]
pub struct Adjusted {
    pub plan: Plan,
    /// Rules broken and objective lost, in French, for the lead.
    pub warnings: Vec<String>,
}

fn strictness(procedure: &str) -> u8 {
    match procedure {
        "no_competition" => 0,
        "adapted" => 1,
        _ => 2,
    }
}

/// Evaluates lots set by hand: `lots` lists the lots of every joint tender by need ids,
/// `taken_out` the poolable needs bought alone. Refused (every reason given) when a need is
/// unknown, placed twice or not at all, when a non-poolable need is in a lot, or when a lot
/// mixes families or units. `reference` is the engine's objective, to warn of a loss.
pub fn evaluate(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    lots: &[Vec<String>],
    taken_out: &[String],
    reference: Option<f64>,
) -> Result<Adjusted, Vec<String>> {
    let index: HashMap<&str, usize> = needs
        .iter()
        .enumerate()
        .map(|(i, n)| (n.need_id.as_str(), i))
        .collect();
    let (families, solo) = families(needs, params);
    let family_of: HashMap<usize, usize> = families
        .iter()
        .enumerate()
        .flat_map(|(f, family)| family.needs.iter().map(move |&i| (i, f)))
        .collect();
    let mut errors = Vec::new();
    let mut placed: HashMap<usize, usize> = HashMap::new();
    let mut by_family: Vec<Vec<Vec<usize>>> = vec![Vec::new(); families.len()];
    let mut out: Vec<usize> = Vec::new();
    for (k, lot) in lots.iter().enumerate() {
        let mut members = Vec::new();
        for id in lot {
            match index.get(id.as_str()) {
                None => errors.push(format!("le besoin {id} n'est pas dans ce calcul")),
                Some(&i) if placed.insert(i, k).is_some() => {
                    errors.push(format!("le besoin {id} est dans deux lots"))
                }
                Some(&i) => members.push(i),
            }
        }
        if members.is_empty() {
            continue;
        }
        let lot_families: std::collections::BTreeSet<Option<&usize>> =
            members.iter().map(|i| family_of.get(i)).collect();
        match lot_families.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(&f)] => by_family[f].push(members),
            [None] => errors.push(format!(
                "le besoin {} n'est pas mutualisable : il ne peut pas entrer dans un lot conjoint",
                needs[members[0]].need_id
            )),
            _ => errors.push(format!(
                "un lot ne peut pas mêler des familles ou des unités différentes (besoins {})",
                members
                    .iter()
                    .map(|&i| needs[i].need_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    for id in taken_out {
        match index.get(id.as_str()) {
            None => errors.push(format!("le besoin {id} n'est pas dans ce calcul")),
            Some(&i) if placed.insert(i, usize::MAX).is_some() => {
                errors.push(format!("le besoin {id} est à la fois dans un lot et sorti"))
            }
            Some(&i) => out.push(i),
        }
    }
    for family in &families {
        for &i in &family.needs {
            if !placed.contains_key(&i) {
                errors.push(format!(
                    "le besoin {} n'est dans aucun lot",
                    needs[i].need_id
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let capacities = super::local_capacities(needs, suppliers, params);
    let empty = LocalCapacity::default();
    let capacity_of = |prefix: &str| capacities.get(prefix).unwrap_or(&empty);
    let solutions: Vec<FamilySolution> = families
        .iter()
        .zip(&by_family)
        .map(|(family, lots)| {
            let scorer =
                LotScorer::new(params, &family.prefix, capacity_of(&family.prefix).c_cents);
            let objective = solve::objective(lots, needs, &scorer);
            FamilySolution {
                lots: lots.clone(),
                objective,
                bound: objective,
                status: Status::Optimal,
                method: Method::Manual,
                seconds: 0.0,
                work: 0,
            }
        })
        .collect();
    let plan = report::assemble(
        needs,
        params,
        &families,
        &solutions,
        &solo,
        &out,
        &capacity_of,
        0.0,
    );
    let mut warnings = Vec::new();
    for lots in &by_family {
        for lot in lots {
            let latest_start = lot.iter().map(|&i| &needs[i].window_start).max();
            let earliest_end = lot.iter().map(|&i| &needs[i].window_end).min();
            if let (Some(start), Some(end)) = (latest_start, earliest_end) {
                if start > end {
                    warnings.push(format!(
                        "les besoins {} ont des fenêtres de livraison sans jour commun : ils ne peuvent pas partager un lot",
                        lot.iter().map(|&i| needs[i].need_id.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
    }
    for &i in &out {
        let f = family_of[&i];
        let prefix = &families[f].prefix;
        let together = procedure_code(needs, &families[f].needs, prefix, params);
        let alone = procedure_code(needs, &[i], prefix, params);
        if strictness(&alone) < strictness(&together) {
            warnings.push(format!(
                "acheté seul, le besoin {} relèverait de la procédure « {alone} » au lieu de « {together} » : un découpage dont l'effet est d'échapper au seuil est interdit (R2121-1) — la valeur de tous les besoins homogènes de l'année compte",
                needs[i].need_id
            ));
        }
    }
    if let Some(reference) = reference {
        let lost = reference - plan.kpis.pooled_objective;
        if lost > 0.005 {
            warnings.push(format!(
                "l'objectif baisse de {lost:.2} € par rapport à la proposition du moteur"
            ));
        }
    }
    Ok(Adjusted { plan, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooling::pool;

    fn need(id: &str, buyer: &str, quantity: f64, start: &str, end: &str) -> Need {
        Need {
            need_id: id.into(),
            buyer: buyer.into(),
            cpv: "33141000".into(),
            title: String::new(),
            quantity,
            unit: "boîte".into(),
            unit_price_eur: 10.0,
            delivery_postcode: "21000".into(),
            window_start: start.into(),
            window_end: end.into(),
            poolable: true,
        }
    }

    #[test]
    fn the_engine_plan_evaluates_to_itself_and_changes_are_warned() {
        let needs = vec![
            need("a", "UB", 9000.0, "2027-01-01", "2027-06-30"),
            need("b", "CHU", 8000.0, "2027-01-01", "2027-06-30"),
            need("c", "DM", 500.0, "2027-09-01", "2027-09-30"),
        ];
        let params = Params::default();
        let plan = pool(&needs, &[], &params, &|_| {}).unwrap();
        let lots: Vec<Vec<String>> = plan
            .tenders
            .iter()
            .flat_map(|t| t.lots.iter().map(|l| l.need_ids.clone()))
            .collect();
        let same = evaluate(
            &needs,
            &[],
            &params,
            &lots,
            &[],
            Some(plan.kpis.pooled_objective),
        )
        .unwrap();
        assert!((same.plan.kpis.pooled_objective - plan.kpis.pooled_objective).abs() < 1e-6);
        assert_eq!(
            same.plan.kpis.baseline_objective,
            plan.kpis.baseline_objective
        );
        assert!(same.warnings.is_empty(), "{:?}", same.warnings);

        // c's window meets no other: putting it with a and b is warned, and costs objective.
        let merged = evaluate(
            &needs,
            &[],
            &params,
            &[vec!["a".into(), "b".into(), "c".into()]],
            &[],
            Some(plan.kpis.pooled_objective),
        )
        .unwrap();
        assert!(
            merged
                .warnings
                .iter()
                .any(|w| w.contains("sans jour commun")),
            "{:?}",
            merged.warnings
        );

        // Taking a out to buy it alone drops it below the formal threshold: anti-splitting.
        let out = evaluate(
            &needs,
            &[],
            &params,
            &[vec!["b".into()], vec!["c".into()]],
            &["a".into()],
            Some(plan.kpis.pooled_objective),
        )
        .unwrap();
        assert!(
            out.warnings.iter().any(|w| w.contains("R2121-1")),
            "{:?}",
            out.warnings
        );
        assert!(out.plan.solo.contains(&"a".to_string()));
        assert_eq!(
            out.plan.kpis.baseline_objective, plan.kpis.baseline_objective,
            "buying alone does not change"
        );
        assert!(out.warnings.iter().any(|w| w.contains("l'objectif baisse")));

        // Refusals: a need twice, a need nowhere, an unknown need.
        let errors = evaluate(
            &needs,
            &[],
            &params,
            &[vec!["a".into(), "a".into()], vec!["zz".into()]],
            &[],
            None,
        )
        .unwrap_err();
        assert!(errors.iter().any(|e| e.contains("deux lots")));
        assert!(errors.iter().any(|e| e.contains("zz")));
        assert!(errors
            .iter()
            .any(|e| e.contains("le besoin b n'est dans aucun lot")));
    }
}
