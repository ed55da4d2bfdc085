//! Backup copies (R2132-11 of the Code de la commande publique). Beside its electronic bid a
//! company may send a backup copy — on paper or on a physical electronic medium — which must
//! arrive before the deadline. It declares the sending on the platform; the coordinator's lead
//! records the receipt; and the copy is opened only in the cases the code allows, after the
//! bids' opening: a malicious program found in the electronic bid, an electronic bid that did
//! not arrive in time, or one that could not be opened. Otherwise it is destroyed unopened.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::{backup_copies, bids};
use crate::domain::{paris_text, BidStatus};

/// The media a backup copy may be on.
pub const MEDIA: [(&str, &str); 2] = [
    ("papier", "sur papier"),
    (
        "electronique",
        "sur support physique électronique (clé USB, disque)",
    ),
];

/// The cases in which the code allows a backup copy to be opened.
pub const OPEN_REASONS: [(&str, &str); 3] = [
    (
        "virus",
        "un programme malveillant a été détecté dans l'offre électronique",
    ),
    (
        "non_parvenue",
        "l'offre électronique n'est pas parvenue dans les délais",
    ),
    ("illisible", "l'offre électronique n'a pas pu être ouverte"),
];

/// The French words of a medium.
pub fn medium_label(medium: &str) -> &'static str {
    MEDIA
        .iter()
        .find(|(code, _)| *code == medium)
        .map_or("sur un support", |(_, label)| label)
}

/// The French words of a reason to open.
pub fn reason_label(reason: &str) -> &'static str {
    OPEN_REASONS
        .iter()
        .find(|(code, _)| *code == reason)
        .map_or("motif inconnu", |(_, label)| label)
}

/// A backup copy as its company and the coordinator's lead see it.
#[derive(Debug, Clone, Serialize)]
pub struct BackupCopy {
    pub id: i32,
    pub company: String,
    pub medium: String,
    pub declared_at: NaiveDateTime,
    pub received_at: Option<NaiveDateTime>,
    /// Received after the deadline: it can never be opened.
    pub late: bool,
    pub opened_at: Option<NaiveDateTime>,
    pub open_reason: Option<String>,
}

fn copies(
    conn: &mut AnyConnection,
    tender_id: i32,
    supplier_id: Option<i32>,
) -> Result<Vec<BackupCopy>, AppError> {
    let deadline: Option<NaiveDateTime> = tenders::table
        .find(tender_id)
        .select(tenders::deadline)
        .first(conn)?;
    let mut query = backup_copies::table
        .inner_join(suppliers::table)
        .filter(backup_copies::tender_id.eq(tender_id))
        .into_boxed();
    if let Some(supplier_id) = supplier_id {
        query = query.filter(backup_copies::supplier_id.eq(supplier_id));
    }
    type Row = (
        i32,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let rows: Vec<Row> = query
        .order(backup_copies::id)
        .select((
            backup_copies::id,
            suppliers::name,
            backup_copies::medium,
            backup_copies::declared_at,
            backup_copies::received_at,
            backup_copies::opened_at,
            backup_copies::open_reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, company, medium, declared_at, received_at, opened_at, open_reason)| BackupCopy {
                id,
                company,
                medium,
                declared_at,
                late: matches!((received_at, deadline), (Some(r), Some(d)) if r > d),
                received_at,
                opened_at,
                open_reason,
            },
        )
        .collect())
}

/// The backup copies of a tender, for its coordinator's lead (the caller checks who asks).
pub fn backups_of(conn: &mut AnyConnection, tender_id: i32) -> Result<Vec<BackupCopy>, AppError> {
    copies(conn, tender_id, None)
}

/// A company's backup copy on a tender, if it declared one.
pub fn own_backup(
    conn: &mut AnyConnection,
    tender_id: i32,
    supplier_id: i32,
) -> Result<Option<BackupCopy>, AppError> {
    Ok(copies(conn, tender_id, Some(supplier_id))?.pop())
}

/// A company declares, before the deadline, that it sent a backup copy of its bid on this
/// medium (once; the journal records it).
pub fn declare_backup(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    medium: &str,
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let medium = MEDIA
        .iter()
        .find(|(code, _)| *code == medium.trim())
        .map(|(code, _)| *code)
        .ok_or_else(|| {
            AppError::validation(
                "support de la copie",
                "choisissez le papier ou un support électronique",
            )
        })?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (tender_id, deadline): (i32, Option<NaiveDateTime>) = tenders::table
            .filter(tenders::reference.eq(reference))
            .filter(tenders::status.eq(TenderStatus::Published))
            .select((tenders::id, tenders::deadline))
            .first(conn)?;
        let now = Utc::now().naive_utc();
        if deadline.is_none_or(|d| now >= d) {
            return Err(AppError::Conflict(
                "la date limite est passée : une copie de sauvegarde ne se déclare plus".into(),
            ));
        }
        if own_backup(conn, tender_id, supplier_id)?.is_some() {
            return Err(AppError::Conflict(
                "vous avez déjà déclaré une copie de sauvegarde pour cette consultation".into(),
            ));
        }
        diesel::insert_into(backup_copies::table)
            .values((
                backup_copies::tender_id.eq(tender_id),
                backup_copies::supplier_id.eq(supplier_id),
                backup_copies::medium.eq(medium),
                backup_copies::declared_at.eq(now),
                backup_copies::declared_by.eq(actor.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.backup_declared", "tender", tender_id)
                .after(format!("copie de sauvegarde {}", medium_label(medium))),
        )?;
        Ok(())
    })
}

