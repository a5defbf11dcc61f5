//! The embedded directory's file: TOML whose keys are Active Directory attribute names, so
//! the same entries move into LDAP unchanged: `[[user]]` tables and `[[group]]` tables
//! (`member` lists the DNs of users and groups, as in AD). Parsed with line numbers for
//! every error; rewritten whole and atomically (comments are not preserved).

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    ops::Range,
    path::Path,
};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::UF_NORMAL_ACCOUNT;
use crate::sid::{DOMAIN_USERS_RID, Sid};

/// One user entry as written in the file; key values stay as strings so that a value this
/// version cannot parse survives a rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub dn: String,
    pub upn: String,
    pub sam: Option<String>,
    pub user_account_control: u32,
    pub account_expires: u64,
    pub lockout_time: u64,
    pub pwd_last_set: u64,
    pub key_credential_links: Vec<String>,
    pub alt_security_identities: Vec<String>,
    pub object_sid: Option<Sid>,
    pub primary_group_id: u32,
}

/// One group entry as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupTable {
    pub dn: String,
    pub sam: String,
    pub sid: Sid,
    /// DNs of users and groups, as written.
    pub members: Vec<String>,
}

/// An entry with the lines it came from, for error messages.
pub(super) struct LoadedEntry {
    pub entry: Entry,
    pub line: usize,
    pub link_lines: Vec<usize>,
}

/// A group with the lines it came from.
pub(super) struct LoadedGroup {
    pub group: GroupTable,
    pub line: usize,
    pub member_lines: Vec<usize>,
}

/// What a file holds, with lines.
pub(super) struct Loaded {
    pub users: Vec<LoadedEntry>,
    pub groups: Vec<LoadedGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[serde(default)]
    user: Vec<UserIn>,
    #[serde(default)]
    group: Vec<GroupIn>,
}

fn normal_account() -> u32 {
    UF_NORMAL_ACCOUNT
}

fn domain_users() -> u32 {
    DOMAIN_USERS_RID
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIn {
    #[serde(rename = "distinguishedName")]
    dn: Spanned<String>,
    #[serde(rename = "userPrincipalName")]
    upn: Spanned<String>,
    #[serde(rename = "sAMAccountName", default)]
    sam: Option<String>,
    /// Unlike LDAP, where a missing value is refused, the file's default is explicit and
    /// documented: 512, an enabled ordinary account.
    #[serde(rename = "userAccountControl", default = "normal_account")]
    user_account_control: u32,
    /// FILETIME; absent = 0 = never (AD's meaning of 0).
    #[serde(rename = "accountExpires", default)]
    account_expires: u64,
    /// FILETIME; absent = 0 = not locked out.
    #[serde(rename = "lockoutTime", default)]
    lockout_time: u64,
    /// FILETIME; absent = 0 = never set (PasswordLastSet in the PAC).
    #[serde(rename = "pwdLastSet", default)]
    pwd_last_set: u64,
    #[serde(rename = "msDS-KeyCredentialLink", default)]
    key_credential_links: Vec<Spanned<String>>,
    #[serde(rename = "altSecurityIdentities", default)]
    alt_security_identities: Vec<String>,
    /// The string form `S-1-5-21-...`: the file is text.
    #[serde(rename = "objectSid", default)]
    object_sid: Option<Sid>,
    /// A RID in the domain of objectSid; absent = 513, Domain Users (AD's default).
    #[serde(rename = "primaryGroupID", default = "domain_users")]
    primary_group_id: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupIn {
    #[serde(rename = "distinguishedName")]
    dn: Spanned<String>,
    #[serde(rename = "sAMAccountName")]
    sam: String,
    #[serde(rename = "objectSid")]
    sid: Sid,
    #[serde(default)]
    member: Vec<Spanned<String>>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    user: Vec<UserOut<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    group: Vec<GroupOut<'a>>,
}

#[derive(Serialize)]
struct GroupOut<'a> {
    #[serde(rename = "distinguishedName")]
    dn: &'a str,
    #[serde(rename = "sAMAccountName")]
    sam: &'a str,
    #[serde(rename = "objectSid")]
    sid: &'a Sid,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    member: &'a [String],
}

#[derive(Serialize)]
struct UserOut<'a> {
    #[serde(rename = "distinguishedName")]
    dn: &'a str,
    #[serde(rename = "userPrincipalName")]
    upn: &'a str,
    #[serde(rename = "sAMAccountName", skip_serializing_if = "Option::is_none")]
    sam: Option<&'a str>,
    #[serde(rename = "userAccountControl")]
    user_account_control: u32,
    #[serde(rename = "accountExpires", skip_serializing_if = "is_zero")]
    account_expires: u64,
    #[serde(rename = "lockoutTime", skip_serializing_if = "is_zero")]
    lockout_time: u64,
    #[serde(rename = "pwdLastSet", skip_serializing_if = "is_zero")]
    pwd_last_set: u64,
    #[serde(
        rename = "msDS-KeyCredentialLink",
        skip_serializing_if = "<[_]>::is_empty"
    )]
    key_credential_links: &'a [String],
    #[serde(
        rename = "altSecurityIdentities",
        skip_serializing_if = "<[_]>::is_empty"
    )]
    alt_security_identities: &'a [String],
    #[serde(rename = "objectSid", skip_serializing_if = "Option::is_none")]
    object_sid: Option<&'a Sid>,
    #[serde(rename = "primaryGroupID", skip_serializing_if = "is_domain_users")]
    primary_group_id: u32,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_domain_users(rid: &u32) -> bool {
    *rid == DOMAIN_USERS_RID
}

