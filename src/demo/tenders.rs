//! Joint tenders at every stage of their life, constituted by the pooling engine from the
//! demo's submitted needs: the run is stored like any pooling run, and the largest tenders that
//! several members share are taken to the stages the demo shows.

use super::members::{Members, BUDGET_YEAR};
use super::suppliers::SeededSupplier;
use crate::db::models::{NewBid, NewPoolingRun};
use crate::db::schema::{
    bids, lots, needs, organisations, pooling_runs, tender_approvals, tenders,
};
use crate::db::AnyConnection;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use groupement_solver::pooling::{self, plan, Params};
use groupement_solver::procedure::BuyerClass;

/// The stages shown, one tender each, the largest shared tender first.
const STAGES: [&str; 4] = ["published", "approving", "closed", "awarded"];

#[derive(Queryable)]
struct NeedRow {
    id: i32,
    buyer: String,
    cpv_code: String,
    quantity_milli: i64,
    unit: String,
    unit_price_cents: i64,
    postcode: String,
    start: NaiveDate,
    end: NaiveDate,
    poolable: bool,
}

fn solver_needs(rows: &[NeedRow]) -> Vec<pooling::Need> {
    rows.iter()
        .map(|n| pooling::Need {
            need_id: n.id.to_string(),
            buyer: n.buyer.clone(),
            cpv: n.cpv_code.clone(),
            title: String::new(),
            quantity: n.quantity_milli as f64 / 1000.0,
            unit: n.unit.clone(),
            unit_price_eur: n.unit_price_cents as f64 / 100.0,
            delivery_postcode: n.postcode.clone(),
            window_start: n.start.format("%Y-%m-%d").to_string(),
            window_end: n.end.format("%Y-%m-%d").to_string(),
            poolable: n.poolable,
        })
        .collect()
}

fn solver_suppliers(suppliers: &[SeededSupplier]) -> Vec<pooling::Supplier> {
    suppliers
        .iter()
        .map(|s| pooling::Supplier {
            supplier_id: s.id.to_string(),
            siret: String::new(),
            name: String::new(),
            postcode: s.postcode.clone(),
            cpv_prefixes: s.cpv_prefixes.iter().cloned().collect(),
            annual_capacity_eur: s.annual_capacity_cents as f64 / 100.0,
            sme: true,
            members: Vec::new(),
        })
        .collect()
}

pub fn insert(
    conn: &mut AnyConnection,
    members: &Members,
    suppliers: &[SeededSupplier],
    base_url: &str,
) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<NeedRow> = needs::table
        .inner_join(organisations::table)
        .filter(needs::status.eq("submitted"))
        .order(needs::id)
        .select((
            needs::id,
            organisations::code,
            needs::cpv_code,
            needs::quantity_milli,
            needs::unit,
            needs::unit_price_cents,
            needs::delivery_postcode,
            needs::window_start,
            needs::window_end,
            needs::poolable,
        ))
        .load(conn)?;
    let mut params = Params::default();
    for (code, id) in &members.ids {
        let class = match members.classes.get(id).map(String::as_str) {
            Some("central") => BuyerClass::Central,
            _ => BuyerClass::SubCentral,
        };
        params.buyers.insert(code.clone(), class);
    }
    let input = solver_needs(&rows);
    let plan = pooling::pool(&input, &solver_suppliers(suppliers), &params, &|_| {})
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    let now = chrono::Utc::now().naive_utc();
    let run_id: i32 = diesel::insert_into(pooling_runs::table)
        .values(NewPoolingRun {
            started_by: members.lead_users.values().next().copied(),
            budget_year: BUDGET_YEAR,
            status: "accepted",
            parameters: &json(&crate::services::pooling::StoredParameters {
                divisions: Vec::new(),
                params: params.clone(),
            }),
            input_need_ids: &json(&rows.iter().map(|r| r.id).collect::<Vec<_>>()),
            report: Some(&json(&plan.solver)),
            plan: Some(&json(&plan)),
            finished_at: Some(now),
        })
        .returning(pooling_runs::id)
        .get_result(conn)?;
    let mut shared: Vec<&plan::Tender> = plan
        .tenders
        .iter()
        .filter(|t| t.buyers().len() > 1)
        .collect();
    // Tenders of several lots first: the demo shows lots awarded separately.
    shared.sort_by(|a, b| {
        (b.lots.len() > 1)
            .cmp(&(a.lots.len() > 1))
            .then(b.total_value_eur.total_cmp(&a.total_value_eur))
            .then(a.family.cmp(&b.family))
    });
    let mut created = Vec::new();
    for (index, (tender, stage)) in shared.into_iter().zip(STAGES).enumerate() {
        let reference = format!("GRP-{BUDGET_YEAR}-{:03}", index + 1);
        insert_tender(
            conn,
            members,
            suppliers,
            (run_id, &reference, tender, stage),
            now,
            base_url,
        )?;
        created.push((reference, stage.to_string()));
    }
    Ok(created)
}

