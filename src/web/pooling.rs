//! The lead's pooling pages: start a run, follow it, read the proposal (tenders, lots, KPIs
//! against buying alone, as charts with their tables), accept or discard it.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::charts::before_after;
use super::form_errors::{self, Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::domain::{Cents, Locale};
use crate::error::AppError;
use crate::error::Problems;
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

/// The engine's status in French (`optimal`, `limité par le temps`).
fn solver_status(status: groupement_solver::pooling::solve::Status) -> &'static str {
    use groupement_solver::pooling::solve::Status;
    match status {
        Status::Optimal => "solution optimale",
        Status::TimeLimited => "meilleure solution trouvée dans la limite de calcul",
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

/// The run form's fields: the name its service gives their problems, their input, their label.
const RUN_FIELDS: &[Field] = &[
    Field {
        problem: "année budgétaire",
        input: "budget_year",
        label: "Année budgétaire",
    },
    Field {
        problem: "divisions",
        input: "divisions",
        label: "Divisions CPV",
    },
    Field {
        problem: "date de lancement prévue",
        input: "launch_date",
        label: "Date de lancement prévue",
    },
    Field {
        problem: "territoire",
        input: "territory",
        label: "Territoire",
    },
    Field {
        problem: "chiffres de famille",
        input: "family_digits",
        label: "Chiffres du code CPV qui forment une famille",
    },
    Field {
        problem: "coût d'un lot",
        input: "lot_cost",
        label: "Coût de gestion d'un lot",
    },
    Field {
        problem: "poids local",
        input: "local_weight",
        label: "Poids de l'accessibilité locale",
    },
    Field {
        problem: "valeur maximale d'un lot",
        input: "max_lot_value",
        label: "Valeur maximale d'un lot",
    },
    Field {
        problem: "déclarations et équipes",
        input: "count_sourcing",
        label: "Compter les déclarations et les équipes",
    },
];

async fn runs_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    form: RunForm,
    (error, problems): (Option<String>, Problems),
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
            errors: FormErrors::of(&problems, RUN_FIELDS),
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
    errors: FormErrors,
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
        (None, Problems::default()),
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
            let (message, problems, status) = form_errors::refused(error)?;
            runs_page(pool, &hb, viewer, posted.form, (message, problems), status).await
        }
    }
}

/// The proposal as the page shows it: KPIs as numbers and charts, then one line a tender
/// (joint tenders first), filtered; each line leads to the tender's own page.
#[derive(Serialize)]
struct ProposalView {
    kpis: KpisView,
    charts: Vec<ChartView>,
    tenders: Vec<TenderRow>,
    /// Tenders shown (after the filter).
    shown: usize,
    /// Tenders in all, and the joint ones (more than one member).
    tenders_total: usize,
    joint_total: usize,
    filter: FilterView,
    /// Needs left to be bought alone.
    solo: usize,
    solver: SolverView,
}

/// A tender of the proposal in one line: who, how much, which procedure alone and together,
/// what pooling changes.
#[derive(Serialize)]
struct TenderRow {
    family: String,
    label: String,
    members: String,
    members_count: usize,
    joint: bool,
    lots: usize,
    value: String,
    /// The tender's procedure, in a few words and in full.
    procedure: String,
    procedure_full: String,
    /// Each member's procedure had it bought alone (`CHU : procédure adaptée`).
    alone: Vec<String>,
    /// What pooling does here, in a sentence.
    change: String,
    /// What the plan chosen on the frontier cost or gained this tender, against the plan with
    /// the most savings (none when they are the same).
    choice: Option<String>,
}

/// The filters of the proposal's tenders, as the lead set them (query string).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProposalFilter {
    /// `plusieurs` (joint tenders), `un` (one member) or empty (all).
    #[serde(default)]
    membres: String,
    /// A CPV division (2 digits), or empty.
    #[serde(default)]
    division: String,
    /// `no_competition`, `adapted`, `formal`, or empty.
    #[serde(default)]
    procedure: String,
}

