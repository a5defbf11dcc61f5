//! Known-answer tests from RFC 8009 Appendix A for aes128-cts-hmac-sha256-128 and
//! aes256-cts-hmac-sha384-192: string-to-key, key derivation, encryption with the given
//! confounders, and checksums. All use key usage 2.

use crate::crypto::aes_sha2::{derive_ke, derive_mac_key};
use crate::crypto::cts::AesKey;
use crate::crypto::{Enctype, Key, Purpose};

const SHA256: Enctype = Enctype::Aes128CtsHmacSha256128;
const SHA384: Enctype = Enctype::Aes256CtsHmacSha384192;

/// Hex as the RFC prints it: in groups, over several lines.
fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

const BASE_128: &str = "37 05 D9 60 80 C1 77 28 A0 E8 00 EA B6 E0 D2 3C";
const BASE_256: &str = "6D 40 4D 37 FA F7 9F 9D F0 D3 35 68 D3 20 66 98
                        00 EB 48 36 47 2E A8 A0 26 D1 6B 71 82 46 0C 52";

#[test]
fn string_to_key() {
    // "random 16-byte valid UTF-8 sequence" | "ATHENA.MIT.EDUraeburn"
    let mut salt = unhex("10 DF 9D D7 83 E5 BC 8A CE A1 73 0E 74 35 5F 61");
    salt.extend_from_slice(b"ATHENA.MIT.EDUraeburn");
    let cases = [
        (SHA256, "08 9B CA 48 B1 05 EA 6E A7 7C A5 D2 F3 9D C5 E7"),
        (
            SHA384,
            "45 BD 80 6D BF 6A 83 3A 9C FF C1 C9 45 89 A2 22
             36 7A 79 BC 21 C4 13 71 89 06 E9 F5 78 A7 84 67",
        ),
    ];
    for (enctype, expected) in cases {
        assert_eq!(enctype.default_iterations(), 32768);
        let key = Key::from_string(enctype, b"password", &salt, 32768).unwrap();
        assert_eq!(
            hex::encode(key.as_bytes()),
            hex::encode(unhex(expected)),
            "{enctype}"
        );
    }
}

#[test]
fn key_derivation() {
    let cases = [
        (
            SHA256,
            BASE_128,
            "B3 1A 01 8A 48 F5 47 76 F4 03 E9 A3 96 32 5D C3",
            "9B 19 7D D1 E8 C5 60 9D 6E 67 C3 E3 7C 62 C7 2E",
            "9F DA 0E 56 AB 2D 85 E1 56 9A 68 86 96 C2 6A 6C",
        ),
        (
            SHA384,
            BASE_256,
            "EF 57 18 BE 86 CC 84 96 3D 8B BB 50 31 E9 F5 C4
             BA 41 F2 8F AF 69 E7 3D",
            "56 AB 22 BE E6 3D 82 D7 BC 52 27 F6 77 3F 8E A7
             A5 EB 1C 82 51 60 C3 83 12 98 0C 44 2E 5C 7E 49",
            "69 B1 65 14 E3 CD 8E 56 B8 20 10 D5 C7 30 12 B6
             22 C4 D0 0F FC 23 ED 1F",
        ),
    ];
    for (enctype, base, kc, ke, ki) in cases {
        let base = AesKey::from_slice(enctype, &unhex(base)).unwrap();
        let derived_kc = derive_mac_key(enctype, &base, 2, Purpose::Checksum);
        let derived_ke = derive_ke(enctype, &base, 2);
        let derived_ki = derive_mac_key(enctype, &base, 2, Purpose::Integrity);
        assert_eq!(
            hex::encode(derived_kc.as_slice()),
            hex::encode(unhex(kc)),
            "{enctype} Kc"
        );
        assert_eq!(
            hex::encode(derived_ke.as_bytes()),
            hex::encode(unhex(ke)),
            "{enctype} Ke"
        );
        assert_eq!(
            hex::encode(derived_ki.as_slice()),
            hex::encode(unhex(ki)),
            "{enctype} Ki"
        );
    }
}

struct Encryption {
    plaintext: &'static str,
    confounder: &'static str,
    /// AES output | truncated HMAC output.
    ciphertext: &'static str,
}

const EMPTY: &str = "";
const SHORT: &str = "00 01 02 03 04 05";
const ONE_BLOCK: &str = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F";
const LONG: &str = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14";

