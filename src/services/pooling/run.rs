//! A pooling run: the lead's parameters read with the settings of the launch day, the run
//! queued as a durable job, claimed by a worker under a lease, computed by the engine and
//! finished — every change of status through `move_run`.

#[allow(unused_imports)]
use super::*;

/// The run form: the budget year, divisions, and the parameters people may change (every
/// other parameter keeps DESIGN's default).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RunForm {
    #[serde(default)]
    pub budget_year: String,
    /// CPV divisions separated by spaces or commas (`33 39`); empty: all.
    #[serde(default)]
    pub divisions: String,
    #[serde(default)]
    pub territory: String,
    #[serde(default)]
    pub family_digits: String,
    #[serde(default)]
    pub lot_cost: String,
    #[serde(default)]
    pub local_weight: String,
    /// EUR; empty: no cap.
    #[serde(default)]
    pub max_lot_value: String,
    /// The planned launch (publication) day, `JJ/MM/AAAA`: the procurement thresholds are
    /// those in force that day. Empty: today.
    #[serde(default)]
    pub launch_date: String,
    /// `oui`: `C_f` also counts the capacities declared on the programme and the co-bidding
    /// teams (DESIGN §4); a checkbox, absent when not ticked.
    #[serde(default)]
    pub count_sourcing: String,
}

impl RunForm {
    /// The form filled with DESIGN's defaults for a year.
    pub fn defaults(year: i32) -> Self {
        let p = Params::default();
        RunForm {
            budget_year: year.to_string(),
            divisions: String::new(),
            // Empty: the territory of the settings in force on the launch day.
            territory: String::new(),
            family_digits: p.family_digits.to_string(),
            lot_cost: crate::services::needs::french_number(p.lot_cost),
            local_weight: crate::services::needs::french_number(p.local_weight),
            max_lot_value: String::new(),
            launch_date: crate::domain::to_paris(Utc::now().naive_utc())
                .0
                .date()
                .format("%d/%m/%Y")
                .to_string(),
            count_sourcing: String::new(),
        }
    }
}

/// The solver's parameters of a form, every problem named.
pub(super) fn params_of(
    conn: &mut AnyConnection,
    form: &RunForm,
) -> Result<(i32, Vec<String>, Params), AppError> {
    let mut problems = Problems::default();
    let year = problems.check(
        "année budgétaire",
        form.budget_year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| format!("« {} » n'est pas une année", form.budget_year.trim())),
    );
    let split = |text: &str| -> Vec<String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    let divisions = split(&form.divisions);
    if divisions
        .iter()
        .any(|d| d.len() != 2 || !d.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.add(
            "divisions",
            "des divisions CPV de 2 chiffres (ex. 33 39), ou rien pour toutes",
        );
    }
    let mut params = Params::default();
    if let Some(digits) = problems.check(
        "chiffres de famille",
        form.family_digits
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|d| (2..=8).contains(d))
            .ok_or("de 2 à 8"),
    ) {
        params.family_digits = digits;
    }
    let number = |p: &mut Problems, field: &'static str, text: &str| {
        p.check(field, crate::files::parse_decimal(text))
    };
    if let Some(cost) = number(&mut problems, "coût d'un lot", &form.lot_cost) {
        params.lot_cost = cost;
    }
    if let Some(weight) = number(&mut problems, "poids local", &form.local_weight) {
        params.local_weight = weight;
    }
    params.max_lot_value = match form.max_lot_value.trim() {
        "" => None,
        text => number(&mut problems, "valeur maximale d'un lot", text),
    };
    // The thresholds are those in force on the day the tenders will be launched, not on a
    // delivery day.
    let today = crate::domain::to_paris(Utc::now().naive_utc()).0.date();
    let launch = match form.launch_date.trim() {
        "" => Some(today),
        text => problems.check(
            "date de lancement prévue",
            crate::domain::parse_date(text)
                .map_err(|e| e.0)
                .and_then(|day| match day >= today {
                    true => Ok(day),
                    false => Err(format!(
                        "le {} est passé : une date de lancement à venir",
                        day.format("%d/%m/%Y")
                    )),
                }),
        ),
    };
    params.count_sourcing = match form.count_sourcing.as_str() {
        "" => false,
        "oui" => true,
        other => {
            problems.add(
                "déclarations et équipes",
                format!(
                    "« {} » : cochez la case ou laissez-la vide",
                    other.chars().take(20).collect::<String>()
                ),
            );
            false
        }
    };
    params.reference_date = launch.map(|day| day.format("%Y-%m-%d").to_string());
    // The settings of the launch day: their territory unless the lead names another, and
    // every set of thresholds (the engine takes the launch day's).
    let in_force = crate::services::settings::in_force(conn, launch.unwrap_or(today))?;
    params.thresholds = crate::services::settings::threshold_table(conn)?;
    params.territory = match split(&form.territory) {
        territory if territory.is_empty() => in_force.territory,
        territory => {
            if territory.iter().any(|d| d.len() < 2 || d.len() > 3) {
                problems.add("territoire", "des numéros de département (ex. 21 71)");
            }
            territory
        }
    };
    for error in params.validate() {
        problems.add("paramètres", error);
    }
    problems.finish()?;
    let classes: Vec<(String, String)> = organisations::table
        .select((organisations::code, organisations::buyer_class))
        .load(conn)?;
    for (code, class) in classes {
        let class = match class.as_str() {
            "central" => BuyerClass::Central,
            _ => BuyerClass::SubCentral,
        };
        params.buyers.insert(code, class);
    }
    Ok((year.unwrap_or_default(), divisions, params))
}

