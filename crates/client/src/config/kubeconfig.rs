//! Kubeconfig files: their serde types, loading and merging several files the way
//! client-go's `clientcmd` does, and resolving one context into a [`RestConfig`].
//!
//! Entry points: [`load_default`] (the `KUBECONFIG` variable, else `~/.kube/config`,
//! else the in-cluster environment), [`load_from_files`] plus
//! [`Kubeconfig::rest_config`] when the caller has its own `--kubeconfig` and
//! `--context` flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::exec::ExecError;
use super::in_cluster;
use super::{ExecConfig, RestConfig, TlsConfig};

/// Namespace used when neither the context nor an override sets one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The `interactiveMode` that client-go defaults to for exec plugins of the
/// `v1alpha1` and `v1beta1` API versions (`v1` requires the field).
const DEFAULT_LEGACY_INTERACTIVE_MODE: &str = "IfAvailable";

/// Failure to load or resolve a client configuration. Messages follow client-go's
/// wording where it has one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A kubeconfig file exists but could not be read or parsed.
    #[error("error loading config file \"{}\": {message}", path.display())]
    LoadFile { path: PathBuf, message: String },

    /// The merged configuration failed validation. Each entry is one problem.
    #[error("invalid configuration: {}", aggregate(.0))]
    Invalid(Vec<String>),

    /// A context named explicitly by the caller is missing.
    #[error("context \"{0}\" does not exist")]
    ContextNotFound(String),

    /// A cluster named explicitly by the caller is missing.
    #[error("cluster \"{0}\" does not exist")]
    ClusterNotFound(String),

    /// A user named explicitly by the caller is missing.
    #[error("auth info \"{0}\" does not exist")]
    AuthInfoNotFound(String),

    /// The cluster both trusts a CA and skips verification, which client-go's
    /// transport rejects when it builds the TLS configuration.
    #[error("specifying a root certificates file with the insecure flag is not allowed")]
    InsecureWithCa,

    /// A `tokenFile` or in-cluster file could not be read.
    #[error("failed to read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Neither a kubeconfig nor the in-cluster environment is available.
    #[error(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
    )]
    NotInCluster,

    /// An exec credential plugin failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// The message of client-go's `ErrEmptyConfig`.
pub const EMPTY_CONFIG_MESSAGE: &str =
    "no configuration has been provided, try setting KUBERNETES_MASTER environment variable";

/// client-go's `ErrEmptyCluster` message, returned for a context without a usable
/// cluster.
const EMPTY_CLUSTER_MESSAGE: &str = "cluster has no server defined";

impl ConfigError {
    /// Reports whether this error means no configuration was found at all, which
    /// is when [`load_default`] falls back to the in-cluster configuration.
    pub fn is_empty_config(&self) -> bool {
        matches!(self, ConfigError::Invalid(errors) if errors.len() == 1 && errors[0] == EMPTY_CONFIG_MESSAGE)
    }
}

/// Formats errors as apimachinery's `utilerrors.Aggregate` does: one message
/// alone, several in brackets separated by commas.
fn aggregate(errors: &[String]) -> String {
    if errors.len() == 1 {
        errors[0].clone()
    } else {
        format!("[{}]", errors.join(", "))
    }
}

/// A resolved context: how to reach the server, and the namespace requests default to.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedConfig {
    pub rest: RestConfig,
    /// The context's namespace, `default` when unset.
    pub namespace: String,
}

/// A kubeconfig file (`apiVersion: v1`, `kind: Config`). Lists are kept in file
/// order, and names are unique within each list after [`Kubeconfig::parse`].
/// `extensions` anywhere in the file are ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub preferences: Preferences,
    #[serde(default, deserialize_with = "null_as_default")]
    pub clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub contexts: Vec<NamedContext>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<NamedAuthInfo>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub current_context: String,
}

/// The `preferences` section. client-go keeps only `colors` and ignores it too.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Preferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NamedCluster {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: Cluster,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NamedContext {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Context,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct NamedAuthInfo {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: AuthInfo,
}

/// How to reach one API server. `*-data` fields are base64 in the file and
/// decoded here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    #[serde(default)]
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    /// A PEM file; relative paths resolve against the kubeconfig's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<PathBuf>,
    #[serde(
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(default)]
    pub disable_compression: bool,
}

/// A context: which cluster, which user, which namespace.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Context {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A user's credentials (client-go's `AuthInfo`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<PathBuf>,
    #[serde(
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    #[serde(
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_data: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub impersonate: Option<String>,
    #[serde(rename = "as-uid", default, skip_serializing_if = "Option::is_none")]
    pub impersonate_uid: Option<String>,
    #[serde(rename = "as-groups", default, deserialize_with = "null_as_default")]
    pub impersonate_groups: Vec<String>,
    #[serde(
        rename = "as-user-extra",
        default,
        deserialize_with = "null_as_default"
    )]
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Kept only to detect its presence; auth provider plugins are not supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfigFile>,
}

