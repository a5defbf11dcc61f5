//! The PAC codec against PACs made by others (testdata/pac/README.md says where each comes
//! from): Samba's RC4-signed PAC and a Windows Server 2022 ticket from MIT's t_pac.c, MIT's
//! AES-signed S4U PACs, and the prototype PAC that Samba decoded and MIT verified.

use std::time::{Duration, SystemTime};

use kdc_config::{NetbiosName, PacSettings};
use kdc_directory::sid::{DomainSid, Sid};
use rasn_kerberos::{EncTicketPart, Ticket};

use super::authz_data::{find_pac, placeholder};
use super::build::{Authentication, Logon, PacIdentity, PacRequest, service_pac, tgt_pac};
use super::checksum::{KEY_USAGE_PAC_SIGNATURE, Received, Signing, add_placeholders, sign, verify};
use super::logon_info::{GroupMembership, ValidationInfo};
use super::small_buffers::{Attributes, ClientInfo, UpnDnsInfo};
use super::{Pac, PacError, buffer_type};
use crate::crypto::{Enctype, Key};

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/pac/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn aes256(hex_key: &str) -> Key {
    Key::new(Enctype::Aes256CtsHmacSha196, &hex::decode(hex_key).unwrap()).unwrap()
}

/// MIT t_pac.c `ticket_sig_server_key` and `ticket_sig_krbtgt_key`.
fn windows_keys() -> (Key, Key) {
    (
        aes256("114A84E3148FAAB1FA7B5351B28AC2F1FD196D61E0F3F23E1FDBD3C1797DC1EE"),
        aes256("037381EC43967BC2AC3DF52AAE95A68EBE2458DBCE522820AF5EB704A222714F"),
    )
}

fn sid(text: &str) -> Sid {
    text.parse().unwrap()
}

fn logon_info(pac: &Pac) -> ValidationInfo {
    ValidationInfo::decode(pac.get(buffer_type::LOGON_INFO).unwrap()).unwrap()
}

#[test]
fn samba_pac_parses_and_its_buffers_read_as_samba_printed_them() {
    let bytes = vector("samba_rc4_saved_pac.bin");
    let pac = Pac::parse(&bytes).unwrap();
    assert_eq!(pac.types(), [1, 10, 6, 7]);
    assert_eq!(
        pac.encode(),
        bytes,
        "the buffer list re-encodes byte for byte"
    );
    let info = logon_info(&pac);
    assert_eq!(info.effective_name.value.to_string(), "W2003FINAL$");
    assert_eq!(info.logon_count, 101);
    assert_eq!((info.user_id, info.primary_group_id), (1005, 516));
    assert_eq!(
        info.group_ids,
        [GroupMembership {
            rid: 516,
            attributes: 7
        }]
    );
    assert_eq!(info.user_flags, 0x20);
    assert_eq!(info.logon_server.value.to_string(), "W2003FINAL");
    assert_eq!(info.logon_domain_name.value.to_string(), "WIN2K3THINK");
    assert_eq!(
        info.user_sid().unwrap(),
        sid("S-1-5-21-3048156945-3961193616-3706469200-1005")
    );
    assert_eq!(info.extra_sids.len(), 1);
    assert_eq!(info.extra_sids[0].sid, sid("S-1-5-9"));
    let client = ClientInfo::decode(pac.get(buffer_type::CLIENT_INFO).unwrap()).unwrap();
    assert_eq!(client.name.to_string(), "w2003final$");
    // authtime 1120440609 (t_pac.c) as a FILETIME.
    assert_eq!(client.client_id, kdc_directory::filetime(at(1_120_440_609)));
    assert_eq!(ValidationInfo::decode(&info.encode()).unwrap(), info);
}

#[test]
fn samba_logon_info_re_encodes_byte_for_byte() {
    let pac = Pac::parse(&vector("samba_rc4_saved_pac.bin")).unwrap();
    let original = pac.get(buffer_type::LOGON_INFO).unwrap();
    assert_eq!(
        hex::encode(ValidationInfo::decode(original).unwrap().encode()),
        hex::encode(original)
    );
}

