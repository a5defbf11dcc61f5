//! The audit trail (`kdc::audit`): one line for each ticket issued (RFC 4120 §3.1.5 TGT,
//! §3.3.3 service ticket), with who got it, under which PKINIT trust model (RFC 4556) and
//! how the exchange was spoken, and one for each retransmission answered from the reply
//! cache, where no exchange ran.

use std::time::Duration;

use crate::as_req::{AsOutcome, base64_key_id};
use crate::preauth::pkinit::Trust;
use crate::server::RequestContext;
use crate::tgs::TgsOutcome;

pub fn issued_tgt(outcome: &AsOutcome, elapsed: Duration) {
    let elapsed_us = elapsed.as_micros();
    let reply_digest = outcome.exchange.reply_digest.label();
    let dh_key = outcome.exchange.dh_key.label();
    let dh_group = outcome.exchange.dh_group.name();
    match &outcome.trust {
        Trust::Key(key) => {
            tracing::info!(target: "kdc::audit", client = %outcome.client, trust = "key", fresh = outcome.fresh, reply_digest, dh_group, dh_key, key_id = %base64_key_id(&key.key_id), device_id = key.device_id.as_deref().unwrap_or("-"), elapsed_us, "issued TGT")
        }
        Trust::Certificate(cert) => {
            tracing::info!(target: "kdc::audit", client = %outcome.client, trust = "certificate", fresh = outcome.fresh, reply_digest, dh_group, dh_key, serial = %cert.serial, issuer = %cert.issuer, mapping = cert.binding, elapsed_us, "issued TGT")
        }
    }
}

pub fn issued_service_ticket(outcome: &TgsOutcome, elapsed: Duration) {
    tracing::info!(target: "kdc::audit", client = %outcome.client, service = %outcome.service, renewed = outcome.renewed, elapsed_us = elapsed.as_micros(), "issued service ticket");
}

/// The same request bytes got the same reply again: no exchange ran, so no "issued" line.
pub fn retransmission(ctx: RequestContext) {
    tracing::info!(target: "kdc::audit", peer = %ctx.peer, transport = ?ctx.transport, "retransmission: the same request bytes got the same reply again");
}
