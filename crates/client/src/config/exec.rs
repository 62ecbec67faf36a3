//! Exec credential plugins (`client.authentication.k8s.io`): running the command a
//! kubeconfig user's `exec` section names and reading the `ExecCredential` it
//! prints, as client-go's exec authenticator does.
//!
//! Entry points: [`exec_credential`] runs the plugin once;
//! [`ExecCredentialCache`] reuses its credential until `expirationTimestamp`.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::kubeconfig::ConfigError;
use super::{ExecConfig, RestConfig};

/// The environment variable that carries the request `ExecCredential` as JSON.
pub const EXEC_INFO_ENV: &str = "KUBERNETES_EXEC_INFO";

const SUPPORTED_API_VERSIONS: [&str; 3] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1alpha1",
];

/// Failure of an exec credential plugin, worded as client-go words it.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("exec plugin: invalid apiVersion {0:?}")]
    InvalidApiVersion(String),

    /// `interactiveMode: Always`, but plugins never get a terminal here.
    #[error("exec plugin cannot support interactive mode: standard input is not a terminal")]
    InteractiveUnsupported,

    #[error("exec: executable {command} not found")]
    NotFound { command: String },

    #[error("exec: {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },

    /// The plugin exited with a non-zero code. `stderr` is its standard error output.
    #[error("exec: executable {command} failed with exit code {code}: {stderr}")]
    Failed {
        command: String,
        code: i32,
        stderr: String,
    },

    #[error("decoding stdout: {0}")]
    Decode(String),

    #[error(
        "exec plugin is configured to use API version {configured}, plugin returned version {returned}"
    )]
    ApiVersionMismatch {
        configured: String,
        returned: String,
    },

    #[error("exec plugin didn't return a status field")]
    MissingStatus,

    #[error("exec plugin didn't return a token or cert/key pair")]
    MissingCredential,

    #[error("exec plugin returned only certificate or key, not both")]
    CertificateWithoutKey,

    #[error(
        "failed to read certificate-authority {path} for the exec plugin's cluster information: {source}"
    )]
    ReadCa {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The cluster information sent to plugins with `provideClusterInfo: true`
/// (`spec.cluster` of the request).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterInfo {
    pub server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
    /// PEM bytes, sent base64-encoded.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_base64"
    )]
    pub certificate_authority_data: Option<Vec<u8>>,
}

fn serialize_base64<S: serde::Serializer>(
    value: &Option<Vec<u8>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(bytes) => {
            serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        None => serializer.serialize_none(),
    }
}

impl ClusterInfo {
    /// Builds the cluster information of `rest`, reading its CA file when it has
    /// no inline CA data.
    ///
    /// Errors: [`ExecError::ReadCa`] when the CA file cannot be read.
    pub fn from_rest_config(rest: &RestConfig) -> Result<ClusterInfo, ExecError> {
        let certificate_authority_data = match (&rest.tls.ca_data, &rest.tls.ca_file) {
            (Some(data), _) => Some(data.clone()),
            (None, Some(path)) => {
                Some(std::fs::read(path).map_err(|source| ExecError::ReadCa {
                    path: path.display().to_string(),
                    source,
                })?)
            }
            (None, None) => None,
        };
        Ok(ClusterInfo {
            server: rest.host.clone(),
            tls_server_name: rest.tls.server_name.clone(),
            insecure_skip_tls_verify: rest.tls.insecure,
            certificate_authority_data,
        })
    }
}

/// A credential returned by a plugin (`status` of the response).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecCredential {
    pub token: Option<String>,
    /// PEM client certificate and key; both or neither are set.
    pub client_certificate_data: Option<String>,
    pub client_key_data: Option<String>,
    /// When the credential stops being valid; `None` means it does not expire.
    pub expiration_timestamp: Option<SystemTime>,
}

impl ExecCredential {
    /// Reports whether the credential has expired at `now`, as client-go compares
    /// it: strictly after the expiration time.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expiration_timestamp
            .is_some_and(|expiration| now > expiration)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialRequest<'a> {
    api_version: &'a str,
    kind: &'static str,
    spec: RequestSpec<'a>,
}

