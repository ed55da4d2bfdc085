//! Signing in and out, and who is behind a session cookie. Sessions live on the server; the
//! cookie carries a random token whose SHA-256 alone is stored.

use crate::auth::{Actor, Role, Viewer};
use crate::db::models::{ApiToken, NewApiToken, NewSession, User};
use crate::db::schema::{api_tokens, organisations, sessions, users};
use crate::db::{write_transaction, Pool};
use crate::domain::{hash_password, verify_password};
use crate::error::AppError;
use crate::services::audit::{self, Author, Change};
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;

/// A session ends this long after its sign-in, however active.
pub const SESSION_HOURS: i64 = 12;

/// The same answer whether the account exists or not, so that sign-in reveals nothing.
pub const WRONG_CREDENTIALS: &str = "Adresse e-mail ou mot de passe incorrect.";

/// A fresh random token, hex-encoded (256 bits).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_token(token: &str) -> String {
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
    let object = user.map(|u| u.id.to_string()).unwrap_or_default();
    audit::record(
        conn,
        Author {
            user_id: user.map(|u| u.id),
            label,
        },
        Change::new(action, "user", object),
    )
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
    let user: Option<User> = users::table
        .filter(users::email.eq(&email))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .first(&mut pool.get()?)
        .optional()?;
    // Verify against a real hash even for unknown accounts, so that timing says nothing either;
    // no connection is held while the hash is computed (it may wait for a permit).
    static ABSENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let absent = match ABSENT.get() {
        Some(hash) => hash,
        None => {
            let hash = hash_password(&random_token())?;
            ABSENT.get_or_init(|| hash)
        }
    };
    let valid = verify_password(
        password,
        user.as_ref()
            .map_or(absent.as_str(), |u| u.password_hash.as_str()),
    )?;
    let mut conn = pool.get()?;
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
            tracing::info!(user = user.id, "signed in");
            Ok(Ok(token))
        }
        _ => {
            audit(conn, user.as_ref(), &email, "auth.sign_in_failed")?;
            tracing::warn!(known_account = user.is_some(), "sign-in refused");
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

/// How stale a session's last request time or a token's last use may get before a request
/// writes it again (the idle limit is then up to this much early).
pub const TOUCH_SECONDS: i64 = 30;

/// The signed-in person behind a token, when the session exists and has not been idle too
/// long; each use pushes the idle limit back.
pub fn viewer(pool: &Pool, token: &str) -> Result<Option<Viewer>, AppError> {
    let mut conn = pool.get()?;
    // One query for the session, its person and their organisation's code.
    type Found = (
        i32,
        NaiveDateTime,
        NaiveDateTime,
        String,
        User,
        Option<OrganisationOf>,
    );
    let found: Option<Found> = sessions::table
        .inner_join(users::table.left_join(organisations::table))
        .filter(sessions::token_hash.eq(hash_token(token)))
        .filter(users::active.eq(true))
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::csrf_token,
            User::as_select(),
            (organisations::code, organisations::needs_version).nullable(),
        ))
        .first(&mut conn)
        .optional()?;
    let Some((session_id, created, last_seen, csrf_token, user, organisation)) = found else {
        return Ok(None);
    };
    let now = Utc::now().naive_utc();
    if now - last_seen > Duration::minutes(IDLE_TIMEOUT_MINUTES)
        || now - created > Duration::hours(SESSION_HOURS)
    {
        diesel::delete(sessions::table.find(session_id)).execute(&mut conn)?;
        return Ok(None);
    }
    // Written at most every TOUCH_SECONDS: a read is not a write for every request.
    if now - last_seen >= Duration::seconds(TOUCH_SECONDS) {
        diesel::update(sessions::table.find(session_id))
            .set(sessions::last_seen_at.eq(now))
            .execute(&mut conn)?;
    }
    viewer_of(user, organisation, csrf_token).map(Some)
}

/// The code of a user's organisation and the version of its needs, read with the credential.
type OrganisationOf = (String, i64);

/// The viewer a user is: role, organisation and the form token of the session (empty for an
/// API token).
fn viewer_of(
    user: User,
    organisation: Option<OrganisationOf>,
    csrf_token: String,
) -> Result<Viewer, AppError> {
    let (organisation, needs_version) = organisation.unzip();
    let role = Role::parse(&user.role).ok_or_else(|| {
        AppError::internal(format!("user {}: unknown role {}", user.id, user.role))
    })?;
    Ok(Viewer {
        actor: Actor {
            user_id: user.id,
            email: user.email,
            role,
            organisation,
            organisation_id: user.organisation_id,
            supplier_id: user.supplier_id,
            needs_version,
        },
        display_name: user.display_name,
        csrf_token,
        idle_minutes: IDLE_TIMEOUT_MINUTES,
    })
}

