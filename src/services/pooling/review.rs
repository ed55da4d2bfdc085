//! The lead reviews a proposal: the plan read back from storage, the rules it breaks
//! (windows, anti-splitting) evaluated again, and the adjustments (move a need, merge lots).

#[allow(unused_imports)]
use super::*;

/// A run as its page shows it.
#[derive(Debug, Serialize)]
pub struct RunView {
    pub id: i32,
    pub budget_year: i32,
    pub status: String,
    pub divisions: Vec<String>,
    pub params: Params,
    pub needs: usize,
    pub families_done: i32,
    pub families_total: i32,
    /// The needs of the families done, and of all families (the poolable needs).
    pub needs_done: i32,
    pub needs_total: i32,
    /// The engine's estimate of the seconds left, once it can make one.
    pub seconds_left: Option<i32>,
    pub started_at: NaiveDateTime,
    pub error: Option<String>,
    pub plan: Option<Plan>,
    /// Title of each need of the run, by id.
    pub titles: std::collections::BTreeMap<String, String>,
    /// Name of each supplier the plan names as eligible, by id.
    pub supplier_names: std::collections::BTreeMap<String, String>,
    /// The rules the proposal breaks ([`rule_breaks`]): while any, it cannot be accepted.
    pub rule_breaks: Vec<String>,
    /// The procedure each member of each tender would have followed alone, by family:
    /// `(buyer, procedure code)` ([`pooling::procedures_alone`]).
    pub alone: std::collections::BTreeMap<String, Vec<(String, String)>>,
    /// The plans from savings only to the most local, once computed ([`super::choose`]).
    pub frontier: Option<pooling::Frontier>,
    /// What the engine is computing while the run is: `plan` or `frontier`.
    pub phase: String,
}

/// How far a run has got, as its engine last wrote it: families done and in all, needs done
/// and in all, seconds left (once estimated); `None` before the run has a progress row.
pub type RunProgress = (i32, i32, i32, i32, Option<i32>);

pub fn progress(conn: &mut AnyConnection, run_id: i32) -> QueryResult<Option<RunProgress>> {
    pooling_run_progress::table
        .find(run_id)
        .select((
            pooling_run_progress::families_done,
            pooling_run_progress::families_total,
            pooling_run_progress::needs_done,
            pooling_run_progress::needs_total,
            pooling_run_progress::seconds_left,
        ))
        .first(conn)
        .optional()
}

pub fn run(pool: &Pool, actor: &Actor, run_id: i32) -> Result<RunView, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    type Row = (
        i32,
        i32,
        String,
        String,
        String,
        NaiveDateTime,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Row = pooling_runs::table
        .find(run_id)
        .select((
            pooling_runs::id,
            pooling_runs::budget_year,
            pooling_runs::status,
            pooling_runs::parameters,
            pooling_runs::input_need_ids,
            pooling_runs::started_at,
            pooling_runs::error,
            pooling_runs::plan,
            pooling_runs::frontier,
        ))
        .first(&mut conn)?;
    let progress = progress(&mut conn, run_id)?;
    let phase: String = pooling_run_progress::table
        .find(run_id)
        .select(pooling_run_progress::phase)
        .first(&mut conn)
        .optional()?
        .unwrap_or_else(|| "plan".to_string());
    let frontier = row
        .8
        .as_deref()
        .map(|text| super::stored_frontier(run_id, text))
        .transpose()?;
    let parameters: StoredParameters = read_stored(run_id, "paramètres", &row.3)?;
    let ids: Vec<i32> = read_stored(run_id, "besoins", &row.4)?;
    let (done, total, needs_done, needs_total, seconds_left) =
        progress.unwrap_or((0, 0, 0, 0, None));
    let titles = needs::table
        .filter(needs::id.eq_any(&ids))
        .select((needs::id, needs::title))
        .load::<(i32, String)>(&mut conn)?
        .into_iter()
        .map(|(id, title)| (id.to_string(), title))
        .collect();
    let plan: Option<Plan> = row
        .7
        .as_deref()
        .map(|t| read_stored(run_id, "plan", t))
        .transpose()?;
    let eligible: Vec<i32> = plan
        .iter()
        .flat_map(|p| &p.tenders)
        .flat_map(|t| &t.lots)
        .flat_map(|l| &l.eligible_local_supplier_ids)
        .filter_map(|id| id.parse().ok())
        .collect();
    let supplier_names = suppliers::table
        .filter(suppliers::id.eq_any(&eligible))
        .select((suppliers::id, suppliers::name))
        .load::<(i32, String)>(&mut conn)?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let input = match &plan {
        Some(_) => input_needs_by_id(&mut conn, &ids)?,
        None => Vec::new(),
    };
    let rule_breaks = match (&plan, row.2.as_str()) {
        (Some(plan), "proposed") => rule_breaks(
            plan,
            &input,
            &input_suppliers(&mut conn, row.1, &parameters.params)?,
            &parameters.params,
        ),
        _ => Vec::new(),
    };
    let alone = plan
        .as_ref()
        .map(|plan| pooling::procedures_alone(plan, &input, &parameters.params))
        .unwrap_or_default();
    Ok(RunView {
        titles,
        supplier_names,
        rule_breaks,
        alone,
        id: row.0,
        budget_year: row.1,
        status: row.2,
        divisions: parameters.divisions,
        params: parameters.params,
        needs: ids.len(),
        families_done: done,
        families_total: total,
        needs_done,
        needs_total,
        seconds_left,
        started_at: row.5,
        error: row.6,
        plan,
        frontier,
        phase,
    })
}

