use super::ParseError;
use std::fmt;

/// A French postcode: five digits. Its department is what decides whether a supplier is
/// territorial.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new("le code postal est vide"));
        }
        if trimmed.len() != 5 || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "« {trimmed} » n'est pas un code postal : il faut 5 chiffres"
            )));
        }
        if trimmed.starts_with("00") {
            return Err(ParseError::new(format!(
                "le code postal {trimmed} n'existe pas"
            )));
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The department code: two digits, `2A`/`2B` in Corsica, three digits overseas.
    pub fn department(&self) -> String {
        department_of(&self.0)
    }
}

/// The department of a five-digit postcode (also used on imported rows already checked).
pub fn department_of(postcode: &str) -> String {
    let code = postcode.get(..2).unwrap_or(postcode);
    match code {
        "20" => {
            // Corse-du-Sud is 200xx–201xx, Haute-Corse 202xx–206xx.
            if postcode.get(2..3).is_some_and(|d| d < "2") {
                "2A".to_string()
            } else {
                "2B".to_string()
            }
        }
        "97" | "98" => postcode.get(..3).unwrap_or(postcode).to_string(),
        _ => code.to_string(),
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments() {
        assert_eq!(Postcode::parse("21000").unwrap().department(), "21");
        assert_eq!(Postcode::parse(" 21800 ").unwrap().department(), "21");
        assert_eq!(Postcode::parse("20000").unwrap().department(), "2A");
        assert_eq!(Postcode::parse("20200").unwrap().department(), "2B");
        assert_eq!(Postcode::parse("97300").unwrap().department(), "973");
    }

    #[test]
    fn refuses_bad_codes() {
        assert!(Postcode::parse("2100")
            .unwrap_err()
            .0
            .contains("5 chiffres"));
        assert!(Postcode::parse("21OOO").is_err());
        assert!(Postcode::parse("").unwrap_err().0.contains("vide"));
        assert!(Postcode::parse("00100").is_err());
    }
}
