//! `groupement pool --needs FILE --suppliers FILE [--params FILE.toml] [--out plan.json]
//! [--frontier] [--local-share 0.30]`

use super::CliError;
use crate::domain::{parse_date, CpvCatalog, CpvCode, DeliveryWindow, Postcode, Siret};
use crate::files::cells::{parse_rows, read_table, Parsed};
use crate::files::Table;
use crate::services::needs::NEED_COLUMNS;
use groupement_solver::pooling::{
    frontier, pool, validate_input, Frontier, Need, Params, Plan, PoolError, Supplier,
};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

const SUPPLIER_COLUMNS: [&str; 7] = [
    "supplier_id",
    "siret",
    "name",
    "postcode",
    "cpv_prefixes",
    "annual_capacity_eur",
    "sme",
];

#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    /// Needs: need_id,buyer,cpv,title,quantity,unit,unit_price_eur,delivery_postcode,window_start,window_end,poolable.
    #[arg(long)]
    needs: PathBuf,
    /// Suppliers: supplier_id,siret,name,postcode,cpv_prefixes,annual_capacity_eur,sme.
    #[arg(long)]
    suppliers: PathBuf,
    /// Parameters (TOML): family_digits, territory, local_min_bidders, lot_cost, local_weight,
    /// max_lot_value, curve, division_curves, [buyers], enumeration_budget, milp_max_nodes, …
    #[arg(long)]
    params: Option<PathBuf>,
    /// Where to write plan.json (nothing is written when the input is refused).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also compute the frontier of plans between savings and local access (every local
    /// weight from 0 up), written beside the plan as frontier.json and frontier.csv.
    #[arg(long)]
    frontier: bool,
    /// Pick the plan with the most savings whose share of value in local-accessible lots
    /// reaches this fraction (0.30 for 30 %) instead of the parameters' local weight.
    #[arg(long, value_name = "SHARE")]
    local_share: Option<f64>,
}

pub fn read_needs(table: &Table) -> Parsed<Need> {
    let catalog = CpvCatalog::embedded();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    parse_rows(table, |cells| {
        let need_id = cells.text("need_id").unwrap_or_default();
        let buyer = cells.text("buyer").unwrap_or_default();
        let cpv = cells.parsed("cpv", |raw| CpvCode::parse(raw, catalog));
        let quantity = cells.number("quantity", 0.0, f64::INFINITY, true);
        let unit = cells.text("unit").unwrap_or_default();
        let price = cells.number("unit_price_eur", 0.0, f64::INFINITY, true);
        let postcode = cells.parsed("delivery_postcode", Postcode::parse);
        let start = cells.parsed("window_start", parse_date);
        let end = cells.parsed("window_end", parse_date);
        let window = match (start, end) {
            (Some(s), Some(e)) => cells.parsed("window_start", |_| DeliveryWindow::new(s, e)),
            _ => None,
        };
        let poolable = cells.flag("poolable");
        Need {
            need_id,
            buyer,
            cpv: cpv
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| "00000000".into()),
            title: cells.raw("title").to_string(),
            quantity: quantity.unwrap_or(1.0),
            unit,
            unit_price_eur: price.unwrap_or(1.0),
            delivery_postcode: postcode.map(|p| p.to_string()).unwrap_or_default(),
            window_start: window.map(|w| day(w.start())).unwrap_or_default(),
            window_end: window.map(|w| day(w.end())).unwrap_or_default(),
            poolable: poolable.unwrap_or(true),
        }
    })
}

pub fn read_suppliers(table: &Table) -> Parsed<Supplier> {
    parse_rows(table, |cells| {
        let supplier_id = cells.text("supplier_id").unwrap_or_default();
        let siret = cells.parsed("siret", Siret::parse);
        let postcode = cells.parsed("postcode", Postcode::parse);
        let interests: Vec<String> = cells
            .raw("cpv_prefixes")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if interests.is_empty()
            || interests
                .iter()
                .any(|p| p.len() > 8 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            cells.reject(
                "cpv_prefixes",
                "CPV interests are prefixes of 1 to 8 digits separated by spaces",
            );
        }
        let capacity = cells.number("annual_capacity_eur", 0.0, f64::INFINITY, false);
        let sme = cells.flag("sme");
        Supplier {
            supplier_id,
            siret: siret.map(|s| s.to_string()).unwrap_or_default(),
            name: cells.raw("name").to_string(),
            postcode: postcode.map(|p| p.to_string()).unwrap_or_default(),
            cpv_prefixes: interests,
            annual_capacity_eur: capacity.unwrap_or(0.0),
            sme: sme.unwrap_or(false),
            members: Vec::new(),
        }
    })
}

