//! The frontier of a run (#26): the plans from savings only to the most local, computed by the
//! worker with the run's plan. The lead picks one of them (or the share of value local SMEs
//! should be able to take) and the run is computed again at that plan's local weight: the
//! proposal then is that plan, its explanations saying what the choice cost or gained.

#[allow(unused_imports)]
use super::*;
use groupement_solver::pooling::{Frontier, FrontierPoint};

/// What a lead picks on the frontier: a plan (its number on the page, from 1), or the share of
/// the value they want in lots local SMEs can take (percent, French decimal), which picks the
/// plan with the most savings reaching it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FrontierChoice {
    #[serde(default)]
    pub point: String,
    #[serde(default)]
    pub part_locale: String,
}

/// The field names of the choice's problems (the page puts them beside its fields).
pub const POINT_FIELD: &str = "plan choisi";
pub const SHARE_FIELD: &str = "part locale voulue";

/// The plan a choice names, as an index into the frontier's points; every problem said.
pub fn pick(frontier: &Frontier, choice: &FrontierChoice) -> Result<usize, AppError> {
    let count = frontier.points.len();
    if count == 0 {
        return Err(AppError::validation(
            POINT_FIELD,
            "la frontière de ce calcul est vide",
        ));
    }
    let point = choice.point.trim();
    let share = choice.part_locale.trim();
    if !point.is_empty() {
        return point
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=count).contains(n))
            .map(|n| n - 1)
            .ok_or_else(|| {
                AppError::validation(
                    POINT_FIELD,
                    format!("« {point} » n'est pas un plan de la frontière (de 1 à {count})"),
                )
            });
    }
    if share.is_empty() {
        return Err(AppError::validation(
            SHARE_FIELD,
            "indiquez la part de la valeur (en %) que les PME locales doivent pouvoir prendre, \
             ou choisissez un plan dans le tableau",
        ));
    }
    let percent = crate::files::parse_decimal(share.trim_end_matches('%'))
        .ok()
        .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
        .ok_or_else(|| {
            AppError::validation(
                SHARE_FIELD,
                format!("« {share} » n'est pas un pourcentage de 0 à 100 (ex. 30 ou 27,5)"),
            )
        })?;
    let best = frontier
        .points
        .iter()
        .map(|p| p.local_share)
        .fold(0.0_f64, f64::max);
    let reaching = frontier.cheapest_reaching(percent / 100.0).ok_or_else(|| {
        AppError::validation(
            SHARE_FIELD,
            format!(
                "aucun plan n'atteint {} % de la valeur à la portée des PME locales : au plus {} %",
                Locale::Fr.decimal(percent, 1),
                Locale::Fr.decimal(best * 100.0, 1)
            ),
        )
    })?;
    Ok(frontier
        .points
        .iter()
        .position(|p| std::ptr::eq(p, reaching))
        .unwrap_or(0))
}

/// A run's stored frontier, read back.
pub fn stored_frontier(run_id: i32, text: &str) -> Result<Frontier, AppError> {
    read_stored(run_id, "frontière", text)
}

/// The point of the frontier a plan stands on: the point of the run's weight when the plan
/// has its figures (a plan changed by hand after the run stands on none).
pub fn point_of_plan<'f>(
    frontier: &'f Frontier,
    plan: &Plan,
    weight: f64,
) -> Option<(usize, &'f FrontierPoint)> {
    let (index, point) = frontier.point_at(weight)?;
    let k = &plan.kpis;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    let same = k.lots_after == point.lots
        && close(k.local_share_after, point.local_share)
        && close(k.expected_discount_after, point.expected_discount_eur);
    same.then_some((index, point))
}

/// Picks a plan of a proposal's frontier: the run is computed again at that plan's local weight
/// (its parameters say so, the journal too); changes made by hand to the proposal are dropped
/// with it. Returns the plan's number (from 1).
pub fn choose(
    pool: &Pool,
    actor: &Actor,
    run_id: i32,
    choice: &FrontierChoice,
) -> Result<usize, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (status, year, parameters, frontier): (String, i32, String, Option<String>) =
            pooling_runs::table
                .find(run_id)
                .select((
                    pooling_runs::status,
                    pooling_runs::budget_year,
                    pooling_runs::parameters,
                    pooling_runs::frontier,
                ))
                .first(conn)?;
        if RunStatus::parse(&status) != Some(RunStatus::Proposed) {
            return Err(AppError::Conflict(format!(
                "la mutualisation n° {run_id} est « {} » : un plan de la frontière se choisit \
                 sur une proposition à examiner",
                RunStatus::parse(&status).map_or("inconnu", RunStatus::label_fr)
            )));
        }
        let frontier = stored_frontier(
            run_id,
            frontier.as_deref().ok_or_else(|| {
                AppError::Conflict(format!(
                    "la mutualisation n° {run_id} n'a pas de frontière (calculée avant qu'elle \
                     existe) : relancez un calcul"
                ))
            })?,
        )?;
        let index = pick(&frontier, choice)?;
        let point = &frontier.points[index];
        if let Some(other) = in_progress(conn, year)? {
            return Err(AppError::Conflict(format!(
                "la mutualisation n° {other} de {year} est en cours de calcul : attendez sa fin \
                 avant de recalculer celle-ci"
            )));
        }
        let mut stored: StoredParameters = read_stored(run_id, "paramètres", &parameters)?;
        let before = stored.params.local_weight;
        stored.params.local_weight = point.weight();
        move_run(conn, run_id, RunStatus::Running)?;
        diesel::update(pooling_runs::table.find(run_id))
            .set((
                pooling_runs::parameters
                    .eq(serde_json::to_string(&stored).map_err(AppError::internal)?),
                pooling_runs::plan.eq(None::<String>),
                pooling_runs::report.eq(None::<String>),
                pooling_runs::error.eq(None::<String>),
                pooling_runs::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        diesel::update(pooling_run_progress::table.find(run_id))
            .set((
                pooling_run_progress::phase.eq("plan"),
                pooling_run_progress::families_done.eq(0),
                pooling_run_progress::needs_done.eq(0),
                pooling_run_progress::seconds_left.eq(None::<i32>),
            ))
            .execute(conn)?;
        diesel::insert_into(pooling_jobs::table)
            .values(pooling_jobs::run_id.eq(run_id))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("pooling.point_chosen", "pooling_run", run_id).before_after(
                format!(
                    "poids local {}",
                    crate::services::needs::french_number(before)
                ),
                format!(
                    "plan {} sur {} : poids local {}, gain {}, part locale {} %",
                    index + 1,
                    frontier.points.len(),
                    crate::services::needs::french_number(stored.params.local_weight),
                    crate::domain::Cents::from_euros_f64(point.savings_eur),
                    Locale::Fr.decimal(point.local_share * 100.0, 1)
                ),
            ),
        )?;
        Ok(index + 1)
    })
}
