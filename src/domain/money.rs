use super::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in euro cents, excluding VAT. Storage and arithmetic stay in integers; conversion to
/// floating point happens once, at the solver boundary.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn new(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn from_euros(euros: i64) -> Self {
        Self(euros * 100)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses an amount in euros as people write it: `1234.5`, `1 234,50`, `1234,50 €`.
    /// At most two decimals; negative amounts are refused.
    /// A positive amount in euros (a capacity, a price): zero or less is said in French.
    pub fn parse_positive_euros(input: &str) -> Result<Self, String> {
        Self::parse_euros(input.trim())
            .map_err(|e| e.0)
            .and_then(|c| match c.get() > 0 {
                true => Ok(c),
                false => Err("une valeur positive, en euros HT".to_string()),
            })
    }

    pub fn parse_euros(input: &str) -> Result<Self, ParseError> {
        let cleaned: String = input
            .trim()
            .trim_end_matches('€')
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
            .collect();
        if cleaned.is_empty() {
            return Err(ParseError::new("le montant est vide"));
        }
        let refuse = || {
            ParseError::new(format!(
                "« {} » n'est pas un montant en euros (exemple : 1234,50)",
                input.trim()
            ))
        };
        if cleaned.starts_with('-') {
            return Err(ParseError::new(format!(
                "le montant {} est négatif",
                input.trim()
            )));
        }
        let normalised = cleaned.replace(',', ".");
        let (whole, fraction) = match normalised.split_once('.') {
            Some((w, f)) => (w, f),
            None => (normalised.as_str(), ""),
        };
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(refuse());
        }
        if fraction.len() > 2 {
            return Err(ParseError::new(format!(
                "le montant {} a plus de deux décimales",
                input.trim()
            )));
        }
        let euros: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| refuse())?
        };
        let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
        euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .map(Cents)
            .ok_or_else(refuse)
    }

    /// The value in euros as a float: for the solver and for charts only.
    pub fn to_euros_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Rounds a euro amount computed in floating point (a solver result) to cents.
    pub fn from_euros_f64(euros: f64) -> Self {
        Self((euros * 100.0).round() as i64)
    }
}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        Cents(self.0 + rhs.0)
    }
}

impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        Cents(iter.map(|c| c.0).sum())
    }
}

/// French formatting: `1 234 567,89 €` with narrow no-break spaces between thousands.
impl Cents {
    /// Sign, whole euros with their thousands separated by `separator`, and cents:
    /// `("-", "1 234", 5)` for -1 234,05 €.
    pub(crate) fn parts(self, separator: char) -> (&'static str, String, u64) {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let euros = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push(separator);
            }
            grouped.push(ch);
        }
        (sign, grouped, abs % 100)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, euros, cents) = self.parts('\u{202f}');
        write!(f, "{sign}{euros},{cents:02}\u{a0}€")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_french_and_english_writing() {
        assert_eq!(Cents::parse_euros("1234.5"), Ok(Cents(123_450)));
        assert_eq!(Cents::parse_euros("1 234,50"), Ok(Cents(123_450)));
        assert_eq!(Cents::parse_euros("1\u{202f}234,05 €"), Ok(Cents(123_405)));
        assert_eq!(Cents::parse_euros("452000"), Ok(Cents(45_200_000)));
        assert_eq!(Cents::parse_euros(",5"), Ok(Cents(50)));
    }

    #[test]
    fn refuses_garbage_negative_and_sub_cent() {
        assert!(Cents::parse_euros("").unwrap_err().0.contains("vide"));
        assert!(Cents::parse_euros("-3").unwrap_err().0.contains("négatif"));
        assert!(Cents::parse_euros("1.234,5").is_err());
        assert!(Cents::parse_euros("12,345")
            .unwrap_err()
            .0
            .contains("décimales"));
        assert!(Cents::parse_euros("douze").is_err());
        assert!(Cents::parse_euros("99999999999999999999").is_err());
    }

    #[test]
    fn displays_in_french() {
        assert_eq!(
            Cents(123_456_789).to_string(),
            "1\u{202f}234\u{202f}567,89\u{a0}€"
        );
        assert_eq!(Cents(5).to_string(), "0,05\u{a0}€");
        assert_eq!(Cents(100_000).to_string(), "1\u{202f}000,00\u{a0}€");
    }
}
