//! Principal keys in LDAP (RFC 4511 §4.5 Search, §4.6 Modify, §4.7 Add): one `kdcPrincipal`
//! entry per krbtgt or service principal (deploy/ldap/kdc.schema), its sealed keys as
//! `kdcSealedKey` values `kvno:enctype:hex`, so every KDC replica reading this directory
//! decrypts every ticket.

use std::time::Duration;

use async_trait::async_trait;
use ldap3::{Mod, Scope, SearchOptions, SearchResult};

use super::entry::RawEntry;
use super::pool::{Failure, describe};
use super::{LdapDirectory, filter};
use crate::DirectoryError;
use crate::principal_keys::{SealedKey, ServicePrincipal, ServiceStore};

const OBJECT_CLASS: &str = "kdcPrincipal";
const NAME: &str = "kdcPrincipalName";
const SEALED_KEY: &str = "kdcSealedKey";
/// Principals read at start or by an operator command: a realm has far fewer than this.
const LIST_LIMIT: i32 = 100_000;
const LIST_TIMEOUT: Duration = Duration::from_secs(60);

/// `kvno:enctype:hex`.
fn encode_key(key: &SealedKey) -> String {
    format!("{}:{}:{}", key.kvno, key.enctype, key.sealed)
}

fn decode_key(value: &str) -> Option<SealedKey> {
    let mut parts = value.splitn(3, ':');
    let kvno = parts.next()?.parse().ok()?;
    let enctype = parts.next()?.parse().ok()?;
    let sealed = parts.next()?.to_owned();
    Some(SealedKey {
        kvno,
        enctype,
        sealed,
    })
}

fn to_principal(entry: &RawEntry) -> Option<ServicePrincipal> {
    let name = entry.first(NAME)?.to_owned();
    let mut keys = Vec::new();
    for value in entry.strings(SEALED_KEY) {
        match decode_key(value) {
            Some(key) => keys.push(key),
            None => tracing::warn!(principal = %name, "skipping a malformed kdcSealedKey value"),
        }
    }
    Some(ServicePrincipal { name, keys })
}

/// An RDN attribute value escaped per RFC 4514 §2.4.
fn escape_rdn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl LdapDirectory {
    async fn principal_entries(
        &self,
        search: String,
        limit: i32,
    ) -> Result<Vec<RawEntry>, DirectoryError> {
        let base = self.principals_base_dn.clone();
        let time_limit = i32::try_from(LIST_TIMEOUT.as_secs()).unwrap_or(i32::MAX);
        let SearchResult(entries, result) = self
            .pool
            .run_for(LIST_TIMEOUT, |mut ldap| {
                let (base, search) = (base.clone(), search.clone());
                async move {
                    let options = SearchOptions::new().sizelimit(limit).timelimit(time_limit);
                    ldap.with_search_options(options)
                        .search(&base, Scope::Subtree, &search, vec![NAME, SEALED_KEY])
                        .await
                }
            })
            .await
            .map_err(Failure::into_error)?;
        if result.rc != 0 {
            return Err(DirectoryError::Unavailable(format!(
                "principal search under {}: {}",
                self.principals_base_dn,
                describe(&result)
            )));
        }
        Ok(entries.into_iter().filter_map(RawEntry::decode).collect())
    }

    fn principal_filter(name: Option<&str>) -> String {
        let class = filter::equality("objectClass", OBJECT_CLASS);
        match name {
            Some(name) => filter::and(&[class, filter::equality(NAME, name)]),
            None => class,
        }
    }
}

#[async_trait]
impl ServiceStore for LdapDirectory {
    async fn find_service(&self, name: &str) -> Result<Option<ServicePrincipal>, DirectoryError> {
        let entries = self
            .principal_entries(Self::principal_filter(Some(name)), 2)
            .await?;
        // The schema's equality rule is exact; compare again in case a server's is not.
        let mut matching = entries
            .iter()
            .filter_map(to_principal)
            .filter(|p| p.name == name);
        match (matching.next(), matching.next()) {
            (Some(_), Some(_)) => Err(DirectoryError::Conflict(format!(
                "more than one kdcPrincipal named {name}"
            ))),
            (found, _) => Ok(found),
        }
    }

    async fn list_services(&self) -> Result<Vec<ServicePrincipal>, DirectoryError> {
        let entries = self
            .principal_entries(Self::principal_filter(None), LIST_LIMIT)
            .await?;
        Ok(entries.iter().filter_map(to_principal).collect())
    }

    async fn put_service(&self, principal: ServicePrincipal) -> Result<(), DirectoryError> {
        let values: std::collections::HashSet<String> =
            principal.keys.iter().map(encode_key).collect();
        let existing = self
            .principal_entries(Self::principal_filter(Some(&principal.name)), 2)
            .await?
            .into_iter()
            .find(|e| e.first(NAME) == Some(principal.name.as_str()));
        let outcome = match existing {
            Some(entry) => {
                let dn = entry.dn.clone();
                self.pool
                    .run(|mut ldap| {
                        let (dn, values) = (dn.clone(), values.clone());
                        async move {
                            ldap.modify(&dn, vec![Mod::Replace(SEALED_KEY.to_owned(), values)])
                                .await?
                                .success()
                        }
                    })
                    .await
            }
            None => {
                let dn = format!(
                    "{NAME}={},{}",
                    escape_rdn_value(&principal.name),
                    self.principals_base_dn
                );
                let name = principal.name.clone();
                self.pool
                    .run(|mut ldap| {
                        let (dn, name, values) = (dn.clone(), name.clone(), values.clone());
                        async move {
                            let mut attributes = vec![
                                (
                                    "objectClass".to_owned(),
                                    ["top".to_owned(), OBJECT_CLASS.to_owned()].into(),
                                ),
                                (NAME.to_owned(), [name].into()),
                            ];
                            if !values.is_empty() {
                                attributes.push((SEALED_KEY.to_owned(), values));
                            }
                            ldap.add(&dn, attributes).await?.success()
                        }
                    })
                    .await
            }
        };
        outcome.map(|_| ()).map_err(|failure| match failure {
            Failure::Refused { server, result } => DirectoryError::Invalid(format!(
                "writing principal {}: {server}: {}",
                principal.name,
                describe(&result)
            )),
            other => other.into_error(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_round_trip_and_rdns_escape() {
        let key = SealedKey {
            kvno: 3,
            enctype: 18,
            sealed: "00ff".into(),
        };
        assert_eq!(decode_key(&encode_key(&key)), Some(key));
        assert_eq!(decode_key("x:18:00"), None);
        assert_eq!(escape_rdn_value("host/web.example"), "host/web.example");
        assert_eq!(escape_rdn_value("a,b+c= "), "a\\,b\\+c\\=\\ ");
        assert_eq!(escape_rdn_value("#x"), "\\#x");
    }
}
