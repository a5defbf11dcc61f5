//! Tests for octetstring2key (RFC 4556 Appendix B) and the RFC 8636 KDFs (RFC 8636 §8).

use rasn::types::{GeneralString, Oid};
use rasn_kerberos::PrincipalName;

use crate::preauth::pkinit::agreement::other_info::{ExchangeInfo, Party, other_info_der};
use crate::preauth::pkinit::agreement::{AgreementError, PkinitKdf, octetstring2key, rfc8636_kdf};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// RFC 4556 Appendix B, sets 1 to 4: x and the first 32 octets of k-truncate(). The text is
// quoted in Apache Kerby's OctetString2KeyTest.java; sets 1 and 2 also appear in MIT- and
// Go-based PKINIT test suites.
#[test]
fn octetstring2key_rfc4556_appendix_b() {
    let counting: Vec<u8> = (0u8..=0x10).cycle().take(128).collect();
    let sets: [(&[u8], &str); 4] = [
        (
            &[0u8; 256],
            "5ee50d675c809fe59e4a7762c54b65837547eafb159bd8cdc75ffca5911e4c41",
        ),
        (
            &[0u8; 128],
            "acf7707c08973ddfdb27cd361442ccfba355c8884cb472f37da636d07d56787e",
        ),
        (
            &counting,
            "c442da585fcb80e43b47946f254093e37329d99001380db78371db3acf5c797e",
        ),
        (
            &counting[..77],
            "0053953b84c896f4eb385c3f2e751c4a590ed6ffadca6ff64f47ebeb8d780ffc",
        ),
    ];
    for (x, expected) in sets {
        let key = octetstring2key(x, None, None, 32);
        assert_eq!(hex::encode(key.as_slice()), expected);
    }
}

#[test]
fn octetstring2key_appends_the_nonces_and_truncates() {
    let shared = [0x5Au8; 128];
    let (n_c, n_k) = ([0x01u8; 32], [0x02u8; 32]);
    let concatenated = [&shared[..], &n_c, &n_k].concat();
    let with_nonces = octetstring2key(&shared, Some(&n_c), Some(&n_k), 32);
    assert_eq!(
        with_nonces.as_slice(),
        octetstring2key(&concatenated, None, None, 32).as_slice()
    );
    assert_ne!(
        with_nonces.as_slice(),
        octetstring2key(&shared, None, None, 32).as_slice()
    );
    // An AES-128 key is the first 16 octets of the same stream.
    let short = octetstring2key(&shared, Some(&n_c), Some(&n_k), 16);
    assert_eq!(short.as_slice(), &with_nonces[..16]);
    assert!(octetstring2key(&shared, None, None, 0).is_empty());
}

#[test]
fn kdf_oids() {
    let expected: [(PkinitKdf, &[u32]); 3] = [
        (PkinitKdf::Sha1, &[1, 3, 6, 1, 5, 2, 3, 6, 1]),
        (PkinitKdf::Sha256, &[1, 3, 6, 1, 5, 2, 3, 6, 2]),
        (PkinitKdf::Sha512, &[1, 3, 6, 1, 5, 2, 3, 6, 3]),
    ];
    for (kdf, arcs) in expected {
        let oid = Oid::new(arcs).unwrap();
        assert_eq!(kdf.oid(), oid);
        assert_eq!(PkinitKdf::from_oid(oid), Some(kdf));
    }
    let unknown = Oid::new(&[1, 3, 6, 1, 5, 2, 3, 6, 4]).unwrap();
    assert_eq!(PkinitKdf::from_oid(unknown), None);
}

// RFC 8636 §8 test vectors: ZZ is 256 zero octets, the client is lha@SU.SE and the KDC
// krbtgt/SU.SE@SU.SE (both NT-PRINCIPAL), the AS-REQ is ten 0xAA octets and the PK-AS-REP
// nine 0xBB octets. The keys are as MIT krb5's pkinit_kdf_test.c checks them; OpenSSL's
// evpkdf_ss.txt carries the same vectors with the DER OtherInfo written out.
const ZZ: [u8; 256] = [0; 256];
const AS_REQ: [u8; 10] = [0xAA; 10];
const PK_AS_REP: [u8; 9] = [0xBB; 9];
const ENCTYPE_AES256_CTS_HMAC_SHA1_96: i32 = 18;
const ENCTYPE_DES3_CBC_SHA1_KD: i32 = 16;

