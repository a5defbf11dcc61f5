//! `[directory] type = "ldap"`: where the LDAP directory is (RFC 4516 URLs), how the KDC
//! binds (RFC 4513 simple bind, password from a file) and secures the connection (LDAPS or
//! StartTLS), what it searches (RFC 4515 filter) and which attribute names it reads, and how
//! it reads a user's groups (AD's tokenGroups or a search on `member`); every option with
//! its default. Defaults fit Active Directory. The LDAP backend (kdc-directory)
//! takes this table as it is.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// Required. `ldap://host[:port]` or `ldaps://host[:port]` URLs, tried in this order;
    /// the first that answers is used until its connection breaks.
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS. Default false. Not with `ldaps://`.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the CA certificates that may issue the servers' certificates. Default:
    /// the system trust store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// DN for a simple bind. Default: none (anonymous). Needs `bind_password_file`.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// File holding the bind password (one line; mode 0600). The password is never written
    /// in this file.
    #[serde(default)]
    pub bind_password_file: Option<PathBuf>,
    /// Required. Where users are searched (whole subtree), e.g. `DC=corp,DC=example,DC=com`.
    pub base_dn: String,
    /// Where the krbtgt and service principal entries (`kdcPrincipal`, sealed keys) are kept
    /// when `[keys] store` is absent. Default: `base_dn`.
    #[serde(default)]
    pub principals_base_dn: Option<String>,
    /// RFC 4515 filter every user search is ANDed with. Default
    /// `(&(objectCategory=person)(objectClass=user))` (AD); `(objectClass=kdcAccount)` for
    /// OpenLDAP with deploy/ldap/kdc.schema.
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    /// Attribute names, `[directory.attributes]`. Defaults: AD's.
    #[serde(default)]
    pub attributes: LdapAttributeNames,
    /// Bound on each network step in milliseconds: connecting (TCP, TLS, bind) to one
    /// server, one search. A client whose lookup exceeds it gets KDC_ERR_SVC_UNAVAILABLE.
    /// Default 2000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Connections kept open, shared by all requests (each multiplexes). Default 4.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Seconds a found user and its parsed keys are served from memory; 0 turns the cache
    /// off (then a removed key stops working at once). Default 30.
    #[serde(default = "default_cache_ttl_secs")]
    pub cache_ttl_secs: u64,
    /// Seconds an unknown principal is remembered; 0 turns this off. Default 5.
    #[serde(default = "default_negative_cache_ttl_secs")]
    pub negative_cache_ttl_secs: u64,
    /// Most users cached. Default 100000.
    #[serde(default = "default_cache_max_entries")]
    pub cache_max_entries: usize,
    /// Milliseconds before the first reconnect after every server failed; doubles per
    /// failure up to `reconnect_backoff_max_ms`. Meanwhile requests fail at once. Default 250.
    #[serde(default = "default_reconnect_backoff_ms")]
    pub reconnect_backoff_ms: u64,
    /// Default 5000.
    #[serde(default = "default_reconnect_backoff_max_ms")]
    pub reconnect_backoff_max_ms: u64,
    /// Most entries read to find who owns a key presented for the wrong user (only after
    /// key trust failed; it tells KDC_ERR_CLIENT_NAME_MISMATCH from NOT_TRUSTED); 0 skips
    /// the search. Default 1000.
    #[serde(default = "default_key_owner_search_limit")]
    pub key_owner_search_limit: usize,
    /// objectClass values of users made by `kdc user add`. Default
    /// `["top", "person", "organizationalPerson", "user"]` (AD).
    #[serde(default = "default_new_user_object_classes")]
    pub new_user_object_classes: Vec<String>,
    /// How a user's groups are read (for the PAC): `token_groups` (default), Active
    /// Directory's constructed tokenGroups, one base-scope read of the user that lists every
    /// group SID, nested and primary included; or `member_search` (OpenLDAP), searches for
    /// the groups whose `member` is the user, then those groups, level by level, each
    /// group's objectSid and sAMAccountName read, plus the primary group by its SID.
    #[serde(default)]
    pub group_membership: GroupMembership,
    /// RFC 4515 filter every group search is ANDed with. Default `(objectClass=group)`
    /// (AD); `(objectClass=kdcGroup)` for OpenLDAP with deploy/ldap/kdc.schema.
    #[serde(default = "default_group_filter")]
    pub group_filter: String,
}

