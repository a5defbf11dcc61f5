//! The zero-setup directory backend: one TOML file (see `file`), loaded once into memory and
//! indexed by lower-case userPrincipalName and sAMAccountName, so lookups never touch the
//! disk; a name resolves by the shared rule of [`PrincipalLookup::resolve`]. Groups are
//! indexed by member and SID and walked by the shared membership rule
//! ([`MembershipWalk`]); every user's walk is checked as the file loads. Admin writes
//! update memory only after the file has been replaced atomically.

mod admin;
pub(crate) mod file;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
};

use async_trait::async_trait;
use file::{Entry, GroupTable};

use crate::dn_binary::normalize_dn;
use crate::rules::{GroupEntry, MembershipWalk};
use crate::sid::Sid;
use crate::{
    Directory, DirectoryError, Group, KeyCredentialLink, PrincipalLookup, RsaPublicKey, User,
};

pub struct EmbeddedDirectory {
    path: PathBuf,
    state: RwLock<Arc<State>>,
    /// Serialises writers, so each one starts from the state the previous one left.
    writer: tokio::sync::Mutex<()>,
}

/// An entry and the user it yields; the user is parsed once, when the entry changes.
#[derive(Clone)]
struct Record {
    entry: Entry,
    user: User,
}

impl Record {
    fn new(entry: Entry, links: Vec<KeyCredentialLink>) -> Self {
        let user = User {
            dn: entry.dn.clone(),
            user_principal_name: entry.upn.clone(),
            sam_account_name: entry.sam.clone(),
            user_account_control: entry.user_account_control,
            account_expires: entry.account_expires,
            lockout_time: entry.lockout_time,
            pwd_last_set: entry.pwd_last_set,
            key_credentials: links,
            alt_security_identities: entry.alt_security_identities.clone(),
            object_sid: entry.object_sid.clone(),
            primary_group_id: entry.primary_group_id,
        };
        Record { entry, user }
    }

    /// The record of a user made in memory (a new one): the entry writes what the user holds.
    fn from_user(user: User) -> Self {
        let entry = Entry {
            dn: user.dn.clone(),
            upn: user.user_principal_name.clone(),
            sam: user.sam_account_name.clone(),
            user_account_control: user.user_account_control,
            account_expires: user.account_expires,
            lockout_time: user.lockout_time,
            pwd_last_set: user.pwd_last_set,
            key_credential_links: user
                .key_credentials
                .iter()
                .map(KeyCredentialLink::to_dn_binary)
                .collect(),
            alt_security_identities: user.alt_security_identities.clone(),
            object_sid: user.object_sid.clone(),
            primary_group_id: user.primary_group_id,
        };
        Record { entry, user }
    }

    fn reparsed(entry: Entry) -> Self {
        let links = KeyCredentialLink::parse_values(
            &entry.upn,
            entry.key_credential_links.iter().map(String::as_str),
        );
        Record::new(entry, links)
    }
}

#[derive(Default)]
struct State {
    records: Vec<Record>,
    by_upn: HashMap<String, usize>,
    by_sam: HashMap<String, usize>,
    groups: Vec<GroupTable>,
    /// Normalised member DN to the groups that list it.
    groups_by_member: HashMap<String, Vec<usize>>,
    group_by_sid: HashMap<Sid, usize>,
}

/// Where in the file a refusal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    User(usize),
    Group(usize),
    /// A group's member value: the group and the value's index.
    Member(usize, usize),
}

/// The first entry the file's rules refuse, and why.
type Refusal = (At, String);

impl State {
    fn index(records: Vec<Record>, groups: Vec<GroupTable>) -> Result<State, Refusal> {
        let mut state = State::default();
        let mut dns: HashMap<String, At> = HashMap::with_capacity(records.len() + groups.len());
        let mut sids: HashMap<&Sid, At> = HashMap::new();
        for (i, record) in records.iter().enumerate() {
            let entry = &record.entry;
            let at = At::User(i);
            if state.by_upn.insert(entry.upn.to_lowercase(), i).is_some() {
                return Err((at, format!("userPrincipalName {} is used twice", entry.upn)));
            }
            if let Some(sam) = &entry.sam
                && state.by_sam.insert(sam.to_lowercase(), i).is_some()
            {
                return Err((at, format!("sAMAccountName {sam} is used twice")));
            }
            if dns.insert(normalize_dn(&entry.dn), at).is_some() {
                return Err((at, format!("distinguishedName {} is used twice", entry.dn)));
            }
            if let Some(sid) = &entry.object_sid
                && sids.insert(sid, at).is_some()
            {
                return Err((at, format!("objectSid {sid} is used twice")));
            }
        }
        for (g, group) in groups.iter().enumerate() {
            let at = At::Group(g);
            if dns.insert(normalize_dn(&group.dn), at).is_some() {
                return Err((at, format!("distinguishedName {} is used twice", group.dn)));
            }
            if sids.insert(&group.sid, at).is_some() {
                return Err((at, format!("objectSid {} is used twice", group.sid)));
            }
            state.group_by_sid.insert(group.sid.clone(), g);
        }
        for (g, group) in groups.iter().enumerate() {
            for (m, member) in group.members.iter().enumerate() {
                let key = normalize_dn(member);
                if !dns.contains_key(&key) {
                    return Err((
                        At::Member(g, m),
                        format!("member {member} of {} is no user or group here", group.dn),
                    ));
                }
                let listed = state.groups_by_member.entry(key).or_default();
                if !listed.contains(&g) {
                    listed.push(g);
                }
            }
        }
        state.records = records;
        state.groups = groups;
        for (i, record) in state.records.iter().enumerate() {
            state
                .groups_of(&record.user)
                .map_err(|error| (At::User(i), error.to_string()))?;
        }
        Ok(state)
    }

