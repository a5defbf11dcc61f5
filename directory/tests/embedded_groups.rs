//! The embedded file's `[[group]]` tables: membership through `member` (nested, cycles,
//! the primary group by primaryGroupID), the bounds of the directory's rules checked as the
//! file loads, refusals naming their line, and admin rewrites that keep the groups.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::fmt::Write;

use kdc_directory::{
    Directory, DirectoryAdmin, DirectoryError, EmbeddedDirectory, Group, MAX_GROUP_NESTING,
    MAX_GROUPS, Sid, User,
};

use support::load_error;

const REALM: &str = "EXAMPLE.TEST";
const DOMAIN: &str = "S-1-5-21-1-2-3";

fn sid(rid: u32) -> Sid {
    format!("{DOMAIN}-{rid}").parse().unwrap()
}

fn dn(cn: &str) -> String {
    format!("CN={cn},CN=Users,DC=example,DC=test")
}

fn user_table(cn: &str, rid: Option<u32>, primary: Option<u32>) -> String {
    let mut text = format!(
        "[[user]]\ndistinguishedName = \"{}\"\nuserPrincipalName = \"{cn}@{REALM}\"\nsAMAccountName = \"{cn}\"\n",
        dn(cn)
    );
    if let Some(rid) = rid {
        writeln!(text, "objectSid = \"{}\"", sid(rid)).unwrap();
    }
    if let Some(primary) = primary {
        writeln!(text, "primaryGroupID = {primary}").unwrap();
    }
    text + "\n"
}

fn group_table(cn: &str, rid: u32, members: &[&str]) -> String {
    let members: Vec<String> = members.iter().map(|m| format!("\"{}\"", dn(m))).collect();
    format!(
        "[[group]]\ndistinguishedName = \"{}\"\nsAMAccountName = \"{cn}\"\nobjectSid = \"{}\"\nmember = [{}]\n\n",
        dn(cn),
        sid(rid),
        members.join(", ")
    )
}

/// alice (primary group Domain Users) is in Staff, which is in Engineers, which is in All,
/// which is in Staff again; bob's primary group is Engineers and he is in All; carol is in
/// nothing but her primary group; dave has no objectSid, so no primary group.
fn sample() -> String {
    [
        user_table("alice", Some(1103), None),
        user_table("bob", Some(1104), Some(1201)),
        user_table("carol", Some(1105), None),
        user_table("dave", None, None),
        group_table("Domain Users", 513, &[]),
        group_table("Staff", 1200, &["alice", "All"]),
        group_table("Engineers", 1201, &["Staff"]),
        group_table("All", 1202, &["Engineers", "bob"]),
    ]
    .concat()
}

fn group(rid: u32, name: &str) -> Group {
    Group {
        sid: sid(rid),
        name: Some(name.to_owned()),
    }
}

async fn load(text: &str) -> (tempfile::TempDir, EmbeddedDirectory) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("directory.toml");
    std::fs::write(&path, text).unwrap();
    let directory = EmbeddedDirectory::load(&path).await.unwrap();
    (dir, directory)
}

async fn user(directory: &EmbeddedDirectory, name: &str) -> User {
    directory.find_user(name, REALM).await.unwrap().unwrap()
}

async fn groups(directory: &EmbeddedDirectory, name: &str) -> Vec<Group> {
    directory
        .groups_of(&user(directory, name).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn membership_is_nested_with_the_primary_group() {
    let (_dir, directory) = load(&sample()).await;
    assert_eq!(user(&directory, "alice").await.primary_group_id, 513);
    assert_eq!(user(&directory, "bob").await.primary_group_id, 1201);
    let every = vec![
        group(1200, "Staff"),
        group(1201, "Engineers"),
        group(1202, "All"),
    ];
    let mut alice = vec![group(513, "Domain Users")];
    alice.extend(every.clone());
    assert_eq!(groups(&directory, "alice").await, alice);
    // bob: Engineers as his primary group, and All (direct) leads round the cycle to Staff.
    assert_eq!(groups(&directory, "bob").await, every);
    assert_eq!(
        groups(&directory, "carol").await,
        [group(513, "Domain Users")]
    );
    assert_eq!(groups(&directory, "dave").await, []);
}

/// A primary group the file has no entry for is still listed, unnamed, as AD lists it.
#[tokio::test]
async fn a_primary_group_without_an_entry_is_listed_unnamed() {
    let (_dir, directory) = load(&user_table("erin", Some(1106), Some(1300))).await;
    assert_eq!(
        groups(&directory, "erin").await,
        [Group {
            sid: sid(1300),
            name: None
        }]
    );
}

fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("no {needle:?} in {text}"))
        .0
        + 1
}

