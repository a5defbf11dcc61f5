//! What a PAC ([MS-PAC] 2.5 KERB_VALIDATION_INFO) says about the domain and the KDC, from
//! `[realm] domain_sid` and `netbios_name` and the `[pac]` table: NetBIOS names parsed as the
//! file loads, and the defaults (the realm's first label, this host's name) resolved in one
//! place, [`Config::pac`]. Without `domain_sid` the realm issues no PAC.

use std::fmt;

use kdc_sid::DomainSid;
use serde::Deserialize;

use crate::Config;

/// The most characters of a NetBIOS name: 16 bytes, the last one the name's type.
const NETBIOS_NAME_MAX: usize = 15;
/// Characters Active Directory refuses in a NetBIOS domain or computer name ("Naming
/// conventions in Active Directory for computers, domains, sites, and OUs").
const NETBIOS_FORBIDDEN: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];
/// The host name, as the kernel holds it (hostname(7)).
const HOST_NAME_FILE: &str = "/proc/sys/kernel/hostname";
/// LogonServer when the host name gives no NetBIOS name.
const FALLBACK_LOGON_SERVER: &str = "KDC";

/// A NetBIOS name (a domain's or a computer's): 1 to 15 ASCII characters, printable, no space,
/// none of `\ / : * ? " < > |`, not starting with `.`. Case is kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct NetbiosName(String);

impl NetbiosName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The NetBIOS name Windows derives from a DNS name: the first label, upper-case, cut to
    /// 15 characters (`corp.example.com` gives `CORP`); None when that is no NetBIOS name.
    pub fn from_dns_name(dns_name: &str) -> Option<NetbiosName> {
        let label = dns_name.split('.').next().unwrap_or_default();
        let cut: String = label
            .chars()
            .take(NETBIOS_NAME_MAX)
            .collect::<String>()
            .to_uppercase();
        NetbiosName::try_from(cut).ok()
    }
}

impl TryFrom<String> for NetbiosName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        let valid = (1..=NETBIOS_NAME_MAX).contains(&name.chars().count())
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_graphic() && !NETBIOS_FORBIDDEN.contains(&c));
        if valid {
            Ok(NetbiosName(name))
        } else {
            Err(format!(
                "{name:?} is not a NetBIOS name: 1 to 15 ASCII letters, digits or marks, \
                 no space, none of \\ / : * ? \" < > |, not starting with '.'"
            ))
        }
    }
}

impl fmt::Display for NetbiosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[pac]`: how the KDC fills and checks PACs. Used only when `[realm] domain_sid` is set.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacConfig {
    /// LogonServer, the NetBIOS name of the computer that authenticated the user. Default:
    /// this host's name (hostname(7)), its first label upper-case and cut to 15 characters;
    /// `KDC` when that is no NetBIOS name.
    #[serde(default)]
    pub logon_server: Option<NetbiosName>,
    /// Whether a TGS-REQ may present a TGT that carries no PAC (one issued before PACs were
    /// turned on, or by an older release); each such use is logged. Default true, for the
    /// transition; set false once every TGT in use was issued with a PAC (at most
    /// `tickets.renewable_lifetime_secs` after turning PACs on).
    #[serde(default = "default_accept_tgt_without_pac")]
    pub accept_tgt_without_pac: bool,
}

fn default_accept_tgt_without_pac() -> bool {
    true
}

impl Default for PacConfig {
    fn default() -> Self {
        PacConfig {
            logon_server: None,
            accept_tgt_without_pac: default_accept_tgt_without_pac(),
        }
    }
}

/// The PAC settings with every default resolved: what the KDC needs to build and check PACs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacSettings {
    /// LogonDomainId, and the prefix of every user and group SID the PAC names by RID.
    pub domain_sid: DomainSid,
    /// LogonDomainName.
    pub netbios_name: NetbiosName,
    /// LogonServer.
    pub logon_server: NetbiosName,
    pub accept_tgt_without_pac: bool,
}

impl Config {
    /// The realm's NetBIOS domain name: `[realm] netbios_name`, else derived from the realm
    /// name ([`NetbiosName::from_dns_name`]); None if neither gives one.
    pub fn netbios_name(&self) -> Option<NetbiosName> {
        self.realm
            .netbios_name
            .clone()
            .or_else(|| NetbiosName::from_dns_name(&self.realm.name))
    }

    /// What PACs carry and how they are checked; None when `[realm] domain_sid` is not set,
    /// and then tickets carry no PAC. Reads the host name when `[pac] logon_server` is not set.
    pub fn pac(&self) -> Option<PacSettings> {
        let domain_sid = self.realm.domain_sid.clone()?;
        let netbios_name = self.netbios_name()?;
        let logon_server = self.pac.logon_server.clone().unwrap_or_else(|| {
            std::fs::read_to_string(HOST_NAME_FILE)
                .ok()
                .and_then(|host| NetbiosName::from_dns_name(host.trim()))
                .unwrap_or_else(|| NetbiosName(FALLBACK_LOGON_SERVER.to_owned()))
        });
        Some(PacSettings {
            domain_sid,
            netbios_name,
            logon_server,
            accept_tgt_without_pac: self.pac.accept_tgt_without_pac,
        })
    }

    /// A domain SID without a NetBIOS name to go with it: the realm's first label gives none
    /// and `netbios_name` is not set.
    pub(crate) fn check_pac(&self) -> Result<(), (&'static str, String)> {
        if self.realm.domain_sid.is_some() && self.netbios_name().is_none() {
            return Err((
                "realm.netbios_name",
                format!(
                    "must be set with domain_sid: the realm name {:?} gives no NetBIOS name",
                    self.realm.name
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Result<NetbiosName, String> {
        NetbiosName::try_from(text.to_owned())
    }

    #[test]
    fn netbios_names_are_one_to_fifteen_plain_characters() {
        for good in [
            "EXAMPLE",
            "a",
            "CORP-1.TEST",
            "ABCDEFGHIJKLMNO",
            "MY_DOMAIN",
        ] {
            assert_eq!(name(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "ABCDEFGHIJKLMNOP",
            ".CORP",
            "CORP DOM",
            "A\\B",
            "A/B",
            "A:B",
            "A*",
            "A?",
            "\"A\"",
            "<A>",
            "A|B",
            "ÄRZTE",
            "A\tB",
        ] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dns_names_give_their_first_label_upper_case_and_cut() {
        let derived = |dns: &str| NetbiosName::from_dns_name(dns).map(|n| n.0);
        assert_eq!(derived("corp.example.com").as_deref(), Some("CORP"));
        assert_eq!(derived("EXAMPLE.TEST").as_deref(), Some("EXAMPLE"));
        assert_eq!(
            derived("averyveryverylongname.test").as_deref(),
            Some("AVERYVERYVERYLO")
        );
        assert_eq!(derived("kdc1").as_deref(), Some("KDC1"));
        assert_eq!(derived(".test"), None);
        assert_eq!(derived("a:b.test"), None);
    }
}
