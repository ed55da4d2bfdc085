//! The four members of the groupement, their accounts and their needs.

use super::decp::ContractRow;
use super::DEMO_DOMAIN;
use crate::db::models::{NewNeed, NewOrganisation, NewUser};
use crate::db::schema::{needs, organisations, users};
use crate::db::AnyConnection;
use chrono::NaiveDate;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// A member as the demo creates it. Only Dijon Métropole's SIRET appears in the shared data;
/// the others carry a demonstration SIRET (its key valid, its digits made up, as the README
/// says) rather than a guessed real one, since the EU notices need one for every buyer. The telephone numbers are in the range ARCEP keeps for fiction
/// (03 53 01 xx xx); addresses are the members' public ones.
struct Member {
    code: &'static str,
    name: &'static str,
    siret: Option<&'static str>,
    street: &'static str,
    phone: &'static str,
    website: &'static str,
    kind: &'static str,
    class: &'static str,
    derived_from: &'static str,
}

const MEMBERS: [Member; 4] = [
    Member {
        code: "CHU",
        name: "Centre hospitalier universitaire Dijon Bourgogne",
        siret: Some("26210000100011"),
        street: "14 rue Paul Gaffarel",
        phone: "+33 3 53 01 00 01",
        website: "https://www.chu-dijon.fr",
        kind: "hospital",
        class: "sub_central",
        derived_from: "CHU de Nantes",
    },
    Member {
        code: "UB",
        name: "Université de Bourgogne",
        siret: Some("19210000200018"),
        street: "Maison de l'Université, esplanade Érasme",
        phone: "+33 3 53 01 00 02",
        website: "https://www.u-bourgogne.fr",
        kind: "university",
        class: "central",
        derived_from: "UT Compiègne et Université de Montpellier",
    },
    Member {
        code: "GDH",
        name: "Grand Dijon Habitat",
        siret: Some("27210000300016"),
        street: "",
        phone: "+33 3 53 01 00 03",
        website: "",
        kind: "social_housing",
        class: "sub_central",
        derived_from: "Mâcon Habitat et OPH du Jura",
    },
    Member {
        code: "DM",
        name: "Dijon Métropole",
        siret: Some("24210041000123"),
        street: "40 avenue du Drapeau",
        phone: "+33 3 53 01 00 04",
        website: "https://www.metropole-dijon.fr",
        kind: "local_authority",
        class: "sub_central",
        derived_from: "Dijon Métropole et Ville de Dijon",
    },
];

/// Each member's code and the real buyers whose contracts its demo needs come from (the home
/// page says them).
pub fn sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    MEMBERS.iter().map(|m| (m.code, m.derived_from))
}

/// Where every member takes delivery in the demo: Dijon.
const DELIVERY_POSTCODE: &str = "21000";
pub const BUDGET_YEAR: i32 = 2027;

/// The members as seeded: ids by code, class by id, accounts.
pub struct Members {
    pub ids: BTreeMap<String, i32>,
    pub classes: BTreeMap<i32, String>,
    pub lead_users: BTreeMap<i32, i32>,
    pub accounts: Vec<(String, String)>,
}

