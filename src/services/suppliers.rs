//! A supplier company's profile, kept by its own people: what it sells (CPV interests at any
//! level), where (postcode → commune → department → territorial or not), how much (annual
//! capacity), whether it is an SME, and how it wants to hear of tenders.

use crate::auth::Actor;
use crate::db::models::{NewSupplierCpv, Supplier};
use crate::db::schema::{communes, supplier_cpv, suppliers};
use crate::db::{write_transaction, Pool};
use crate::domain::{Cents, CpvCatalog, Locale, Postcode};
use crate::error::AppError;
use crate::error::Problems;
use crate::services::accounts::normalised_email;
use crate::services::audit::{self, Change};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// A company's identity as notices and declarations give it: name, SIRET, postcode,
/// commune, the address its notices go to, SME or not.
pub fn identity(
    conn: &mut crate::db::AnyConnection,
    supplier_id: i32,
) -> QueryResult<(String, String, String, String, String, bool)> {
    suppliers::table
        .find(supplier_id)
        .select((
            suppliers::name,
            suppliers::siret,
            suppliers::postcode,
            suppliers::commune,
            suppliers::notification_email,
            suppliers::sme,
        ))
        .first(conn)
}

/// Where to write to a company, and in which language: its name, the address its notices go
/// to, its locale code.
pub fn mail_contact(
    conn: &mut crate::db::AnyConnection,
    supplier_id: i32,
) -> QueryResult<(String, String, String)> {
    suppliers::table
        .find(supplier_id)
        .select((
            suppliers::name,
            suppliers::notification_email,
            suppliers::locale,
        ))
        .first(conn)
}

/// Every supplier's CPV interests, read at once.
pub fn interests_by_supplier(
    conn: &mut crate::db::AnyConnection,
) -> QueryResult<std::collections::HashMap<i32, Vec<String>>> {
    let mut by_supplier: std::collections::HashMap<i32, Vec<String>> =
        std::collections::HashMap::new();
    for (id, prefix) in supplier_cpv::table
        .select((supplier_cpv::supplier_id, supplier_cpv::cpv_prefix))
        .load::<(i32, String)>(conn)?
    {
        by_supplier.entry(id).or_default().push(prefix);
    }
    Ok(by_supplier)
}

#[derive(Debug, Serialize)]
pub struct Interest {
    pub prefix: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Profile {
    /// The departments of the groupement's territory (settings in force today).
    pub territory: String,
    pub siret: String,
    pub name: String,
    pub postcode: String,
    pub commune: String,
    pub department: String,
    pub territorial: bool,
    pub annual_capacity_eur: String,
    pub sme: bool,
    pub notification_email: String,
    /// A new address waiting for its confirmation link to be opened.
    pub pending_notification_email: Option<String>,
    pub opt_in: bool,
    pub digest: String,
    pub locale: String,
    pub interests: Vec<Interest>,
}

/// The label of a CPV prefix: the code it stands for (padded with zeros), or the broadest code
/// that starts with it.
pub fn prefix_label(prefix: &str) -> String {
    let catalog = CpvCatalog::embedded();
    catalog
        .get(&format!("{prefix:0<8}"))
        .map(|e| e.label_fr.clone())
        .or_else(|| {
            catalog
                .search(prefix, 1)
                .first()
                .map(|e| e.label_fr.clone())
        })
        .unwrap_or_default()
}

pub fn profile(pool: &Pool, actor: &Actor) -> Result<Profile, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let s: Supplier = suppliers::table
        .find(supplier_id)
        .select(Supplier::as_select())
        .first(&mut conn)?;
    let prefixes: Vec<String> = supplier_cpv::table
        .filter(supplier_cpv::supplier_id.eq(supplier_id))
        .order(supplier_cpv::cpv_prefix)
        .select(supplier_cpv::cpv_prefix)
        .load(&mut conn)?;
    let in_force = crate::services::settings::today(&mut conn)?;
    Ok(Profile {
        territorial: in_force.is_local(&s.department_code),
        territory: in_force.territory.join(", "),
        siret: s.siret,
        name: s.name,
        postcode: s.postcode,
        commune: s.commune,
        department: s.department_code,
        annual_capacity_eur: crate::services::needs::french_number(
            Cents::new(s.annual_capacity_cents).to_euros_f64(),
        ),
        sme: s.sme,
        notification_email: s.notification_email,
        pending_notification_email: suppliers::table
            .find(supplier_id)
            .select(suppliers::pending_notification_email)
            .first(&mut conn)?,
        opt_in: s.opt_in,
        digest: s.digest,
        locale: s.locale,
        interests: prefixes
            .into_iter()
            .map(|prefix| Interest {
                label: prefix_label(&prefix),
                prefix,
            })
            .collect(),
    })
}

