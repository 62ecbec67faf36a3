//! Continue tokens of paginated lists, in upstream's format: URL-safe base64 without
//! padding of `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key>"}`, where `start`
//! is the key to resume from relative to the list's prefix. Clients treat the token
//! as opaque; decoding also accepts standard padded base64.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// The only token version upstream has defined.
const TOKEN_VERSION: &str = "meta.k8s.io/v1";

#[derive(Serialize, Deserialize)]
struct Token {
    v: String,
    rv: i64,
    start: String,
}

/// Rejection of a continue token; the apiserver returns 400 BadRequest for it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContinueError {
    #[error("continue key is not valid: {0}")]
    Invalid(String),
}

/// A decoded token: the revision the list reads at and the absolute key to start at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinuePosition {
    pub revision: i64,
    pub start_key: String,
}

/// Encodes the position after `last_key` of a list under `prefix` read at `revision`.
/// The next page starts at the smallest key greater than `last_key`.
pub fn encode(prefix: &str, last_key: &str, revision: i64) -> String {
    let next = format!("{last_key}\0");
    let relative = next.strip_prefix(prefix).unwrap_or(&next).to_string();
    let token = Token {
        v: TOKEN_VERSION.to_string(),
        rv: revision,
        start: relative,
    };
    let json = serde_json::to_vec(&token).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a token for a list under `prefix`. Rejects tokens of another version, with
/// a non-positive revision, or whose key would escape the prefix.
pub fn decode(prefix: &str, token: &str) -> Result<ContinuePosition, ContinueError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .or_else(|_| STANDARD.decode(token))
        .map_err(|error| ContinueError::Invalid(error.to_string()))?;
    let token: Token = serde_json::from_slice(&bytes)
        .map_err(|error| ContinueError::Invalid(error.to_string()))?;
    if token.v != TOKEN_VERSION {
        return Err(ContinueError::Invalid(format!(
            "got version {:?}, expected {TOKEN_VERSION:?}",
            token.v
        )));
    }
    if token.rv <= 0 {
        return Err(ContinueError::Invalid(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into(),
        ));
    }
    if token.start.is_empty() {
        return Err(ContinueError::Invalid(
            "encoded start key is empty (version meta.k8s.io/v1)".into(),
        ));
    }
    // A relative key must not climb out of the prefix, as upstream checks.
    if token.start.starts_with('/') || token.start.split('/').any(|part| part == "..") {
        return Err(ContinueError::Invalid(
            "continue key is not valid: invalid start key".into(),
        ));
    }
    Ok(ContinuePosition {
        revision: token.rv,
        start_key: format!("{prefix}{}", token.start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips() {
        let token = encode("/registry/pods/", "/registry/pods/default/web-3", 42);
        let position = decode("/registry/pods/", &token).unwrap();
        assert_eq!(position.revision, 42);
        assert_eq!(position.start_key, "/registry/pods/default/web-3\0");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let bad_version = URL_SAFE_NO_PAD.encode(br#"{"v":"x","rv":1,"start":"a"}"#);
        let zero_revision = URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#);
        let escape =
            URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":3,"start":"../secrets/x"}"#);
        for token in [
            "%%%",
            "e30",
            bad_version.as_str(),
            zero_revision.as_str(),
            escape.as_str(),
        ] {
            assert!(decode("/registry/pods/", token).is_err(), "{token}");
        }
    }

    #[test]
    fn padded_standard_base64_is_accepted() {
        let padded = STANDARD.encode(br#"{"v":"meta.k8s.io/v1","rv":5,"start":"ns/a"}"#);
        let position = decode("/registry/pods/", &padded).unwrap();
        assert_eq!(position.start_key, "/registry/pods/ns/a");
    }
}
