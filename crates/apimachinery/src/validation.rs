//! Validation of names and small values: DNS labels and subdomains, qualified names (label
//! keys), label values, path segment names, ports, IP addresses, C identifiers, environment
//! variable names and config map keys, plus `generateName` suffixes.
//!
//! Every `is_*` check returns the list of problems found, empty when the value is valid. The
//! messages are those of Kubernetes v1.33 (`k8s.io/apimachinery/pkg/util/validation`), so an
//! apiserver can put them into `Invalid value` field errors unchanged. The checks are written
//! by hand, but each message quotes the regular expression that upstream uses for the same rule.

use rand::Rng;

/// Maximum length of a DNS-1123 label, in bytes.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;

/// Maximum length of a DNS-1123 subdomain, in bytes.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

/// Maximum length of a DNS-1035 label, in bytes.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;

/// Maximum length of a label value, in bytes.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;

/// Maximum length of the name part of a qualified name, in bytes.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;

/// Maximum length of an object name produced by [`generate_name`], in bytes.
pub const MAX_NAME_LENGTH: usize = 63;

/// Number of random characters that [`generate_name`] appends.
pub const GENERATE_NAME_RANDOM_LENGTH: usize = 5;

/// Longest `generateName` prefix kept by [`generate_name`], in bytes.
pub const MAX_GENERATED_NAME_LENGTH: usize = MAX_NAME_LENGTH - GENERATE_NAME_RANDOM_LENGTH;

/// Characters [`generate_name`] draws from: consonants and digits without vowels (and
/// without 0, 1 and 3), so that generated suffixes do not spell words.
const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";
const C_IDENTIFIER_ERR_MSG: &str = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const ENV_VAR_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_ERR_MSG: &str = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR_MSG: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
const HTTP_HEADER_NAME_ERR_MSG: &str =
    "a valid HTTP header must consist of alphanumeric characters or '-'";

/// Formats the message for a string longer than `length` bytes.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Formats the message for a value that does not match the regular expression `fmt`, with
/// optional valid examples.
pub fn regex_error(message: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{fmt}')");
    }
    let quoted: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{fmt}')",
        quoted.join(" or ")
    )
}

