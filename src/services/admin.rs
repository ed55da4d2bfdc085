//! The platform operator's work: buyer organisations, users and their roles, invitations.
//! Every change is audited in its own transaction, with what it was before.

use crate::auth::{Actor, Role};
use crate::db::models::{NewOrganisation, NewUser, Organisation, User};
use crate::db::schema::{organisations, sessions, suppliers, users};
use crate::db::{write_transaction, Pool};
use crate::domain::Siret;
use crate::error::AppError;
use crate::error::Problems;
use crate::services::accounts::{issue_link, Purpose, INVITATION_LINK_DAYS};
use crate::services::audit::{self, Change};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Kinds of buyer organisation and the class of procurement thresholds each falls under.
pub const ORGANISATION_KINDS: &[(&str, &str)] = &[
    ("hospital", "Établissement de santé"),
    ("university", "Université"),
    ("social_housing", "Office public de l'habitat"),
    ("local_authority", "Collectivité territoriale"),
    ("state", "Service ou établissement de l'État"),
    ("other", "Autre acheteur public"),
];

#[derive(Debug, Serialize)]
pub struct OrganisationRow {
    pub code: String,
    pub name: String,
    pub siret: String,
    pub kind: String,
    pub buyer_class: String,
    pub users: i64,
}

pub fn organisations(pool: &Pool) -> Result<Vec<OrganisationRow>, AppError> {
    let mut conn = pool.get()?;
    let rows: Vec<Organisation> = organisations::table
        .order(organisations::code)
        .select(Organisation::as_select())
        .load(&mut conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for org in rows {
        let users: i64 = users::table
            .filter(users::organisation_id.eq(org.id))
            .count()
            .get_result(&mut conn)?;
        out.push(OrganisationRow {
            kind: ORGANISATION_KINDS
                .iter()
                .find(|(k, _)| *k == org.kind)
                .map_or(org.kind.clone(), |(_, label)| (*label).to_string()),
            buyer_class: match org.buyer_class.as_str() {
                "central" => "central (État)".into(),
                _ => "sous-central".into(),
            },
            code: org.code,
            name: org.name,
            siret: org.siret.unwrap_or_default(),
            users,
        });
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct OrganisationForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub siret: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub buyer_class: String,
}

pub fn create_organisation(
    pool: &Pool,
    actor: &Actor,
    form: &OrganisationForm,
) -> Result<String, AppError> {
    actor.require_admin()?;
    let mut problems = Problems::default();
    let code = form.code.trim().to_uppercase();
    if !(2..=12).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        problems.add(
            "code",
            "de 2 à 12 lettres ou chiffres, sans espace (ex. CHU)",
        );
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.add("nom", "de 1 à 200 caractères");
    }
    let siret = match form.siret.trim() {
        "" => None,
        text => problems.check("SIRET", Siret::parse(text)),
    };
    if !ORGANISATION_KINDS.iter().any(|(k, _)| *k == form.kind) {
        problems.add("nature", "choisissez une nature dans la liste");
    }
    if !["central", "sub_central"].contains(&form.buyer_class.as_str()) {
        problems.add("classe", "central ou sous-central");
    }
    problems.finish()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let code_taken: i64 = organisations::table
            .filter(organisations::code.eq(&code))
            .count()
            .get_result(conn)?;
        if code_taken > 0 {
            return Err(AppError::Conflict(format!(
                "code : l'organisation {code} existe déjà"
            )));
        }
        if let Some(siret) = &siret {
            let siret_taken: i64 = organisations::table
                .filter(organisations::siret.eq(siret.as_str()))
                .count()
                .get_result(conn)?;
            if siret_taken > 0 {
                return Err(AppError::Conflict(format!(
                    "SIRET : une organisation a déjà le SIRET {siret}"
                )));
            }
        }
        let id: i32 = diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code: &code,
                name,
                siret: siret.as_ref().map(|s| s.as_str()),
                kind: &form.kind,
                buyer_class: &form.buyer_class,
            })
            .returning(organisations::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.organisation_created", "organisation", id)
                .after(format!("{code} {name} ({})", form.buyer_class)),
        )?;
        Ok(code.clone())
    })
}

#[derive(Debug, Serialize)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub display_name: String,
    pub role: &'static str,
    pub role_code: &'static str,
    pub attached_to: String,
    pub active: bool,
    pub verified: bool,
    pub invited: bool,
}

