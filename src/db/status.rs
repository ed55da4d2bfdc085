//! The life cycles of `domain` stored in text columns: each status is written as its code and
//! read back through `parse`, so a query says `needs::status.eq(NeedStatus::Pooled)` and a
//! column holding anything else (which the migrations' `CHECK` constraints forbid) is an error
//! when read, never a silent default.

use crate::domain::{
    ApprovalStatus, BidStatus, ContractStatus, NeedStatus, RunStatus, TenderStatus,
};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

macro_rules! text_status {
    ($($status:ident),+ $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $status
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.code().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $status
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let code = String::from_sql(value)?;
                $status::parse(&code).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($status), " « {} »"), code).into()
                })
            }
        }
    )+};
}

text_status!(
    NeedStatus,
    RunStatus,
    TenderStatus,
    ApprovalStatus,
    BidStatus,
    ContractStatus
);