#[test]
fn windows_2022_pac_verifies_all_four_signatures() {
    let (server, krbtgt) = windows_keys();
    let raw = vector("windows2022_pac.bin");
    let ticket = vector("windows2022_enc_ticket_part_zero_pac.der");
    let pac = verify(&raw, &server, &krbtgt, Some(&ticket)).unwrap();
    assert_eq!(pac.types(), [1, 6, 7, 10, 12, 16, 19]);
    let info = logon_info(&pac);
    assert_eq!(info.user_id, 500);
    let rids: Vec<u32> = info.group_ids.iter().map(|g| g.rid).collect();
    assert_eq!(rids, [513, 512, 520, 518, 519]);
    assert_eq!(info.user_flags, 0x220);
    assert_eq!(info.user_account_control, 0x210);
    assert_eq!(info.extra_sids[0].sid, sid("S-1-18-1"));
    assert_eq!(info.extra_sids[0].attributes, 7);
    assert_eq!(
        info.resource_group_ids,
        [GroupMembership {
            rid: 572,
            attributes: 0x2000_0007
        }]
    );
    assert_eq!(ValidationInfo::decode(&info.encode()).unwrap(), info);
    let upn = UpnDnsInfo::decode(pac.get(buffer_type::UPN_DNS_INFO).unwrap()).unwrap();
    assert_eq!(upn.upn.to_string(), "Administrator@w2022-l7.base");
    assert_eq!(upn.dns_domain.to_string(), "W2022-L7.BASE");
    assert_eq!(upn.flags, 3);
    let (sam, user) = upn.sam_and_sid.clone().unwrap();
    assert_eq!(sam.to_string(), "Administrator");
    assert_eq!(user, info.user_sid().unwrap());
    // Windows pads each item to 8 bytes and the buffer after the last one.
    assert_eq!(upn.encode(), pac.get(buffer_type::UPN_DNS_INFO).unwrap());
}

#[test]
fn a_changed_byte_anywhere_fails_the_signature_that_covers_it() {
    let (server, krbtgt) = windows_keys();
    let raw = vector("windows2022_pac.bin");
    let ticket = vector("windows2022_enc_ticket_part_zero_pac.der");
    let mut logon = raw.clone();
    logon[0x78 + 0x80] ^= 1; // UserId
    assert_eq!(
        verify(&logon, &server, &krbtgt, Some(&ticket)).unwrap_err(),
        PacError::BadSignature(buffer_type::SERVER_CHECKSUM)
    );
    let mut server_sig = raw.clone();
    server_sig[0x290 + 4] ^= 1;
    assert!(verify(&server_sig, &server, &krbtgt, Some(&ticket)).is_err());
    let mut kdc_sig = raw.clone();
    kdc_sig[0x2a0 + 4] ^= 1;
    assert_eq!(
        verify(&kdc_sig, &server, &krbtgt, Some(&ticket)).unwrap_err(),
        PacError::BadSignature(buffer_type::KDC_CHECKSUM)
    );
    let mut other_ticket = ticket.clone();
    other_ticket[20] ^= 1;
    assert_eq!(
        verify(&raw, &server, &krbtgt, Some(&other_ticket)).unwrap_err(),
        PacError::BadSignature(buffer_type::TICKET_CHECKSUM)
    );
    // The server signature under another key: a PAC for another service.
    assert_eq!(
        verify(&raw, &krbtgt, &krbtgt, None).unwrap_err(),
        PacError::BadSignature(buffer_type::SERVER_CHECKSUM)
    );
}

#[test]
fn windows_ticket_decrypts_to_the_pac_and_its_placeholder_form_is_what_windows_signed() {
    let (server, krbtgt) = windows_keys();
    let ticket: Ticket = rasn::der::decode(&vector("windows2022_ticket.der")).unwrap();
    let plain = server.decrypt(2, &ticket.enc_part.cipher).unwrap();
    let mut part: EncTicketPart = rasn::der::decode(&plain).unwrap();
    let pac = find_pac(part.authorization_data.as_ref()).unwrap().unwrap();
    assert_eq!(pac, vector("windows2022_pac.bin"));
    part.authorization_data = Some(placeholder().unwrap());
    let with_placeholder = rasn::der::encode(&part).unwrap();
    assert_eq!(
        hex::encode(&with_placeholder),
        hex::encode(vector("windows2022_enc_ticket_part_zero_pac.der"))
    );
    verify(&pac, &server, &krbtgt, Some(&with_placeholder)).unwrap();
}