/// A one-page PDF saying `text` (ASCII letters kept; the demo's documents only show what
/// they stand for).
fn demo_pdf(text: &str) -> Vec<u8> {
    let line: String = text
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || " -().,".contains(c) {
                true => c,
                false => ' ',
            },
        )
        .collect();
    let stream = format!("BT /F1 14 Tf 56 780 Td ({line}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut pdf = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (k, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.push_str(&format!("{} 0 obj\n{body}\nendobj\n", k + 1));
    }
    let xref = pdf.len();
    pdf.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        pdf.push_str(&format!("{offset:010} 00000 n \n"));
    }
    pdf.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.into_bytes()
}

/// A record of the run as JSON text for storage.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn insert_tender(
    conn: &mut AnyConnection,
    members: &Members,
    suppliers: &[SeededSupplier],
    (run_id, reference, tender, stage): (i32, &str, &plan::Tender, &str),
    now: NaiveDateTime,
    base_url: &str,
) -> QueryResult<()> {
    let (tender_id, need_ids) = crate::services::tenders::create_from_plan(
        conn,
        run_id,
        reference,
        BUDGET_YEAR,
        tender,
        &members.ids,
    )
    .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?;
    let coordinator = members
        .ids
        .get(&tender.coordinator)
        .copied()
        .unwrap_or_default();
    // Its consultation file: the rules and a price schedule, as every tender needs to be
    // published (small PDFs written here, saying they are the demo's).
    for (kind, name, heading) in [
        (
            "reglement",
            "reglement-de-la-consultation.pdf",
            "Règlement de la consultation",
        ),
        (
            "prix",
            "bordereau-des-prix.pdf",
            "Bordereau des prix unitaires",
        ),
    ] {
        let content = demo_pdf(&format!("{reference} — {heading} (démonstration)"));
        diesel::insert_into(crate::db::schema::tender_documents::table)
            .values((
                crate::db::schema::tender_documents::tender_id.eq(tender_id),
                crate::db::schema::tender_documents::name.eq(name),
                crate::db::schema::tender_documents::content_type.eq("application/pdf"),
                crate::db::schema::tender_documents::size_bytes.eq(content.len() as i64),
                crate::db::schema::tender_documents::content.eq(&content),
                crate::db::schema::tender_documents::kind.eq(kind),
            ))
            .execute(conn)?;
    }
    let min_days = tender.min_days.unwrap_or(15);
    let (published_at, deadline) = match stage {
        "published" => (
            Some(now - Duration::days(5)),
            Some(now + Duration::days(i64::from(min_days))),
        ),
        "closed" => (
            Some(now - Duration::days(i64::from(min_days) + 10)),
            Some(now - Duration::days(3)),
        ),
        // Awarded long enough ago for the standstill to be over and the contracts signed.
        "awarded" => (
            Some(now - Duration::days(i64::from(min_days) + 40)),
            Some(now - Duration::days(30)),
        ),
        _ => (None, None),
    };
    // The tender walks its life cycle as in the portal, through the same moves: its needs
    // pooled, the members' shares approved, then published, closed and awarded.
    use crate::domain::{ApprovalStatus, ContractStatus, NeedStatus, TenderStatus};
    use crate::services::{
        awards as award_service, needs as need_service, tenders as tenders_service,
    };
    let moved = |outcome: Result<(), crate::error::AppError>| {
        outcome.map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))
    };
    let all = |moved: Result<usize, crate::error::AppError>, wanted: usize| match moved {
        Ok(n) if n == wanted => Ok(()),
        Ok(n) => Err(diesel::result::Error::QueryBuilderError(
            format!("{n} of {wanted} needs moved").into(),
        )),
        Err(e) => Err(diesel::result::Error::QueryBuilderError(
            e.detailed().into(),
        )),
    };
    all(
        need_service::move_needs_together(conn, &need_ids, NeedStatus::Pooled),
        need_ids.len(),
    )?;
    // Every member has approved, except, in the tender still being approved, all but the
    // coordinator.
    // The tender's journal, as the portal writes it (at the demo's moments).
    let lead = members.lead_users.get(&coordinator).copied();
    let lead_email: String = match lead {
        Some(id) => crate::db::schema::users::table
            .find(id)
            .select(crate::db::schema::users::email)
            .first(conn)?,
        None => "système".into(),
    };
    let decided_at = published_at.map_or(now - Duration::days(7), |p| p - Duration::days(2));
    journal(
        conn,
        tender_id,
        decided_at - Duration::days(3),
        (lead, &lead_email),
        (
            "tender.created",
            format!("{reference} : proposition de mutualisation acceptée"),
        ),
    )?;
    let approvals: Vec<i32> = tender_approvals::table
        .filter(tender_approvals::tender_id.eq(tender_id))
        .select(tender_approvals::organisation_id)
        .load(conn)?;
    for organisation_id in approvals {
        if stage == "approving" && organisation_id != coordinator {
            continue;
        }
        moved(tenders_service::move_approval(
            conn,
            tender_id,
            organisation_id,
            ApprovalStatus::Approved,
        ))?;
        diesel::update(
            tender_approvals::table
                .filter(tender_approvals::tender_id.eq(tender_id))
                .filter(tender_approvals::organisation_id.eq(organisation_id)),
        )
        .set((
            tender_approvals::decided_by.eq(members.lead_users.get(&organisation_id).copied()),
            tender_approvals::decided_at.eq(Some(decided_at)),
        ))
        .execute(conn)?;
        let member_lead = members.lead_users.get(&organisation_id).copied();
        let email: String = match member_lead {
            Some(id) => crate::db::schema::users::table
                .find(id)
                .select(crate::db::schema::users::email)
                .first(conn)?,
            None => "système".into(),
        };
        journal(
            conn,
            tender_id,
            decided_at,
            (member_lead, &email),
            ("tender.share_decided", "approuvée".into()),
        )?;
    }
    if stage == "approving" {
        return Ok(());
    }
    moved(tenders_service::move_tender(
        conn,
        tender_id,
        TenderStatus::Approved,
    ))?;
    all(
        need_service::move_needs_together(conn, &need_ids, NeedStatus::Tendered),
        need_ids.len(),
    )?;
    // Its bids' key shared between its members, as at any publication.
    tenders_service::seal_tender(conn, tender_id, None)
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?;
    moved(tenders_service::move_tender(
        conn,
        tender_id,
        TenderStatus::Published,
    ))?;
    diesel::update(tenders::table.find(tender_id))
        .set((
            tenders::weight_price.eq(Some(60)),
            tenders::weight_quality.eq(Some(30)),
            tenders::weight_environment.eq(Some(10)),
            tenders::published_at.eq(published_at),
            tenders::deadline.eq(deadline),
        ))
        .execute(conn)?;
    // A formal tender's EU notice, as at any publication (the demo's members have the data).
    crate::services::notices::record_contract_notice(
        conn,
        tender_id,
        base_url,
        published_at.unwrap_or(now),
    )
    .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?;
    journal(
        conn,
        tender_id,
        published_at.unwrap_or(now),
        (lead, &lead_email),
        (
            "tender.published",
            format!(
                "{reference} : prix 60 %, qualité 30 %, environnement 10 %, sans plafond de lots"
            ),
        ),
    )?;
    if stage == "published" {
        return Ok(());
    }
    moved(tenders_service::move_tender(
        conn,
        tender_id,
        TenderStatus::Closed,
    ))?;
    let tender_lots: Vec<(i32, i32, i64)> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select((lots::id, lots::number, lots::value_cents))
        .load(conn)?;
    let deadline = deadline.unwrap_or(now);
    for (lot_id, number, value) in tender_lots {
        insert_bids(
            conn,
            suppliers,
            &tender.family,
            (tender_id, reference, lot_id, number),
            value,
            deadline,
            // The closed tender's bids wait, encrypted, for the members' keys; the awarded
            // tender's were opened.
            stage == "closed",
        )?;
    }
    if stage == "closed" {
        return Ok(());
    }
    // The awarded tender's bids were opened, then the award engine ran.
    diesel::update(tenders::table.find(tender_id))
        .set(tenders::opened_at.eq(Some(now - Duration::days(29))))
        .execute(conn)?;
    let opened: i64 = bids::table
        .inner_join(lots::table)
        .filter(lots::tender_id.eq(tender_id))
        .count()
        .get_result(conn)?;
    journal(
        conn,
        tender_id,
        now - Duration::days(29),
        (lead, &lead_email),
        ("tender.opened", format!("{opened} offre(s)")),
    )?;
    journal(
        conn,
        tender_id,
        now - Duration::days(28),
        (lead, &lead_email),
        (
            "tender.awarded",
            format!("{reference} : attribution approuvée"),
        ),
    )?;
    award_service::award_now(conn, tender_id, lead, now - Duration::days(28))
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    // Each member signed two days after the standstill's end.
    use crate::db::schema::contracts;
    let signable: Vec<(i32, chrono::NaiveDate)> = contracts::table
        .filter(contracts::tender_id.eq(tender_id))
        .select((contracts::id, contracts::notified_on))
        .load(conn)?;
    for (id, earliest) in signable {
        diesel::update(contracts::table.find(id))
            .set((
                contracts::signed_on.eq(Some(earliest + Duration::days(2))),
                contracts::signatory.eq(Some("Direction des achats (démonstration)")),
            ))
            .execute(conn)?;
        moved(award_service::move_contract(
            conn,
            id,
            ContractStatus::Active,
        ))?;
    }
    Ok(())
}

