//! Security identifiers (MS-DTYP 2.4.2): one parsed type for the binary form Active
//! Directory stores in objectSid (2.4.2.2), the string form `S-1-5-21-...` (2.4.2.1) that
//! the KB5014754 certificate SID extension and hand-written entries carry, and the domain
//! SID + RID split the PAC is built from ([MS-PAC] 2.5); and [`DomainSid`], the SID of an
//! Active Directory domain, which the realm's configuration names.

use std::fmt;
use std::str::FromStr;

/// At most 15 sub-authorities (MS-DTYP 2.4.2.2 SubAuthorityCount).
pub const MAX_SUB_AUTHORITIES: usize = 15;
/// The revision every SID has (MS-DTYP 2.4.2.2).
const REVISION: u8 = 0x01;
/// The identifier authority is 48 bits.
const MAX_AUTHORITY: u64 = (1 << 48) - 1;
/// SECURITY_NT_AUTHORITY, the `5` of `S-1-5-...` (MS-DTYP 2.4.2.4).
const NT_AUTHORITY: u64 = 0x05;
/// SECURITY_NT_NON_UNIQUE, the first sub-authority of every domain SID, `S-1-5-21-...`
/// (MS-DTYP 2.4.2.4).
const NT_NON_UNIQUE: u32 = 0x15;
/// A domain SID is `S-1-5-21` and three sub-authorities that tell the domain apart.
const DOMAIN_SUB_AUTHORITIES: usize = 4;

/// DOMAIN_USERS, the RID of the group every user of a domain is in (MS-DTYP 2.4.2.4) and
/// Active Directory's default primaryGroupID of a user (MS-ADA3 2.107).
pub const DOMAIN_USERS_RID: u32 = 0x0201;

/// A SID: an identifier authority and 0 to 15 sub-authorities, the last of which is the RID
/// of an account or group SID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    authority: u64,
    sub_authorities: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    #[error("{0:?} is not a SID of the form S-1-5-21-...")]
    Text(String),
    #[error("not a binary SID (MS-DTYP 2.4.2.2)")]
    Binary,
    #[error("a SID has at most 15 sub-authorities")]
    TooLong,
    #[error("{0} is not a domain SID: S-1-5-21 and three sub-authorities")]
    NotADomain(String),
}

impl Sid {
    /// A SID from its parts; at most [`MAX_SUB_AUTHORITIES`] and a 48-bit authority.
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Result<Sid, SidError> {
        if authority > MAX_AUTHORITY || sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(SidError::TooLong);
        }
        Ok(Sid {
            authority,
            sub_authorities: sub_authorities.to_vec(),
        })
    }

    /// The binary form: revision 1, the sub-authority count, a 48-bit big-endian identifier
    /// authority, then the 32-bit little-endian sub-authorities, and nothing after them.
    pub fn from_binary(binary: &[u8]) -> Result<Sid, SidError> {
        let (&revision, rest) = binary.split_first().ok_or(SidError::Binary)?;
        let (&count, rest) = rest.split_first().ok_or(SidError::Binary)?;
        let (authority, rest) = rest.split_at_checked(6).ok_or(SidError::Binary)?;
        if revision != REVISION
            || usize::from(count) > MAX_SUB_AUTHORITIES
            || rest.len() != usize::from(count) * 4
        {
            return Err(SidError::Binary);
        }
        let authority = authority
            .iter()
            .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
        let (chunks, _) = rest.as_chunks::<4>();
        let sub_authorities = chunks
            .iter()
            .map(|chunk| u32::from_le_bytes(*chunk))
            .collect();
        Ok(Sid {
            authority,
            sub_authorities,
        })
    }

    /// An objectSid value as a directory returns it: the binary form (Active Directory), or
    /// already the string form (an OpenLDAP entry written by hand).
    pub fn from_attribute(value: &[u8]) -> Result<Sid, SidError> {
        match std::str::from_utf8(value) {
            Ok(text) if text.starts_with("S-") => text.parse(),
            _ => Sid::from_binary(value),
        }
    }

    pub fn to_binary(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * self.sub_authorities.len());
        out.push(REVISION);
        // At most 15 by construction.
        out.push(self.sub_authorities.len() as u8);
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.extend_from_slice(&sub.to_le_bytes());
        }
        out
    }

    pub fn authority(&self) -> u64 {
        self.authority
    }

    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub_authorities
    }

    /// The domain SID and the RID of an account or group SID: None for a SID with no
    /// sub-authority.
    pub fn split_rid(&self) -> Option<(Sid, u32)> {
        let (&rid, domain) = self.sub_authorities.split_last()?;
        Some((
            Sid {
                authority: self.authority,
                sub_authorities: domain.to_vec(),
            },
            rid,
        ))
    }

    /// The SID of `rid` in this domain; None when this SID already has 15 sub-authorities.
    pub fn with_rid(&self, rid: u32) -> Option<Sid> {
        if self.sub_authorities.len() >= MAX_SUB_AUTHORITIES {
            return None;
        }
        let mut sub_authorities = self.sub_authorities.clone();
        sub_authorities.push(rid);
        Some(Sid {
            authority: self.authority,
            sub_authorities,
        })
    }

    /// Whether `self` is a SID of the domain `domain` (one more sub-authority, same prefix).
    pub fn is_in_domain(&self, domain: &Sid) -> bool {
        self.split_rid()
            .is_some_and(|(prefix, _)| &prefix == domain)
    }
}

