//! `groupement export ocds|decp [--out FILE]`: the open-data documents the portal serves at
//! `/open-data/…`, from the database, to a file or to standard output.

use super::CliError;
use crate::services::open_data;
use crate::{db, Settings};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// OCDS 1.1.5 release package of every published tender (lots extension).
    Ocds,
    /// DECP v2: the contracts of €40,000 and more.
    Decp,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub format: Format,
    /// Where to write the JSON (standard output when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let document = match args.format {
        Format::Ocds => open_data::ocds_package(&mut conn, &settings.base_url),
        Format::Decp => open_data::decp(&mut conn),
    }
    .map_err(|e| format!("export: {e}"))?;
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, text + "\n")
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("written {}", path.display());
        }
        None => println!("{text}"),
    }
    Ok(())
}
