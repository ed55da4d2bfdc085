//! Opening the bids: after the deadline, by the coordinator's lead, once; the journal records
//! it. A sealed tender (#23) opens only when enough of its members have entered their keys.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::{opening_shares, organisations, tender_seals, tender_shares, users};

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

/// A key entered at the opening of a sealed tender.
pub enum KeyEntry<'a> {
    /// The passphrase of the lead's own opening key (their member's share).
    Passphrase(&'a str),
    /// The offline recovery key, typed back from its printout (`AGE-SECRET-KEY-1…`).
    Recovery(&'a str),
}

/// Where an opening stands after a key was entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Opening {
    /// The bids are open: how many were, and how many were found tampered with.
    Opened { bids: usize, tampered: usize },
    /// More keys are needed: those entered (their holders), and the threshold.
    Waiting {
        entered: Vec<String>,
        threshold: usize,
    },
}

/// Opens the bids of a tender whose deadline has passed. A tender published before sealing
/// opens at once (the coordinator's lead, once). A sealed tender opens when enough of its key
/// holders have entered their keys (#23): the coordinator's lead starts the opening with
/// theirs, the leads of the other members enter their passphrases (or someone the recovery
/// key) on the same page; each entry is in the journal. With enough shares the tender's key is
/// rebuilt in memory, every bid, document and DUME decrypted and checked against its signed
/// receipt, and only then stored in clear; a ciphertext that no longer matches is reported as
/// tampered and never opened. Opening twice does nothing more.
pub fn open(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    key: Option<KeyEntry<'_>>,
) -> Result<Opening, AppError> {
    let mut conn = pool.get()?;
    let sealed = crate::services::tenders::sealing_of(&mut conn, tender_id)?.is_some();
    if !sealed {
        return open_clear(&mut conn, actor, tender_id);
    }
    // A lead of one of its members (404 for anyone else), past the deadline, before any key.
    let organisation_id = actor.require_lead()?;
    let member: i64 = crate::db::schema::tender_approvals::table
        .filter(crate::db::schema::tender_approvals::tender_id.eq(tender_id))
        .filter(crate::db::schema::tender_approvals::organisation_id.eq(organisation_id))
        .count()
        .get_result(&mut conn)?;
    if member == 0 {
        return Err(AppError::NotFound);
    }
    let tender: Tender = tenders::table
        .find(tender_id)
        .select(Tender::as_select())
        .first(&mut conn)?;
    if let Some(done) = openable(&tender)? {
        return Ok(done);
    }
    // The memory-hard derivation runs before the transaction (it takes a while on purpose).
    let unlocked = match key {
        None => {
            return Err(AppError::validation(
                "phrase secrète",
                "les offres sont chiffrées : entrez la phrase secrète de votre clé d'ouverture",
            ))
        }
        Some(KeyEntry::Passphrase(passphrase)) => {
            let organisation_id = actor.require_lead()?;
            let identity = crate::services::keys::unlock(&mut conn, actor.user_id, passphrase)?;
            (Some(organisation_id), identity)
        }
        Some(KeyEntry::Recovery(text)) => {
            let identity = crate::services::seal::identity(text).map_err(|_| {
                AppError::validation(
                    "clé de secours",
                    "ce n'est pas une clé de secours : elle commence par AGE-SECRET-KEY-1",
                )
            })?;
            (None, identity)
        }
    };
    write_transaction(&mut conn, |conn| {
        // Two keys entered at the same moment queue on the tender's seal (PostgreSQL; SQLite
        // runs write transactions one at a time): the second sees the first, and opens.
        if let AnyConnection::Postgresql(pg) = conn {
            tender_seals::table
                .find(tender_id)
                .select(tender_seals::tender_id)
                .for_update()
                .first::<i32>(pg)?;
        }
        let tender: Tender = tenders::table
            .find(tender_id)
            .select(Tender::as_select())
            .first(conn)?;
        if let Some(done) = openable(&tender)? {
            return Ok(done);
        }
        let member = unlocked.0;
        let is_coordinator = member == Some(tender.coordinator_id);
        let (threshold, started): (i32, Option<chrono::NaiveDateTime>) = tender_seals::table
            .find(tender_id)
            .select((tender_seals::threshold, tender_seals::opening_started_at))
            .first(conn)?;
        if started.is_none() {
            if !is_coordinator {
                return Err(AppError::Conflict(
                    "le responsable des achats du coordonnateur lance l'ouverture : entrez votre \
                     clé ensuite"
                        .into(),
                ));
            }
            diesel::update(tender_seals::table.find(tender_id))
                .set((
                    tender_seals::opening_started_at.eq(Utc::now().naive_utc()),
                    tender_seals::opening_started_by.eq(actor.user_id),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                actor.into(),
                Change::new("tender.opening_started", "tender", tender_id)
                    .after(format!("{threshold} clé(s) nécessaires")),
            )?;
        }
        // The share this key reads: its member's, or the recovery key's.
        let mut query = tender_shares::table
            .left_join(organisations::table)
            .filter(tender_shares::tender_id.eq(tender_id))
            .into_boxed();
        query = match member {
            Some(organisation_id) => {
                query.filter(tender_shares::organisation_id.eq(organisation_id))
            }
            None => query.filter(tender_shares::recovery_key_id.is_not_null()),
        };
        let Some((share_id, sealed_share, code)) = query
            .select((
                tender_shares::id,
                tender_shares::sealed_share,
                organisations::code.nullable(),
            ))
            .first::<(i32, Vec<u8>, Option<String>)>(conn)
            .optional()?
        else {
            return Err(match member {
                Some(_) => AppError::Forbidden,
                None => AppError::Conflict(
                    "cette consultation a été publiée sans clé de secours".into(),
                ),
            });
        };
        let holder = code.unwrap_or_else(|| "clé de secours".into());
        let share =
            crate::services::seal::decrypt(&unlocked.1, &sealed_share).map_err(
                |_| match member {
                    Some(_) => AppError::Conflict(format!(
                        "votre clé d'ouverture ne lit pas la part de {holder} : elle a été créée \
                     après la publication ; un autre responsable de {holder}, ou la clé de \
                     secours, peut l'ouvrir"
                    )),
                    None => AppError::validation(
                        "clé de secours",
                        "ce n'est pas la clé de secours de cette consultation",
                    ),
                },
            )?;
        let already: i64 = opening_shares::table
            .filter(opening_shares::tender_id.eq(tender_id))
            .filter(opening_shares::share_id.eq(share_id))
            .count()
            .get_result(conn)?;
        if already == 0 {
            diesel::insert_into(opening_shares::table)
                .values((
                    opening_shares::tender_id.eq(tender_id),
                    opening_shares::share_id.eq(share_id),
                    opening_shares::share.eq(share.as_slice()),
                    opening_shares::entered_by.eq(actor.user_id),
                    opening_shares::entered_at.eq(Utc::now().naive_utc()),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                actor.into(),
                Change::new("tender.opening_key_entered", "tender", tender_id)
                    .after(format!("part de {holder} entrée par {}", actor.email)),
            )?;
        }
        let entered: Vec<(Vec<u8>, Option<String>)> = opening_shares::table
            .inner_join(tender_shares::table.left_join(organisations::table))
            .filter(opening_shares::tender_id.eq(tender_id))
            .order(opening_shares::id)
            .select((opening_shares::share, organisations::code.nullable()))
            .load(conn)?;
        if entered.len() < threshold as usize {
            return Ok(Opening::Waiting {
                entered: entered
                    .into_iter()
                    .map(|(_, code)| code.unwrap_or_else(|| "clé de secours".into()))
                    .collect(),
                threshold: threshold as usize,
            });
        }
        let shares: Vec<zeroize::Zeroizing<Vec<u8>>> = entered
            .into_iter()
            .map(|(share, _)| zeroize::Zeroizing::new(share))
            .collect();
        let key =
            crate::services::seal::combine(&shares, threshold as u8).map_err(AppError::internal)?;
        let recipient: String = tender_seals::table
            .find(tender_id)
            .select(tender_seals::recipient)
            .first(conn)?;
        if key.to_public().to_string() != recipient {
            return Err(AppError::internal(format!(
                "the shares of tender {tender_id} rebuild another key"
            )));
        }
        let (bids, tampered) = unseal::tender(conn, tender_id, &key)?;
        diesel::delete(opening_shares::table.filter(opening_shares::tender_id.eq(tender_id)))
            .execute(conn)?;
        mark_opened(conn, actor, &tender, bids, tampered)?;
        Ok(Opening::Opened { bids, tampered })
    })
}

/// Whether a tender's bids may be opened now: `Some` when they already are (opening twice does
/// nothing more), a refusal when it has none to open or its deadline has not passed.
fn openable(tender: &Tender) -> Result<Option<Opening>, AppError> {
    if tender.opened_at.is_some() {
        return Ok(Some(Opening::Opened {
            bids: 0,
            tampered: 0,
        }));
    }
    if !["published", "closed"].contains(&tender.status.as_str()) {
        return Err(AppError::Conflict(format!(
            "la consultation est « {} » : il n'y a pas d'offres à ouvrir",
            tender.status
        )));
    }
    past_deadline(tender)?;
    Ok(None)
}

/// The bids of a tender published before sealing: opened by the coordinator's lead, once.
fn open_clear(
    conn: &mut AnyConnection,
    actor: &Actor,
    tender_id: i32,
) -> Result<Opening, AppError> {
    write_transaction(conn, |conn| {
        let tender = coordinated(conn, actor, tender_id)?;
        if let Some(done) = openable(&tender)? {
            return Ok(done);
        }
        let count: i64 = bids::table
            .inner_join(lots::table)
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .count()
            .get_result(conn)?;
        mark_opened(conn, actor, &tender, count as usize, 0)?;
        Ok(Opening::Opened {
            bids: count as usize,
            tampered: 0,
        })
    })
}

/// The tender closed if the ticker has not done it yet, opened, and the journal told.
fn mark_opened(
    conn: &mut AnyConnection,
    actor: &Actor,
    tender: &Tender,
    count: usize,
    tampered: usize,
) -> Result<(), AppError> {
    // Opened before the ticker closed it: closed now (its deadline has passed).
    if tender.status == "published" {
        crate::services::tenders::move_tender(
            conn,
            tender.id,
            crate::domain::TenderStatus::Closed,
        )?;
    }
    diesel::update(tenders::table.find(tender.id))
        .set((
            tenders::opened_at.eq(Utc::now().naive_utc()),
            tenders::opened_by.eq(actor.user_id),
        ))
        .execute(conn)?;
    let mut after = format!("{count} offre(s)");
    if tampered > 0 {
        after.push_str(&format!(
            " ; {tampered} élément(s) ALTÉRÉ(S) : leur contenu chiffré ne correspond plus à leur accusé de réception, non ouvert(s)"
        ));
    }
    audit::record(
        conn,
        actor.into(),
        Change::new("tender.opened", "tender", tender.id).after(after),
    )?;
    Ok(())
}

/// The opening's state for its page: the sealing, the holders whose keys are in.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningState {
    pub sealing: crate::services::tenders::Sealing,
    pub entered: Vec<(String, String, chrono::NaiveDateTime)>,
}

/// Where the opening of a sealed tender stands (any lead of its members, or an admin).
pub fn opening_state(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> Result<Option<OpeningState>, AppError> {
    let Some(sealing) = crate::services::tenders::sealing_of(conn, tender_id)? else {
        return Ok(None);
    };
    let entered: Vec<(Option<String>, Option<String>, chrono::NaiveDateTime)> =
        opening_shares::table
            .inner_join(tender_shares::table.left_join(organisations::table))
            .left_join(users::table.on(users::id.nullable().eq(opening_shares::entered_by)))
            .filter(opening_shares::tender_id.eq(tender_id))
            .order(opening_shares::id)
            .select((
                organisations::code.nullable(),
                users::email.nullable(),
                opening_shares::entered_at,
            ))
            .load(conn)?;
    Ok(Some(OpeningState {
        sealing,
        entered: entered
            .into_iter()
            .map(|(code, email, at)| {
                (
                    code.unwrap_or_else(|| "clé de secours".into()),
                    email.unwrap_or_default(),
                    at,
                )
            })
            .collect(),
    }))
}

mod unseal {
    //! Decrypting a tender's bids, documents and DUMEs at the opening, each checked against
    //! the digests of its signed receipt.
    use super::*;
    use crate::db::schema::{bid_documents, espd_responses};
    use crate::services::{receipts, seal};

    /// Opens everything sealed on a tender; returns (bids opened, items tampered with).
    pub(super) fn tender(
        conn: &mut AnyConnection,
        tender_id: i32,
        key: &age::x25519::Identity,
    ) -> Result<(usize, usize), AppError> {
        let mut tampered = 0;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i32,
            i32,
            i32,
            String,
            Option<Vec<u8>>,
            Option<String>,
            Option<String>,
        )> = bids::table
            .inner_join(lots::table)
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .filter(bids::seal_state.eq("sealed"))
            .order(bids::id)
            .select((
                bids::id,
                bids::supplier_id,
                lots::number,
                bids::receipt,
                bids::sealed,
                bids::sealed_sha256,
                bids::form_sha256,
            ))
            .load(conn)?;
        let count = rows.len();
        for (bid_id, supplier_id, lot, number, sealed, sealed_sha256, form_sha256) in rows {
            let receipt =
                receipts::last_checked(conn, (supplier_id, tender_id, lot), Some(&number))?;
            let form = sealed.as_deref().and_then(|sealed| {
                open_one(
                    key,
                    sealed,
                    receipt.as_ref().and_then(|r| r.sealed_sha256.as_deref()),
                    sealed_sha256.as_deref(),
                )
            });
            let form = form.and_then(|clear| {
                let digest = receipts::sha256_hex(&clear);
                let expected = receipt.as_ref().and_then(|r| r.form_sha256.as_deref());
                (expected == Some(digest.as_str()) && form_sha256.as_deref() == expected)
                    .then(|| receipts::form_of_json(&clear))
                    .flatten()
            });
            match form {
                Some((price, memo, environment)) if price > 0 => {
                    diesel::update(bids::table.find(bid_id))
                        .set((
                            bids::price_cents.eq(price),
                            bids::technical_memo.eq(memo),
                            bids::environment_data.eq(environment),
                            bids::seal_state.eq("opened"),
                        ))
                        .execute(conn)?;
                }
                _ => {
                    tampered += 1;
                    diesel::update(bids::table.find(bid_id))
                        .set(bids::seal_state.eq("tampered"))
                        .execute(conn)?;
                }
            }
            tampered += documents(conn, bid_id, key, receipt.as_ref())?;
        }
        tampered += dumes(conn, tender_id, key)?;
        Ok((count, tampered))
    }

    /// The clear bytes of a ciphertext whose digest is the one its receipt signed (and the one
    /// kept beside it), decrypted with the tender's key; none otherwise.
    fn open_one(
        key: &age::x25519::Identity,
        sealed: &[u8],
        signed: Option<&str>,
        kept: Option<&str>,
    ) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let digest = receipts::sha256_hex(sealed);
        if signed != Some(digest.as_str()) || kept != Some(digest.as_str()) {
            return None;
        }
        seal::decrypt(key, sealed).ok()
    }

    /// Opens a bid's documents; returns how many were tampered with.
    fn documents(
        conn: &mut AnyConnection,
        bid_id: i32,
        key: &age::x25519::Identity,
        receipt: Option<&receipts::ReceiptBody>,
    ) -> Result<usize, AppError> {
        let mut tampered = 0;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i32, String, Vec<u8>, Option<String>, Option<String>)> =
            bid_documents::table
                .filter(bid_documents::bid_id.eq(bid_id))
                .filter(bid_documents::seal_state.eq("sealed"))
                .order(bid_documents::id)
                .select((
                    bid_documents::id,
                    bid_documents::name,
                    bid_documents::content,
                    bid_documents::sha256,
                    bid_documents::sealed_sha256,
                ))
                .load(conn)?;
        for (id, name, content, sha256, sealed_sha256) in rows {
            let signed = receipt.and_then(|r| {
                r.documents
                    .iter()
                    .find(|d| d.name == name && d.sealed_sha256 == sealed_sha256)
            });
            let clear = open_one(
                key,
                &content,
                signed.and_then(|d| d.sealed_sha256.as_deref()),
                sealed_sha256.as_deref(),
            );
            // Sealed by the platform: the clear digest is the one signed. Sealed by the
            // company: what it sent is the ciphertext, whose clear content must be a document
            // of the format its name says.
            let by_company = sha256.is_some() && sha256 == sealed_sha256;
            let opened = clear.and_then(|clear| match by_company {
                true => {
                    let inner = name.strip_suffix(".age").unwrap_or(&name).to_string();
                    crate::services::documents::checked(&inner, &clear)
                        .ok()
                        .map(|(_, content_type)| (inner.clone(), content_type, clear.to_vec()))
                }
                false => (signed.map(|d| d.sha256.as_str())
                    == Some(receipts::sha256_hex(&clear).as_str()))
                .then(|| (name.clone(), "", clear.to_vec())),
            });
            match opened {
                Some((name, content_type, clear)) => {
                    let size = clear.len() as i64;
                    diesel::update(bid_documents::table.find(id))
                        .set((
                            bid_documents::name.eq(&name),
                            bid_documents::content.eq(clear),
                            bid_documents::size_bytes.eq(size),
                            bid_documents::seal_state.eq("opened"),
                        ))
                        .execute(conn)?;
                    if !content_type.is_empty() {
                        diesel::update(bid_documents::table.find(id))
                            .set(bid_documents::content_type.eq(content_type))
                            .execute(conn)?;
                    }
                }
                None => {
                    tampered += 1;
                    diesel::update(bid_documents::table.find(id))
                        .set(bid_documents::seal_state.eq("tampered"))
                        .execute(conn)?;
                }
            }
        }
        Ok(tampered)
    }

    /// Opens the DUMEs of a tender; returns how many were tampered with.
    fn dumes(
        conn: &mut AnyConnection,
        tender_id: i32,
        key: &age::x25519::Identity,
    ) -> Result<usize, AppError> {
        let mut tampered = 0;
        type Row = (i32, i32, Option<Vec<u8>>, Option<String>);
        let rows: Vec<Row> = espd_responses::table
            .filter(espd_responses::tender_id.eq(tender_id))
            .filter(espd_responses::seal_state.eq("sealed"))
            .select((
                espd_responses::id,
                espd_responses::supplier_id,
                espd_responses::sealed,
                espd_responses::sealed_sha256,
            ))
            .load(conn)?;
        for (id, supplier_id, sealed, sealed_sha256) in rows {
            let receipt = receipts::last_checked(conn, (supplier_id, tender_id, 0), None)?;
            let signed = receipt.as_ref().and_then(|r| r.documents.first());
            let opened = sealed
                .as_deref()
                .and_then(|sealed| {
                    open_one(
                        key,
                        sealed,
                        signed.and_then(|d| d.sealed_sha256.as_deref()),
                        sealed_sha256.as_deref(),
                    )
                })
                .and_then(|clear| {
                    serde_json::from_slice::<crate::services::espd::SealedDume>(&clear).ok()
                })
                .filter(|dume| {
                    signed.map(|d| d.sha256.as_str())
                        == Some(receipts::sha256_hex(dume.xml.as_bytes()).as_str())
                });
            match opened {
                Some(dume) => {
                    diesel::update(espd_responses::table.find(id))
                        .set((
                            espd_responses::xml.eq(&dume.xml),
                            espd_responses::summary.eq(&dume.summary),
                            espd_responses::seal_state.eq("opened"),
                        ))
                        .execute(conn)?;
                }
                None => {
                    tampered += 1;
                    diesel::update(espd_responses::table.find(id))
                        .set(espd_responses::seal_state.eq("tampered"))
                        .execute(conn)?;
                }
            }
        }
        Ok(tampered)
    }
}
