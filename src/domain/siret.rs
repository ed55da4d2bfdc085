use super::ParseError;
use std::fmt;

/// A French establishment identifier: 14 digits whose Luhn sum is valid.
///
/// La Poste's establishments (SIREN 356000000) are numbered outside the Luhn scheme: INSEE
/// accepts them when the plain sum of their digits is a multiple of 5.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret(String);

const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(ParseError::new("le SIRET est vide"));
        }
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "« {input} » n'est pas un SIRET : il faut 14 chiffres"
            )));
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) {
            digits
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_valid(&digits)
        };
        if !valid {
            return Err(ParseError::new(format!(
                "le SIRET {digits} est invalide (clé de contrôle fausse) : vérifiez-le sur l'avis de situation INSEE"
            )));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The company part (SIREN), the first 9 digits.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_sirets() {
        // Dijon Métropole and Ville de Dijon, from the DECP records.
        assert!(Siret::parse("24210041000123").is_ok());
        assert!(Siret::parse("21210231300013").is_ok());
        assert_eq!(
            Siret::parse("242 100 410 00123").map(|s| s.to_string()),
            Ok("24210041000123".to_string())
        );
    }

    #[test]
    fn accepts_la_poste_establishments_by_digit_sum() {
        // Digit sum 20, Luhn sum wrong: valid only under La Poste's rule.
        let siret = Siret::parse("35600000000051");
        assert!(siret.is_ok(), "{siret:?}");
        // Luhn-valid but digit sum 26: refused, La Poste's rule replaces Luhn.
        assert!(Siret::parse("35600000000048").is_err());
        assert!(Siret::parse("35600000000052").is_err());
    }

    #[test]
    fn refuses_wrong_key_length_and_letters() {
        let err = Siret::parse("24210041000124").unwrap_err();
        assert!(err.0.contains("clé de contrôle"), "{err}");
        assert!(Siret::parse("2421004100012")
            .unwrap_err()
            .0
            .contains("14 chiffres"));
        assert!(Siret::parse("2421004100012A").is_err());
        assert!(Siret::parse("   ").unwrap_err().0.contains("vide"));
    }

    #[test]
    fn siren_is_the_first_nine_digits() {
        let siret = Siret::parse("24210041000123").unwrap();
        assert_eq!(siret.siren(), "242100410");
    }
}
