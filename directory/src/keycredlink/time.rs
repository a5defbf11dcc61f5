//! Key credential timestamps (MS-ADTS 2.2.20.6 entries 0x08 and 0x09): Windows FILETIME for
//! KeySource AD, .NET `DateTime.ToBinary` for Azure AD (as DSInternals decodes them).

use std::{
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

const TICKS_PER_SECOND: i128 = 10_000_000;
/// 100 ns ticks from 1601-01-01 (FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_EPOCH: i128 = 116_444_736_000_000_000;
/// 100 ns ticks from 0001-01-01 (.NET epoch) to 1970-01-01.
const DOTNET_UNIX_EPOCH: i128 = 621_355_968_000_000_000;
/// `DateTime.ToBinary` keeps the ticks in the low 62 bits and the Kind in the top two.
const DOTNET_TICKS_MASK: u64 = 0x3FFF_FFFF_FFFF_FFFF;
/// Kind = Local sets the top bit; such values hold UTC ticks, wrapped below zero by
/// adding 2^62 (.NET `DateTime.FromBinary`).
const DOTNET_LOCAL_BIT: u64 = 0x8000_0000_0000_0000;
const DOTNET_TICKS_CEILING: i128 = 0x4000_0000_0000_0000;
const TICKS_PER_DAY: i128 = 86_400 * TICKS_PER_SECOND;

/// A point in time in UTC, to 100 ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyTime {
    /// 100 ns ticks since 1970-01-01T00:00:00Z; negative before.
    unix_ticks: i128,
}

impl KeyTime {
    /// From a Windows FILETIME (100 ns ticks since 1601-01-01 UTC).
    pub fn from_filetime(filetime: u64) -> Self {
        KeyTime {
            unix_ticks: i128::from(filetime) - FILETIME_UNIX_EPOCH,
        }
    }

    /// From a .NET `DateTime.ToBinary` value, whatever its Kind.
    pub fn from_dotnet_binary(value: u64) -> Self {
        let mut ticks = i128::from(value & DOTNET_TICKS_MASK);
        if value & DOTNET_LOCAL_BIT != 0 && ticks > DOTNET_TICKS_CEILING - TICKS_PER_DAY {
            ticks -= DOTNET_TICKS_CEILING;
        }
        KeyTime {
            unix_ticks: ticks - DOTNET_UNIX_EPOCH,
        }
    }

    pub fn from_system_time(time: SystemTime) -> Self {
        let unix_ticks = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => (after.as_nanos() / 100) as i128,
            Err(before) => -((before.duration().as_nanos() / 100) as i128),
        };
        KeyTime { unix_ticks }
    }

    /// As a FILETIME, or `None` before 1601 or past the u64 range.
    pub fn to_filetime(&self) -> Option<u64> {
        u64::try_from(self.unix_ticks + FILETIME_UNIX_EPOCH).ok()
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(&self) -> i64 {
        i64::try_from(self.unix_ticks.div_euclid(TICKS_PER_SECOND)).unwrap_or(i64::MAX)
    }

    /// The 100 ns ticks within the second, 0..10_000_000.
    pub fn subsecond_ticks(&self) -> u32 {
        u32::try_from(self.unix_ticks.rem_euclid(TICKS_PER_SECOND)).unwrap_or_default()
    }
}

/// The current time as a FILETIME, for stamping new keys.
pub fn filetime_now() -> u64 {
    KeyTime::from_system_time(SystemTime::now())
        .to_filetime()
        .unwrap_or_default()
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// RFC 3339 in UTC with seven fractional digits, e.g. `2018-06-13T22:32:38.1684545Z`.
impl fmt::Display for KeyTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.unix_seconds();
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let second_of_day = seconds.rem_euclid(86_400);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
            self.subsecond_ticks()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_line_up() {
        assert_eq!(
            KeyTime::from_filetime(116_444_736_000_000_000).unix_seconds(),
            0
        );
        assert_eq!(
            KeyTime::from_filetime(0).to_string(),
            "1601-01-01T00:00:00.0000000Z"
        );
        // DateTime.ToBinary of 0001-01-01 with Kind = Utc.
        assert_eq!(
            KeyTime::from_dotnet_binary(0x4000_0000_0000_0000).to_string(),
            "0001-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            KeyTime::from_filetime(filetime_now())
                .to_filetime()
                .map(|_| ()),
            Some(())
        );
    }

    #[test]
    fn leap_day_and_pre_epoch_render() {
        // 2000-02-29T12:00:00Z is 951825600 Unix seconds.
        let ft = 116_444_736_000_000_000 + 951_825_600 * 10_000_000;
        assert_eq!(
            KeyTime::from_filetime(ft).to_string(),
            "2000-02-29T12:00:00.0000000Z"
        );
        let before = KeyTime::from_filetime(116_444_736_000_000_000 - 1);
        assert_eq!(before.to_string(), "1969-12-31T23:59:59.9999999Z");
    }
}
