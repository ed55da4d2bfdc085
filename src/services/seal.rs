//! The cryptography of sealed bids (#23), and nothing else: no database, no rule of procedure.
//!
//! - **Encryption**: the [age](https://age-encryption.org/v1) format, X25519 recipients. A bid's
//!   form, documents and DUME are encrypted to the tender's public key as they arrive; anyone
//!   can do the same on their own machine (`groupement seal`, or the `age` tool).
//! - **Opening keys**: each lead holds an age X25519 key whose secret is stored encrypted with
//!   age's passphrase recipient (scrypt, memory-hard: 2^[`work_factor`] × 1 KiB of memory).
//! - **Tender keys**: made at publication, their secret (the key's text) split with Shamir's
//!   scheme over GF(256) ([`blahaj`]); each share is encrypted to the opening keys of the leads
//!   of one member, or to the recovery key; the secret itself is then dropped (and wiped).
//!
//! Secrets in memory are wiped when dropped ([`zeroize`]).

use age::secrecy::{ExposeSecret, SecretString};
use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::OnceLock;
use zeroize::{Zeroize, Zeroizing};

/// What every age file starts with: a document sealed by its company on its own machine.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// The shortest passphrase a lead may choose.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Why a sealing operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("phrase secrète incorrecte")]
    WrongPassphrase,
    #[error("le contenu chiffré est illisible ou a été modifié")]
    Corrupt,
    #[error("clé invalide : {0}")]
    BadKey(String),
    #[error("pas assez de parts pour reconstituer la clé")]
    NotEnoughShares,
    #[error("{0}")]
    Internal(String),
}

/// The scrypt work factor of the passphrases (log2 of N): `GROUPEMENT_SEAL_WORK_FACTOR`, 10 to
/// 20, 17 by default (128 MiB, about half a second here). The tests use a small one.
pub fn work_factor() -> u8 {
    *FACTOR.get_or_init(|| {
        std::env::var("GROUPEMENT_SEAL_WORK_FACTOR")
            .ok()
            .and_then(|v| v.trim().parse::<u8>().ok())
            .map(|f| f.clamp(10, 20))
            .unwrap_or(17)
    })
}

static FACTOR: OnceLock<u8> = OnceLock::new();

/// Sets the work factor before its first use (the test harness); later calls change nothing.
pub fn set_work_factor(log_n: u8) {
    let _ = FACTOR.set(log_n.clamp(10, 20));
}

/// An X25519 key pair: its secret, and its public half (`age1…`).
pub struct KeyPair {
    pub identity: age::x25519::Identity,
    pub recipient: String,
}

impl KeyPair {
    pub fn generate() -> Self {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        KeyPair {
            identity,
            recipient,
        }
    }

    /// The secret as text (`AGE-SECRET-KEY-1…`), wiped when dropped.
    pub fn secret_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.identity.to_string().expose_secret().to_string())
    }
}

/// A public key read from its text.
pub fn recipient(text: &str) -> Result<age::x25519::Recipient, SealError> {
    age::x25519::Recipient::from_str(text.trim()).map_err(|e| SealError::BadKey(e.to_string()))
}

/// A secret key read from its text (the recovery key typed back).
pub fn identity(text: &str) -> Result<age::x25519::Identity, SealError> {
    let text = Zeroizing::new(text.trim().to_uppercase());
    age::x25519::Identity::from_str(&text).map_err(|e| SealError::BadKey(e.to_string()))
}

/// Encrypts bytes to one or more public keys.
pub fn encrypt(recipients: &[age::x25519::Recipient], clear: &[u8]) -> Result<Vec<u8>, SealError> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| SealError::Internal(e.to_string()))?;
    let mut out = Vec::with_capacity(clear.len() + 256);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| SealError::Internal(e.to_string()))?;
    writer
        .write_all(clear)
        .and_then(|_| writer.finish().map(|_| ()))
        .map_err(|e| SealError::Internal(e.to_string()))?;
    Ok(out)
}

/// Decrypts bytes with a secret key; [`SealError::Corrupt`] when they were not encrypted to it
/// or were changed since.
pub fn decrypt(
    identity: &age::x25519::Identity,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let decryptor = age::Decryptor::new(sealed).map_err(|_| SealError::Corrupt)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|_| SealError::Corrupt)?;
    let mut out = Zeroizing::new(Vec::with_capacity(sealed.len()));
    reader
        .read_to_end(&mut out)
        .map_err(|_| SealError::Corrupt)?;
    Ok(out)
}

/// Whether bytes are an age file (a document its company sealed itself).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

/// A new opening key for a lead: its public half, and its secret encrypted under the
/// passphrase (base64 of the age file).
pub fn new_opening_key(passphrase: &str) -> Result<(String, String), SealError> {
    let pair = KeyPair::generate();
    let sealed = lock(&pair.secret_text(), passphrase)?;
    Ok((pair.recipient, sealed))
}

