//! `groupement award --lots FILE --bids FILE [--weights 60,30,10] [--cap N] [--rule …] [--out award.json]`

use super::input::{located, read_table, Cells};
use super::CliError;
use crate::domain::{CpvCatalog, CpvCode};
use crate::files::RowError;
use groupement_solver::award::{
    award, validate_input, validate_rules, Award, AwardError, AwardLot, AwardRules, Bid, CapRule,
    LotStatus, Weights,
};
use std::path::{Path, PathBuf};

const LOT_COLUMNS: [&str; 5] = ["lot_id", "tender_id", "title", "cpv", "value_eur"];
const BID_COLUMNS: [&str; 7] = [
    "bid_id",
    "supplier_id",
    "lot_id",
    "price_eur",
    "quality",
    "environment",
    "submitted_at",
];

#[derive(Debug, clap::Args)]
pub struct AwardArgs {
    /// Lots: lot_id,tender_id,title,cpv,value_eur (CSV or .xlsx).
    #[arg(long)]
    lots: PathBuf,
    /// Bids: bid_id,supplier_id,lot_id,price_eur,quality,environment,submitted_at.
    #[arg(long)]
    bids: PathBuf,
    /// Weights of price, quality and environment, summing to 100 (environment above 0).
    #[arg(long, default_value = "60,30,10")]
    weights: String,
    /// At most this many lots per supplier.
    #[arg(long)]
    cap: Option<u32>,
    /// The rule announced for a supplier that would exceed the cap.
    #[arg(long, default_value = "decreasing-importance", value_parser = ["decreasing-importance", "best-total"])]
    rule: String,
    /// Where to write award.json (nothing is written when the input is refused).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &AwardArgs) -> Result<(), CliError> {
    let weights = parse_weights(&args.weights)
        .map_err(|m| CliError::Input(vec![format!("--weights: {m}")]))?;
    let rule = CapRule::parse(&args.rule)
        .ok_or_else(|| CliError::Input(vec![format!("--rule: unknown rule {}", args.rule)]))?;
    let rules = AwardRules {
        weights,
        cap: args.cap,
        rule,
    };
    let lots = read_lots(&args.lots)?;
    let bids = read_bids(&args.bids)?;
    // Every problem at once: the cells that did not parse, then what the award itself refuses
    // (unknown lots, duplicate ids, the rules), each on its row and never twice for one cell.
    let mut problems: Vec<String> = Vec::new();
    let mut lot_errors = lots.errors;
    let mut bid_errors = bids.errors;
    for e in validate_rules(&rules)
        .into_iter()
        .chain(validate_input(&lots.items, &bids.items))
    {
        let (errors, rows) = match e.list {
            "lot" => (&mut lot_errors, &lots.rows),
            "bid" => (&mut bid_errors, &bids.rows),
            _ => {
                problems.push(format!("--{}: {}", e.field, e.message));
                continue;
            }
        };
        let Some(row) = e.index.and_then(|i| rows.get(i)).copied() else {
            continue;
        };
        if !errors
            .iter()
            .any(|known| known.row == row && known.field == e.field)
        {
            errors.push(RowError::new(row, e.field, e.message));
        }
    }
    for (path, errors) in [(&args.lots, &mut lot_errors), (&args.bids, &mut bid_errors)] {
        errors.sort_by_key(|e| e.row);
        problems.extend(located(path, errors));
    }
    if !problems.is_empty() {
        return Err(CliError::Input(problems));
    }
    let result = award(&lots.items, &bids.items, &rules).map_err(|e| match e {
        AwardError::Input(errors) => {
            CliError::Input(errors.iter().map(|e| e.to_string()).collect())
        }
        other => CliError::Fatal(other.to_string()),
    })?;
    print_summary(&result, &lots.items);
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
        std::fs::write(out, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        eprintln!("award written to {}", out.display());
    }
    Ok(())
}

/// The rows of a file read as far as they go: a cell that did not parse is recorded in
/// `errors` and stands as a neutral value, so that the rest of the row is still checked.
struct Parsed<T> {
    items: Vec<T>,
    rows: Vec<usize>,
    errors: Vec<RowError>,
}

fn parse_weights(text: &str) -> Result<Weights, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let numbers: Result<Vec<u32>, _> = parts.iter().map(|p| p.parse::<u32>()).collect();
    match numbers.as_deref() {
        Ok([price, quality, environment]) => Ok(Weights {
            price: *price,
            quality: *quality,
            environment: *environment,
        }),
        _ => Err(format!(
            "« {text} » is not three whole numbers price,quality,environment (e.g. 60,30,10)"
        )),
    }
}

