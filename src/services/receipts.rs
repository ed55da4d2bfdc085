//! Proofs of deposit. Every deposit of a bid — made, revised, a document added or removed,
//! withdrawn, or received after the deadline — gets a receipt that says exactly when it was
//! received and carries the SHA-256 of the bid's form and of each of its documents, **signed by
//! the platform** with Ed25519. A receipt is a small JSON file; anyone checks it offline with the
//! platform's public key (published at [`KEYS_PATH`]), with `groupement verify-receipt FILE`
//! or on the page `/accuses/verifier`.
//!
//! The signing key is read from `GROUPEMENT_RECEIPT_KEY_FILE` (a file holding the key's 32-byte
//! seed in base64) or `GROUPEMENT_RECEIPT_KEY` (the seed itself); without either, the platform
//! makes a key on its first receipt and keeps it in the database (`signing_keys`), which does
//! for a trial but lets whoever reads the database sign: production names a file. Every public
//! key that signed stays published, so that a receipt outlives a change of key.

use crate::db::schema::{receipts, signing_keys};
use crate::db::AnyConnection;
use crate::error::AppError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Where the platform's public keys are published (JSON).
pub const KEYS_PATH: &str = "/accuses/cles";
/// What a signature covers: this line, then the receipt's JSON as the platform wrote it.
const CONTEXT: &[u8] = b"groupement-receipt-v1\n";

/// The SHA-256 of some bytes, in lowercase hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A document as a receipt names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentHash {
    pub name: String,
    pub size_bytes: i64,
    /// The SHA-256 of the document as the company sent it.
    pub sha256: String,
    /// The SHA-256 of what is stored until the opening: the document encrypted to the
    /// tender's key (the same as `sha256` when the company encrypted it itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_sha256: Option<String>,
}

/// What a receipt says. The order of the fields is the order they are written and signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// `1`: this layout; `2`: with the digests of the encrypted form and documents.
    pub version: u32,
    /// The receipt's own number (the bid's receipt number and the event's sequence).
    pub number: String,
    /// `depot`, `modification`, `document_ajoute`, `document_retire`, `retrait`, `hors_delai`,
    /// `entrainement` (a practice deposit, which counts nowhere).
    pub event: String,
    pub tender: String,
    /// The lot, or 0 for what concerns the whole tender (its DUME).
    pub lot: i32,
    pub company: String,
    pub siret: String,
    /// The exact moment of receipt, UTC, to the microsecond (RFC 3339).
    pub received_at: String,
    /// The deadline in force at that moment (RFC 3339, UTC).
    pub deadline: String,
    /// Received after the deadline: kept, never opened.
    pub late: bool,
    /// The SHA-256 of the bid's form as received ([`form_digest`]); none after a withdrawal.
    pub form_sha256: Option<String>,
    /// The SHA-256 of the form as stored until the opening: encrypted to the tender's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_sha256: Option<String>,
    /// The bid's documents at that moment.
    pub documents: Vec<DocumentHash>,
}

/// A receipt with its signature: the file a company keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    pub receipt: ReceiptBody,
    pub algorithm: String,
    /// The first 16 hexadecimal digits of the SHA-256 of the public key.
    pub key_id: String,
    /// The platform's Ed25519 public key, base64.
    pub public_key: String,
    /// The signature of [`CONTEXT`] followed by the receipt's JSON, base64.
    pub signature: String,
}

/// The bytes a signature covers.
fn signed_bytes(body: &ReceiptBody) -> Result<Vec<u8>, AppError> {
    let mut bytes = CONTEXT.to_vec();
    bytes.extend(serde_json::to_vec(body).map_err(AppError::internal)?);
    Ok(bytes)
}

/// The form of a bid as its digest covers it: price in cents, then the two texts, as JSON in
/// this order (`{"price_cents":…,"technical_memo":…,"environment_data":…}`).
#[derive(Serialize)]
struct FormDigest<'a> {
    price_cents: i64,
    technical_memo: &'a str,
    environment_data: &'a str,
}

/// A bid's form as its digest covers it, and as it is encrypted to the tender's key.
pub fn form_json(price_cents: i64, technical_memo: &str, environment_data: &str) -> Vec<u8> {
    serde_json::to_vec(&FormDigest {
        price_cents,
        technical_memo,
        environment_data,
    })
    .unwrap_or_default()
}