/// A message and the 1-based line it refers to.
pub(super) type LineError = (usize, String);

fn line_of(text: &str, span: Range<usize>) -> usize {
    let prefix = text.get(..span.start).unwrap_or(text);
    prefix.bytes().filter(|&b| b == b'\n').count() + 1
}

pub(super) fn parse(text: &str) -> Result<Loaded, LineError> {
    let file: FileIn = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(text, span));
        (line, e.message().to_string())
    })?;
    let groups = file
        .group
        .into_iter()
        .map(|group| LoadedGroup {
            line: line_of(text, group.dn.span()),
            member_lines: group
                .member
                .iter()
                .map(|m| line_of(text, m.span()))
                .collect(),
            group: GroupTable {
                dn: group.dn.into_inner(),
                sam: group.sam,
                sid: group.sid,
                members: group.member.into_iter().map(Spanned::into_inner).collect(),
            },
        })
        .collect();
    let users = file
        .user
        .into_iter()
        .map(|user| LoadedEntry {
            line: line_of(text, user.upn.span()),
            link_lines: user
                .key_credential_links
                .iter()
                .map(|l| line_of(text, l.span()))
                .collect(),
            entry: Entry {
                dn: user.dn.into_inner(),
                upn: user.upn.into_inner(),
                sam: user.sam,
                user_account_control: user.user_account_control,
                account_expires: user.account_expires,
                lockout_time: user.lockout_time,
                pwd_last_set: user.pwd_last_set,
                key_credential_links: user
                    .key_credential_links
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                alt_security_identities: user.alt_security_identities,
                object_sid: user.object_sid,
                primary_group_id: user.primary_group_id,
            },
        })
        .collect();
    Ok(Loaded { users, groups })
}

const HEADER: &str = "\
# kdc embedded directory: one [[user]] table per user, keyed by Active Directory attribute
# names (distinguishedName, userPrincipalName, sAMAccountName, userAccountControl (default
# 512, enabled), accountExpires, lockoutTime and pwdLastSet (FILETIMEs; absent or 0 = never
# expires, not locked out, never set), msDS-KeyCredentialLink as DN-Binary strings, altSecurityIdentities, objectSid
# as S-1-5-..., primaryGroupID (default 513, Domain Users)) and one [[group]] table per group
# (distinguishedName, sAMAccountName, objectSid, member: DNs of users and groups).
# Admin commands rewrite this file; comments other than this header are not kept.
";

