//! The PAC in tickets through the exchanges ([MS-PAC], [MS-KILE] 3.3.5.3, 3.3.5.7): what a
//! TGT's PAC says of each kind of logon, the service ticket's PAC and its four signatures,
//! and the TGS refusing TGTs whose PAC was changed, names another user, or is missing.

use std::time::{Duration, SystemTime};

use kdc::crypto::{Enctype, Key};
use kdc::pac::authz_data::{find_pac, placeholder, with_pac};
use kdc::pac::buffer_type;
use kdc::pac::checksum::verify;
use kdc::pac::logon_info::ValidationInfo;
use kdc::pac::small_buffers::Attributes;
use kdc::pac::{Pac, build};
use kdc::proto::codes::ErrorCode;
use kdc::proto::kerberos::krbtgt_name;
use kdc_client::{AsReply, ClientOptions};
use kdc_directory::Sid;
use rasn_kerberos::{EncTicketPart, Ticket};

use crate::support::{REALM, Realm, code, register};
use crate::tgs::{alice, exchange, forged_ticket, realm_with_service, request, tgt, web};

fn krbtgt_key(realm: &Realm) -> (u32, Key) {
    let (kvno, key) = realm
        .kdc
        .realm()
        .keys()
        .current(&format!("krbtgt/{REALM}"))
        .unwrap();
    (kvno, key.clone())
}

fn service_key(realm: &Realm) -> Key {
    realm
        .kdc
        .realm()
        .keys()
        .current("host/web.example")
        .unwrap()
        .1
        .clone()
}

fn decrypt(ticket: &Ticket, key: &Key) -> EncTicketPart {
    rasn::der::decode(&key.decrypt(2, &ticket.enc_part.cipher).unwrap()).unwrap()
}

/// The TGT's PAC, its signatures verified under the krbtgt key.
fn tgt_pac(realm: &Realm, tgt: &AsReply) -> Pac {
    let key = krbtgt_key(realm).1;
    let part = decrypt(&tgt.ticket, &key);
    let raw = find_pac(part.authorization_data.as_ref()).unwrap().unwrap();
    verify(&raw, &key, &key, None).unwrap()
}

fn logon_info(pac: &Pac) -> ValidationInfo {
    ValidationInfo::decode(pac.get(buffer_type::LOGON_INFO).unwrap()).unwrap()
}

fn extra_sids(pac: &Pac) -> Vec<String> {
    logon_info(pac)
        .extra_sids
        .iter()
        .map(|s| s.sid.to_string())
        .collect()
}

async fn object_sid(realm: &Realm, name: &str) -> Sid {
    realm
        .kdc
        .realm()
        .directory()
        .find_user(name, REALM)
        .await
        .unwrap()
        .unwrap()
        .object_sid
        .unwrap()
}

async fn login(realm: &Realm, options: ClientOptions, signer: &str) -> AsReply {
    realm.login(&options, &realm.signer(signer)).await.unwrap()
}

#[tokio::test]
async fn a_key_trust_tgt_names_the_user_their_groups_and_how_they_logged_on() {
    let realm = Realm::dev().await;
    let tgt = login(&realm, ClientOptions::new(REALM, "alice"), "alice").await;
    let pac = tgt_pac(&realm, &tgt);
    assert_eq!(pac.types(), [1, 10, 12, 17, 18, 6, 7]);
    let info = logon_info(&pac);
    let alice = object_sid(&realm, "alice").await;
    assert_eq!(info.user_sid(), Some(alice.clone()));
    assert_eq!(info.effective_name.value.to_string(), "alice");
    assert_eq!(info.primary_group_id, 513);
    let groups: Vec<u32> = info.group_ids.iter().map(|g| g.rid).collect();
    assert_eq!(groups, [513, 1105], "Domain Users (primary) and Developers");
    assert_eq!(extra_sids(&pac), ["S-1-18-1", "S-1-18-4"]);
    assert_eq!(info.user_flags, 0x20);
    assert_eq!(
        Sid::from_binary(pac.get(buffer_type::REQUESTOR).unwrap()).unwrap(),
        alice
    );
    assert_eq!(
        Attributes::decode(pac.get(buffer_type::ATTRIBUTES_INFO).unwrap()).unwrap(),
        Attributes(0x02),
        "MIT-like clients send no PA-PAC-REQUEST: given implicitly"
    );
}

