//! Changes to a published tender (*rectificatifs*). Until the deadline the coordinator's lead
//! adds or replaces a document of the consultation file and moves the deadline — later only,
//! never earlier — saying what changes. A substantial change reopens the procedure's minimum
//! period counted from the change: the deadline must then be at least that far. The notice keeps
//! the history; the companies that downloaded the file signed in, asked a question or bid are
//! written to, and bidders are told their bids stay and may be revised until the deadline.
//! The questions' and answers' cut-offs follow the deadline: once it is moved, answers are due
//! again by the new cut-off.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::{bids, document_downloads, questions, tender_changes, tender_documents};
use crate::domain::paris_text;

/// The longest description of a change, in characters.
pub const CHANGE_CHARS: usize = 4000;

/// The change form of the coordinator's lead (with at most one document, sent beside it).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ChangeForm {
    /// What changes, for the companies (published on the notice).
    #[serde(default)]
    pub summary: String,
    /// The new deadline's day (`AAAA-MM-JJ` or `JJ/MM/AAAA`, at 12:00 Paris time); empty: kept.
    #[serde(default)]
    pub deadline: String,
    /// Whether the change is substantial (it reopens the minimum period).
    #[serde(default)]
    pub substantial: bool,
    /// What the document sent is ([`DOCUMENT_KINDS`]); empty: from the replaced one or its name.
    #[serde(default)]
    pub kind: String,
    /// The id of the document it replaces; empty: an added document.
    #[serde(default)]
    pub replaces: String,
}

/// A change as the notice shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub id: i32,
    pub made_at: NaiveDateTime,
    pub summary: String,
    pub substantial: bool,
    /// The deadline before and after, when it moved.
    pub deadline_moved: Option<(NaiveDateTime, NaiveDateTime)>,
    /// The documents the change brought: (id, name).
    pub documents: Vec<(i32, String)>,
    /// The names of the documents it replaced.
    pub replaced: Vec<String>,
}

/// The changes of a tender, oldest first, as anyone reads them on the notice.
pub fn changes_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<ChangeView>> {
    type Row = (
        i32,
        NaiveDateTime,
        String,
        bool,
        NaiveDateTime,
        NaiveDateTime,
    );
    let rows: Vec<Row> = tender_changes::table
        .filter(tender_changes::tender_id.eq(tender_id))
        .order(tender_changes::id)
        .select((
            tender_changes::id,
            tender_changes::made_at,
            tender_changes::summary,
            tender_changes::substantial,
            tender_changes::deadline_before,
            tender_changes::deadline_after,
        ))
        .load(conn)?;
    let documents: Vec<(Option<i32>, i32, String)> = tender_documents::table
        .filter(tender_documents::tender_id.eq(tender_id))
        .filter(tender_documents::change_id.is_not_null())
        .order(tender_documents::id)
        .select((
            tender_documents::change_id,
            tender_documents::id,
            tender_documents::name,
        ))
        .load(conn)?;
    let replaced: Vec<(String, Option<i32>)> = tender_documents::table
        .filter(tender_documents::tender_id.eq(tender_id))
        .filter(tender_documents::replaced_by.is_not_null())
        .select((tender_documents::name, tender_documents::replaced_by))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, made_at, summary, substantial, before, after)| ChangeView {
                id,
                made_at,
                summary,
                substantial,
                deadline_moved: (after != before).then_some((before, after)),
                documents: documents
                    .iter()
                    .filter(|(change, _, _)| *change == Some(id))
                    .map(|(_, doc, name)| (*doc, name.clone()))
                    .collect(),
                replaced: replaced
                    .iter()
                    .filter(|(_, by)| *by == Some(id))
                    .map(|(name, _)| name.clone())
                    .collect(),
            },
        )
        .collect())
}

/// A document sent with a change: its name and content.
pub type ChangeFile<'a> = (&'a str, &'a [u8]);

