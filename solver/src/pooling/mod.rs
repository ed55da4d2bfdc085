//! The pooling model (DESIGN §4): turns the needs of several buyers into joint tenders with
//! lots, trading the savings of volume against lots that local SMEs can bid for.

pub mod adjust;
mod bound;
pub mod check;
pub mod curve;
mod enumerate;
pub mod family;
mod heuristic;
mod improve;
pub mod instance;
mod milp;
pub mod plan;
pub(crate) mod report;
pub mod score;
pub mod solve;

pub use check::check_plan;
pub use curve::SavingsCurve;
pub use instance::{validate_input, InputError, Need, Params, Supplier};
pub use plan::Plan;

use family::{families, LocalCapacity};
use rayon::prelude::*;
use score::LotScorer;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Input(Vec<InputError>),
    #[error("invalid parameters: {}", .0.join("; "))]
    Params(Vec<String>),
}

/// `C_f` and the territorial suppliers of every CPV prefix the needs use.
pub fn local_capacities(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
) -> BTreeMap<String, LocalCapacity> {
    let mut prefixes: Vec<String> = needs
        .iter()
        .map(|n| n.cpv.chars().take(params.family_digits).collect())
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
        .into_par_iter()
        .map(|p| {
            let capacity = LocalCapacity::of(&p, suppliers, params);
            (p, capacity)
        })
        .collect()
}

/// Plans the pooling of `needs`. `progress` is called with (families done, families) as
/// families finish, from any thread.
pub fn pool(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Plan, PoolError> {
    let started = Instant::now();
    let errors = params.validate();
    if !errors.is_empty() {
        return Err(PoolError::Params(errors));
    }
    let errors = validate_input(needs, suppliers);
    if !errors.is_empty() {
        return Err(PoolError::Input(errors));
    }
    let (families, solo) = families(needs, params);
    let capacities = local_capacities(needs, suppliers, params);
    let empty = LocalCapacity {
        c_cents: 0,
        suppliers: Vec::new(),
    };
    let capacity_of = |prefix: &str| capacities.get(prefix).unwrap_or(&empty);
    let done = AtomicUsize::new(0);
    // Largest families first, so that the long solves do not start last.
    let mut order: Vec<usize> = (0..families.len()).collect();
    order.sort_by_key(|&f| std::cmp::Reverse(families[f].needs.len()));
    let mut solved: Vec<(usize, solve::FamilySolution)> = order
        .into_par_iter()
        .map(|f| {
            let family = &families[f];
            let scorer =
                LotScorer::new(params, &family.prefix, capacity_of(&family.prefix).c_cents);
            let solution = solve::solve_family(needs, &family.needs, &scorer, params);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, families.len());
            (f, solution)
        })
        .collect();
    solved.sort_by_key(|(f, _)| *f);
    let solutions: Vec<solve::FamilySolution> = solved.into_iter().map(|(_, s)| s).collect();
    Ok(report::assemble(
        needs,
        params,
        &families,
        &solutions,
        &solo,
        &[],
        &capacity_of,
        started.elapsed().as_secs_f64(),
    ))
}
