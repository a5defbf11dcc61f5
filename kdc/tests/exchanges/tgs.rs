//! The TGS exchange in process (RFC 4120 §3.3): service tickets that decrypt with the service
//! key, renewal, krbtgt rotation, and each authentication failure with its code.

use std::time::{Duration, SystemTime};

use kdc::crypto::{Enctype, Key};
use kdc::proto::codes::ErrorCode;
use kdc::proto::kerberos::{NT_SRV_INST, kerberos_time, krbtgt_name, name_to_string, principal};
use kdc_client::tgs::{TgsOptions, build_tgs_request, read_tgs_reply};
use kdc_client::{AsReply, ClientError, ClientOptions};
use rasn_kerberos::{EncTicketPart, PrincipalName};

use crate::support::{REALM, Realm};

const RENEW: u32 = 0x0000_0002;

pub(crate) async fn realm_with_service() -> Realm {
    Realm::new(
        |c| c,
        async |dir| {
            kdc::admin::services::service_add(&dir.join("kdc.toml"), "host/web.example")
                .await
                .unwrap();
        },
    )
    .await
}

pub(crate) fn web() -> PrincipalName {
    principal(NT_SRV_INST, &["host", "web.example"])
}

pub(crate) fn alice() -> PrincipalName {
    principal(1, &["alice"])
}

pub(crate) async fn tgt(realm: &Realm) -> AsReply {
    realm
        .login(&ClientOptions::new(REALM, "alice"), &realm.signer("alice"))
        .await
        .unwrap()
}

pub(crate) fn request<'a>(
    tgt: &'a AsReply,
    client: &'a PrincipalName,
    service: PrincipalName,
) -> TgsOptions<'a> {
    TgsOptions {
        realm: REALM,
        client,
        tgt: &tgt.ticket,
        session_key: &tgt.session_key,
        service,
        kdc_options: 0x4000_0000,
        etypes: vec![18, 17],
        subkey: None,
    }
}

pub(crate) async fn exchange(
    realm: &Realm,
    options: &TgsOptions<'_>,
) -> Result<(rasn_kerberos::Ticket, rasn_kerberos::EncTgsRepPart), ClientError> {
    let req = build_tgs_request(options).unwrap();
    let reply = realm.send(&req.message).await;
    let (key, usage) = match &options.subkey {
        Some(subkey) => (subkey, 9),
        None => (options.session_key, 8),
    };
    read_tgs_reply(&req, &reply, key, usage)
}

pub(crate) fn code<T>(result: Result<T, ClientError>) -> i32 {
    match result {
        Err(ClientError::KrbError(code)) => code,
        Err(other) => panic!("expected a KRB-ERROR, got {other}"),
        Ok(_) => panic!("expected a KRB-ERROR, got a ticket"),
    }
}

#[tokio::test]
async fn service_ticket_decrypts_with_the_service_key_under_session_key_or_subkey() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let client = alice();
    for subkey in [
        None,
        Some(Key::random(Enctype::Aes128CtsHmacSha196).unwrap()),
    ] {
        let options = TgsOptions {
            subkey,
            ..request(&tgt, &client, web())
        };
        let (ticket, part) = exchange(&realm, &options).await.unwrap();
        assert_eq!(name_to_string(&part.0.sname), "host/web.example");
        let (kvno, service_key) = realm
            .kdc
            .realm()
            .keys()
            .current("host/web.example")
            .unwrap();
        assert_eq!(ticket.enc_part.kvno, Some(kvno));
        let inner: EncTicketPart =
            rasn::der::decode(&service_key.decrypt(2, &ticket.enc_part.cipher).unwrap()).unwrap();
        assert_eq!(name_to_string(&inner.cname), "alice");
        assert_eq!(inner.key.value, part.0.key.value);
        assert_eq!(
            inner.key.r#type, 18,
            "first of the client's enctypes the service has"
        );
        let flags = u32::from_be_bytes(inner.flags.0.as_raw_slice().try_into().unwrap());
        assert_eq!(flags & 0x0040_0000, 0, "a service ticket is not initial");
        assert_ne!(flags & 0x0020_0000, 0, "pre-authent carries over");
    }
}

