//! Joint tenders at every stage of their life, built from the families of needs that several
//! members share. Until the pooling engine constitutes them, the demo puts each CPV code of a
//! family in a lot of its own.

use super::members::{Members, BUDGET_YEAR};
use super::suppliers::SeededSupplier;
use crate::db::models::{NewBid, NewLot, NewLotNeed, NewTender, NewTenderApproval};
use crate::db::schema::{bids, lot_needs, lots, needs, tender_approvals, tenders};
use crate::db::AnyConnection;
use crate::domain::CpvCatalog;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use groupement_solver::procedure::{BuyerClass, Nature, ThresholdTable};
use std::collections::{BTreeMap, BTreeSet};

/// The stages shown, one tender each, the largest shared family first.
const STAGES: [&str; 3] = ["published", "approving", "closed"];

#[derive(Queryable)]
struct FamilyNeed {
    id: i32,
    organisation_id: i32,
    cpv_code: String,
    value_cents: i64,
}

pub fn insert(
    conn: &mut AnyConnection,
    members: &Members,
    suppliers: &[SeededSupplier],
) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<FamilyNeed> = needs::table
        .filter(needs::status.eq("submitted"))
        .order(needs::id)
        .select((
            needs::id,
            needs::organisation_id,
            needs::cpv_code,
            needs::unit_price_cents,
        ))
        .load(conn)?;
    let mut families: BTreeMap<String, Vec<FamilyNeed>> = BTreeMap::new();
    for need in rows {
        families
            .entry(need.cpv_code[..4].to_string())
            .or_default()
            .push(need);
    }
    let mut shared: Vec<(String, Vec<FamilyNeed>)> = families
        .into_iter()
        .filter(|(_, needs)| {
            needs
                .iter()
                .map(|n| n.organisation_id)
                .collect::<BTreeSet<_>>()
                .len()
                > 1
        })
        .collect();
    shared.sort_by_key(|(family, needs)| {
        (
            std::cmp::Reverse(needs.iter().map(|n| n.value_cents).sum::<i64>()),
            family.clone(),
        )
    });
    let now = chrono::Utc::now().naive_utc();
    let mut created = Vec::new();
    for (index, ((family, family_needs), stage)) in shared.into_iter().zip(STAGES).enumerate() {
        let reference = format!("GRP-{BUDGET_YEAR}-{:03}", index + 1);
        insert_tender(
            conn,
            members,
            suppliers,
            &reference,
            &family,
            &family_needs,
            stage,
            now,
        )?;
        created.push((reference, stage.to_string()));
    }
    Ok(created)
}