fn read_params(path: Option<&Path>) -> Result<Params, CliError> {
    let Some(path) = path else {
        return Ok(Params::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Input(vec![format!(
            "{}: cannot read the file: {e}",
            path.display()
        )])
    })?;
    parse_params(&text).map_err(|problems| {
        CliError::Input(
            problems
                .into_iter()
                .map(|p| format!("{}: {p}", path.display()))
                .collect(),
        )
    })
}

/// The pooling parameters of a TOML text, checked: every problem, or the parameters.
pub fn parse_params(text: &str) -> Result<Params, Vec<String>> {
    let params: Params =
        toml::from_str(text).map_err(|e| vec![e.to_string().trim().to_string()])?;
    let problems = params.validate();
    match problems.is_empty() {
        true => Ok(params),
        false => Err(problems.into_iter().map(|p| p.to_string()).collect()),
    }
}

pub fn run(args: &PoolArgs) -> Result<(), CliError> {
    let params = read_params(args.params.as_deref())?;
    let need_table = read_table(&args.needs, &NEED_COLUMNS).map_err(CliError::Input)?;
    let supplier_table = read_table(&args.suppliers, &SUPPLIER_COLUMNS).map_err(CliError::Input)?;
    let mut needs = read_needs(&need_table);
    let mut suppliers = read_suppliers(&supplier_table);
    for e in validate_input(&needs.items, &suppliers.items) {
        match e.list {
            "need" => needs.also(e.index, e.field, &e.message),
            _ => suppliers.also(e.index, e.field, &e.message),
        }
    }
    let mut problems = needs.problems(&args.needs);
    problems.extend(suppliers.problems(&args.suppliers));
    if !problems.is_empty() {
        return Err(CliError::Input(problems));
    }
    let interactive = std::io::stderr().is_terminal();
    let progress = |p: groupement_solver::pooling::Progress| {
        let line = progress_line(&p);
        let finished = p.families_done == p.families;
        if interactive {
            // Padded: a shorter line must cover the previous one.
            eprint!("\r{line:<78}");
            if finished {
                eprintln!();
            }
        } else if finished || p.families_done.is_multiple_of(50) {
            eprintln!("{line}");
        }
        let _ = std::io::stderr().flush();
    };
    let refused = |e: PoolError| match e {
        PoolError::Input(errors) => CliError::Input(errors.iter().map(|e| e.to_string()).collect()),
        PoolError::Params(errors) => CliError::Input(errors),
    };
    if let Some(share) = args.local_share {
        if !(0.0..=1.0).contains(&share) {
            return Err(CliError::Input(vec![format!(
                "--local-share {share} : une part de 0 à 1 (0.30 pour 30 %)"
            )]));
        }
    }
    let mut params = params;
    let found = match args.frontier || args.local_share.is_some() {
        true => {
            let found = frontier(&needs.items, &suppliers.items, &params).map_err(refused)?;
            print_frontier(&found);
            Some(found)
        }
        false => None,
    };
    if let (Some(share), Some(found)) = (args.local_share, &found) {
        let Some(point) = found.cheapest_reaching(share) else {
            let most = found.points.last().map_or(0.0, |p| p.local_share);
            return Err(CliError::Input(vec![format!(
                "--local-share {share} : aucun plan n'atteint {:.1} % (au plus {:.1} %)",
                100.0 * share,
                100.0 * most
            )]));
        };
        eprintln!(
            "local share {:.1} % reached by the plan of weight {:.6} ({:.2} EUR of savings)",
            100.0 * point.local_share,
            point.weight(),
            point.savings_eur
        );
        params.local_weight = point.weight();
    }
    let plan = pool(&needs.items, &suppliers.items, &params, &progress).map_err(refused)?;
    print_summary(&plan);
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
        std::fs::write(out, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("plan written to {}", out.display());
        if let (true, Some(found)) = (args.frontier, &found) {
            write_frontier(out, found)?;
        }
    }
    Ok(())
}