#[derive(Serialize)]
struct FilterView {
    membres: Vec<Choice>,
    divisions: Vec<Choice>,
    procedures: Vec<Choice>,
    /// Whether any filter is set (then "Tout afficher" is offered).
    active: bool,
    /// A filter value the page does not know, said in French.
    problem: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

const PROCEDURE_CODES: [&str; 3] = ["no_competition", "adapted", "formal"];

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
    /// The gain taken apart: expected discounts, local bonus, award costs of the lots saved.
    parts: GainParts,
}

/// The gain of a proposal as the sum the engine maximises (DESIGN §4): the change in
/// expected discounts, plus the local bonus (weight × change in value placed in lots local SMEs
/// can take), plus the award cost of the lots no longer needed (cost × lots saved).
#[derive(Debug, Serialize, PartialEq)]
struct GainParts {
    /// Euros saved: the change in expected discounts plus the award costs of the lots saved,
    /// against each member buying alone (the gain without the local bonus, which is no euro).
    economy: String,
    discounts: String,
    local_bonus: String,
    lot_costs: String,
    weight: String,
    lot_cost: String,
    /// Whether the discounts fall: then the page says why the gain is still positive.
    discounts_fall: bool,
}

/// An amount with its sign (`+ 1 200,00 €`, `− 300,00 €`; less than a cent counts as none).
fn signed_euros(v: f64) -> String {
    match v < -0.005 {
        true => format!("− {}", euros(-v)),
        false => format!("+ {}", euros(v)),
    }
}

fn gain_parts(
    k: &groupement_solver::pooling::plan::Kpis,
    params: &groupement_solver::pooling::Params,
) -> GainParts {
    let discounts = k.expected_discount_after - k.expected_discount_before;
    let local =
        params.local_weight * (k.local_share_after - k.local_share_before) * k.total_value_eur;
    let lots = params.lot_cost * (k.lots_before as f64 - k.lots_after as f64);
    GainParts {
        economy: euros(discounts + lots),
        discounts: signed_euros(discounts),
        local_bonus: signed_euros(local),
        lot_costs: signed_euros(lots),
        weight: crate::services::needs::french_number(params.local_weight),
        lot_cost: euros(params.lot_cost),
        discounts_fall: discounts < -0.005,
    }
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
    publication: &'static str,
    min_days: Option<u32>,
    standstill: Option<u32>,
    value: String,
    lots: Vec<LotView>,
    /// What the plan chosen on the frontier cost or gained this tender.
    choice: Option<String>,
}

#[derive(Serialize)]
struct LotView {
    number: u32,
    needs_count: usize,
    buyers: String,
    needs: Vec<NeedMove>,
    value: String,
    savings: String,
    local: bool,
    eligible: usize,
    eligible_names: String,
    small: bool,
    explanation: String,
    /// Why the plan chosen on the frontier has this lot where the plan with the most savings
    /// has not.
    choice: Option<String>,
    /// The declarations and teams the lot owes its local access to.
    thanks_to: bool,
}

/// A need of a lot.
#[derive(Serialize)]
struct NeedMove {
    id: String,
    title: String,
}

#[derive(Serialize, Clone)]
struct MoveTarget {
    value: String,
    label: String,
}