/// A bid's form read back from its JSON (at the opening).
pub fn form_of_json(json: &[u8]) -> Option<(i64, String, String)> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Form {
        price_cents: i64,
        technical_memo: String,
        environment_data: String,
    }
    serde_json::from_slice::<Form>(json)
        .ok()
        .map(|f| (f.price_cents, f.technical_memo, f.environment_data))
}

/// The SHA-256 of a bid's form.
pub fn form_digest(price_cents: i64, technical_memo: &str, environment_data: &str) -> String {
    sha256_hex(&form_json(price_cents, technical_memo, environment_data))
}

/// The key id of a public key.
fn key_id_of(public: &[u8]) -> String {
    sha256_hex(public)[..16].to_string()
}

/// A stored receipt as the file its company was given: its body as kept, its signature, the
/// public key that signed it.
pub fn assemble(
    body: &str,
    signature: String,
    public_key: String,
) -> Result<SignedReceipt, AppError> {
    let public = B64.decode(public_key.trim()).map_err(AppError::internal)?;
    Ok(SignedReceipt {
        receipt: serde_json::from_str(body).map_err(AppError::internal)?,
        algorithm: "Ed25519".into(),
        key_id: key_id_of(&public),
        public_key,
        signature,
    })
}

/// The configured seed, read once: the file first, then the variable.
fn configured_seed() -> &'static Result<Option<[u8; 32]>, String> {
    static SEED: OnceLock<Result<Option<[u8; 32]>, String>> = OnceLock::new();
    SEED.get_or_init(|| {
        let text = match (
            std::env::var("GROUPEMENT_RECEIPT_KEY_FILE"),
            std::env::var("GROUPEMENT_RECEIPT_KEY"),
        ) {
            (Ok(path), _) if !path.is_empty() => std::fs::read_to_string(&path)
                .map_err(|e| format!("GROUPEMENT_RECEIPT_KEY_FILE {path}: {e}"))?,
            (_, Ok(value)) if !value.is_empty() => value,
            _ => return Ok(None),
        };
        seed_of(text.trim()).map(Some)
    })
}

/// A seed from its base64 text.
pub fn seed_of(text: &str) -> Result<[u8; 32], String> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|e| format!("receipt key: not base64 ({e})"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("receipt key: {} bytes, not 32", bytes.len()))
}

/// A new random seed, in base64 (`groupement receipt-key` writes one).
pub fn new_seed() -> String {
    use rand_core::RngCore as _;
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    B64.encode(seed)
}

/// The platform's signing key on this database: the configured one (its public key recorded),
/// or the one kept in the database, made on the first receipt.
struct Signer {
    pair: Ed25519KeyPair,
    key_id: String,
    public: String,
}

fn signer(conn: &mut AnyConnection) -> Result<Signer, AppError> {
    let seed = match configured_seed() {
        Ok(Some(seed)) => *seed,
        Ok(None) => stored_seed(conn)?,
        Err(message) => return Err(AppError::internal(message.clone())),
    };
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let public_bytes = pair.public_key().as_ref().to_vec();
    let key_id = key_id_of(&public_bytes);
    let public = B64.encode(&public_bytes);
    let known: i64 = signing_keys::table
        .filter(signing_keys::key_id.eq(&key_id))
        .count()
        .get_result(conn)?;
    if known == 0 {
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::key_id.eq(&key_id),
                signing_keys::public_key.eq(&public),
                signing_keys::created_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(Signer {
        pair,
        key_id,
        public,
    })
}

/// The seed kept in the database, made if there is none (inside the caller's transaction, so
/// two first receipts at once make one key on PostgreSQL: the second insert fails and the
/// transaction is retried by the caller's error, which is rare enough).
fn stored_seed(conn: &mut AnyConnection) -> Result<[u8; 32], AppError> {
    let kept: Option<String> = signing_keys::table
        .filter(signing_keys::secret_key.is_not_null())
        .order(signing_keys::created_at.desc())
        .select(signing_keys::secret_key)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    if let Some(text) = kept {
        return seed_of(&text).map_err(AppError::internal);
    }
    let text = new_seed();
    let seed = seed_of(&text).map_err(AppError::internal)?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let public_bytes = pair.public_key().as_ref().to_vec();
    tracing::warn!(
        "no GROUPEMENT_RECEIPT_KEY_FILE: the receipts' signing key is made and kept in the database"
    );
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::key_id.eq(key_id_of(&public_bytes)),
            signing_keys::public_key.eq(B64.encode(&public_bytes)),
            signing_keys::secret_key.eq(Some(text)),
            signing_keys::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(seed)
}

/// A moment as receipts write it.
pub fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A receipt's moment in Paris time, to the second, with the exact UTC text beside it.
pub fn moment(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => {
            let (local, zone) = crate::domain::to_paris(at.naive_utc());
            format!(
                "{} (heure de Paris, {zone}) — exactement {rfc3339}",
                local.format("%d/%m/%Y à %H:%M:%S")
            )
        }
        Err(_) => rfc3339.to_string(),
    }
}

