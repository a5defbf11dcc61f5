//! Directory backends: users and their registered PKINIT keys (msDS-KeyCredentialLink,
//! MS-ADTS 2.2.20), behind a backend-neutral async API the KDC calls for every AS-REQ, and
//! the groups a user is in (nested, with the primary group: what a PAC's group SIDs list,
//! [MS-PAC] 2.5), read once the request is authenticated.

pub mod account;
pub mod dn_binary;
pub mod embedded;
pub mod keycredlink;
pub mod ldap;
pub mod principal_keys;
mod rules;
/// SIDs live in their own crate, shared with the configuration (the realm's domain SID).
pub use kdc_sid as sid;

use std::path::PathBuf;

use async_trait::async_trait;

pub use account::{ACCOUNT_NEVER_EXPIRES, AccountRefusal, account_expiry, filetime};
pub use dn_binary::{DnBinary, DnBinaryError, dn_equivalent};
pub use embedded::EmbeddedDirectory;
pub use keycredlink::{KeyCredential, KeyCredentialError, KeyUsage, RsaPublicKey};
pub use ldap::LdapDirectory;
pub(crate) use rules::check_upn_form;
pub use rules::{FIRST_ACCOUNT_RID, MAX_GROUP_NESTING, MAX_GROUPS};
pub use sid::Sid;

/// userAccountControl bit ACCOUNTDISABLE (MS-ADTS 2.2.16).
pub const UF_ACCOUNTDISABLE: u32 = 0x0000_0002;
/// userAccountControl bit NORMAL_ACCOUNT, the value of an enabled ordinary user.
pub const UF_NORMAL_ACCOUNT: u32 = 0x0000_0200;

/// A user as the KDC sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub dn: String,
    pub user_principal_name: String,
    pub sam_account_name: Option<String>,
    pub user_account_control: u32,
    /// accountExpires as a FILETIME; 0 or [`ACCOUNT_NEVER_EXPIRES`] = never.
    pub account_expires: u64,
    /// lockoutTime as a FILETIME; non-zero = locked out (see [`AccountRefusal::LockedOut`]).
    pub lockout_time: u64,
    /// pwdLastSet as a FILETIME; 0 when never set or not read. Only the PAC reads it.
    pub pwd_last_set: u64,
    /// The values of msDS-KeyCredentialLink that parsed; the others were logged and skipped.
    pub key_credentials: Vec<KeyCredentialLink>,
    /// altSecurityIdentities: explicit certificate mappings such as `X509:<SKI>...`
    /// (MS-PKCA 3.1.5.2.1.3), as written; certificate trust reads the strong forms.
    pub alt_security_identities: Vec<String>,
    /// objectSid, for the KB5014754 SID extension of CA-issued certificates and the PAC.
    pub object_sid: Option<Sid>,
    /// primaryGroupID: the RID of the user's primary group in the user's domain (MS-ADA3
    /// 2.107); Active Directory's default is 513, Domain Users ([`sid::DOMAIN_USERS_RID`]).
    /// That group does not list the user as a `member`; [`Directory::groups_of`] includes it.
    pub primary_group_id: u32,
}

/// A group a user is in, as a PAC names it: its SID, and its name (sAMAccountName) when the
/// directory has an entry for it (a SID of another domain may have none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Group {
    pub sid: Sid,
    pub name: Option<String>,
}

/// One parsed value of msDS-KeyCredentialLink: the DN part and the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredentialLink {
    pub owner_dn: String,
    pub credential: KeyCredential,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyCredentialLinkError {
    #[error(transparent)]
    DnBinary(#[from] DnBinaryError),
    #[error(transparent)]
    Blob(#[from] KeyCredentialError),
}

impl KeyCredentialLink {
    /// From the LDAP string form `B:<count>:<hex>:<DN>`.
    pub fn parse(value: &str) -> Result<Self, KeyCredentialLinkError> {
        let dn_binary = DnBinary::parse(value)?;
        Ok(KeyCredentialLink {
            credential: KeyCredential::parse(&dn_binary.binary)?,
            owner_dn: dn_binary.dn,
        })
    }

    /// The LDAP string form.
    pub fn to_dn_binary(&self) -> String {
        DnBinary {
            binary: self.credential.to_blob(),
            dn: self.owner_dn.clone(),
        }
        .to_string()
    }

    /// Parses every value of a user's msDS-KeyCredentialLink. A value that fails is logged
    /// and skipped: one damaged value must not lock the user out of the other keys.
    pub fn parse_values<'a>(user: &str, values: impl IntoIterator<Item = &'a str>) -> Vec<Self> {
        values
            .into_iter()
            .filter_map(|value| match Self::parse(value) {
                Ok(link) => Some(link),
                Err(error) => {
                    tracing::warn!(user, %error, "skipping unparsable msDS-KeyCredentialLink value");
                    None
                }
            })
            .collect()
    }
}

/// What an admin tool supplies to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub dn: String,
    pub user_principal_name: String,
    pub sam_account_name: Option<String>,
    pub user_account_control: u32,
    /// The objectSid to give the entry; see [`DirectoryAdmin::next_rid`].
    pub object_sid: Option<Sid>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The backend cannot answer now; the KDC answers KDC_ERR_SVC_UNAVAILABLE.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no such user: {0}")]
    NotFound(String),
    /// A name that matches more than one entry (a UPN on one, a sAMAccountName on another):
    /// answering with either could hand one account's ticket to the other's holder.
    #[error("{name} matches {} entries: {}", dns.len(), dns.join("; "))]
    Ambiguous { name: String, dns: Vec<String> },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A user's groups beyond [`MAX_GROUPS`] or nested deeper than [`MAX_GROUP_NESTING`]:
    /// a partial list could leave out a group that a deny rule names, so there is none.
    #[error("groups of {dn}: {reason}")]
    Membership { dn: String, reason: String },
}

