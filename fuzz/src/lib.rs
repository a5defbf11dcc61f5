//! The fuzz targets' bodies (issue 16): one module per decoder or request path that takes
//! peer or directory bytes. Each `run` asserts the target's invariants, not only "no panic".
//! The libFuzzer binaries in `fuzz_targets/` call them; `tests/replay.rs` runs every checked-in
//! corpus and regression input through them in the normal test suite.
#![forbid(unsafe_code)]
// A broken invariant is a panic: that is the crash libFuzzer reports and minimizes.
#![allow(clippy::panic)]

pub mod check;
pub mod fixtures;
pub mod live_kdc;
pub mod reply;
pub mod targets;

/// A target's body: one input, checked against the target's invariants.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/run`, the corpus directories and the replay test know it.
pub const TARGETS: &[(&str, Target)] = &[
    ("kdc_req", targets::kdc_req::run),
    ("pk_as_req", targets::pk_as_req::run),
    ("auth_pack", targets::auth_pack::run),
    ("cert_path", targets::cert_path::run),
    ("crl", targets::crl::run),
    ("keycredlink", targets::keycredlink::run),
    ("dn_binary", targets::dn_binary::run),
    ("freshness", targets::freshness::run),
    ("tgs_req", targets::tgs_req::run),
    ("config", targets::config::run),
    ("embedded_directory", targets::embedded_directory::run),
    ("as_signed", targets::as_signed::run),
    ("tgs_authenticator", targets::tgs_authenticator::run),
    ("pac_parse", targets::pac_parse::run),
];
