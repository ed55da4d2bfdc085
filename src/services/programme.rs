//! The purchase programme (#24): the pooled purchases the members plan for the next 18 months,
//! public, so that the territory's companies see them coming months before a notice — as the
//! State's APProch does. Read from the data as it stands (it follows every change of a need):
//! the tenders made from an accepted proposal and not yet published, and the submitted needs
//! not yet pooled, by CPV family and unit. It says what a company needs to prepare (family,
//! value band, members, expected quarter of publication, procedure, lots) and nothing of the
//! buyers' internal work (no need title, no quantity, no exact amount).
//!
//! The suppliers whose CPV interests match a planned purchase hear of it by e-mail once
//! (through the outbox, under the opt-in and unsubscription of notices).

use crate::db::schema::{
    lots, needs, organisations, programme_alerts, suppliers, tender_approvals, tenders,
};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::Locale;
use crate::error::AppError;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::procedure::{BuyerClass, Nature, Procedure, Thresholds};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// How far ahead the programme looks, in months.
pub const HORIZON_MONTHS: u32 = 18;

/// The CPV digits that make a family on the programme (the engine's default).
const FAMILY_DIGITS: usize = 4;

/// One planned purchase.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedPurchase {
    /// Stable while the purchase is planned: `2027:3019:boîte`.
    pub key: String,
    /// The CPV code of the family, 8 digits (`30190000`), and its label.
    pub cpv: String,
    pub label: String,
    pub unit: String,
    pub value_band: String,
    pub members: Vec<String>,
    /// `T2 2027`, and the quarter's first day (for sorting and the feed).
    pub quarter: String,
    pub quarter_start: NaiveDate,
    pub procedure: &'static str,
    /// The lots as far as they are known.
    pub lots: String,
    /// Where the purchase stands.
    pub stage: &'static str,
    /// The last change of what it is made of.
    pub updated: NaiveDateTime,
    /// The value a co-bidding team must reach for it, in cents: the lower edge of its band
    /// (the upper one for the lowest band) — public, never the estimate itself.
    #[serde(skip)]
    pub reach_cents: i64,
    /// The titles of its needs that their members chose to publish (none by default).
    pub public_titles: Vec<String>,
}

/// The edges of the value bands: the thresholds in force and 1 M€, in euros, increasing.
fn band_edges(t: &Thresholds) -> Vec<f64> {
    let mut edges: Vec<f64> = vec![
        t.no_competition_supplies,
        t.boamp,
        t.formal_central,
        t.formal_sub_central,
        1_000_000.0,
        t.formal_works,
    ];
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// A value as a band: precise enough to prepare, never the buyers' estimate. The edges are
/// the thresholds in force (no competition, BOAMP, formal procedure for central and other
/// buyers, formal works) and 1 M€, so that a band never straddles a change of procedure.
pub fn value_band(cents: i64, t: &Thresholds) -> String {
    let edges = band_edges(t);
    let euros = cents as f64 / 100.0;
    let money = |e: f64| {
        let whole = e.round() as i64;
        match whole % 1_000_000 == 0 {
            true => format!("{} M€", whole / 1_000_000),
            false => {
                let digits = whole.to_string();
                let mut grouped = String::new();
                for (k, c) in digits.chars().enumerate() {
                    if k > 0 && (digits.len() - k).is_multiple_of(3) {
                        grouped.push('\u{202f}');
                    }
                    grouped.push(c);
                }
                format!("{grouped}\u{a0}€")
            }
        }
    };
    let below = edges.iter().position(|e| euros < *e);
    match below {
        Some(0) => format!("moins de {}", money(edges[0])),
        Some(k) => format!("{} à {}", money(edges[k - 1]), money(edges[k])),
        None => format!("plus de {}", money(edges[edges.len() - 1])),
    }
}

/// The edge of a value's band a team must reach: the lower edge, or the upper one for the
/// lowest band; in cents.
pub fn band_reach(cents: i64, t: &Thresholds) -> i64 {
    let edges = band_edges(t);
    let euros = cents as f64 / 100.0;
    let edge = match edges.iter().position(|e| euros < *e) {
        Some(0) => edges[0],
        Some(k) => edges[k - 1],
        None => edges[edges.len() - 1],
    };
    (edge * 100.0).round() as i64
}

fn quarter_of(day: NaiveDate) -> (String, NaiveDate) {
    let q = (day.month0() / 3) + 1;
    let start = NaiveDate::from_ymd_opt(day.year(), (q - 1) * 3 + 1, 1).unwrap_or(day);
    (format!("T{q} {}", day.year()), start)
}

/// The quarter a purchase whose first delivery is `first` should be published in: early
/// enough for the procedure's period, the bids' examination and the standstill (about three
/// months for a formal procedure, two for an adapted one, one without competition), never
/// before this quarter.
fn expected_quarter(
    first: NaiveDate,
    procedure: Procedure,
    today: NaiveDate,
) -> (String, NaiveDate) {
    let lead = match procedure {
        Procedure::Formal => 92,
        Procedure::Adapted => 61,
        Procedure::NoCompetition => 30,
    };
    quarter_of((first - Duration::days(lead)).max(today))
}

fn family_cpv(family: &str) -> String {
    format!("{family:0<8}")
}

/// The members' names by organisation id, and their classes.
fn members(conn: &mut AnyConnection) -> QueryResult<BTreeMap<i32, (String, String)>> {
    Ok(organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::buyer_class,
        ))
        .load::<(i32, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, class)| (id, (name, class)))
        .collect())
}

