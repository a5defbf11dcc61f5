//! The NGC builder against DSInternals' generated blob, the RSA encoders against real key
//! material, and parser robustness (truncation, byte mutation, entry order) over every
//! vector in testdata/keycredlink.

// Test code: a panic is how a check fails, also in helpers outside #[test] functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use kdc_directory::keycredlink::{
    Guid, KeyCredential, KeyCredentialError, KeyMaterial, KeySource, KeyUsage, RsaKeyFormat,
    RsaPublicKey,
};
use support::{read_hex, testdata_dir};

fn all_blobs() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(testdata_dir().join("vectors.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let name = v["name"].as_str().unwrap().to_string();
            (name, read_hex(v["hex_file"].as_str().unwrap()))
        })
        .collect()
}

/// KeyCredential_Generate_UserKey_FromPublicKey in DSInternals builds exactly this blob from
/// the RSA1 key, DeviceId 47f577e3-d2d0-4a0a-8aca-e0501098bde4 and FILETIME
/// 131734027581684545 (vectors.toml, dsi_user_ngc_ad_rsa1).
#[test]
fn builder_reproduces_the_dsinternals_user_key_byte_for_byte() {
    let expected = read_hex("dsi_user_ngc_ad_rsa1.hex");
    let parsed = KeyCredential::parse(&expected).unwrap();
    let KeyMaterial::Rsa {
        raw,
        format: RsaKeyFormat::BcryptRsa1,
        ..
    } = parsed.key_material()
    else {
        panic!("expected RSA1 material")
    };
    // The builder takes the key as (n, e), not the stored blob.
    let key = RsaPublicKey::from_bcrypt_rsa1(raw).unwrap();
    let key = RsaPublicKey::from_components(key.modulus(), key.exponent()).unwrap();
    let device: Guid = "47f577e3-d2d0-4a0a-8aca-e0501098bde4".parse().unwrap();
    let built = KeyCredential::new_ngc(&key, device, 131_734_027_581_684_545);
    assert_eq!(
        hex::encode_upper(built.to_blob()),
        hex::encode_upper(&expected)
    );
    assert!(built.key_id_matches_material() && built.key_hash_matches());
    assert_eq!(built.key_usage(), KeyUsage::Ngc);
    assert_eq!(built.key_source(), Some(KeySource::Ad));
    assert_eq!(
        built.creation_time().unwrap().to_string(),
        "2018-06-13T22:32:38.1684545Z"
    );
}

#[test]
fn der_encoders_reproduce_real_key_material() {
    // Samba's DER SubjectPublicKeyInfo and the DSInternals computer key's DER PKCS#1.
    for (name, format) in [
        ("samba_ngc_der_spki", RsaKeyFormat::SpkiDer),
        ("dsi_computer_ngc_der_pkcs1", RsaKeyFormat::Pkcs1Der),
    ] {
        let credential = KeyCredential::parse(&read_hex(&format!("{name}.hex"))).unwrap();
        let KeyMaterial::Rsa {
            key,
            format: found,
            raw,
        } = credential.key_material()
        else {
            panic!("{name}")
        };
        assert_eq!(*found, format, "{name}");
        let reencoded = match format {
            RsaKeyFormat::SpkiDer => key.to_spki_der().unwrap(),
            _ => key.to_pkcs1_der().unwrap(),
        };
        assert_eq!(&reencoded, raw, "{name}");
    }
}

#[test]
fn one_key_in_every_encoding_is_one_key() {
    let credential = KeyCredential::parse(&read_hex("msf_ngc_rsa1.hex")).unwrap();
    let key = credential.rsa_public_key().unwrap().clone();
    let encodings = [
        (key.to_spki_der().unwrap(), RsaKeyFormat::SpkiDer),
        (key.to_pkcs1_der().unwrap(), RsaKeyFormat::Pkcs1Der),
        (key.to_bcrypt_rsa1(), RsaKeyFormat::BcryptRsa1),
    ];
    for (bytes, format) in encodings {
        let material = KeyMaterial::from_bytes(bytes);
        assert!(
            matches!(material, KeyMaterial::Rsa { format: f, .. } if f == format),
            "{format:?}"
        );
        assert_eq!(material.rsa_public_key(), Some(&key));
    }
    let other = KeyCredential::parse(&read_hex("dsi_user_ngc_ad_rsa1.hex")).unwrap();
    assert_ne!(other.rsa_public_key(), Some(&key));
}

