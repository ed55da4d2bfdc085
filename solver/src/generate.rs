//! Seeded generators of synthetic instances for tests and benchmarks: the same seed gives the
//! same instance on every machine (a SplitMix64 stream, no external randomness).

use crate::award::{AwardLot, Bid};
use crate::pooling::{Need, Supplier};

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
                members: Vec::new(),
            });
        }
    }
    (lot_list, bids)
}

/// Real CPV classes (CPV 2008, `data/cpv_2008_fr_en.csv`) bought by hospitals, universities,
/// housing offices and local authorities, with the units their needs are counted in.
/// Units that any class may also be bought in.
const MORE_UNITS: [&str; 10] = [
    "lot", "forfait", "kg", "litre", "heure", "jour", "m²", "carton", "palette", "licence",
];

const CLASSES: [(&str, &[&str]); 56] = [
    ("33140000", &["unité", "boîte"]),
    ("33190000", &["unité"]),
    ("33110000", &["unité"]),
    ("33150000", &["unité"]),
    ("30160000", &["unité"]),
    ("30190000", &["unité", "carton"]),
    ("30210000", &["unité"]),
    ("30230000", &["unité"]),
    ("39120000", &["unité"]),
    ("39130000", &["unité"]),
    ("39220000", &["unité"]),
    ("39830000", &["litre", "unité"]),
    ("44210000", &["forfait"]),
    ("45110000", &["forfait"]),
    ("45210000", &["forfait"]),
    ("45260000", &["forfait", "m²"]),
    ("45310000", &["forfait"]),
    ("45320000", &["m²"]),
    ("45330000", &["forfait"]),
    ("45410000", &["m²"]),
    ("45420000", &["forfait"]),
    ("45440000", &["m²"]),
    ("45450000", &["forfait"]),
    ("50110000", &["forfait", "heure"]),
    ("50310000", &["forfait"]),
    ("50410000", &["forfait"]),
    ("50710000", &["forfait", "heure"]),
    ("65130000", &["m³"]),
    ("65310000", &["MWh"]),
    ("71220000", &["forfait"]),
    ("71310000", &["forfait", "jour"]),
    ("71630000", &["forfait"]),
    ("72240000", &["jour"]),
    ("72260000", &["jour", "forfait"]),
    ("72410000", &["forfait"]),
    ("79310000", &["forfait"]),
    ("79340000", &["forfait"]),
    ("79410000", &["jour"]),
    ("79510000", &["heure"]),
    ("79710000", &["heure", "forfait"]),
    ("79990000", &["forfait"]),
    ("80510000", &["jour"]),
    ("90510000", &["tonne"]),
    ("90610000", &["forfait"]),
    ("90910000", &["heure", "m²"]),
    ("90920000", &["forfait"]),
    ("34110000", &["unité"]),
    ("09130000", &["litre"]),
    ("15110000", &["kg"]),
    ("15310000", &["kg"]),
    ("15810000", &["kg", "unité"]),
    ("15890000", &["kg"]),
    ("15980000", &["litre"]),
    ("55210000", &["nuitée"]),
    ("55520000", &["repas"]),
    ("64110000", &["forfait"]),
];

const BUYERS: [(&str, f64); 4] = [("CHU", 0.40), ("UB", 0.20), ("GDH", 0.15), ("DM", 0.25)];
const TERRITORY_POSTCODES: [&str; 10] = [
    "21000", "21200", "21300", "21800", "21121", "21160", "21500", "21400", "21140", "21700",
];
const ELSEWHERE_POSTCODES: [&str; 6] = ["75001", "69001", "25000", "71000", "39000", "13001"];
const QUARTERS: [(&str, &str); 4] = [
    ("2027-01-01", "2027-03-31"),
    ("2027-04-01", "2027-06-30"),
    ("2027-07-01", "2027-09-30"),
    ("2027-10-01", "2027-12-31"),
];

fn log_uniform(rng: &mut SplitMix64, low: f64, high: f64) -> f64 {
    (low.ln() + (high.ln() - low.ln()) * rng.unit()).exp()
}