/// Who a receipt is for and what it is about.
pub struct Deposit<'a> {
    pub supplier_id: i32,
    /// `None` for a practice deposit, which belongs to no tender.
    pub tender_id: Option<i32>,
    pub reference: &'a str,
    pub lot: i32,
    pub number: &'a str,
    pub event: &'a str,
    pub received_at: NaiveDateTime,
    pub deadline: NaiveDateTime,
    pub late: bool,
    pub form_sha256: Option<String>,
    pub sealed_sha256: Option<String>,
    pub documents: Vec<DocumentHash>,
}

/// Signs and keeps a receipt, in the caller's transaction; returns it with its id.
pub fn issue(
    conn: &mut AnyConnection,
    deposit: Deposit<'_>,
) -> Result<(i32, SignedReceipt), AppError> {
    use crate::db::schema::suppliers;
    let (company, siret): (String, String) = suppliers::table
        .find(deposit.supplier_id)
        .select((suppliers::name, suppliers::siret))
        .first(conn)?;
    let sequence: i64 = receipts::table
        .filter(receipts::supplier_id.eq(deposit.supplier_id))
        .filter(receipts::tender_id.eq(deposit.tender_id))
        .filter(receipts::lot_number.eq(deposit.lot))
        .count()
        .get_result(conn)?;
    // Version 2 adds the digests of what is stored encrypted.
    let sealed = deposit.sealed_sha256.is_some()
        || deposit.documents.iter().any(|d| d.sealed_sha256.is_some());
    let body = ReceiptBody {
        version: if sealed { 2 } else { 1 },
        number: format!("{}-{}", deposit.number, sequence + 1),
        event: deposit.event.to_string(),
        tender: deposit.reference.to_string(),
        lot: deposit.lot,
        company,
        siret,
        received_at: rfc3339(deposit.received_at),
        deadline: rfc3339(deposit.deadline),
        late: deposit.late,
        form_sha256: deposit.form_sha256,
        sealed_sha256: deposit.sealed_sha256,
        documents: deposit.documents,
    };
    let signer = signer(conn)?;
    let signature = B64.encode(signer.pair.sign(&signed_bytes(&body)?).as_ref());
    let signed = SignedReceipt {
        receipt: body,
        algorithm: "Ed25519".into(),
        key_id: signer.key_id,
        public_key: signer.public,
        signature,
    };
    let id: i32 = diesel::insert_into(receipts::table)
        .values((
            receipts::supplier_id.eq(deposit.supplier_id),
            receipts::tender_id.eq(deposit.tender_id),
            receipts::lot_number.eq(deposit.lot),
            receipts::number.eq(&signed.receipt.number),
            receipts::event.eq(&signed.receipt.event),
            receipts::body.eq(serde_json::to_string(&signed.receipt).map_err(AppError::internal)?),
            receipts::signature.eq(&signed.signature),
            receipts::key_id.eq(&signed.key_id),
            receipts::issued_at.eq(deposit.received_at),
        ))
        .returning(receipts::id)
        .get_result(conn)?;
    Ok((id, signed))
}

/// What a receipt's event means, in French.
pub fn event_label(event: &str) -> &'static str {
    match event {
        "depot" => "offre remise",
        "modification" => "offre modifiée",
        "document_ajoute" => "document joint",
        "document_retire" => "document retiré",
        "retrait" => "offre retirée",
        "hors_delai" => "offre reçue hors délai (non ouverte)",
        "entrainement" => "dépôt d'entraînement",
        "dume" => "DUME remis",
        _ => "dépôt",
    }
}

/// A receipt as its company lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptLine {
    pub id: i32,
    pub lot: i32,
    pub number: String,
    pub event: String,
    pub issued_at: NaiveDateTime,
}

