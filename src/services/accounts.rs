//! Accounts beyond signing in: supplier self-registration, e-mail verification, password reset
//! and invitations, all through single-use links sent by e-mail.
//!
//! A link carries a random 256-bit token; the database keeps its SHA-256, the purpose, an
//! expiry and when it was used. Using a link is a conditional update (`… WHERE used_at IS
//! NULL`), so a link works once even when clicked twice at the same moment.

use crate::db::models::{NewAuthLink, NewSupplier, NewUser, User};
use crate::db::schema::{auth_links, communes, sessions, suppliers, users};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{hash_password, Locale, Postcode, Siret};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Author, Change};
use crate::services::auth::{hash_token, random_token};
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const RESET_LINK_HOURS: i64 = 1;
pub const VERIFICATION_LINK_DAYS: i64 = 7;
pub const INVITATION_LINK_DAYS: i64 = 7;

/// What a single-use link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    EmailVerification,
    Invitation,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::EmailVerification => "email_verification",
            Purpose::Invitation => "invitation",
        }
    }

    /// The portal path the link opens.
    pub fn path(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "/mot-de-passe/nouveau",
            Purpose::EmailVerification => "/verification",
            Purpose::Invitation => "/invitation",
        }
    }

    fn lifetime(self) -> Duration {
        match self {
            Purpose::PasswordReset => Duration::hours(RESET_LINK_HOURS),
            Purpose::EmailVerification => Duration::days(VERIFICATION_LINK_DAYS),
            Purpose::Invitation => Duration::days(INVITATION_LINK_DAYS),
        }
    }
}

use crate::error::Problems;

/// A new password: long enough, typed twice the same.
pub fn check_new_password(problems: &mut Problems, password: &str, confirmation: &str) {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        problems.add(
            "mot de passe",
            format!("au moins {MIN_PASSWORD_CHARS} caractères"),
        );
    } else if password.chars().count() > 128 {
        problems.add("mot de passe", "au plus 128 caractères");
    } else if password != confirmation {
        problems.add("confirmation", "les deux mots de passe diffèrent");
    }
}

pub fn normalised_email(problems: &mut Problems, field: &'static str, email: &str) -> String {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.parse::<lettre::Address>().is_ok()
        && email.split('@').nth(1).is_some_and(|d| d.contains('.'));
    if !valid {
        problems.add(field, format!("« {email} » n'est pas une adresse e-mail"));
    }
    email
}

/// Writes a new single-use link for `user` and its e-mail in the outbox; returns the link.
pub fn issue_link(
    conn: &mut AnyConnection,
    base_url: &str,
    user: &User,
    purpose: Purpose,
    template: &str,
    mut data: serde_json::Value,
) -> QueryResult<String> {
    let token = random_token();
    let hash = hash_token(&token);
    diesel::insert_into(auth_links::table)
        .values(NewAuthLink {
            user_id: user.id,
            purpose: purpose.code(),
            token_hash: &hash,
            expires_at: Utc::now().naive_utc() + purpose.lifetime(),
        })
        .execute(conn)?;
    let link = format!("{base_url}{}?jeton={token}", purpose.path());
    data["link"] = json!(link);
    data["name"] = json!(user.display_name);
    data["locale"] = json!(crate::domain::Locale::of(&user.locale).code());
    // One e-mail per link: the link's own hash is the event.
    mail::enqueue(
        conn,
        &user.email,
        template,
        &data,
        &format!("{template}:{}", &hash[..32]),
    )?;
    Ok(link)
}

/// The user a link belongs to, when it is valid for `purpose`; otherwise a message that says
/// what is wrong with it.
pub fn check_link(pool: &Pool, purpose: Purpose, token: &str) -> Result<User, AppError> {
    let mut conn = pool.get()?;
    valid_link(&mut conn, purpose, token).map(|(_, user)| user)
}

