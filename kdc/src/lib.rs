//! kdc: a Kerberos KDC for passwordless logon with PKINIT key trust (RFC 4120, RFC 4556).
#![forbid(unsafe_code)]

pub mod account;
#[cfg(test)]
mod account_tests;
pub mod admin;
pub mod as_req;
#[cfg(test)]
mod as_req_tests;
#[cfg(test)]
mod cert_trust_tests;
pub mod check_config;
pub mod client;
#[cfg(test)]
mod client_shapes_tests;
pub mod crypto;
pub mod crypto_pool;
pub mod daemon;
pub mod dev_certs;
pub mod dev_realm;
#[cfg(test)]
mod ecdh_tests;
pub mod error;
#[cfg(test)]
mod freshness_tests;
#[cfg(test)]
mod hostile_tests;
pub mod kdc;
pub mod keys;
pub mod keytab;
pub mod load;
pub mod metrics;
pub mod notify;
pub mod preauth;
pub mod proto;
pub mod reload;
pub mod secret_file;
pub mod server;
pub mod service_admin;
pub mod signer;
#[cfg(test)]
mod testing;
pub mod tgs;
#[cfg(test)]
mod tgs_tests;
pub mod ticket;
#[cfg(feature = "tpm")]
pub mod tpm_cli;