/// Ends every session of the user (on every device), the current one included.
pub fn sign_out_everywhere(pool: &Pool, actor: &Actor) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let ended = diesel::delete(sessions::table.filter(sessions::user_id.eq(actor.user_id)))
            .execute(conn)?;
        let revoked = revoke_api_tokens(conn, actor.user_id)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("auth.sign_out_everywhere", "user", actor.user_id)
                .after(format!("{ended} sessions, {revoked} jetons d'API")),
        )?;
        Ok(ended)
    })
}

/// Revokes every API token of a person still in force (signing out everywhere, a new
/// password): returns how many.
pub fn revoke_api_tokens(conn: &mut crate::db::AnyConnection, user_id: i32) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Utc::now().naive_utc()))
    .execute(conn)
}

/// The prefix of every API token, so that one found in a log or a repository is recognised.
pub const API_TOKEN_PREFIX: &str = "gpt_";

/// An API token as its owner lists it (never the token itself, which is shown once).
#[derive(Debug, serde::Serialize)]
pub struct TokenCard {
    pub id: i32,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: String,
    pub revoked: bool,
}

pub fn api_tokens_of(pool: &Pool, actor: &Actor) -> Result<Vec<TokenCard>, AppError> {
    let mut conn = pool.get()?;
    let tokens: Vec<ApiToken> = api_tokens::table
        .filter(api_tokens::user_id.eq(actor.user_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(&mut conn)?;
    let day = |t: NaiveDateTime| t.format("%d/%m/%Y %H:%M UTC").to_string();
    Ok(tokens
        .into_iter()
        .map(|t| TokenCard {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: day(t.created_at),
            last_used_at: t.last_used_at.map(day).unwrap_or_else(|| "jamais".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect())
}

/// Creates an API token acting as `actor`; returns it (shown once, stored hashed).
pub fn create_api_token(pool: &Pool, actor: &Actor, name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::validation(
            "nom",
            "donnez au jeton un nom de 1 à 80 caractères (par exemple le logiciel qui l'utilise)",
        ));
    }
    let token = format!("{API_TOKEN_PREFIX}{}", random_token());
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let id: i32 = diesel::insert_into(api_tokens::table)
            .values(NewApiToken {
                user_id: actor.user_id,
                name,
                token_hash: &hash_token(&token),
                prefix: &token[..API_TOKEN_PREFIX.len() + 6],
            })
            .returning(api_tokens::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("api_token.created", "api_token", id).after(name),
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(token)
}

/// Revokes one of the actor's own tokens; another person's token is "not found".
pub fn revoke_api_token(pool: &Pool, actor: &Actor, id: i32) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let changed = diesel::update(
            api_tokens::table
                .find(id)
                .filter(api_tokens::user_id.eq(actor.user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Utc::now().naive_utc()))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("api_token.revoked", "api_token", id),
        )?;
        Ok(())
    })
}

/// The person an API token acts for, when the token exists, is not revoked and its owner is
/// active.
pub fn api_viewer(pool: &Pool, token: &str) -> Result<Option<Viewer>, AppError> {
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let mut conn = pool.get()?;
    let found: Option<(i32, Option<NaiveDateTime>, User, Option<OrganisationOf>)> =
        api_tokens::table
            .inner_join(users::table.left_join(organisations::table))
            .filter(api_tokens::token_hash.eq(hash_token(token)))
            .filter(api_tokens::revoked_at.is_null())
            .filter(users::active.eq(true))
            .select((
                api_tokens::id,
                api_tokens::last_used_at,
                User::as_select(),
                (organisations::code, organisations::needs_version).nullable(),
            ))
            .first(&mut conn)
            .optional()?;
    let Some((token_id, last_used, user, organisation)) = found else {
        return Ok(None);
    };
    let now = Utc::now().naive_utc();
    if last_used.is_none_or(|at| now - at >= Duration::seconds(TOUCH_SECONDS)) {
        diesel::update(api_tokens::table.find(token_id))
            .set(api_tokens::last_used_at.eq(now))
            .execute(&mut conn)?;
    }
    viewer_of(user, organisation, String::new()).map(Some)
}