fn class_of(code: &str) -> BuyerClass {
    match code {
        "central" => BuyerClass::Central,
        _ => BuyerClass::SubCentral,
    }
}

/// The programme on `today`: the tenders in preparation first, then the needs not yet pooled,
/// each by expected quarter.
pub fn programme(
    conn: &mut AnyConnection,
    today: NaiveDate,
) -> Result<Vec<PlannedPurchase>, AppError> {
    let horizon = today + Duration::days(i64::from(HORIZON_MONTHS) * 365 / 12);
    let thresholds = crate::services::settings::in_force(conn, today)?.thresholds;
    let names = members(conn)?;
    let mut out = Vec::new();
    // The tenders made from an accepted proposal, not yet published.
    type TenderRow = (i32, String, String, String, i64, String, NaiveDateTime);
    let preparing: Vec<TenderRow> = tenders::table
        .filter(tenders::status.eq_any(["draft", "approving", "approved"]))
        .order(tenders::id)
        .select((
            tenders::id,
            tenders::reference,
            tenders::cpv_family,
            tenders::unit,
            tenders::total_value_cents,
            tenders::procedure,
            tenders::created_at,
        ))
        .load(conn)?;
    for (id, reference, family, unit, total, procedure, created) in preparing {
        let member_ids: Vec<i32> = tender_approvals::table
            .filter(tender_approvals::tender_id.eq(id))
            .select(tender_approvals::organisation_id)
            .load(conn)?;
        let lot_rows: Vec<bool> = lots::table
            .filter(lots::tender_id.eq(id))
            .select(lots::local_accessible)
            .load(conn)?;
        let windows: Vec<(NaiveDate, NaiveDateTime)> = crate::db::schema::lot_needs::table
            .inner_join(lots::table)
            .inner_join(needs::table)
            .filter(lots::tender_id.eq(id))
            .select((needs::window_start, needs::updated_at))
            .load(conn)?;
        let public_titles: BTreeSet<String> = crate::db::schema::lot_needs::table
            .inner_join(lots::table)
            .inner_join(needs::table)
            .filter(lots::tender_id.eq(id))
            .filter(needs::title_public.eq(true))
            .select(needs::title)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let first = windows.iter().map(|w| w.0).min().unwrap_or(today);
        if first > horizon {
            continue;
        }
        let procedure = [
            Procedure::NoCompetition,
            Procedure::Adapted,
            Procedure::Formal,
        ]
        .into_iter()
        .find(|p| p.code() == procedure)
        .unwrap_or(Procedure::Adapted);
        let (quarter, quarter_start) = expected_quarter(first, procedure, today);
        let local = lot_rows.iter().filter(|l| **l).count();
        out.push(PlannedPurchase {
            key: format!("tender:{reference}"),
            cpv: family_cpv(&family),
            label: crate::services::tenders::family_label(&family),
            unit,
            value_band: value_band(total, &thresholds),
            reach_cents: band_reach(total, &thresholds),
            public_titles: public_titles.into_iter().collect(),
            members: member_ids
                .iter()
                .filter_map(|m| names.get(m).map(|n| n.0.clone()))
                .collect(),
            quarter,
            quarter_start,
            procedure: procedure.label_fr(),
            lots: match lot_rows.len() {
                1 => format!(
                    "1 lot{}",
                    if local == 1 {
                        ", à la portée des PME du territoire"
                    } else {
                        ""
                    }
                ),
                n => format!("{n} lots, dont {local} à la portée des PME du territoire"),
            },
            stage: "consultation en préparation (mutualisation acceptée)",
            updated: windows
                .iter()
                .map(|w| w.1)
                .max()
                .unwrap_or(created)
                .max(created),
        });
    }
    // The submitted needs not yet pooled, by family and unit.
    type NeedRow = (
        i32,
        String,
        String,
        i64,
        i64,
        NaiveDate,
        NaiveDateTime,
        i32,
        (String, bool),
    );
    let waiting: Vec<NeedRow> = needs::table
        .filter(needs::status.eq("submitted"))
        .filter(needs::window_start.le(horizon))
        .filter(needs::window_end.ge(today))
        .select((
            needs::organisation_id,
            needs::cpv_code,
            needs::unit,
            needs::quantity_milli,
            needs::unit_price_cents,
            needs::window_start,
            needs::updated_at,
            needs::budget_year,
            (needs::title, needs::title_public),
        ))
        .load(conn)?;
    struct Group {
        members: BTreeSet<i32>,
        cents: i128,
        first: NaiveDate,
        updated: NaiveDateTime,
        titles: BTreeSet<String>,
    }
    let mut groups: BTreeMap<(i32, String, String), Group> = BTreeMap::new();
    for (organisation, cpv, unit, quantity, price, start, updated, year, (title, public)) in waiting
    {
        let family: String = cpv
            .chars()
            .filter(char::is_ascii_digit)
            .take(FAMILY_DIGITS)
            .collect();
        let group = groups.entry((year, family, unit)).or_insert_with(|| Group {
            members: BTreeSet::new(),
            cents: 0,
            first: start,
            updated,
            titles: BTreeSet::new(),
        });
        if public {
            group.titles.insert(title);
        }
        group.members.insert(organisation);
        group.cents += i128::from(quantity) * i128::from(price) / 1000;
        group.first = group.first.min(start);
        group.updated = group.updated.max(updated);
    }
    for ((year, family, unit), g) in groups {
        let cents = i64::try_from(g.cents).unwrap_or(i64::MAX);
        let class = BuyerClass::strictest(
            g.members
                .iter()
                .filter_map(|m| names.get(m).map(|n| class_of(&n.1))),
        );
        let ruling = thresholds.rule(
            cents as f64 / 100.0,
            Nature::of_cpv(&family_cpv(&family)),
            class,
        );
        let (quarter, quarter_start) = expected_quarter(g.first, ruling.procedure, today);
        out.push(PlannedPurchase {
            key: format!("needs:{year}:{family}:{unit}"),
            cpv: family_cpv(&family),
            label: crate::services::tenders::family_label(&family),
            unit,
            value_band: value_band(cents, &thresholds),
            reach_cents: band_reach(cents, &thresholds),
            public_titles: g.titles.into_iter().collect(),
            members: g
                .members
                .iter()
                .filter_map(|m| names.get(m).map(|n| n.0.clone()))
                .collect(),
            quarter,
            quarter_start,
            procedure: ruling.procedure.label_fr(),
            lots: "à définir à la mutualisation".into(),
            stage: "besoins recensés, mutualisation à venir",
            updated: g.updated,
        });
    }
    out.sort_by(|a, b| {
        a.quarter_start
            .cmp(&b.quarter_start)
            .then(a.label.cmp(&b.label))
            .then(a.key.cmp(&b.key))
    });
    Ok(out)
}

