//! PAC_LOGON_INFO: KERB_VALIDATION_INFO ([MS-PAC] 2.5), the user's identity and groups as a
//! Windows service builds its security token from them, in NDR ([MS-RPCE] 2.2.5) inside a
//! type serialization v1 envelope.

use kdc_directory::sid::Sid;

use super::PacError;
use super::ndr::{Reader, Utf16, Writer};

/// UserFlags bit: ExtraSids is set (LOGON_EXTRA_SIDS, [MS-PAC] 2.5).
pub const LOGON_EXTRA_SIDS: u32 = 0x20;
/// UserFlags bit: ResourceGroupIds is set (LOGON_RESOURCE_GROUPS, [MS-PAC] 2.5).
pub const LOGON_RESOURCE_GROUPS: u32 = 0x200;
/// SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED ([MS-PAC] 2.2.1):
/// what a DC gives every group and extra SID of a user.
pub const SE_GROUP_DEFAULT: u32 = 0x07;
/// More groups or SIDs than this in one list is refused: Windows caps a token at 1015 groups.
pub const MAX_LIST_LEN: usize = 0x0400;

/// GROUP_MEMBERSHIP ([MS-PAC] 2.2.2): a group of the logon domain by RID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupMembership {
    pub rid: u32,
    pub attributes: u32,
}

/// KERB_SID_AND_ATTRIBUTES ([MS-PAC] 2.2.1): a SID outside the logon domain's groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidAndAttributes {
    pub sid: Sid,
    pub attributes: u32,
}

/// An RPC_UNICODE_STRING's value and its MaximumLength beyond Length, which Windows sets to
/// 2 for LogonServer and LogonDomainName and 0 for the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NdrString {
    pub value: Utf16,
    pub extra_capacity: u16,
}

impl NdrString {
    pub fn new(value: &str) -> NdrString {
        NdrString {
            value: Utf16::from(value),
            extra_capacity: 0,
        }
    }

    /// A string with room for a NUL, as Windows writes the server and domain names.
    pub fn with_nul_room(value: &str) -> NdrString {
        NdrString {
            value: Utf16::from(value),
            extra_capacity: 2,
        }
    }
}

/// KERB_VALIDATION_INFO, field for field ([MS-PAC] 2.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationInfo {
    pub logon_time: u64,
    pub logoff_time: u64,
    pub kick_off_time: u64,
    pub password_last_set: u64,
    pub password_can_change: u64,
    pub password_must_change: u64,
    pub effective_name: NdrString,
    pub full_name: NdrString,
    pub logon_script: NdrString,
    pub profile_path: NdrString,
    pub home_directory: NdrString,
    pub home_directory_drive: NdrString,
    pub logon_count: u16,
    pub bad_password_count: u16,
    pub user_id: u32,
    pub primary_group_id: u32,
    pub group_ids: Vec<GroupMembership>,
    pub user_flags: u32,
    pub user_session_key: [u8; 16],
    pub logon_server: NdrString,
    pub logon_domain_name: NdrString,
    pub logon_domain_id: Option<Sid>,
    pub reserved1: [u32; 2],
    /// SAM account flags (USER_ACCOUNT ACB_* bits, [MS-SAMR] 2.2.1.12), not AD's UF_* bits.
    pub user_account_control: u32,
    pub sub_auth_status: u32,
    pub last_successful_i_logon: u64,
    pub last_failed_i_logon: u64,
    pub failed_i_logon_count: u32,
    pub reserved3: u32,
    pub extra_sids: Vec<SidAndAttributes>,
    pub resource_group_domain_sid: Option<Sid>,
    pub resource_group_ids: Vec<GroupMembership>,
}

impl ValidationInfo {
    /// The user's SID: LogonDomainId + UserId.
    pub fn user_sid(&self) -> Option<Sid> {
        self.logon_domain_id.as_ref()?.with_rid(self.user_id)
    }

