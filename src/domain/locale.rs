//! The language someone reads their e-mails in: French, or English when they chose it. The
//! values written into a message (moments, amounts, dates) follow the same choice.

use super::{to_paris, Cents};
use chrono::{NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Fr,
    En,
}

impl Locale {
    /// Every locale, with its name as people pick it.
    pub const ALL: [(Locale, &'static str); 2] =
        [(Locale::Fr, "Français"), (Locale::En, "English")];

    /// `fr` or `en`; anything else is `None`.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim() {
            "fr" => Some(Locale::Fr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// A stored code, French for anything unknown.
    pub fn of(code: &str) -> Self {
        Self::parse(code).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    /// A UTC moment in Paris time with its zone: `15/03/2027 à 12:00 (heure de Paris, CET)`,
    /// `15/03/2027 at 12:00 (Paris time, CET)`.
    pub fn moment(self, utc: NaiveDateTime) -> String {
        let (local, zone) = to_paris(utc);
        match self {
            Locale::Fr => format!(
                "{} (heure de Paris, {zone})",
                local.format("%d/%m/%Y à %H:%M")
            ),
            Locale::En => format!("{} (Paris time, {zone})", local.format("%d/%m/%Y at %H:%M")),
        }
    }

    /// A day, `dd/mm/yyyy` in both (the European order).
    pub fn date(self, day: NaiveDate) -> String {
        day.format("%d/%m/%Y").to_string()
    }

    /// A decimal number with `places` decimals: `92,42` in French, `92.42` in English.
    pub fn decimal(self, value: f64, places: usize) -> String {
        let text = format!("{value:.places$}");
        match self {
            Locale::Fr => text.replace('.', ","),
            Locale::En => text,
        }
    }

    /// An amount: `1 234,50 €` in French, `€1,234.50` in English.
    pub fn euros(self, amount: Cents) -> String {
        match self {
            Locale::Fr => amount.to_string(),
            Locale::En => {
                let (sign, euros, cents) = amount.parts(',');
                format!("{sign}€{euros}.{cents:02}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_in_each_language() {
        assert_eq!(Locale::Fr.decimal(92.4249, 2), "92,42");
        assert_eq!(Locale::En.decimal(92.4249, 2), "92.42");
        assert_eq!(Locale::Fr.decimal(0.7, 1), "0,7");
    }

    #[test]
    fn moments_and_amounts_in_each_language() {
        let winter = NaiveDate::from_ymd_opt(2027, 1, 15)
            .and_then(|d| d.and_hms_opt(11, 0, 0))
            .unwrap_or_default();
        assert_eq!(
            Locale::Fr.moment(winter),
            "15/01/2027 à 12:00 (heure de Paris, CET)"
        );
        assert_eq!(
            Locale::En.moment(winter),
            "15/01/2027 at 12:00 (Paris time, CET)"
        );
        assert_eq!(Locale::En.euros(Cents::new(123_456_789)), "€1,234,567.89");
        assert_eq!(Locale::En.euros(Cents::new(-5)), "-€0.05");
        assert_eq!(
            Locale::Fr.euros(Cents::new(123_450)),
            "1\u{202f}234,50\u{a0}€"
        );
        assert_eq!(Locale::of("en"), Locale::En);
        assert_eq!(Locale::of("de"), Locale::Fr);
        assert_eq!(Locale::parse("de"), None);
    }
}
