//! Rules that need no database and no web framework: the value types every other layer parses
//! into. Each constructor is the only way in and refuses bad input with a French message meant
//! for the person who typed it.

mod cpv;
mod life_cycles;
mod locale;
mod money;
mod need_status;
mod paris;
mod password;
mod postcode;
mod siret;
mod window;

pub use cpv::{fold, fold_char, CpvCatalog, CpvCode, CpvEntry};
pub use life_cycles::{ApprovalStatus, BidStatus, ContractStatus, RunStatus, TenderStatus};
pub use locale::Locale;
pub use money::Cents;
pub use need_status::NeedStatus;
pub use paris::{from_paris, paris_text, to_paris};
pub use password::{hash_password, hashes_on_this_thread, verify_password, Busy, HashError};
pub use postcode::{department_of, Postcode};
pub use siret::Siret;
pub use window::{parse_date, DeliveryWindow};

/// A value refused by a domain constructor: the message is French, for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