fn valid_link(
    conn: &mut AnyConnection,
    purpose: Purpose,
    token: &str,
) -> Result<(i32, User), AppError> {
    let found: Option<(i32, NaiveDateTime, Option<NaiveDateTime>, User)> = auth_links::table
        .inner_join(users::table)
        .filter(auth_links::token_hash.eq(hash_token(token.trim())))
        .filter(auth_links::purpose.eq(purpose.code()))
        .select((
            auth_links::id,
            auth_links::expires_at,
            auth_links::used_at,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    match found {
        None => Err(AppError::validation(
            "lien",
            "ce lien n'est pas valide : vérifiez qu'il a été copié en entier, ou demandez-en un nouveau",
        )),
        Some((_, _, Some(_), _)) => Err(AppError::validation(
            "lien",
            "ce lien a déjà servi : il ne fonctionne qu'une fois ; demandez-en un nouveau si besoin",
        )),
        Some((_, expires, None, _)) if expires < Utc::now().naive_utc() => {
            Err(AppError::validation(
                "lien",
                "ce lien a expiré : demandez-en un nouveau",
            ))
        }
        Some((id, _, None, user)) => Ok((id, user)),
    }
}

/// Marks the link used, or fails with the reused-link message if another request used it
/// first.
fn use_link(conn: &mut AnyConnection, purpose: Purpose, token: &str) -> Result<User, AppError> {
    let (id, user) = valid_link(conn, purpose, token)?;
    let used = diesel::update(
        auth_links::table
            .find(id)
            .filter(auth_links::used_at.is_null()),
    )
    .set(auth_links::used_at.eq(Utc::now().naive_utc()))
    .execute(conn)?;
    if used != 1 {
        return Err(AppError::validation("lien", "ce lien a déjà servi"));
    }
    Ok(user)
}

/// Asks for a password reset. Says nothing of whether the account exists: the caller shows the
/// same message either way; the e-mail goes only to an existing, active account.
pub fn request_password_reset(pool: &Pool, base_url: &str, email: &str) -> Result<(), AppError> {
    let email = email.trim().to_lowercase();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let user: Option<User> = users::table
            .filter(users::email.eq(&email))
            .filter(users::active.eq(true))
            .select(User::as_select())
            .first(conn)
            .optional()?;
        if let Some(user) = user {
            issue_link(
                conn,
                base_url,
                &user,
                Purpose::PasswordReset,
                "password_reset",
                json!({ "hours": RESET_LINK_HOURS }),
            )?;
            audit::record(
                conn,
                Author::user(&user),
                Change::new("auth.reset_requested", "user", user.id),
            )?;
        }
        Ok(())
    })
}

/// Sets a new password through a reset or invitation link: the link is used up, every
/// session of the account ends (a reset signs out everywhere), and the address counts as
/// verified since the mail was read. Nothing changes when anything is wrong.
pub fn set_password_by_link(
    pool: &Pool,
    purpose: Purpose,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<(), AppError> {
    let mut problems = Problems::default();
    check_new_password(&mut problems, password, confirmation);
    problems.finish()?;
    // The link first (a query), the costly hash only for a link that works; no connection is
    // held while hashing. The link is checked again, and used up, in the transaction.
    valid_link(&mut *pool.get()?, purpose, token)?;
    let hash = hash_password(password)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let user = use_link(conn, purpose, token)?;
        let now = Utc::now().naive_utc();
        diesel::update(users::table.find(user.id))
            .set((
                users::password_hash.eq(&hash),
                users::email_verified_at.eq(user.email_verified_at.unwrap_or(now)),
            ))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user.id))).execute(conn)?;
        crate::services::auth::revoke_api_tokens(conn, user.id)?;
        let action = match purpose {
            Purpose::Invitation => "auth.invitation_accepted",
            _ => "auth.password_reset",
        };
        audit::record(
            conn,
            Author::user(&user),
            Change::new(action, "user", user.id),
        )?;
        Ok(())
    })
}

/// The address verification link, by e-mail to the person.
fn send_verification(conn: &mut AnyConnection, base_url: &str, user: &User) -> QueryResult<String> {
    issue_link(
        conn,
        base_url,
        user,
        Purpose::EmailVerification,
        "email_verification",
        json!({ "days": VERIFICATION_LINK_DAYS }),
    )
}

/// Sends the verification link of one's own address again; refused once it is confirmed.
/// Returns the address.
pub fn resend_verification(
    pool: &Pool,
    actor: &crate::auth::Actor,
    base_url: &str,
) -> Result<String, AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let user: User = users::table
            .find(actor.user_id)
            .select(User::as_select())
            .first(conn)?;
        if user.email_verified_at.is_some() {
            return Err(AppError::Conflict(format!(
                "l'adresse {} est déjà confirmée",
                user.email
            )));
        }
        send_verification(conn, base_url, &user)?;
        Ok(user.email)
    })
}

/// Confirms an address through its verification link.
pub fn verify_email(pool: &Pool, token: &str) -> Result<User, AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let user = use_link(conn, Purpose::EmailVerification, token)?;
        diesel::update(users::table.find(user.id))
            .set(users::email_verified_at.eq(Utc::now().naive_utc()))
            .execute(conn)?;
        audit::record(
            conn,
            Author::user(&user),
            Change::new("auth.email_verified", "user", user.id),
        )?;
        Ok(user)
    })
}

