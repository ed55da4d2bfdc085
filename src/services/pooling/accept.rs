//! Accepting a proposal (its tenders created, the needs pooled, the members asked to approve)
//! or discarding it; a proposal whose needs changed since the run, or that breaks a rule, is
//! refused.

#[allow(unused_imports)]
use super::*;

/// Accepts a proposal: its tenders are created in `approving` (each member's lead approves its
/// share), their needs become `pooled`, the run `accepted`. Refused when a need of the plan is
/// no longer submitted (changed since the run): run again.
pub fn accept(
    pool: &Pool,
    actor: &Actor,
    run_id: i32,
    base_url: &str,
) -> Result<Vec<String>, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (status, year, plan_text): (String, i32, Option<String>) = pooling_runs::table
            .find(run_id)
            .select((
                pooling_runs::status,
                pooling_runs::budget_year,
                pooling_runs::plan,
            ))
            .first(conn)?;
        if status != "proposed" {
            return Err(AppError::Conflict(format!(
                "ce calcul est « {status} » : seule une proposition s'accepte"
            )));
        }
        let plan: Plan = plan_text
            .as_deref()
            .map(|t| read_stored(run_id, "plan", t))
            .transpose()?
            .ok_or_else(|| AppError::internal("proposed run without a plan"))?;
        let ids_text: String = pooling_runs::table
            .find(run_id)
            .select(pooling_runs::input_need_ids)
            .first(conn)?;
        let ids: Vec<i32> = read_stored(run_id, "besoins", &ids_text)?;
        let input: Vec<pooling::Need> = input_needs_by_id(conn, &ids)?;
        let changed = changed_since_run(&plan, &input);
        if !changed.is_empty() {
            return Err(AppError::Conflict(format!(
                "des besoins ont changé depuis le calcul : {} ; la proposition ne vaut plus, \
                 relancez la mutualisation",
                changed.join(" ; ")
            )));
        }
        let parameters_text: String = pooling_runs::table
            .find(run_id)
            .select(pooling_runs::parameters)
            .first(conn)?;
        let parameters: StoredParameters = read_stored(run_id, "paramètres", &parameters_text)?;
        let mut broken = broken_rules(&plan, &input);
        broken.extend(rule_breaks(
            &plan,
            &input,
            &input_suppliers(conn, year, &parameters.params)?,
            &parameters.params,
        ));
        if !broken.is_empty() {
            return Err(AppError::Conflict(format!(
                "la proposition ajustée enfreint les règles : {} ; corrigez-la avant de l'accepter",
                broken.join(" ; ")
            )));
        }
        let organisation_ids = tenders::organisation_ids(conn)?;
        let mut references = Vec::new();
        for tender in &plan.tenders {
            let ids: Vec<i32> = tender
                .lots
                .iter()
                .flat_map(|l| &l.need_ids)
                .filter_map(|id| id.parse().ok())
                .collect();
            let still: i64 = needs::table
                .filter(needs::id.eq_any(&ids))
                .filter(needs::status.eq(NeedStatus::Submitted))
                .count()
                .get_result(conn)?;
            if still != ids.len() as i64 {
                return Err(AppError::Conflict(format!(
                    "des besoins de la famille {} ont changé depuis le calcul (retirés, modifiés ou déjà mutualisés) : relancez la mutualisation",
                    tender.family
                )));
            }
            let reference = tenders::next_reference(conn, year)?;
            let (tender_id, need_ids) = tenders::create_from_plan(
                conn,
                run_id,
                &reference,
                year,
                tender,
                &organisation_ids,
            )?;
            let moved =
                crate::services::needs::move_needs_together(conn, &need_ids, NeedStatus::Pooled)?;
            if moved != need_ids.len() {
                return Err(AppError::Conflict(format!(
                    "des besoins de la famille {} ne sont plus soumis : relancez la mutualisation",
                    tender.family
                )));
            }
            audit::record(
                conn,
                actor.into(),
                Change::new("tender.created", "tender", tender_id)
                    .after(format!("{reference} ({} lots)", tender.lots.len())),
            )?;
            tenders::request_approvals(conn, tender_id, base_url)?;
            references.push(reference);
        }
        move_run(conn, run_id, crate::domain::RunStatus::Accepted)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("pooling.accepted", "pooling_run", run_id).after(references.join(" ")),
        )?;
        Ok(references)
    })
}

pub fn discard(pool: &Pool, actor: &Actor, run_id: i32) -> Result<(), AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        move_run(conn, run_id, crate::domain::RunStatus::Discarded)?;
        diesel::update(pooling_runs::table.find(run_id))
            .set(pooling_runs::finished_at.eq(Utc::now().naive_utc()))
            .execute(conn)?;
        // A worker computing it finds its job gone and drops its result.
        diesel::delete(pooling_jobs::table.find(run_id)).execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("pooling.discarded", "pooling_run", run_id),
        )?;
        Ok(())
    })
}
