//! Files attached to tenders (rules, specifications) and to bids (technical memo, price
//! schedule): one check of what is accepted, whoever uploads.

use crate::error::AppError;

/// Largest document accepted.
pub const MAX_BYTES: usize = 20 << 20;

/// Accepted formats: extension, media type, and the bytes a file of that format starts with.
pub const FORMATS: &[(&str, &str, &[u8])] = &[
    ("pdf", "application/pdf", b"%PDF"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    (
        "odt",
        "application/vnd.oasis.opendocument.text",
        b"PK\x03\x04",
    ),
    (
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        b"PK\x03\x04",
    ),
    ("zip", "application/zip", b"PK\x03\x04"),
];

/// The extensions accepted, for forms: `pdf, docx, …`.
pub fn accepted() -> String {
    FORMATS
        .iter()
        .map(|(e, _, _)| *e)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A document's trimmed name and media type, when it is a known format whose content is what
/// its name says, not empty, within [`MAX_BYTES`], and with a printable name of 200 characters
/// at most; otherwise a message naming the file.
pub fn checked<'a>(file_name: &'a str, bytes: &[u8]) -> Result<(&'a str, &'static str), AppError> {
    checked_parts(file_name, bytes.len(), bytes)
}

/// [`checked`] from the size and the first bytes alone (at least as many as the longest
/// signature), before the content is read.
pub fn checked_parts<'a>(
    file_name: &'a str,
    size: usize,
    head: &[u8],
) -> Result<(&'a str, &'static str), AppError> {
    let name = file_name.trim();
    let refuse = |message: String| Err(AppError::validation("fichier", message));
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    let Some((_, content_type, magic)) = FORMATS.iter().find(|(e, _, _)| *e == extension) else {
        return refuse(format!("« {name} » : formats acceptés {}", accepted()));
    };
    if size == 0 {
        return refuse(format!("« {name} » est vide"));
    }
    if size > MAX_BYTES {
        return refuse(format!("« {name} » dépasse {} Mo", MAX_BYTES >> 20));
    }
    if !head.starts_with(magic) {
        return refuse(format!("« {name} » n'est pas un vrai fichier {extension}"));
    }
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return refuse("un nom de fichier de 200 caractères au plus".into());
    }
    Ok((name, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_what_its_name_says() {
        assert_eq!(
            checked(" memoire.PDF ", b"%PDF-1.7").ok(),
            Some(("memoire.PDF", "application/pdf"))
        );
        let refused = |name: &str, bytes: &[u8]| {
            checked(name, bytes)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(refused("prix.exe", b"MZ").contains("formats acceptés pdf, docx"));
        assert!(refused("prix.pdf", b"").contains("est vide"));
        assert!(refused("prix.pdf", b"PK\x03\x04").contains("n'est pas un vrai fichier pdf"));
        assert!(refused("prix.xlsx", &vec![b'P'; MAX_BYTES + 1]).contains("dépasse 20 Mo"));
        assert!(refused("a\nb.pdf", b"%PDF").contains("200 caractères"));
    }
}
