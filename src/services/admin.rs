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
    /// What the EU notices need and the organisation lacks (`téléphone, e-mail`), empty when
    /// nothing.
    pub missing: String,
}

pub fn organisations(pool: &Pool) -> Result<Vec<OrganisationRow>, AppError> {
    let mut conn = pool.get()?;
    let rows: Vec<(Organisation, (String, String, String))> = organisations::table
        .order(organisations::code)
        .select((
            Organisation::as_select(),
            (
                organisations::city,
                organisations::phone,
                organisations::email,
            ),
        ))
        .load(&mut conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (org, (city, phone, email)) in rows {
        let missing: Vec<&str> = [
            (org.siret.is_none(), "SIRET"),
            (city.is_empty(), "adresse"),
            (phone.is_empty(), "téléphone"),
            (email.is_empty(), "e-mail"),
        ]
        .iter()
        .filter(|(absent, _)| *absent)
        .map(|(_, what)| *what)
        .collect();
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
            missing: missing.join(", "),
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
    /// The address, telephone, e-mail and website the EU notices give for the buyer.
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub website: String,
}

/// An organisation's contact details, checked: each may be empty (the EU notice of a formal
/// tender then says which is missing), none may be malformed.
pub struct Contact {
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub phone: String,
    pub email: String,
    pub website: String,
}

/// Reads the name, SIRET, nature and class of the form, every problem named; a nature outside
/// the list is kept when it is the organisation's own (`kept`).
fn check_identity<'a>(
    form: &'a OrganisationForm,
    problems: &mut Problems,
    kept: Option<&str>,
) -> (&'a str, Option<Siret>) {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.add("nom", "de 1 à 200 caractères");
    }
    let siret = match form.siret.trim() {
        "" => None,
        text => problems.check("SIRET", Siret::parse(text)),
    };
    if !ORGANISATION_KINDS.iter().any(|(k, _)| *k == form.kind) && kept != Some(form.kind.as_str())
    {
        problems.add("nature", "choisissez une nature dans la liste");
    }
    if !["central", "sub_central"].contains(&form.buyer_class.as_str()) {
        problems.add("classe", "central ou sous-central");
    }
    (name, siret)
}

/// Reads the contact part of the form, every problem named.
pub fn check_contact(form: &OrganisationForm, problems: &mut Problems) -> Contact {
    let street = form.street.trim();
    if street.chars().count() > 200 {
        problems.add("adresse", "200 caractères au plus");
    }
    let postcode = form.postcode.trim();
    let five_digits = postcode.len() == 5 && postcode.bytes().all(|b| b.is_ascii_digit());
    if !postcode.is_empty() && !five_digits {
        problems.add(
            "code postal",
            format!("« {postcode} » n'est pas un code postal de 5 chiffres"),
        );
    }
    let city = form.city.trim();
    if city.chars().count() > 100 {
        problems.add("commune", "100 caractères au plus");
    }
    let phone = form.phone.trim();
    let digits = phone.bytes().filter(u8::is_ascii_digit).count();
    if !phone.is_empty()
        && (!(9..=15).contains(&digits)
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +.-()".contains(c)))
    {
        problems.add(
            "téléphone",
            format!("« {phone} » n'est pas un numéro de téléphone (ex. +33 3 80 00 00 00)"),
        );
    }
    let email = form.email.trim();
    if !email.is_empty()
        && (email.len() > 254
            || email.chars().any(char::is_whitespace)
            || !email
                .split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.')))
    {
        problems.add(
            "e-mail",
            format!("« {email} » n'est pas une adresse e-mail"),
        );
    }
    let website = form.website.trim();
    if !website.is_empty()
        && (website.len() > 300
            || website.chars().any(char::is_whitespace)
            || !(website.starts_with("https://") || website.starts_with("http://")))
    {
        problems.add(
            "site internet",
            format!("« {website} » n'est pas une adresse commençant par https://"),
        );
    }
    Contact {
        street: street.to_string(),
        postcode: postcode.to_string(),
        city: city.to_string(),
        phone: phone.to_string(),
        email: email.to_string(),
        website: website.to_string(),
    }
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
    let (name, siret) = check_identity(form, &mut problems, None);
    let contact = check_contact(form, &mut problems);
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
        set_contact(conn, id, &contact)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.organisation_created", "organisation", id)
                .after(format!("{code} {name} ({})", form.buyer_class)),
        )?;
        Ok(code.clone())
    })
}

fn set_contact(conn: &mut crate::db::AnyConnection, id: i32, c: &Contact) -> QueryResult<usize> {
    diesel::update(organisations::table.find(id))
        .set((
            organisations::street.eq(&c.street),
            organisations::postcode.eq(&c.postcode),
            organisations::city.eq(&c.city),
            organisations::phone.eq(&c.phone),
            organisations::email.eq(&c.email),
            organisations::website.eq(&c.website),
        ))
        .execute(conn)
}

