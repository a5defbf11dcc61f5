//! Shared by the LDAP tests: a private slapd (kdc-integration's harness) and the backend
//! settings that bind to it as the KDC account, plus the one directory test battery that
//! every backend must pass (RFC 4511 operations underneath for LDAP, the file for embedded).

#![allow(dead_code)]

use kdc_config::LdapConfig;
use kdc_directory::{
    AccountRefusal, Directory, DirectoryAdmin, DirectoryError, NewUser, UF_ACCOUNTDISABLE,
    UF_NORMAL_ACCOUNT, User, dn_equivalent, filetime,
};
use kdc_integration::slapd::{Slapd, SlapdOptions};

pub const REALM: &str = "EXAMPLE.TEST";
pub use crate::support::sample::{ALICE_DN, BOB_DN, ngc_link, vector_key};

pub fn slapd(options: SlapdOptions) -> Slapd {
    Slapd::start(options).expect("slapd (apt-get install slapd ldap-utils)")
}

/// Settings for `url` of this server, binding as the KDC account, OpenLDAP-shaped.
pub fn settings(slapd: &Slapd, url: &str) -> LdapConfig {
    let password_file = slapd.tmp().join("bind.password");
    slapd.write_bind_password(&password_file).unwrap();
    let mut settings = LdapConfig::new(vec![url.to_string()], slapd.suffix());
    settings.bind_dn = Some(slapd.kdc_bind_dn());
    settings.bind_password_file = Some(password_file);
    settings.ca_file = slapd.ca_file();
    settings.user_filter = "(objectClass=kdcAccount)".into();
    settings.new_user_object_classes = [
        "top",
        "person",
        "organizationalPerson",
        "inetOrgPerson",
        "kdcAccount",
    ]
    .map(String::from)
    .to_vec();
    settings.timeout_ms = 2000;
    settings.reconnect_backoff_ms = 50;
    settings.reconnect_backoff_max_ms = 200;
    settings
}

async fn upn_of(directory: &dyn Directory, name: &str, realm: &str) -> Option<String> {
    directory
        .find_user(name, realm)
        .await
        .unwrap()
        .map(|u| u.user_principal_name)
}

async fn user(directory: &dyn Directory, name: &str) -> User {
    directory.find_user(name, REALM).await.unwrap().unwrap()
}