/// Why a lot is what it is, in French with French numbers (the plan's own explanation is
/// the engine's, in its plain number format).
fn explanation(l: &groupement_solver::pooling::plan::Lot, min_bidders: usize) -> String {
    let rate = match l.value_eur > 0.0 {
        true => 100.0 * l.savings_eur / l.value_eur,
        false => 0.0,
    };
    let local = if l.local_accessible && !l.thanks_to.is_empty() {
        format!(
            "à la portée des entreprises du territoire grâce aux capacités déclarées sur le \
             programme d'achats et aux équipes de co-traitance ({}) : le registre seul ne le \
             permettait pas ; {} candidat(s) local(aux) peuvent le prendre (valeur au plus {}, \
             il en faut {min_bidders})",
            l.thanks_to.join(", "),
            l.eligible_local_suppliers,
            euros(l.local_capacity_eur)
        )
    } else if l.local_accessible {
        format!(
            "à la portée des entreprises du territoire : {} fournisseur(s) local(aux) du domaine \
             peuvent le prendre (valeur au plus {}, il en faut {min_bidders})",
            l.eligible_local_suppliers,
            euros(l.local_capacity_eur)
        )
    } else if l.local_capacity_eur > 0.0 {
        format!(
            "trop gros pour le territoire : moins de {min_bidders} fournisseurs locaux ont \
             chacun la capacité de livrer {} (leur plafond pour ce domaine : {}) ; regroupé pour \
             l'économie d'échelle",
            euros(l.value_eur),
            euros(l.local_capacity_eur)
        )
    } else {
        format!(
            "moins de {min_bidders} fournisseurs du territoire servent ce domaine : lot \
             dimensionné pour l'économie d'échelle"
        )
    };
    format!(
        "{} besoin(s) de {} ; rabais attendu {} ({}) ; {local}{}.",
        l.need_ids.len(),
        l.buyers.join(", "),
        euros(l.savings_eur),
        format_args!("{} %", Locale::Fr.decimal(rate, 1)),
        match l.small_lot {
            true => " ; petit lot (article R2123-1 2°) : il peut suivre les règles de la procédure adaptée",
            false => "",
        }
    )
}

