//! Rate limits of sign-in (and of password-reset requests): by client address and by account, so that neither one address
//! trying many accounts nor many addresses trying one account get far.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

pub struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<String>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl SignInLimits {
    /// At most `per_address` attempts a minute from one client address and `per_account` for
    /// one account, in a burst or spread.
    pub fn new(per_address: u32, per_account: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            by_address: RateLimiter::keyed(quota(per_address)),
            by_account: RateLimiter::keyed(quota(per_account)),
        }
    }

    /// Records an attempt; `false` when either limit is reached.
    pub fn allow(&self, address: &str, account: &str) -> bool {
        let address_ok = self.by_address.check_key(&address.to_string()).is_ok();
        let account_ok = self
            .by_account
            .check_key(&account.trim().to_lowercase())
            .is_ok();
        address_ok && account_ok
    }
}

/// Rate limits of password-reset requests, kept apart from sign-in's so that one does not use
/// up the other.
pub struct ResetLimits(pub SignInLimits);

impl std::ops::Deref for ResetLimits {
    type Target = SignInLimits;

    fn deref(&self) -> &SignInLimits {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_address_and_by_account() {
        let limits = SignInLimits::new(3, 3);
        for _ in 0..3 {
            assert!(limits.allow("10.0.0.1", "a@example.fr"));
        }
        assert!(!limits.allow("10.0.0.1", "a@example.fr"));
        assert!(
            !limits.allow("10.0.0.2", "A@example.fr "),
            "same account from elsewhere"
        );
        assert!(
            !limits.allow("10.0.0.1", "b@example.fr"),
            "same address, other account"
        );
        assert!(limits.allow("10.0.0.3", "c@example.fr"));
    }
}
