//! Image references (`busybox`, `nginx:1.25`, `registry.k8s.io/pause@sha256:...`)
//! parsed and normalized the way the Docker distribution reference library does it:
//! a name without a registry host belongs to `docker.io`, and a single-component name on
//! `docker.io` lives under `library/`. Entry point: [`Reference::parse`].

use std::fmt;

use super::digest::Digest;

/// Registry host that short names resolve to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Old spelling of [`DEFAULT_DOMAIN`], rewritten during normalization.
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Repository prefix for single-component names on [`DEFAULT_DOMAIN`].
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Tag used when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Upper bound on `domain/path`, as in the distribution reference grammar.
const NAME_TOTAL_MAX_LENGTH: usize = 255;
const TAG_MAX_LENGTH: usize = 128;

/// Error for a string that is not a valid image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

/// A normalized image reference: registry host, repository path, optional tag and digest.
///
/// Parsing never leaves both tag and digest empty: a bare name gets the `latest` tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalizes `input`.
    ///
    /// # Errors
    /// [`ReferenceError`] when a name component has uppercase letters or invalid separators,
    /// the tag or digest is malformed, the name exceeds 255 characters, or the input is a
    /// bare 64-hex image id (which names no repository).
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let fail = |reason: &str| ReferenceError {
            reference: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(fail("reference is empty"));
        }
        if input.len() == 64 && input.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(
                "a 64-character hexadecimal string is an image id, not a repository name",
            ));
        }

        let (remainder, digest) = match input.split_once('@') {
            Some((name, digest)) => {
                let digest = Digest::parse(digest).map_err(|e| fail(&e.to_string()))?;
                (name, Some(digest))
            }
            None => (input, None),
        };

        let last_slash = remainder.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match remainder[last_slash..].rfind(':') {
            Some(colon) => {
                let split = last_slash + colon;
                (&remainder[..split], Some(&remainder[split + 1..]))
            }
            None => (remainder, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag).map_err(|reason| fail(&reason))?;
        }

        let (domain, path) = split_domain(name);
        validate_domain(&domain).map_err(|reason| fail(&reason))?;
        validate_path(&path).map_err(|reason| fail(&reason))?;
        if domain.len() + 1 + path.len() > NAME_TOTAL_MAX_LENGTH {
            return Err(fail(
                "repository name must not be longer than 255 characters",
            ));
        }

        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Self {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// Builds a reference to `repository` (already normalized) pinned to `digest`.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Repository path on the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Repository name with host (`docker.io/library/busybox`).
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Returns the tag or digest to request from the registry's manifest endpoint. The
    /// digest wins when both are present.
    pub fn manifest_selector(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// `repository:tag`, the form CRI reports in `repoTags`, if the reference has a tag.
    pub fn tagged_name(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|tag| format!("{}:{tag}", self.repository()))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Splits `name` into registry host and repository path. The first component is a host
/// when it contains `.` or `:`, is `localhost`, or has uppercase letters (which a path
/// component may not have).
fn split_domain(name: &str) -> (String, String) {
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    let domain = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN.to_string()
    } else {
        domain
    };
    let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{path}")
    } else {
        path
    };
    (domain, path)
}

fn validate_tag(tag: &str) -> Result<(), String> {
    let mut bytes = tag.bytes();
    let valid = tag.len() <= TAG_MAX_LENGTH
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}"
        ))
    }
}

/// Checks `host[:port]`: dot-separated labels of letters, digits and inner dashes, or a
/// bracketed IPv6 address, followed by an optional numeric port.
fn validate_domain(domain: &str) -> Result<(), String> {
    let invalid = || {
        Err(format!(
            "registry host {domain:?} is not a valid host[:port]"
        ))
    };
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        match rest.split_once(']') {
            Some((address, tail)) => {
                if address.parse::<std::net::Ipv6Addr>().is_err() {
                    return invalid();
                }
                match tail {
                    "" => return Ok(()),
                    tail => match tail.strip_prefix(':') {
                        Some(port) => ("", Some(port)),
                        None => return invalid(),
                    },
                }
            }
            None => return invalid(),
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return invalid();
    }
    if !domain.starts_with('[') {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return invalid();
        }
    }
    Ok(())
}

