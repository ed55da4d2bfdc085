//! What the pooling engine takes: needs, suppliers and parameters (DESIGN §4 and §6).

use super::curve::SavingsCurve;
use crate::procedure::{BuyerClass, ThresholdTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A purchasing need of one buyer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Need {
    pub need_id: String,
    /// The buyer organisation's code (`CHU`, `UB`, …).
    pub buyer: String,
    /// 8 digits, check digit removed.
    pub cpv: String,
    #[serde(default)]
    pub title: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price_eur: f64,
    #[serde(default)]
    pub delivery_postcode: String,
    /// ISO dates `YYYY-MM-DD`, both days included.
    pub window_start: String,
    pub window_end: String,
    pub poolable: bool,
}

impl Need {
    /// quantity × unit price, in whole cents: sums and comparisons stay exact.
    pub fn value_cents(&self) -> i64 {
        (self.quantity * self.unit_price_eur * 100.0).round() as i64
    }

    /// The unit as families compare it: trimmed, case-insensitive.
    pub fn unit_key(&self) -> String {
        self.unit.trim().to_lowercase()
    }

    pub fn overlaps(&self, other: &Need) -> bool {
        self.window_start <= other.window_end && other.window_start <= self.window_end
    }
}

/// A need of one unit for the unit tests of the engine: CHU, CPV 33141000, delivered in Dijon.
#[cfg(test)]
pub(crate) fn test_need(id: String, value_eur: f64, start: &str, end: &str) -> Need {
    Need {
        need_id: id,
        buyer: "CHU".into(),
        cpv: "33141000".into(),
        title: String::new(),
        quantity: 1.0,
        unit: "u".into(),
        unit_price_eur: value_eur,
        delivery_postcode: "21000".into(),
        window_start: start.into(),
        window_end: end.into(),
        poolable: true,
    }
}

/// A supplier, as far as pooling needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supplier {
    pub supplier_id: String,
    #[serde(default)]
    pub siret: String,
    #[serde(default)]
    pub name: String,
    pub postcode: String,
    /// CPV interests: prefixes of digits; a full 8-digit code stands for its significant
    /// prefix (`33140000` means `3314`).
    pub cpv_prefixes: Vec<String>,
    pub annual_capacity_eur: f64,
    #[serde(default)]
    pub sme: bool,
    /// A bidder made of registered suppliers (#24): the ids of the companies it stands for —
    /// a capacity one of them declared for the family on a planned purchase, or a co-bidding
    /// team with its members' combined capacity. Empty: a registered supplier, itself. Two
    /// rows sharing a company never count as two bidders, and such rows count only when
    /// [`Params::count_sourcing`] says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

impl Supplier {
    /// Whether the row comes from sourcing (a declaration or a team), not the register.
    pub fn from_sourcing(&self) -> bool {
        !self.members.is_empty()
    }

    /// The registered companies the row stands for.
    pub fn companies(&self) -> Vec<&str> {
        match self.members.is_empty() {
            true => vec![self.supplier_id.as_str()],
            false => self.members.iter().map(String::as_str).collect(),
        }
    }
}

/// The parameters of a pooling run, with the defaults of DESIGN §4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub family_digits: usize,
    /// Departments whose suppliers are territorial.
    pub territory: Vec<String>,
    pub local_min_bidders: usize,
    pub lot_cost: f64,
    pub local_weight: f64,
    pub max_lot_value: Option<f64>,
    /// Whether `C_f` also counts the capacities companies declared on the purchase programme
    /// and the co-bidding teams formed on the exchange (DESIGN §4; the lead's choice, off by
    /// default: the register alone).
    pub count_sourcing: bool,
    pub curve: SavingsCurve,
    /// Curves by CPV division (first two digits), replacing `curve` there.
    pub division_curves: BTreeMap<String, SavingsCurve>,
    /// Buyer classes by code; a code not listed is sub-central, except `UB` (a university,
    /// central) unless listed otherwise.
    pub buyers: BTreeMap<String, BuyerClass>,
    /// The most lots the exact enumeration of one family may try (counted work).
    pub enumeration_budget: u64,
    /// The most branch-and-bound nodes of one family's MILP (counted work: no wall-clock limit
    /// decides a plan).
    pub milp_max_nodes: u64,
    /// Relative gap under which a family counts as optimal.
    pub relative_gap: f64,
    /// Relative gap a family's plan may keep when proved by a bound (DESIGN §8: 0.5 %): the
    /// heuristic's plan proved within it needs no MILP, and the MILP stops there.
    pub accepted_gap: f64,
    /// Families whose model would have more assignment variables than this are planned by the
    /// heuristic alone, with a relaxation bound.
    pub milp_max_assignments: usize,
    /// How many changes the local search of one family may evaluate (a count, so that plans
    /// do not depend on the machine's speed).
    pub search_budget: u64,
    /// The day whose thresholds apply (ISO); by default the earliest delivery day of each
    /// tender's needs.
    pub reference_date: Option<String>,
    pub thresholds: ThresholdTable,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            family_digits: 4,
            territory: vec!["21".into()],
            local_min_bidders: 2,
            lot_cost: 3000.0,
            local_weight: 0.03,
            max_lot_value: None,
            count_sourcing: false,
            curve: SavingsCurve::default(),
            division_curves: BTreeMap::new(),
            buyers: BTreeMap::new(),
            enumeration_budget: 60_000_000,
            milp_max_nodes: 2_000,
            relative_gap: 1e-4,
            accepted_gap: 0.005,
            milp_max_assignments: 2_000,
            search_budget: 20_000_000,
            reference_date: None,
            thresholds: ThresholdTable::default(),
        }
    }
}