const ENCRYPTIONS_128: [Encryption; 4] = [
    Encryption {
        plaintext: EMPTY,
        confounder: "7E 58 95 EA F2 67 24 35 BA D8 17 F5 45 A3 71 48",
        ciphertext: "EF 85 FB 89 0B B8 47 2F 4D AB 20 39 4D CA 78 1D
                     AD 87 7E DA 39 D5 0C 87 0C 0D 5A 0A 8E 48 C7 18",
    },
    Encryption {
        plaintext: SHORT,
        confounder: "7B CA 28 5E 2F D4 13 0F B5 5B 1A 5C 83 BC 5B 24",
        ciphertext: "84 D7 F3 07 54 ED 98 7B AB 0B F3 50 6B EB 09 CF
                     B5 54 02 CE F7 E6 87 7C E9 9E 24 7E 52 D1 6E D4
                     42 1D FD F8 97 6C",
    },
    Encryption {
        plaintext: ONE_BLOCK,
        confounder: "56 AB 21 71 3F F6 2C 0A 14 57 20 0F 6F A9 94 8F",
        ciphertext: "35 17 D6 40 F5 0D DC 8A D3 62 87 22 B3 56 9D 2A
                     E0 74 93 FA 82 63 25 40 80 EA 65 C1 00 8E 8F C2
                     95 FB 48 52 E7 D8 3E 1E 7C 48 C3 7E EB E6 B0 D3",
    },
    Encryption {
        plaintext: LONG,
        confounder: "A7 A4 E2 9A 47 28 CE 10 66 4F B6 4E 49 AD 3F AC",
        ciphertext: "72 0F 73 B1 8D 98 59 CD 6C CB 43 46 11 5C D3 36
                     C7 0F 58 ED C0 C4 43 7C 55 73 54 4C 31 C8 13 BC
                     E1 E6 D0 72 C1 86 B3 9A 41 3C 2F 92 CA 9B 83 34
                     A2 87 FF CB FC",
    },
];

const ENCRYPTIONS_256: [Encryption; 4] = [
    Encryption {
        plaintext: EMPTY,
        confounder: "F7 64 E9 FA 15 C2 76 47 8B 2C 7D 0C 4E 5F 58 E4",
        ciphertext: "41 F5 3F A5 BF E7 02 6D 91 FA F9 BE 95 91 95 A0
                     58 70 72 73 A9 6A 40 F0 A0 19 60 62 1A C6 12 74
                     8B 9B BF BE 7E B4 CE 3C",
    },
    Encryption {
        plaintext: SHORT,
        confounder: "B8 0D 32 51 C1 F6 47 14 94 25 6F FE 71 2D 0B 9A",
        ciphertext: "4E D7 B3 7C 2B CA C8 F7 4F 23 C1 CF 07 E6 2B C7
                     B7 5F B3 F6 37 B9 F5 59 C7 F6 64 F6 9E AB 7B 60
                     92 23 75 26 EA 0D 1F 61 CB 20 D6 9D 10 F2",
    },
    Encryption {
        plaintext: ONE_BLOCK,
        confounder: "53 BF 8A 0D 10 52 65 D4 E2 76 42 86 24 CE 5E 63",
        ciphertext: "BC 47 FF EC 79 98 EB 91 E8 11 5C F8 D1 9D AC 4B
                     BB E2 E1 63 E8 7D D3 7F 49 BE CA 92 02 77 64 F6
                     8C F5 1F 14 D7 98 C2 27 3F 35 DF 57 4D 1F 93 2E
                     40 C4 FF 25 5B 36 A2 66",
    },
    Encryption {
        plaintext: LONG,
        confounder: "76 3E 65 36 7E 86 4F 02 F5 51 53 C7 E3 B5 8A F1",
        ciphertext: "40 01 3E 2D F5 8E 87 51 95 7D 28 78 BC D2 D6 FE
                     10 1C CF D5 56 CB 1E AE 79 DB 3C 3E E8 64 29 F2
                     B2 A6 02 AC 86 FE F6 EC B6 47 D6 29 5F AE 07 7A
                     1F EB 51 75 08 D2 C1 6B 41 92 E0 1F 62",
    },
];

#[test]
fn sample_encryptions() {
    for (enctype, base, vectors) in [
        (SHA256, BASE_128, &ENCRYPTIONS_128),
        (SHA384, BASE_256, &ENCRYPTIONS_256),
    ] {
        let key = Key::new(enctype, &unhex(base)).unwrap();
        for v in vectors {
            let plaintext = unhex(v.plaintext);
            let confounder: [u8; 16] = unhex(v.confounder).try_into().unwrap();
            let expected = unhex(v.ciphertext);
            assert_eq!(
                hex::encode(key.encrypt_with_confounder(2, &confounder, &plaintext)),
                hex::encode(&expected),
                "{enctype}, {} plaintext bytes",
                plaintext.len()
            );
            assert_eq!(key.decrypt(2, &expected).unwrap(), plaintext);
        }
    }
}

#[test]
fn sample_checksums() {
    let cases = [
        (
            SHA256,
            BASE_128,
            "D7 83 67 18 66 43 D6 7B 41 1C BA 91 39 FC 1D EE",
        ),
        (
            SHA384,
            BASE_256,
            "45 EE 79 15 67 EE FC A3 7F 4A C1 E0 22 2D E8 0D
             43 C3 BF A0 66 99 67 2A",
        ),
    ];
    let data = unhex(LONG);
    for (enctype, base, expected) in cases {
        let key = Key::new(enctype, &unhex(base)).unwrap();
        let expected = unhex(expected);
        assert_eq!(
            hex::encode(key.checksum(2, &data)),
            hex::encode(&expected),
            "{enctype}"
        );
        assert_eq!(key.verify_checksum(2, &data, &expected), Ok(()));
    }
}
