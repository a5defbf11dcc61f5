//! The client's account at AS time, in process: a name that resolves to two entries gets
//! KDC_ERR_PRINCIPAL_NOT_UNIQUE (the CVE-2021-42287 shape), expired and locked-out accounts
//! KDC_ERR_CLIENT_REVOKED, and the canonicalize option (RFC 6806 §5) picks the reply's name.

use std::time::{Duration, SystemTime};

use kdc::proto::codes::ErrorCode;
use kdc::proto::kerberos::name_to_string;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::{AsRep, EncTicketPart};

use crate::support::{REALM, Realm, add_user, code, register, set_user_attribute};

/// bob's own entry and mallory's, whose UPN mallory set to `bob@REALM` and registered a key on.
async fn realm_with_a_upn_squatter() -> Realm {
    Realm::new(
        |c| c,
        async |dir| {
            add_user(dir, "robert", "robert@corp.example", Some("victim")).await;
            add_user(dir, "mallory", &format!("victim@{REALM}"), Some("mallory")).await;
            register(dir, &format!("victim@{REALM}"), "alice.pem").await;
        },
    )
    .await
}

#[tokio::test]
async fn a_upn_on_another_entry_than_the_sam_account_name_is_not_unique() {
    let realm = realm_with_a_upn_squatter().await;
    let key = realm.signer("alice");
    assert_eq!(
        code(
            realm
                .login(&ClientOptions::new(REALM, "victim"), &key)
                .await
        ),
        ErrorCode::PRINCIPAL_NOT_UNIQUE.0,
        "a ticket named victim for mallory's key"
    );
    // The key is good for mallory's own, unambiguous name.
    realm
        .login(&ClientOptions::new(REALM, "mallory"), &key)
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_and_locked_out_accounts_are_revoked() {
    let past = kdc_directory::filetime(SystemTime::now() - Duration::from_secs(60));
    let future = kdc_directory::filetime(SystemTime::now() + Duration::from_secs(86_400));
    for (attribute, value, revoked) in [
        ("accountExpires", past.to_string(), true),
        ("accountExpires", future.to_string(), false),
        ("accountExpires", "0".to_string(), false),
        ("accountExpires", "9223372036854775807".to_string(), false),
        ("lockoutTime", "133000000000000000".to_string(), true),
        ("lockoutTime", "0".to_string(), false),
    ] {
        let realm = Realm::new(
            |c| c,
            async |dir| set_user_attribute(dir, &format!("alice@{REALM}"), attribute, &value),
        )
        .await;
        let login = realm
            .login(&ClientOptions::new(REALM, "alice"), &realm.signer("alice"))
            .await;
        match revoked {
            true => assert_eq!(
                code(login),
                ErrorCode::CLIENT_REVOKED.0,
                "{attribute} = {value}"
            ),
            false => assert!(login.is_ok(), "{attribute} = {value}"),
        }
    }
}

/// The reply's cname and the ticket's, for a login as `user`.
async fn names_in_reply(realm: &Realm, user: &str, canonicalize: bool) -> (String, String) {
    let options = ClientOptions {
        canonicalize,
        ..ClientOptions::new(REALM, user)
    };
    let request = client::build_request(&options, &realm.signer("alice"))
        .await
        .unwrap();
    let reply = realm.send(&request.message).await;
    client::read_reply(&options, &request, &reply, &realm.kdc_certificate()).unwrap();
    let rep: AsRep = rasn::der::decode(&reply).unwrap();
    let (_, krbtgt) = realm
        .kdc
        .realm()
        .keys()
        .current(&format!("krbtgt/{REALM}"))
        .unwrap();
    let part: EncTicketPart =
        rasn::der::decode(&krbtgt.decrypt(2, &rep.0.ticket.enc_part.cipher).unwrap()).unwrap();
    (name_to_string(&rep.0.cname), name_to_string(&part.cname))
}

#[tokio::test]
async fn canonicalize_answers_with_the_sam_account_name_and_otherwise_the_request_name() {
    let realm = Realm::new(
        |c| c,
        async |dir| {
            add_user(dir, "carol", &format!("carol.smith@{REALM}"), Some("carol")).await;
            register(dir, &format!("carol.smith@{REALM}"), "alice.pem").await;
        },
    )
    .await;
    let both = |name: &str| (name.to_string(), name.to_string());
    assert_eq!(
        names_in_reply(&realm, "carol.smith", true).await,
        both("carol")
    );
    assert_eq!(
        names_in_reply(&realm, "carol.smith", false).await,
        both("carol.smith")
    );
    assert_eq!(names_in_reply(&realm, "CAROL", true).await, both("carol"));
    assert_eq!(names_in_reply(&realm, "CAROL", false).await, both("CAROL"));
}