/// A company's receipts on a tender, newest first.
pub fn of_company(
    conn: &mut AnyConnection,
    supplier_id: i32,
    tender_id: i32,
) -> QueryResult<Vec<ReceiptLine>> {
    Ok(receipts::table
        .filter(receipts::supplier_id.eq(supplier_id))
        .filter(receipts::tender_id.eq(tender_id))
        .order(receipts::id.desc())
        .select((
            receipts::id,
            receipts::lot_number,
            receipts::number,
            receipts::event,
            receipts::issued_at,
        ))
        .load::<(i32, i32, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, lot, number, event, issued_at)| ReceiptLine {
            id,
            lot,
            number,
            event,
            issued_at,
        })
        .collect())
}

/// One of a company's receipts, as the signed file it was given: (file name, JSON).
pub fn own(
    pool: &crate::db::Pool,
    actor: &crate::auth::Actor,
    id: i32,
) -> Result<(String, String), AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    let (number, body, signature, public_key): (String, String, String, String) = receipts::table
        .inner_join(signing_keys::table.on(signing_keys::key_id.eq(receipts::key_id)))
        .filter(receipts::id.eq(id))
        .filter(receipts::supplier_id.eq(supplier_id))
        .select((
            receipts::number,
            receipts::body,
            receipts::signature,
            signing_keys::public_key,
        ))
        .first(&mut conn)?;
    let signed = assemble(&body, signature, public_key)?;
    Ok((
        format!("accuse-{number}.json"),
        serde_json::to_string_pretty(&signed).map_err(AppError::internal)?,
    ))
}

/// A published key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicKey {
    pub key_id: String,
    pub algorithm: String,
    pub public_key: String,
    pub since: String,
}

/// Every public key that signed receipts on this platform, oldest first (the one in use made
/// if there is none yet, so that the page is never empty).
pub fn public_keys(pool: &crate::db::Pool) -> Result<Vec<PublicKey>, AppError> {
    let mut conn = pool.get()?;
    crate::db::write_transaction(&mut conn, |conn| {
        signer(conn)?;
        Ok(signing_keys::table
            .order(signing_keys::created_at)
            .select((
                signing_keys::key_id,
                signing_keys::public_key,
                signing_keys::created_at,
            ))
            .load::<(String, String, NaiveDateTime)>(conn)?
            .into_iter()
            .map(|(key_id, public_key, since)| PublicKey {
                key_id,
                algorithm: "Ed25519".into(),
                public_key,
                since: rfc3339(since),
            })
            .collect())
    })
}

/// What checking a receipt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The signature holds, by a key among the trusted ones (or, offline without keys given,
    /// by the key the receipt names).
    Valid,
    /// The signature does not hold: the receipt was changed, or not signed by that key.
    BadSignature,
    /// The signature holds, but by a key that is not the platform's.
    UnknownKey,
}

/// A receipt file read, or why it cannot be.
pub fn parse(text: &str) -> Result<SignedReceipt, String> {
    if text.len() > 256 * 1024 {
        return Err("ce fichier est trop grand pour être un accusé de réception".into());
    }
    serde_json::from_str(text).map_err(|e| {
        format!(
            "ce n'est pas un accusé de réception de Groupement (ligne {}, colonne {} : {e})",
            e.line(),
            e.column()
        )
    })
}

/// The last receipt a deposit was given (its number's receipts on that tender and lot; the
/// last of the lot without a number: lot 0 is the DUME), read
/// back and checked against the platform's keys: what the opening compares the stored
/// ciphertexts with. `None` when there is none, or when its signature no longer holds.
pub fn last_checked(
    conn: &mut AnyConnection,
    (supplier_id, tender_id, lot): (i32, i32, i32),
    number: Option<&str>,
) -> Result<Option<ReceiptBody>, AppError> {
    let mut query = receipts::table
        .filter(receipts::supplier_id.eq(supplier_id))
        .filter(receipts::tender_id.eq(tender_id))
        .filter(receipts::lot_number.eq(lot))
        .into_boxed();
    if let Some(number) = number {
        query = query.filter(receipts::number.like(format!("{number}-%")));
    }
    let row: Option<(String, String, String)> = query
        .order(receipts::id.desc())
        .select((receipts::body, receipts::signature, receipts::key_id))
        .first(conn)
        .optional()?;
    let Some((body, signature, key_id)) = row else {
        return Ok(None);
    };
    let public_key: String = signing_keys::table
        .find(&key_id)
        .select(signing_keys::public_key)
        .first(conn)?;
    let signed = assemble(&body, signature, public_key)?;
    Ok(match verify(&signed, None) {
        Verdict::Valid => Some(signed.receipt),
        _ => None,
    })
}