/// Where to look for a principal, per the lookup rule of [`Directory::find_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalLookup {
    /// Compared with userPrincipalName, case-insensitively.
    pub user_principal_name: String,
    /// Compared with sAMAccountName as well (never for enterprise names); both must lead
    /// to the same entry.
    pub sam_account_name: Option<String>,
}

impl PrincipalLookup {
    /// A name with '@' is an enterprise name (RFC 6806) and only a UPN; otherwise
    /// `name@realm` is tried as UPN and `name` as sAMAccountName.
    pub fn new(name: &str, realm: &str) -> Self {
        if name.contains('@') {
            PrincipalLookup {
                user_principal_name: name.to_string(),
                sam_account_name: None,
            }
        } else {
            PrincipalLookup {
                user_principal_name: format!("{name}@{realm}"),
                sam_account_name: Some(name.to_string()),
            }
        }
    }
}

impl PrincipalLookup {
    /// The one entry this name resolves to among `candidates` (entries that may match):
    /// None if none matches, `Ambiguous` if a UPN match and a sAMAccountName match (or two
    /// of either) are different entries. Preferring one of them would let whoever can set a
    /// UPN take another account's name (CVE-2021-42287, "noPac").
    pub fn resolve<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a User>,
    ) -> Result<Option<&'a User>, DirectoryError> {
        let upn = self.user_principal_name.to_lowercase();
        let sam = self.sam_account_name.as_deref().map(str::to_lowercase);
        let mut matches: Vec<&User> = Vec::new();
        for user in candidates {
            let by_upn = user.user_principal_name.to_lowercase() == upn;
            let by_sam =
                sam.is_some() && user.sam_account_name.as_deref().map(str::to_lowercase) == sam;
            if (by_upn || by_sam) && !matches.iter().any(|m| dn_equivalent(&m.dn, &user.dn)) {
                matches.push(user);
            }
        }
        match matches.as_slice() {
            [] => Ok(None),
            [user] => Ok(Some(*user)),
            several => Err(DirectoryError::Ambiguous {
                name: self
                    .sam_account_name
                    .clone()
                    .unwrap_or_else(|| self.user_principal_name.clone()),
                dns: several.iter().map(|u| u.dn.clone()).collect(),
            }),
        }
    }
}

/// Read access, all the KDC needs on its hot path.
#[async_trait]
pub trait Directory: Send + Sync {
    /// A principal's user: `name` is the client name as sent (e.g. "alice" or an enterprise
    /// "alice@corp.example"), `realm` the request realm. Matching follows
    /// [`PrincipalLookup`] and ignores case; a name that matches two entries is
    /// `Ambiguous` ([`PrincipalLookup::resolve`]). Unparsable key values are skipped with a
    /// warning. Account state is the caller's ([`User::refusal`]).
    async fn find_user(&self, name: &str, realm: &str) -> Result<Option<User>, DirectoryError>;

    /// The userPrincipalNames of every user with this key registered as an NGC key, so a
    /// key presented for the wrong user is told apart from an unknown key.
    async fn find_key_owners(
        &self,
        public_key: &RsaPublicKey,
    ) -> Result<Vec<String>, DirectoryError>;

    /// The groups `user` (as [`Directory::find_user`] returned it) is in, sorted by SID:
    /// nested membership resolved and the primary group included, as Active Directory's
    /// tokenGroups lists them (MS-ADTS 3.1.1.4.5.19). Groups without a SID are followed
    /// but not listed. More than [`MAX_GROUPS`], or nesting deeper than
    /// [`MAX_GROUP_NESTING`], is `Membership`. Call it only once the request is
    /// authenticated: it may cost several directory round trips.
    async fn groups_of(&self, user: &User) -> Result<Vec<Group>, DirectoryError>;
}

/// Writes, for admin tools. Users are named by userPrincipalName, case-insensitively.
#[async_trait]
pub trait DirectoryAdmin: Directory {
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError>;
    /// Fails with `Conflict` if the UPN, sAMAccountName or DN is taken.
    async fn add_user(&self, new: NewUser) -> Result<User, DirectoryError>;
    async fn set_disabled(&self, upn: &str, disabled: bool) -> Result<(), DirectoryError>;
    /// Refused as [`User::check_new_key`] says: `Invalid` if the link's DN is not the
    /// user's, `Conflict` if a key with the same KeyID is already registered.
    async fn add_key_credential(
        &self,
        upn: &str,
        link: KeyCredentialLink,
    ) -> Result<(), DirectoryError>;
    /// Removes every value with this KeyID (values that do not parse have none and stay);
    /// `false` if there was none.
    async fn remove_key_credential(&self, upn: &str, key_id: &[u8])
    -> Result<bool, DirectoryError>;
    /// The RID a new user of `domain` gets: one above every RID of the domain in use, and
    /// at least [`FIRST_ACCOUNT_RID`]. None where the directory or its operator
    /// assigns objectSids (Active Directory does; an OpenLDAP operator writes them).
    async fn next_rid(&self, _domain: &sid::DomainSid) -> Result<Option<u32>, DirectoryError> {
        Ok(None)
    }
}