/// Returns the message for an empty value that must not be empty.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// Formats the message for a number outside the inclusive range `lo..=hi`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// Checks a DNS-1123 label (RFC 1123): at most 63 lower case alphanumeric characters or
/// '-', starting and ending with an alphanumeric character. Used for most object names
/// that become host names, such as namespaces and services.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            // A valid subdomain that is not a valid label can only contain dots.
            errors.push("must not contain dots".to_string());
        } else {
            errors.push(regex_error(
                DNS1123_LABEL_ERR_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errors
}

/// Checks a DNS-1123 subdomain (RFC 1123): at most 253 characters of dot-separated DNS-1123
/// labels. This is the rule for most object names.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errors.push(regex_error(
            DNS1123_SUBDOMAIN_ERR_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errors
}

/// Checks a DNS-1035 label (RFC 1035): like a DNS-1123 label, but it must start with a
/// letter. Services and ports in some contexts use this rule.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errors.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    let bytes = value.as_bytes();
    let valid = bytes.first().is_some_and(u8::is_ascii_lowercase) && matches_dns1123_label(value);
    if !valid {
        errors.push(regex_error(
            DNS1035_LABEL_ERR_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errors
}

/// Checks a wildcard DNS-1123 subdomain such as `*.example.com` (RFC 1034 section 4.3.3).
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let valid = value
        .strip_prefix("*.")
        .is_some_and(matches_dns1123_subdomain);
    if !valid {
        errors.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errors
}

/// Checks a qualified name, the format of label and annotation keys: an optional DNS-1123
/// subdomain prefix and '/', then a name of at most 63 alphanumeric characters, '-', '_' or
/// '.', starting and ending with an alphanumeric character.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push(format!("prefix part {}", empty_error()));
            } else {
                for message in is_dns1123_subdomain(prefix) {
                    errors.push(format!("prefix part {message}"));
                }
            }
            *name
        }
        _ => {
            errors.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errors;
        }
    };

    if name.is_empty() {
        errors.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errors.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name(name) {
        errors.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errors
}

/// Checks a label value: empty, or at most 63 alphanumeric characters, '-', '_' or '.',
/// starting and ending with an alphanumeric character.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errors.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name(value) {
        errors.push(regex_error(
            LABEL_VALUE_ERR_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// Checks that a name can be used as one segment of a REST path or storage key: it must not
/// be `.` or `..` and must not contain `/` or `%`. Like upstream, an empty name and the length
/// are not checked here.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    is_valid_path_segment_prefix(name)
}

/// Checks a prefix of a path segment name, such as `generateName`: it must not contain `/`
/// or `%`. The exact names `.` and `..` are allowed because a suffix follows.
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|illegal| name.contains(*illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

/// Checks a C identifier: a letter or '_', then letters, digits or '_'. The length is not
/// checked.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let bytes = value.as_bytes();
    let valid = bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if valid {
        return Vec::new();
    }
    vec![regex_error(
        C_IDENTIFIER_ERR_MSG,
        C_IDENTIFIER_FMT,
        &["my_name", "MY_NAME", "MyName"],
    )]
}

/// Checks an environment variable name: letters, digits, '_', '-' or '.', not starting with
/// a digit, and neither `.`, `..` nor starting with `..`.
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let bytes = value.as_bytes();
    let valid = bytes.first().is_some_and(|b| !b.is_ascii_digit())
        && bytes.iter().all(|b| is_config_key_byte(*b));
    if !valid {
        errors.push(regex_error(
            ENV_VAR_NAME_ERR_MSG,
            ENV_VAR_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    errors.extend(chdir_prefix_errors(value));
    errors
}

/// Checks a ConfigMap or Secret key: at most 253 letters, digits, '-', '_' or '.', and
/// neither `.`, `..` nor starting with `..`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if value.is_empty() || !value.bytes().all(is_config_key_byte) {
        errors.push(regex_error(
            CONFIG_MAP_KEY_ERR_MSG,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errors.extend(chdir_prefix_errors(value));
    errors
}

/// Checks a percentage string such as `25%`.
pub fn is_valid_percent(value: &str) -> Vec<String> {
    let valid = value
        .strip_suffix('%')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if valid {
        return Vec::new();
    }
    vec![regex_error(PERCENT_ERR_MSG, PERCENT_FMT, &["1%", "93%"])]
}

/// Checks an HTTP header name as Go's HTTP library accepts it: letters, digits and '-'.
pub fn is_http_header_name(value: &str) -> Vec<String> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Vec::new();
    }
    vec![regex_error(
        HTTP_HEADER_NAME_ERR_MSG,
        HTTP_HEADER_NAME_FMT,
        &["X-Header-Name"],
    )]
}

/// Checks a port number: 1 to 65535. Zero is rejected.
pub fn is_valid_port_num(port: impl Into<i64>) -> Vec<String> {
    is_in_range(port.into(), 1, 65535)
}

/// Checks that `value` lies in the inclusive range `min..=max`.
pub fn is_in_range(value: i64, min: i64, max: i64) -> Vec<String> {
    if (min..=max).contains(&value) {
        return Vec::new();
    }
    vec![inclusive_range_error(min, max)]
}

/// Checks a Unix user id: 0 to 2^31-1, the range upstream allows for runc's libcontainer.
pub fn is_valid_user_id(uid: i64) -> Vec<String> {
    is_in_range(uid, 0, i64::from(i32::MAX))
}

/// Checks a Unix group id: 0 to 2^31-1, the range upstream allows for runc's libcontainer.
pub fn is_valid_group_id(gid: i64) -> Vec<String> {
    is_in_range(gid, 0, i64::from(i32::MAX))
}

/// Checks a port name (RFC 6335, lower case only): at most 15 characters of `[-a-z0-9]`,
/// with at least one letter, no leading or trailing '-' and no "--".
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if port.len() > 15 {
        errors.push(max_len_error(15));
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errors.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !port.bytes().any(|b| b.is_ascii_lowercase()) {
        errors.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errors.push("must not contain consecutive hyphens".to_string());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_string());
    }
    errors
}

/// Checks an IP address by the current rules for new API fields: IPv4 or IPv6, no leading
/// zeros in IPv4 octets, no IPv4-mapped IPv6 address, and written in canonical form
/// (`1234::abcd`, not `1234:0::ABCD`).
pub fn is_valid_ip(value: &str) -> Vec<String> {
    let Some(parsed) = parse_ip_sloppy(value) else {
        return vec![INVALID_IP_MESSAGE.to_string()];
    };
    let errors = strict_ip_errors(&parsed);
    if !errors.is_empty() {
        return errors;
    }
    let canonical = parsed.canonical();
    if value != canonical {
        return vec![format!("must be in canonical form (\"{canonical}\")")];
    }
    Vec::new()
}

/// Checks an IP address in a field that predates strict IP validation (`podIP`,
/// `clusterIP`, ...): any form is accepted, non-canonical IPv6 included. With
/// `strict_validation` false, leading zeros in IPv4 octets (read as decimal) and
/// IPv4-mapped IPv6 addresses are accepted too. Upstream sets it from the
/// `StrictIPCIDRValidation` feature gate.
pub fn is_valid_ip_for_legacy_field(value: &str, strict_validation: bool) -> Vec<String> {
    let Some(parsed) = parse_ip_sloppy(value) else {
        return vec![INVALID_IP_MESSAGE.to_string()];
    };
    if strict_validation {
        return strict_ip_errors(&parsed);
    }
    Vec::new()
}

/// Builds an object name from a `generateName` prefix: the prefix, cut to
/// [`MAX_GENERATED_NAME_LENGTH`] bytes, followed by five random characters from
/// "bcdfghjklmnpqrstvwxz2456789". The cut never splits a UTF-8 character, so a prefix with
/// multi-byte characters may keep fewer bytes.
pub fn generate_name(base: &str) -> String {
    let mut end = base.len().min(MAX_GENERATED_NAME_LENGTH);
    while !base.is_char_boundary(end) {
        end -= 1;
    }

    let mut rng = rand::rng();
    let mut name = String::with_capacity(end + GENERATE_NAME_RANDOM_LENGTH);
    name.push_str(&base[..end]);
    for _ in 0..GENERATE_NAME_RANDOM_LENGTH {
        let index = rng.random_range(0..GENERATE_NAME_ALPHABET.len());
        name.push(char::from(GENERATE_NAME_ALPHABET[index]));
    }
    name
}

fn is_lower_alphanumeric(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit()
}

fn is_config_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_')
}

/// Matches `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit.
fn matches_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            is_lower_alphanumeric(*first)
                && is_lower_alphanumeric(*last)
                && bytes
                    .iter()
                    .all(|b| is_lower_alphanumeric(*b) || *b == b'-')
        }
        _ => false,
    }
}

