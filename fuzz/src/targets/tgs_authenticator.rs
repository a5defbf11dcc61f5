//! The TGS past the authenticator's decryption (RFC 4120 §3.3.2, §5.5.1): the fuzzer's bytes
//! are an Authenticator, encrypted under the session key of alice's real TGT (key usage 7) in
//! an AP-REQ with that TGT, in a TGS-REQ whose options, service and enctypes the input
//! chooses, so every mutation reaches the client match, the clock, the checksum, the subkey,
//! the replay cache and the ticket policy behind them.
//!
//! Input: [`HEADER_LEN`] bytes of request (the control byte, [`Control`], the request byte,
//! [`Request`], and the KDC options), then the Authenticator DER. When it decodes, the control byte can make its
//! time, checksum and client right for this request.

use std::time::{Duration, SystemTime};

use kdc::proto::kerberos::{NT_SRV_INST, kerberos_time, principal, system_time};
use kdc::server::Transport;
use kdc::ticket::ticket_flag;
use kdc_client::tgs::{TgsOptions, tgs_request_body, tgs_request_with_authenticator};
use rasn_kerberos::{Authenticator, Checksum, EncTgsRepPart, PrincipalName, TgsRep};

use crate::live_kdc::{FIXTURE, REALM, SERVICE, Tgt};
use crate::reply;

/// The control byte, the request byte and the 32 KDC option bits.
pub const HEADER_LEN: usize = 6;

/// The KDC-REQ-BODY nonce: fixed, so that an input means the same request every time.
const BODY_NONCE: u32 = 0x1a2b_3c4d;

/// Key usages (RFC 4120 §7.5.1).
const KEY_USAGE_TGS_REQ_AUTH_CKSUM: u32 = 6;
const KEY_USAGE_TGS_REP_SESSION_KEY: u32 = 8;
const KEY_USAGE_TGS_REP_SUBKEY: u32 = 9;

/// The first input byte: which parts of the authenticator are made right, and the service.
#[derive(Clone, Copy)]
pub struct Control(pub u8);