/// Every prefix and every single-byte change of every vector either fails to parse or
/// parses to a credential that writes back exactly the bytes it was read from.
#[test]
fn prefixes_and_byte_mutations_never_panic_and_stay_consistent() {
    for (name, blob) in all_blobs() {
        for len in 0..blob.len() {
            if let Ok(c) = KeyCredential::parse(&blob[..len]) {
                assert_eq!(c.to_blob(), &blob[..len], "{name}: prefix {len}");
            }
        }
        // Every prefix that stops inside an entry must fail; the shortest valid one holds
        // at least KeyID, KeyHash, KeyMaterial and KeyUsage.
        assert!(
            KeyCredential::parse(&blob[..blob.len().min(80)]).is_err(),
            "{name}"
        );
        for offset in 0..blob.len() {
            for replacement in [0x2A, blob[offset] ^ 0xFF, 0x00] {
                let mut mutated = blob.clone();
                mutated[offset] = replacement;
                if let Ok(c) = KeyCredential::parse(&mutated) {
                    assert_eq!(c.to_blob(), mutated, "{name}: offset {offset}");
                }
            }
        }
    }
}

fn entry(id: u8, value: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(value.len()).unwrap().to_le_bytes().to_vec();
    out.push(id);
    out.extend_from_slice(value);
    out
}

fn blob_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = 0x200u32.to_le_bytes().to_vec();
    entries.iter().for_each(|e| out.extend_from_slice(e));
    out
}

#[test]
fn entry_order_identifiers_and_lengths_are_enforced() {
    let minimal = [
        entry(1, &[0xAA; 32]),
        entry(2, &[0xBB; 32]),
        entry(3, b"opaque"),
        entry(4, &[1]),
    ];
    let ok = KeyCredential::parse(&blob_of(&minimal)).unwrap();
    assert!(matches!(ok.key_material(), KeyMaterial::Unknown(_)));
    assert_eq!(ok.key_source(), None);

    let swapped = [
        minimal[1].clone(),
        minimal[0].clone(),
        minimal[2].clone(),
        minimal[3].clone(),
    ];
    assert!(matches!(
        KeyCredential::parse(&blob_of(&swapped)),
        Err(KeyCredentialError::OutOfOrder { id: 1, .. })
    ));

    let repeated = [minimal.to_vec(), vec![entry(4, &[1])]].concat();
    assert!(matches!(
        KeyCredential::parse(&blob_of(&repeated)),
        Err(KeyCredentialError::OutOfOrder { id: 4, .. })
    ));

    let unknown = [minimal.to_vec(), vec![entry(0x0A, &[0])]].concat();
    assert!(matches!(
        KeyCredential::parse(&blob_of(&unknown)),
        Err(KeyCredentialError::UnknownIdentifier { id: 0x0A, .. })
    ));

    let no_usage = &minimal[..3];
    assert_eq!(
        KeyCredential::parse(&blob_of(no_usage)),
        Err(KeyCredentialError::MissingEntry("KeyUsage"))
    );

    let long_usage = [
        minimal[0].clone(),
        minimal[1].clone(),
        minimal[2].clone(),
        entry(4, &[1, 1]),
    ];
    assert!(matches!(
        KeyCredential::parse(&blob_of(&long_usage)),
        Err(KeyCredentialError::BadLength { id: 4, .. })
    ));

    let empty_cki = [minimal.to_vec(), vec![entry(7, &[])]].concat();
    assert!(matches!(
        KeyCredential::parse(&blob_of(&empty_cki)),
        Err(KeyCredentialError::BadLength { id: 7, .. })
    ));

    let one_byte_cki = [minimal.to_vec(), vec![entry(7, &[1])]].concat();
    let parsed = KeyCredential::parse(&blob_of(&one_byte_cki)).unwrap();
    assert_eq!(parsed.custom_key_information().unwrap().flags(), None);

    let mut v1 = blob_of(&minimal);
    v1[..4].copy_from_slice(&0x100u32.to_le_bytes());
    assert_eq!(
        KeyCredential::parse(&v1),
        Err(KeyCredentialError::UnsupportedVersion(0x100))
    );
}
