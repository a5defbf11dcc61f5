//! Active Directory's userAccountControl bits ([MS-ADTS] 2.2.16) as the SAM account flags
//! KERB_VALIDATION_INFO.UserAccountControl carries ([MS-SAMR] 2.2.1.12, [MS-PAC] 2.5).

use kdc_directory::{UF_ACCOUNTDISABLE, UF_NORMAL_ACCOUNT};

/// (UF_* bit, USER_* / ACB_* bit).
const UF_TO_ACB: [(u32, u32); 16] = [
    (UF_ACCOUNTDISABLE, 0x0000_0001),
    // UF_HOMEDIR_REQUIRED
    (0x0000_0008, 0x0000_0002),
    // UF_PASSWD_NOTREQD
    (0x0000_0020, 0x0000_0004),
    // UF_TEMP_DUPLICATE_ACCOUNT
    (0x0000_0100, 0x0000_0008),
    (UF_NORMAL_ACCOUNT, 0x0000_0010),
    // UF_INTERDOMAIN_TRUST_ACCOUNT
    (0x0000_0800, 0x0000_0040),
    // UF_WORKSTATION_TRUST_ACCOUNT
    (0x0000_1000, 0x0000_0080),
    // UF_SERVER_TRUST_ACCOUNT
    (0x0000_2000, 0x0000_0100),
    // UF_DONT_EXPIRE_PASSWD
    (0x0001_0000, 0x0000_0200),
    // UF_LOCKOUT
    (0x0000_0010, 0x0000_0400),
    // UF_ENCRYPTED_TEXT_PASSWORD_ALLOWED
    (0x0000_0080, 0x0000_0800),
    // UF_SMARTCARD_REQUIRED
    (0x0004_0000, 0x0000_1000),
    // UF_TRUSTED_FOR_DELEGATION
    (0x0008_0000, 0x0000_2000),
    // UF_NOT_DELEGATED
    (0x0010_0000, 0x0000_4000),
    // UF_USE_DES_KEY_ONLY
    (0x0020_0000, 0x0000_8000),
    // UF_DONT_REQUIRE_PREAUTH
    (0x0040_0000, 0x0001_0000),
];

/// The SAM flags of a userAccountControl value; bits with no SAM counterpart are dropped.
pub fn sam_account_flags(user_account_control: u32) -> u32 {
    UF_TO_ACB
        .iter()
        .filter(|(uf, _)| user_account_control & uf != 0)
        .fold(0, |acb, (_, bit)| acb | bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_user_whose_password_never_expires_is_normal_and_pwnoexp() {
        // The Windows Server 2022 PAC in testdata/pac: Administrator, UAC 0x10200.
        assert_eq!(sam_account_flags(0x0001_0200), 0x0210);
        assert_eq!(
            sam_account_flags(UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE),
            0x11
        );
        assert_eq!(sam_account_flags(0x8000_0000), 0);
    }
}