/// The `exec` section of a user, as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecConfigFile {
    #[serde(default)]
    pub command: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<ExecEnvVar>,
    #[serde(default)]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
    #[serde(default)]
    pub provide_cluster_info: bool,
    #[serde(default)]
    pub interactive_mode: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct ExecEnvVar {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// Deserializes an explicit `null` as the type's default, as Go's decoder leaves a
/// field at its zero value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go's `[]byte` JSON encoding: standard base64 with padding. Line breaks inside
/// the text are ignored as Go's decoder ignores them.
mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(
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

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let compact: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        if compact.is_empty() {
            return Ok(None);
        }
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map(Some)
            .map_err(|err| serde::de::Error::custom(format!("illegal base64 data: {err}")))
    }
}

/// Caller choices that take precedence over the file, as kubectl's `--context`,
/// `--cluster`, `--user`, `--namespace`, `--server` and `--insecure-skip-tls-verify`
/// flags do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub server: Option<String>,
    /// Skips verification and, as in client-go, drops the file's CA so the two do
    /// not conflict.
    pub insecure_skip_tls_verify: bool,
}

impl Kubeconfig {
    /// Parses one kubeconfig document, YAML or JSON. A missing `apiVersion` and
    /// `kind` default to `v1` and `Config`.
    ///
    /// Errors: invalid syntax, invalid base64 in a `*-data` field, another `kind`,
    /// or a name listed twice in one section.
    pub fn parse(text: &str) -> Result<Kubeconfig, String> {
        if text.trim().is_empty() {
            return Ok(Kubeconfig::default());
        }

        let config: Kubeconfig = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|err| err.to_string())?
        } else {
            serde_saphyr::from_str(text).map_err(|err| err.to_string())?
        };

        if let Some(kind) = config.kind.as_deref()
            && !kind.is_empty()
            && kind != "Config"
        {
            return Err(format!(
                "kind \"{kind}\" is not a kubeconfig, expected \"Config\""
            ));
        }
        check_unique("clusters", config.clusters.iter().map(|c| &c.name))?;
        check_unique("contexts", config.contexts.iter().map(|c| &c.name))?;
        check_unique("users", config.users.iter().map(|c| &c.name))?;
        Ok(config)
    }

    /// Reads and parses one file, then resolves its relative paths against the
    /// file's directory.
    ///
    /// Errors: [`ConfigError::LoadFile`] for a read or parse failure (a missing
    /// file included).
    pub fn read_file(path: &Path) -> Result<Kubeconfig, ConfigError> {
        let load_error = |message: String| ConfigError::LoadFile {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|err| load_error(err.to_string()))?;
        let mut config = Kubeconfig::parse(&text).map_err(load_error)?;

        let dir = path.parent().unwrap_or(Path::new(""));
        let base = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        config.resolve_local_paths(&base);
        Ok(config)
    }

    /// Makes relative file references absolute against `base`, as client-go's
    /// `ResolveLocalPaths`: the CA, client certificate and key, `tokenFile`, and
    /// an exec command that contains a path separator.
    pub fn resolve_local_paths(&mut self, base: &Path) {
        let resolve = |path: &mut Option<PathBuf>| {
            if let Some(p) = path
                && !p.as_os_str().is_empty()
                && p.is_relative()
            {
                *p = base.join(&*p);
            }
        };

        for named in &mut self.clusters {
            resolve(&mut named.cluster.certificate_authority);
        }
        for named in &mut self.users {
            let user = &mut named.user;
            resolve(&mut user.client_certificate);
            resolve(&mut user.client_key);
            resolve(&mut user.token_file);
            if let Some(exec) = &mut user.exec
                && exec.command.contains(std::path::MAIN_SEPARATOR)
                && Path::new(&exec.command).is_relative()
            {
                exec.command = base.join(&exec.command).to_string_lossy().into_owned();
            }
        }
    }

    /// Merges `other` under `self`: entries and values already set in `self` win.
    /// This is client-go's rule for the files of `KUBECONFIG`, applied in order.
    pub fn merge_from(&mut self, other: Kubeconfig) {
        fn merge_named<T>(into: &mut Vec<T>, from: Vec<T>, name: impl Fn(&T) -> &str) {
            for entry in from {
                if !into.iter().any(|existing| name(existing) == name(&entry)) {
                    into.push(entry);
                }
            }
        }

        merge_named(&mut self.clusters, other.clusters, |c| &c.name);
        merge_named(&mut self.contexts, other.contexts, |c| &c.name);
        merge_named(&mut self.users, other.users, |c| &c.name);
        if self.current_context.is_empty() {
            self.current_context = other.current_context;
        }
        if self.preferences.colors.is_none() {
            self.preferences.colors = other.preferences.colors;
        }
        if self.api_version.is_none() {
            self.api_version = other.api_version;
        }
        if self.kind.is_none() {
            self.kind = other.kind;
        }
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.cluster)
    }

    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.context)
    }

    pub fn user(&self, name: &str) -> Option<&AuthInfo> {
        self.users.iter().find(|c| c.name == name).map(|c| &c.user)
    }

    /// Reports whether the file set nothing at all (client-go's `IsConfigEmpty`).
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
            && self.contexts.is_empty()
            && self.users.is_empty()
            && self.current_context.is_empty()
    }

    /// Resolves a context into a [`ResolvedConfig`], as client-go's
    /// `DirectClientConfig.ClientConfig` does.
    ///
    /// The context is `overrides.context` or else `current-context`, and the cluster
    /// and user are the overrides' or else the context's. A name given in
    /// `overrides` must exist ([`ConfigError::ContextNotFound`] and friends). A
    /// context, cluster or user that the file names but lacks is treated as empty,
    /// as client-go does: a missing user means anonymous requests, and a missing
    /// cluster yields `invalid configuration: no configuration has been provided...`.
    /// Credentials apply only to `https` servers, as in client-go.
    ///
    /// Errors: [`ConfigError::Invalid`] with every validation problem found,
    /// [`ConfigError::InsecureWithCa`], [`ConfigError::ReadFile`] for a `tokenFile`.
    pub fn rest_config(&self, overrides: &ConfigOverrides) -> Result<ResolvedConfig, ConfigError> {
        let (context_name, context_required) = match overrides.context.as_deref() {
            Some(name) if !name.is_empty() => (name.to_string(), true),
            _ => (self.current_context.clone(), false),
        };
        let context = match self.context(&context_name) {
            Some(context) => context.clone(),
            None if context_required => return Err(ConfigError::ContextNotFound(context_name)),
            None => Context::default(),
        };

        let user_name = non_empty(overrides.user.as_deref()).unwrap_or(&context.user);
        let user = match self.user(user_name) {
            Some(user) => user.clone(),
            None if non_empty(overrides.user.as_deref()).is_some() => {
                return Err(ConfigError::AuthInfoNotFound(user_name.to_string()));
            }
            None => AuthInfo::default(),
        };

        let cluster_name = non_empty(overrides.cluster.as_deref()).unwrap_or(&context.cluster);
        let mut cluster = match self.cluster(cluster_name) {
            Some(cluster) => cluster.clone(),
            None if non_empty(overrides.cluster.as_deref()).is_some() => {
                return Err(ConfigError::ClusterNotFound(cluster_name.to_string()));
            }
            None => Cluster::default(),
        };
        apply_cluster_overrides(&mut cluster, overrides);

        confirm_usable(
            self,
            &context_name,
            user_name,
            &user,
            cluster_name,
            &cluster,
        )?;

        let rest = build_rest_config(&cluster, &user)?;
        let namespace = non_empty(overrides.namespace.as_deref())
            .or(non_empty(context.namespace.as_deref()))
            .unwrap_or(DEFAULT_NAMESPACE)
            .to_string();
        Ok(ResolvedConfig { rest, namespace })
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

fn check_unique<'a>(section: &str, names: impl Iterator<Item = &'a String>) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(format!("duplicate name \"{name}\" in {section}"));
        }
    }
    Ok(())
}

