//! The keys that open sealed bids (#23): each lead's personal **opening key**, kept under a
//! passphrase only they know, and the platform's offline **recovery key**, made once by an
//! admin and shown once for printing. Neither secret is ever stored in clear, nor the
//! passphrase at all.

use crate::auth::Actor;
use crate::db::schema::{opening_keys, recovery_keys};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::error::AppError;
use crate::services::audit::{self, Change};
use crate::services::seal::{self, SealError};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

/// A lead's opening key as their account page shows it: never the secret.
#[derive(Debug, Serialize)]
pub struct OpeningKey {
    pub recipient: String,
    pub created_at: NaiveDateTime,
    pub changed_at: NaiveDateTime,
}

/// The actor's own opening key, if they made one (leads only).
pub fn own(pool: &Pool, actor: &Actor) -> Result<Option<OpeningKey>, AppError> {
    actor.require_lead()?;
    let mut conn = pool.get()?;
    Ok(opening_keys::table
        .find(actor.user_id)
        .select((
            opening_keys::recipient,
            opening_keys::created_at,
            opening_keys::changed_at,
        ))
        .first::<(String, NaiveDateTime, NaiveDateTime)>(&mut conn)
        .optional()?
        .map(|(recipient, created_at, changed_at)| OpeningKey {
            recipient,
            created_at,
            changed_at,
        }))
}

/// The problems of a new passphrase and its confirmation, by field.
fn check_new(
    problems: &mut crate::error::Problems,
    field: &'static str,
    passphrase: &str,
    confirmation: &str,
) {
    if passphrase.chars().count() < seal::MIN_PASSPHRASE_CHARS {
        problems.add(
            field,
            format!(
                "au moins {} caractères : une phrase que vous seul connaissez",
                seal::MIN_PASSPHRASE_CHARS
            ),
        );
    } else if passphrase.len() > 1024 {
        problems.add(field, "1 024 caractères au plus");
    } else if passphrase != confirmation {
        problems.add("confirmation", "les deux phrases ne sont pas identiques");
    }
}

/// Makes the lead's opening key under a new passphrase. A lead has one key: changing its
/// passphrase keeps it (the shares of the tenders already published stay readable).
pub fn create(
    pool: &Pool,
    actor: &Actor,
    passphrase: &str,
    confirmation: &str,
) -> Result<OpeningKey, AppError> {
    actor.require_lead()?;
    let mut problems = crate::error::Problems::default();
    check_new(&mut problems, "phrase secrète", passphrase, confirmation);
    problems.finish()?;
    // The memory-hard derivation runs outside any transaction.
    let (recipient, sealed) = seal::new_opening_key(passphrase).map_err(AppError::internal)?;
    let now = Utc::now().naive_utc();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let exists: i64 = opening_keys::table
            .filter(opening_keys::user_id.eq(actor.user_id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(AppError::Conflict(
                "vous avez déjà une clé d'ouverture : changez sa phrase secrète plutôt".into(),
            ));
        }
        diesel::insert_into(opening_keys::table)
            .values((
                opening_keys::user_id.eq(actor.user_id),
                opening_keys::recipient.eq(&recipient),
                opening_keys::sealed_identity.eq(&sealed),
                opening_keys::created_at.eq(now),
                opening_keys::changed_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("opening_key.created", "user", actor.user_id).after(recipient.clone()),
        )?;
        Ok(OpeningKey {
            recipient: recipient.clone(),
            created_at: now,
            changed_at: now,
        })
    })
}