    /// The PAC buffer: NDR scalars first, then each pointee in field order ([MS-RPCE]
    /// 2.2.5.3.4 deferral), in a type serialization v1 envelope.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.pointer(true);
        for time in [
            self.logon_time,
            self.logoff_time,
            self.kick_off_time,
            self.password_last_set,
            self.password_can_change,
            self.password_must_change,
        ] {
            w.filetime(time);
        }
        for s in self.leading_strings() {
            w.string_header(&s.value, s.extra_capacity);
        }
        w.u16(self.logon_count);
        w.u16(self.bad_password_count);
        w.u32(self.user_id);
        w.u32(self.primary_group_id);
        w.u32(self.group_ids.len() as u32);
        w.pointer(!self.group_ids.is_empty());
        w.u32(self.user_flags);
        w.bytes(&self.user_session_key);
        for s in [&self.logon_server, &self.logon_domain_name] {
            w.string_header(&s.value, s.extra_capacity);
        }
        w.pointer(self.logon_domain_id.is_some());
        for reserved in self.reserved1 {
            w.u32(reserved);
        }
        w.u32(self.user_account_control);
        w.u32(self.sub_auth_status);
        w.filetime(self.last_successful_i_logon);
        w.filetime(self.last_failed_i_logon);
        w.u32(self.failed_i_logon_count);
        w.u32(self.reserved3);
        w.u32(self.extra_sids.len() as u32);
        w.pointer(!self.extra_sids.is_empty());
        w.pointer(self.resource_group_domain_sid.is_some());
        w.u32(self.resource_group_ids.len() as u32);
        w.pointer(!self.resource_group_ids.is_empty());

        for s in self.leading_strings() {
            w.string_body(&s.value, s.extra_capacity);
        }
        write_groups(&mut w, &self.group_ids);
        for s in [&self.logon_server, &self.logon_domain_name] {
            w.string_body(&s.value, s.extra_capacity);
        }
        if let Some(sid) = &self.logon_domain_id {
            w.sid(sid);
        }
        if !self.extra_sids.is_empty() {
            w.u32(self.extra_sids.len() as u32);
            for entry in &self.extra_sids {
                w.pointer(true);
                w.u32(entry.attributes);
            }
            for entry in &self.extra_sids {
                w.sid(&entry.sid);
            }
        }
        if let Some(sid) = &self.resource_group_domain_sid {
            w.sid(sid);
        }
        write_groups(&mut w, &self.resource_group_ids);
        w.into_serialized()
    }

    fn leading_strings(&self) -> [&NdrString; 6] {
        [
            &self.effective_name,
            &self.full_name,
            &self.logon_script,
            &self.profile_path,
            &self.home_directory,
            &self.home_directory_drive,
        ]
    }

    /// Reads the buffer as Samba's and MIT's decoders accept it; counts are bounded by the
    /// buffer and by [`MAX_LIST_LEN`].
    pub fn decode(buffer: &[u8]) -> Result<ValidationInfo, PacError> {
        let mut r = Reader::serialized(buffer)?;
        if !r.pointer()? {
            return Err(PacError::Ndr("null KERB_VALIDATION_INFO"));
        }
        let mut info = ValidationInfo {
            logon_time: r.filetime()?,
            logoff_time: r.filetime()?,
            kick_off_time: r.filetime()?,
            password_last_set: r.filetime()?,
            password_can_change: r.filetime()?,
            password_must_change: r.filetime()?,
            ..ValidationInfo::default()
        };
        let leading = [
            StringHeader::read(&mut r)?,
            StringHeader::read(&mut r)?,
            StringHeader::read(&mut r)?,
            StringHeader::read(&mut r)?,
            StringHeader::read(&mut r)?,
            StringHeader::read(&mut r)?,
        ];
        info.logon_count = r.u16()?;
        info.bad_password_count = r.u16()?;
        info.user_id = r.u32()?;
        info.primary_group_id = r.u32()?;
        let group_count = r.u32()?;
        let groups_present = r.pointer()?;
        info.user_flags = r.u32()?;
        info.user_session_key = r
            .bytes(16)?
            .try_into()
            .map_err(|_| PacError::Ndr("truncated"))?;
        let logon_server = StringHeader::read(&mut r)?;
        let logon_domain_name = StringHeader::read(&mut r)?;
        let domain_id_present = r.pointer()?;
        info.reserved1 = [r.u32()?, r.u32()?];
        info.user_account_control = r.u32()?;
        info.sub_auth_status = r.u32()?;
        info.last_successful_i_logon = r.filetime()?;
        info.last_failed_i_logon = r.filetime()?;
        info.failed_i_logon_count = r.u32()?;
        info.reserved3 = r.u32()?;
        let sid_count = r.u32()?;
        let extra_sids_present = r.pointer()?;
        let resource_domain_present = r.pointer()?;
        let resource_count = r.u32()?;
        let resource_groups_present = r.pointer()?;

        let [name, full, script, profile, home, drive] = leading;
        info.effective_name = name.read_body(&mut r)?;
        info.full_name = full.read_body(&mut r)?;
        info.logon_script = script.read_body(&mut r)?;
        info.profile_path = profile.read_body(&mut r)?;
        info.home_directory = home.read_body(&mut r)?;
        info.home_directory_drive = drive.read_body(&mut r)?;
        info.group_ids = read_groups(&mut r, groups_present, group_count)?;
        info.logon_server = logon_server.read_body(&mut r)?;
        info.logon_domain_name = logon_domain_name.read_body(&mut r)?;
        if domain_id_present {
            info.logon_domain_id = Some(r.sid()?);
        }
        if extra_sids_present {
            let count = conformance(&mut r, sid_count, 8)?;
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                entries.push((r.pointer()?, r.u32()?));
            }
            for (present, attributes) in entries {
                if !present {
                    return Err(PacError::Ndr("null SID in ExtraSids"));
                }
                info.extra_sids.push(SidAndAttributes {
                    sid: r.sid()?,
                    attributes,
                });
            }
        } else if sid_count != 0 {
            return Err(PacError::Ndr("SidCount without ExtraSids"));
        }
        if resource_domain_present {
            info.resource_group_domain_sid = Some(r.sid()?);
        }
        info.resource_group_ids = read_groups(&mut r, resource_groups_present, resource_count)?;
        r.finish()?;
        Ok(info)
    }
}