pub fn users(pool: &Pool) -> Result<Vec<UserRow>, AppError> {
    let mut conn = pool.get()?;
    let rows: Vec<(User, Option<String>, Option<String>)> = users::table
        .left_join(organisations::table)
        .left_join(suppliers::table)
        .order(users::email)
        .select((
            User::as_select(),
            organisations::code.nullable(),
            suppliers::name.nullable(),
        ))
        .load(&mut conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, org, supplier)| {
            let role = Role::parse(&user.role).unwrap_or(Role::Buyer);
            UserRow {
                id: user.id,
                role: role.label_fr(),
                role_code: role.code(),
                attached_to: org.or(supplier).unwrap_or_default(),
                active: user.active,
                verified: user.email_verified_at.is_some(),
                invited: user.password_hash == INVITED,
                email: user.email,
                display_name: user.display_name,
            }
        })
        .collect())
}

/// The password hash of an invited user who has not chosen a password yet: matches nothing.
pub const INVITED: &str = "!invited";

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct UserChange {
    #[serde(default)]
    pub role: String,
    /// Organisation code, for buyers and leads.
    #[serde(default)]
    pub organisation: String,
    /// A checkbox: present when the account stays active.
    #[serde(default)]
    pub active: Option<String>,
}

fn organisation_id(
    conn: &mut crate::db::AnyConnection,
    role: Role,
    code: &str,
) -> Result<Option<i32>, AppError> {
    match role {
        Role::Buyer | Role::Lead => {
            let code = code.trim().to_uppercase();
            if code.is_empty() {
                return Err(AppError::validation(
                    "organisation",
                    format!("choisissez l'organisation d'un {}", role.label_fr()),
                ));
            }
            organisations::table
                .filter(organisations::code.eq(&code))
                .select(organisations::id)
                .first(conn)
                .optional()?
                .map(Some)
                .ok_or_else(|| {
                    AppError::validation(
                        "organisation",
                        format!("un {} appartient à une organisation existante (« {code} » n'en est pas une)", role.label_fr()),
                    )
                })
        }
        _ => Ok(None),
    }
}

/// Changes a user's role, organisation or activity. A supplier's account stays a supplier's
/// (its company is its identity) and the last active admin cannot be removed. The user's
/// sessions end, so the change applies at once.
pub fn change_user(
    pool: &Pool,
    actor: &Actor,
    user_id: i32,
    change: &UserChange,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let role = Role::parse(&change.role)
        .ok_or_else(|| AppError::validation("rôle", "choisissez un rôle dans la liste"))?;
    let active = change.active.is_some();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let user: User = users::table
            .find(user_id)
            .select(User::as_select())
            .first(conn)?;
        let was = Role::parse(&user.role).unwrap_or(Role::Buyer);
        if (was == Role::Supplier) != (role == Role::Supplier) {
            return Err(AppError::validation(
                "rôle",
                "un compte d'entreprise reste un compte d'entreprise, et seul un compte d'entreprise l'est",
            ));
        }
        let organisation_id = organisation_id(conn, role, &change.organisation)?;
        if was == Role::Admin && (role != Role::Admin || !active) {
            let admins: i64 = users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .count()
                .get_result(conn)?;
            if admins <= 1 {
                return Err(AppError::Conflict(
                    "rôle : c'est le dernier administrateur actif ; nommez-en un autre d'abord"
                        .into(),
                ));
            }
        }
        let describe = |role: &str, org: Option<i32>, active: bool| {
            format!(
                "role={role} organisation={} active={active}",
                org.map(|o| o.to_string()).unwrap_or_else(|| "-".into())
            )
        };
        let before = describe(&user.role, user.organisation_id, user.active);
        let after = describe(role.code(), organisation_id, active);
        if before == after {
            return Ok(());
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::role.eq(role.code()),
                users::organisation_id.eq(organisation_id),
                users::active.eq(active),
            ))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.user_changed", "user", user_id).before_after(before, after),
        )?;
        Ok(())
    })
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Invitation {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub organisation: String,
}

