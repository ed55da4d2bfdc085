//! Bids by a group of companies (groupement momentané d'entreprises, #24). The company that
//! deposits the bid is the group's representative (mandataire); it names its co-contractors by
//! SIRET, each with its share of the value, and whether the group is joint (solidaire) or
//! several (conjoint). Each co-contractor confirms from its own account before the deadline:
//! a group bid some member has not confirmed at the deadline is not admissible and is never
//! scored. A company answers a lot once — alone or in one group — and the cap on lots per
//! company counts the lots it wins in a group (the award engine's `members`).

use crate::auth::Actor;
use crate::db::schema::{bid_group_members, bid_groups, bids, lots, suppliers, tenders};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{BidStatus, Locale, Siret};
use crate::error::{AppError, Problems};
use crate::services::audit::{self, Change};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The most co-contractors a bid names.
pub const MOST_MEMBERS: usize = 3;

/// The group part of a bid form, as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct GroupForm {
    /// Empty: the company bids alone; `solidaire` or `conjoint`.
    #[serde(default)]
    pub group_kind: String,
    #[serde(default)]
    pub co_siret_1: String,
    #[serde(default)]
    pub co_share_1: String,
    #[serde(default)]
    pub co_siret_2: String,
    #[serde(default)]
    pub co_share_2: String,
    #[serde(default)]
    pub co_siret_3: String,
    #[serde(default)]
    pub co_share_3: String,
}

impl GroupForm {
    fn pairs(&self) -> [(&str, &str); MOST_MEMBERS] {
        [
            (&self.co_siret_1, &self.co_share_1),
            (&self.co_siret_2, &self.co_share_2),
            (&self.co_siret_3, &self.co_share_3),
        ]
    }
}

/// A group as checked: its kind (`joint`, `several`) and its co-contractors (supplier id,
/// share in percent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub kind: &'static str,
    pub members: Vec<(i32, i32)>,
}

const SHARE_FIELDS: [&str; MOST_MEMBERS] = [
    "part du co-traitant 1",
    "part du co-traitant 2",
    "part du co-traitant 3",
];
const SIRET_FIELDS: [&str; MOST_MEMBERS] = [
    "SIRET du co-traitant 1",
    "SIRET du co-traitant 2",
    "SIRET du co-traitant 3",
];

/// The group of a form, checked in the deposit's transaction: each problem named by its field.
/// (Whether a co-contractor answers the lot otherwise is not read here — that would tell the
/// representative whether a competitor bid — but at the co-contractor's confirmation.)
/// `None` when the company bids alone.
pub fn check(
    conn: &mut AnyConnection,
    problems: &mut Problems,
    form: &GroupForm,
    supplier_id: i32,
) -> QueryResult<Option<GroupSpec>> {
    let named: Vec<(usize, &str, &str)> = form
        .pairs()
        .iter()
        .enumerate()
        .filter(|(_, (siret, share))| !siret.trim().is_empty() || !share.trim().is_empty())
        .map(|(k, (siret, share))| (k, siret.trim(), share.trim()))
        .collect();
    let kind = match form.group_kind.trim() {
        "" if named.is_empty() => return Ok(None),
        "" => {
            problems.add(
                "groupement",
                "choisissez un groupement solidaire ou conjoint, ou videz les co-traitants",
            );
            return Ok(None);
        }
        "solidaire" => "joint",
        "conjoint" => "several",
        _ => {
            problems.add("groupement", "solidaire ou conjoint");
            return Ok(None);
        }
    };
    if named.is_empty() {
        problems.add(
            "SIRET du co-traitant 1",
            "un groupement compte au moins un co-traitant",
        );
        return Ok(None);
    }
    let mut members: Vec<(i32, i32)> = Vec::new();
    for (k, siret, share) in named {
        let share = match share.trim_end_matches('%').trim().parse::<i32>() {
            Ok(s) if (1..=99).contains(&s) => Some(s),
            _ => {
                problems.add(SHARE_FIELDS[k], "un pourcentage entier de 1 à 99");
                None
            }
        };
        let siret = match Siret::parse(siret) {
            Ok(s) => s,
            Err(e) => {
                problems.add(SIRET_FIELDS[k], e.0);
                continue;
            }
        };
        let found: Option<i32> = suppliers::table
            .filter(suppliers::siret.eq(siret.as_str()))
            .select(suppliers::id)
            .first(conn)
            .optional()?;
        let Some(id) = found else {
            problems.add(
                SIRET_FIELDS[k],
                format!(
                    "l'entreprise {} n'est pas inscrite sur Groupement : elle doit s'inscrire pour confirmer sa part",
                    siret.as_str()
                ),
            );
            continue;
        };
        if id == supplier_id {
            problems.add(
                SIRET_FIELDS[k],
                "c'est votre entreprise, mandataire du groupement",
            );
            continue;
        }
        if members.iter().any(|m| m.0 == id) {
            problems.add(SIRET_FIELDS[k], "cette entreprise est déjà nommée");
            continue;
        }
        if let Some(share) = share {
            members.push((id, share));
        }
    }
    let total: i32 = members.iter().map(|m| m.1).sum();
    if total >= 100 {
        problems.add(
            "part du co-traitant 1",
            format!(
                "les parts des co-traitants font {total} % : le mandataire doit garder une part"
            ),
        );
    }
    Ok(Some(GroupSpec { kind, members }))
}