/// `[directory] group_membership`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMembership {
    #[default]
    TokenGroups,
    MemberSearch,
}

/// `[directory.attributes]`: the LDAP attribute names read and written.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapAttributeNames {
    /// Default `userPrincipalName`.
    pub user_principal_name: String,
    /// Default `sAMAccountName`.
    pub sam_account_name: String,
    /// DN-Binary values `B:<count>:<hex>:<DN>`. Default `msDS-KeyCredentialLink`.
    pub key_credential_link: String,
    /// Bit 0x2 (ACCOUNTDISABLE) refuses the account, and so does an entry without it.
    /// Default `userAccountControl`.
    pub user_account_control: String,
    /// A FILETIME; past it the account is refused (0 or 0x7FFFFFFFFFFFFFFF: never).
    /// Default `accountExpires`.
    pub account_expires: String,
    /// A FILETIME; non-zero refuses the account (the KDC does not read the domain's lockout
    /// duration: a lockout lasts until the value is 0 again). Default `lockoutTime`.
    pub lockout_time: String,
    /// A FILETIME: when the password was last set, the PAC's PasswordLastSet ([MS-KILE]
    /// 3.3.5.6.4.1); absent or unreadable is 0. Default `pwdLastSet`.
    pub pwd_last_set: String,
    /// Explicit certificate mappings for certificate trust (KB5014754). Default `altSecurityIdentities`.
    pub alt_security_identities: String,
    /// The SID that certificate trust matches against the SID extension (KB5014754), and
    /// the PAC's user and group SIDs. Default `objectSid`.
    pub object_sid: String,
    /// The RID of the user's primary group; absent = 513 (Domain Users). Default
    /// `primaryGroupID`.
    pub primary_group_id: String,
    /// With `group_membership = "token_groups"`: the user's group SIDs, binary, read by a
    /// base-scope search only (AD constructs it). Default `tokenGroups`.
    pub token_groups: String,
    /// With `group_membership = "member_search"`: a group's members, as DNs. Default `member`.
    pub member: String,
}

impl Default for LdapAttributeNames {
    fn default() -> Self {
        LdapAttributeNames {
            user_principal_name: "userPrincipalName".into(),
            sam_account_name: "sAMAccountName".into(),
            key_credential_link: "msDS-KeyCredentialLink".into(),
            user_account_control: "userAccountControl".into(),
            account_expires: "accountExpires".into(),
            lockout_time: "lockoutTime".into(),
            pwd_last_set: "pwdLastSet".into(),
            alt_security_identities: "altSecurityIdentities".into(),
            object_sid: "objectSid".into(),
            primary_group_id: "primaryGroupID".into(),
            token_groups: "tokenGroups".into(),
            member: "member".into(),
        }
    }
}

impl LdapAttributeNames {
    /// Every name, each checked as the file loads.
    pub fn all(&self) -> [&str; 12] {
        let [a, b, c, d, e, f, g, h, i, j] = self.read_for_users();
        [
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            i,
            j,
            &self.token_groups,
            &self.member,
        ]
    }

    /// The names read for every user (and written by the admin commands); tokenGroups is
    /// not among them (AD returns it only to a base-scope read).
    pub fn read_for_users(&self) -> [&str; 10] {
        [
            &self.user_principal_name,
            &self.sam_account_name,
            &self.user_account_control,
            &self.account_expires,
            &self.lockout_time,
            &self.pwd_last_set,
            &self.key_credential_link,
            &self.alt_security_identities,
            &self.object_sid,
            &self.primary_group_id,
        ]
    }
}

