//! Whether an account may have tickets, by Active Directory's rules (MS-ADTS 2.2.16
//! userAccountControl; MS-ADA1 accountExpires and lockoutTime, FILETIMEs per MS-DTYP 2.3.3).
//! Written once here and used by every backend and by the KDC at AS and TGS time.

use std::time::{Duration, SystemTime};

use crate::{UF_ACCOUNTDISABLE, User};

/// accountExpires values that mean "never": AD writes 0x7FFFFFFFFFFFFFFF for accounts
/// created without an expiry and 0 for ones whose expiry was cleared.
pub const ACCOUNT_NEVER_EXPIRES: u64 = 0x7FFF_FFFF_FFFF_FFFF;

/// 100-ns intervals from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// Why the KDC refuses an account that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRefusal {
    /// userAccountControl has ACCOUNTDISABLE (or was missing/unreadable on LDAP).
    Disabled,
    /// accountExpires lies in the past.
    Expired,
    /// lockoutTime is non-zero. AD would unlock by itself once the domain's
    /// lockoutDuration has passed; the KDC does not read that policy, so a lockout lasts
    /// until an administrator (or AD) writes lockoutTime = 0.
    LockedOut,
}

impl std::fmt::Display for AccountRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AccountRefusal::Disabled => "disabled",
            AccountRefusal::Expired => "expired (accountExpires)",
            AccountRefusal::LockedOut => "locked out (lockoutTime)",
        })
    }
}

/// The time a FILETIME names; None for the values that mean "never".
pub fn account_expiry(filetime: u64) -> Option<SystemTime> {
    if filetime == 0 || filetime >= ACCOUNT_NEVER_EXPIRES {
        return None;
    }
    let since_unix = i128::from(filetime) - i128::from(FILETIME_UNIX_EPOCH);
    let nanos = since_unix.saturating_mul(100);
    Some(match u64::try_from(nanos.unsigned_abs()) {
        Ok(n) if nanos >= 0 => SystemTime::UNIX_EPOCH + Duration::from_nanos(n),
        Ok(n) => SystemTime::UNIX_EPOCH
            .checked_sub(Duration::from_nanos(n))
            .unwrap_or(SystemTime::UNIX_EPOCH),
        // Beyond u64 nanoseconds (year 2554): as good as never, but not "never" itself.
        Err(_) => SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
    })
}

/// A time as a FILETIME, for tools and tests that write accountExpires.
pub fn filetime(time: SystemTime) -> u64 {
    let since_unix = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() / 100)
        .unwrap_or(0);
    u64::try_from(since_unix)
        .unwrap_or(u64::MAX)
        .saturating_add(FILETIME_UNIX_EPOCH)
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.user_account_control & UF_ACCOUNTDISABLE != 0
    }

    /// The first reason the account may not have tickets at `now`, if any.
    pub fn refusal(&self, now: SystemTime) -> Option<AccountRefusal> {
        if self.is_disabled() {
            Some(AccountRefusal::Disabled)
        } else if account_expiry(self.account_expires).is_some_and(|at| at <= now) {
            Some(AccountRefusal::Expired)
        } else if self.lockout_time != 0 {
            Some(AccountRefusal::LockedOut)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_values_and_the_epoch() {
        assert_eq!(account_expiry(0), None);
        assert_eq!(account_expiry(ACCOUNT_NEVER_EXPIRES), None);
        assert_eq!(account_expiry(u64::MAX), None);
        assert_eq!(
            account_expiry(FILETIME_UNIX_EPOCH),
            Some(SystemTime::UNIX_EPOCH)
        );
        // 2021-01-01T00:00:00Z, as AD tools print it: 132539328000000000.
        assert_eq!(
            account_expiry(132_539_328_000_000_000),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_609_459_200))
        );
        assert!(account_expiry(1).is_some_and(|t| t < SystemTime::UNIX_EPOCH));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(account_expiry(filetime(now)), Some(now));
    }
}
