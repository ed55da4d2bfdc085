//! The rules of French public procurement that follow from a tender's estimated value (DESIGN
//! §3): procedure, publication channel, minimum period, standstill, and the small-lots rule.
//! Thresholds are data with dates of effect, so a new year's values need no code change.

use serde::{Deserialize, Serialize};

/// Whether an organisation follows the thresholds of central government bodies (stricter) or
/// of local bodies, hospitals and housing offices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyerClass {
    Central,
    SubCentral,
}

impl BuyerClass {
    /// A joint tender follows the strictest class of its members: central.
    pub fn strictest(classes: impl IntoIterator<Item = BuyerClass>) -> BuyerClass {
        if classes.into_iter().any(|c| c == BuyerClass::Central) {
            BuyerClass::Central
        } else {
            BuyerClass::SubCentral
        }
    }
}

/// Supplies and services, or works (CPV division 45).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    SuppliesServices,
    Works,
}

impl Nature {
    pub fn of_cpv(cpv: &str) -> Nature {
        if cpv.starts_with("45") {
            Nature::Works
        } else {
            Nature::SuppliesServices
        }
    }
}

/// The procedure a tender's total value calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    /// Below the threshold of R2122-8: no publicity or competition required.
    NoCompetition,
    /// Adapted procedure (MAPA).
    Adapted,
    /// Formal procedure: open call for tenders with EU publication.
    Formal,
}

impl Procedure {
    pub fn code(self) -> &'static str {
        match self {
            Procedure::NoCompetition => "no_competition",
            Procedure::Adapted => "adapted",
            Procedure::Formal => "formal",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Procedure::NoCompetition => "Marché sans publicité ni mise en concurrence (R2122-8)",
            Procedure::Adapted => "Procédure adaptée (MAPA)",
            Procedure::Formal => "Appel d'offres ouvert (procédure formalisée)",
        }
    }
}

/// Where the notice must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    /// No publicity required.
    None,
    /// Free publicity, adapted to the purchase (up to €90,000).
    Free,
    /// BOAMP or a legal journal (from €90,000).
    BoampOrLegalJournal,
    /// BOAMP and the EU Official Journal (eForms), formal procedures.
    BoampAndJoue,
}

impl Publication {
    pub fn label_fr(self) -> &'static str {
        match self {
            Publication::None => "Aucune publicité obligatoire",
            Publication::Free => "Publicité libre et adaptée",
            Publication::BoampOrLegalJournal => "BOAMP ou journal d'annonces légales",
            Publication::BoampAndJoue => "BOAMP et JOUE (eForms)",
        }
    }
}

/// One set of thresholds (EUR excluding VAT) and the day it takes effect (ISO `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub effective_from: String,
    pub no_competition_supplies: f64,
    pub no_competition_works: f64,
    pub boamp: f64,
    pub formal_central: f64,
    pub formal_sub_central: f64,
    pub formal_works: f64,
    pub small_lot_supplies: f64,
    pub small_lot_works: f64,
    pub small_lots_max_share: f64,
    pub formal_min_days: u32,
    pub standstill_days: u32,
}

/// Thresholds over time; the set in force on a day is the latest that took effect by then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdTable(pub Vec<Thresholds>);

impl Default for ThresholdTable {
    fn default() -> Self {
        let y2026 = Thresholds {
            effective_from: "2026-01-01".into(),
            no_competition_supplies: 40_000.0,
            no_competition_works: 100_000.0,
            boamp: 90_000.0,
            formal_central: 140_000.0,
            formal_sub_central: 216_000.0,
            formal_works: 5_404_000.0,
            small_lot_supplies: 80_000.0,
            small_lot_works: 1_000_000.0,
            small_lots_max_share: 0.20,
            formal_min_days: 30,
            standstill_days: 11,
        };
        let april_2026 = Thresholds {
            effective_from: "2026-04-01".into(),
            no_competition_supplies: 60_000.0,
            ..y2026.clone()
        };
        ThresholdTable(vec![y2026, april_2026])
    }
}

impl ThresholdTable {
    /// The set in force on `date` (ISO); the earliest set for a date before all of them.
    pub fn in_force(&self, date: &str) -> Option<&Thresholds> {
        self.0
            .iter()
            .filter(|t| t.effective_from.as_str() <= date)
            .max_by(|a, b| a.effective_from.cmp(&b.effective_from))
            .or_else(|| {
                self.0
                    .iter()
                    .min_by(|a, b| a.effective_from.cmp(&b.effective_from))
            })
    }
}

/// What a tender's total value calls for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureRuling {
    pub procedure: Procedure,
    pub publication: Publication,
    /// Minimum days between the notice and the deadline; `None` where the law sets none (a
    /// reasonable period, chosen by the buyer).
    pub min_days: Option<u32>,
    /// Days between the award notice and signature; `None` outside formal procedures.
    pub standstill_days: Option<u32>,
}