#[derive(Serialize)]
struct RequestSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a ClusterInfo>,
    interactive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialResponse {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    status: Option<ResponseStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseStatus {
    #[serde(default)]
    token: String,
    #[serde(default)]
    client_certificate_data: String,
    #[serde(default)]
    client_key_data: String,
    expiration_timestamp: Option<String>,
}

/// Runs the plugin once and returns its credential.
///
/// The command gets this process's environment plus `config.env` and
/// `KUBERNETES_EXEC_INFO` (`spec.interactive` is always false and stdin is
/// closed). `cluster` is sent as `spec.cluster` only when
/// `config.provide_cluster_info` is set.
///
/// Errors ([`ConfigError::Exec`]): an unknown API version, `interactiveMode:
/// Always`, a command that cannot start, a non-zero exit (with the plugin's
/// stderr), and output that is not a valid `ExecCredential` of the configured
/// version carrying a token or a certificate and key.
pub async fn exec_credential(
    config: &ExecConfig,
    cluster: Option<ClusterInfo>,
) -> Result<ExecCredential, ConfigError> {
    Ok(run_plugin(config, cluster.as_ref()).await?)
}

async fn run_plugin(
    config: &ExecConfig,
    cluster: Option<&ClusterInfo>,
) -> Result<ExecCredential, ExecError> {
    if !SUPPORTED_API_VERSIONS.contains(&config.api_version.as_str()) {
        return Err(ExecError::InvalidApiVersion(config.api_version.clone()));
    }
    // NOTE: plugins never get stdin here, so `IfAvailable` behaves as `Never`.
    if config.interactive_mode == "Always" {
        return Err(ExecError::InteractiveUnsupported);
    }

    let request = ExecCredentialRequest {
        api_version: &config.api_version,
        kind: "ExecCredential",
        spec: RequestSpec {
            cluster: cluster.filter(|_| config.provide_cluster_info),
            interactive: false,
        },
    };
    let exec_info =
        serde_json::to_string(&request).map_err(|err| ExecError::Decode(err.to_string()))?;

    let output = tokio::process::Command::new(&config.command)
        .args(&config.args)
        .envs(config.env.iter().map(|(name, value)| (name, value)))
        .env(EXEC_INFO_ENV, exec_info)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound {
                command: config.command.clone(),
            },
            _ => ExecError::Spawn {
                command: config.command.clone(),
                source,
            },
        })?;

    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if !output.status.success() {
        return Err(ExecError::Failed {
            command: config.command.clone(),
            code: output.status.code().unwrap_or(-1),
            stderr,
        });
    }
    if !stderr.is_empty() {
        tracing::debug!(command = %config.command, %stderr, "exec plugin wrote to stderr");
    }

    parse_response(&config.api_version, &output.stdout)
}

fn parse_response(api_version: &str, stdout: &[u8]) -> Result<ExecCredential, ExecError> {
    let response: ExecCredentialResponse =
        serde_json::from_slice(stdout).map_err(|err| ExecError::Decode(err.to_string()))?;
    if response.api_version.is_empty() {
        return Err(ExecError::Decode(
            "Object 'apiVersion' is missing".to_string(),
        ));
    }
    if response.kind != "ExecCredential" {
        return Err(ExecError::Decode(format!(
            "kind {:?} is not ExecCredential",
            response.kind
        )));
    }
    if response.api_version != api_version {
        return Err(ExecError::ApiVersionMismatch {
            configured: api_version.to_string(),
            returned: response.api_version,
        });
    }

    let status = response.status.ok_or(ExecError::MissingStatus)?;
    if status.token.is_empty()
        && status.client_certificate_data.is_empty()
        && status.client_key_data.is_empty()
    {
        return Err(ExecError::MissingCredential);
    }
    if status.client_certificate_data.is_empty() != status.client_key_data.is_empty() {
        return Err(ExecError::CertificateWithoutKey);
    }
    let expiration_timestamp = match status.expiration_timestamp.as_deref() {
        None | Some("") => None,
        Some(text) => Some(parse_rfc3339(text).ok_or_else(|| {
            ExecError::Decode(format!(
                "invalid expirationTimestamp {text:?}, expected RFC 3339"
            ))
        })?),
    };

    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Ok(ExecCredential {
        token: non_empty(status.token),
        client_certificate_data: non_empty(status.client_certificate_data),
        client_key_data: non_empty(status.client_key_data),
        expiration_timestamp,
    })
}