impl Params {
    pub fn buyer_class(&self, buyer: &str) -> BuyerClass {
        match self.buyers.get(buyer) {
            Some(class) => *class,
            None if buyer == "UB" => BuyerClass::Central,
            None => BuyerClass::SubCentral,
        }
    }

    /// The savings curve of a CPV code's division.
    pub fn curve_for(&self, cpv: &str) -> &SavingsCurve {
        cpv.get(..2)
            .and_then(|d| self.division_curves.get(d))
            .unwrap_or(&self.curve)
    }

    /// Problems with the parameters, as `field: message`.
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if !(1..=8).contains(&self.family_digits) {
            errors.push(format!(
                "family_digits: {} is not between 1 and 8",
                self.family_digits
            ));
        }
        if self.local_min_bidders == 0 {
            errors.push("local_min_bidders: must be at least 1".into());
        }
        for (name, value) in [
            ("lot_cost", self.lot_cost),
            ("local_weight", self.local_weight),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                errors.push(format!("{name}: {value} must be a number ≥ 0"));
            }
        }
        if let Some(max) = self.max_lot_value {
            if !(max.is_finite() && max > 0.0) {
                errors.push(format!("max_lot_value: {max} must be above 0"));
            }
        }
        if !(self.accepted_gap.is_finite() && (0.0..1.0).contains(&self.accepted_gap)) {
            errors.push(format!(
                "accepted_gap: {} must be at least 0 and below 1",
                self.accepted_gap
            ));
        }
        if let Err(e) = self.curve.validate() {
            errors.push(format!("curve: {e}"));
        }
        for (division, curve) in &self.division_curves {
            if let Err(e) = curve.validate() {
                errors.push(format!("division_curves.{division}: {e}"));
            }
        }
        errors
    }
}

/// A problem in the input, located by list and position so that a file reader can name the
/// row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputError {
    pub list: &'static str,
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}: {}",
            self.list,
            self.index + 1,
            self.field,
            self.message
        )
    }
}

/// Checks what the engine relies on: ids, positive values, 8-digit CPV codes, windows.
pub fn validate_input(needs: &[Need], suppliers: &[Supplier]) -> Vec<InputError> {
    let mut errors = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (index, need) in needs.iter().enumerate() {
        let mut fail = |field, message: String| {
            errors.push(InputError {
                list: "need",
                index,
                field,
                message,
            })
        };
        if need.need_id.trim().is_empty() {
            fail("need_id", "empty".into());
        } else if !ids.insert(need.need_id.as_str()) {
            fail("need_id", format!("need {} appears twice", need.need_id));
        }
        if need.buyer.trim().is_empty() {
            fail("buyer", "empty".into());
        }
        if need.cpv.len() != 8 || !need.cpv.bytes().all(|b| b.is_ascii_digit()) {
            fail(
                "cpv",
                format!("« {} » is not an 8-digit CPV code", need.cpv),
            );
        }
        if need.unit.trim().is_empty() {
            fail("unit", "empty".into());
        }
        if !(need.quantity.is_finite() && need.quantity > 0.0) {
            fail("quantity", format!("{} must be above 0", need.quantity));
        }
        if !(need.unit_price_eur.is_finite() && need.unit_price_eur > 0.0) {
            fail(
                "unit_price_eur",
                format!("{} must be above 0", need.unit_price_eur),
            );
        }
        if need.window_start > need.window_end {
            fail(
                "window_start",
                format!(
                    "starts {} after its end {}",
                    need.window_start, need.window_end
                ),
            );
        }
    }
    let mut supplier_ids = std::collections::HashSet::new();
    for (index, supplier) in suppliers.iter().enumerate() {
        let mut fail = |field, message: String| {
            errors.push(InputError {
                list: "supplier",
                index,
                field,
                message,
            })
        };
        if supplier.supplier_id.trim().is_empty() {
            fail("supplier_id", "empty".into());
        } else if !supplier_ids.insert(supplier.supplier_id.as_str()) {
            fail(
                "supplier_id",
                format!("supplier {} appears twice", supplier.supplier_id),
            );
        }
        if !(supplier.annual_capacity_eur.is_finite() && supplier.annual_capacity_eur >= 0.0) {
            fail(
                "annual_capacity_eur",
                format!("{} must be a number ≥ 0", supplier.annual_capacity_eur),
            );
        }
        if supplier
            .cpv_prefixes
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            fail(
                "cpv_prefixes",
                "CPV interests are digits separated by spaces".into(),
            );
        }
    }
    errors
}