/// The runs, newest first: id, year, status, start.
pub fn runs(
    pool: &Pool,
    actor: &Actor,
) -> Result<Vec<(i32, i32, String, NaiveDateTime)>, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    Ok(pooling_runs::table
        .order(pooling_runs::id.desc())
        .limit(50)
        .select((
            pooling_runs::id,
            pooling_runs::budget_year,
            pooling_runs::status,
            pooling_runs::started_at,
        ))
        .load(&mut conn)?)
}

/// A change a lead makes to a proposal.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Adjustment {
    /// `move` (a need to another lot, a new lot, or out of the tender) or `merge` (two lots).
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub need: String,
    /// For `move`: `lot:<family>:<number>`, `new:<family>` or `out`.
    #[serde(default)]
    pub target: String,
    /// For `merge`: the family and the two lot numbers.
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub lot_a: String,
    #[serde(default)]
    pub lot_b: String,
}

/// The lots of each tender by family: need ids, lot by lot.
pub(super) type TenderLots = Vec<(String, Vec<Vec<String>>)>;

/// The rules a proposal breaks as it stands, re-evaluated by the engine from the plan itself
/// (so they stay after a reload, whoever looks): lots whose needs share no delivery day, and
/// needs taken out of their joint tender to be bought alone below a threshold the family
/// reaches together (R2121-1). They are shown on the run's page and block its acceptance.
pub fn rule_breaks(
    plan: &Plan,
    input: &[pooling::Need],
    suppliers: &[pooling::Supplier],
    params: &Params,
) -> Vec<String> {
    let (tenders, out) = lots_of(plan, input);
    let lots: Vec<Vec<String>> = tenders.into_iter().flat_map(|(_, lots)| lots).collect();
    match pooling::adjust::evaluate(input, suppliers, params, &lots, &out, None) {
        Ok(adjusted) => adjusted
            .warnings
            .into_iter()
            .filter(|w| w.contains("R2121-1") || w.contains("sans jour commun"))
            .collect(),
        Err(errors) => errors,
    }
}

/// The lots of a plan by family (in plan order) and the needs taken out of tenders.
pub(super) fn lots_of(plan: &Plan, input: &[pooling::Need]) -> (TenderLots, Vec<String>) {
    let tenders = plan
        .tenders
        .iter()
        .map(|t| {
            (
                t.family.clone(),
                t.lots.iter().map(|l| l.need_ids.clone()).collect(),
            )
        })
        .collect();
    let poolable: std::collections::HashSet<&str> = input
        .iter()
        .filter(|n| n.poolable)
        .map(|n| n.need_id.as_str())
        .collect();
    let out = plan
        .solo
        .iter()
        .filter(|id| poolable.contains(id.as_str()))
        .cloned()
        .collect();
    (tenders, out)
}