#[tokio::test]
async fn refusals_name_their_line() {
    // A member that is neither a user nor a group: the line of the value.
    let text = [
        user_table("alice", Some(1103), None),
        "[[group]]\ndistinguishedName = \"CN=Staff,DC=x\"\nsAMAccountName = \"Staff\"\n\
         objectSid = \"S-1-5-21-1-2-3-1200\"\nmember = [\n  \"CN=alice,CN=Users,DC=example,DC=test\",\n  \"CN=nobody,DC=x\",\n]\n"
            .to_owned(),
    ]
    .concat();
    let (line, message) = load_error(&text).await;
    assert_eq!(line, line_of(&text, "CN=nobody", 0), "{message}");
    assert!(message.contains("CN=nobody,DC=x"), "{message}");

    // A group SID that a user has, a DN that a user has (in another spelling), a SID twice.
    for (text, needle, nth, words) in [
        (
            [user_table("alice", Some(1103), None), group_table("Staff", 1103, &[])].concat(),
            "distinguishedName = \"CN=Staff",
            0,
            "objectSid S-1-5-21-1-2-3-1103 is used twice",
        ),
        (
            [
                user_table("alice", Some(1103), None),
                "[[group]]\ndistinguishedName = \"cn=alice, cn=users, dc=example, dc=test\"\n\
                 sAMAccountName = \"g\"\nobjectSid = \"S-1-5-21-1-2-3-1200\"\n"
                    .to_owned(),
            ]
            .concat(),
            "cn=alice, cn=users",
            0,
            "is used twice",
        ),
        (
            [group_table("Staff", 1200, &[]), group_table("Engineers", 1200, &[])].concat(),
            "distinguishedName = \"CN=Engineers",
            0,
            "objectSid S-1-5-21-1-2-3-1200 is used twice",
        ),
        (
            [user_table("alice", Some(1103), None), user_table("bob", Some(1103), None)].concat(),
            "userPrincipalName = \"bob",
            0,
            "objectSid S-1-5-21-1-2-3-1103 is used twice",
        ),
        (
            "[[group]]\ndistinguishedName = \"CN=g,DC=x\"\nsAMAccountName = \" \"\nobjectSid = \"S-1-5-21-1-2-3-1200\"\n".to_owned(),
            "distinguishedName",
            0,
            "sAMAccountName is empty",
        ),
        (
            "[[group]]\ndistinguishedName = \"CN=g,DC=x\"\nsAMAccountName = \"g\"\nobjectSid = \"S-1-5-21-1-2-3-1200\"\ncn = \"g\"\n".to_owned(),
            "cn = ",
            0,
            "unknown field `cn`",
        ),
        (
            "[[group]]\ndistinguishedName = \"CN=g,DC=x\"\nsAMAccountName = \"g\"\nobjectSid = \"S-1-5-21-1-2-3-x\"\n".to_owned(),
            "objectSid",
            0,
            "\"S-1-5-21-1-2-3-x\" is not a SID",
        ),
        (
            user_table("alice", Some(1103), None).replace("\n\n", "\nprimaryGroupID = -1\n\n"),
            "primaryGroupID",
            0,
            "",
        ),
    ] {
        let (line, message) = load_error(&text).await;
        assert_eq!(line, line_of(&text, needle, nth), "{message}\n{text}");
        assert!(message.contains(words), "{message}");
    }
}

