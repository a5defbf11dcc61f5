//! Every [[vector]] of testdata/keycredlink/vectors.toml against the KEYCREDENTIALLINK_BLOB
//! parser (MS-ADTS 2.2.20). The checks are driven by the TOML: each key of
//! [vector.expected] and [vector.computed] has a checker, and a key without one fails the
//! test, so a new vector or a new kind of assertion cannot be silently ignored.

// Test code: a panic is how a check fails, also in helpers outside #[test] functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine;
use kdc_directory::keycredlink::{
    Guid, KeyCredential, KeyCredentialError, KeyMaterial, KeySource, KeyTime, KeyUsage,
    RsaKeyFormat, RsaPublicKey,
};
use kdc_directory::{DnBinary, KeyCredentialLink};
use sha2::{Digest, Sha256};
use support::*;
use toml::Value;

/// Free-text keys that document a vector rather than assert something checkable.
const DESCRIPTIVE: &[&str] = &[
    "creation_time_note",
    "key_material_hex_stated_by",
    "key_material_note",
    "dnbinary_source",
    "tpm2b_public_note",
];

struct Vector {
    name: String,
    blob: Vec<u8>,
    credential: KeyCredential,
    dnbinary_file: Option<String>,
    failures: Vec<String>,
}

fn load_vectors() -> Vec<toml::Table> {
    let text = std::fs::read_to_string(testdata_dir().join("vectors.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_table().unwrap().clone())
        .collect()
}

fn int(v: &Value) -> i128 {
    i128::from(
        v.as_integer()
            .unwrap_or_else(|| panic!("{v} is not an integer")),
    )
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))
}

fn usage_named(name: &str) -> KeyUsage {
    match name {
        "NGC" | "KEY_USAGE_NGC" => KeyUsage::Ngc,
        "STK" => KeyUsage::Stk,
        "FIDO" | "KEY_USAGE_FIDO" => KeyUsage::Fido,
        "FEK" | "KEY_USAGE_FEK" => KeyUsage::Fek,
        other => panic!("unknown KeyUsage name {other}"),
    }
}

fn source_named(name: &str) -> KeySource {
    match name {
        "AD" | "KEY_SOURCE_AD" => KeySource::Ad,
        "AzureAD" => KeySource::AzureAd,
        other => panic!("unknown KeySource name {other}"),
    }
}

/// CustomKeyInformation enumerations by the names DSInternals and Samba print (MS-ADTS 2.2.20.2.1).
fn cki_value_named(name: &str) -> i128 {
    match name {
        "None" => 0,
        "Attestation" | "CUSTOM_KEY_INFO_FLAGS_ATTESTATION" => 1,
        "MFANotUsed" | "CUSTOM_KEY_INFO_FLAGS_MFA_NOT_USED" => 2,
        "OSV" => 1,
        "Normal" => 2,
        other => panic!("unknown CustomKeyInformation name {other}"),
    }
}

fn format_named(name: &str) -> &'static str {
    match name {
        "BCRYPT_RSAPUBLIC_BLOB (RSA1)" => "rsa:BcryptRsa1",
        "DER PKCS#1 RSAPublicKey" => "rsa:Pkcs1Der",
        "DER SubjectPublicKeyInfo (X.509 SPKI)" => "rsa:SpkiDer",
        "PCP_KEY_BLOB (PCPM magic)" => "rsa:TpmPcp",
        "FIDO JSON (UTF-8)" => "fido",
        "unknown" => "unknown",
        other => panic!("unknown key material format {other}"),
    }
}

fn format_of(material: &KeyMaterial) -> &'static str {
    match material {
        KeyMaterial::Rsa {
            format: RsaKeyFormat::BcryptRsa1,
            ..
        } => "rsa:BcryptRsa1",
        KeyMaterial::Rsa {
            format: RsaKeyFormat::Pkcs1Der,
            ..
        } => "rsa:Pkcs1Der",
        KeyMaterial::Rsa {
            format: RsaKeyFormat::SpkiDer,
            ..
        } => "rsa:SpkiDer",
        KeyMaterial::Rsa {
            format: RsaKeyFormat::TpmPcp,
            ..
        } => "rsa:TpmPcp",
        KeyMaterial::Spki(_) => "spki",
        KeyMaterial::TpmPcp(_) => "pcp",
        KeyMaterial::Fido(_) => "fido",
        KeyMaterial::Unknown(_) => "unknown",
    }
}

