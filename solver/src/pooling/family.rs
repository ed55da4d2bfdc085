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
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCapacity {
    /// `C_f`: the `local_min_bidders`-th largest capacity among territorial suppliers serving
    /// the prefix (0 when fewer), in cents.
    pub c_cents: i64,
    /// Those suppliers, largest capacity first (ties by id): `(capacity in cents, supplier id)`.
    pub suppliers: Vec<(i64, String)>,
}

impl LocalCapacity {
    pub fn of(prefix: &str, suppliers: &[Supplier], params: &Params) -> LocalCapacity {
        let mut local: Vec<(i64, String)> = suppliers
            .iter()
            .filter(|s| is_territorial(s, params) && serves(s, prefix))
            .map(|s| {
                (
                    (s.annual_capacity_eur * 100.0).round() as i64,
                    s.supplier_id.clone(),
                )
            })
            .collect();
        local.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let c_cents = local
            .get(params.local_min_bidders.saturating_sub(1))
            .map_or(0, |s| s.0);
        LocalCapacity {
            c_cents,
            suppliers: local,
        }
    }

    /// The territorial suppliers able to take a lot of this value.
    pub fn eligible(&self, value_cents: i64) -> Vec<String> {
        self.suppliers
            .iter()
            .take_while(|(capacity, _)| *capacity >= value_cents)
            .map(|(_, id)| id.clone())
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
}
