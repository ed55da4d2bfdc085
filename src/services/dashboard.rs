//! Spend dashboards for the members' buyers and leads: awarded spend by organisation, by CPV
//! division and by procedure; what was pooled and what was bought alone; expected against
//! awarded savings; the share of the awarded value won by the territory's suppliers and by
//! SMEs; bids received per lot. Filtered by budget year and organisation. Only figures the
//! members share are shown (tenders past approval, contracts, aggregates of submitted needs):
//! no member reads another's drafts.

use crate::db::schema::{
    awards, bids, contracts, lot_needs, lots, needs, organisations, suppliers, tenders,
};
use crate::db::{AnyConnection, Pool};
use crate::domain::{BidStatus, CpvCatalog, NeedStatus};
use crate::error::AppError;
use crate::services::public::procedure_label;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct DashboardFilter {
    /// Budget year (the year of the tenders' references, `GRP-<year>-…`, and of the needs).
    #[serde(default)]
    pub year: Option<i32>,
    /// An organisation's code; all members when empty.
    #[serde(default)]
    pub organisation: String,
}

/// One chart and its table: rows of a label and one value per series, in cents or in units.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub series: Vec<&'static str>,
    /// Whether the values are amounts in cents (otherwise counts).
    pub money: bool,
    pub rows: Vec<(String, Vec<i64>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub years: Vec<i32>,
    pub organisations: Vec<String>,
    pub filter: DashboardFilter,
    pub sections: Vec<Section>,
    /// Awarded value, and the part won by territorial suppliers and by SMEs (cents).
    pub awarded_cents: i64,
    pub territorial_cents: i64,
    pub sme_cents: i64,
    pub average_bids_per_lot: Option<f64>,
}

/// A contract as the dashboard reads it.
struct ContractRow {
    organisation: String,
    amount: i64,
    estimated: i64,
    cpv: String,
    procedure: String,
    reference: String,
    department: String,
    sme: bool,
}

fn year_of(reference: &str) -> Option<i32> {
    reference.split('-').nth(1).and_then(|y| y.parse().ok())
}

pub fn dashboard(pool: &Pool, filter: &DashboardFilter) -> Result<Dashboard, AppError> {
    let mut conn = pool.get()?;
    let organisations: Vec<(i32, String)> = organisations::table
        .order(organisations::code)
        .select((organisations::id, organisations::code))
        .load(&mut conn)?;
    let code = filter.organisation.trim().to_uppercase();
    if !code.is_empty() && !organisations.iter().any(|(_, c)| *c == code) {
        return Err(AppError::validation(
            "organisation",
            format!("« {code} » n'est pas un membre du groupement"),
        ));
    }
    let references: Vec<String> = tenders::table.select(tenders::reference).load(&mut conn)?;
    let mut years: Vec<i32> = references.iter().filter_map(|r| year_of(r)).collect();
    years.sort_unstable();
    years.dedup();
    let keep_reference =
        |reference: &str| filter.year.is_none() || year_of(reference) == filter.year;
    let keep_organisation = |organisation: &str| code.is_empty() || organisation == code;

    let contracts = contract_rows(&mut conn)?
        .into_iter()
        .filter(|c| keep_reference(&c.reference) && keep_organisation(&c.organisation))
        .collect::<Vec<_>>();
    let catalog = CpvCatalog::embedded();
    // The territory in force today: the share its companies won, as the groupement reads it now.
    let in_force = crate::services::settings::today(&mut conn)?;
    let mut by_organisation: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut by_division: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_procedure: BTreeMap<String, i64> = BTreeMap::new();
    let (mut awarded, mut territorial, mut sme) = (0, 0, 0);
    for c in &contracts {
        let entry = by_organisation.entry(c.organisation.clone()).or_default();
        entry.0 += c.amount;
        entry.1 += c.estimated;
        let division = c.cpv.get(..2).unwrap_or("").to_string();
        let label = catalog
            .get(&format!("{division:0<8}"))
            .map(|e| format!("{division} {}", e.label_fr))
            .unwrap_or(division);
        *by_division.entry(label).or_default() += c.amount;
        *by_procedure
            .entry(procedure_label(&c.procedure).to_string())
            .or_default() += c.amount;
        awarded += c.amount;
        if in_force.is_local(&c.department) {
            territorial += c.amount;
        }
        if c.sme {
            sme += c.amount;
        }
    }

    let mut sections = vec![
        Section {
            key: "depense-organisation",
            title: "Dépense attribuée par organisation",
            series: vec!["estimée", "attribuée"],
            money: true,
            rows: by_organisation
                .into_iter()
                .map(|(label, (amount, estimated))| (label, vec![estimated, amount]))
                .collect(),
        },
        Section {
            key: "depense-cpv",
            title: "Dépense attribuée par division CPV",
            series: vec!["attribuée"],
            money: true,
            rows: by_division.into_iter().map(|(l, v)| (l, vec![v])).collect(),
        },
        Section {
            key: "depense-procedure",
            title: "Dépense attribuée par procédure",
            series: vec!["attribuée"],
            money: true,
            rows: by_procedure
                .into_iter()
                .map(|(l, v)| (l, vec![v]))
                .collect(),
        },
    ];
    sections.push(pooled_or_alone(&mut conn, filter.year, &code)?);
    sections.push(savings(&mut conn, &keep_reference, &code)?);
    let (bids_section, average) = bids_per_lot(&mut conn, &keep_reference, &code)?;
    sections.push(bids_section);
    Ok(Dashboard {
        years,
        organisations: organisations.into_iter().map(|(_, c)| c).collect(),
        filter: DashboardFilter {
            year: filter.year,
            organisation: code,
        },
        sections,
        awarded_cents: awarded,
        territorial_cents: territorial,
        sme_cents: sme,
        average_bids_per_lot: average,
    })
}

