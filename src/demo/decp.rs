//! The real contracts the demo derives from: `data/decp_demo.csv`, DECP records 2018–2019 of
//! bodies comparable to the four members (see `data/README.md`). Upstream text has lost its
//! accents (U+FFFD); dates and amounts are sometimes malformed: such rows are skipped, never
//! a crash.

use crate::domain::{CpvCatalog, Siret};

const DECP_DEMO_CSV: &str = include_str!("../../data/decp_demo.csv");

/// One contract × holder row, as the demo uses it.
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub demo_buyer: String,
    pub contract_id: String,
    pub buyer_name: String,
    pub object: String,
    pub cpv: String,
    pub place_type: String,
    pub place_code: String,
    pub months: u32,
    pub amount_cents: i64,
    pub holder_siret: Option<Siret>,
    pub holder_name: String,
}

impl ContractRow {
    /// The yearly value: contracts over a year are spread over their duration.
    pub fn annual_cents(&self) -> i64 {
        if self.months > 12 {
            self.amount_cents * 12 / i64::from(self.months)
        } else {
            self.amount_cents
        }
    }
}

/// Every usable row, in file order.
pub fn contracts() -> Vec<ContractRow> {
    let catalog = CpvCatalog::embedded();
    let mut reader = csv::Reader::from_reader(DECP_DEMO_CSV.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(_) => return Vec::new(),
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (
        Some(buyer),
        Some(id),
        Some(buyer_name),
        Some(object),
        Some(cpv),
        Some(place_type),
        Some(place_code),
        Some(months),
        Some(amount),
        Some(holder_id),
        Some(holder_name),
    ) = (
        column("demo_buyer"),
        column("id"),
        column("acheteur_nom"),
        column("objet"),
        column("cpv8"),
        column("lieuExecution_typeCode"),
        column("lieuExecution_code"),
        column("dureeMois"),
        column("montant"),
        column("titulaire_id"),
        column("titulaire_denominationSociale"),
    )
    else {
        return Vec::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let amount: f64 = r.get(amount)?.parse().ok()?;
            let cpv = r.get(cpv)?.to_string();
            if !(1_000.0..=50_000_000.0).contains(&amount) || catalog.get(&cpv).is_none() {
                return None;
            }
            Some(ContractRow {
                demo_buyer: r.get(buyer)?.to_string(),
                contract_id: r.get(id)?.to_string(),
                buyer_name: repair_text(r.get(buyer_name)?),
                object: repair_text(r.get(object)?),
                cpv,
                place_type: r.get(place_type)?.to_string(),
                place_code: r.get(place_code)?.to_string(),
                months: r.get(months)?.parse().ok().filter(|m| *m > 0).unwrap_or(12),
                amount_cents: (amount * 100.0).round() as i64,
                holder_siret: r.get(holder_id).and_then(|s| Siret::parse(s).ok()),
                holder_name: repair_text(r.get(holder_name)?),
            })
        })
        .collect()
}

/// The accented words a lost letter may be restored from: every word of the CPV labels in
/// French that has a letter outside ASCII (and its singular), and a few words of public buying
/// the labels lack. Lower case.
fn accented_words() -> &'static std::collections::BTreeMap<String, usize> {
    static WORDS: std::sync::OnceLock<std::collections::BTreeMap<String, usize>> =
        std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = std::collections::BTreeMap::new();
        let labels = CpvCatalog::embedded()
            .entries()
            .iter()
            .map(|e| e.label_fr.as_str());
        let extra = "à où société sociétés marché marchés réalisation réalisations                      prestations élémentaires entretien bâtiment bâtiments maîtrise œuvre                      désamiantage réhabilitation aménagement réaménagement sécurité                      électricité électrique électriques équipements matériel matériels                      fournitures générales médicaux médicales hôpital hospitalier                      hospitalière université universitaire métropole propreté accès                      numérique numériques télécommunications création rénovation                      collège lycée région département intérieur extérieur extérieurs                      espaces verts dépannage maintenance contrôle contrôles français \
                     française bibliothèque pédagogique matériaux véhicules \
                     compiègne mâcon romanèche perrières déconstruction agglomération \
                     signalétique télévisuels déménagement définition dépose métrologie \
                     vidéoprotection éditique procédés intitulée mutualisés collecté \
                     palières préparative dilatomètre faculté lès";
        for text in labels.chain(std::iter::once(extra)) {
            for word in text.split(|c: char| !c.is_alphabetic()) {
                let word = word.to_lowercase();
                if word.is_ascii() || word.is_empty() {
                    continue;
                }
                if let Some(stem) = word.strip_suffix('s').or_else(|| word.strip_suffix('x')) {
                    if !stem.is_ascii() {
                        *words.entry(stem.to_string()).or_insert(0) += 1;
                    }
                }
                *words.entry(word).or_insert(0) += 1;
            }
        }
        words
    })
}

/// A letter without its accent, lower case (`É` → `e`), to compare letters the source kept.
fn bare(c: char) -> char {
    crate::domain::fold_char(c.to_lowercase().next().unwrap_or(c))
}

