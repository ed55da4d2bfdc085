//! What the members read of their tenders: the list, and one tender with its lots, shares,
//! approvals, periods and contracts.

#[allow(unused_imports)]
use super::*;

/// A tender as a member's pages list it.
#[derive(Debug, Serialize)]
pub struct TenderRow {
    pub id: i32,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub procedure: String,
    pub total_value_cents: i64,
    /// The actor's organisation's part of the tender's value.
    pub share_cents: i64,
    /// The actor's organisation's decision: `pending`, `approved`, `refused`.
    pub decision: String,
}

/// The tenders the actor's organisation takes part in, newest first.
pub fn of_organisation(pool: &Pool, actor: &Actor) -> Result<Vec<TenderRow>, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    type Row = (i32, String, String, String, String, String, i64, String);
    let rows: Vec<Row> = tenders::table
        .inner_join(tender_approvals::table)
        .inner_join(organisations::table.on(organisations::id.eq(tenders::coordinator_id)))
        .filter(tender_approvals::organisation_id.eq(organisation_id))
        .order(tenders::id.desc())
        .select((
            tenders::id,
            tenders::reference,
            tenders::title,
            tenders::status,
            organisations::code,
            tenders::procedure,
            tenders::total_value_cents,
            tender_approvals::status,
        ))
        .load(&mut conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, reference, title, status, coordinator, procedure, total, decision) in rows {
        let share = share_of(&mut conn, id, organisation_id)?;
        out.push(TenderRow {
            id,
            reference,
            title,
            status,
            coordinator,
            procedure,
            total_value_cents: total,
            share_cents: share.iter().map(|n| n.value_cents).sum(),
            decision,
        });
    }
    Ok(out)
}

/// A need of a tender, with its lot.
#[derive(Debug, Clone, Serialize)]
pub struct ShareNeed {
    pub lot: i32,
    pub need_id: i32,
    pub title: String,
    pub buyer: String,
    pub value_cents: i64,
}