/// Checks a receipt's signature; with `trusted` keys (base64), its key must be one of them.
pub fn verify(signed: &SignedReceipt, trusted: Option<&[String]>) -> Verdict {
    let Ok(public) = B64.decode(signed.public_key.trim()) else {
        return Verdict::BadSignature;
    };
    let Ok(signature) = B64.decode(signed.signature.trim()) else {
        return Verdict::BadSignature;
    };
    let Ok(bytes) = signed_bytes(&signed.receipt) else {
        return Verdict::BadSignature;
    };
    if signed.algorithm != "Ed25519"
        || key_id_of(&public) != signed.key_id
        || UnparsedPublicKey::new(&ED25519, &public)
            .verify(&bytes, &signature)
            .is_err()
    {
        return Verdict::BadSignature;
    }
    match trusted {
        Some(keys) if !keys.iter().any(|k| k.trim() == signed.public_key.trim()) => {
            Verdict::UnknownKey
        }
        _ => Verdict::Valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReceiptBody {
        ReceiptBody {
            version: 1,
            number: "A1B2C3D4E5-1".into(),
            event: "depot".into(),
            tender: "GDC-2027-001".into(),
            lot: 2,
            company: "Menuiserie Dupont".into(),
            siret: "73282932000074".into(),
            received_at: "2027-01-02T10:11:12.123456Z".into(),
            deadline: "2027-02-01T11:00:00.000000Z".into(),
            late: false,
            form_sha256: Some(form_digest(123_400, "mémoire", "")),
            sealed_sha256: None,
            documents: vec![DocumentHash {
                name: "memoire.pdf".into(),
                size_bytes: 3,
                sha256: sha256_hex(b"abc"),
                sealed_sha256: None,
            }],
        }
    }

    fn signed(body: ReceiptBody, seed: &[u8; 32]) -> SignedReceipt {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        SignedReceipt {
            signature: B64.encode(pair.sign(&signed_bytes(&body).unwrap()).as_ref()),
            receipt: body,
            algorithm: "Ed25519".into(),
            key_id: key_id_of(&public),
            public_key: B64.encode(&public),
        }
    }

    #[test]
    fn a_receipt_verifies_and_any_change_to_it_breaks_the_signature() {
        let receipt = signed(sample(), &[7; 32]);
        assert_eq!(verify(&receipt, None), Verdict::Valid);
        // Written out and read back (what a company keeps), it still verifies.
        let text = serde_json::to_string_pretty(&receipt).unwrap();
        let read = parse(&text).unwrap();
        assert_eq!(
            verify(&read, Some(std::slice::from_ref(&receipt.public_key))),
            Verdict::Valid
        );

        let mut later = read.clone();
        later.receipt.received_at = "2027-01-02T10:11:13.123456Z".into();
        assert_eq!(verify(&later, None), Verdict::BadSignature);
        let mut other_document = read.clone();
        other_document.receipt.documents[0].sha256 = sha256_hex(b"abd");
        assert_eq!(verify(&other_document, None), Verdict::BadSignature);
        // Signed by another key put in its place: valid alone, not the platform's.
        let forged = signed(read.receipt.clone(), &[8; 32]);
        assert_eq!(verify(&forged, None), Verdict::Valid);
        assert_eq!(
            verify(&forged, Some(std::slice::from_ref(&receipt.public_key))),
            Verdict::UnknownKey
        );
        // Another key named with the first one's signature.
        let mut swapped = forged.clone();
        swapped.signature = receipt.signature.clone();
        assert_eq!(verify(&swapped, None), Verdict::BadSignature);
        // A field the format does not have is refused when read.
        let extra = text.replacen("\"version\"", "\"extra\": 1, \"version\"", 1);
        assert!(parse(&extra).is_err());
    }

    #[test]
    fn the_form_digest_is_the_sha256_of_its_documented_json() {
        assert_eq!(
            form_digest(1, "a", "b"),
            sha256_hex(br#"{"price_cents":1,"technical_memo":"a","environment_data":"b"}"#)
        );
        assert_ne!(form_digest(1, "a", "b"), form_digest(2, "a", "b"));
    }
}