/// A word with lost letters (U+FFFD) restored from [`accented_words`]: the same length, the
/// same letters where the source kept them, an accented letter where it lost one. When two
/// restorations fit, the one the labels use at least five times as often wins (the labels'
/// own typo « systéme » does not hide « système »); otherwise `None`: the word is not guessed.
fn restore_word(word: &[char]) -> Option<String> {
    let lost = '\u{fffd}';
    let mut fitting: std::collections::BTreeMap<Vec<char>, usize> = Default::default();
    for (candidate, &uses) in accented_words() {
        let letters: Vec<char> = candidate.chars().collect();
        if letters.len() != word.len() {
            continue;
        }
        let fits = word.iter().zip(&letters).all(|(&w, &l)| match w == lost {
            true => !l.is_ascii(),
            false => bare(w) == bare(l),
        });
        if !fits {
            continue;
        }
        let restored: Vec<char> = word
            .iter()
            .zip(&letters)
            .map(|(&w, &l)| if w == lost { l } else { w })
            .collect();
        *fitting.entry(restored).or_insert(0) += uses;
    }
    let mut ranked: Vec<(Vec<char>, usize)> = fitting.into_iter().collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    let restored = match ranked.as_slice() {
        [] => return None,
        [(only, _)] => only.clone(),
        [(first, a), (_, b), ..] if *a >= 5 * *b => first.clone(),
        _ => return None,
    };
    // Capitals stay capitals: a word written in capitals gets capital accented letters.
    let capitals = word
        .iter()
        .filter(|c| c.is_alphabetic())
        .all(|c| c.is_uppercase())
        && word.iter().any(|c| c.is_alphabetic());
    Some(
        restored
            .into_iter()
            .map(|c| match capitals {
                true => c.to_uppercase().next().unwrap_or(c),
                false => c,
            })
            .collect(),
    )
}

/// Upstream lost accented letters to U+FFFD (`Soci\u{fffd}t\u{fffd}`). A word is restored
/// from a list of French words (the CPV labels') when exactly one word fits; a word that
/// cannot be restored keeps the mark of the letter lost — it is never guessed.
pub fn repair_text(text: &str) -> String {
    let lost = '\u{fffd}';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let in_word = |c: char| c.is_alphabetic() || c == lost;
        if !in_word(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_word(chars[i]) {
            i += 1;
        }
        let word = &chars[start..i];
        match word.contains(&lost) {
            false => out.extend(word),
            true => match restore_word(word) {
                Some(restored) => out.push_str(&restored),
                None => out.extend(word),
            },
        }
    }
    out.trim().to_string()
}

/// Whether a text still has a letter the source lost and no word list could restore.
pub fn has_lost_letters(text: &str) -> bool {
    text.contains('\u{fffd}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_and_cleaned() {
        let rows = contracts();
        assert!(rows.len() > 150, "{}", rows.len());
        for code in ["CHU", "UB", "GDH", "DM"] {
            assert!(rows.iter().any(|r| r.demo_buyer == code), "{code}");
        }
        // Most lost letters are restored; the rest stay marked, never guessed.
        let marked = rows.iter().filter(|r| has_lost_letters(&r.object)).count();
        assert!(marked * 10 < rows.len(), "{marked} of {}", rows.len());
        assert!(rows.iter().any(|r| r.holder_siret.is_some()));
    }

    #[test]
    fn repairs_lost_accents_from_words_never_by_guess() {
        assert_eq!(
            repair_text("Soci\u{fffd}t\u{fffd} ADEQUA'SON"),
            "Société ADEQUA'SON"
        );
        assert_eq!(repair_text("R\u{fffd}AM\u{fffd}NAGEMENT"), "RÉAMÉNAGEMENT");
        assert_eq!(
            repair_text("mat\u{fffd}riel \u{fffd} Dijon"),
            "matériel à Dijon"
        );
        assert_eq!(repair_text("B\u{fffd}timent"), "Bâtiment");
        assert_eq!(
            repair_text("ma\u{fffd}trise d'\u{fffd}uvre"),
            "maîtrise d'œuvre"
        );
        assert_eq!(repair_text("fran\u{fffd}ais"), "français");
        assert_eq!(repair_text("syst\u{fffd}me"), "système");
        assert_eq!(repair_text("Compi\u{fffd}gne"), "Compiègne");
        // A word no list knows is left with its mark, not given a letter.
        assert_eq!(repair_text("Zorg\u{fffd}blux"), "Zorg\u{fffd}blux");
        assert!(has_lost_letters(&repair_text("Zorg\u{fffd}blux")));
    }

    #[test]
    fn long_contracts_are_spread_per_year() {
        let mut row = contracts().remove(0);
        row.amount_cents = 4_800_000;
        row.months = 48;
        assert_eq!(row.annual_cents(), 1_200_000);
        row.months = 6;
        assert_eq!(row.annual_cents(), 4_800_000);
    }
}
