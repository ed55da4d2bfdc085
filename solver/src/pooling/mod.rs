//! The pooling model (DESIGN §4): turns the needs of several buyers into joint tenders with
//! lots, trading the savings of volume against lots that local SMEs can bid for.

pub mod adjust;
mod bound;
pub mod check;
pub(crate) mod columns;
pub mod curve;
pub(crate) mod enumerate;
pub mod family;
pub mod frontier;
mod heuristic;
mod improve;
pub mod instance;
mod milp;
mod packing;
pub mod plan;
pub(crate) mod report;
pub mod score;
pub mod solve;

pub use check::check_plan;
pub use curve::SavingsCurve;
pub use frontier::{
    frontier, frontier_reporting, FamilyFrontier, FamilyPiece, Frontier, FrontierPoint,
};
pub use instance::{validate_input, InputError, Need, Params, Supplier};
pub use plan::Plan;
pub use report::procedures_alone;

use family::{families, LocalCapacity};
use rayon::prelude::*;
use score::LotScorer;
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Input(Vec<InputError>),
    #[error("invalid parameters: {}", .0.join("; "))]
    Params(Vec<String>),
}

/// A run's input checked and cut into families, with the local capacity of each CPV prefix.
pub(crate) struct Prepared {
    pub families: Vec<family::Family>,
    pub solo: Vec<usize>,
    pub capacities: BTreeMap<String, LocalCapacity>,
}

/// The parameters and the input checked (every problem said), then the families and the local
/// capacities: what `pool` and the frontier start from.
pub(crate) fn prepare(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
) -> Result<Prepared, PoolError> {
    let errors = params.validate();
    if !errors.is_empty() {
        return Err(PoolError::Params(errors));
    }
    let errors = validate_input(needs, suppliers);
    if !errors.is_empty() {
        return Err(PoolError::Input(errors));
    }
    let (families, solo) = families(needs, params);
    Ok(Prepared {
        families,
        solo,
        capacities: local_capacities(needs, suppliers, params),
    })
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

/// How far a plan is, as families finish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub families_done: usize,
    pub families: usize,
    /// The needs of the families done, and of all families.
    pub needs_done: usize,
    pub needs: usize,
    pub elapsed_seconds: f64,
}

impl Progress {
    /// The seconds left, estimated from the needs done so far at the pace so far; `None`
    /// before any need is done. The largest families go first and cost the most per need, so
    /// the estimate errs on the long side.
    pub fn seconds_left(&self) -> Option<f64> {
        if self.needs_done == 0 {
            return None;
        }
        let left = self.needs.saturating_sub(self.needs_done) as f64;
        Some(self.elapsed_seconds * left / self.needs_done as f64)
    }
}

/// Plans the pooling of `needs`. `progress` is called as each family finishes, from any
/// thread.
pub fn pool(
    needs: &[Need],
    suppliers: &[Supplier],
    params: &Params,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Plan, PoolError> {
    let started = Instant::now();
    let Prepared {
        families,
        solo,
        capacities,
    } = prepare(needs, suppliers, params)?;
    let empty = LocalCapacity::default();
    let capacity_of = |prefix: &str| capacities.get(prefix).unwrap_or(&empty);
    let done = std::sync::Mutex::new((0usize, 0usize));
    let needs_total: usize = families.iter().map(|f| f.needs.len()).sum();
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
            // Reported under the lock: the reports come in order, each a consistent count.
            if let Ok(mut counts) = done.lock() {
                counts.0 += 1;
                counts.1 += family.needs.len();
                progress(Progress {
                    families_done: counts.0,
                    families: families.len(),
                    needs_done: counts.1,
                    needs: needs_total,
                    elapsed_seconds: started.elapsed().as_secs_f64(),
                });
            }
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
