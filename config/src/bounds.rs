//! The bounds of every numeric setting, checked when a configuration loads: a value outside
//! them is refused with its key, before it can overflow the time arithmetic of every request
//! (a lifetime of 2^64 - 1 seconds makes `now + lifetime` fail) or exhaust memory.

use std::ops::RangeInclusive;

pub(crate) const HOUR: u64 = 3_600;
pub(crate) const DAY: u64 = 86_400;
/// Longest ticket lifetime or renewable lifetime accepted.
pub(crate) const YEAR: u64 = 365 * DAY;

/// One setting's value and the range it must lie in.
pub(crate) struct Bound {
    pub key: &'static str,
    pub value: u64,
    pub range: RangeInclusive<u64>,
}

impl Bound {
    pub(crate) fn new(
        key: &'static str,
        value: impl TryInto<u64>,
        range: RangeInclusive<u64>,
    ) -> Self {
        Self {
            key,
            // A usize beyond u64 cannot happen on the platforms this builds for; if it did,
            // it is out of every range.
            value: value.try_into().unwrap_or(u64::MAX),
            range,
        }
    }
}

/// The first setting outside its range, as `(key, message)`.
pub(crate) fn check(bounds: impl IntoIterator<Item = Bound>) -> Result<(), (&'static str, String)> {
    for bound in bounds {
        if !bound.range.contains(&bound.value) {
            return Err((
                bound.key,
                format!(
                    "{} is outside {}..={}",
                    bound.value,
                    bound.range.start(),
                    bound.range.end()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_out_of_range_is_named() {
        assert!(check([Bound::new("a", 5u64, 1..=10)]).is_ok());
        let (key, message) = check([
            Bound::new("a", 5u64, 1..=10),
            Bound::new("b", usize::MAX, 0..=100),
            Bound::new("c", 0u64, 1..=2),
        ])
        .unwrap_err();
        assert_eq!(key, "b");
        assert!(message.contains("outside 0..=100"), "{message}");
    }
}
