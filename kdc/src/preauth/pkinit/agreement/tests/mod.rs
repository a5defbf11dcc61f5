//! Key agreement against known answers: finite-field DH over the RFC 2412/3526 groups, and
//! the PKINIT KDFs (RFC 4556 §3.2.3.1 octetstring2key, RFC 8636 §8 test vectors).

mod dh;
mod kdf;
