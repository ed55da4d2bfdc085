//! The value of a lot in the objective (DESIGN §4):
//! `g(V) + local_weight · V · [V ≤ C_f] − lot_cost`.

use super::curve::{value_on, SavingsCurve, Segment};
use super::instance::Params;

pub fn euros(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Everything that scores the lots of one family.
#[derive(Debug, Clone)]
pub struct LotScorer<'a> {
    pub curve: &'a SavingsCurve,
    pub c_cents: i64,
    pub local_weight: f64,
    pub lot_cost: f64,
    segments: Vec<Segment>,
}

impl<'a> LotScorer<'a> {
    pub fn new(params: &'a Params, cpv_prefix: &str, c_cents: i64) -> Self {
        let curve = params.curve_for(cpv_prefix);
        Self {
            curve,
            segments: curve.segments(),
            c_cents,
            local_weight: params.local_weight,
            lot_cost: params.lot_cost,
        }
    }

    /// The expected discount of a lot of this value (EUR).
    pub fn savings(&self, value_cents: i64) -> f64 {
        value_on(&self.segments, euros(value_cents))
    }

    pub fn is_local(&self, value_cents: i64) -> bool {
        value_cents <= self.c_cents
    }

    pub fn score(&self, value_cents: i64) -> f64 {
        let v = euros(value_cents);
        let bonus = if self.is_local(value_cents) {
            self.local_weight * v
        } else {
            0.0
        };
        value_on(&self.segments, v) + bonus - self.lot_cost
    }
}