/// (identifier, length) of every entry, from the parsed fields.
fn entries_of(c: &KeyCredential) -> Vec<(u8, usize)> {
    let mut entries = vec![
        (1, c.key_id().len()),
        (2, 32),
        (3, c.key_material().as_bytes().len()),
        (4, 1),
    ];
    let optional = [
        (5, c.key_source().map(|_| 1)),
        (6, c.device_id().map(|_| 16)),
        (7, c.custom_key_information().map(|i| i.as_bytes().len())),
        (8, c.last_logon_raw().map(|_| 8)),
        (9, c.creation_time_raw().map(|_| 8)),
    ];
    entries.extend(
        optional
            .into_iter()
            .filter_map(|(id, len)| len.map(|len| (id, len))),
    );
    entries
}

/// Applies one of Samba's reject cases, described in words in vectors.toml.
fn apply_reject_case(blob: &[u8], case: &str) -> Vec<u8> {
    let mut out = blob.to_vec();
    if let Some(rest) = case.strip_prefix("bytes 0..3 replaced by b'") {
        out[..4].copy_from_slice(&rest.as_bytes()[..4]);
    } else if let Some(rest) = case.strip_prefix("binary truncated to ") {
        out.truncate(rest.split(' ').next().unwrap().parse().unwrap());
    } else if let Some((count, rest)) = case.split_once(" bytes of 0x") {
        let byte = u8::from_str_radix(&rest[..2], 16).unwrap();
        assert!(rest.ends_with(" appended"), "{case}");
        out.extend(std::iter::repeat_n(byte, count.parse().unwrap()));
    } else {
        panic!("no interpreter for reject case {case:?}");
    }
    out
}

