//! The documents of a tender (the consultation file): added by the coordinator, public once the
//! tender is published.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Serialize)]
pub struct DocumentRow {
    pub id: i32,
    pub name: String,
    pub size_bytes: i64,
}

pub fn documents_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<DocumentRow>> {
    use crate::db::schema::tender_documents as docs;
    Ok(docs::table
        .filter(docs::tender_id.eq(tender_id))
        .order(docs::id)
        .select((docs::id, docs::name, docs::size_bytes))
        .load::<(i32, String, i64)>(conn)?
        .into_iter()
        .map(|(id, name, size_bytes)| DocumentRow {
            id,
            name,
            size_bytes,
        })
        .collect())
}

/// Adds a document to a tender not yet published (the coordinator's lead), checked by
/// [`documents::checked`].
pub fn add_document(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    file_name: &str,
    bytes: &[u8],
) -> Result<i32, AppError> {
    use crate::db::schema::tender_documents as docs;
    let organisation_id = actor.require_lead()?;
    let (name, content_type) = documents::checked(file_name, bytes)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if !["draft", "approving", "approved"].contains(&status.as_str()) {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : ses documents ne changent plus après la publication"
            )));
        }
        let id: i32 = diesel::insert_into(docs::table)
            .values((
                docs::tender_id.eq(tender_id),
                docs::name.eq(name),
                docs::content_type.eq(content_type),
                docs::size_bytes.eq(bytes.len() as i64),
                docs::content.eq(bytes),
                docs::uploaded_by.eq(actor.user_id),
            ))
            .returning(docs::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.document_added", "tender", tender_id)
                .after(format!("{name} ({} octets)", bytes.len())),
        )?;
        Ok(id)
    })
}

/// A document of a published tender, for anyone: name, media type, content.
pub fn public_document(
    pool: &Pool,
    reference: &str,
    id: i32,
) -> Result<(String, String, Vec<u8>), AppError> {
    use crate::db::schema::tender_documents as docs;
    let mut conn = pool.get()?;
    Ok(docs::table
        .inner_join(tenders::table)
        .filter(docs::id.eq(id))
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select((docs::name, docs::content_type, docs::content))
        .first(&mut conn)?)
}
