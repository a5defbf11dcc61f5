//! A KDC-REQ as it arrives (RFC 4120 §7.2.1, §7.2.2, §5.4.1): the bytes as a UDP datagram,
//! and as a TCP stream cut into frames by the record marking, each frame then through the
//! padata walk that routes PKINIT requests to their pool and the request decoder that every
//! request reaches before anything else.

use kdc::proto::codes::ErrorCode;
use kdc::proto::codes::padata;
use kdc::proto::kerberos::{KdcRequest, RequestKind, as_req_may_carry};
use kdc::server::ServerLimits;
use kdc::server::framing::{self, FrameError};
use rasn_kerberos::{AsReq, TgsReq};

use crate::check::{der_round_trip, lies_within, ready};

pub fn run(data: &[u8]) {
    decode(data);
    read_stream(data);
}

fn decode(message: &[u8]) {
    let routed_to_pool = as_req_may_carry(message, padata::PK_AS_REQ);
    let Ok(request) = KdcRequest::decode(message) else {
        return;
    };
    // The walk never misses a type the decoder finds: a PKINIT request that reaches the
    // exchange always went through the pool's bound.
    if request.kind == RequestKind::As {
        for pa in request.req.padata.iter().flatten() {
            assert!(
                as_req_may_carry(message, pa.r#type),
                "padata type {} missed",
                pa.r#type
            );
        }
        assert!(routed_to_pool || request.padata(padata::PK_AS_REQ).is_none());
    } else {
        assert!(!routed_to_pool, "only AS-REQs go to the PKINIT pool");
    }
    assert_eq!(
        message.first().copied().and_then(RequestKind::of_tag),
        Some(request.kind),
        "the kind is the one the APPLICATION tag announces"
    );
    // The body the checksums cover is the one received, not a re-encoding.
    assert!(lies_within(message, request.body_der));
    assert_eq!(request.body_der.first(), Some(&0x30));
    match request.kind {
        RequestKind::As => der_round_trip(&AsReq(request.req)),
        RequestKind::Tgs => der_round_trip(&TgsReq(request.req)),
    }
}

/// Reads frames until the stream ends or a frame is refused, as one TCP connection does.
fn read_stream(stream: &[u8]) {
    let limit = ServerLimits::default().max_request_bytes;
    let mut rest = stream;
    loop {
        let before = rest;
        match read_frame(&mut rest, limit) {
            Ok(Some(frame)) => {
                assert!(!frame.is_empty() && frame.len() <= limit);
                let consumed = before.len() - rest.len();
                assert_eq!(
                    before.get(..consumed),
                    framing::encode_frame(&frame).ok().as_deref()
                );
                decode(&frame);
            }
            Ok(None) => {
                assert!(
                    before.is_empty(),
                    "a clean close only before a frame's first byte"
                );
                return;
            }
            Err(error) => {
                check_refusal(&error, before, limit);
                return;
            }
        }
    }
}

/// §7.2.2: the reserved bit and lengths over the limit are answered FIELD_TOOLONG; the other
/// refusals close without an answer.
fn check_refusal(error: &FrameError, stream: &[u8], limit: usize) {
    let claimed = stream
        .first_chunk::<4>()
        .map(|prefix| u32::from_be_bytes(*prefix));
    match error {
        FrameError::ReservedBitSet => assert!(claimed.is_some_and(|c| c & 0x8000_0000 != 0)),
        FrameError::TooLong { claimed: c, .. } => {
            assert_eq!(claimed, Some(*c));
            assert!(usize::try_from(*c).map_or(true, |c| c > limit));
        }
        FrameError::Empty => assert_eq!(claimed, Some(0)),
        FrameError::Truncated => {
            assert!(claimed.is_none_or(|c| usize::try_from(c).is_ok_and(|c| stream.len() < 4 + c)))
        }
        other => panic!("reading from memory failed: {other}"),
    }
    let answered = matches!(
        error,
        FrameError::ReservedBitSet | FrameError::TooLong { .. }
    );
    assert_eq!(
        error.reply_code(),
        answered.then_some(ErrorCode::FIELD_TOOLONG)
    );
}

fn read_frame(stream: &mut &[u8], limit: usize) -> Result<Option<bytes::Bytes>, FrameError> {
    ready(framing::read_frame(stream, limit))
}
