//! Test-only decoders for checking vector fields the library deliberately does not parse:
//! the WebAuthn authenticator data inside FIDO key material (WebAuthn Level 2 §6.1, COSE
//! keys per RFC 9052/9053 in CBOR per RFC 8949), big decimal numbers and dated strings.

#![allow(dead_code)]

pub mod sample;

use std::path::PathBuf;

use kdc_directory::{DirectoryError, EmbeddedDirectory};

pub fn testdata_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/keycredlink")
}

pub fn read_hex(file: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(testdata_dir().join(file)).unwrap();
    hex::decode(text.trim()).unwrap()
}

/// The decimal digits of a big-endian unsigned integer.
pub fn decimal(be: &[u8]) -> String {
    let mut digits = Vec::new();
    let mut number: Vec<u8> = be.to_vec();
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = remainder * 256 + u32::from(*byte);
            *byte = (value / 10) as u8;
            remainder = value % 10;
        }
        digits.push(char::from(b'0' + remainder as u8));
    }
    if digits.is_empty() {
        digits.push('0');
    }
    digits.iter().rev().collect()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of "YYYY-MM-DD HH:MM:SS +HHMM" (Ruby's Time#to_s).
pub fn unix_seconds_of_offset_time(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let local = days_from_civil(n(0..4), n(5..7), n(8..10)) * 86_400
        + n(11..13) * 3600
        + n(14..16) * 60
        + n(17..19);
    let sign = if &text[20..21] == "-" { -1 } else { 1 };
    local - sign * (n(21..23) * 3600 + n(23..25) * 60)
}

/// Pads the year of an RFC 3339 string to four digits ("1-01-01T..." -> "0001-01-01T...").
pub fn four_digit_year(text: &str) -> String {
    let (year, rest) = text.split_once('-').unwrap();
    format!("{:0>4}-{rest}", year)
}

/// The string value of `"key":"..."` in flat JSON (no escapes other than `\/`).
pub fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = start + json[start..].find('"')?;
    Some(json[start..end].replace("\\/", "/"))
}

pub fn json_number(json: &str, key: &str) -> Option<u64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Number of strings in the `"key":[...]` array.
pub fn json_string_array_len(json: &str, key: &str) -> Option<usize> {
    let start = json.find(&format!("\"{key}\":["))? + key.len() + 4;
    let end = start + json[start..].find(']')?;
    Some(json[start..end].matches('"').count() / 2)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cbor {
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
    Null,
}

/// Decodes one definite-length CBOR item; returns it and the bytes it used.
pub fn cbor(buf: &[u8]) -> (Cbor, usize) {
    let major = buf[0] >> 5;
    let info = buf[0] & 0x1F;
    let (arg, mut used) = match info {
        0..=23 => (u64::from(info), 1),
        24 => (u64::from(buf[1]), 2),
        25 => (u64::from(u16::from_be_bytes([buf[1], buf[2]])), 3),
        26 => (
            u64::from(u32::from_be_bytes(buf[1..5].try_into().unwrap())),
            5,
        ),
        27 => (u64::from_be_bytes(buf[1..9].try_into().unwrap()), 9),
        _ => panic!("indefinite or reserved CBOR length {info}"),
    };
    let len = arg as usize;
    let item = match major {
        0 => Cbor::Int(i128::from(arg)),
        1 => Cbor::Int(-1 - i128::from(arg)),
        2 => {
            used += len;
            Cbor::Bytes(buf[used - len..used].to_vec())
        }
        3 => {
            used += len;
            Cbor::Text(String::from_utf8(buf[used - len..used].to_vec()).unwrap())
        }
        4 => Cbor::Array(
            (0..len)
                .map(|_| {
                    let (item, n) = cbor(&buf[used..]);
                    used += n;
                    item
                })
                .collect(),
        ),
        5 => Cbor::Map(
            (0..len)
                .map(|_| {
                    let (key, n) = cbor(&buf[used..]);
                    used += n;
                    let (value, n) = cbor(&buf[used..]);
                    used += n;
                    (key, value)
                })
                .collect(),
        ),
        7 => match info {
            20 => Cbor::Bool(false),
            21 => Cbor::Bool(true),
            22 => Cbor::Null,
            _ => panic!("unsupported CBOR simple value {info}"),
        },
        _ => panic!("unsupported CBOR major type {major}"),
    };
    (item, used)
}

/// WebAuthn authenticator data with attested credential data.
#[derive(Debug)]
pub struct AuthenticatorData {
    pub rp_id_hash: Vec<u8>,
    pub flags: u8,
    pub sign_count: u32,
    pub aaguid: Vec<u8>,
    pub credential_id: Vec<u8>,
    pub cose_key: Cbor,
    pub extensions: Option<Cbor>,
}

pub const FLAG_USER_PRESENT: u8 = 0x01;
pub const FLAG_USER_VERIFIED: u8 = 0x04;
pub const FLAG_ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
pub const FLAG_EXTENSION_DATA: u8 = 0x80;

impl AuthenticatorData {
    pub fn parse(ad: &[u8]) -> Self {
        let flags = ad[32];
        assert_ne!(
            flags & FLAG_ATTESTED_CREDENTIAL_DATA,
            0,
            "no attested credential data"
        );
        let id_len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
        let (cose_key, cose_len) = cbor(&ad[55 + id_len..]);
        let after_key = 55 + id_len + cose_len;
        let extensions = (flags & FLAG_EXTENSION_DATA != 0).then(|| {
            let (ext, used) = cbor(&ad[after_key..]);
            assert_eq!(after_key + used, ad.len(), "bytes after the extensions");
            ext
        });
        AuthenticatorData {
            rp_id_hash: ad[..32].to_vec(),
            flags,
            sign_count: u32::from_be_bytes(ad[33..37].try_into().unwrap()),
            aaguid: ad[37..53].to_vec(),
            credential_id: ad[55..55 + id_len].to_vec(),
            cose_key,
            extensions,
        }
    }

    /// The FIDO JSON's `authData`, decoded.
    pub fn from_fido_json(json: &str) -> Self {
        use base64::Engine;
        let b64 = json_string(json, "authData").expect("authData");
        Self::parse(
            &base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
    }

    pub fn cose_param(&self, label: i128) -> Option<&Cbor> {
        let Cbor::Map(entries) = &self.cose_key else {
            panic!("COSE key is not a map")
        };
        entries
            .iter()
            .find(|(k, _)| *k == Cbor::Int(label))
            .map(|(_, v)| v)
    }
}

/// The extensions map as compact JSON, for comparison with DSInternals' rendering.
pub fn cbor_to_json(value: &Cbor) -> String {
    match value {
        Cbor::Int(i) => i.to_string(),
        Cbor::Bool(b) => b.to_string(),
        Cbor::Null => "null".into(),
        Cbor::Text(t) => format!("\"{t}\""),
        Cbor::Bytes(b) => format!("\"{}\"", hex::encode(b)),
        Cbor::Array(items) => format!(
            "[{}]",
            items.iter().map(cbor_to_json).collect::<Vec<_>>().join(",")
        ),
        Cbor::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", cbor_to_json(k), cbor_to_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// A GUID in RFC 4122 (big-endian) text form, as WebAuthn AAGUIDs are written.
pub fn uuid_be(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The line and message of the parse error loading `text` as an embedded directory file
/// gives; panics if it loads or fails otherwise.
pub async fn load_error(text: &str) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    match EmbeddedDirectory::load(&path).await {
        Err(DirectoryError::Parse {
            file,
            line,
            message,
        }) => {
            assert_eq!(file, path);
            (line, message)
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("loaded: {text}"),
    }
}
