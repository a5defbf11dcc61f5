//! The embedded file backend through the public `Directory` / `DirectoryAdmin` API: lookup
//! rules, lenient key parsing, persistence and error reporting.

// Test code: a panic is how a check fails, also in helpers outside #[test] functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use kdc_directory::{
    Directory, DirectoryAdmin, DirectoryError, EmbeddedDirectory, NewUser, UF_NORMAL_ACCOUNT,
};
use support::load_error;
use support::sample::{ALICE_DN, BOB_DN, ngc_link, sample_file, vector_key};

const REALM: &str = "EXAMPLE.TEST";

#[tokio::test]
async fn lookup_follows_upn_then_sam_rules_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let directory = EmbeddedDirectory::load(sample_file(&dir)).await.unwrap();
    let upn_of = |user: Option<kdc_directory::User>| user.map(|u| u.user_principal_name);

    // name@realm as UPN, any case.
    assert_eq!(
        upn_of(directory.find_user("alice", REALM).await.unwrap()).as_deref(),
        Some("alice@EXAMPLE.TEST")
    );
    assert_eq!(
        upn_of(directory.find_user("ALICE", "example.test").await.unwrap()).as_deref(),
        Some("alice@EXAMPLE.TEST")
    );
    // bob's UPN has another suffix: found through sAMAccountName.
    assert_eq!(
        upn_of(directory.find_user("bob", REALM).await.unwrap()).as_deref(),
        Some("bob@corp.example")
    );
    // Enterprise names match UPNs only.
    assert_eq!(
        upn_of(
            directory
                .find_user("BOB@CORP.EXAMPLE", REALM)
                .await
                .unwrap()
        )
        .as_deref(),
        Some("bob@corp.example")
    );
    assert_eq!(
        directory
            .find_user("bob@EXAMPLE.TEST", REALM)
            .await
            .unwrap(),
        None
    );
    assert_eq!(directory.find_user("carol", REALM).await.unwrap(), None);
}

#[tokio::test]
async fn disabled_flag_and_bad_key_values_are_reported_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let directory = EmbeddedDirectory::load(sample_file(&dir)).await.unwrap();
    let alice = directory.find_user("alice", REALM).await.unwrap().unwrap();
    let bob = directory.find_user("bob", REALM).await.unwrap().unwrap();
    assert!(!alice.is_disabled());
    assert!(bob.is_disabled());
    // The truncated first value is skipped; the good one still works.
    assert_eq!(alice.key_credentials.len(), 1);
    let key = vector_key("msf_ngc_rsa1");
    assert!(alice.registered_ngc_key(&key).is_some());
    assert!(
        alice
            .registered_ngc_key(&vector_key("dsi_user_ngc_ad_rsa1"))
            .is_none()
    );
}

#[test]
fn a_key_registered_under_another_dn_never_matches() {
    let key = vector_key("msf_ngc_rsa1");
    let alice = kdc_directory::User {
        dn: ALICE_DN.into(),
        user_principal_name: "alice@EXAMPLE.TEST".into(),
        sam_account_name: None,
        user_account_control: UF_NORMAL_ACCOUNT,
        account_expires: 0,
        lockout_time: 0,
        pwd_last_set: 0,
        key_credentials: vec![ngc_link(BOB_DN, &key)],
        alt_security_identities: Vec::new(),
        object_sid: None,
        primary_group_id: 513,
    };
    assert!(alice.registered_ngc_key(&key).is_none());
    let spaced = kdc_directory::User {
        key_credentials: vec![ngc_link(
            "cn = alice, cn = users, dc = example, dc = test",
            &key,
        )],
        ..alice
    };
    assert!(spaced.registered_ngc_key(&key).is_some());
}