/// Whether `company` is already engaged on the lot other than in bid `except`: by its own
/// submitted bid, or by its confirmed place in another company's group. Only the company's own
/// acts are read — never whether a competitor bid — so that nothing about a sealed bid leaks.
pub fn engaged_elsewhere(
    conn: &mut AnyConnection,
    lot_id: i32,
    company: i32,
    except: Option<i32>,
) -> QueryResult<Option<String>> {
    let except = except.unwrap_or(-1);
    let own: i64 = bids::table
        .filter(bids::lot_id.eq(lot_id))
        .filter(bids::supplier_id.eq(company))
        .filter(bids::status.eq(BidStatus::Submitted))
        .filter(bids::id.ne(except))
        .count()
        .get_result(conn)?;
    if own > 0 {
        return Ok(Some(
            "votre entreprise a déposé sa propre offre sur ce lot : retirez-la d'abord, une entreprise ne répond qu'une fois par lot".into(),
        ));
    }
    let group: Option<String> = bid_group_members::table
        .inner_join(bids::table.on(bids::id.eq(bid_group_members::bid_id)))
        .inner_join(suppliers::table.on(suppliers::id.eq(bids::supplier_id)))
        .filter(bids::lot_id.eq(lot_id))
        .filter(bids::status.eq(BidStatus::Submitted))
        .filter(bids::id.ne(except))
        .filter(bid_group_members::supplier_id.eq(company))
        .filter(bid_group_members::confirmed_at.is_not_null())
        .select(suppliers::name)
        .first(conn)
        .optional()?;
    Ok(group.map(|name| {
        format!(
            "votre entreprise a confirmé sa place dans le groupement de {name} sur ce lot : une entreprise ne répond qu'une fois par lot, seule ou en groupement"
        )
    }))
}

/// Writes the group of a bid as it now stands (in the deposit's transaction): a member whose
/// share and group kind are unchanged keeps its confirmation, the others must confirm (again).
/// Returns the co-contractors to tell.
pub fn store(
    conn: &mut AnyConnection,
    bid_id: i32,
    spec: Option<&GroupSpec>,
) -> QueryResult<Vec<i32>> {
    let before_kind: Option<String> = bid_groups::table
        .find(bid_id)
        .select(bid_groups::kind)
        .first(conn)
        .optional()?;
    let before: BTreeMap<i32, (i32, Option<NaiveDateTime>)> = bid_group_members::table
        .filter(bid_group_members::bid_id.eq(bid_id))
        .select((
            bid_group_members::supplier_id,
            bid_group_members::share_pct,
            bid_group_members::confirmed_at,
        ))
        .load::<(i32, i32, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(s, share, at)| (s, (share, at)))
        .collect();
    diesel::delete(bid_groups::table.find(bid_id)).execute(conn)?;
    diesel::delete(bid_group_members::table.filter(bid_group_members::bid_id.eq(bid_id)))
        .execute(conn)?;
    let Some(spec) = spec else {
        return Ok(Vec::new());
    };
    diesel::insert_into(bid_groups::table)
        .values((
            bid_groups::bid_id.eq(bid_id),
            bid_groups::kind.eq(spec.kind),
        ))
        .execute(conn)?;
    let mut to_tell = Vec::new();
    for &(supplier, share) in &spec.members {
        let kept = before
            .get(&supplier)
            .filter(|(s, _)| *s == share && before_kind.as_deref() == Some(spec.kind))
            .and_then(|(_, at)| *at);
        if kept.is_none() {
            to_tell.push(supplier);
        }
        diesel::insert_into(bid_group_members::table)
            .values((
                bid_group_members::bid_id.eq(bid_id),
                bid_group_members::supplier_id.eq(supplier),
                bid_group_members::share_pct.eq(share),
                bid_group_members::confirmed_at.eq(kept),
            ))
            .execute(conn)?;
    }
    Ok(to_tell)
}

