//! Ages and durations as `kubectl get` prints them: upstream's `duration.HumanDuration`
//! (k8s.io/apimachinery/pkg/util/duration, v1.33) and the printers' "time since" helpers.
//!
//! [`human_duration`] keeps about two significant units: `45s`, `3m10s`, `70m`, `5h2m`,
//! `2d1h`, `367d`, `2y1d`, `8y`. `since` turns an object's timestamp field into such an
//! age, or `<unknown>` when the field is unset.

use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const SECOND: i64 = 1;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

/// Formats `duration` with about two significant units, exactly as upstream's
/// `HumanDuration` does.
///
/// | below     | printed as              |
/// |-----------|-------------------------|
/// | 2 minutes | seconds (`119s`)        |
/// | 10 minutes| minutes and seconds (`9m59s`) |
/// | 3 hours   | minutes (`179m`)        |
/// | 8 hours   | hours and minutes (`7h59m`) |
/// | 48 hours  | hours (`47h`)           |
/// | 8 days    | days and hours (`7d23h`) |
/// | 2 years   | days (`729d`)           |
/// | 8 years   | years and days (`7y364d`) |
/// | beyond    | years (`8y`)            |
///
/// Durations down to -1s (exclusive of -2s) print as `0s` to tolerate clock skew; shorter
/// ones print as `<invalid>`. Parts are truncated toward zero, never rounded.
pub fn human_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 2 * MINUTE {
        return format!("{seconds}s");
    }

    let minutes = seconds / MINUTE;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % MINUTE, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }

    let hours = seconds / HOUR;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }

    let days = seconds / DAY;
    if hours < 8 * 24 {
        return with_remainder(days, "d", hours % 24, "h");
    }
    if seconds < 2 * YEAR {
        return format!("{days}d");
    }

    let years = seconds / YEAR;
    if seconds < 8 * YEAR {
        return with_remainder(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

/// Prints `major` with its unit, followed by `minor` with its unit unless `minor` is zero.
fn with_remainder(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// Converts the wall clock reading the caller passes in to a timestamp. A time before 1970
/// reads as the epoch.
pub(super) fn timestamp_of(now: SystemTime) -> Timestamp {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let nanos = i128::try_from(since_epoch.as_nanos()).unwrap_or(i128::MAX);
    Timestamp::from_nanosecond(nanos).unwrap_or(Timestamp::MAX)
}

/// Reads an RFC 3339 `Time` or `MicroTime` field. Returns `None` when the field is missing,
/// null, unparseable, or Go's zero time (`0001-01-01T00:00:00Z`), the cases upstream treats
/// as an unset time.
pub(super) fn timestamp_field(value: Option<&Value>) -> Option<Timestamp> {
    let text = value?.as_str()?;
    let timestamp = apimachinery::meta::parse_time(text).ok()?;
    let go_zero_time = -62_135_596_800;
    if timestamp.as_second() == go_zero_time && timestamp.subsec_nanosecond() == 0 {
        return None;
    }
    Some(timestamp)
}

/// Returns `later - earlier`, saturating at the range of Go's `time.Duration` (about 292
/// years) as upstream's subtraction does.
pub(super) fn elapsed(earlier: Timestamp, later: Timestamp) -> SignedDuration {
    let nanos = later.as_nanosecond() - earlier.as_nanosecond();
    let clamped = nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    let clamped = i64::try_from(clamped).unwrap_or(i64::MAX);
    SignedDuration::from_nanos(clamped)
}

/// Prints the age of the timestamp in `value` at `now`, or `<unknown>` when the timestamp is
/// unset (upstream's `translateTimestampSince`).
pub(super) fn since(value: Option<&Value>, now: Timestamp) -> String {
    match timestamp_field(value) {
        Some(timestamp) => human_duration(elapsed(timestamp, now)),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MILLISECOND: i64 = 1_000_000;

    fn nanos(seconds: i64) -> i64 {
        seconds * 1_000_000_000
    }

    #[test]
    fn human_duration_cases() {
        let cases: &[(i64, &str)] = &[
            (nanos(1), "1s"),
            (nanos(70), "70s"),
            (nanos(190), "3m10s"),
            (nanos(70 * MINUTE), "70m"),
            (nanos(47 * HOUR), "47h"),
            (nanos(49 * HOUR), "2d1h"),
            (nanos((8 * 24 + 2) * HOUR), "8d"),
            (nanos(367 * DAY), "367d"),
            (nanos(2 * YEAR + 25 * HOUR), "2y1d"),
            (nanos(8 * YEAR + 2 * HOUR), "8y"),
            (nanos(5 * MINUTE + 3), "5m3s"),
            (nanos(10 * DAY), "10d"),
        ];
        for (duration, expected) in cases {
            let printed = human_duration(SignedDuration::from_nanos(*duration));
            assert_eq!(printed, *expected, "duration {duration}ns");
        }
    }

    #[test]
    fn human_duration_boundaries() {
        let cases: &[(i64, &str)] = &[
            (nanos(-2), "<invalid>"),
            (nanos(-2) + 1, "0s"),
            (0, "0s"),
            (nanos(1) - MILLISECOND, "0s"),
            (nanos(2 * MINUTE) - MILLISECOND, "119s"),
            (nanos(2 * MINUTE), "2m"),
            (nanos(2 * MINUTE + 1), "2m1s"),
            (nanos(10 * MINUTE) - MILLISECOND, "9m59s"),
            (nanos(10 * MINUTE), "10m"),
            (nanos(10 * MINUTE + 1), "10m"),
            (nanos(3 * HOUR) - MILLISECOND, "179m"),
            (nanos(3 * HOUR), "3h"),
            (nanos(3 * HOUR + MINUTE), "3h1m"),
            (nanos(8 * HOUR) - MILLISECOND, "7h59m"),
            (nanos(8 * HOUR), "8h"),
            (nanos(8 * HOUR + 59 * MINUTE), "8h"),
            (nanos(2 * DAY) - MILLISECOND, "47h"),
            (nanos(2 * DAY), "2d"),
            (nanos(2 * DAY + HOUR), "2d1h"),
            (nanos(8 * DAY) - MILLISECOND, "7d23h"),
            (nanos(8 * DAY), "8d"),
            (nanos(8 * DAY + 23 * HOUR), "8d"),
            (nanos(2 * YEAR) - MILLISECOND, "729d"),
            (nanos(2 * YEAR), "2y"),
            (nanos(2 * YEAR + 23 * HOUR + 59 * MINUTE), "2y"),
            (nanos(2 * YEAR + DAY) - MILLISECOND, "2y"),
            (nanos(2 * YEAR + DAY), "2y1d"),
            (nanos(3 * YEAR), "3y"),
            (nanos(7 * YEAR), "7y"),
            (nanos(8 * YEAR) - MILLISECOND, "7y364d"),
            (nanos(8 * YEAR), "8y"),
            (nanos(8 * YEAR + 364 * DAY), "8y"),
            (nanos(9 * YEAR), "9y"),
        ];
        for (duration, expected) in cases {
            let printed = human_duration(SignedDuration::from_nanos(*duration));
            assert_eq!(printed, *expected, "duration {duration}ns");
        }
    }

    #[test]
    fn since_reads_timestamps() {
        let now: Timestamp = "2024-05-10T12:00:00Z".parse().expect("valid timestamp");
        let cases: &[(Option<Value>, &str)] = &[
            (None, "<unknown>"),
            (Some(Value::Null), "<unknown>"),
            (Some(Value::from("0001-01-01T00:00:00Z")), "<unknown>"),
            (Some(Value::from("not a time")), "<unknown>"),
            (Some(Value::from("2024-05-10T11:59:30Z")), "30s"),
            (Some(Value::from("2024-05-10T11:55:00Z")), "5m"),
            (Some(Value::from("2024-05-10T10:20:00Z")), "100m"),
            (Some(Value::from("2024-05-08T12:00:00Z")), "2d"),
            (Some(Value::from("2024-05-10T12:00:01.900000Z")), "0s"),
            (
                Some(Value::from("2024-05-10T12:00:02.100000Z")),
                "<invalid>",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(since(value.as_ref(), now), *expected, "timestamp {value:?}");
        }
    }

    #[test]
    fn elapsed_saturates() {
        let early: Timestamp = "0002-01-01T00:00:00Z".parse().expect("valid timestamp");
        let late: Timestamp = "9000-01-01T00:00:00Z".parse().expect("valid timestamp");
        assert_eq!(elapsed(early, late), SignedDuration::from_nanos(i64::MAX));
        assert_eq!(elapsed(late, early), SignedDuration::from_nanos(i64::MIN));
    }

    #[test]
    fn timestamp_of_system_time() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_715_342_400);
        assert_eq!(timestamp_of(now).to_string(), "2024-05-10T12:00:00Z");
        let before_epoch = UNIX_EPOCH - std::time::Duration::from_secs(10);
        assert_eq!(timestamp_of(before_epoch), Timestamp::UNIX_EPOCH);
    }
}
