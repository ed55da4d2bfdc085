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

/// Tenders open to bids, the nearest deadline first.
pub fn published_tenders(conn: &mut AnyConnection) -> QueryResult<Vec<PublishedTender>> {
    let rows: Vec<(Tender, String)> = tenders::table
        .inner_join(organisations::table)
        .filter(tenders::status.eq("published"))
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