/// The coordinator's lead records that a declared backup copy arrived (`received`: `JJ/MM/AAAA
/// HH:MM`, Paris time, or empty for now; never in the future). A copy received after the
/// deadline is recorded as such and can never be opened.
pub fn record_backup(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    copy_id: i32,
    received: &str,
) -> Result<(), AppError> {
    let organisation_id = actor.require_lead()?;
    let now = Utc::now().naive_utc();
    let at = match received.trim() {
        "" => now,
        text => {
            let local = chrono::NaiveDateTime::parse_from_str(text, "%d/%m/%Y %H:%M")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
                .map_err(|_| {
                    AppError::validation(
                        "reçue le",
                        format!("« {text} » : écrivez la date et l'heure ainsi : 14/01/2027 09:30"),
                    )
                })?;
            crate::domain::from_paris(local)
        }
    };
    if at > now {
        return Err(AppError::validation(
            "reçue le",
            "la réception ne peut pas être dans le futur",
        ));
    }
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        coordinated_status(conn, organisation_id, tender_id)?;
        let changed = diesel::update(
            backup_copies::table
                .filter(backup_copies::id.eq(copy_id))
                .filter(backup_copies::tender_id.eq(tender_id))
                .filter(backup_copies::received_at.is_null()),
        )
        .set((
            backup_copies::received_at.eq(at),
            backup_copies::recorded_by.eq(actor.user_id),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "cette copie de sauvegarde n'existe pas ou sa réception est déjà enregistrée"
                    .into(),
            ));
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.backup_received", "tender", tender_id).after(format!(
                "copie de sauvegarde n° {copy_id} reçue le {}",
                paris_text(at)
            )),
        )?;
        Ok(())
    })
}

/// The coordinator's lead opens a backup copy, after the bids' opening, for one of the reasons
/// the code allows — checked against what the platform knows: a copy that arrived in time; for
/// a bid that did not arrive, no bid of that company in time; for a virus or an unreadable
/// bid, a bid of that company in time.
pub fn open_backup(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    copy_id: i32,
    reason: &str,
) -> Result<(), AppError> {
    let organisation_id = actor.require_lead()?;
    let reason = OPEN_REASONS
        .iter()
        .find(|(code, _)| *code == reason.trim())
        .map(|(code, _)| *code)
        .ok_or_else(|| {
            AppError::validation(
                "motif d'ouverture",
                "choisissez l'un des cas prévus à l'article R2132-11",
            )
        })?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        coordinated_status(conn, organisation_id, tender_id)?;
        let opened_at: Option<NaiveDateTime> = tenders::table
            .find(tender_id)
            .select(tenders::opened_at)
            .first(conn)?;
        if opened_at.is_none() {
            return Err(AppError::Conflict(
                "ouvrez d'abord les offres électroniques : une copie de sauvegarde ne s'ouvre qu'ensuite".into(),
            ));
        }
        let copy = backups_of(conn, tender_id)?
            .into_iter()
            .find(|c| c.id == copy_id)
            .ok_or(AppError::NotFound)?;
        if copy.opened_at.is_some() {
            return Err(AppError::Conflict("cette copie est déjà ouverte".into()));
        }
        if copy.received_at.is_none() {
            return Err(AppError::Conflict(
                "enregistrez d'abord la réception de la copie".into(),
            ));
        }
        if copy.late {
            return Err(AppError::Conflict(
                "cette copie est arrivée après la date limite : elle ne peut pas être ouverte"
                    .into(),
            ));
        }
        let supplier_id: i32 = backup_copies::table
            .find(copy_id)
            .select(backup_copies::supplier_id)
            .first(conn)?;
        let in_time: i64 = bids::table
            .inner_join(lots::table)
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::supplier_id.eq(supplier_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .count()
            .get_result(conn)?;
        match (reason, in_time > 0) {
            ("non_parvenue", true) => {
                return Err(AppError::Conflict(format!(
                "{} a remis son offre électronique dans les délais : ce motif ne s'applique pas",
                copy.company
            )))
            }
            ("virus" | "illisible", false) => {
                return Err(AppError::Conflict(format!(
                    "{} n'a pas d'offre électronique reçue dans les délais : choisissez « {} »",
                    copy.company,
                    reason_label("non_parvenue")
                )))
            }
            _ => {}
        }
        let now = Utc::now().naive_utc();
        diesel::update(backup_copies::table.find(copy_id))
            .set((
                backup_copies::opened_at.eq(now),
                backup_copies::opened_by.eq(actor.user_id),
                backup_copies::open_reason.eq(reason),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.backup_opened", "tender", tender_id).after(format!(
                "copie de sauvegarde de {} ouverte : {}",
                copy.company,
                reason_label(reason)
            )),
        )?;
        Ok(())
    })
}
