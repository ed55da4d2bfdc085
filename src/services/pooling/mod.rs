//! Pooling runs in the portal: a lead starts a run on the submitted needs of a budget year
//! (optionally some CPV divisions) with the parameters of DESIGN §4; the engine runs in the
//! background and the run keeps its parameters, input, report and plan; the lead then accepts
//! the proposal (its tenders go to the members for approval) or discards it.

use crate::auth::Actor;
use crate::db::models::NewPoolingRun;
use crate::db::schema::{
    needs, organisations, pooling_jobs, pooling_run_progress, pooling_runs, suppliers,
};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{Locale, NeedStatus, RunStatus};
use crate::error::AppError;
use crate::error::Problems;
use crate::services::audit::{self, Change};
use crate::services::tenders;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::pooling::{self, plan::Plan, Params};
use groupement_solver::procedure::BuyerClass;
use serde::{Deserialize, Serialize};

mod accept;
mod frontier;
mod review;
mod run;

pub use accept::*;
pub use frontier::*;
pub use review::*;
pub use run::*;