/// Parses an RFC 3339 timestamp (`2006-01-02T15:04:05Z`, optional fraction, `Z` or
/// `±hh:mm`) into a [`SystemTime`], or `None` when malformed or before 1970.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't')
    {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut rest = &text[19..];
    let mut nanos: u32 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<9}", &fraction[..digits.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };

    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    Some(UNIX_EPOCH + Duration::new(seconds, nanos))
}

/// Counts the days since 1970-01-01 of a proleptic Gregorian date, working in
/// 400-year eras that start on March 1.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Runs a plugin at most once per credential lifetime: the credential is reused
/// until its `expirationTimestamp` passes (forever when it has none), as client-go's
/// exec authenticator does. Concurrent callers share one plugin run, because the
/// cache's lock is held while the plugin runs.
pub struct ExecCredentialCache {
    config: ExecConfig,
    cluster: Option<ClusterInfo>,
    cached: Mutex<Option<ExecCredential>>,
}

impl ExecCredentialCache {
    pub fn new(config: ExecConfig, cluster: Option<ClusterInfo>) -> ExecCredentialCache {
        ExecCredentialCache {
            config,
            cluster,
            cached: Mutex::new(None),
        }
    }

    /// Returns the cached credential, or runs the plugin when there is none or it
    /// has expired.
    ///
    /// Errors: those of [`exec_credential`]. A failed run leaves the cache empty.
    pub async fn credential(&self) -> Result<ExecCredential, ConfigError> {
        self.credential_at(SystemTime::now()).await
    }

    /// [`Self::credential`] with the current time supplied by the caller.
    pub async fn credential_at(&self, now: SystemTime) -> Result<ExecCredential, ConfigError> {
        let mut cached = self.cached.lock().await;
        if let Some(credential) = cached.as_ref()
            && !credential.is_expired_at(now)
        {
            return Ok(credential.clone());
        }

        *cached = None;
        let credential = exec_credential(&self.config, self.cluster.clone()).await?;
        *cached = Some(credential.clone());
        Ok(credential)
    }

    /// Drops the cached credential so the next call runs the plugin again, for use
    /// after a server returns 401 Unauthorized.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const V1: &str = "client.authentication.k8s.io/v1";

