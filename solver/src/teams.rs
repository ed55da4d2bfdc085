//! The co-bidding exchange's matching model (#24): for a lot (or a planned purchase) too big for
//! one company, which companies of the exchange together reach it?
//!
//! Each company on the exchange says which part of the lot it would take — a share of its value
//! — the value it could deliver (its capacity) and the departments it delivers to. A team
//! **reaches** a lot of value `V` delivered in departments `D` when
//!
//! - the parts add up: `Σ min(capacity_i, share_i · V) ≥ V` (a company brings its share, no
//!   more than it can deliver), and
//! - the departments are covered: `D ⊆ ∪ departments_i` (when the lot's are known).
//!
//! Among the teams of at most `max_size` companies that include the asking company and reach
//! the lot, the proposals are the smallest teams first (fewer partners to coordinate), then
//! those with more companies of the territory, then the tightest fit (the least value brought
//! beyond `V`), then by ids: a total order, so the same exchange always gives the same
//! proposals. The search is exact within a counted budget of steps.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A company on the exchange, as the model reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub id: String,
    /// The value it could deliver, in cents.
    pub capacity_cents: i64,
    /// The share of the lot's value it offers to take, in percent (1 to 100).
    pub share_pct: u32,
    /// Departments it delivers to.
    pub departments: Vec<String>,
    /// Whether it is a company of the territory.
    pub local: bool,
}

impl Partner {
    /// What it brings to a lot of this value: its share, within its capacity.
    pub fn contribution(&self, value_cents: i64) -> i64 {
        let share = (i128::from(value_cents) * i128::from(self.share_pct.min(100)) / 100) as i64;
        share.min(self.capacity_cents).max(0)
    }
}

/// What a team must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub value_cents: i64,
    /// Delivery departments; empty: not known yet (no condition).
    pub departments: Vec<String>,
}

/// A proposed team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The asking company first, then the partners by id.
    pub members: Vec<String>,
    /// What the team brings, in cents (≥ the target's value).
    pub brings_cents: i64,
    /// How many of its companies are of the territory.
    pub local: usize,
}

/// The most steps one search may take (counted work, not time).
pub const BUDGET: u64 = 2_000_000;

/// The teams of at most `max_size` companies including `anchor` that reach `target`, best first
/// (see the module), at most `limit`. Empty when `anchor` is not among `partners`.
pub fn propose(
    anchor: &str,
    target: &Target,
    partners: &[Partner],
    max_size: usize,
    limit: usize,
) -> Vec<Proposal> {
    let Some(first) = partners.iter().find(|p| p.id == anchor) else {
        return Vec::new();
    };
    let v = target.value_cents;
    let mut others: Vec<&Partner> = partners
        .iter()
        .filter(|p| p.id != anchor && p.contribution(v) > 0)
        .collect();
    // Largest contribution first: the bound below is then the sum of the next ones.
    others.sort_by(|a, b| {
        b.contribution(v)
            .cmp(&a.contribution(v))
            .then(a.id.cmp(&b.id))
    });
    let mut found: Vec<(Vec<usize>, i64)> = Vec::new();
    let mut budget = BUDGET;
    // Smallest teams first: a size is searched only while no smaller team reaches the lot,
    // then the sizes above it are searched too until `limit` proposals are found.
    for size in 1..=max_size.max(1) {
        let mut chosen = Vec::new();
        search(
            &others,
            v,
            size - 1,
            0,
            first.contribution(v),
            &mut chosen,
            &mut found,
            &mut budget,
            target,
            first,
        );
        if found.len() >= limit || budget == 0 {
            break;
        }
    }
    let mut proposals: Vec<Proposal> = found
        .into_iter()
        .map(|(idx, brings)| {
            let mut ids: Vec<&Partner> = idx.iter().map(|&i| others[i]).collect();
            ids.sort_by(|a, b| a.id.cmp(&b.id));
            let members: Vec<String> = std::iter::once(first.id.clone())
                .chain(ids.iter().map(|p| p.id.clone()))
                .collect();
            Proposal {
                local: usize::from(first.local) + ids.iter().filter(|p| p.local).count(),
                members,
                brings_cents: brings,
            }
        })
        .collect();
    proposals.sort_by(|a, b| {
        a.members
            .len()
            .cmp(&b.members.len())
            .then(b.local.cmp(&a.local))
            .then(a.brings_cents.cmp(&b.brings_cents))
            .then(a.members.cmp(&b.members))
    });
    proposals.truncate(limit);
    proposals
}

/// Whether the departments of these companies cover the target's.
fn covers(target: &Target, first: &Partner, members: &[&Partner]) -> bool {
    let covered: BTreeSet<&str> = first
        .departments
        .iter()
        .chain(members.iter().flat_map(|p| p.departments.iter()))
        .map(String::as_str)
        .collect();
    target
        .departments
        .iter()
        .all(|d| covered.contains(d.as_str()))
}

