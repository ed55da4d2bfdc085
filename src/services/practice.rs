//! The practice deposit: a company rehearses a bid end to end — its form, a document checked
//! exactly as a real one is, and the receipt signed by the platform — on a practice tender
//! (`ENTRAINEMENT`) that belongs to no buyer. Nothing of it counts anywhere: no bid, no
//! document kept, no tender's journal; only its receipt, marked `entrainement`, so that the
//! company can download it and check it offline as it would a real one.

use crate::auth::Actor;
use crate::db::{write_transaction, Pool};
use crate::error::{AppError, Problems};
use crate::services::receipts;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

/// The practice tender's reference, as its receipts name it.
pub const REFERENCE: &str = "ENTRAINEMENT";

/// The practice form: what a real bid's form asks.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct PracticeForm {
    #[serde(default)]
    pub price_eur: String,
    #[serde(default)]
    pub technical_memo: String,
}

/// What a practice deposit gave: the receipt (its id for the download) and what was checked.
#[derive(Debug, Serialize)]
pub struct PracticeOutcome {
    pub receipt_id: i32,
    pub receipt: receipts::SignedReceipt,
}

/// A practice deposit, checked as a real one; the receipt kept, nothing else.
pub fn deposit(
    pool: &Pool,
    actor: &Actor,
    form: &PracticeForm,
    file: Option<(&str, &[u8])>,
) -> Result<PracticeOutcome, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut problems = Problems::default();
    // Checked as a real bid's form is.
    let price = crate::services::bids::check_form(
        &mut problems,
        &crate::services::bids::BidForm {
            price_eur: form.price_eur.clone(),
            technical_memo: form.technical_memo.clone(),
            environment_data: String::new(),
            ..Default::default()
        },
    );
    let document = match file {
        // Checked as a bid's document is: a company may rehearse a file it encrypted itself.
        Some((name, bytes)) => match crate::services::bids::checked_document(name, bytes) {
            Ok((name, _)) => Some(receipts::DocumentHash {
                name: name.to_string(),
                size_bytes: bytes.len() as i64,
                sha256: receipts::sha256_hex(bytes),
                sealed_sha256: None,
            }),
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
    problems.finish()?;
    let price = price.ok_or_else(|| AppError::internal("price checked without value"))?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let now = Utc::now().naive_utc();
        let number = crate::services::bids::receipt_number();
        let (receipt_id, receipt) = receipts::issue(
            conn,
            receipts::Deposit {
                supplier_id,
                tender_id: None,
                reference: REFERENCE,
                lot: 1,
                number: &number,
                event: "entrainement",
                received_at: now,
                deadline: now + Duration::hours(1),
                late: false,
                form_sha256: Some(receipts::form_digest(
                    price.get(),
                    form.technical_memo.trim(),
                    "",
                )),
                sealed_sha256: None,
                documents: document.clone().into_iter().collect(),
            },
        )?;
        Ok(PracticeOutcome {
            receipt_id,
            receipt,
        })
    })
}

/// The company's practice receipts, newest first.
pub fn receipts_of(pool: &Pool, actor: &Actor) -> Result<Vec<receipts::ReceiptLine>, AppError> {
    use crate::db::schema::receipts as table;
    use diesel::prelude::*;
    let supplier_id = actor.require_supplier()?;
    let mut conn = pool.get()?;
    Ok(table::table
        .filter(table::supplier_id.eq(supplier_id))
        .filter(table::tender_id.is_null())
        .order(table::id.desc())
        .limit(20)
        .select((
            table::id,
            table::lot_number,
            table::number,
            table::event,
            table::issued_at,
        ))
        .load::<(i32, i32, String, String, chrono::NaiveDateTime)>(&mut conn)?
        .into_iter()
        .map(
            |(id, lot, number, event, issued_at)| receipts::ReceiptLine {
                id,
                lot,
                number,
                event,
                issued_at,
            },
        )
        .collect())
}
