//! YAML output of JSON values in the layout upstream's servers and kubectl print.
//! Keys are sorted and indented by two spaces, and list items sit at their key's
//! indentation. Strings are quoted only when plain text would read as another type
//! or break the syntax. Long plain and single-quoted strings fold at spaces past
//! column 80, and multi-line strings become literal blocks.
//!
//! Entry point: [`to_yaml`].

use serde_json::{Map, Value};

/// Column past which plain and single-quoted strings are folded at a space.
const BEST_WIDTH: usize = 80;

/// Renders a JSON value as a YAML document (no `---` marker), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        other => {
            write_scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, width: usize) {
    out.extend(std::iter::repeat_n(' ', width));
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| key_order(a.0, b.0));
    entries
}

/// Upstream's key order: character by character, letters after other characters and
/// runs of digits compared by value, so `.` precedes `f:a` and `a9` precedes `a10`.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    for index in 0..a.len().min(b.len()) {
        let (x, y) = (a[index], b[index]);
        if x == y {
            continue;
        }
        match (x.is_alphabetic(), y.is_alphabetic()) {
            (true, true) => return x.cmp(&y),
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        let number = |chars: &[char]| -> (u128, usize) {
            let digits: String = chars[index..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            (digits.parse().unwrap_or(0), digits.len())
        };
        let (x_value, x_len) = number(&a);
        let (y_value, y_len) = number(&b);
        return x_value
            .cmp(&y_value)
            .then(x_len.cmp(&y_len))
            .then(x.cmp(&y));
    }
    a.len().cmp(&b.len())
}

/// Writes a mapping at `level`; with `inline` the first key continues the current
/// line (after `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, level: usize, inline: bool) {
    for (position, (key, value)) in sorted(map).into_iter().enumerate() {
        if position > 0 || !inline {
            indent(out, level);
        }
        write_string(out, key, level + 2);
        out.push(':');
        write_after_key(out, value, level);
    }
}

fn write_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, level + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level, false);
        }
        Value::String(text) if is_literal(text) => write_literal(out, text, level + 2),
        other => {
            out.push(' ');
            write_scalar(out, other, level + 2);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize, inline: bool) {
    for (position, item) in items.iter().enumerate() {
        if position > 0 || !inline {
            indent(out, level);
        }
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, level + 2, true);
            }
            Value::Array(nested) if !nested.is_empty() => {
                out.push(' ');
                write_seq(out, nested, level + 2, true);
            }
            Value::String(text) if is_literal(text) => write_literal(out, text, level + 2),
            other => {
                out.push(' ');
                write_scalar(out, other, level + 2);
                out.push('\n');
            }
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_string(out, text, level),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn is_literal(text: &str) -> bool {
    text.contains('\n') && text.chars().all(|c| c == '\n' || !c.is_control())
}