impl FromStr for Sid {
    type Err = SidError;

    /// `S-1-` then the authority and the sub-authorities in decimal, separated by '-'
    /// (MS-DTYP 2.4.2.1; the hexadecimal authority form `0x...` is not accepted: AD never
    /// writes it for the authorities a KDC meets).
    fn from_str(text: &str) -> Result<Sid, SidError> {
        let invalid = || SidError::Text(text.to_owned());
        let rest = text.strip_prefix("S-1-").ok_or_else(invalid)?;
        let mut parts = rest.split('-');
        let decimal = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let authority = parts
            .next()
            .filter(|part| decimal(part))
            .and_then(|part| part.parse::<u64>().ok())
            .filter(|&value| value <= MAX_AUTHORITY)
            .ok_or_else(invalid)?;
        let sub_authorities = parts
            .map(|part| {
                decimal(part)
                    .then(|| part.parse::<u32>().ok())
                    .flatten()
                    .ok_or_else(invalid)
            })
            .collect::<Result<Vec<u32>, SidError>>()?;
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(SidError::TooLong);
        }
        Ok(Sid {
            authority,
            sub_authorities,
        })
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-1-{}", self.authority)?;
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The SID of an Active Directory domain: `S-1-5-21-x-y-z` (MS-DTYP 2.4.2.4). Every account
/// and group SID of the domain is it followed by a RID; the PAC names the user and the
/// groups by those RIDs under it ([MS-PAC] 2.5 LogonDomainId).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainSid(Sid);

impl DomainSid {
    pub fn sid(&self) -> &Sid {
        &self.0
    }

    /// The SID of `rid` in this domain.
    pub fn with_rid(&self, rid: u32) -> Sid {
        let mut sub_authorities = self.0.sub_authorities.clone();
        sub_authorities.push(rid);
        Sid {
            authority: self.0.authority,
            sub_authorities,
        }
    }

    /// The RID of `sid` when it is a SID of this domain.
    pub fn rid_of(&self, sid: &Sid) -> Option<u32> {
        sid.split_rid()
            .filter(|(domain, _)| domain == &self.0)
            .map(|(_, rid)| rid)
    }
}

impl TryFrom<Sid> for DomainSid {
    type Error = SidError;

    fn try_from(sid: Sid) -> Result<DomainSid, SidError> {
        let is_domain = sid.authority == NT_AUTHORITY
            && sid.sub_authorities.len() == DOMAIN_SUB_AUTHORITIES
            && sid.sub_authorities.first() == Some(&NT_NON_UNIQUE);
        if is_domain {
            Ok(DomainSid(sid))
        } else {
            Err(SidError::NotADomain(sid.to_string()))
        }
    }
}

impl FromStr for DomainSid {
    type Err = SidError;

    fn from_str(text: &str) -> Result<DomainSid, SidError> {
        text.parse::<Sid>()?.try_into()
    }
}

impl fmt::Display for DomainSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for DomainSid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for DomainSid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<DomainSid, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(text: &str) -> Sid {
        text.parse().unwrap()
    }