/// Matches dot-separated DNS-1123 labels without a length limit.
fn matches_dns1123_subdomain(value: &str) -> bool {
    value.split('.').all(matches_dns1123_label)
}

/// Matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` without a length limit.
fn matches_qualified_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes.iter().all(|b| is_config_key_byte(*b))
        }
        _ => false,
    }
}

fn chdir_prefix_errors(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".to_string()]
    } else if value == ".." {
        vec!["must not be '..'".to_string()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".to_string()]
    } else {
        Vec::new()
    }
}

const INVALID_IP_MESSAGE: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// An IP address as the lenient parser upstream uses for legacy fields reads it
/// (`k8s.io/utils/net.ParseIPSloppy`, a copy of Go 1.16's `net.ParseIP`).
struct SloppyIp {
    /// The address in IPv6 form. An IPv4 address is stored IPv4-mapped.
    bytes: [u8; 16],
    /// The text was an IPv4 address, not IPv6 notation.
    written_as_ipv4: bool,
    /// The text has something that Go's strict `netip.ParseAddr` rejects: an IPv4 octet
    /// with a leading zero or an IPv6 field of more than four hex digits.
    rejected_by_strict_parser: bool,
}

impl SloppyIp {
    /// Returns the IPv4-mapped address bits (`::ffff:a.b.c.d`).
    fn is_ipv4_mapped(&self) -> bool {
        self.bytes[..10].iter().all(|b| *b == 0) && self.bytes[10] == 0xff && self.bytes[11] == 0xff
    }

    /// Formats the address as Go's `net.IP.String` does: dotted quad for IPv4 and
    /// IPv4-mapped addresses, RFC 5952 for the rest.
    fn canonical(&self) -> String {
        if self.written_as_ipv4 || self.is_ipv4_mapped() {
            let [a, b, c, d] = [
                self.bytes[12],
                self.bytes[13],
                self.bytes[14],
                self.bytes[15],
            ];
            return format!("{a}.{b}.{c}.{d}");
        }
        format_ipv6(&self.bytes)
    }
}

fn strict_ip_errors(parsed: &SloppyIp) -> Vec<String> {
    if parsed.rejected_by_strict_parser {
        return vec!["must not have leading 0s".to_string()];
    }
    if !parsed.written_as_ipv4 && parsed.is_ipv4_mapped() {
        return vec!["must not be an IPv4-mapped IPv6 address".to_string()];
    }
    Vec::new()
}

