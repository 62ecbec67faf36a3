//! Label selectors: parsing the string form used by `?labelSelector=` and `kubectl -l`,
//! converting the `LabelSelector` API type, matching label sets, and printing the canonical
//! string.
//!
//! Enter through [`parse`] for strings, [`label_selector_as_selector`] (or `TryFrom`) for the
//! API type, and [`Selector::matches`] to test an object's labels. The grammar, validation and
//! error texts follow Kubernetes v1.33 (`k8s.io/apimachinery/pkg/labels`):
//!
//! ```text
//! selector    ::= requirement | requirement "," selector
//! requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//! ```
//!
//! Keys are qualified names, values are label values, and `>`/`<` compare 64-bit integers.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::validation::{is_qualified_name, is_valid_label_value};

/// Read access to a set of labels, so that selectors can match maps and object metadata
/// without copying them.
pub trait Labels {
    /// Returns the value of the label `key`, or `None` when the label is not set.
    fn get(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
}

/// Missing labels (`metadata.labels` absent) behave as an empty set.
impl<T: Labels> Labels for Option<T> {
    fn get(&self, key: &str) -> Option<&str> {
        self.as_ref().and_then(|labels| labels.get(key))
    }
}

/// Relation between a label key and a requirement's values (upstream `selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key in (a,b)`: the label is set to one of the values.
    In,
    /// `key notin (a,b)`: the label is missing or set to none of the values.
    NotIn,
    /// `key=a`: the label is set to the value.
    Equals,
    /// `key==a`: same as [`Operator::Equals`], kept apart for printing.
    DoubleEquals,
    /// `key!=a`: the label is missing or set to another value.
    NotEquals,
    /// `key`: the label is set.
    Exists,
    /// `!key`: the label is not set.
    DoesNotExist,
    /// `key>n`: the label is an integer greater than n.
    GreaterThan,
    /// `key<n`: the label is an integer less than n.
    LessThan,
}

impl Operator {
    /// Returns upstream's name for the operator: "in", "notin", "=", "==", "!=", "exists",
    /// "!", "gt" or "lt".
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// The binary operators as upstream lists them in "expected:" parse errors.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// One invalid field of a requirement, printed like upstream's `field.Error` of type
/// `FieldValueInvalid`: `values[0][app]: Invalid value: "a b": <detail>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field: `key`, `values`, `values[0]`, `values[0][<key>]`, or `<nil>` when
    /// the selector parser rejects a key.
    pub field: String,
    /// The rejected value as Go's `%q` or `%#v` prints it.
    pub bad_value: String,
    /// Explanation of the problem, such as an upstream validation message.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: Invalid value: {}: {}",
            self.field, self.bad_value, self.detail
        )
    }
}

/// All problems found in one requirement. Printed as upstream prints an aggregate error:
/// one message alone, several as `[first, second]`, duplicates once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut messages: Vec<String> = Vec::new();
        for error in &self.0 {
            let message = error.to_string();
            if !messages.contains(&message) {
                messages.push(message);
            }
        }
        match messages.as_slice() {
            [single] => f.write_str(single),
            _ => write!(f, "[{}]", messages.join(", ")),
        }
    }
}

/// Reason one requirement of a selector string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequirementError {
    /// The requirement does not follow the grammar. The text is upstream's, such as
    /// "found 'x', expected: in, notin, =, ==, !=, gt, lt".
    #[error("{0}")]
    Syntax(String),
    /// The key, operator or values are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
}

/// Error from [`parse`] or from converting a `LabelSelector`. The `Display` text is
/// upstream's, because clients show it to users.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The selector string does not follow the grammar between requirements.
    #[error("{0}")]
    Syntax(String),
    /// One requirement of the selector string is malformed or invalid.
    #[error("unable to parse requirement: {0}")]
    Requirement(RequirementError),
    /// A `matchLabels` entry or `matchExpressions` item of a `LabelSelector` is invalid.
    #[error("{0}")]
    InvalidRequirement(FieldErrors),
    /// A `matchExpressions` operator is not `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[error("{} is not a valid label selector operator", go_quote(.0))]
    InvalidOperator(String),
}

