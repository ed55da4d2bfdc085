//! The value types people type: CPV codes, SIRET, postcodes, amounts, dates — each either
//! parses into a value that writes back as it reads, or is refused with a message.
#![no_main]

use groupement::domain::{parse_date, Cents, CpvCatalog, CpvCode, Postcode, Siret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(cpv) = CpvCode::parse(text, CpvCatalog::embedded()) {
        assert_eq!(cpv.as_str().len(), 8);
    }
    if let Ok(siret) = Siret::parse(text) {
        assert_eq!(Siret::parse(&siret.to_string()).ok(), Some(siret));
    }
    if let Ok(postcode) = Postcode::parse(text) {
        assert_eq!(postcode.as_str().len(), 5);
    }
    if let Ok(amount) = Cents::parse_euros(text) {
        assert_eq!(Cents::parse_euros(&amount.to_string()).ok(), Some(amount));
    }
    let _ = parse_date(text);
});
