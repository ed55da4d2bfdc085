//! Text encodings of spreadsheets saved as CSV: UTF-8 (with or without BOM), or Windows-1252
//! as Excel writes it on French Windows.

/// Decodes bytes as UTF-8 when they are valid UTF-8, as Windows-1252 otherwise.
pub fn to_utf8(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// Windows-1252 is Latin-1 except for 0x80–0x9F.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bom_utf8_and_windows_1252() {
        assert_eq!(to_utf8("\u{feff}Côte-d'Or".as_bytes()), "Côte-d'Or");
        assert_eq!(to_utf8(b"C\xf4te-d'Or \x80 \x92"), "Côte-d'Or € ’");
        assert_eq!(to_utf8(b"plain"), "plain");
    }
}
