//! Cron schedules as CronJobs write them: five fields (minute, hour, day of month,
//! month, day of week) with `*`, lists, ranges, steps and month/weekday names, or
//! one of `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
//! `@hourly`. Times are evaluated in a time zone.
//!
//! When both day fields are restricted, a day matches if either matches, as in
//! standard cron (and the robfig/cron parser upstream uses).

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    dom_restricted: bool,
    dow_restricted: bool,
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(
    text: &str,
    min: u32,
    max: u32,
    names: &[&str],
    name_base: u32,
) -> Result<u32, String> {
    if let Some(index) = names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
    {
        return Ok(index as u32 + name_base);
    }
    let value: u32 = text
        .parse()
        .map_err(|_| format!("failed to parse int from {text}: invalid syntax"))?;
    if value < min || value > max {
        return Err(format!(
            "end of range ({value}) above maximum ({max}) or below minimum ({min})"
        ));
    }
    Ok(value)
}

/// Parses one field into a bit set; returns whether it was `*` (or `?`).
fn parse_field(
    field: &str,
    min: u32,
    max: u32,
    names: &[&str],
    name_base: u32,
) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .map_err(|_| format!("failed to parse int from {step}: invalid syntax"))?;
                if step == 0 {
                    return Err(format!("step of range should be a positive number: {part}"));
                }
                (range, Some(step))
            }
            None => (part, None),
        };
        let (first, last) = if range == "*" || range == "?" {
            star = step.is_none();
            (min, max)
        } else if let Some((first, last)) = range.split_once('-') {
            (
                parse_value(first, min, max, names, name_base)?,
                parse_value(last, min, max, names, name_base)?,
            )
        } else {
            let value = parse_value(range, min, max, names, name_base)?;
            // `N/step` runs from N to the maximum.
            (value, if step.is_some() { max } else { value })
        };
        if first > last {
            return Err(format!(
                "beginning of range ({first}) beyond end of range ({last}): {part}"
            ));
        }
        let step = step.unwrap_or(1);
        let mut value = first;
        while value <= last {
            bits |= 1 << value;
            value += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a schedule.
    ///
    /// # Errors
    /// A message naming the invalid field, in the words of upstream's parser.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        let expanded = match text {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => {
                return Err(format!("unrecognized descriptor: {other}"));
            }
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {text}",
                fields.len()
            ));
        }
        let (minutes, _) = parse_field(fields[0], 0, 59, &[], 0)?;
        let (hours, _) = parse_field(fields[1], 0, 23, &[], 0)?;
        let (days_of_month, dom_star) = parse_field(fields[2], 1, 31, &[], 0)?;
        let (months, _) = parse_field(fields[3], 1, 12, &MONTH_NAMES, 1)?;
        let (mut days_of_week, dow_star) = parse_field(fields[4], 0, 7, &DAY_NAMES, 0)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week |= 1;
        }
        Ok(Schedule {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            dom_restricted: !dom_star,
            dow_restricted: !dow_star,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self.days_of_month & (1 << date.day()) != 0;
        let dow = self.days_of_week & (1 << date.weekday().to_sunday_zero_offset()) != 0;
        if self.dom_restricted && self.dow_restricted {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// Returns the first schedule time strictly after `after`, in `tz`; `None` when
    /// none falls within the next five years (such as `0 0 30 2 *`).
    pub fn next(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let start = after.to_zoned(tz.clone()).datetime();
        let mut candidate = DateTime::from_parts(
            start.date(),
            Time::new(start.hour(), start.minute(), 0, 0).ok()?,
        )
        .checked_add(1.minute())
        .ok()?;
        let limit = start.date().year() + 5;
        while candidate.year() <= limit {
            if self.months & (1 << candidate.month()) == 0 {
                let first_of_next = candidate
                    .date()
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?;
                candidate = first_of_next.to_datetime(Time::midnight());
                continue;
            }
            if !self.day_matches(candidate.date()) {
                candidate = candidate
                    .date()
                    .tomorrow()
                    .ok()?
                    .to_datetime(Time::midnight());
                continue;
            }
            if self.hours & (1 << candidate.hour()) == 0 {
                candidate = DateTime::from_parts(
                    candidate.date(),
                    Time::new(candidate.hour(), 0, 0, 0).ok()?,
                )
                .checked_add(1.hour())
                .ok()?;
                continue;
            }
            if self.minutes & (1 << candidate.minute()) == 0 {
                candidate = candidate.checked_add(1.minute()).ok()?;
                continue;
            }
            let timestamp = tz.to_ambiguous_timestamp(candidate).compatible().ok()?;
            if timestamp > after {
                return Some(timestamp);
            }
            candidate = candidate.checked_add(1.minute()).ok()?;
        }
        None
    }

    /// Returns the latest schedule time in `(earliest, now]` and how many schedule
    /// times that interval holds, counting at most `cap`.
    pub fn most_recent(
        &self,
        earliest: Timestamp,
        now: Timestamp,
        tz: &TimeZone,
        cap: usize,
    ) -> (Option<Timestamp>, usize) {
        let mut latest = None;
        let mut count = 0;
        let mut cursor = earliest;
        while let Some(next) = self.next(cursor, tz) {
            if next > now {
                break;
            }
            latest = Some(next);
            count += 1;
            cursor = next;
            if count >= cap {
                // Jump close to `now`; the count is only reported as "too many".
                cursor = self.previous_near(now, tz).unwrap_or(next).max(next);
            }
        }
        (latest, count)
    }

    /// Returns a time a little before `now` from which `next` finds the last schedule time
    /// before `now` without walking the whole gap.
    fn previous_near(&self, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        for days in [1i64, 32, 366, 5 * 366] {
            let probe = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * days))
                .ok()?;
            if let Some(next) = self.next(probe, tz)
                && next <= now
            {
                let mut cursor = next;
                while let Some(after) = self.next(cursor, tz) {
                    if after > now {
                        break;
                    }
                    cursor = after;
                }
                return cursor.checked_sub(jiff::SignedDuration::from_secs(1)).ok();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid timestamp")
    }

    #[test]
    fn descriptors_and_fields_parse() {
        assert_eq!(Schedule::parse("@hourly"), Schedule::parse("0 * * * *"));
        assert_eq!(Schedule::parse("@daily"), Schedule::parse("0 0 * * *"));
        assert!(Schedule::parse("*/15 1-5 * JAN-MAR mon,wed").is_ok());
        assert!(Schedule::parse("60 * * * *").is_err());
        assert!(Schedule::parse("* * * *").is_err());
        assert!(Schedule::parse("@every 5m").is_err());
        assert!(Schedule::parse("*/0 * * * *").is_err());
    }

    #[test]
    fn next_times_in_utc() {
        let tz = TimeZone::UTC;
        let every_15 = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            every_15.next(at("2024-01-01T10:07:30Z"), &tz),
            Some(at("2024-01-01T10:15:00Z"))
        );
        assert_eq!(
            every_15.next(at("2024-01-01T10:15:00Z"), &tz),
            Some(at("2024-01-01T10:30:00Z"))
        );
        let yearly = Schedule::parse("@yearly").unwrap();
        assert_eq!(
            yearly.next(at("2024-03-01T00:00:00Z"), &tz),
            Some(at("2025-01-01T00:00:00Z"))
        );
        let leap = Schedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(
            leap.next(at("2025-01-01T00:00:00Z"), &tz),
            Some(at("2028-02-29T00:00:00Z"))
        );
        let never = Schedule::parse("0 0 30 2 *").unwrap();
        assert_eq!(never.next(at("2025-01-01T00:00:00Z"), &tz), None);
    }

    #[test]
    fn day_fields_combine_with_or_when_both_set() {
        let tz = TimeZone::UTC;
        // The 13th or any Friday; 2024-09-06 is a Friday.
        let schedule = Schedule::parse("0 0 13 * 5").unwrap();
        assert_eq!(
            schedule.next(at("2024-09-01T00:00:00Z"), &tz),
            Some(at("2024-09-06T00:00:00Z"))
        );
        let sunday = Schedule::parse("0 0 * * 7").unwrap();
        assert_eq!(
            sunday.next(at("2024-09-01T00:00:00Z"), &tz),
            Some(at("2024-09-08T00:00:00Z"))
        );
    }

    #[test]
    fn time_zones_shift_schedule_times() {
        let tz = TimeZone::get("America/New_York").expect("tz database");
        let daily = Schedule::parse("0 9 * * *").unwrap();
        assert_eq!(
            daily.next(at("2024-07-01T00:00:00Z"), &tz),
            Some(at("2024-07-01T13:00:00Z"))
        );
        assert_eq!(
            daily.next(at("2024-12-01T00:00:00Z"), &tz),
            Some(at("2024-12-01T14:00:00Z"))
        );
    }

    #[test]
    fn most_recent_counts_missed_times() {
        let tz = TimeZone::UTC;
        let hourly = Schedule::parse("@hourly").unwrap();
        let (latest, count) = hourly.most_recent(
            at("2024-01-01T00:30:00Z"),
            at("2024-01-01T05:10:00Z"),
            &tz,
            100,
        );
        assert_eq!(latest, Some(at("2024-01-01T05:00:00Z")));
        assert_eq!(count, 5);
        let minutely = Schedule::parse("* * * * *").unwrap();
        let (latest, count) = minutely.most_recent(
            at("2024-01-01T00:00:00Z"),
            at("2024-03-01T00:00:30Z"),
            &tz,
            100,
        );
        assert_eq!(latest, Some(at("2024-03-01T00:00:00Z")));
        assert!(count >= 100);
    }
}