/// Applies a change to a proposal and re-evaluates it with the engine's own scoring; returns
/// the warnings (rules broken, objective lost). Refused changes say why and change nothing.
pub fn adjust(
    pool: &Pool,
    actor: &Actor,
    run_id: i32,
    change: &Adjustment,
) -> Result<Vec<String>, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (status, year, parameters, ids_text, plan_text, report_text): (
            String,
            i32,
            String,
            String,
            Option<String>,
            Option<String>,
        ) = pooling_runs::table
            .find(run_id)
            .select((
                pooling_runs::status,
                pooling_runs::budget_year,
                pooling_runs::parameters,
                pooling_runs::input_need_ids,
                pooling_runs::plan,
                pooling_runs::report,
            ))
            .first(conn)?;
        if status != "proposed" {
            return Err(AppError::Conflict(format!(
                "ce calcul est « {status} » : seule une proposition s'ajuste"
            )));
        }
        let parameters: StoredParameters = read_stored(run_id, "paramètres", &parameters)?;
        let ids: Vec<i32> = read_stored(run_id, "besoins", &ids_text)?;
        let plan: Plan = read_stored(run_id, "plan", plan_text.as_deref().unwrap_or("null"))?;
        let engine_objective = report_text
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|r| r["objective"].as_f64());
        let input: Vec<pooling::Need> = input_needs(conn, year, &parameters.divisions)?
            .into_iter()
            .filter(|n| n.need_id.parse().is_ok_and(|id| ids.contains(&id)))
            .collect();
        let (mut tenders, mut out) = lots_of(&plan, &input);
        let need = change.need.trim().to_string();
        let remove = |tenders: &mut TenderLots, out: &mut Vec<String>| {
            for (_, lots) in tenders.iter_mut() {
                for lot in lots.iter_mut() {
                    lot.retain(|id| *id != need);
                }
                lots.retain(|lot| !lot.is_empty());
            }
            out.retain(|id| *id != need);
        };
        let lot_number = |text: &str| text.trim().parse::<usize>().ok().filter(|n| *n > 0);
        let description = match change.action.as_str() {
            "move" => {
                if !input.iter().any(|n| n.need_id == need) {
                    return Err(AppError::validation(
                        "besoin",
                        format!("le besoin {need} n'est pas dans ce calcul"),
                    ));
                }
                let target = change.target.trim();
                remove(&mut tenders, &mut out);
                if target == "out" {
                    out.push(need.clone());
                } else if let Some(family) = target.strip_prefix("new:") {
                    let tender =
                        tenders
                            .iter_mut()
                            .find(|(f, _)| f == family)
                            .ok_or_else(|| {
                                AppError::validation(
                                    "lot",
                                    format!("aucune consultation pour la famille {family}"),
                                )
                            })?;
                    tender.1.push(vec![need.clone()]);
                } else if let Some((family, number)) =
                    target.strip_prefix("lot:").and_then(|t| t.rsplit_once(':'))
                {
                    let n = lot_number(number)
                        .ok_or_else(|| AppError::validation("lot", "un numéro de lot"))?;
                    let tender = tenders.iter_mut().find(|(f, _)| f == family);
                    let lot = tender.and_then(|t| t.1.get_mut(n - 1)).ok_or_else(|| {
                        AppError::validation(
                            "lot",
                            format!("la famille {family} n'a pas de lot {n}"),
                        )
                    })?;
                    lot.push(need.clone());
                } else {
                    return Err(AppError::validation(
                        "lot",
                        "choisissez un lot, un nouveau lot ou « sortir »",
                    ));
                }
                format!("besoin {need} → {target}")
            }
            "merge" => {
                let family = change.family.trim();
                let (a, b) = match (lot_number(&change.lot_a), lot_number(&change.lot_b)) {
                    (Some(a), Some(b)) if a != b => (a.min(b), a.max(b)),
                    _ => {
                        return Err(AppError::validation(
                            "lots",
                            "deux numéros de lots différents",
                        ))
                    }
                };
                let tender = tenders
                    .iter_mut()
                    .find(|(f, _)| f == family)
                    .ok_or_else(|| {
                        AppError::validation(
                            "famille",
                            format!("aucune consultation pour la famille {family}"),
                        )
                    })?;
                if b > tender.1.len() {
                    return Err(AppError::validation(
                        "lots",
                        format!("la famille {family} n'a pas de lot {b}"),
                    ));
                }
                let moved = tender.1.remove(b - 1);
                tender.1[a - 1].extend(moved);
                format!("famille {family} : lots {a} et {b} fusionnés")
            }
            _ => {
                return Err(AppError::validation(
                    "action",
                    "déplacer un besoin ou fusionner deux lots",
                ))
            }
        };
        let lots: Vec<Vec<String>> = tenders.into_iter().flat_map(|(_, lots)| lots).collect();
        let suppliers = input_suppliers(conn, year, &parameters.params)?;
        let adjusted = pooling::adjust::evaluate(
            &input,
            &suppliers,
            &parameters.params,
            &lots,
            &out,
            engine_objective,
        )
        .map_err(|errors| AppError::validation("ajustement", errors.join(" ; ")))?;
        let text = serde_json::to_string(&adjusted.plan).map_err(AppError::internal)?;
        diesel::update(pooling_runs::table.find(run_id))
            .set(pooling_runs::plan.eq(Some(text)))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("pooling.adjusted", "pooling_run", run_id).before_after(
                format!("objectif {:.2}", plan.kpis.pooled_objective),
                format!(
                    "{description} ; objectif {:.2}",
                    adjusted.plan.kpis.pooled_objective
                ),
            ),
        )?;
        Ok(adjusted.warnings)
    })
}