#[tokio::test]
async fn admin_writes_persist_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.toml");
    let directory = EmbeddedDirectory::create_empty(&path).await.unwrap();
    assert!(matches!(
        EmbeddedDirectory::create_empty(&path).await,
        Err(DirectoryError::Io { .. })
    ));
    assert!(directory.list_users().await.unwrap().is_empty());

    let new_alice = NewUser {
        dn: ALICE_DN.into(),
        user_principal_name: "alice@EXAMPLE.TEST".into(),
        sam_account_name: Some("alice".into()),
        user_account_control: UF_NORMAL_ACCOUNT,
        object_sid: None,
    };
    directory.add_user(new_alice.clone()).await.unwrap();
    let upper = NewUser {
        user_principal_name: "ALICE@example.test".into(),
        dn: BOB_DN.into(),
        sam_account_name: None,
        ..new_alice
    };
    assert!(matches!(
        directory.add_user(upper).await,
        Err(DirectoryError::Conflict(_))
    ));

    let key = vector_key("msf_ngc_rsa1");
    let link = ngc_link(ALICE_DN, &key);
    directory
        .add_key_credential("Alice@Example.Test", link.clone())
        .await
        .unwrap();
    assert!(matches!(
        directory
            .add_key_credential("alice@EXAMPLE.TEST", link.clone())
            .await,
        Err(DirectoryError::Conflict(_))
    ));
    let foreign = ngc_link(BOB_DN, &vector_key("dsi_user_ngc_ad_rsa1"));
    assert!(matches!(
        directory
            .add_key_credential("alice@EXAMPLE.TEST", foreign)
            .await,
        Err(DirectoryError::Invalid(_))
    ));
    assert!(matches!(
        directory.set_disabled("nobody@EXAMPLE.TEST", true).await,
        Err(DirectoryError::NotFound(_))
    ));
    directory
        .set_disabled("alice@EXAMPLE.TEST", true)
        .await
        .unwrap();

    // A fresh load sees everything the writes did.
    let reloaded = EmbeddedDirectory::load(&path).await.unwrap();
    let alice = reloaded.find_user("alice", REALM).await.unwrap().unwrap();
    assert!(alice.is_disabled());
    assert_eq!(alice.key_credentials, vec![link.clone()]);
    assert!(alice.registered_ngc_key(&key).is_some());

    let key_id = link.credential.key_id().to_vec();
    assert!(
        reloaded
            .remove_key_credential("alice@EXAMPLE.TEST", &key_id)
            .await
            .unwrap()
    );
    assert!(
        !reloaded
            .remove_key_credential("alice@EXAMPLE.TEST", &key_id)
            .await
            .unwrap()
    );
    reloaded
        .set_disabled("alice@EXAMPLE.TEST", false)
        .await
        .unwrap();
    let again = EmbeddedDirectory::load(&path).await.unwrap();
    let alice = again.find_user("alice", REALM).await.unwrap().unwrap();
    assert!(alice.key_credentials.is_empty() && !alice.is_disabled());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temp files left: {leftovers:?}");
}

#[tokio::test]
async fn unparsable_values_survive_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_file(&dir);
    let directory = EmbeddedDirectory::load(&path).await.unwrap();
    directory
        .set_disabled("bob@corp.example", false)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("B:8:00020000:{ALICE_DN}")), "{text}");
    let reloaded = EmbeddedDirectory::load(&path).await.unwrap();
    assert!(
        !reloaded
            .find_user("bob", REALM)
            .await
            .unwrap()
            .unwrap()
            .is_disabled()
    );
}

#[tokio::test]
async fn load_errors_name_file_and_line() {
    let unknown = "[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserPrincipalName = \"a@X\"\nmail = \"a@x\"\n";
    let (line, message) = load_error(unknown).await;
    assert_eq!(line, 4, "{message}");

    let duplicate = "[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserPrincipalName = \"a@X\"\n\n\
                     [[user]]\ndistinguishedName = \"CN=b,DC=x\"\nuserPrincipalName = \"A@x\"\n";
    let (line, message) = load_error(duplicate).await;
    assert_eq!(line, 7, "{message}");
    assert!(message.contains("used twice"), "{message}");

    let (line, message) =
        load_error("[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserPrincipalName = \"a\"\n")
            .await;
    assert_eq!(line, 3, "{message}");

    let (line, _) =
        load_error("[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserAccountControl = \"512\"\n")
            .await;
    assert_eq!(line, 3);

    let missing = EmbeddedDirectory::load("/nonexistent/kdc/directory.toml").await;
    assert!(matches!(missing, Err(DirectoryError::Io { .. })));
}

/// The file's documented default: a user without userAccountControl is an enabled ordinary
/// account (512), without accountExpires never expires, without lockoutTime is not locked.
#[tokio::test]
async fn omitted_account_attributes_take_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.toml");
    std::fs::write(
        &path,
        "[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserPrincipalName = \"a@EXAMPLE.TEST\"\n",
    )
    .unwrap();
    let directory = EmbeddedDirectory::load(&path).await.unwrap();
    let user = directory.find_user("a", REALM).await.unwrap().unwrap();
    assert_eq!(user.user_account_control, UF_NORMAL_ACCOUNT);
    assert_eq!((user.account_expires, user.lockout_time), (0, 0));
    assert_eq!(user.refusal(std::time::SystemTime::now()), None);
    // A negative FILETIME is a load error with its line, not a silent default.
    std::fs::write(
        &path,
        "[[user]]\ndistinguishedName = \"CN=a,DC=x\"\nuserPrincipalName = \"a@EXAMPLE.TEST\"\naccountExpires = -1\n",
    )
    .unwrap();
    match EmbeddedDirectory::load(&path).await {
        Err(DirectoryError::Parse { line, .. }) => assert_eq!(line, 4),
        other => panic!("{:?}", other.err()),
    }
}