fn principal(components: &[&str]) -> PrincipalName {
    PrincipalName {
        r#type: 1,
        string: components
            .iter()
            .map(|c| GeneralString::from_bytes(c.as_bytes()).unwrap())
            .collect(),
    }
}

fn vector_key(kdf: PkinitKdf, enctype: i32, key_len: usize) -> Vec<u8> {
    let key = rfc8636_kdf(
        kdf,
        &ZZ,
        "SU.SE",
        &principal(&["lha"]),
        "SU.SE",
        &principal(&["krbtgt", "SU.SE"]),
        enctype,
        &AS_REQ,
        &PK_AS_REP,
        key_len,
    )
    .unwrap();
    key.to_vec()
}

#[test]
fn rfc8636_other_info_der() {
    // OpenSSL evpkdf_ss.txt, "SSKDF Test vectors from RFC 8636 Section 8", SHA-1 case.
    let expected = concat!(
        "307e300a06082b06010502030601a01f041d301ba0071b0553552e5345a110300e",
        "a003020101a10730051b036c6861a12904273025a0071b0553552e5345a11a3018",
        "a003020101a111300f1b066b72627467741b0553552e5345a22404223020a00302",
        "0112a10c040aaaaaaaaaaaaaaaaaaaaaa20b0409bbbbbbbbbbbbbbbbbb",
    );
    let (client, kdc) = (principal(&["lha"]), principal(&["krbtgt", "SU.SE"]));
    let der = other_info_der(
        PkinitKdf::Sha1.oid(),
        &Party {
            realm: "SU.SE",
            name: &client,
        },
        &Party {
            realm: "SU.SE",
            name: &kdc,
        },
        &ExchangeInfo {
            enctype: ENCTYPE_AES256_CTS_HMAC_SHA1_96,
            as_req_der: &AS_REQ,
            pk_as_rep_der: &PK_AS_REP,
        },
    )
    .unwrap();
    assert_eq!(hex::encode(der), expected);
}

#[test]
fn rfc8636_sha1_vector() {
    let key = vector_key(PkinitKdf::Sha1, ENCTYPE_AES256_CTS_HMAC_SHA1_96, 32);
    assert_eq!(
        key,
        unhex("e6ab38c9413e035bb079201ed0b6b73d8d49a814a737c04ee6649614206f73ad")
    );
}

#[test]
fn rfc8636_sha256_vector() {
    let key = vector_key(PkinitKdf::Sha256, ENCTYPE_AES256_CTS_HMAC_SHA1_96, 32);
    assert_eq!(
        key,
        unhex("77ef4e48c420ae3fec75109d7981697eed5d295c90c62564f7bfd101fa9bc1d5")
    );
}

/// des3-cbc-sha1-kd random-to-key (RFC 3961 §6.3.1): each 7 octets become 8, the eighth
/// made of the low bits of the seven, then every octet gets odd parity in its low bit.
fn des3_random_to_key(random: &[u8]) -> Vec<u8> {
    let with_parity =
        |byte: u8| (byte & 0xFE) | u8::from((byte & 0xFE).count_ones().is_multiple_of(2));
    random
        .chunks(7)
        .flat_map(|chunk| {
            let low_bits = chunk
                .iter()
                .enumerate()
                .fold(0u8, |acc, (i, b)| acc | ((b & 1) << (i + 1)));
            chunk
                .iter()
                .copied()
                .chain([low_bits])
                .map(with_parity)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn rfc8636_sha512_vector() {
    // The vector's enctype is des3-cbc-sha1-kd: 168 random bits, published after its
    // random-to-key as a 24-octet key.
    let random = vector_key(PkinitKdf::Sha512, ENCTYPE_DES3_CBC_SHA1_KD, 21);
    assert_eq!(
        des3_random_to_key(&random),
        unhex("d3c78a79d65213efe9a826f75dfb01f72362fb16fb01dad6")
    );
}

#[test]
fn rfc8636_kdf_refuses_a_realm_outside_general_string() {
    let result = rfc8636_kdf(
        PkinitKdf::Sha256,
        &ZZ,
        "SU.SE\u{263A}",
        &principal(&["lha"]),
        "SU.SE",
        &principal(&["krbtgt", "SU.SE"]),
        ENCTYPE_AES256_CTS_HMAC_SHA1_96,
        &AS_REQ,
        &PK_AS_REP,
        32,
    );
    assert!(matches!(result, Err(AgreementError::Encoding { .. })));
}