fn write_literal(out: &mut String, text: &str, level: usize) {
    let chomping = if !text.ends_with('\n') {
        "-"
    } else if text.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let needs_indicator = text.starts_with(' ') || text.starts_with('\n');
    out.push_str(" |");
    if needs_indicator {
        out.push('2');
    }
    out.push_str(chomping);
    out.push('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Writes a string scalar: plain when it reads back as the same string, single-quoted
/// when only the syntax forbids plain, double-quoted when it would read as another
/// type or contains characters that need escapes.
fn write_string(out: &mut String, text: &str, level: usize) {
    if text.chars().any(|c| c.is_control()) || resolves_to_other_type(text) {
        write_double_quoted(out, text);
    } else if plain_allowed(text) {
        write_folded(out, text, level, false);
    } else {
        out.push('\'');
        write_folded(out, &text.replace('\'', "''"), level, true);
        out.push('\'');
    }
}

/// Writes text, replacing a single space by a line break and indentation once the
/// line is past [`BEST_WIDTH`], as upstream's emitter does.
fn write_folded(out: &mut String, text: &str, level: usize, quoted: bool) {
    let line_start = out.rfind('\n').map_or(0, |position| position + 1);
    let mut column = out[line_start..].chars().count();
    let chars: Vec<char> = text.chars().collect();
    for (position, &character) in chars.iter().enumerate() {
        let next_is_space = chars.get(position + 1) == Some(&' ');
        let previous_is_space = position > 0 && chars[position - 1] == ' ';
        let inner = !quoted || (position > 0 && position + 1 < chars.len());
        if character == ' ' && column > BEST_WIDTH && !next_is_space && !previous_is_space && inner
        {
            out.push('\n');
            indent(out, level);
            column = level;
            continue;
        }
        out.push(character);
        column += 1;
    }
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Returns whether YAML 1.1 (upstream's parser) would read the plain text as a bool, null,
/// number or timestamp.
fn resolves_to_other_type(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes",
        "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
        "<<", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan",
        ".NaN", ".NAN",
    ];
    if WORDS.contains(&text) {
        return true;
    }
    let Some(first) = text.chars().next() else {
        return true;
    };
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return false;
    }
    let bare = text.replace('_', "");
    let unsigned = bare.trim_start_matches(['-', '+']);
    let radix = |prefix: &str, radix: u32| {
        unsigned
            .strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok())
    };
    bare.parse::<i64>().is_ok()
        || bare.parse::<u64>().is_ok()
        || radix("0x", 16)
        || radix("0b", 2)
        || radix("0o", 8)
        || (bare.chars().any(|c| c.is_ascii_digit())
            && bare
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
            && bare.parse::<f64>().is_ok())
        || is_base60(unsigned)
        || is_timestamp(text)
}

fn is_base60(text: &str) -> bool {
    let mut parts = text.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || head.is_empty() || !head.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    rest.iter().enumerate().all(|(position, part)| {
        let part = if position + 1 == rest.len() {
            part.split('.').next().unwrap_or_default()
        } else {
            part
        };
        (1..=2).contains(&part.len())
            && part.chars().all(|c| c.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|value| value < 60)
    })
}

fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|slice| slice.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4) && bytes.get(4) == Some(&b'-')) {
        return false;
    }
    let rest = &text[5..];
    let mut fields = rest.splitn(3, '-');
    let month = fields.next().unwrap_or_default();
    let tail = fields.next().unwrap_or_default();
    let day: String = tail.chars().take_while(char::is_ascii_digit).collect();
    let after = &tail[day.len()..];
    (1..=2).contains(&month.len())
        && month.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
        && (after.is_empty() || after.starts_with(['T', 't', ' ']))
}

/// Returns whether the emitter may write the text plain in block context.
fn plain_allowed(text: &str) -> bool {
    let first = text.chars().next().unwrap_or(' ');
    let second = text.chars().nth(1);
    let space_or_end = |c: Option<char>| c.is_none_or(|c| c == ' ');
    if matches!(
        first,
        ',' | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && space_or_end(second) {
        return false;
    }
    if text.starts_with(' ') || text.ends_with(' ') || text.ends_with(':') {
        return false;
    }
    !(text.contains(": ") || text.contains(" #") || text.contains('\t'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_render_like_upstream() {
        let object = json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-01-02T03:04:05Z", "labels": {"app": "web"}},
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "spec": {"replicas": 2, "paused": false, "template": {"spec": {"containers": [
                {"name": "c", "args": ["-c", "true", "echo hi: there"], "env": [], "resources": {}}
            ]}}},
            "data": {"script": "line one\nline two\n", "empty": "", "port": "8080", "json": "{\"a\":1}",
                     "key": "k:{\"name\":\"nginx\"}", "yes": "yes", "none": null, "ratio": 0.5},
        });
        let expected = "apiVersion: apps/v1
data:
  empty: \"\"
  json: '{\"a\":1}'
  key: k:{\"name\":\"nginx\"}
  none: null
  port: \"8080\"
  ratio: 0.5
  script: |
    line one
    line two
  \"yes\": \"yes\"
kind: Deployment
metadata:
  creationTimestamp: \"2024-01-02T03:04:05Z\"
  labels:
    app: web
  name: web
spec:
  paused: false
  replicas: 2
  template:
    spec:
      containers:
      - args:
        - -c
        - \"true\"
        - 'echo hi: there'
        env: []
        name: c
        resources: {}
";
        assert_eq!(to_yaml(&object), expected);
    }

    #[test]
    fn long_strings_fold_past_column_eighty() {
        let message = "word ".repeat(30).trim_end().to_string();
        let rendered = to_yaml(&json!({"message": message}));
        let lines: Vec<&str> = rendered.lines().collect();
        assert!(lines.len() > 1, "{rendered}");
        assert!(lines[1].starts_with("  word"), "{rendered}");
        let folded: String = lines
            .iter()
            .map(|line| line.trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(folded, format!("message: {message}"));
    }
}
