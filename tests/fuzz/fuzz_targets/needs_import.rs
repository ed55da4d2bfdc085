//! A needs file (CSV in any encoding, or .xlsx) as buyers upload it: read, split into rows and
//! every row validated — never a panic, whatever the bytes.
#![no_main]

use groupement::files::Table;
use groupement::services::needs::{rows_of, validate, NEED_COLUMNS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(table) = Table::read(bytes, &NEED_COLUMNS) {
        for row in rows_of(&table) {
            let _ = validate(&row.need);
        }
    }
});
