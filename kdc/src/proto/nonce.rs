//! Request nonces sent as negative INTEGERs. RFC 4120 §5.4.1 makes the KDC-REQ-BODY nonce a
//! UInt32, but Heimdal's kgetcred encodes a random 32-bit value as a signed one, negative
//! half the time, and MIT's KDC (which keeps it as a krb5_int32) accepts that. Such a request
//! is read with the value's unsigned bit pattern, and the reply's EncKDCRepPart carries the
//! nonce back in the sender's signed form: those clients decode it as a signed 32-bit value
//! and refuse the five-byte unsigned encoding. Nothing else is read leniently.

use zeroize::Zeroizing;

use super::der::{self, DerError, Tlv, tag};

/// KDC-REQ ::= SEQUENCE { ..., req-body [4] } (RFC 4120 §5.4.1).
const REQ_BODY: u8 = tag::context(4);
/// KDC-REQ-BODY ::= SEQUENCE { ..., nonce [7] UInt32, ... }.
const BODY_NONCE: u8 = tag::context(7);
/// EncKDCRepPart ::= SEQUENCE { key [0], last-req [1], nonce [2] UInt32, ... } (§5.4.2).
const REP_NONCE: u8 = tag::context(2);

/// How the client encoded its request nonce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonceForm {
    /// As RFC 4120 says: a non-negative INTEGER.
    #[default]
    Unsigned,
    /// A signed 32-bit INTEGER that reads negative.
    Signed,
}

/// The DER of an EncASRepPart or EncTGSRepPart with its nonce in the form the client sent it,
/// in a buffer wiped when dropped (it holds the session key).
pub fn encode_rep_part<T: rasn::Encode>(
    part: &T,
    form: NonceForm,
) -> Result<Zeroizing<Vec<u8>>, String> {
    let encoded = Zeroizing::new(rasn::der::encode(part).map_err(|e| e.to_string())?);
    match form {
        NonceForm::Unsigned => Ok(encoded),
        NonceForm::Signed => signed_reply_nonce(&encoded)
            .map(Zeroizing::new)
            .map_err(|e| e.to_string()),
    }
}

/// The request with its body nonce rewritten as the unsigned value of the same 32 bits, if
/// it was sent negative; `None` when it needs no change.
pub fn unsigned_request(message: &[u8]) -> Result<Option<Vec<u8>>, DerError> {
    let first = *message.first().ok_or(DerError::Truncated)?;
    let outer = Tlv::read_only(message, first)?;
    let request = Tlv::read_only(outer.value, tag::SEQUENCE)?;
    let mut changed = false;
    let mut fields = Vec::new();
    for field in request.children() {
        let field = field?;
        if field.tag != REQ_BODY {
            fields.push(field.raw.to_vec());
            continue;
        }
        let body = Tlv::read_only(field.value, tag::SEQUENCE)?;
        let mut body_fields = Vec::new();
        for body_field in body.children() {
            let body_field = body_field?;
            let rewritten = (body_field.tag == BODY_NONCE)
                .then(|| Tlv::read_only(body_field.value, tag::INTEGER))
                .transpose()?
                .and_then(|nonce| unsigned_of_negative(nonce.value));
            match rewritten {
                Some(content) => {
                    changed = true;
                    body_fields.push(der::encode(
                        BODY_NONCE,
                        &der::encode(tag::INTEGER, &content),
                    ));
                }
                None => body_fields.push(body_field.raw.to_vec()),
            }
        }
        let body = der::encode(tag::SEQUENCE, &body_fields.concat());
        fields.push(der::encode(REQ_BODY, &body));
    }
    if !changed {
        return Ok(None);
    }
    let request = der::encode(tag::SEQUENCE, &fields.concat());
    Ok(Some(der::encode(first, &request)))
}

/// A DER EncASRepPart or EncTGSRepPart with its nonce in the signed form the client sent.
pub fn signed_reply_nonce(enc_part: &[u8]) -> Result<Vec<u8>, DerError> {
    let first = *enc_part.first().ok_or(DerError::Truncated)?;
    let outer = Tlv::read_only(enc_part, first)?;
    let part = Tlv::read_only(outer.value, tag::SEQUENCE)?;
    let mut fields = Vec::new();
    for field in part.children() {
        let field = field?;
        if field.tag == REP_NONCE {
            let nonce = Tlv::read_only(field.value, tag::INTEGER)?;
            let signed = match nonce.value {
                [0, rest @ ..] if rest.len() == 4 && der::reads_negative(rest) => rest,
                other => other,
            };
            fields.push(der::encode(REP_NONCE, &der::encode(tag::INTEGER, signed)));
        } else {
            fields.push(field.raw.to_vec());
        }
    }
    Ok(der::encode(
        first,
        &der::encode(tag::SEQUENCE, &fields.concat()),
    ))
}

