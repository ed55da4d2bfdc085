//! Sealed bids. A supplier submits, revises and withdraws one bid per lot (one price, no
//! bundle) until the deadline, and gets a timestamped receipt (page and e-mail). Before the
//! deadline nobody else — not the lead, not the admin, not the API — reads amounts or
//! contents: the only function that returns other suppliers' bids, [`sealed_bids`], refuses
//! until the deadline has passed, whoever asks. At the deadline the tender closes and bids
//! freeze. Every deposit gets a receipt signed by the platform ([`receipts`]); a bid sent after
//! the deadline is kept as late, with its receipt, and never opened.
//!
//! On a tender sealed at publication (#23) the form, the documents and the DUME are encrypted
//! to the tender's key as they arrive ([`crate::services::seal`]): the clear columns hold
//! placeholders (1 cent, empty texts) until the members open them together
//! ([`crate::services::awards::open`]), which writes the clear values back. Nobody, the
//! platform included, can read them before; the company itself sees its receipt, not its bid.

use crate::auth::Actor;
use crate::db::models::NewBid;
use crate::db::schema::{bid_documents, bids, lots, suppliers, tenders};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{paris_text, BidStatus, Cents, Locale, TenderStatus};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Change};
use crate::services::documents;
use crate::services::receipts;
use crate::services::seal;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Concurrent writes of one supplier's bids queue on its row on PostgreSQL, inside the caller's
/// transaction (SQLite runs write transactions one at a time already).
fn queue_for_supplier(conn: &mut AnyConnection, supplier_id: i32) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        suppliers::table
            .find(supplier_id)
            .select(suppliers::id)
            .for_update()
            .first::<i32>(pg)?;
    }
    Ok(())
}

/// A company bids through a confirmed address: the receipts, questions and results of a bid
/// must reach someone.
fn require_verified(conn: &mut AnyConnection, actor: &Actor) -> Result<(), AppError> {
    let verified: Option<NaiveDateTime> = crate::db::schema::users::table
        .find(actor.user_id)
        .select(crate::db::schema::users::email_verified_at)
        .first(conn)?;
    match verified {
        Some(_) => Ok(()),
        None => Err(AppError::Conflict(format!(
            "confirmez d'abord votre adresse e-mail ({}) : ouvrez le lien reçu à l'inscription, \
             ou demandez-en un nouveau sur « Mon compte »",
            actor.email
        ))),
    }
}

