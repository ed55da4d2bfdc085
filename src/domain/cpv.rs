use super::ParseError;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The Common Procurement Vocabulary 2008, as shipped in `data/cpv_2008_fr_en.csv`.
const CPV_CSV: &str = include_str!("../../data/cpv_2008_fr_en.csv");

/// One code of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpvEntry {
    pub code8: String,
    pub check_digit: u8,
    pub parent_code8: Option<String>,
    pub division: String,
    pub level: String,
    pub significant_digits: u8,
    pub kind: String,
    pub label_en: String,
    pub label_fr: String,
}

/// All 9,454 CPV codes, indexed by their 8 digits.
#[derive(Debug)]
pub struct CpvCatalog {
    entries: Vec<CpvEntry>,
    by_code: HashMap<String, usize>,
}

impl CpvCatalog {
    /// The catalogue embedded in the binary, parsed once.
    pub fn embedded() -> &'static CpvCatalog {
        static CATALOG: OnceLock<CpvCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| Self::from_csv(CPV_CSV))
    }

    fn from_csv(text: &str) -> CpvCatalog {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let entries: Vec<CpvEntry> = reader
            .records()
            .filter_map(Result::ok)
            .filter_map(|r| {
                Some(CpvEntry {
                    code8: r.get(1)?.to_string(),
                    check_digit: r.get(2)?.parse().ok()?,
                    parent_code8: r
                        .get(3)
                        .filter(|p| !p.is_empty())
                        .and_then(|p| p.get(..8))
                        .map(str::to_string),
                    division: r.get(4)?.to_string(),
                    level: r.get(5)?.to_string(),
                    significant_digits: r.get(6)?.parse().ok()?,
                    kind: r.get(7)?.to_string(),
                    label_en: r.get(8)?.to_string(),
                    label_fr: r.get(9)?.to_string(),
                })
            })
            .collect();
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code8.clone(), i))
            .collect();
        CpvCatalog { entries, by_code }
    }

    pub fn get(&self, code8: &str) -> Option<&CpvEntry> {
        self.by_code.get(code8).map(|&i| &self.entries[i])
    }

    /// Codes matching a search: digits find the codes that start with them (a check digit
    /// after `-` is ignored); words find the codes whose French or English label contains every
    /// word, accents and case aside. Broader codes first, then by code; at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&CpvEntry> {
        let query = query.trim();
        let digits: String = query.split('-').next().unwrap_or("").trim().to_string();
        let mut found: Vec<&CpvEntry> =
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                self.entries
                    .iter()
                    .filter(|e| e.code8.starts_with(&digits))
                    .collect()
            } else {
                let words: Vec<String> = fold(query)
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() > 1)
                    .map(str::to_string)
                    .collect();
                if words.is_empty() {
                    return Vec::new();
                }
                self.entries
                    .iter()
                    .filter(|e| {
                        let labels = format!("{} {}", fold(&e.label_fr), fold(&e.label_en));
                        words.iter().all(|w| labels.contains(w.as_str()))
                    })
                    .collect()
            };
        found.sort_by(|a, b| {
            a.significant_digits
                .cmp(&b.significant_digits)
                .then_with(|| a.code8.cmp(&b.code8))
        });
        found.truncate(limit);
        found
    }

    /// The code's ancestors, from its division down to its parent.
    pub fn ancestors(&self, code8: &str) -> Vec<&CpvEntry> {
        let mut chain = Vec::new();
        let mut current = self.get(code8).and_then(|e| e.parent_code8.clone());
        while let Some(code) = current {
            let Some(entry) = self.get(&code) else { break };
            chain.push(entry);
            current = entry.parent_code8.clone();
            if chain.len() > 8 {
                break;
            }
        }
        chain.reverse();
        chain
    }

    pub fn entries(&self) -> &[CpvEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A CPV code that exists in the vocabulary. Written `33141000` or `33141000-0`; when the check
/// digit is given it must be the right one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpvCode(String);

impl CpvCode {
    pub fn parse(input: &str, catalog: &CpvCatalog) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new("le code CPV est vide"));
        }
        let (digits, check) = match trimmed.split_once('-') {
            Some((d, c)) => (d.trim(), Some(c.trim())),
            None => (trimmed, None),
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "« {trimmed} » n'est pas un code CPV : il faut 8 chiffres, éventuellement suivis de « -clé »"
            )));
        }
        let entry = catalog.get(digits).ok_or_else(|| {
            ParseError::new(format!(
                "le code CPV {digits} n'existe pas dans la nomenclature CPV 2008"
            ))
        })?;
        if let Some(check) = check {
            if check != entry.check_digit.to_string() {
                return Err(ParseError::new(format!(
                    "la clé du code CPV {digits} est {}, pas « {check} »",
                    entry.check_digit
                )));
            }
        }
        Ok(Self(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The division: the first two digits.
    pub fn division(&self) -> &str {
        &self.0[..2]
    }

    /// The first `digits` digits, the family key of pooling.
    pub fn prefix(&self, digits: usize) -> &str {
        &self.0[..digits.min(8)]
    }

    /// Works (CPV division 45) follow their own thresholds.
    pub fn is_works(&self) -> bool {
        self.division() == "45"
    }
}

impl fmt::Display for CpvCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower case without the accents of French (for searching labels, notices, words).
pub fn fold(text: &str) -> String {
    text.to_lowercase().chars().map(fold_char).collect()
}

/// One lower-case letter without its French accent (`é` → `e`, `œ` → `o`).
pub fn fold_char(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' => 'i',
        'ô' | 'ö' => 'o',
        'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'œ' => 'o',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_every_code() {
        let catalog = CpvCatalog::embedded();
        assert_eq!(catalog.len(), 9454);
        let entry = catalog.get("33141000").unwrap();
        assert_eq!(entry.check_digit, 0);
        assert_eq!(entry.parent_code8.as_deref(), Some("33140000"));
        assert!(entry.label_fr.contains("médicaux"), "{}", entry.label_fr);
    }

    #[test]
    fn parses_with_and_without_check_digit() {
        let catalog = CpvCatalog::embedded();
        let code = CpvCode::parse("03000000-1", catalog).unwrap();
        assert_eq!(code.as_str(), "03000000");
        assert_eq!(code.division(), "03");
        assert!(CpvCode::parse(" 45112700 ", catalog).unwrap().is_works());
    }

    #[test]
    fn refuses_wrong_check_digit_unknown_code_and_garbage() {
        let catalog = CpvCatalog::embedded();
        let err = CpvCode::parse("03000000-2", catalog).unwrap_err();
        assert!(err.0.contains("clé"), "{err}");
        let err = CpvCode::parse("99999999", catalog).unwrap_err();
        assert!(err.0.contains("n'existe pas"), "{err}");
        assert!(CpvCode::parse("0300000", catalog)
            .unwrap_err()
            .0
            .contains("8 chiffres"));
        assert!(CpvCode::parse("", catalog).unwrap_err().0.contains("vide"));
    }

    #[test]
    fn search_by_code_or_words_with_the_hierarchy() {
        let catalog = CpvCatalog::embedded();
        let by_code = catalog.search("3314", 5);
        assert_eq!(by_code[0].code8, "33140000");
        assert!(by_code.iter().all(|e| e.code8.starts_with("3314")));
        let by_words = catalog.search("Fournitures BUREAU", 50);
        assert!(
            by_words.iter().any(|e| e.code8 == "30192000"),
            "{by_words:?}"
        );
        let accents = catalog.search("materiel medical", 50);
        assert!(!accents.is_empty());
        let english = catalog.search("office supplies", 5);
        assert!(english.iter().any(|e| e.code8 == "30192000"));
        let path: Vec<&str> = catalog
            .ancestors("30192000")
            .iter()
            .map(|e| e.code8.as_str())
            .collect();
        assert_eq!(path.first(), Some(&"30000000"));
        assert_eq!(path.last(), Some(&"30190000"));
        assert!(catalog.search("  ", 5).is_empty());
    }
}