/// The `k`-th need of a generated year, poolable: a member drawn by its share of spend, a value
/// from €2k to €1.5M (log-uniform) over 1 to 500 units, for the whole year (60 %) or a quarter.
fn year_need(rng: &mut SplitMix64, k: usize, cpv: &str, unit: &str) -> Need {
    let r = rng.unit();
    let mut cumulative = 0.0;
    let buyer = BUYERS
        .iter()
        .find(|(_, share)| {
            cumulative += share;
            r < cumulative
        })
        .map_or("DM", |b| b.0);
    let value = log_uniform(rng, 2_000.0, 1_500_000.0);
    let quantity = (1 + rng.below(500)) as f64;
    let (start, end) = if rng.unit() < 0.6 {
        ("2027-01-01", "2027-12-31")
    } else {
        QUARTERS[rng.below(4)]
    };
    Need {
        need_id: format!("N{k:06}"),
        buyer: buyer.into(),
        cpv: cpv.into(),
        title: format!("Besoin {k}"),
        quantity,
        unit: unit.into(),
        unit_price_eur: (value / quantity * 100.0).round() / 100.0,
        delivery_postcode: "21000".into(),
        window_start: start.into(),
        window_end: end.into(),
        poolable: true,
    }
}

/// A year of needs of the four members and a market of suppliers, half of them territorial:
/// skewed towards some classes (a few large families, many small), values from €2k to €1.5M,
/// 60 % for the whole year and 40 % for one quarter, 10 % not poolable.
pub fn pooling_instance(seed: u64, needs: usize, suppliers: usize) -> (Vec<Need>, Vec<Supplier>) {
    let mut rng = SplitMix64::new(seed);
    let class_index = |rng: &mut SplitMix64| {
        // Zipf-like: the first classes are chosen far more often.
        let u = rng.unit();
        ((CLASSES.len() as f64).powf(u) - 1.0) as usize % CLASSES.len()
    };
    let need_list = (0..needs)
        .map(|k| {
            let (cpv, units) = CLASSES[class_index(&mut rng)];
            let unit = units[rng.below(units.len())];
            let mut need = year_need(&mut rng, k, cpv, unit);
            need.poolable = rng.unit() >= 0.1;
            need
        })
        .collect();
    let supplier_list = market(&mut rng, suppliers, |rng| {
        CLASSES[class_index(rng)].0.to_string()
    });
    (need_list, supplier_list)
}

/// How a year of needs spreads over families (CPV prefix × unit).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A few large families: [`pooling_instance`]'s 56 real classes with a skewed popularity.
    FewLarge,
    /// Many small families, as a year of the four members' spend looks: families of 5 to 25
    /// needs (about 12 on average), so 20,000 needs make about 1,666 families.
    ManySmall,
    /// Family sizes drawn from a given list (for instance the sizes of the families of the
    /// DECP records, counted by the benchmark from `shared/data`).
    Sizes(Vec<usize>),
}

