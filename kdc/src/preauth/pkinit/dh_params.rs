//! The client's DH public value and domain parameters (RFC 4556 §3.2.2, RFC 3279 §2.3.3),
//! read leniently: groups are recognised by (p, g) alone, q is ignored (some clients send 0),
//! and INTEGERs may arrive without their sign byte. Also TD-DH-PARAMETERS for refusals.

use rasn_pkix::SubjectPublicKeyInfo;

use super::agreement::ModpGroup;
use crate::error::KdcError;
use crate::proto::codes::{oid, typed_data};
use crate::proto::der::{self, Tlv, tag};
use crate::proto::pkinit::TypedDataEntry;

/// The group and the client's public value y (unsigned big-endian).
pub fn client_public_value(
    spki: &SubjectPublicKeyInfo,
    min_bits: u32,
) -> Result<(ModpGroup, Vec<u8>), KdcError> {
    let algorithm: Vec<u32> = spki.algorithm.algorithm.iter().copied().collect();
    if algorithm != oid::DH_PUBLIC_NUMBER {
        return Err(KdcError::PreauthFailed(
            "clientPublicValue is not dhpublicnumber (ECDH is not offered yet)".into(),
        ));
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
    let Some(group) = ModpGroup::from_params(
        der::unsigned_integer_bytes(p.value),
        der::unsigned_integer_bytes(g.value),
    ) else {
        return Err(not_accepted(
            "DH domain parameters are not a known MODP group".into(),
            min_bits,
        ));
    };
    let y = Tlv::read_only(spki.subject_public_key.as_raw_slice(), tag::INTEGER)
        .map_err(|e| KdcError::PreauthFailed(format!("DH public value malformed: {e}")))?;
    Ok((group, der::unsigned_integer_bytes(y.value).to_vec()))
}

/// KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED with TD-DH-PARAMETERS listing the groups of at
/// least `min_bits`, preferred first (RFC 4556 §3.2.2).
pub fn not_accepted(reason: String, min_bits: u32) -> KdcError {
    let groups: Vec<u8> = ModpGroup::all()
        .iter()
        .filter(|g| g.bits() >= min_bits)
        .flat_map(|group| {
            let params = der::encode_parts(
                tag::SEQUENCE,
                &[
                    &der::encode_unsigned_integer(group.prime_bytes()),
                    &der::encode_unsigned_integer(group.generator()),
                    &der::encode_unsigned_integer(&group.subgroup_order()),
                ],
            );
            der::encode_parts(
                tag::SEQUENCE,
                &[&der::encode_oid(oid::DH_PUBLIC_NUMBER), &params],
            )
        })
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
