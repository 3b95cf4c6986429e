//! Every date and time the lab reads or writes, on the `time` crate: the real clock as Unix
//! seconds or milliseconds, a [`WallClock`] that tests can stop, SigV4's compact `X-Amz-Date`
//! (`20261126T201954Z`), ISO 8601 to the second (`2026-11-26T20:19:54Z`), RFC 3339 (an image's
//! `created`) and a day at midnight UTC.

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcDateTime};

use crate::types::Millis;

/// `20261126T201954Z`.
const AMZ_DATE: &[BorrowedFormatItem<'_>] = format_description!("[year][month][day]T[hour][minute][second]Z");
/// `2026-11-26T20:19:54Z`.
const ISO_SECONDS: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
/// `2026-11-26`.
const DAY: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

/// Seconds since the Unix epoch, now.
pub fn unix_seconds() -> i64 {
    UtcDateTime::now().unix_timestamp()
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_millis() -> i64 {
    (UtcDateTime::now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The wall clock the lab clock runs on: the real one, or (in tests) one stopped at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WallClock {
    #[default]
    System,
    Fixed(Millis),
}

impl WallClock {
    pub fn now(self) -> Millis {
        match self {
            WallClock::System => Millis(unix_millis()),
            WallClock::Fixed(at) => at,
        }
    }
}

fn from_unix_seconds(seconds: i64) -> PrimitiveDateTime {
    let at = OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    PrimitiveDateTime::new(at.date(), at.time())
}

fn format(seconds: i64, description: &[BorrowedFormatItem<'_>]) -> String {
    from_unix_seconds(seconds).format(description).expect("a date with a four-digit year formats")
}

/// `20261126T201954Z` to seconds since the epoch.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    Some(PrimitiveDateTime::parse(text, AMZ_DATE).ok()?.assume_utc().unix_timestamp())
}

/// Seconds since the epoch as `20261126T201954Z`.
pub fn format_amz_date(seconds: i64) -> String {
    format(seconds, AMZ_DATE)
}

/// A lab-clock time as `2026-11-26T20:19:54Z` (the fraction of a second dropped).
pub fn iso_seconds(at: Millis) -> String {
    format(at.0.div_euclid(1000), ISO_SECONDS)
}

/// An RFC 3339 time (`2025-09-03T00:00:00Z`, an image config's `created`) to seconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    Some(OffsetDateTime::parse(text, &Rfc3339).ok()?.unix_timestamp())
}

/// `2026-11-26` as its midnight UTC.
pub fn parse_day(text: &str) -> Option<Millis> {
    let date = Date::parse(text, DAY).ok()?;
    Some(Millis(date.midnight().assume_utc().unix_timestamp() * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        let s = parse_amz_date("20261126T201954Z").unwrap();
        assert_eq!(format_amz_date(s), "20261126T201954Z");
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("2026-11-26"), None);
        assert_eq!(parse_amz_date("20261126T201954"), None);
    }

    #[test]
    fn iso_seconds_and_days() {
        assert_eq!(iso_seconds(Millis(1_795_724_394_999)), "2026-11-26T20:19:54Z");
        assert_eq!(iso_seconds(Millis(-1)), "1969-12-31T23:59:59Z");
        assert_eq!(parse_day("1970-01-01"), Some(Millis(0)));
        assert_eq!(parse_day("2000-03-01"), Some(Millis(951_868_800_000)));
        assert_eq!(parse_day("2023-10-2"), None);
        assert_eq!(parse_rfc3339("2025-09-03T00:00:00Z"), Some(1_756_857_600));
        assert_eq!(parse_rfc3339("2025-09-03T02:00:00.5+02:00"), Some(1_756_857_600));
        assert_eq!(parse_rfc3339("2025-09-03"), None);
    }

    #[test]
    fn a_fixed_clock_stands_still() {
        assert_eq!(WallClock::Fixed(Millis(42)).now(), Millis(42));
        assert!((WallClock::System.now().0 / 1000 - unix_seconds()).abs() <= 1);
    }

    #[test]
    fn the_lab_clock_runs_on_the_state_s_wall_clock() {
        let mut state = crate::state::State::default();
        state.set_wall_clock(WallClock::Fixed(Millis(1_000)));
        assert_eq!(state.now(), Millis(1_000));
        assert_eq!(state.advance_clock(60), Ok(Millis(61_000)));
    }
}