/// The programme for the public page and the feed, on today's date (Paris).
pub fn current(pool: &Pool) -> Result<Vec<PlannedPurchase>, AppError> {
    let mut conn = pool.get()?;
    let today = crate::domain::to_paris(Utc::now().naive_utc()).0.date();
    programme(&mut conn, today)
}

/// The programme as an Atom feed (RFC 4287), one entry a planned purchase.
pub fn atom(base_url: &str, purchases: &[PlannedPurchase]) -> String {
    let x = crate::web::charts::xml;
    let stamp = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let updated = purchases
        .iter()
        .map(|p| p.updated)
        .max()
        .unwrap_or_default();
    let mut o = String::with_capacity(1024 + 900 * purchases.len());
    o.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">\n");
    o.push_str(&format!(
        "<title>Programme des achats mutualisés — Groupement (Dijon)</title>\n<id>{base}/programme-achats</id>\n<link rel=\"self\" href=\"{base}/programme-achats.atom\"/>\n<link href=\"{base}/programme-achats\"/>\n<updated>{}</updated>\n<author><name>Groupement de commandes de la métropole de Dijon</name></author>\n",
        stamp(updated),
        base = x(base_url)
    ));
    for p in purchases {
        o.push_str(&format!(
            "<entry>\n<title>{} ({}) — {}</title>\n<id>{}/programme-achats#{}</id>\n<link href=\"{}/programme-achats#{}\"/>\n<updated>{}</updated>\n<category term=\"{}\" label=\"CPV {}\"/>\n<summary>Publication prévue : {} ; {} ; valeur estimée : {} ; membres : {} ; lots : {} ; {}{}.</summary>\n</entry>\n",
            x(&p.label),
            x(&p.unit),
            x(&p.quarter),
            x(base_url),
            x(&anchor(&p.key)),
            x(base_url),
            x(&anchor(&p.key)),
            stamp(p.updated),
            x(&p.cpv),
            x(&p.cpv),
            x(&p.quarter),
            x(p.procedure),
            x(&p.value_band),
            x(&p.members.join(", ")),
            x(&p.lots),
            x(p.stage),
            match p.public_titles.is_empty() {
                true => String::new(),
                false => format!(" ; besoins : {}", x(&p.public_titles.join(" ; "))),
            },
        ));
    }
    o.push_str("</feed>\n");
    o
}

