//! The Privilege Attribute Certificate ([MS-PAC]): the user's SIDs and groups that Windows,
//! Samba and SSSD services build a security token from, carried in tickets as
//! AD-WIN2K-PAC inside AD-IF-RELEVANT ([MS-KILE] 3.3.5.3, RFC 4120 §5.2.6.1).
//!
//! `container` reads and writes the PAC's buffer list, `logon_info` and `small_buffers` the
//! buffers, `ndr` the NDR encoding they use, `checksum` the four signatures, `authz_data`
//! the ticket's authorization-data, and `build` what this KDC puts in a PAC.

pub mod account_flags;
pub mod authz_data;
pub mod build;
pub mod checksum;
pub mod container;
pub mod in_tickets;
pub mod logon_info;
pub mod ndr;
pub mod small_buffers;

#[cfg(test)]
mod tests;

pub use self::container::Pac;

/// PAC_INFO_BUFFER ulType values ([MS-PAC] 2.4).
pub mod buffer_type {
    pub const LOGON_INFO: u32 = 0x01;
    pub const SERVER_CHECKSUM: u32 = 0x06;
    pub const KDC_CHECKSUM: u32 = 0x07;
    pub const CLIENT_INFO: u32 = 0x0a;
    pub const UPN_DNS_INFO: u32 = 0x0c;
    pub const TICKET_CHECKSUM: u32 = 0x10;
    pub const ATTRIBUTES_INFO: u32 = 0x11;
    pub const REQUESTOR: u32 = 0x12;
    pub const FULL_CHECKSUM: u32 = 0x13;

    /// The types this KDC reads; a PAC with two of one of them is refused.
    pub const INTERPRETED: [u32; 9] = [
        LOGON_INFO,
        SERVER_CHECKSUM,
        KDC_CHECKSUM,
        CLIENT_INFO,
        UPN_DNS_INFO,
        TICKET_CHECKSUM,
        ATTRIBUTES_INFO,
        REQUESTOR,
        FULL_CHECKSUM,
    ];

    /// A name for logs and `kdc user show`.
    pub fn name(kind: u32) -> &'static str {
        match kind {
            LOGON_INFO => "LOGON_INFO",
            SERVER_CHECKSUM => "SERVER_CHECKSUM",
            KDC_CHECKSUM => "KDC_CHECKSUM",
            CLIENT_INFO => "CLIENT_INFO",
            UPN_DNS_INFO => "UPN_DNS_INFO",
            TICKET_CHECKSUM => "TICKET_CHECKSUM",
            ATTRIBUTES_INFO => "ATTRIBUTES_INFO",
            REQUESTOR => "REQUESTOR",
            FULL_CHECKSUM => "FULL_CHECKSUM",
            _ => "other",
        }
    }
}

/// Why a PAC was not accepted. Every one of them means the ticket was not made by this
/// KDC as it is, or was changed since.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacError {
    #[error("PAC layout: {0}")]
    Layout(&'static str),
    #[error("PAC buffer: {0}")]
    Buffer(&'static str),
    #[error("PAC NDR data: {0}")]
    Ndr(&'static str),
    #[error("PAC has two {} buffers", buffer_type::name(*.0))]
    Duplicate(u32),
    #[error("PAC has no {} buffer", buffer_type::name(*.0))]
    Missing(u32),
    #[error("PAC signature of unknown or unexpected type {0}")]
    ChecksumType(i32),
    #[error("PAC {} does not verify", buffer_type::name(*.0))]
    BadSignature(u32),
    #[error("ticket authorization-data: {0}")]
    AuthzData(&'static str),
}