/// PasswordLastSet is the entry's pwdLastSet, as AD fills it; the KDC reads no domain
/// password policy, so the password may change at once and never must.
#[tokio::test]
async fn password_times_come_from_pwd_last_set() {
    const SET: u64 = 133_000_000_000_000_000;
    let realm = Realm::new(
        |c| c,
        async |dir| {
            crate::support::set_user_attribute(
                dir,
                &format!("alice@{REALM}"),
                "pwdLastSet",
                &SET.to_string(),
            );
        },
    )
    .await;
    let tgt = login(&realm, ClientOptions::new(REALM, "alice"), "alice").await;
    let info = logon_info(&tgt_pac(&realm, &tgt));
    assert_eq!(info.password_last_set, SET);
    assert_eq!(info.password_can_change, SET);
    assert_eq!(
        info.password_must_change,
        kdc_directory::ACCOUNT_NEVER_EXPIRES
    );
}

#[tokio::test]
async fn certificate_trust_and_a_freshness_token_change_the_asserted_sids() {
    let realm = Realm::dev().await;
    let bob = login(&realm, ClientOptions::new(REALM, "bob"), "bob").await;
    assert_eq!(extra_sids(&tgt_pac(&realm, &bob)), ["S-1-18-1"]);
    let reply = realm.send(&crate::support::mit_first_request(REALM)).await;
    let token = kdc_client::freshness_token_of(&reply).unwrap();
    let options = ClientOptions {
        freshness_token: Some(token),
        pac_request: Some(true),
        ..ClientOptions::new(REALM, "alice")
    };
    let fresh = login(&realm, options, "alice").await;
    let pac = tgt_pac(&realm, &fresh);
    assert_eq!(extra_sids(&pac), ["S-1-18-1", "S-1-18-4", "S-1-18-3"]);
    assert_eq!(
        Attributes::decode(pac.get(buffer_type::ATTRIBUTES_INFO).unwrap()).unwrap(),
        Attributes(0x01)
    );
}

#[tokio::test]
async fn a_service_ticket_carries_the_logon_with_all_four_signatures() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let (ticket, _) = exchange(&realm, &request(&tgt, &alice(), web()))
        .await
        .unwrap();
    let mut part = decrypt(&ticket, &service_key(&realm));
    let raw = find_pac(part.authorization_data.as_ref()).unwrap().unwrap();
    // What the ticket signature covers, made as MIT and Windows verifiers make it.
    part.authorization_data = Some(placeholder().unwrap());
    let with_placeholder = rasn::der::encode(&part).unwrap();
    let krbtgt = krbtgt_key(&realm).1;
    let pac = verify(&raw, &service_key(&realm), &krbtgt, Some(&with_placeholder)).unwrap();
    assert_eq!(pac.types(), [1, 10, 12, 16, 19, 6, 7]);
    let from_tgt = tgt_pac(&realm, &tgt);
    assert_eq!(
        pac.get(buffer_type::LOGON_INFO),
        from_tgt.get(buffer_type::LOGON_INFO)
    );
    // Under another service's key the server signature fails.
    assert!(verify(&raw, &krbtgt, &krbtgt, Some(&with_placeholder)).is_err());
}