pub(super) fn needs_of_tender(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> QueryResult<Vec<ShareNeed>> {
    let rows: Vec<(i32, i32, String, String, i64, i64)> = lot_needs::table
        .inner_join(lots::table)
        .inner_join(needs::table.inner_join(organisations::table))
        .filter(lots::tender_id.eq(tender_id))
        .order((lots::number, needs::id))
        .select((
            lots::number,
            needs::id,
            needs::title,
            organisations::code,
            needs::quantity_milli,
            needs::unit_price_cents,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(lot, need_id, title, buyer, q, p)| ShareNeed {
            lot,
            need_id,
            title,
            buyer,
            value_cents: crate::services::needs::value_cents(q, p),
        })
        .collect())
}

pub(super) fn share_of(
    conn: &mut AnyConnection,
    tender_id: i32,
    organisation_id: i32,
) -> QueryResult<Vec<ShareNeed>> {
    let code: String = organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(conn)?;
    Ok(needs_of_tender(conn, tender_id)?
        .into_iter()
        .filter(|n| n.buyer == code)
        .collect())
}

#[derive(Debug, Serialize)]
pub struct LotView {
    pub number: i32,
    pub title: String,
    pub cpv: String,
    pub value_cents: i64,
    pub expected_savings_cents: i64,
    pub local_accessible: bool,
    pub eligible_local_suppliers: i32,
    pub small_lot: bool,
}

impl From<crate::db::models::Lot> for LotView {
    fn from(l: crate::db::models::Lot) -> Self {
        LotView {
            number: l.number,
            title: l.title,
            cpv: l.cpv_code,
            value_cents: l.value_cents,
            expected_savings_cents: l.expected_savings_cents,
            local_accessible: l.local_accessible,
            eligible_local_suppliers: l.eligible_local_suppliers,
            small_lot: l.small_lot,
        }
    }
}

/// The announced weights, when all three are set.
pub(crate) fn weights_of(
    price: Option<i32>,
    quality: Option<i32>,
    environment: Option<i32>,
) -> Option<(i32, i32, i32)> {
    Some((price?, quality?, environment?))
}

#[derive(Debug, Serialize)]
pub struct ApprovalView {
    pub organisation: String,
    pub status: String,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TenderDetail {
    pub id: i32,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub is_coordinator: bool,
    pub procedure: String,
    pub total_value_cents: i64,
    pub deadline: Option<NaiveDateTime>,
    pub weights: Option<(i32, i32, i32)>,
    pub min_days: u32,
    pub lots: Vec<LotView>,
    pub approvals: Vec<ApprovalView>,
    /// The actor's organisation's needs in the tender.
    pub share: Vec<ShareNeed>,
    /// The actor's organisation's expected saving: its share of each lot's savings, in
    /// proportion to its value in the lot.
    pub share_savings_cents: i64,
    pub my_decision: String,
    pub documents: Vec<DocumentRow>,
    pub opened_at: Option<NaiveDateTime>,
    pub standstill_until: Option<NaiveDateTime>,
    /// The actor's organisation's contracts, once the tender is awarded.
    pub contracts: Vec<ContractView>,
    /// The companies' questions, for the coordinator's lead (empty for anyone else).
    pub questions: Vec<super::LeadQuestion>,
    /// The changes made since the publication, oldest first.
    pub changes: Vec<super::ChangeView>,
    /// The backup copies declared, for the coordinator's lead (empty for anyone else).
    pub backups: Vec<super::BackupCopy>,
    /// How its bids are sealed, once published (none for a tender published before sealing).
    pub sealing: Option<super::Sealing>,
    /// Urgency declared at publication.
    pub urgent: bool,
    /// Its EU notices (eForms), oldest first.
    pub notices: Vec<crate::services::notices::NoticeRow>,
    /// Why it has no EU notice (a procedure under the EU thresholds), when so.
    pub no_notice: Option<&'static str>,
}

/// One of an organisation's contracts: the lot, the holder, the amount (read as the query of
/// `detail` selects it, field by field).
#[derive(Debug, Serialize, Queryable)]
pub struct ContractView {
    pub uid: String,
    pub lot: i32,
    pub supplier: String,
    pub amount_cents: i64,
    pub estimated_cents: i64,
    /// The earliest day it may be signed (the end of the standstill, or the award's day).
    pub notified_on: chrono::NaiveDate,
    /// `pending` until its signature is recorded, then `active`.
    pub status: crate::domain::ContractStatus,
    pub signed_on: Option<chrono::NaiveDate>,
    pub signatory: Option<String>,
}

pub fn detail(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<TenderDetail, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    let (status, coordinator_id) = tender_of_member(&mut conn, organisation_id, tender_id)?;
    type Row = (
        String,
        String,
        String,
        i64,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
    );
    let (reference, title, procedure, total, deadline, wp, wq, we): Row = tenders::table
        .find(tender_id)
        .select((
            tenders::reference,
            tenders::title,
            tenders::procedure,
            tenders::total_value_cents,
            tenders::deadline,
            tenders::weight_price,
            tenders::weight_quality,
            tenders::weight_environment,
        ))
        .first(&mut conn)?;
    let coordinator: String = organisations::table
        .find(coordinator_id)
        .select(organisations::code)
        .first(&mut conn)?;
    let lot_rows: Vec<crate::db::models::Lot> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select(crate::db::models::Lot::as_select())
        .load(&mut conn)?;
    let approvals: Vec<(String, String, Option<String>)> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .order(organisations::code)
        .select((
            organisations::code,
            tender_approvals::status,
            tender_approvals::comment,
        ))
        .load(&mut conn)?;
    let share = share_of(&mut conn, tender_id, organisation_id)?;
    let share_savings_cents = lot_rows
        .iter()
        .map(|lot| {
            let mine: i64 = share
                .iter()
                .filter(|n| n.lot == lot.number)
                .map(|n| n.value_cents)
                .sum();
            match lot.value_cents {
                0 => 0,
                v => {
                    (i128::from(lot.expected_savings_cents) * i128::from(mine) / i128::from(v))
                        as i64
                }
            }
        })
        .sum();
    let my_code: String = organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(&mut conn)?;
    let my_decision = approvals
        .iter()
        .find(|(code, _, _)| *code == my_code)
        .map(|(_, s, _)| s.clone())
        .unwrap_or_default();
    let in_force = crate::services::settings::today(&mut conn)?;
    let min_days = minimum_days(&mut conn, tender_id, &in_force)?;
    let (opened_at, standstill_until): (Option<NaiveDateTime>, Option<NaiveDateTime>) =
        tenders::table
            .find(tender_id)
            .select((tenders::opened_at, tenders::standstill_until))
            .first(&mut conn)?;
    let contracts = {
        use crate::db::schema::{contracts, suppliers};
        contracts::table
            .inner_join(lots::table)
            .inner_join(suppliers::table)
            .filter(contracts::tender_id.eq(tender_id))
            .filter(contracts::organisation_id.eq(organisation_id))
            .order(lots::number)
            .select((
                contracts::uid,
                lots::number,
                suppliers::name,
                contracts::amount_cents,
                contracts::estimated_cents,
                contracts::notified_on,
                contracts::status,
                contracts::signed_on,
                contracts::signatory,
            ))
            .load::<ContractView>(&mut conn)?
    };
    // A contract won by a group of companies names the group (#24).
    let lot_ids: Vec<(i32, i32)> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .select((lots::number, lots::id))
        .load(&mut conn)?;
    let groups = crate::services::groups::winning(
        &mut conn,
        &lot_ids.iter().map(|l| l.1).collect::<Vec<_>>(),
    )?;
    let mut contracts = contracts;
    for contract in &mut contracts {
        let group = lot_ids
            .iter()
            .find(|l| l.0 == contract.lot)
            .and_then(|l| groups.get(&l.1));
        if let Some(group) = group {
            contract.supplier = format!(
                "{}, mandataire du groupement {} avec {}",
                contract.supplier,
                group.kind_fr(),
                group
                    .members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let no_notice = crate::services::notices::why_none(&procedure);
    Ok(TenderDetail {
        id: tender_id,
        reference,
        title,
        status,
        is_coordinator: coordinator_id == organisation_id,
        coordinator,
        procedure,
        total_value_cents: total,
        deadline,
        weights: weights_of(wp, wq, we),
        min_days,
        lots: lot_rows.into_iter().map(LotView::from).collect(),
        approvals: approvals
            .into_iter()
            .map(|(organisation, status, comment)| ApprovalView {
                organisation,
                status,
                comment,
            })
            .collect(),
        share,
        share_savings_cents,
        my_decision,
        documents: documents_of(&mut conn, tender_id)?,
        opened_at,
        standstill_until,
        contracts,
        questions: match coordinator_id == organisation_id && actor.role == crate::auth::Role::Lead
        {
            true => super::questions::of_tender(&mut conn, tender_id)?,
            false => Vec::new(),
        },
        changes: super::changes_of(&mut conn, tender_id)?,
        notices: crate::services::notices::notices_of(&mut conn, tender_id)?,
        no_notice,
        urgent: tenders::table
            .find(tender_id)
            .select(tenders::urgent)
            .first(&mut conn)?,
        backups: match coordinator_id == organisation_id && actor.role == crate::auth::Role::Lead {
            true => super::backups_of(&mut conn, tender_id)?,
            false => Vec::new(),
        },
        sealing: super::sealing_of(&mut conn, tender_id)?,
    })
}
