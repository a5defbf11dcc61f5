//! KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20), the binary part of an msDS-KeyCredentialLink
//! value the directory hands the KDC: the entries, the KeyMaterial forms (BCRYPT RSA1, PKCS#1,
//! SPKI, TPM PCP, FIDO JSON), CustomKeyInformation, the key times, and the integrity checks of
//! 2.2.20.6.

use kdc_directory::KeyCredential;
use kdc_directory::keycredlink::{Guid, KeyMaterial, MAX_MODULUS_BYTES, RsaPublicKey};

pub fn run(data: &[u8]) {
    let Ok(credential) = KeyCredential::parse(data) else {
        return;
    };
    // Every value is kept as stored: a rewrite of the directory entry changes nothing.
    assert_eq!(credential.to_blob(), data);
    let _ = (
        credential.key_id_matches_material(),
        credential.key_hash_matches(),
    );
    assert!(!credential.key_id().is_empty());
    if let KeyMaterial::Rsa { key, raw, .. } = credential.key_material() {
        assert_eq!(credential.key_material().as_bytes(), raw.as_slice());
        check_rsa_key(key);
    }
    for time in [credential.last_logon(), credential.creation_time()]
        .into_iter()
        .flatten()
    {
        assert!(time.subsecond_ticks() < 10_000_000);
        let _ = (time.unix_seconds(), time.to_filetime());
    }
    if let Some(device_id) = credential.device_id() {
        assert_eq!(device_id.to_string().parse::<Guid>(), Ok(device_id));
    }
    if let Some(info) = credential.custom_key_information() {
        let _ = (
            info.version(),
            info.flags(),
            info.volume_type(),
            info.supports_notification(),
            info.fek_key_version(),
            info.key_strength(),
            info.reserved(),
            info.extended_items(),
        );
        assert!(info.encoded_extended().len() <= info.as_bytes().len());
    }
}

/// The key the KDC compares with a certificate's: bounded, and the same in every encoding.
fn check_rsa_key(key: &RsaPublicKey) {
    assert!(key.modulus().len() <= MAX_MODULUS_BYTES);
    assert!(key.modulus_bits() <= MAX_MODULUS_BYTES * 8);
    assert_eq!(
        RsaPublicKey::from_bcrypt_rsa1(&key.to_bcrypt_rsa1()).as_ref(),
        Ok(key)
    );
    if let Ok(pkcs1) = key.to_pkcs1_der() {
        assert_eq!(RsaPublicKey::from_pkcs1_der(&pkcs1).as_ref(), Ok(key));
    }
    let _ = key.has_roca_fingerprint();
}