/// The submitted needs of a year (and divisions), as the engine reads them.
pub(super) fn input_needs(
    conn: &mut AnyConnection,
    year: i32,
    divisions: &[String],
) -> QueryResult<Vec<pooling::Need>> {
    let rows: Vec<SolverNeedRow> = needs::table
        .inner_join(organisations::table)
        .filter(needs::status.eq(NeedStatus::Submitted))
        .filter(needs::budget_year.eq(year))
        .order(needs::id)
        .select(SOLVER_NEED_COLUMNS)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| divisions.is_empty() || divisions.iter().any(|d| r.2.starts_with(d.as_str())))
        .map(solver_need)
        .collect())
}

pub(super) type SolverNeedRow = (
    i32,
    String,
    String,
    String,
    i64,
    String,
    i64,
    String,
    NaiveDate,
    NaiveDate,
    bool,
);

/// The columns of a need the engine reads (with its organisation's code).
#[allow(clippy::type_complexity)]
pub(super) const SOLVER_NEED_COLUMNS: (
    needs::id,
    organisations::code,
    needs::cpv_code,
    needs::title,
    needs::quantity_milli,
    needs::unit,
    needs::unit_price_cents,
    needs::delivery_postcode,
    needs::window_start,
    needs::window_end,
    needs::poolable,
) = (
    needs::id,
    organisations::code,
    needs::cpv_code,
    needs::title,
    needs::quantity_milli,
    needs::unit,
    needs::unit_price_cents,
    needs::delivery_postcode,
    needs::window_start,
    needs::window_end,
    needs::poolable,
);

pub(super) fn solver_need(r: SolverNeedRow) -> pooling::Need {
    pooling::Need {
        need_id: r.0.to_string(),
        buyer: r.1,
        cpv: r.2,
        title: r.3,
        quantity: r.4 as f64 / 1000.0,
        unit: r.5,
        unit_price_eur: r.6 as f64 / 100.0,
        delivery_postcode: r.7,
        window_start: r.8.format("%Y-%m-%d").to_string(),
        window_end: r.9.format("%Y-%m-%d").to_string(),
        poolable: r.10,
    }
}

/// Needs by id, whatever their status, as the engine reads them.
pub(super) fn input_needs_by_id(
    conn: &mut AnyConnection,
    ids: &[i32],
) -> QueryResult<Vec<pooling::Need>> {
    let rows: Vec<SolverNeedRow> = needs::table
        .inner_join(organisations::table)
        .filter(needs::id.eq_any(ids))
        .order(needs::id)
        .select(SOLVER_NEED_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(solver_need).collect())
}

