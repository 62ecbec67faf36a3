//! Field selectors: parsing `?fieldSelector=` strings such as
//! `metadata.name=web,status.phase!=Running`, matching an object's selectable fields, and
//! printing the canonical string.
//!
//! Enter through [`parse`], then [`Selector::matches`] against the fields a resource
//! strategy exposes, and [`Selector::requirements`] to check each field name against the
//! resource's supported set. Only `=`, `==` and `!=` exist. In values, `\,`, `\=` and `\\`
//! escape the special characters, but field names cannot be escaped. Behaviour and error texts
//! follow Kubernetes v1.33 (`k8s.io/apimachinery/pkg/fields`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

/// Read access to an object's selectable fields (`metadata.name`, `spec.nodeName`, ...).
pub trait Fields {
    /// Returns the value of `field`, or `None` when the object does not expose it. A missing
    /// field matches like an empty value.
    fn get(&self, field: &str) -> Option<&str>;
}

impl Fields for BTreeMap<String, String> {
    fn get(&self, field: &str) -> Option<&str> {
        BTreeMap::get(self, field).map(String::as_str)
    }
}

impl<S: BuildHasher> Fields for HashMap<String, String, S> {
    fn get(&self, field: &str) -> Option<&str> {
        HashMap::get(self, field).map(String::as_str)
    }
}

impl<T: Fields> Fields for Option<T> {
    fn get(&self, field: &str) -> Option<&str> {
        self.as_ref().and_then(|fields| fields.get(field))
    }
}

/// Relation between a field and a value. `==` parses as [`Operator::Equals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

impl Operator {
    /// Returns the operator as printed in a selector: "=" or "!=".
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
        }
    }
}

/// One term of a field selector, with the value unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// Field name, such as `metadata.name`.
    pub field: String,
    /// Comparison applied to the field.
    pub operator: Operator,
    /// Expected value, unescaped.
    pub value: String,
}

impl Requirement {
    /// Reports whether `fields` satisfy the term. A missing field counts as "".
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        let actual = fields.get(&self.field).unwrap_or("");
        match self.operator {
            Operator::Equals => actual == self.value,
            Operator::NotEquals => actual != self.value,
        }
    }
}

/// Prints `field=value` or `field!=value` with the value escaped.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator.as_str(),
            escape_value(&self.value)
        )
    }
}

/// Error from [`parse`], with upstream's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A term has no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    InvalidTerm {
        /// The whole selector string.
        selector: String,
        /// The term that has no operator.
        term: String,
    },
    /// A value has a backslash that is not followed by `\`, `,` or `=`.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscapeSequence(String),
    /// A value has a `,` or `=` without a backslash. Upstream prints the character's code
    /// point in decimal, so `=` shows as 61.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    UnescapedCharacter(char),
}

