//! Validation of CronJob schedules with the rules and error texts of the cron parser
//! upstream uses (`robfig/cron/v3`, standard five-field format with descriptors).
//!
//! Entry point: [`parse_standard`], which returns the parser's error text for a bad
//! schedule. Schedules are only checked here, not evaluated.

use thiserror::Error;

/// A schedule the standard cron parser rejects; the text is the parser's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTH_NAMES: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DOW_NAMES: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Bounds; 5] = [
    Bounds {
        min: 0,
        max: 59,
        names: &[],
    },
    Bounds {
        min: 0,
        max: 23,
        names: &[],
    },
    Bounds {
        min: 1,
        max: 31,
        names: &[],
    },
    Bounds {
        min: 1,
        max: 12,
        names: MONTH_NAMES,
    },
    Bounds {
        min: 0,
        max: 6,
        names: DOW_NAMES,
    },
];

/// Checks a schedule in the standard format: five fields (minute, hour, day of month,
/// month, day of week) or a descriptor such as `@hourly` or `@every 5m`, optionally
/// after a `TZ=` or `CRON_TZ=` prefix.
///
/// # Errors
///
/// Returns the message upstream's parser gives, such as
/// `expected exactly 5 fields, found 1: [hello]`.
pub fn parse_standard(schedule: &str) -> Result<(), ScheduleError> {
    if schedule.is_empty() {
        return Err(ScheduleError("empty spec string".to_string()));
    }
    let mut spec = schedule;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let end = spec.find(' ').unwrap_or(spec.len());
        let zone = &spec[spec.find('=').map_or(0, |index| index + 1)..end];
        if zone.is_empty() || zone.contains(char::is_whitespace) {
            return Err(ScheduleError(format!(
                "provided bad location {zone}: unknown time zone {zone}"
            )));
        }
        spec = spec[end..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ScheduleError(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        )));
    }
    for (field, bounds) in fields.iter().zip(FIELDS.iter()) {
        parse_field(field, bounds)?;
    }
    Ok(())
}

fn parse_descriptor(descriptor: &str) -> Result<(), ScheduleError> {
    match descriptor {
        "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => {
            Ok(())
        }
        _ => {
            if let Some(duration) = descriptor.strip_prefix("@every ") {
                if parse_go_duration(duration) {
                    return Ok(());
                }
                return Err(ScheduleError(format!(
                    "failed to parse duration {descriptor}: time: invalid duration {duration:?}"
                )));
            }
            Err(ScheduleError(format!(
                "unrecognized descriptor: {descriptor}"
            )))
        }
    }
}

/// Accepts Go duration strings such as `90s`, `1h30m` or `1.5h`.
fn parse_go_duration(text: &str) -> bool {
    let text = text.strip_prefix(['+', '-']).unwrap_or(text);
    if text == "0" {
        return true;
    }
    if text.is_empty() {
        return false;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if !matches!(
            &rest[..unit_end],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return false;
        }
        rest = &rest[unit_end..];
    }
    true
}

fn parse_field(field: &str, bounds: &Bounds) -> Result<(), ScheduleError> {
    for range in field.split(',') {
        parse_range(range, bounds)?;
    }
    Ok(())
}

fn parse_range(expression: &str, bounds: &Bounds) -> Result<(), ScheduleError> {
    let range_and_step: Vec<&str> = expression.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single_digit = low_and_high.len() == 1;

    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (bounds.min, bounds.max)
    } else {
        let start = parse_int_or_name(low_and_high[0], bounds.names)?;
        let end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], bounds.names)?,
            _ => return Err(ScheduleError(format!("too many hyphens: {expression}"))),
        };
        (start, end)
    };

    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // `5/15` means from 5 to the field's maximum in steps of 15.
            if single_digit {
                end = bounds.max;
            }
            step
        }
        _ => return Err(ScheduleError(format!("too many slashes: {expression}"))),
    };

    if start < bounds.min {
        return Err(ScheduleError(format!(
            "beginning of range ({start}) below minimum ({}): {expression}",
            bounds.min
        )));
    }
    if end > bounds.max {
        return Err(ScheduleError(format!(
            "end of range ({end}) above maximum ({}): {expression}",
            bounds.max
        )));
    }
    if start > end {
        return Err(ScheduleError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expression}"
        )));
    }
    if step == 0 {
        return Err(ScheduleError(format!(
            "step of range should be a positive number: {expression}"
        )));
    }
    Ok(())
}

fn parse_int_or_name(text: &str, names: &[&str]) -> Result<u32, ScheduleError> {
    let lower = text.to_lowercase();
    if let Some(index) = names.iter().position(|name| *name == lower) {
        // Months count from 1, weekdays from 0.
        let offset = if names.len() == 12 { 1 } else { 0 };
        return Ok(u32::try_from(index).unwrap_or(0) + offset);
    }
    must_parse_int(text)
}

fn must_parse_int(text: &str) -> Result<u32, ScheduleError> {
    let number: i64 = text.parse().map_err(|_| {
        ScheduleError(format!(
            "failed to parse int from {text}: strconv.Atoi: parsing {text:?}: invalid syntax"
        ))
    })?;
    if number < 0 {
        return Err(ScheduleError(format!(
            "negative number ({number}) not allowed: {text}"
        )));
    }
    u32::try_from(number).map_err(|_| {
        ScheduleError(format!(
            "failed to parse int from {text}: strconv.Atoi: parsing {text:?}: value out of range"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_schedules() {
        for schedule in [
            "* * * * *",
            "*/5 * * * *",
            "0 0 1 1 *",
            "0-30/10 9-17 * jan-dec mon-fri",
            "@hourly",
            "@daily",
            "@every 1h30m",
            "0 12 * * 0,6",
            "TZ=UTC 0 * * * *",
            "? * * * *",
        ] {
            assert_eq!(parse_standard(schedule), Ok(()), "schedule {schedule:?}");
        }
    }

    #[test]
    fn rejected_schedules_carry_parser_messages() {
        let cases = [
            ("hello", "expected exactly 5 fields, found 1: [hello]"),
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            ("@often", "unrecognized descriptor: @often"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("", "empty spec string"),
        ];
        for (schedule, message) in cases {
            assert_eq!(
                parse_standard(schedule),
                Err(ScheduleError(message.to_string())),
                "schedule {schedule:?}"
            );
        }
    }
}