/// A SIRET or an address that has an account already: a conflict saying what to do.
fn already_registered(
    conn: &mut crate::db::AnyConnection,
    siret: &Siret,
    email: &str,
) -> Result<(), AppError> {
    let taken: Option<String> = suppliers::table
        .filter(suppliers::siret.eq(siret.as_str()))
        .select(suppliers::name)
        .first(conn)
        .optional()?;
    if let Some(name) = taken {
        return Err(AppError::Conflict(format!(
            "SIRET : l'établissement {siret} est déjà inscrit ({name}). Demandez à la personne \
             qui l'a inscrit de vous ouvrir un accès, ou utilisez « mot de passe oublié »."
        )));
    }
    let email_taken: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)?;
    if email_taken > 0 {
        return Err(AppError::Conflict(format!(
            "adresse e-mail : un compte existe déjà pour {email} ; connectez-vous ou utilisez « mot de passe oublié »."
        )));
    }
    Ok(())
}

/// The registration form of a supplier company.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct Registration {
    #[serde(default)]
    pub siret: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, skip_serializing)]
    pub password: String,
    #[serde(default, skip_serializing)]
    pub password_confirmation: String,
    /// A checkbox: present (`on`) when ticked.
    #[serde(default)]
    pub sme: Option<String>,
    /// The language of the e-mails (`fr`, `en`); French when absent.
    #[serde(default)]
    pub locale: String,
}

/// Registers a supplier company and its first user, keyed on the SIRET: one company, one
/// profile, whoever registers it. Sends the address verification link.
pub fn register_supplier(pool: &Pool, base_url: &str, form: &Registration) -> Result<(), AppError> {
    let mut problems = Problems::default();
    let siret = problems.check("SIRET", Siret::parse(&form.siret));
    let company = form.company.trim();
    if company.is_empty() || company.chars().count() > 200 {
        problems.add("raison sociale", "de 1 à 200 caractères");
    }
    let contact = form.contact_name.trim();
    if contact.is_empty() || contact.chars().count() > 120 {
        problems.add("nom du contact", "de 1 à 120 caractères");
    }
    let email = normalised_email(&mut problems, "adresse e-mail", &form.email);
    check_new_password(&mut problems, &form.password, &form.password_confirmation);
    let postcode = problems.check("code postal", Postcode::parse(&form.postcode));
    let mut conn = pool.get()?;
    let commune =
        match &postcode {
            Some(postcode) => {
                let mut names: Vec<(String, Option<f64>, Option<f64>)> = communes::table
                    .filter(communes::postcode.eq(postcode.as_str()))
                    .order(communes::name)
                    .select((communes::name, communes::latitude, communes::longitude))
                    .load(&mut conn)?;
                let wanted = form.commune.trim().to_uppercase();
                if names.is_empty() {
                    problems.add(
                        "code postal",
                        format!("aucune commune n'a le code postal {postcode}"),
                    );
                    None
                } else if !wanted.is_empty() {
                    let found = names
                        .iter()
                        .position(|(n, _, _)| n.to_uppercase() == wanted);
                    if found.is_none() {
                        problems.add(
                            "commune",
                            format!(
                            "« {} » n'a pas le code postal {postcode} (communes de ce code : {})",
                            form.commune.trim(),
                            names.iter().map(|n| n.0.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        );
                    }
                    found.map(|i| names.swap_remove(i))
                } else {
                    names.into_iter().next()
                }
            }
            None => None,
        };
    let locale = match form.locale.trim() {
        "" => Locale::Fr,
        code => Locale::parse(code).unwrap_or_else(|| {
            problems.add("langue", format!("« {code} » : choisissez fr ou en"));
            Locale::Fr
        }),
    };
    problems.finish()?;
    let (Some(siret), Some(postcode), Some((commune, latitude, longitude))) =
        (siret, postcode, commune)
    else {
        return Err(AppError::internal("registration checked without values"));
    };
    // Everything a query can refuse is refused before the costly hash, computed with no
    // connection held; the transaction checks again.
    already_registered(&mut conn, &siret, &email)?;
    drop(conn);
    let hash = hash_password(&form.password)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        already_registered(conn, &siret, &email)?;
        let supplier_id: i32 = diesel::insert_into(suppliers::table)
            .values(NewSupplier {
                siret: siret.as_str(),
                name: company,
                postcode: postcode.as_str(),
                commune: &commune,
                department_code: &postcode.department(),
                latitude,
                longitude,
                sme: form.sme.is_some(),
                annual_capacity_cents: 0,
                notification_email: &email,
                opt_in: true,
                provenance: Some("inscription en ligne"),
            })
            .returning(suppliers::id)
            .get_result(conn)?;
        let user: i32 = diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: &hash,
                display_name: contact,
                role: "supplier",
                organisation_id: None,
                supplier_id: Some(supplier_id),
                email_verified_at: None,
            })
            .returning(users::id)
            .get_result::<i32>(conn)?;
        diesel::update(users::table.find(user))
            .set(users::locale.eq(locale.code()))
            .execute(conn)?;
        diesel::update(suppliers::table.find(supplier_id))
            .set(suppliers::locale.eq(locale.code()))
            .execute(conn)?;
        let user: User = users::table
            .find(user)
            .select(User::as_select())
            .first(conn)?;
        send_verification(conn, base_url, &user)?;
        audit::record(
            conn,
            Author::user(&user),
            Change::new("supplier.registered", "supplier", supplier_id)
                .after(format!("{siret} {company}")),
        )?;
        tracing::info!(
            supplier = supplier_id,
            user = user.id,
            "supplier registered"
        );
        Ok(())
    })
}