/// A published tender open to bids: its id and deadline; "not found" for any other.
fn open_tender(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<(i32, String, NaiveDateTime), AppError> {
    let (id, title, deadline): (i32, String, Option<NaiveDateTime>) = tenders::table
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select((tenders::id, tenders::title, tenders::deadline))
        .first(conn)?;
    let deadline =
        deadline.ok_or_else(|| AppError::internal(format!("{reference} has no deadline")))?;
    Ok((id, title, deadline))
}

fn past_deadline(deadline: NaiveDateTime) -> AppError {
    AppError::Conflict(format!(
        "la date limite de remise des offres était le {} : plus aucune offre ne peut être remise, modifiée ni retirée",
        paris_text(deadline)
    ))
}

/// A lot of a tender still open to bids, with the tender's title and deadline and the moment
/// it was checked.
struct OpenLot {
    tender_id: i32,
    lot_id: i32,
    title: String,
    deadline: NaiveDateTime,
    now: NaiveDateTime,
}

/// The lot `lot_number` of a published tender, and whether its deadline has passed (one
/// second late is late).
fn lot_of(
    conn: &mut AnyConnection,
    reference: &str,
    lot_number: i32,
) -> Result<(OpenLot, bool), AppError> {
    let (tender_id, title, deadline) = open_tender(conn, reference)?;
    let now = Utc::now().naive_utc();
    let lot_id: i32 = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .filter(lots::number.eq(lot_number))
        .select(lots::id)
        .first(conn)?;
    Ok((
        OpenLot {
            tender_id,
            lot_id,
            title,
            deadline,
            now,
        },
        now >= deadline,
    ))
}

/// The lot `lot_number` of a published tender whose deadline has not passed; the deadline
/// refusal otherwise.
fn lot_open_to_bids(
    conn: &mut AnyConnection,
    reference: &str,
    lot_number: i32,
) -> Result<OpenLot, AppError> {
    match lot_of(conn, reference, lot_number)? {
        (lot, false) => Ok(lot),
        (lot, true) => Err(past_deadline(lot.deadline)),
    }
}

/// The supplier's own bid on a lot.
#[derive(Debug, Clone, Serialize)]
pub struct OwnBid {
    pub id: i32,
    /// The number its receipts show (random: the id is a counter over the whole platform).
    pub receipt: String,
    pub price_cents: i64,
    pub technical_memo: String,
    pub environment_data: String,
    pub status: BidStatus,
    pub updated_at: NaiveDateTime,
    pub documents: Vec<BidDocument>,
    /// Encrypted to the tender's key: its price and texts are unreadable until the opening
    /// (the fields above are then placeholders, never shown).
    pub sealed: bool,
    /// Its group of companies (#24), when it has one.
    pub group: Option<crate::services::groups::Group>,
    /// The group as the form shows it again.
    #[serde(skip)]
    pub group_form: Option<crate::services::groups::GroupForm>,
}

/// A document of a bid, as listed (its content is read on its own).
#[derive(Debug, Clone, Serialize)]
pub struct BidDocument {
    pub id: i32,
    pub name: String,
    pub size_bytes: i64,
    /// `sealed` until the opening, `tampered` when its ciphertext no longer matched its
    /// receipt; none on a tender published before sealing.
    pub seal_state: Option<String>,
}

/// Most documents a bid may carry.
pub const MAX_DOCUMENTS_PER_BID: usize = 10;

fn documents_of(conn: &mut AnyConnection, bid_ids: &[i32]) -> QueryResult<Vec<(i32, BidDocument)>> {
    Ok(bid_documents::table
        .filter(bid_documents::bid_id.eq_any(bid_ids))
        .order(bid_documents::id)
        .select((
            bid_documents::bid_id,
            bid_documents::id,
            bid_documents::name,
            bid_documents::size_bytes,
            bid_documents::seal_state,
        ))
        .load::<(i32, i32, String, i64, Option<String>)>(conn)?
        .into_iter()
        .map(|(bid, id, name, size_bytes, seal_state)| {
            (
                bid,
                BidDocument {
                    id,
                    name,
                    size_bytes,
                    seal_state,
                },
            )
        })
        .collect())
}

#[derive(Debug, Serialize)]
pub struct LotForSupplier {
    pub number: i32,
    pub title: String,
    pub value_cents: i64,
    pub bid: Option<OwnBid>,
}

#[derive(Debug, Serialize)]
pub struct BidPage {
    pub reference: String,
    pub title: String,
    pub deadline: NaiveDateTime,
    pub open: bool,
    /// Whether the person's address is confirmed (needed to bid).
    pub verified: bool,
    pub lots: Vec<LotForSupplier>,
    /// The company's signed receipts on this tender, newest first.
    pub receipts: Vec<receipts::ReceiptLine>,
    /// The backup copy it declared, if any.
    pub backup: Option<crate::services::tenders::BackupCopy>,
    /// Its DUME, if it gave one.
    pub dume: Option<crate::services::espd::StoredDume>,
    /// The group bids of other companies that name it as co-contractor (#24).
    pub invitations: Vec<crate::services::groups::Invitation>,
}

/// The lots of a published tender with the supplier's own bids (never anyone else's).
pub fn page(pool: &Pool, actor: &Actor, reference: &str) -> Result<BidPage, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let (tender_id, title, deadline) = open_tender(&mut conn, reference)?;
    let rows: Vec<(i32, i32, String, i64)> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select((lots::id, lots::number, lots::title, lots::value_cents))
        .load(&mut conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (lot_id, number, lot_title, value_cents) in rows {
        let bid = own_bid(&mut conn, lot_id, supplier_id)?;
        out.push(LotForSupplier {
            number,
            title: lot_title,
            value_cents,
            bid,
        });
    }
    Ok(BidPage {
        reference: reference.to_string(),
        title,
        deadline,
        open: Utc::now().naive_utc() < deadline,
        verified: match require_verified(&mut conn, actor) {
            Ok(()) => true,
            Err(AppError::Conflict(_)) => false,
            Err(other) => return Err(other),
        },
        lots: out,
        receipts: receipts::of_company(&mut conn, supplier_id, tender_id)?,
        backup: crate::services::tenders::own_backup(&mut conn, tender_id, supplier_id)?,
        dume: crate::services::espd::own(&mut conn, tender_id, supplier_id)?,
        invitations: crate::services::groups::invitations(&mut conn, tender_id, supplier_id)?,
    })
}

fn own_bid(conn: &mut AnyConnection, lot_id: i32, supplier_id: i32) -> QueryResult<Option<OwnBid>> {
    let Some(mut bid) = bids::table
        .filter(bids::lot_id.eq(lot_id))
        .filter(bids::supplier_id.eq(supplier_id))
        .select((
            bids::id,
            bids::receipt,
            bids::price_cents,
            bids::technical_memo,
            bids::environment_data,
            bids::status,
            bids::updated_at,
            bids::seal_state,
        ))
        .first::<(
            i32,
            String,
            i64,
            String,
            String,
            BidStatus,
            NaiveDateTime,
            Option<String>,
        )>(conn)
        .optional()?
        .map(
            |(
                id,
                receipt,
                price_cents,
                technical_memo,
                environment_data,
                status,
                updated_at,
                seal_state,
            )| {
                OwnBid {
                    id,
                    receipt,
                    price_cents,
                    technical_memo,
                    environment_data,
                    status,
                    updated_at,
                    documents: Vec::new(),
                    sealed: seal_state.as_deref() == Some("sealed"),
                    group: None,
                    group_form: None,
                }
            },
        )
    else {
        return Ok(None);
    };
    bid.documents = documents_of(conn, &[bid.id])?
        .into_iter()
        .map(|(_, document)| document)
        .collect();
    bid.group = crate::services::groups::of_bids(conn, &[bid.id])?.remove(&bid.id);
    bid.group_form = bid.group.as_ref().map(|g| {
        let pair = |k: usize| {
            g.members
                .get(k)
                .map(|m| (m.siret.clone(), m.share_pct.to_string()))
                .unwrap_or_default()
        };
        let ((s1, p1), (s2, p2), (s3, p3)) = (pair(0), pair(1), pair(2));
        crate::services::groups::GroupForm {
            group_kind: g.kind_fr().to_string(),
            co_siret_1: s1,
            co_share_1: p1,
            co_siret_2: s2,
            co_share_2: p2,
            co_siret_3: s3,
            co_share_3: p3,
        }
    });
    Ok(Some(bid))
}

/// The supplier's submitted bid on a lot of a tender still open to bids, with the lot;
/// a clear refusal after the deadline or without a bid.
fn open_own_bid(
    conn: &mut AnyConnection,
    supplier_id: i32,
    reference: &str,
    lot_number: i32,
) -> Result<(OwnBid, OpenLot), AppError> {
    let lot = lot_open_to_bids(conn, reference, lot_number)?;
    match own_bid(conn, lot.lot_id, supplier_id)? {
        Some(bid) if bid.status == BidStatus::Submitted => Ok((bid, lot)),
        _ => Err(AppError::Conflict(format!(
            "remettez d'abord une offre sur le lot {lot_number} : les documents s'y rattachent"
        ))),
    }
}

/// Attaches a document to the supplier's bid on a lot before the deadline (checked by
/// [`documents::checked`], at most [`MAX_DOCUMENTS_PER_BID`]). The audit log records that a
/// document was added, never its name.
pub fn add_document(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    lot_number: i32,
    file_name: &str,
    bytes: &[u8],
) -> Result<i32, AppError> {
    let supplier_id = actor.require_supplier()?;
    let (name, content_type) = checked_document(file_name, bytes)?;
    let mut conn = pool.get()?;
    require_verified(&mut conn, actor)?;
    write_transaction(&mut conn, |conn| {
        // Documents sent at once are counted one after the other.
        queue_for_supplier(conn, supplier_id)?;
        let (bid, lot) = open_own_bid(conn, supplier_id, reference, lot_number)?;
        let lot_id = lot.lot_id;
        if bid.documents.len() >= MAX_DOCUMENTS_PER_BID {
            return Err(AppError::Conflict(format!(
                "une offre porte au plus {MAX_DOCUMENTS_PER_BID} documents : retirez-en un, ou \
                 réunissez-les dans une archive zip"
            )));
        }
        // Encrypted to the tender's key as it arrives (kept as sent when the company encrypted
        // it itself); in clear only on a tender published before sealing.
        let key = crate::services::tenders::recipient_of(conn, lot.tender_id)?;
        let (content, sealed_sha256, seal_state) = match &key {
            Some(_) if seal::is_sealed(bytes) => (
                bytes.to_vec(),
                Some(receipts::sha256_hex(bytes)),
                Some("sealed"),
            ),
            Some(key) => {
                let sealed =
                    seal::encrypt(std::slice::from_ref(key), bytes).map_err(AppError::internal)?;
                let digest = receipts::sha256_hex(&sealed);
                (sealed, Some(digest), Some("sealed"))
            }
            None if seal::is_sealed(bytes) => {
                return Err(AppError::validation(
                    "fichier",
                    "cette consultation a été publiée avant le chiffrement des offres : \
                     déposez le document lui-même, non chiffré",
                ))
            }
            None => (bytes.to_vec(), None, None),
        };
        let id: i32 = diesel::insert_into(bid_documents::table)
            .values((
                bid_documents::bid_id.eq(bid.id),
                bid_documents::name.eq(name),
                bid_documents::content_type.eq(content_type),
                bid_documents::size_bytes.eq(bytes.len() as i64),
                bid_documents::content.eq(content),
                bid_documents::sha256.eq(receipts::sha256_hex(bytes)),
                bid_documents::sealed_sha256.eq(sealed_sha256),
                bid_documents::seal_state.eq(seal_state),
            ))
            .returning(bid_documents::id)
            .get_result(conn)?;
        sign_deposit(
            conn,
            supplier_id,
            (lot.tender_id, reference, lot_number),
            bid.id,
            "document_ajoute",
            lot.now,
            lot.deadline,
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("bid.document_added", "lot", lot_id)
                .after(format!("offre n° {}, document n° {id}", bid.id)),
        )?;
        Ok(id)
    })
}

/// Removes a document from the supplier's bid before the deadline.
pub fn remove_document(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    lot_number: i32,
    document_id: i32,
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (bid, lot) = open_own_bid(conn, supplier_id, reference, lot_number)?;
        let lot_id = lot.lot_id;
        let removed = diesel::delete(
            bid_documents::table
                .filter(bid_documents::id.eq(document_id))
                .filter(bid_documents::bid_id.eq(bid.id)),
        )
        .execute(conn)?;
        if removed == 0 {
            return Err(AppError::NotFound);
        }
        sign_deposit(
            conn,
            supplier_id,
            (lot.tender_id, reference, lot_number),
            bid.id,
            "document_retire",
            lot.now,
            lot.deadline,
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("bid.document_removed", "lot", lot_id).after(format!(
                "offre n° {}, document n° {document_id} retiré",
                bid.id
            )),
        )?;
        Ok(())
    })
}

