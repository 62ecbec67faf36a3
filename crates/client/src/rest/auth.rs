//! Request headers that identify and authenticate the client: Authorization (bearer
//! token, token file or basic auth), impersonation and User-Agent.
//!
//! [`Credentials::from_config`] validates an [`AuthConfig`] once; [`Credentials::apply`]
//! adds the headers to each request. A token file is re-read when its cached copy is
//! older than [`TOKEN_FILE_REFRESH`], so rotated service account tokens are picked up.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use http::HeaderValue;
use http::header::{AUTHORIZATION, HeaderMap, USER_AGENT};

use super::ClientError;
use crate::config::AuthConfig;
use crate::config::exec::{ClusterInfo, ExecCredentialCache};

/// How long a token read from a file is used before the file is read again.
pub const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(60);

const IMPERSONATE_USER: &str = "Impersonate-User";
const IMPERSONATE_GROUP: &str = "Impersonate-Group";

/// The credentials of a client.
#[derive(Debug)]
pub struct Credentials {
    authorization: Authorization,
    impersonate_user: Option<HeaderValue>,
    impersonate_groups: Vec<HeaderValue>,
    user_agent: HeaderValue,
}

#[derive(Debug)]
enum Authorization {
    None,
    /// A fixed header: a bearer token or basic auth.
    Fixed(HeaderValue),
    TokenFile {
        path: PathBuf,
        cached: Mutex<Option<(HeaderValue, Instant)>>,
    },
    /// A bearer token from an exec credential plugin, added per request by
    /// [`Credentials::exec_authorization`].
    Exec(Box<ExecCredentialCache>),
}

impl std::fmt::Debug for ExecCredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExecCredentialCache")
    }
}

impl Credentials {
    /// Validates the credentials of a config. An empty `user_agent` gets
    /// [`default_user_agent`].
    ///
    /// # Errors
    /// [`ClientError::Config`] when a token and basic auth are both set, or when a
    /// value cannot be sent as a header. An exec plugin is used only when neither a
    /// token nor basic auth is set; `cluster` is what it gets with
    /// `provideClusterInfo`.
    pub fn from_config(
        auth: &AuthConfig,
        user_agent: &str,
        cluster: Option<ClusterInfo>,
    ) -> Result<Self, ClientError> {
        let has_token = auth.token.is_some() || auth.token_file.is_some();
        let has_basic = auth.username.is_some() || auth.password.is_some();
        if has_token && has_basic {
            return Err(ClientError::Config(
                "username/password or bearer token may be set, but not both".to_string(),
            ));
        }
        let authorization = if let Some(token) = &auth.token {
            Authorization::Fixed(bearer(token)?)
        } else if let Some(path) = &auth.token_file {
            Authorization::TokenFile {
                path: path.clone(),
                cached: Mutex::new(None),
            }
        } else if has_basic {
            let username = auth.username.as_deref().unwrap_or_default();
            let password = auth.password.as_deref().unwrap_or_default();
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            Authorization::Fixed(header_value("basic auth", &format!("Basic {encoded}"))?)
        } else if let Some(exec) = &auth.exec {
            let cluster = cluster.filter(|_| exec.provide_cluster_info);
            Authorization::Exec(Box::new(ExecCredentialCache::new(exec.clone(), cluster)))
        } else {
            Authorization::None
        };

        let user_agent = if user_agent.is_empty() {
            default_user_agent()
        } else {
            user_agent.to_string()
        };

        Ok(Self {
            authorization,
            impersonate_user: auth
                .impersonate_user
                .as_deref()
                .map(|user| header_value(IMPERSONATE_USER, user))
                .transpose()?,
            impersonate_groups: auth
                .impersonate_groups
                .iter()
                .map(|group| header_value(IMPERSONATE_GROUP, group))
                .collect::<Result<_, _>>()?,
            user_agent: header_value("User-Agent", &user_agent)?,
        })
    }

    /// Adds the Authorization, impersonation and User-Agent headers.
    ///
    /// # Errors
    /// [`ClientError::ReadFile`] when the token file cannot be read, and
    /// [`ClientError::Config`] when its token cannot be sent as a header.
    pub fn apply(&self, headers: &mut HeaderMap) -> Result<(), ClientError> {
        if let Some(value) = self.authorization_header()? {
            headers.insert(AUTHORIZATION, value);
        }
        if let Some(user) = &self.impersonate_user {
            headers.insert(IMPERSONATE_USER, user.clone());
        }
        for group in &self.impersonate_groups {
            headers.append(IMPERSONATE_GROUP, group.clone());
        }
        headers.insert(USER_AGENT, self.user_agent.clone());
        Ok(())
    }