/// Creates the account of a buyer, lead or admin and e-mails the link to activate it.
pub fn invite(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    form: &Invitation,
) -> Result<String, AppError> {
    actor.require_admin()?;
    let mut problems = Problems::default();
    let email =
        crate::services::accounts::normalised_email(&mut problems, "adresse e-mail", &form.email);
    let name = form.display_name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        problems.add("nom", "de 1 à 120 caractères");
    }
    let role = Role::parse(&form.role).filter(|r| *r != Role::Supplier);
    if role.is_none() {
        problems.add(
            "rôle",
            "acheteur, responsable achats ou administrateur (les entreprises s'inscrivent elles-mêmes)",
        );
    }
    problems.finish()?;
    let role = role.unwrap_or(Role::Buyer);
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let organisation_id = organisation_id(conn, role, &form.organisation)?;
        let taken: i64 = users::table
            .filter(users::email.eq(&email))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::Conflict(format!(
                "adresse e-mail : un compte existe déjà pour {email}"
            )));
        }
        let user: User = diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash: INVITED,
                display_name: name,
                role: role.code(),
                organisation_id,
                supplier_id: None,
                email_verified_at: None,
            })
            .returning(users::id)
            .get_result::<i32>(conn)
            .and_then(|id| users::table.find(id).select(User::as_select()).first(conn))?;
        let organisation = match organisation_id {
            Some(_) => form.organisation.trim().to_uppercase(),
            None => "plateforme".into(),
        };
        issue_link(
            conn,
            base_url,
            &user,
            Purpose::Invitation,
            "invitation",
            json!({ "days": INVITATION_LINK_DAYS, "role": role.label_fr(), "organisation": organisation }),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.user_invited", "user", user.id).after(format!(
                "{email} role={} organisation={organisation}",
                role.code()
            )),
        )?;
        Ok(email.clone())
    })
}

/// An outbox row as the admin's page shows it.
#[derive(Debug, Serialize)]
pub struct OutboxRow {
    pub id: i32,
    pub recipient: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub last_error: String,
    pub created_at: String,
}

/// How many messages are in each status.
pub type StatusCounts = Vec<(String, i64)>;

/// The outbox: failed and waiting messages first, then the latest sent, 200 at most.
pub fn outbox(pool: &Pool) -> Result<(Vec<OutboxRow>, StatusCounts), AppError> {
    use crate::db::models::Notification;
    use crate::db::schema::notifications;
    use diesel::sql_types::Bool;
    let mut conn = pool.get()?;
    // The receipts of bids on tenders still sealed are left out, counts included: they would
    // tell who bid, and how many.
    let (sealed, _) = crate::services::bids::sealed_tenders(&mut conn)?;
    let visible = || -> Box<dyn BoxableExpression<notifications::table, _, SqlType = Bool>> {
        let mut hidden: Box<dyn BoxableExpression<notifications::table, _, SqlType = Bool>> =
            Box::new(diesel::dsl::sql::<Bool>("1 = 0"));
        for reference in &sealed {
            let pattern = format!(
                "%\"reference\":{}%",
                crate::services::audit::like_pattern(
                    &serde_json::Value::String(reference.clone()).to_string(),
                    false
                )
                .trim_matches('%')
            );
            hidden = Box::new(hidden.or(notifications::data.like(pattern).escape('\\')));
        }
        Box::new(diesel::dsl::not(
            notifications::template.eq("bid_receipt").and(hidden),
        ))
    };
    let counts: Vec<(String, i64)> = notifications::table
        .filter(visible())
        .group_by(notifications::status)
        .select((notifications::status, diesel::dsl::count_star()))
        .order(notifications::status)
        .load(&mut conn)?;
    let mut rows: Vec<Notification> = notifications::table
        .filter(visible())
        .filter(notifications::status.ne("sent"))
        .order(notifications::id.desc())
        .limit(100)
        .select(Notification::as_select())
        .load(&mut conn)?;
    rows.extend(
        notifications::table
            .filter(visible())
            .filter(notifications::status.eq("sent"))
            .order(notifications::id.desc())
            .limit(100)
            .select(Notification::as_select())
            .load::<Notification>(&mut conn)?,
    );
    let time = |t: chrono::NaiveDateTime| crate::domain::paris_text(t);
    Ok((
        rows.into_iter()
            .map(|n| OutboxRow {
                id: n.id,
                recipient: n.recipient,
                template: n.template,
                status: n.status,
                attempts: n.attempts,
                next_attempt_at: time(n.next_attempt_at),
                last_error: n.last_error.unwrap_or_default(),
                created_at: time(n.created_at),
            })
            .collect(),
        counts,
    ))
}

/// Sends a failed message again: pending, due now, its attempts counted afresh.
pub fn retry(pool: &Pool, actor: &Actor, id: i32) -> Result<(), AppError> {
    actor.require_admin()?;
    use crate::db::schema::notifications;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let changed = diesel::update(
            notifications::table
                .find(id)
                .filter(notifications::status.eq("failed")),
        )
        .set((
            notifications::status.eq("pending"),
            notifications::attempts.eq(0),
            notifications::next_attempt_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "seul un message en échec se renvoie".into(),
            ));
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("mail.retried", "notification", id),
        )?;
        Ok(())
    })
}
