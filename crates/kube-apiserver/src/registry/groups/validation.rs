//! Validation helpers shared by the API groups in this module: label and selector
//! checks (upstream's `metav1validation`), the small field checks of upstream's
//! `apivalidation` package, IP and CIDR parsing, and renderings of bad values.
//!
//! Every helper returns upstream's field errors, with the same paths and messages,
//! so that a group's strategy reads like upstream's `validation.go`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
    is_valid_percent, regex_error,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    Condition, LabelSelector, LabelSelectorRequirement,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

/// Upstream's `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE: &str = "field is immutable";

/// Upstream's `IsNegativeErrorMsg`.
pub const IS_NEGATIVE: &str = "must be greater than or equal to 0";

/// Returns `field is immutable` on `path` when `new` differs from `old`, rendering the
/// new value as the bad value.
pub fn validate_immutable<T: PartialEq + Serialize>(
    new: &T,
    old: &T,
    path: &FieldPath,
) -> Vec<FieldError> {
    if new == old {
        return Vec::new();
    }
    vec![FieldError::invalid(path, rendered(new), FIELD_IMMUTABLE)]
}

/// Renders a value as a field error's bad value: strings quoted, numbers and booleans
/// bare, `null` for absent values, and anything else as compact JSON.
///
/// NOTE: upstream prints structs with Go's `%#v` and this prints JSON, so messages
/// about whole structs differ from upstream's in the value part.
pub fn rendered<T: Serialize>(value: &T) -> BadValue {
    match serde_json::to_value(value) {
        Ok(json) => BadValue::from(&json),
        Err(error) => BadValue::Raw(format!("<unprintable: {error}>")),
    }
}

/// Renders an `IntOrString` as Go's `%#v` does, because it has no `String` method on
/// values: `intstr.IntOrString{Type:1, IntVal:0, StrVal:"50%"}`.
pub fn int_or_string_value(value: &IntOrString) -> BadValue {
    let text = match value {
        IntOrString::Int(number) => {
            format!("intstr.IntOrString{{Type:0, IntVal:{number}, StrVal:\"\"}}")
        }
        IntOrString::String(text) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            apimachinery::errors::go_quote(text)
        ),
    };
    BadValue::Raw(text)
}

/// Renders a string list as Go's `%#v` does: `[]string{"a", "b"}`.
pub fn go_string_slice(values: &[String]) -> BadValue {
    let quoted: Vec<String> = values
        .iter()
        .map(|value| apimachinery::errors::go_quote(value))
        .collect();
    BadValue::Raw(format!("[]string{{{}}}", quoted.join(", ")))
}

/// Turns validator messages for one value into `Invalid value` errors on `path`.
pub fn invalid_each(path: &FieldPath, value: &str, messages: Vec<String>) -> Vec<FieldError> {
    messages
        .into_iter()
        .map(|message| FieldError::invalid(path, value, message))
        .collect()
}

/// Upstream's `ValidateDNS1123Label`.
pub fn validate_dns1123_label(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, is_dns1123_label(value))
}

/// Upstream's `ValidateDNS1123Subdomain`.
pub fn validate_dns1123_subdomain(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, is_dns1123_subdomain(value))
}

/// Upstream's `ValidateQualifiedName`.
pub fn validate_qualified_name(value: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, value, is_qualified_name(value))
}

/// Upstream's `ValidateNonnegativeField`.
pub fn validate_nonnegative(value: i64, path: &FieldPath) -> Vec<FieldError> {
    if value < 0 {
        return vec![FieldError::invalid(path, value, IS_NEGATIVE)];
    }
    Vec::new()
}

/// Upstream's `metav1validation.ValidateLabelName`: a label key is a qualified name.
pub fn validate_label_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    invalid_each(path, name, is_qualified_name(name))
}

/// Upstream's `metav1validation.ValidateLabels`. Errors name `path` itself, not the
/// key, as upstream's do.
pub fn validate_labels(
    labels: Option<&BTreeMap<String, String>>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels.into_iter().flatten() {
        errors.extend(validate_label_name(key, path));
        errors.extend(invalid_each(path, value, is_valid_label_value(value)));
    }
    errors
}