pub(super) fn render(entries: &[Entry], groups: &[GroupTable]) -> Result<String, toml::ser::Error> {
    let file = FileOut {
        user: entries
            .iter()
            .map(|e| UserOut {
                dn: &e.dn,
                upn: &e.upn,
                sam: e.sam.as_deref(),
                user_account_control: e.user_account_control,
                account_expires: e.account_expires,
                lockout_time: e.lockout_time,
                pwd_last_set: e.pwd_last_set,
                key_credential_links: &e.key_credential_links,
                alt_security_identities: &e.alt_security_identities,
                object_sid: e.object_sid.as_ref(),
                primary_group_id: e.primary_group_id,
            })
            .collect(),
        group: groups
            .iter()
            .map(|g| GroupOut {
                dn: &g.dn,
                sam: &g.sam,
                sid: &g.sid,
                member: &g.members,
            })
            .collect(),
    };
    Ok(format!("{HEADER}\n{}", toml::to_string_pretty(&file)?))
}

fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Creates `path`, failing if it exists, with mode 0600.
pub(crate) fn create_new(path: &Path, contents: &str) -> io::Result<()> {
    let mut file = owner_only(OpenOptions::new().write(true).create_new(true)).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    File::open(parent_dir(path))?.sync_all()
}

/// Replaces `path` so that a crash leaves either the old or the new file, never a mix:
/// temp file in the same directory (mode 0600), fsync, rename, fsync the directory.
pub(crate) fn replace_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A temp file left by a crash of this same pid would block create_new.
    match fs::remove_file(&temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let written = (|| {
        let mut file = owner_only(OpenOptions::new().write(true).create_new(true)).open(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_then_parse_is_identity() {
        let entries = vec![Entry {
            dn: "CN=alice,CN=Users,DC=example,DC=test".into(),
            upn: "alice@EXAMPLE.TEST".into(),
            sam: Some("alice".into()),
            user_account_control: 514,
            account_expires: 132_539_328_000_000_000,
            lockout_time: 1,
            pwd_last_set: 133_000_000_000_000_000,
            key_credential_links: vec!["B:2:00:CN=alice".into(), "B:2:01:CN=alice".into()],
            alt_security_identities: vec!["X509:<SKI>0123".into()],
            object_sid: Some("S-1-5-21-1-2-3-1104".parse().unwrap()),
            primary_group_id: 1200,
        }];
        let groups = vec![GroupTable {
            dn: "CN=Staff,CN=Users,DC=example,DC=test".into(),
            sam: "Staff".into(),
            sid: "S-1-5-21-1-2-3-1200".parse().unwrap(),
            members: vec!["CN=alice,CN=Users,DC=example,DC=test".into()],
        }];
        let text = render(&entries, &groups).unwrap();
        let loaded = parse(&text).unwrap();
        let parsed: Vec<Entry> = loaded.users.into_iter().map(|l| l.entry).collect();
        assert_eq!(parsed, entries);
        let parsed: Vec<GroupTable> = loaded.groups.into_iter().map(|l| l.group).collect();
        assert_eq!(parsed, groups);
        assert!(text.contains("msDS-KeyCredentialLink = ["), "{text}");
        assert!(text.contains("[[group]]"), "{text}");
        assert!(text.contains("primaryGroupID = 1200"), "{text}");
        // The default primary group is left out, and so is an empty group list.
        let mut entry = entries[0].clone();
        entry.primary_group_id = DOMAIN_USERS_RID;
        let text = render(&[entry], &[]).unwrap();
        assert!(!text.contains("primaryGroupID ="), "{text}");
        assert!(!text.contains("[[group]]\n"), "{text}");
        assert_eq!(
            parse(&text).unwrap().users[0].entry.primary_group_id,
            DOMAIN_USERS_RID
        );
    }

    #[test]
    fn errors_carry_the_line() {
        let text =
            "[[user]]\ndistinguishedName = \"CN=a\"\nuserPrincipalName = \"a@X\"\nmail = \"a@x\"\n";
        let (line, message) = parse(text).err().unwrap();
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("mail"), "{message}");
        let group = "[[group]]\ndistinguishedName = \"CN=g\"\nsAMAccountName = \"g\"\n\
                     objectSid = \"S-1-5-21-1-2-3-x\"\n";
        let (line, message) = parse(group).err().unwrap();
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("is not a SID"), "{message}");
        let (line, message) = parse("[[group]]\ndistinguishedName = \"CN=g\"\n")
            .err()
            .unwrap();
        assert_eq!(line, 1, "{message}");
        assert!(message.contains("sAMAccountName"), "{message}");
    }
}