/// The directory contract, on a directory with no users yet (whose `CN=Users` container
/// exists, for LDAP): lookups, conflicts, keys, owners, account state.
pub async fn battery(directory: &dyn DirectoryAdmin) {
    let added = directory
        .add_user(NewUser {
            dn: ALICE_DN.into(),
            user_principal_name: "alice@EXAMPLE.TEST".into(),
            sam_account_name: Some("alice".into()),
            user_account_control: UF_NORMAL_ACCOUNT,
            object_sid: None,
        })
        .await
        .unwrap();
    assert_eq!(added.user_principal_name, "alice@EXAMPLE.TEST");
    directory
        .add_user(NewUser {
            dn: BOB_DN.into(),
            user_principal_name: "bob@corp.example".into(),
            sam_account_name: Some("Bob".into()),
            user_account_control: UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE,
            object_sid: None,
        })
        .await
        .unwrap();

    // Lookup rules: name@realm as UPN, then sAMAccountName; enterprise names as UPN only.
    assert_eq!(
        upn_of(directory, "alice", REALM).await.as_deref(),
        Some("alice@EXAMPLE.TEST")
    );
    assert_eq!(
        upn_of(directory, "ALICE", "example.test").await.as_deref(),
        Some("alice@EXAMPLE.TEST")
    );
    assert_eq!(
        upn_of(directory, "bob", REALM).await.as_deref(),
        Some("bob@corp.example")
    );
    assert_eq!(
        upn_of(directory, "BOB@CORP.EXAMPLE", REALM)
            .await
            .as_deref(),
        Some("bob@corp.example")
    );
    assert_eq!(upn_of(directory, "bob@EXAMPLE.TEST", REALM).await, None);
    assert_eq!(upn_of(directory, "carol", REALM).await, None);
    // Names that would be filter syntax match nothing rather than everything.
    assert_eq!(upn_of(directory, "*", REALM).await, None);
    assert_eq!(upn_of(directory, "a*)(sAMAccountName=*", REALM).await, None);
    let alice = user(directory, "alice").await;
    assert!(dn_equivalent(&alice.dn, ALICE_DN), "{}", alice.dn);
    assert_eq!(alice.sam_account_name.as_deref(), Some("alice"));
    assert!(!alice.is_disabled());
    assert!(user(directory, "bob").await.is_disabled());

    // Uniqueness and shape.
    let again = |upn: &str, sam: &str, dn: &str| NewUser {
        dn: dn.into(),
        user_principal_name: upn.into(),
        sam_account_name: Some(sam.into()),
        user_account_control: UF_NORMAL_ACCOUNT,
        object_sid: None,
    };
    let conflict = directory
        .add_user(again(
            "ALICE@example.test",
            "alice2",
            "CN=alice2,CN=Users,DC=example,DC=test",
        ))
        .await;
    assert!(
        matches!(conflict, Err(DirectoryError::Conflict(_))),
        "{conflict:?}"
    );
    let conflict = directory
        .add_user(again(
            "bob2@EXAMPLE.TEST",
            "bob",
            "CN=bob2,CN=Users,DC=example,DC=test",
        ))
        .await;
    assert!(
        matches!(conflict, Err(DirectoryError::Conflict(_))),
        "{conflict:?}"
    );
    let invalid = directory
        .add_user(again("no-at-sign", "x", "CN=x,CN=Users,DC=example,DC=test"))
        .await;
    assert!(
        matches!(invalid, Err(DirectoryError::Invalid(_))),
        "{invalid:?}"
    );

    // Keys: registered, found, owned, never another user's.
    let key_a = vector_key("msf_ngc_rsa1");
    let key_b = vector_key("dsi_user_ngc_ad_rsa1");
    let link_a = ngc_link(ALICE_DN, &key_a);
    let key_id_a = link_a.credential.key_id().to_vec();
    directory
        .add_key_credential("alice@example.test", link_a.clone())
        .await
        .unwrap();
    let twice = directory
        .add_key_credential("alice@EXAMPLE.TEST", link_a.clone())
        .await;
    assert!(
        matches!(twice, Err(DirectoryError::Conflict(_))),
        "{twice:?}"
    );
    let foreign = directory
        .add_key_credential("alice@EXAMPLE.TEST", ngc_link(BOB_DN, &key_b))
        .await;
    assert!(
        matches!(foreign, Err(DirectoryError::Invalid(_))),
        "{foreign:?}"
    );
    let missing = directory
        .add_key_credential("carol@EXAMPLE.TEST", ngc_link(ALICE_DN, &key_b))
        .await;
    assert!(
        matches!(missing, Err(DirectoryError::NotFound(_))),
        "{missing:?}"
    );
    directory
        .add_key_credential("bob@corp.example", ngc_link(BOB_DN, &key_b))
        .await
        .unwrap();

    let alice = user(directory, "alice").await;
    assert_eq!(alice.key_credentials.len(), 1);
    assert_eq!(alice.key_credentials[0], link_a);
    assert!(alice.registered_ngc_key(&key_a).is_some());
    assert!(alice.registered_ngc_key(&key_b).is_none());
    assert_eq!(
        directory.find_key_owners(&key_a).await.unwrap(),
        ["alice@EXAMPLE.TEST"]
    );
    assert_eq!(
        directory.find_key_owners(&key_b).await.unwrap(),
        ["bob@corp.example"]
    );
    assert!(
        directory
            .find_key_owners(&vector_key("dsi_impacket_ngc_rsa1"))
            .await
            .unwrap()
            .is_empty()
    );

    // Account state: only ACCOUNTDISABLE changes.
    directory
        .set_disabled("alice@EXAMPLE.TEST", true)
        .await
        .unwrap();
    let alice = user(directory, "alice").await;
    assert!(alice.is_disabled());
    assert_eq!(
        alice.user_account_control,
        UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE
    );
    directory
        .set_disabled("alice@EXAMPLE.TEST", false)
        .await
        .unwrap();
    assert_eq!(
        user(directory, "alice").await.user_account_control,
        UF_NORMAL_ACCOUNT
    );
    assert!(user(directory, "bob").await.is_disabled());
    let nobody = directory.set_disabled("carol@EXAMPLE.TEST", true).await;
    assert!(
        matches!(nobody, Err(DirectoryError::NotFound(_))),
        "{nobody:?}"
    );

    // Listing.
    let mut listed: Vec<(String, bool, usize)> = directory
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| {
            (
                u.user_principal_name.clone(),
                u.is_disabled(),
                u.key_credentials.len(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("alice@EXAMPLE.TEST".to_string(), false, 1),
            ("bob@corp.example".to_string(), true, 1)
        ]
    );

    // Removal by KeyID.
    assert!(
        directory
            .remove_key_credential("alice@EXAMPLE.TEST", &key_id_a)
            .await
            .unwrap()
    );
    assert!(
        !directory
            .remove_key_credential("alice@EXAMPLE.TEST", &key_id_a)
            .await
            .unwrap()
    );
    assert!(user(directory, "alice").await.key_credentials.is_empty());
    assert!(directory.find_key_owners(&key_a).await.unwrap().is_empty());
    assert_eq!(user(directory, "bob").await.key_credentials.len(), 1);

    // A UPN set on another entry than the one with the sAMAccountName (CVE-2021-42287):
    // the name "bob" resolves to neither, and both DNs are named.
    directory
        .add_user(NewUser {
            dn: MALLORY_DN.into(),
            user_principal_name: format!("bob@{REALM}"),
            sam_account_name: Some("mallory".into()),
            user_account_control: UF_NORMAL_ACCOUNT,
            object_sid: None,
        })
        .await
        .unwrap();
    match directory.find_user("bob", REALM).await {
        Err(DirectoryError::Ambiguous { dns, .. }) => {
            assert_eq!(dns.len(), 2, "{dns:?}");
            assert!(dns.iter().any(|dn| dn_equivalent(dn, BOB_DN)), "{dns:?}");
            assert!(
                dns.iter().any(|dn| dn_equivalent(dn, MALLORY_DN)),
                "{dns:?}"
            );
        }
        other => panic!("bob should be ambiguous, got {other:?}"),
    }
    // Each entry's own unambiguous names still resolve.
    assert_eq!(
        upn_of(directory, "mallory", REALM).await.as_deref(),
        Some("bob@EXAMPLE.TEST")
    );
    assert_eq!(
        upn_of(directory, "bob@EXAMPLE.TEST", REALM)
            .await
            .as_deref(),
        Some("bob@EXAMPLE.TEST")
    );
    assert_eq!(
        upn_of(directory, "bob@corp.example", REALM)
            .await
            .as_deref(),
        Some("bob@corp.example")
    );
}

pub const MALLORY_DN: &str = "CN=mallory,CN=Users,DC=example,DC=test";

/// Account state beyond userAccountControl, on a directory where `set(dn, attribute, value)`
/// writes an attribute the admin API does not (accountExpires, lockoutTime), as AD would.
/// Each user is looked up only after its write, so no cache can hide it.
pub async fn account_state_battery(
    directory: &dyn DirectoryAdmin,
    set: impl AsyncFn(&str, &str, &str),
) {
    let now = std::time::SystemTime::now();
    let hour = std::time::Duration::from_secs(3600);
    let cases: [(&str, &str, String, Option<AccountRefusal>); 7] = [
        ("never0", "accountExpires", "0".into(), None),
        (
            "nevermax",
            "accountExpires",
            "9223372036854775807".into(),
            None,
        ),
        (
            "later",
            "accountExpires",
            filetime(now + hour).to_string(),
            None,
        ),
        (
            "expired",
            "accountExpires",
            filetime(now - hour).to_string(),
            Some(AccountRefusal::Expired),
        ),
        ("unlocked", "lockoutTime", "0".into(), None),
        (
            "locked",
            "lockoutTime",
            "133000000000000000".into(),
            Some(AccountRefusal::LockedOut),
        ),
        ("plain", "description", String::new(), None),
    ];
    for (name, attribute, value, refusal) in &cases {
        let dn = format!("CN={name},CN=Users,DC=example,DC=test");
        directory
            .add_user(NewUser {
                dn: dn.clone(),
                user_principal_name: format!("{name}@{REALM}"),
                sam_account_name: Some((*name).into()),
                user_account_control: UF_NORMAL_ACCOUNT,
                object_sid: None,
            })
            .await
            .unwrap();
        if *attribute != "description" {
            set(&dn, attribute, value).await;
        }
        let user = user(directory, name).await;
        assert_eq!(user.refusal(now), *refusal, "{name}: {attribute} = {value}");
    }
}

/// The domain of the group battery's SIDs.
pub const GROUP_DOMAIN: &str = "S-1-5-21-1-2-3";

pub fn domain_sid(rid: u32) -> kdc_directory::Sid {
    format!("{GROUP_DOMAIN}-{rid}").parse().unwrap()
}

pub fn users_dn(cn: &str) -> String {
    format!("CN={cn},CN=Users,DC=example,DC=test")
}

/// A user of the group battery: its objectSid RID and primaryGroupID, if set.
pub struct BatteryUser {
    pub cn: &'static str,
    pub rid: Option<u32>,
    pub primary_group_id: Option<u32>,
}

/// A group of the group battery: members are the CNs of users or groups under CN=Users.
pub struct BatteryGroup {
    pub cn: &'static str,
    pub rid: u32,
    pub members: &'static [&'static str],
}