fn apply_cluster_overrides(cluster: &mut Cluster, overrides: &ConfigOverrides) {
    if let Some(server) = non_empty(overrides.server.as_deref()) {
        cluster.server = server.to_string();
    }
    if overrides.insecure_skip_tls_verify {
        cluster.insecure_skip_tls_verify = true;
        cluster.certificate_authority = None;
        cluster.certificate_authority_data = None;
    }
}

/// Validates the chosen context, user and cluster, collecting every problem as
/// client-go's `ConfirmUsable` does.
fn confirm_usable(
    config: &Kubeconfig,
    context_name: &str,
    user_name: &str,
    user: &AuthInfo,
    cluster_name: &str,
    cluster: &Cluster,
) -> Result<(), ConfigError> {
    let mut errors = Vec::new();

    if !context_name.is_empty() && config.context(context_name).is_none() {
        errors.push(format!(
            "context was not found for specified context: {context_name}"
        ));
    }
    validate_auth_info(user_name, user, &mut errors);
    validate_cluster(cluster_name, cluster, &mut errors);

    if errors.len() == 1 && errors[0] == EMPTY_CLUSTER_MESSAGE {
        return Err(ConfigError::Invalid(vec![EMPTY_CONFIG_MESSAGE.to_string()]));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(errors))
    }
}