/// A year of needs in the given shape and a market of suppliers serving those families. Values,
/// windows (60 % yearly, 40 % one quarter), buyers and suppliers as in [`pooling_instance`]; 10 %
/// of the needs are not poolable and stand alone.
pub fn shaped_instance(
    seed: u64,
    needs: usize,
    suppliers: usize,
    shape: &Shape,
) -> (Vec<Need>, Vec<Supplier>) {
    if *shape == Shape::FewLarge {
        return pooling_instance(seed, needs, suppliers);
    }
    let mut rng = SplitMix64::new(seed);
    let poolable = needs - needs / 10;
    // Family sizes until the poolable needs are used up.
    let mut sizes = Vec::new();
    let mut left = poolable;
    while left > 0 {
        let size = match shape {
            Shape::Sizes(list) if !list.is_empty() => list[rng.below(list.len())].max(1),
            _ => 5 + (20.0 * rng.unit() * rng.unit()).round() as usize,
        };
        let size = size.min(left);
        sizes.push(size);
        left -= size;
    }
    // One (prefix, unit) per family: a real class's division, two more digits, one of its units.
    let mut keys = std::collections::BTreeSet::new();
    let mut families: Vec<(String, &str)> = Vec::new();
    let mut k = 0usize;
    while families.len() < sizes.len() {
        let (cpv, units) = CLASSES[k % CLASSES.len()];
        let prefix = format!("{}{:02}", &cpv[..2], (k / CLASSES.len() * 37 + k) % 100);
        // Past ten rounds of every class and two digits the classes' own units are used up
        // (a year of 100,000 needs has some 9,000 families): other units of the same prefixes.
        let rounds = CLASSES.len() * 100;
        let unit = if k < 10 * rounds {
            units[(k / CLASSES.len()) % units.len()]
        } else {
            MORE_UNITS[(k / rounds) % MORE_UNITS.len()]
        };
        if keys.insert((prefix.clone(), unit)) {
            families.push((format!("{prefix}0000"), unit));
        }
        k += 1;
    }
    let mut need_list = Vec::with_capacity(needs);
    for (f, &size) in sizes.iter().enumerate() {
        let (cpv, unit) = &families[f];
        for _ in 0..size {
            let k = need_list.len();
            need_list.push(year_need(&mut rng, k, cpv, unit));
        }
    }
    while need_list.len() < needs {
        let (cpv, unit) = &families[rng.below(families.len())];
        let k = need_list.len();
        let mut need = year_need(&mut rng, k, cpv, unit);
        need.poolable = false;
        need_list.push(need);
    }
    let supplier_list = market(&mut rng, suppliers, |rng| {
        families[rng.below(families.len())].0.clone()
    });
    (need_list, supplier_list)
}

/// A market of suppliers, half of them territorial, each interested in one to three CPV codes
/// drawn by `interest` (one interest in ten cut to its division), capacities from €50k to €5M.
fn market(
    rng: &mut SplitMix64,
    suppliers: usize,
    mut interest: impl FnMut(&mut SplitMix64) -> String,
) -> Vec<Supplier> {
    (0..suppliers)
        .map(|k| {
            let territorial = rng.unit() < 0.5;
            let postcode = if territorial {
                TERRITORY_POSTCODES[rng.below(TERRITORY_POSTCODES.len())]
            } else {
                ELSEWHERE_POSTCODES[rng.below(ELSEWHERE_POSTCODES.len())]
            };
            let interests = (0..1 + rng.below(3))
                .map(|_| {
                    let cpv = interest(rng);
                    let digits = if rng.unit() < 0.1 { 2 } else { 4 };
                    cpv[..digits].to_string()
                })
                .collect();
            Supplier {
                supplier_id: format!("S{k:05}"),
                siret: String::new(),
                name: format!("Fournisseur {k}"),
                postcode: postcode.into(),
                cpv_prefixes: interests,
                annual_capacity_eur: (log_uniform(rng, 50_000.0, 5_000_000.0) / 1000.0).round()
                    * 1000.0,
                sme: rng.unit() < 0.7,
                members: Vec::new(),
            }
        })
        .collect()
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

    #[test]
    fn many_small_families_are_small_and_many() {
        let (needs, suppliers) = shaped_instance(3, 20_000, 2_000, &Shape::ManySmall);
        assert_eq!((needs.len(), suppliers.len()), (20_000, 2_000));
        let mut sizes = std::collections::BTreeMap::new();
        for n in needs.iter().filter(|n| n.poolable) {
            *sizes.entry((&n.cpv[..4], &n.unit)).or_insert(0usize) += 1;
        }
        assert!(
            (1_400..=1_900).contains(&sizes.len()),
            "{} families",
            sizes.len()
        );
        assert!(sizes.values().all(|&s| s <= 25));
        assert_eq!(
            shaped_instance(3, 500, 50, &Shape::ManySmall),
            shaped_instance(3, 500, 50, &Shape::ManySmall)
        );
    }
}
