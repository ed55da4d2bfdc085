//! The `groupement` command line.

pub mod award;
pub mod export;
pub mod import;
pub mod mail_worker;
pub mod pool;
pub mod receipt;
pub mod seal;
pub mod worker;

pub use award::AwardArgs;
pub use pool::PoolArgs;

use clap::{Parser, Subcommand};
use std::fmt;

/// How a command failed: bad input (every problem listed, exit status 2, nothing written) or
/// anything else (one line, exit status 1).
#[derive(Debug)]
pub enum CliError {
    Input(Vec<String>),
    Fatal(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Fatal(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(lines) => f.write_str(&lines.join("\n")),
            CliError::Fatal(message) => write!(f, "groupement: {message}"),
        }
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::Fatal(message)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "groupement",
    version,
    about = "Groupement: joint public procurement, pooling engine and suppliers' portal",
    long_about = "Groupement: joint public procurement, pooling engine and suppliers' portal.\n\n\
Configuration comes from GROUPEMENT_* environment variables (see README): \
GROUPEMENT_DATABASE_URL (default sqlite://groupement.db), GROUPEMENT_BIND, GROUPEMENT_SMTP_URL, \
GROUPEMENT_MAIL_FROM, GROUPEMENT_BASE_URL, GROUPEMENT_SECRET_KEY."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, seed the demo if asked, and serve the portal.
    Serve {
        /// Address to listen on (default GROUPEMENT_BIND or 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
        /// Seed demonstration data when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and load the reference tables.
    Migrate,
    /// Plan the pooling of needs into joint tenders with lots, from files. No database.
    Pool(PoolArgs),
    /// Import data into the database (all or nothing).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Award the lots of a tender from files: scores, ranks, the announced cap rule and the
    /// other rule beside it. No database.
    Award(AwardArgs),
    /// Write the open data: `ocds` (release package of every published tender) or `decp`
    /// (contracts of €40,000 and more).
    Export(export::ExportArgs),
    /// Run the outbox worker alone (the portal runs one too): send due e-mails, retry failures.
    MailWorker(mail_worker::MailWorkerArgs),
    /// Run pooling runs apart from the portal (portals with GROUPEMENT_POOLING_WORKERS=0).
    Worker(worker::WorkerArgs),
    /// Check a receipt of deposit offline: its signature, the platform's key, the documents.
    VerifyReceipt(receipt::VerifyArgs),
    /// Print a new key to sign receipts with (save it to the file GROUPEMENT_RECEIPT_KEY_FILE
    /// names, readable by the portal only).
    ReceiptKey,
    /// Encrypt a bid's document to a tender's public key on one's own machine (FILE.age, to
    /// upload as it is): it opens only with the members' keys, after the deadline.
    Seal(seal::SealArgs),
}