fn validate_cluster(name: &str, cluster: &Cluster, errors: &mut Vec<String>) {
    if *cluster == Cluster::default() {
        errors.push(EMPTY_CLUSTER_MESSAGE.to_string());
        return;
    }

    if cluster.server.is_empty() {
        if name.is_empty() {
            errors.push("default cluster has no server defined".to_string());
        } else {
            errors.push(format!("no server found for cluster \"{name}\""));
        }
    }
    if cluster.certificate_authority.is_some() && cluster.certificate_authority_data.is_some() {
        errors.push(format!(
            "certificate-authority-data and certificate-authority are both specified for {name}. certificate-authority-data will override."
        ));
    }
    if let Some(path) = &cluster.certificate_authority
        && let Err(err) = std::fs::File::open(path)
    {
        errors.push(format!(
            "unable to read certificate-authority {} for {name} due to {err}",
            path.display()
        ));
    }
}

fn validate_auth_info(name: &str, user: &AuthInfo, errors: &mut Vec<String>) {
    let mut methods = Vec::new();
    if user.token.as_deref().is_some_and(|t| !t.is_empty()) {
        methods.push("token");
    }
    if user.username.as_deref().is_some_and(|u| !u.is_empty())
        || user.password.as_deref().is_some_and(|p| !p.is_empty())
    {
        methods.push("basicAuth");
    }

    if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
        if user.client_certificate.is_some() && user.client_certificate_data.is_some() {
            errors.push(format!(
                "client-cert-data and client-cert are both specified for {name}. client-cert-data will override."
            ));
        }
        if user.client_key.is_some() && user.client_key_data.is_some() {
            errors.push(format!(
                "client-key-data and client-key are both specified for {name}; client-key-data will override"
            ));
        }
        if user.client_key.is_none() && user.client_key_data.is_none() {
            errors.push(format!(
                "client-key-data or client-key must be specified for {name} to use the clientCert authentication method."
            ));
        }
        for (field, path) in [
            ("client-cert", &user.client_certificate),
            ("client-key", &user.client_key),
        ] {
            if let Some(path) = path
                && let Err(err) = std::fs::File::open(path)
            {
                errors.push(format!(
                    "unable to read {field} {} for {name} due to {err}",
                    path.display()
                ));
            }
        }
    }

    if let Some(exec) = &user.exec {
        validate_exec(name, user, exec, errors);
    }

    if methods.len() > 1 {
        errors.push(format!(
            "more than one authentication method found for {name}; found [{}], only one is allowed",
            methods.join(" ")
        ));
    }
    if (user
        .impersonate_uid
        .as_deref()
        .is_some_and(|u| !u.is_empty())
        || !user.impersonate_groups.is_empty()
        || !user.impersonate_user_extra.is_empty())
        && user.impersonate.as_deref().is_none_or(str::is_empty)
    {
        errors.push(format!(
            "requesting uid, groups or user-extra for {name} without impersonating a user"
        ));
    }
}

fn validate_exec(name: &str, user: &AuthInfo, exec: &ExecConfigFile, errors: &mut Vec<String>) {
    if user.auth_provider.is_some() {
        errors.push(format!(
            "authProvider cannot be provided in combination with an exec plugin for {name}"
        ));
    }
    if exec.command.is_empty() {
        errors.push(format!(
            "command must be specified for {name} to use exec authentication plugin"
        ));
    }
    if exec.api_version.is_empty() {
        errors.push(format!(
            "apiVersion must be specified for {name} to use exec authentication plugin"
        ));
    }
    if exec.env.iter().any(|var| var.name.is_empty()) {
        errors.push(format!(
            "env variable name must be specified for {name} to use exec authentication plugin"
        ));
    }
    match effective_interactive_mode(exec).as_str() {
        "" => errors.push(format!(
            "interactiveMode must be specified for {name} to use exec authentication plugin"
        )),
        "Never" | "IfAvailable" | "Always" => {}
        other => errors.push(format!("invalid interactiveMode for {name}: {other:?}")),
    }
}

/// Applies client-go's defaulting: the pre-`v1` API versions default an empty
/// `interactiveMode` to `IfAvailable`.
fn effective_interactive_mode(exec: &ExecConfigFile) -> String {
    let legacy = matches!(
        exec.api_version.as_str(),
        "client.authentication.k8s.io/v1alpha1" | "client.authentication.k8s.io/v1beta1"
    );
    if exec.interactive_mode.is_empty() && legacy {
        DEFAULT_LEGACY_INTERACTIVE_MODE.to_string()
    } else {
        exec.interactive_mode.clone()
    }
}