impl Control {
    /// Over TCP rather than UDP.
    pub const TCP: u8 = 0x01;
    /// ctime now.
    pub const FIX_TIME: u8 = 0x02;
    /// cusec from the clock too: no two inputs share an entry of the replay cache. Without it
    /// the fuzzer's cusec stays, and inputs that differ elsewhere can be replays.
    pub const FIX_CUSEC: u8 = 0x04;
    /// The checksum over this request's body under the session key, of its type.
    pub const FIX_CHECKSUM: u8 = 0x08;
    /// crealm and cname of the TGT's client.
    pub const FIX_CLIENT: u8 = 0x10;
    /// Bits 5-6: the service asked for, an index into [`services`].
    const SERVICE_SHIFT: u32 = 5;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    fn transport(self) -> Transport {
        if self.has(Self::TCP) {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }

    fn service(self) -> PrincipalName {
        let index = usize::from(self.0 >> Self::SERVICE_SHIFT) & 0x03;
        services()
            .into_iter()
            .nth(index)
            .unwrap_or_else(|| principal(NT_SRV_INST, &["unreachable"]))
    }
}

/// The realm's service, its krbtgt (renewal), a service it does not have, and a name with the
/// realm's service as its prefix.
fn services() -> [PrincipalName; 4] {
    let (service, host) = SERVICE.split_once('/').unwrap_or((SERVICE, ""));
    [
        principal(NT_SRV_INST, &[service, host]),
        principal(NT_SRV_INST, &["krbtgt", REALM]),
        principal(NT_SRV_INST, &[service, "unknown.example"]),
        principal(NT_SRV_INST, &[service, host, "extra"]),
    ]
}

/// The second input byte: the body's enctypes, till and rtime.
#[derive(Clone, Copy)]
pub struct Request(pub u8);

impl Request {
    /// Both session-key enctypes of the dev realm; only AES-128; the SHA-2 ones (no service
    /// key of theirs); RC4 and DES (not allowed).
    const ETYPES: [&'static [i32]; 4] = [&[18, 17], &[17], &[20, 19], &[23, 1]];
    /// Bits 2-3: till a day from now, an hour ago, the epoch (MIT's "no limit"), a century on.
    const TILL_SHIFT: u32 = 2;
    /// rtime a week from now.
    pub const RTIME: u8 = 0x10;

    fn etypes(self) -> Vec<i32> {
        let index = usize::from(self.0) & 0x03;
        Self::ETYPES
            .get(index)
            .map_or_else(Vec::new, |e| e.to_vec())
    }

    fn till(self, now: SystemTime) -> SystemTime {
        const HOUR: Duration = Duration::from_secs(3600);
        match (self.0 >> Self::TILL_SHIFT) & 0x03 {
            0 => now + 24 * HOUR,
            1 => now - HOUR,
            2 => SystemTime::UNIX_EPOCH,
            _ => now + 100 * 365 * 24 * HOUR,
        }
    }

    fn rtime(self, now: SystemTime) -> Option<SystemTime> {
        (self.0 & Self::RTIME != 0).then(|| now + Duration::from_secs(7 * 24 * 3600))
    }
}

pub fn run(data: &[u8]) {
    let Some((header, authenticator)) = data.split_first_chunk::<HEADER_LEN>() else {
        return;
    };
    let [control, request, options @ ..] = *header;
    let (control, request) = (Control(control), Request(request));
    let tgt = FIXTURE.tgt();
    let kdc = FIXTURE.kdc();
    let now = SystemTime::now();
    let service = control.service();
    let options = TgsOptions {
        realm: REALM,
        client: &tgt.client,
        tgt: &tgt.ticket,
        session_key: &tgt.session_key,
        service: service.clone(),
        kdc_options: u32::from_be_bytes(options),
        etypes: request.etypes(),
        subkey: None,
    };
    let mut body = tgs_request_body(&options, now, BODY_NONCE);
    body.till = kerberos_time(request.till(now));
    body.rtime = request.rtime(now).map(kerberos_time);
    let authenticator = match rasn::der::decode::<Authenticator>(authenticator) {
        Ok(decoded) => fit_to_request(decoded, control, &tgt, &body, now),
        Err(_) => authenticator.to_vec(),
    };
    let message =
        tgs_request_with_authenticator(&tgt.ticket, &tgt.session_key, body, &authenticator)
            .unwrap_or_else(|e| panic!("the fixture cannot build a TGS-REQ: {e}"));
    // Every request here decodes as a KDC-REQ: none may be dropped.
    let reply = kdc
        .send(message, control.transport())
        .unwrap_or_else(|| panic!("the KDC dropped a well-formed TGS-REQ"));
    if let Some(rep) = reply::tgs_answer(&reply) {
        check_service_ticket(&rep, &tgt, &service, &authenticator);
    }
}

/// The authenticator with the parts the control byte names made right for this request.
fn fit_to_request(
    mut authenticator: Authenticator,
    control: Control,
    tgt: &Tgt,
    body: &rasn_kerberos::KdcReqBody,
    now: SystemTime,
) -> Vec<u8> {
    if control.has(Control::FIX_TIME) {
        authenticator.ctime = kerberos_time(now);
    }
    if control.has(Control::FIX_CUSEC) {
        let micros = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_micros());
        authenticator.cusec = micros.into();
    }
    if control.has(Control::FIX_CHECKSUM) {
        let body_der =
            rasn::der::encode(body).unwrap_or_else(|e| panic!("the fixture's body: {e}"));
        authenticator.cksum = Some(Checksum {
            r#type: tgt.session_key.enctype().checksum_type(),
            checksum: tgt
                .session_key
                .checksum(KEY_USAGE_TGS_REQ_AUTH_CKSUM, &body_der)
                .into(),
        });
    }
    if control.has(Control::FIX_CLIENT) {
        authenticator.crealm = kdc::proto::kerberos::kerberos_string(REALM);
        authenticator.cname = tgt.client.clone();
    }
    rasn::der::encode(&authenticator)
        .unwrap_or_else(|e| panic!("re-encoding an Authenticator: {e}"))
}

/// A service ticket names the service asked for and the TGT's client, never another; it lasts
/// no longer than the TGT may be renewed; the reply part is sealed under the subkey the
/// authenticator carried, else the TGT session key, and matches the ticket.
fn check_service_ticket(
    rep: &TgsRep,
    tgt: &Tgt,
    service: &PrincipalName,
    authenticator_der: &[u8],
) {
    let client: Vec<&[u8]> = tgt.client.string.iter().map(|c| c.as_bytes()).collect();
    let names = |name: &PrincipalName| -> Vec<Vec<u8>> {
        name.string.iter().map(|c| c.as_bytes().to_vec()).collect()
    };
    assert_eq!(names(&rep.0.cname), client, "a ticket for another client");
    assert_eq!(rep.0.crealm.as_bytes(), REALM.as_bytes());
    assert_eq!(
        names(&rep.0.ticket.sname),
        names(service),
        "a ticket for another service"
    );
    let ticket = reply::open_ticket(&rep.0.ticket);
    assert_eq!(
        names(&ticket.cname),
        client,
        "a ticket sealed for another client"
    );
    assert_eq!(ticket.crealm.as_bytes(), REALM.as_bytes());

    let tgt_part = reply::open_ticket(&tgt.ticket);
    assert_eq!(
        ticket.auth_time, tgt_part.auth_time,
        "authtime is the TGT's"
    );
    let (flags, tgt_flags) = (flags_of(&ticket.flags), flags_of(&tgt_part.flags));
    assert_eq!(
        flags & ticket_flag::INITIAL,
        0,
        "a TGS ticket marked initial"
    );
    for inherited in [
        ticket_flag::FORWARDABLE,
        ticket_flag::PROXIABLE,
        ticket_flag::RENEWABLE,
        ticket_flag::PRE_AUTHENT,
    ] {
        assert!(
            flags & inherited == 0 || tgt_flags & inherited != 0,
            "flag {inherited:#010x} the TGT does not have"
        );
    }
    if flags & ticket_flag::FORWARDED != 0 {
        assert_ne!(
            tgt_flags & ticket_flag::FORWARDABLE,
            0,
            "forwarded from a TGT that is not forwardable"
        );
    }
    let limit = tgt_part.renew_till.as_ref().unwrap_or(&tgt_part.end_time);
    let slack = Duration::from_secs(1);
    assert!(
        system_time(&ticket.end_time) <= system_time(limit) + slack,
        "a ticket that outlives its TGT's renew-till"
    );
    if let Some(renew_till) = &ticket.renew_till {
        assert!(system_time(renew_till) <= system_time(limit) + slack);
    }

    let authenticator: Authenticator = rasn::der::decode(authenticator_der)
        .unwrap_or_else(|e| panic!("a ticket for an authenticator that does not decode: {e}"));
    assert_eq!(
        names(&authenticator.cname),
        client,
        "a ticket for another authenticator client"
    );
    let (key, usage) = match &authenticator.subkey {
        Some(subkey) => (reply::session_key(subkey), KEY_USAGE_TGS_REP_SUBKEY),
        None => (tgt.session_key.clone(), KEY_USAGE_TGS_REP_SESSION_KEY),
    };
    let plain = key
        .decrypt(usage, &rep.0.enc_part.cipher)
        .unwrap_or_else(|e| panic!("a TGS-REP enc-part that does not decrypt: {e}"));
    let part: EncTgsRepPart =
        rasn::der::decode(&plain).unwrap_or_else(|e| panic!("an undecodable EncTGSRepPart: {e}"));
    assert_eq!(part.0.nonce, BODY_NONCE);
    assert_eq!(names(&part.0.sname), names(service));
    assert_eq!(
        part.0.key, ticket.key,
        "the reply's session key is not the ticket's"
    );
}

/// The first 32 bits of TicketFlags (RFC 4120 §5.3), as `ticket_flag` masks them.
fn flags_of(flags: &rasn_kerberos::TicketFlags) -> u32 {
    let raw = flags.0.as_raw_slice();
    raw.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}
