//! The MILP back end: HiGHS by default (feature `highs`), the pure-Rust microlp as a fallback
//! (feature `microlp`) for machines without CMake. Models are written once against good_lp;
//! with HiGHS the solve itself goes through the `highs` crate so that the dual bound and the
//! gap, which good_lp does not expose, can be reported.

use good_lp::{Constraint, Expression, ProblemVariables, SolverModel, Variable};

/// Why a model could not be solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LpError {
    #[error("the model is infeasible")]
    Infeasible,
    #[error("the model is unbounded")]
    Unbounded,
    #[error("no feasible solution was found within the time limit")]
    NoSolution,
    #[error("solver failure: {0}")]
    Other(String),
}

/// The values of the variables at the solution, what the solver proved, and its bound.
#[derive(Debug, Clone)]
pub struct LpSolution {
    pub values: Vec<f64>,
    pub optimal: bool,
    /// The solver's objective value (without any constant term of the expression).
    pub objective: f64,
    /// The best bound on the objective the solver proved (equal to it when optimal).
    pub bound: f64,
    /// Simplex iterations the solve took (counted work; 0 where the back end does not say).
    pub iterations: u64,
}

/// Options of one solve.
#[derive(Debug, Clone)]
pub struct LpOptions {
    /// A wall-clock limit, infinite for solves whose result must not depend on the machine.
    pub time_limit_seconds: f64,
    /// A limit on branch-and-bound nodes: counted work, the same on every machine.
    pub max_nodes: Option<u64>,
    pub relative_gap: f64,
    /// A starting point: values of the variables in order, when known feasible.
    pub start: Option<Vec<f64>>,
}

impl Default for LpOptions {
    fn default() -> Self {
        Self {
            time_limit_seconds: 30.0,
            max_nodes: None,
            relative_gap: 1e-6,
            start: None,
        }
    }
}

/// Maximises `objective` under `constraints`; returns the values of `variables` in order.
/// `variables` must be every variable of `vars`, in creation order.
pub fn maximise(
    vars: ProblemVariables,
    variables: &[Variable],
    objective: Expression,
    constraints: Vec<Constraint>,
    options: LpOptions,
) -> Result<LpSolution, LpError> {
    let problem = vars.maximise(objective.clone());
    solve(problem, &objective, variables, constraints, options)
}

#[cfg(feature = "highs")]
fn solve(
    problem: good_lp::variable::UnsolvedProblem,
    _objective: &Expression,
    variables: &[Variable],
    constraints: Vec<Constraint>,
    options: LpOptions,
) -> Result<LpSolution, LpError> {
    use highs::HighsModelStatus as S;
    let mut model = problem.using(good_lp::solvers::highs::highs);
    for c in constraints {
        model.add_constraint(c);
    }
    let mut highs_model = model
        .try_into_inner()
        .map_err(|e| LpError::Other(e.to_string()))?;
    highs_model.make_quiet();
    // One thread and a fixed seed: the same model gives the same answer every time.
    let mut settings = vec![
        highs_model.try_set_option("threads", 1),
        highs_model.try_set_option("random_seed", 0),
        highs_model.try_set_option("mip_rel_gap", options.relative_gap),
    ];
    if options.time_limit_seconds.is_finite() {
        settings.push(highs_model.try_set_option("time_limit", options.time_limit_seconds));
    }
    if let Some(nodes) = options.max_nodes {
        let nodes = i32::try_from(nodes).unwrap_or(i32::MAX);
        settings.push(highs_model.try_set_option("mip_max_nodes", nodes));
    }
    if settings.iter().any(Result::is_err) {
        return Err(LpError::Other("HiGHS refused an option".into()));
    }
    if let Some(start) = &options.start {
        highs_model.set_solution(Some(start.as_slice()), None, None, None);
    }
    let solved = highs_model
        .try_solve()
        .map_err(|e| LpError::Other(format!("{e:?}")))?;
    let optimal = match solved.status() {
        S::Optimal => true,
        S::ReachedTimeLimit
        | S::ReachedSolutionLimit
        | S::ReachedInterrupt
        | S::ReachedIterationLimit
        | S::ReachedMemoryLimit
        | S::ObjectiveBound
        | S::ObjectiveTarget => false,
        S::Infeasible | S::UnboundedOrInfeasible => return Err(LpError::Infeasible),
        S::Unbounded => return Err(LpError::Unbounded),
        other => return Err(LpError::Other(format!("{other:?}"))),
    };
    if solved.primal_solution_status() != highs::HighsSolutionStatus::Feasible {
        return Err(LpError::NoSolution);
    }
    let objective = solved.objective_value();
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite())
        .unwrap_or(objective);
    // HiGHS columns are good_lp's variables in creation order, which `variables` lists.
    let iterations = solved
        .int_info_value(c"simplex_iteration_count")
        .map_or(0, |n| n.max(0) as u64);
    let mut values = solved.get_solution().columns().to_vec();
    values.truncate(variables.len());
    Ok(LpSolution {
        values,
        optimal,
        objective,
        // A pure LP (no integer column) reports no MIP bound: its optimum is its bound.
        bound: if optimal { bound.max(objective) } else { bound },
        iterations,
    })
}