/// The coordinator's lead changes a published tender before its deadline: a description, and a
/// later deadline, a document added or replaced, or both. Returns how many companies are
/// written to.
pub fn change(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    tender_id: i32,
    form: &ChangeForm,
    file: Option<ChangeFile<'_>>,
) -> Result<usize, AppError> {
    let organisation_id = actor.require_lead()?;
    let mut problems = crate::error::Problems::default();
    let summary = form.summary.trim();
    if summary.is_empty() || summary.chars().count() > CHANGE_CHARS {
        problems.add(
            "description du changement",
            format!("dites ce qui change, de 1 à {CHANGE_CHARS} caractères"),
        );
    }
    let new_day = match form.deadline.trim() {
        "" => None,
        text => problems.check(
            "nouvelle date limite",
            crate::domain::parse_date(text).map_err(|e| e.0),
        ),
    };
    let replaces = match form.replaces.trim() {
        "" => None,
        text => problems.check(
            "document remplacé",
            text.parse::<i32>()
                .map_err(|_| "choisissez le document remplacé dans la liste".to_string()),
        ),
    };
    let explicit_kind = match form.kind.trim() {
        "" => None,
        k => problems.check(
            "nature du document",
            DOCUMENT_KINDS
                .iter()
                .find(|(code, _)| *code == k)
                .map(|(code, _)| *code)
                .ok_or_else(|| "choisissez une nature dans la liste".to_string()),
        ),
    };
    let checked_file = match file {
        Some((name, bytes)) => match documents::checked(name, bytes) {
            Ok((name, content_type)) => Some((name, content_type, bytes)),
            Err(AppError::Validation(found)) => {
                for problem in found.iter() {
                    problems.add("fichier", problem.message.clone());
                }
                None
            }
            Err(other) => return Err(other),
        },
        None => None,
    };
    if replaces.is_some() && file.is_none() {
        problems.add(
            "fichier",
            "joignez la nouvelle version du document remplacé",
        );
    }
    let new_deadline =
        new_day.map(|day| crate::domain::from_paris(day.and_hms_opt(12, 0, 0).unwrap_or_default()));
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if status != TenderStatus::Published.code() {
            return Err(AppError::Conflict(format!(
                "la consultation est « {} » : seule une consultation publiée, avant sa date \
                 limite, peut être modifiée",
                TenderStatus::parse(&status).map_or("inconnu", TenderStatus::label_fr)
            )));
        }
        let (reference, title, deadline): (String, String, Option<NaiveDateTime>) = tenders::table
            .find(tender_id)
            .select((tenders::reference, tenders::title, tenders::deadline))
            .first(conn)?;
        let deadline =
            deadline.ok_or_else(|| AppError::internal(format!("{reference} has no deadline")))?;
        let now = Utc::now().naive_utc();
        if now >= deadline {
            return Err(AppError::Conflict(format!(
                "la date limite du {} est passée : la consultation ne se modifie plus",
                paris_text(deadline)
            )));
        }
        // What the form says and what the tender allows, said together.
        let mut problems = std::mem::take(&mut problems);
        if let Some(new) = new_deadline {
            if new <= deadline {
                problems.add(
                    "nouvelle date limite",
                    format!(
                        "la date limite ne peut qu'être reportée : elle est le {}, choisissez un \
                         jour après",
                        paris_text(deadline)
                    ),
                );
            }
        }
        let after = new_deadline.unwrap_or(deadline).max(deadline);
        if form.substantial {
            let in_force = crate::services::settings::today(conn)?;
            let min_days = minimum_days(conn, tender_id, &in_force)?;
            let earliest = now + Duration::days(i64::from(min_days));
            if after < earliest {
                problems.add(
                    "nouvelle date limite",
                    format!(
                        "un changement substantiel rouvre le délai minimal de la procédure \
                         ({min_days} jours à compter du changement) : reportez la date limite au \
                         {} au plus tôt",
                        (crate::domain::to_paris(earliest).0 + Duration::days(1))
                            .format("%d/%m/%Y")
                    ),
                );
            }
        }
        // The document replaced: one of the file as it stands.
        let replaced: Option<(i32, String, String)> = match replaces {
            Some(id) => {
                let found = tender_documents::table
                    .filter(tender_documents::id.eq(id))
                    .filter(tender_documents::tender_id.eq(tender_id))
                    .filter(tender_documents::replaced_at.is_null())
                    .select((
                        tender_documents::id,
                        tender_documents::name,
                        tender_documents::kind,
                    ))
                    .first(conn)
                    .optional()?;
                if found.is_none() {
                    problems.add(
                        "document remplacé",
                        "ce document n'est pas (ou plus) dans le dossier de la consultation",
                    );
                }
                found
            }
            None => None,
        };
        problems.finish()?;
        let change_id: i32 = diesel::insert_into(tender_changes::table)
            .values((
                tender_changes::tender_id.eq(tender_id),
                tender_changes::summary.eq(summary),
                tender_changes::substantial.eq(form.substantial),
                tender_changes::deadline_before.eq(deadline),
                tender_changes::deadline_after.eq(after),
                tender_changes::made_by.eq(actor.user_id),
                tender_changes::made_at.eq(now),
            ))
            .returning(tender_changes::id)
            .get_result(conn)?;
        let mut added = None;
        if let Some((name, content_type, bytes)) = &checked_file {
            let kind = explicit_kind
                .or_else(|| {
                    replaced.as_ref().and_then(|(_, _, k)| {
                        DOCUMENT_KINDS
                            .iter()
                            .find(|(code, _)| code == k)
                            .map(|(code, _)| *code)
                    })
                })
                .unwrap_or_else(|| kind_from_name(name));
            if let Some((old, _, _)) = &replaced {
                diesel::update(tender_documents::table.find(old))
                    .set((
                        tender_documents::replaced_at.eq(now),
                        tender_documents::replaced_by.eq(change_id),
                    ))
                    .execute(conn)?;
            }
            diesel::insert_into(tender_documents::table)
                .values((
                    tender_documents::tender_id.eq(tender_id),
                    tender_documents::name.eq(name),
                    tender_documents::content_type.eq(content_type),
                    tender_documents::size_bytes.eq(bytes.len() as i64),
                    tender_documents::content.eq(*bytes),
                    tender_documents::uploaded_by.eq(actor.user_id),
                    tender_documents::uploaded_at.eq(now),
                    tender_documents::kind.eq(kind),
                    tender_documents::change_id.eq(change_id),
                ))
                .execute(conn)?;
            added = Some(name.to_string());
        }
        // A replacement may not leave the file without its required pieces.
        let missing = missing_documents(conn, tender_id)?;
        if !missing.is_empty() {
            return Err(AppError::validation(
                "nature du document",
                missing_text(&missing),
            ));
        }
        if after != deadline {
            diesel::update(tenders::table.find(tender_id))
                .set(tenders::deadline.eq(after))
                .execute(conn)?;
        }
        // The change notice of a tender announced in the Official Journal, with the change.
        crate::services::notices::record_change_notice(
            conn,
            tender_id,
            change_id,
            summary,
            added.is_some(),
            base_url,
            now,
        )?;
        let written = tell_companies(
            conn,
            base_url,
            (tender_id, change_id, &reference, &title),
            summary,
            (deadline, after),
            added.as_deref(),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.changed", "tender", tender_id).after(format!(
                "{reference} : rectificatif n° {change_id}{}{}{}{} ; {written} entreprise(s) prévenue(s)",
                if form.substantial { " (substantiel)" } else { "" },
                match after != deadline {
                    true => format!(", date limite reportée du {} au {}", paris_text(deadline), paris_text(after)),
                    false => String::new(),
                },
                added.as_ref().map_or(String::new(), |n| format!(", document « {n} »")),
                replaced
                    .as_ref()
                    .map_or(String::new(), |(_, n, _)| format!(" remplaçant « {n} »")),
            )),
        )?;
        Ok(written)
    })
}