/// A secret text encrypted under a passphrase (age scrypt), in base64.
fn lock(secret: &str, passphrase: &str) -> Result<String, SealError> {
    use base64::Engine as _;
    let mut recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_string()));
    recipient.set_work_factor(work_factor());
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| SealError::Internal(e.to_string()))?;
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| SealError::Internal(e.to_string()))?;
    writer
        .write_all(secret.as_bytes())
        .and_then(|_| writer.finish().map(|_| ()))
        .map_err(|e| SealError::Internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// The secret key of an opening key, with its passphrase.
pub fn unlock(sealed_identity: &str, passphrase: &str) -> Result<age::x25519::Identity, SealError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed_identity.trim())
        .map_err(|e| SealError::Internal(e.to_string()))?;
    let decryptor = age::Decryptor::new(bytes.as_slice()).map_err(|_| SealError::Corrupt)?;
    let mut key = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    // The files are ours, their factor known: no more work than that is ever accepted.
    key.set_max_work_factor(20);
    let mut reader = decryptor
        .decrypt(std::iter::once(&key as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => SealError::WrongPassphrase,
            _ => SealError::Corrupt,
        })?;
    let mut text = Zeroizing::new(String::new());
    reader
        .read_to_string(&mut text)
        .map_err(|_| SealError::Corrupt)?;
    identity(&text)
}

/// The same secret under a new passphrase.
pub fn rekey(sealed_identity: &str, old: &str, new: &str) -> Result<String, SealError> {
    let key = unlock(sealed_identity, old)?;
    let text = Zeroizing::new(key.to_string().expose_secret().to_string());
    lock(&text, new)
}

/// Splits a tender's secret into `count` shares, any `threshold` of which rebuild it. Each
/// share is `x` then the bytes, and is wiped when dropped.
pub fn split(
    secret: &str,
    threshold: u8,
    count: usize,
) -> Result<Vec<Zeroizing<Vec<u8>>>, SealError> {
    if threshold == 0 || usize::from(threshold) > count || count > 255 {
        return Err(SealError::Internal(format!(
            "{threshold} parts sur {count} : impossible"
        )));
    }
    Ok(blahaj::Sharks(threshold)
        .dealer(secret.as_bytes())
        .take(count)
        .map(|share| Zeroizing::new(Vec::from(&share)))
        .collect())
}

/// The tender's secret key rebuilt from shares; [`SealError::NotEnoughShares`] below the
/// threshold.
pub fn combine(
    shares: &[Zeroizing<Vec<u8>>],
    threshold: u8,
) -> Result<age::x25519::Identity, SealError> {
    let parsed = shares
        .iter()
        .map(|s| blahaj::Share::try_from(s.as_slice()).map_err(|_| SealError::Corrupt))
        .collect::<Result<Vec<_>, _>>()?;
    let mut xs: Vec<u8> = shares.iter().filter_map(|s| s.first().copied()).collect();
    xs.sort_unstable();
    xs.dedup();
    if xs.len() < usize::from(threshold) {
        return Err(SealError::NotEnoughShares);
    }
    let mut bytes = blahaj::Sharks(threshold)
        .recover(parsed.iter())
        .map_err(|_| SealError::NotEnoughShares)?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| SealError::Corrupt);
    bytes.zeroize();
    let text = Zeroizing::new(text?);
    identity(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_opens_with_its_key_only() {
        set_work_factor(10);
        let pair = KeyPair::generate();
        let other = KeyPair::generate();
        let sealed = encrypt(&[recipient(&pair.recipient).unwrap()], b"prix 12 345").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(5).any(|w| w == b"12 34"));
        assert_eq!(
            decrypt(&pair.identity, &sealed).unwrap().as_slice(),
            b"prix 12 345"
        );
        assert_eq!(
            decrypt(&other.identity, &sealed).err(),
            Some(SealError::Corrupt)
        );
        let mut changed = sealed.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(
            decrypt(&pair.identity, &changed).err(),
            Some(SealError::Corrupt)
        );
    }

    #[test]
    fn an_opening_key_needs_its_passphrase() {
        set_work_factor(10);
        let (public, sealed) = new_opening_key("une phrase assez longue").unwrap();
        let key = unlock(&sealed, "une phrase assez longue").unwrap();
        assert_eq!(key.to_public().to_string(), public);
        assert_eq!(
            unlock(&sealed, "une autre phrase").err(),
            Some(SealError::WrongPassphrase)
        );
        let again = rekey(&sealed, "une phrase assez longue", "la nouvelle phrase").unwrap();
        assert_eq!(
            unlock(&again, "la nouvelle phrase")
                .unwrap()
                .to_public()
                .to_string(),
            public
        );
        assert!(unlock(&again, "une phrase assez longue").is_err());
    }

    #[test]
    fn shares_rebuild_the_key_from_the_threshold_on() {
        let pair = KeyPair::generate();
        let shares = split(&pair.secret_text(), 2, 3).unwrap();
        assert_eq!(
            combine(&shares[..1], 2).err(),
            Some(SealError::NotEnoughShares)
        );
        // The same share twice is still one share.
        let twice = vec![shares[0].clone(), shares[0].clone()];
        assert_eq!(combine(&twice, 2).err(), Some(SealError::NotEnoughShares));
        for pick in [[0, 1], [0, 2], [1, 2]] {
            let some = vec![shares[pick[0]].clone(), shares[pick[1]].clone()];
            let key = combine(&some, 2).unwrap();
            assert_eq!(key.to_public().to_string(), pair.recipient);
        }
        assert!(split(&pair.secret_text(), 3, 2).is_err());
    }
}
