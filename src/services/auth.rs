//! Signing in and out, and who is behind a session cookie. Sessions live on the server; the
//! cookie carries a random token whose SHA-256 alone is stored.

use crate::db::models::{NewAuditEntry, NewSession, User};
use crate::db::schema::{audit_log, organisations, sessions, users};
use crate::db::{write_transaction, Pool};
use crate::domain::{hash_password, verify_password};
use crate::error::AppError;
use crate::web::nav::{Role, Viewer};
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;

/// The same answer whether the account exists or not, so that sign-in reveals nothing.
pub const WRONG_CREDENTIALS: &str = "Adresse e-mail ou mot de passe incorrect.";

/// A fresh random token, hex-encoded (256 bits).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn audit(
    conn: &mut crate::db::AnyConnection,
    user: Option<&User>,
    label: &str,
    action: &str,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            actor_user_id: user.map(|u| u.id),
            actor_label: label,
            action,
            object_type: "user",
            object_id: &user.map(|u| u.id.to_string()).unwrap_or_default(),
            before_summary: None,
            after_summary: None,
        })
        .execute(conn)
        .map(|_| ())
}

/// Checks the password and opens a new session (a new token every time: no fixation).
/// Returns the session token for the cookie. Both outcomes are audited.
pub fn sign_in(
    pool: &Pool,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let mut conn = pool.get()?;
    let user: Option<User> = users::table
        .filter(users::email.eq(&email))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .first(&mut conn)
        .optional()?;
    // Verify against a real hash even for unknown accounts, so that timing says nothing either.
    static ABSENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let absent = ABSENT.get_or_init(|| hash_password(&random_token()).unwrap_or_default());
    let valid = verify_password(
        password,
        user.as_ref()
            .map_or(absent.as_str(), |u| u.password_hash.as_str()),
    );
    write_transaction(&mut conn, |conn| match (&user, valid) {
        (Some(user), true) => {
            let token = random_token();
            let now = Utc::now().naive_utc();
            diesel::insert_into(sessions::table)
                .values(NewSession {
                    token_hash: &hash_token(&token),
                    user_id: user.id,
                    csrf_token: &random_token(),
                    created_at: now,
                    last_seen_at: now,
                    ip,
                })
                .execute(conn)?;
            audit(conn, Some(user), &user.email, "auth.sign_in")?;
            Ok(Ok(token))
        }
        _ => {
            audit(conn, user.as_ref(), &email, "auth.sign_in_failed")?;
            Ok(Err(AppError::validation("identifiants", WRONG_CREDENTIALS)))
        }
    })
    .map_err(|e: diesel::result::Error| AppError::from(e))?
}

/// Compares two secrets in time that depends only on their length.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Ends the session of this token (signing out) when the form carries the session's
/// anti-forgery token; nothing happens for an unknown session.
pub fn sign_out(pool: &Pool, token: &str, csrf: &str) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let session: Option<(i32, String)> = sessions::table
            .filter(sessions::token_hash.eq(hash_token(token)))
            .select((sessions::user_id, sessions::csrf_token))
            .first(conn)
            .optional()?;
        if let Some((user_id, expected)) = session {
            if !same_secret(&expected, csrf) {
                return Ok(Err(AppError::Forbidden));
            }
            diesel::delete(sessions::table.filter(sessions::token_hash.eq(hash_token(token))))
                .execute(conn)?;
            let user: User = users::table
                .find(user_id)
                .select(User::as_select())
                .first(conn)?;
            audit(conn, Some(&user), &user.email, "auth.sign_out")?;
        }
        Ok::<Result<(), AppError>, diesel::result::Error>(Ok(()))
    })?
}

/// The signed-in person behind a token, when the session exists and has not been idle too
/// long; each use pushes the idle limit back.
pub fn viewer(pool: &Pool, token: &str) -> Result<Option<Viewer>, AppError> {
    let mut conn = pool.get()?;
    let found: Option<(i32, NaiveDateTime, String, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(hash_token(token)))
        .filter(users::active.eq(true))
        .select((
            sessions::id,
            sessions::last_seen_at,
            sessions::csrf_token,
            User::as_select(),
        ))
        .first(&mut conn)
        .optional()?;
    let Some((session_id, last_seen, csrf_token, user)) = found else {
        return Ok(None);
    };
    let now = Utc::now().naive_utc();
    if now - last_seen > Duration::minutes(IDLE_TIMEOUT_MINUTES) {
        diesel::delete(sessions::table.find(session_id)).execute(&mut conn)?;
        return Ok(None);
    }
    diesel::update(sessions::table.find(session_id))
        .set(sessions::last_seen_at.eq(now))
        .execute(&mut conn)?;
    let organisation: Option<String> = match user.organisation_id {
        Some(id) => organisations::table
            .find(id)
            .select(organisations::code)
            .first(&mut conn)
            .optional()?,
        None => None,
    };
    let role = match user.role.as_str() {
        "buyer" => Role::Buyer,
        "lead" => Role::Lead,
        "supplier" => Role::Supplier,
        _ => Role::Admin,
    };
    Ok(Some(Viewer {
        display_name: user.display_name,
        role,
        organisation,
        csrf_token,
    }))
}