    /// Writes an executable shell script plugin and returns its path.
    fn plugin(dir: &Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn config(command: String) -> ExecConfig {
        ExecConfig {
            command,
            api_version: V1.to_string(),
            interactive_mode: "Never".to_string(),
            ..ExecConfig::default()
        }
    }

    #[tokio::test]
    async fn plugin_success() {
        let dir = tempfile::tempdir().unwrap();
        // The plugin echoes back its argument, env variable and exec info so the
        // test can check its input.
        let command = plugin(
            dir.path(),
            "token.sh",
            r#"printf '%s' "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info.json"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s","expirationTimestamp":"2030-01-02T03:04:05Z"}}' "$1" "$GREETING""#,
        );
        let mut config = config(command);
        config.args = vec!["arg".to_string()];
        config.env = vec![("GREETING".to_string(), "hello".to_string())];
        config.provide_cluster_info = true;
        let cluster = ClusterInfo {
            server: "https://127.0.0.1:6443".to_string(),
            certificate_authority_data: Some(b"CA".to_vec()),
            ..ClusterInfo::default()
        };

        let credential = exec_credential(&config, Some(cluster)).await.unwrap();
        assert_eq!(credential.token.as_deref(), Some("arg-hello"));
        assert_eq!(
            credential.expiration_timestamp,
            Some(UNIX_EPOCH + Duration::from_secs(1_893_553_445))
        );

        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("info.json")).unwrap()).unwrap();
        assert_eq!(
            info,
            serde_json::json!({
                "apiVersion": V1,
                "kind": "ExecCredential",
                "spec": {
                    "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="},
                    "interactive": false
                }
            })
        );
    }

    #[tokio::test]
    async fn plugin_certificate_pair() {
        let dir = tempfile::tempdir().unwrap();
        let command = plugin(
            dir.path(),
            "cert.sh",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'"#,
        );
        let credential = exec_credential(&config(command), None).await.unwrap();
        assert_eq!(credential.token, None);
        assert_eq!(credential.client_certificate_data.as_deref(), Some("CERT"));
        assert_eq!(credential.client_key_data.as_deref(), Some("KEY"));
        assert_eq!(credential.expiration_timestamp, None);
    }

    #[tokio::test]
    async fn plugin_failures() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "exit code",
                "echo 'login required' >&2; exit 3",
                "failed with exit code 3: login required",
            ),
            ("not json", "echo nope", "decoding stdout: "),
            (
                "version mismatch",
                r#"echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'"#,
                "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1",
            ),
            (
                "no status",
                r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}'"#,
                "exec plugin didn't return a status field",
            ),
            (
                "empty status",
                r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'"#,
                "exec plugin didn't return a token or cert/key pair",
            ),
            (
                "certificate only",
                r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"C"}}'"#,
                "exec plugin returned only certificate or key, not both",
            ),
            (
                "bad expiration",
                r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"tomorrow"}}'"#,
                "invalid expirationTimestamp",
            ),
        ];
        for (index, (name, body, expected)) in cases.into_iter().enumerate() {
            let command = plugin(dir.path(), &format!("plugin-{index}.sh"), body);
            let err = exec_credential(&config(command), None).await.unwrap_err();
            assert!(err.to_string().contains(expected), "{name}: {err}");
        }
    }

    #[tokio::test]
    async fn plugin_config_errors() {
        let missing = config("/nonexistent/plugin".to_string());
        let err = exec_credential(&missing, None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: executable /nonexistent/plugin not found"
        );

        let mut always = config("true".to_string());
        always.interactive_mode = "Always".to_string();
        let err = exec_credential(&always, None).await.unwrap_err();
        assert!(
            matches!(err, ConfigError::Exec(ExecError::InteractiveUnsupported)),
            "{err}"
        );

        let mut bad_version = config("true".to_string());
        bad_version.api_version = "v2".to_string();
        let err = exec_credential(&bad_version, None).await.unwrap_err();
        assert_eq!(err.to_string(), "exec plugin: invalid apiVersion \"v2\"");
    }

    #[tokio::test]
    async fn cache_reuses_until_expiry() {
        let dir = tempfile::tempdir().unwrap();
        // Each run appends to a counter file and returns the run number as the token.
        let command = plugin(
            dir.path(),
            "counting.sh",
            r#"counter="$(dirname "$0")/runs"
echo x >> "$counter"
runs=$(wc -l < "$counter" | tr -d ' ')
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"run-%s","expirationTimestamp":"2030-01-01T00:00:00.5+01:00"}}' "$runs""#,
        );
        let cache = ExecCredentialCache::new(config(command), None);
        let expiration = parse_rfc3339("2029-12-31T23:00:00.5Z").unwrap();
        let before = expiration - Duration::from_secs(60);
        let after = expiration + Duration::from_secs(1);

        let first = cache.credential_at(before).await.unwrap();
        assert_eq!(first.token.as_deref(), Some("run-1"));
        assert_eq!(first.expiration_timestamp, Some(expiration));
        assert_eq!(
            cache.credential_at(before).await.unwrap().token.as_deref(),
            Some("run-1")
        );
        assert_eq!(
            cache
                .credential_at(expiration)
                .await
                .unwrap()
                .token
                .as_deref(),
            Some("run-1")
        );

        assert_eq!(
            cache.credential_at(after).await.unwrap().token.as_deref(),
            Some("run-2")
        );
        cache.invalidate().await;
        assert_eq!(
            cache.credential_at(before).await.unwrap().token.as_deref(),
            Some("run-3")
        );
    }

    #[test]
    fn rfc3339_parsing() {
        let cases = [
            ("1970-01-01T00:00:00Z", Some(UNIX_EPOCH)),
            (
                "2000-03-01T00:00:00Z",
                Some(UNIX_EPOCH + Duration::from_secs(951_868_800)),
            ),
            ("1970-01-01T01:00:00+01:00", Some(UNIX_EPOCH)),
            (
                "1970-01-01T00:00:01.25Z",
                Some(UNIX_EPOCH + Duration::from_millis(1250)),
            ),
            ("1969-12-31T23:59:59Z", None),
            ("2000-13-01T00:00:00Z", None),
            ("2000-01-01 00:00:00", None),
            ("2000-01-01T00:00:00", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_rfc3339(text), expected, "{text}");
        }
    }
}
