//! Pooling benchmark on generated instances: 1,000 / 20,000 / 100,000 needs with 100 / 2,000 /
//! 10,000 suppliers. `cargo bench -p groupement-solver --bench pooling [-- SIZES]` where SIZES
//! is a comma-separated subset of `1k,20k,100k` (all by default). Prints time, families by
//! method and status, the worst gap and the peak memory (VmHWM) of the process.
// A benchmark that cannot run its instance should stop loudly.
#![allow(clippy::expect_used)]

use groupement_solver::generate::pooling_instance;
use groupement_solver::pooling::{check_plan, pool, Params};
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

fn main() {
    let wanted = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "1k,20k,100k".into());
    for (name, needs, suppliers) in [
        ("1k", 1_000, 100),
        ("20k", 20_000, 2_000),
        ("100k", 100_000, 10_000),
    ] {
        if !wanted.split(',').any(|w| w == name) {
            continue;
        }
        let (need_list, supplier_list) = pooling_instance(2027, needs, suppliers);
        let mut params = Params::default();
        if let Ok(limit) = std::env::var("POOL_MILP_MAX") {
            params.milp_max_assignments = limit.parse().expect("POOL_MILP_MAX is a number");
        }
        let start = Instant::now();
        let plan = pool(&need_list, &supplier_list, &params, &|_, _| {}).expect("plan");
        let seconds = start.elapsed().as_secs_f64();
        check_plan(&need_list, &supplier_list, &params, &plan)
            .expect("the plan passes the checker");
        let families = &plan.solver.families;
        let count = |f: &dyn Fn(&groupement_solver::pooling::plan::FamilyReport) -> bool| {
            families.iter().filter(|r| f(r)).count()
        };
        let worst = families.iter().map(|f| f.gap).fold(0.0, f64::max);
        let largest = families.iter().map(|f| f.needs).max().unwrap_or(0);
        println!(
            "pool {needs} needs, {suppliers} suppliers: {seconds:.2} s, {} families (largest {largest} needs): \
             {} closed form, {} MILP, {} heuristic; {} optimal, {} within 0.5 %, worst gap {:.4} %; \
             total gap {:.4} %; lots {} → {}; savings {:.0} EUR ({:.2} %); local share {:.1} % → {:.1} %; peak memory {:.0} MiB",
            families.len(),
            count(&|f| matches!(f.method, groupement_solver::pooling::solve::Method::ClosedForm)),
            count(&|f| matches!(f.method, groupement_solver::pooling::solve::Method::Milp)),
            count(&|f| matches!(f.method, groupement_solver::pooling::solve::Method::Heuristic)),
            count(&|f| f.gap <= 1e-4),
            count(&|f| f.gap <= 0.005),
            100.0 * worst,
            100.0 * plan.solver.gap,
            plan.kpis.lots_before,
            plan.kpis.lots_after,
            plan.kpis.savings_eur,
            plan.kpis.savings_pct,
            100.0 * plan.kpis.local_share_before,
            100.0 * plan.kpis.local_share_after,
            peak_memory_mib(),
        );
        let mut slowest: Vec<_> = families.iter().collect();
        slowest.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        let worst_gap = families.iter().max_by(|a, b| a.gap.total_cmp(&b.gap));
        for f in slowest.iter().take(3).chain(worst_gap.iter()) {
            println!(
                "  slowest: family {} / {} — {} needs, C_f {:.0} EUR, objective {:.0}, bound {:.0}, {:?}, {:?}, gap {:.4} %, {:.2} s",
                f.family,
                f.unit,
                f.needs,
                f.local_capacity_eur,
                f.objective,
                f.bound,
                f.method,
                f.status,
                100.0 * f.gap,
                f.seconds
            );
        }
    }
}
