//! The directory's rules for key credentials and accounts, written once for every backend
//! (embedded file and LDAP alike): a msDS-KeyCredentialLink value (MS-ADTS 2.2.20) counts
//! only under its user's own DN, and a user's KeyIDs are unique; a userPrincipalName has the
//! form name@suffix; disabling an account touches only ACCOUNTDISABLE (MS-ADTS 2.2.16); a
//! user's groups are those reached through `member` level by level, plus the primary group
//! (MS-ADTS 3.1.1.4.5.19 tokenGroups), within bounds.

use std::collections::HashSet;

use crate::dn_binary::normalize_dn;
use crate::sid::{DOMAIN_USERS_RID, Sid};
use crate::{
    DirectoryError, Group, KeyCredentialLink, KeyUsage, NewUser, RsaPublicKey, UF_ACCOUNTDISABLE,
    User, dn_equivalent,
};

/// Most groups a user may be in, nested ones included. A Windows access token holds at most
/// 1024 SIDs (the user's, the groups', the PAC's extra SIDs), so a longer list could not
/// reach a service anyway; this leaves room for the others.
pub const MAX_GROUPS: usize = 1000;
/// Most levels of group nesting followed (a user's direct groups are level 1). Each level
/// costs an LDAP search when the directory does not resolve nesting itself.
pub const MAX_GROUP_NESTING: usize = 16;

impl User {
    /// Whether `link` names this user. A value under another DN was copied from (or meant
    /// for) someone else: key trust never accepts it and no backend stores it.
    fn owns(&self, link: &KeyCredentialLink) -> bool {
        dn_equivalent(&link.owner_dn, &self.dn)
    }

    /// The registered key that PKINIT key trust accepts for `public_key`: same normalised
    /// (n, e), KeyUsage NGC, and a value whose DN is this user's own.
    pub fn registered_ngc_key(&self, public_key: &RsaPublicKey) -> Option<&KeyCredentialLink> {
        self.key_credentials.iter().find(|link| {
            link.credential.key_usage() == KeyUsage::Ngc
                && link.credential.rsa_public_key() == Some(public_key)
                && self.owns(link)
        })
    }

    /// Whether `link` may be added to this user's keys: `Invalid` if its DN is not the
    /// user's, `Conflict` if one of the user's keys already has its KeyID (removal goes by
    /// KeyID, so two would be removed as one).
    pub fn check_new_key(&self, link: &KeyCredentialLink) -> Result<(), DirectoryError> {
        if !self.owns(link) {
            return Err(DirectoryError::Invalid(format!(
                "key credential names {} but the user is {}",
                link.owner_dn, self.dn
            )));
        }
        let key_id = link.credential.key_id();
        if self
            .key_credentials
            .iter()
            .any(|existing| existing.credential.key_id() == key_id)
        {
            return Err(DirectoryError::Conflict(format!(
                "{} already has a key with KeyID {}",
                self.user_principal_name,
                hex::encode(key_id)
            )));
        }
        Ok(())
    }

    /// userAccountControl with ACCOUNTDISABLE set or cleared and every other bit kept.
    pub(crate) fn account_control_with_disabled(&self, disabled: bool) -> u32 {
        if disabled {
            self.user_account_control | UF_ACCOUNTDISABLE
        } else {
            self.user_account_control & !UF_ACCOUNTDISABLE
        }
    }
}

impl KeyCredentialLink {
    /// Whether a stored value is a key with this KeyID, as removal decides it. A value that
    /// does not parse has no KeyID to trust, so it never matches and stays.
    pub(crate) fn value_has_key_id(value: &str, key_id: &[u8]) -> bool {
        Self::parse(value).is_ok_and(|link| link.credential.key_id() == key_id)
    }
}

impl NewUser {
    /// Where a user lives when the operator names no DN: `CN=name,CN=Users` under the
    /// `DC=` components of the DNS domain, as Active Directory places new users.
    pub fn default_dn(name: &str, dns_domain: &str) -> String {
        let base = dns_domain
            .to_lowercase()
            .split('.')
            .map(|part| format!("DC={part}"))
            .collect::<Vec<_>>()
            .join(",");
        format!("CN={name},CN=Users,{base}")
    }

    /// The user as created: no expiry, no lockout, no keys, no certificate mappings, AD's
    /// default primary group.
    pub(crate) fn into_user(self) -> User {
        User {
            dn: self.dn,
            user_principal_name: self.user_principal_name,
            sam_account_name: self.sam_account_name,
            user_account_control: self.user_account_control,
            account_expires: 0,
            lockout_time: 0,
            pwd_last_set: 0,
            key_credentials: Vec::new(),
            alt_security_identities: Vec::new(),
            object_sid: self.object_sid,
            primary_group_id: DOMAIN_USERS_RID,
        }
    }
}