/// The companies concerned by a tender: those that downloaded its file signed in, asked a
/// question or bid (a withdrawn bid included: it may be made again).
fn concerned_companies(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> QueryResult<(Vec<i32>, Vec<i32>)> {
    let bidders: Vec<i32> = bids::table
        .inner_join(lots::table)
        .filter(lots::tender_id.eq(tender_id))
        .select(bids::supplier_id)
        .load(conn)?;
    let mut companies: Vec<i32> = questions::table
        .filter(questions::tender_id.eq(tender_id))
        .select(questions::supplier_id)
        .load(conn)?;
    companies.extend(
        document_downloads::table
            .filter(document_downloads::tender_id.eq(tender_id))
            .select(document_downloads::supplier_id)
            .load::<Option<i32>>(conn)?
            .into_iter()
            .flatten(),
    );
    companies.extend(&bidders);
    companies.sort_unstable();
    companies.dedup();
    Ok((companies, bidders))
}

/// One e-mail of `template` to each company concerned by the tender ([`concerned_companies`]),
/// its data made by `data` from the company's id, language and whether it bid; the idempotency
/// key is `key:<company>`. Returns how many were written.
pub(super) fn write_to_concerned(
    conn: &mut AnyConnection,
    tender_id: i32,
    (template, key): (&str, &str),
    data: impl Fn(i32, &str, bool) -> serde_json::Value,
) -> Result<usize, AppError> {
    let (companies, bidders) = concerned_companies(conn, tender_id)?;
    let recipients: Vec<(i32, String, String)> = suppliers::table
        .filter(suppliers::id.eq_any(&companies))
        .select((
            suppliers::id,
            suppliers::notification_email,
            suppliers::locale,
        ))
        .load(conn)?;
    let mut written = 0;
    for (supplier_id, email, locale) in &recipients {
        let data = data(*supplier_id, locale, bidders.contains(supplier_id));
        if mail::enqueue(
            conn,
            email,
            template,
            &data,
            &format!("{key}:{supplier_id}"),
        )? {
            written += 1;
        }
    }
    Ok(written)
}

/// One e-mail per company concerned, in its language; bidders are told their bids stay.
fn tell_companies(
    conn: &mut AnyConnection,
    base_url: &str,
    (tender_id, change_id, reference, title): (i32, i32, &str, &str),
    summary: &str,
    (before, after): (NaiveDateTime, NaiveDateTime),
    document: Option<&str>,
) -> Result<usize, AppError> {
    write_to_concerned(
        conn,
        tender_id,
        ("tender_changed", &format!("change:{change_id}")),
        |_, locale, bidder| {
            let language = Locale::of(locale);
            json!({
                "locale": locale,
                "reference": reference,
                "title": title,
                "summary": summary,
                "document": document,
                "moved": after != before,
                "before": language.moment(before),
                "deadline": language.moment(after),
                "bidder": bidder,
                "link": format!("{base_url}/appels-d-offres/{reference}#changements"),
            })
        },
    )
}
