//! Award benchmark: 1,000 lots × 20 bids (20,000 bids) with a cap of 3, both rules.
//! `cargo bench -p groupement-solver --bench award`; figures are recorded in bench/README.md.
// A benchmark that cannot run its instance should stop loudly.
#![allow(clippy::expect_used)]

use groupement_solver::award::{award, check_award, AwardRules, CapRule, Weights};
use groupement_solver::generate::award_instance;
use std::time::{Duration, Instant};

fn main() {
    let runs = 5;
    for (lots, bids_per_lot, suppliers, cap) in [(100, 10, 60, 3), (1_000, 20, 400, 3)] {
        let (lot_list, bids) = award_instance(42, lots, bids_per_lot, suppliers);
        for rule in [CapRule::DecreasingImportance, CapRule::BestTotal] {
            let rules = AwardRules {
                weights: Weights {
                    price: 60,
                    quality: 30,
                    environment: 10,
                },
                cap: Some(cap),
                rule,
            };
            let mut times: Vec<Duration> = Vec::new();
            let mut last = None;
            for _ in 0..runs {
                let start = Instant::now();
                let result = award(&lot_list, &bids, &rules).expect("award");
                times.push(start.elapsed());
                last = Some(result);
            }
            times.sort();
            let result = last.expect("at least one run");
            check_award(&lot_list, &bids, &rules, &result).expect("the award passes the checker");
            println!(
                "award {lots} lots × {bids_per_lot} bids ({} bids), {suppliers} suppliers, cap {cap}, \
                 rule {} (the other computed beside): median {:.3} s, min {:.3} s, max {:.3} s over {runs} runs; \
                 total score {:.2}, other rule {:.2}, {} lots change",
                bids.len(),
                rule.name(),
                times[runs / 2].as_secs_f64(),
                times[0].as_secs_f64(),
                times[runs - 1].as_secs_f64(),
                result.total_score,
                result.other_rule.as_ref().map(|o| o.total_score).unwrap_or(0.0),
                result.other_rule.as_ref().map(|o| o.changed_lots.len()).unwrap_or(0),
            );
        }
    }
}
