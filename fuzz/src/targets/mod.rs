//! One module per fuzz target.

pub mod as_signed;
pub mod auth_pack;
pub mod cert_path;
pub mod config;
pub mod crl;
pub mod dn_binary;
pub mod embedded_directory;
pub mod freshness;
pub mod kdc_req;
pub mod keycredlink;
pub mod pac_parse;
pub mod pk_as_req;
pub mod tgs_authenticator;
pub mod tgs_req;
