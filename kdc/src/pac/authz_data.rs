//! Where a ticket carries its PAC: one AD-WIN2K-PAC element alone in the first
//! AD-IF-RELEVANT element of the EncTicketPart's authorization-data ([MS-PAC] 2.1,
//! RFC 4120 §5.2.6.1), as Active Directory writes it and MIT and Heimdal look for it.

use rasn_kerberos::{AuthorizationData, AuthorizationDataValue};

use super::PacError;

/// AD-WIN2K-PAC ([MS-PAC] 2.1).
pub const AD_WIN2K_PAC: i32 = 0x80;

/// The authorization-data of a ticket whose only element is this PAC.
pub fn with_pac(pac: &[u8]) -> Result<AuthorizationData, PacError> {
    let inner: AuthorizationData = vec![AuthorizationDataValue {
        r#type: AD_WIN2K_PAC,
        data: pac.to_vec().into(),
    }];
    let inner = rasn::der::encode(&inner).map_err(|_| PacError::AuthzData("encoding failed"))?;
    Ok(vec![AuthorizationDataValue {
        r#type: AuthorizationDataValue::IF_RELEVANT,
        data: inner.into(),
    }])
}

/// The authorization-data a ticket signature covers in place of the PAC: the same shape,
/// the PAC replaced by the single byte 0 ([MS-PAC] 2.8.2).
pub fn placeholder() -> Result<AuthorizationData, PacError> {
    with_pac(&[0x00])
}

/// The ticket's PAC, if it has one. A PAC outside AD-IF-RELEVANT, or a second PAC, makes
/// the ticket unacceptable (as Heimdal refuses it): no reader could tell which one counts.
pub fn find_pac(data: Option<&AuthorizationData>) -> Result<Option<Vec<u8>>, PacError> {
    let mut found = None;
    for element in data.into_iter().flatten() {
        match element.r#type {
            AD_WIN2K_PAC => return Err(PacError::AuthzData("AD-WIN2K-PAC outside AD-IF-RELEVANT")),
            AuthorizationDataValue::IF_RELEVANT => {
                let inner: AuthorizationData = rasn::der::decode(&element.data)
                    .map_err(|_| PacError::AuthzData("AD-IF-RELEVANT does not decode"))?;
                for pac in inner.into_iter().filter(|e| e.r#type == AD_WIN2K_PAC) {
                    if found.is_some() {
                        return Err(PacError::AuthzData("more than one PAC"));
                    }
                    found = Some(pac.data.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(found)
}
