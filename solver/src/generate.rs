//! Seeded generators of synthetic instances for tests and benchmarks: the same seed gives the
//! same instance on every machine (a SplitMix64 stream, no external randomness).

use crate::award::{AwardLot, Bid};

/// A small, fast, portable pseudo-random stream.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
}

/// An award instance: `lots` lots valued €20k–€2M, `bids_per_lot` bids each from `suppliers`
/// suppliers (a supplier bids at most once per lot), prices around the estimate, marks 0–100.
pub fn award_instance(
    seed: u64,
    lots: usize,
    bids_per_lot: usize,
    suppliers: usize,
) -> (Vec<AwardLot>, Vec<Bid>) {
    let mut rng = SplitMix64::new(seed);
    let lot_list: Vec<AwardLot> = (0..lots)
        .map(|i| AwardLot {
            lot_id: format!("L{i:05}"),
            tender_id: format!("T{:04}", i / 10),
            title: format!("Lot {i}"),
            cpv: "33141000".into(),
            value_eur: (rng.range(20_000.0, 2_000_000.0) / 100.0).round() * 100.0,
        })
        .collect();
    let mut bids = Vec::with_capacity(lots * bids_per_lot);
    for lot in &lot_list {
        let mut taken = std::collections::HashSet::new();
        while taken.len() < bids_per_lot.min(suppliers) {
            let supplier = rng.below(suppliers);
            if !taken.insert(supplier) {
                continue;
            }
            let k = bids.len();
            bids.push(Bid {
                bid_id: format!("B{k:07}"),
                supplier_id: format!("S{supplier:05}"),
                lot_id: lot.lot_id.clone(),
                price_eur: (lot.value_eur * rng.range(0.6, 1.25)).round(),
                quality: (rng.range(30.0, 100.0)).round(),
                environment: (rng.range(0.0, 100.0)).round(),
                submitted_at: format!(
                    "2027-03-{:02}T{:02}:{:02}:00Z",
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60)
                ),
            });
        }
    }
    (lot_list, bids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_instance() {
        assert_eq!(award_instance(7, 20, 5, 30), award_instance(7, 20, 5, 30));
        assert_ne!(award_instance(7, 20, 5, 30), award_instance(8, 20, 5, 30));
        let (lots, bids) = award_instance(1, 10, 4, 6);
        assert_eq!((lots.len(), bids.len()), (10, 40));
    }
}