/// Parses an IP address the way Go 1.16's `net.ParseIP` did: the first '.' or ':' decides
/// between IPv4 and IPv6.
fn parse_ip_sloppy(text: &str) -> Option<SloppyIp> {
    match text.bytes().find(|b| *b == b'.' || *b == b':')? {
        b'.' => {
            let (octets, leading_zero) = parse_ipv4_sloppy(text)?;
            let mut bytes = [0u8; 16];
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            bytes[12..].copy_from_slice(&octets);
            Some(SloppyIp {
                bytes,
                written_as_ipv4: true,
                rejected_by_strict_parser: leading_zero,
            })
        }
        _ => parse_ipv6_sloppy(text),
    }
}

/// Reads leading decimal digits as Go's `dtoi` does: the value, the digit count, and `None`
/// when there is no digit or the value reaches 2^24.
fn leading_decimal(text: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    let mut count = 0;
    while let Some(digit) = text.get(count).filter(|b| b.is_ascii_digit()) {
        value = value * 10 + u32::from(digit - b'0');
        if value >= 0xFF_FFFF {
            return None;
        }
        count += 1;
    }
    (count > 0).then_some((value, count))
}

/// Reads leading hex digits as Go's `xtoi` does.
fn leading_hex(text: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    let mut count = 0;
    while let Some(digit) = text.get(count).and_then(|b| char::from(*b).to_digit(16)) {
        value = value * 16 + digit;
        if value >= 0xFF_FFFF {
            return None;
        }
        count += 1;
    }
    (count > 0).then_some((value, count))
}

/// Parses dotted-quad IPv4 that may have leading zeros. Returns the octets and whether any
/// octet had a leading zero.
fn parse_ipv4_sloppy(text: &str) -> Option<([u8; 4], bool)> {
    let mut rest = text.as_bytes();
    let mut octets = [0u8; 4];
    let mut leading_zero = false;
    for (index, octet) in octets.iter_mut().enumerate() {
        if index > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let (value, count) = leading_decimal(rest)?;
        *octet = u8::try_from(value).ok()?;
        leading_zero |= count > 1 && rest[0] == b'0';
        rest = &rest[count..];
    }
    rest.is_empty().then_some((octets, leading_zero))
}

/// Parses IPv6 text, with an optional trailing dotted IPv4 part, like Go 1.16's parser.
fn parse_ipv6_sloppy(text: &str) -> Option<SloppyIp> {
    let mut bytes = [0u8; 16];
    let mut rest = text.as_bytes();
    let mut ellipsis: Option<usize> = None;
    let mut rejected_by_strict_parser = false;

    if let Some(after) = rest.strip_prefix(b"::") {
        ellipsis = Some(0);
        rest = after;
        if rest.is_empty() {
            return Some(SloppyIp {
                bytes,
                written_as_ipv4: false,
                rejected_by_strict_parser,
            });
        }
    }

    let mut filled = 0;
    while filled < 16 {
        let (value, count) = leading_hex(rest)?;
        if value > 0xFFFF {
            return None;
        }

        if rest.get(count) == Some(&b'.') {
            // A trailing IPv4 part must fill the last four bytes, or follow "::".
            if (ellipsis.is_none() && filled != 12) || filled + 4 > 16 {
                return None;
            }
            let tail = std::str::from_utf8(rest).ok()?;
            let (octets, leading_zero) = parse_ipv4_sloppy(tail)?;
            rejected_by_strict_parser |= leading_zero;
            bytes[filled..filled + 4].copy_from_slice(&octets);
            filled += 4;
            rest = &[];
            break;
        }

        rejected_by_strict_parser |= count > 4;
        bytes[filled] = (value >> 8) as u8;
        bytes[filled + 1] = value as u8;
        filled += 2;

        rest = &rest[count..];
        if rest.is_empty() {
            break;
        }
        if rest[0] != b':' || rest.len() == 1 {
            return None;
        }
        rest = &rest[1..];
        if rest[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(filled);
            rest = &rest[1..];
            if rest.is_empty() {
                break;
            }
        }
    }

    if !rest.is_empty() {
        return None;
    }

    // Expand "::" into the missing zero fields. It must stand for at least one field.
    match (filled < 16, ellipsis) {
        (true, Some(at)) => {
            let missing = 16 - filled;
            bytes.copy_within(at..filled, at + missing);
            bytes[at..at + missing].fill(0);
        }
        (true, None) | (false, Some(_)) => return None,
        (false, None) => {}
    }

    Some(SloppyIp {
        bytes,
        written_as_ipv4: false,
        rejected_by_strict_parser,
    })
}