#[tokio::test]
async fn unknown_service_and_bad_authenticators_get_their_codes() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let client = alice();
    let unknown = principal(NT_SRV_INST, &["host", "nowhere.example"]);
    assert_eq!(
        code(exchange(&realm, &request(&tgt, &client, unknown)).await),
        ErrorCode::S_PRINCIPAL_UNKNOWN.0
    );

    let wrong_key = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let options = TgsOptions {
        session_key: &wrong_key,
        ..request(&tgt, &client, web())
    };
    assert_eq!(
        code(exchange(&realm, &options).await),
        ErrorCode::AP_ERR_BAD_INTEGRITY.0
    );

    let bob = principal(1, &["bob"]);
    assert_eq!(
        code(exchange(&realm, &request(&tgt, &bob, web())).await),
        ErrorCode::AP_ERR_BADMATCH.0
    );

    // A byte of the body changed after the authenticator checksummed it.
    let mut req = build_tgs_request(&request(&tgt, &client, web())).unwrap();
    let last = req.message.len() - 1;
    req.message[last] ^= 0x01; // the last etype: 17 -> 16
    let reply = realm.send(&req.message).await;
    assert_eq!(
        code(read_tgs_reply(&req, &reply, &tgt.session_key, 8)),
        ErrorCode::AP_ERR_MODIFIED.0
    );

    // A flipped byte inside the TGT's ciphertext.
    let mut tampered = tgt.ticket.clone();
    let mut cipher = tampered.enc_part.cipher.to_vec();
    cipher[20] ^= 0x01;
    tampered.enc_part.cipher = cipher.into();
    let options = TgsOptions {
        tgt: &tampered,
        ..request(&tgt, &client, web())
    };
    assert_eq!(
        code(exchange(&realm, &options).await),
        ErrorCode::AP_ERR_BAD_INTEGRITY.0
    );
}

/// A TGT for alice sealed by the test with the realm's krbtgt key, with chosen times and
/// flags, issued two hours before its end.
fn forged_tgt(
    realm: &Realm,
    session_key: &Key,
    end: SystemTime,
    renew_till: Option<SystemTime>,
    flags: u32,
) -> rasn_kerberos::Ticket {
    let times = kdc::ticket::TicketTimes {
        auth_time: end - Duration::from_secs(7200),
        start_time: None,
        end_time: end,
        renew_till,
        flags,
    };
    forged_ticket(realm, &alice(), session_key, &times)
}

