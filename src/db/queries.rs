//! Reads shared by several services.

use super::models::Tender;
use super::schema::{lots, organisations, tenders};
use super::AnyConnection;
use diesel::dsl::count_star;
use diesel::prelude::*;
use std::collections::HashMap;

pub struct PublishedTender {
    pub tender: Tender,
    pub coordinator: String,
    pub lots: i64,
}

/// What the public list of tenders may be narrowed to; `None` is no condition.
#[derive(Debug, Default)]
pub struct PublishedFilter<'a> {
    /// Procedure code (`adapted`…).
    pub procedure: Option<&'a str>,
    /// Deadline at or before this instant (UTC); a tender without a deadline is left out.
    pub deadline_by: Option<chrono::NaiveDateTime>,
    /// Start of one of its lots' CPV codes (digits only).
    pub cpv_prefix: Option<&'a str>,
    /// Code of a member organisation taking part (upper case).
    pub buyer: Option<&'a str>,
    /// Which of the public tenders: open to bids only (the default), or those closed and
    /// awarded too.
    pub with_ended: bool,
}

/// Tenders open to bids, the nearest deadline first: one query, whatever the filter, and one
/// for the lot counts.
pub fn published_tenders(
    conn: &mut AnyConnection,
    filter: &PublishedFilter,
) -> QueryResult<Vec<PublishedTender>> {
    use super::schema::tender_approvals;
    use diesel::dsl::exists;
    let mut query = tenders::table.inner_join(organisations::table).into_boxed();
    query = match filter.with_ended {
        true => query.filter(tenders::status.eq_any(crate::domain::TenderStatus::PUBLIC)),
        false => query.filter(tenders::status.eq(crate::domain::TenderStatus::Published)),
    };
    if let Some(procedure) = filter.procedure {
        query = query.filter(tenders::procedure.eq(procedure));
    }
    if let Some(by) = filter.deadline_by {
        query = query.filter(tenders::deadline.le(by));
    }
    if let Some(prefix) = filter.cpv_prefix {
        query = query.filter(exists(
            lots::table
                .filter(lots::tender_id.eq(tenders::id))
                .filter(lots::cpv_code.like(format!("{prefix}%"))),
        ));
    }
    if let Some(buyer) = filter.buyer {
        let members = diesel::alias!(organisations as members);
        query = query.filter(exists(
            tender_approvals::table
                .inner_join(
                    members.on(members
                        .field(organisations::id)
                        .eq(tender_approvals::organisation_id)),
                )
                .filter(tender_approvals::tender_id.eq(tenders::id))
                .filter(members.field(organisations::code).eq(buyer)),
        ));
    }
    let rows: Vec<(Tender, String)> = query
        .order((tenders::deadline.asc(), tenders::id.asc()))
        .select((Tender::as_select(), organisations::name))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|(t, _)| t.id).collect();
    let counts: HashMap<i32, i64> = lots::table
        .filter(lots::tender_id.eq_any(&ids))
        .group_by(lots::tender_id)
        .select((lots::tender_id, count_star()))
        .load::<(i32, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(tender, coordinator)| PublishedTender {
            lots: counts.get(&tender.id).copied().unwrap_or(0),
            tender,
            coordinator,
        })
        .collect())
}
