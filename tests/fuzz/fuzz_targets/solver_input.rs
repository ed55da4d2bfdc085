//! The pooling engine's inputs as `groupement pool` reads them: a needs table, a suppliers
//! table (the same bytes read both ways) and the TOML parameters, then the engine's own input
//! check — never a panic.
#![no_main]

use groupement::cli::pool::{parse_params, read_needs, read_suppliers};
use groupement::files::Table;
use groupement_solver::pooling::validate_input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(table) = Table::read(bytes, &[]) {
        let needs = read_needs(&table);
        let suppliers = read_suppliers(&table);
        if needs.errors.is_empty() && suppliers.errors.is_empty() {
            let _ = validate_input(&needs.items, &suppliers.items);
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = parse_params(text);
    }
});