#[test]
fn mit_s4u_pacs_verify_under_their_aes_server_keys() {
    // t_pac.c `s4u_srv_key`, and `s4u_tgt_srv_key` for the cross-realm ones; their KDC
    // signatures are RC4 (-138) under a key t_pac.c does not give.
    let local = aes256("14DFB5B2CDB42C8894DA2FA882E9729F4A4DC74BA02A242CC6A8D71079B9AD9A");
    let xrealm = aes256("420C39C51A175404451F956B8C58E0F41BCA669A644795CA6E3AD55A3B918C9F");
    for (name, server) in [
        ("s4u_regular.bin", &local),
        ("s4u_enterprise.bin", &local),
        ("s4u_xrealm.bin", &xrealm),
        ("s4u_ent_xrealm.bin", &xrealm),
    ] {
        let raw = vector(name);
        let received = Received::parse(&raw).unwrap();
        received
            .check_server(server)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            received.check_server(if std::ptr::eq(server, &local) {
                &xrealm
            } else {
                &local
            }),
            Err(PacError::BadSignature(buffer_type::SERVER_CHECKSUM))
        );
        assert_eq!(
            received.check_kdc(server),
            Err(PacError::ChecksumType(-138)),
            "an RC4 signature is never accepted"
        );
        let pac = Pac::parse(&raw).unwrap();
        let info = logon_info(&pac);
        assert_eq!(
            ValidationInfo::decode(&info.encode()).unwrap(),
            info,
            "{name}"
        );
        let upn = UpnDnsInfo::decode(pac.get(buffer_type::UPN_DNS_INFO).unwrap()).unwrap();
        assert!(upn.upn.to_string().starts_with("w2k8u@"), "{name}");
    }
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn prototype_settings() -> PacSettings {
    PacSettings {
        domain_sid: "S-1-5-21-1004336348-1177238915-682003330"
            .parse::<DomainSid>()
            .unwrap(),
        netbios_name: NetbiosName::try_from("EXAMPLE".to_owned()).unwrap(),
        logon_server: NetbiosName::try_from("KDC1".to_owned()).unwrap(),
        accept_tgt_without_pac: true,
    }
}

fn prototype_identity() -> PacIdentity {
    PacIdentity {
        user_sid: sid("S-1-5-21-1004336348-1177238915-682003330-1104"),
        user_rid: 1104,
        account_name: "alice".into(),
        full_name: "Alice Example".into(),
        upn: "alice@example.test".into(),
        primary_group_rid: 513,
        domain_groups: vec![513, 1105],
        other_groups: Vec::new(),
        sam_account_flags: 0x210,
        account_expires: kdc_directory::ACCOUNT_NEVER_EXPIRES,
        password_last_set: 0,
    }
}

fn prototype_logon(request: PacRequest) -> Logon<'static> {
    Logon {
        auth_time: at(1_700_000_000),
        client_name: "alice",
        realm: "EXAMPLE.TEST",
        authentication: Authentication {
            key_trust: false,
            fresh: false,
        },
        request,
    }
}

#[test]
fn a_tgt_pac_is_the_one_samba_decoded_and_mit_verified() {
    // The research prototype's PAC (docs/ms-pac-research.md A.3): Samba's ndr_unpack read
    // every buffer and MIT's krb5_pac_verify accepted it with this key as both keys.
    let krbtgt = Key::new(
        Enctype::Aes256CtsHmacSha196,
        &(0u8..32).collect::<Vec<u8>>(),
    )
    .unwrap();
    let mut pac = tgt_pac(
        &prototype_identity(),
        &prototype_logon(PacRequest::Include),
        &prototype_settings(),
    );
    add_placeholders(&mut pac, &krbtgt, &krbtgt, false);
    let signed = sign(pac, &krbtgt, &krbtgt, Signing::Tgt);
    assert_eq!(
        hex::encode(&signed),
        hex::encode(vector("prototype_tgt_pac.bin"))
    );
    verify(&signed, &krbtgt, &krbtgt, None).unwrap();
}

