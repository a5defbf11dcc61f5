//! Integration test harness for the kdc: free ports, dev realms, real MIT and Heimdal clients, a
//! TCP man in the middle, and the Kerberos wire facts (RFC 4120, RFC 4556) the tests assert on.
//!
//! The `kdc` binary is driven as a process (see [`binary`]); nothing here links the kdc crate.

pub mod binary;
pub mod conf;
pub mod der;
pub mod fuzz;
pub mod heimdal;
pub mod kdc_load;
pub mod krb;
pub mod mit;
pub mod mit_kdc;
pub mod pac_tools;
pub mod pki;
pub mod ports;
pub mod process;
pub mod proxied;
pub mod proxy;
pub mod realm;
pub mod replicas;
pub mod rng;
pub mod scrape;

pub use heimdal::HeimdalClient;
pub use krb::*;
pub use mit::{ClientRun, Identity, MitBinaries, MitClient};
pub use proxied::ProxiedRealm;
pub use proxy::{Exchange, TcpProxy};
pub use realm::Realm;
pub mod slapd;
pub mod swtpm;
pub mod unpacked;
