//! The Docker credential keyring: registry credentials from a pod's
//! imagePullSecrets, looked up by image the way upstream's BasicDockerKeyring
//! matches them (Kubernetes v1.18 `pkg/credentialprovider`).
//!
//! A key is a registry location from a `.dockerconfigjson` (`auths` map) or
//! `.dockercfg` secret, normalized to `host[:port][/path]`: a scheme is dropped
//! and a leading `/v1/` or `/v2/` path counts as none. A key matches an image when
//! the ports are equal, the host names have as many dot-separated parts and each
//! part matches as a glob (`*.example.com`), and the key's path is a prefix of the
//! image's path. All matching credentials are returned, the keys in reverse
//! lexical order so that longer paths come first. An image on Docker Hub
//! (`busybox`, `library/busybox`, `docker.io/...`) also gets the credentials of
//! `index.docker.io` when no key matched it.
//!
//! Entry points: [`DockerKeyring::from_secrets`] and [`DockerKeyring::lookup`].

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;

const DEFAULT_REGISTRY_HOST: &str = "index.docker.io";

/// The credentials for one registry location, as CRI's AuthConfig carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthConfig {
    pub username: String,
    pub password: String,
    pub auth: String,
    pub server_address: String,
    pub identity_token: String,
    pub registry_token: String,
}

/// One entry of a Docker config file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfigEntry {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// base64 of `username:password`; takes precedence over the two fields.
    #[serde(default)]
    auth: String,
    #[serde(default, rename = "identitytoken")]
    identity_token: String,
    #[serde(default, rename = "registrytoken")]
    registry_token: String,
}

#[derive(Debug, Deserialize)]
struct DockerConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, DockerConfigEntry>,
}

/// Credentials indexed by normalized registry location.
#[derive(Debug, Default)]
pub struct DockerKeyring {
    credentials: BTreeMap<String, Vec<AuthConfig>>,
}

impl DockerKeyring {
    /// Builds a keyring from the `kubernetes.io/dockerconfigjson` and
    /// `kubernetes.io/dockercfg` secrets in `secrets`, in order.
    ///
    /// # Errors
    ///
    /// A message naming the secret whose data is missing or not valid JSON.
    /// Secrets of other types are skipped.
    pub fn from_secrets(secrets: &[Secret]) -> Result<Self, String> {
        let mut keyring = Self::default();
        for secret in secrets {
            let name = secret.metadata.name.as_deref().unwrap_or_default();
            let data = secret.data.as_ref();
            let entries = match secret.type_.as_deref() {
                Some("kubernetes.io/dockerconfigjson") => {
                    let raw = data
                        .and_then(|d| d.get(".dockerconfigjson"))
                        .ok_or_else(|| format!("secret {name:?} has no .dockerconfigjson key"))?;
                    serde_json::from_slice::<DockerConfigJson>(&raw.0)
                        .map_err(|e| format!("secret {name:?}: invalid .dockerconfigjson: {e}"))?
                        .auths
                }
                Some("kubernetes.io/dockercfg") => {
                    let raw = data
                        .and_then(|d| d.get(".dockercfg"))
                        .ok_or_else(|| format!("secret {name:?} has no .dockercfg key"))?;
                    serde_json::from_slice(&raw.0)
                        .map_err(|e| format!("secret {name:?}: invalid .dockercfg: {e}"))?
                }
                _ => continue,
            };
            keyring.add(entries);
        }
        Ok(keyring)
    }

    fn add(&mut self, entries: BTreeMap<String, DockerConfigEntry>) {
        for (location, entry) in entries {
            let mut config = AuthConfig {
                username: entry.username,
                password: entry.password,
                auth: entry.auth.clone(),
                server_address: location.clone(),
                identity_token: entry.identity_token,
                registry_token: entry.registry_token,
            };
            if let Some((user, password)) = decode_auth(&entry.auth) {
                config.username = user;
                config.password = password;
            }
            self.credentials
                .entry(normalize_location(&location))
                .or_default()
                .push(config);
        }
    }