/// A document, read: name, media type, content.
pub type DocumentContent = (String, String, Vec<u8>);

/// One of the supplier's own bid documents, whenever it asks: nobody else's.
pub fn own_document(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    document_id: i32,
) -> Result<DocumentContent, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let (name, content_type, content, seal_state): (String, String, Vec<u8>, Option<String>) =
        bid_documents::table
            .inner_join(bids::table.inner_join(lots::table.inner_join(tenders::table)))
            .filter(bid_documents::id.eq(document_id))
            .filter(bids::supplier_id.eq(supplier_id))
            .filter(tenders::reference.eq(reference))
            .select((
                bid_documents::name,
                bid_documents::content_type,
                bid_documents::content,
                bid_documents::seal_state,
            ))
            .first(&mut conn)?;
    if seal_state.as_deref() == Some("sealed") {
        return Err(AppError::Conflict(
            "ce document est chiffré jusqu'à l'ouverture des plis : personne, pas même la \
             plateforme, ne peut le relire d'ici là ; son empreinte figure sur votre accusé de \
             réception"
                .into(),
        ));
    }
    Ok((name, content_type, content))
}

/// A bid document's name and media type: a known format whose content is what its name says,
/// or a file the company encrypted itself to the tender's key (`memoire.pdf.age`), checked at
/// the opening.
pub fn checked_document<'a>(
    file_name: &'a str,
    bytes: &[u8],
) -> Result<(&'a str, &'static str), AppError> {
    let name = file_name.trim();
    if seal::is_sealed(bytes) {
        let Some(inner) = name.strip_suffix(".age") else {
            return Err(AppError::validation(
                "fichier",
                format!("« {name} » est chiffré : son nom finit par .age (memoire.pdf.age)"),
            ));
        };
        // The name inside says the format; the content is checked once opened.
        let extension = inner.rsplit_once('.').map(|(_, e)| e.to_lowercase());
        if !documents::FORMATS
            .iter()
            .any(|(e, _, _)| Some(*e) == extension.as_deref())
        {
            return Err(AppError::validation(
                "fichier",
                format!(
                    "« {name} » : chiffrez un fichier de format accepté ({})",
                    documents::accepted()
                ),
            ));
        }
        if bytes.len() > documents::MAX_BYTES + (1 << 20) {
            return Err(AppError::validation(
                "fichier",
                format!("« {name} » dépasse {} Mo", documents::MAX_BYTES >> 20),
            ));
        }
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(AppError::validation(
                "fichier",
                "un nom de fichier de 200 caractères au plus",
            ));
        }
        return Ok((name, "application/age"));
    }
    documents::checked(file_name, bytes)
}

