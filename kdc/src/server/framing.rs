//! TCP record marking (RFC 4120 §7.2.2): a 4-byte big-endian length, then that many bytes.
//!
//! The high bit of the length is reserved for extensions; we support none, so §7.2.2 has
//! us answer KRB_ERR_FIELD_TOOLONG and close, as for a length over our limit.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::proto::codes::ErrorCode;

const PREFIX_LEN: usize = 4;
/// The bit §7.2.2 reserves for extensions.
const RESERVED_BIT: u32 = 0x8000_0000;
/// Enough for a typical AS-REQ in one allocation; PKINIT requests grow past it.
const INITIAL_BODY_CAPACITY: usize = 0x1000;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("length prefix has the reserved high bit set")]
    ReservedBitSet,
    #[error("length {claimed} exceeds the limit of {limit} bytes")]
    TooLong { claimed: u32, limit: usize },
    #[error("zero-length request")]
    Empty,
    #[error("connection closed inside a frame")]
    Truncated,
    #[error("reply of {0} bytes cannot be framed")]
    ReplyTooLong(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FrameError {
    /// The KRB-ERROR code to send before closing, when §7.2.2 asks for one.
    pub fn reply_code(&self) -> Option<ErrorCode> {
        match self {
            Self::ReservedBitSet | Self::TooLong { .. } => Some(ErrorCode::FIELD_TOOLONG),
            Self::Empty | Self::Truncated | Self::ReplyTooLong(_) | Self::Io(_) => None,
        }
    }
}

/// The request length a prefix announces, if we are willing to read that much.
pub fn decode_length(prefix: [u8; PREFIX_LEN], limit: usize) -> Result<usize, FrameError> {
    let claimed = u32::from_be_bytes(prefix);
    if claimed & RESERVED_BIT != 0 {
        return Err(FrameError::ReservedBitSet);
    }
    match usize::try_from(claimed) {
        Ok(0) => Err(FrameError::Empty),
        Ok(len) if len <= limit => Ok(len),
        _ => Err(FrameError::TooLong { claimed, limit }),
    }
}

/// Reads one request. `Ok(None)` is a clean close before the first byte of a frame.
pub async fn read_frame<R>(reader: &mut R, limit: usize) -> Result<Option<Bytes>, FrameError>
where
    R: AsyncRead + Unpin,
{
    let mut prefix = [0u8; PREFIX_LEN];
    let mut filled = 0;
    while let Some(rest) = prefix.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match reader.read(rest).await? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated),
            read => filled += read,
        }
    }
    let len = decode_length(prefix, limit)?;
    // Grow with the bytes that actually arrive: a prefix alone cannot make a slow client
    // pin `limit` bytes of memory per connection.
    let mut body = Vec::with_capacity(len.min(INITIAL_BODY_CAPACITY));
    let wanted = u64::try_from(len).map_err(|_| FrameError::Truncated)?;
    reader.take(wanted).read_to_end(&mut body).await?;
    if body.len() == len {
        Ok(Some(Bytes::from(body)))
    } else {
        Err(FrameError::Truncated)
    }
}

/// Prefix and payload in one buffer, so a reply leaves in one write.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|len| len & RESERVED_BIT == 0)
        .ok_or(FrameError::ReplyTooLong(payload.len()))?;
    let mut frame = Vec::with_capacity(PREFIX_LEN + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

pub(super) async fn write_frame<W>(writer: &mut W, payload: &[u8]) -> Result<(), FrameError>
where
    W: AsyncWrite + Unpin,
{
    writer.write_all(&encode_frame(payload)?).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 100;

    async fn read_all(input: &[u8]) -> Vec<Result<Option<Bytes>, FrameError>> {
        let mut reader = input;
        let mut frames = Vec::new();
        loop {
            let frame = read_frame(&mut reader, LIMIT).await;
            let done = !matches!(frame, Ok(Some(_)));
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    #[test]
    fn length_prefix_rules_of_rfc4120_7_2_2() {
        assert_eq!(decode_length([0, 0, 0, 0x64], LIMIT).unwrap(), 100);
        assert!(matches!(
            decode_length([0, 0, 0, 0x65], LIMIT),
            Err(FrameError::TooLong { claimed: 101, .. })
        ));
        assert!(matches!(
            decode_length([0x80, 0, 0, 0x10], LIMIT),
            Err(FrameError::ReservedBitSet)
        ));
        assert!(matches!(
            decode_length([0xFF; 4], usize::MAX),
            Err(FrameError::ReservedBitSet)
        ));
        assert!(matches!(
            decode_length([0; 4], LIMIT),
            Err(FrameError::Empty)
        ));
        assert_eq!(
            decode_length([0x7F, 0xFF, 0xFF, 0xFF], usize::MAX).unwrap(),
            0x7FFF_FFFF
        );
    }

    #[test]
    fn only_length_violations_get_field_toolong() {
        assert_eq!(FrameError::ReservedBitSet.reply_code(), Some(ErrorCode(61)));
        assert_eq!(
            FrameError::TooLong {
                claimed: 1,
                limit: 0
            }
            .reply_code(),
            Some(ErrorCode(61))
        );
        assert_eq!(FrameError::Empty.reply_code(), None);
        assert_eq!(FrameError::Truncated.reply_code(), None);
    }

    #[tokio::test]
    async fn reads_consecutive_frames_then_clean_close() {
        let frames = read_all(b"\x00\x00\x00\x03abc\x00\x00\x00\x01z").await;
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].as_ref().unwrap().as_deref(), Some(&b"abc"[..]));
        assert_eq!(frames[1].as_ref().unwrap().as_deref(), Some(&b"z"[..]));
        assert!(matches!(frames[2], Ok(None)));
    }

    #[tokio::test]
    async fn cut_prefix_or_body_is_truncated() {
        assert!(matches!(
            read_all(b"\x00\x00").await[0],
            Err(FrameError::Truncated)
        ));
        let short_body = [&[0, 0, 0, 100][..], &[7u8; 10]].concat();
        assert!(matches!(
            read_all(&short_body).await[0],
            Err(FrameError::Truncated)
        ));
    }

    #[tokio::test]
    async fn prefix_arriving_byte_by_byte_is_reassembled() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move { read_frame(&mut server, LIMIT).await });
        for byte in [0u8, 0, 0, 2, b'o', b'k'] {
            client.write_all(&[byte]).await.unwrap();
            tokio::task::yield_now().await;
        }
        let frame = reader.await.unwrap().unwrap();
        assert_eq!(frame.as_deref(), Some(&b"ok"[..]));
    }

    #[tokio::test]
    async fn write_then_read_round_trips() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"reply").await.unwrap();
        assert_eq!(wire, b"\x00\x00\x00\x05reply");
        let frames = read_all(&wire).await;
        assert_eq!(frames[0].as_ref().unwrap().as_deref(), Some(&b"reply"[..]));
    }
}
