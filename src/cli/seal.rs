//! `groupement seal (--recipient age1… | --tender REF) FILE [-o OUT]`: encrypts a bid's
//! document on the company's own machine to a tender's public key (the age format), so that
//! it travels and is stored encrypted until the members open the bids together. The output,
//! `FILE.age` by default, is uploaded as it is. `--tender` reads the key from the database
//! (an operator's shortcut); a company copies it from the notice or its `cle-publique.txt`.

use super::CliError;
use crate::services::{documents, seal};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SealArgs {
    /// The document to encrypt (pdf, docx, xlsx, odt, ods, zip).
    file: PathBuf,
    /// The tender's public key (`age1…`), as its notice shows it.
    #[arg(long, conflicts_with = "tender", required_unless_present = "tender")]
    recipient: Option<String>,
    /// The tender's reference, its key read from the database (GROUPEMENT_DATABASE_URL).
    #[arg(long)]
    tender: Option<String>,
    /// Where to write the encrypted file (default: FILE.age beside it).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(args: &SealArgs) -> Result<(), CliError> {
    let recipient_text = match (&args.recipient, &args.tender) {
        (Some(text), _) => text.trim().to_string(),
        (None, Some(reference)) => key_of_tender(reference)?,
        (None, None) => {
            return Err(CliError::Input(vec![
                "--recipient age1… (la clé publique de l'avis) ou --tender REF".into(),
            ]))
        }
    };
    let recipient = seal::recipient(&recipient_text).map_err(|e| {
        CliError::Input(vec![format!(
            "--recipient : {e} (une clé publique age commence par age1)"
        )])
    })?;
    let size = std::fs::metadata(&args.file)
        .map_err(|e| CliError::Input(vec![format!("{}: {e}", args.file.display())]))?
        .len();
    if size > documents::MAX_BYTES as u64 {
        return Err(CliError::Input(vec![format!(
            "{}: {} Mo au plus par document",
            args.file.display(),
            documents::MAX_BYTES >> 20
        )]));
    }
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(&args.file)
            .map_err(|e| CliError::Input(vec![format!("{}: {e}", args.file.display())]))?,
    );
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // The same check as the portal's: a document the opening would refuse is refused now.
    documents::checked(&name, &bytes)
        .map_err(|e| CliError::Input(vec![format!("{}: {}", args.file.display(), e.detailed())]))?;
    if seal::is_sealed(&bytes) {
        return Err(CliError::Input(vec![format!(
            "{}: déjà chiffré",
            args.file.display()
        )]));
    }
    let sealed = seal::encrypt(&[recipient], &bytes).map_err(|e| CliError::Fatal(e.to_string()))?;
    let output = args.output.clone().unwrap_or_else(|| {
        let mut path = args.file.clone().into_os_string();
        path.push(".age");
        PathBuf::from(path)
    });
    std::fs::write(&output, &sealed)
        .map_err(|e| CliError::Fatal(format!("{}: {e}", output.display())))?;
    println!(
        "{} : chiffré pour la consultation ({} octets), à déposer tel quel ; SHA-256 {}",
        output.display(),
        sealed.len(),
        crate::services::receipts::sha256_hex(&sealed)
    );
    Ok(())
}

/// A published tender's key, from the database.
fn key_of_tender(reference: &str) -> Result<String, CliError> {
    use crate::db::schema::{tender_seals, tenders};
    use diesel::prelude::*;
    let settings = crate::Settings::from_env().map_err(|e| CliError::Fatal(e.to_string()))?;
    let pool =
        crate::db::open(&settings.database_url).map_err(|e| CliError::Fatal(e.to_string()))?;
    let mut conn = pool.get().map_err(|e| CliError::Fatal(e.to_string()))?;
    tender_seals::table
        .inner_join(tenders::table)
        .filter(tenders::reference.eq(reference))
        .select(tender_seals::recipient)
        .first::<String>(&mut conn)
        .optional()
        .map_err(|e| CliError::Fatal(e.to_string()))?
        .ok_or_else(|| {
            CliError::Input(vec![format!(
                "--tender {reference} : aucune consultation publiée et chiffrée sous cette référence"
            )])
        })
}