/// The bid form: one price for the lot, and what the criteria need.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct BidForm {
    #[serde(default)]
    pub price_eur: String,
    #[serde(default)]
    pub technical_memo: String,
    #[serde(default)]
    pub environment_data: String,
    /// A bid by a group of companies (#24): its kind and co-contractors; empty, alone.
    #[serde(flatten)]
    pub group: crate::services::groups::GroupForm,
}

/// A bid's form checked (the practice deposit's too): its price, positive, returned; the memo
/// and the environmental data at most 20,000 characters; each problem added by its field.
pub fn check_form(problems: &mut crate::error::Problems, form: &BidForm) -> Option<Cents> {
    let price = problems.check(
        "prix",
        Cents::parse_euros(&form.price_eur)
            .map_err(|e| e.0)
            .and_then(|c| match c.get() > 0 {
                true => Ok(c),
                false => Err("le prix doit être positif".to_string()),
            }),
    );
    if form.technical_memo.trim().chars().count() > 20_000 {
        problems.add("mémoire technique", "au plus 20 000 caractères");
    }
    if form.environment_data.trim().chars().count() > 20_000 {
        problems.add("données environnementales", "au plus 20 000 caractères");
    }
    price
}

/// What the supplier keeps of a bid: number and time.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub bid_id: i32,
    /// The number shown to the supplier ([`receipt_number`]).
    pub number: String,
    pub lot: i32,
    pub at: NaiveDateTime,
    pub revised: bool,
    /// Received after the deadline: kept, never opened.
    pub late: bool,
    /// The signed receipt's id (`/offres/accuses/{id}`).
    pub signed: i32,
}

/// The tenders whose bids are still sealed (published, not yet opened): their references and
/// the ids of their lots. Until the opening, no page but the supplier's own shows that a bid
/// exists on them — not the admin's journal, not the outbox.
pub fn sealed_tenders(conn: &mut AnyConnection) -> QueryResult<(Vec<String>, Vec<i32>)> {
    let rows: Vec<(String, Option<i32>)> = tenders::table
        .left_join(lots::table)
        .filter(tenders::status.eq_any([TenderStatus::Published, TenderStatus::Closed]))
        .filter(tenders::opened_at.is_null())
        .select((tenders::reference, lots::id.nullable()))
        .load(conn)?;
    let mut references: Vec<String> = rows.iter().map(|(r, _)| r.clone()).collect();
    references.dedup();
    Ok((
        references,
        rows.into_iter().filter_map(|(_, lot)| lot).collect(),
    ))
}

/// The signed receipt of a deposit on a bid as it now stands (its form and documents; none
/// after a withdrawal), in the caller's transaction. Returns the receipt's id.
#[allow(clippy::too_many_arguments)]
fn sign_deposit(
    conn: &mut AnyConnection,
    supplier_id: i32,
    (tender_id, reference, lot_number): (i32, &str, i32),
    bid_id: i32,
    event: &str,
    now: NaiveDateTime,
    deadline: NaiveDateTime,
) -> Result<i32, AppError> {
    #[allow(clippy::type_complexity)]
    let (number, status, price, memo, environment, form_sha256, sealed_sha256): (
        String,
        BidStatus,
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
    ) = bids::table
        .find(bid_id)
        .select((
            bids::receipt,
            bids::status,
            bids::price_cents,
            bids::technical_memo,
            bids::environment_data,
            bids::form_sha256,
            bids::sealed_sha256,
        ))
        .first(conn)?;
    let standing = status == BidStatus::Submitted;
    // The digest kept at deposit (the clear form of a sealed bid is not here to hash).
    let form_sha256 =
        form_sha256.unwrap_or_else(|| receipts::form_digest(price, &memo, &environment));
    let documents = match standing {
        true => document_hashes(conn, bid_id)?,
        false => Vec::new(),
    };
    let (id, _) = receipts::issue(
        conn,
        receipts::Deposit {
            supplier_id,
            tender_id: Some(tender_id),
            reference,
            lot: lot_number,
            number: &number,
            event,
            received_at: now,
            deadline,
            late: false,
            form_sha256: standing.then_some(form_sha256),
            sealed_sha256: sealed_sha256.filter(|_| standing),
            documents,
        },
    )?;
    Ok(id)
}