    fn group_entry(&self, index: usize) -> Option<GroupEntry> {
        self.groups.get(index).map(|group| GroupEntry {
            dn: group.dn.clone(),
            sid: Some(group.sid.clone()),
            name: Some(group.sam.clone()),
        })
    }

    /// The user's groups by the shared membership walk over this file's groups.
    fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        let mut walk = MembershipWalk::new(user);
        while !walk.frontier().is_empty() {
            let primary = walk
                .primary_group_sid()
                .and_then(|sid| self.group_by_sid.get(sid));
            let mut level: Vec<usize> = walk
                .frontier()
                .iter()
                .filter_map(|dn| self.groups_by_member.get(&normalize_dn(dn)))
                .flatten()
                .chain(primary)
                .copied()
                .collect();
            level.sort_unstable();
            level.dedup();
            let entries = level.into_iter().filter_map(|g| self.group_entry(g));
            walk.add_level(entries.collect())?;
        }
        Ok(walk.finish())
    }

    fn find(&self, lookup: &PrincipalLookup) -> Result<Option<&User>, DirectoryError> {
        let by_upn = self.by_upn.get(&lookup.user_principal_name.to_lowercase());
        let by_sam = lookup
            .sam_account_name
            .as_ref()
            .and_then(|sam| self.by_sam.get(&sam.to_lowercase()));
        let candidates = [by_upn, by_sam]
            .into_iter()
            .flatten()
            .filter_map(|&i| self.records.get(i))
            .map(|r| &r.user);
        lookup.resolve(candidates)
    }

    fn position_by_upn(&self, upn: &str) -> Result<usize, DirectoryError> {
        self.by_upn
            .get(&upn.to_lowercase())
            .copied()
            .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))
    }
}

fn validate(entry: &Entry) -> Result<(), String> {
    if entry.dn.trim().is_empty() {
        return Err("distinguishedName is empty".into());
    }
    crate::check_upn_form(&entry.upn)
}

fn validate_group(group: &GroupTable) -> Result<(), String> {
    if group.dn.trim().is_empty() {
        return Err("distinguishedName is empty".into());
    }
    if group.sam.trim().is_empty() {
        return Err(format!("group {}: sAMAccountName is empty", group.dn));
    }
    Ok(())
}

impl EmbeddedDirectory {
    /// Reads and indexes the file. Errors name the file and line; key values that do not
    /// parse are logged (with their line) and skipped, but kept in the file.
    pub async fn load(path: impl AsRef<Path>) -> Result<Self, DirectoryError> {
        let path = path.as_ref();
        Self::parse(&read_text(path).await?, path)
    }