/// The lowest RID a new account gets: those below 1000 name the well-known accounts and
/// groups of a domain ([MS-DTYP] 2.4.2.4), and a DC's RID pool starts above them.
pub const FIRST_ACCOUNT_RID: u32 = 0x03e8;

impl User {
    /// The primary group's SID: primaryGroupID as a RID in the domain of the user's own
    /// objectSid (MS-ADTS 3.1.1.4.5.19). None for a user without an objectSid.
    pub fn primary_group_sid(&self) -> Option<Sid> {
        let (domain, _) = self.object_sid.as_ref()?.split_rid()?;
        domain.with_rid(self.primary_group_id)
    }
}

/// A group entry as a backend reads it while walking the membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub dn: String,
    pub sid: Option<Sid>,
    pub name: Option<String>,
}

/// A user's group membership, read one nesting level at a time by a backend that does not
/// resolve nesting itself: first the groups whose `member` is the user, with the primary
/// group (found by its SID: it does not list its members); then the groups whose `member`
/// is one of those; until a level brings no group not seen before (so cycles end).
pub(crate) struct MembershipWalk {
    user_dn: String,
    primary_group_sid: Option<Sid>,
    seen: HashSet<String>,
    found: Vec<GroupEntry>,
    frontier: Vec<String>,
    levels: usize,
}

impl MembershipWalk {
    pub fn new(user: &User) -> Self {
        MembershipWalk {
            user_dn: user.dn.clone(),
            primary_group_sid: user.primary_group_sid(),
            seen: HashSet::from([normalize_dn(&user.dn)]),
            found: Vec::new(),
            frontier: vec![user.dn.clone()],
            levels: 0,
        }
    }

    /// The DNs whose groups are read next; empty once the walk is complete.
    pub fn frontier(&self) -> &[String] {
        &self.frontier
    }

    /// The primary group's SID while the first level is read; None after it.
    pub fn primary_group_sid(&self) -> Option<&Sid> {
        (self.levels == 0)
            .then_some(self.primary_group_sid.as_ref())
            .flatten()
    }

    /// Adds one level: the groups with a member in [`Self::frontier`] (and, the first time,
    /// the primary group). Refuses a walk that passes [`MAX_GROUPS`] or finds a group
    /// deeper than [`MAX_GROUP_NESTING`].
    pub fn add_level(&mut self, groups: Vec<GroupEntry>) -> Result<(), DirectoryError> {
        self.levels += 1;
        let mut next = Vec::new();
        for group in groups {
            if self.seen.insert(normalize_dn(&group.dn)) {
                next.push(group.dn.clone());
                self.found.push(group);
            }
        }
        check_group_count(&self.user_dn, self.found.len())?;
        if self.levels > MAX_GROUP_NESTING
            && let Some(deepest) = next.first()
        {
            return Err(DirectoryError::Membership {
                dn: self.user_dn.clone(),
                reason: format!(
                    "groups nested deeper than {MAX_GROUP_NESTING} levels (through {deepest})"
                ),
            });
        }
        self.frontier = next;
        Ok(())
    }

    /// The groups found, as [`token_groups`] lists them.
    pub fn finish(self) -> Vec<Group> {
        let groups = self.found.into_iter().filter_map(|entry| {
            let Some(sid) = entry.sid else {
                tracing::debug!(group = %entry.dn, "a group without objectSid: followed, not listed");
                return None;
            };
            Some(Group {
                sid,
                name: entry.name,
            })
        });
        token_groups(groups, self.primary_group_sid)
    }
}

/// Refuses a membership of more than [`MAX_GROUPS`] groups.
pub(crate) fn check_group_count(user_dn: &str, count: usize) -> Result<(), DirectoryError> {
    if count > MAX_GROUPS {
        return Err(DirectoryError::Membership {
            dn: user_dn.to_owned(),
            reason: format!("in more than {MAX_GROUPS} groups"),
        });
    }
    Ok(())
}

/// A user's groups as every backend returns them: sorted by SID, each SID once (named if any
/// of its entries had a name), and the primary group's SID present, unnamed if no entry
/// gave it.
pub(crate) fn token_groups(
    groups: impl IntoIterator<Item = Group>,
    primary_group_sid: Option<Sid>,
) -> Vec<Group> {
    let mut groups: Vec<Group> = groups.into_iter().collect();
    if let Some(sid) = primary_group_sid {
        groups.push(Group { sid, name: None });
    }
    // Named entries sort after unnamed ones of the same SID; keep the last of each SID.
    groups.sort();
    let mut listed: Vec<Group> = Vec::with_capacity(groups.len());
    for group in groups {
        match listed.last_mut() {
            Some(last) if last.sid == group.sid => *last = group,
            _ => listed.push(group),
        }
    }
    listed
}