#[cfg(all(feature = "microlp", not(feature = "highs")))]
fn solve(
    problem: good_lp::variable::UnsolvedProblem,
    objective: &Expression,
    variables: &[Variable],
    constraints: Vec<Constraint>,
    _options: LpOptions,
) -> Result<LpSolution, LpError> {
    use good_lp::Solution;
    let mut model = problem.using(good_lp::solvers::microlp::microlp);
    for c in constraints {
        model.add_constraint(c);
    }
    let solution = model.solve().map_err(|e| match e {
        good_lp::ResolutionError::Infeasible => LpError::Infeasible,
        good_lp::ResolutionError::Unbounded => LpError::Unbounded,
        other => LpError::Other(other.to_string()),
    })?;
    let values: Vec<f64> = variables.iter().map(|v| solution.value(*v)).collect();
    let value = objective.eval_with(&solution);
    Ok(LpSolution {
        values,
        optimal: true,
        objective: value,
        bound: value,
        iterations: 0,
    })
}

/// A linear program `min Σ c_j·y_j` over free variables `y` under rows `Σ_{j∈J} y_j ≥ b`,
/// grown a row at a time and solved again from the previous basis (with HiGHS; the fallback
/// solves it anew): the dual of a set partitioning relaxation whose lots are generated.
pub struct CuttingPlanes {
    costs: Vec<f64>,
    /// Bounds of the variables that have some (the others are free).
    bounds: Vec<Option<(f64, f64)>>,
    #[cfg(feature = "highs")]
    model: Option<(highs::Model, Vec<highs::Col>)>,
    #[cfg(not(feature = "highs"))]
    rows: Vec<(Vec<usize>, f64)>,
}

impl CuttingPlanes {
    pub fn new(costs: Vec<f64>) -> Self {
        Self {
            #[cfg(feature = "highs")]
            model: None,
            #[cfg(not(feature = "highs"))]
            rows: Vec::new(),
            bounds: vec![None; costs.len()],
            costs,
        }
    }

    /// Holds `y_j` within `[lower, upper]`; before the first row only.
    pub fn bound(&mut self, j: usize, lower: f64, upper: f64) {
        if let Some(b) = self.bounds.get_mut(j) {
            *b = Some((lower, upper));
        }
    }

