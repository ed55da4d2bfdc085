//! `groupement mail-worker [--once]`: the outbox worker on its own, without the portal — for a
//! deployment that runs it as a separate process (several may run against one PostgreSQL
//! database: each row is claimed by one of them). `--once` sends what is due and exits.

use super::CliError;
use crate::mail::worker::{Round, Worker};
use crate::{db, Settings};
use clap::Args;

#[derive(Debug, Args)]
pub struct MailWorkerArgs {
    /// Send the e-mails that are due, print what happened, and exit.
    #[arg(long)]
    pub once: bool,
}

pub fn run(args: &MailWorkerArgs) -> Result<(), CliError> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let worker = Worker::new(&settings)?;
    loop {
        let round = worker.run_once(&pool).map_err(|e| e.detailed())?;
        if args.once {
            println!(
                "sent {}, to retry {}, failed {}",
                round.sent, round.retried, round.failed
            );
            return Ok(());
        }
        if round != Round::default() {
            tracing::info!(
                sent = round.sent,
                retried = round.retried,
                failed = round.failed,
                "outbox round"
            );
        }
        std::thread::sleep(settings.mail_poll);
    }
}