/// What the account page shows of the person and of what they belong to.
#[derive(Debug, serde::Serialize)]
pub struct AccountSummary {
    pub email: String,
    pub display_name: String,
    pub role: &'static str,
    pub verified: bool,
    pub organisation: Option<String>,
    pub company: Option<CompanyCard>,
    pub sessions: i64,
    pub locale: &'static str,
}

#[derive(Debug, serde::Serialize)]
pub struct CompanyCard {
    pub siret: String,
    pub name: String,
    pub postcode: String,
    pub commune: String,
    pub sme: bool,
    pub notification_email: String,
}

pub fn account_summary(
    pool: &Pool,
    actor: &crate::auth::Actor,
) -> Result<AccountSummary, AppError> {
    use crate::db::models::Supplier;
    use crate::db::schema::organisations;
    let mut conn = pool.get()?;
    let user: User = users::table
        .find(actor.user_id)
        .select(User::as_select())
        .first(&mut conn)?;
    let organisation = match user.organisation_id {
        Some(id) => Some(
            organisations::table
                .find(id)
                .select(organisations::name)
                .first::<String>(&mut conn)?,
        ),
        None => None,
    };
    let company = match user.supplier_id {
        Some(id) => {
            let s: Supplier = suppliers::table
                .find(id)
                .select(Supplier::as_select())
                .first(&mut conn)?;
            Some(CompanyCard {
                siret: s.siret,
                name: s.name,
                postcode: s.postcode,
                commune: s.commune,
                sme: s.sme,
                notification_email: s.notification_email,
            })
        }
        None => None,
    };
    let sessions: i64 = sessions::table
        .filter(sessions::user_id.eq(user.id))
        .count()
        .get_result(&mut conn)?;
    Ok(AccountSummary {
        email: user.email,
        display_name: user.display_name,
        role: actor.role.label_fr(),
        verified: user.email_verified_at.is_some(),
        organisation,
        company,
        sessions,
        locale: Locale::of(&user.locale).code(),
    })
}

/// Sets the language of the signed-in person's e-mails (`fr` or `en`).
pub fn set_locale(pool: &Pool, actor: &crate::auth::Actor, code: &str) -> Result<(), AppError> {
    let locale = Locale::parse(code).ok_or_else(|| {
        AppError::validation("langue", format!("« {code} » : choisissez fr ou en"))
    })?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        diesel::update(users::table.find(actor.user_id))
            .set(users::locale.eq(locale.code()))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("user.locale_changed", "user", actor.user_id).after(locale.code()),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_every_field_and_the_first_one() {
        let mut problems = Problems::default();
        check_new_password(&mut problems, "court", "court");
        let email = normalised_email(&mut problems, "adresse e-mail", " Pas Une Adresse ");
        assert_eq!(email, "pas une adresse");
        let error = problems.finish().unwrap_err();
        assert_eq!(error.field(), Some("mot de passe"));
        let text = error.to_string();
        assert!(text.contains("au moins 12 caractères"), "{text}");
        assert!(
            text.contains("adresse e-mail : « pas une adresse »"),
            "{text}"
        );
        let mut fine = Problems::default();
        check_new_password(&mut fine, "un mot de passe long", "un mot de passe long");
        assert_eq!(normalised_email(&mut fine, "e", "A@B.fr"), "a@b.fr");
        assert!(fine.finish().is_ok());
    }
}