/// The unsigned INTEGER content for a negative one of at most 32 bits: a zero byte, then
/// the value sign-extended to four bytes. `None` for a non-negative or wider value.
fn unsigned_of_negative(content: &[u8]) -> Option<Vec<u8>> {
    if !der::reads_negative(content) || content.len() > 4 {
        return None;
    }
    let mut unsigned = vec![0u8; 5 - content.len()];
    unsigned.iter_mut().skip(1).for_each(|b| *b = 0xff);
    unsigned.extend_from_slice(content);
    Some(unsigned)
}

#[cfg(test)]
mod tests {
    use rasn_kerberos::{KdcReq, TgsReq};

    use super::*;
    use crate::testing::wire;

    /// MIT's captured TGS-REQ with its four nonce bytes replaced by `content`.
    fn tgs_req_with_nonce(content: [u8; 4]) -> Vec<u8> {
        let mut request: TgsReq = rasn::der::decode(&wire("mit_tgs_req_host.der")).unwrap();
        request.0.req_body.nonce = 0x1234_5678;
        let mut encoded = rasn::der::encode(&request).unwrap();
        let field = der::encode(
            BODY_NONCE,
            &der::encode(tag::INTEGER, &[0x12, 0x34, 0x56, 0x78]),
        );
        let at = encoded
            .windows(field.len())
            .position(|w| w == field.as_slice())
            .unwrap();
        // Same length: no enclosing length changes.
        encoded[at + field.len() - 4..at + field.len()].copy_from_slice(&content);
        encoded
    }

    fn reply_part(nonce: u32) -> Vec<u8> {
        let now = std::time::SystemTime::now();
        let key = crate::crypto::Key::random(crate::crypto::Enctype::Aes256CtsHmacSha196).unwrap();
        let times = crate::ticket::TicketTimes {
            auth_time: now,
            start_time: None,
            end_time: now,
            renew_till: None,
            flags: 0,
        };
        let server = crate::proto::kerberos::krbtgt_name("EXAMPLE.TEST");
        let part = crate::ticket::reply_part(&key, &times, nonce, "EXAMPLE.TEST", &server, now);
        rasn::der::encode(&rasn_kerberos::EncTgsRepPart(part)).unwrap()
    }

    #[test]
    fn a_negative_nonce_reads_as_its_unsigned_bit_pattern() {
        let signed = tgs_req_with_nonce([0xa7, 0xcc, 0xcc, 0x16]);
        assert!(
            rasn::der::decode::<TgsReq>(&signed).is_err(),
            "rasn refuses it as sent"
        );
        let unsigned = unsigned_request(&signed).unwrap().unwrap();
        let request: TgsReq = rasn::der::decode(&unsigned).unwrap();
        assert_eq!(request.0.req_body.nonce, 0xa7cc_cc16);
        // Everything else is untouched.
        let original: KdcReq =
            rasn::der::decode::<TgsReq>(&tgs_req_with_nonce([0x12, 0x34, 0x56, 0x78]))
                .unwrap()
                .0;
        assert_eq!(request.0.padata, original.padata);
        assert_eq!(request.0.req_body.sname, original.req_body.sname);
        // A positive nonce needs no change.
        assert_eq!(
            unsigned_request(&wire("mit_tgs_req_host.der")).unwrap(),
            None
        );
    }

    #[test]
    fn short_negative_nonces_are_sign_extended_and_wide_ones_refused() {
        assert_eq!(
            unsigned_of_negative(&[0xff]),
            Some(vec![0, 0xff, 0xff, 0xff, 0xff])
        );
        assert_eq!(
            unsigned_of_negative(&[0x80, 0x00]),
            Some(vec![0, 0xff, 0xff, 0x80, 0x00])
        );
        assert_eq!(unsigned_of_negative(&[0x7f]), None);
        assert_eq!(unsigned_of_negative(&[0x80, 0, 0, 0, 0]), None);
    }

    #[test]
    fn the_reply_nonce_goes_back_signed() {
        let unsigned = reply_part(0xa7cc_cc16);
        let signed = signed_reply_nonce(&unsigned).unwrap();
        let field = der::encode(
            REP_NONCE,
            &der::encode(tag::INTEGER, &[0xa7, 0xcc, 0xcc, 0x16]),
        );
        assert!(signed.windows(field.len()).any(|w| w == field.as_slice()));
        assert_eq!(signed.len() + 1, unsigned.len());
        // A nonce that never read negative keeps its encoding.
        let positive = reply_part(0x1234_5678);
        assert_eq!(signed_reply_nonce(&positive).unwrap(), positive);
    }
}