/// One condition of a selector: a key, an operator and its values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// Builds a validated requirement, checking what upstream's `NewRequirement` checks:
    ///
    /// - the key is a qualified name,
    /// - `In` and `NotIn` have at least one value,
    /// - the equality operators have exactly one value,
    /// - `Exists` and `DoesNotExist` have no value,
    /// - `GreaterThan` and `LessThan` have one value, a 64-bit integer,
    /// - every value is a valid label value (the empty string is one).
    ///
    /// # Errors
    ///
    /// Returns every problem found, with upstream's field paths and messages.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Requirement, FieldErrors> {
        Requirement::build(key.into(), operator, values, EmptyValues::Empty)
    }

    /// Builds a requirement, printing an empty value list as a Go nil slice (`[]string(nil)`)
    /// or an empty one (`[]string{}`) in error messages, as the matching upstream caller would.
    fn build(
        key: String,
        operator: Operator,
        values: Vec<String>,
        empty_values: EmptyValues,
    ) -> Result<Requirement, FieldErrors> {
        let mut errors = Vec::new();
        if let Some(error) = validate_label_key(&key, "key") {
            errors.push(error);
        }

        let values_error = |detail: &str| FieldError {
            field: "values".to_string(),
            bad_value: go_string_slice(&values, empty_values),
            detail: detail.to_string(),
        };
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                errors.push(values_error(
                    "for 'in', 'notin' operators, values set can't be empty",
                ));
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                errors.push(values_error(
                    "exact-match compatibility requires one single value",
                ));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                errors.push(values_error(
                    "values set must be empty for exists and does not exist",
                ));
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errors.push(values_error(
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (index, value) in values.iter().enumerate() {
                    if value.parse::<i64>().is_err() {
                        errors.push(FieldError {
                            field: format!("values[{index}]"),
                            bad_value: go_quote(value),
                            detail: "for 'Gt', 'Lt' operators, the value must be an integer"
                                .to_string(),
                        });
                    }
                }
            }
            _ => {}
        }

        for (index, value) in values.iter().enumerate() {
            let messages = is_valid_label_value(value);
            if !messages.is_empty() {
                errors.push(FieldError {
                    field: format!("values[{index}][{key}]"),
                    bad_value: go_quote(value),
                    detail: messages.join("; "),
                });
            }
        }

        if !errors.is_empty() {
            return Err(FieldErrors(errors));
        }
        Ok(Requirement {
            key,
            operator,
            values,
        })
    }

    /// Returns the label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Returns the operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// Returns the values in the order given. The string parser sorts them and removes
    /// duplicates.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Reports whether `labels` satisfy this requirement. `NotIn`, `NotEquals` and
    /// `DoesNotExist` match a missing label. `GreaterThan`/`LessThan` never match a label
    /// that is not a 64-bit integer.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|value| self.has_value(value))
            }
            Operator::NotIn | Operator::NotEquals => !value.is_some_and(|v| self.has_value(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(Ok(actual)) = value.map(str::parse::<i64>) else {
                    return false;
                };
                let [limit] = self.values.as_slice() else {
                    return false;
                };
                let Ok(limit) = limit.parse::<i64>() else {
                    return false;
                };
                match self.operator {
                    Operator::GreaterThan => actual > limit,
                    _ => actual < limit,
                }
            }
        }
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|candidate| candidate == value)
    }
}

/// Prints the requirement as upstream does: `key=a`, `key in (a,b)`, `!key`, ..., with
/// several values sorted.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = match self.operator {
            Operator::Exists => return f.write_str(&self.key),
            Operator::DoesNotExist => return write!(f, "!{}", self.key),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };

        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        let joined = values.join(",");
        match self.operator {
            Operator::In | Operator::NotIn => write!(f, "{}{separator}({joined})", self.key),
            _ => write!(f, "{}{separator}{joined}", self.key),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum SelectorKind {
    /// All requirements must match. An empty list matches everything.
    Requirements(Vec<Requirement>),
    /// Matches no labels at all.
    Nothing,
}

/// A parsed label selector: requirements that must all match, sorted by key.
///
/// [`Selector::everything`] (also the default) has no requirements and matches every label
/// set. [`Selector::nothing`] matches none, and a missing (`null`) `LabelSelector` converts
/// to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    kind: SelectorKind,
}

impl Default for Selector {
    fn default() -> Self {
        Selector::everything()
    }
}

impl Selector {
    /// Returns the selector that matches all labels.
    pub fn everything() -> Selector {
        Selector {
            kind: SelectorKind::Requirements(Vec::new()),
        }
    }

    /// Returns the selector that matches no labels.
    pub fn nothing() -> Selector {
        Selector {
            kind: SelectorKind::Nothing,
        }
    }

    /// Builds a selector that requires each label of `set` to have its value. The set is not
    /// validated, so an invalid key or value is caught only when the printed form is parsed. An empty set gives [`Selector::everything`].
    pub fn from_set(set: &BTreeMap<String, String>) -> Selector {
        let requirements = set
            .iter()
            .map(|(key, value)| Requirement {
                key: key.clone(),
                operator: Operator::Equals,
                values: vec![value.clone()],
            })
            .collect();
        Selector {
            kind: SelectorKind::Requirements(requirements),
        }
    }

    /// Like [`Selector::from_set`], but validates every key and value first.
    ///
    /// # Errors
    ///
    /// Returns the problems of the first invalid label, in key order.
    pub fn validated_from_set(set: &BTreeMap<String, String>) -> Result<Selector, FieldErrors> {
        let requirements = set
            .iter()
            .map(|(key, value)| {
                Requirement::new(key.clone(), Operator::Equals, vec![value.clone()])
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector {
            kind: SelectorKind::Requirements(requirements),
        })
    }

    /// Reports whether the selector places no restriction (upstream `Empty`). It is false
    /// for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        match &self.kind {
            SelectorKind::Requirements(requirements) => requirements.is_empty(),
            SelectorKind::Nothing => false,
        }
    }

    /// Reports whether `labels` satisfy every requirement.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match &self.kind {
            SelectorKind::Requirements(requirements) => requirements
                .iter()
                .all(|requirement| requirement.matches(labels)),
            SelectorKind::Nothing => false,
        }
    }

    /// Returns the requirements sorted by key, or `None` for [`Selector::nothing`], which
    /// can select nothing.
    pub fn requirements(&self) -> Option<&[Requirement]> {
        match &self.kind {
            SelectorKind::Requirements(requirements) => Some(requirements),
            SelectorKind::Nothing => None,
        }
    }

    /// Returns a selector with `requirements` added, keeping the requirements sorted by key.
    /// Adding to [`Selector::nothing`] leaves it unchanged.
    pub fn add_requirements(self, requirements: impl IntoIterator<Item = Requirement>) -> Selector {
        match self.kind {
            SelectorKind::Requirements(mut existing) => {
                existing.extend(requirements);
                existing.sort_by(|a, b| a.key.cmp(&b.key));
                Selector {
                    kind: SelectorKind::Requirements(existing),
                }
            }
            SelectorKind::Nothing => self,
        }
    }

    /// Returns the one value that the selector requires for `key`, so that a cache can serve
    /// the request from an index. Like upstream, only the first requirement on `key` is considered, and
    /// only `=`, `==` or `in` with a single value counts.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let requirement = self
            .requirements()?
            .iter()
            .find(|requirement| requirement.key == key)?;
        match (requirement.operator, requirement.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [value]) => Some(value),
            _ => None,
        }
    }
}

