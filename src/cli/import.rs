//! `groupement import needs FILE --org CODE`: all or nothing. On success prints `imported N
//! needs`; on any bad row prints every bad row as `row N: field: message`, exits 2 and stores
//! nothing.

use super::CliError;
use crate::files::cells::{located, read_file};
use crate::files::{Limits, Table};
use crate::services::needs::{self, ImportError, Importer, NEED_COLUMNS};
use crate::{db, Settings};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import needs (CSV or .xlsx, DESIGN's needs columns) as submitted needs of one
    /// organisation.
    Needs(NeedsArgs),
}

#[derive(Debug, Args)]
pub struct NeedsArgs {
    /// The file: CSV (`;` or `,`, decimal comma, UTF-8 or Windows-1252) or .xlsx.
    pub file: PathBuf,
    /// Code of the buyer organisation the needs belong to (CHU, UB, GDH, DM, …).
    #[arg(long)]
    pub org: String,
}

/// The columns a needs file must have (`description` is optional).
pub fn required_columns() -> Vec<&'static str> {
    NEED_COLUMNS.to_vec()
}

pub fn run(command: &ImportCommand) -> Result<(), CliError> {
    let ImportCommand::Needs(args) = command;
    let limits = Limits::COMMAND_LINE;
    let bytes = read_file(&args.file, &limits)
        .map_err(|e| CliError::Input(vec![format!("{}: {e}", args.file.display())]))?;
    let table = Table::read_within(&bytes, &required_columns(), &limits)
        .map_err(|errors| CliError::Input(located(&args.file, &errors)))?;
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let rows = needs::rows_of(&table);
    match needs::import(
        &pool,
        Importer::CommandLine {
            organisation: &args.org,
        },
        &rows,
    ) {
        Ok(count) => {
            println!("imported {count} needs");
            Ok(())
        }
        Err(ImportError::Rows(errors)) => Err(CliError::Input(located(&args.file, &errors))),
        Err(ImportError::Other(crate::AppError::Validation(problems))) => {
            Err(CliError::Input(problems.lines()))
        }
        Err(ImportError::Other(other)) => Err(CliError::Fatal(other.detailed())),
    }
}
