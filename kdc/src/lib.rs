//! kdc: a Kerberos KDC for passwordless logon with PKINIT key trust (RFC 4120, RFC 4556).
#![forbid(unsafe_code)]

pub mod admin;
pub mod as_req;
#[cfg(test)]
mod as_req_tests;
pub mod client;
pub mod crypto;
pub mod daemon;
pub mod dev_realm;
pub mod error;
pub mod kdc;
pub mod krbtgt;
pub mod preauth;
pub mod proto;
pub mod server;
pub mod signer;
pub mod ticket;
