//! The KDC's exchanges end to end in process: a development realm on disk, the KDC core built
//! from it (kdc::build::from_file) and the PKINIT and TGS clients of kdc-client, one module per
//! area (RFC 4120 AS and TGS, RFC 4556 key and certificate trust, RFC 5349 ECDH, RFC 8070
//! freshness). One test binary: the areas share the fixtures of `support`.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod accounts;
mod as_req;
mod cert_trust;
mod client_shapes;
mod ecdh;
mod freshness;
mod hostile;
mod pac;
mod support;
mod tgs;