/// Prints the canonical string: requirements sorted by key and joined by ",". Both
/// [`Selector::everything`] and [`Selector::nothing`] print as "".
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(requirements) = self.requirements() else {
            return Ok(());
        };
        for (index, requirement) in requirements.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = ParseError;

    fn from_str(selector: &str) -> Result<Selector, ParseError> {
        parse(selector)
    }
}

/// Parses the string form of a label selector, such as `app=web,tier in (a,b),!canary`.
/// Space, tab, CR and LF separate tokens. An empty string gives [`Selector::everything`].
///
/// # Errors
///
/// Returns [`ParseError::Syntax`] or [`ParseError::Requirement`] with upstream's message.
pub fn parse(selector: &str) -> Result<Selector, ParseError> {
    let mut parser = Parser::new(selector);
    let mut requirements = parser.parse()?;
    requirements.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Selector {
        kind: SelectorKind::Requirements(requirements),
    })
}

/// Converts the `LabelSelector` API type as upstream's `LabelSelectorAsSelector` does:
/// `None` selects nothing, a selector without `matchLabels` and `matchExpressions` selects
/// everything, and otherwise every entry becomes a validated requirement.
///
/// # Errors
///
/// Returns [`ParseError::InvalidOperator`] for an operator other than `In`, `NotIn`,
/// `Exists` and `DoesNotExist`, and [`ParseError::InvalidRequirement`] for an invalid key or
/// values. `matchLabels` are checked first, in key order.
pub fn label_selector_as_selector(
    selector: Option<&LabelSelector>,
) -> Result<Selector, ParseError> {
    let Some(selector) = selector else {
        return Ok(Selector::nothing());
    };
    let match_labels = selector.match_labels.as_ref();
    let match_expressions = selector.match_expressions.as_deref().unwrap_or_default();
    if match_labels.is_none_or(BTreeMap::is_empty) && match_expressions.is_empty() {
        return Ok(Selector::everything());
    }

    let mut requirements = Vec::new();
    for (key, value) in match_labels.into_iter().flatten() {
        let requirement = Requirement::new(key.clone(), Operator::Equals, vec![value.clone()])
            .map_err(ParseError::InvalidRequirement)?;
        requirements.push(requirement);
    }
    for expression in match_expressions {
        let operator = match expression.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => return Err(ParseError::InvalidOperator(other.to_string())),
        };
        let values = expression.values.clone().unwrap_or_default();
        let requirement =
            Requirement::build(expression.key.clone(), operator, values, EmptyValues::Nil)
                .map_err(ParseError::InvalidRequirement)?;
        requirements.push(requirement);
    }
    Ok(Selector::everything().add_requirements(requirements))
}

impl TryFrom<&LabelSelector> for Selector {
    type Error = ParseError;

    fn try_from(selector: &LabelSelector) -> Result<Selector, ParseError> {
        label_selector_as_selector(Some(selector))
    }
}

/// Go rendering of an empty value list in error messages.
#[derive(Clone, Copy)]
enum EmptyValues {
    /// `[]string{}`, as from the string parser or a caller passing an empty slice.
    Empty,
    /// `[]string(nil)`, as from `LabelSelectorAsSelector`, which copies values into a nil
    /// slice.
    Nil,
}

