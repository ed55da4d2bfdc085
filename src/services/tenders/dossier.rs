//! The documents of a tender (the consultation file): added by the coordinator, public once the
//! tender is published.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Serialize)]
pub struct DocumentRow {
    pub id: i32,
    pub name: String,
    pub size_bytes: i64,
    /// What the document is ([`DOCUMENT_KINDS`]).
    pub kind: String,
}

/// What a document of the consultation file may be, and its French name. The rules of the
/// consultation and a price schedule are required to publish ([`REQUIRED_KINDS`]).
pub const DOCUMENT_KINDS: [(&str, &str); 5] = [
    ("reglement", "règlement de la consultation"),
    (
        "prix",
        "bordereau des prix ou décomposition du prix (BPU, DPGF)",
    ),
    ("cctp", "cahier des clauses techniques particulières (CCTP)"),
    (
        "ccap",
        "cahier des clauses administratives particulières (CCAP)",
    ),
    ("autre", "autre pièce"),
];
pub const REQUIRED_KINDS: [&str; 2] = ["reglement", "prix"];

/// The French name of a kind of document.
pub fn kind_label(kind: &str) -> &'static str {
    DOCUMENT_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("autre pièce", |(_, label)| label)
}

/// The kind of a document sent without one, from its name (`RC…`, `reglement…` are the rules;
/// `BPU`, `DPGF`, `prix` a price schedule; `CCTP`, `CCAP`); otherwise `autre`.
pub fn kind_from_name(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    if lower.contains("reglement") || lower.contains("règlement") || has("rc") {
        "reglement"
    } else if has("bpu") || has("dpgf") || has("dqe") || lower.contains("prix") {
        "prix"
    } else if has("cctp") {
        "cctp"
    } else if has("ccap") {
        "ccap"
    } else {
        "autre"
    }
}

/// The documents of a tender's consultation file as it stands (a document replaced by a change
/// is left out).
pub fn documents_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<DocumentRow>> {
    use crate::db::schema::tender_documents as docs;
    Ok(docs::table
        .filter(docs::tender_id.eq(tender_id))
        .filter(docs::replaced_at.is_null())
        .order(docs::id)
        .select((docs::id, docs::name, docs::size_bytes, docs::kind))
        .load::<(i32, String, i64, String)>(conn)?
        .into_iter()
        .map(|(id, name, size_bytes, kind)| DocumentRow {
            id,
            name,
            size_bytes,
            kind,
        })
        .collect())
}

/// The required kinds missing from these documents, by their French names.
pub fn missing_kinds(documents: &[DocumentRow]) -> Vec<&'static str> {
    REQUIRED_KINDS
        .iter()
        .filter(|k| !documents.iter().any(|d| d.kind == **k))
        .map(|k| kind_label(k))
        .collect()
}

/// The kinds of document a tender still lacks to be published, by their French names.
pub fn missing_documents(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> QueryResult<Vec<&'static str>> {
    Ok(missing_kinds(&documents_of(conn, tender_id)?))
}

/// Adds a document to a tender not yet published (the coordinator's lead), checked by
/// [`documents::checked`].
pub fn add_document(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    (file_name, kind): (&str, &str),
    bytes: &[u8],
) -> Result<i32, AppError> {
    use crate::db::schema::tender_documents as docs;
    let organisation_id = actor.require_lead()?;
    let kind = match kind.trim() {
        "" => kind_from_name(file_name),
        k => DOCUMENT_KINDS
            .iter()
            .find(|(code, _)| *code == k)
            .map(|(code, _)| *code)
            .ok_or_else(|| {
                AppError::validation("nature du document", "choisissez une nature dans la liste")
            })?,
    };
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
                docs::kind.eq(kind),
            ))
            .returning(docs::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.document_added", "tender", tender_id).after(format!(
                "{name} ({}, {} octets)",
                kind_label(kind),
                bytes.len()
            )),
        )?;
        Ok(id)
    })
}

/// Registers a signed-in person's download of a published tender's document (`None`: the
/// whole file), with their company when they have one.
pub(super) fn register_download(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    tender_id: i32,
    document_id: Option<i32>,
) -> QueryResult<()> {
    use crate::db::schema::document_downloads as downloads;
    if let Some(actor) = actor {
        diesel::insert_into(downloads::table)
            .values((
                downloads::tender_id.eq(tender_id),
                downloads::user_id.eq(actor.user_id),
                downloads::supplier_id.eq(actor.supplier_id),
                downloads::document_id.eq(document_id),
                downloads::downloaded_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A document of a published tender, for anyone: name, media type, content (a replaced one
/// too: the history of changes links it). A signed-in person's download is registered.
pub fn public_document(
    pool: &Pool,
    actor: Option<&Actor>,
    reference: &str,
    id: i32,
) -> Result<(String, String, Vec<u8>), AppError> {
    use crate::db::schema::tender_documents as docs;
    let mut conn = pool.get()?;
    let (tender_id, name, content_type, content): (i32, String, String, Vec<u8>) = docs::table
        .inner_join(tenders::table)
        .filter(docs::id.eq(id))
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select((tenders::id, docs::name, docs::content_type, docs::content))
        .first(&mut conn)?;
    register_download(&mut conn, actor, tender_id, Some(id))?;
    Ok((name, content_type, content))
}

/// The whole consultation file of a published tender as one zip (`<reference>-DCE.zip`), for
/// anyone; a signed-in person's download is registered. The documents are already compressed
/// formats or small: they are stored, not deflated again.
pub fn public_file(
    pool: &Pool,
    actor: Option<&Actor>,
    reference: &str,
) -> Result<(String, Vec<u8>), AppError> {
    use crate::db::schema::tender_documents as docs;
    use std::io::Write as _;
    let mut conn = pool.get()?;
    let tender_id: i32 = tenders::table
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select(tenders::id)
        .first(&mut conn)?;
    let files: Vec<(String, Vec<u8>)> = docs::table
        .filter(docs::tender_id.eq(tender_id))
        .filter(docs::replaced_at.is_null())
        .order(docs::id)
        .select((docs::name, docs::content))
        .load(&mut conn)?;
    if files.is_empty() {
        return Err(AppError::NotFound);
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut used = std::collections::BTreeSet::new();
    for (k, (name, content)) in files.iter().enumerate() {
        // Two documents of one name keep both (`2-name`).
        let entry = match used.insert(name.clone()) {
            true => name.clone(),
            false => format!("{}-{name}", k + 1),
        };
        zip.start_file(entry, options).map_err(AppError::internal)?;
        zip.write_all(content).map_err(AppError::internal)?;
    }
    let bytes = zip.finish().map_err(AppError::internal)?.into_inner();
    register_download(&mut conn, actor, tender_id, None)?;
    Ok((format!("{reference}-DCE.zip"), bytes))
}
