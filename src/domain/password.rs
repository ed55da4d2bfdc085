//! Password hashing with argon2id (the crate's defaults: OWASP's recommended parameters, 19 MiB
//! and about 50 ms of one core a hash).
//!
//! A hash is costly on purpose, so the number running at once is bounded
//! ([`crate::work::password_hashes`]): forms that hash a password, posted by many clients at
//! once, queue for a permit instead of taking every core and 19 MiB each; a request that waits
//! too long is told the service is busy.

pub use crate::work::Busy;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

thread_local! {
    static HASHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many hashes this thread has computed or checked (tests show with it that a form does
/// its cheap checks first).
pub fn hashes_on_this_thread() -> usize {
    HASHES.with(|h| h.get())
}

fn counted() {
    HASHES.with(|h| h.set(h.get() + 1));
}

/// Why no hash was made.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Hashes a password into a self-describing PHC string (algorithm, parameters, salt).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    crate::work::password_hashes().run(|| {
        counted();
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError::Failed(e.to_string()))
    })?
}

/// Whether `password` matches the stored hash; a malformed hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, Busy> {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Ok(false);
    };
    crate::work::password_hashes().run(|| {
        counted();
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("demo-groupement").unwrap();
        let b = hash_password("demo-groupement").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert_eq!(verify_password("demo-groupement", &a), Ok(true));
        assert_eq!(verify_password("Demo-groupement", &a), Ok(false));
        assert_eq!(verify_password("demo-groupement", "not a hash"), Ok(false));
    }
}