/// The frontier in a line a plan.
fn print_frontier(found: &Frontier) {
    println!(
        "frontier: {} plans ({} families, {} family solves{})",
        found.points.len(),
        found.families,
        found.solves,
        match found.truncated {
            0 => String::new(),
            n => format!(", {n} searches stopped at their limit"),
        }
    );
    println!(
        "{:>10} {:>10} {:>15} {:>8} {:>6}",
        "weight", "to", "savings EUR", "local %", "lots"
    );
    for p in &found.points {
        println!(
            "{:>10.6} {:>10.6} {:>15.2} {:>8.2} {:>6}",
            p.weight_from,
            p.weight_to,
            p.savings_eur,
            100.0 * p.local_share,
            p.lots
        );
    }
}

/// frontier.json and frontier.csv beside the plan.
fn write_frontier(plan: &Path, found: &Frontier) -> Result<(), CliError> {
    let dir = plan.parent().unwrap_or_else(|| Path::new("."));
    let json = serde_json::to_string_pretty(found).map_err(|e| e.to_string())?;
    let json_path = dir.join("frontier.json");
    std::fs::write(&json_path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    let mut csv = String::from(
        "weight_from,weight_to,savings_eur,expected_discount_eur,local_value_eur,local_share,lots\n",
    );
    for p in &found.points {
        csv.push_str(&format!(
            "{},{},{:.2},{:.2},{:.2},{:.6},{}\n",
            p.weight_from,
            p.weight_to,
            p.savings_eur,
            p.expected_discount_eur,
            p.local_value_eur,
            p.local_share,
            p.lots
        ));
    }
    let csv_path = dir.join("frontier.csv");
    std::fs::write(&csv_path, csv)
        .map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
    eprintln!(
        "frontier written to {} and {}",
        json_path.display(),
        csv_path.display()
    );
    Ok(())
}

fn print_summary(plan: &Plan) {
    println!(
        "{:<8} {:<10} {:<11} {:<15} {:>5} {:>6} {:>15} {:>13}",
        "family", "unit", "coordinator", "procedure", "lots", "local", "value EUR", "savings EUR"
    );
    for t in &plan.tenders {
        println!(
            "{:<8} {:<10} {:<11} {:<15} {:>5} {:>6} {:>15.2} {:>13.2}",
            t.family,
            t.unit.chars().take(10).collect::<String>(),
            t.coordinator,
            t.procedure,
            t.lots.len(),
            t.lots.iter().filter(|l| l.local_accessible).count(),
            t.total_value_eur,
            t.lots.iter().map(|l| l.savings_eur).sum::<f64>()
        );
    }
    let k = &plan.kpis;
    println!("needs left alone (not poolable): {}", plan.solo.len());
    println!(
        "objective: alone {:.2} → pooled {:.2}; savings {:.2} EUR ({:.2} % of {:.2} EUR)",
        k.baseline_objective, k.pooled_objective, k.savings_eur, k.savings_pct, k.total_value_eur
    );
    println!(
        "lots: {} → {}; value in local-accessible lots: {:.1} % → {:.1} %",
        k.lots_before,
        k.lots_after,
        100.0 * k.local_share_before,
        100.0 * k.local_share_after
    );
    let procedures = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "procedures: alone [{}] → pooled [{}]",
        procedures(&k.procedures_before),
        procedures(&k.procedures_after)
    );
    println!(
        "solver ({}): {:?}, objective {:.2}, bound {:.2}, gap {:.4} %, {:.2} s",
        plan.solver.backend,
        plan.solver.status,
        plan.solver.objective,
        plan.solver.bound,
        100.0 * plan.solver.gap,
        plan.solver.seconds
    );
}

/// `pooling: 120/1,821 families, 1,402/18,000 needs, about 12 s left`.
fn progress_line(p: &groupement_solver::pooling::Progress) -> String {
    let left = match p.seconds_left() {
        _ if p.families_done == p.families => "done".to_string(),
        None => "estimating the time left".to_string(),
        Some(s) if s < 60.0 => format!("about {} s left", s.ceil() as u64),
        Some(s) => format!("about {} min left", (s / 60.0).ceil() as u64),
    };
    format!(
        "pooling: {}/{} families, {}/{} needs, {left}",
        p.families_done, p.families, p.needs_done, p.needs
    )
}