/// The rules a plan breaks (lots whose windows share no day), checked before acceptance.
/// What changed in the needs of a plan's lots since the run computed it: a lot whose value the
/// needs no longer add up to (a quantity or a price changed), a need that left the lot's CPV
/// family or unit, or one that is gone. The plan's figures and procedures would be false.
pub(super) fn changed_since_run(plan: &Plan, input: &[pooling::Need]) -> Vec<String> {
    let by_id: std::collections::HashMap<&str, &pooling::Need> =
        input.iter().map(|n| (n.need_id.as_str(), n)).collect();
    let mut changed = Vec::new();
    for tender in &plan.tenders {
        for lot in &tender.lots {
            let mut value_cents = 0i64;
            for id in &lot.need_ids {
                match by_id.get(id.as_str()) {
                    None => changed.push(format!("le besoin n° {id} n'existe plus")),
                    Some(need) => {
                        value_cents += need.value_cents();
                        if !need.cpv.starts_with(&tender.family) {
                            changed.push(format!(
                                "le besoin n° {id} a changé de code CPV ({}) : il n'est plus de la famille {}",
                                need.cpv, tender.family
                            ));
                        }
                        if !need.unit.trim().eq_ignore_ascii_case(tender.unit.trim()) {
                            changed.push(format!(
                                "le besoin n° {id} est en « {} », plus en « {} »",
                                need.unit, tender.unit
                            ));
                        }
                    }
                }
            }
            let planned_cents = (lot.value_eur * 100.0).round() as i64;
            if (value_cents - planned_cents).abs() > 1 {
                changed.push(format!(
                    "famille {}, lot {} : ses besoins valent {} au lieu de {}",
                    tender.family,
                    lot.lot,
                    crate::domain::Cents::new(value_cents),
                    crate::domain::Cents::new(planned_cents)
                ));
            }
        }
    }
    changed
}

pub(super) fn broken_rules(plan: &Plan, input: &[pooling::Need]) -> Vec<String> {
    let by_id: std::collections::HashMap<&str, &pooling::Need> =
        input.iter().map(|n| (n.need_id.as_str(), n)).collect();
    let mut broken = Vec::new();
    for tender in &plan.tenders {
        for lot in &tender.lots {
            let members: Vec<&&pooling::Need> = lot
                .need_ids
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
                .collect();
            let start = members.iter().map(|n| &n.window_start).max();
            let end = members.iter().map(|n| &n.window_end).min();
            if matches!((start, end), (Some(s), Some(e)) if s > e) {
                broken.push(format!(
                    "famille {}, lot {} : fenêtres de livraison sans jour commun",
                    tender.family, lot.lot
                ));
            }
        }
    }
    broken
}
