//! The `[directory] type = "ldap"` table: the shipped examples load, defaults are the
//! documented ones, relative paths follow the file, and bad values name their key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kdc_config::{Config, DirectoryConfig, GroupMembership, LdapConfig};

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name)
}

fn ldap(config: &Config) -> &LdapConfig {
    match &config.directory {
        DirectoryConfig::Ldap(ldap) => ldap,
        other => panic!("not ldap: {other:?}"),
    }
}

/// The shipped production example with its [directory] table replaced by `table`.
fn with_directory(table: &str) -> String {
    let base = std::fs::read_to_string(deploy("kdc.toml.example")).unwrap();
    let start = base.find("[directory]").unwrap();
    let end = start + base[start..].find("\n[").unwrap() + 1;
    format!("{}{table}\n{}", &base[..start], &base[end..])
}

fn parse(table: &str) -> Result<Config, kdc_config::ConfigError> {
    Config::parse(&with_directory(table), Path::new("/etc/kdc/kdc.toml"))
}

const MINIMAL: &str = "[directory]\ntype = \"ldap\"\nurls = [\"ldaps://dc1.corp.example.com\"]\nbase_dn = \"DC=corp,DC=example,DC=com\"\n";

#[test]
fn shipped_ldap_examples_load() {
    let openldap = Config::load(&deploy("ldap/kdc-openldap.toml.example")).unwrap();
    let l = ldap(&openldap);
    assert_eq!(l.urls.len(), 2);
    assert!(l.starttls);
    assert_eq!(l.user_filter, "(objectClass=kdcAccount)");
    assert_eq!(l.group_membership, GroupMembership::MemberSearch);
    assert_eq!(l.group_filter, "(objectClass=kdcGroup)");
    assert_eq!(
        l.bind_password_file.as_deref(),
        Some(Path::new("/etc/kdc/ldap.password"))
    );
    let ad = Config::load(&deploy("ldap/kdc-ad.toml.example")).unwrap();
    let a = ldap(&ad);
    assert_eq!(
        a.user_filter,
        "(&(objectCategory=person)(objectClass=user))"
    );
    assert_eq!(a.attributes.key_credential_link, "msDS-KeyCredentialLink");
    assert_eq!(a.group_membership, GroupMembership::TokenGroups);
}

#[test]
fn minimal_ldap_table_gets_documented_defaults() {
    let config = parse(MINIMAL).unwrap();
    let l = ldap(&config);
    assert!(!l.starttls);
    assert_eq!((l.ca_file.as_ref(), l.bind_dn.as_ref()), (None, None));
    assert_eq!(
        l.user_filter,
        "(&(objectCategory=person)(objectClass=user))"
    );
    assert_eq!(Duration::from_millis(l.timeout_ms), Duration::from_secs(2));
    assert_eq!(l.pool_size, 4);
    assert_eq!(l.cache_ttl_secs, 30);
    assert_eq!(l.negative_cache_ttl_secs, 5);
    assert_eq!(l.cache_max_entries, 100_000);
    assert_eq!(
        (l.reconnect_backoff_ms, l.reconnect_backoff_max_ms),
        (250, 5000)
    );
    assert_eq!(l.key_owner_search_limit, 1000);
    assert_eq!(
        l.new_user_object_classes,
        ["top", "person", "organizationalPerson", "user"]
    );
    let n = &l.attributes;
    assert_eq!(
        [
            &n.user_principal_name,
            &n.sam_account_name,
            &n.user_account_control,
            &n.alt_security_identities,
            &n.object_sid
        ],
        [
            "userPrincipalName",
            "sAMAccountName",
            "userAccountControl",
            "altSecurityIdentities",
            "objectSid"
        ]
    );
    // Groups: AD's tokenGroups, its group class and attribute names.
    assert_eq!(l.group_membership, GroupMembership::TokenGroups);
    assert_eq!(l.group_filter, "(objectClass=group)");
    assert_eq!(
        [&n.primary_group_id, &n.token_groups, &n.member],
        ["primaryGroupID", "tokenGroups", "member"]
    );
}

