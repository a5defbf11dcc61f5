//! Pre-authentication mechanisms (RFC 4120 §5.2.7, RFC 6113 §2): PKINIT (RFC 4556) is the
//! only one this KDC offers.

pub mod pkinit;