/// Formats IPv6 per RFC 5952: lower case hex without leading zeros, and the first longest
/// run of two or more zero fields written as "::".
fn format_ipv6(bytes: &[u8; 16]) -> String {
    let fields: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect();

    let mut best: Option<(usize, usize)> = None;
    let mut index = 0;
    while index < fields.len() {
        if fields[index] != 0 {
            index += 1;
            continue;
        }
        let start = index;
        while index < fields.len() && fields[index] == 0 {
            index += 1;
        }
        let length = index - start;
        if length >= 2 && best.is_none_or(|(_, best_length)| length > best_length) {
            best = Some((start, length));
        }
    }

    let hex = |slice: &[u16]| {
        slice
            .iter()
            .map(|field| format!("{field:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    match best {
        Some((start, length)) => format!(
            "{}::{}",
            hex(&fields[..start]),
            hex(&fields[start + length..])
        ),
        None => hex(&fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DNS1123_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const DNS1123_SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const DNS1035_LABEL_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn strings(messages: &[&str]) -> Vec<String> {
        messages.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn regex_error_joins_examples_like_upstream() {
        // Upstream appends "', " after every example and joins with " or ", which leaves a
        // double space before "or".
        assert_eq!(
            regex_error("msg", "re", &["a", "b"]),
            "msg (e.g. 'a',  or 'b', regex used for validation is 're')"
        );
        assert_eq!(
            regex_error("msg", "re", &["a"]),
            "msg (e.g. 'a', regex used for validation is 're')"
        );
        assert_eq!(
            regex_error("msg", "re", &[]),
            "msg (regex used for validation is 're')"
        );
    }

    #[test]
    fn dns1123_label_cases() {
        let good = [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
        ];
        for value in good.iter().map(|s| s.to_string()).chain([("a".repeat(63))]) {
            assert_eq!(is_dns1123_label(&value), Vec::<String>::new(), "{value}");
        }

        let bad = [
            "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_",
            "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "1.", ".1", " ", "a ", " a", "a b",
            "1 ", " 1", "1 2",
        ];
        for value in bad {
            assert_eq!(
                is_dns1123_label(value),
                strings(&[DNS1123_LABEL_MESSAGE]),
                "{value:?}"
            );
        }

        assert_eq!(is_dns1123_label("a.b"), strings(&["must not contain dots"]));
        assert_eq!(is_dns1123_label("1.2"), strings(&["must not contain dots"]));
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            strings(&["must be no more than 63 characters"])
        );
    }

    #[test]
    fn dns1123_subdomain_cases() {
        let good = [
            "a",
            "a--1--2--b",
            "0",
            "a.a",
            "a--1--2--b.a",
            "a.1",
            "0.a",
            "1--a--b--2.1",
            "a.b.c.d.e",
            "aa.bb.cc.dd.ee",
            "1.2.3.4.5",
            "11.22.33.44.55",
        ];
        for value in good
            .iter()
            .map(|s| s.to_string())
            .chain([("a".repeat(253))])
        {
            assert_eq!(
                is_dns1123_subdomain(&value),
                Vec::<String>::new(),
                "{value}"
            );
        }

        let bad = [
            "",
            "A",
            "aBc",
            "-",
            "a-",
            "-a",
            "_",
            "a_b",
            ".",
            "a.",
            ".a",
            "a..b",
            "1.",
            ".1",
            "1..2",
            " ",
            "a b",
            "A.a",
            "aB.a",
            "ab.A",
            "A.B.C.D.E",
            "a.B.c.d.e",
            "a@b",
            "a,b",
            "a;b",
            "a:b",
            "a%b",
            "a?b",
            "a$b",
        ];
        for value in bad {
            assert_eq!(
                is_dns1123_subdomain(value),
                strings(&[DNS1123_SUBDOMAIN_MESSAGE]),
                "{value:?}"
            );
        }

        assert_eq!(
            is_dns1123_subdomain(&"a".repeat(254)),
            strings(&["must be no more than 253 characters"])
        );
        assert_eq!(
            is_dns1123_subdomain(&format!("{}-", "a".repeat(254))),
            strings(&[
                "must be no more than 253 characters",
                DNS1123_SUBDOMAIN_MESSAGE
            ])
        );
    }

    #[test]
    fn dns1035_label_cases() {
        for value in ["a", "ab", "abc", "a1", "a-1", "a--1--2--b"] {
            assert_eq!(is_dns1035_label(value), Vec::<String>::new(), "{value}");
        }
        assert!(is_dns1035_label(&"a".repeat(63)).is_empty());

        let bad = [
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
            "",
            "A",
            "aBc",
            "-",
            "a-",
            "-a",
            "_",
            "a_b",
            ".",
            "a.b",
            " ",
            "a b",
        ];
        for value in bad {
            assert_eq!(
                is_dns1035_label(value),
                strings(&[DNS1035_LABEL_MESSAGE]),
                "{value:?}"
            );
        }
        assert_eq!(
            is_dns1035_label(&"a".repeat(64)),
            strings(&["must be no more than 63 characters"])
        );
    }

    #[test]
    fn wildcard_subdomain_cases() {
        for value in ["*.example.com", "*.bar.com", "*.foo.bar.com"] {
            assert!(is_wildcard_dns1123_subdomain(value).is_empty(), "{value}");
        }
        for value in [
            "*.*.bar.com",
            "*.foo.*.com",
            "*bar.com",
            "f*.bar.com",
            "*",
            "example.com",
        ] {
            assert_eq!(
                is_wildcard_dns1123_subdomain(value),
                strings(&[
                    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                ]),
                "{value}"
            );
        }
    }

    #[test]
    fn qualified_name_cases() {
        let good = [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now.with.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            "requests.storage-foo",
        ];
        for value in good {
            assert_eq!(is_qualified_name(value), Vec::<String>::new(), "{value}");
        }
        assert!(is_qualified_name(&"a".repeat(63)).is_empty());
        assert!(is_qualified_name(&format!("{}/{}", "a".repeat(253), "b".repeat(63))).is_empty());

        let cases: Vec<(String, Vec<String>)> = vec![
            ("nospecialchars%^=@".into(), strings(&[NAME_PART_MESSAGE])),
            ("cantendwithadash-".into(), strings(&[NAME_PART_MESSAGE])),
            ("-cantstartwithadash-".into(), strings(&[NAME_PART_MESSAGE])),
            (
                "only/one/slash".into(),
                strings(&[
                    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                ]),
            ),
            (
                "Example.com/abc".into(),
                vec![format!("prefix part {DNS1123_SUBDOMAIN_MESSAGE}")],
            ),
            (
                "example_com/abc".into(),
                vec![format!("prefix part {DNS1123_SUBDOMAIN_MESSAGE}")],
            ),
            (
                "example.com/".into(),
                vec![
                    "name part must be non-empty".into(),
                    NAME_PART_MESSAGE.into(),
                ],
            ),
            (
                "/simple".into(),
                strings(&["prefix part must be non-empty"]),
            ),
            (
                "a".repeat(64),
                strings(&["name part must be no more than 63 characters"]),
            ),
            (
                format!("{}/abc", "a".repeat(254)),
                strings(&["prefix part must be no more than 253 characters"]),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(is_qualified_name(&value), expected, "{value}");
        }
    }

    #[test]
    fn label_value_cases() {
        for value in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "1234",
            "",
        ] {
            assert_eq!(is_valid_label_value(value), Vec::<String>::new(), "{value}");
        }
        assert!(is_valid_label_value(&"a".repeat(63)).is_empty());

        let bad = [
            "nospecialchars%^=@",
            "Tama-nui-te-rā.is.Māori.sun",
            "\\backslashes\\are\\bad",
            "-starts-with-dash",
            "ends-with-dash-",
            ".starts.with.dot",
            "ends.with.dot.",
        ];
        for value in bad {
            assert_eq!(
                is_valid_label_value(value),
                strings(&[LABEL_VALUE_MESSAGE]),
                "{value}"
            );
        }
        assert_eq!(
            is_valid_label_value(&"a".repeat(64)),
            strings(&["must be no more than 63 characters"])
        );
    }

    #[test]
    fn path_segment_cases() {
        let cases: &[(&str, &[&str])] = &[
            ("a", &[]),
            ("", &[]),
            ("...", &[]),
            (".", &["may not be '.'"]),
            ("..", &["may not be '..'"]),
            ("a/b", &["may not contain '/'"]),
            ("a%b", &["may not contain '%'"]),
            ("a/%b", &["may not contain '/'", "may not contain '%'"]),
        ];
        for (value, expected) in cases {
            assert_eq!(
                is_valid_path_segment_name(value),
                strings(expected),
                "{value}"
            );
        }
        assert!(is_valid_path_segment_prefix(".").is_empty());
        assert_eq!(
            is_valid_path_segment_prefix("x/"),
            strings(&["may not contain '/'"])
        );
    }

    #[test]
    fn c_identifier_cases() {
        for value in [
            "a",
            "_a",
            "a_1",
            "__abc_123",
            "A",
            "A__1__2__B",
            "__123_ABC",
        ] {
            assert!(is_c_identifier(value).is_empty(), "{value}");
        }
        let message = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')";
        for value in [
            "", "1", "1a", "-", "a-", "1_", ".", "a.b", " ", "a b", "#a#",
        ] {
            assert_eq!(is_c_identifier(value), strings(&[message]), "{value:?}");
        }
    }

    #[test]
    fn env_var_name_cases() {
        for value in ["A", "ABC", "AbC_123", "_123", "a.b", "a-b", ".a", "-1"] {
            assert!(is_env_var_name(value).is_empty(), "{value}");
        }
        let message = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
        assert_eq!(is_env_var_name("1ABC"), strings(&[message]));
        assert_eq!(is_env_var_name(""), strings(&[message]));
        assert_eq!(is_env_var_name("a b"), strings(&[message]));
        assert_eq!(is_env_var_name("."), strings(&["must not be '.'"]));
        assert_eq!(is_env_var_name(".."), strings(&["must not be '..'"]));
        assert_eq!(
            is_env_var_name("..a"),
            strings(&["must not start with '..'"])
        );
    }

    #[test]
    fn config_map_key_cases() {
        for value in ["a", "key.name", "KEY_NAME", "key-name", ".dotfile", "a..b"] {
            assert!(is_config_map_key(value).is_empty(), "{value}");
        }
        let message = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
        assert_eq!(is_config_map_key(""), strings(&[message]));
        assert_eq!(is_config_map_key("a/b"), strings(&[message]));
        assert_eq!(is_config_map_key(".."), strings(&["must not be '..'"]));
        assert_eq!(
            is_config_map_key("..a"),
            strings(&["must not start with '..'"])
        );
        assert_eq!(
            is_config_map_key(&"a".repeat(254)),
            strings(&["must be no more than 253 characters"])
        );
    }

    #[test]
    fn percent_and_header_cases() {
        assert!(is_valid_percent("0%").is_empty());
        assert!(is_valid_percent("100%").is_empty());
        let message = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
        for value in ["", "%", "1", "1.5%", "-1%", "a%", "%1"] {
            assert_eq!(is_valid_percent(value), strings(&[message]), "{value:?}");
        }

        assert!(is_http_header_name("X-Header-Name").is_empty());
        let message = "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')";
        for value in ["", "X_Header", "X Header", "X:"] {
            assert_eq!(is_http_header_name(value), strings(&[message]), "{value:?}");
        }
    }

    #[test]
    fn port_number_and_ids() {
        for port in [1, 2, 1000, 16384, 32768, 65535] {
            assert!(is_valid_port_num(port).is_empty(), "{port}");
        }
        for port in [0, -1, 65536, 100000] {
            assert_eq!(
                is_valid_port_num(port),
                strings(&["must be between 1 and 65535, inclusive"]),
                "{port}"
            );
        }
        assert!(is_valid_port_num(80i32).is_empty());

        assert!(is_valid_user_id(0).is_empty());
        assert!(is_valid_user_id(2147483647).is_empty());
        assert_eq!(
            is_valid_user_id(2147483648),
            strings(&["must be between 0 and 2147483647, inclusive"])
        );
        assert_eq!(
            is_valid_group_id(-1),
            strings(&["must be between 0 and 2147483647, inclusive"])
        );
        assert_eq!(
            is_in_range(5, 6, 7),
            strings(&["must be between 6 and 7, inclusive"])
        );
    }

    #[test]
    fn port_name_cases() {
        for value in [
            "telnet",
            "re-mail-ck",
            "pop3",
            "a",
            "a-1",
            "1-a",
            "a-1-b-2-c",
            "1-a-2-b-3",
        ] {
            assert!(is_valid_port_name(value).is_empty(), "{value}");
        }
        let charset = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        let letter = "must contain at least one letter (a-z)";
        let cases: &[(&str, &[&str])] = &[
            (
                "longerthan15characters",
                &["must be no more than 15 characters"],
            ),
            ("", &[charset, letter]),
            ("12345", &[letter]),
            ("1-2-3-4", &[letter]),
            ("-begin", &["must not begin or end with a hyphen"]),
            ("end-", &["must not begin or end with a hyphen"]),
            ("two--hyphens", &["must not contain consecutive hyphens"]),
            ("whois++", &[charset]),
        ];
        for (value, expected) in cases {
            assert_eq!(is_valid_port_name(value), strings(expected), "{value}");
        }
    }

    #[test]
    fn ip_strict_cases() {
        let valid = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "1234::abcd",
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::1",
            "2001:db8::1:0:0:1",
            "1:0:2:3:4:5:6:7",
        ];
        for value in valid {
            assert_eq!(is_valid_ip(value), Vec::<String>::new(), "{value}");
        }

        let cases: &[(&str, &str)] = &[
            ("0:0:0:0:0:0:0:0", "must be in canonical form (\"::\")"),
            (
                "0001:002:03:4::",
                "must be in canonical form (\"1:2:3:4::\")",
            ),
            ("1234::ABCD", "must be in canonical form (\"1234::abcd\")"),
            (
                "2001:db8:0:0:1:0:0:1",
                "must be in canonical form (\"2001:db8::1:0:0:1\")",
            ),
            ("::1.2.3.4", "must be in canonical form (\"::102:304\")"),
            ("1.1.1.01", "must not have leading 0s"),
            ("::ffff:1.1.1.1", "must not be an IPv4-mapped IPv6 address"),
            (
                "::ffff:0101:0101",
                "must not be an IPv4-mapped IPv6 address",
            ),
            ("00001::", "must not have leading 0s"),
            ("", INVALID_IP_MESSAGE),
            ("aaaaaaa", INVALID_IP_MESSAGE),
            ("myhost.mydomain", INVALID_IP_MESSAGE),
            ("1.2.3.0/24", INVALID_IP_MESSAGE),
            ("1.2.3.400", INVALID_IP_MESSAGE),
            ("-1.0.0.0", INVALID_IP_MESSAGE),
            ("2001:db8::10005", INVALID_IP_MESSAGE),
            ("1.2.3.4:80", INVALID_IP_MESSAGE),
            ("[2001:db8::1]", INVALID_IP_MESSAGE),
            ("[2001:db8::1]:80", INVALID_IP_MESSAGE),
            ("example.com:80", INVALID_IP_MESSAGE),
            ("1234::abcd%eth0", INVALID_IP_MESSAGE),
            ("169.254.0.0%eth0", INVALID_IP_MESSAGE),
            ("1:2:3:4:5:6:7:8::", INVALID_IP_MESSAGE),
            ("1::2::3", INVALID_IP_MESSAGE),
            ("1:2:3:4:5:6:7", INVALID_IP_MESSAGE),
            ("1.2.3", INVALID_IP_MESSAGE),
        ];
        for (value, message) in cases {
            assert_eq!(is_valid_ip(value), strings(&[message]), "{value:?}");
        }
    }

    #[test]
    fn ip_legacy_cases() {
        for value in [
            "1.1.1.01",
            "::ffff:1.1.1.1",
            "1234::ABCD",
            "010.002.003.004",
        ] {
            assert!(
                is_valid_ip_for_legacy_field(value, false).is_empty(),
                "{value}"
            );
        }
        assert_eq!(
            is_valid_ip_for_legacy_field("1.1.1.01", true),
            strings(&["must not have leading 0s"])
        );
        assert_eq!(
            is_valid_ip_for_legacy_field("::ffff:1.1.1.1", true),
            strings(&["must not be an IPv4-mapped IPv6 address"])
        );
        assert!(is_valid_ip_for_legacy_field("1234::ABCD", true).is_empty());
        assert_eq!(
            is_valid_ip_for_legacy_field("not-an-ip", false),
            strings(&[INVALID_IP_MESSAGE])
        );
    }

    #[test]
    fn generate_name_appends_five_characters() {
        let name = generate_name("web-");
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("web-"));
        assert!(
            name[4..]
                .bytes()
                .all(|b| GENERATE_NAME_ALPHABET.contains(&b))
        );
        assert!(is_dns1123_subdomain(&name).is_empty());
    }

    #[test]
    fn generate_name_truncates_long_base() {
        let name = generate_name(&"a".repeat(100));
        assert_eq!(name.len(), MAX_NAME_LENGTH);
        assert!(name.starts_with(&"a".repeat(MAX_GENERATED_NAME_LENGTH)));

        // A multi-byte character across the cut point is dropped whole.
        let base = format!("{}é", "a".repeat(57));
        let name = generate_name(&base);
        assert_eq!(&name[..57], "a".repeat(57));
        assert_eq!(name.len(), 62);
    }

    #[test]
    fn generate_name_varies() {
        let names: std::collections::BTreeSet<String> =
            (0..20).map(|_| generate_name("x-")).collect();
        assert!(names.len() > 1);
    }
}