/// OpenLDAP's membership search and its names are settings; a wrong choice, filter or name
/// is refused with its key or at its line.
#[test]
fn group_membership_settings() {
    let table = format!(
        "{MINIMAL}group_membership = \"member_search\"\ngroup_filter = \"(objectClass=kdcGroup)\"\n\
         [directory.attributes]\nmember = \"uniqueMember\"\nprimary_group_id = \"1.2.840.113556.1.4.98\"\n"
    );
    let config = parse(&table).unwrap();
    let l = ldap(&config);
    assert_eq!(l.group_membership, GroupMembership::MemberSearch);
    assert_eq!(l.group_filter, "(objectClass=kdcGroup)");
    assert_eq!(l.attributes.member, "uniqueMember");
    assert_eq!(l.attributes.primary_group_id, "1.2.840.113556.1.4.98");
    assert!(
        !l.attributes.read_for_users().contains(&"tokenGroups"),
        "tokenGroups is read by a base-scope search only"
    );
    assert!(
        l.attributes
            .read_for_users()
            .contains(&"1.2.840.113556.1.4.98")
    );

    let err = parse(&format!("{MINIMAL}group_membership = \"memberOf\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown variant `memberOf`"), "{err}");
    assert!(err.contains("token_groups"), "{err}");
    for (extra, key) in [
        (
            "group_filter = \"(objectClass=group\"\n",
            "directory.group_filter",
        ),
        (
            "[directory.attributes]\ntoken_groups = \"token groups\"\n",
            "directory.attributes",
        ),
        (
            "[directory.attributes]\nmember = \"\"\n",
            "directory.attributes",
        ),
    ] {
        let err = parse(&format!("{MINIMAL}{extra}")).unwrap_err().to_string();
        assert!(err.contains(key), "{extra} => {err}");
    }
}

#[test]
fn relative_paths_follow_the_config_file() {
    let table = format!(
        "{MINIMAL}ca_file = \"ca.pem\"\nbind_dn = \"CN=kdc,DC=corp\"\nbind_password_file = \"secret/ldap.pw\"\n"
    );
    let config = parse(&table).unwrap();
    let l = ldap(&config);
    assert_eq!(l.ca_file.as_deref(), Some(Path::new("/etc/kdc/ca.pem")));
    assert_eq!(
        l.bind_password_file.as_deref(),
        Some(Path::new("/etc/kdc/secret/ldap.pw"))
    );
}

#[test]
fn bad_values_name_their_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[directory]\ntype = \"ldap\"\nurls = []\nbase_dn = \"DC=x\"\n",
            "directory.urls",
        ),
        (
            "[directory]\ntype = \"ldap\"\nurls = [\"http://x\"]\nbase_dn = \"DC=x\"\n",
            "directory.urls",
        ),
        (
            "[directory]\ntype = \"ldap\"\nurls = [\"ldap://\"]\nbase_dn = \"DC=x\"\n",
            "directory.urls",
        ),
        (
            "[directory]\ntype = \"ldap\"\nurls = [\"ldaps://x\"]\nstarttls = true\nbase_dn = \"DC=x\"\n",
            "directory.urls",
        ),
        (
            "[directory]\ntype = \"ldap\"\nurls = [\"ldap://x\"]\nbase_dn = \"\"\n",
            "directory.base_dn",
        ),
        (
            &format!("{MINIMAL}bind_dn = \"CN=kdc,DC=x\"\n"),
            "directory.bind_password_file",
        ),
        (
            &format!("{MINIMAL}bind_password_file = \"pw\"\n"),
            "directory.bind_dn",
        ),
        (
            &format!("{MINIMAL}user_filter = \"(&(a=b)\"\n"),
            "directory.user_filter",
        ),
        (
            &format!("{MINIMAL}timeout_ms = 0\n"),
            "directory.timeout_ms",
        ),
        (&format!("{MINIMAL}pool_size = 0\n"), "directory.pool_size"),
        (
            &format!("{MINIMAL}reconnect_backoff_ms = 9000\n"),
            "directory.reconnect_backoff_ms",
        ),
        (
            &format!("{MINIMAL}[directory.attributes]\nuser_principal_name = \"a)(b\"\n"),
            "directory.attributes",
        ),
    ];
    for (table, key) in cases {
        let err = parse(table).unwrap_err().to_string();
        assert!(err.contains(key), "{table}\n=> {err}");
    }
}

#[test]
fn unknown_ldap_keys_are_errors() {
    let err = parse(&format!("{MINIMAL}bind_password = \"hunter2\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bind_password"), "{err}");
    let err = parse(&format!("{MINIMAL}[directory.attributes]\nupn = \"x\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("upn"), "{err}");
}
