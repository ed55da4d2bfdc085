//! Frontier benchmark (#26): the plans between savings and local access of a year of needs in
//! the many-small-families shape (`generate::shaped_instance`, seed 2027) and the few-large one,
//! at 2,000 and 20,000 needs. Target: 20,000 needs in under a minute on 2 cores.
//!
//! `cargo bench -p groupement-solver --bench frontier [-- SHAPES SIZES]` (`many,few`,
//! `2k,20k`). Prints the time, the plans found, the family solves, the searches stopped at
//! their limit, the ends of the frontier and the peak memory (VmHWM).
// A benchmark that cannot run its instance should stop loudly.
#![allow(clippy::expect_used)]

use groupement_solver::generate::{shaped_instance, Shape};
use groupement_solver::pooling::{frontier, Params};
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
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let shapes = args.first().map_or("many,few", String::as_str);
    let sizes = args.get(1).map_or("2k,20k", String::as_str);
    for shape in shapes.split(',') {
        for size in sizes.split(',') {
            let needs = match size {
                "2k" => 2_000,
                "20k" => 20_000,
                "100k" => 100_000,
                other => panic!("unknown size {other}"),
            };
            let kind = match shape {
                "many" => Shape::ManySmall,
                "few" => Shape::FewLarge,
                other => panic!("unknown shape {other}"),
            };
            let (need_list, supplier_list) = shaped_instance(2027, needs, needs / 10, &kind);
            let started = Instant::now();
            let found =
                frontier(&need_list, &supplier_list, &Params::default()).expect("a valid instance");
            let seconds = started.elapsed().as_secs_f64();
            let (first, last) = (&found.points[0], &found.points[found.points.len() - 1]);
            println!(
                "{shape} {size}: {seconds:.2} s, {} plans over {} families, {} family solves, \
                 {} searches stopped; savings {:.0} → {:.0} EUR, local share {:.1} % → {:.1} %; \
                 peak {:.0} MiB",
                found.points.len(),
                found.families,
                found.solves,
                found.truncated,
                first.savings_eur,
                last.savings_eur,
                100.0 * first.local_share,
                100.0 * last.local_share,
                peak_memory_mib()
            );
        }
    }
}