/// The documents of a bid as a receipt names them (a digest missing from a document stored
/// before digests were kept is computed from its content).
fn document_hashes(
    conn: &mut AnyConnection,
    bid_id: i32,
) -> Result<Vec<receipts::DocumentHash>, AppError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i32, String, i64, Option<String>, Option<String>)> = bid_documents::table
        .filter(bid_documents::bid_id.eq(bid_id))
        .order(bid_documents::id)
        .select((
            bid_documents::id,
            bid_documents::name,
            bid_documents::size_bytes,
            bid_documents::sha256,
            bid_documents::sealed_sha256,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, name, size_bytes, sha256, sealed_sha256) in rows {
        let sha256 = match sha256 {
            Some(hash) => hash,
            None => {
                let content: Vec<u8> = bid_documents::table
                    .find(id)
                    .select(bid_documents::content)
                    .first(conn)?;
                receipts::sha256_hex(&content)
            }
        };
        out.push(receipts::DocumentHash {
            name,
            size_bytes,
            sha256,
            sealed_sha256,
        });
    }
    Ok(out)
}

/// A bid's form as stored: in clear on a tender published before sealing; otherwise
/// placeholders in the clear columns and the form's JSON ([`receipts::form_json`]) encrypted to
/// the tender's key.
pub struct StoredForm {
    pub price_cents: i64,
    pub technical_memo: String,
    pub environment_data: String,
    pub sealed: Option<Vec<u8>>,
    pub sealed_sha256: Option<String>,
    pub seal_state: Option<&'static str>,
}

/// What a sealed bid's price column holds until the opening (the table wants a price > 0).
pub const SEALED_PRICE_CENTS: i64 = 1;

impl StoredForm {
    pub fn of(
        key: Option<&age::x25519::Recipient>,
        price_cents: i64,
        technical_memo: &str,
        environment_data: &str,
    ) -> Result<Self, AppError> {
        let Some(key) = key else {
            return Ok(StoredForm {
                price_cents,
                technical_memo: technical_memo.to_string(),
                environment_data: environment_data.to_string(),
                sealed: None,
                sealed_sha256: None,
                seal_state: None,
            });
        };
        let json = zeroize::Zeroizing::new(receipts::form_json(
            price_cents,
            technical_memo,
            environment_data,
        ));
        let sealed = seal::encrypt(std::slice::from_ref(key), &json).map_err(AppError::internal)?;
        Ok(StoredForm {
            price_cents: SEALED_PRICE_CENTS,
            technical_memo: String::new(),
            environment_data: String::new(),
            sealed_sha256: Some(receipts::sha256_hex(&sealed)),
            sealed: Some(sealed),
            seal_state: Some("sealed"),
        })
    }
}

/// A receipt's number: ten random hexadecimal digits, kept by the bid through its revisions.
pub fn receipt_number() -> String {
    crate::services::auth::random_token()[..10].to_uppercase()
}

/// Submits or revises the supplier's bid on a lot before the deadline, with a receipt by
/// e-mail. The audit log records that a bid was made, never its amount.
pub fn submit(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    lot_number: i32,
    form: &BidForm,
) -> Result<Receipt, AppError> {
    submit_as(pool, actor, "", reference, lot_number, form)
}