/// Every registered supplier, as the engine reads them; when the lead counts sourcing
/// (`count_sourcing`), also the capacities companies declared on the year's planned purchases
/// and the co-bidding teams formed on them (DESIGN §4).
pub(super) fn input_suppliers(
    conn: &mut AnyConnection,
    year: i32,
    params: &Params,
) -> QueryResult<Vec<pooling::Supplier>> {
    let mut rows = registered_suppliers(conn)?;
    if params.count_sourcing {
        let extra = sourcing_suppliers(conn, year, &rows, params)?;
        rows.extend(extra);
    }
    Ok(rows)
}

/// The sourcing rows of a year: one per declaration on a planned purchase of the year's needs
/// (the company's declared capacity for the family), one per team formed on the exchange
/// (its members' combined capacity). A row stands for its companies (`members`): the engine
/// never counts a company twice.
fn sourcing_suppliers(
    conn: &mut AnyConnection,
    year: i32,
    registered: &[pooling::Supplier],
    params: &Params,
) -> QueryResult<Vec<pooling::Supplier>> {
    use crate::db::schema::sourcing_declarations;
    let prefix = format!("needs:{year}:");
    let by_id: std::collections::BTreeMap<String, &pooling::Supplier> = registered
        .iter()
        .map(|s| (s.supplier_id.clone(), s))
        .collect();
    let family = |cpv: &str| -> String {
        groupement_solver::pooling::family::significant_prefix(cpv).to_string()
    };
    let mut out = Vec::new();
    let declared: Vec<(i32, String, i32, i64)> = sourcing_declarations::table
        .filter(sourcing_declarations::purchase_key.like(format!("{prefix}%")))
        .order(sourcing_declarations::id)
        .select((
            sourcing_declarations::id,
            sourcing_declarations::cpv,
            sourcing_declarations::supplier_id,
            sourcing_declarations::capacity_cents,
        ))
        .load(conn)?;
    for (id, cpv, supplier, capacity) in declared {
        let Some(company) = by_id.get(&supplier.to_string()) else {
            continue;
        };
        out.push(pooling::Supplier {
            supplier_id: format!("declaration:{id}"),
            siret: company.siret.clone(),
            name: format!("capacité déclarée par {}", company.name),
            postcode: company.postcode.clone(),
            cpv_prefixes: vec![family(&cpv)],
            annual_capacity_eur: capacity as f64 / 100.0,
            sme: company.sme,
            members: vec![company.supplier_id.clone()],
        });
    }
    for team in crate::services::cobidding::teams(conn, &prefix)? {
        let companies: Vec<&pooling::Supplier> = team
            .members
            .iter()
            .filter_map(|m| by_id.get(&m.to_string()).copied())
            .collect();
        // A team is of the territory when all its companies are (its row then takes the
        // postcode of its first company); another team is not counted at all.
        let territorial = companies
            .iter()
            .all(|c| groupement_solver::pooling::family::is_territorial(c, params));
        if companies.len() != team.members.len() || !territorial {
            continue;
        }
        out.push(pooling::Supplier {
            supplier_id: format!("team:{}:{}", team.target, companies[0].supplier_id),
            siret: companies[0].siret.clone(),
            name: format!(
                "équipe {}",
                companies
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            postcode: companies[0].postcode.clone(),
            cpv_prefixes: vec![family(&team.cpv)],
            annual_capacity_eur: team.capacity_cents as f64 / 100.0,
            sme: companies.iter().all(|c| c.sme),
            members: companies.iter().map(|c| c.supplier_id.clone()).collect(),
        });
    }
    Ok(out)
}

/// Every registered supplier, as the engine reads them.
fn registered_suppliers(conn: &mut AnyConnection) -> QueryResult<Vec<pooling::Supplier>> {
    let rows: Vec<(i32, String, String, String, i64, bool)> = suppliers::table
        .order(suppliers::id)
        .select((
            suppliers::id,
            suppliers::siret,
            suppliers::name,
            suppliers::postcode,
            suppliers::annual_capacity_cents,
            suppliers::sme,
        ))
        .load(conn)?;
    let mut by_supplier = crate::services::suppliers::interests_by_supplier(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, siret, name, postcode, capacity, sme)| {
            let mut cpv_prefixes = by_supplier.remove(&id)?;
            cpv_prefixes.sort();
            Some(pooling::Supplier {
                supplier_id: id.to_string(),
                siret,
                name,
                postcode,
                cpv_prefixes,
                annual_capacity_eur: capacity as f64 / 100.0,
                sme,
                members: Vec::new(),
            })
        })
        .collect())
}

