//! The savings curve: the expected discount of a lot as a function of its value (DESIGN §4).

use serde::{Deserialize, Serialize};

/// Piecewise linear through `(V_k, r_k · V_k)` for breakpoints `(V_k, r_k)`, extended beyond
/// the last point with slope `r_last`. Not concave: it is modelled exactly, never by its
/// concave envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SavingsCurve {
    breakpoints: Vec<(f64, f64)>,
}

impl Default for SavingsCurve {
    fn default() -> Self {
        Self {
            breakpoints: vec![
                (0.0, 0.0),
                (40_000.0, 0.0),
                (216_000.0, 0.03),
                (1_000_000.0, 0.07),
                (5_000_000.0, 0.10),
            ],
        }
    }
}

/// The curve's value at `v` on its pieces (computed once by [`SavingsCurve::segments`]).
pub fn value_on(segments: &[Segment], v: f64) -> f64 {
    segments
        .iter()
        .find(|s| v <= s.to)
        .or(segments.last())
        .map_or(0.0, |s| s.at_from + s.slope * (v - s.from))
}

/// One linear piece: on `[from, to]` (to may be infinite), `g(V) = at_from + slope · (V − from)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub from: f64,
    pub to: f64,
    pub at_from: f64,
    pub slope: f64,
}

impl SavingsCurve {
    /// A curve from its breakpoints; they must start at value 0 and increase.
    pub fn new(breakpoints: Vec<(f64, f64)>) -> Result<Self, String> {
        let curve = Self { breakpoints };
        curve.validate()?;
        Ok(curve)
    }

    pub fn validate(&self) -> Result<(), String> {
        match self.breakpoints.first() {
            None => return Err("the savings curve has no breakpoint".into()),
            Some(&(v, _)) if v != 0.0 => {
                return Err(format!("the savings curve must start at value 0, not {v}"))
            }
            _ => {}
        }
        for pair in self.breakpoints.windows(2) {
            if pair[1].0 <= pair[0].0 {
                return Err(format!(
                    "the savings curve's values must increase: {} after {}",
                    pair[1].0, pair[0].0
                ));
            }
        }
        if self
            .breakpoints
            .iter()
            .any(|&(v, r)| !v.is_finite() || !r.is_finite() || !(0.0..1.0).contains(&r))
        {
            return Err("savings rates must be finite, from 0 to below 1".into());
        }
        Ok(())
    }

    /// The linear pieces, the last one unbounded.
    pub fn segments(&self) -> Vec<Segment> {
        let points: Vec<(f64, f64)> = self.breakpoints.iter().map(|&(v, r)| (v, r * v)).collect();
        let mut segments: Vec<Segment> = points
            .windows(2)
            .map(|p| Segment {
                from: p[0].0,
                to: p[1].0,
                at_from: p[0].1,
                slope: (p[1].1 - p[0].1) / (p[1].0 - p[0].0),
            })
            .collect();
        let (last_v, last_g) = points.last().copied().unwrap_or((0.0, 0.0));
        let last_rate = self.breakpoints.last().map(|b| b.1).unwrap_or(0.0);
        segments.push(Segment {
            from: last_v,
            to: f64::INFINITY,
            at_from: last_g,
            slope: last_rate,
        });
        segments
    }

    /// The expected discount of a lot of value `v` (EUR).
    pub fn value(&self, v: f64) -> f64 {
        value_on(&self.segments(), v)
    }

    /// Whether `g(V)/V` never decreases, which makes the curve superadditive
    /// (`g(a + b) ≥ g(a) + g(b)`): merging two lots never lowers their savings. On each piece
    /// `g(V)/V` is monotone between the rates at its ends, so non-decreasing rates suffice.
    pub fn is_superadditive(&self) -> bool {
        self.breakpoints.windows(2).all(|p| p[1].1 >= p[0].1)
    }

    pub fn breakpoints(&self) -> &[(f64, f64)] {
        &self.breakpoints
    }

    /// The breakpoint values, where the slope may change.
    pub fn kinks(&self) -> impl Iterator<Item = f64> + '_ {
        self.breakpoints.iter().map(|b| b.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_curve_values() {
        let g = SavingsCurve::default();
        assert_eq!(g.value(0.0), 0.0);
        assert_eq!(g.value(40_000.0), 0.0);
        assert!((g.value(216_000.0) - 6_480.0).abs() < 1e-9);
        assert!((g.value(128_000.0) - 3_240.0).abs() < 1e-9);
        assert!((g.value(1_000_000.0) - 70_000.0).abs() < 1e-6);
        assert!((g.value(5_000_000.0) - 500_000.0).abs() < 1e-6);
        assert!((g.value(6_000_000.0) - 600_000.0).abs() < 1e-6);
        assert!(g.is_superadditive());
    }

    #[test]
    fn a_falling_rate_is_not_superadditive_and_bad_curves_are_refused() {
        let g = SavingsCurve::new(vec![(0.0, 0.0), (100_000.0, 0.05), (200_000.0, 0.02)]).unwrap();
        assert!(!g.is_superadditive());
        assert!(SavingsCurve::new(vec![(10.0, 0.0)]).is_err());
        assert!(SavingsCurve::new(vec![(0.0, 0.0), (0.0, 0.1)]).is_err());
        assert!(SavingsCurve::new(vec![(0.0, 0.0), (1.0, 1.5)]).is_err());
    }
}