    /// Adds the row `Σ_{j ∈ columns} y_j ≥ lower`.
    #[cfg(feature = "highs")]
    pub fn add_row(&mut self, columns: &[usize], lower: f64) -> Result<(), LpError> {
        if self.model.is_none() {
            let mut model = highs::Model::new(highs::RowProblem::default());
            model.make_quiet();
            let settings = [
                model.try_set_option("threads", 1),
                model.try_set_option("random_seed", 0),
            ];
            if settings.iter().any(Result::is_err) {
                return Err(LpError::Other("HiGHS refused an option".into()));
            }
            model.set_sense(highs::Sense::Minimise);
            let mut cols = Vec::with_capacity(self.costs.len());
            for (&cost, bound) in self.costs.iter().zip(&self.bounds) {
                let added = match *bound {
                    Some((lower, upper)) => model.try_add_column(cost, lower..=upper, []),
                    None => model.try_add_column(cost, ..f64::INFINITY, []),
                };
                let col = added.map_err(|e| LpError::Other(format!("{e:?}")))?;
                cols.push(col);
            }
            self.model = Some((model, cols));
        }
        let Some((model, cols)) = self.model.as_mut() else {
            return Err(LpError::Other("no model".into()));
        };
        let factors: Vec<(highs::Col, f64)> = columns.iter().map(|&j| (cols[j], 1.0)).collect();
        model
            .try_add_row(lower.., factors)
            .map_err(|e| LpError::Other(format!("{e:?}")))?;
        Ok(())
    }

    /// The values of `y` at the optimum and the simplex iterations it took.
    pub fn solve(&mut self) -> Result<(Vec<f64>, u64), LpError> {
        self.solve_with_duals()
            .map(|(values, _, iterations)| (values, iterations))
    }

    /// The values of `y` at the optimum, the duals of the rows (in the order they were added:
    /// the primal's values, `x ≥ 0`) and the simplex iterations it took.
    #[cfg(feature = "highs")]
    pub fn solve_with_duals(&mut self) -> Result<(Vec<f64>, Vec<f64>, u64), LpError> {
        use highs::HighsModelStatus as S;
        let Some((model, cols)) = self.model.take() else {
            return Err(LpError::Unbounded);
        };
        let solved = model
            .try_solve()
            .map_err(|e| LpError::Other(format!("{e:?}")))?;
        let status = solved.status();
        let iterations = solved
            .int_info_value(c"simplex_iteration_count")
            .map_or(0, |n| n.max(0) as u64);
        let solution = solved.get_solution();
        let values = solution.columns().to_vec();
        let duals = solution.dual_rows().iter().map(|d| d.abs()).collect();
        self.model = Some((highs::Model::from(solved), cols));
        match status {
            S::Optimal => Ok((values, duals, iterations)),
            S::Infeasible | S::UnboundedOrInfeasible => Err(LpError::Infeasible),
            S::Unbounded => Err(LpError::Unbounded),
            other => Err(LpError::Other(format!("{other:?}"))),
        }
    }

    #[cfg(not(feature = "highs"))]
    pub fn add_row(&mut self, columns: &[usize], lower: f64) -> Result<(), LpError> {
        self.rows.push((columns.to_vec(), lower));
        Ok(())
    }

    /// The fallback does not report the rows' duals: they come back empty.
    #[cfg(not(feature = "highs"))]
    pub fn solve_with_duals(&mut self) -> Result<(Vec<f64>, Vec<f64>, u64), LpError> {
        let mut vars = ProblemVariables::new();
        let y: Vec<Variable> = self
            .bounds
            .iter()
            .map(|bound| match *bound {
                Some((lower, upper)) => vars.add(good_lp::variable().min(lower).max(upper)),
                None => vars.add(good_lp::variable()),
            })
            .collect();
        let objective: Expression = y.iter().zip(&self.costs).map(|(&v, &c)| -c * v).sum();
        let constraints = self
            .rows
            .iter()
            .map(|(columns, lower)| {
                let sum: Expression = columns.iter().map(|&j| y[j]).sum();
                sum.geq(*lower)
            })
            .collect();
        let solution = maximise(vars, &y, objective, constraints, LpOptions::default())?;
        Ok((solution.values, Vec::new(), solution.iterations))
    }
}