impl Thresholds {
    /// The procedure for a tender of total value `total_eur` (all its lots together: never a
    /// lot alone).
    pub fn rule(&self, total_eur: f64, nature: Nature, class: BuyerClass) -> ProcedureRuling {
        let (no_competition, formal) = match (nature, class) {
            (Nature::Works, _) => (self.no_competition_works, self.formal_works),
            (Nature::SuppliesServices, BuyerClass::Central) => {
                (self.no_competition_supplies, self.formal_central)
            }
            (Nature::SuppliesServices, BuyerClass::SubCentral) => {
                (self.no_competition_supplies, self.formal_sub_central)
            }
        };
        let procedure = if total_eur >= formal {
            Procedure::Formal
        } else if total_eur >= no_competition {
            Procedure::Adapted
        } else {
            Procedure::NoCompetition
        };
        let publication = match procedure {
            Procedure::Formal => Publication::BoampAndJoue,
            Procedure::NoCompetition => Publication::None,
            Procedure::Adapted if total_eur >= self.boamp => Publication::BoampOrLegalJournal,
            Procedure::Adapted => Publication::Free,
        };
        let formal_only = |days| (procedure == Procedure::Formal).then_some(days);
        ProcedureRuling {
            procedure,
            publication,
            min_days: formal_only(self.formal_min_days),
            standstill_days: formal_only(self.standstill_days),
        }
    }

    /// Which lots of a formal tender may follow adapted rules (R2123-1 2°): lots under the
    /// small-lot threshold, together at most the allowed share of the total. Smallest lots are
    /// taken first (ties by position), which flags as many lots as the share allows.
    pub fn small_lots(
        &self,
        lot_values_eur: &[f64],
        nature: Nature,
        procedure: Procedure,
    ) -> Vec<bool> {
        let mut flags = vec![false; lot_values_eur.len()];
        if procedure != Procedure::Formal {
            return flags;
        }
        let limit = match nature {
            Nature::Works => self.small_lot_works,
            Nature::SuppliesServices => self.small_lot_supplies,
        };
        let total: f64 = lot_values_eur.iter().sum();
        let budget = total * self.small_lots_max_share;
        let mut order: Vec<usize> = (0..lot_values_eur.len())
            .filter(|&i| lot_values_eur[i] < limit)
            .collect();
        order.sort_by(|&a, &b| {
            lot_values_eur[a]
                .total_cmp(&lot_values_eur[b])
                .then(a.cmp(&b))
        });
        let mut used = 0.0;
        for i in order {
            if used + lot_values_eur[i] <= budget + 1e-6 {
                used += lot_values_eur[i];
                flags[i] = true;
            }
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Thresholds {
        ThresholdTable::default()
            .in_force("2026-11-28")
            .cloned()
            .unwrap()
    }

    #[test]
    fn dates_of_effect() {
        let table = ThresholdTable::default();
        assert_eq!(
            table
                .in_force("2026-03-31")
                .map(|t| t.no_competition_supplies),
            Some(40_000.0)
        );
        assert_eq!(
            table
                .in_force("2026-04-01")
                .map(|t| t.no_competition_supplies),
            Some(60_000.0)
        );
        assert_eq!(
            table
                .in_force("2020-01-01")
                .map(|t| t.no_competition_supplies),
            Some(40_000.0)
        );
    }

    #[test]
    fn procedures_by_value_class_and_nature() {
        let t = now();
        let ss = Nature::SuppliesServices;
        assert_eq!(
            t.rule(59_999.0, ss, BuyerClass::SubCentral).procedure,
            Procedure::NoCompetition
        );
        let mapa = t.rule(60_000.0, ss, BuyerClass::SubCentral);
        assert_eq!(
            (mapa.procedure, mapa.publication),
            (Procedure::Adapted, Publication::Free)
        );
        assert_eq!(
            t.rule(90_000.0, ss, BuyerClass::SubCentral).publication,
            Publication::BoampOrLegalJournal
        );
        // 150 k€: formal for the university (central), adapted for the others.
        assert_eq!(
            t.rule(150_000.0, ss, BuyerClass::Central).procedure,
            Procedure::Formal
        );
        assert_eq!(
            t.rule(150_000.0, ss, BuyerClass::SubCentral).procedure,
            Procedure::Adapted
        );
        let formal = t.rule(216_000.0, ss, BuyerClass::SubCentral);
        assert_eq!(formal.procedure, Procedure::Formal);
        assert_eq!(
            (formal.min_days, formal.standstill_days),
            (Some(30), Some(11))
        );
        assert_eq!(
            t.rule(99_999.0, Nature::Works, BuyerClass::Central)
                .procedure,
            Procedure::NoCompetition
        );
        assert_eq!(
            t.rule(5_403_999.0, Nature::Works, BuyerClass::Central)
                .procedure,
            Procedure::Adapted
        );
        assert_eq!(
            t.rule(5_404_000.0, Nature::Works, BuyerClass::Central)
                .procedure,
            Procedure::Formal
        );
    }

    #[test]
    fn strictest_class_wins() {
        assert_eq!(
            BuyerClass::strictest([BuyerClass::SubCentral, BuyerClass::Central]),
            BuyerClass::Central
        );
        assert_eq!(
            BuyerClass::strictest([BuyerClass::SubCentral]),
            BuyerClass::SubCentral
        );
    }

    #[test]
    fn small_lots_stay_within_twenty_percent() {
        let t = now();
        let ss = Nature::SuppliesServices;
        // Total 500 k€, budget 100 k€: 30 k + 50 k fit, the 70 k lot would exceed it.
        let flags = t.small_lots(
            &[300_000.0, 70_000.0, 50_000.0, 30_000.0, 50_000.0],
            ss,
            Procedure::Formal,
        );
        assert_eq!(flags, vec![false, false, true, true, false]);
        assert!(t
            .small_lots(&[50_000.0, 10_000.0], ss, Procedure::Adapted)
            .iter()
            .all(|f| !f));
    }
}
