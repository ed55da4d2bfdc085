//! The EU notices of a tender (#25), in eForms ([`super::eforms`]): the contract notice written
//! at the publication of a tender whose procedure is formal (refused, with the rules it would
//! break said in French, when the data it needs is missing), a change notice per change of the
//! published tender, the award notice after the award. Each is kept as written, with its
//! status: to send, sent (through a [`NoticeSender`]), published (the TED publication number the
//! lead records).

use super::eforms::{
    self, award_notice_xml, contract_notice_xml, AwardContract, AwardLot, AwardNotice, Buyer,
    ContractNotice, LotOutcome, NoticeChange, NoticeLot, Tenderer,
};
use crate::auth::Actor;
use crate::db::schema::{
    awards, bids, contracts, eforms_notices, lot_needs, lots, needs, organisations, suppliers,
    tender_approvals, tenders,
};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::error::AppError;
use crate::services::audit::{self, Change};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Why a tender has no EU notice, or `None` when it has one: only formal procedures (above the
/// EU thresholds) are announced in the Official Journal.
pub fn why_none(procedure: &str) -> Option<&'static str> {
    match procedure {
        "formal" => None,
        "adapted" => Some(
            "Procédure adaptée : la valeur estimée est sous les seuils européens, l'avis est \
             publié en France (profil d'acheteur, et BOAMP ou JAL selon le montant), sans avis \
             eForms au Journal officiel de l'Union européenne.",
        ),
        _ => Some(
            "Marché sans publicité ni mise en concurrence préalables : aucun avis n'est publié.",
        ),
    }
}