impl Vector {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(format!("{}: {}", self.name, what()));
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, key: &str, actual: T, expected: T) {
        self.check(actual == expected, || {
            format!("{key}: got {actual:?}, expected {expected:?}")
        });
    }

    fn time(&self, key: &str) -> Option<KeyTime> {
        if key.starts_with("last_logon") || key.starts_with("key_approximate_last_logon") {
            self.credential.last_logon()
        } else {
            self.credential.creation_time()
        }
    }

    fn raw_time(&self, key: &str) -> Option<u64> {
        if key.starts_with("last_logon") {
            self.credential.last_logon_raw()
        } else {
            self.credential.creation_time_raw()
        }
    }

    fn rsa(&self) -> RsaPublicKey {
        self.credential
            .rsa_public_key()
            .cloned()
            .unwrap_or_else(|| panic!("{}: no RSA key", self.name))
    }

    fn fido_json(&self) -> String {
        let KeyMaterial::Fido(raw) = self.credential.key_material() else {
            panic!("{}: material is not FIDO JSON", self.name)
        };
        String::from_utf8(raw.clone()).unwrap()
    }

    fn cki(&self) -> &kdc_directory::keycredlink::CustomKeyInformation {
        self.credential
            .custom_key_information()
            .unwrap_or_else(|| panic!("{}: no CKI", self.name))
    }

    #[allow(clippy::too_many_lines)]
    fn check_key(&mut self, key: &str, value: &Value) {
        let c = self.credential.clone();
        let material = c.key_material().as_bytes().to_vec();
        match key {
            _ if DESCRIPTIVE.contains(&key) => {}
            "version" => self.eq(
                key,
                i128::from(u32::from_le_bytes(self.blob[..4].try_into().unwrap())),
                int(value),
            ),
            "blob_length" => self.eq(key, self.blob.len() as i128, int(value)),
            "round_trip" => self.check(c.to_blob() == self.blob, || {
                "to_blob(parse(blob)) != blob".into()
            }),
            "entries_sorted_by_identifier" => self.eq(key, true, value.as_bool().unwrap()),
            "entries" => {
                let expected: Vec<(u8, usize)> = value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let (_, rest) = text(e).split_once("(0x").unwrap();
                        let (id, len) = rest.split_once("):").unwrap();
                        (u8::from_str_radix(id, 16).unwrap(), len.parse().unwrap())
                    })
                    .collect();
                self.eq(key, entries_of(&c), expected);
            }
            "entry_count" => self.eq(key, entries_of(&c).len() as i128, int(value)),
            "key_usage" => self.eq(key, c.key_usage(), usage_named(text(value))),
            "key_usage_value" | "key_usage_byte" => {
                self.eq(key, i128::from(u8::from(c.key_usage())), int(value))
            }
            "key_source" => self.eq(key, c.key_source(), Some(source_named(text(value)))),
            "key_source_value" | "key_source_byte" => self.eq(
                key,
                c.key_source().map(|s| i128::from(u8::from(s))),
                Some(int(value)),
            ),
            "key_id_base64" => {
                let expected = base64::engine::general_purpose::STANDARD
                    .decode(text(value))
                    .unwrap();
                self.eq(key, c.key_id().to_vec(), expected);
            }
            "key_id_hex" => self.eq(key, hex::encode(c.key_id()), text(value).to_lowercase()),
            "key_id_fingerprint" => self.eq(
                key,
                hex::encode(c.key_id()),
                text(value).replace(':', "").to_lowercase(),
            ),
            "key_hash_hex" => self.eq(key, hex::encode(c.key_hash()), text(value).to_lowercase()),
            "sha256_key_material" => self.eq(
                key,
                hex::encode(Sha256::digest(&material)),
                text(value).to_string(),
            ),
            "sha256_entries_after_key_hash" => {
                let offset = 4 + 3 + c.key_id().len() + 3 + 32;
                self.eq(
                    key,
                    hex::encode(Sha256::digest(&self.blob[offset..])),
                    text(value).to_string(),
                );
            }
            "check_key_id_eq_sha256_key_material" => {
                self.eq(key, c.key_id_matches_material(), value.as_bool().unwrap())
            }
            "check_key_hash_eq_sha256_following_entries" => {
                self.eq(key, c.key_hash_matches(), value.as_bool().unwrap())
            }
            "key_hash_eq_sha256_of_key_id_value" => self.eq(
                key,
                Sha256::digest(c.key_id()).as_slice() == c.key_hash(),
                value.as_bool().unwrap(),
            ),
            "key_material_length" => self.eq(key, material.len() as i128, int(value)),
            "key_material_format" => {
                self.eq(key, format_of(c.key_material()), format_named(text(value)))
            }
            "rsa_public_key_present" => {
                self.eq(key, c.rsa_public_key().is_some(), value.as_bool().unwrap())
            }
            "rsa_modulus_bits" | "rsa_key_size_bits" => {
                self.eq(key, self.rsa().modulus_bits() as i128, int(value))
            }
            "rsa_modulus_length_bytes" => {
                self.eq(key, self.rsa().modulus().len() as i128, int(value))
            }
            "rsa_exponent" => {
                let e = self
                    .rsa()
                    .exponent()
                    .iter()
                    .fold(0i128, |acc, &b| acc * 256 + i128::from(b));
                self.eq(key, e, int(value));
            }
            "rsa_modulus_decimal" => {
                self.eq(key, decimal(self.rsa().modulus()), text(value).to_string())
            }
            "roca_fingerprint" => self.eq(
                key,
                self.rsa().has_roca_fingerprint(),
                value.as_bool().unwrap(),
            ),
            "bcrypt_bitlength_field" | "bcrypt_cbPublicExp" | "bcrypt_cbModulus" => {
                let index = match key {
                    "bcrypt_bitlength_field" => 1,
                    "bcrypt_cbPublicExp" => 2,
                    _ => 3,
                };
                let field =
                    u32::from_le_bytes(material[index * 4..index * 4 + 4].try_into().unwrap());
                self.eq(key, i128::from(field), int(value));
                let rsa = self.rsa();
                let parsed = [
                    0,
                    rsa.modulus_bits(),
                    rsa.exponent().len(),
                    rsa.modulus().len(),
                ][index];
                self.eq(key, parsed as i128, int(value));
            }
            "pcp_header_length" | "pcp_type" => {
                let index = if key == "pcp_header_length" { 1 } else { 2 };
                let field =
                    u32::from_le_bytes(material[index * 4..index * 4 + 4].try_into().unwrap());
                self.eq(key, i128::from(field), int(value));
            }
            "device_id" if text(value) == "not found" => self.eq(key, c.device_id(), None),
            "device_id" | "device_id_guid_mixed_endian" => {
                self.eq(
                    key,
                    c.device_id().map(|g| g.to_string()),
                    Some(text(value).to_string()),
                );
                self.eq(
                    key,
                    c.device_id(),
                    Some(text(value).parse::<Guid>().unwrap()),
                );
            }
            "device_id_raw_hex" => self.eq(
                key,
                c.device_id().map(|g| hex::encode(g.as_bytes())),
                Some(text(value).into()),
            ),
            "custom_key_information_present" => self.eq(
                key,
                c.custom_key_information().is_some(),
                value.as_bool().unwrap(),
            ),
            "custom_key_information_flags" => self.eq(
                key,
                i128::from(self.cki().flags().unwrap().0),
                cki_value_named(text(value)),
            ),
            "custom_key_information_flags_value" => {
                self.eq(key, i128::from(self.cki().flags().unwrap().0), int(value))
            }
            "custom_key_information_flags_has" => {
                let flags = self.cki().flags().unwrap();
                assert_eq!(
                    text(value),
                    "MFANotUsed",
                    "{}: unexpected flag name",
                    self.name
                );
                self.eq(key, flags.mfa_not_used(), true);
            }
            "custom_key_information_supports_notification" => {
                self.eq(key, self.cki().supports_notification(), value.as_bool())
            }
            "custom_key_information_length" | "cki_length" => {
                self.eq(key, self.cki().as_bytes().len() as i128, int(value))
            }
            "cki_raw_hex" => self.eq(
                key,
                hex::encode(self.cki().as_bytes()),
                text(value).to_string(),
            ),
            "cki_version" => self.eq(key, i128::from(self.cki().version()), int(value)),
            "cki_flags" if value.is_str() => self.eq(
                key,
                i128::from(self.cki().flags().unwrap().0),
                cki_value_named(text(value)),
            ),
            "cki_flags" | "cki_flags_value" => self.eq(
                key,
                self.cki().flags().map(|f| i128::from(f.0)),
                Some(int(value)),
            ),
            "cki_vol_type" => self.eq(
                key,
                self.cki().volume_type().map(i128::from),
                Some(cki_value_named(text(value))),
            ),
            "cki_vol_type_value" | "cki_volType" => self.eq(
                key,
                self.cki().volume_type().map(i128::from),
                Some(int(value)),
            ),
            "cki_supports_notification" | "cki_supportsNotification" => self.eq(
                key,
                self.cki().supports_notification(),
                Some(int(value) != 0),
            ),
            "cki_fek_key_version" | "cki_fekKeyVersion" => self.eq(
                key,
                self.cki().fek_key_version().map(i128::from),
                Some(int(value)),
            ),
            "cki_key_strength" => self.eq(
                key,
                self.cki().key_strength().map(i128::from),
                Some(cki_value_named(text(value))),
            ),
            "cki_key_strength_value" | "cki_keyStrength" => self.eq(
                key,
                self.cki().key_strength().map(i128::from),
                Some(int(value)),
            ),
            "cki_reserved" | "cki_reserved_hex" => {
                self.eq(key, hex::encode(self.cki().reserved()), text(value).into())
            }
            "cki_encodedExtendedCKI" => self.eq(
                key,
                hex::encode(self.cki().encoded_extended()),
                text(value).into(),
            ),
            "cki_extended" => {
                let items: Vec<String> = (self.cki().extended_items().unwrap().iter())
                    .map(|i| {
                        format!(
                            "version {}, size {}, data {}",
                            i.version,
                            i.data.len(),
                            hex::encode(i.data)
                        )
                    })
                    .collect();
                let expected: Vec<String> = value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| text(v).to_string())
                    .collect();
                self.eq(key, items, expected);
            }
            "creation_time_filetime_input"
            | "last_logon_nttime"
            | "creation_nttime"
            | "last_logon_int64"
            | "creation_time_int64" => {
                let raw = if key.starts_with("last_logon") {
                    c.last_logon_raw()
                } else {
                    c.creation_time_raw()
                };
                self.eq(key, raw.map(i128::from), Some(int(value)));
            }
            "last_logon_raw_hex" | "creation_time_raw_hex" => self.eq(
                key,
                self.raw_time(key).map(|t| hex::encode(t.to_le_bytes())),
                Some(text(value).into()),
            ),
            "last_logon_equals_creation_time" => self.eq(
                key,
                c.last_logon_raw() == c.creation_time_raw(),
                value.as_bool().unwrap(),
            ),
            "last_logon_filetime_utc" | "creation_time_filetime_utc" => {
                self.check(matches!(c.key_source(), None | Some(KeySource::Ad)), || {
                    format!("{key} on a non-AD key")
                });
                self.eq(
                    key,
                    self.time(key).map(|t| t.to_string()),
                    Some(four_digit_year(text(value))),
                );
            }
            "last_logon_dotnet_tobinary_utc" | "creation_time_dotnet_tobinary_utc" => {
                self.eq(key, c.key_source(), Some(KeySource::AzureAd));
                self.eq(
                    key,
                    self.time(key).map(|t| t.to_string()),
                    Some(four_digit_year(text(value))),
                );
            }
            "last_logon_dotnet_kind" | "creation_time_dotnet_kind" => self.eq(
                key,
                self.raw_time(key).map(|t| i128::from(t >> 62)),
                Some(int(value)),
            ),
            "creation_time_utc" => self.eq(
                key,
                self.time(key).map(|t| t.to_string()),
                Some(text(value).into()),
            ),
            "creation_time_year" => {
                let year = self
                    .time(key)
                    .map(|t| t.to_string()[..4].parse::<i128>().unwrap());
                self.eq(key, year, Some(int(value)));
            }
            "key_approximate_last_logon_time" | "key_creation_time" => {
                let seconds = self.time(key).map(|t| t.unix_seconds());
                self.eq(key, seconds, Some(unix_seconds_of_offset_time(text(value))));
            }
            "key_approximate_last_logon" if text(value) == "not found" => {
                self.eq(key, c.last_logon_raw(), None)
            }
            "dnbinary_dn" => self.check_dn_binary(text(value)),
            "dnbinary_prefix" => {
                let link = KeyCredentialLink {
                    owner_dn: "DC=samba,DC=example,DC=com".into(),
                    credential: c.clone(),
                };
                let value_text = link.to_dn_binary();
                self.check(value_text.starts_with(text(value)), || {
                    format!("{key}: {value_text:.12}...")
                });
            }
            "reject_if_byte_replaced_by_0x2A_at"
            | "parses_but_key_invalid_if_byte_replaced_by_0x2A_at" => {
                for offset in value.as_array().unwrap().iter().map(|o| int(o) as usize) {
                    let mut poked = self.blob.clone();
                    poked[offset] = 0x2A;
                    let result = KeyCredential::parse(&poked);
                    if key.starts_with("reject") {
                        self.check(result.is_err(), || format!("{key}: offset {offset} parsed"));
                    } else {
                        let usable = result.as_ref().map(|c| c.rsa_public_key().is_some());
                        self.check(usable == Ok(false), || {
                            format!("{key}: offset {offset} gave {usable:?}")
                        });
                    }
                }
            }
            "reject_cases" => {
                for case in value.as_array().unwrap().iter().map(text) {
                    let result = KeyCredential::parse(&apply_reject_case(&self.blob, case));
                    self.check(result.is_err(), || format!("{key}: {case:?} parsed"));
                    if case.contains("bad version 0x34333231") {
                        self.eq(
                            key,
                            result.err(),
                            Some(KeyCredentialError::UnsupportedVersion(0x3433_3231)),
                        );
                    }
                }
            }
            _ if key.starts_with("fido_")
                || key.starts_with("ec_")
                || key == "check_key_id_eq_fido_credential_id" =>
            {
                self.check_fido(key, value)
            }
            _ => self
                .failures
                .push(format!("{}: no checker for key {key:?}", self.name)),
        }
    }

    fn check_fido(&mut self, key: &str, value: &Value) {
        let json = self.fido_json();
        let auth = AuthenticatorData::from_fido_json(&json);
        match key {
            "fido_display_name" => self.eq(
                key,
                json_string(&json, "displayName"),
                Some(text(value).into()),
            ),
            "fido_json_version" => self.eq(
                key,
                json_number(&json, "version").map(i128::from),
                Some(int(value)),
            ),
            "fido_x5c_count" => self.eq(
                key,
                json_string_array_len(&json, "x5c").map(|n| n as i128),
                Some(int(value)),
            ),
            "fido_rp_id_hash" => self.eq(key, hex::encode(&auth.rp_id_hash), text(value).into()),
            "fido_authdata_flags" => self.eq(key, i128::from(auth.flags), int(value)),
            "fido_authenticator_flags" => {
                let expected = text(value).split('|').fold(0u8, |acc, name| {
                    acc | match name {
                        "UserPresent" => FLAG_USER_PRESENT,
                        "UserVerified" => FLAG_USER_VERIFIED,
                        "AttestationData" => FLAG_ATTESTED_CREDENTIAL_DATA,
                        "ExtensionData" => FLAG_EXTENSION_DATA,
                        other => panic!("unknown authenticator flag {other}"),
                    }
                });
                self.eq(key, auth.flags, expected);
            }
            "fido_signature_count" | "fido_sign_count" => {
                self.eq(key, i128::from(auth.sign_count), int(value))
            }
            "fido_aaguid" => self.eq(key, uuid_be(&auth.aaguid), text(value).into()),
            "fido_credential_id" => self.eq(
                key,
                hex::encode_upper(&auth.credential_id),
                text(value).into(),
            ),
            "check_key_id_eq_fido_credential_id" => self.eq(
                key,
                auth.credential_id == self.credential.key_id(),
                value.as_bool().unwrap(),
            ),
            "fido_extensions" => self.eq(
                key,
                auth.extensions.as_ref().map(cbor_to_json),
                Some(text(value).into()),
            ),
            // COSE EC2 key (RFC 9053 7.1): kty 1 = 2 (EC2), crv -1 = 1 (P-256), x -2, y -3.
            "ec_curve" => {
                assert_eq!(text(value), "nistP256");
                self.eq(key, auth.cose_param(1).cloned(), Some(Cbor::Int(2)));
                self.eq(key, auth.cose_param(-1).cloned(), Some(Cbor::Int(1)));
            }
            "ec_x" | "ec_y" => {
                let label = if key == "ec_x" { -2 } else { -3 };
                let expected = Cbor::Bytes(hex::decode(text(value)).unwrap());
                self.eq(key, auth.cose_param(label).cloned(), Some(expected));
            }
            _ => self
                .failures
                .push(format!("{}: no checker for key {key:?}", self.name)),
        }
    }

    fn check_dn_binary(&mut self, dn: &str) {
        let Some(file) = self.dnbinary_file.clone() else {
            return self
                .failures
                .push(format!("{}: dnbinary_dn without dnbinary_file", self.name));
        };
        let value_text = std::fs::read_to_string(testdata_dir().join(file)).unwrap();
        let value_text = value_text.trim_end_matches(['\r', '\n']);
        let parsed = DnBinary::parse(value_text).unwrap();
        self.eq("dnbinary_dn", parsed.dn.as_str(), dn);
        self.eq("dnbinary binary", parsed.binary.clone(), self.blob.clone());
        self.eq(
            "dnbinary display",
            parsed.to_string(),
            value_text.to_string(),
        );
        let lower = DnBinary::parse(&value_text.to_lowercase().replacen("b:", "B:", 1)).unwrap();
        self.eq("dnbinary lower-case hex", lower.binary, self.blob.clone());
        let link = KeyCredentialLink::parse(value_text).unwrap();
        self.eq("dnbinary link", link.to_dn_binary(), value_text.to_string());
    }
}

#[test]
fn every_vector_matches_every_stated_field() {
    let vectors = load_vectors();
    assert!(vectors.len() >= 20, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for table in &vectors {
        let name = table["name"].as_str().unwrap().to_string();
        let blob = read_hex(table["hex_file"].as_str().unwrap());
        let credential = KeyCredential::parse(&blob).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut vector = Vector {
            name,
            blob,
            credential,
            dnbinary_file: table
                .get("dnbinary_file")
                .and_then(Value::as_str)
                .map(str::to_string),
            failures: Vec::new(),
        };
        for section in ["expected", "computed"] {
            for (key, value) in table[section].as_table().unwrap() {
                vector.check_key(key, value);
            }
        }
        failures.append(&mut vector.failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
