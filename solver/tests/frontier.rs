//! The frontier of plans between savings and local access (#26): checked against the engine
//! run at many weights, and every plan of it through the independent checker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groupement_solver::generate::pooling_instance;
use groupement_solver::pooling::frontier::MAX_WEIGHT;
use groupement_solver::pooling::{check_plan, frontier, pool, Frontier, Need, Params, Supplier};

fn at(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    w: f64,
) -> groupement_solver::pooling::Plan {
    let params = Params {
        local_weight: w,
        ..params.clone()
    };
    let plan = pool(needs, suppliers, &params, &|_| {}).unwrap();
    assert_eq!(check_plan(needs, suppliers, &params, &plan), Ok(()));
    plan
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// Instances of a few families where local suppliers can take part of the spend.
fn instances() -> Vec<(Vec<Need>, Vec<Supplier>, Params)> {
    let mut out = Vec::new();
    for seed in [3u64, 11, 42] {
        let (needs, suppliers) = pooling_instance(seed, 40, 30);
        out.push((needs.clone(), suppliers.clone(), Params::default()));
        out.push((
            needs,
            suppliers,
            Params {
                lot_cost: 3_000.0,
                ..Params::default()
            },
        ));
    }
    out
}

#[test]
fn every_plan_of_the_frontier_is_the_engines_and_none_is_missed() {
    for (needs, suppliers, params) in instances() {
        let found: Frontier = frontier(&needs, &suppliers, &params).unwrap();
        assert!(!found.points.is_empty());
        assert_eq!(found.truncated, 0);
        // Ordered by weight; savings fall and the local share rises along it.
        for pair in found.points.windows(2) {
            assert!(pair[0].weight_to <= pair[1].weight_from + 1e-12);
            assert!(
                pair[1].local_share + 1e-9 >= pair[0].local_share,
                "{pair:?}"
            );
        }
        // Each point is the plan `pool` gives inside its interval, and passes the checker.
        for point in &found.points {
            let plan = at(&needs, &suppliers, &params, point.weight());
            assert!(
                close(plan.kpis.local_share_after, point.local_share),
                "{point:?} vs {}",
                plan.kpis.local_share_after
            );
            assert_eq!(plan.kpis.lots_after, point.lots);
            assert!(close(
                plan.kpis.expected_discount_after,
                point.expected_discount_eur
            ));
            assert_eq!(plan.kpis.procedures_after, point.procedures);
            // Each family's piece there is the plan's tender, lot for lot, and the families'
            // figures add up to the point's.
            let (mut savings, mut local) = (0.0, 0.0);
            for family in &found.by_family {
                let piece = family.at(point.weight()).unwrap();
                savings += piece.savings_eur;
                local += piece.local_value_eur;
                let tender = plan
                    .tenders
                    .iter()
                    .find(|t| t.family == family.family && t.unit == family.unit)
                    .unwrap();
                let mut lots: Vec<Vec<String>> = tender
                    .lots
                    .iter()
                    .map(|l| {
                        let mut ids = l.need_ids.clone();
                        ids.sort();
                        ids
                    })
                    .collect();
                lots.sort();
                assert_eq!(lots, piece.lots, "family {}", family.family);
            }
            assert!(close(savings, point.savings_eur), "{savings} vs {point:?}");
            // Needs bought alone add their own local value, the same at every point.
            assert!(local <= point.local_value_eur + 1e-6);
        }
        // A grid of weights finds no plan the frontier lacks, and none that dominates one of
        // its points.
        for step in 0..=100 {
            let w = MAX_WEIGHT * f64::from(step) / 100.0;
            let plan = at(&needs, &suppliers, &params, w);
            let savings = plan.kpis.expected_discount_after
                - params.lot_cost * plan.kpis.lots_after as f64
                - (plan.kpis.expected_discount_before
                    - params.lot_cost * plan.kpis.lots_before as f64);
            let listed = found.points.iter().any(|p| {
                close(p.local_share, plan.kpis.local_share_after) && close(p.savings_eur, savings)
            });
            assert!(
                listed,
                "the plan at weight {w} is missing from the frontier"
            );
            for p in &found.points {
                let dominates = savings > p.savings_eur + 1e-6 * p.savings_eur.abs().max(1.0)
                    && plan.kpis.local_share_after > p.local_share + 1e-9;
                assert!(!dominates, "the plan at {w} dominates {p:?}");
            }
        }
    }
}

#[test]
fn the_ends_are_savings_only_and_the_most_local_plan() {
    for (needs, suppliers, params) in instances() {
        let found = frontier(&needs, &suppliers, &params).unwrap();
        let first = &found.points[0];
        let last = &found.points[found.points.len() - 1];
        assert_eq!(first.weight_from, 0.0);
        // At weight 0 the objective is the savings alone: the first point is the best of them.
        let savings_only = at(&needs, &suppliers, &params, 0.0);
        assert!(close(
            savings_only.kpis.local_share_after,
            first.local_share
        ));
        assert!(found
            .points
            .iter()
            .all(|p| p.savings_eur <= first.savings_eur + 1e-6));
        // Beyond the top weight nothing changes: the last point is the most local plan.
        let most_local = at(&needs, &suppliers, &params, 2.0 * MAX_WEIGHT);
        assert!(close(most_local.kpis.local_share_after, last.local_share));
        assert!(found
            .points
            .iter()
            .all(|p| p.local_share <= last.local_share + 1e-9));
        // The lead's question: the cheapest plan that reaches a share.
        let target = (first.local_share + last.local_share) / 2.0;
        let chosen = found.cheapest_reaching(target).unwrap();
        assert!(chosen.local_share + 1e-12 >= target);
        assert!(found
            .points
            .iter()
            .filter(|p| p.local_share + 1e-12 >= target)
            .all(|p| p.savings_eur <= chosen.savings_eur));
        assert!(found.cheapest_reaching(last.local_share + 0.01).is_none());
    }
}

#[test]
fn the_frontier_depends_on_the_input_alone() {
    let (needs, suppliers, params) = instances().remove(0);
    let one = frontier(&needs, &suppliers, &params).unwrap();
    let two = frontier(&needs, &suppliers, &params).unwrap();
    assert_eq!(one, two);
    assert!(
        one.points.len() >= 2,
        "the instance trades something: {one:?}"
    );
}