fn contract_rows(conn: &mut AnyConnection) -> QueryResult<Vec<ContractRow>> {
    type Row = (String, i64, i64, String, String, String, String, bool);
    let rows: Vec<Row> = contracts::table
        .inner_join(organisations::table)
        .inner_join(suppliers::table)
        .inner_join(lots::table)
        .inner_join(tenders::table)
        .select((
            organisations::code,
            contracts::amount_cents,
            contracts::estimated_cents,
            lots::cpv_code,
            tenders::procedure,
            tenders::reference,
            suppliers::department_code,
            suppliers::sme,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(organisation, amount, estimated, cpv, procedure, reference, department, sme)| {
                ContractRow {
                    organisation,
                    amount,
                    estimated,
                    cpv,
                    procedure,
                    reference,
                    department,
                    sme,
                }
            },
        )
        .collect())
}

/// The estimated value of the members' submitted needs: in a tender with other members
/// (pooled), in a tender of their organisation alone, or in no tender (bought alone).
fn pooled_or_alone(
    conn: &mut AnyConnection,
    year: Option<i32>,
    code: &str,
) -> QueryResult<Section> {
    let mut query = needs::table
        .inner_join(organisations::table)
        .filter(needs::status.ne_all([NeedStatus::Draft, NeedStatus::Withdrawn]))
        .select((
            needs::id,
            organisations::code,
            needs::quantity_milli,
            needs::unit_price_cents,
        ))
        .into_boxed();
    if let Some(year) = year {
        query = query.filter(needs::budget_year.eq(year));
    }
    if !code.is_empty() {
        query = query.filter(organisations::code.eq(code.to_string()));
    }
    let rows: Vec<(i32, String, i64, i64)> = query.load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    // Each need's tender, and each tender's member organisations.
    let tender_of: HashMap<i32, i32> = lot_needs::table
        .inner_join(lots::table)
        .filter(lot_needs::need_id.eq_any(&ids))
        .select((lot_needs::need_id, lots::tender_id))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .collect();
    let mut members: HashMap<i32, HashSet<i32>> = HashMap::new();
    for (tender, organisation) in lot_needs::table
        .inner_join(lots::table)
        .inner_join(needs::table)
        .filter(lots::tender_id.eq_any(tender_of.values().copied().collect::<Vec<_>>()))
        .select((lots::tender_id, needs::organisation_id))
        .load::<(i32, i32)>(conn)?
    {
        members.entry(tender).or_default().insert(organisation);
    }
    let (mut pooled, mut single, mut alone) = (0, 0, 0);
    for (id, _, quantity, price) in rows {
        let value = crate::services::needs::value_cents(quantity, price);
        match tender_of
            .get(&id)
            .and_then(|t| members.get(t))
            .map(HashSet::len)
        {
            Some(n) if n > 1 => pooled += value,
            Some(_) => single += value,
            None => alone += value,
        }
    }
    Ok(Section {
        key: "mutualisation",
        title: "Besoins mutualisés et achetés seuls (valeur estimée)",
        series: vec!["valeur estimée"],
        money: true,
        rows: vec![
            ("mutualisés avec d'autres membres".into(), vec![pooled]),
            ("consultation d'un seul membre".into(), vec![single]),
            ("achetés seuls, hors consultation".into(), vec![alone]),
        ],
    })
}