fn tender_view(run: &RunView, t: &groupement_solver::pooling::plan::Tender) -> TenderView {
    let effect = choice_effect(run, t);
    let lots = t
        .lots
        .iter()
        .map(|l| LotView {
            number: l.lot,
            needs_count: l.need_ids.len(),
            buyers: l.buyers.join(", "),
            needs: l
                .need_ids
                .iter()
                .map(|id| NeedMove {
                    id: id.clone(),
                    title: run.titles.get(id).cloned().unwrap_or_default(),
                })
                .collect(),
            value: euros(l.value_eur),
            savings: euros(l.savings_eur),
            local: l.local_accessible,
            eligible: l.eligible_local_suppliers,
            // Registered companies by name, then the declarations and teams it owes its access
            // to (their rows are not companies of the register).
            eligible_names: l
                .eligible_local_supplier_ids
                .iter()
                .filter_map(|id| run.supplier_names.get(id))
                .chain(l.thanks_to.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            small: l.small_lot,
            explanation: explanation(l, run.params.local_min_bidders),
            thanks_to: !l.thanks_to.is_empty(),
            choice: effect.as_ref().and_then(|effect| {
                effect
                    .changed_lots
                    .contains(&sorted_ids(l))
                    .then(|| match l.local_accessible {
                        true => {
                            "Lot découpé pour l'accès local : le plan le plus économe ne l'a pas \
                             (ses besoins y sont regroupés autrement, pour plus de rabais)."
                                .to_string()
                        }
                        false => "Lot changé par le choix d'accès local : le plan le plus économe \
                              regroupe ses besoins autrement."
                            .to_string(),
                    })
            }),
        })
        .collect();
    TenderView {
        family: t.family.clone(),
        label: family_label(&t.family),
        unit: t.unit.clone(),
        coordinator: t.coordinator.clone(),
        procedure: procedure_label(&t.procedure).to_string(),
        publication: publication_label(&t.publication),
        min_days: t.min_days,
        standstill: t.standstill_days,
        value: euros(t.total_value_eur),
        lots,
        choice: effect.map(|e| e.sentence),
    }
}

/// A tender's line of the summary.
fn tender_row(run: &RunView, t: &groupement_solver::pooling::plan::Tender) -> TenderRow {
    let members: Vec<&str> = t.buyers().into_iter().collect();
    // Each member alone, grouped by procedure (`CHU, DM : sans mise en concurrence`).
    let mut by_procedure: Vec<(&str, Vec<&str>)> = Vec::new();
    for (buyer, code) in run.alone.get(&t.family).into_iter().flatten() {
        match by_procedure.iter_mut().find(|(c, _)| *c == code.as_str()) {
            Some((_, buyers)) => buyers.push(buyer),
            None => by_procedure.push((code, vec![buyer])),
        }
    }
    let alone: Vec<String> = by_procedure
        .iter()
        .map(|(code, buyers)| format!("{} : {}", buyers.join(", "), procedure_short(code)))
        .collect();
    let needs: usize = t.lots.iter().map(|l| l.need_ids.len()).sum();
    let local = t.lots.iter().filter(|l| l.local_accessible).count();
    let small = t.lots.iter().filter(|l| l.small_lot).count();
    let mut change = match members.len() {
        1 => format!(
            "{} besoin(s) d'un seul membre, en {} lot(s)",
            needs,
            t.lots.len()
        ),
        n => format!(
            "{needs} besoins de {n} membres achetés ensemble en {} lot(s)",
            t.lots.len()
        ),
    };
    if local > 0 {
        change.push_str(&format!(
            " ; {local} lot(s) à la portée des PME du territoire"
        ));
    }
    if small > 0 {
        change.push_str(&format!(" ; {small} petit(s) lot(s)"));
    }
    let stricter = run.alone.get(&t.family).is_some_and(|alone| {
        alone
            .iter()
            .any(|(_, code)| procedure_rank(code) < procedure_rank(&t.procedure))
    });
    if stricter {
        change.push_str(" ; ensemble, le montant impose une procédure plus exigeante");
    }
    change.push('.');
    let choice = choice_effect(run, t).map(|effect| effect.sentence);
    TenderRow {
        family: t.family.clone(),
        label: family_label(&t.family),
        members: members.join(", "),
        members_count: members.len(),
        joint: members.len() > 1,
        lots: t.lots.len(),
        value: euros(t.total_value_eur),
        procedure: procedure_short(&t.procedure).to_string(),
        procedure_full: procedure_label(&t.procedure).to_string(),
        alone,
        change,
        choice,
    }
}

/// What the plan chosen on the frontier does to one tender against the plan with the most
/// savings: the sentence for the tender, and the lots the savings-only plan does not have
/// (need ids, sorted), which the choice cut for local access.
struct ChoiceEffect {
    sentence: String,
    changed_lots: Vec<Vec<String>>,
}

/// A lot's need ids, sorted: how the frontier writes its lots.
fn sorted_ids(lot: &groupement_solver::pooling::plan::Lot) -> Vec<String> {
    let mut ids = lot.need_ids.clone();
    ids.sort();
    ids
}

/// `None` when the run has no frontier, when the tender is the same in both plans, or when the
/// lead changed it by hand (then it is no plan of the frontier).
fn choice_effect(
    run: &RunView,
    t: &groupement_solver::pooling::plan::Tender,
) -> Option<ChoiceEffect> {
    let family = run.frontier.as_ref()?.family(&t.family, &t.unit)?;
    let chosen = family.at(run.params.local_weight)?;
    let cheapest = family.savings_only()?;
    let mut lots: Vec<Vec<String>> = t.lots.iter().map(sorted_ids).collect();
    lots.sort();
    if lots != chosen.lots || chosen.lots == cheapest.lots {
        return None;
    }
    let discount = chosen.expected_discount_eur - cheapest.expected_discount_eur;
    let net = chosen.savings_eur - cheapest.savings_eur;
    let local = chosen.local_value_eur - cheapest.local_value_eur;
    let extra_lots = chosen.lots.len() as i64 - cheapest.lots.len() as i64;
    let sentence = format!(
        "Choix d'accès local : {} de rabais attendu ({} net des coûts de passation, {}) \
         par rapport au plan le plus économe, pour {} de valeur de plus à la portée des PME \
         locales.",
        signed_euros(discount),
        signed_euros(net),
        match extra_lots {
            1 => "1 lot de plus".to_string(),
            n if n > 1 => format!("{n} lots de plus"),
            0 => "autant de lots".to_string(),
            -1 => "1 lot de moins".to_string(),
            n => format!("{} lots de moins", -n),
        },
        euros(local)
    );
    Some(ChoiceEffect {
        sentence,
        changed_lots: chosen
            .lots
            .iter()
            .filter(|l| !cheapest.lots.contains(l))
            .cloned()
            .collect(),
    })
}

/// The frontier as the run page shows it: the chart, its table (one row a plan), the current
/// plan, and the form to pick another by the share of local value wanted.
#[derive(Serialize)]
struct FrontierView {
    svg: String,
    rows: Vec<FrontierRow>,
    count: usize,
    /// The current plan's number, when the proposal is one of the frontier's plans.
    current: Option<usize>,
    min_share: String,
    max_share: String,
    /// Tenders by procedure, the same for every plan.
    procedures: String,
    truncated: usize,
    /// Plans may be picked (the run is a proposal to review).
    choosable: bool,
    /// The share typed, and why it was refused.
    share: String,
    problem: Option<String>,
}

#[derive(Serialize)]
struct FrontierRow {
    number: usize,
    savings: String,
    /// Against the plan with the most savings (the first).
    savings_delta: String,
    share: String,
    local_value: String,
    lots: usize,
    weights: String,
    current: bool,
}

fn frontier_view(run: &RunView, share: String, problem: Option<String>) -> Option<FrontierView> {
    let frontier = run.frontier.as_ref()?;
    let plan = run.plan.as_ref()?;
    let current = pooling::point_of_plan(frontier, plan, run.params.local_weight).map(|(k, _)| k);
    let percent = |v: f64| format!("{} %", Locale::Fr.decimal(v * 100.0, 1));
    let weight = |w: f64| Locale::Fr.decimal(w, 4);
    let first = frontier.points.first()?;
    let last_index = frontier.points.len() - 1;
    let rows = frontier
        .points
        .iter()
        .enumerate()
        .map(|(k, p)| FrontierRow {
            number: k + 1,
            savings: euros(p.savings_eur),
            savings_delta: match k {
                0 => "—".to_string(),
                _ => format!("− {}", euros(first.savings_eur - p.savings_eur)),
            },
            share: percent(p.local_share),
            local_value: euros(p.local_value_eur),
            lots: p.lots,
            weights: match k == last_index {
                true => format!("{} et plus", weight(p.weight_from)),
                false => format!("{} à {}", weight(p.weight_from), weight(p.weight_to)),
            },
            current: current == Some(k),
        })
        .collect();
    let dots: Vec<super::charts::FrontierDot> = frontier
        .points
        .iter()
        .enumerate()
        .map(|(k, p)| super::charts::FrontierDot {
            number: k + 1,
            share: p.local_share,
            savings: p.savings_eur,
        })
        .collect();
    let procedures = ["no_competition", "adapted", "formal"]
        .iter()
        .filter_map(|code| {
            let n = *first.procedures.get(*code)?;
            (n > 0).then(|| format!("{n} {}", procedure_short(code)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(FrontierView {
        svg: super::charts::frontier(
            "Frontière des plans : économie attendue et part locale",
            &dots,
            current,
            &|v| euros(v),
        ),
        rows,
        count: frontier.points.len(),
        current: current.map(|k| k + 1),
        min_share: percent(first.local_share),
        max_share: percent(
            frontier
                .points
                .iter()
                .map(|p| p.local_share)
                .fold(0.0, f64::max),
        ),
        procedures,
        truncated: frontier.truncated,
        choosable: run.status == "proposed",
        share,
        problem,
    })
}

/// A procedure in a few words, for the summary's narrow column.
fn procedure_short(code: &str) -> &'static str {
    match code {
        "no_competition" => "sans mise en concurrence",
        "formal" => "formalisée",
        _ => "adaptée",
    }
}

/// A label cut to `max` characters (with `…`), for a select's options.
fn cut(text: &str, max: usize) -> String {
    match text.chars().count() > max {
        true => format!(
            "{}…",
            text.chars().take(max - 1).collect::<String>().trim_end()
        ),
        false => text.to_string(),
    }
}

fn procedure_rank(code: &str) -> usize {
    PROCEDURE_CODES.iter().position(|c| *c == code).unwrap_or(1)
}

/// The tenders the filter keeps, joint ones first (most members, then largest value), and the
/// filter as the page shows it.
fn filtered<'p>(
    plan: &'p groupement_solver::pooling::Plan,
    filter: &ProposalFilter,
) -> (
    Vec<&'p groupement_solver::pooling::plan::Tender>,
    FilterView,
) {
    let mut problems = Vec::new();
    let membres = match filter.membres.as_str() {
        "" | "plusieurs" | "un" => filter.membres.as_str(),
        other => {
            problems.push(format!("« {other} » n'est pas un choix de « Membres »"));
            ""
        }
    };
    let division = match filter.division.as_str() {
        d if d.is_empty() || (d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit())) => d,
        other => {
            problems.push(format!(
                "« {other} » n'est pas une division CPV (deux chiffres)"
            ));
            ""
        }
    };
    let procedure = match filter.procedure.as_str() {
        p if p.is_empty() || PROCEDURE_CODES.contains(&p) => p,
        other => {
            problems.push(format!("« {other} » n'est pas une procédure"));
            ""
        }
    };
    let mut kept: Vec<_> = plan
        .tenders
        .iter()
        .filter(|t| match membres {
            "plusieurs" => t.buyers().len() > 1,
            "un" => t.buyers().len() == 1,
            _ => true,
        })
        .filter(|t| division.is_empty() || t.family.starts_with(division))
        .filter(|t| procedure.is_empty() || t.procedure == procedure)
        .collect();
    kept.sort_by(|a, b| {
        b.buyers()
            .len()
            .cmp(&a.buyers().len())
            .then(b.total_value_eur.total_cmp(&a.total_value_eur))
            .then(a.family.cmp(&b.family))
    });
    let divisions: std::collections::BTreeSet<&str> = plan
        .tenders
        .iter()
        .map(|t| &t.family[..2.min(t.family.len())])
        .collect();
    let choice = |value: &str, label: String, selected: bool| Choice {
        value: value.to_string(),
        label,
        selected,
    };
    let view = FilterView {
        membres: [
            ("", "tous"),
            ("plusieurs", "plusieurs membres (conjointes)"),
            ("un", "un seul membre"),
        ]
        .iter()
        .map(|(v, l)| choice(v, l.to_string(), *v == membres))
        .collect(),
        divisions: std::iter::once(choice("", "toutes".into(), division.is_empty()))
            .chain(divisions.iter().map(|d| {
                choice(
                    d,
                    cut(&format!("{d} — {}", family_label(d)), 48),
                    *d == division,
                )
            }))
            .collect(),
        procedures: std::iter::once(choice("", "toutes".into(), procedure.is_empty()))
            .chain(
                PROCEDURE_CODES
                    .iter()
                    .map(|p| choice(p, procedure_label(p).to_string(), *p == procedure)),
            )
            .collect(),
        active: !(membres.is_empty() && division.is_empty() && procedure.is_empty()),
        problem: match problems.is_empty() {
            true => None,
            false => Some(format!("{} : ce filtre est ignoré.", problems.join(" ; "))),
        },
    };
    (kept, view)
}

fn proposal(run: &RunView, filter: &ProposalFilter) -> Option<ProposalView> {
    let plan = run.plan.as_ref()?;
    let (kept, filter_view) = filtered(plan, filter);
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
            parts: gain_parts(k, &run.params),
        },
        charts,
        shown: kept.len(),
        tenders: kept.into_iter().map(|t| tender_row(run, t)).collect(),
        tenders_total: plan.tenders.len(),
        joint_total: plan.tenders.iter().filter(|t| t.buyers().len() > 1).count(),
        filter: filter_view,
        solo: plan.solo.len(),
        solver: SolverView {
            status: solver_status(plan.solver.status).to_string(),
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
    /// The plans from savings only to the most local, once computed.
    frontier: Option<FrontierView>,
    /// The engine is computing the frontier (the plan is done).
    phase_frontier: bool,
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
    count_sourcing: bool,
}

/// A page's outcome of a change to the proposal: what it costs or breaks, or why it was
/// refused.
#[derive(Default)]
struct Outcome {
    warnings: Vec<String>,
    error: Option<String>,
    /// A plan of the frontier asked for and refused: the share typed and why.
    choice: Option<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
async fn run_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    id: i32,
    filter: &ProposalFilter,
    outcome: Outcome,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let Outcome {
        warnings,
        error,
        choice,
    } = outcome;
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
                count_sourcing: params.count_sourcing,
                launch: params
                    .reference_date
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .map(|d| d.format("%d/%m/%Y").to_string()),
            },
            proposal: proposal(&run, filter),
            frontier: {
                let (share, problem) = match choice {
                    Some((share, problem)) => (share, Some(problem)),
                    None => (String::new(), None),
                };
                frontier_view(&run, share, problem)
            },
            phase_frontier: run.phase == "frontier",
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
    filter: actix_web::web::Query<ProposalFilter>,
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
        &filter,
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// One tender of a proposal: its lots, needs and local access, and the changes the lead may
/// make to it (move a need, merge two lots).
#[derive(Serialize)]
struct TenderPage {
    id: i32,
    year: i32,
    proposed: bool,
    tender: TenderView,
    members: String,
    alone: Vec<String>,
    /// The needs of the tender, by lot, for the one "move" form.
    need_choices: Vec<LotNeeds>,
    move_targets: Vec<MoveTarget>,
    /// Pairs of lots that may be merged (`1+2`).
    merge_pairs: Vec<MoveTarget>,
    rule_breaks: Vec<String>,
    warnings: Vec<String>,
    refusal: Option<String>,
}

#[derive(Serialize)]
struct LotNeeds {
    lot: u32,
    needs: Vec<MoveTarget>,
}

/// One tender of a proposal. When the plan has no such tender: "not found" for a page asked
/// for (`outcome` `None`), or the proposal itself after a change that took the tender's last
/// need out.
async fn tender_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    (id, family): (i32, String),
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    let run = blocking(&p, move |p| pooling::run(p, &who, id)).await?;
    let Some(t) = run
        .plan
        .as_ref()
        .and_then(|plan| plan.tenders.iter().find(|t| t.family == family))
    else {
        let Some(outcome) = outcome else {
            return Err(AppError::NotFound);
        };
        // The tender is gone (its needs all moved out): back to the proposal, with the outcome.
        return run_page(
            pool,
            hb,
            viewer,
            id,
            &ProposalFilter::default(),
            outcome,
            status,
        )
        .await;
    };
    let row = tender_row(&run, t);
    let mut targets: Vec<MoveTarget> = t
        .lots
        .iter()
        .map(|l| MoveTarget {
            value: format!("lot:{}:{}", t.family, l.lot),
            label: format!("vers le lot {}", l.lot),
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
    let mut pairs = Vec::new();
    for (k, a) in t.lots.iter().enumerate() {
        for b in &t.lots[k + 1..] {
            pairs.push(MoveTarget {
                value: format!("{}+{}", a.lot, b.lot),
                label: format!("les lots {} et {}", a.lot, b.lot),
            });
        }
    }
    let need_choices = t
        .lots
        .iter()
        .map(|l| LotNeeds {
            lot: l.lot,
            needs: l
                .need_ids
                .iter()
                .map(|n| MoveTarget {
                    value: n.clone(),
                    label: cut(
                        &format!(
                            "n° {n} {}",
                            run.titles.get(n).map(String::as_str).unwrap_or_default()
                        ),
                        90,
                    ),
                })
                .collect(),
        })
        .collect();
    let Outcome {
        warnings, error, ..
    } = outcome.unwrap_or_default();
    Page::new(
        "pages/pooling/tender",
        format!(
            "Consultation {} — mutualisation n° {} — Groupement",
            t.family, run.id
        ),
        "/mutualisation",
    )
    .status(status)
    .render(
        hb,
        Some(&viewer),
        TenderPage {
            id: run.id,
            year: run.budget_year,
            proposed: run.status == "proposed",
            tender: tender_view(&run, t),
            members: row.members,
            alone: row.alone,
            need_choices,
            move_targets: targets,
            merge_pairs: pairs,
            rule_breaks: run.rule_breaks.clone(),
            warnings,
            refusal: error,
        },
    )
}

/// `GET /mutualisation/{id}/consultations/{family}`: one tender of the proposal.
pub async fn tender(
    path: Path<(i32, String)>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (id, family) = path.into_inner();
    tender_page(pool, &hb, viewer, (id, family), None, StatusCode::OK).await
}

/// A change as the tender page posts it: the change, and the tender to come back to. A merge
/// may name its two lots as one pair (`1+2`).
#[derive(serde::Deserialize)]
pub struct AdjustForm {
    #[serde(flatten)]
    change: pooling::Adjustment,
    #[serde(default)]
    retour: String,
    #[serde(default)]
    lots: String,
}

/// A change to the proposal, re-evaluated at once; the page shows the new KPIs and what the
/// change breaks or costs.
pub async fn adjust(
    id: Path<i32>,
    posted: Posted<AdjustForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let AdjustForm {
        mut change,
        retour,
        lots,
    } = posted.form;
    if let Some((a, b)) = lots.split_once('+') {
        (change.lot_a, change.lot_b) = (a.to_string(), b.to_string());
    }
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    let (outcome, status) = match blocking(&p, move |p| pooling::adjust(p, &who, id, &change)).await
    {
        Ok(warnings) => (
            Outcome {
                warnings,
                ..Outcome::default()
            },
            StatusCode::OK,
        ),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            (
                Outcome {
                    error: Some(message),
                    ..Outcome::default()
                },
                status,
            )
        }
    };
    match retour.is_empty() {
        true => {
            let filter = ProposalFilter::default();
            run_page(pool, &hb, viewer, id, &filter, outcome, status).await
        }
        false => tender_page(pool, &hb, viewer, (id, retour), Some(outcome), status).await,
    }
}

/// `POST /mutualisation/{id}/frontiere`: picks a plan of the frontier (by its number, or by
/// the share of local value wanted); the run is computed again at that plan and its page
/// follows the engine. A choice refused comes back beside the share field.
pub async fn choose(
    id: Path<i32>,
    posted: Posted<pooling::FrontierChoice>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = posted.viewer.ok_or(AppError::Forbidden)?;
    let id = id.into_inner();
    let choice = posted.form;
    let typed = choice.part_locale.clone();
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    match blocking(&p, move |p| pooling::choose(p, &who, id, &choice)).await {
        Ok(_) => Ok(see_other(&format!("/mutualisation/{id}"))),
        Err(error) => {
            // A choice the frontier lacks is said beside the share field; a run that is no
            // longer a proposal, at the top of the page.
            let beside = matches!(error, AppError::Validation(_));
            let (message, status) = super::refused(error)?;
            let outcome = match beside {
                true => Outcome {
                    choice: Some((typed, message)),
                    ..Outcome::default()
                },
                false => Outcome {
                    error: Some(message),
                    ..Outcome::default()
                },
            };
            let filter = ProposalFilter::default();
            run_page(pool, &hb, viewer, id, &filter, outcome, status).await
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
