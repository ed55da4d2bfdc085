//! `groupement award --lots FILE --bids FILE [--weights 60,30,10] [--cap N] [--rule …] [--out award.json]`

use super::CliError;
use crate::domain::{CpvCatalog, CpvCode};
use crate::files::cells::{parse_rows, read_table, Parsed};
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
    let mut lots = read_lots(&args.lots)?;
    let mut bids = read_bids(&args.bids)?;
    // Every problem at once: the cells that did not parse, then what the award itself refuses
    // (unknown lots, duplicate ids, the rules), each on its row and never twice for one cell.
    let mut problems: Vec<String> = Vec::new();
    let refused: Vec<_> = validate_rules(&rules)
        .into_iter()
        .chain(validate_input(&lots.items, &bids.items))
        .collect();
    for e in refused {
        match (e.list, e.index) {
            ("lot", Some(i)) => lots.also(i, e.field, &e.message),
            ("bid", Some(i)) => bids.also(i, e.field, &e.message),
            _ => problems.push(format!("--{}: {}", e.field, e.message)),
        }
    }
    problems.extend(lots.problems(&args.lots));
    problems.extend(bids.problems(&args.bids));
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
    Ok(parse_rows(&table, |cells| {
        let cpv = cells.raw("cpv").to_string();
        if !cpv.is_empty() {
            cells.parsed("cpv", |raw| CpvCode::parse(raw, catalog));
        }
        AwardLot {
            lot_id: cells.text("lot_id").unwrap_or_default(),
            tender_id: cells.raw("tender_id").to_string(),
            title: cells.raw("title").to_string(),
            cpv,
            value_eur: cells
                .number("value_eur", 0.0, f64::INFINITY, false)
                .unwrap_or(0.0),
        }
    }))
}

fn read_bids(path: &Path) -> Result<Parsed<Bid>, CliError> {
    let table = read_table(path, &BID_COLUMNS).map_err(CliError::Input)?;
    Ok(parse_rows(&table, |cells| Bid {
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
        members: Vec::new(),
    }))
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
