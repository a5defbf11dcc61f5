//! The AS exchange end to end in process: a development realm, the KDC core, and the PKINIT
//! client, for every outcome of RFC 4556 §3.2.2-§3.2.3 key trust the issue names.

use std::net::SocketAddr;

use kdc::preauth::pkinit::agreement::{DhGroup, ModpGroup, PkinitKdf};
use kdc::proto::codes::ErrorCode;
use kdc::proto::der::{Tlv, tag};
use kdc::proto::kerberos::name_to_string;
use kdc::server::{RequestContext, Transport};
use kdc_client::{self as client, ClientOptions};
use kdc_directory::EmbeddedDirectory;
use rasn_kerberos::{EncTicketPart, KrbError};

use crate::support::{REALM, Realm, code, mit_first_request, register, self_signed};

#[tokio::test]
async fn alice_gets_a_tgt_with_every_kdf_and_with_octetstring2key() {
    let realm = Realm::dev().await;
    let alice = realm.signer("alice");
    for kdfs in [
        vec![PkinitKdf::Sha256],
        vec![PkinitKdf::Sha1],
        vec![PkinitKdf::Sha512],
        vec![],
    ] {
        let options = ClientOptions {
            kdfs: kdfs.clone(),
            ..ClientOptions::new(REALM, "alice")
        };
        let reply = realm
            .login(&options, &alice)
            .await
            .unwrap_or_else(|e| panic!("{kdfs:?}: {e}"));
        assert_eq!(
            name_to_string(&reply.enc_part.0.sname),
            format!("krbtgt/{REALM}")
        );
        assert_eq!(
            reply.reply_key.enctype().as_i32(),
            18,
            "first of the client's etypes"
        );

        let (kvno, krbtgt) = realm
            .kdc
            .realm()
            .keys()
            .current(&format!("krbtgt/{REALM}"))
            .unwrap();
        assert_eq!(reply.ticket.enc_part.kvno, Some(kvno));
        let part: EncTicketPart =
            rasn::der::decode(&krbtgt.decrypt(2, &reply.ticket.enc_part.cipher).unwrap()).unwrap();
        assert_eq!(name_to_string(&part.cname), "alice");
        assert_eq!(part.key.value.as_ref(), reply.session_key.as_bytes());
        let flag_bits = u32::from_be_bytes(part.flags.0.as_raw_slice().try_into().unwrap());
        assert_eq!(
            flag_bits & 0x0060_0000,
            0x0060_0000,
            "initial and pre-authent"
        );
    }
}

#[tokio::test]
async fn client_dh_nonce_gets_a_server_nonce_and_modp16_works() {
    let realm = Realm::dev().await;
    let alice = realm.signer("alice");
    let options = ClientOptions {
        kdfs: vec![],
        send_client_dh_nonce: true,
        ..ClientOptions::new(REALM, "alice")
    };
    let (reply, read) = realm.exchange(&options, &alice).await;
    read.unwrap();
    // RFC 4556 §3.2.3.1: a clientDHNonce is answered with a serverDHNonce (32 bytes here).
    let server_nonce = crate::client_shapes::dh_reply(&reply).info.server_dh_nonce;
    assert_eq!(server_nonce.map(|n| n.len()), Some(32));
    let options = ClientOptions {
        group: DhGroup::Modp(ModpGroup::Modp16),
        ..ClientOptions::new(REALM, "alice")
    };
    realm.login(&options, &alice).await.unwrap();
}

#[tokio::test]
async fn modp2_is_refused_with_the_acceptable_groups_unless_allowed() {
    let realm = Realm::dev().await;
    let alice = realm.signer("alice");
    let options = ClientOptions {
        group: DhGroup::Modp(ModpGroup::Modp2),
        ..ClientOptions::new(REALM, "alice")
    };
    let request = client::build_request(&options, &alice).await.unwrap();
    let reply = realm.send(&request.message).await;
    let error: KrbError = rasn::der::decode(&reply).unwrap();
    assert_eq!(
        error.error_code,
        ErrorCode::DH_KEY_PARAMETERS_NOT_ACCEPTED.0
    );
    // e-data: TYPED-DATA with TD-DH-PARAMETERS holding five AlgorithmIdentifiers: groups 14
    // and 16, then P-256, P-384 and P-521.
    let typed: Vec<kdc::proto::pkinit::TypedDataEntry> =
        rasn::der::decode(&error.e_data.unwrap()).unwrap();
    assert_eq!(typed[0].data_type, 109);
    let groups = Tlv::read_only(typed[0].data_value.as_ref().unwrap(), tag::SEQUENCE).unwrap();
    assert_eq!(groups.children().count(), 5);

    let lenient = Realm::new(
        |c| c.replace("min_dh_bits = 2048", "min_dh_bits = 1024"),
        async |_| {},
    )
    .await;
    lenient
        .login(&options, &lenient.signer("alice"))
        .await
        .unwrap();
}