/// Whether a tender is announced in the Official Journal (its procedure is formal).
fn announced(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<bool> {
    let procedure: String = tenders::table
        .find(tender_id)
        .select(tenders::procedure)
        .first(conn)?;
    Ok(why_none(&procedure).is_none())
}

/// The tender's buyers: the coordinator first (the group's lead), then the other members by
/// code.
fn buyers(conn: &mut AnyConnection, tender_id: i32, coordinator: i32) -> QueryResult<Vec<Buyer>> {
    type Row = (
        i32,
        (String, String, Option<String>, String),
        (String, String, String, String, String, String),
    );
    let rows: Vec<Row> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .order(organisations::code)
        .select((
            organisations::id,
            (
                organisations::code,
                organisations::name,
                organisations::siret,
                organisations::kind,
            ),
            (
                organisations::street,
                organisations::postcode,
                organisations::city,
                organisations::phone,
                organisations::email,
                organisations::website,
            ),
        ))
        .load(conn)?;
    let mut buyers: Vec<(bool, Buyer)> = rows
        .into_iter()
        .map(
            |(id, (code, name, siret, kind), (street, postcode, city, phone, email, website))| {
                (
                    id != coordinator,
                    Buyer {
                        code,
                        name,
                        legal_id: siret.unwrap_or_default(),
                        kind,
                        street,
                        postcode,
                        city,
                        email,
                        phone,
                        website,
                        lead: id == coordinator,
                    },
                )
            },
        )
        .collect();
    buyers.sort_by_key(|(after, _)| *after);
    Ok(buyers.into_iter().map(|(_, b)| b).collect())
}

/// The organisation ids of the buyers, in the notice's order.
fn buyer_ids(conn: &mut AnyConnection, tender_id: i32, coordinator: i32) -> QueryResult<Vec<i32>> {
    let mut ids: Vec<(bool, String, i32)> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .select((organisations::code, organisations::id))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .map(|(code, id)| (id != coordinator, code, id))
        .collect();
    ids.sort();
    Ok(ids.into_iter().map(|(_, _, id)| id).collect())
}

/// The lots of a tender with the delivery postcodes and the span of their needs' windows.
fn notice_lots(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<(i32, NoticeLot)>> {
    let rows: Vec<(i32, i32, String, String, i64)> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select((
            lots::id,
            lots::number,
            lots::title,
            lots::cpv_code,
            lots::value_cents,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, number, title, cpv, value_cents) in rows {
        let of_needs: Vec<(String, NaiveDate, NaiveDate)> = lot_needs::table
            .inner_join(needs::table)
            .filter(lot_needs::lot_id.eq(id))
            .select((
                needs::delivery_postcode,
                needs::window_start,
                needs::window_end,
            ))
            .load(conn)?;
        let postcodes: BTreeSet<String> = of_needs.iter().map(|(p, ..)| p.clone()).collect();
        let start = of_needs.iter().map(|n| n.1).min().unwrap_or_default();
        let end = of_needs.iter().map(|n| n.2).max().unwrap_or_default();
        out.push((
            id,
            NoticeLot {
                number: number.max(0) as u32,
                title,
                cpv: cpv.chars().filter(char::is_ascii_digit).take(8).collect(),
                value_cents,
                postcodes: postcodes.into_iter().collect(),
                start,
                end,
            },
        ));
    }
    Ok(out)
}

/// What a notice of the tender says of the tender itself.
struct TenderFacts {
    reference: String,
    title: String,
    family: String,
    coordinator: i32,
    weights: (i32, i32, i32),
    cap: Option<i32>,
    deadline: Option<NaiveDateTime>,
    awarded_at: Option<NaiveDateTime>,
}

fn facts(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<TenderFacts> {
    type Row = (
        String,
        String,
        String,
        i32,
        (Option<i32>, Option<i32>, Option<i32>),
        Option<i32>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let (reference, title, family, coordinator, (p, q, e), cap, deadline, awarded_at): Row =
        tenders::table
            .find(tender_id)
            .select((
                tenders::reference,
                tenders::title,
                tenders::cpv_family,
                tenders::coordinator_id,
                (
                    tenders::weight_price,
                    tenders::weight_quality,
                    tenders::weight_environment,
                ),
                tenders::max_lots_per_supplier,
                tenders::deadline,
                tenders::awarded_at,
            ))
            .first(conn)?;
    Ok(TenderFacts {
        reference,
        title,
        family,
        coordinator,
        weights: (p.unwrap_or(0), q.unwrap_or(0), e.unwrap_or(0)),
        cap,
        deadline,
        awarded_at,
    })
}

fn description(f: &TenderFacts, buyers: &[Buyer]) -> String {
    format!(
        "Consultation groupée {} ({}) des membres du groupement de commandes : {}. Coordonnateur : {}.",
        f.reference,
        crate::services::tenders::family_label(&f.family),
        buyers
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        buyers.first().map_or("", |b| b.name.as_str()),
    )
}

/// The contract notice of a tender as its data stands (a change notice when `change` is given).
pub fn contract_notice(
    conn: &mut AnyConnection,
    tender_id: i32,
    base_url: &str,
    issued: NaiveDateTime,
    change: Option<NoticeChange>,
) -> Result<ContractNotice, AppError> {
    let f = facts(conn, tender_id)?;
    let buyers = buyers(conn, tender_id, f.coordinator)?;
    let lots = notice_lots(conn, tender_id)?
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    let url = format!(
        "{}/appels-d-offres/{}",
        base_url.trim_end_matches('/'),
        f.reference
    );
    Ok(ContractNotice {
        description: description(&f, &buyers),
        reference: f.reference,
        title: f.title,
        buyers,
        lots,
        weights: f.weights,
        max_lots_per_supplier: f.cap,
        deadline: f.deadline.unwrap_or(issued),
        issued,
        documents_url: url.clone(),
        submission_url: url,
        version: 1,
        review_body: eforms::dijon_court(&crate::services::admin::review_body_id(conn)?),
        change,
    })
}

/// The rules of the eForms SDK a contract notice would break, said in French with the business
/// term each concerns; empty when it can be sent. These are the rules the tender's own data can
/// break (an organisation's identifier or contact, a lot's classification or value, the
/// criteria, the deadline); the notice's structure is checked by the test suite against the
/// SDK's schemas and complete rules.
pub fn failed_rules(n: &ContractNotice) -> Vec<String> {
    let mut failed = Vec::new();
    let admin = "à renseigner par l'administrateur dans Administration › Organisations";
    for b in &n.buyers {
        let who = format!("{} ({})", b.name, b.code);
        for (missing, rule) in [
            (b.legal_id.is_empty(), "BT-501 (identifiant légal : SIRET)"),
            (b.city.is_empty(), "BT-513 (commune de l'adresse)"),
            (b.postcode.is_empty(), "BT-512 (code postal)"),
            (b.phone.is_empty(), "BT-503 (téléphone de contact)"),
            (b.email.is_empty(), "BT-506 (adresse e-mail de contact)"),
        ] {
            if missing {
                failed.push(format!("{rule} manquant pour l'acheteur {who} — {admin}"));
            }
        }
        if !b.postcode.is_empty() && eforms::nuts_of_postcode(&b.postcode).is_none() {
            failed.push(format!(
                "BT-507 (région NUTS) : le code postal {} de l'acheteur {who} ne correspond à \
                 aucun département",
                b.postcode
            ));
        }
    }
    if n.review_body.legal_id.is_empty() {
        failed.push(format!(
            "BT-501 (identifiant légal) manquant pour l'instance de recours ({}) — {admin}",
            n.review_body.name
        ));
    }
    if n.lots.is_empty() {
        failed.push("BT-137 (lot) : la consultation n'a aucun lot".into());
    }
    for lot in &n.lots {
        if lot.cpv.len() != 8 {
            failed.push(format!(
                "BT-262 (code CPV principal) du lot {} : « {} » n'a pas 8 chiffres",
                lot.number, lot.cpv
            ));
        }
        if lot.value_cents <= 0 {
            failed.push(format!(
                "BT-27 (valeur estimée) du lot {} : elle doit être positive",
                lot.number
            ));
        }
        if lot.end < lot.start {
            failed.push(format!(
                "BT-536/BT-537 (durée) du lot {} : la fin précède le début",
                lot.number
            ));
        }
    }
    let (p, q, e) = n.weights;
    if p + q + e != 100 {
        failed.push(format!(
            "BT-541 (pondération des critères) : leur somme fait {} au lieu de 100",
            p + q + e
        ));
    }
    if n.deadline <= n.issued {
        failed.push("BT-131 (date limite de réception des offres) : elle est passée".into());
    }
    failed
}

/// Before a publication is confirmed: the rules the contract notice would break with these
/// weights and this deadline (`None`: the tender gets no notice).
pub fn preflight(
    pool: &Pool,
    tender_id: i32,
    weights: (i32, i32, i32),
    deadline: NaiveDateTime,
) -> Result<Option<Vec<String>>, AppError> {
    let mut conn = pool.get()?;
    if !announced(&mut conn, tender_id)? {
        return Ok(None);
    }
    let mut notice = contract_notice(&mut conn, tender_id, "", Utc::now().naive_utc(), None)?;
    notice.weights = weights;
    notice.deadline = deadline;
    Ok(Some(failed_rules(&notice)))
}

/// The refusal of a notice that breaks rules: every rule named, under one field.
fn refusal(failed: Vec<String>) -> AppError {
    let mut problems = crate::error::Problems::default();
    for rule in failed {
        problems.add("avis européen (eForms)", rule);
    }
    AppError::Validation(problems)
}

fn insert(
    conn: &mut AnyConnection,
    tender_id: i32,
    kind: &str,
    notice_id: &str,
    change_id: Option<i32>,
    xml: &str,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(eforms_notices::table)
        .values((
            eforms_notices::tender_id.eq(tender_id),
            eforms_notices::kind.eq(kind),
            eforms_notices::notice_id.eq(notice_id),
            eforms_notices::version.eq(1),
            eforms_notices::change_id.eq(change_id),
            eforms_notices::xml.eq(xml),
            eforms_notices::created_at.eq(now),
        ))
        .returning(eforms_notices::id)
        .get_result(conn)
}

/// At publication (in its transaction): writes the contract notice of a formal tender, or
/// refuses the publication with the rules the notice would break. Nothing for another
/// procedure.
pub fn record_contract_notice(
    conn: &mut AnyConnection,
    tender_id: i32,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    if !announced(conn, tender_id)? {
        return Ok(None);
    }
    let notice = contract_notice(conn, tender_id, base_url, now, None)?;
    let failed = failed_rules(&notice);
    if !failed.is_empty() {
        return Err(refusal(failed));
    }
    let id = eforms::notice_id(&notice.reference, None);
    insert(
        conn,
        tender_id,
        "contract",
        &id,
        None,
        &contract_notice_xml(&notice),
        now,
    )?;
    Ok(Some(id))
}

/// After a change of a published tender (in its transaction): the change notice, when the
/// tender has a contract notice. Refused, with the change, when it would break a rule.
pub fn record_change_notice(
    conn: &mut AnyConnection,
    tender_id: i32,
    change_id: i32,
    summary: &str,
    documents_changed: bool,
    base_url: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    let original: Option<String> = eforms_notices::table
        .filter(eforms_notices::tender_id.eq(tender_id))
        .filter(eforms_notices::kind.eq("contract"))
        .select(eforms_notices::notice_id)
        .first(conn)
        .optional()?;
    let Some(original) = original else {
        return Ok(None);
    };
    let previous: i64 = eforms_notices::table
        .filter(eforms_notices::tender_id.eq(tender_id))
        .filter(eforms_notices::kind.eq("change"))
        .count()
        .get_result(conn)?;
    let number = previous as u32 + 1;
    let change = NoticeChange {
        number,
        changed_notice_id: original,
        changed_version: 1,
        description: summary.to_string(),
        documents_changed: documents_changed.then(|| crate::domain::to_paris(now).0.date()),
    };
    let notice = contract_notice(conn, tender_id, base_url, now, Some(change))?;
    let failed = failed_rules(&notice);
    if !failed.is_empty() {
        return Err(refusal(failed));
    }
    let id = eforms::notice_id(&notice.reference, Some(number));
    insert(
        conn,
        tender_id,
        "change",
        &id,
        Some(change_id),
        &contract_notice_xml(&notice),
        now,
    )?;
    Ok(Some(id))
}

/// The award notice of a formal tender as its award stands.
pub fn award_notice(
    conn: &mut AnyConnection,
    tender_id: i32,
    issued: NaiveDateTime,
) -> Result<AwardNotice, AppError> {
    let f = facts(conn, tender_id)?;
    let buyers = buyers(conn, tender_id, f.coordinator)?;
    let buyer_ids = buyer_ids(conn, tender_id, f.coordinator)?;
    let mut tenderers: Vec<Tenderer> = Vec::new();
    let mut tenderer_index: BTreeMap<(i32, Vec<i32>), usize> = BTreeMap::new();
    let mut lots_out = Vec::new();
    for (lot_id, lot) in notice_lots(conn, tender_id)? {
        let offered: Vec<(i32, i64, bool)> = bids::table
            .inner_join(suppliers::table)
            .filter(bids::lot_id.eq(lot_id))
            // The bids received and kept: a withdrawn one is not a tender of the lot.
            .filter(bids::status.eq(crate::domain::BidStatus::Submitted))
            .select((bids::id, bids::price_cents, suppliers::sme))
            .load(conn)?;
        let award: Option<(String, Option<i32>)> = awards::table
            .filter(awards::lot_id.eq(lot_id))
            .order(awards::id.desc())
            .select((awards::status, awards::winning_bid_id))
            .first(conn)
            .optional()?;
        let outcome = match award {
            Some((status, Some(bid_id))) if status == "awarded" => {
                let (supplier_id, price): (i32, i64) = bids::table
                    .find(bid_id)
                    .select((bids::supplier_id, bids::price_cents))
                    .first(conn)?;
                // A company wins alone or leading a group (#24): one tendering party each.
                let members: Vec<i32> = crate::services::groups::of_bids(conn, &[bid_id])?
                    .remove(&bid_id)
                    .map(|g| g.members.iter().map(|m| m.supplier_id).collect())
                    .unwrap_or_default();
                let key = (supplier_id, members.clone());
                let winner = match tenderer_index.get(&key) {
                    Some(k) => *k,
                    None => {
                        let mut lead = tenderer(conn, supplier_id)?;
                        for member in members {
                            lead.partners.push(tenderer(conn, member)?);
                        }
                        tenderers.push(lead);
                        tenderer_index.insert(key, tenderers.len() - 1);
                        tenderers.len() - 1
                    }
                };
                let signed: Vec<(i32, NaiveDate, Option<NaiveDate>)> = contracts::table
                    .filter(contracts::lot_id.eq(lot_id))
                    .order(contracts::uid)
                    .select((
                        contracts::organisation_id,
                        contracts::notified_on,
                        contracts::signed_on,
                    ))
                    .load(conn)?;
                let prices = offered.iter().map(|b| b.1);
                LotOutcome::Awarded {
                    winner,
                    amount_cents: price,
                    highest_cents: prices.clone().max().unwrap_or(price),
                    lowest_cents: prices.min().unwrap_or(price),
                    contracts: signed
                        .into_iter()
                        .filter_map(|(organisation, notified, signed)| {
                            Some(AwardContract {
                                buyer: buyer_ids.iter().position(|id| *id == organisation)?,
                                concluded: signed.unwrap_or(notified),
                            })
                        })
                        .collect(),
                }
            }
            _ => LotOutcome::Unsuccessful {
                reason: match offered.is_empty() {
                    true => "no-rece",
                    false => "all-rej",
                },
            },
        };
        lots_out.push(AwardLot {
            bids: offered.len() as u32,
            sme_bids: offered.iter().filter(|b| b.2).count() as u32,
            lot,
            outcome,
        });
    }
    let contract_notice_id: Option<String> = eforms_notices::table
        .filter(eforms_notices::tender_id.eq(tender_id))
        .filter(eforms_notices::kind.eq("contract"))
        .select(eforms_notices::notice_id)
        .first(conn)
        .optional()?;
    let awarded = crate::domain::to_paris(f.awarded_at.unwrap_or(issued))
        .0
        .date();
    Ok(AwardNotice {
        description: description(&f, &buyers),
        reference: f.reference,
        title: f.title,
        buyers,
        review_body: eforms::dijon_court(&crate::services::admin::review_body_id(conn)?),
        tenderers,
        lots: lots_out,
        weights: f.weights,
        awarded,
        issued,
        contract_notice_id,
    })
}

/// After the award of a formal tender: its award notice. Written again, while not yet sent,
/// each time a member signs its contract (the notice gives the day the last one signed); kept
/// as it is once sent.
pub fn record_award_notice(
    conn: &mut AnyConnection,
    tender_id: i32,
    now: NaiveDateTime,
) -> Result<Option<String>, AppError> {
    if !announced(conn, tender_id)? {
        return Ok(None);
    }
    let notice = award_notice(conn, tender_id, now)?;
    let id = eforms::award_notice_id(&notice.reference);
    diesel::delete(
        eforms_notices::table
            .filter(eforms_notices::notice_id.eq(&id))
            .filter(eforms_notices::status.eq("to_send")),
    )
    .execute(conn)?;
    let kept: i64 = eforms_notices::table
        .filter(eforms_notices::notice_id.eq(&id))
        .count()
        .get_result(conn)?;
    if kept == 0 {
        insert(
            conn,
            tender_id,
            "award",
            &id,
            None,
            &award_notice_xml(&notice),
            now,
        )?;
    }
    Ok(Some(id))
}

/// A notice as the tender page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeRow {
    pub id: i32,
    pub kind: String,
    pub kind_label: &'static str,
    pub notice_id: String,
    pub status: String,
    pub status_label: &'static str,
    pub channel: Option<String>,
    pub ted_number: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub to_send: bool,
    pub sent: bool,
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "contract" => "Avis de marché (eForms 16)",
        "change" => "Avis rectificatif (eForms 16, modification)",
        _ => "Avis d'attribution (eForms 29)",
    }
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "to_send" => "à envoyer",
        "sent" => "envoyé, en attente de publication",
        _ => "publié au JOUE",
    }
}

/// The notices of a tender, oldest first.
pub fn notices_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<NoticeRow>> {
    type Row = (
        i32,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = eforms_notices::table
        .filter(eforms_notices::tender_id.eq(tender_id))
        .order(eforms_notices::id)
        .select((
            eforms_notices::id,
            eforms_notices::kind,
            eforms_notices::notice_id,
            eforms_notices::status,
            eforms_notices::channel,
            eforms_notices::ted_number,
            eforms_notices::created_at,
            eforms_notices::sent_at,
            eforms_notices::published_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                kind,
                notice_id,
                status,
                channel,
                ted_number,
                created_at,
                sent_at,
                published_at,
            )| {
                NoticeRow {
                    id,
                    kind_label: kind_label(&kind),
                    kind,
                    notice_id,
                    status_label: status_label(&status),
                    to_send: status == "to_send",
                    sent: status == "sent",
                    status,
                    channel,
                    ted_number,
                    created_at,
                    sent_at,
                    published_at,
                }
            },
        )
        .collect())
}

/// Whether the actor's organisation is a member of the tender (its notices are the members').
fn member_of(conn: &mut AnyConnection, actor: &Actor, tender_id: i32) -> Result<i32, AppError> {
    let organisation_id = actor.require_member()?;
    let member: i64 = tender_approvals::table
        .filter(tender_approvals::tender_id.eq(tender_id))
        .filter(tender_approvals::organisation_id.eq(organisation_id))
        .count()
        .get_result(conn)?;
    match member {
        0 => Err(AppError::NotFound),
        _ => Ok(organisation_id),
    }
}

/// The notices of a tender for one of its members.
pub fn notices_for(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<Vec<NoticeRow>, AppError> {
    let mut conn = pool.get()?;
    member_of(&mut conn, actor, tender_id)?;
    Ok(notices_of(&mut conn, tender_id)?)
}

/// A notice's XML for a member of its tender: the one named, or the latest. File name and text.
pub fn notice_file(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    id: Option<i32>,
) -> Result<(String, String), AppError> {
    let mut conn = pool.get()?;
    member_of(&mut conn, actor, tender_id)?;
    file_of(&mut conn, tender_id, id)
}

fn file_of(
    conn: &mut AnyConnection,
    tender_id: i32,
    id: Option<i32>,
) -> Result<(String, String), AppError> {
    let mut query = eforms_notices::table
        .inner_join(tenders::table)
        .filter(eforms_notices::tender_id.eq(tender_id))
        .select((
            tenders::reference,
            eforms_notices::kind,
            eforms_notices::id,
            eforms_notices::xml,
        ))
        .order(eforms_notices::id.desc())
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(eforms_notices::id.eq(id));
    }
    let (reference, kind, id, xml): (String, String, i32, String) =
        query.first(conn).optional()?.ok_or(AppError::NotFound)?;
    let name = match kind.as_str() {
        "contract" => "avis-de-marche",
        "change" => "avis-rectificatif",
        _ => "avis-d-attribution",
    };
    Ok((format!("{reference}-{name}-{id}.xml"), xml))
}

/// The latest notice of a tender found by reference, for the command line (no account).
pub fn notice_by_reference(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<(String, String), AppError> {
    let tender_id: i32 = tenders::table
        .filter(tenders::reference.eq(reference))
        .select(tenders::id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    file_of(conn, tender_id, None)
}

/// How a notice leaves the platform. Here the lead sends it through the Publications Office's
/// eSender or BOAMP by hand ([`ManualSender`]); an eSender's or TED's API plugs in here.
pub trait NoticeSender {
    /// The channel recorded with the notice (`manuel`, `ted-api`, …).
    fn channel(&self) -> &'static str;
    /// Sends the notice; `Err` says why it was not sent.
    fn send(&self, notice_id: &str, xml: &str) -> Result<(), String>;
}

/// The lead downloaded the notice and sent it themself: nothing to do but record it.
pub struct ManualSender;

impl NoticeSender for ManualSender {
    fn channel(&self) -> &'static str {
        "manuel"
    }

    fn send(&self, _notice_id: &str, _xml: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The coordinator's lead's notice, with its status; 404 for another tender's.
fn coordinated_notice(
    conn: &mut AnyConnection,
    actor: &Actor,
    tender_id: i32,
    id: i32,
) -> Result<(String, String, String), AppError> {
    let organisation_id = member_of(conn, actor, tender_id)?;
    actor.require_lead()?;
    let coordinator: i32 = tenders::table
        .find(tender_id)
        .select(tenders::coordinator_id)
        .first(conn)?;
    if coordinator != organisation_id {
        return Err(AppError::Forbidden);
    }
    eforms_notices::table
        .filter(eforms_notices::tender_id.eq(tender_id))
        .filter(eforms_notices::id.eq(id))
        .select((
            eforms_notices::notice_id,
            eforms_notices::status,
            eforms_notices::xml,
        ))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Sends a notice to send, through `sender`: it becomes sent. The coordinator's lead only.
pub fn send(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    id: i32,
    sender: &dyn NoticeSender,
) -> Result<(), AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (notice_id, status, xml) = coordinated_notice(conn, actor, tender_id, id)?;
        if status != "to_send" {
            return Err(AppError::Conflict(format!(
                "l'avis est déjà « {} »",
                status_label(&status)
            )));
        }
        sender
            .send(&notice_id, &xml)
            .map_err(|e| AppError::Conflict(format!("l'avis n'a pas été envoyé : {e}")))?;
        let now = Utc::now().naive_utc();
        diesel::update(eforms_notices::table.find(id))
            .set((
                eforms_notices::status.eq("sent"),
                eforms_notices::channel.eq(sender.channel()),
                eforms_notices::sent_at.eq(now),
                eforms_notices::sent_by.eq(actor.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("notice.sent", "tender", tender_id)
                .after(format!("avis {notice_id} envoyé ({})", sender.channel())),
        )?;
        Ok(())
    })
}

/// Checks a TED publication number: `NNNNNN-AAAA` (the notice's number in the Official Journal
/// S and its year), as TED writes it (`123456-2027`; leading zeros may be left out).
pub fn parse_ted_number(text: &str) -> Result<String, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "« {text} » n'est pas un numéro de publication TED : il s'écrit numéro-année, par \
             exemple 123456-2027"
        )
    };
    let (number, year) = text.split_once('-').ok_or_else(bad)?;
    let number_ok = (1..=8).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    let year_ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && year
            .parse::<i32>()
            .is_ok_and(|y| (2023..=2100).contains(&y));
    match number_ok && year_ok && !number.trim_start_matches('0').is_empty() {
        true => Ok(format!("{:0>8}-{year}", number)),
        false => Err(bad()),
    }
}

/// Records the TED publication of a sent notice: its number. The coordinator's lead only.
pub fn record_publication(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    id: i32,
    ted_number: &str,
) -> Result<String, AppError> {
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        // Someone else's notice is not found, whatever the number typed.
        let (notice_id, status, _) = coordinated_notice(conn, actor, tender_id, id)?;
        let number = parse_ted_number(ted_number)
            .map_err(|e| AppError::validation("numéro de publication TED", e))?;
        if status != "sent" {
            return Err(AppError::Conflict(format!(
                "l'avis est « {} » : seul un avis envoyé se publie",
                status_label(&status)
            )));
        }
        let taken: i64 = eforms_notices::table
            .filter(eforms_notices::ted_number.eq(&number))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::validation(
                "numéro de publication TED",
                format!("le numéro {number} est déjà celui d'un autre avis"),
            ));
        }
        diesel::update(eforms_notices::table.find(id))
            .set((
                eforms_notices::status.eq("published"),
                eforms_notices::ted_number.eq(&number),
                eforms_notices::published_at.eq(Utc::now().naive_utc()),
                eforms_notices::published_by.eq(actor.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("notice.published", "tender", tender_id).after(format!(
                "avis {notice_id} publié au JOUE sous le n° {number}"
            )),
        )?;
        Ok(number)
    })
}

/// A company as the award notice names it.
fn tenderer(conn: &mut AnyConnection, supplier_id: i32) -> Result<Tenderer, AppError> {
    let (name, siret, postcode, city, email, sme) =
        crate::services::suppliers::identity(conn, supplier_id)?;
    Ok(Tenderer {
        name,
        siret,
        postcode,
        city,
        email,
        phone: String::new(),
        sme,
        partners: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ted_numbers_are_read_as_ted_writes_them() {
        assert_eq!(parse_ted_number(" 123456-2027 ").unwrap(), "00123456-2027");
        assert_eq!(parse_ted_number("00123456-2027").unwrap(), "00123456-2027");
        for bad in [
            "",
            "123456",
            "123456-27",
            "abc-2027",
            "0-2027",
            "123456789-2027",
            "1-1999",
        ] {
            assert!(parse_ted_number(bad).is_err(), "{bad}");
        }
    }
}