    /// Returns the Authorization header from the exec plugin, running it when its
    /// cached credential is missing or expired; `None` without a plugin.
    ///
    /// # Errors
    /// [`ClientError::Config`] when the plugin fails or returns no token.
    pub async fn exec_authorization(&self) -> Result<Option<HeaderValue>, ClientError> {
        let Authorization::Exec(cache) = &self.authorization else {
            return Ok(None);
        };
        let credential = cache
            .credential()
            .await
            .map_err(|error| ClientError::Config(format!("getting credentials: {error}")))?;
        // NOTE: a client certificate from a plugin is not used; TLS settings are
        // fixed when the client is built.
        match credential.token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => bearer(token).map(Some),
            None => Err(ClientError::Config(
                "getting credentials: exec plugin returned a client certificate, which is not supported; only tokens are".to_string(),
            )),
        }
    }

    /// Drops a plugin's cached credential after a 401, so the next request runs
    /// the plugin again.
    pub async fn unauthorized(&self) {
        if let Authorization::Exec(cache) = &self.authorization {
            cache.invalidate().await;
        }
    }

    fn authorization_header(&self) -> Result<Option<HeaderValue>, ClientError> {
        match &self.authorization {
            Authorization::None | Authorization::Exec(_) => Ok(None),
            Authorization::Fixed(value) => Ok(Some(value.clone())),
            Authorization::TokenFile { path, cached } => {
                let mut cached = cached.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((value, read_at)) = cached.as_ref()
                    && read_at.elapsed() < TOKEN_FILE_REFRESH
                {
                    return Ok(Some(value.clone()));
                }

                let text =
                    std::fs::read_to_string(path).map_err(|source| ClientError::ReadFile {
                        path: path.clone(),
                        source,
                    })?;
                let value = bearer(text.trim())?;
                *cached = Some((value.clone(), Instant::now()));
                Ok(Some(value))
            }
        }
    }
}

fn bearer(token: &str) -> Result<HeaderValue, ClientError> {
    let mut value = header_value("bearer token", &format!("Bearer {token}"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Converts a configured string into a header value; the error names the setting
/// but never its value, which may be a secret.
fn header_value(setting: &str, value: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(value).map_err(|_| {
        ClientError::Config(format!(
            "{setting} contains characters invalid in an HTTP header"
        ))
    })
}

/// Builds client-go's default User-Agent: `<binary>/v<version> (<os>/<arch>)
/// kubernetes/unknown`, with Go's names for the OS and architecture (`amd64`,
/// `arm64`) and the binary's file name from the process arguments.
pub fn default_user_agent() -> String {
    let binary = std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    user_agent_for(&binary, std::env::consts::OS, std::env::consts::ARCH)
}

fn user_agent_for(binary: &str, os: &str, arch: &str) -> String {
    let arch = match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    let version = env!("CARGO_PKG_VERSION");
    format!("{binary}/v{version} ({os}/{arch}) kubernetes/unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_uses_go_arch_names() {
        let cases = [
            (
                "kubelet",
                "linux",
                "x86_64",
                "kubelet/v0.1.0 (linux/amd64) kubernetes/unknown",
            ),
            (
                "kubectl",
                "linux",
                "aarch64",
                "kubectl/v0.1.0 (linux/arm64) kubernetes/unknown",
            ),
            (
                "x",
                "linux",
                "s390x",
                "x/v0.1.0 (linux/s390x) kubernetes/unknown",
            ),
        ];
        for (binary, os, arch, expected) in cases {
            assert_eq!(user_agent_for(binary, os, arch), expected);
        }
    }

    #[test]
    fn headers_from_config() {
        let auth = AuthConfig {
            token: Some("abc".to_string()),
            impersonate_user: Some("jane".to_string()),
            impersonate_groups: vec!["a".to_string(), "b".to_string()],
            ..AuthConfig::default()
        };
        let credentials = Credentials::from_config(&auth, "agent/1", None).expect("valid config");
        let mut headers = HeaderMap::new();
        credentials.apply(&mut headers).expect("apply");

        assert_eq!(headers[AUTHORIZATION], "Bearer abc");
        assert_eq!(headers[IMPERSONATE_USER], "jane");
        let groups: Vec<_> = headers.get_all(IMPERSONATE_GROUP).iter().collect();
        assert_eq!(groups, ["a", "b"]);
        assert_eq!(headers[USER_AGENT], "agent/1");
    }

    #[test]
    fn basic_auth_header() {
        let auth = AuthConfig {
            username: Some("admin".to_string()),
            password: Some("secret".to_string()),
            ..AuthConfig::default()
        };
        let credentials = Credentials::from_config(&auth, "", None).expect("valid config");
        let mut headers = HeaderMap::new();
        credentials.apply(&mut headers).expect("apply");

        // base64("admin:secret")
        assert_eq!(headers[AUTHORIZATION], "Basic YWRtaW46c2VjcmV0");
    }

    #[test]
    fn token_and_basic_rejected() {
        let auth = AuthConfig {
            token: Some("abc".to_string()),
            username: Some("admin".to_string()),
            ..AuthConfig::default()
        };
        assert!(matches!(
            Credentials::from_config(&auth, "", None),
            Err(ClientError::Config(_))
        ));
    }

    #[test]
    fn token_file_read_and_cached() {
        let dir = tempfile::tempdir().expect("create temp dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").expect("write token");

        let auth = AuthConfig {
            token_file: Some(path.clone()),
            ..AuthConfig::default()
        };
        let credentials = Credentials::from_config(&auth, "", None).expect("valid config");
        let first = credentials.authorization_header().expect("read token");

        // Within the refresh period the cached token is used.
        std::fs::write(&path, "second\n").expect("rewrite token");
        let cached = credentials.authorization_header().expect("cached token");

        assert_eq!(first, Some(HeaderValue::from_static("Bearer first")));
        assert_eq!(cached, Some(HeaderValue::from_static("Bearer first")));
    }
}
