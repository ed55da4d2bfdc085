//! Joint tenders after pooling: made from an accepted plan, approved by every member with needs
//! in them, and published by the coordinator's lead with the award criteria (an environmental
//! criterion is required), which writes the e-mails to the territorial suppliers concerned.

use crate::auth::Actor;
use crate::db::models::{NewLot, NewLotNeed, NewTender, NewTenderApproval};
use crate::db::schema::{
    lot_needs, lots, needs, organisations, suppliers, tender_approvals, tenders, users,
};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{ApprovalStatus, Cents, CpvCatalog, Locale, TenderStatus};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Change};
use crate::services::documents;
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::pooling::plan;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

mod approval;
mod backup;
mod changes;
mod dossier;
mod journal;
mod members;
mod publication;
mod questions;
mod sealing;

pub use approval::*;
pub use backup::*;
pub use changes::*;
pub use dossier::*;
pub use journal::*;
pub use members::*;
pub use publication::*;
pub use questions::*;
pub use sealing::*;
