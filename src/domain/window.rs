use super::ParseError;
use chrono::NaiveDate;

/// The delivery window of a need: first and last day, both included, start ≤ end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryWindow {
    start: NaiveDate,
    end: NaiveDate,
}

impl DeliveryWindow {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, ParseError> {
        if start > end {
            return Err(ParseError::new(format!(
                "la fenêtre de livraison commence le {} après sa fin le {}",
                start.format("%d/%m/%Y"),
                end.format("%d/%m/%Y")
            )));
        }
        Ok(Self { start, end })
    }

    pub fn parse(start: &str, end: &str) -> Result<Self, ParseError> {
        Self::new(parse_date(start)?, parse_date(end)?)
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Two windows overlap when they share at least one day.
    pub fn overlaps(&self, other: &DeliveryWindow) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// A date written ISO (`2027-03-31`) or the French way (`31/03/2027`).
pub fn parse_date(input: &str) -> Result<NaiveDate, ParseError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new("la date est vide"));
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(trimmed, "%d/%m/%Y"))
        .map_err(|_| {
            ParseError::new(format!(
                "« {trimmed} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn parses_both_writings() {
        assert_eq!(day("2027-03-31"), day("31/03/2027"));
        assert!(parse_date("31/02/2027").is_err());
        assert!(parse_date("2027-13-01")
            .unwrap_err()
            .0
            .contains("AAAA-MM-JJ"));
        assert!(parse_date(" ").unwrap_err().0.contains("vide"));
    }

    #[test]
    fn start_after_end_is_refused() {
        let err = DeliveryWindow::parse("2027-06-01", "2027-01-01").unwrap_err();
        assert!(err.0.contains("après sa fin"), "{err}");
        assert!(DeliveryWindow::parse("2027-01-01", "2027-01-01").is_ok());
    }

    #[test]
    fn overlap_is_inclusive() {
        let q1 = DeliveryWindow::parse("2027-01-01", "2027-03-31").unwrap();
        let q2 = DeliveryWindow::parse("2027-04-01", "2027-06-30").unwrap();
        let year = DeliveryWindow::parse("2027-01-01", "2027-12-31").unwrap();
        let edge = DeliveryWindow::parse("2027-03-31", "2027-04-15").unwrap();
        assert!(!q1.overlaps(&q2));
        assert!(q1.overlaps(&year) && year.overlaps(&q2));
        assert!(q1.overlaps(&edge) && edge.overlaps(&q2));
    }
}
