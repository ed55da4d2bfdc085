//! The lead's pooling pages: start a run, follow it, read the proposal (tenders, lots, KPIs
//! against buying alone, as charts with their tables), accept or discard it.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::charts::before_after;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::{Cents, Locale};
use crate::error::AppError;
use crate::services::pooling::{self, RunForm, RunView};
use crate::services::public::procedure_label;
use crate::services::tenders::family_label;
use crate::web::nav::Viewer;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use chrono::Datelike;
use handlebars::Handlebars;
use serde::Serialize;

/// An amount in euros as pages write it (`1 234,50 €`).
pub fn euros(value: f64) -> String {
    Cents::from_euros_f64(value).to_string()
}

/// A count as French pages write it (`18 000`, narrow no-break space between thousands).
fn count(n: i32) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// The engine's estimate of the time left, in French (`environ 12 s`, `environ 3 min`).
fn time_left(seconds: i32) -> String {
    match seconds {
        s if s < 60 => format!("environ {} s", s.max(1)),
        s => format!("environ {} min", (s + 59) / 60),
    }
}

fn publication_label(code: &str) -> &'static str {
    match code {
        "none" => "aucune publicité obligatoire",
        "free" => "publicité libre",
        "boamp_or_legal_journal" => "BOAMP ou journal d'annonces légales",
        "boamp_and_joue" => "BOAMP et Journal officiel de l'UE (eForms)",
        _ => "publicité adaptée",
    }
}

fn status_label(status: &str) -> &'static str {
    crate::domain::RunStatus::parse(status).map_or("inconnu", crate::domain::RunStatus::label_fr)
}

async fn runs_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    form: RunForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (pool, who) = (pool.into_inner(), viewer.clone());
    let (runs, in_force) = blocking(&pool, move |pool| {
        let runs = pooling::runs(pool, &who)?;
        let mut conn = pool.get()?;
        let in_force = crate::services::settings::today(&mut conn)?;
        Ok::<_, AppError>((runs, in_force))
    })
    .await?;
    let runs = runs
        .into_iter()
        .map(|(id, year, status, started)| RunRow {
            id,
            year,
            status: status_label(&status),
            started: crate::domain::paris_text(started),
        })
        .collect();
    Page::new(
        "pages/pooling/runs",
        "Mutualisation — Groupement",
        "/mutualisation",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        RunsPage {
            runs,
            form,
            error,
            territory: in_force.territory.join(" "),
        },
    )
}

/// The runs page: past runs, and the form of a new one.
#[derive(Serialize)]
struct RunsPage {
    runs: Vec<RunRow>,
    form: RunForm,
    error: Option<String>,
    /// The territory in force, said beside the field (empty field: this one).
    territory: String,
}

#[derive(Serialize)]
struct RunRow {
    id: i32,
    year: i32,
    status: &'static str,
    started: String,
}

pub async fn runs(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let year = chrono::Utc::now().year() + 1;
    runs_page(
        pool,
        &hb,
        viewer,
        RunForm::defaults(year),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn start(
    posted: Posted<RunForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (p, who, form) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
    );
    match blocking(&p, move |p| pooling::start(p, &who, &form)).await {
        // A worker takes the run (`GROUPEMENT_POOLING_WORKERS`, or `groupement worker`).
        Ok(id) => Ok(see_other(&format!("/mutualisation/{id}"))),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            runs_page(pool, &hb, viewer, posted.form, Some(message), status).await
        }
    }
}

/// The proposal as the page shows it: tenders with their lots, KPIs as numbers and charts.
#[derive(Serialize)]
struct ProposalView {
    kpis: KpisView,
    charts: Vec<ChartView>,
    tenders: Vec<TenderView>,
    /// Needs left to be bought alone.
    solo: usize,
    solver: SolverView,
}

#[derive(Serialize)]
struct KpisView {
    savings: String,
    savings_pct: String,
    baseline: String,
    pooled: String,
    total: String,
    lots_before: usize,
    lots_after: usize,
    local_before: String,
    local_after: String,
}

/// A chart before/after, with its table for those who do not see it.
#[derive(Serialize)]
struct ChartView {
    title: &'static str,
    svg: String,
    rows: Vec<ChartRow>,
}

