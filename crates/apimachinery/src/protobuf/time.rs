//! RFC 3339 timestamps as `metav1.Time` and `metav1.MicroTime` write them in JSON, converted
//! to and from the Unix seconds and nanoseconds of their protobuf form.
//!
//! Entry points: [`format_rfc3339`] and [`parse_rfc3339`].

/// Unix seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), which JSON writes as null.
pub const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

const SECONDS_PER_DAY: i64 = 86_400;

/// Formats Unix seconds as `2006-01-02T15:04:05Z`, or with six fractional digits
/// (`2006-01-02T15:04:05.000000Z`) when `micros` is given. Returns `None` for a year outside
/// 0000..=9999, which Go's JSON encoder rejects too.
pub fn format_rfc3339(seconds: i64, micros: Option<u32>) -> Option<String> {
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }

    let hour = second_of_day / 3600;
    let minute = second_of_day % 3600 / 60;
    let second = second_of_day % 60;
    let text = match micros {
        None => format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"),
        Some(micros) => {
            format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}Z")
        }
    };
    Some(text)
}

/// Parses an RFC 3339 timestamp (`2006-01-02T15:04:05Z`, optionally with a fraction and a
/// `+07:00` style offset) into Unix seconds and nanoseconds in UTC. Returns `None` for text
/// that Go's `time.Parse(time.RFC3339, ...)` rejects as well: wrong layout, a month, day,
/// hour, minute or second out of range.
pub fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }

    let year = digits(bytes, 0, 4)?;
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let hour = digits(bytes, 11, 2)?;
    let minute = digits(bytes, 14, 2)?;
    let second = digits(bytes, 17, 2)?;
    let separators_ok = bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !separators_ok
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }

    let (nanos, rest) = parse_fraction(&bytes[19..])?;
    let offset_seconds = parse_offset(rest)?;

    let days = days_from_civil(year, month, day);
    let seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset_seconds;
    Some((seconds, nanos))
}

/// Parses an optional `.ddd` fraction into nanoseconds (extra digits are dropped) and
/// returns the rest.
fn parse_fraction(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let Some(digits_and_rest) = bytes.strip_prefix(b".") else {
        return Some((0, bytes));
    };
    let count = digits_and_rest
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if count == 0 {
        return None;
    }

    let mut nanos: u32 = 0;
    for (index, byte) in digits_and_rest[..count].iter().enumerate() {
        if index < 9 {
            nanos = nanos * 10 + u32::from(byte - b'0');
        }
    }
    for _ in count..9 {
        nanos *= 10;
    }
    Some((nanos, &digits_and_rest[count..]))
}

/// Parses `Z` or `+hh:mm` / `-hh:mm` into seconds east of UTC.
fn parse_offset(bytes: &[u8]) -> Option<i64> {
    if bytes == b"Z" {
        return Some(0);
    }
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }

    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = digits(bytes, 1, 2)?;
    let minutes = digits(bytes, 4, 2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

fn digits(bytes: &[u8], start: usize, count: usize) -> Option<i64> {
    let slice = bytes.get(start..start + count)?;
    slice.iter().try_fold(0i64, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year eras of
/// 146097 days, with years starting on March 1 so that the leap day ends a year.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Converts days since 1970-01-01 to a date, the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_known_instants() {
        let cases = [
            (0, None, "1970-01-01T00:00:00Z"),
            (1_700_000_000, None, "2023-11-14T22:13:20Z"),
            (951_782_400, None, "2000-02-29T00:00:00Z"),
            (-1, None, "1969-12-31T23:59:59Z"),
            (GO_ZERO_TIME_SECONDS, None, "0001-01-01T00:00:00Z"),
            (253_402_300_799, None, "9999-12-31T23:59:59Z"),
            (1_700_000_000, Some(5), "2023-11-14T22:13:20.000005Z"),
        ];
        for (seconds, micros, expected) in cases {
            assert_eq!(
                format_rfc3339(seconds, micros).as_deref(),
                Some(expected),
                "{seconds}"
            );
        }
    }

    #[test]
    fn format_rejects_years_past_9999() {
        assert_eq!(format_rfc3339(253_402_300_800, None), None);
        assert_eq!(format_rfc3339(i64::MIN, None), None);
        assert_eq!(format_rfc3339(i64::MAX, None), None);
    }

    #[test]
    fn parse_known_timestamps() {
        let cases = [
            ("1970-01-01T00:00:00Z", (0, 0)),
            ("2023-11-14T22:13:20Z", (1_700_000_000, 0)),
            ("2023-11-14T23:13:20+01:00", (1_700_000_000, 0)),
            ("2023-11-14T21:43:20-00:30", (1_700_000_000, 0)),
            ("2023-11-14T22:13:20.5Z", (1_700_000_000, 500_000_000)),
            ("2023-11-14T22:13:20.000005Z", (1_700_000_000, 5_000)),
            (
                "2023-11-14T22:13:20.1234567891Z",
                (1_700_000_000, 123_456_789),
            ),
            ("2000-02-29T00:00:00Z", (951_782_400, 0)),
            ("0001-01-01T00:00:00Z", (GO_ZERO_TIME_SECONDS, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_rfc3339(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn parse_rejects_invalid_text() {
        let cases = [
            "",
            "2023-11-14",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20",
            "2023-13-14T22:13:20Z",
            "2023-02-29T22:13:20Z",
            "2023-11-31T22:13:20Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:60:00Z",
            "2023-11-14T22:13:60Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0100",
            "2023-11-14T22:13:20+24:00",
            "2023-11-14T22:13:20Zjunk",
            "20x3-11-14T22:13:20Z",
        ];
        for text in cases {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-800_000i64, -719_468, -1, 0, 1, 10_957, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days, "{days}");
        }
    }
}