/// [`submit`], telling the co-contractors of a group bid with links to `base_url`.
pub fn submit_as(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    reference: &str,
    lot_number: i32,
    form: &BidForm,
) -> Result<Receipt, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut problems = crate::error::Problems::default();
    let price = check_form(&mut problems, form);
    problems.finish()?;
    let price = price.ok_or_else(|| AppError::internal("price checked without value"))?;
    let mut conn = pool.get()?;
    require_verified(&mut conn, actor)?;
    write_transaction(&mut conn, |conn| {
        // A first bid on a lot is inserted once, and the others revise it.
        queue_for_supplier(conn, supplier_id)?;
        let (lot, late) = lot_of(conn, reference, lot_number)?;
        if late {
            return receive_late(
                conn,
                actor,
                supplier_id,
                (reference, lot_number),
                lot,
                form,
                price,
            );
        }
        let OpenLot {
            tender_id,
            lot_id,
            title,
            deadline,
            now,
        } = lot;
        // The group (#24): checked here, where the lot is known; a company engaged in a
        // group on the lot does not bid again.
        let mut problems = crate::error::Problems::default();
        let group = crate::services::groups::check(conn, &mut problems, &form.group, supplier_id)?;
        problems.finish()?;
        let current = own_bid(conn, lot_id, supplier_id)?.map(|b| b.id);
        if let Some(reason) =
            crate::services::groups::engaged_elsewhere(conn, lot_id, supplier_id, current)?
        {
            return Err(AppError::Conflict(reason));
        }
        let form_sha256 = receipts::form_digest(
            price.get(),
            form.technical_memo.trim(),
            form.environment_data.trim(),
        );
        let stored = StoredForm::of(
            crate::services::tenders::recipient_of(conn, tender_id)?.as_ref(),
            price.get(),
            form.technical_memo.trim(),
            form.environment_data.trim(),
        )?;
        let existing = own_bid(conn, lot_id, supplier_id)?;
        let number = existing
            .as_ref()
            .map(|bid| bid.receipt.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(receipt_number);
        let bid_id = match &existing {
            Some(bid) => {
                if bid.status == BidStatus::Withdrawn {
                    move_bid(conn, bid.id, BidStatus::Submitted)?;
                }
                diesel::update(bids::table.find(bid.id))
                    .set((
                        bids::price_cents.eq(stored.price_cents),
                        bids::technical_memo.eq(&stored.technical_memo),
                        bids::environment_data.eq(&stored.environment_data),
                        bids::updated_at.eq(now),
                        bids::receipt.eq(&number),
                    ))
                    .execute(conn)?;
                bid.id
            }
            None => diesel::insert_into(bids::table)
                .values(NewBid {
                    lot_id,
                    supplier_id,
                    price_cents: stored.price_cents,
                    quality: None,
                    environment: None,
                    technical_memo: &stored.technical_memo,
                    environment_data: &stored.environment_data,
                    submitted_at: now,
                    updated_at: now,
                    receipt: &number,
                })
                .returning(bids::id)
                .get_result(conn)?,
        };
        diesel::update(bids::table.find(bid_id))
            .set((
                bids::sealed.eq(&stored.sealed),
                bids::sealed_sha256.eq(&stored.sealed_sha256),
                bids::form_sha256.eq(&form_sha256),
                bids::seal_state.eq(stored.seal_state),
            ))
            .execute(conn)?;
        let to_tell = crate::services::groups::store(conn, bid_id, group.as_ref())?;
        crate::services::groups::tell_members(
            conn,
            base_url,
            bid_id,
            &to_tell,
            (reference, lot_number, deadline),
        )?;
        let revised = existing.is_some();
        let signed = sign_deposit(
            conn,
            supplier_id,
            (tender_id, reference, lot_number),
            bid_id,
            if revised { "modification" } else { "depot" },
            now,
            deadline,
        )?;
        mail_receipt(
            conn,
            supplier_id,
            (reference, &title, lot_number, &number),
            (now, deadline),
            (revised, false),
            &form_sha256,
            &format!("bid:{bid_id}:{}", now.and_utc().timestamp_micros()),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new(
                if revised {
                    "bid.revised"
                } else {
                    "bid.submitted"
                },
                "lot",
                lot_id,
            )
            .after(format!("offre n° {bid_id}")),
        )?;
        Ok(Receipt {
            bid_id,
            number,
            lot: lot_number,
            at: now,
            revised,
            late: false,
            signed,
        })
    })
}

/// The receipt e-mail of a deposit, in the company's language.
fn mail_receipt(
    conn: &mut AnyConnection,
    supplier_id: i32,
    (reference, title, lot_number, number): (&str, &str, i32, &str),
    (now, deadline): (NaiveDateTime, NaiveDateTime),
    (revised, late): (bool, bool),
    form_sha256: &str,
    key: &str,
) -> Result<(), AppError> {
    let (company, email, locale) = crate::services::suppliers::mail_contact(conn, supplier_id)?;
    let locale = Locale::of(&locale);
    mail::enqueue(
        conn,
        &email,
        "bid_receipt",
        &json!({
            "locale": locale.code(), "company": company, "reference": reference,
            "title": title, "lot": lot_number, "bid": number, "at": locale.moment(now),
            "deadline": locale.moment(deadline), "revised": revised, "late": late,
            "form_sha256": form_sha256,
        }),
        key,
    )?;
    Ok(())
}

/// A bid received after the deadline: kept with its time of receipt, never opened nor scored
/// (the bids of the lot are untouched), and a signed receipt saying it came late. Accepted
/// while the tender is published or closed; an awarded or cancelled tender takes none.
fn receive_late(
    conn: &mut AnyConnection,
    actor: &Actor,
    supplier_id: i32,
    (reference, lot_number): (&str, i32),
    lot: OpenLot,
    form: &BidForm,
    price: Cents,
) -> Result<Receipt, AppError> {
    use crate::db::schema::late_bids;
    let status: TenderStatus = tenders::table
        .find(lot.tender_id)
        .select(tenders::status)
        .first(conn)?;
    if !matches!(status, TenderStatus::Published | TenderStatus::Closed) {
        return Err(past_deadline(lot.deadline));
    }
    let number = receipt_number();
    let form_sha256 = receipts::form_digest(
        price.get(),
        form.technical_memo.trim(),
        form.environment_data.trim(),
    );
    // Never opened, and sealed like the others all the same.
    let stored = StoredForm::of(
        crate::services::tenders::recipient_of(conn, lot.tender_id)?.as_ref(),
        price.get(),
        form.technical_memo.trim(),
        form.environment_data.trim(),
    )?;
    let id: i32 = diesel::insert_into(late_bids::table)
        .values((
            late_bids::lot_id.eq(lot.lot_id),
            late_bids::supplier_id.eq(supplier_id),
            late_bids::receipt.eq(&number),
            late_bids::price_cents.eq(stored.price_cents),
            late_bids::technical_memo.eq(&stored.technical_memo),
            late_bids::environment_data.eq(&stored.environment_data),
            late_bids::received_at.eq(lot.now),
            late_bids::sent_by.eq(actor.user_id),
            late_bids::sealed.eq(&stored.sealed),
        ))
        .returning(late_bids::id)
        .get_result(conn)?;
    let (signed, _) = receipts::issue(
        conn,
        receipts::Deposit {
            supplier_id,
            tender_id: Some(lot.tender_id),
            reference,
            lot: lot_number,
            number: &number,
            event: "hors_delai",
            received_at: lot.now,
            deadline: lot.deadline,
            late: true,
            form_sha256: Some(form_sha256.clone()),
            sealed_sha256: stored.sealed_sha256.clone(),
            documents: Vec::new(),
        },
    )?;
    mail_receipt(
        conn,
        supplier_id,
        (reference, &lot.title, lot_number, &number),
        (lot.now, lot.deadline),
        (false, true),
        &form_sha256,
        &format!("late:{id}"),
    )?;
    audit::record(
        conn,
        actor.into(),
        Change::new("bid.late", "lot", lot.lot_id).after(format!(
            "offre hors délai n° {number}, reçue le {}",
            paris_text(lot.now)
        )),
    )?;
    Ok(Receipt {
        bid_id: id,
        number,
        lot: lot_number,
        at: lot.now,
        revised: false,
        late: true,
        signed,
    })
}

