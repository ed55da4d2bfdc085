//! Opening and award (DESIGN §5). After the deadline the coordinator's lead opens the bids
//! (audited) and compares them lot by lot; enters the quality and environment marks the
//! criteria need; reads the award engine's outcome under the announced rule and cap, with the
//! other rule's beside it and the abnormally low bids flagged (a justification can be asked
//! for); and approves. Approval records one award per lot, one contract per member and
//! awarded lot (each member contracts for its own needs), sets the standstill of formal
//! procedures, sends every bidder its result, and gives the needs of lots without a winner
//! back to their buyers — all in one transaction.

use crate::auth::Actor;
use crate::db::models::{NewAward, Tender};
use crate::db::schema::{awards, bids, contracts, lot_needs, lots, needs, suppliers, tenders};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{BidStatus, Cents, ContractStatus, Locale, NeedStatus};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Change};
use crate::services::bids::{self as sealed, BidDocument};
use crate::services::tenders::coordinated_status;
use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::award::{self as engine, AwardRules, CapRule, LotStatus, Weights};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

mod approval;
mod evaluation;
mod opening;
mod signature;

pub use approval::*;
pub use evaluation::*;
pub use opening::*;
pub use signature::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_is_split_in_proportion_and_adds_up() {
        assert_eq!(
            split_price(100_000, &[1, 1, 1]),
            vec![33_334, 33_333, 33_333]
        );
        assert_eq!(split_price(1_000, &[3_000, 1_000]), vec![750, 250]);
        assert_eq!(split_price(7, &[0, 0]), vec![4, 3]);
        let parts = split_price(1_234_567, &[123, 4_567, 89]);
        assert_eq!(parts.iter().sum::<i64>(), 1_234_567);
    }

    #[test]
    fn months_count_started_months_at_least_one() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(months_between(day(2027, 3, 1), day(2027, 6, 30)), 4);
        assert_eq!(months_between(day(2027, 3, 15), day(2027, 3, 20)), 1);
        assert_eq!(months_between(day(2027, 1, 1), day(2027, 12, 31)), 12);
    }
}