/// A number in [0, 1) drawn from two ids, the same on every machine (a demo without
/// randomness: the same seed, the same pages).
fn spread(a: i32, b: i32, salt: u64) -> f64 {
    let mut x = (a as u64) << 32 ^ (b as u64) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Up to four bids per lot from the suppliers that serve the family, the territory's first
/// (local SMEs answer the lots sized for them); prices spread from 18 % under to 12 % over
/// the estimate, rounded to ten euros as quotes are; marks spread too. Deterministic.
/// Up to four bids on a lot, made in the days before the deadline, each with its signed receipt.
fn insert_bids(
    conn: &mut AnyConnection,
    suppliers: &[SeededSupplier],
    family: &str,
    (tender_id, reference, lot_id, lot_number): (i32, &str, i32, i32),
    value: i64,
    deadline: NaiveDateTime,
    sealed: bool,
) -> QueryResult<()> {
    let key = match sealed {
        true => crate::services::tenders::recipient_of(conn, tender_id)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?,
        false => None,
    };
    let mut bidders: Vec<&SeededSupplier> = suppliers.iter().filter(|s| s.serves(family)).collect();
    bidders.sort_by_key(|s| (!s.postcode.starts_with("21"), s.id));
    for (k, supplier) in bidders.into_iter().take(4).enumerate() {
        let submitted = deadline - Duration::days(2) - Duration::hours(k as i64 * 5);
        let factor = 0.82 + 0.30 * spread(lot_id, supplier.id, 1);
        let price_cents = ((value as f64 * factor / 1000.0).round() as i64).max(1) * 1000;
        let mark = |salt: u64, low: i32| low + (spread(lot_id, supplier.id, salt) * 40.0) as i32;
        let number = crate::services::bids::receipt_number();
        let stored =
            crate::services::bids::StoredForm::of(key.as_ref(), price_cents, MEMO, ENVIRONMENT)
                .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?;
        let bid_id: i32 = diesel::insert_into(bids::table)
            .values(NewBid {
                lot_id,
                supplier_id: supplier.id,
                price_cents: stored.price_cents,
                // (The demo's marks are ready for when its bids are opened.)
                quality: Some(mark(2, 55)),
                environment: Some(mark(3, 50)),
                technical_memo: &stored.technical_memo,
                environment_data: &stored.environment_data,
                submitted_at: submitted,
                updated_at: submitted,
                receipt: &number,
            })
            .returning(bids::id)
            .get_result(conn)?;
        diesel::update(bids::table.find(bid_id))
            .set((
                bids::sealed.eq(&stored.sealed),
                bids::sealed_sha256.eq(&stored.sealed_sha256),
                bids::form_sha256.eq(crate::services::receipts::form_digest(
                    price_cents,
                    MEMO,
                    ENVIRONMENT,
                )),
                bids::seal_state.eq(stored.seal_state.or(Some("opened"))),
            ))
            .execute(conn)?;
        crate::services::receipts::issue(
            conn,
            crate::services::receipts::Deposit {
                supplier_id: supplier.id,
                tender_id: Some(tender_id),
                reference,
                lot: lot_number,
                number: &number,
                event: "depot",
                received_at: submitted,
                deadline,
                late: false,
                form_sha256: Some(crate::services::receipts::form_digest(
                    price_cents,
                    MEMO,
                    ENVIRONMENT,
                )),
                sealed_sha256: stored.sealed_sha256.clone(),
                documents: Vec::new(),
            },
        )
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.detailed().into()))?;
    }
    Ok(())
}

/// One line of a demo tender's journal, at its moment.
fn journal(
    conn: &mut AnyConnection,
    tender_id: i32,
    at: NaiveDateTime,
    (user_id, label): (Option<i32>, &str),
    (action, after): (&str, String),
) -> QueryResult<()> {
    use crate::db::schema::audit_log;
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_user_id.eq(user_id),
            audit_log::actor_label.eq(label),
            audit_log::action.eq(action),
            audit_log::object_type.eq("tender"),
            audit_log::object_id.eq(tender_id.to_string()),
            audit_log::at.eq(at),
            audit_log::after_summary.eq(Some(after)),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the demo's bids say.
const MEMO: &str = "Mémoire technique de démonstration.";
const ENVIRONMENT: &str = "Données environnementales de démonstration.";