/// The profile form. Checkboxes are present when ticked.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub annual_capacity_eur: String,
    #[serde(default)]
    pub sme: Option<String>,
    #[serde(default)]
    pub notification_email: String,
    #[serde(default)]
    pub opt_in: Option<String>,
    #[serde(default)]
    pub digest: String,
    /// The language of notices, digests and receipts (`fr`, `en`); French when absent.
    #[serde(default)]
    pub locale: String,
    /// CPV codes or prefixes (2 to 8 digits) separated by spaces or commas.
    #[serde(default)]
    pub interests: String,
    /// One more, from the picker.
    #[serde(default)]
    pub add_interest: String,
}

/// Checks CPV interests: prefixes of 2 to 8 digits (a check digit after `-` is dropped), each
/// the start of at least one code of the vocabulary; duplicates merged.
pub fn parse_interests(problems: &mut Problems, text: &str) -> Vec<String> {
    let catalog = CpvCatalog::embedded();
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let digits = word.split('-').next().unwrap_or(word);
        let valid = (2..=8).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !catalog.search(digits, 1).is_empty();
        if !valid {
            problems.add(
                "intérêts CPV",
                format!("« {word} » n'est pas un code ou un début de code CPV"),
            );
            continue;
        }
        // A full code stands for its significant prefix (33140000 is 3314).
        let prefix = groupement_solver::pooling::family::significant_prefix(digits).to_string();
        if !out.contains(&prefix) {
            out.push(prefix);
        }
    }
    out.sort();
    out
}

/// How long the link confirming a new notification address works.
pub const ADDRESS_LINK_DAYS: i64 = 7;

/// Asks the new notification address to confirm itself: the address waits in
/// `pending_notification_email`, a single-use link (its SHA-256 alone stored) goes to it.
fn ask_confirmation(
    conn: &mut crate::db::AnyConnection,
    base_url: &str,
    supplier_id: i32,
    email: &str,
) -> QueryResult<()> {
    use crate::db::schema::address_confirmations as links;
    let token = crate::services::auth::random_token();
    let hash = crate::services::auth::hash_token(&token);
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(links::table)
        .values((
            links::supplier_id.eq(supplier_id),
            links::email.eq(email),
            links::token_hash.eq(&hash),
            links::expires_at.eq(now + chrono::Duration::days(ADDRESS_LINK_DAYS)),
        ))
        .execute(conn)?;
    diesel::update(suppliers::table.find(supplier_id))
        .set(suppliers::pending_notification_email.eq(Some(email)))
        .execute(conn)?;
    let (company, locale): (String, String) = suppliers::table
        .find(supplier_id)
        .select((suppliers::name, suppliers::locale))
        .first(conn)?;
    crate::mail::enqueue(
        conn,
        email,
        "address_confirmation",
        &serde_json::json!({
            "locale": Locale::of(&locale).code(), "company": company,
            "link": format!("{base_url}/entreprise/adresse?jeton={token}"),
            "days": ADDRESS_LINK_DAYS,
        }),
        &format!("address_confirmation:{}", &hash[..32]),
    )?;
    Ok(())
}