    /// Indexes a directory file's text, as [`Self::load`] does once it has read it; `path`
    /// names the file in errors and is where admin writes go.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, DirectoryError> {
        let path = path.as_ref().to_path_buf();
        let state = parse_state(text, &path)?;
        Ok(EmbeddedDirectory {
            path,
            state: RwLock::new(Arc::new(state)),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// Creates a directory file with no users (mode 0600), failing if `path` exists.
    pub async fn create_empty(path: impl AsRef<Path>) -> Result<Self, DirectoryError> {
        let path = path.as_ref().to_path_buf();
        let text = file::render(&[], &[]).map_err(|e| DirectoryError::Invalid(e.to_string()))?;
        let target = path.clone();
        blocking(&path, move || file::create_new(&target, &text)).await?;
        Self::load(path).await
    }

    /// Re-reads the file, e.g. after another process edited it. On error the loaded state
    /// stays as it was.
    pub async fn reload(&self) -> Result<(), DirectoryError> {
        let _writer = self.writer.lock().await;
        let state = read_state(&self.path).await?;
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn snapshot(&self) -> Arc<State> {
        Arc::clone(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Applies `change` to a copy of the users and groups, writes the file, then publishes
    /// the copy. `change` returns its result and whether it changed anything (no write if
    /// not). What the file's rules refuse is a `Conflict`.
    async fn modify<T>(
        &self,
        change: impl FnOnce(
            &mut Vec<Record>,
            &mut Vec<GroupTable>,
            &State,
        ) -> Result<(T, bool), DirectoryError>,
    ) -> Result<T, DirectoryError> {
        let _writer = self.writer.lock().await;
        let current = self.snapshot();
        let mut records = current.records.clone();
        let mut groups = current.groups.clone();
        let (result, changed) = change(&mut records, &mut groups, &current)?;
        if !changed {
            return Ok(result);
        }
        let state =
            State::index(records, groups).map_err(|(_, why)| DirectoryError::Conflict(why))?;
        let entries: Vec<Entry> = state.records.iter().map(|r| r.entry.clone()).collect();
        let text = file::render(&entries, &state.groups)
            .map_err(|e| DirectoryError::Invalid(e.to_string()))?;
        let path = self.path.clone();
        blocking(&self.path, move || file::replace_atomically(&path, &text)).await?;
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(result)
    }

    /// [`Self::modify`] on one user's record, named by userPrincipalName (any case).
    async fn modify_user<T>(
        &self,
        upn: &str,
        change: impl FnOnce(&mut Record) -> Result<(T, bool), DirectoryError>,
    ) -> Result<T, DirectoryError> {
        self.modify(|records, _, state| {
            let record = records
                .get_mut(state.position_by_upn(upn)?)
                .ok_or_else(|| DirectoryError::NotFound(upn.to_string()))?;
            change(record)
        })
        .await
    }
}

async fn blocking(
    path: &Path,
    io: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> Result<(), DirectoryError> {
    tokio::task::spawn_blocking(io)
        .await
        .map_err(|e| DirectoryError::Unavailable(format!("file writer task failed: {e}")))?
        .map_err(|source| DirectoryError::Io {
            path: path.to_path_buf(),
            source,
        })
}

async fn read_state(path: &Path) -> Result<State, DirectoryError> {
    parse_state(&read_text(path).await?, path)
}

async fn read_text(path: &Path) -> Result<String, DirectoryError> {
    tokio::fs::read_to_string(path)
        .await
        .map_err(|source| DirectoryError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn parse_state(text: &str, path: &Path) -> Result<State, DirectoryError> {
    let parse_error = |line, message| DirectoryError::Parse {
        file: path.to_path_buf(),
        line,
        message,
    };
    let loaded = file::parse(text).map_err(|(line, message)| parse_error(line, message))?;
    let user_lines: Vec<usize> = loaded.users.iter().map(|l| l.line).collect();
    let mut records = Vec::with_capacity(loaded.users.len());
    for item in loaded.users {
        validate(&item.entry).map_err(|message| parse_error(item.line, message))?;
        let mut links = Vec::new();
        for (value, line) in item.entry.key_credential_links.iter().zip(&item.link_lines) {
            match KeyCredentialLink::parse(value) {
                Ok(link) => links.push(link),
                Err(error) => tracing::warn!(
                    user = %item.entry.upn, file = %path.display(), line, %error,
                    "skipping unparsable msDS-KeyCredentialLink value"
                ),
            }
        }
        records.push(Record::new(item.entry, links));
    }
    let mut group_lines = Vec::with_capacity(loaded.groups.len());
    let mut groups = Vec::with_capacity(loaded.groups.len());
    for item in loaded.groups {
        validate_group(&item.group).map_err(|message| parse_error(item.line, message))?;
        group_lines.push((item.line, item.member_lines));
        groups.push(item.group);
    }
    State::index(records, groups).map_err(|(at, why)| {
        let line = match at {
            At::User(i) => user_lines.get(i).copied(),
            At::Group(g) => group_lines.get(g).map(|(line, _)| *line),
            At::Member(g, m) => group_lines
                .get(g)
                .and_then(|(_, members)| members.get(m).copied()),
        };
        parse_error(line.unwrap_or(1), why)
    })
}

#[async_trait]
impl Directory for EmbeddedDirectory {
    async fn find_user(&self, name: &str, realm: &str) -> Result<Option<User>, DirectoryError> {
        Ok(self
            .snapshot()
            .find(&PrincipalLookup::new(name, realm))?
            .cloned())
    }

    // A scan: it runs only when key trust has already failed, never on a successful logon.
    async fn find_key_owners(
        &self,
        public_key: &RsaPublicKey,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self
            .snapshot()
            .records
            .iter()
            .filter(|r| r.user.registered_ngc_key(public_key).is_some())
            .map(|r| r.user.user_principal_name.clone())
            .collect())
    }

    async fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError> {
        self.snapshot().groups_of(user)
    }
}