/// Changes the passphrase of the lead's opening key (the old one is needed).
pub fn change_passphrase(
    pool: &Pool,
    actor: &Actor,
    old: &str,
    new: &str,
    confirmation: &str,
) -> Result<(), AppError> {
    actor.require_lead()?;
    let mut problems = crate::error::Problems::default();
    check_new(&mut problems, "nouvelle phrase secrète", new, confirmation);
    problems.finish()?;
    let mut conn = pool.get()?;
    let sealed: String = opening_keys::table
        .find(actor.user_id)
        .select(opening_keys::sealed_identity)
        .first(&mut conn)
        .optional()?
        .ok_or_else(|| {
            AppError::Conflict("vous n'avez pas encore de clé d'ouverture : créez-la".into())
        })?;
    let again = match seal::rekey(&sealed, old, new) {
        Ok(again) => again,
        Err(SealError::WrongPassphrase) => {
            return Err(AppError::validation(
                "phrase secrète actuelle",
                "ce n'est pas la phrase secrète de votre clé",
            ))
        }
        Err(other) => return Err(AppError::internal(other)),
    };
    write_transaction(&mut conn, |conn| {
        // Changed meanwhile by another session: refused rather than lost.
        let changed = diesel::update(
            opening_keys::table
                .filter(opening_keys::user_id.eq(actor.user_id))
                .filter(opening_keys::sealed_identity.eq(&sealed)),
        )
        .set((
            opening_keys::sealed_identity.eq(&again),
            opening_keys::changed_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "la phrase secrète vient d'être changée ailleurs : recommencez".into(),
            ));
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("opening_key.passphrase_changed", "user", actor.user_id),
        )?;
        Ok(())
    })
}

/// The secret of a user's opening key, with their passphrase (in memory only).
pub fn unlock(
    conn: &mut AnyConnection,
    user_id: i32,
    passphrase: &str,
) -> Result<age::x25519::Identity, AppError> {
    let sealed: String = opening_keys::table
        .find(user_id)
        .select(opening_keys::sealed_identity)
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::Conflict(
                "vous n'avez pas de clé d'ouverture : créez-la depuis « Mon compte »".into(),
            )
        })?;
    match seal::unlock(&sealed, passphrase) {
        Ok(key) => Ok(key),
        Err(SealError::WrongPassphrase) => Err(AppError::validation(
            "phrase secrète",
            "ce n'est pas la phrase secrète de votre clé d'ouverture",
        )),
        Err(other) => Err(AppError::internal(other)),
    }
}

/// The recovery key in force: its id and public half.
pub fn recovery(conn: &mut AnyConnection) -> QueryResult<Option<(i32, String, NaiveDateTime)>> {
    recovery_keys::table
        .order(recovery_keys::id.desc())
        .select((
            recovery_keys::id,
            recovery_keys::recipient,
            recovery_keys::created_at,
        ))
        .first(conn)
        .optional()
}

/// The recovery key, as the admin page shows it.
#[derive(Debug, Serialize)]
pub struct RecoveryKey {
    pub recipient: String,
    pub created_at: NaiveDateTime,
}

pub fn current_recovery(pool: &Pool, actor: &Actor) -> Result<Option<RecoveryKey>, AppError> {
    actor.require_admin()?;
    let mut conn = pool.get()?;
    Ok(
        recovery(&mut conn)?.map(|(_, recipient, created_at)| RecoveryKey {
            recipient,
            created_at,
        }),
    )
}

/// Makes the recovery key (an admin, once; a new one only with `replace`, for the tenders
/// published afterwards). Returns the secret, to be printed now: it is never stored.
pub fn create_recovery(
    pool: &Pool,
    actor: &Actor,
    replace: bool,
) -> Result<(RecoveryKey, zeroize::Zeroizing<String>), AppError> {
    actor.require_admin()?;
    let pair = seal::KeyPair::generate();
    let now = Utc::now().naive_utc();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        if recovery(conn)?.is_some() && !replace {
            return Err(AppError::Conflict(
                "la clé de secours existe déjà : elle ne s'affiche qu'une fois ; \
                 remplacez-la seulement si elle est perdue"
                    .into(),
            ));
        }
        diesel::insert_into(recovery_keys::table)
            .values((
                recovery_keys::recipient.eq(&pair.recipient),
                recovery_keys::created_by.eq(actor.user_id),
                recovery_keys::created_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("recovery_key.created", "recovery_key", 0).after(pair.recipient.clone()),
        )?;
        Ok(())
    })?;
    Ok((
        RecoveryKey {
            recipient: pair.recipient.clone(),
            created_at: now,
        },
        pair.secret_text(),
    ))
}
