//! What the LDAP backend needs to know (RFC 4516 URLs, RFC 4513 bind and TLS, the search
//! base and filter), with Active Directory's attribute names (MS-ADA2/MS-ADA3) as defaults.
//! The configuration file maps onto this; the defaults here are the documented ones.

use std::path::PathBuf;
use std::time::Duration;

/// The attribute names read and written, so that any schema can be mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapAttributes {
    pub user_principal_name: String,
    pub sam_account_name: String,
    pub key_credential_link: String,
    pub user_account_control: String,
    /// FILETIME after which the account is refused (0 or 0x7FFFFFFFFFFFFFFF: never).
    pub account_expires: String,
    /// FILETIME of the lockout; non-zero refuses the account.
    pub lockout_time: String,
    /// Read by certificate trust (explicit mappings); not read by key trust.
    pub alt_security_identities: String,
    /// Read by certificate trust (the SID extension must match it); not by key trust.
    pub object_sid: String,
}

impl Default for LdapAttributes {
    fn default() -> Self {
        LdapAttributes {
            user_principal_name: "userPrincipalName".into(),
            sam_account_name: "sAMAccountName".into(),
            key_credential_link: "msDS-KeyCredentialLink".into(),
            user_account_control: "userAccountControl".into(),
            account_expires: "accountExpires".into(),
            lockout_time: "lockoutTime".into(),
            alt_security_identities: "altSecurityIdentities".into(),
            object_sid: "objectSid".into(),
        }
    }
}

/// Connection, search and cache settings of an [`super::LdapDirectory`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdapSettings {
    /// `ldap://` or `ldaps://` URLs, tried in order; the first that answers is used until
    /// its connection breaks.
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS (RFC 4513 §3). Ignored for `ldaps://`.
    pub starttls: bool,
    /// PEM file of the CAs that may issue the server certificates; None: the system store.
    pub ca_file: Option<PathBuf>,
    /// Simple bind DN (RFC 4513 §5.1.3); None: anonymous.
    pub bind_dn: Option<String>,
    /// File holding the bind password (trailing newline ignored).
    pub bind_password_file: Option<PathBuf>,
    pub base_dn: String,
    /// Where kdcPrincipal entries (krbtgt and service keys) are searched and created; None:
    /// the base DN.
    pub principals_base_dn: Option<String>,
    /// RFC 4515 filter every user search is ANDed with.
    pub user_filter: String,
    pub attributes: LdapAttributes,
    /// Bound on each network step: connect (with TLS and bind) to one server, one operation.
    pub timeout: Duration,
    /// Connections kept open; each multiplexes concurrent operations (RFC 4511 §4.1.1).
    pub pool_size: usize,
    /// How long a found user (with parsed keys) is served from memory; zero turns the cache off.
    pub cache_ttl: Duration,
    /// How long "no such user" is remembered; zero turns the negative cache off.
    pub negative_cache_ttl: Duration,
    pub cache_max_entries: usize,
    /// First delay before reconnecting after every server failed; doubles up to the maximum.
    pub reconnect_backoff: Duration,
    pub reconnect_backoff_max: Duration,
    /// Most entries read when looking for the owner of an unregistered key; 0 disables it.
    pub key_owner_search_limit: usize,
    /// objectClass values of users created by the admin commands.
    pub new_user_object_classes: Vec<String>,
}

pub const DEFAULT_USER_FILTER: &str = "(&(objectCategory=person)(objectClass=user))";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_POOL_SIZE: usize = 4;
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
pub const DEFAULT_NEGATIVE_CACHE_TTL: Duration = Duration::from_secs(5);
pub const DEFAULT_CACHE_MAX_ENTRIES: usize = 100_000;
pub const DEFAULT_RECONNECT_BACKOFF: Duration = Duration::from_millis(250);
pub const DEFAULT_RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(5);
pub const DEFAULT_KEY_OWNER_SEARCH_LIMIT: usize = 1000;

/// Active Directory's user class chain.
pub fn default_new_user_object_classes() -> Vec<String> {
    ["top", "person", "organizationalPerson", "user"]
        .map(String::from)
        .to_vec()
}

impl LdapSettings {
    /// Settings with every default, for these servers and base DN.
    pub fn new(urls: Vec<String>, base_dn: impl Into<String>) -> Self {
        LdapSettings {
            urls,
            starttls: false,
            ca_file: None,
            bind_dn: None,
            bind_password_file: None,
            base_dn: base_dn.into(),
            principals_base_dn: None,
            user_filter: DEFAULT_USER_FILTER.into(),
            attributes: LdapAttributes::default(),
            timeout: DEFAULT_TIMEOUT,
            pool_size: DEFAULT_POOL_SIZE,
            cache_ttl: DEFAULT_CACHE_TTL,
            negative_cache_ttl: DEFAULT_NEGATIVE_CACHE_TTL,
            cache_max_entries: DEFAULT_CACHE_MAX_ENTRIES,
            reconnect_backoff: DEFAULT_RECONNECT_BACKOFF,
            reconnect_backoff_max: DEFAULT_RECONNECT_BACKOFF_MAX,
            key_owner_search_limit: DEFAULT_KEY_OWNER_SEARCH_LIMIT,
            new_user_object_classes: default_new_user_object_classes(),
        }
    }
}