/// Confirms a new notification address through its link: from now on the notices go there.
/// Returns the company's name and the address.
pub fn confirm_address(pool: &Pool, token: &str) -> Result<(String, String), AppError> {
    use crate::db::schema::address_confirmations as links;
    let mut conn = pool.get()?;
    let now = chrono::Utc::now().naive_utc();
    write_transaction(&mut conn, |conn| {
        let found: Option<(
            i32,
            i32,
            String,
            chrono::NaiveDateTime,
            Option<chrono::NaiveDateTime>,
        )> = links::table
            .filter(links::token_hash.eq(crate::services::auth::hash_token(token.trim())))
            .select((
                links::id,
                links::supplier_id,
                links::email,
                links::expires_at,
                links::used_at,
            ))
            .first(conn)
            .optional()?;
        let Some((id, supplier_id, email, expires, used)) = found else {
            return Err(AppError::validation("lien", "ce lien n'est pas valide"));
        };
        if used.is_some() {
            return Err(AppError::validation("lien", "ce lien a déjà servi"));
        }
        if expires < now {
            return Err(AppError::validation(
                "lien",
                "ce lien a expiré : enregistrez l'adresse à nouveau sur la page de votre entreprise",
            ));
        }
        diesel::update(links::table.find(id))
            .set(links::used_at.eq(now))
            .execute(conn)?;
        diesel::update(suppliers::table.find(supplier_id))
            .set((
                suppliers::notification_email.eq(&email),
                suppliers::pending_notification_email.eq(None::<String>),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            audit::Author {
                user_id: None,
                label: "lien de confirmation d'adresse",
            },
            Change::new("supplier.address_confirmed", "supplier", supplier_id).after(&email),
        )?;
        let name: String = suppliers::table
            .find(supplier_id)
            .select(suppliers::name)
            .first(conn)?;
        Ok((name, email))
    })
}

/// Saves the profile. A new notification address is not used before it is confirmed: a link
/// goes to it ([`confirm_address`]) and the notices keep going to the confirmed one meanwhile.
pub fn update(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    form: &ProfileForm,
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut problems = Problems::default();
    let postcode = problems.check("code postal", Postcode::parse(&form.postcode));
    let capacity = problems.check(
        "capacité annuelle",
        Cents::parse_euros(&form.annual_capacity_eur).map_err(|e| e.0),
    );
    let email = normalised_email(&mut problems, "adresse des avis", &form.notification_email);
    if !["immediate", "daily"].contains(&form.digest.as_str()) {
        problems.add("fréquence", "immédiate ou quotidienne");
    }
    let locale = match form.locale.trim() {
        "" => Locale::Fr,
        code => Locale::parse(code).unwrap_or_else(|| {
            problems.add(
                "langue des avis",
                format!("« {code} » : choisissez fr ou en"),
            );
            Locale::Fr
        }),
    };
    let interests = parse_interests(
        &mut problems,
        &format!("{} {}", form.interests, form.add_interest),
    );
    let mut conn = pool.get()?;
    let commune = match &postcode {
        Some(postcode) => {
            let names: Vec<(String, Option<f64>, Option<f64>)> = communes::table
                .filter(communes::postcode.eq(postcode.as_str()))
                .order(communes::name)
                .select((communes::name, communes::latitude, communes::longitude))
                .load(&mut conn)?;
            let wanted = form.commune.trim().to_uppercase();
            let found = names
                .iter()
                .find(|(n, _, _)| wanted.is_empty() || n.to_uppercase() == wanted)
                .cloned();
            if found.is_none() {
                problems.add(
                    "commune",
                    match names.is_empty() {
                        true => format!("aucune commune n'a le code postal {postcode}"),
                        false => format!(
                            "« {} » n'a pas le code postal {postcode} ({})",
                            form.commune.trim(),
                            names
                                .iter()
                                .map(|n| n.0.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                );
            }
            found
        }
        None => None,
    };
    problems.finish()?;
    let (Some(postcode), Some(capacity), Some((commune, latitude, longitude))) =
        (postcode, capacity, commune)
    else {
        return Err(AppError::internal("profile checked without values"));
    };
    write_transaction(&mut conn, |conn| {
        let (confirmed, pending): (String, Option<String>) = suppliers::table
            .find(supplier_id)
            .select((
                suppliers::notification_email,
                suppliers::pending_notification_email,
            ))
            .first(conn)?;
        if email == confirmed {
            diesel::update(suppliers::table.find(supplier_id))
                .set(suppliers::pending_notification_email.eq(None::<String>))
                .execute(conn)?;
        } else if pending.as_deref() != Some(email.as_str()) {
            ask_confirmation(conn, base_url, supplier_id, &email)?;
        }
        diesel::update(suppliers::table.find(supplier_id))
            .set((
                suppliers::postcode.eq(postcode.as_str()),
                suppliers::commune.eq(&commune),
                suppliers::department_code.eq(postcode.department()),
                suppliers::latitude.eq(latitude),
                suppliers::longitude.eq(longitude),
                suppliers::annual_capacity_cents.eq(capacity.get()),
                suppliers::sme.eq(form.sme.is_some()),
                suppliers::opt_in.eq(form.opt_in.is_some()),
                suppliers::digest.eq(&form.digest),
                suppliers::locale.eq(locale.code()),
            ))
            .execute(conn)?;
        diesel::delete(supplier_cpv::table.filter(supplier_cpv::supplier_id.eq(supplier_id)))
            .execute(conn)?;
        for prefix in &interests {
            diesel::insert_into(supplier_cpv::table)
                .values(NewSupplierCpv {
                    supplier_id,
                    cpv_prefix: prefix,
                })
                .execute(conn)?;
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("supplier.profile_changed", "supplier", supplier_id).after(format!(
                "{} {commune} ; intérêts {} ; avis {}",
                postcode.as_str(),
                interests.join(" "),
                if form.opt_in.is_some() {
                    &form.digest
                } else {
                    "aucun"
                }
            )),
        )?;
        Ok(())
    })
}

/// Stops the notices of the supplier a one-click unsubscription token belongs to; returns
/// the company's name. Using a token twice does no harm.
pub fn unsubscribe(pool: &Pool, token: &str) -> Result<String, AppError> {
    use crate::db::schema::unsubscribe_tokens as tokens;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let supplier_id: i32 = tokens::table
            .find(crate::services::auth::hash_token(token.trim()))
            .select(tokens::supplier_id)
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                AppError::validation("lien", "ce lien de désabonnement n'est pas valide")
            })?;
        let name: String = suppliers::table
            .find(supplier_id)
            .select(suppliers::name)
            .first(conn)?;
        diesel::update(suppliers::table.find(supplier_id))
            .set(suppliers::opt_in.eq(false))
            .execute(conn)?;
        audit::record(
            conn,
            audit::Author {
                user_id: None,
                label: "lien de désabonnement",
            },
            Change::new("supplier.unsubscribed", "supplier", supplier_id),
        )?;
        Ok(name)
    })
}