/// Upstream's `metav1validation.ValidateLabelSelector`. `allow_invalid_label_values`
/// skips the label value check of `matchExpressions` values, which upstream allows
/// for objects that already stored such values.
pub fn validate_label_selector(
    selector: Option<&LabelSelector>,
    allow_invalid_label_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let Some(selector) = selector else {
        return Vec::new();
    };
    let mut errors = validate_labels(selector.match_labels.as_ref(), &path.child("matchLabels"));
    let expressions_path = path.child("matchExpressions");
    for (index, requirement) in selector.match_expressions.iter().flatten().enumerate() {
        errors.extend(validate_label_selector_requirement(
            requirement,
            allow_invalid_label_values,
            &expressions_path.index(index),
        ));
    }
    errors
}

fn validate_label_selector_requirement(
    requirement: &LabelSelectorRequirement,
    allow_invalid_label_values: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let values = requirement.values.as_deref().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                errors.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errors.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => errors.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errors.extend(validate_label_name(&requirement.key, &path.child("key")));
    if !allow_invalid_label_values {
        for (index, value) in values.iter().enumerate() {
            errors.extend(invalid_each(
                &path.child("values").index(index),
                value,
                is_valid_label_value(value),
            ));
        }
    }
    errors
}

/// Seconds from the Unix epoch to Go's zero `time.Time`, 0001-01-01T00:00:00Z.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// Checks whether `time` is Go's zero time, which upstream treats as unset.
pub fn is_zero_time(time: k8s_openapi::jiff::Timestamp) -> bool {
    time.as_second() == GO_ZERO_TIME_SECONDS && time.subsec_nanosecond() == 0
}

const CONDITION_REASON_MAX_LENGTH: usize = 1024;
const CONDITION_MESSAGE_MAX_LENGTH: usize = 32 * 1024;

/// Upstream's `metav1validation.ValidateConditions`: unique types, and per condition a
/// qualified-name type, a True/False/Unknown status, a transition time and a reason.
pub fn validate_conditions(conditions: &[Condition], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, condition) in conditions.iter().enumerate() {
        let item = path.index(index);
        if !seen.insert(condition.type_.as_str()) {
            errors.push(FieldError::duplicate(&item.child("type"), &condition.type_));
        }
        errors.extend(validate_condition(condition, &item));
    }
    errors
}

fn validate_condition(condition: &Condition, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_label_name(&condition.type_, &path.child("type"));
    if !matches!(condition.status.as_str(), "True" | "False" | "Unknown") {
        errors.push(FieldError::not_supported(
            &path.child("status"),
            &condition.status,
            &["False", "True", "Unknown"],
        ));
    }
    if let Some(generation) = condition.observed_generation
        && generation < 0
    {
        errors.push(FieldError::invalid(
            &path.child("observedGeneration"),
            generation,
            "must be greater than or equal to zero",
        ));
    }
    if is_zero_time(condition.last_transition_time.0) {
        errors.push(FieldError::required(
            &path.child("lastTransitionTime"),
            "must be set",
        ));
    }
    if condition.reason.is_empty() {
        errors.push(FieldError::required(&path.child("reason"), "must be set"));
    } else {
        if !is_condition_reason(&condition.reason) {
            errors.push(FieldError::invalid(
                &path.child("reason"),
                &condition.reason,
                regex_error(
                    "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'",
                    "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?",
                    &["my_name", "MY_NAME", "MyName", "ReasonA,ReasonB", "ReasonA:ReasonB"],
                ),
            ));
        }
        if condition.reason.len() > CONDITION_REASON_MAX_LENGTH {
            errors.push(FieldError::too_long(
                &path.child("reason"),
                Some(CONDITION_REASON_MAX_LENGTH),
            ));
        }
    }
    if condition.message.len() > CONDITION_MESSAGE_MAX_LENGTH {
        errors.push(FieldError::too_long(
            &path.child("message"),
            Some(CONDITION_MESSAGE_MAX_LENGTH),
        ));
    }
    errors
}

/// Matches `[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?`.
fn is_condition_reason(reason: &str) -> bool {
    let bytes = reason.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    if let Some(last) = rest.last()
        && !(last.is_ascii_alphanumeric() || *last == b'_')
    {
        return false;
    }
    rest.iter()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b',' | b':'))
}

/// Upstream's `ValidatePositiveIntOrPercent` of the apps group: a percent string or
/// a non-negative integer.
pub fn validate_positive_int_or_percent(value: &IntOrString, path: &FieldPath) -> Vec<FieldError> {
    match value {
        IntOrString::String(text) => is_valid_percent(text)
            .into_iter()
            .map(|message| FieldError::invalid(path, int_or_string_value(value), message))
            .collect(),
        IntOrString::Int(number) => validate_nonnegative(i64::from(*number), path),
    }
}

