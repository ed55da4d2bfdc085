//! Rate limits of the forms anyone can post (sign-in, password reset, new password,
//! invitation, registration), kept in the database: they hold for the whole platform however
//! many portal instances share it, and an attacker's keys cost the process no memory.
//!
//! Each limit counts attempts per key and minute, and weighs the previous minute's count by the
//! part of it still within the last sixty seconds (a sliding window: no burst of twice the limit
//! across a minute's boundary). The key is normalised and only its SHA-256 is stored; keys
//! longer than [`LONGEST_KEY`] are refused before anything is stored. Rows are deleted two
//! minutes after their minute ([`forget_old`], called by the portal's ticker).

use crate::db::schema::rate_limits;
use crate::db::{write_transaction, Pool};
use crate::error::AppError;
use chrono::Utc;
use diesel::prelude::*;

/// One limit: its name and the attempts a minute it allows per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bucket: &'static str,
    pub per_minute: u32,
}

/// Sign-in attempts from one client address (a whole hospital may come through one).
pub const SIGN_IN_BY_ADDRESS: Limit = Limit {
    bucket: "sign_in.address",
    per_minute: 30,
};
/// Sign-in attempts at one account.
pub const SIGN_IN_BY_ACCOUNT: Limit = Limit {
    bucket: "sign_in.account",
    per_minute: 5,
};
/// Password-reset requests from one address.
pub const RESET_BY_ADDRESS: Limit = Limit {
    bucket: "reset.address",
    per_minute: 3,
};
/// Password-reset requests for one account.
pub const RESET_BY_ACCOUNT: Limit = Limit {
    bucket: "reset.account",
    per_minute: 3,
};
/// New passwords set through a link (reset, invitation) and registrations, from one address:
/// each hashes a password.
pub const PASSWORD_FORMS_BY_ADDRESS: Limit = Limit {
    bucket: "password_forms.address",
    per_minute: 10,
};

/// The longest key taken: an e-mail address has at most 254 characters (RFC 5321), an IP
/// address far fewer.
pub const LONGEST_KEY: usize = 254;

/// The message of a refusal.
pub const TOO_MANY: &str = "Trop de tentatives : réessayez dans une minute.";

/// A key as counted: trimmed, in lower case, hashed as tokens are.
fn key_hash(key: &str) -> String {
    crate::services::auth::hash_token(&key.trim().to_lowercase())
}

/// Counts one attempt against each `(limit, key)` in turn, in one transaction; `false` (and
/// nothing more counted) at the first limit reached. A key longer than [`LONGEST_KEY`] is
/// refused at once, as if its limit were reached.
pub fn allow(pool: &Pool, checks: &[(Limit, &str)]) -> Result<bool, AppError> {
    if checks.iter().any(|(_, key)| key.trim().len() > LONGEST_KEY) {
        return Ok(false);
    }
    let now = Utc::now().timestamp();
    let window = now.div_euclid(60) * 60;
    // The share of the previous minute still within the last sixty seconds.
    let previous_weight = (60 - (now - window)) as f64 / 60.0;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        for (limit, key) in checks {
            let key = key_hash(key);
            let hits: i32 = crate::per_backend!(conn, c => diesel::insert_into(rate_limits::table)
                .values((
                    rate_limits::bucket.eq(limit.bucket),
                    rate_limits::key_hash.eq(&key),
                    rate_limits::window_start.eq(window),
                    rate_limits::hits.eq(1),
                ))
                .on_conflict((rate_limits::bucket, rate_limits::key_hash, rate_limits::window_start))
                .do_update()
                .set(rate_limits::hits.eq(rate_limits::hits + 1))
                .returning(rate_limits::hits)
                .get_result(c))?;
            let previous: i32 = rate_limits::table
                .find((limit.bucket, &key, window - 60))
                .select(rate_limits::hits)
                .first(conn)
                .optional()?
                .unwrap_or(0);
            let estimate = f64::from(previous) * previous_weight + f64::from(hits);
            if estimate > f64::from(limit.per_minute) {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Deletes the counts of minutes that ended more than a minute ago; returns how many.
pub fn forget_old(pool: &Pool) -> Result<usize, AppError> {
    let before = Utc::now().timestamp().div_euclid(60) * 60 - 60;
    Ok(
        diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before)))
            .execute(&mut pool.get()?)?,
    )
}

/// How many counts are kept (the table's size).
pub fn kept(pool: &Pool) -> Result<i64, AppError> {
    Ok(rate_limits::table.count().get_result(&mut pool.get()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_and_of_one_size() {
        assert_eq!(key_hash(" A@Example.FR "), key_hash("a@example.fr"));
        assert_eq!(key_hash(&"x".repeat(15_000)).len(), 64);
    }
}