/// Per awarded tender: the saving the pooling engine expected on its awarded lots, and the one
/// obtained (estimated value minus the winning price).
fn savings(
    conn: &mut AnyConnection,
    keep_reference: &dyn Fn(&str) -> bool,
    code: &str,
) -> QueryResult<Section> {
    let rows: Vec<(String, i32, i64, i64, i64)> = awards::table
        .inner_join(lots::table.inner_join(tenders::table))
        .inner_join(bids::table.on(awards::winning_bid_id.eq(bids::id.nullable())))
        .filter(awards::approved_at.is_not_null())
        .order(tenders::reference)
        .select((
            tenders::reference,
            lots::id,
            lots::value_cents,
            lots::expected_savings_cents,
            bids::price_cents,
        ))
        .load(conn)?;
    let lots_of_code: Option<HashSet<i32>> = match code.is_empty() {
        true => None,
        false => Some(
            contracts::table
                .inner_join(organisations::table)
                .filter(organisations::code.eq(code.to_string()))
                .select(contracts::lot_id)
                .load::<i32>(conn)?
                .into_iter()
                .collect(),
        ),
    };
    let mut by_tender: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (reference, lot, value, expected, price) in rows {
        if !keep_reference(&reference) || lots_of_code.as_ref().is_some_and(|l| !l.contains(&lot)) {
            continue;
        }
        let entry = by_tender.entry(reference).or_default();
        entry.0 += expected;
        entry.1 += value - price;
    }
    Ok(Section {
        key: "economies",
        title: "Économies attendues et obtenues, par consultation attribuée",
        series: vec!["attendue", "obtenue"],
        money: true,
        rows: by_tender
            .into_iter()
            .map(|(reference, (expected, obtained))| (reference, vec![expected, obtained]))
            .collect(),
    })
}

/// Bids received on each lot of the tenders whose bids were opened.
fn bids_per_lot(
    conn: &mut AnyConnection,
    keep_reference: &dyn Fn(&str) -> bool,
    code: &str,
) -> QueryResult<(Section, Option<f64>)> {
    let opened: Vec<(i32, String, i32)> = lots::table
        .inner_join(tenders::table)
        .filter(tenders::opened_at.is_not_null())
        .order((tenders::reference, lots::number))
        .select((lots::id, tenders::reference, lots::number))
        .load(conn)?;
    let mut counts: HashMap<i32, i64> = HashMap::new();
    for lot in bids::table
        .filter(bids::lot_id.eq_any(opened.iter().map(|l| l.0).collect::<Vec<_>>()))
        .filter(bids::status.eq(BidStatus::Submitted))
        .select(bids::lot_id)
        .load::<i32>(conn)?
    {
        *counts.entry(lot).or_default() += 1;
    }
    let with_code: Option<HashSet<i32>> = match code.is_empty() {
        true => None,
        false => Some(
            lot_needs::table
                .inner_join(needs::table.inner_join(organisations::table))
                .filter(organisations::code.eq(code.to_string()))
                .select(lot_needs::lot_id)
                .load::<i32>(conn)?
                .into_iter()
                .collect(),
        ),
    };
    let rows: Vec<(String, Vec<i64>)> = opened
        .into_iter()
        .filter(|(lot, reference, _)| {
            keep_reference(reference) && with_code.as_ref().is_none_or(|l| l.contains(lot))
        })
        .map(|(lot, reference, number)| {
            (
                format!("{reference} lot {number}"),
                vec![counts.get(&lot).copied().unwrap_or(0)],
            )
        })
        .collect();
    let average = match rows.len() {
        0 => None,
        n => Some(rows.iter().map(|r| r.1[0]).sum::<i64>() as f64 / n as f64),
    };
    Ok((
        Section {
            key: "offres-par-lot",
            title: "Offres reçues par lot",
            series: vec!["offres"],
            money: false,
            rows,
        },
        average,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_is_read_from_the_reference() {
        assert_eq!(year_of("GRP-2027-004"), Some(2027));
        assert_eq!(year_of("AUTRE"), None);
    }
}