fn write_groups(w: &mut Writer, groups: &[GroupMembership]) {
    if groups.is_empty() {
        return;
    }
    w.u32(groups.len() as u32);
    for group in groups {
        w.u32(group.rid);
        w.u32(group.attributes);
    }
}

fn read_groups(
    r: &mut Reader<'_>,
    present: bool,
    count: u32,
) -> Result<Vec<GroupMembership>, PacError> {
    if !present {
        return match count {
            0 => Ok(Vec::new()),
            _ => Err(PacError::Ndr("group count without a group array")),
        };
    }
    let count = conformance(r, count, 8)?;
    (0..count)
        .map(|_| {
            Ok(GroupMembership {
                rid: r.u32()?,
                attributes: r.u32()?,
            })
        })
        .collect()
}

/// An array's conformance count, which must equal the count field that announced it.
fn conformance(r: &mut Reader<'_>, announced: u32, element_len: usize) -> Result<usize, PacError> {
    let count = r.count(element_len)?;
    if count != announced as usize {
        return Err(PacError::Ndr("array count disagrees with its conformance"));
    }
    if count > MAX_LIST_LEN {
        return Err(PacError::Ndr("more groups or SIDs than a token holds"));
    }
    Ok(count)
}

/// The scalar half of an RPC_UNICODE_STRING, kept until its deferred buffer is read.
struct StringHeader {
    byte_len: u16,
    capacity: u16,
    present: bool,
}

impl StringHeader {
    fn read(r: &mut Reader<'_>) -> Result<StringHeader, PacError> {
        Ok(StringHeader {
            byte_len: r.u16()?,
            capacity: r.u16()?,
            present: r.pointer()?,
        })
    }

    fn read_body(&self, r: &mut Reader<'_>) -> Result<NdrString, PacError> {
        if !self.present {
            return match self.byte_len {
                0 => Ok(NdrString::default()),
                _ => Err(PacError::Ndr("string length without a buffer")),
            };
        }
        Ok(NdrString {
            value: r.string_body(self.byte_len, self.capacity)?,
            extra_capacity: self.capacity - self.byte_len,
        })
    }
}