#[derive(Serialize)]
struct ChartRow {
    label: String,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct SolverView {
    status: String,
    gap: String,
    seconds: String,
}

#[derive(Serialize)]
struct TenderView {
    family: String,
    label: String,
    unit: String,
    coordinator: String,
    procedure: String,
    lot_numbers: Vec<u32>,
    publication: &'static str,
    min_days: Option<u32>,
    standstill: Option<u32>,
    value: String,
    lots: Vec<LotView>,
}

#[derive(Serialize)]
struct LotView {
    number: u32,
    buyers: String,
    needs: Vec<NeedMove>,
    value: String,
    savings: String,
    local: bool,
    eligible: usize,
    eligible_names: String,
    small: bool,
    explanation: String,
}

/// A need of a lot and where the lead may move it.
#[derive(Serialize)]
struct NeedMove {
    id: String,
    title: String,
    targets: Vec<MoveTarget>,
}

#[derive(Serialize, Clone)]
struct MoveTarget {
    value: String,
    label: String,
}

fn move_targets(t: &groupement_solver::pooling::plan::Tender, lot: u32) -> Vec<MoveTarget> {
    let mut targets: Vec<MoveTarget> = t
        .lots
        .iter()
        .filter(|other| other.lot != lot)
        .map(|other| MoveTarget {
            value: format!("lot:{}:{}", t.family, other.lot),
            label: format!("vers le lot {}", other.lot),
        })
        .collect();
    targets.push(MoveTarget {
        value: format!("new:{}", t.family),
        label: "dans un nouveau lot".into(),
    });
    targets.push(MoveTarget {
        value: "out".into(),
        label: "hors de la consultation (acheté seul)".into(),
    });
    targets
}

fn tender_view(run: &RunView, t: &groupement_solver::pooling::plan::Tender) -> TenderView {
    let lots = t
        .lots
        .iter()
        .map(|l| {
            let targets = move_targets(t, l.lot);
            LotView {
                number: l.lot,
                buyers: l.buyers.join(", "),
                needs: l
                    .need_ids
                    .iter()
                    .map(|id| NeedMove {
                        id: id.clone(),
                        title: run.titles.get(id).cloned().unwrap_or_default(),
                        targets: targets.clone(),
                    })
                    .collect(),
                value: euros(l.value_eur),
                savings: euros(l.savings_eur),
                local: l.local_accessible,
                eligible: l.eligible_local_suppliers,
                eligible_names: l
                    .eligible_local_supplier_ids
                    .iter()
                    .filter_map(|id| run.supplier_names.get(id))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                small: l.small_lot,
                explanation: l.explanation.clone(),
            }
        })
        .collect();
    TenderView {
        family: t.family.clone(),
        label: family_label(&t.family),
        unit: t.unit.clone(),
        coordinator: t.coordinator.clone(),
        procedure: procedure_label(&t.procedure).to_string(),
        lot_numbers: t.lots.iter().map(|l| l.lot).collect(),
        publication: publication_label(&t.publication),
        min_days: t.min_days,
        standstill: t.standstill_days,
        value: euros(t.total_value_eur),
        lots,
    }
}

fn proposal(run: &RunView) -> Option<ProposalView> {
    let plan = run.plan.as_ref()?;
    let k = &plan.kpis;
    let procedure_rows: Vec<(String, f64, f64)> = ["no_competition", "adapted", "formal"]
        .iter()
        .map(|p| {
            (
                match *p {
                    "no_competition" => "sans mise en concurrence",
                    "adapted" => "procédure adaptée",
                    _ => "procédure formalisée",
                }
                .to_string(),
                *k.procedures_before.get(*p).unwrap_or(&0) as f64,
                *k.procedures_after.get(*p).unwrap_or(&0) as f64,
            )
        })
        .collect();
    let count = |v: f64| format!("{v:.0}");
    let percent = |v: f64| format!("{} %", Locale::Fr.decimal(v * 100.0, 1));
    let row = |label: &str, before: String, after: String| ChartRow {
        label: label.to_string(),
        before,
        after,
    };
    let charts = vec![
        ChartView {
            title: "Économies attendues (rabais estimés, EUR HT)",
            svg: before_after(
                "Économies attendues",
                &[(
                    "Rabais attendus".into(),
                    k.expected_discount_before,
                    k.expected_discount_after,
                )],
                &|v| euros(v),
            ),
            rows: vec![row(
                "Rabais attendus",
                euros(k.expected_discount_before),
                euros(k.expected_discount_after),
            )],
        },
        ChartView {
            title: "Nombre de lots",
            svg: before_after(
                "Nombre de lots",
                &[("Lots".into(), k.lots_before as f64, k.lots_after as f64)],
                &count,
            ),
            rows: vec![row(
                "Lots",
                k.lots_before.to_string(),
                k.lots_after.to_string(),
            )],
        },
        ChartView {
            title: "Procédures par type",
            svg: before_after("Procédures par type", &procedure_rows, &count),
            rows: procedure_rows
                .iter()
                .map(|(l, b, a)| row(l, count(*b), count(*a)))
                .collect(),
        },
        ChartView {
            title: "Part de la valeur dans des lots accessibles aux PME locales",
            svg: before_after(
                "Part accessible localement",
                &[(
                    "Part locale".into(),
                    k.local_share_before,
                    k.local_share_after,
                )],
                &percent,
            ),
            rows: vec![row(
                "Part locale",
                percent(k.local_share_before),
                percent(k.local_share_after),
            )],
        },
    ];
    Some(ProposalView {
        kpis: KpisView {
            savings: euros(k.savings_eur),
            savings_pct: format!("{} %", Locale::Fr.decimal(k.savings_pct, 2)),
            baseline: euros(k.baseline_objective),
            pooled: euros(k.pooled_objective),
            total: euros(k.total_value_eur),
            lots_before: k.lots_before,
            lots_after: k.lots_after,
            local_before: percent(k.local_share_before),
            local_after: percent(k.local_share_after),
        },
        charts,
        tenders: plan.tenders.iter().map(|t| tender_view(run, t)).collect(),
        solo: plan.solo.len(),
        solver: SolverView {
            status: format!("{:?}", plan.solver.status),
            gap: format!("{} %", Locale::Fr.decimal(plan.solver.gap * 100.0, 4)),
            seconds: Locale::Fr.decimal(plan.solver.seconds, 2),
        },
    })
}

/// A run: its state and parameters, and its proposal once computed.
#[derive(Serialize)]
struct RunPage {
    id: i32,
    year: i32,
    status: &'static str,
    running: bool,
    queued: bool,
    proposed: bool,
    failed: bool,
    error: Option<String>,
    needs: usize,
    done: String,
    /// The needs done and all the needs, as numbers for the progress bar.
    needs_done_count: i32,
    needs_total_count: i32,
    total: i32,
    total_text: String,
    needs_done: String,
    needs_total: String,
    time_left: Option<String>,
    divisions: String,
    params: ParamsView,
    proposal: Option<ProposalView>,
    rule_breaks: Vec<String>,
    warnings: Vec<String>,
    refusal: Option<String>,
}

/// A run's parameters as the lead set them.
#[derive(Serialize)]
struct ParamsView {
    territory: String,
    family_digits: usize,
    lot_cost: String,
    local_weight: String,
    max_lot_value: Option<String>,
    local_min_bidders: usize,
    launch: Option<String>,
}

async fn run_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    id: i32,
    warnings: Vec<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (p, who) = (pool.into_inner(), viewer.clone());
    let (run, queued) = blocking(&p, move |p| {
        pooling::run(p, &who, id).and_then(|run| Ok((run, pooling::queued(p, id)?)))
    })
    .await?;
    let params = &run.params;
    let running = run.status == "running";
    let mut page = Page::new(
        "pages/pooling/run",
        format!("Mutualisation n° {} — Groupement", run.id),
        "/mutualisation",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        RunPage {
            id: run.id,
            year: run.budget_year,
            status: status_label(&run.status),
            running: run.status == "running",
            queued,
            proposed: run.status == "proposed",
            failed: run.status == "failed",
            error: run.error.clone(),
            needs: run.needs,
            done: count(run.families_done),
            needs_done_count: run.needs_done,
            needs_total_count: run.needs_total,
            total: run.families_total,
            total_text: count(run.families_total),
            needs_done: count(run.needs_done),
            needs_total: count(run.needs_total),
            time_left: run.seconds_left.map(time_left),
            divisions: match run.divisions.is_empty() {
                true => "toutes".to_string(),
                false => run.divisions.join(", "),
            },
            params: ParamsView {
                territory: params.territory.join(", "),
                family_digits: params.family_digits,
                lot_cost: euros(params.lot_cost),
                local_weight: crate::services::needs::french_number(params.local_weight),
                max_lot_value: params.max_lot_value.map(euros),
                local_min_bidders: params.local_min_bidders,
                launch: params
                    .reference_date
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .map(|d| d.format("%d/%m/%Y").to_string()),
            },
            proposal: proposal(&run),
            rule_breaks: run.rule_breaks.clone(),
            warnings,
            refusal: error,
        },
    )?;
    // While the engine works the page comes back by itself every 5 seconds (an HTTP header:
    // no script).
    if running {
        page.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("refresh"),
            actix_web::http::header::HeaderValue::from_static("5"),
        );
    }
    Ok(page)
}