/// Tells the co-contractors that a group bid names them and waits for their confirmation.
pub fn tell_members(
    conn: &mut AnyConnection,
    base_url: &str,
    bid_id: i32,
    members: &[i32],
    (reference, lot_number, deadline): (&str, i32, NaiveDateTime),
) -> QueryResult<()> {
    let representative: String = bids::table
        .inner_join(suppliers::table)
        .filter(bids::id.eq(bid_id))
        .select(suppliers::name)
        .first(conn)?;
    for &member in members {
        let (name, email, locale) = crate::services::suppliers::mail_contact(conn, member)?;
        let locale = Locale::of(&locale);
        crate::mail::enqueue(
            conn,
            &email,
            "group_invitation",
            &json!({
                "locale": locale.code(), "supplier": name, "company": representative,
                "reference": reference, "lot": lot_number,
                "deadline": locale.moment(deadline),
                "link": format!("{base_url}/appels-d-offres/{reference}/offre#groupements"),
            }),
            &format!(
                "group:{bid_id}:{member}:{}",
                Utc::now().naive_utc().and_utc().timestamp_micros()
            ),
        )?;
    }
    Ok(())
}

/// A company of a group, as pages and open data show it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupMember {
    pub supplier_id: i32,
    pub name: String,
    pub siret: String,
    pub share_pct: i32,
    pub confirmed: bool,
}

/// A bid's group.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// `joint` or `several`.
    pub kind: String,
    pub members: Vec<GroupMember>,
}

/// A group's kind (`joint`, `several`) as French says it: `solidaire`, `conjoint`.
fn kind_fr(kind: &str) -> &'static str {
    match kind {
        "joint" => "solidaire",
        _ => "conjoint",
    }
}

impl Group {
    /// `solidaire` or `conjoint`, as French says it.
    pub fn kind_fr(&self) -> &'static str {
        kind_fr(&self.kind)
    }

    /// The DECP's `typeGroupementOperateurs`.
    pub fn decp_kind(&self) -> &'static str {
        match self.kind.as_str() {
            "joint" => "Solidaire",
            _ => "Conjoint",
        }
    }

    pub fn confirmed(&self) -> bool {
        self.members.iter().all(|m| m.confirmed)
    }

    /// The representative's share: what the co-contractors leave.
    pub fn representative_share(&self) -> i32 {
        100 - self.members.iter().map(|m| m.share_pct).sum::<i32>()
    }

    /// « groupement solidaire : mandataire 60 %, B (40 %, confirmé) ».
    pub fn describe(&self) -> String {
        format!(
            "groupement {} — mandataire {} % ; {}",
            self.kind_fr(),
            self.representative_share(),
            self.members
                .iter()
                .map(|m| format!(
                    "{} (SIRET {}, {} %, {})",
                    m.name,
                    m.siret,
                    m.share_pct,
                    if m.confirmed {
                        "confirmé"
                    } else {
                        "non confirmé"
                    }
                ))
                .collect::<Vec<_>>()
                .join(" ; ")
        )
    }
}

/// The groups of these bids, by bid id.
pub fn of_bids(conn: &mut AnyConnection, bid_ids: &[i32]) -> QueryResult<BTreeMap<i32, Group>> {
    let kinds: Vec<(i32, String)> = bid_groups::table
        .filter(bid_groups::bid_id.eq_any(bid_ids))
        .select((bid_groups::bid_id, bid_groups::kind))
        .load(conn)?;
    let mut out: BTreeMap<i32, Group> = kinds
        .into_iter()
        .map(|(id, kind)| {
            (
                id,
                Group {
                    kind,
                    members: Vec::new(),
                },
            )
        })
        .collect();
    let rows: Vec<(i32, i32, i32, Option<NaiveDateTime>, String, String)> =
        bid_group_members::table
            .inner_join(suppliers::table)
            .filter(bid_group_members::bid_id.eq_any(bid_ids))
            .order((bid_group_members::bid_id, suppliers::name))
            .select((
                bid_group_members::bid_id,
                bid_group_members::supplier_id,
                bid_group_members::share_pct,
                bid_group_members::confirmed_at,
                suppliers::name,
                suppliers::siret,
            ))
            .load(conn)?;
    for (bid, supplier_id, share_pct, confirmed_at, name, siret) in rows {
        if let Some(group) = out.get_mut(&bid) {
            group.members.push(GroupMember {
                supplier_id,
                name,
                siret,
                share_pct,
                confirmed: confirmed_at.is_some(),
            });
        }
    }
    Ok(out)
}