#[allow(clippy::too_many_arguments)]
fn insert_tender(
    conn: &mut AnyConnection,
    members: &Members,
    suppliers: &[SeededSupplier],
    reference: &str,
    family: &str,
    family_needs: &[FamilyNeed],
    stage: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let catalog = CpvCatalog::embedded();
    let family_code = format!("{family:0<8}");
    let family_label = catalog
        .get(&family_code)
        .map(|e| e.label_fr.clone())
        .unwrap_or_else(|| format!("CPV {family}"));
    let total: i64 = family_needs.iter().map(|n| n.value_cents).sum();
    let mut by_member: BTreeMap<i32, i64> = BTreeMap::new();
    for need in family_needs {
        *by_member.entry(need.organisation_id).or_default() += need.value_cents;
    }
    let coordinator = by_member
        .iter()
        .max_by_key(|(id, value)| (**value, std::cmp::Reverse(**id)))
        .map(|(id, _)| *id)
        .unwrap_or_default();
    let class = BuyerClass::strictest(by_member.keys().map(|id| {
        match members.classes.get(id).map(String::as_str) {
            Some("central") => BuyerClass::Central,
            _ => BuyerClass::SubCentral,
        }
    }));
    let thresholds = ThresholdTable::default();
    let today = now.date().format("%Y-%m-%d").to_string();
    let nature = Nature::of_cpv(family);
    let ruling = thresholds
        .in_force(&today)
        .map(|t| t.rule(total as f64 / 100.0, nature, class));
    let procedure = ruling
        .as_ref()
        .map(|r| r.procedure.code())
        .unwrap_or("adapted");
    let min_days = ruling.as_ref().and_then(|r| r.min_days).unwrap_or(15);
    let (published_at, deadline) = match stage {
        "published" => (
            Some(now - Duration::days(5)),
            Some(now + Duration::days(i64::from(min_days))),
        ),
        "closed" => (
            Some(now - Duration::days(i64::from(min_days) + 10)),
            Some(now - Duration::days(3)),
        ),
        _ => (None, None),
    };
    let weighted = stage != "approving";
    let tender_id: i32 = diesel::insert_into(tenders::table)
        .values(NewTender {
            reference,
            title: &format!("Groupement {BUDGET_YEAR} — {family_label}"),
            coordinator_id: coordinator,
            cpv_family: family,
            unit: "forfait",
            procedure,
            status: stage,
            total_value_cents: total,
            weight_price: weighted.then_some(60),
            weight_quality: weighted.then_some(30),
            weight_environment: weighted.then_some(10),
            max_lots_per_supplier: None,
            cap_rule: None,
            published_at,
            deadline,
        })
        .returning(tenders::id)
        .get_result(conn)?;
    for &organisation_id in by_member.keys() {
        let approved = stage != "approving" || organisation_id == coordinator;
        diesel::insert_into(tender_approvals::table)
            .values(NewTenderApproval {
                tender_id,
                organisation_id,
                status: if approved { "approved" } else { "pending" },
                decided_by: approved
                    .then(|| members.lead_users.get(&organisation_id).copied())
                    .flatten(),
                decided_at: approved.then_some(now - Duration::days(7)),
            })
            .execute(conn)?;
    }
    // One lot per CPV code of the family.
    let mut by_code: BTreeMap<&str, Vec<&FamilyNeed>> = BTreeMap::new();
    for need in family_needs {
        by_code.entry(&need.cpv_code).or_default().push(need);
    }
    let territorial: Vec<&SeededSupplier> = suppliers
        .iter()
        .filter(|s| s.department == "21" && s.serves(family))
        .collect();
    for (number, (code, lot_needs_of_code)) in by_code.into_iter().enumerate() {
        let value: i64 = lot_needs_of_code.iter().map(|n| n.value_cents).sum();
        let eligible = territorial
            .iter()
            .filter(|s| s.annual_capacity_cents >= value)
            .count();
        let label = catalog
            .get(code)
            .map(|e| e.label_fr.as_str())
            .unwrap_or(code);
        let lot_id: i32 = diesel::insert_into(lots::table)
            .values(NewLot {
                tender_id,
                number: number as i32 + 1,
                title: label,
                cpv_code: code,
                value_cents: value,
                expected_savings_cents: 0,
                local_accessible: eligible >= 2,
                eligible_local_suppliers: eligible as i32,
                small_lot: false,
                status: "open",
            })
            .returning(lots::id)
            .get_result(conn)?;
        for need in &lot_needs_of_code {
            diesel::insert_into(lot_needs::table)
                .values(NewLotNeed {
                    lot_id,
                    need_id: need.id,
                })
                .execute(conn)?;
        }
        if stage == "closed" {
            insert_bids(conn, suppliers, family, lot_id, value, now)?;
        }
    }
    let need_status = if stage == "approving" {
        "pooled"
    } else {
        "tendered"
    };
    let ids: Vec<i32> = family_needs.iter().map(|n| n.id).collect();
    diesel::update(needs::table.filter(needs::id.eq_any(ids)))
        .set(needs::status.eq(need_status))
        .execute(conn)?;
    Ok(())
}

/// Up to four bids per lot from the suppliers that serve the family, priced around the
/// estimate (deterministic, no randomness).
fn insert_bids(
    conn: &mut AnyConnection,
    suppliers: &[SeededSupplier],
    family: &str,
    lot_id: i32,
    value: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let bidders = suppliers.iter().filter(|s| s.serves(family)).take(4);
    for (k, supplier) in bidders.enumerate() {
        let k = k as i64;
        let submitted = now - Duration::days(4) - Duration::hours(k * 5);
        diesel::insert_into(bids::table)
            .values(NewBid {
                lot_id,
                supplier_id: supplier.id,
                price_cents: value * (88 + 6 * k) / 100,
                quality: Some((62 + 11 * k as i32) % 100),
                environment: Some((55 + 17 * k as i32) % 100),
                technical_memo: "Mémoire technique de démonstration.",
                environment_data: "Données environnementales de démonstration.",
                submitted_at: submitted,
                updated_at: submitted,
            })
            .execute(conn)?;
    }
    Ok(())
}
