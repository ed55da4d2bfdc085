//! The award model (DESIGN §5): each lot goes to its most economically advantageous bid under
//! the weighted criteria announced in the tender, within the optional cap on lots per supplier.
//! One price per lot: bundles are refused by design (CCP L2151-1).

mod check;
mod rules;
mod score;

pub use check::check_award;
pub use score::{price_score, score, ScoredBid};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A lot of the tender, with its estimated value (for the decreasing-importance order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwardLot {
    pub lot_id: String,
    #[serde(default)]
    pub tender_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub cpv: String,
    pub value_eur: f64,
}

/// A sealed bid, opened: one price for one lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bid {
    pub bid_id: String,
    pub supplier_id: String,
    pub lot_id: String,
    pub price_eur: f64,
    pub quality: f64,
    pub environment: f64,
    /// ISO 8601; compared as text, so all bids must use the same form (UTC).
    pub submitted_at: String,
    /// A bid by a group of companies (#24): the co-contractors beside the representative
    /// (`supplier_id`). The cap counts a lot won by the group for each of its companies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

impl Bid {
    /// The companies the bid engages: its representative, then its co-contractors.
    pub fn companies(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.supplier_id.as_str()).chain(self.members.iter().map(String::as_str))
    }
}

/// The announced weights, in points out of 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub price: u32,
    pub quality: u32,
    pub environment: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            price: 60,
            quality: 30,
            environment: 10,
        }
    }
}

/// The rule announced for a supplier that would win more lots than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CapRule {
    /// Lots by decreasing estimated value, each to its best bidder still under the cap.
    #[serde(rename = "decreasing-importance")]
    DecreasingImportance,
    /// The assignment that maximises the sum of the winners' scores.
    #[serde(rename = "best-total")]
    BestTotal,
}

impl CapRule {
    pub fn name(self) -> &'static str {
        match self {
            CapRule::DecreasingImportance => "decreasing-importance",
            CapRule::BestTotal => "best-total",
        }
    }

    pub fn parse(text: &str) -> Option<CapRule> {
        match text.trim() {
            "decreasing-importance" => Some(CapRule::DecreasingImportance),
            "best-total" => Some(CapRule::BestTotal),
            _ => None,
        }
    }

    pub fn other(self) -> CapRule {
        match self {
            CapRule::DecreasingImportance => CapRule::BestTotal,
            CapRule::BestTotal => CapRule::DecreasingImportance,
        }
    }
}

/// The rules announced in the tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRules {
    pub weights: Weights,
    pub cap: Option<u32>,
    pub rule: CapRule,
}

impl Default for AwardRules {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            cap: None,
            rule: CapRule::DecreasingImportance,
        }
    }
}

/// A rule or an input that the award cannot run with. `index` is the position of the bid or
/// lot in its list, so that a file reader can name the row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwardInputError {
    pub list: &'static str,
    pub index: Option<usize>,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for AwardInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(
                f,
                "{} {}: {}: {}",
                self.list,
                i + 1,
                self.field,
                self.message
            ),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// One bid as the award reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidOutcome {
    pub bid_id: String,
    pub supplier_id: String,
    pub price_score: f64,
    pub score: f64,
    pub rank: u32,
    pub abnormally_low: bool,
    /// A better-ranked bid than the winner (or any bid of a lot left unawarded) whose supplier
    /// had already reached the cap.
    pub lost_to_cap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotStatus {
    Awarded,
    Unsuccessful,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotOutcome {
    pub lot_id: String,
    pub status: LotStatus,
    pub winner_bid_id: Option<String>,
    /// Every bid on the lot, best rank first.
    pub bids: Vec<BidOutcome>,
}

/// What the rule not announced would have given, when a cap is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherRule {
    pub rule: CapRule,
    pub total_score: f64,
    pub changed_lots: Vec<String>,
}

/// `award.json` (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Award {
    pub rule: CapRule,
    pub weights: Weights,
    pub cap: Option<u32>,
    pub total_score: f64,
    pub lots: Vec<LotOutcome>,
    pub other_rule: Option<OtherRule>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AwardError {
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Input(Vec<AwardInputError>),
    #[error("the best-total assignment could not be solved: {0}")]
    Solver(String),
}

