//! Open data: every published tender as an OCDS 1.1.5 release package (with the lots
//! extension), and the contracts of €40,000 and more in the DECP v2 format (R2196-1). The same
//! documents are served at `/open-data/…` and written by `groupement export ocds|decp`.
//!
//! Nothing sealed leaks: who bid, and for how much, appears only once the tender is awarded.

use crate::db::models::Tender;
use crate::db::schema::{
    awards, bids, contracts, lot_needs, lots, needs, organisations, suppliers, tender_documents,
    tenders,
};
use crate::db::AnyConnection;
use crate::domain::{BidStatus, Cents, ContractStatus, TenderStatus};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Contracts published as DECP from this amount, in cents (R2196-1).
pub const DECP_THRESHOLD_CENTS: i64 = 4_000_000;

/// The lots extension of OCDS.
pub const LOTS_EXTENSION: &str =
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/master/extension.json";

const PUBLISHER: &str = "Groupement de commandes publiques de la métropole de Dijon";

fn iso(moment: NaiveDateTime) -> String {
    moment.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn euros(cents: i64) -> Value {
    json!({ "amount": Cents::new(cents).to_euros_f64(), "currency": "EUR" })
}

/// A party's id: `FR-SIRET-<siret>` when it has one, else a stable local id.
fn party_id(siret: Option<&str>, local: &str) -> String {
    match siret {
        Some(siret) => format!("FR-SIRET-{siret}"),
        None => format!("FR-GRP-{local}"),
    }
}

struct Organisation {
    code: String,
    name: String,
    siret: Option<String>,
}

struct Supplier {
    name: String,
    siret: String,
    postcode: String,
    commune: String,
}

/// A bid's company as read: bid, supplier id, name, SIRET, postcode, commune.
type BidderRow = (i32, i32, String, String, String, String);

fn bidder((bid, supplier, name, siret, postcode, commune): BidderRow) -> (i32, i32, Supplier) {
    (
        bid,
        supplier,
        Supplier {
            name,
            siret,
            postcode,
            commune,
        },
    )
}

fn organisation_party(o: &Organisation, roles: &[&str]) -> Value {
    let mut party = json!({
        "id": party_id(o.siret.as_deref(), &o.code),
        "name": o.name,
        "roles": roles,
        "address": { "countryName": "France" },
    });
    if let Some(siret) = &o.siret {
        party["identifier"] = json!({ "scheme": "FR-SIRET", "id": siret, "legalName": o.name });
    }
    party
}

fn supplier_party(s: &Supplier, roles: &[&str]) -> Value {
    json!({
        "id": party_id(Some(&s.siret), &s.siret),
        "name": s.name,
        "identifier": { "scheme": "FR-SIRET", "id": s.siret, "legalName": s.name },
        "address": { "postalCode": s.postcode, "locality": s.commune, "countryName": "France" },
        "roles": roles,
    })
}

fn method_of(procedure: &str) -> (&'static str, &'static str) {
    match procedure {
        "formal" => ("open", "Appel d'offres ouvert"),
        "adapted" => ("open", "Procédure adaptée"),
        _ => (
            "limited",
            "Marché passé sans publicité ni mise en concurrence préalable",
        ),
    }
}

fn category_of(cpv: &str) -> &'static str {
    match cpv.get(..2) {
        Some("45") => "works",
        Some(d) if d.as_bytes()[0] < b'5' => "goods",
        _ => "services",
    }
}