/// Builds the [`RestConfig`] of a validated cluster and user.
fn build_rest_config(cluster: &Cluster, user: &AuthInfo) -> Result<RestConfig, ConfigError> {
    let tls = TlsConfig {
        insecure: cluster.insecure_skip_tls_verify,
        ca_data: cluster.certificate_authority_data.clone(),
        ca_file: cluster.certificate_authority.clone(),
        server_name: cluster.tls_server_name.clone().filter(|n| !n.is_empty()),
        ..TlsConfig::default()
    };
    // NOTE: proxy-url is ignored, so requests always go to the server directly.
    if cluster.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
        tracing::warn!(proxy_url = ?cluster.proxy_url, "kubeconfig proxy-url is not supported and is ignored");
    }

    let has_ca = tls.ca_data.is_some() || tls.ca_file.is_some();
    if tls.insecure && has_ca {
        return Err(ConfigError::InsecureWithCa);
    }

    let tls_configured = has_ca || tls.insecure;
    let host = default_server_url(&cluster.server, tls_configured);
    let mut rest = RestConfig {
        host,
        tls,
        ..RestConfig::default()
    };

    // client-go reads credentials only for servers reached over TLS.
    if rest.host.starts_with("https://") {
        apply_user(&mut rest, user)?;
    }
    Ok(rest)
}

/// Adds a scheme to a bare `host:port`, as client-go's `DefaultServerURL` does:
/// `https` when TLS settings are present, `http` otherwise.
fn default_server_url(server: &str, tls_configured: bool) -> String {
    if server.contains("://") {
        return server.to_string();
    }
    let scheme = if tls_configured { "https" } else { "http" };
    format!("{scheme}://{server}")
}

fn apply_user(rest: &mut RestConfig, user: &AuthInfo) -> Result<(), ConfigError> {
    let auth = &mut rest.auth;

    if let Some(token) = non_empty(user.token.as_deref()) {
        auth.token = Some(token.to_string());
    } else if let Some(path) = &user.token_file {
        let token = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.clone(),
            source,
        })?;
        // NOTE: client-go keeps the file content as is, but surrounding whitespace is
        // trimmed here because a newline cannot go into an Authorization header.
        auth.token = Some(token.trim().to_string());
        auth.token_file = Some(path.clone());
    }

    auth.impersonate_user = user.impersonate.clone().filter(|u| !u.is_empty());
    auth.impersonate_groups = user.impersonate_groups.clone();
    // NOTE: as-uid and as-user-extra have no place in AuthConfig yet and are dropped.

    if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
        rest.tls.cert_file = user.client_certificate.clone();
        rest.tls.cert_data = user.client_certificate_data.clone();
        rest.tls.key_file = user.client_key.clone();
        rest.tls.key_data = user.client_key_data.clone();
    }

    if user.auth_provider.is_some() {
        // NOTE: auth-provider plugins (oidc and the removed gcp and azure ones) are
        // not supported, so the user is treated as having no such credential.
        tracing::warn!("kubeconfig auth-provider is not supported and is ignored");
    }

    if let Some(exec) = &user.exec {
        auth.exec = Some(ExecConfig {
            command: exec.command.clone(),
            args: exec.args.clone(),
            env: exec
                .env
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            api_version: exec.api_version.clone(),
            provide_cluster_info: exec.provide_cluster_info,
            interactive_mode: effective_interactive_mode(exec),
        });
    }

    if non_empty(user.username.as_deref()).is_some()
        || non_empty(user.password.as_deref()).is_some()
    {
        auth.username = user.username.clone();
        auth.password = user.password.clone();
    }
    Ok(())
}

/// Loads and merges kubeconfig files as client-go does for `KUBECONFIG`: files are
/// read in order, the first file to set a cluster, context or user name (or
/// `current-context`) wins, and missing files are skipped. An empty list loads
/// `~/.kube/config` (skipped too when missing).
///
/// Errors: [`ConfigError::LoadFile`] for a file that exists but cannot be read or
/// parsed; client-go reports those too rather than skipping them.
pub fn load_from_files(paths: &[PathBuf]) -> Result<Kubeconfig, ConfigError> {
    let default_paths;
    let paths = if paths.is_empty() {
        default_paths = default_kubeconfig_path().into_iter().collect::<Vec<_>>();
        &default_paths
    } else {
        paths
    };

    let mut merged = Kubeconfig::default();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str().is_empty() {
            continue;
        }
        match Kubeconfig::read_file(path) {
            Ok(config) => merged.merge_from(config),
            Err(_) if !path.exists() => {
                tracing::debug!(path = %path.display(), "kubeconfig file does not exist, skipping");
            }
            Err(err) => errors.push(err),
        }
    }

    // client-go aggregates the load errors, but the first one is enough to act on.
    match errors.into_iter().next() {
        Some(err) => Err(err),
        None => Ok(merged),
    }
}

/// `$HOME/.kube/config`, or `None` without a home directory.
pub fn default_kubeconfig_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".kube").join("config"))
}

