//! A tender's key (#23): made at publication, its public half published on the notice (bids are
//! encrypted to it), its secret split between the members concerned — one share per member,
//! encrypted to the opening keys of its leads — and the recovery key, then forgotten.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::{opening_keys, tender_seals, tender_shares};
use crate::services::seal;
use serde::Serialize;

/// Who holds a share of a tender's key, as the notice announces it.
#[derive(Debug, Clone, Serialize)]
pub struct Sealing {
    /// The tender's public key (`age1…`): what a company may encrypt its documents to.
    pub recipient: String,
    /// How many shares open the bids.
    pub threshold: i32,
    /// The holders: the members' codes, then « clé de secours ».
    pub holders: Vec<String>,
    /// Whether the opening has started, and when.
    pub opening_started_at: Option<chrono::NaiveDateTime>,
}

/// The sealing of a tender, if it has one (tenders published before sealing existed have none).
pub fn sealing_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Option<Sealing>> {
    let Some((recipient, threshold, opening_started_at)) = tender_seals::table
        .find(tender_id)
        .select((
            tender_seals::recipient,
            tender_seals::threshold,
            tender_seals::opening_started_at,
        ))
        .first::<(String, i32, Option<chrono::NaiveDateTime>)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let holders: Vec<(Option<String>, Option<i32>)> = tender_shares::table
        .left_join(organisations::table)
        .filter(tender_shares::tender_id.eq(tender_id))
        .order((
            tender_shares::recovery_key_id.is_not_null(),
            organisations::code,
        ))
        .select((
            organisations::code.nullable(),
            tender_shares::recovery_key_id,
        ))
        .load(conn)?;
    Ok(Some(Sealing {
        recipient,
        threshold,
        holders: holders
            .into_iter()
            .map(|(code, _)| code.unwrap_or_else(|| "clé de secours".into()))
            .collect(),
        opening_started_at,
    }))
}

/// The public key bids of a tender are encrypted to, if it is sealed.
pub fn recipient_of(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> Result<Option<age::x25519::Recipient>, AppError> {
    let text: Option<String> = tender_seals::table
        .find(tender_id)
        .select(tender_seals::recipient)
        .first(conn)
        .optional()?;
    text.map(|t| seal::recipient(&t).map_err(AppError::internal))
        .transpose()
}

/// The threshold a publication form asks for (empty: the default), checked against the
/// shares the tender will have once [`seal_tender`] knows them.
pub fn parse_threshold(text: &str) -> Result<Option<u8>, String> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<u8>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| format!("« {t} » n'est pas un nombre de clés (1, 2, 3…)")),
    }
}

/// What a publication lacks when members have no lead with an opening key.
fn missing_keys_text(members: &[String]) -> String {
    format!(
        "les offres seront chiffrées jusqu'à leur ouverture par les membres : {} n'a pas encore \
         de responsable des achats avec une clé d'ouverture (Mon compte › Clé d'ouverture)",
        members.join(", ")
    )
}

/// The members of a tender without a lead who has an opening key (their codes): said before
/// the publication is confirmed.
pub fn members_without_keys(pool: &Pool, tender_id: i32) -> Result<Option<String>, AppError> {
    let mut conn = pool.get()?;
    let missing: Vec<String> = members_and_keys(&mut conn, tender_id)?
        .into_iter()
        .filter(|(_, _, keys)| keys.is_empty())
        .map(|(_, code, _)| code)
        .collect();
    Ok((!missing.is_empty()).then(|| missing_keys_text(&missing)))
}

/// The members of a tender (id, code) with the opening keys of their leads (public halves).
type MemberKeys = (i32, String, Vec<String>);

fn members_and_keys(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<MemberKeys>> {
    let members: Vec<(i32, String)> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .order(organisations::code)
        .select((organisations::id, organisations::code))
        .load(conn)?;
    let mut out = Vec::with_capacity(members.len());
    for (organisation_id, code) in members {
        let keys: Vec<String> = users::table
            .inner_join(opening_keys::table)
            .filter(users::organisation_id.eq(organisation_id))
            .filter(users::role.eq("lead"))
            .order(users::id)
            .select(opening_keys::recipient)
            .load(conn)?;
        out.push((organisation_id, code, keys));
    }
    Ok(out)
}

/// Makes the tender's key at publication and shares its secret (in the publication's
/// transaction). Refused, naming them, when a member has no lead with an opening key.
pub fn seal_tender(
    conn: &mut AnyConnection,
    tender_id: i32,
    threshold: Option<u8>,
) -> Result<Sealing, AppError> {
    let keys_of_member = members_and_keys(conn, tender_id)?;
    let missing: Vec<String> = keys_of_member
        .iter()
        .filter(|(_, _, keys)| keys.is_empty())
        .map(|(_, code, _)| code.clone())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::validation(
            "clés d'ouverture",
            missing_keys_text(&missing),
        ));
    }
    let recovery = crate::services::keys::recovery(conn)?;
    let members = keys_of_member.len();
    let count = members + usize::from(recovery.is_some());
    let default = members.clamp(1, 2) as u8;
    let threshold = threshold.unwrap_or(default);
    if usize::from(threshold) > count {
        return Err(AppError::validation(
            "clés pour ouvrir",
            format!("{threshold} clés demandées, mais la consultation n'en a que {count}"),
        ));
    }
    if members >= 2 && threshold < 2 {
        return Err(AppError::validation(
            "clés pour ouvrir",
            "une consultation conjointe s'ouvre à deux clés au moins : les membres ensemble",
        ));
    }
    let pair = seal::KeyPair::generate();
    let shares = seal::split(&pair.secret_text(), threshold, count).map_err(AppError::internal)?;
    let now = Utc::now().naive_utc();
    diesel::insert_into(tender_seals::table)
        .values((
            tender_seals::tender_id.eq(tender_id),
            tender_seals::recipient.eq(&pair.recipient),
            tender_seals::threshold.eq(i32::from(threshold)),
            tender_seals::created_at.eq(now),
        ))
        .execute(conn)?;
    let mut shares = shares.into_iter();
    for (organisation_id, _, keys) in &keys_of_member {
        let recipients = keys
            .iter()
            .map(|k| seal::recipient(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::internal)?;
        let share = shares
            .next()
            .ok_or_else(|| AppError::internal("fewer shares than holders"))?;
        let sealed = seal::encrypt(&recipients, &share).map_err(AppError::internal)?;
        diesel::insert_into(tender_shares::table)
            .values((
                tender_shares::tender_id.eq(tender_id),
                tender_shares::organisation_id.eq(Some(*organisation_id)),
                tender_shares::sealed_share.eq(sealed),
            ))
            .execute(conn)?;
    }
    if let Some((recovery_id, recipient, _)) = &recovery {
        let share = shares
            .next()
            .ok_or_else(|| AppError::internal("fewer shares than holders"))?;
        let sealed = seal::encrypt(
            &[seal::recipient(recipient).map_err(AppError::internal)?],
            &share,
        )
        .map_err(AppError::internal)?;
        diesel::insert_into(tender_shares::table)
            .values((
                tender_shares::tender_id.eq(tender_id),
                tender_shares::recovery_key_id.eq(Some(*recovery_id)),
                tender_shares::sealed_share.eq(sealed),
            ))
            .execute(conn)?;
    }
    // The secret leaves memory here (wiped on drop): only its shares remain, encrypted.
    drop(pair);
    sealing_of(conn, tender_id)?.ok_or_else(|| AppError::internal("seal just written"))
}
