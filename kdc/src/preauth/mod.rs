//! Pre-authentication mechanisms (RFC 4120 §5.2.7, RFC 6113 §2): PKINIT (RFC 4556) is the
//! only one this KDC offers.

pub mod pkinit;

use rasn_kerberos::PaData;

use crate::error::KdcError;
use crate::proto::codes::padata;

/// METHOD-DATA (RFC 4120 §5.2.7.1) advertising exactly what is implemented: PA-PK-AS-REQ,
/// and PA_AS_FRESHNESS carrying a freshness token when there is one (RFC 8070 §2.2).
pub fn method_data(freshness_token: Option<Vec<u8>>) -> Result<Vec<u8>, KdcError> {
    let mut methods = vec![PaData {
        r#type: padata::PK_AS_REQ,
        value: Vec::new().into(),
    }];
    if let Some(token) = freshness_token {
        methods.push(PaData {
            r#type: padata::AS_FRESHNESS,
            value: token.into(),
        });
    }
    rasn::der::encode(&methods).map_err(|e| KdcError::Internal(format!("METHOD-DATA: {e}")))
}