pub fn insert(conn: &mut AnyConnection, password_hash: &str) -> QueryResult<Members> {
    let mut members = Members {
        ids: BTreeMap::new(),
        classes: BTreeMap::new(),
        lead_users: BTreeMap::new(),
        accounts: vec![(format!("admin@{DEMO_DOMAIN}"), "admin".to_string())],
    };
    let now = chrono::Utc::now().naive_utc();
    insert_user(
        conn,
        &format!("admin@{DEMO_DOMAIN}"),
        "Administrateur de la plateforme",
        "admin",
        None,
        password_hash,
        now,
    )?;
    // The review body's identifier the EU notices give (a demonstration one, as above).
    diesel::insert_into(crate::db::schema::platform_settings::table)
        .values((
            crate::db::schema::platform_settings::key.eq("review_body_id"),
            crate::db::schema::platform_settings::value.eq("17210000400016"),
            crate::db::schema::platform_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    for member in &MEMBERS {
        let id: i32 = diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code: member.code,
                name: member.name,
                siret: member.siret,
                kind: member.kind,
                buyer_class: member.class,
            })
            .returning(organisations::id)
            .get_result(conn)?;
        diesel::update(organisations::table.find(id))
            .set((
                organisations::street.eq(member.street),
                organisations::postcode.eq(DELIVERY_POSTCODE),
                organisations::city.eq("Dijon"),
                organisations::phone.eq(member.phone),
                organisations::email.eq(format!(
                    "achats.{}@{DEMO_DOMAIN}",
                    member.code.to_lowercase()
                )),
                organisations::website.eq(member.website),
            ))
            .execute(conn)?;
        members.ids.insert(member.code.to_string(), id);
        members.classes.insert(id, member.class.to_string());
        for (role, label) in [("buyer", "Acheteur"), ("lead", "Responsable achats")] {
            let email = format!("{role}.{}@{DEMO_DOMAIN}", member.code.to_lowercase());
            let name = format!("{label} ({})", member.code);
            let user_id = insert_user(conn, &email, &name, role, Some(id), password_hash, now)?;
            if role == "lead" {
                members.lead_users.insert(id, user_id);
                // Each lead's opening key, under the demo's password as passphrase.
                let (recipient, sealed) =
                    crate::services::seal::new_opening_key(super::DEMO_PASSWORD).map_err(|e| {
                        diesel::result::Error::QueryBuilderError(e.to_string().into())
                    })?;
                use crate::db::schema::opening_keys;
                diesel::insert_into(opening_keys::table)
                    .values((
                        opening_keys::user_id.eq(user_id),
                        opening_keys::recipient.eq(recipient),
                        opening_keys::sealed_identity.eq(sealed),
                        opening_keys::created_at.eq(now),
                        opening_keys::changed_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            members.accounts.push((email, role.to_string()));
        }
    }
    Ok(members)
}

fn insert_user(
    conn: &mut AnyConnection,
    email: &str,
    display_name: &str,
    role: &str,
    organisation_id: Option<i32>,
    password_hash: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(users::table)
        .values(NewUser {
            email,
            password_hash,
            display_name,
            role,
            organisation_id,
            supplier_id: None,
            email_verified_at: Some(now),
        })
        .returning(users::id)
        .get_result(conn)
}

/// One submitted need per real contract of the member's stand-ins (deduplicated over holders),
/// valued at the contract's yearly amount, for delivery in the budget year.
pub fn insert_needs(
    conn: &mut AnyConnection,
    contracts: &[ContractRow],
    members: &Members,
) -> QueryResult<usize> {
    let catalog = crate::domain::CpvCatalog::embedded();
    let mut seen = HashSet::new();
    let mut count = 0;
    for (index, row) in contracts.iter().enumerate() {
        let Some(&organisation_id) = members.ids.get(&row.demo_buyer) else {
            continue;
        };
        let external_ref = format!("DECP-{}-{}", row.contract_id, row.cpv);
        if !seen.insert((organisation_id, external_ref.clone())) {
            continue;
        }
        let label = catalog
            .get(&row.cpv)
            .map(|e| e.label_fr.as_str())
            .unwrap_or("");
        let title = if row.object.is_empty() {
            label
        } else {
            row.object.as_str()
        };
        let (start, end) = window(row.months, index);
        let (unit, quantity, unit_price_cents) = measured(&row.cpv, row.annual_cents());
        let member = MEMBERS.iter().find(|m| m.code == row.demo_buyer);
        let provenance = format!(
            "Dérivé du marché DECP {} de {} ({} sur {} mois), acheteur comparable à {}",
            row.contract_id,
            row.buyer_name,
            crate::domain::Cents::new(row.amount_cents),
            row.months,
            member.map(|m| m.code).unwrap_or_default(),
        );
        let description = format!(
            "{label}. Besoin dérivé d'un marché réel de {} ({}).{}",
            row.buyer_name,
            member.map(|m| m.derived_from).unwrap_or_default(),
            match super::decp::has_lost_letters(&row.object) {
                true => " L'intitulé d'origine a perdu des lettres accentuées (marquées �) \
                         qu'aucun mot connu ne permet de rétablir : elles sont laissées telles quelles.",
                false => "",
            }
        );
        diesel::insert_into(needs::table)
            .values(NewNeed {
                organisation_id,
                external_ref: Some(&external_ref),
                cpv_code: &row.cpv,
                title: &truncate(title, 200),
                description: &description,
                quantity_milli: quantity * 1000,
                unit,
                unit_price_cents,
                delivery_postcode: DELIVERY_POSTCODE,
                window_start: start,
                window_end: end,
                budget_year: BUDGET_YEAR,
                poolable: true,
                status: "submitted",
                provenance: Some(&provenance),
                created_by: members.lead_users.get(&organisation_id).copied(),
            })
            .execute(conn)?;
        count += 1;
    }
    Ok(count)
}

/// The unit a CPV code is bought by, and a typical price of one unit in cents (the longest
/// prefix that matches; `forfait` — a lump sum — for works and what has no natural unit).
const UNITS: &[(&str, &str, i64)] = &[
    ("0912", "MWh", 8_000),
    ("0913", "litre", 165),
    ("0931", "MWh", 15_000),
    ("15", "kg", 700),
    ("18", "pièce", 4_000),
    ("22", "exemplaire", 300),
    ("3019", "unité", 800),
    ("302", "poste", 90_000),
    ("33", "boîte", 2_500),
    ("3369", "boîte", 1_500),
    ("34", "véhicule", 2_500_000),
    ("3983", "litre", 400),
    ("391", "pièce", 30_000),
    ("44", "unité", 5_000),
    ("50", "intervention", 45_000),
    ("55", "repas", 600),
    ("64", "mois", 50_000),
    ("71", "jour", 70_000),
    ("72", "jour", 70_000),
    ("73", "jour", 80_000),
    ("77", "heure", 4_500),
    ("79", "jour", 65_000),
    ("80", "jour de formation", 120_000),
    ("85", "heure", 6_000),
    ("9051", "tonne", 15_000),
    ("909", "heure", 2_800),
];

/// A yearly amount as a quantity of the CPV code's unit at a typical price: the unit, the
/// quantity (whole units) and the unit price in cents, whose product is the amount within
/// half a cent a unit. A lump sum (`forfait`, quantity 1) when the code has no unit or the
/// amount is less than two units.
fn measured(cpv: &str, annual_cents: i64) -> (&'static str, i64, i64) {
    let unit = UNITS
        .iter()
        .filter(|(prefix, _, _)| cpv.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len());
    match unit {
        Some(&(_, unit, typical)) if annual_cents >= 2 * typical => {
            let quantity = (annual_cents as f64 / typical as f64).round() as i64;
            let price = (annual_cents as f64 / quantity as f64).round() as i64;
            (unit, quantity, price)
        }
        _ => ("forfait", 1, annual_cents),
    }
}

/// Delivery windows by the contract's length: up to three months, one quarter of the budget
/// year (spread over the four); up to six, one half; longer, the whole year.
fn window(months: u32, index: usize) -> (NaiveDate, NaiveDate) {
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(BUDGET_YEAR, m, d).unwrap_or_default();
    let last = |m: u32| match m {
        2 => day(3, 1).pred_opt().unwrap_or_default(),
        4 | 6 | 9 | 11 => day(m, 30),
        _ => day(m, 31),
    };
    match months {
        0..=3 => {
            let quarter = (index % 4) as u32;
            (day(quarter * 3 + 1, 1), last(quarter * 3 + 3))
        }
        4..=6 => {
            let half = (index % 2) as u32;
            (day(half * 6 + 1, 1), last(half * 6 + 6))
        }
        _ => (day(1, 1), day(12, 31)),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_measured_in_the_units_of_their_code() {
        // 12 000 € of medical supplies: 4 800 boxes at 2,50 €.
        assert_eq!(measured("33141000", 1_200_000), ("boîte", 480, 2_500));
        // Works are lump sums; so is less than two units.
        assert_eq!(measured("45330000", 81_419_306), ("forfait", 1, 81_419_306));
        assert_eq!(measured("34110000", 3_000_000), ("forfait", 1, 3_000_000));
        // The product gives the amount back within half a cent a unit.
        let (_, quantity, price) = measured("90910000", 12_345_678);
        assert!((quantity * price - 12_345_678).abs() <= quantity / 2 + 1);
    }

    #[test]
    fn windows_follow_the_length_of_the_contract() {
        let day = |m, d| NaiveDate::from_ymd_opt(BUDGET_YEAR, m, d).unwrap();
        assert_eq!(window(2, 1), (day(4, 1), day(6, 30)));
        assert_eq!(window(6, 1), (day(7, 1), day(12, 31)));
        assert_eq!(window(24, 3), (day(1, 1), day(12, 31)));
    }
}