fn read_lots(path: &Path) -> Result<Parsed<AwardLot>, CliError> {
    let table = read_table(path, &LOT_COLUMNS).map_err(CliError::Input)?;
    let catalog = CpvCatalog::embedded();
    let mut parsed = Parsed {
        items: Vec::new(),
        rows: Vec::new(),
        errors: Vec::new(),
    };
    for row in &table.rows {
        let mut cells = Cells {
            table: &table,
            row,
            errors: &mut parsed.errors,
        };
        let lot_id = cells.text("lot_id").unwrap_or_default();
        let value_eur = cells
            .number("value_eur", 0.0, f64::INFINITY, false)
            .unwrap_or(0.0);
        let cpv = table.cell(row, "cpv");
        if !cpv.is_empty() {
            if let Err(e) = CpvCode::parse(cpv, catalog) {
                parsed.errors.push(RowError::new(row.number, "cpv", e.0));
            }
        }
        parsed.items.push(AwardLot {
            lot_id,
            tender_id: table.cell(row, "tender_id").to_string(),
            title: table.cell(row, "title").to_string(),
            cpv: cpv.to_string(),
            value_eur,
        });
        parsed.rows.push(row.number);
    }
    Ok(parsed)
}

fn read_bids(path: &Path) -> Result<Parsed<Bid>, CliError> {
    let table = read_table(path, &BID_COLUMNS).map_err(CliError::Input)?;
    let mut parsed = Parsed {
        items: Vec::new(),
        rows: Vec::new(),
        errors: Vec::new(),
    };
    for row in &table.rows {
        let mut cells = Cells {
            table: &table,
            row,
            errors: &mut parsed.errors,
        };
        let bid = Bid {
            bid_id: cells.text("bid_id").unwrap_or_default(),
            supplier_id: cells.text("supplier_id").unwrap_or_default(),
            lot_id: cells.text("lot_id").unwrap_or_default(),
            price_eur: cells
                .number("price_eur", 0.0, f64::INFINITY, true)
                .unwrap_or(1.0),
            quality: cells.number("quality", 0.0, 100.0, false).unwrap_or(0.0),
            environment: cells
                .number("environment", 0.0, 100.0, false)
                .unwrap_or(0.0),
            submitted_at: cells.moment("submitted_at").unwrap_or_default(),
        };
        parsed.items.push(bid);
        parsed.rows.push(row.number);
    }
    Ok(parsed)
}

fn print_summary(result: &Award, lots: &[AwardLot]) {
    println!(
        "Award — rule {}, weights price {} / quality {} / environment {}, cap {}",
        result.rule.name(),
        result.weights.price,
        result.weights.quality,
        result.weights.environment,
        result
            .cap
            .map(|c| c.to_string())
            .unwrap_or_else(|| "none".into())
    );
    println!(
        "{:<14} {:>14} {:<13} {:<14} {:<14} {:>7} {:>5} {:>6}",
        "lot", "value EUR", "status", "winner bid", "supplier", "score", "bids", "flags"
    );
    for outcome in &result.lots {
        let value = lots
            .iter()
            .find(|l| l.lot_id == outcome.lot_id)
            .map(|l| l.value_eur)
            .unwrap_or(0.0);
        let winner = outcome
            .bids
            .iter()
            .find(|b| Some(&b.bid_id) == outcome.winner_bid_id.as_ref());
        let flags = format!(
            "{}{}",
            if outcome.bids.iter().any(|b| b.abnormally_low) {
                "L"
            } else {
                ""
            },
            if outcome.bids.iter().any(|b| b.lost_to_cap) {
                "C"
            } else {
                ""
            }
        );
        println!(
            "{:<14} {:>14.2} {:<13} {:<14} {:<14} {:>7.2} {:>5} {:>6}",
            outcome.lot_id,
            value,
            match outcome.status {
                LotStatus::Awarded => "awarded",
                LotStatus::Unsuccessful => "unsuccessful",
            },
            outcome.winner_bid_id.as_deref().unwrap_or("-"),
            winner.map(|b| b.supplier_id.as_str()).unwrap_or("-"),
            winner.map(|b| b.score).unwrap_or(0.0),
            outcome.bids.len(),
            flags
        );
    }
    println!("total score {:.4}", result.total_score);
    if let Some(other) = &result.other_rule {
        println!(
            "with {} instead: total score {:.4}, {} lot(s) change: {}",
            other.rule.name(),
            other.total_score,
            other.changed_lots.len(),
            other.changed_lots.join(", ")
        );
    }
    println!("flags: L = a bid possibly abnormally low (ask for justification), C = a better bid lost to the cap");
}