/// Checks each `/`-separated component against `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn validate_path(path: &str) -> Result<(), String> {
    for component in path.split('/') {
        if !path_component_valid(component) {
            return Err(format!(
                "repository path component {component:?} must be lowercase letters and \
                 digits, separated by '.', '_', '__' or dashes"
            ));
        }
    }
    Ok(())
}

fn path_component_valid(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut expect_alnum = true;
    if bytes.is_empty() {
        return false;
    }
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            expect_alnum = false;
            continue;
        }
        if expect_alnum {
            return false;
        }
        let separator_len = match bytes[i] {
            b'.' => 1,
            b'_' if bytes.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => bytes[i..].iter().take_while(|&&b| b == b'-').count(),
            _ => return false,
        };
        i += separator_len;
        expect_alnum = true;
    }
    !expect_alnum
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "4e4a6bd53bd2ab0ad4ba0b3d4bbd81ef0f8aca8fd0abf6ed2ed4a1ae2f4e5d7c";

    #[test]
    fn parse_normalizes_names() {
        let cases = [
            ("busybox", "docker.io/library/busybox:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("library/nginx", "docker.io/library/nginx:latest"),
            ("user/app:v1", "docker.io/user/app:v1"),
            ("docker.io/busybox", "docker.io/library/busybox:latest"),
            (
                "index.docker.io/busybox",
                "docker.io/library/busybox:latest",
            ),
            ("index.docker.io/user/app", "docker.io/user/app:latest"),
            ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"),
            (
                "127.0.0.1:5000/library/x:tag",
                "127.0.0.1:5000/library/x:tag",
            ),
            ("Example/app", "Example/app:latest"),
            ("[::1]:5000/app", "[::1]:5000/app:latest"),
            (
                "example.com/a.b-c__d/e--f.g_h",
                "example.com/a.b-c__d/e--f.g_h:latest",
            ),
        ];
        for (input, expected) in cases {
            let reference = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(reference.to_string(), expected, "input {input}");
        }
    }

    #[test]
    fn parse_keeps_digest_and_tag() {
        let with_digest = format!("busybox@sha256:{HEX}");
        let reference = Reference::parse(&with_digest).unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.manifest_selector(), format!("sha256:{HEX}"));
        assert_eq!(
            reference.to_string(),
            format!("docker.io/library/busybox@sha256:{HEX}")
        );

        let both = Reference::parse(&format!("busybox:1.36@sha256:{HEX}")).unwrap();
        assert_eq!(both.tag(), Some("1.36"));
        assert_eq!(both.manifest_selector(), format!("sha256:{HEX}"));
        assert_eq!(both.repository(), "docker.io/library/busybox");
        assert_eq!(
            both.tagged_name().as_deref(),
            Some("docker.io/library/busybox:1.36")
        );
    }

    #[test]
    fn parse_splits_port_from_tag() {
        let reference = Reference::parse("localhost:5000/app").unwrap();
        assert_eq!(reference.domain(), "localhost:5000");
        assert_eq!(reference.path(), "app");
        assert_eq!(reference.tag(), Some("latest"));
    }

    #[test]
    fn parse_rejects_invalid() {
        let long_name = format!("example.com/{}", "a".repeat(250));
        let cases = [
            "",
            "Busybox",
            "docker.io/Library/busybox",
            "busybox:",
            "busybox:-tag",
            "busybox:tag!",
            "busybox@sha256:abc",
            "busybox@md5:0123",
            "a//b",
            "a/b/",
            "_a",
            "a_",
            "a___b",
            "a..b",
            "example.com:port/app",
            "-example.com/app",
            HEX,
            long_name.as_str(),
        ];
        for input in cases {
            assert!(Reference::parse(input).is_err(), "{input:?} parsed");
        }
    }

    #[test]
    fn parse_error_names_reference() {
        let err = Reference::parse("Busybox").unwrap_err();
        assert!(err.to_string().contains("\"Busybox\""), "{err}");
    }
}