/// alice (primary group Domain Users) is in Staff, Staff in Engineers, Engineers in All and
/// All in Staff again (a cycle); bob's primary group is Engineers, and he is in All; carol
/// is in Domain Users both by primaryGroupID and as a member.
pub const BATTERY_USERS: [BatteryUser; 3] = [
    BatteryUser {
        cn: "alice",
        rid: Some(1103),
        primary_group_id: None,
    },
    BatteryUser {
        cn: "bob",
        rid: Some(1104),
        primary_group_id: Some(1201),
    },
    BatteryUser {
        cn: "carol",
        rid: Some(1105),
        primary_group_id: None,
    },
];

pub const BATTERY_GROUPS: [BatteryGroup; 4] = [
    BatteryGroup {
        cn: "Domain Users",
        rid: 513,
        members: &["carol"],
    },
    BatteryGroup {
        cn: "Staff",
        rid: 1200,
        members: &["alice", "All"],
    },
    BatteryGroup {
        cn: "Engineers",
        rid: 1201,
        members: &["Staff"],
    },
    BatteryGroup {
        cn: "All",
        rid: 1202,
        members: &["Engineers", "bob"],
    },
];

/// Each user's groups, worked out by hand from the two tables above: (RID, name).
pub const BATTERY_MEMBERSHIP: [(&str, &[(u32, &str)]); 3] = [
    (
        "alice",
        &[
            (513, "Domain Users"),
            (1200, "Staff"),
            (1201, "Engineers"),
            (1202, "All"),
        ],
    ),
    (
        "bob",
        &[(1200, "Staff"), (1201, "Engineers"), (1202, "All")],
    ),
    ("carol", &[(513, "Domain Users")]),
];

