//! Opening the bids: after the deadline, by the coordinator's lead, once; the journal records
//! it.

#[allow(unused_imports)]
use super::*;

/// The tender, when the actor is the lead of its coordinator (403 for another member's lead,
/// 404 for anyone else).
pub(super) fn coordinated(
    conn: &mut AnyConnection,
    actor: &Actor,
    tender_id: i32,
) -> Result<Tender, AppError> {
    let organisation_id = actor.require_lead()?;
    coordinated_status(conn, organisation_id, tender_id)?;
    Ok(tenders::table
        .find(tender_id)
        .select(Tender::as_select())
        .first(conn)?)
}

pub(super) fn past_deadline(tender: &Tender) -> Result<(), AppError> {
    match tender.deadline {
        Some(deadline) if Utc::now().naive_utc() >= deadline => Ok(()),
        Some(deadline) => Err(AppError::Conflict(format!(
            "les offres sont scellées jusqu'à la date limite, le {} : elles ne s'ouvrent qu'après",
            crate::domain::paris_text(deadline)
        ))),
        None => Err(AppError::Conflict(
            "la consultation n'est pas publiée : il n'y a pas d'offres à ouvrir".into(),
        )),
    }
}

/// Opens the bids of a tender whose deadline has passed (the coordinator's lead); the tender
/// is closed if the ticker has not done it yet. Opening twice does nothing more.
pub fn open(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let tender = coordinated(conn, actor, tender_id)?;
        if !["published", "closed"].contains(&tender.status.as_str()) {
            if tender.opened_at.is_some() {
                return Ok(());
            }
            return Err(AppError::Conflict(format!(
                "la consultation est « {} » : il n'y a pas d'offres à ouvrir",
                tender.status
            )));
        }
        past_deadline(&tender)?;
        if tender.opened_at.is_some() {
            return Ok(());
        }
        let count: i64 = bids::table
            .inner_join(lots::table)
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .count()
            .get_result(conn)?;
        // Opened before the ticker closed it: closed now (its deadline has passed).
        if tender.status == "published" {
            crate::services::tenders::move_tender(
                conn,
                tender_id,
                crate::domain::TenderStatus::Closed,
            )?;
        }
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::opened_at.eq(Utc::now().naive_utc()),
                tenders::opened_by.eq(actor.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.opened", "tender", tender_id).after(format!("{count} offre(s)")),
        )?;
        Ok(())
    })
}