/// Formats a value like Go's `strconv.Quote`. Printable characters are kept, and the usual
/// escapes or `\x`/`\u` forms replace the rest.
// NOTE: Go keeps exactly the characters `unicode.IsPrint` accepts. Non-control characters
// that Go still escapes (such as U+00AD) are kept as they are here.
fn go_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for character in value.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{b}' => quoted.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => quoted.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Formats a string list like Go's `%#v` of a `[]string`.
fn go_string_slice(values: &[String], empty_values: EmptyValues) -> String {
    if values.is_empty() {
        return match empty_values {
            EmptyValues::Empty => "[]string{}".to_string(),
            EmptyValues::Nil => "[]string(nil)".to_string(),
        };
    }
    let quoted: Vec<String> = values.iter().map(|value| go_quote(value)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

fn validate_label_key(key: &str, field: &str) -> Option<FieldError> {
    let messages = is_qualified_name(key);
    if messages.is_empty() {
        return None;
    }
    Some(FieldError {
        field: field.to_string(),
        bad_value: go_quote(key),
        detail: messages.join("; "),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Splits a selector string into tokens. Like upstream's lexer it works on bytes, and a NUL
/// byte ends the current token or the input.
struct Lexer<'a> {
    text: &'a str,
    position: usize,
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(byte: u8) -> bool {
    matches!(byte, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

impl<'a> Lexer<'a> {
    /// Returns the next byte, or 0 at the end of the input.
    fn read(&mut self) -> u8 {
        match self.text.as_bytes().get(self.position) {
            Some(byte) => {
                self.position += 1;
                *byte
            }
            None => 0,
        }
    }

    fn lex(&mut self) -> (Token, &'a str) {
        let mut byte = self.read();
        while is_whitespace(byte) {
            byte = self.read();
        }
        if byte == 0 {
            return (Token::EndOfString, "");
        }

        // Put the byte back: the scanners below start at it.
        self.position -= 1;
        if is_special_symbol(byte) {
            self.scan_special_symbol()
        } else {
            self.scan_identifier_or_keyword()
        }
    }

    fn scan_identifier_or_keyword(&mut self) -> (Token, &'a str) {
        let bytes = self.text.as_bytes();
        let start = self.position;
        let end = loop {
            match bytes.get(self.position) {
                None => break self.position,
                Some(0) => {
                    self.position += 1;
                    break self.position - 1;
                }
                Some(byte) if is_special_symbol(*byte) || is_whitespace(*byte) => {
                    break self.position;
                }
                Some(_) => self.position += 1,
            }
        };

        let literal = &self.text[start..end];
        let token = match literal {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Identifier,
        };
        (token, literal)
    }

    /// Scans the longest operator at the current position: "!=" and "==" take two bytes,
    /// every other special symbol one.
    fn scan_special_symbol(&mut self) -> (Token, &'a str) {
        let bytes = self.text.as_bytes();
        let start = self.position;
        let two = bytes.get(start..start + 2);
        let (token, length) = match (bytes[start], two) {
            (b'!', Some(b"!=")) => (Token::NotEquals, 2),
            (b'=', Some(b"==")) => (Token::DoubleEquals, 2),
            (b'!', _) => (Token::DoesNotExist, 1),
            (b'=', _) => (Token::Equals, 1),
            (b'(', _) => (Token::OpenPar, 1),
            (b')', _) => (Token::ClosedPar, 1),
            (b',', _) => (Token::Comma, 1),
            (b'>', _) => (Token::GreaterThan, 1),
            _ => (Token::LessThan, 1),
        };
        self.position += length;
        (token, &self.text[start..start + length])
    }
}

/// Parser position that decides the meaning of "in" and "notin": operators after a key,
/// plain values everywhere else.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

/// Recursive-descent parser over the token list, mirroring upstream's so that the same
/// inputs fail with the same messages.
struct Parser<'a> {
    items: Vec<(Token, &'a str)>,
    position: usize,
}

impl<'a> Parser<'a> {
    fn new(selector: &'a str) -> Parser<'a> {
        let mut lexer = Lexer {
            text: selector,
            position: 0,
        };
        let mut items = Vec::new();
        loop {
            let item = lexer.lex();
            items.push(item);
            if item.0 == Token::EndOfString {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn lookahead(&self, context: Context) -> (Token, &'a str) {
        let index = self.position.min(self.items.len() - 1);
        let (token, literal) = self.items[index];
        (Parser::in_context(token, context), literal)
    }

    fn consume(&mut self, context: Context) -> (Token, &'a str) {
        let item = self.lookahead(context);
        self.position += 1;
        item
    }

    fn in_context(token: Token, context: Context) -> Token {
        match (token, context) {
            (Token::In | Token::NotIn, Context::Values) => Token::Identifier,
            _ => token,
        }
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, ParseError> {
        let mut requirements = Vec::new();
        loop {
            let (token, literal) = self.lookahead(Context::Values);
            match token {
                Token::Identifier | Token::DoesNotExist => {
                    let requirement = self.parse_requirement().map_err(ParseError::Requirement)?;
                    requirements.push(requirement);

                    let (token, literal) = self.consume(Context::Values);
                    match token {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (next, next_literal) = self.lookahead(Context::Values);
                            if next != Token::Identifier && next != Token::DoesNotExist {
                                return Err(ParseError::Syntax(format!(
                                    "found '{next_literal}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(ParseError::Syntax(format!(
                                "found '{literal}', expected: ',' or 'end of string'"
                            )));
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(ParseError::Syntax(format!(
                        "found '{literal}', expected: !, identifier, or 'end of string'"
                    )));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, RequirementError> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(operator) = inferred {
            return Requirement::build(key.to_string(), operator, Vec::new(), EmptyValues::Empty)
                .map_err(RequirementError::Invalid);
        }

        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::build(key.to_string(), operator, values, EmptyValues::Empty)
            .map_err(RequirementError::Invalid)
    }

    /// Reads `[!] KEY` and returns the key, plus `Exists` or `DoesNotExist` when no binary
    /// operator follows. A `!` always means `DoesNotExist`, even before an operator.
    fn parse_key_and_infer_operator(
        &mut self,
    ) -> Result<(&'a str, Option<Operator>), RequirementError> {
        let mut operator = None;
        let (mut token, mut literal) = self.consume(Context::Values);
        if token == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (token, literal) = self.consume(Context::Values);
        }
        if token != Token::Identifier {
            return Err(RequirementError::Syntax(format!(
                "found '{literal}', expected: identifier"
            )));
        }
        // Upstream validates the key here with a nil field path, printed as "<nil>".
        if let Some(error) = validate_label_key(literal, "<nil>") {
            return Err(RequirementError::Invalid(FieldErrors(vec![error])));
        }

        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Token::EndOfString | Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, RequirementError> {
        let (token, literal) = self.consume(Context::KeyAndOperator);
        match token {
            Token::In => Ok(Operator::In),
            Token::Equals => Ok(Operator::Equals),
            Token::DoubleEquals => Ok(Operator::DoubleEquals),
            Token::GreaterThan => Ok(Operator::GreaterThan),
            Token::LessThan => Ok(Operator::LessThan),
            Token::NotIn => Ok(Operator::NotIn),
            Token::NotEquals => Ok(Operator::NotEquals),
            _ => Err(RequirementError::Syntax(format!(
                "found '{literal}', expected: {BINARY_OPERATORS}"
            ))),
        }
    }

    /// Parses `(a,b,...)` into a sorted list without duplicates. Empty entries, as in
    /// `(a,,b)` or `()`, stand for the empty value.
    fn parse_values(&mut self) -> Result<Vec<String>, RequirementError> {
        let (token, literal) = self.consume(Context::Values);
        if token != Token::OpenPar {
            return Err(RequirementError::Syntax(format!(
                "found '{literal}' expected: '('"
            )));
        }

        let (token, literal) = self.lookahead(Context::Values);
        match token {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                let (token, _) = self.consume(Context::Values);
                if token != Token::ClosedPar {
                    return Err(RequirementError::Syntax(format!(
                        "found '{literal}', expected: ')'"
                    )));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => Err(RequirementError::Syntax(format!(
                "found '{literal}', expected: ',', ')' or identifier"
            ))),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, RequirementError> {
        let mut values = std::collections::BTreeSet::new();
        loop {
            let (token, literal) = self.consume(Context::Values);
            match token {
                Token::Identifier => {
                    values.insert(literal.to_string());
                    let (next, next_literal) = self.lookahead(Context::Values);
                    match next {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(values.into_iter().collect()),
                        _ => {
                            return Err(RequirementError::Syntax(format!(
                                "found '{next_literal}', expected: ',' or ')'"
                            )));
                        }
                    }
                }
                Token::Comma => {
                    // A comma first, last or doubled stands for an empty value.
                    if values.is_empty() {
                        values.insert(String::new());
                    }
                    let (next, _) = self.lookahead(Context::Values);
                    if next == Token::ClosedPar {
                        values.insert(String::new());
                        return Ok(values.into_iter().collect());
                    }
                    if next == Token::Comma {
                        self.consume(Context::Values);
                        values.insert(String::new());
                    }
                }
                _ => {
                    return Err(RequirementError::Syntax(format!(
                        "found '{literal}', expected: ',', or identifier"
                    )));
                }
            }
        }
    }

    /// Parses the value after `=`, `==`, `!=`, `>` or `<`. A missing value is the empty
    /// string.
    fn parse_exact_value(&mut self) -> Result<Vec<String>, RequirementError> {
        let (token, _) = self.lookahead(Context::Values);
        if matches!(token, Token::EndOfString | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        let (token, literal) = self.consume(Context::Values);
        if token == Token::Identifier {
            return Ok(vec![literal.to_string()]);
        }
        Err(RequirementError::Syntax(format!(
            "found '{literal}', expected: identifier"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    const NAME_PART_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn parse_prints_canonical_form() {
        let cases = [
            ("x=a,y=b,z=c", "x=a,y=b,z=c"),
            ("", ""),
            ("x!=a,y=b", "x!=a,y=b"),
            ("x=", "x="),
            ("x= ", "x="),
            ("x=,z= ", "x=,z="),
            ("x= ,z= ", "x=,z="),
            ("!x", "!x"),
            ("x>1", "x>1"),
            ("x>1,z<5", "x>1,z<5"),
            ("x=a,a=x", "a=x,x=a"),
            ("a=x,x=a", "a=x,x=a"),
            ("\rx", "x"),
            ("x==a", "x==a"),
            ("x in (def,abc)", "x in (abc,def)"),
            ("x in (abc,)", "x in (,abc)"),
            ("x in ()", "x in ()"),
            ("x notin ( )", "x notin ()"),
            ("x notin (, a)", "x notin (,a)"),
            (
                "x notin (abc,,def),bar,z in (),w",
                "bar,w,x notin (,abc,def),z in ()",
            ),
            ("foo  in\t (abc)", "foo in (abc)"),
            ("x notin\n (abc)", "x notin (abc)"),
            ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
            ("a in (b,b,a)", "a in (a,b)"),
            ("notin=in", "notin=in"),
            ("in in (in)", "in in (in)"),
            ("a ", "a"),
            (
                "this-is-a-dns.domain.com/key-with-dash",
                "this-is-a-dns.domain.com/key-with-dash",
            ),
            (
                "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
                "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
            ),
            ("b=2,a=1,b!=3", "a=1,b=2,b!=3"),
        ];
        for (input, expected) in cases {
            let selector = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(selector.to_string(), expected, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_with_upstream_messages() {
        let invalid_integer = "for 'Gt', 'Lt' operators, the value must be an integer";
        let cases: Vec<(&str, String)> = vec![
            (
                "x=a||y=b",
                format!(
                    "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {LABEL_VALUE_MESSAGE}"
                ),
            ),
            ("x==a==b", "found '==', expected: ',' or 'end of string'".into()),
            ("!x=a", "found '=', expected: ',' or 'end of string'".into()),
            (
                "x<a",
                format!("unable to parse requirement: values[0]: Invalid value: \"a\": {invalid_integer}"),
            ),
            (
                "x>",
                format!("unable to parse requirement: values[0]: Invalid value: \"\": {invalid_integer}"),
            ),
            (
                "x>1.5",
                format!("unable to parse requirement: values[0]: Invalid value: \"1.5\": {invalid_integer}"),
            ),
            ("x,,y", "found ',', expected: identifier after ','".into()),
            (",x,y", "found ',', expected: !, identifier, or 'end of string'".into()),
            (
                "x nott in (y)",
                "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"
                    .into(),
            ),
            ("a in (xyz),", "found '', expected: identifier after ','".into()),
            ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'".into()),
            (
                "a in (xyz abc)",
                "unable to parse requirement: found 'abc', expected: ',' or ')'".into(),
            ),
            (
                "a notin(",
                "unable to parse requirement: found '', expected: ',', ')' or identifier".into(),
            ),
            (
                "a (",
                "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
                    .into(),
            ),
            ("(", "found '(', expected: !, identifier, or 'end of string'".into()),
            ("x in y", "unable to parse requirement: found 'y' expected: '('".into()),
            (
                "x in (a,=)",
                "unable to parse requirement: found '=', expected: ',', or identifier".into(),
            ),
            ("x in (a,", "unable to parse requirement: found '', expected: ',', or identifier".into()),
            ("!", "unable to parse requirement: found '', expected: identifier".into()),
            ("!!x", "unable to parse requirement: found '!', expected: identifier".into()),
            ("x=(", "unable to parse requirement: found '(', expected: identifier".into()),
            ("x=a b", "found 'b', expected: ',' or 'end of string'".into()),
            (
                "a/b/c",
                "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into(),
            ),
            (
                "-x=a",
                format!("unable to parse requirement: <nil>: Invalid value: \"-x\": {NAME_PART_MESSAGE}"),
            ),
            (
                "x in (a\"b)",
                format!(
                    "unable to parse requirement: values[0][x]: Invalid value: \"a\\\"b\": {LABEL_VALUE_MESSAGE}"
                ),
            ),
        ];
        for (input, expected) in cases {
            let error = parse(input).expect_err(input);
            assert_eq!(error.to_string(), expected, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_long_key_and_value() {
        let key = "a".repeat(64);
        let error = parse(&key).expect_err("long key");
        assert_eq!(
            error.to_string(),
            format!(
                "unable to parse requirement: <nil>: Invalid value: \"{key}\": name part must be no more than 63 characters"
            )
        );

        let value = "b".repeat(64);
        let error = parse(&format!("x={value}")).expect_err("long value");
        assert_eq!(
            error.to_string(),
            format!(
                "unable to parse requirement: values[0][x]: Invalid value: \"{value}\": must be no more than 63 characters"
            )
        );
    }

    #[test]
    fn parse_stops_at_nul_byte() {
        assert_eq!(parse("a\0").expect("trailing NUL").to_string(), "a");
        assert_eq!(
            parse("a,\0b").expect_err("NUL after comma").to_string(),
            "found '', expected: identifier after ','"
        );
    }

    /// A selector string, a label set and whether the selector matches it.
    type MatchCase = (&'static str, &'static [(&'static str, &'static str)], bool);

    #[test]
    fn selector_matches_label_sets() {
        let cases: &[MatchCase] = &[
            ("", &[("x", "y")], true),
            ("x=y", &[("x", "y")], true),
            ("x=y,z=w", &[("x", "y"), ("z", "w")], true),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")], true),
            ("notin=in", &[("notin", "in")], true),
            ("x", &[("x", "z")], true),
            ("!x", &[("y", "z")], true),
            ("x>1", &[("x", "2")], true),
            ("x<1", &[("x", "0")], true),
            ("x<1", &[("x", "-5")], true),
            ("x=z", &[], false),
            ("x=y", &[("x", "z")], false),
            ("x=y,z=w", &[("x", "w"), ("z", "w")], false),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")], false),
            ("x", &[("y", "z")], false),
            ("!x", &[("x", "z")], false),
            ("x>1", &[("x", "0")], false),
            ("x<1", &[("x", "2")], false),
            ("x>1", &[("x", "v2")], false),
            ("x>1", &[], false),
            ("x in (foo)", &[("x", "foo"), ("y", "baz")], true),
            (
                "x in (foo),y notin (alpha)",
                &[("x", "foo"), ("y", "baz")],
                true,
            ),
            (
                "x in (foo),y in (alpha)",
                &[("x", "foo"), ("y", "baz")],
                false,
            ),
            ("x notin (),y", &[("y", "")], true),
            ("!x,y", &[("y", "")], true),
            ("x notin (),!y", &[("y", "")], false),
            ("x in ()", &[("y", "baz")], false),
            ("x in ()", &[("x", "")], true),
            ("x=", &[("x", "")], true),
            ("x=", &[], false),
            ("x!=", &[], true),
            (
                "foo=bar,foobar=bar,baz=blah",
                &[("foo", "bar"), ("baz", "blah")],
                false,
            ),
        ];
        for (selector, labels, expected) in cases {
            let parsed = parse(selector).unwrap_or_else(|e| panic!("{selector}: {e}"));
            assert_eq!(
                parsed.matches(&set(labels)),
                *expected,
                "{selector} vs {labels:?}"
            );
        }
    }

    #[test]
    fn selector_matches_hash_map_and_option() {
        let selector = parse("app=web").expect("valid");
        let labels: HashMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(selector.matches(&labels));
        assert!(selector.matches(&Some(set(&[("app", "web")]))));
        assert!(!selector.matches(&None::<BTreeMap<String, String>>));
        assert!(
            parse("!app")
                .expect("valid")
                .matches(&None::<BTreeMap<String, String>>)
        );
    }

    #[test]
    fn everything_and_nothing() {
        let everything = Selector::everything();
        assert!(everything.is_empty());
        assert!(everything.matches(&set(&[("x", "y")])));
        assert!(everything.matches(&set(&[])));
        assert_eq!(everything.to_string(), "");
        assert_eq!(Selector::default(), everything);
        assert_eq!(parse("").expect("empty"), everything);

        let nothing = Selector::nothing();
        assert!(!nothing.is_empty());
        assert!(!nothing.matches(&set(&[("x", "y")])));
        assert!(!nothing.matches(&set(&[])));
        assert_eq!(nothing.to_string(), "");
        assert_eq!(nothing.requirements(), None);
        assert_eq!(nothing.requires_exact_match("x"), None);
        let requirement = Requirement::new("x", Operator::Exists, vec![]).expect("valid");
        assert_eq!(
            Selector::nothing().add_requirements([requirement]),
            Selector::nothing()
        );
    }

    #[test]
    fn requirement_new_validates() {
        let cases: Vec<(&str, Operator, Vec<String>, Option<String>)> = vec![
            (
                "x1",
                Operator::In,
                vec![],
                Some("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty".into()),
            ),
            (
                "x2",
                Operator::NotIn,
                vec![],
                Some("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty".into()),
            ),
            ("x3", Operator::In, strings(&["foo"]), None),
            ("x4", Operator::NotIn, strings(&["foo"]), None),
            (
                "x5",
                Operator::Equals,
                strings(&["bar", "foo"]),
                Some("values: Invalid value: []string{\"bar\", \"foo\"}: exact-match compatibility requires one single value".into()),
            ),
            ("x6", Operator::Exists, vec![], None),
            ("x7", Operator::DoesNotExist, vec![], None),
            (
                "x8",
                Operator::Exists,
                strings(&["foo"]),
                Some("values: Invalid value: []string{\"foo\"}: values set must be empty for exists and does not exist".into()),
            ),
            ("x11", Operator::GreaterThan, strings(&["1"]), None),
            ("x12", Operator::LessThan, strings(&["6"]), None),
            // A negative integer is not a valid label value, so upstream rejects it too.
            (
                "x12n",
                Operator::LessThan,
                strings(&["-6"]),
                Some(format!("values[0][x12n]: Invalid value: \"-6\": {LABEL_VALUE_MESSAGE}")),
            ),
            (
                "x13",
                Operator::GreaterThan,
                vec![],
                Some("values: Invalid value: []string{}: for 'Gt', 'Lt' operators, exactly one value is required".into()),
            ),
            (
                "x14",
                Operator::GreaterThan,
                strings(&["bar"]),
                Some("values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ),
            (
                "x15",
                Operator::LessThan,
                strings(&["1", "2"]),
                Some("values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one value is required".into()),
            ),
            (
                "x16",
                Operator::Equals,
                vec!["a".repeat(254)],
                Some(format!("values[0][x16]: Invalid value: \"{}\": must be no more than 63 characters", "a".repeat(254))),
            ),
            (
                "x17",
                Operator::Equals,
                strings(&["a b"]),
                Some(format!("values[0][x17]: Invalid value: \"a b\": {LABEL_VALUE_MESSAGE}")),
            ),
            (
                "-x18",
                Operator::In,
                strings(&["a\tb"]),
                Some(format!("[key: Invalid value: \"-x18\": {NAME_PART_MESSAGE}, values[0][-x18]: Invalid value: \"a\\tb\": {LABEL_VALUE_MESSAGE}]")),
            ),
        ];
        for (key, operator, values, expected) in cases {
            let result = Requirement::new(key, operator, values);
            assert_eq!(result.err().map(|e| e.to_string()), expected, "{key}");
        }

        let long_key = "a".repeat(254);
        let error =
            Requirement::new(long_key.clone(), Operator::Exists, vec![]).expect_err("long key");
        assert_eq!(
            error.to_string(),
            format!(
                "key: Invalid value: \"{long_key}\": name part must be no more than 63 characters"
            )
        );
    }

    #[test]
    fn requirement_display() {
        let cases: Vec<(Requirement, &str)> = vec![
            (
                Requirement::new("x", Operator::In, strings(&["def", "abc"])).expect("valid"),
                "x in (abc,def)",
            ),
            (
                Requirement::new("y", Operator::NotIn, strings(&["jkl"])).expect("valid"),
                "y notin (jkl)",
            ),
            (
                Requirement::new("z", Operator::NotIn, strings(&[""])).expect("valid"),
                "z notin ()",
            ),
            (
                Requirement::new("z", Operator::Exists, vec![]).expect("valid"),
                "z",
            ),
            (
                Requirement::new("z", Operator::DoesNotExist, vec![]).expect("valid"),
                "!z",
            ),
            (
                Requirement::new("y", Operator::NotEquals, strings(&["jkl"])).expect("valid"),
                "y!=jkl",
            ),
            (
                Requirement::new("y", Operator::DoubleEquals, strings(&["jkl"])).expect("valid"),
                "y==jkl",
            ),
            (
                Requirement::new("x", Operator::GreaterThan, strings(&["2"])).expect("valid"),
                "x>2",
            ),
            (
                Requirement::new("y", Operator::LessThan, strings(&["8"])).expect("valid"),
                "y<8",
            ),
        ];
        for (requirement, expected) in cases {
            assert_eq!(requirement.to_string(), expected);
        }

        // The printed order is sorted, the stored order is kept.
        let requirement =
            Requirement::new("x", Operator::In, strings(&["b", "a", "b"])).expect("valid");
        assert_eq!(requirement.values(), strings(&["b", "a", "b"]).as_slice());
        assert_eq!(requirement.to_string(), "x in (a,b,b)");
    }

    #[test]
    fn add_keeps_requirements_sorted() {
        let selector = Selector::everything()
            .add_requirements([
                Requirement::new("key2", Operator::Equals, strings(&["value2"])).expect("valid"),
            ])
            .add_requirements([
                Requirement::new("key", Operator::In, strings(&["value"])).expect("valid")
            ]);
        assert_eq!(selector.to_string(), "key in (value),key2=value2");
        let keys: Vec<&str> = selector
            .requirements()
            .expect("selectable")
            .iter()
            .map(Requirement::key)
            .collect();
        assert_eq!(keys, ["key", "key2"]);
    }

    #[test]
    fn requires_exact_match_cases() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("app=web", "app", Some("web")),
            ("app==web", "app", Some("web")),
            ("app in (web)", "app", Some("web")),
            ("app in (web,db)", "app", None),
            ("app!=web", "app", None),
            ("app", "app", None),
            ("app=web", "tier", None),
            ("tier=a,app=web", "app", Some("web")),
            // Only the first requirement on the key counts.
            ("app,app=web", "app", None),
            ("", "app", None),
        ];
        for (selector, key, expected) in cases {
            let parsed = parse(selector).expect("valid");
            assert_eq!(
                parsed.requires_exact_match(key),
                *expected,
                "{selector} {key}"
            );
        }
    }

    #[test]
    fn from_set_cases() {
        let selector = Selector::from_set(&set(&[("b", "2"), ("a", "1")]));
        assert_eq!(selector.to_string(), "a=1,b=2");
        assert!(selector.matches(&set(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!selector.matches(&set(&[("a", "1")])));
        assert!(Selector::from_set(&set(&[])).is_empty());

        // Without validation the invalid value is kept as given.
        assert_eq!(
            Selector::from_set(&set(&[("a", "x y")])).to_string(),
            "a=x y"
        );
        let error = Selector::validated_from_set(&set(&[("a", "x y")])).expect_err("invalid");
        assert_eq!(
            error.to_string(),
            format!("values[0][a]: Invalid value: \"x y\": {LABEL_VALUE_MESSAGE}")
        );
        assert_eq!(
            Selector::validated_from_set(&set(&[("b", "2"), ("a", "1")]))
                .expect("valid")
                .to_string(),
            "a=1,b=2"
        );
    }

    fn expression(key: &str, operator: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_string(),
            operator: operator.to_string(),
            values: values.map(strings),
        }
    }

    #[test]
    fn label_selector_conversion() {
        assert_eq!(label_selector_as_selector(None), Ok(Selector::nothing()));
        assert_eq!(
            label_selector_as_selector(Some(&LabelSelector::default())),
            Ok(Selector::everything())
        );
        let empty_parts = LabelSelector {
            match_labels: Some(BTreeMap::new()),
            match_expressions: Some(vec![]),
        };
        assert_eq!(Selector::try_from(&empty_parts), Ok(Selector::everything()));

        let selector = LabelSelector {
            match_labels: Some(set(&[("foo", "bar"), ("baz", "blah")])),
            match_expressions: Some(vec![
                expression("a", "In", Some(&["x", "y"])),
                expression("c", "NotIn", Some(&["z"])),
                expression("d", "Exists", None),
                expression("e", "DoesNotExist", Some(&[])),
            ]),
        };
        let converted = Selector::try_from(&selector).expect("valid");
        assert_eq!(
            converted.to_string(),
            "a in (x,y),baz=blah,c notin (z),d,!e,foo=bar"
        );
        assert!(converted.matches(&set(&[
            ("foo", "bar"),
            ("baz", "blah"),
            ("a", "y"),
            ("d", "")
        ])));
        assert!(!converted.matches(&set(&[("foo", "bar"), ("baz", "blah"), ("a", "y")])));
    }

    #[test]
    fn label_selector_conversion_errors() {
        let cases: Vec<(LabelSelector, String)> = vec![
            (
                LabelSelector {
                    match_labels: Some(set(&[("foo", "a b")])),
                    match_expressions: None,
                },
                format!("values[0][foo]: Invalid value: \"a b\": {LABEL_VALUE_MESSAGE}"),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("a", "In", None)]),
                },
                "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".into(),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("a", "NotIn", Some(&[]))]),
                },
                "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".into(),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("a", "Exists", Some(&["x"]))]),
                },
                "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist".into(),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("a", "in", Some(&["x"]))]),
                },
                "\"in\" is not a valid label selector operator".into(),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("a", "Gt", Some(&["1"]))]),
                },
                "\"Gt\" is not a valid label selector operator".into(),
            ),
            (
                LabelSelector {
                    match_labels: None,
                    match_expressions: Some(vec![expression("-a", "In", None)]),
                },
                format!("[key: Invalid value: \"-a\": {NAME_PART_MESSAGE}, values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]"),
            ),
        ];
        for (selector, expected) in cases {
            let error = Selector::try_from(&selector).expect_err("invalid");
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(go_quote("plain"), "\"plain\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\n\t\u{1}\u{7f}"), "\"\\n\\t\\x01\\x7f\"");
        assert_eq!(go_quote("\u{85}é"), "\"\\u0085é\"");
    }

    #[test]
    fn from_str_parses() {
        let selector: Selector = "app=web".parse().expect("valid");
        assert_eq!(selector.to_string(), "app=web");
        assert!("a in".parse::<Selector>().is_err());
    }
}
