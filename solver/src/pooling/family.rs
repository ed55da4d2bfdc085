//! Families of compatible needs, the territory and the local capacity `C_f` (DESIGN §4).

use super::instance::{Need, Params, Supplier};
use std::collections::BTreeMap;

/// The department of a five-digit postcode: two digits, `2A`/`2B` in Corsica, three overseas.
pub fn department_of(postcode: &str) -> String {
    let postcode = postcode.trim();
    match postcode.get(..2) {
        Some("20") => {
            if postcode.get(2..3).is_some_and(|d| d < "2") {
                "2A".into()
            } else {
                "2B".into()
            }
        }
        Some("97") | Some("98") => postcode.get(..3).unwrap_or(postcode).into(),
        Some(code) => code.into(),
        None => postcode.into(),
    }
}

/// A CPV interest as a prefix: a full 8-digit code stands for its significant digits
/// (`33140000` is `3314`).
pub fn significant_prefix(interest: &str) -> &str {
    if interest.len() == 8 {
        let trimmed = interest.trim_end_matches('0');
        if trimmed.len() >= 2 {
            trimmed
        } else {
            &interest[..2]
        }
    } else {
        interest
    }
}

/// A supplier serves a family when one of its interests is a prefix of the family's prefix, or
/// the reverse.
pub fn serves(supplier: &Supplier, family_prefix: &str) -> bool {
    supplier.cpv_prefixes.iter().any(|interest| {
        let p = significant_prefix(interest);
        family_prefix.starts_with(p) || p.starts_with(family_prefix)
    })
}

pub fn is_territorial(supplier: &Supplier, params: &Params) -> bool {
    let department = department_of(&supplier.postcode);
    params.territory.iter().any(|t| t.trim() == department)
}

/// What the territory can deliver for one CPV prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalCapacity {
    /// `C_f`: the largest value such that `local_min_bidders` distinct bidders (no company in
    /// two of them) each have at least that capacity among the territorial rows serving the
    /// prefix (0 when there are fewer), in cents. With registered suppliers only, the
    /// `local_min_bidders`-th largest capacity.
    pub c_cents: i64,
    /// `C_f` counting the register alone: a lot above it and within `c_cents` is accessible
    /// thanks to a declaration or a team.
    pub registered_c_cents: i64,
    /// The rows, largest capacity first (ties by id): `(capacity in cents, supplier id)`.
    pub suppliers: Vec<(i64, String)>,
    /// The rows that come from sourcing (declarations, teams), by id, with their name.
    pub sourcing: BTreeMap<String, String>,
}

/// The most steps the search for disjoint bidders may take for one value (counted work: when
/// it runs out the value counts as not reached, the same on every machine).
const DISJOINT_BUDGET: u64 = 200_000;

/// Whether `k` rows of `sets` (taken in order) share no company.
fn disjoint_choice(sets: &[Vec<&str>], k: usize, budget: &mut u64) -> bool {
    fn go<'a>(
        sets: &[Vec<&'a str>],
        from: usize,
        k: usize,
        taken: &mut Vec<&'a str>,
        budget: &mut u64,
    ) -> bool {
        if k == 0 {
            return true;
        }
        for i in from..sets.len() {
            if sets.len() - i < k || *budget == 0 {
                return false;
            }
            *budget -= 1;
            if sets[i].iter().any(|c| taken.contains(c)) {
                continue;
            }
            let before = taken.len();
            taken.extend(sets[i].iter().copied());
            if go(sets, i + 1, k - 1, taken, budget) {
                return true;
            }
            taken.truncate(before);
        }
        false
    }
    go(sets, 0, k, &mut Vec::new(), budget)
}

/// `C_f` of rows sorted by capacity, largest first.
fn c_of(rows: &[(i64, &Supplier)], k: usize) -> i64 {
    if k == 0 {
        return rows.first().map_or(0, |r| r.0);
    }
    if rows.iter().all(|(_, s)| !s.from_sourcing()) {
        return rows.get(k - 1).map_or(0, |r| r.0);
    }
    let sets: Vec<Vec<&str>> = rows.iter().map(|(_, s)| s.companies()).collect();
    // The candidate values are the capacities, largest first: the first reached is C_f.
    for end in k..=rows.len() {
        if end < rows.len() && rows[end].0 == rows[end - 1].0 {
            continue;
        }
        let mut budget = DISJOINT_BUDGET;
        if disjoint_choice(&sets[..end], k, &mut budget) {
            return rows[end - 1].0;
        }
    }
    0
}