/// alice's TGT with its PAC replaced by `pac`, sealed again under the krbtgt key.
fn tgt_with_pac(realm: &Realm, tgt: &AsReply, pac: Option<&[u8]>) -> AsReply {
    let (kvno, key) = krbtgt_key(realm);
    let mut part = decrypt(&tgt.ticket, &key);
    part.authorization_data = pac.map(|pac| with_pac(pac).unwrap());
    let cipher = key.encrypt(2, &rasn::der::encode(&part).unwrap()).unwrap();
    let mut ticket = tgt.ticket.clone();
    ticket.enc_part.cipher = cipher.into();
    ticket.enc_part.kvno = Some(kvno);
    AsReply {
        ticket,
        session_key: tgt.session_key.clone(),
        enc_part: tgt.enc_part.clone(),
        reply_key: tgt.reply_key.clone(),
    }
}

fn signed_tgt_pac(realm: &Realm, pac: Pac) -> Vec<u8> {
    let key = krbtgt_key(realm).1;
    let mut pac = build::renewed_tgt_pac(&pac);
    kdc::pac::checksum::add_placeholders(&mut pac, &key, &key, false);
    kdc::pac::checksum::sign(pac, &key, &key, kdc::pac::checksum::Signing::Tgt)
}

#[tokio::test]
async fn a_tgt_whose_pac_was_changed_is_refused_as_modified() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let key = krbtgt_key(&realm).1;
    let part = decrypt(&tgt.ticket, &key);
    let mut raw = find_pac(part.authorization_data.as_ref()).unwrap().unwrap();
    let (pac, offsets) = Pac::parse_with_offsets(&raw).unwrap();
    assert_eq!(pac.buffers[0].kind, buffer_type::LOGON_INFO);
    raw[offsets[0] + 0x10 + 0x68] ^= 0x01; // UserId: another RID of the same domain
    let changed = tgt_with_pac(&realm, &tgt, Some(&raw));
    assert_eq!(
        crate::tgs::code(exchange(&realm, &request(&changed, &alice(), web())).await),
        ErrorCode::AP_ERR_MODIFIED.0
    );
}

#[tokio::test]
async fn a_validly_signed_pac_naming_another_requestor_is_revoked() {
    let realm = realm_with_service().await;
    let tgt = tgt(&realm).await;
    let mut pac = tgt_pac(&realm, &tgt);
    let bob = object_sid(&realm, "bob").await;
    pac.set(buffer_type::REQUESTOR, bob.to_binary());
    let forged = tgt_with_pac(&realm, &tgt, Some(&signed_tgt_pac(&realm, pac)));
    assert_eq!(
        crate::tgs::code(exchange(&realm, &request(&forged, &alice(), web())).await),
        ErrorCode::TGT_REVOKED.0
    );
}

#[tokio::test]
async fn renewal_refuses_a_tgt_issued_to_an_entry_the_name_no_longer_finds() {
    let realm = realm_with_service().await;
    let options = ClientOptions::new(REALM, "alice");
    let tgt = login(&realm, options, "alice").await;
    // alice's entry deleted and made again under the same name: another objectSid.
    let dir = realm.dir.path();
    let directory = kdc_directory::EmbeddedDirectory::load(&dir.join("directory.toml"))
        .await
        .unwrap();
    let other = object_sid(&realm, "alice")
        .await
        .split_rid()
        .unwrap()
        .0
        .with_rid(4321)
        .unwrap();
    directory
        .set_certificate_mapping(&format!("alice@{REALM}"), Some(other), Vec::new())
        .await
        .unwrap();
    let (_, rebuilt) = kdc::build::from_file(&dir.join("kdc.toml")).await.unwrap();
    let realm = Realm {
        kdc: rebuilt,
        ..realm
    };
    let client = alice();
    let renew = kdc_client::tgs::TgsOptions {
        kdc_options: 0x0000_0002,
        ..request(&tgt, &client, krbtgt_name(REALM))
    };
    assert_eq!(
        crate::tgs::code(exchange(&realm, &renew).await),
        ErrorCode::TGT_REVOKED.0
    );
}