pub(crate) fn forged_ticket(
    realm: &Realm,
    client: &PrincipalName,
    session_key: &Key,
    times: &kdc::ticket::TicketTimes,
) -> rasn_kerberos::Ticket {
    let key = realm
        .kdc
        .realm()
        .keys()
        .current(&format!("krbtgt/{REALM}"))
        .unwrap();
    kdc::ticket::seal_ticket(
        REALM,
        &krbtgt_name(REALM),
        client,
        session_key,
        times,
        key,
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn expired_tgt_is_refused_and_renewal_needs_a_renewable_ticket() {
    let realm = realm_with_service().await;
    let session_key = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let client = alice();
    let now = SystemTime::now();
    let holder = |ticket: rasn_kerberos::Ticket| AsReply {
        session_key: session_key.clone(),
        ticket,
        enc_part: rasn_kerberos::EncAsRepPart(empty_enc_part()),
        reply_key: session_key.clone(),
    };

    let expired = holder(forged_tgt(
        &realm,
        &session_key,
        now - Duration::from_secs(60),
        None,
        0x0060_0000,
    ));
    assert_eq!(
        code(exchange(&realm, &request(&expired, &client, web())).await),
        ErrorCode::AP_ERR_TKT_EXPIRED.0
    );

    let plain = holder(forged_tgt(
        &realm,
        &session_key,
        now + Duration::from_secs(3600),
        None,
        0x0060_0000,
    ));
    let renew = TgsOptions {
        kdc_options: RENEW,
        ..request(&plain, &client, krbtgt_name(REALM))
    };
    assert_eq!(code(exchange(&realm, &renew).await), ErrorCode::BADOPTION.0);

    // Renewable and within renew-till: renewal gives a fresh ticket while it is valid...
    let renewable = holder(forged_tgt(
        &realm,
        &session_key,
        now + Duration::from_secs(60),
        Some(now + Duration::from_secs(86_400)),
        0x0060_0000 | 0x0080_0000,
    ));
    let renew = TgsOptions {
        kdc_options: RENEW,
        ..request(&renewable, &client, krbtgt_name(REALM))
    };
    let (_, part) = exchange(&realm, &renew).await.unwrap();
    assert!(kdc::proto::kerberos::system_time(&part.0.end_time) > now + Duration::from_secs(3600));
    assert!(part.0.renew_till.is_some());

    // ...but not once it has expired (RFC 4120 §2.3), renew-till or not.
    let expired_renewable = holder(forged_tgt(
        &realm,
        &session_key,
        now - Duration::from_secs(60),
        Some(now + Duration::from_secs(86_400)),
        0x0060_0000 | 0x0080_0000,
    ));
    let renew = TgsOptions {
        kdc_options: RENEW,
        ..request(&expired_renewable, &client, krbtgt_name(REALM))
    };
    assert_eq!(
        code(exchange(&realm, &renew).await),
        ErrorCode::AP_ERR_TKT_EXPIRED.0
    );

    let past_renew = holder(forged_tgt(
        &realm,
        &session_key,
        now - Duration::from_secs(120),
        Some(now - Duration::from_secs(60)),
        0x0060_0000 | 0x0080_0000,
    ));
    let renew = TgsOptions {
        kdc_options: RENEW,
        ..request(&past_renew, &client, krbtgt_name(REALM))
    };
    assert_eq!(
        code(exchange(&realm, &renew).await),
        ErrorCode::AP_ERR_TKT_EXPIRED.0
    );
}

pub(crate) fn empty_enc_part() -> rasn_kerberos::EncKdcRepPart {
    rasn_kerberos::EncKdcRepPart {
        key: rasn_kerberos::EncryptionKey {
            r#type: 18,
            value: vec![0; 32].into(),
        },
        last_req: vec![],
        nonce: 0,
        key_expiration: None,
        flags: rasn_kerberos::TicketFlags(kdc::proto::kerberos::flags(0)),
        auth_time: kerberos_time(SystemTime::now()),
        start_time: None,
        end_time: kerberos_time(SystemTime::now()),
        renew_till: None,
        srealm: kdc::proto::kerberos::kerberos_string(REALM),
        sname: krbtgt_name(REALM),
        caddr: None,
        encrypted_pa_data: None,
    }
}

#[tokio::test]
async fn after_krbtgt_rotation_old_tgts_still_work_and_new_ones_use_the_new_kvno() {
    let before = realm_with_service().await;
    let old_tgt = tgt(&before).await;
    assert_eq!(old_tgt.ticket.enc_part.kvno, Some(1));
    let config = before.dir.path().join("kdc.toml");
    kdc::admin::services::krbtgt_rotate(&config).await.unwrap();
    let (_, after) = kdc::build::from_file(&config).await.unwrap();
    let after = Realm {
        dir: before.dir,
        kdc: after,
    };
    let client = alice();
    exchange(&after, &request(&old_tgt, &client, web()))
        .await
        .unwrap();
    let new_tgt = tgt(&after).await;
    assert_eq!(new_tgt.ticket.enc_part.kvno, Some(2));
    exchange(&after, &request(&new_tgt, &client, web()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_flipped_authenticator_byte_fails_integrity() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let client = alice();
    let req = build_tgs_request(&request(&tgt, &client, web())).unwrap();
    let mut tgs_req: rasn_kerberos::TgsReq = rasn::der::decode(&req.message).unwrap();
    let padata = tgs_req.0.padata.as_mut().unwrap();
    let mut ap_req: rasn_kerberos::ApReq = rasn::der::decode(&padata[0].value).unwrap();
    let mut cipher = ap_req.authenticator.cipher.to_vec();
    cipher[30] ^= 0x01;
    ap_req.authenticator.cipher = cipher.into();
    padata[0].value = rasn::der::encode(&ap_req).unwrap().into();
    let reply = realm.send(&rasn::der::encode(&tgs_req).unwrap()).await;
    assert_eq!(
        code(read_tgs_reply(&req, &reply, &tgt.session_key, 8)),
        ErrorCode::AP_ERR_BAD_INTEGRITY.0
    );
}

#[tokio::test]
async fn forwardable_and_forwarded_follow_the_request_and_the_tgt() {
    const FORWARDABLE: u32 = 0x4000_0000;
    const FORWARDED: u32 = 0x2000_0000;
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let client = alice();
    let flags_of = |part: &rasn_kerberos::EncTgsRepPart| {
        u32::from_be_bytes(part.0.flags.0.as_raw_slice().try_into().unwrap())
    };

    let (_, part) = exchange(
        &realm,
        &TgsOptions {
            kdc_options: FORWARDABLE,
            ..request(&tgt, &client, web())
        },
    )
    .await
    .unwrap();
    assert_eq!(flags_of(&part) & (FORWARDABLE | FORWARDED), FORWARDABLE);
    let (_, part) = exchange(
        &realm,
        &TgsOptions {
            kdc_options: 0,
            ..request(&tgt, &client, web())
        },
    )
    .await
    .unwrap();
    assert_eq!(flags_of(&part) & (FORWARDABLE | FORWARDED), 0);
    let (_, part) = exchange(
        &realm,
        &TgsOptions {
            kdc_options: FORWARDED,
            ..request(&tgt, &client, web())
        },
    )
    .await
    .unwrap();
    assert_eq!(flags_of(&part) & FORWARDED, FORWARDED);

    // A TGT that is not forwardable passes neither on.
    let session_key = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let now = SystemTime::now();
    let plain = AsReply {
        session_key: session_key.clone(),
        ticket: forged_tgt(
            &realm,
            &session_key,
            now + Duration::from_secs(3600),
            None,
            0x0060_0000,
        ),
        enc_part: rasn_kerberos::EncAsRepPart(empty_enc_part()),
        reply_key: session_key.clone(),
    };
    let options = TgsOptions {
        kdc_options: FORWARDABLE | FORWARDED,
        ..request(&plain, &client, web())
    };
    let (_, part) = exchange(&realm, &options).await.unwrap();
    assert_eq!(flags_of(&part) & (FORWARDABLE | FORWARDED), 0);
}

/// bob disabled, carol expired, dave locked out, erin fine; "ghost" is in no entry. The
/// realm issues no PACs: these TGTs are forged without one, which with PACs on is the
/// transition case (`pac.rs` tests it).
async fn realm_with_account_states() -> Realm {
    Realm::new(crate::support::without_pacs, async |dir| {
        kdc::admin::services::service_add(&dir.join("kdc.toml"), "host/web.example")
            .await
            .unwrap();
        let directory = kdc_directory::EmbeddedDirectory::load(&dir.join("directory.toml"))
            .await
            .unwrap();
        use kdc_directory::DirectoryAdmin;
        directory
            .set_disabled(&format!("bob@{REALM}"), true)
            .await
            .unwrap();
        for name in ["carol", "dave", "erin"] {
            crate::support::add_user(dir, name, &format!("{name}@{REALM}"), Some(name)).await;
        }
        let past = kdc_directory::filetime(SystemTime::now() - Duration::from_secs(60));
        crate::support::set_user_attribute(
            dir,
            &format!("carol@{REALM}"),
            "accountExpires",
            &past.to_string(),
        );
        crate::support::set_user_attribute(dir, &format!("dave@{REALM}"), "lockoutTime", "1");
    })
    .await
}

/// The code (0 for a ticket) of a TGS-REQ for the web service, or of a renewal, with a TGT for
/// `user` issued `age` ago and valid for another hour.
async fn with_tgt_of_age(realm: &Realm, user: &str, age: Duration, renew: bool) -> i32 {
    let now = SystemTime::now();
    let session_key = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let client = principal(1, &[user]);
    let times = kdc::ticket::TicketTimes {
        auth_time: now - age,
        start_time: None,
        end_time: now + Duration::from_secs(3600),
        renew_till: Some(now + Duration::from_secs(86_400)),
        flags: 0x0060_0000 | 0x0080_0000,
    };
    let tgt = AsReply {
        session_key: session_key.clone(),
        ticket: forged_ticket(realm, &client, &session_key, &times),
        enc_part: rasn_kerberos::EncAsRepPart(empty_enc_part()),
        reply_key: session_key.clone(),
    };
    let options = match renew {
        true => TgsOptions {
            kdc_options: RENEW,
            ..request(&tgt, &client, krbtgt_name(REALM))
        },
        false => request(&tgt, &client, web()),
    };
    match exchange(realm, &options).await {
        Ok(_) => 0,
        Err(ClientError::KrbError(code)) => code,
        Err(other) => panic!("{user}: {other}"),
    }
}

#[tokio::test]
async fn the_account_is_checked_again_on_renewal_and_for_tgts_past_the_threshold() {
    let realm = realm_with_account_states().await;
    let fresh = kdc::tgs::ACCOUNT_RECHECK_AFTER - Duration::from_secs(60);
    let old = kdc::tgs::ACCOUNT_RECHECK_AFTER + Duration::from_secs(60);
    let revoked = ErrorCode::CLIENT_REVOKED.0;
    let unknown = ErrorCode::C_PRINCIPAL_UNKNOWN.0;
    for (user, expected_when_checked) in [
        ("erin", 0),
        ("bob", revoked),
        ("carol", revoked),
        ("dave", revoked),
        ("ghost", unknown),
    ] {
        // A fresh TGT is trusted as it is (no directory lookup on the hot path)...
        assert_eq!(
            with_tgt_of_age(&realm, user, fresh, false).await,
            0,
            "{user}"
        );
        // ...an older one, and every renewal, only if the account still may have tickets.
        assert_eq!(
            with_tgt_of_age(&realm, user, old, false).await,
            expected_when_checked,
            "{user}, old TGT"
        );
        assert_eq!(
            with_tgt_of_age(&realm, user, fresh, true).await,
            expected_when_checked,
            "{user}, renewal"
        );
    }
}

/// RFC 4120 §3.3.2: an authenticator is accepted once. The same TGS-REQ again, or a new one
/// around the same authenticator (here: an extra PA-DATA, which the checksum does not cover),
/// gets KRB_AP_ERR_REPEAT; a new authenticator passes.
#[tokio::test]
async fn a_replayed_authenticator_is_refused() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let client = alice();
    let options = request(&tgt, &client, web());
    let req = build_tgs_request(&options).unwrap();
    let first = realm.send(&req.message).await;
    read_tgs_reply(&req, &first, &tgt.session_key, 8).unwrap();
    let again = realm.send(&req.message).await;
    assert_eq!(
        code(read_tgs_reply(&req, &again, &tgt.session_key, 8)),
        ErrorCode::AP_ERR_REPEAT.0
    );
    let mut rewrapped: rasn_kerberos::TgsReq = rasn::der::decode(&req.message).unwrap();
    if let Some(padata) = rewrapped.0.padata.as_mut() {
        padata.push(rasn_kerberos::PaData {
            r#type: 0x7fff,
            value: Vec::new().into(),
        });
    }
    let rewrapped = rasn::der::encode(&rewrapped).unwrap();
    assert_ne!(rewrapped, req.message);
    let reply = realm.send(&rewrapped).await;
    assert_eq!(
        code(read_tgs_reply(&req, &reply, &tgt.session_key, 8)),
        ErrorCode::AP_ERR_REPEAT.0
    );
    exchange(&realm, &options).await.unwrap();
}