/// How many releases the OCDS package and how many contracts the DECP file hold, counted by
/// the database with the documents' own conditions (for the open-data page, which needs no
/// document built).
pub fn counts(conn: &mut AnyConnection) -> QueryResult<(i64, i64)> {
    let releases = tenders::table
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .count()
        .get_result(conn)?;
    let contracts = contracts::table
        .inner_join(organisations::table)
        .inner_join(suppliers::table)
        .inner_join(lots::table)
        .inner_join(tenders::table)
        .filter(contracts::amount_cents.ge(DECP_THRESHOLD_CENTS))
        .filter(contracts::status.eq(ContractStatus::Active))
        .filter(contracts::signed_on.is_not_null())
        // (`decp` leaves out, and counts aside, a buyer without a SIRET.)
        .filter(organisations::siret.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((releases, contracts))
}

/// The OCDS release package of every published tender.
pub fn ocds_package(conn: &mut AnyConnection, base_url: &str) -> QueryResult<Value> {
    let organisations: HashMap<i32, Organisation> = organisations::table
        .select((
            organisations::id,
            organisations::code,
            organisations::name,
            organisations::siret,
        ))
        .load::<(i32, String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, code, name, siret)| (id, Organisation { code, name, siret }))
        .collect();
    let published: Vec<Tender> = tenders::table
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .order(tenders::reference)
        .select(Tender::as_select())
        .load(conn)?;
    let mut releases = Vec::with_capacity(published.len());
    for tender in &published {
        releases.push(release(conn, tender, &organisations, base_url)?);
    }
    Ok(json!({
        "uri": format!("{base_url}/open-data/ocds.json"),
        "version": "1.1",
        "extensions": [LOTS_EXTENSION],
        "publishedDate": iso(Utc::now().naive_utc()),
        "publisher": { "name": PUBLISHER },
        "license": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        "releases": releases,
    }))
}

