//! Known-answer tests from RFC 3962 Appendix B: PBKDF2 + DK string-to-key for both key
//! sizes and AES-CBC-CTS with the key "chicken teriyaki".

use crate::crypto::cts::{self, AesKey};
use crate::crypto::{Enctype, Key};

/// Hex as the RFC prints it: in groups, over several lines.
fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

struct StringToKey {
    iterations: u32,
    password: &'static [u8],
    salt: &'static [u8],
    aes128: &'static str,
    aes256: &'static str,
}

const STRING_TO_KEY: [StringToKey; 7] = [
    StringToKey {
        iterations: 1,
        password: b"password",
        salt: b"ATHENA.MIT.EDUraeburn",
        aes128: "42 26 3c 6e 89 f4 fc 28 b8 df 68 ee 09 79 9f 15",
        aes256: "fe 69 7b 52 bc 0d 3c e1 44 32 ba 03 6a 92 e6 5b
                 bb 52 28 09 90 a2 fa 27 88 39 98 d7 2a f3 01 61",
    },
    StringToKey {
        iterations: 2,
        password: b"password",
        salt: b"ATHENA.MIT.EDUraeburn",
        aes128: "c6 51 bf 29 e2 30 0a c2 7f a4 69 d6 93 bd da 13",
        aes256: "a2 e1 6d 16 b3 60 69 c1 35 d5 e9 d2 e2 5f 89 61
                 02 68 56 18 b9 59 14 b4 67 c6 76 22 22 58 24 ff",
    },
    StringToKey {
        iterations: 1200,
        password: b"password",
        salt: b"ATHENA.MIT.EDUraeburn",
        aes128: "4c 01 cd 46 d6 32 d0 1e 6d be 23 0a 01 ed 64 2a",
        aes256: "55 a6 ac 74 0a d1 7b 48 46 94 10 51 e1 e8 b0 a7
                 54 8d 93 b0 ab 30 a8 bc 3f f1 62 80 38 2b 8c 2a",
    },
    StringToKey {
        iterations: 5,
        password: b"password",
        salt: &[0x12, 0x34, 0x56, 0x78, 0x78, 0x56, 0x34, 0x12],
        aes128: "e9 b2 3d 52 27 37 47 dd 5c 35 cb 55 be 61 9d 8e",
        aes256: "97 a4 e7 86 be 20 d8 1a 38 2d 5e bc 96 d5 90 9c
                 ab cd ad c8 7c a4 8f 57 45 04 15 9f 16 c3 6e 31",
    },
    StringToKey {
        iterations: 1200,
        password: b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        salt: b"pass phrase equals block size",
        aes128: "59 d1 bb 78 9a 82 8b 1a a5 4e f9 c2 88 3f 69 ed",
        aes256: "89 ad ee 36 08 db 8b c7 1f 1b fb fe 45 94 86 b0
                 56 18 b7 0c ba e2 20 92 53 4e 56 c5 53 ba 4b 34",
    },
    StringToKey {
        iterations: 1200,
        password: b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        salt: b"pass phrase exceeds block size",
        aes128: "cb 80 05 dc 5f 90 17 9a 7f 02 10 4c 00 18 75 1d",
        aes256: "d7 8c 5c 9c b8 72 a8 c9 da d4 69 7f 0b b5 b2 d2
                 14 96 c8 2b eb 2c ae da 21 12 fc ee a0 57 40 1b",
    },
    StringToKey {
        iterations: 50,
        // U+1D11E MUSICAL SYMBOL G CLEF in UTF-8.
        password: &[0xf0, 0x9d, 0x84, 0x9e],
        salt: b"EXAMPLE.COMpianist",
        aes128: "f1 49 c1 f2 e1 54 a7 34 52 d4 3e 7f e6 2a 56 e5",
        aes256: "4b 6d 98 39 f8 44 06 df 1f 09 cc 16 6d b4 b8 3c
                 57 18 48 b7 84 a3 d6 bd c3 46 58 9a 3e 39 3f 9e",
    },
];