/// Checks the announced rules: weights sum to 100 with an environmental weight (mandatory since
/// 21 August 2026), a cap of at least one lot.
pub fn validate_rules(rules: &AwardRules) -> Vec<AwardInputError> {
    let mut errors = Vec::new();
    let w = rules.weights;
    let rule_error = |field, message: String| AwardInputError {
        list: "rules",
        index: None,
        field,
        message,
    };
    if w.price + w.quality + w.environment != 100 {
        errors.push(rule_error(
            "weights",
            format!(
                "the weights must sum to 100, not {} ({} + {} + {})",
                w.price + w.quality + w.environment,
                w.price,
                w.quality,
                w.environment
            ),
        ));
    }
    if w.environment == 0 {
        errors.push(rule_error(
            "weights",
            "an environmental criterion with a weight above 0 is mandatory since 21 August 2026 (L2152-7)".into(),
        ));
    }
    if rules.cap == Some(0) {
        errors.push(rule_error(
            "cap",
            "the cap must be at least one lot per supplier".into(),
        ));
    }
    errors
}

/// Checks the lots and bids: known lots, positive prices, marks within 0–100, unique ids.
pub fn validate_input(lots: &[AwardLot], bids: &[Bid]) -> Vec<AwardInputError> {
    let mut errors = Vec::new();
    let mut lot_ids = HashSet::new();
    for (i, lot) in lots.iter().enumerate() {
        let error = |field, message: String| AwardInputError {
            list: "lot",
            index: Some(i),
            field,
            message,
        };
        if lot.lot_id.trim().is_empty() {
            errors.push(error("lot_id", "the lot id is empty".into()));
        } else if !lot_ids.insert(lot.lot_id.as_str()) {
            errors.push(error("lot_id", format!("lot {} appears twice", lot.lot_id)));
        }
        if !(lot.value_eur.is_finite() && lot.value_eur >= 0.0) {
            errors.push(error(
                "value_eur",
                format!("{} is not a value in euros", lot.value_eur),
            ));
        }
    }
    let mut bid_ids = HashSet::new();
    for (i, bid) in bids.iter().enumerate() {
        let error = |field, message: String| AwardInputError {
            list: "bid",
            index: Some(i),
            field,
            message,
        };
        if bid.bid_id.trim().is_empty() {
            errors.push(error("bid_id", "the bid id is empty".into()));
        } else if !bid_ids.insert(bid.bid_id.as_str()) {
            errors.push(error("bid_id", format!("bid {} appears twice", bid.bid_id)));
        }
        if bid.supplier_id.trim().is_empty() {
            errors.push(error("supplier_id", "the supplier id is empty".into()));
        }
        if !lot_ids.contains(bid.lot_id.as_str()) {
            errors.push(error(
                "lot_id",
                format!("no lot {} in the lots file", bid.lot_id),
            ));
        }
        if !(bid.price_eur.is_finite() && bid.price_eur > 0.0) {
            errors.push(error(
                "price_eur",
                format!("the price must be above 0, not {}", bid.price_eur),
            ));
        }
        for (field, mark) in [("quality", bid.quality), ("environment", bid.environment)] {
            if !(0.0..=100.0).contains(&mark) {
                errors.push(error(field, format!("{mark} is outside 0–100")));
            }
        }
    }
    errors
}

/// Runs the award: validation, scores and ranks, the announced rule, and the other rule beside
/// it when a cap is set.
pub fn award(lots: &[AwardLot], bids: &[Bid], rules: &AwardRules) -> Result<Award, AwardError> {
    let mut errors = validate_rules(rules);
    errors.extend(validate_input(lots, bids));
    if !errors.is_empty() {
        return Err(AwardError::Input(errors));
    }
    let ranked = score::rank_lots(lots, bids, &rules.weights);
    let winners = rules::winners(lots, &ranked, rules.cap, rules.rule)?;
    let other_rule = match rules.cap {
        None => None,
        Some(_) => {
            let other = rules::winners(lots, &ranked, rules.cap, rules.rule.other())?;
            let changed_lots = lots
                .iter()
                .filter(|l| winners.get(&l.lot_id) != other.get(&l.lot_id))
                .map(|l| l.lot_id.clone())
                .collect();
            Some(OtherRule {
                rule: rules.rule.other(),
                total_score: rules::total_score(&ranked, &other),
                changed_lots,
            })
        }
    };
    Ok(Award {
        rule: rules.rule,
        weights: rules.weights,
        cap: rules.cap,
        total_score: rules::total_score(&ranked, &winners),
        lots: rules::outcomes(lots, &ranked, &winners, rules.cap),
        other_rule,
    })
}

/// Winners by lot id: the index of the winning bid in the lot's ranking.
type Winners = BTreeMap<String, usize>;