/// The group contract, on a directory with no users yet: `write` puts the users' objectSid
/// and primaryGroupID and the groups of [`BATTERY_USERS`] and [`BATTERY_GROUPS`] into the
/// directory as AD or its tools would; each user's groups are then those of
/// [`BATTERY_MEMBERSHIP`], named, sorted by SID.
pub async fn group_battery(directory: &dyn DirectoryAdmin, write: impl AsyncFnOnce()) {
    for user in &BATTERY_USERS {
        directory
            .add_user(NewUser {
                dn: users_dn(user.cn),
                user_principal_name: format!("{}@{REALM}", user.cn),
                sam_account_name: Some(user.cn.into()),
                user_account_control: UF_NORMAL_ACCOUNT,
                object_sid: None,
            })
            .await
            .unwrap();
    }
    write().await;
    for (cn, expected) in BATTERY_MEMBERSHIP {
        let found = user(directory, cn).await;
        let spec = BATTERY_USERS.iter().find(|u| u.cn == cn).unwrap();
        assert_eq!(found.object_sid, spec.rid.map(domain_sid), "{cn}");
        assert_eq!(
            found.primary_group_id,
            spec.primary_group_id.unwrap_or(513),
            "{cn}"
        );
        let expected: Vec<kdc_directory::Group> = expected
            .iter()
            .map(|&(rid, name)| kdc_directory::Group {
                sid: domain_sid(rid),
                name: Some(name.into()),
            })
            .collect();
        assert_eq!(directory.groups_of(&found).await.unwrap(), expected, "{cn}");
        // Asked again (from the cache on LDAP), the same.
        assert_eq!(directory.groups_of(&found).await.unwrap(), expected, "{cn}");
    }
}