/// The groups of companies that won these lots (#24), by lot: their co-contractors hold the
/// lot's contracts with the representative.
pub fn winning(conn: &mut AnyConnection, lot_ids: &[i32]) -> QueryResult<BTreeMap<i32, Group>> {
    use crate::db::schema::awards;
    let winning: Vec<(i32, Option<i32>)> = awards::table
        .filter(awards::lot_id.eq_any(lot_ids))
        .filter(awards::approved_at.is_not_null())
        .select((awards::lot_id, awards::winning_bid_id))
        .load(conn)?;
    let winning_bids: Vec<i32> = winning.iter().filter_map(|w| w.1).collect();
    let mut groups = of_bids(conn, &winning_bids)?;
    Ok(winning
        .into_iter()
        .filter_map(|(lot, bid)| bid.and_then(|b| groups.remove(&b)).map(|g| (lot, g)))
        .collect())
}

/// A group bid that names the viewing company, as it sees it (never the price).
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub bid_id: i32,
    pub representative: String,
    pub lot: i32,
    pub kind: &'static str,
    pub share_pct: i32,
    pub confirmed: bool,
}

/// The group bids on a tender's lots that name the company as co-contractor.
pub fn invitations(
    conn: &mut AnyConnection,
    tender_id: i32,
    supplier_id: i32,
) -> QueryResult<Vec<Invitation>> {
    let rows: Vec<(i32, String, i32, String, i32, Option<NaiveDateTime>)> =
        bid_group_members::table
            .inner_join(bid_groups::table)
            .inner_join(bids::table.on(bids::id.eq(bid_group_members::bid_id)))
            .inner_join(lots::table.on(lots::id.eq(bids::lot_id)))
            .inner_join(suppliers::table.on(suppliers::id.eq(bids::supplier_id)))
            .filter(lots::tender_id.eq(tender_id))
            .filter(bids::status.eq(BidStatus::Submitted))
            .filter(bid_group_members::supplier_id.eq(supplier_id))
            .order((lots::number, bids::id))
            .select((
                bids::id,
                suppliers::name,
                lots::number,
                bid_groups::kind,
                bid_group_members::share_pct,
                bid_group_members::confirmed_at,
            ))
            .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(bid_id, representative, lot, kind, share_pct, at)| Invitation {
                bid_id,
                representative,
                lot,
                kind: kind_fr(&kind),
                share_pct,
                confirmed: at.is_some(),
            },
        )
        .collect())
}

/// A co-contractor confirms its place in a group bid, before the deadline.
pub fn confirm(pool: &Pool, actor: &Actor, reference: &str, bid_id: i32) -> Result<(), AppError> {
    let me = actor.require_supplier()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let found: Option<(i32, String, Option<NaiveDateTime>, Option<NaiveDateTime>)> =
            bid_group_members::table
                .inner_join(bids::table.on(bids::id.eq(bid_group_members::bid_id)))
                .inner_join(lots::table.on(lots::id.eq(bids::lot_id)))
                .inner_join(tenders::table.on(tenders::id.eq(lots::tender_id)))
                .filter(bid_group_members::bid_id.eq(bid_id))
                .filter(bid_group_members::supplier_id.eq(me))
                .filter(tenders::reference.eq(reference))
                .filter(bids::status.eq(BidStatus::Submitted))
                .select((
                    lots::id,
                    tenders::status,
                    tenders::deadline,
                    bid_group_members::confirmed_at,
                ))
                .first(conn)
                .optional()?;
        let (lot_id, status, deadline, confirmed) = found.ok_or(AppError::NotFound)?;
        let now = Utc::now().naive_utc();
        if status != "published" || deadline.is_none_or(|d| now >= d) {
            return Err(AppError::Conflict(
                "la date limite est passée : la participation ne se confirme plus".into(),
            ));
        }
        if confirmed.is_some() {
            return Ok(());
        }
        if let Some(reason) = engaged_elsewhere(conn, lot_id, me, Some(bid_id))? {
            return Err(AppError::Conflict(reason));
        }
        diesel::update(
            bid_group_members::table
                .filter(bid_group_members::bid_id.eq(bid_id))
                .filter(bid_group_members::supplier_id.eq(me)),
        )
        .set(bid_group_members::confirmed_at.eq(now))
        .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("bid.group_confirmed", "lot", lot_id)
                .after(format!("participation confirmée à l'offre n° {bid_id}")),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_described_with_the_representatives_share() {
        let group = Group {
            kind: "joint".into(),
            members: vec![GroupMember {
                supplier_id: 2,
                name: "Bravo".into(),
                siret: "21210231500017".into(),
                share_pct: 40,
                confirmed: false,
            }],
        };
        assert_eq!(group.representative_share(), 60);
        assert_eq!(group.decp_kind(), "Solidaire");
        assert!(!group.confirmed());
        assert_eq!(
            group.describe(),
            "groupement solidaire — mandataire 60 % ; Bravo (SIRET 21210231500017, 40 %, non confirmé)"
        );
    }
}