/// Splits a `KUBECONFIG` value on the platform's path-list separator (`:` on Unix),
/// dropping empty entries.
pub fn kubeconfig_paths_from_env(value: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// Loads the configuration a component uses without flags, as client-go's
/// deferred loading does: the files of `KUBECONFIG`, else `~/.kube/config`,
/// resolved at their current context. When those yield no configuration at all
/// and the process runs in a pod, the in-cluster configuration is used instead.
///
/// Errors: any load or validation error other than an empty configuration; the
/// empty-configuration error itself when not in a pod.
pub fn load_default() -> Result<ResolvedConfig, ConfigError> {
    let paths = std::env::var_os("KUBECONFIG")
        .map(|value| kubeconfig_paths_from_env(&value))
        .unwrap_or_default();
    let config = load_from_files(&paths)?;

    match config.rest_config(&ConfigOverrides::default()) {
        Err(err) if err.is_empty_config() && in_cluster::is_possible() => in_cluster::in_cluster(),
        result => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA_PEM: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    const FIRST: &str = r#"
apiVersion: v1
kind: Config
current-context: first
clusters:
- name: shared
  cluster:
    server: https://first.example:6443
    insecure-skip-tls-verify: true
contexts:
- name: first
  context: {cluster: shared, user: alice, namespace: team-a}
users:
- name: alice
  user: {token: first-token}
"#;

    const SECOND: &str = r#"{
  "apiVersion": "v1",
  "kind": "Config",
  "current-context": "second",
  "clusters": [
    {"name": "shared", "cluster": {"server": "https://second.example:6443"}},
    {"name": "only-second", "cluster": {"server": "https://only-second.example", "insecure-skip-tls-verify": true}}
  ],
  "contexts": [
    {"name": "second", "context": {"cluster": "only-second", "user": "alice"}}
  ],
  "users": [
    {"name": "alice", "user": {"token": "second-token"}},
    {"name": "bob", "user": {"username": "bob", "password": "secret"}}
  ]
}"#;

    #[test]
    fn merge_first_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "first.yaml", FIRST);
        let second = write(dir.path(), "second.json", SECOND);
        let missing = dir.path().join("missing");

        struct Case {
            name: &'static str,
            paths: Vec<PathBuf>,
            current_context: &'static str,
            shared_server: &'static str,
            alice_token: &'static str,
        }
        let cases = [
            Case {
                name: "first then second",
                paths: vec![first.clone(), missing.clone(), second.clone()],
                current_context: "first",
                shared_server: "https://first.example:6443",
                alice_token: "first-token",
            },
            Case {
                name: "second then first",
                paths: vec![second.clone(), first.clone()],
                current_context: "second",
                shared_server: "https://second.example:6443",
                alice_token: "second-token",
            },
        ];

        for case in cases {
            let merged = load_from_files(&case.paths).unwrap();
            assert_eq!(
                merged.current_context, case.current_context,
                "{}",
                case.name
            );
            assert_eq!(
                merged.cluster("shared").unwrap().server,
                case.shared_server,
                "{}",
                case.name
            );
            assert_eq!(
                merged.user("alice").unwrap().token.as_deref(),
                Some(case.alice_token),
                "{}",
                case.name
            );
            assert!(merged.cluster("only-second").is_some(), "{}", case.name);
            assert!(merged.user("bob").is_some(), "{}", case.name);
            assert_eq!(merged.clusters.len(), 2, "{}", case.name);
        }
    }

    #[test]
    fn merged_context_resolves() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "first.yaml", FIRST);
        let second = write(dir.path(), "second.json", SECOND);
        let merged = load_from_files(&[first, second]).unwrap();

        let current = merged.rest_config(&ConfigOverrides::default()).unwrap();
        assert_eq!(current.rest.host, "https://first.example:6443");
        assert!(current.rest.tls.insecure);
        assert_eq!(current.rest.auth.token.as_deref(), Some("first-token"));
        assert_eq!(current.namespace, "team-a");

        let overrides = ConfigOverrides {
            context: Some("second".to_string()),
            user: Some("bob".to_string()),
            ..ConfigOverrides::default()
        };
        let second = merged.rest_config(&overrides).unwrap();
        assert_eq!(second.rest.host, "https://only-second.example");
        assert_eq!(second.namespace, "default");
        assert_eq!(second.rest.auth.token, None);
        assert_eq!(second.rest.auth.username.as_deref(), Some("bob"));
        assert_eq!(second.rest.auth.password.as_deref(), Some("secret"));
    }

    #[test]
    fn missing_files_give_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        let merged = load_from_files(&[dir.path().join("nope")]).unwrap();
        assert!(merged.is_empty());

        let err = merged.rest_config(&ConfigOverrides::default()).unwrap_err();
        assert!(err.is_empty_config());
        assert_eq!(
            err.to_string(),
            "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable"
        );
    }

    #[test]
    fn unparsable_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("bad-yaml", "clusters: [unclosed"),
            (
                "bad-base64",
                "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: '!!!'\n",
            ),
            ("wrong-kind", "kind: Pod\n"),
            (
                "duplicate",
                "users:\n- name: a\n  user: {}\n- name: a\n  user: {}\n",
            ),
        ];
        for (name, text) in cases {
            let path = write(dir.path(), name, text);
            let err = load_from_files(std::slice::from_ref(&path)).unwrap_err();
            let prefix = format!("error loading config file \"{}\": ", path.display());
            assert!(err.to_string().starts_with(&prefix), "{name}: {err}");
        }
    }

    #[test]
    fn relative_paths_resolve_against_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("conf");
        std::fs::create_dir(&sub).unwrap();
        for file in ["ca.crt", "client.crt", "client.key"] {
            std::fs::write(sub.join(file), CA_PEM).unwrap();
        }
        std::fs::write(sub.join("token"), "file-token\n").unwrap();
        let text = r#"
