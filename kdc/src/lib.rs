//! kdc: a Kerberos KDC for passwordless logon with PKINIT key trust (RFC 4120, RFC 4556).
#![forbid(unsafe_code)]

pub mod account;
pub mod admin;
pub mod answer;
pub mod as_req;
pub mod audit;
pub mod build;
pub mod check_config;
pub mod crypto;
pub mod crypto_pool;
pub mod daemon;
pub mod dev_certs;
pub mod dev_realm;
pub mod error;
pub mod keys;
pub mod metrics;
pub mod notify;
pub mod open;
pub mod pac;
pub mod preauth;
pub mod proto;
pub mod realm;
pub mod reload;
pub mod secret_file;
pub mod server;
pub mod signer;
#[cfg(test)]
mod testing;
pub mod tgs;
pub mod ticket;