fn release(
    conn: &mut AnyConnection,
    tender: &Tender,
    organisations: &HashMap<i32, Organisation>,
    base_url: &str,
) -> QueryResult<Value> {
    let awarded = tender.status == "awarded";
    let lot_rows: Vec<(i32, i32, String, String, i64, String)> = lots::table
        .filter(lots::tender_id.eq(tender.id))
        .order(lots::number)
        .select((
            lots::id,
            lots::number,
            lots::title,
            lots::cpv_code,
            lots::value_cents,
            lots::status,
        ))
        .load(conn)?;
    let lot_key: HashMap<i32, String> = lot_rows
        .iter()
        .map(|(id, number, ..)| (*id, format!("lot-{number}")))
        .collect();
    let items: Vec<(i32, i32, i32, String, String, i64, String)> = lot_needs::table
        .inner_join(needs::table)
        .filter(lot_needs::lot_id.eq_any(lot_key.keys().copied().collect::<Vec<_>>()))
        .order(needs::id)
        .select((
            lot_needs::lot_id,
            needs::id,
            needs::organisation_id,
            needs::title,
            needs::cpv_code,
            needs::quantity_milli,
            needs::unit,
        ))
        .load(conn)?;
    let catalog = crate::domain::CpvCatalog::embedded();
    let classification = |cpv: &str| {
        json!({
            "scheme": "CPV", "id": cpv,
            "description": catalog.get(cpv).map(|e| e.label_fr.clone()).unwrap_or_default(),
        })
    };

    // Parties: the coordinator (procuring entity and buyer), the other members (buyers), and
    // once awarded the bidders (tenderers, winners also suppliers).
    let mut parties: BTreeMap<String, Value> = BTreeMap::new();
    let coordinator = organisations.get(&tender.coordinator_id);
    let mut members: Vec<i32> = items.iter().map(|i| i.2).collect();
    members.sort_unstable();
    members.dedup();
    for id in &members {
        if let Some(o) = organisations.get(id) {
            let roles: &[&str] = match *id == tender.coordinator_id {
                true => &["buyer", "procuringEntity"],
                false => &["buyer"],
            };
            let party = organisation_party(o, roles);
            parties.insert(party["id"].as_str().unwrap_or_default().to_string(), party);
        }
    }
    if let Some(o) = coordinator {
        let party = organisation_party(o, &["buyer", "procuringEntity"]);
        parties
            .entry(party["id"].as_str().unwrap_or_default().to_string())
            .or_insert(party);
    }
    let reference = |o: Option<&Organisation>| {
        o.map(|o| json!({ "id": party_id(o.siret.as_deref(), &o.code), "name": o.name }))
    };

    let (method, method_details) = method_of(&tender.procedure);
    let weights = (
        tender.weight_price.unwrap_or(0),
        tender.weight_quality.unwrap_or(0),
        tender.weight_environment.unwrap_or(0),
    );
    let documents: Vec<Value> = tender_documents::table
        .filter(tender_documents::tender_id.eq(tender.id))
        .order(tender_documents::id)
        .select((tender_documents::id, tender_documents::name))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .map(|(id, name)| {
            json!({
                "id": format!("doc-{id}"), "documentType": "biddingDocuments", "title": name,
                "url": format!("{base_url}/appels-d-offres/{}/documents/{id}", tender.reference),
                "language": "fr",
            })
        })
        .collect();
    let mut tender_json = json!({
        "id": tender.reference,
        "title": tender.title,
        "status": if awarded { "complete" } else { "active" },
        "procuringEntity": reference(coordinator),
        "items": items.iter().map(|(lot, need, _, title, cpv, quantity, unit)| json!({
            "id": format!("need-{need}"), "description": title,
            "classification": classification(cpv),
            "quantity": *quantity as f64 / 1000.0, "unit": { "name": unit },
            "relatedLot": lot_key.get(lot),
        })).collect::<Vec<_>>(),
        "value": euros(tender.total_value_cents),
        "procurementMethod": method,
        "procurementMethodDetails": method_details,
        "mainProcurementCategory": category_of(lot_rows.first().map(|l| l.3.as_str()).unwrap_or("")),
        "awardCriteria": "ratedCriteria",
        "awardCriteriaDetails": format!(
            "prix {} %, valeur technique {} %, performance environnementale {} %",
            weights.0, weights.1, weights.2
        ),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {
            "startDate": tender.published_at.map(iso),
            "endDate": tender.deadline.map(iso),
        },
        "documents": documents,
        "lots": lot_rows.iter().map(|(_, number, title, _, value, status)| json!({
            "id": format!("lot-{number}"), "title": title, "value": euros(*value),
            "status": match status.as_str() {
                "awarded" => "complete",
                "unsuccessful" => "unsuccessful",
                _ => "active",
            },
        })).collect::<Vec<_>>(),
    });
    if let Some(cap) = tender.max_lots_per_supplier {
        tender_json["lotDetails"] = json!({ "maximumLotsAwardedPerSupplier": cap });
    }

    let mut tags = vec!["tender"];
    let mut awards_json = Vec::new();
    let mut contracts_json = Vec::new();
    if awarded {
        tags.extend(["award", "contract"]);
        let bidders: Vec<(i32, i32, Supplier)> = bids::table
            .inner_join(suppliers::table)
            .filter(bids::lot_id.eq_any(lot_key.keys().copied().collect::<Vec<_>>()))
            .filter(bids::status.eq(BidStatus::Submitted))
            .order(bids::id)
            .select((
                bids::id,
                bids::supplier_id,
                suppliers::name,
                suppliers::siret,
                suppliers::postcode,
                suppliers::commune,
            ))
            .load::<BidderRow>(conn)?
            .into_iter()
            .map(bidder)
            .collect();
        // A group's co-contractors bid too (#24): each is a tenderer, and a supplier when the
        // group wins.
        let mut bidders = bidders;
        let bid_ids: Vec<i32> = bidders.iter().map(|b| b.0).collect();
        let members: Vec<BidderRow> = crate::db::schema::bid_group_members::table
            .inner_join(suppliers::table)
            .filter(crate::db::schema::bid_group_members::bid_id.eq_any(&bid_ids))
            .order((
                crate::db::schema::bid_group_members::bid_id,
                suppliers::name,
            ))
            .select((
                crate::db::schema::bid_group_members::bid_id,
                suppliers::id,
                suppliers::name,
                suppliers::siret,
                suppliers::postcode,
                suppliers::commune,
            ))
            .load(conn)?;
        bidders.extend(members.into_iter().map(bidder));
        let decided: Vec<(i32, String, Option<i32>, Option<NaiveDateTime>)> = awards::table
            .filter(awards::lot_id.eq_any(lot_key.keys().copied().collect::<Vec<_>>()))
            .filter(awards::approved_at.is_not_null())
            .select((
                awards::lot_id,
                awards::status,
                awards::winning_bid_id,
                awards::approved_at,
            ))
            .load(conn)?;
        let winners: Vec<i32> = decided.iter().filter_map(|a| a.2).collect();
        let mut tenderers: BTreeMap<String, Value> = BTreeMap::new();
        for (bid, _, supplier) in &bidders {
            let roles: &[&str] = match winners.contains(bid) {
                true => &["tenderer", "supplier"],
                false => &["tenderer"],
            };
            let party = supplier_party(supplier, roles);
            let id = party["id"].as_str().unwrap_or_default().to_string();
            let merged = parties.entry(id.clone()).or_insert(party.clone());
            if roles.contains(&"supplier") {
                *merged = party;
            }
            tenderers.insert(id.clone(), json!({ "id": id, "name": supplier.name }));
        }
        tender_json["numberOfTenderers"] = json!(tenderers.len());
        tender_json["tenderers"] = json!(tenderers.into_values().collect::<Vec<_>>());
        let price_of: HashMap<i32, (i64, &Supplier)> = bids::table
            .filter(bids::id.eq_any(&winners))
            .select((bids::id, bids::price_cents))
            .load::<(i32, i64)>(conn)?
            .into_iter()
            .filter_map(|(id, price)| {
                bidders
                    .iter()
                    .find(|(bid, ..)| *bid == id)
                    .map(|(_, _, s)| (id, (price, s)))
            })
            .collect();
        for (lot_id, status, winner, approved_at) in &decided {
            let key = lot_key.get(lot_id).cloned().unwrap_or_default();
            let award_id = format!("{}-{key}", tender.reference);
            let mut award = json!({
                "id": award_id,
                "title": format!("{} — {key}", tender.title),
                "status": if status == "awarded" { "active" } else { "unsuccessful" },
                "date": approved_at.map(iso),
                "relatedLots": [key],
            });
            if let Some((w, (price, _))) = winner.and_then(|w| price_of.get(&w).map(|p| (w, p))) {
                award["value"] = euros(*price);
                // The winner, and the co-contractors of a winning group.
                award["suppliers"] = json!(bidders
                    .iter()
                    .filter(|(bid, ..)| *bid == w)
                    .map(|(_, _, s)| json!({
                        "id": party_id(Some(&s.siret), &s.siret), "name": s.name,
                    }))
                    .collect::<Vec<_>>());
            }
            awards_json.push(award);
        }
        let rows: Vec<(String, i32, i64, Option<chrono::NaiveDate>)> = contracts::table
            .filter(contracts::tender_id.eq(tender.id))
            .order(contracts::uid)
            .select((
                contracts::uid,
                contracts::lot_id,
                contracts::amount_cents,
                contracts::signed_on,
            ))
            .load(conn)?;
        // A contract is `pending` until its signature is recorded; only then `active`, with the
        // day it was signed (never a day to come).
        for (uid, lot_id, amount, signed_on) in rows {
            let key = lot_key.get(&lot_id).cloned().unwrap_or_default();
            let mut contract = json!({
                "id": uid,
                "awardID": format!("{}-{key}", tender.reference),
                "title": format!("{} — {key}", tender.title),
                "status": if signed_on.is_some() { "active" } else { "pending" },
                "value": euros(amount),
            });
            if let Some(day) = signed_on.and_then(|d| d.and_hms_opt(0, 0, 0)) {
                contract["dateSigned"] = json!(iso(day));
            }
            contracts_json.push(contract);
        }
    }
    let date = match awarded {
        true => tender.awarded_at.or(tender.published_at),
        false => tender.published_at,
    }
    .unwrap_or(tender.created_at);
    let mut release = json!({
        "ocid": format!("ocds-grpdijon-{}", tender.reference),
        "id": format!("{}-{}", tender.reference, tags.join("-")),
        "date": iso(date),
        "tag": tags,
        "initiationType": "tender",
        "language": "fr",
        "parties": parties.into_values().collect::<Vec<_>>(),
        "buyer": reference(coordinator),
        "tender": tender_json,
    });
    if awarded {
        release["awards"] = json!(awards_json);
        release["contracts"] = json!(contracts_json);
    }
    Ok(release)
}

