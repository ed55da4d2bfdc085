//! Pooling benchmark on generated instances of three shapes — few large families (`few`), many
//! small families (`many`, 5–25 needs each) and the family sizes of the DECP records (`decp`) —
//! at 2,000 / 20,000 / 100,000 needs, under the default parameters and other parameter sets a
//! lead can choose in the portal. Every plan is checked by the independent checker.
//!
//! `cargo bench -p groupement-solver --bench pooling [-- SHAPES SIZES PARAMS]`, each a
//! comma-separated subset: shapes `few,many,decp`, sizes `2k,20k,100k`, parameter sets
//! `default,cap,lead` (by default: every shape and size under `default`, and `cap,lead` at 2k
//! and 20k). Prints time, families by method and status, the worst gap, the counted work and
//! the peak memory (VmHWM) of the process.
// A benchmark that cannot run its instance should stop loudly.
#![allow(clippy::expect_used)]

use groupement_solver::generate::{shaped_instance, Shape};
use groupement_solver::pooling::plan::FamilyReport;
use groupement_solver::pooling::solve::Method;
use groupement_solver::pooling::{check_plan, pool, Params, SavingsCurve};
use std::time::Instant;

fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The number of contracts of each CPV class (4 digits) in the DECP 2018–2019 records of
/// `shared/data` (first holder of each contract only).
fn decp_family_sizes() -> Option<Vec<usize>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/decp/decp_2018_2019_flat.csv"
    );
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let cpv = header.iter().position(|h| *h == "cpv8")?;
    let holder = header.iter().position(|h| *h == "titulaire_idx")?;
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for line in lines {
        // Objects may hold commas inside quotes: such rows do not split into the header's
        // number of fields and are left out.
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() || fields[holder] != "0" {
            continue;
        }
        if let Some(class) = fields[cpv].get(..4) {
            *counts.entry(class.to_string()).or_default() += 1;
        }
    }
    Some(counts.into_values().collect())
}

fn parameter_set(name: &str) -> Params {
    let mut params = Params::default();
    match name {
        "cap" => params.max_lot_value = Some(400_000.0),
        "lead" => {
            params.family_digits = 3;
            params.territory = vec!["21".into(), "71".into(), "89".into()];
            params.local_min_bidders = 3;
            params.lot_cost = 5_000.0;
            params.local_weight = 0.05;
            params.max_lot_value = Some(400_000.0);
            params.curve = SavingsCurve::new(vec![
                (0.0, 0.0),
                (25_000.0, 0.01),
                (150_000.0, 0.04),
                (2_000_000.0, 0.08),
            ])
            .expect("a valid curve");
        }
        _ => {}
    }
    params
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let shapes = args
        .first()
        .cloned()
        .unwrap_or_else(|| "few,many,decp".into());
    let sizes = args.get(1).cloned().unwrap_or_else(|| "2k,20k,100k".into());
    let sets = args.get(2).cloned();
    let decp = decp_family_sizes();
    for shape_name in shapes.split(',') {
        let shape = match shape_name {
            "few" => Shape::FewLarge,
            "many" => Shape::ManySmall,
            "decp" => match &decp {
                Some(sizes) => Shape::Sizes(sizes.clone()),
                None => {
                    println!("decp: shared/data/decp not found, shape skipped");
                    continue;
                }
            },
            other => panic!("unknown shape {other}"),
        };
        for (size_name, needs, suppliers) in [
            ("2k", 2_000, 200),
            ("20k", 20_000, 2_000),
            ("100k", 100_000, 10_000),
        ] {
            if !sizes.split(',').any(|w| w == size_name) {
                continue;
            }
            let default_sets = if needs <= 20_000 {
                "default,cap,lead"
            } else {
                "default"
            };
            for set in sets.as_deref().unwrap_or(default_sets).split(',') {
                run(shape_name, &shape, needs, suppliers, set);
            }
        }
    }
}

fn run(shape_name: &str, shape: &Shape, needs: usize, suppliers: usize, set: &str) {
    let (need_list, supplier_list) = shaped_instance(2027, needs, suppliers, shape);
    let mut params = parameter_set(set);
    // Overrides for experiments: the enumeration's budget and the MILP's size limit.
    if let Ok(budget) = std::env::var("POOL_ENUMERATION_BUDGET") {
        params.enumeration_budget = budget.parse().expect("a number");
    }
    if let Ok(nodes) = std::env::var("POOL_MILP_NODES") {
        params.milp_max_nodes = nodes.parse().expect("a number");
    }
    if let Ok(limit) = std::env::var("POOL_MILP_MAX") {
        params.milp_max_assignments = limit.parse().expect("a number");
    }
    let start = Instant::now();
    let plan = pool(&need_list, &supplier_list, &params, &|_| {}).expect("plan");
    let seconds = start.elapsed().as_secs_f64();
    check_plan(&need_list, &supplier_list, &params, &plan).expect("the plan passes the checker");
    let families = &plan.solver.families;
    let count = |f: &dyn Fn(&FamilyReport) -> bool| families.iter().filter(|r| f(r)).count();
    let worst = families.iter().map(|f| f.gap).fold(0.0, f64::max);
    let largest = families.iter().map(|f| f.needs).max().unwrap_or(0);
    let methods: Vec<String> = [
        Method::ClosedForm,
        Method::Enumeration,
        Method::Heuristic,
        Method::Columns,
        Method::Milp,
    ]
    .iter()
    .map(|m| {
        let of: Vec<_> = families.iter().filter(|f| f.method == *m).collect();
        let seconds: f64 = of.iter().map(|f| f.seconds).sum();
        format!("{} {m:?} ({seconds:.1} s of CPU)", of.len())
    })
    .collect();
    println!(
        "{shape_name} {needs} needs / {suppliers} suppliers, params {set}: {seconds:.2} s, {} families \
         (largest {largest}): {}; {} optimal, {} within 0.5 %, worst gap {:.4} %; work {}; \
         savings {:.0} EUR ({:.2} %); peak memory {:.0} MiB",
        families.len(),
        methods.join(", "),
        count(&|f| f.gap <= 1e-4),
        count(&|f| f.gap <= 0.005),
        100.0 * worst,
        families.iter().map(|f| f.work).sum::<u64>(),
        plan.kpis.savings_eur,
        plan.kpis.savings_pct,
        peak_memory_mib(),
    );
    let mut slowest: Vec<_> = families.iter().collect();
    slowest.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let worst_gap = families.iter().max_by(|a, b| a.gap.total_cmp(&b.gap));
    for f in slowest.iter().take(2).chain(worst_gap.iter()) {
        println!(
            "  family {} / {}: {} needs, C_f {:.0} EUR, {:?} {:?}, gap {:.4} %, work {}, {:.2} s",
            f.family,
            f.unit,
            f.needs,
            f.local_capacity_eur,
            f.method,
            f.status,
            100.0 * f.gap,
            f.work,
            f.seconds
        );
    }
}