/// A userPrincipalName must read name@suffix with both parts non-empty; the message says
/// which value was refused.
pub(crate) fn check_upn_form(upn: &str) -> Result<(), String> {
    match upn.split_once('@') {
        Some((user, suffix)) if !user.is_empty() && !suffix.is_empty() => Ok(()),
        _ => Err(format!(
            "userPrincipalName {upn:?} is not of the form name@suffix"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyCredential;
    use crate::keycredlink::Guid;

    const ALICE_DN: &str = "CN=Alice,CN=Users,DC=corp,DC=example";

    fn key(seed: u8) -> RsaPublicKey {
        let mut modulus = vec![0xc0 | seed; 256];
        if let Some(last) = modulus.last_mut() {
            *last |= 1;
        }
        RsaPublicKey::from_components(&modulus, &[1, 0, 1]).unwrap()
    }

    #[test]
    fn a_new_user_goes_under_cn_users_of_the_domain() {
        assert_eq!(
            NewUser::default_dn("alice", "Corp.Example"),
            "CN=alice,CN=Users,DC=corp,DC=example"
        );
    }

    fn link(owner_dn: &str, seed: u8) -> KeyCredentialLink {
        KeyCredentialLink {
            owner_dn: owner_dn.into(),
            credential: KeyCredential::new_ngc(&key(seed), Guid::from_bytes([seed; 16]), 0),
        }
    }

    fn alice(keys: Vec<KeyCredentialLink>) -> User {
        User {
            key_credentials: keys,
            ..NewUser {
                dn: ALICE_DN.into(),
                user_principal_name: "alice@corp.example".into(),
                sam_account_name: Some("alice".into()),
                user_account_control: crate::UF_NORMAL_ACCOUNT,
                object_sid: None,
            }
            .into_user()
        }
    }

    #[test]
    fn a_new_key_must_name_the_user_and_bring_a_new_key_id() {
        let user = alice(vec![link(ALICE_DN, 1)]);
        user.check_new_key(&link("cn=alice, cn=users, dc=corp, dc=example", 2))
            .unwrap();
        assert!(matches!(
            user.check_new_key(&link("CN=Bob,CN=Users,DC=corp,DC=example", 2)),
            Err(DirectoryError::Invalid(_))
        ));
        assert!(matches!(
            user.check_new_key(&link(ALICE_DN, 1)),
            Err(DirectoryError::Conflict(_))
        ));
    }

    #[test]
    fn key_trust_takes_only_keys_under_the_users_own_dn() {
        let user = alice(vec![
            link("CN=Bob,CN=Users,DC=corp,DC=example", 1),
            link(ALICE_DN, 2),
        ]);
        assert!(user.registered_ngc_key(&key(1)).is_none());
        assert!(user.registered_ngc_key(&key(2)).is_some());
    }

    #[test]
    fn removal_matches_parsed_values_by_key_id_only() {
        let value = link(ALICE_DN, 1);
        let key_id = value.credential.key_id().to_vec();
        assert!(KeyCredentialLink::value_has_key_id(
            &value.to_dn_binary(),
            &key_id
        ));
        assert!(!KeyCredentialLink::value_has_key_id(
            &link(ALICE_DN, 2).to_dn_binary(),
            &key_id
        ));
        assert!(!KeyCredentialLink::value_has_key_id(
            "B:4:0000:CN=x",
            &key_id
        ));
    }

    #[test]
    fn disabling_touches_only_accountdisable() {
        let mut user = alice(Vec::new());
        user.user_account_control = crate::UF_NORMAL_ACCOUNT | 0x0001_0000;
        let disabled = user.account_control_with_disabled(true);
        assert_eq!(disabled, user.user_account_control | UF_ACCOUNTDISABLE);
        user.user_account_control = disabled;
        assert_eq!(
            user.account_control_with_disabled(false),
            crate::UF_NORMAL_ACCOUNT | 0x0001_0000
        );
    }

    #[test]
    fn upns_need_a_name_and_a_suffix() {
        check_upn_form("alice@corp.example").unwrap();
        for bad in ["alice", "@corp.example", "alice@", ""] {
            assert!(check_upn_form(bad).is_err(), "{bad:?}");
        }
    }

    fn sid(text: &str) -> Sid {
        text.parse().unwrap()
    }

    fn entry(cn: &str, rid: Option<u32>) -> GroupEntry {
        GroupEntry {
            dn: format!("CN={cn},CN=Users,DC=corp,DC=example"),
            sid: rid.map(|rid| sid(&format!("S-1-5-21-1-2-3-{rid}"))),
            name: Some(cn.to_owned()),
        }
    }

    fn named(rid: u32, name: Option<&str>) -> Group {
        Group {
            sid: sid(&format!("S-1-5-21-1-2-3-{rid}")),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn the_primary_group_is_in_the_users_domain() {
        let mut user = alice(Vec::new());
        assert_eq!(user.primary_group_sid(), None);
        user.object_sid = Some(sid("S-1-5-21-1-2-3-1103"));
        assert_eq!(user.primary_group_sid(), Some(sid("S-1-5-21-1-2-3-513")));
        user.primary_group_id = 1201;
        assert_eq!(user.primary_group_sid(), Some(sid("S-1-5-21-1-2-3-1201")));
    }

    /// Level by level, a cycle ends the walk, a group without SID is followed but not
    /// listed, and the primary group is listed (named when an entry gave its name).
    #[test]
    fn the_walk_follows_nesting_through_cycles() {
        let mut user = alice(Vec::new());
        user.object_sid = Some(sid("S-1-5-21-1-2-3-1103"));
        let mut walk = MembershipWalk::new(&user);
        assert_eq!(walk.frontier(), [ALICE_DN]);
        assert_eq!(walk.primary_group_sid(), Some(&sid("S-1-5-21-1-2-3-513")));
        walk.add_level(vec![entry("Staff", Some(1200)), entry("Unix", None)])
            .unwrap();
        assert_eq!(walk.primary_group_sid(), None);
        assert_eq!(walk.frontier().len(), 2);
        // Staff is in Engineers; Unix (no SID) is in All; All is in Staff again.
        walk.add_level(vec![
            entry("Engineers", Some(1201)),
            entry("All", Some(1202)),
        ])
        .unwrap();
        walk.add_level(vec![entry("staff", Some(1200))]).unwrap();
        assert!(walk.frontier().is_empty());
        assert_eq!(
            walk.finish(),
            [
                named(513, None),
                named(1200, Some("Staff")),
                named(1201, Some("Engineers")),
                named(1202, Some("All")),
            ]
        );
    }

    #[test]
    fn nesting_and_counts_are_bounded() {
        let user = alice(Vec::new());
        let mut walk = MembershipWalk::new(&user);
        for level in 0..MAX_GROUP_NESTING {
            let rid = u32::try_from(level).unwrap() + 2000;
            walk.add_level(vec![entry(&format!("G{level}"), Some(rid))])
                .unwrap();
        }
        // The deepest allowed level is read; nothing above it is fine...
        let mut complete = MembershipWalk::new(&user);
        for level in 0..MAX_GROUP_NESTING {
            let rid = u32::try_from(level).unwrap() + 2000;
            complete
                .add_level(vec![entry(&format!("G{level}"), Some(rid))])
                .unwrap();
        }
        complete.add_level(Vec::new()).unwrap();
        assert_eq!(complete.finish().len(), MAX_GROUP_NESTING);
        // ...a group one level further is refused.
        let deeper = walk.add_level(vec![entry("Too deep", Some(3000))]);
        assert!(
            matches!(&deeper, Err(DirectoryError::Membership { reason, .. }) if reason.contains("Too deep")),
            "{deeper:?}"
        );

        let many = |n: usize| -> Vec<GroupEntry> {
            (0..n)
                .map(|i| entry(&format!("M{i}"), Some(u32::try_from(i).unwrap() + 5000)))
                .collect()
        };
        let mut walk = MembershipWalk::new(&user);
        walk.add_level(many(MAX_GROUPS)).unwrap();
        let mut walk = MembershipWalk::new(&user);
        let refused = walk.add_level(many(MAX_GROUPS + 1));
        assert!(
            matches!(&refused, Err(DirectoryError::Membership { dn, .. }) if dn == ALICE_DN),
            "{refused:?}"
        );
    }

    #[test]
    fn token_groups_are_sorted_unique_and_keep_names() {
        let listed = token_groups(
            [
                named(1201, None),
                named(513, Some("Domain Users")),
                named(1201, Some("Engineers")),
                named(1200, None),
            ],
            Some(sid("S-1-5-21-1-2-3-513")),
        );
        assert_eq!(
            listed,
            [
                named(513, Some("Domain Users")),
                named(1200, None),
                named(1201, Some("Engineers")),
            ]
        );
        assert_eq!(token_groups([], None), []);
    }
}