/// A bid received late, as the opening lists it: never its content.
#[derive(Debug, Clone, Serialize)]
pub struct LateBid {
    pub lot: i32,
    pub supplier: String,
    pub receipt: String,
    pub received_at: NaiveDateTime,
}

impl From<(i32, String, String, NaiveDateTime)> for LateBid {
    fn from((lot, supplier, receipt, received_at): (i32, String, String, NaiveDateTime)) -> Self {
        LateBid {
            lot,
            supplier,
            receipt,
            received_at,
        }
    }
}

/// The bids a tender received after its deadline, for its coordinator's lead once the bids are
/// opened: who and when, never what (they are not opened).
pub fn late_bids_on(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<Vec<LateBid>, AppError> {
    use crate::db::schema::late_bids;
    let tender_id = opened_tender(conn, actor, reference)?;
    Ok(late_bids::table
        .inner_join(lots::table)
        .inner_join(suppliers::table)
        .filter(lots::tender_id.eq(tender_id))
        .order((lots::number, late_bids::received_at))
        .select((
            lots::number,
            suppliers::name,
            late_bids::receipt,
            late_bids::received_at,
        ))
        .load::<(i32, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(LateBid::from)
        .collect())
}

/// Bids not found tampered with at the opening (every bid of a tender published before
/// sealing, every bid opened, every bid still sealed).
#[allow(clippy::type_complexity)]
pub fn not_tampered() -> diesel::dsl::Or<
    diesel::dsl::IsNull<bids::seal_state>,
    diesel::dsl::NotEq<bids::seal_state, &'static str>,
> {
    bids::seal_state
        .is_null()
        .or(bids::seal_state.ne("tampered"))
}

/// The bids of a tender whose ciphertext no longer matched their signed receipt at the
/// opening: who and when (their content was not opened), for its coordinator's lead.
pub fn tampered_bids_on(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<Vec<LateBid>, AppError> {
    let tender_id = opened_tender(conn, actor, reference)?;
    Ok(bids::table
        .inner_join(lots::table)
        .inner_join(suppliers::table)
        .filter(lots::tender_id.eq(tender_id))
        .filter(bids::status.eq(BidStatus::Submitted))
        .filter(bids::seal_state.eq("tampered"))
        .order((lots::number, bids::id))
        .select((
            lots::number,
            suppliers::name,
            bids::receipt,
            bids::updated_at,
        ))
        .load::<(i32, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(LateBid::from)
        .collect())
}

/// The one way a bid's status changes (withdrawn, submitted again): a conditional update on
/// the statuses that may move to `to`; the caller has checked the deadline in the same
/// transaction.
pub fn move_bid(conn: &mut AnyConnection, bid_id: i32, to: BidStatus) -> Result<(), AppError> {
    let moved = diesel::update(
        bids::table
            .find(bid_id)
            .filter(bids::status.eq_any(BidStatus::predecessors(to))),
    )
    .set(bids::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let now: BidStatus = bids::table.find(bid_id).select(bids::status).first(conn)?;
    Err(AppError::Conflict(format!(
        "l'offre est « {} » : elle ne peut pas devenir « {} »",
        now.label_fr(),
        to.label_fr()
    )))
}

/// Withdraws the supplier's bid on a lot before the deadline.
pub fn withdraw(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    lot_number: i32,
) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let OpenLot {
            tender_id,
            lot_id,
            now,
            deadline,
            ..
        } = lot_open_to_bids(conn, reference, lot_number)?;
        let Some(bid) =
            own_bid(conn, lot_id, supplier_id)?.filter(|bid| bid.status == BidStatus::Submitted)
        else {
            return Err(AppError::Conflict(format!(
                "vous n'avez pas d'offre en cours sur le lot {lot_number} : rien à retirer"
            )));
        };
        move_bid(conn, bid.id, BidStatus::Withdrawn)?;
        // Its ciphertext goes (a sealed bid keeps nothing of its content).
        diesel::update(bids::table.find(bid.id))
            .set((
                bids::updated_at.eq(now),
                bids::sealed.eq(None::<Vec<u8>>),
                bids::sealed_sha256.eq(None::<String>),
            ))
            .execute(conn)?;
        // A withdrawn bid is never opened: its documents go with it.
        let bid_ids = bids::table
            .filter(bids::lot_id.eq(lot_id))
            .filter(bids::supplier_id.eq(supplier_id))
            .select(bids::id);
        diesel::delete(bid_documents::table.filter(bid_documents::bid_id.eq_any(bid_ids)))
            .execute(conn)?;
        sign_deposit(
            conn,
            supplier_id,
            (tender_id, reference, lot_number),
            bid.id,
            "retrait",
            now,
            deadline,
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("bid.withdrawn", "lot", lot_id),
        )?;
        Ok(())
    })
}

/// A bid as the opening shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SealedBid {
    pub id: i32,
    pub lot: i32,
    pub supplier: String,
    pub price_cents: i64,
    pub technical_memo: String,
    pub environment_data: String,
    pub submitted_at: NaiveDateTime,
    pub documents: Vec<BidDocument>,
}

/// The tender whose bids `actor` may read: only once its deadline has passed — before it
/// this refuses everyone, whatever their role — then only its coordinator's lead, and only
/// after the (audited) opening.
fn opened_tender(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<i32, AppError> {
    let (tender_id, coordinator, deadline, opened_at): (
        i32,
        i32,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ) = tenders::table
        .filter(tenders::reference.eq(reference))
        .select((
            tenders::id,
            tenders::coordinator_id,
            tenders::deadline,
            tenders::opened_at,
        ))
        .first(conn)?;
    let open = deadline.is_some_and(|d| Utc::now().naive_utc() >= d);
    if !open {
        tracing::warn!(%reference, user = actor.user_id, "sealed bids requested before the deadline");
        return Err(AppError::Conflict(
            "les offres sont scellées jusqu'à la date limite : personne ne peut les lire avant"
                .into(),
        ));
    }
    actor.require_lead_of(coordinator)?;
    // Read only through the opening, which the journal records.
    if opened_at.is_none() {
        return Err(AppError::Conflict(
            "ouvrez d'abord les offres : l'ouverture est enregistrée au journal".into(),
        ));
    }
    Ok(tender_id)
}

/// [`opened_tender`] for what is sealed with the bids (their DUMEs): the tender's id once its
/// coordinator's lead has opened them, a refusal otherwise.
pub fn opened_tender_id(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<i32, AppError> {
    opened_tender(conn, actor, reference)
}

/// The submitted bids of a tender, for the coordinator's lead — and only once the deadline
/// has passed: before it, this refuses everyone, whatever their role. Every read of other
/// suppliers' bids goes through here.
pub fn sealed_bids(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
) -> Result<Vec<SealedBid>, AppError> {
    let mut conn = pool.get()?;
    sealed_bids_on(&mut conn, actor, reference)
}

/// [`sealed_bids`] on a connection the caller holds.
pub fn sealed_bids_on(
    conn: &mut AnyConnection,
    actor: &Actor,
    reference: &str,
) -> Result<Vec<SealedBid>, AppError> {
    let tender_id = opened_tender(conn, actor, reference)?;
    let rows: Vec<(i32, i32, String, i64, String, String, NaiveDateTime)> = bids::table
        .inner_join(lots::table)
        .inner_join(suppliers::table)
        .filter(lots::tender_id.eq(tender_id))
        .filter(bids::status.eq(BidStatus::Submitted))
        .filter(not_tampered())
        .order((lots::number, bids::id))
        .select((
            bids::id,
            lots::number,
            suppliers::name,
            bids::price_cents,
            bids::technical_memo,
            bids::environment_data,
            bids::submitted_at,
        ))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|row| row.0).collect();
    let mut documents = documents_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, lot, supplier, price_cents, technical_memo, environment_data, submitted_at)| {
                SealedBid {
                    id,
                    lot,
                    supplier,
                    price_cents,
                    technical_memo,
                    environment_data,
                    submitted_at,
                    documents: documents
                        .extract_if(.., |(bid, _)| *bid == id)
                        .map(|(_, document)| document)
                        .collect(),
                }
            },
        )
        .collect())
}