/// A chain of groups as deep as the bound loads; one level deeper is refused at the user's
/// line, naming the group past the bound.
#[tokio::test]
async fn nesting_is_bounded_as_the_file_loads() {
    let chain = |levels: usize| {
        let mut text = user_table("alice", Some(1103), None);
        for level in 0..levels {
            let member = if level == 0 {
                "alice".to_owned()
            } else {
                format!("G{}", level - 1)
            };
            text.push_str(&group_table(
                &format!("G{level}"),
                2000 + u32::try_from(level).unwrap(),
                &[&member],
            ));
        }
        text
    };
    let (_dir, directory) = load(&chain(MAX_GROUP_NESTING)).await;
    // The chain, and Domain Users (no entry) as the primary group.
    assert_eq!(
        groups(&directory, "alice").await.len(),
        MAX_GROUP_NESTING + 1
    );
    let text = chain(MAX_GROUP_NESTING + 1);
    let (line, message) = load_error(&text).await;
    assert_eq!(line, line_of(&text, "userPrincipalName", 0), "{message}");
    assert!(
        message.contains(&format!("deeper than {MAX_GROUP_NESTING} levels")),
        "{message}"
    );
    assert!(
        message.contains(&dn(&format!("G{MAX_GROUP_NESTING}"))),
        "{message}"
    );
}

#[tokio::test]
async fn group_counts_are_bounded_as_the_file_loads() {
    let many = |count: usize| {
        let mut text = user_table("alice", Some(1103), None);
        for i in 0..count {
            text.push_str(&group_table(
                &format!("G{i}"),
                5000 + u32::try_from(i).unwrap(),
                &["alice"],
            ));
        }
        text
    };
    // The primary group (no entry) counts as a SID but not as an entry read.
    let (_dir, directory) = load(&many(MAX_GROUPS)).await;
    assert_eq!(groups(&directory, "alice").await.len(), MAX_GROUPS + 1);
    let text = many(MAX_GROUPS + 1);
    let (line, message) = load_error(&text).await;
    assert_eq!(line, line_of(&text, "userPrincipalName", 0), "{message}");
    assert!(
        message.contains(&format!("more than {MAX_GROUPS} groups")),
        "{message}"
    );
}

/// Every admin write rewrites the file; the groups stay, and so do primaryGroupID values.
/// Groups can be added, refused as the loader refuses them.
#[tokio::test]
async fn admin_rewrites_keep_groups() {
    let (dir, directory) = load(&sample()).await;
    let path = dir.path().join("directory.toml");
    directory
        .set_disabled("alice@EXAMPLE.TEST", true)
        .await
        .unwrap();
    directory
        .add_user(kdc_directory::NewUser {
            dn: dn("frank"),
            user_principal_name: format!("frank@{REALM}"),
            sam_account_name: Some("frank".into()),
            user_account_control: kdc_directory::UF_NORMAL_ACCOUNT,
            object_sid: None,
        })
        .await
        .unwrap();
    directory
        .add_group(
            &dn("Readers"),
            "Readers",
            sid(1203),
            vec![dn("frank"), dn("All")],
        )
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("primaryGroupID = 1201"), "{text}");
    let reloaded = EmbeddedDirectory::load(&path).await.unwrap();
    assert_eq!(
        groups(&reloaded, "bob").await,
        [
            group(1200, "Staff"),
            group(1201, "Engineers"),
            group(1202, "All"),
            group(1203, "Readers"),
        ]
    );
    assert_eq!(groups(&reloaded, "frank").await, [group(1203, "Readers")]);

    for (dn_, rid, members) in [
        (dn("Readers"), 1300, vec![]),
        (dn("Writers"), 1203, vec![]),
        (dn("Writers"), 1300, vec![dn("nobody")]),
    ] {
        let refused = directory
            .add_group(&dn_, "Writers", sid(rid), members)
            .await;
        assert!(
            matches!(refused, Err(DirectoryError::Conflict(_))),
            "{refused:?}"
        );
    }
    let refused = directory.add_group("", "Writers", sid(1300), vec![]).await;
    assert!(
        matches!(refused, Err(DirectoryError::Invalid(_))),
        "{refused:?}"
    );
    // Nothing refused reached the file.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