/// A field selector: terms that must all match.
///
/// [`Selector::everything`] (also the default) has no terms. [`Selector::nothing`] matches
/// no object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    terms: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// Returns the selector that matches every object.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Returns the selector that matches no object.
    pub fn nothing() -> Selector {
        Selector {
            terms: Vec::new(),
            nothing: true,
        }
    }

    /// Returns a selector with the single term `field=value`.
    pub fn one_term_equal(field: impl Into<String>, value: impl Into<String>) -> Selector {
        Selector::from_terms(vec![Requirement {
            field: field.into(),
            operator: Operator::Equals,
            value: value.into(),
        }])
    }

    /// Returns a selector with the single term `field!=value`.
    pub fn one_term_not_equal(field: impl Into<String>, value: impl Into<String>) -> Selector {
        Selector::from_terms(vec![Requirement {
            field: field.into(),
            operator: Operator::NotEquals,
            value: value.into(),
        }])
    }

    /// Returns a selector requiring each field of `set` to have its value, in field order.
    pub fn from_set(set: &BTreeMap<String, String>) -> Selector {
        let terms = set
            .iter()
            .map(|(field, value)| Requirement {
                field: field.clone(),
                operator: Operator::Equals,
                value: value.clone(),
            })
            .collect();
        Selector::from_terms(terms)
    }

    /// Returns a selector with the given terms, in the given order.
    pub fn from_terms(terms: Vec<Requirement>) -> Selector {
        Selector {
            terms,
            nothing: false,
        }
    }

    /// Returns the selector that requires all of `selectors`. It matches nothing if any of
    /// them is [`Selector::nothing`].
    pub fn and(selectors: impl IntoIterator<Item = Selector>) -> Selector {
        let mut combined = Selector::everything();
        for selector in selectors {
            combined.nothing |= selector.nothing;
            combined.terms.extend(selector.terms);
        }
        combined
    }

    /// Reports whether the selector places no restriction (upstream `Empty`). It is false
    /// for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.terms.is_empty()
    }

    /// Reports whether `fields` satisfy every term.
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        !self.nothing && self.terms.iter().all(|term| term.matches(fields))
    }

    /// Returns the terms, so that a caller can check each field name against the fields a
    /// resource supports. [`Selector::nothing`] has none.
    pub fn requirements(&self) -> &[Requirement] {
        &self.terms
    }

    /// Returns the value that the first `field=value` term on `field` requires, so that a
    /// cache can serve the request from an index. `!=` terms never count.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|term| term.operator == Operator::Equals && term.field == field)
            .map(|term| term.value.as_str())
    }

    /// Rewrites every term's field and value with `transform`, which is how the apiserver
    /// maps field-label aliases. A term whose field and value both become empty is dropped.
    ///
    /// # Errors
    ///
    /// Returns the first error of `transform`.
    pub fn transform<E>(
        self,
        mut transform: impl FnMut(&str, &str) -> Result<(String, String), E>,
    ) -> Result<Selector, E> {
        let mut terms = Vec::with_capacity(self.terms.len());
        for term in self.terms {
            let (field, value) = transform(&term.field, &term.value)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(Requirement {
                field,
                operator: term.operator,
                value,
            });
        }
        Ok(Selector {
            terms,
            nothing: self.nothing,
        })
    }
}

/// Prints the terms joined by ",", values escaped. Both [`Selector::everything`] and
/// [`Selector::nothing`] print as "".
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, term) in self.terms.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{term}")?;
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

/// Parses a field selector string. Terms are split at unescaped commas and sorted as raw
/// strings, so the printed form is deterministic. Empty terms are skipped, and so is a term
/// with an empty field and an empty value (`=`). An empty string gives
/// [`Selector::everything`].
///
/// # Errors
///
/// Returns [`ParseError::InvalidTerm`] for a term without an operator, and the escape errors
/// for a malformed value.
pub fn parse(selector: &str) -> Result<Selector, ParseError> {
    parse_and_transform(selector, |field, value| {
        Ok::<_, ParseError>((field.to_string(), value.to_string()))
    })
}

/// Parses like [`parse`], then applies [`Selector::transform`] with `transform`.
///
/// # Errors
///
/// Returns the parse error, or the first error of `transform` converted into `E`.
pub fn parse_and_transform<E: From<ParseError>>(
    selector: &str,
    transform: impl FnMut(&str, &str) -> Result<(String, String), E>,
) -> Result<Selector, E> {
    let mut parts = split_terms(selector);
    parts.sort_unstable();

    let mut terms = Vec::with_capacity(parts.len());
    for part in parts {
        if part.is_empty() {
            continue;
        }
        let Some((field, operator, raw_value)) = split_term(part) else {
            return Err(ParseError::InvalidTerm {
                selector: selector.to_string(),
                term: part.to_string(),
            }
            .into());
        };
        terms.push(Requirement {
            field: field.to_string(),
            operator,
            value: unescape_value(raw_value)?,
        });
    }
    Selector::from_terms(terms).transform(transform)
}