/// What a run is stored with: the parameters and the divisions asked.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredParameters {
    pub divisions: Vec<String>,
    pub params: Params,
}

/// A run's stored JSON (its parameters, input, plan or report), read back: a failure is logged
/// with the run and the part, and becomes an error the page shows ("stored run n° N: its plan
/// could not be read"), never a value silently dropped.
pub fn read_stored<T: serde::de::DeserializeOwned>(
    run_id: i32,
    part: &str,
    text: &str,
) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(run = run_id, part, error = %e, "a stored pooling run does not parse");
        AppError::Conflict(format!(
            "la mutualisation n° {run_id} est enregistrée sous une forme illisible ({part} : {e}) : \
             abandonnez-la et relancez un calcul"
        ))
    })
}

/// The run of `year` in progress (queued or computing), if any.
pub(super) fn in_progress(conn: &mut AnyConnection, year: i32) -> QueryResult<Option<i32>> {
    pooling_runs::table
        .filter(pooling_runs::budget_year.eq(year))
        .filter(pooling_runs::status.eq(RunStatus::Running))
        .select(pooling_runs::id)
        .first(conn)
        .optional()
}

/// Starts a run: checks the form, records the run (`running`) with its parameters and input
/// and queues its job; a worker ([`work_once`], `groupement worker`) executes it. A second run
/// of a year whose run is still in progress is refused.
pub fn start(pool: &Pool, actor: &Actor, form: &RunForm) -> Result<i32, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    let (year, divisions, params) = params_of(&mut conn, form)?;
    let busy = |id: i32| {
        AppError::Conflict(format!(
            "la mutualisation n° {id} de {year} est déjà en attente ou en cours de calcul : \
             attendez sa fin (ou abandonnez-la) avant d'en lancer une autre"
        ))
    };
    write_transaction(&mut conn, |conn| {
        if let Some(id) = in_progress(conn, year)? {
            return Err(busy(id));
        }
        let input = input_needs(conn, year, &divisions)?;
        if input.is_empty() {
            return Err(AppError::validation(
                "année budgétaire",
                format!(
                    "aucun besoin soumis pour {year}{}",
                    match divisions.is_empty() {
                        true => String::new(),
                        false => format!(" dans les divisions {}", divisions.join(", ")),
                    }
                ),
            ));
        }
        let ids: Vec<i32> = input
            .iter()
            .filter_map(|n| n.need_id.parse().ok())
            .collect();
        let stored = StoredParameters {
            divisions: divisions.clone(),
            params: params.clone(),
        };
        let id: i32 = diesel::insert_into(pooling_runs::table)
            .values(NewPoolingRun {
                started_by: Some(actor.user_id),
                budget_year: year,
                status: "running",
                parameters: &serde_json::to_string(&stored).map_err(AppError::internal)?,
                input_need_ids: &serde_json::to_string(&ids).map_err(AppError::internal)?,
                report: None,
                plan: None,
                finished_at: None,
            })
            .returning(pooling_runs::id)
            .get_result(conn)?;
        diesel::insert_into(pooling_run_progress::table)
            .values((
                pooling_run_progress::run_id.eq(id),
                pooling_run_progress::families_done.eq(0),
            ))
            .execute(conn)?;
        diesel::insert_into(pooling_jobs::table)
            .values(pooling_jobs::run_id.eq(id))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("pooling.started", "pooling_run", id)
                .after(format!("{year}, {} besoins", ids.len())),
        )?;
        Ok(id)
    })
}

