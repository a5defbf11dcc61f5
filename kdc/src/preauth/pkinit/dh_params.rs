//! The client's DH public value and its group (RFC 4556 §3.2.2): MODP domain parameters (RFC
//! 3279 §2.3.3) read leniently (groups recognised by (p, g) alone, q ignored as some clients
//! send 0, INTEGERs that lack their sign byte), or an ECDH point on a named curve (RFC 5349
//! §4, RFC 5480 §2.1.1). Also TD-DH-PARAMETERS for refusals, listing curves too.

use kdc_config::DhStrength;
use rasn_pkix::SubjectPublicKeyInfo;

use super::agreement::{DhGroup, EcCurve, ModpGroup};
use crate::error::KdcError;
use crate::proto::codes::{oid, typed_data};
use crate::proto::der::{self, Tlv, tag};
use crate::proto::pkinit::TypedDataEntry;

/// The client's DH offer, read.
#[derive(Debug)]
pub struct ClientDhValue {
    pub group: DhGroup,
    /// y, unsigned big-endian, or the curve point.
    pub y: Vec<u8>,
    /// Fields whose INTEGER read as negative and were taken as unsigned (Windows-shaped
    /// clients leave out the sign byte): `public_value`, `prime`, `subgroup_order`.
    pub negative_integers: Vec<&'static str>,
    /// The MODP domain parameters carry q and it is not zero (dh_key_choice.rs tells
    /// Heimdal by it).
    pub sends_subgroup_order: bool,
}

/// Whether the offer is finite-field DH (dhpublicnumber), as policies about MODP ask.
pub fn offers_modp(spki: &SubjectPublicKeyInfo) -> bool {
    spki.algorithm
        .algorithm
        .iter()
        .eq(oid::DH_PUBLIC_NUMBER.iter())
}

/// Reads the group (MODP by p and g, or the named curve) and the client's public value.
pub fn client_public_value(
    spki: &SubjectPublicKeyInfo,
    minimum: DhStrength,
) -> Result<ClientDhValue, KdcError> {
    let algorithm: Vec<u32> = spki.algorithm.algorithm.iter().copied().collect();
    if algorithm == oid::EC_PUBLIC_KEY {
        return client_point(spki, minimum);
    }
    if !offers_modp(spki) {
        return Err(KdcError::PreauthFailed(format!(
            "clientPublicValue algorithm {} is neither dhpublicnumber nor id-ecPublicKey",
            spki.algorithm.algorithm
        )));
    }
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| KdcError::PreauthFailed("DH domain parameters absent".into()))?;
    let malformed =
        |what: &str| KdcError::PreauthFailed(format!("DH domain parameters malformed: {what}"));
    let domain =
        Tlv::read_only(params.as_bytes(), tag::SEQUENCE).map_err(|e| malformed(&e.to_string()))?;
    let mut fields = domain.children();
    let p = fields
        .next_required()
        .and_then(|t| t.expect(tag::INTEGER))
        .map_err(|e| malformed(&e.to_string()))?;
    let g = fields
        .next_required()
        .and_then(|t| t.expect(tag::INTEGER))
        .map_err(|e| malformed(&e.to_string()))?;
    // q is not needed (the group is known by p and g) and some clients send 0; it is read
    // only to count a sign-less encoding.
    let q = fields.next_if(tag::INTEGER).ok().flatten();
    let Some(group) = ModpGroup::from_params(
        der::unsigned_integer_bytes(p.value),
        der::unsigned_integer_bytes(g.value),
    ) else {
        return Err(not_accepted(
            "DH domain parameters are not a known MODP group".into(),
            minimum,
        ));
    };
    let y = Tlv::read_only(spki.subject_public_key.as_raw_slice(), tag::INTEGER)
        .map_err(|e| KdcError::PreauthFailed(format!("DH public value malformed: {e}")))?;
    let negative_integers = [
        ("public_value", Some(y.value)),
        ("prime", Some(p.value)),
        ("subgroup_order", q.map(|q| q.value)),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.filter(|v| der::reads_negative(v)).map(|_| field))
    .collect();
    Ok(ClientDhValue {
        group: DhGroup::Modp(group),
        y: der::unsigned_integer_bytes(y.value).to_vec(),
        negative_integers,
        sends_subgroup_order: q.is_some_and(|q| !der::unsigned_integer_bytes(q.value).is_empty()),
    })
}

/// An ECDH offer: id-ecPublicKey with a namedCurve (RFC 5480 §2.1.1; implicit or explicit
/// curve parameters are not accepted) and the point, which the agreement checks.
fn client_point(
    spki: &SubjectPublicKeyInfo,
    minimum: DhStrength,
) -> Result<ClientDhValue, KdcError> {
    let unknown = |what: &str| not_accepted(format!("ECDH {what}"), minimum);
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| unknown("without a named curve"))?;
    let named: rasn::types::ObjectIdentifier = rasn::der::decode(params.as_bytes())
        .map_err(|_| unknown("curve parameters that are not a namedCurve"))?;
    let arcs: Vec<u32> = named.iter().copied().collect();
    let curve = EcCurve::from_oid(&arcs).ok_or_else(|| unknown(&format!("on curve {named}")))?;
    Ok(ClientDhValue {
        group: DhGroup::Ec(curve),
        y: spki.subject_public_key.as_raw_slice().to_vec(),
        negative_integers: Vec::new(),
        sends_subgroup_order: false,
    })
}

/// KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED with TD-DH-PARAMETERS listing the groups and
/// curves of at least `minimum` (RFC 4556 §3.2.2, RFC 5349 §4): MODP groups first, then
/// curves, each weakest first, so that a client without ECDH (MIT 1.20) that takes the first
/// entry it can use finds a MODP group before any curve.
pub fn not_accepted(reason: String, minimum: DhStrength) -> KdcError {
    let (modp, curves): (Vec<DhGroup>, Vec<DhGroup>) =
        DhGroup::accepted(minimum).partition(|g| matches!(g, DhGroup::Modp(_)));
    let groups: Vec<u8> = modp
        .into_iter()
        .chain(curves)
        .flat_map(algorithm_identifier)
        .collect();
    let td_dh_parameters = der::encode(tag::SEQUENCE, &groups);
    let typed = vec![TypedDataEntry {
        data_type: typed_data::TD_DH_PARAMETERS,
        data_value: Some(td_dh_parameters.into()),
    }];
    KdcError::DhParametersNotAccepted {
        reason,
        td_dh_parameters: rasn::der::encode(&typed).unwrap_or_default(),
    }
}

/// The AlgorithmIdentifier that names a group: dhpublicnumber with its DomainParameters, or
/// id-ecPublicKey with its namedCurve.
fn algorithm_identifier(group: DhGroup) -> Vec<u8> {
    match group {
        DhGroup::Modp(modp) => {
            let params = der::encode_parts(
                tag::SEQUENCE,
                &[
                    &der::encode_unsigned_integer(modp.prime_bytes()),
                    &der::encode_unsigned_integer(modp.generator()),
                    &der::encode_unsigned_integer(&modp.subgroup_order()),
                ],
            );
            der::encode_parts(
                tag::SEQUENCE,
                &[&der::encode_oid(oid::DH_PUBLIC_NUMBER), &params],
            )
        }
        DhGroup::Ec(curve) => der::encode_parts(
            tag::SEQUENCE,
            &[
                &der::encode_oid(oid::EC_PUBLIC_KEY),
                &der::encode_oid(curve.oid()),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use rasn::types::{Any, BitString, ObjectIdentifier};
    use rasn_pkix::AlgorithmIdentifier;

    use super::*;

    /// An SPKI whose INTEGERs are written as given (content bytes, no sign fix-up).
    fn spki(p: &[u8], q: &[u8], y: &[u8]) -> SubjectPublicKeyInfo {
        let params = der::encode_parts(
            tag::SEQUENCE,
            &[
                &der::encode(tag::INTEGER, p),
                &der::encode(tag::INTEGER, &[2]),
                &der::encode(tag::INTEGER, q),
            ],
        );
        SubjectPublicKeyInfo {
            algorithm: AlgorithmIdentifier {
                algorithm: ObjectIdentifier::new(oid::DH_PUBLIC_NUMBER.to_vec()).unwrap(),
                parameters: Some(Any::new(params)),
            },
            subject_public_key: BitString::from_vec(der::encode(tag::INTEGER, y)),
        }
    }

    fn with_sign_byte(magnitude: &[u8]) -> Vec<u8> {
        let mut signed = vec![0];
        signed.extend_from_slice(magnitude);
        signed
    }

    #[test]
    fn sign_less_integers_read_as_unsigned_and_are_named() {
        let group = ModpGroup::Modp14;
        let p = group.prime_bytes();
        let q = group.subgroup_order();
        // y = p - 2: the top bit set, the largest value the range check lets through.
        let mut y = p.to_vec();
        if let Some(last) = y.last_mut() {
            *last -= 2;
        }
        let strict = client_public_value(
            &spki(&with_sign_byte(p), &q, &with_sign_byte(&y)),
            DhStrength::Modp2048,
        )
        .unwrap();
        assert!(strict.negative_integers.is_empty());
        let lenient = client_public_value(&spki(p, &q, &y), DhStrength::Modp2048).unwrap();
        assert_eq!(lenient.group, DhGroup::Modp(group));
        assert_eq!(lenient.y, strict.y);
        assert_eq!(lenient.negative_integers, ["public_value", "prime"]);
        // q (which starts 0x7f) is counted only when it too reads as negative.
        let lenient_q =
            client_public_value(&spki(p, &[0xff, 0x01], &y), DhStrength::Modp2048).unwrap();
        assert_eq!(
            lenient_q.negative_integers,
            ["public_value", "prime", "subgroup_order"]
        );
    }

    #[test]
    fn a_sign_less_value_is_still_range_checked() {
        // p itself, written without its sign byte, reads as p: out of range for agreement.
        let group = ModpGroup::Modp14;
        let read = client_public_value(
            &spki(group.prime_bytes(), &[0], group.prime_bytes()),
            DhStrength::Modp2048,
        )
        .unwrap();
        assert_eq!(
            crate::preauth::pkinit::agreement::validate_public(group, &read.y),
            Err(crate::preauth::pkinit::agreement::AgreementError::InvalidPublicValue)
        );
    }
}