/// Escapes `\`, `,` and `=` with a backslash, so that any string can be a selector value.
pub fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        if matches!(character, '\\' | ',' | '=') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Reverses [`escape_value`].
///
/// # Errors
///
/// Returns [`ParseError::InvalidEscapeSequence`] for a backslash before any other character
/// or at the end, and [`ParseError::UnescapedCharacter`] for a bare `,` or `=`.
pub fn unescape_value(value: &str) -> Result<String, ParseError> {
    let mut unescaped = String::with_capacity(value.len());
    let mut after_backslash = false;
    for character in value.chars() {
        if after_backslash {
            if !matches!(character, '\\' | ',' | '=') {
                return Err(ParseError::InvalidEscapeSequence(format!("\\{character}")));
            }
            unescaped.push(character);
            after_backslash = false;
            continue;
        }
        match character {
            '\\' => after_backslash = true,
            ',' | '=' => return Err(ParseError::UnescapedCharacter(character)),
            _ => unescaped.push(character),
        }
    }
    if after_backslash {
        return Err(ParseError::InvalidEscapeSequence("\\".to_string()));
    }
    Ok(unescaped)
}

/// Splits at commas that no backslash escapes. Escapes stay in the terms.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut after_backslash = false;
    for (index, character) in selector.char_indices() {
        if after_backslash {
            after_backslash = false;
        } else if character == '\\' {
            after_backslash = true;
        } else if character == ',' {
            terms.push(&selector[start..index]);
            start = index + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits a term at the first operator: "!=" is tried before "==", and "==" before "=", at
/// each position.
fn split_term(term: &str) -> Option<(&str, Operator, &str)> {
    const OPERATORS: [(&str, Operator); 3] = [
        ("!=", Operator::NotEquals),
        ("==", Operator::Equals),
        ("=", Operator::Equals),
    ];
    for (index, _) in term.char_indices() {
        let rest = &term[index..];
        for (text, operator) in OPERATORS {
            if let Some(value) = rest.strip_prefix(text) {
                return Some((&term[..index], operator, value));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn split_terms_cases() {
        let cases: &[(&str, &[&str])] = &[
            ("a", &["a"]),
            ("a=avalue", &["a=avalue"]),
            ("a=avalue,b=bvalue", &["a=avalue", "b=bvalue"]),
            (
                "a=avalue,b==bvalue,c!=cvalue",
                &["a=avalue", "b==bvalue", "c!=cvalue"],
            ),
            ("", &[]),
            ("a=a,", &["a=a", ""]),
            (",a=a", &["", "a=a"]),
            (r"k=\,,k2=v2", &[r"k=\,", "k2=v2"]),
            (r"k=\\,k2=v2", &[r"k=\\", "k2=v2"]),
            (r"k=\\\,,k2=v2", &[r"k=\\\,", "k2=v2"]),
            (r"k=\a\b\", &[r"k=\a\b\"]),
            (r"k=\", &[r"k=\"]),
            ("함=수,목=록", &["함=수", "목=록"]),
        ];
        for (selector, expected) in cases {
            assert_eq!(split_terms(selector), *expected, "{selector}");
        }
    }

    /// A term and its field, operator and raw value, or `None` when it has no operator.
    type SplitCase = (&'static str, Option<(&'static str, Operator, &'static str)>);

    #[test]
    fn split_term_cases() {
        let cases: &[SplitCase] = &[
            ("a=value", Some(("a", Operator::Equals, "value"))),
            ("b==value", Some(("b", Operator::Equals, "value"))),
            ("c!=value", Some(("c", Operator::NotEquals, "value"))),
            ("", None),
            ("a", None),
            (r"k=\,", Some(("k", Operator::Equals, r"\,"))),
            (r"k=\=", Some(("k", Operator::Equals, r"\="))),
            (
                r"k=\\\a\b\=\,\",
                Some(("k", Operator::Equals, r"\\\a\b\=\,\")),
            ),
            ("함=수", Some(("함", Operator::Equals, "수"))),
            ("=v", Some(("", Operator::Equals, "v"))),
        ];
        for (term, expected) in cases {
            assert_eq!(split_term(term), *expected, "{term}");
        }
    }

    #[test]
    fn escape_round_trip() {
        let cases = [
            ("", ""),
            ("a", "a"),
            ("=", r"\="),
            (",", r"\,"),
            (r"\", r"\\"),
            (r"\=\,\", r"\\\=\\\,\\"),
        ];
        for (raw, escaped) in cases {
            assert_eq!(escape_value(raw), escaped);
            assert_eq!(unescape_value(escaped), Ok(raw.to_string()));
        }
    }

    #[test]
    fn unescape_errors() {
        let cases = [
            (r"\", "invalid field selector: invalid escape sequence: \\"),
            (
                r"\\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                r"\a",
                "invalid field selector: invalid escape sequence: \\a",
            ),
            (
                "a=b",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a,b",
                "invalid field selector: unescaped character in value: 44",
            ),
        ];
        for (value, expected) in cases {
            let error = unescape_value(value).expect_err(value);
            assert_eq!(error.to_string(), expected, "{value}");
        }
    }

    #[test]
    fn parse_prints_canonical_form() {
        let cases = [
            ("x=a,y=b,z=c", "x=a,y=b,z=c"),
            ("", ""),
            ("x!=a,y=b", "x!=a,y=b"),
            (r"x=a||y\=b", r"x=a||y\=b"),
            (r"x=a\=\=b", r"x=a\=\=b"),
            ("x=a,a=x", "a=x,x=a"),
            ("a=x,x=a", "a=x,x=a"),
            ("b==v", "b=v"),
            ("a=a,", "a=a"),
            (",,a=a", "a=a"),
            ("=", ""),
            ("!=", ""),
            ("=,a=b", "a=b"),
            ("x=", "x="),
            (
                "metadata.name=web,spec.nodeName!=",
                "metadata.name=web,spec.nodeName!=",
            ),
            (r"k=\,", r"k=\,"),
            // Terms are sorted as raw strings, before the operator is found.
            ("a==2,a=1", "a=1,a=2"),
        ];
        for (input, expected) in cases {
            let selector = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(selector.to_string(), expected, "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        let cases = [
            (
                "x=a||y=b",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "x==a==b",
                "invalid field selector: unescaped character in value: 61",
            ),
            ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
            (
                "x in (a)",
                "invalid selector: 'x in (a)'; can't understand 'x in (a)'",
            ),
            (
                "x in (a,b,c)",
                "invalid selector: 'x in (a,b,c)'; can't understand 'b'",
            ),
            ("x", "invalid selector: 'x'; can't understand 'x'"),
            (
                r"x=\a",
                "invalid field selector: invalid escape sequence: \\a",
            ),
            (
                r"x=a\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                r"a\=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
        ];
        for (input, expected) in cases {
            let error = parse(input).expect_err(input);
            assert_eq!(error.to_string(), expected, "{input}");
        }
    }

    #[test]
    fn selector_matches_field_sets() {
        let fields = set(&[("foo", "bar"), ("baz", "blah"), ("complex", r"=value\,\")]);
        let cases: &[(&str, &BTreeMap<String, String>, bool)] = &[
            ("", &set(&[("x", "y")]), true),
            ("x=y", &set(&[("x", "y")]), true),
            ("x=y,z=w", &set(&[("x", "y"), ("z", "w")]), true),
            ("x!=y,z!=w", &set(&[("x", "z"), ("z", "a")]), true),
            ("notin=in", &set(&[("notin", "in")]), true),
            ("x=y", &set(&[("x", "z")]), false),
            ("x=y,z=w", &set(&[("x", "w"), ("z", "w")]), false),
            ("x!=y,z!=w", &set(&[("x", "z"), ("z", "w")]), false),
            ("foo=bar", &fields, true),
            ("baz=blah", &fields, true),
            ("foo=bar,baz=blah", &fields, true),
            (r"foo=bar,baz=blah,complex=\=value\\\,\\", &fields, true),
            ("foo=blah", &fields, false),
            ("baz=bar", &fields, false),
            ("foo=bar,foobar=bar,baz=blah", &fields, false),
            // A missing field compares as the empty string.
            ("missing=", &fields, true),
            ("missing!=", &fields, false),
            ("missing!=x", &fields, true),
        ];
        for (selector, fields, expected) in cases {
            let parsed = parse(selector).unwrap_or_else(|e| panic!("{selector}: {e}"));
            assert_eq!(parsed.matches(*fields), *expected, "{selector}");
        }
    }

    #[test]
    fn everything_and_nothing() {
        assert!(Selector::everything().is_empty());
        assert!(Selector::everything().matches(&set(&[("x", "y")])));
        assert_eq!(Selector::everything().to_string(), "");
        assert_eq!(parse("").expect("empty"), Selector::everything());

        assert!(!Selector::nothing().is_empty());
        assert!(!Selector::nothing().matches(&set(&[("x", "y")])));
        assert_eq!(Selector::nothing().to_string(), "");
        assert!(Selector::nothing().requirements().is_empty());
        assert!(
            !Selector::and([Selector::one_term_equal("a", "b"), Selector::nothing()])
                .matches(&set(&[("a", "b")]))
        );
    }

    #[test]
    fn constructors() {
        let single_term = Selector::one_term_equal("x", "y");
        assert!(single_term.matches(&set(&[("x", "y")])));
        assert!(!single_term.matches(&set(&[("x", "z")])));
        assert_eq!(single_term.to_string(), "x=y");

        let not_equal = Selector::one_term_not_equal("x", "a,b");
        assert_eq!(not_equal.to_string(), r"x!=a\,b");
        assert_eq!(parse(&not_equal.to_string()), Ok(not_equal.clone()));

        let from_set = Selector::from_set(&set(&[("foo", "bar"), ("baz", "blah")]));
        assert_eq!(from_set.to_string(), "baz=blah,foo=bar");
        assert!(from_set.matches(&set(&[("foo", "bar"), ("baz", "blah")])));
        assert!(!Selector::from_set(&set(&[("foo", "=blah")])).matches(&set(&[("foo", "bar")])));
        assert!(Selector::from_set(&set(&[])).is_empty());

        let combined = Selector::and([single_term, from_set]);
        assert_eq!(combined.to_string(), "x=y,baz=blah,foo=bar");
        assert_eq!(combined.requirements().len(), 3);
    }

    #[test]
    fn requirements_list_terms() {
        let selector = parse("spec.nodeName=n1,metadata.name!=a").expect("valid");
        assert_eq!(
            selector.requirements(),
            &[
                Requirement {
                    field: "metadata.name".into(),
                    operator: Operator::NotEquals,
                    value: "a".into(),
                },
                Requirement {
                    field: "spec.nodeName".into(),
                    operator: Operator::Equals,
                    value: "n1".into(),
                },
            ]
        );
    }

    #[test]
    fn requires_exact_match_cases() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("", "test", None),
            ("a=b", "test", None),
            ("test=b", "test", Some("b")),
            ("test=", "test", Some("")),
            ("test!=b", "test", None),
            ("test!=", "test", None),
            ("a=c,test=b", "test", Some("b")),
            ("test!=c,test=b", "test", Some("b")),
        ];
        for (selector, field, expected) in cases {
            let parsed = parse(selector).expect("valid");
            assert_eq!(parsed.requires_exact_match(field), *expected, "{selector}");
        }
    }

    #[test]
    fn transform_rewrites_and_drops() {
        let identity =
            |field: &str, value: &str| Ok::<_, ParseError>((field.to_string(), value.to_string()));
        let selector = parse("a=b,c=d")
            .expect("valid")
            .transform(identity)
            .expect("ok");
        assert_eq!(selector.to_string(), "a=b,c=d");

        let renamed = parse("a=b,c=d")
            .expect("valid")
            .transform(|field, value| {
                Ok::<_, ParseError>((format!("{field}{field}"), format!("{value}{value}")))
            })
            .expect("ok");
        assert_eq!(renamed.to_string(), "aa=bb,cc=dd");

        let dropped = parse("a=b,c=d")
            .expect("valid")
            .transform(|field, value| {
                if field == "a" {
                    Ok::<_, ParseError>((String::new(), String::new()))
                } else {
                    Ok((field.to_string(), value.to_string()))
                }
            })
            .expect("ok");
        assert_eq!(dropped.to_string(), "c=d");

        let all_dropped = parse("a=b")
            .expect("valid")
            .transform(|_, _| Ok::<_, ParseError>((String::new(), String::new())))
            .expect("ok");
        assert!(all_dropped.is_empty());

        let failed = parse_and_transform("a=b", |field, _| {
            Err(ParseError::InvalidTerm {
                selector: field.to_string(),
                term: "unsupported".to_string(),
            })
        });
        assert_eq!(
            failed.map_err(|e| e.to_string()),
            Err("invalid selector: 'a'; can't understand 'unsupported'".to_string())
        );
    }
}