    /// Returns the credentials for `image` (a reference without tag or digest
    /// works as well as one with), best match first; empty when none apply.
    pub fn lookup(&self, image: &str) -> Vec<AuthConfig> {
        let repository = repository(image);
        let mut found = Vec::new();
        for (key, configs) in self.credentials.iter().rev() {
            if location_matches(key, &repository) {
                found.extend(configs.iter().cloned());
            }
        }
        if found.is_empty()
            && is_default_registry_match(&repository)
            && let Some(configs) = self.credentials.get(DEFAULT_REGISTRY_HOST)
        {
            found.extend(configs.iter().cloned());
        }
        found
    }
}

/// Decodes a Docker config `auth` value (base64 of `user:password`).
fn decode_auth(auth: &str) -> Option<(String, String)> {
    if auth.is_empty() {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.trim_matches('\0').to_string()))
}

/// Splits a schemeless `host[:port][/path]` into host and path (with its
/// leading `/`, or empty).
fn split_host_path(location: &str) -> (&str, &str) {
    match location.find('/') {
        Some(slash) => location.split_at(slash),
        None => (location, ""),
    }
}

/// Normalizes a Docker config location to `host[:port][/path]`.
fn normalize_location(location: &str) -> String {
    let schemeless = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"))
        .unwrap_or(location);
    let (host, path) = split_host_path(schemeless);
    let path = path
        .strip_prefix("/v1/")
        .or_else(|| path.strip_prefix("/v2/"))
        .map(|rest| format!("/{rest}"))
        .unwrap_or_else(|| path.to_string());
    if path.is_empty() || path == "/" {
        host.to_string()
    } else {
        format!("{host}{path}")
    }
}

/// Strips the tag or digest from an image reference and names Docker Hub
/// explicitly (`busybox` becomes `docker.io/library/busybox`), as the Docker
/// reference parser that upstream uses before the lookup does.
fn repository(image: &str) -> String {
    let name = strip_tag(image);
    match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => name,
        Some(_) => format!("docker.io/{name}"),
    }
}

/// Strips the tag or digest from an image reference.
fn strip_tag(image: &str) -> String {
    let name = image.split('@').next().unwrap_or_default();
    let (host_part, rest) = split_host_path(name);
    // A `:` in the last path component is a tag; one in the host is a port.
    if rest.is_empty() {
        return host_part
            .split_once(':')
            .map_or(host_part, |(n, _)| n)
            .to_string();
    }
    let (directory, last) = rest.rsplit_once('/').unwrap_or(("", rest));
    let last = last.split_once(':').map_or(last, |(n, _)| n);
    format!("{host_part}{directory}/{last}")
}

/// Splits `host[:port]` into dot-separated host parts and the port.
fn host_parts(host: &str) -> (Vec<&str>, &str) {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => (name, port),
        _ => (host, ""),
    };
    (name.split('.').collect(), port)
}

/// Matches a normalized key against an image repository: equal ports, equal
/// numbers of host parts each matching as a glob, and the key's path a prefix of
/// the image's.
fn location_matches(key: &str, repository: &str) -> bool {
    let (key_host, key_path) = split_host_path(key);
    let (image_host, image_path) = split_host_path(repository);
    let (key_parts, key_port) = host_parts(key_host);
    let (image_parts, image_port) = host_parts(image_host);
    key_port == image_port
        && key_parts.len() == image_parts.len()
        && image_path.starts_with(key_path)
        && key_parts
            .iter()
            .zip(&image_parts)
            .all(|(pattern, part)| glob_match(pattern.as_bytes(), part.as_bytes()))
}

/// Matches `*` (any run of characters) and `?` (one character) in `pattern`.
///
/// NOTE: character classes (`[a-z]`), which upstream's filepath.Match also
/// accepts, are compared literally.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob_match(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && glob_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