impl LocalCapacity {
    pub fn of(prefix: &str, suppliers: &[Supplier], params: &Params) -> LocalCapacity {
        let mut local: Vec<(i64, &Supplier)> = suppliers
            .iter()
            .filter(|s| params.count_sourcing || !s.from_sourcing())
            .filter(|s| is_territorial(s, params) && serves(s, prefix))
            .map(|s| ((s.annual_capacity_eur * 100.0).round() as i64, s))
            .collect();
        local.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.supplier_id.cmp(&b.1.supplier_id)));
        let k = params.local_min_bidders;
        let c_cents = c_of(&local, k);
        let registered: Vec<(i64, &Supplier)> = local
            .iter()
            .filter(|(_, s)| !s.from_sourcing())
            .copied()
            .collect();
        LocalCapacity {
            c_cents,
            registered_c_cents: c_of(&registered, k),
            suppliers: local
                .iter()
                .map(|(c, s)| (*c, s.supplier_id.clone()))
                .collect(),
            sourcing: local
                .iter()
                .filter(|(_, s)| s.from_sourcing())
                .map(|(_, s)| (s.supplier_id.clone(), s.name.clone()))
                .collect(),
        }
    }

    /// The territorial rows able to take a lot of this value.
    pub fn eligible(&self, value_cents: i64) -> Vec<String> {
        self.suppliers
            .iter()
            .take_while(|(capacity, _)| *capacity >= value_cents)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The declarations and teams a lot of this value owes its local access to (empty when
    /// the register alone makes it accessible, or when it is not).
    pub fn thanks_to(&self, value_cents: i64) -> Vec<String> {
        if value_cents <= self.registered_c_cents || value_cents > self.c_cents {
            return Vec::new();
        }
        self.eligible(value_cents)
            .into_iter()
            .filter_map(|id| self.sourcing.get(&id).cloned())
            .collect()
    }
}

/// Poolable needs of one CPV prefix and one unit.
#[derive(Debug, Clone)]
pub struct Family {
    pub prefix: String,
    /// The unit as written by the first need of the family.
    pub unit: String,
    /// Indices into the needs, in input order.
    pub needs: Vec<usize>,
}

/// The families, ordered by prefix then unit; and the non-poolable needs, in input order.
pub fn families(needs: &[Need], params: &Params) -> (Vec<Family>, Vec<usize>) {
    let mut by_key: BTreeMap<(String, String), Family> = BTreeMap::new();
    let mut solo = Vec::new();
    for (i, need) in needs.iter().enumerate() {
        if !need.poolable {
            solo.push(i);
            continue;
        }
        let prefix: String = need.cpv.chars().take(params.family_digits).collect();
        by_key
            .entry((prefix.clone(), need.unit_key()))
            .or_insert_with(|| Family {
                prefix,
                unit: need.unit.trim().to_string(),
                needs: Vec::new(),
            })
            .needs
            .push(i);
    }
    (by_key.into_values().collect(), solo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supplier(id: &str, postcode: &str, interests: &[&str], capacity: f64) -> Supplier {
        Supplier {
            supplier_id: id.into(),
            siret: String::new(),
            name: String::new(),
            postcode: postcode.into(),
            cpv_prefixes: interests.iter().map(|s| s.to_string()).collect(),
            annual_capacity_eur: capacity,
            sme: true,
            members: Vec::new(),
        }
    }

    #[test]
    fn prefixes_and_serving() {
        assert_eq!(significant_prefix("33140000"), "3314");
        assert_eq!(significant_prefix("03000000"), "03");
        assert_eq!(significant_prefix("331"), "331");
        let s = supplier("a", "21000", &["33140000"], 1.0);
        assert!(serves(&s, "3314") && serves(&s, "33") && !serves(&s, "3315"));
        assert!(serves(&supplier("b", "21000", &["331411"], 1.0), "3314"));
    }

    #[test]
    fn local_capacity_is_the_second_largest_territorial_capacity() {
        let params = Params::default();
        let suppliers = vec![
            supplier("a", "21000", &["3314"], 500_000.0),
            supplier("b", "21800", &["33"], 300_000.0),
            supplier("c", "75001", &["3314"], 9_000_000.0),
            supplier("d", "21000", &["3315"], 800_000.0),
            supplier("e", "21200", &["33141000"], 100_000.0),
        ];
        let local = LocalCapacity::of("3314", &suppliers, &params);
        assert_eq!(local.c_cents, 30_000_000);
        assert_eq!(local.eligible(25_000_000), ["a", "b"]);
        assert_eq!(LocalCapacity::of("4521", &suppliers, &params).c_cents, 0);
        assert_eq!(department_of("20190"), "2A");
        assert_eq!(department_of("97411"), "974");
    }

    #[test]
    fn sourcing_rows_count_once_per_company_and_only_when_asked() {
        let mut params = Params::default();
        let team = |id: &str, members: &[&str], capacity: f64| Supplier {
            members: members.iter().map(|m| m.to_string()).collect(),
            name: format!("équipe {id}"),
            ..supplier(id, "21000", &["3314"], capacity)
        };
        let suppliers = vec![
            supplier("a", "21000", &["3314"], 100_000.0),
            supplier("b", "21000", &["3314"], 50_000.0),
            supplier("c", "21000", &["3314"], 20_000.0),
            team("team:1", &["a", "b"], 150_000.0),
            // a declared capacity of c, above its registered one
            team("decl:c", &["c"], 120_000.0),
        ];
        // Off: the register alone.
        assert_eq!(
            LocalCapacity::of("3314", &suppliers, &params).c_cents,
            5_000_000
        );
        params.count_sourcing = true;
        let local = LocalCapacity::of("3314", &suppliers, &params);
        // The team (a+b) and c's declaration are two bidders with at least 120 000 €; the team
        // and a are not two bidders.
        assert_eq!(local.c_cents, 12_000_000);
        assert_eq!(local.registered_c_cents, 5_000_000);
        assert_eq!(
            local.thanks_to(11_000_000),
            ["équipe team:1", "équipe decl:c"]
        );
        assert!(local.thanks_to(4_000_000).is_empty());
        assert!(local.thanks_to(13_000_000).is_empty());
        // Three bidders: a, b's team cannot be one with a → a, c's declaration, b at 50 000 €.
        params.local_min_bidders = 3;
        assert_eq!(
            LocalCapacity::of("3314", &suppliers, &params).c_cents,
            5_000_000
        );
        // A team whose members overlap with every other row cannot make a second bidder.
        let only_team = vec![
            supplier("a", "21000", &["3314"], 100_000.0),
            team("team:1", &["a", "b"], 150_000.0),
        ];
        params.local_min_bidders = 2;
        assert_eq!(LocalCapacity::of("3314", &only_team, &params).c_cents, 0);
    }
}
