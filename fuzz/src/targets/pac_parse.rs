//! A PAC as the TGS reads it from a TGT ([MS-PAC] 2.3-2.15): the buffer list, every buffer
//! this KDC interprets, KERB_VALIDATION_INFO's NDR, and signature verification. The same
//! bytes are also read as a bare LOGON_INFO buffer, so the NDR reader is reached directly.

use kdc::crypto::{Enctype, Key};
use kdc::pac::buffer_type;
use kdc::pac::checksum::verify;
use kdc::pac::logon_info::ValidationInfo;
use kdc::pac::small_buffers::{Attributes, ClientInfo, UpnDnsInfo};
use kdc::pac::{Pac, PacError};

pub fn run(data: &[u8]) {
    logon_info_round_trip(data);
    let Ok(pac) = Pac::parse(data) else {
        return;
    };
    // Written again, the buffers read back the same, each on an 8-byte boundary.
    let (encoded, offsets) = pac.encode_with_offsets();
    assert!(offsets.iter().all(|at| at % 8 == 0));
    assert_eq!(Pac::parse(&encoded).as_ref(), Ok(&pac));
    for buffer in &pac.buffers {
        match buffer.kind {
            buffer_type::LOGON_INFO => logon_info_round_trip(&buffer.data),
            buffer_type::CLIENT_INFO => {
                if let Ok(info) = ClientInfo::decode(&buffer.data) {
                    assert_eq!(ClientInfo::decode(&info.encode()), Ok(info));
                }
            }
            buffer_type::UPN_DNS_INFO => {
                if let Ok(info) = UpnDnsInfo::decode(&buffer.data) {
                    assert_eq!(UpnDnsInfo::decode(&info.encode()), Ok(info));
                }
            }
            buffer_type::ATTRIBUTES_INFO => {
                let _ = Attributes::decode(&buffer.data);
            }
            _ => {}
        }
    }
    // Nobody without the key signs: a verdict other than a refusal is a forgery.
    let Ok(key) = Key::new(Enctype::Aes256CtsHmacSha196, &[0x5a; 32]) else {
        return;
    };
    let verdict = verify(data, &key, &key, None);
    assert!(
        matches!(
            verdict,
            Err(PacError::BadSignature(_)
                | PacError::ChecksumType(_)
                | PacError::Missing(_)
                | PacError::Buffer(_))
        ),
        "{verdict:?}"
    );
}

fn logon_info_round_trip(data: &[u8]) {
    if let Ok(info) = ValidationInfo::decode(data) {
        let again = ValidationInfo::decode(&info.encode());
        assert_eq!(again.as_ref(), Ok(&info));
    }
}
