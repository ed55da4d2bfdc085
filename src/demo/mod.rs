//! Demonstration data (`serve --demo` on an empty database): the four members, their accounts,
//! suppliers and needs derived from real DECP contracts, and tenders at every stage, so that
//! every page has something real to show. Everything derived says so in its `provenance`.

mod decp;
mod members;
pub use members::sources;
mod suppliers;
mod tenders;

use crate::db::models::NewAuditEntry;
use crate::db::schema::{audit_log, organisations};
use crate::db::{write_transaction, AnyConnection};
use crate::domain::hash_password;
use crate::error::AppError;
use diesel::prelude::*;
use std::fmt;

pub const DEMO_PASSWORD: &str = "demo-groupement";
pub const DEMO_DOMAIN: &str = "demo.groupement.fr";

/// What was seeded, printed at start-up.
#[derive(Debug)]
pub struct DemoSummary {
    pub accounts: Vec<(String, String)>,
    pub suppliers: usize,
    pub needs: usize,
    pub tenders: Vec<(String, String)>,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "demo: seeded {} suppliers, {} needs and {} tenders derived from real DECP contracts",
            self.suppliers,
            self.needs,
            self.tenders.len()
        )?;
        for (reference, status) in &self.tenders {
            writeln!(f, "  tender {reference}: {status}")?;
        }
        writeln!(f, "demo accounts (password « {DEMO_PASSWORD} »):")?;
        let shown = self.accounts.iter().filter(|(_, role)| role != "supplier");
        for (email, role) in shown {
            writeln!(f, "  {role:<8} {email}")?;
        }
        let suppliers: Vec<&str> = self
            .accounts
            .iter()
            .filter(|(_, role)| role == "supplier")
            .map(|(email, _)| email.as_str())
            .collect();
        if let Some(first) = suppliers.first() {
            writeln!(
                f,
                "  supplier {first} (and {} more supplier.<siret>@{DEMO_DOMAIN})",
                suppliers.len() - 1
            )?;
        }
        Ok(())
    }
}

/// Where the demo's notices say the portal is, unless told ([`seed_if_empty_at`]).
pub const DEMO_BASE_URL: &str = "http://127.0.0.1:8080";

/// Seeds the demo in one transaction when the database has no organisation yet; `None` when it
/// already has data.
pub fn seed_if_empty(conn: &mut AnyConnection) -> Result<Option<DemoSummary>, AppError> {
    seed_if_empty_at(conn, DEMO_BASE_URL)
}

/// [`seed_if_empty`] for a portal at `base_url` (the address its EU notices give).
pub fn seed_if_empty_at(
    conn: &mut AnyConnection,
    base_url: &str,
) -> Result<Option<DemoSummary>, AppError> {
    // Hashed once: every demo account shares the published demo password.
    let password_hash = hash_password(DEMO_PASSWORD)?;
    write_transaction(conn, |conn| {
        let existing: i64 = organisations::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok(None);
        }
        let contracts = decp::contracts();
        let members = members::insert(conn, &password_hash)?;
        let suppliers = suppliers::insert(conn, &contracts, &password_hash)?;
        let needs = members::insert_needs(conn, &contracts, &members)?;
        let tenders = tenders::insert(conn, &members, &suppliers, base_url)?;
        diesel::insert_into(audit_log::table)
            .values(NewAuditEntry {
                actor_user_id: None,
                actor_label: "system",
                action: "demo.seeded",
                object_type: "database",
                object_id: "demo",
                before_summary: None,
                after_summary: Some(&format!(
                    "{} suppliers, {needs} needs, {} tenders",
                    suppliers.len(),
                    tenders.len()
                )),
            })
            .execute(conn)?;
        let mut accounts = members.accounts.clone();
        accounts.extend(
            suppliers
                .iter()
                .map(|s| (s.account_email.clone(), "supplier".to_string())),
        );
        Ok(Some(DemoSummary {
            accounts,
            suppliers: suppliers.len(),
            needs,
            tenders,
        }))
    })
}