#[test]
fn asserted_identity_sids_follow_how_the_user_logged_on() {
    let mut logon = prototype_logon(PacRequest::Implicit);
    logon.authentication = Authentication {
        key_trust: true,
        fresh: true,
    };
    let pac = tgt_pac(&prototype_identity(), &logon, &prototype_settings());
    let sids: Vec<String> = logon_info(&pac)
        .extra_sids
        .iter()
        .map(|s| s.sid.to_string())
        .collect();
    assert_eq!(sids, ["S-1-18-1", "S-1-18-4", "S-1-18-3"]);
    let attributes = Attributes::decode(pac.get(buffer_type::ATTRIBUTES_INFO).unwrap()).unwrap();
    assert_eq!(attributes, Attributes(0x02));
}

#[test]
fn a_service_ticket_pac_keeps_the_logon_and_drops_what_only_tgts_carry() {
    let krbtgt = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let service = Key::random(Enctype::Aes128CtsHmacSha196).unwrap();
    let mut tgt = tgt_pac(
        &prototype_identity(),
        &prototype_logon(PacRequest::Implicit),
        &prototype_settings(),
    );
    add_placeholders(&mut tgt, &krbtgt, &krbtgt, false);
    let tgt = verify(
        &sign(tgt, &krbtgt, &krbtgt, Signing::Tgt),
        &krbtgt,
        &krbtgt,
        None,
    )
    .unwrap();
    let mut pac = service_pac(&tgt).unwrap().unwrap();
    assert_eq!(pac.types(), [1, 10, 12]);
    add_placeholders(&mut pac, &service, &krbtgt, true);
    let ticket = b"an EncTicketPart with a placeholder PAC";
    let signed = sign(
        pac,
        &service,
        &krbtgt,
        Signing::Service {
            ticket_with_placeholder: ticket,
        },
    );
    let pac = verify(&signed, &service, &krbtgt, Some(ticket)).unwrap();
    assert_eq!(pac.types(), [1, 10, 12, 16, 19, 6, 7]);
    assert_eq!(
        pac.get(buffer_type::LOGON_INFO),
        tgt.get(buffer_type::LOGON_INFO)
    );
    // The server signature is the service key's type, the others the krbtgt key's.
    let server_sig = pac.get(buffer_type::SERVER_CHECKSUM).unwrap();
    assert_eq!(server_sig[..4], 0x0fi32.to_le_bytes());
    assert_eq!(
        service.checksum(KEY_USAGE_PAC_SIGNATURE, b"x").len(),
        server_sig.len() - 4
    );
}

#[test]
fn a_declined_pac_gives_service_tickets_none() {
    let tgt = tgt_pac(
        &prototype_identity(),
        &prototype_logon(PacRequest::Decline),
        &prototype_settings(),
    );
    assert_eq!(service_pac(&tgt).unwrap(), None);
}

#[test]
fn malformed_pacs_are_refused_not_read_past() {
    let good = vector("windows2022_pac.bin");
    for cut in [0, 4, 8, 100, 0x78, 0x3a0] {
        assert!(Pac::parse(&good[..cut]).is_err(), "cut at {cut}");
    }
    let mut misaligned = good.clone();
    misaligned[16] = 0x79;
    assert!(matches!(Pac::parse(&misaligned), Err(PacError::Layout(_))));
    let mut duplicate = good.clone();
    duplicate[0x18] = 0x01; // the SERVER_CHECKSUM entry now says LOGON_INFO
    assert_eq!(
        Pac::parse(&duplicate).unwrap_err(),
        PacError::Duplicate(buffer_type::LOGON_INFO)
    );
    let mut too_many = good.clone();
    too_many[0] = 0xff;
    assert!(Pac::parse(&too_many).is_err());
    let pac = Pac::parse(&good).unwrap();
    let logon = pac.get(buffer_type::LOGON_INFO).unwrap();
    for cut in (0..logon.len()).step_by(7) {
        assert!(
            ValidationInfo::decode(&logon[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut huge_count = logon.to_vec();
    huge_count[0x10 + 0x70..0x10 + 0x74].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(ValidationInfo::decode(&huge_count).is_err());
}