/// True for images on Docker Hub: no registry host, or `docker.io` or
/// `index.docker.io`. A first component without `.` or `:` is a Docker Hub
/// namespace, not a host, as the Docker client decides it.
fn is_default_registry_match(repository: &str) -> bool {
    let Some((first, _)) = repository.split_once('/') else {
        return !repository.is_empty();
    };
    if first.is_empty() {
        return false;
    }
    first == "docker.io" || first == DEFAULT_REGISTRY_HOST || !first.contains(['.', ':'])
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn secret(name: &str, type_: &str, key: &str, json: &str) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            type_: Some(type_.to_string()),
            data: Some(BTreeMap::from([(
                key.to_string(),
                ByteString(json.as_bytes().to_vec()),
            )])),
            ..Default::default()
        }
    }

    fn keyring(locations: &[&str]) -> DockerKeyring {
        let auths: Vec<String> = locations
            .iter()
            .map(|l| format!("{l:?}: {{\"username\": {l:?}, \"password\": \"p\"}}"))
            .collect();
        let json = format!("{{\"auths\": {{{}}}}}", auths.join(","));
        let secrets = [secret(
            "pull",
            "kubernetes.io/dockerconfigjson",
            ".dockerconfigjson",
            &json,
        )];
        DockerKeyring::from_secrets(&secrets).unwrap()
    }

    fn users(keyring: &DockerKeyring, image: &str) -> Vec<String> {
        keyring
            .lookup(image)
            .into_iter()
            .map(|c| c.username)
            .collect()
    }

    #[test]
    fn keyring_matches_by_registry_host() {
        let cases: &[(&[&str], &str, &[&str])] = &[
            (
                &["registry.local:5000"],
                "registry.local:5000/app:1.0",
                &["registry.local:5000"],
            ),
            (
                &["https://registry.local:5000/v2/"],
                "registry.local:5000/app",
                &["https://registry.local:5000/v2/"],
            ),
            (&["registry.local:5000"], "registry.local:5001/app", &[]),
            (&["registry.local"], "registry.local:5000/app", &[]),
            (
                &["*.example.com"],
                "eu.example.com/team/app",
                &["*.example.com"],
            ),
            (&["*.example.com"], "example.com/app", &[]),
            (&["*.example.com"], "a.b.example.com/app", &[]),
            (
                &["quay.io/team"],
                "quay.io/team/app@sha256:abc",
                &["quay.io/team"],
            ),
            (&["quay.io/team"], "quay.io/other/app", &[]),
            (
                &["quay.io", "quay.io/team"],
                "quay.io/team/app",
                &["quay.io/team", "quay.io"],
            ),
            (
                &["https://index.docker.io/v1/"],
                "busybox",
                &["https://index.docker.io/v1/"],
            ),
            (
                &["https://index.docker.io/v1/"],
                "library/busybox:1.36",
                &["https://index.docker.io/v1/"],
            ),
            (
                &["https://index.docker.io/v1/"],
                "docker.io/library/busybox",
                &["https://index.docker.io/v1/"],
            ),
            (&["https://index.docker.io/v1/"], "quay.io/app", &[]),
            (&["docker.io"], "busybox", &["docker.io"]),
            (&["https://index.docker.io/v1/"], "localhost:5000/app", &[]),
        ];
        for (locations, image, expected) in cases {
            assert_eq!(
                users(&keyring(locations), image),
                *expected,
                "image {image} against {locations:?}"
            );
        }
    }

    #[test]
    fn keyring_decodes_auth_and_dockercfg() {
        // base64("alice:s3cret")
        let json = r#"{"registry.local:5000": {"auth": "YWxpY2U6czNjcmV0", "email": "a@b"}}"#;
        let secrets = [
            secret("cfg", "kubernetes.io/dockercfg", ".dockercfg", json),
            secret("other", "Opaque", "x", "not json"),
        ];
        let keyring = DockerKeyring::from_secrets(&secrets).unwrap();

        let found = keyring.lookup("registry.local:5000/app");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].username, "alice");
        assert_eq!(found[0].password, "s3cret");
        assert_eq!(found[0].server_address, "registry.local:5000");
    }

    #[test]
    fn keyring_rejects_invalid_secret() {
        let secrets = [secret(
            "broken",
            "kubernetes.io/dockerconfigjson",
            ".dockerconfigjson",
            "{",
        )];
        let error = DockerKeyring::from_secrets(&secrets).unwrap_err();
        assert!(error.contains("\"broken\""), "{error}");
    }

    #[test]
    fn repository_strips_tag_and_digest() {
        assert_eq!(repository("busybox:1.36"), "docker.io/library/busybox");
        assert_eq!(repository("team/app"), "docker.io/team/app");
        assert_eq!(repository("localhost/app:1"), "localhost/app");
        assert_eq!(repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository("localhost:5000/app:v1"), "localhost:5000/app");
        assert_eq!(repository("quay.io/a/b@sha256:00"), "quay.io/a/b");
    }
}