/// The DECP v2 document: one `marche` per contract of €40,000 and more whose buyer has a
/// SIRET (a member without one is left out, and counted in the log).
pub fn decp(conn: &mut AnyConnection) -> QueryResult<Value> {
    type Row = (
        String,
        i64,
        i32,
        String,
        NaiveDateTime,
        Option<chrono::NaiveDate>,
        Option<String>,
        String,
        String,
        String,
        String,
        i32,
        String,
        String,
        i32,
    );
    let rows: Vec<Row> = contracts::table
        .inner_join(organisations::table)
        .inner_join(suppliers::table)
        .inner_join(lots::table)
        .inner_join(tenders::table)
        .filter(contracts::amount_cents.ge(DECP_THRESHOLD_CENTS))
        // Only signed contracts: their notification date is the recorded signature's.
        .filter(contracts::status.eq(ContractStatus::Active))
        .filter(contracts::signed_on.is_not_null())
        .order(contracts::uid)
        .select((
            contracts::uid,
            contracts::amount_cents,
            contracts::months,
            contracts::delivery_postcode,
            contracts::awarded_at,
            contracts::signed_on,
            organisations::siret,
            suppliers::siret,
            tenders::title,
            tenders::procedure,
            lots::title,
            lots::number,
            lots::cpv_code,
            tenders::reference,
            contracts::lot_id,
        ))
        .load(conn)?;
    let lot_ids: Vec<i32> = rows.iter().map(|r| r.14).collect();
    let mut offers: HashMap<i32, i64> = HashMap::new();
    for lot_id in bids::table
        .filter(bids::lot_id.eq_any(&lot_ids))
        .filter(bids::status.eq(BidStatus::Submitted))
        .select(bids::lot_id)
        .load::<i32>(conn)?
    {
        *offers.entry(lot_id).or_default() += 1;
    }
    // The groups of the winning bids (#24): their co-contractors hold the contract too.
    let group_of_lot = crate::services::groups::winning(conn, &lot_ids)?;
    let mut marches = Vec::new();
    let mut without_siret = 0;
    for (
        uid,
        amount,
        months,
        postcode,
        awarded_at,
        notified_on,
        buyer,
        holder,
        tender_title,
        procedure,
        lot_title,
        number,
        cpv,
        reference,
        lot_id,
    ) in rows
    {
        let Some(buyer) = buyer else {
            without_siret += 1;
            continue;
        };
        let objet: String = format!("{tender_title} ({reference}) — lot {number} : {lot_title}")
            .chars()
            .take(1000)
            .collect();
        marches.push(json!({
            "id": uid,
            "acheteur": { "id": buyer },
            "nature": "Marché",
            "objet": objet,
            "codeCPV": cpv,
            "techniques": { "technique": ["Sans objet"] },
            "modalitesExecution": { "modaliteExecution": ["Sans objet"] },
            "marcheInnovant": false,
            "ccag": if cpv.starts_with("45") { "Travaux" } else { "Fournitures courantes et services" },
            "offresRecues": offers.get(&lot_id).copied().unwrap_or(1).max(1),
            "attributionAvance": false,
            "typeGroupementOperateurs": group_of_lot
                .get(&lot_id)
                .map_or("Pas de groupement", |g| g.decp_kind()),
            "procedure": method_of(&procedure).1,
            "lieuExecution": { "code": postcode, "typeCode": "Code postal" },
            "dureeMois": months,
            "dateNotification": notified_on.map(|d| d.format("%Y-%m-%d").to_string()),
            "datePublicationDonnees": awarded_at.format("%Y-%m-%d").to_string(),
            "montant": Cents::new(amount).to_euros_f64(),
            "typesPrix": { "typePrix": ["Définitif ferme"] },
            "formePrix": "Unitaire",
            "sousTraitanceDeclaree": false,
            "titulaires": std::iter::once(holder.clone())
                .chain(group_of_lot.get(&lot_id).into_iter().flat_map(|g| {
                    g.members.iter().map(|m| m.siret.clone())
                }))
                .map(|siret| json!({ "titulaire": { "typeIdentifiant": "SIRET", "id": siret } }))
                .collect::<Vec<_>>(),
            "considerationsSociales": { "considerationSociale": ["Pas de considération sociale"] },
            "considerationsEnvironnementales": {
                "considerationEnvironnementale": ["Critère environnemental"]
            },
        }));
    }
    if without_siret > 0 {
        tracing::warn!(
            contracts = without_siret,
            "DECP: contracts left out, their buyer has no SIRET"
        );
    }
    Ok(json!({ "marches": { "marche": marches } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_methods_follow_the_cpv_and_the_procedure() {
        assert_eq!(category_of("45210000"), "works");
        assert_eq!(category_of("33140000"), "goods");
        assert_eq!(category_of("90910000"), "services");
        assert_eq!(method_of("formal").1, "Appel d'offres ouvert");
        assert_eq!(method_of("no_competition").0, "limited");
        assert_eq!(
            party_id(Some("24210041000123"), "DM"),
            "FR-SIRET-24210041000123"
        );
        assert_eq!(party_id(None, "UB"), "FR-GRP-UB");
    }
}

/// Filters of the public search of the contracts the DECP publishes; every field optional.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct ContractFilter {
    /// Words that must all be found in the object, the buyer, the holder or the CPV label,
    /// whatever their case and accents.
    #[serde(default)]
    pub q: String,
    /// Start of the contract's CPV code.
    #[serde(default)]
    pub cpv: String,
    /// Code of the member that holds the contract.
    #[serde(default)]
    pub buyer: String,
    /// `no_competition`, `adapted` or `formal`.
    #[serde(default)]
    pub procedure: String,
    /// Notified on or after / on or before this day (`AAAA-MM-JJ` or `JJ/MM/AAAA`).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// A contract as the public search lists it: what the DECP file says of it, in words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContractCard {
    pub uid: String,
    pub buyer: String,
    pub holder: String,
    pub holder_siret: String,
    /// A group's other companies, with its kind (#24): « groupement solidaire avec … ».
    pub co_holders: Option<String>,
    pub object: String,
    pub reference: String,
    pub cpv: String,
    pub cpv_label: String,
    pub procedure: String,
    pub amount: String,
    pub notified_on: String,
    pub months: i32,
}

/// The most contracts one search lists.
pub const CONTRACTS_SHOWN: usize = 500;

/// The contracts the DECP file publishes (signed, €40,000 and more, a buyer with a SIRET)
/// matching the filter, the latest notified first; and how many matched in all.
pub fn search_contracts(
    pool: &crate::db::Pool,
    filter: &ContractFilter,
) -> Result<(Vec<ContractCard>, usize), crate::error::AppError> {
    use crate::error::{AppError, Problems};
    let mut problems = Problems::default();
    let cpv = filter.cpv.trim();
    if let Err(message) = crate::services::public::cpv_prefix(cpv) {
        problems.add("cpv", message);
    }
    let day = |problems: &mut Problems, field: &'static str, text: &str| match text.trim() {
        "" => None,
        text => problems.check(field, crate::domain::parse_date(text).map_err(|e| e.0)),
    };
    let from = day(&mut problems, "from", &filter.from);
    let to = day(&mut problems, "to", &filter.to);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            problems.add("to", "la fin de la période est avant son début");
        }
    }
    let words = match crate::services::public::search_words(&filter.q) {
        Ok(words) => words,
        Err(message) => {
            problems.add("q", message);
            Vec::new()
        }
    };
    problems.finish()?;
    let buyer = filter.buyer.trim().to_uppercase();
    let procedure = filter.procedure.trim();
    let mut conn = pool.get()?;
    let mut query = contracts::table
        .inner_join(organisations::table)
        .inner_join(suppliers::table)
        .inner_join(lots::table)
        .inner_join(tenders::table)
        .filter(contracts::amount_cents.ge(DECP_THRESHOLD_CENTS))
        .filter(contracts::status.eq(ContractStatus::Active))
        .filter(contracts::signed_on.is_not_null())
        .filter(organisations::siret.is_not_null())
        .into_boxed();
    if !cpv.is_empty() {
        query = query.filter(lots::cpv_code.like(format!("{cpv}%")));
    }
    if !buyer.is_empty() {
        query = query.filter(organisations::code.eq(buyer));
    }
    if !procedure.is_empty() {
        query = query.filter(tenders::procedure.eq(procedure.to_string()));
    }
    if let Some(from) = from {
        query = query.filter(contracts::signed_on.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(contracts::signed_on.le(to));
    }
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        i32,
        String,
        String,
        String,
        i64,
        Option<chrono::NaiveDate>,
        i32,
        i32,
    );
    let rows: Vec<Row> = query
        .order((contracts::signed_on.desc(), contracts::uid))
        .select((
            contracts::uid,
            organisations::name,
            suppliers::name,
            suppliers::siret,
            tenders::title,
            lots::title,
            lots::number,
            lots::cpv_code,
            tenders::reference,
            tenders::procedure,
            contracts::amount_cents,
            contracts::signed_on,
            contracts::months,
            contracts::lot_id,
        ))
        .load(&mut conn)
        .map_err(AppError::from)?;
    let lot_ids: Vec<i32> = rows.iter().map(|r| r.13).collect();
    let groups = crate::services::groups::winning(&mut conn, &lot_ids)?;
    let catalog = crate::domain::CpvCatalog::embedded();
    let mut matched = 0;
    let mut cards = Vec::new();
    for (
        uid,
        buyer,
        holder,
        siret,
        title,
        lot_title,
        number,
        cpv,
        reference,
        procedure,
        amount,
        signed_on,
        months,
        lot_id,
    ) in rows
    {
        let co_holders = groups.get(&lot_id).map(|g| {
            format!(
                "en groupement {} avec {}",
                g.kind_fr(),
                g.members
                    .iter()
                    .map(|m| format!("{} (SIRET {})", m.name, m.siret))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let cpv_label = catalog
            .get(&cpv)
            .map(|e| e.label_fr.clone())
            .unwrap_or_default();
        let object = format!("{title} — lot {number} : {lot_title}");
        if !words.is_empty() {
            let text = crate::domain::fold(&format!(
                "{object} {reference} {buyer} {holder} {siret} {cpv} {cpv_label} {uid} {}",
                co_holders.as_deref().unwrap_or_default()
            ));
            if !words.iter().all(|w| text.contains(w.as_str())) {
                continue;
            }
        }
        matched += 1;
        if cards.len() < CONTRACTS_SHOWN {
            cards.push(ContractCard {
                uid,
                buyer,
                holder,
                holder_siret: siret,
                co_holders,
                object,
                reference,
                cpv,
                cpv_label,
                procedure: crate::services::public::procedure_label(&procedure).to_string(),
                amount: Cents::new(amount).to_string(),
                notified_on: signed_on
                    .map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_default(),
                months,
            });
        }
    }
    Ok((cards, matched))
}