/// Upstream's `IsNotMoreThan100Percent`: a percent string may not exceed 100%.
pub fn is_not_more_than_100_percent(value: &IntOrString, path: &FieldPath) -> Vec<FieldError> {
    let IntOrString::String(text) = value else {
        return Vec::new();
    };
    let Some(percent) = text
        .strip_suffix('%')
        .and_then(|digits| digits.parse::<i64>().ok())
    else {
        return Vec::new();
    };
    if percent <= 100 {
        return Vec::new();
    }
    vec![FieldError::invalid(
        path,
        int_or_string_value(value),
        "must not be greater than 100%",
    )]
}

/// Parses an IP address as Go's `net.ParseIP` (k8s.io/utils `ParseIPSloppy`) does for
/// the common forms: IPv4 octets with leading zeros are read as decimal.
pub fn parse_ip_sloppy(text: &str) -> Option<IpAddr> {
    if text.contains(':') {
        return text.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse::<u8>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// A parsed CIDR: the network address (host bits cleared) and the prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The network address; IPv4 networks stay IPv4.
    pub network: IpAddr,
    /// The prefix length in bits.
    pub prefix_length: u8,
}

impl Cidr {
    /// Checks whether `address` lies inside this network. Addresses of the other family
    /// never do.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                mask_v4(u32::from(address), self.prefix_length) == u32::from(network)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                mask_v6(u128::from(address), self.prefix_length) == u128::from(network)
            }
            _ => false,
        }
    }
}

fn mask_v4(bits: u32, prefix_length: u8) -> u32 {
    match prefix_length {
        0 => 0,
        length => bits & (u32::MAX << (32 - u32::from(length.min(32)))),
    }
}

fn mask_v6(bits: u128, prefix_length: u8) -> u128 {
    match prefix_length {
        0 => 0,
        length => bits & (u128::MAX << (128 - u32::from(length.min(128)))),
    }
}

/// Parses a CIDR as k8s.io/utils `ParseCIDRSloppy` does: an IP as [`parse_ip_sloppy`]
/// reads it, '/', and a decimal prefix length within the family's size.
pub fn parse_cidr_sloppy(text: &str) -> Option<Cidr> {
    let (address, length) = text.split_once('/')?;
    if length.is_empty() || length.len() > 3 || !length.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix_length = length.parse::<u8>().ok()?;
    let network = match parse_ip_sloppy(address)? {
        IpAddr::V4(ip) if prefix_length <= 32 => {
            IpAddr::V4(Ipv4Addr::from(mask_v4(u32::from(ip), prefix_length)))
        }
        IpAddr::V6(ip) if prefix_length <= 128 => {
            IpAddr::V6(Ipv6Addr::from(mask_v6(u128::from(ip), prefix_length)))
        }
        _ => return None,
    };
    Some(Cidr {
        network,
        prefix_length,
    })
}

/// Upstream's `IsValidCIDRForLegacyField` with the `StrictIPCIDRValidation` feature
/// off, its v1.33 default: any form the sloppy parser accepts is valid.
pub fn validate_cidr_for_legacy_field(path: &FieldPath, value: &str) -> Vec<FieldError> {
    if parse_cidr_sloppy(value).is_some() {
        return Vec::new();
    }
    vec![FieldError::invalid(
        path,
        value,
        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
    )]
}

/// Upstream's `IsFullyQualifiedDomainName`: a DNS-1123 subdomain of at least two
/// labels; one trailing dot is allowed.
pub fn validate_fully_qualified_domain_name(path: &FieldPath, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let messages = is_dns1123_subdomain(name);
    if !messages.is_empty() {
        return vec![FieldError::invalid(path, name, messages.join(","))];
    }
    if name.split('.').count() < 2 {
        return vec![FieldError::invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        )];
    }
    for label in name.split('.') {
        let messages = is_dns1123_label(label);
        if !messages.is_empty() {
            return vec![FieldError::invalid(path, label, messages.join(","))];
        }
    }
    Vec::new()
}