    #[test]
    fn well_known_sids_from_ms_dtyp() {
        // MS-DTYP 2.4.2.4: BUILTIN\Administrators, S-1-5-32-544.
        let administrators = [1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 2, 0, 0];
        let parsed = Sid::from_binary(&administrators).unwrap();
        assert_eq!(parsed.to_string(), "S-1-5-32-544");
        assert_eq!(parsed.to_binary(), administrators);
        // Everyone, S-1-1-0.
        assert_eq!(
            Sid::from_binary(&[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
                .unwrap()
                .to_string(),
            "S-1-1-0"
        );
        // [MS-PAC] asserted identities have no RID to split off but one sub-authority.
        assert_eq!(sid("S-1-18-4").split_rid(), Some((sid("S-1-18"), 4)));
    }

    #[test]
    fn domain_and_rid() {
        let user = sid("S-1-5-21-1004336348-1177238915-682003330-1104");
        let (domain, rid) = user.split_rid().unwrap();
        assert_eq!(domain, sid("S-1-5-21-1004336348-1177238915-682003330"));
        assert_eq!(rid, 1104);
        assert_eq!(domain.with_rid(rid), Some(user.clone()));
        assert!(user.is_in_domain(&domain));
        assert!(!domain.is_in_domain(&domain));
        assert_eq!(Sid::new(5, &[]).unwrap().split_rid(), None);
        let full = Sid::new(5, &[1; MAX_SUB_AUTHORITIES]).unwrap();
        assert_eq!(full.with_rid(1), None);
    }

    #[test]
    fn text_and_binary_round_trip() {
        for text in ["S-1-5-21-1-2-3-1104", "S-1-18-1", "S-1-281474976710655-0"] {
            let parsed = sid(text);
            assert_eq!(parsed.to_string(), text);
            assert_eq!(Sid::from_binary(&parsed.to_binary()), Ok(parsed.clone()));
            assert_eq!(Sid::from_attribute(text.as_bytes()), Ok(parsed.clone()));
            assert_eq!(Sid::from_attribute(&parsed.to_binary()), Ok(parsed));
        }
    }

    #[test]
    fn damaged_values_are_refused() {
        assert_eq!(Sid::from_binary(&[]), Err(SidError::Binary));
        assert_eq!(
            Sid::from_binary(&[1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0]),
            Err(SidError::Binary)
        );
        assert_eq!(
            Sid::from_binary(&[2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            Err(SidError::Binary)
        );
        for text in [
            "S-1-5-",
            "S-1-5-x",
            "S-1-",
            "S-2-5",
            "S-1-5-4294967296",
            "S-1-281474976710656",
            "S-1-5-+1",
        ] {
            assert!(text.parse::<Sid>().is_err(), "{text}");
        }
        assert_eq!(
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16".parse::<Sid>(),
            Err(SidError::TooLong)
        );
    }

    #[test]
    fn domain_sids_are_s_1_5_21_and_three_sub_authorities() {
        // The domain of MS-DTYP 2.4.2.4's example, and of the SID in this file's other tests.
        let domain: DomainSid = "S-1-5-21-1004336348-1177238915-682003330".parse().unwrap();
        let user = sid("S-1-5-21-1004336348-1177238915-682003330-1104");
        assert_eq!(domain.with_rid(1104), user);
        assert_eq!(domain.rid_of(&user), Some(1104));
        assert_eq!(domain.rid_of(&sid("S-1-5-21-1-2-3-1104")), None);
        assert_eq!(domain.rid_of(domain.sid()), None);
        assert_eq!(
            domain
                .with_rid(DOMAIN_USERS_RID)
                .to_string()
                .rsplit('-')
                .next(),
            Some("513")
        );
        for not_a_domain in [
            "S-1-5-21-1-2",
            "S-1-5-21-1-2-3-4",
            "S-1-5-32-544-1-2",
            "S-1-1-21-1-2-3",
            "S-1-5-20-1-2-3",
        ] {
            assert_eq!(
                not_a_domain.parse::<DomainSid>(),
                Err(SidError::NotADomain(not_a_domain.into())),
                "{not_a_domain}"
            );
        }
        assert!(matches!(
            "S-1-5-21-x-2-3".parse::<DomainSid>(),
            Err(SidError::Text(_))
        ));
    }
}