#[test]
fn appendix_b_string_to_key() {
    for v in &STRING_TO_KEY {
        for (enctype, expected) in [
            (Enctype::Aes128CtsHmacSha196, v.aes128),
            (Enctype::Aes256CtsHmacSha196, v.aes256),
        ] {
            let key = Key::from_string(enctype, v.password, v.salt, v.iterations).unwrap();
            assert_eq!(
                hex::encode(key.as_bytes()),
                hex::encode(unhex(expected)),
                "{enctype}, {} iterations, salt {:?}",
                v.iterations,
                String::from_utf8_lossy(v.salt)
            );
        }
    }
}

#[test]
fn long_passphrases_have_the_rfc_lengths() {
    assert_eq!(STRING_TO_KEY[4].password.len(), 64);
    assert_eq!(STRING_TO_KEY[5].password.len(), 65);
    assert!(
        STRING_TO_KEY[4..6]
            .iter()
            .all(|v| v.password.iter().all(|&c| c == b'X'))
    );
}

/// The CTS vectors encrypt prefixes of one sentence; its bytes as printed in the RFC.
const CTS_INPUT: &str = "49 20 77 6f 75 6c 64 20 6c 69 6b 65 20 74 68 65
                         20 47 65 6e 65 72 61 6c 20 47 61 75 27 73 20 43
                         68 69 63 6b 65 6e 2c 20 70 6c 65 61 73 65 2c 20
                         61 6e 64 20 77 6f 6e 74 6f 6e 20 73 6f 75 70 2e";

const CTS_VECTORS: [(usize, &str); 6] = [
    (17, "c6 35 35 68 f2 bf 8c b4 d8 a5 80 36 2d a7 ff 7f 97"),
    (
        31,
        "fc 00 78 3e 0e fd b2 c1 d4 45 d4 c8 ef f7 ed 22
         97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5",
    ),
    (
        32,
        "39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8
         97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84",
    ),
    (
        47,
        "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84
         b3 ff fd 94 0c 16 a1 8c 1b 55 49 d2 f8 38 02 9e
         39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5",
    ),
    (
        48,
        "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84
         9d ad 8b bb 96 c4 cd c0 3b c1 03 e1 a1 94 bb d8
         39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8",
    ),
    (
        64,
        "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84
         39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8
         48 07 ef e8 36 ee 89 a5 26 73 0d bc 2f 7b c8 40
         9d ad 8b bb 96 c4 cd c0 3b c1 03 e1 a1 94 bb d8",
    ),
];

#[test]
fn appendix_b_cbc_cts() {
    let key = AesKey::from_slice(
        Enctype::Aes128CtsHmacSha196,
        &unhex("63 68 69 63 6b 65 6e 20 74 65 72 69 79 61 6b 69"),
    )
    .unwrap();
    assert_eq!(key.as_bytes(), b"chicken teriyaki");
    let input = unhex(CTS_INPUT);
    assert_eq!(
        input,
        b"I would like the General Gau's Chicken, please, and wonton soup."
    );
    for (len, expected) in CTS_VECTORS {
        let expected = unhex(expected);
        assert_eq!(expected.len(), len);
        let plaintext = &input[..len];
        assert_eq!(
            hex::encode(cts::encrypt(&key, plaintext)),
            hex::encode(&expected),
            "{len} bytes"
        );
        assert_eq!(
            cts::decrypt(&key, &expected).unwrap().as_slice(),
            plaintext,
            "{len} bytes"
        );
    }
}

/// Exactly one block is plain AES (RFC 3962 §5): FIPS-197 Appendix C.1 / C.3.
#[test]
fn one_block_is_plain_aes() {
    let plaintext = unhex("00112233445566778899aabbccddeeff");
    let cases = [
        (
            Enctype::Aes128CtsHmacSha196,
            "000102030405060708090a0b0c0d0e0f",
            "69c4e0d86a7b0430d8cdb78070b4c55a",
        ),
        (
            Enctype::Aes256CtsHmacSha196,
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "8ea2b7ca516745bfeafc49904b496089",
        ),
    ];
    for (enctype, key, expected) in cases {
        let key = AesKey::from_slice(enctype, &unhex(key)).unwrap();
        assert_eq!(hex::encode(cts::encrypt(&key, &plaintext)), expected);
        assert_eq!(
            cts::decrypt(&key, &unhex(expected)).unwrap().as_slice(),
            plaintext
        );
    }
}
