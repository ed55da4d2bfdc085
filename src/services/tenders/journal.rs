//! The journal of a tender, for its coordinator's lead: everything that happened to it —
//! creation, approvals, publication, changes, downloads of its file, questions and answers,
//! deposits, the opening, the award — in the order it happened, never an amount. Deposits
//! stay out until the bids are opened: before, even their number says something of the
//! competition. It is exported as CSV with the tender's archive.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::{audit_log, document_downloads, receipts, tender_documents, users};
use crate::domain::paris_text;

/// One line of the journal.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    pub at: NaiveDateTime,
    /// Who: a person's address, a company, or « système ».
    pub who: String,
    /// What, in French.
    pub what: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Journal {
    pub tender_id: i32,
    pub reference: String,
    pub title: String,
    /// Whether deposits are still left out (the bids are not opened).
    pub sealed: bool,
    pub entries: Vec<JournalEntry>,
}

/// The journal of a tender, for its coordinator's lead.
pub fn journal(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<Journal, AppError> {
    let organisation_id = actor.require_lead()?;
    let mut conn = pool.get()?;
    coordinated_status(&mut conn, organisation_id, tender_id)?;
    let (reference, title, opened_at): (String, String, Option<NaiveDateTime>) = tenders::table
        .find(tender_id)
        .select((tenders::reference, tenders::title, tenders::opened_at))
        .first(&mut conn)?;
    let mut entries: Vec<JournalEntry> = audit_log::table
        .filter(audit_log::object_type.eq("tender"))
        .filter(audit_log::object_id.eq(tender_id.to_string()))
        .order(audit_log::id)
        .select((
            audit_log::at,
            audit_log::actor_label,
            audit_log::action,
            audit_log::before_summary,
            audit_log::after_summary,
        ))
        .load::<(
            NaiveDateTime,
            String,
            String,
            Option<String>,
            Option<String>,
        )>(&mut conn)?
        .into_iter()
        .map(|(at, who, action, before, after)| JournalEntry {
            at,
            who,
            what: crate::services::audit::action_label(&action).to_string(),
            detail: match (before, after) {
                (Some(b), Some(a)) => format!("{b} → {a}"),
                (None, Some(a)) => a,
                (Some(b), None) => b,
                (None, None) => String::new(),
            },
        })
        .collect();
    let downloads: Vec<(NaiveDateTime, String, Option<String>, Option<String>)> =
        document_downloads::table
            .inner_join(users::table)
            .left_join(suppliers::table)
            .left_join(tender_documents::table)
            .filter(document_downloads::tender_id.eq(tender_id))
            .order(document_downloads::id)
            .select((
                document_downloads::downloaded_at,
                users::email,
                suppliers::name.nullable(),
                tender_documents::name.nullable(),
            ))
            .load(&mut conn)?;
    entries.extend(
        downloads
            .into_iter()
            .map(|(at, email, company, document)| JournalEntry {
                at,
                who: match company {
                    Some(company) => format!("{email} ({company})"),
                    None => email,
                },
                what: "dossier téléchargé".into(),
                detail: document.unwrap_or_else(|| "tout le dossier (zip)".into()),
            }),
    );
    if opened_at.is_some() {
        let deposits: Vec<(NaiveDateTime, String, i32, String, String)> = receipts::table
            .inner_join(suppliers::table)
            .filter(receipts::tender_id.eq(tender_id))
            .order(receipts::id)
            .select((
                receipts::issued_at,
                suppliers::name,
                receipts::lot_number,
                receipts::event,
                receipts::number,
            ))
            .load(&mut conn)?;
        entries.extend(
            deposits
                .into_iter()
                .map(|(at, company, lot, event, number)| JournalEntry {
                    at,
                    who: company,
                    what: crate::services::receipts::event_label(&event).to_string(),
                    detail: match lot {
                        0 => format!("accusé de réception signé n° {number}"),
                        lot => format!("lot {lot}, accusé de réception signé n° {number}"),
                    },
                }),
        );
    }
    entries.sort_by_key(|e| e.at);
    Ok(Journal {
        tender_id,
        reference,
        title,
        sealed: opened_at.is_none(),
        entries,
    })
}

/// The journal as CSV (`;`-separated, UTF-8 with its mark, as French spreadsheets open it).
pub fn journal_csv(journal: &Journal) -> Result<Vec<u8>, AppError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        writer
            .write_record(["date (heure de Paris)", "qui", "quoi", "détail"])
            .map_err(AppError::internal)?;
        for e in &journal.entries {
            writer
                .write_record([
                    paris_text(e.at),
                    e.who.clone(),
                    e.what.clone(),
                    e.detail.clone(),
                ])
                .map_err(AppError::internal)?;
        }
        writer.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

/// The archive of a tender, for its coordinator's lead: its journal, every version of its
/// consultation file, its changes, its questions and answers, and — once the bids are opened —
/// the signed receipts of every deposit. One zip (`<reference>-archive.zip`).
pub fn archive(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<(String, Vec<u8>), AppError> {
    use std::io::Write as _;
    let journal = journal(pool, actor, tender_id)?;
    let mut conn = pool.get()?;
    let documents: Vec<(i32, String, Vec<u8>, Option<NaiveDateTime>)> = tender_documents::table
        .filter(tender_documents::tender_id.eq(tender_id))
        .order(tender_documents::id)
        .select((
            tender_documents::id,
            tender_documents::name,
            tender_documents::content,
            tender_documents::replaced_at,
        ))
        .load(&mut conn)?;
    let changes = changes_of(&mut conn, tender_id)?;
    let answers = super::questions::of_tender(&mut conn, tender_id)?;
    let signed: Vec<(String, String, String, String)> = match journal.sealed {
        true => Vec::new(),
        false => receipts::table
            .inner_join(
                crate::db::schema::signing_keys::table
                    .on(crate::db::schema::signing_keys::key_id.eq(receipts::key_id)),
            )
            .filter(receipts::tender_id.eq(tender_id))
            .order(receipts::id)
            .select((
                receipts::number,
                receipts::body,
                receipts::signature,
                crate::db::schema::signing_keys::public_key,
            ))
            .load(&mut conn)?,
    };
    let table = |header: &[&str], rows: Vec<Vec<String>>| -> Result<Vec<u8>, AppError> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(&mut out);
            writer.write_record(header).map_err(AppError::internal)?;
            for row in rows {
                writer.write_record(row).map_err(AppError::internal)?;
            }
            writer.flush().map_err(AppError::internal)?;
        }
        Ok(out)
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: String, bytes: &[u8]| -> Result<(), AppError> {
        zip.start_file(name, options).map_err(AppError::internal)?;
        zip.write_all(bytes).map_err(AppError::internal)
    };
    put("journal.csv".into(), &journal_csv(&journal)?)?;
    for (id, name, content, replaced_at) in &documents {
        let folder = match replaced_at {
            Some(_) => "dossier/remplaces",
            None => "dossier",
        };
        put(format!("{folder}/{id}-{name}"), content)?;
    }
    put(
        "rectificatifs.csv".into(),
        &table(
            &[
                "date",
                "description",
                "substantiel",
                "date limite avant",
                "date limite après",
                "documents",
            ],
            changes
                .iter()
                .map(|c| {
                    vec![
                        paris_text(c.made_at),
                        c.summary.clone(),
                        if c.substantial { "oui" } else { "non" }.into(),
                        c.deadline_moved
                            .map(|(b, _)| paris_text(b))
                            .unwrap_or_default(),
                        c.deadline_moved
                            .map(|(_, a)| paris_text(a))
                            .unwrap_or_default(),
                        c.documents
                            .iter()
                            .map(|(_, n)| n.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect(),
        )?,
    )?;
    put(
        "questions-reponses.csv".into(),
        &table(
            &[
                "posée le",
                "entreprise",
                "objet",
                "question",
                "réponse",
                "répondue le",
            ],
            answers
                .iter()
                .map(|q| {
                    vec![
                        paris_text(q.asked_at),
                        q.company.clone(),
                        q.lot
                            .map_or("toute la consultation".into(), |n| format!("lot {n}")),
                        q.question.clone(),
                        q.answer.clone().unwrap_or_default(),
                        q.answered_at.map(paris_text).unwrap_or_default(),
                    ]
                })
                .collect(),
        )?,
    )?;
    for (number, body, signature, public_key) in signed {
        let receipt = crate::services::receipts::assemble(&body, signature, public_key)?;
        put(
            format!("accuses/accuse-{number}.json"),
            serde_json::to_string_pretty(&receipt)
                .map_err(AppError::internal)?
                .as_bytes(),
        )?;
    }
    let bytes = zip.finish().map_err(AppError::internal)?.into_inner();
    Ok((format!("{}-archive.zip", journal.reference), bytes))
}