/// LDIF that gives a battery user its objectSid (binary, as AD stores it) and
/// primaryGroupID.
pub fn battery_user_ldif(user: &BatteryUser) -> Option<String> {
    use base64::Engine;
    if user.rid.is_none() && user.primary_group_id.is_none() {
        return None;
    }
    let mut ldif = format!("dn: {}\nchangetype: modify\n", users_dn(user.cn));
    if let Some(rid) = user.rid {
        let binary = base64::engine::general_purpose::STANDARD.encode(domain_sid(rid).to_binary());
        ldif.push_str(&format!("replace: objectSid\nobjectSid:: {binary}\n-\n"));
    }
    if let Some(primary) = user.primary_group_id {
        ldif.push_str(&format!(
            "replace: primaryGroupID\nprimaryGroupID: {primary}\n-\n"
        ));
    }
    Some(ldif)
}

/// Writes the battery's users and groups into slapd; with `token_groups`, also each user's
/// tokenGroups stand-in: the SIDs AD would construct (nested groups, the primary group).
pub fn write_battery_to(slapd: &Slapd, token_groups: bool) {
    use base64::Engine;
    for user in &BATTERY_USERS {
        if let Some(ldif) = battery_user_ldif(user) {
            slapd.modify_ldif(&ldif).unwrap();
        }
    }
    for group in &BATTERY_GROUPS {
        slapd.add_ldif(&battery_group_ldif(group)).unwrap();
    }
    if !token_groups {
        return;
    }
    for (cn, groups) in BATTERY_MEMBERSHIP {
        let mut ldif = format!(
            "dn: {}\nchangetype: modify\nadd: objectClass\nobjectClass: kdcTestTokenGroups\n-\n",
            users_dn(cn)
        );
        if !groups.is_empty() {
            ldif.push_str("add: tokenGroups\n");
            for (rid, _) in groups {
                let binary =
                    base64::engine::general_purpose::STANDARD.encode(domain_sid(*rid).to_binary());
                ldif.push_str(&format!("tokenGroups:: {binary}\n"));
            }
            ldif.push_str("-\n");
        }
        slapd.modify_ldif(&ldif).unwrap();
    }
}

/// Settings for reading groups from this slapd: `member_search` or AD's `token_groups`
/// (with the stand-in), groups being kdcGroup entries either way.
pub fn group_settings(slapd: &Slapd, membership: kdc_config::GroupMembership) -> LdapConfig {
    let mut settings = settings(slapd, &slapd.url());
    settings.group_membership = membership;
    settings.group_filter = "(objectClass=kdcGroup)".into();
    settings
}

/// LDIF of a battery group: groupOfNames with kdcGroup, objectSid binary.
pub fn battery_group_ldif(group: &BatteryGroup) -> String {
    let members: Vec<String> = group.members.iter().map(|m| users_dn(m)).collect();
    battery_group_ldif_with(group.cn, group.rid, &members)
}

/// LDIF of a group `CN=<cn>,CN=Users,...` in the battery's domain, with these member DNs.
pub fn battery_group_ldif_with(cn: &str, rid: u32, members: &[String]) -> String {
    use base64::Engine;
    let binary = base64::engine::general_purpose::STANDARD.encode(domain_sid(rid).to_binary());
    let mut ldif = format!(
        "dn: {}\nobjectClass: top\nobjectClass: groupOfNames\nobjectClass: kdcGroup\n\
         cn: {cn}\nsAMAccountName: {cn}\nobjectSid:: {binary}\n",
        users_dn(cn)
    );
    for member in members {
        ldif.push_str(&format!("member: {member}\n"));
    }
    ldif
}