/// Adds to `found` every choice of exactly `left` more companies from `others[from..]` that
/// reaches the target with `brings` already brought.
#[allow(clippy::too_many_arguments)]
fn search(
    others: &[&Partner],
    v: i64,
    left: usize,
    from: usize,
    brings: i64,
    chosen: &mut Vec<usize>,
    found: &mut Vec<(Vec<usize>, i64)>,
    budget: &mut u64,
    target: &Target,
    first: &Partner,
) {
    if left == 0 {
        let members: Vec<&Partner> = chosen.iter().map(|&i| others[i]).collect();
        if brings >= v && covers(target, first, &members) {
            found.push((chosen.clone(), brings));
        }
        return;
    }
    for i in from..others.len() {
        if *budget == 0 || others.len() - i < left {
            return;
        }
        *budget -= 1;
        // The most the remaining places can bring: the next `left` contributions.
        let best: i64 = others[i..i + left].iter().map(|p| p.contribution(v)).sum();
        if brings + best < v {
            return;
        }
        chosen.push(i);
        search(
            others,
            v,
            left - 1,
            i + 1,
            brings + others[i].contribution(v),
            chosen,
            found,
            budget,
            target,
            first,
        );
        chosen.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(id: &str, capacity: i64, share: u32, departments: &[&str]) -> Partner {
        Partner {
            id: id.into(),
            capacity_cents: capacity,
            share_pct: share,
            departments: departments.iter().map(|d| d.to_string()).collect(),
            local: departments.contains(&"21"),
        }
    }

    /// Every subset, checked the long way: the reference the search must agree with.
    fn brute(anchor: &str, target: &Target, partners: &[Partner], max: usize) -> Vec<Proposal> {
        let first = partners.iter().find(|p| p.id == anchor).unwrap();
        let others: Vec<&Partner> = partners.iter().filter(|p| p.id != anchor).collect();
        let mut out = Vec::new();
        for mask in 0u32..(1 << others.len()) {
            let members: Vec<&Partner> = (0..others.len())
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| others[b])
                .collect();
            if members.len() + 1 > max {
                continue;
            }
            let brings: i64 = first.contribution(target.value_cents)
                + members
                    .iter()
                    .map(|p| p.contribution(target.value_cents))
                    .sum::<i64>();
            let mut departments: BTreeSet<&String> = first.departments.iter().collect();
            departments.extend(members.iter().flat_map(|p| p.departments.iter()));
            if brings >= target.value_cents
                && target.departments.iter().all(|d| departments.contains(d))
                && members
                    .iter()
                    .all(|p| p.contribution(target.value_cents) > 0)
            {
                let mut ids: Vec<String> = members.iter().map(|p| p.id.clone()).collect();
                ids.sort();
                ids.insert(0, first.id.clone());
                out.push(Proposal {
                    local: usize::from(first.local) + members.iter().filter(|p| p.local).count(),
                    members: ids,
                    brings_cents: brings,
                });
            }
        }
        out.sort_by(|a, b| {
            a.members
                .len()
                .cmp(&b.members.len())
                .then(b.local.cmp(&a.local))
                .then(a.brings_cents.cmp(&b.brings_cents))
                .then(a.members.cmp(&b.members))
        });
        out
    }

    #[test]
    fn two_smes_reach_a_lot_neither_can_take_alone() {
        let partners = vec![
            partner("A", 30_000_000, 60, &["21"]),
            partner("B", 25_000_000, 50, &["21", "71"]),
            partner("C", 90_000_000, 100, &["75"]),
            partner("D", 10_000_000, 40, &["21"]),
        ];
        let target = Target {
            value_cents: 50_000_000,
            departments: vec!["21".into(), "71".into()],
        };
        let proposals = propose("A", &target, &partners, 3, 5);
        // A brings 30 M (its 60 % share capped by its capacity is exactly 30 M), B 25 M: they
        // reach 50 M and cover 21 and 71. C would bring enough but delivers neither in 71.
        assert_eq!(proposals[0].members, ["A", "B"]);
        assert_eq!(proposals[0].local, 2);
        assert_eq!(proposals[0].brings_cents, 55_000_000);
        // Then the larger teams, those with more companies of the territory first.
        assert_eq!(proposals[1].members, ["A", "B", "D"]);
        assert!(proposals.iter().all(|p| p.members != ["A", "C"]));
        // D's 10 M with A's 30 M do not reach 50 M and do not cover 71.
        assert!(proposals.iter().all(|p| p.members != ["A", "D"]));
        assert_eq!(
            proposals,
            brute("A", &target, &partners, 3)[..proposals.len()]
        );
        // An anchor not on the exchange gets nothing.
        assert!(propose("Z", &target, &partners, 3, 5).is_empty());
    }

    #[test]
    fn the_search_agrees_with_every_subset() {
        // A small deterministic generator: the same instances on every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let departments = ["21", "71", "89", "58"];
        for _ in 0..300 {
            let count = 2 + next(8) as usize;
            let partners: Vec<Partner> = (0..count)
                .map(|i| {
                    let d: Vec<&str> = departments
                        .iter()
                        .copied()
                        .filter(|_| next(3) == 0)
                        .collect();
                    partner(
                        &format!("S{i:02}"),
                        (1 + next(40)) as i64 * 1_000_000,
                        (next(101)) as u32,
                        &d,
                    )
                })
                .collect();
            let target = Target {
                value_cents: (5 + next(60)) as i64 * 1_000_000,
                departments: departments
                    .iter()
                    .filter(|_| next(4) == 0)
                    .map(|d| d.to_string())
                    .collect(),
            };
            let max = 1 + next(4) as usize;
            let all = brute("S00", &target, &partners, max);
            let got = propose("S00", &target, &partners, max, usize::MAX);
            assert_eq!(got, all, "{partners:?} {target:?} {max}");
            let top = propose("S00", &target, &partners, max, 3);
            assert_eq!(top, all[..all.len().min(3)]);
        }
    }
}