pub async fn show(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    run_page(
        pool,
        &hb,
        viewer,
        id.into_inner(),
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A change to the proposal, re-evaluated at once; the page shows the new KPIs and what the
/// change breaks or costs.
pub async fn adjust(
    id: Path<i32>,
    posted: Posted<pooling::Adjustment>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let (p, who, change) = (pool.clone().into_inner(), viewer.clone(), posted.form);
    match blocking(&p, move |p| pooling::adjust(p, &who, id, &change)).await {
        Ok(warnings) => run_page(pool, &hb, viewer, id, warnings, None, StatusCode::OK).await,
        Err(error) => {
            let (message, status) = super::refused(error)?;
            run_page(pool, &hb, viewer, id, Vec::new(), Some(message), status).await
        }
    }
}

pub async fn accept(
    id: Path<i32>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
    settings: Data<crate::Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (pool, id, base) = (
        pool.into_inner(),
        id.into_inner(),
        settings.base_url.clone(),
    );
    blocking(&pool, move |pool| pooling::accept(pool, &viewer, id, &base)).await?;
    Ok(see_other("/consultations"))
}

/// `GET /mutualisation/{id}/accepter`: what accepting the proposal does, before it is done.
pub async fn confirm_accept(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (who, id) = (viewer.clone(), id.into_inner());
    let run = blocking(&pool, move |p| pooling::run(p, &who, id)).await?;
    let plan = run
        .plan
        .as_ref()
        .ok_or_else(|| AppError::Conflict("ce calcul n'a pas de proposition à accepter".into()))?;
    let lots: usize = plan.tenders.iter().map(|t| t.lots.len()).sum();
    let members: std::collections::BTreeSet<&str> =
        plan.tenders.iter().flat_map(|t| t.buyers()).collect();
    let joint = plan.tenders.iter().filter(|t| t.buyers().len() > 1).count();
    super::confirm::Confirmation {
        heading: format!("Accepter la proposition n° {} ?", run.id),
        consequences: vec![
            format!(
                "{} consultation(s) seront créées ({} lot(s), {} HT), dont {} conjointe(s) à \
                 plusieurs membres.",
                plan.tenders.len(),
                lots,
                euros(plan.kpis.total_value_eur),
                joint
            ),
            format!(
                "Les responsables achats de {} membre(s) ({}) recevront chacun par e-mail la \
                 demande d'approuver leur part.",
                members.len(),
                members.into_iter().collect::<Vec<_>>().join(", ")
            ),
            "Les besoins mutualisés seront verrouillés : leurs acheteurs ne pourront plus les \
             modifier ni les retirer ; la proposition ne pourra plus être ajustée."
                .into(),
        ],
        action: format!("/mutualisation/{}/accepter", run.id),
        fields: Vec::new(),
        button: "Accepter et créer les consultations".into(),
        danger: false,
        back: format!("/mutualisation/{}", run.id),
    }
    .render(&hb, &viewer, "/mutualisation")
}

pub async fn discard(
    id: Path<i32>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    blocking(&pool, move |pool| pooling::discard(pool, &viewer, id)).await?;
    Ok(see_other("/mutualisation"))
}