#[tokio::test]
async fn no_preauth_gets_preauth_required_listing_pkinit() {
    let realm = Realm::dev().await;
    // MIT's first AS-REQ asks for a freshness token (an empty PA_AS_FRESHNESS, RFC 8070).
    let error: KrbError = rasn::der::decode(&realm.send(&mit_first_request(REALM)).await).unwrap();
    assert_eq!(error.error_code, ErrorCode::PREAUTH_REQUIRED.0);
    let methods: Vec<rasn_kerberos::PaData> = rasn::der::decode(&error.e_data.unwrap()).unwrap();
    assert_eq!(
        methods.iter().map(|m| m.r#type).collect::<Vec<_>>(),
        vec![16, 150]
    );
    assert!(!methods[1].value.is_empty());
    let skew = std::time::SystemTime::now()
        .duration_since(kdc::proto::kerberos::system_time(&error.stime))
        .unwrap();
    assert!(skew.as_secs() < 5, "stime is the KDC's clock");
}

#[tokio::test]
async fn unknown_and_disabled_users_are_refused() {
    let realm = Realm::new(
        |c| c,
        async |dir| {
            let directory = EmbeddedDirectory::load(&dir.join("directory.toml"))
                .await
                .unwrap();
            use kdc_directory::DirectoryAdmin;
            directory
                .set_disabled(&format!("bob@{REALM}"), true)
                .await
                .unwrap();
        },
    )
    .await;
    let alice = realm.signer("alice");
    assert_eq!(
        code(
            realm
                .login(&ClientOptions::new(REALM, "carol"), &alice)
                .await
        ),
        ErrorCode::C_PRINCIPAL_UNKNOWN.0
    );
    assert_eq!(
        code(realm.login(&ClientOptions::new(REALM, "bob"), &alice).await),
        ErrorCode::CLIENT_REVOKED.0
    );
    let wrong_realm = ClientOptions::new("OTHER.TEST", "alice");
    assert_eq!(
        code(realm.login(&wrong_realm, &alice).await),
        ErrorCode::WRONG_REALM.0
    );
}

#[tokio::test]
async fn unregistered_key_is_not_trusted_and_another_users_key_is_a_name_mismatch() {
    let realm = Realm::new(
        |c| c,
        async |dir| {
            self_signed(dir, "stranger");
            self_signed(dir, "bob");
            register(dir, &format!("bob@{REALM}"), "bob.pem").await;
        },
    )
    .await;
    let alice = ClientOptions::new(REALM, "alice");
    assert_eq!(
        code(realm.login(&alice, &realm.signer("stranger")).await),
        ErrorCode::CLIENT_NOT_TRUSTED.0
    );
    assert_eq!(
        code(realm.login(&alice, &realm.signer("bob")).await),
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
    realm
        .login(&ClientOptions::new(REALM, "bob"), &realm.signer("bob"))
        .await
        .unwrap();
}

#[tokio::test]
async fn clock_skew_is_refused_both_ways() {
    let realm = Realm::dev().await;
    let alice = realm.signer("alice");
    for offset in [3600, -3600] {
        let options = ClientOptions {
            clock_offset_secs: offset,
            ..ClientOptions::new(REALM, "alice")
        };
        assert_eq!(
            code(realm.login(&options, &alice).await),
            ErrorCode::SKEW.0,
            "offset {offset}"
        );
    }
    let options = ClientOptions {
        clock_offset_secs: 200,
        ..ClientOptions::new(REALM, "alice")
    };
    realm.login(&options, &alice).await.unwrap();
}

#[tokio::test]
async fn tampered_body_or_signature_fails_preauth() {
    let realm = Realm::dev().await;
    let alice = realm.signer("alice");
    let options = ClientOptions::new(REALM, "alice");

    // The body ends with the etype list; 19 -> 18 keeps it valid DER but breaks paChecksum.
    let mut request = client::build_request(&options, &alice).await.unwrap();
    let last = request.message.len() - 1;
    assert_eq!(request.message[last], 19);
    request.message[last] = 18;
    let error: KrbError = rasn::der::decode(&realm.send(&request.message).await).unwrap();
    assert_eq!(error.error_code, ErrorCode::PREAUTH_FAILED.0);

    // A flipped bit in the CMS signature.
    let request = client::build_request(&options, &alice).await.unwrap();
    let tampered = crate::support::with_signature_bit_flipped(&request.message);
    let error: KrbError = rasn::der::decode(&realm.send(&tampered).await).unwrap();
    assert_eq!(error.error_code, ErrorCode::PREAUTH_FAILED.0);
}

#[tokio::test]
async fn garbage_is_dropped_and_a_foreign_tgt_is_refused() {
    let realm = Realm::dev().await;
    let ctx = RequestContext {
        peer: SocketAddr::from(([127, 0, 0, 1], 1)),
        transport: Transport::Udp,
    };
    assert!(realm.kdc.answer(b"\x00\x01garbage", ctx).await.is_none());
    let tgs = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/wire/mit_tgs_req_host.der"
    ))
    .unwrap();
    let error: KrbError = rasn::der::decode(&realm.kdc.answer(&tgs, ctx).await.unwrap()).unwrap();
    // MIT kvno's captured request carries a TGT of TEST.REALM: not ours.
    assert_eq!(error.error_code, ErrorCode::AP_ERR_NOT_US.0);
}
