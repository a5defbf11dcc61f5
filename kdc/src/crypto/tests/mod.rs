//! The enctypes against published vectors: MIT krb5's own test values, RFC 3962 Appendix B
//! (AES-CTS with HMAC-SHA1) and RFC 8009 Appendix A (AES-CTS with HMAC-SHA2).

mod mit;
mod rfc3962;
mod rfc8009;
