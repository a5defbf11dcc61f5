//! PKINIT freshness tokens (RFC 8070 §2.4) as the KDC checks the one a PKAuthenticator
//! carries: version, kvno and enctype, decryption under the krbtgt key of that kvno, the
//! token's time against the clock. The keys are the fixture's, so the seeds are real tokens.

use std::time::Duration;

use kdc::error::KdcError;
use kdc::preauth::pkinit::freshness::Tokens;
use kdc::proto::codes::{ErrorCode, padata};
use kdc_config::Freshness;
use rasn_kerberos::PaData;

use crate::fixtures::{KRBTGT, KRBTGT_KEYS, now};

/// The token header: version 0x01, kvno (u32 BE), enctype (i32 BE).
const HEADER_LEN: usize = 9;

pub fn tokens() -> Tokens<'static> {
    Tokens {
        policy: Freshness::Supported,
        keys: &KRBTGT_KEYS,
        krbtgt: KRBTGT,
        clock_skew: Duration::from_secs(300),
    }
}

pub fn run(data: &[u8]) {
    let tokens = tokens();
    match tokens.check(Some(data), now()) {
        Ok(fresh) => {
            assert!(fresh);
            let kvno = data.get(1..5).and_then(|b| b.try_into().ok());
            let enctype = data.get(5..HEADER_LEN).and_then(|b| b.try_into().ok());
            let (Some(kvno), Some(enctype)) = (kvno, enctype) else {
                panic!("a token without its header was accepted");
            };
            assert_eq!(data.first(), Some(&0x01));
            let key = KRBTGT_KEYS.get(
                KRBTGT,
                Some(u32::from_be_bytes(kvno)),
                i32::from_be_bytes(enctype),
            );
            assert!(
                key.is_some(),
                "accepted under a key the realm does not have"
            );
        }
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::PREAUTH_EXPIRED, "{error}");
            let KdcError::FreshnessTokenInvalid { method_data, .. } = &error else {
                panic!("an invalid token is not FreshnessTokenInvalid: {error}");
            };
            // The answer carries a new token, which is itself valid now.
            let methods: Vec<PaData> = match rasn::der::decode(method_data) {
                Ok(methods) => methods,
                Err(e) => panic!("METHOD-DATA does not decode: {e}"),
            };
            let offered = methods
                .iter()
                .find(|m| m.r#type == padata::AS_FRESHNESS)
                .map(|m| m.value.to_vec());
            let Some(offered) = offered else {
                panic!("no new token in the refusal");
            };
            assert!(matches!(tokens.check(Some(&offered), now()), Ok(true)));
        }
    }
}
