//! The MILP back end: HiGHS by default (feature `highs`), the pure-Rust microlp as a fallback
//! (feature `microlp`) for machines without CMake. Models are written once against good_lp.

use good_lp::{Constraint, Expression, ProblemVariables, Solution, SolverModel};

/// Why a model could not be solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LpError {
    #[error("the model is infeasible")]
    Infeasible,
    #[error("the model is unbounded")]
    Unbounded,
    #[error("solver failure: {0}")]
    Other(String),
}

/// The values of the variables at the solution, and whether the solver proved optimality.
pub struct LpSolution {
    pub values: Vec<f64>,
    pub optimal: bool,
}

/// Options of one solve.
#[derive(Debug, Clone, Copy)]
pub struct LpOptions {
    pub time_limit_seconds: f64,
    pub relative_gap: f32,
}

impl Default for LpOptions {
    fn default() -> Self {
        Self {
            time_limit_seconds: 30.0,
            relative_gap: 1e-6,
        }
    }
}

/// Maximises `objective` under `constraints`; returns the values of `variables` in order.
pub fn maximise(
    vars: ProblemVariables,
    variables: &[good_lp::Variable],
    objective: Expression,
    constraints: Vec<Constraint>,
    options: LpOptions,
) -> Result<LpSolution, LpError> {
    let problem = vars.maximise(objective);
    solve(problem, variables, constraints, options)
}

#[cfg(feature = "highs")]
fn solve(
    problem: good_lp::variable::UnsolvedProblem,
    variables: &[good_lp::Variable],
    constraints: Vec<Constraint>,
    options: LpOptions,
) -> Result<LpSolution, LpError> {
    let mut model = problem
        .using(good_lp::solvers::highs::highs)
        .set_threads(1)
        .set_time_limit(options.time_limit_seconds)
        .set_option("random_seed", 0);
    model = model
        .set_mip_rel_gap(options.relative_gap)
        .map_err(|e| LpError::Other(e.to_string()))?;
    for c in constraints {
        model.add_constraint(c);
    }
    let solution = model.solve().map_err(map_error)?;
    let optimal = matches!(solution.status(), good_lp::solvers::SolutionStatus::Optimal);
    Ok(LpSolution {
        values: variables.iter().map(|v| solution.value(*v)).collect(),
        optimal,
    })
}

#[cfg(all(feature = "microlp", not(feature = "highs")))]
fn solve(
    problem: good_lp::variable::UnsolvedProblem,
    variables: &[good_lp::Variable],
    constraints: Vec<Constraint>,
    _options: LpOptions,
) -> Result<LpSolution, LpError> {
    let mut model = problem.using(good_lp::solvers::microlp::microlp);
    for c in constraints {
        model.add_constraint(c);
    }
    let solution = model.solve().map_err(map_error)?;
    Ok(LpSolution {
        values: variables.iter().map(|v| solution.value(*v)).collect(),
        optimal: true,
    })
}

fn map_error(e: good_lp::ResolutionError) -> LpError {
    match e {
        good_lp::ResolutionError::Infeasible => LpError::Infeasible,
        good_lp::ResolutionError::Unbounded => LpError::Unbounded,
        other => LpError::Other(other.to_string()),
    }
}