/// Upstream's `IsDomainPrefixedPath`: a DNS-1123 subdomain, '/', and a non-empty path
/// of URL-safe characters, as in `example.com/controller`.
pub fn validate_domain_prefixed_path(path: &FieldPath, value: &str) -> Vec<FieldError> {
    if value.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let (host, rest) = match value.split_once('/') {
        Some((host, rest)) if !host.is_empty() && !rest.is_empty() => (host, rest),
        _ => {
            return vec![FieldError::invalid(
                path,
                value,
                "must be a domain-prefixed path (such as \"acme.io/foo\")",
            )];
        }
    };
    let mut errors = invalid_each(path, host, is_dns1123_subdomain(host));
    let url_safe = |byte: u8| {
        byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
            )
    };
    if !rest.bytes().all(url_safe) {
        errors.push(FieldError::invalid(
            path,
            rest,
            regex_error("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+", &[]),
        ));
    }
    errors
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the groups' table-driven tests.

    use apimachinery::errors::FieldError;
    use serde_json::Value;

    use crate::registry::strategy::{ErasedStrategy, Strategy};

    /// Decodes `object` as the strategy's kind and applies its defaults, as the store
    /// does on create and update.
    pub fn defaulted<S: Strategy>(strategy: &S, object: Value) -> Value {
        ErasedStrategy::decode_and_default(strategy, object).expect("object decodes")
    }

    /// Renders errors as upstream prints them (`field: body`), for exact comparisons.
    pub fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(errors: &[FieldError]) -> Vec<String> {
        testing::messages(errors)
    }

    #[test]
    fn label_selector_requirements() {
        let cases = [
            (
                serde_json::json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                vec![
                    "s.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ],
            ),
            (
                serde_json::json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                vec![
                    "s.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ],
            ),
            (
                serde_json::json!({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}),
                vec![
                    "s.matchExpressions[0].operator: Invalid value: \"Bogus\": not a valid selector operator",
                ],
            ),
            (serde_json::json!({"matchLabels": {"app": "web"}}), vec![]),
        ];
        for (selector, expected) in cases {
            let selector: LabelSelector = serde_json::from_value(selector).unwrap();
            let errors = validate_label_selector(Some(&selector), false, &FieldPath::new("s"));
            assert_eq!(strings(&errors), expected);
        }
    }

    #[test]
    fn label_values_checked_unless_allowed() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "In", "values": ["-bad"]}]
        }))
        .unwrap();
        assert_eq!(
            validate_label_selector(Some(&selector), false, &FieldPath::new("s")).len(),
            1
        );
        assert!(validate_label_selector(Some(&selector), true, &FieldPath::new("s")).is_empty());
    }

    #[test]
    fn cidr_parsing_and_containment() {
        let cidr = parse_cidr_sloppy("10.0.0.0/8").unwrap();
        assert!(cidr.contains("10.1.2.3".parse().unwrap()));
        assert!(!cidr.contains("11.0.0.1".parse().unwrap()));
        assert_eq!(
            parse_cidr_sloppy("10.1.2.3/8").unwrap().network,
            cidr.network
        );
        assert_eq!(
            parse_cidr_sloppy("010.0.0.0/8").unwrap().network,
            "10.0.0.0".parse::<IpAddr>().unwrap()
        );
        assert!(parse_cidr_sloppy("fd00::/8").is_some());
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "fd00::/129",
            "x/1",
            "1.2.3.4/",
        ] {
            assert!(parse_cidr_sloppy(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn conditions_checks() {
        let conditions: Vec<Condition> = serde_json::from_value(serde_json::json!([
            {"type": "Ready", "status": "Maybe", "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "ok", "message": ""},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "1bad", "message": ""}
        ]))
        .unwrap();
        let errors = strings(&validate_conditions(&conditions, &FieldPath::new("c")));
        assert_eq!(
            errors[0],
            "c[0].status: Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\""
        );
        assert_eq!(errors[1], "c[1].type: Duplicate value: \"Ready\"");
        assert!(
            errors[2]
                .starts_with("c[1].reason: Invalid value: \"1bad\": a condition reason must start")
        );
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn percent_checks() {
        let path = FieldPath::new("p");
        let over = IntOrString::String("150%".into());
        assert_eq!(
            strings(&is_not_more_than_100_percent(&over, &path)),
            [
                "p: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
            ]
        );
        assert_eq!(
            strings(&validate_positive_int_or_percent(
                &IntOrString::Int(-1),
                &path
            )),
            ["p: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            validate_positive_int_or_percent(&IntOrString::String("x".into()), &path).len(),
            1
        );
    }

    #[test]
    fn fqdn_checks() {
        let path = FieldPath::new("a");
        assert!(validate_fully_qualified_domain_name(&path, "example.com.").is_empty());
        assert_eq!(
            strings(&validate_fully_qualified_domain_name(&path, "example")),
            [
                "a: Invalid value: \"example\": should be a domain with at least two segments separated by dots"
            ]
        );
    }
}
