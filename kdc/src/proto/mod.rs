//! Wire types and codecs only (no I/O): Kerberos messages (RFC 4120 §5, via rasn-kerberos),
//! PKINIT types (RFC 4556 §3.2, RFC 8636, RFC 8070), a strict DER reader/writer for CMS
//! (RFC 5652), and the protocol's numeric constants.

pub mod codes;
pub mod der;
pub mod kerberos;
pub mod nonce;
pub mod pkinit;
