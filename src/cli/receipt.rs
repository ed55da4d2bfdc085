//! `groupement verify-receipt FILE [--key KEY | --keys keys.json] [DOCUMENT…]`: checks a
//! receipt offline — its signature, the platform's key when given, and the SHA-256 of the
//! documents given against those the receipt lists. `groupement receipt-key` writes a new
//! signing key for `GROUPEMENT_RECEIPT_KEY_FILE`.

use super::CliError;
use crate::services::receipts::{self, Verdict};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The receipt (accuse-….json), as downloaded.
    file: PathBuf,
    /// The platform's public key (base64), as published at /accuses/cles.
    #[arg(long)]
    key: Option<String>,
    /// The platform's published keys, as the JSON of /accuses/cles saved to a file.
    #[arg(long, conflicts_with = "key")]
    keys: Option<PathBuf>,
    /// Documents whose SHA-256 must be among those the receipt lists.
    documents: Vec<PathBuf>,
}

/// The keys of a saved `/accuses/cles`.
fn keys_of(path: &PathBuf) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(vec![format!("{}: {e}", path.display())]))?;
    #[derive(serde::Deserialize)]
    struct Keys {
        keys: Vec<receipts::PublicKey>,
    }
    let keys: Keys = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(vec![format!(
            "{}: ligne {}, colonne {} : pas la liste des clés de /accuses/cles ({e})",
            path.display(),
            e.line(),
            e.column()
        )])
    })?;
    Ok(keys.keys.into_iter().map(|k| k.public_key).collect())
}

pub fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::Input(vec![format!("{}: {e}", args.file.display())]))?;
    let signed = receipts::parse(&text)
        .map_err(|e| CliError::Input(vec![format!("{}: {e}", args.file.display())]))?;
    let trusted = match (&args.key, &args.keys) {
        (Some(key), _) => Some(vec![key.trim().to_string()]),
        (None, Some(path)) => Some(keys_of(path)?),
        (None, None) => None,
    };
    let r = &signed.receipt;
    match receipts::verify(&signed, trusted.as_deref()) {
        Verdict::Valid => {}
        Verdict::BadSignature => {
            return Err(CliError::Fatal(format!(
            "{}: signature NON valide — l'accusé a été modifié, ou n'a pas été signé par la clé {}",
            args.file.display(),
            signed.key_id
        )))
        }
        Verdict::UnknownKey => {
            return Err(CliError::Fatal(format!(
                "{}: signé par la clé {}, qui n'est pas celle de la plateforme donnée",
                args.file.display(),
                signed.key_id
            )))
        }
    }
    let mut missing = Vec::new();
    for path in &args.documents {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::Input(vec![format!("{}: {e}", path.display())]))?;
        let hash = receipts::sha256_hex(&bytes);
        match r.documents.iter().find(|d| d.sha256 == hash) {
            Some(d) => println!(
                "{}: SHA-256 {hash}, déposé sous le nom « {} »",
                path.display(),
                d.name
            ),
            None => missing.push(format!(
                "{}: SHA-256 {hash}, absent de l'accusé (ce n'est pas un document déposé)",
                path.display()
            )),
        }
    }
    println!(
        "accusé n° {} valide : {} {}, lot {}, {} (SIRET {}), reçu le {}{}",
        r.number,
        r.event,
        r.tender,
        r.lot,
        r.company,
        r.siret,
        r.received_at,
        if r.late { ", HORS DÉLAI" } else { "" }
    );
    if trusted.is_none() {
        println!(
            "clé {} : comparez-la à celles que la plateforme publie à /accuses/cles (ou donnez --key)",
            signed.key_id
        );
    }
    match missing.is_empty() {
        true => Ok(()),
        false => Err(CliError::Fatal(missing.join("\n"))),
    }
}

/// Prints a new signing key (base64 of a 32-byte seed), for `GROUPEMENT_RECEIPT_KEY_FILE`.
pub fn new_key() -> Result<(), CliError> {
    println!("{}", receipts::new_seed());
    Ok(())
}
