//! The real contracts the demo derives from: `data/decp_demo.csv`, DECP records 2018–2019 of
//! bodies comparable to the four members (see `data/README.md`). Upstream text has lost its
//! accents (U+FFFD); dates and amounts are sometimes malformed: such rows are skipped, never
//! a crash.

use crate::domain::{CpvCatalog, Siret};

const DECP_DEMO_CSV: &str = include_str!("../../data/decp_demo.csv");

/// One contract × holder row, as the demo uses it.
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub demo_buyer: String,
    pub contract_id: String,
    pub buyer_name: String,
    pub object: String,
    pub cpv: String,
    pub place_type: String,
    pub place_code: String,
    pub months: u32,
    pub amount_cents: i64,
    pub holder_siret: Option<Siret>,
    pub holder_name: String,
}

impl ContractRow {
    /// The yearly value: contracts over a year are spread over their duration.
    pub fn annual_cents(&self) -> i64 {
        if self.months > 12 {
            self.amount_cents * 12 / i64::from(self.months)
        } else {
            self.amount_cents
        }
    }
}

/// Every usable row, in file order.
pub fn contracts() -> Vec<ContractRow> {
    let catalog = CpvCatalog::embedded();
    let mut reader = csv::Reader::from_reader(DECP_DEMO_CSV.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(_) => return Vec::new(),
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (
        Some(buyer),
        Some(id),
        Some(buyer_name),
        Some(object),
        Some(cpv),
        Some(place_type),
        Some(place_code),
        Some(months),
        Some(amount),
        Some(holder_id),
        Some(holder_name),
    ) = (
        column("demo_buyer"),
        column("id"),
        column("acheteur_nom"),
        column("objet"),
        column("cpv8"),
        column("lieuExecution_typeCode"),
        column("lieuExecution_code"),
        column("dureeMois"),
        column("montant"),
        column("titulaire_id"),
        column("titulaire_denominationSociale"),
    )
    else {
        return Vec::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let amount: f64 = r.get(amount)?.parse().ok()?;
            let cpv = r.get(cpv)?.to_string();
            if !(1_000.0..=50_000_000.0).contains(&amount) || catalog.get(&cpv).is_none() {
                return None;
            }
            Some(ContractRow {
                demo_buyer: r.get(buyer)?.to_string(),
                contract_id: r.get(id)?.to_string(),
                buyer_name: repair_text(r.get(buyer_name)?),
                object: repair_text(r.get(object)?),
                cpv,
                place_type: r.get(place_type)?.to_string(),
                place_code: r.get(place_code)?.to_string(),
                months: r.get(months)?.parse().ok().filter(|m| *m > 0).unwrap_or(12),
                amount_cents: (amount * 100.0).round() as i64,
                holder_siret: r.get(holder_id).and_then(|s| Siret::parse(s).ok()),
                holder_name: repair_text(r.get(holder_name)?),
            })
        })
        .collect()
}

/// Upstream lost accented letters to U+FFFD. Most are « é » between letters; elsewhere the
/// character is dropped rather than shown as a replacement mark.
pub fn repair_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != '\u{fffd}' {
            out.push(c);
            continue;
        }
        let before = i.checked_sub(1).and_then(|j| chars.get(j));
        let after = chars.get(i + 1);
        let letter = |c: Option<&char>| c.is_some_and(|c| c.is_alphabetic());
        let upper =
            before.is_some_and(|c| c.is_uppercase()) && after.is_none_or(|c| !c.is_lowercase());
        match (letter(before), letter(after)) {
            (true, _) | (_, true) if upper => out.push('É'),
            (true, _) | (_, true) => out.push('é'),
            _ => out.push('à'),
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_and_cleaned() {
        let rows = contracts();
        assert!(rows.len() > 150, "{}", rows.len());
        for code in ["CHU", "UB", "GDH", "DM"] {
            assert!(rows.iter().any(|r| r.demo_buyer == code), "{code}");
        }
        assert!(rows.iter().all(|r| !r.object.contains('\u{fffd}')));
        assert!(rows.iter().any(|r| r.holder_siret.is_some()));
    }

    #[test]
    fn repairs_lost_accents() {
        assert_eq!(
            repair_text("Soci\u{fffd}t\u{fffd} ADEQUA'SON"),
            "Société ADEQUA'SON"
        );
        assert_eq!(repair_text("R\u{fffd}AM\u{fffd}NAGEMENT"), "RÉAMÉNAGEMENT");
        assert_eq!(
            repair_text("mat\u{fffd}riel \u{fffd} Dijon"),
            "matériel à Dijon"
        );
    }

    #[test]
    fn long_contracts_are_spread_per_year() {
        let mut row = contracts().remove(0);
        row.amount_cents = 4_800_000;
        row.months = 48;
        assert_eq!(row.annual_cents(), 1_200_000);
        row.months = 6;
        assert_eq!(row.annual_cents(), 4_800_000);
    }
}