current-context: c
clusters:
- name: k
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}
contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user:
    client-certificate: client.crt
    client-key: /abs/client.key
    tokenFile: token
    exec: {command: ./bin/plugin, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}
- name: bare
  user:
    exec: {command: kubelogin, apiVersion: client.authentication.k8s.io/v1beta1}
"#;
        let path = write(&sub, "config", text);
        let config = load_from_files(&[path]).unwrap();

        let base = std::path::absolute(&sub).unwrap();
        let user = config.user("u").unwrap();
        assert_eq!(
            config.cluster("k").unwrap().certificate_authority,
            Some(base.join("ca.crt"))
        );
        assert_eq!(user.client_certificate, Some(base.join("client.crt")));
        assert_eq!(user.client_key, Some(PathBuf::from("/abs/client.key")));
        assert_eq!(user.token_file, Some(base.join("token")));
        assert_eq!(
            user.exec.as_ref().unwrap().command,
            base.join("./bin/plugin").to_string_lossy()
        );
        assert_eq!(
            config.user("bare").unwrap().exec.as_ref().unwrap().command,
            "kubelogin"
        );

        // The absolute client-key does not exist, so validation names it.
        let err = config.rest_config(&ConfigOverrides::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("unable to read client-key /abs/client.key for u"),
            "{err}"
        );

        let overrides = ConfigOverrides {
            user: Some("bare".to_string()),
            ..ConfigOverrides::default()
        };
        let resolved = config.rest_config(&overrides).unwrap();
        assert_eq!(resolved.rest.tls.ca_file, Some(base.join("ca.crt")));
        let exec = resolved.rest.auth.exec.unwrap();
        assert_eq!(exec.interactive_mode, "IfAvailable");
    }

    #[test]
    fn token_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "file-token\n").unwrap();
        let text = "current-context: c\nclusters:\n- name: k\n  cluster: {server: 'https://h', insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {tokenFile: token}\n";
        let path = write(dir.path(), "config", text);
        let resolved = load_from_files(&[path])
            .unwrap()
            .rest_config(&ConfigOverrides::default())
            .unwrap();
        assert_eq!(resolved.rest.auth.token.as_deref(), Some("file-token"));
        assert_eq!(
            resolved.rest.auth.token_file,
            Some(std::path::absolute(dir.path()).unwrap().join("token"))
        );
    }

    #[test]
    fn base64_data_fields() {
        let text = format!(
            "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://h\n    certificate-authority-data: {}\n    tls-server-name: kubernetes\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n    as: admin\n    as-groups: [system:masters]\n",
            base64(CA_PEM),
            base64(b"CERT"),
            base64(b"KEY"),
        );
        let config = Kubeconfig::parse(&text).unwrap();
        let resolved = config.rest_config(&ConfigOverrides::default()).unwrap();

        assert_eq!(resolved.rest.tls.ca_data.as_deref(), Some(CA_PEM));
        assert_eq!(resolved.rest.tls.cert_data.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(resolved.rest.tls.key_data.as_deref(), Some(&b"KEY"[..]));
        assert_eq!(resolved.rest.tls.server_name.as_deref(), Some("kubernetes"));
        assert_eq!(
            resolved.rest.auth.impersonate_user.as_deref(),
            Some("admin")
        );
        assert_eq!(
            resolved.rest.auth.impersonate_groups,
            vec!["system:masters".to_string()]
        );

        // Serialized back, the data fields are base64 again and parse to the same value.
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(&base64(CA_PEM)), "{json}");
        assert_eq!(Kubeconfig::parse(&json).unwrap(), config);
    }

    #[test]
    fn resolution_errors() {
        let base = "current-context: c\nclusters:\n- name: k\n  cluster: {server: 'https://h'}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n- name: no-cluster\n  context: {cluster: gone, user: u}\n- name: no-user\n  context: {cluster: k, user: gone}\nusers:\n- name: u\n  user: {token: t}\n";
        let config = Kubeconfig::parse(base).unwrap();
        let with =
            |context: Option<&str>, cluster: Option<&str>, user: Option<&str>| ConfigOverrides {
                context: context.map(str::to_string),
                cluster: cluster.map(str::to_string),
                user: user.map(str::to_string),
                ..ConfigOverrides::default()
            };

        let cases = [
            (
                "explicit context missing",
                with(Some("x"), None, None),
                "context \"x\" does not exist",
            ),
            (
                "explicit cluster missing",
                with(None, Some("x"), None),
                "cluster \"x\" does not exist",
            ),
            (
                "explicit user missing",
                with(None, None, Some("x")),
                "auth info \"x\" does not exist",
            ),
            (
                "context's cluster missing",
                with(Some("no-cluster"), None, None),
                "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable",
            ),
        ];
        for (name, overrides, expected) in cases {
            let err = config.rest_config(&overrides).unwrap_err();
            assert_eq!(err.to_string(), expected, "{name}");
        }

        // client-go treats a context's missing user as anonymous.
        let anonymous = config
            .rest_config(&with(Some("no-user"), None, None))
            .unwrap();
        assert_eq!(anonymous.rest.auth, crate::config::AuthConfig::default());

        let missing_current = Kubeconfig {
            current_context: "gone".to_string(),
            ..config.clone()
        };
        let err = missing_current
            .rest_config(&ConfigOverrides::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: [context was not found for specified context: gone, cluster has no server defined]"
        );
    }

    #[test]
    fn validation_errors() {
        let cases = [
            (
                "server missing",
                "cluster: {certificate-authority-data: QQ==}",
                "user: {token: t}",
                "invalid configuration: no server found for cluster \"k\"",
            ),
            (
                "token and basic auth",
                "cluster: {server: 'https://h'}",
                "user: {token: t, username: a, password: b}",
                "invalid configuration: more than one authentication method found for u; found [token basicAuth], only one is allowed",
            ),
            (
                "certificate without key",
                "cluster: {server: 'https://h'}",
                "user: {client-certificate-data: QQ==}",
                "invalid configuration: client-key-data or client-key must be specified for u to use the clientCert authentication method.",
            ),
            (
                "exec v1 without interactiveMode",
                "cluster: {server: 'https://h'}",
                "user: {exec: {command: p, apiVersion: client.authentication.k8s.io/v1}}",
                "invalid configuration: interactiveMode must be specified for u to use exec authentication plugin",
            ),
            (
                "exec without command and version",
                "cluster: {server: 'https://h'}",
                "user: {exec: {interactiveMode: Never}}",
                "invalid configuration: [command must be specified for u to use exec authentication plugin, apiVersion must be specified for u to use exec authentication plugin]",
            ),
            (
                "groups without user",
                "cluster: {server: 'https://h'}",
                "user: {as-groups: [g]}",
                "invalid configuration: requesting uid, groups or user-extra for u without impersonating a user",
            ),
        ];
        for (name, cluster, user, expected) in cases {
            let text = format!(
                "current-context: c\nclusters:\n- name: k\n  {cluster}\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\nusers:\n- name: u\n  {user}\n"
            );
            let config = Kubeconfig::parse(&text).unwrap();
            let err = config.rest_config(&ConfigOverrides::default()).unwrap_err();
            assert_eq!(err.to_string(), expected, "{name}");
        }
    }

    #[test]
    fn insecure_with_ca() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), CA_PEM).unwrap();
        let cases = [
            (
                "ca data and insecure",
                format!("certificate-authority-data: {}", base64(CA_PEM)),
                false,
                Some("specifying a root certificates file with the insecure flag is not allowed"),
            ),
            (
                "ca file and insecure",
                "certificate-authority: ca.crt".to_string(),
                false,
                Some("specifying a root certificates file with the insecure flag is not allowed"),
            ),
            (
                "override clears ca",
                "certificate-authority: ca.crt".to_string(),
                true,
                None,
            ),
        ];
        for (name, ca, override_insecure, expected) in cases {
            let text = format!(
                "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://h\n    insecure-skip-tls-verify: true\n    {ca}\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"
            );
            let path = write(dir.path(), "config", &text);
            let config = load_from_files(&[path]).unwrap();
            let overrides = ConfigOverrides {
                insecure_skip_tls_verify: override_insecure,
                ..ConfigOverrides::default()
            };
            match (config.rest_config(&overrides), expected) {
                (Err(err), Some(message)) => assert_eq!(err.to_string(), message, "{name}"),
                (Ok(resolved), None) => {
                    assert!(resolved.rest.tls.insecure, "{name}");
                    assert_eq!(resolved.rest.tls.ca_file, None, "{name}");
                    assert_eq!(resolved.rest.tls.ca_data, None, "{name}");
                }
                (result, expected) => panic!("{name}: got {result:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn credentials_only_over_tls() {
        let text = "current-context: c\nclusters:\n- name: k\n  cluster: {server: 'http://127.0.0.1:8080'}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n";
        let resolved = Kubeconfig::parse(text)
            .unwrap()
            .rest_config(&ConfigOverrides::default())
            .unwrap();
        assert_eq!(resolved.rest.host, "http://127.0.0.1:8080");
        assert_eq!(resolved.rest.auth.token, None);
    }
}
