//! `groupement worker [--once]`: pooling runs executed apart from the portal — for a deployment
//! whose portals set `GROUPEMENT_POOLING_WORKERS=0` and leave the engine's work to worker
//! processes (several may share one PostgreSQL database: each job is claimed by one of them,
//! and taken again by another if its worker stops). `GROUPEMENT_POOLING_WORKERS` (at least 1
//! here) runs at once; `--once` executes what is queued and exits.

use super::CliError;
use crate::services::pooling;
use crate::{db, Settings};
use clap::Args;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Execute the queued pooling runs, print how many, and exit.
    #[arg(long)]
    pub once: bool,
}

pub fn run(args: &WorkerArgs) -> Result<(), CliError> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let worker = pooling::worker_name();
    if args.once {
        let mut done = 0;
        while pooling::work_once(&pool, &worker).map_err(|e| e.detailed())? {
            done += 1;
        }
        println!("pooling runs executed: {done}");
        return Ok(());
    }
    tracing::info!(
        workers = settings.pooling_workers.max(1),
        "pooling worker started"
    );
    let threads: Vec<_> = (0..settings.pooling_workers.max(1))
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let worker = pooling::worker_name();
                loop {
                    match pooling::work_once(&pool, &worker) {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(e) => tracing::error!(error = %e.detailed(), "pooling worker"),
                    }
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
    Ok(())
}
