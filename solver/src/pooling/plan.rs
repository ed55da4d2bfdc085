//! `plan.json` (DESIGN §6): tenders with their lots, the needs left alone, the KPIs against
//! buying alone, and the solver's report.

use super::solve::{Method, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub kpis: Kpis,
    pub tenders: Vec<Tender>,
    /// Non-poolable needs: each is a lot of its own, outside any joint tender.
    pub solo: Vec<String>,
    pub solver: SolverReport,
}

/// The plan against buying alone. Objectives are in the objective's unit (EUR of expected
/// savings, plus the local bonus, minus lot costs); `savings_eur` is the pooled objective
/// minus the baseline's and `savings_pct` that difference in percent of the total estimated
/// value of all needs. Shares are fractions (0–1) of the total value in local-accessible lots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub baseline_objective: f64,
    pub pooled_objective: f64,
    pub savings_eur: f64,
    pub savings_pct: f64,
    pub lots_before: usize,
    pub lots_after: usize,
    pub local_share_before: f64,
    pub local_share_after: f64,
    pub total_value_eur: f64,
    /// Expected discounts alone (the curve's values summed over lots), before and after.
    pub expected_discount_before: f64,
    pub expected_discount_after: f64,
    /// Tenders by procedure (`no_competition`, `adapted`, `formal`) before and after.
    pub procedures_before: std::collections::BTreeMap<String, usize>,
    pub procedures_after: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tender {
    /// The CPV prefix shared by the tender's needs.
    pub family: String,
    pub unit: String,
    /// The organisation with the largest value in the tender.
    pub coordinator: String,
    pub procedure: String,
    pub publication: String,
    pub min_days: Option<u32>,
    pub standstill_days: Option<u32>,
    /// The strictest class of the members: `central` or `sub_central`.
    pub buyer_class: String,
    pub total_value_eur: f64,
    pub lots: Vec<Lot>,
}

impl Tender {
    /// The members with needs in the tender; more than one makes it a joint tender.
    pub fn buyers(&self) -> std::collections::BTreeSet<&str> {
        self.lots
            .iter()
            .flat_map(|l| l.buyers.iter().map(String::as_str))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lot {
    /// Number of the lot in its tender, from 1.
    pub lot: u32,
    pub need_ids: Vec<String>,
    pub buyers: Vec<String>,
    /// The sum of the lot's need values.
    pub value_eur: f64,
    /// The expected discount: the savings curve at the lot's value.
    pub savings_eur: f64,
    /// True exactly when `value_eur ≤ C_f`.
    pub local_accessible: bool,
    /// How many territorial suppliers serving the family can take the lot (capacity ≥ value).
    pub eligible_local_suppliers: usize,
    pub eligible_local_supplier_ids: Vec<String>,
    /// Under the small-lots rule of a formal procedure (R2123-1 2°).
    pub small_lot: bool,
    /// `C_f` of the family, for the explanation.
    pub local_capacity_eur: f64,
    pub explanation: String,
    /// Under `count_sourcing`, the declarations and co-bidding teams the lot owes its local
    /// access to (empty, and absent from plan.json, when the register alone gives it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thanks_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverReport {
    /// `optimal` when every family is, `time-limited` otherwise.
    pub status: Status,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    pub backend: String,
    pub families: Vec<FamilyReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyReport {
    pub family: String,
    pub unit: String,
    pub needs: usize,
    pub lots: usize,
    pub local_capacity_eur: f64,
    pub status: Status,
    pub method: Method,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    /// Counted work (lots tried, changes evaluated, simplex iterations): the same on every
    /// machine, unlike `seconds`.
    #[serde(default)]
    pub work: u64,
}
