//! The handler targets' answer checks (`kdc_fuzz::reply`) refuse what they exist to catch, so a
//! campaign without findings means the KDC held, not that the checks could not fail.
#![allow(clippy::unwrap_used)]

use std::time::SystemTime;

use kdc::proto::codes::ErrorCode;
use kdc::proto::kerberos::{ErrorContext, krb_error};
use kdc_fuzz::live_kdc::REALM;
use kdc_fuzz::reply;

fn refusal(code: ErrorCode, realm: &str) -> Vec<u8> {
    let context = ErrorContext {
        realm: realm.to_owned(),
        ..Default::default()
    };
    krb_error(code, context, SystemTime::now())
}

#[test]
fn a_refusal_with_a_code_of_the_table_passes() {
    assert!(reply::as_answer(&refusal(ErrorCode::PREAUTH_FAILED, REALM)).is_none());
    assert!(reply::tgs_answer(&refusal(ErrorCode::AP_ERR_REPEAT, REALM)).is_none());
}

#[test]
#[should_panic(expected = "KRB_ERR_GENERIC")]
fn the_kdc_failing_is_a_finding() {
    reply::as_answer(&refusal(ErrorCode::GENERIC, REALM));
}

#[test]
#[should_panic(expected = "not in the table")]
fn a_code_outside_the_table_is_a_finding() {
    reply::tgs_answer(&refusal(ErrorCode(0x1234), REALM));
}

#[test]
#[should_panic(expected = "assertion `left == right` failed")]
fn a_refusal_for_another_realm_is_a_finding() {
    reply::as_answer(&refusal(ErrorCode::PREAUTH_FAILED, "OTHER.TEST"));
}

#[test]
#[should_panic(expected = "neither the KDC-REP asked for nor a KRB-ERROR")]
fn a_tgs_rep_to_an_as_req_is_a_finding() {
    let tgs_rep = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/wire/mit_tgs_rep_host.der"
    ))
    .unwrap();
    reply::as_answer(&tgs_rep);
}