/// Whether `name` is an attribute description (RFC 4512 §2.5): a descr (letter, then
/// letters, digits, '-') or a numeric OID, with optional `;option`s.
pub fn is_attribute_description(name: &str) -> bool {
    let mut parts = name.split(';');
    let Some(attribute_type) = parts.next() else {
        return false;
    };
    let keystring = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let numeric_oid = |s: &str| {
        s.split('.').count() >= 2
            && s.split('.').all(|arc| {
                !arc.is_empty()
                    && arc.bytes().all(|b| b.is_ascii_digit())
                    && (arc == "0" || !arc.starts_with('0'))
            })
    };
    (keystring(attribute_type) || numeric_oid(attribute_type)) && parts.all(keystring)
}

fn default_user_filter() -> String {
    "(&(objectCategory=person)(objectClass=user))".into()
}
fn default_timeout_ms() -> u64 {
    2000
}
fn default_pool_size() -> usize {
    4
}
fn default_cache_ttl_secs() -> u64 {
    30
}
fn default_negative_cache_ttl_secs() -> u64 {
    5
}
fn default_cache_max_entries() -> usize {
    100_000
}
fn default_reconnect_backoff_ms() -> u64 {
    250
}
fn default_reconnect_backoff_max_ms() -> u64 {
    5000
}
fn default_key_owner_search_limit() -> usize {
    1000
}
fn default_group_filter() -> String {
    "(objectClass=group)".into()
}
fn default_new_user_object_classes() -> Vec<String> {
    ["top", "person", "organizationalPerson", "user"]
        .map(String::from)
        .to_vec()
}

/// A URL the backend can use: ldap:// or ldaps://, a host, nothing after the host part.
fn check_url(url: &str, starttls: bool) -> Result<(), String> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("ldaps://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("ldap://") {
        (false, rest)
    } else {
        return Err(format!("{url:?} is not an ldap:// or ldaps:// URL"));
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.is_empty() || host.starts_with(':') || host.contains(['/', '?', '@', ' ']) {
        return Err(format!("{url:?} must be scheme://host[:port]"));
    }
    if secure && starttls {
        return Err(format!("{url:?} is ldaps://: StartTLS is for ldap:// URLs"));
    }
    Ok(())
}