/// The page anchor of a purchase (`needs-2027-3019-boite`).
pub fn anchor(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_lowercase(),
            'é' | 'è' | 'ê' => 'e',
            'î' => 'i',
            'ô' => 'o',
            'û' | 'ù' => 'u',
            'à' | 'â' => 'a',
            'ç' => 'c',
            _ => '-',
        })
        .collect()
}

/// Tells each opted-in supplier, once per planned purchase, of the planned purchases matching
/// its CPV interests: one e-mail listing the new ones, through the outbox. Returns how many
/// e-mails were written.
pub fn enqueue_alerts(pool: &Pool, base_url: &str, now: NaiveDateTime) -> Result<usize, AppError> {
    let today = crate::domain::to_paris(now).0.date();
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let purchases = programme(conn, today)?;
        if purchases.is_empty() {
            return Ok(0);
        }
        let readers: Vec<(i32, String, String, String)> = suppliers::table
            .filter(suppliers::opt_in.eq(true))
            .order(suppliers::id)
            .select((
                suppliers::id,
                suppliers::name,
                suppliers::notification_email,
                suppliers::locale,
            ))
            .load(conn)?;
        let interests_of = crate::services::suppliers::interests_by_supplier(conn)?;
        let mut written = 0;
        for (supplier_id, name, email, locale) in readers {
            let interests = interests_of
                .get(&supplier_id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let told: BTreeSet<String> = programme_alerts::table
                .filter(programme_alerts::supplier_id.eq(supplier_id))
                .select(programme_alerts::purchase_key)
                .load::<String>(conn)?
                .into_iter()
                .collect();
            let new: Vec<&PlannedPurchase> = purchases
                .iter()
                .filter(|p| !told.contains(&p.key))
                .filter(|p| {
                    interests
                        .iter()
                        .any(|i| crate::services::tenders::interest_matches(i, &p.cpv))
                })
                .collect();
            if new.is_empty() {
                continue;
            }
            for p in &new {
                diesel::insert_into(programme_alerts::table)
                    .values((
                        programme_alerts::supplier_id.eq(supplier_id),
                        programme_alerts::purchase_key.eq(&p.key),
                        programme_alerts::told_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            let locale = Locale::of(&locale);
            let unsubscribe =
                crate::services::tenders::unsubscribe_link(conn, base_url, supplier_id)?;
            let data = json!({
                "locale": locale.code(),
                "supplier": name,
                "purchases": new.iter().map(|p| json!({
                    "label": p.label, "unit": p.unit, "quarter": p.quarter,
                    "procedure": p.procedure, "band": p.value_band,
                    "members": p.members.join(", "), "lots": p.lots,
                    "link": format!("{base_url}/programme-achats#{}", anchor(&p.key)),
                })).collect::<Vec<_>>(),
                "link": format!("{base_url}/programme-achats"),
                "unsubscribe": unsubscribe,
            });
            let keys: Vec<&str> = new.iter().map(|p| p.key.as_str()).collect();
            let digest = crate::services::auth::hash_token(&keys.join("|"));
            if crate::mail::enqueue(
                conn,
                &email,
                "purchase_planned",
                &data,
                &format!("programme:{supplier_id}:{digest}"),
            )? {
                written += 1;
            }
        }
        Ok(written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_told_as_bands_and_quarters_leave_time_to_prepare() {
        let t = groupement_solver::procedure::ThresholdTable::default();
        let t = t.in_force("2026-12-01").unwrap();
        let band = |cents| value_band(cents, t);
        let (a, b, c) = (t.no_competition_supplies, t.boamp, t.formal_sub_central);
        assert!(band(((a - 1.0) * 100.0) as i64).starts_with("moins de"));
        let middle = band(((a + b) * 50.0) as i64);
        assert!(middle.contains(" à "), "{middle}");
        // A band never straddles the formal threshold.
        assert_ne!(
            band(((c - 1.0) * 100.0) as i64),
            band(((c + 1.0) * 100.0) as i64)
        );
        assert!(band(900_000_000).starts_with("plus de"));
        let works = band(150_000_000);
        assert!(works.starts_with("1 M€ à 5\u{202f}"), "{works}");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let today = d(2026, 12, 1);
        // A formal procedure for deliveries from May: published in the first quarter.
        assert_eq!(
            expected_quarter(d(2027, 5, 1), Procedure::Formal, today).0,
            "T1 2027"
        );
        assert_eq!(
            expected_quarter(d(2027, 5, 1), Procedure::Adapted, today).0,
            "T1 2027"
        );
        assert_eq!(
            expected_quarter(d(2027, 9, 1), Procedure::Adapted, today).0,
            "T3 2027"
        );
        // Never in a quarter already gone.
        assert_eq!(
            expected_quarter(d(2027, 1, 5), Procedure::Formal, today).0,
            "T4 2026"
        );
        assert_eq!(anchor("needs:2027:3019:boîte"), "needs-2027-3019-boite");
    }
}
