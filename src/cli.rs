//! The `groupement` command line.

use clap::{Parser, Subcommand};

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
}