/// Parentheses balanced outside escapes: catches a truncated filter early; the backend
/// parses it fully when it opens.
fn balanced(filter: &str) -> bool {
    let mut depth = 0i64;
    for c in filter.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

impl LdapConfig {
    /// These servers and base DN, every other option at its default (as if the table named
    /// only `urls` and `base_dn`).
    pub fn new(urls: Vec<String>, base_dn: impl Into<String>) -> Self {
        LdapConfig {
            urls,
            starttls: false,
            ca_file: None,
            bind_dn: None,
            bind_password_file: None,
            base_dn: base_dn.into(),
            principals_base_dn: None,
            user_filter: default_user_filter(),
            attributes: LdapAttributeNames::default(),
            timeout_ms: default_timeout_ms(),
            pool_size: default_pool_size(),
            cache_ttl_secs: default_cache_ttl_secs(),
            negative_cache_ttl_secs: default_negative_cache_ttl_secs(),
            cache_max_entries: default_cache_max_entries(),
            reconnect_backoff_ms: default_reconnect_backoff_ms(),
            reconnect_backoff_max_ms: default_reconnect_backoff_max_ms(),
            key_owner_search_limit: default_key_owner_search_limit(),
            new_user_object_classes: default_new_user_object_classes(),
            group_membership: GroupMembership::default(),
            group_filter: default_group_filter(),
        }
    }

    /// `timeout_ms`.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
    /// `cache_ttl_secs`; zero: no cache.
    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }
    /// `negative_cache_ttl_secs`; zero: unknown principals are not remembered.
    pub fn negative_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.negative_cache_ttl_secs)
    }
    /// `reconnect_backoff_ms`.
    pub fn reconnect_backoff(&self) -> Duration {
        Duration::from_millis(self.reconnect_backoff_ms)
    }
    /// `reconnect_backoff_max_ms`.
    pub fn reconnect_backoff_max(&self) -> Duration {
        Duration::from_millis(self.reconnect_backoff_max_ms)
    }

    pub(crate) fn resolve_paths(&mut self, resolve: impl Fn(&mut PathBuf)) {
        if let Some(path) = &mut self.ca_file {
            resolve(path);
        }
        if let Some(path) = &mut self.bind_password_file {
            resolve(path);
        }
    }

    /// The key (under `directory.`) and the problem, for the first invalid option. Run as the
    /// file loads, and again by the LDAP backend on settings made in code.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.urls.is_empty() {
            return Err(("directory.urls", "must list at least one server".into()));
        }
        for url in &self.urls {
            check_url(url, self.starttls).map_err(|e| ("directory.urls", e))?;
        }
        if self.base_dn.trim().is_empty() || !self.base_dn.contains('=') {
            return Err((
                "directory.base_dn",
                "must be a DN like DC=corp,DC=example,DC=com".into(),
            ));
        }
        match (&self.bind_dn, &self.bind_password_file) {
            (Some(dn), Some(_)) if dn.contains('=') => {}
            (Some(_), Some(_)) => {
                return Err(("directory.bind_dn", "must be a DN".into()));
            }
            (Some(_), None) => {
                return Err((
                    "directory.bind_password_file",
                    "bind_dn needs a password file".into(),
                ));
            }
            (None, Some(_)) => {
                return Err((
                    "directory.bind_dn",
                    "bind_password_file needs a bind_dn".into(),
                ));
            }
            (None, None) => {}
        }
        for (key, filter) in [
            ("directory.user_filter", &self.user_filter),
            ("directory.group_filter", &self.group_filter),
        ] {
            if filter.trim().is_empty() || !balanced(filter) {
                return Err((key, format!("{filter:?} is not an LDAP filter")));
            }
        }
        use crate::bounds::{Bound, DAY, HOUR};
        crate::bounds::check([
            Bound::new("directory.timeout_ms", self.timeout_ms, 1..=60_000),
            Bound::new("directory.pool_size", self.pool_size, 1..=64),
            Bound::new("directory.cache_ttl_secs", self.cache_ttl_secs, 0..=DAY),
            Bound::new(
                "directory.negative_cache_ttl_secs",
                self.negative_cache_ttl_secs,
                0..=DAY,
            ),
            Bound::new(
                "directory.cache_max_entries",
                self.cache_max_entries,
                0..=10_000_000,
            ),
            Bound::new(
                "directory.reconnect_backoff_max_ms",
                self.reconnect_backoff_max_ms,
                1..=HOUR * 1000,
            ),
            Bound::new(
                "directory.key_owner_search_limit",
                self.key_owner_search_limit,
                1..=100_000,
            ),
        ])?;
        if self.reconnect_backoff_ms == 0
            || self.reconnect_backoff_max_ms < self.reconnect_backoff_ms
        {
            return Err((
                "directory.reconnect_backoff_ms",
                "must be above 0 and at most reconnect_backoff_max_ms".into(),
            ));
        }
        if self.new_user_object_classes.is_empty() {
            return Err((
                "directory.new_user_object_classes",
                "must name at least one class".into(),
            ));
        }
        for name in self.attributes.all() {
            if !is_attribute_description(name) {
                return Err((
                    "directory.attributes",
                    format!("{name:?} is not an attribute name"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_descriptions() {
        for good in [
            "msDS-KeyCredentialLink",
            "userPrincipalName",
            "1.2.840.113556.1.4.2328",
            "userCertificate;binary",
        ] {
            assert!(is_attribute_description(good), "{good}");
        }
        for bad in ["", "1abc", "a b", "cn=x", "a)(b", "1.02", "1", "cn;"] {
            assert!(!is_attribute_description(bad), "{bad}");
        }
    }

    /// Settings made in code start from the same defaults as a table naming only the
    /// servers and the base DN.
    #[test]
    fn new_has_the_defaults_of_a_minimal_table() {
        let table: LdapConfig =
            toml::from_str("urls = [\"ldap://x\"]\nbase_dn = \"DC=x\"\n").unwrap();
        assert_eq!(LdapConfig::new(vec!["ldap://x".into()], "DC=x"), table);
        assert!(table.check().is_ok());
    }
}