#[tokio::test]
async fn a_tgt_without_a_pac_is_served_in_the_transition_and_refused_after() {
    let session_key = Key::random(Enctype::Aes256CtsHmacSha196).unwrap();
    let now = SystemTime::now();
    let times = kdc::ticket::TicketTimes {
        auth_time: now - Duration::from_secs(60),
        start_time: None,
        end_time: now + Duration::from_secs(3600),
        renew_till: None,
        flags: 0x0060_0000,
    };
    let old_tgt = |realm: &Realm| AsReply {
        ticket: forged_ticket(realm, &alice(), &session_key, &times),
        session_key: session_key.clone(),
        enc_part: rasn_kerberos::EncAsRepPart(crate::tgs::empty_enc_part()),
        reply_key: session_key.clone(),
    };
    let realm = realm_with_service().await;
    let tgt = old_tgt(&realm);
    let (ticket, _) = exchange(&realm, &request(&tgt, &alice(), web()))
        .await
        .unwrap();
    let part = decrypt(&ticket, &service_key(&realm));
    let raw = find_pac(part.authorization_data.as_ref()).unwrap().unwrap();
    let pac = Pac::parse(&raw).unwrap();
    assert_eq!(
        logon_info(&pac).user_sid(),
        Some(object_sid(&realm, "alice").await)
    );
    assert_eq!(
        extra_sids(&pac),
        ["S-1-18-1"],
        "how alice logged on is unknown"
    );

    let strict = Realm::new(
        |c| {
            c.replace(
                "accept_tgt_without_pac = true",
                "accept_tgt_without_pac = false",
            )
        },
        async |dir| {
            kdc::admin::services::service_add(&dir.join("kdc.toml"), "host/web.example")
                .await
                .unwrap();
        },
    )
    .await;
    let tgt = old_tgt(&strict);
    assert_eq!(
        crate::tgs::code(exchange(&strict, &request(&tgt, &alice(), web())).await),
        ErrorCode::TGT_REVOKED.0
    );
}

#[tokio::test]
async fn a_declined_pac_stays_in_the_tgt_and_out_of_service_tickets() {
    let realm = realm_with_service().await;
    let options = ClientOptions {
        pac_request: Some(false),
        ..ClientOptions::new(REALM, "alice")
    };
    let tgt = login(&realm, options, "alice").await;
    let pac = tgt_pac(&realm, &tgt);
    assert_eq!(
        Attributes::decode(pac.get(buffer_type::ATTRIBUTES_INFO).unwrap()).unwrap(),
        Attributes(0)
    );
    let (ticket, _) = exchange(&realm, &request(&tgt, &alice(), web()))
        .await
        .unwrap();
    assert_eq!(
        decrypt(&ticket, &service_key(&realm)).authorization_data,
        None
    );
}

#[tokio::test]
async fn a_user_without_an_objectsid_gets_no_tgt_while_the_realm_issues_pacs() {
    let realm = Realm::new(
        |c| c,
        async |dir| {
            let directory = kdc_directory::EmbeddedDirectory::load(&dir.join("directory.toml"))
                .await
                .unwrap();
            use kdc_directory::{DirectoryAdmin, NewUser};
            directory
                .add_user(NewUser {
                    dn: "CN=nosid,CN=Users,DC=example,DC=test".into(),
                    user_principal_name: format!("nosid@{REALM}"),
                    sam_account_name: Some("nosid".into()),
                    user_account_control: kdc_directory::UF_NORMAL_ACCOUNT,
                    object_sid: None,
                })
                .await
                .unwrap();
            register(dir, &format!("nosid@{REALM}"), "alice.pem").await;
        },
    )
    .await;
    assert_eq!(
        code(
            realm
                .login(&ClientOptions::new(REALM, "nosid"), &realm.signer("alice"))
                .await
        ),
        ErrorCode::POLICY.0
    );
}