/// An organisation's form filled with what is stored, to edit it.
pub fn organisation_form(pool: &Pool, code: &str) -> Result<OrganisationForm, AppError> {
    let mut conn = pool.get()?;
    type Row = (
        String,
        String,
        Option<String>,
        String,
        String,
        (String, String, String, String, String, String),
    );
    let row: Option<Row> = organisations::table
        .filter(organisations::code.eq(code))
        .select((
            organisations::code,
            organisations::name,
            organisations::siret,
            organisations::kind,
            organisations::buyer_class,
            (
                organisations::street,
                organisations::postcode,
                organisations::city,
                organisations::phone,
                organisations::email,
                organisations::website,
            ),
        ))
        .first(&mut conn)
        .optional()?;
    let (code, name, siret, kind, buyer_class, (street, postcode, city, phone, email, website)) =
        row.ok_or(AppError::NotFound)?;
    Ok(OrganisationForm {
        code,
        name,
        siret: siret.unwrap_or_default(),
        kind,
        buyer_class,
        street,
        postcode,
        city,
        phone,
        email,
        website,
    })
}

/// Changes an organisation's name, SIRET, nature, class and contact details (its code stays).
pub fn update_organisation(
    pool: &Pool,
    actor: &Actor,
    code: &str,
    form: &OrganisationForm,
) -> Result<(), AppError> {
    actor.require_admin()?;
    let before = organisation_form(pool, code)?;
    let mut problems = Problems::default();
    let (name, siret) = check_identity(form, &mut problems, Some(&before.kind));
    let contact = check_contact(form, &mut problems);
    problems.finish()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let id: i32 = organisations::table
            .filter(organisations::code.eq(code))
            .select(organisations::id)
            .first(conn)?;
        if let Some(siret) = &siret {
            let taken: i64 = organisations::table
                .filter(organisations::siret.eq(siret.as_str()))
                .filter(organisations::id.ne(id))
                .count()
                .get_result(conn)?;
            if taken > 0 {
                return Err(AppError::Conflict(format!(
                    "SIRET : une autre organisation a déjà le SIRET {siret}"
                )));
            }
        }
        diesel::update(organisations::table.find(id))
            .set((
                organisations::name.eq(name),
                organisations::siret.eq(siret.as_ref().map(|s| s.as_str())),
                organisations::kind.eq(&form.kind),
                organisations::buyer_class.eq(&form.buyer_class),
            ))
            .execute(conn)?;
        set_contact(conn, id, &contact)?;
        let text = |f: &OrganisationForm| {
            format!(
                "{} ; SIRET {} ; {} ; {} ; {} {} {} ; tél. {} ; {} ; {}",
                f.name,
                f.siret,
                f.kind,
                f.buyer_class,
                f.street,
                f.postcode,
                f.city,
                f.phone,
                f.email,
                f.website
            )
        };
        let after = OrganisationForm {
            code: code.to_string(),
            name: name.to_string(),
            siret: siret.map(|s| s.to_string()).unwrap_or_default(),
            kind: form.kind.clone(),
            buyer_class: form.buyer_class.clone(),
            street: contact.street.clone(),
            postcode: contact.postcode.clone(),
            city: contact.city.clone(),
            phone: contact.phone.clone(),
            email: contact.email.clone(),
            website: contact.website.clone(),
        };
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.organisation_changed", "organisation", id)
                .before_after(text(&before), text(&after)),
        )?;
        Ok(())
    })
}

/// The review body's legal identifier (BT-501 of the administrative court of Dijon), as the
/// admin recorded it; empty when not yet.
pub fn review_body_id(conn: &mut crate::db::AnyConnection) -> QueryResult<String> {
    use crate::db::schema::platform_settings;
    Ok(platform_settings::table
        .find(REVIEW_BODY_KEY)
        .select(platform_settings::value)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

const REVIEW_BODY_KEY: &str = "review_body_id";

/// Records the review body's legal identifier: a SIRET (14 digits) or a SIREN (9 digits).
pub fn set_review_body_id(pool: &Pool, actor: &Actor, text: &str) -> Result<String, AppError> {
    use crate::db::schema::platform_settings;
    actor.require_admin()?;
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let value = match digits.len() {
        14 => Siret::parse(&digits)
            .map(|s| s.to_string())
            .map_err(|e| AppError::validation("instance de recours", e.0))?,
        9 if digits.bytes().all(|b| b.is_ascii_digit()) => digits,
        _ => {
            return Err(AppError::validation(
                "instance de recours",
                format!(
                    "« {} » n'est ni un SIRET (14 chiffres) ni un SIREN (9 chiffres)",
                    text.trim()
                ),
            ))
        }
    };
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let before = review_body_id(conn)?;
        diesel::delete(platform_settings::table.find(REVIEW_BODY_KEY)).execute(conn)?;
        diesel::insert_into(platform_settings::table)
            .values((
                platform_settings::key.eq(REVIEW_BODY_KEY),
                platform_settings::value.eq(&value),
                platform_settings::updated_by.eq(Some(actor.user_id)),
                platform_settings::updated_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("admin.review_body", "platform_settings", REVIEW_BODY_KEY)
                .before_after(before, value.clone()),
        )?;
        Ok(value.clone())
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