/// How long a claimed job stays a worker's without news from it; the worker renews its lease
/// every third of this while the engine works.
pub const LEASE_SECONDS: i64 = 30;

/// A run given up after this many workers took it without finishing it (each one stopped, or
/// the engine took the process down).
pub const MOST_ATTEMPTS: i32 = 3;

/// A worker's name: host, process and a random part.
pub fn worker_name() -> String {
    format!(
        "{}:{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
        std::process::id(),
        &crate::services::auth::random_token()[..8]
    )
}

/// Takes a job: `run_id` when given, else the oldest queued one or one whose lease has passed;
/// one conditional update each, so two workers never take the same job. Returns the run.
pub(super) fn claim(
    pool: &Pool,
    worker: &str,
    run_id: Option<i32>,
) -> Result<Option<i32>, AppError> {
    let mut conn = pool.get()?;
    let now = Utc::now().naive_utc();
    // Queued, or claimed by a worker whose lease has passed.
    let claimable = pooling_jobs::state
        .eq("queued")
        .or(pooling_jobs::lease_until.lt(now));
    let mut candidates = pooling_jobs::table
        .filter(claimable)
        .select(pooling_jobs::run_id)
        .order(pooling_jobs::run_id)
        .limit(8)
        .into_boxed();
    if let Some(id) = run_id {
        candidates = candidates.filter(pooling_jobs::run_id.eq(id));
    }
    for id in candidates.load::<i32>(&mut conn)? {
        let taken = diesel::update(pooling_jobs::table.find(id).filter(claimable))
            .set((
                pooling_jobs::state.eq("claimed"),
                pooling_jobs::claimed_by.eq(worker),
                pooling_jobs::lease_until.eq(now + chrono::Duration::seconds(LEASE_SECONDS)),
                pooling_jobs::attempts.eq(pooling_jobs::attempts + 1),
            ))
            .execute(&mut conn)?;
        if taken == 1 {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Renews the worker's lease on its job; `false` when the job is no longer its own.
pub(super) fn renew(pool: &Pool, worker: &str, run_id: i32) -> Result<bool, AppError> {
    let lease = Utc::now().naive_utc() + chrono::Duration::seconds(LEASE_SECONDS);
    let renewed = diesel::update(
        pooling_jobs::table
            .find(run_id)
            .filter(pooling_jobs::claimed_by.eq(worker)),
    )
    .set(pooling_jobs::lease_until.eq(lease))
    .execute(&mut pool.get()?)?;
    Ok(renewed == 1)
}

/// One turn of a worker: takes a job and executes it; `false` when there was none.
pub fn work_once(pool: &Pool, worker: &str) -> Result<bool, AppError> {
    match claim(pool, worker, None)? {
        Some(run_id) => {
            execute_claimed(pool, worker, run_id)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Executes run `run_id` now on this thread (the command line and tests): takes its job, or,
/// when a worker has it already, waits for that worker to finish it (at most ten minutes).
pub fn execute(pool: &Pool, run_id: i32) -> Result<(), AppError> {
    let worker = worker_name();
    if claim(pool, &worker, Some(run_id))?.is_some() {
        return execute_claimed(pool, &worker, run_id);
    }
    for _ in 0..6000 {
        let status: String = pooling_runs::table
            .find(run_id)
            .select(pooling_runs::status)
            .first(&mut pool.get()?)?;
        if status != "running" {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(AppError::internal(format!(
        "run {run_id} still in progress"
    )))
}

/// Runs the engine for a claimed run — holding no database connection while it works, its lease
/// renewed by a thread of its own —, recording progress as families finish, then the plan
/// (`proposed`) or the error (`failed`), with the job's end, unless another worker has taken
/// the job meanwhile (its lease passed): then this result is dropped.
pub(super) fn execute_claimed(pool: &Pool, worker: &str, run_id: i32) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    type Claimed = (String, String, i32, i32, Option<String>);
    let (parameters, ids_text, year, attempts, stored_frontier): Claimed = pooling_runs::table
        .inner_join(pooling_jobs::table)
        .filter(pooling_runs::id.eq(run_id))
        .filter(pooling_runs::status.eq(RunStatus::Running))
        .select((
            pooling_runs::parameters,
            pooling_runs::input_need_ids,
            pooling_runs::budget_year,
            pooling_jobs::attempts,
            pooling_runs::frontier,
        ))
        .first(&mut conn)?;
    if attempts > MOST_ATTEMPTS {
        return finish(
            pool,
            worker,
            run_id,
            Err(format!(
                "abandonné après {MOST_ATTEMPTS} tentatives interrompues : relancez-le"
            )),
            None,
        );
    }
    let stored: StoredParameters = read_stored(run_id, "paramètres", &parameters)?;
    let ids: Vec<i32> = read_stored(run_id, "besoins", &ids_text)?;
    // The needs as they were when the run started.
    let input: Vec<pooling::Need> = input_needs(&mut conn, year, &stored.divisions)?
        .into_iter()
        .filter(|n| n.need_id.parse().is_ok_and(|id| ids.contains(&id)))
        .collect();
    let suppliers = input_suppliers(&mut conn, year, &stored.params)?;
    // The frontier does not depend on the local weight: a run computed again at a point of its
    // frontier keeps it, unless its needs are no longer those it was computed on.
    let frontier_kept = stored_frontier.filter(|_| input.len() == ids.len());
    drop(conn);
    let outcome = {
        let (done, ticks) = std::sync::mpsc::channel::<()>();
        let (lease_pool, lease_worker) = (pool.clone(), worker.to_string());
        let lease = std::thread::spawn(move || {
            let every = std::time::Duration::from_secs((LEASE_SECONDS / 3).max(1) as u64);
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(every) {
                if let Err(e) = renew(&lease_pool, &lease_worker, run_id) {
                    tracing::warn!(run = run_id, error = %e.detailed(), "pooling lease not renewed");
                }
            }
        });
        let outcome = compute(
            pool,
            run_id,
            &input,
            &suppliers,
            &stored.params,
            frontier_kept,
        );
        drop(done);
        let _ = lease.join();
        outcome
    };
    match outcome {
        Ok((plan, frontier)) => finish(pool, worker, run_id, Ok(plan), Some(frontier)),
        Err(e) => finish(pool, worker, run_id, Err(e), None),
    }
}

/// The engine's work for a run: the plan, then the frontier (unless `frontier` is kept from
/// before, as JSON), each phase's progress written as its families finish.
fn compute(
    pool: &Pool,
    run_id: i32,
    input: &[pooling::Need],
    suppliers: &[pooling::Supplier],
    params: &Params,
    frontier: Option<String>,
) -> Result<(Plan, String), String> {
    let plan = pooling::pool(
        input,
        suppliers,
        params,
        &progress_writer(pool, run_id, "plan"),
    )
    .map_err(|e| e.to_string())?;
    let frontier = match frontier {
        Some(kept) => kept,
        None => {
            let found = pooling::frontier_reporting(
                input,
                suppliers,
                params,
                &progress_writer(pool, run_id, "frontier"),
            )
            .map_err(|e| e.to_string())?;
            serde_json::to_string(&found).map_err(|e| e.to_string())?
        }
    };
    Ok((plan, frontier))
}

/// Writes a phase's progress to the run's progress row: at its start, then at most twice a
/// second and at its end (a year has thousands of families).
fn progress_writer(
    pool: &Pool,
    run_id: i32,
    phase: &'static str,
) -> impl Fn(pooling::Progress) + Sync {
    if let Ok(mut conn) = pool.get() {
        let started = diesel::update(pooling_run_progress::table.find(run_id))
            .set((
                pooling_run_progress::phase.eq(phase),
                pooling_run_progress::families_done.eq(0),
                pooling_run_progress::needs_done.eq(0),
                pooling_run_progress::seconds_left.eq(None::<i32>),
                pooling_run_progress::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(&mut conn);
        if let Err(e) = started {
            tracing::warn!(run = run_id, error = %e, "pooling progress not written");
        }
    }
    let progress_pool = pool.clone();
    let last_written = std::sync::Mutex::new(None::<std::time::Instant>);
    move |p: pooling::Progress| {
        let finished = p.families_done == p.families;
        let due = last_written.lock().is_ok_and(|mut last| {
            let due = finished || last.is_none_or(|t| t.elapsed().as_millis() >= 500);
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        });
        if !due {
            return;
        }
        if let Ok(mut conn) = progress_pool.get() {
            let _ = diesel::update(pooling_run_progress::table.find(run_id))
                .set((
                    pooling_run_progress::families_done.eq(p.families_done as i32),
                    pooling_run_progress::families_total.eq(p.families as i32),
                    pooling_run_progress::needs_done.eq(p.needs_done as i32),
                    pooling_run_progress::needs_total.eq(p.needs as i32),
                    pooling_run_progress::seconds_left.eq(p
                        .seconds_left()
                        .map(|s| s.ceil().min(f64::from(i32::MAX)) as i32)),
                    pooling_run_progress::updated_at.eq(Utc::now().naive_utc()),
                ))
                .execute(&mut conn);
        }
    }
}

/// Records a run's result and ends its job, if the job is still this worker's.
pub(super) fn finish(
    pool: &Pool,
    worker: &str,
    run_id: i32,
    outcome: Result<Plan, String>,
    frontier: Option<String>,
) -> Result<(), AppError> {
    let now = Utc::now().naive_utc();
    let (plan, report, error) = match &outcome {
        Ok(plan) => (
            Some(serde_json::to_string(plan).map_err(AppError::internal)?),
            Some(serde_json::to_string(&plan.solver).map_err(AppError::internal)?),
            None,
        ),
        Err(error) => (None, None, Some(error.clone())),
    };
    let status = match outcome {
        Ok(_) => crate::domain::RunStatus::Proposed,
        Err(_) => crate::domain::RunStatus::Failed,
    };
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let ended = diesel::delete(
            pooling_jobs::table
                .find(run_id)
                .filter(pooling_jobs::claimed_by.eq(worker)),
        )
        .execute(conn)?;
        if ended != 1 {
            tracing::warn!(
                run = run_id,
                "pooling job taken by another worker: result dropped"
            );
            return Ok(());
        }
        move_run(conn, run_id, status)?;
        diesel::update(pooling_runs::table.find(run_id))
            .set((
                pooling_runs::plan.eq(plan.as_deref()),
                pooling_runs::report.eq(report.as_deref()),
                pooling_runs::error.eq(error.as_deref()),
                pooling_runs::finished_at.eq(now),
            ))
            .execute(conn)?;
        if let Some(frontier) = &frontier {
            diesel::update(pooling_runs::table.find(run_id))
                .set(pooling_runs::frontier.eq(frontier))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Moves a run to `to` by a conditional update on the statuses its life cycle allows it from
/// (`domain::RunStatus`); refused, with its present status, otherwise.
pub fn move_run(
    conn: &mut AnyConnection,
    run_id: i32,
    to: crate::domain::RunStatus,
) -> Result<(), AppError> {
    let from = RunStatus::predecessors(to);
    let moved = diesel::update(
        pooling_runs::table
            .find(run_id)
            .filter(pooling_runs::status.eq_any(&from)),
    )
    .set(pooling_runs::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let now: String = pooling_runs::table
        .find(run_id)
        .select(pooling_runs::status)
        .first(conn)?;
    Err(AppError::Conflict(format!(
        "la mutualisation n° {run_id} est « {} » : elle ne peut pas devenir « {} »",
        RunStatus::parse(&now).map_or("inconnu", RunStatus::label_fr),
        to.label_fr()
    )))
}

/// Whether a run in progress is still waiting for a worker.
pub fn queued(pool: &Pool, run_id: i32) -> Result<bool, AppError> {
    Ok(pooling_jobs::table
        .find(run_id)
        .filter(pooling_jobs::state.eq("queued"))
        .count()
        .get_result::<i64>(&mut pool.get()?)?
        > 0)
}
