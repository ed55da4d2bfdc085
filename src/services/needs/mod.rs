//! Buyers' needs: validation of what people type or import, the life cycle of DESIGN §2, and
//! the rule that matters most here — a buyer or lead reads and changes only the needs of its own
//! organisation (anyone else's answer 404, as if they did not exist).

use crate::auth::Actor;
use crate::db::models::{Need, NewNeed};
use crate::db::schema::{needs, organisations};
use crate::db::{write_transaction, AnyConnection, MultiBackend, Pool};
use crate::domain::{parse_date, CpvCatalog, CpvCode, DeliveryWindow, NeedStatus, Postcode};
use crate::error::{AppError, Problems};
use crate::files::{parse_decimal, RowError, Table};
use crate::services::audit::{self, Change};
use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod edit;
mod import;
mod life_cycle;
mod list;

pub use edit::*;
pub use import::*;
pub use life_cycle::*;
pub use list::*;
