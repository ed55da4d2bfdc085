//! `groupement export ocds|decp [--out FILE]`: the open-data documents the portal serves at
//! `/open-data/…`, from the database, to a file or to standard output; `groupement export
//! eforms --tender REF`: the tender's latest EU notice (eForms XML), as its lead downloads it.

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
    /// The latest EU notice (eForms XML) of the tender `--tender` names.
    Eforms,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub format: Format,
    /// Where to write the document (standard output when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The tender's reference (`GRP-2027-001`), for `eforms`.
    #[arg(long)]
    pub tender: Option<String>,
}

pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let text = match args.format {
        Format::Eforms => {
            let reference = args.tender.as_deref().ok_or_else(|| {
                CliError::Input(vec!["export eforms: --tender REF names the tender".into()])
            })?;
            let (_, xml) = crate::services::notices::notice_by_reference(&mut conn, reference)
                .map_err(|e| match e {
                    crate::error::AppError::NotFound => format!(
                        "export eforms: no EU notice for {reference}: no such tender, not yet \
                         published, or its procedure is under the EU thresholds"
                    ),
                    other => format!("export eforms: {other}"),
                })?;
            xml.trim_end().to_string()
        }
        format => {
            let document = match format {
                Format::Ocds => open_data::ocds_package(&mut conn, &settings.base_url),
                _ => open_data::decp(&mut conn),
            }
            .map_err(|e| format!("export: {e}"))?;
            serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?
        }
    };
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
