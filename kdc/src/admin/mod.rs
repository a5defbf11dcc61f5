//! The operator's operations behind `kdc user|key|service|keytab|krbtgt`: users and their
//! registered keys in the directory (MS-ADTS 2.2.20), principals and their key versions in the
//! key store (RFC 4120 §5.3 kvno), and the keytab files services read.

pub mod keytab;
pub mod pac_preview;
pub mod services;
pub mod users;
