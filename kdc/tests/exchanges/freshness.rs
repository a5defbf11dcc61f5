//! PKINIT freshness tokens (RFC 8070) through the whole AS exchange in process: the token
//! handed out in PREAUTH_REQUIRED, signed into the PKAuthenticator by the client, and the
//! `[pkinit] freshness` policies.

use kdc::proto::codes::ErrorCode;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::KrbError;

use crate::support::{REALM, Realm, code, mit_first_request};

fn freshness(policy: &str) -> impl FnOnce(String) -> String {
    move |config| {
        assert!(config.contains("freshness = \"supported\""));
        config.replace(
            "freshness = \"supported\"",
            &format!("freshness = \"{policy}\""),
        )
    }
}

/// A KRB-ERROR's code and the freshness token its METHOD-DATA carries, if any.
fn token_in(reply: &[u8]) -> (i32, Option<Vec<u8>>) {
    let error: KrbError = rasn::der::decode(reply).unwrap();
    (error.error_code, client::freshness_token_of(reply))
}

async fn login_with(realm: &Realm, token: Option<Vec<u8>>) -> Result<(), i32> {
    let options = ClientOptions {
        freshness_token: token,
        ..ClientOptions::new(REALM, "alice")
    };
    match realm.login(&options, &realm.signer("alice")).await {
        Ok(_) => Ok(()),
        Err(e) => Err(code(Err(e))),
    }
}

#[tokio::test]
async fn required_freshness_takes_the_token_it_handed_out_and_nothing_less() {
    let realm = Realm::new(freshness("required"), async |_| {}).await;
    assert_eq!(
        login_with(&realm, None).await,
        Err(ErrorCode::PREAUTH_FAILED.0)
    );
    let (error, token) = token_in(&realm.send(&mit_first_request(REALM)).await);
    assert_eq!(error, ErrorCode::PREAUTH_REQUIRED.0);
    let token = token.expect("a token for the client that asked");
    login_with(&realm, Some(token.clone())).await.unwrap();
    // Not single-use (RFC 8070 §7): a retry within its lifetime passes too.
    login_with(&realm, Some(token)).await.unwrap();
}

#[tokio::test]
async fn a_forged_token_is_preauth_expired_even_when_tokens_are_optional() {
    let realm = Realm::dev().await;
    let (_, token) = token_in(&realm.send(&mit_first_request(REALM)).await);
    let mut forged = token.unwrap();
    *forged.last_mut().unwrap() ^= 0x01;
    assert_eq!(
        login_with(&realm, Some(forged)).await,
        Err(ErrorCode::PREAUTH_EXPIRED.0)
    );
    // Optional: no token at all still logs in.
    login_with(&realm, None).await.unwrap();
}

#[tokio::test]
async fn a_token_from_another_realm_is_refused() {
    const OTHER: &str = "OTHER.TEST";
    let realm = Realm::dev().await;
    let other = Realm::named(OTHER, |c| c, async |_| {}).await;
    let (error, token) = token_in(&other.send(&mit_first_request(OTHER)).await);
    assert_eq!(error, ErrorCode::PREAUTH_REQUIRED.0);
    assert!(token.is_some(), "{OTHER} hands out a token");
    assert_eq!(
        login_with(&realm, token).await,
        Err(ErrorCode::PREAUTH_EXPIRED.0)
    );
}

#[tokio::test]
async fn off_hands_out_no_token() {
    let realm = Realm::new(freshness("off"), async |_| {}).await;
    let (error, token) = token_in(&realm.send(&mit_first_request(REALM)).await);
    assert_eq!(error, ErrorCode::PREAUTH_REQUIRED.0);
    assert_eq!(token, None);
}
