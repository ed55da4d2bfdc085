//! Suppliers: the real holders of the demo contracts, with their real names and SIRET. DECP
//! gives no address, so each is placed (and says so) in the place where its contracts were
//! performed: that postcode, or the department's chief town.

use super::decp::ContractRow;
use super::DEMO_DOMAIN;
use crate::db::models::{NewSupplier, NewSupplierCpv, NewUser};
use crate::db::schema::{communes, supplier_cpv, suppliers, users};
use crate::db::AnyConnection;
use crate::domain::Cents;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A supplier as seeded, for the tenders that follow.
#[derive(Debug, Clone)]
pub struct SeededSupplier {
    pub id: i32,
    pub postcode: String,
    pub cpv_prefixes: BTreeSet<String>,
    pub annual_capacity_cents: i64,
    pub account_email: String,
}

impl SeededSupplier {
    /// Serves a family when one of its interests is a prefix of the family's, or the reverse.
    pub fn serves(&self, family: &str) -> bool {
        self.cpv_prefixes
            .iter()
            .any(|p| family.starts_with(p.as_str()) || p.starts_with(family))
    }
}

struct Holder<'a> {
    name: &'a str,
    place_type: &'a str,
    place_code: &'a str,
    classes: BTreeSet<String>,
    largest_annual_cents: i64,
    total_annual_cents: i64,
}

pub fn insert(
    conn: &mut AnyConnection,
    contracts: &[ContractRow],
    password_hash: &str,
) -> QueryResult<Vec<SeededSupplier>> {
    let mut holders: BTreeMap<String, Holder> = BTreeMap::new();
    for row in contracts {
        let Some(siret) = &row.holder_siret else {
            continue;
        };
        let holder = holders.entry(siret.to_string()).or_insert_with(|| Holder {
            name: &row.holder_name,
            place_type: &row.place_type,
            place_code: &row.place_code,
            classes: BTreeSet::new(),
            largest_annual_cents: 0,
            total_annual_cents: 0,
        });
        holder.classes.insert(row.cpv[..4].to_string());
        holder.largest_annual_cents = holder.largest_annual_cents.max(row.annual_cents());
        holder.total_annual_cents += row.annual_cents();
    }
    let now = chrono::Utc::now().naive_utc();
    let mut seeded = Vec::new();
    for (siret, holder) in &holders {
        if holder.name.is_empty() {
            continue;
        }
        let Some(commune) = locate(conn, holder.place_type, holder.place_code)? else {
            continue;
        };
        // Capacity and size are not in DECP: the demo assumes a company can carry three times
        // its largest yearly contract, and calls it an SME below €5 M of public contracts a year.
        let capacity = (holder.largest_annual_cents * 3).max(Cents::from_euros(50_000).get());
        let email = format!("supplier.{siret}@{DEMO_DOMAIN}");
        let provenance = format!(
            "Titulaire réel de marchés DECP 2018–2019. Localisation, capacité ({}) et statut PME \
             dérivés pour la démonstration, non déclarés par l'entreprise.",
            Cents::new(capacity)
        );
        let id: i32 = diesel::insert_into(suppliers::table)
            .values(NewSupplier {
                siret,
                name: holder.name,
                postcode: &commune.postcode,
                commune: &commune.name,
                department_code: &commune.department_code,
                latitude: commune.latitude,
                longitude: commune.longitude,
                sme: holder.total_annual_cents < Cents::from_euros(5_000_000).get(),
                annual_capacity_cents: capacity,
                notification_email: &email,
                opt_in: true,
                provenance: Some(&provenance),
            })
            .returning(suppliers::id)
            .get_result(conn)?;
        for class in &holder.classes {
            diesel::insert_into(supplier_cpv::table)
                .values(NewSupplierCpv {
                    supplier_id: id,
                    cpv_prefix: class,
                })
                .execute(conn)?;
        }
        diesel::insert_into(users::table)
            .values(NewUser {
                email: &email,
                password_hash,
                display_name: holder.name,
                role: "supplier",
                organisation_id: None,
                supplier_id: Some(id),
                email_verified_at: Some(now),
            })
            .execute(conn)?;
        seeded.push(SeededSupplier {
            id,
            postcode: commune.postcode,
            cpv_prefixes: holder.classes.clone(),
            annual_capacity_cents: capacity,
            account_email: email,
        });
    }
    Ok(seeded)
}

#[derive(Queryable)]
struct Commune {
    name: String,
    postcode: String,
    department_code: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// The commune of a place of performance: the postcode itself, or the department's chief town
/// (its lowest postcode ending in 000, the chief town's in nearly every department).
fn locate(conn: &mut AnyConnection, place_type: &str, code: &str) -> QueryResult<Option<Commune>> {
    let columns = (
        communes::name,
        communes::postcode,
        communes::department_code,
        communes::latitude,
        communes::longitude,
    );
    let found = if place_type == "Code postal" {
        communes::table
            .filter(communes::postcode.eq(code))
            .order(communes::insee_code)
            .select(columns)
            .first::<Commune>(conn)
            .optional()?
    } else {
        communes::table
            .filter(communes::department_code.eq(code))
            .order((communes::postcode, communes::insee_code))
            .filter(communes::postcode.like("%000"))
            .select(columns)
            .first::<Commune>(conn)
            .optional()?
    };
    Ok(found)
}