/// A document of a submitted bid, under the same seal as [`sealed_bids`].
pub fn sealed_document(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    document_id: i32,
) -> Result<DocumentContent, AppError> {
    let mut conn = pool.get()?;
    let tender_id = opened_tender(&mut conn, actor, reference)?;
    Ok(bid_documents::table
        .inner_join(bids::table.inner_join(lots::table))
        .filter(bid_documents::id.eq(document_id))
        .filter(lots::tender_id.eq(tender_id))
        .filter(bids::status.eq(BidStatus::Submitted))
        .select((
            bid_documents::name,
            bid_documents::content_type,
            bid_documents::content,
        ))
        .first(&mut conn)?)
}

/// Closes the published tenders whose deadline has passed (bids freeze); returns how many.
pub fn close_due(pool: &Pool) -> Result<usize, AppError> {
    let mut conn = pool.get()?;
    let now = Utc::now().naive_utc();
    write_transaction(&mut conn, |conn| {
        let due: Vec<i32> = tenders::table
            .filter(tenders::status.eq(TenderStatus::Published))
            .filter(tenders::deadline.le(now))
            .select(tenders::id)
            .load(conn)?;
        for &id in &due {
            crate::services::tenders::move_tender(conn, id, crate::domain::TenderStatus::Closed)?;
            audit::record(
                conn,
                audit::Author {
                    user_id: None,
                    label: "système",
                },
                Change::new("tender.status_changed", "tender", id)
                    .before_after("published", "closed"),
            )?;
        }
        Ok(due.len())
    })
}
