//! CNI: loads the node's network configuration and runs plugins per the CNI spec
//! (version 1.0.0): configuration on stdin, `CNI_*` variables in the environment, the
//! result or error as JSON on stdout.
//!
//! Every pod gets the `loopback` plugin first, then the first configuration in
//! `--cni-conf-dir` in lexical order (`.conf`, `.conflist` or `.json`), as upstream
//! runtimes do. ADD runs a list's plugins in order, each receiving the previous result
//! as `prevResult`; DEL runs them in reverse with the ADD result.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// The interface name inside the pod for the configured network.
pub const POD_INTERFACE: &str = "eth0";

/// The pod identity and runtime config passed to CNI plugins.
#[derive(Clone, Debug)]
pub struct PodNetwork<'a> {
    pub sandbox_id: &'a str,
    pub netns: &'a Path,
    pub name: &'a str,
    pub namespace: &'a str,
    pub uid: &'a str,
    /// `portMappings` runtime config for plugins that advertise that capability.
    pub port_mappings: Vec<Value>,
}

/// Runs CNI plugins from one binary directory.
#[derive(Clone, Debug)]
pub struct Cni {
    pub bin_dir: PathBuf,
    pub conf_dir: PathBuf,
}

impl Cni {
    /// Loads the network configuration list the pods use, `None` when the directory has
    /// none (the network is not ready then).
    pub fn load_network(&self) -> Result<Option<Value>> {
        let Ok(entries) = std::fs::read_dir(&self.conf_dir) else {
            return Ok(None);
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                matches!(
                    path.extension().and_then(|ext| ext.to_str()),
                    Some("conf" | "conflist" | "json")
                )
            })
            .collect();
        files.sort();
        let Some(path) = files.first() else {
            return Ok(None);
        };
        let bytes = std::fs::read(path).map_err(Error::io("failed to read CNI config", path))?;
        let config: Value = serde_json::from_slice(&bytes).map_err(|error| {
            Error::Internal(format!("invalid CNI config {}: {error}", path.display()))
        })?;
        Ok(Some(as_list(config, path)?))
    }

    /// Attaches the pod's network namespace to loopback and the configured network and
    /// returns the network list that was used with its ADD result.
    pub async fn add(&self, network: &Value, pod: &PodNetwork<'_>) -> Result<Value> {
        self.run_list(&loopback_list(), "ADD", "lo", pod, None)
            .await?;
        let result = self
            .run_list(network, "ADD", POD_INTERFACE, pod, None)
            .await;
        if let Err(error) = &result {
            // Release what the failed ADD may have allocated (an IPAM lease, a veth).
            if let Err(cleanup) = self
                .run_list(network, "DEL", POD_INTERFACE, pod, None)
                .await
            {
                tracing::warn!(pod_sandbox_id = pod.sandbox_id, %error, %cleanup, "CNI DEL after failed ADD failed");
            }
        }
        result
    }

    /// Detaches the pod from the network it was added to. Missing plugins' state is not
    /// an error per the spec, so DEL is safe to repeat.
    pub async fn del(
        &self,
        network: &Value,
        pod: &PodNetwork<'_>,
        prev_result: Option<&Value>,
    ) -> Result<()> {
        self.run_list(network, "DEL", POD_INTERFACE, pod, prev_result)
            .await?;
        Ok(())
    }

    async fn run_list(
        &self,
        list: &Value,
        command: &str,
        ifname: &str,
        pod: &PodNetwork<'_>,
        prev_result: Option<&Value>,
    ) -> Result<Value> {
        let name = list.get("name").cloned().unwrap_or(Value::Null);
        let version = list.get("cniVersion").cloned().unwrap_or(json!("1.0.0"));
        let plugins: Vec<Value> = list
            .get("plugins")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();

        let mut result = prev_result.cloned();
        let ordered: Vec<&Value> = if command == "DEL" {
            plugins.iter().rev().collect()
        } else {
            plugins.iter().collect()
        };
        for plugin in ordered {
            let mut config = plugin.clone();
            let Some(object) = config.as_object_mut() else {
                return Err(Error::Internal(
                    "CNI plugin config is not a JSON object".to_string(),
                ));
            };
            object.insert("name".to_string(), name.clone());
            object.insert("cniVersion".to_string(), version.clone());
            if let Some(previous) = &result {
                object.insert("prevResult".to_string(), previous.clone());
            }
            let wants_ports = plugin
                .pointer("/capabilities/portMappings")
                .and_then(Value::as_bool)
                == Some(true);
            if wants_ports && !pod.port_mappings.is_empty() {
                object.insert(
                    "runtimeConfig".to_string(),
                    json!({ "portMappings": pod.port_mappings }),
                );
            }
            let output = self.exec_plugin(&config, command, ifname, pod).await?;
            if command == "ADD" {
                result = Some(output);
            }
        }
        Ok(result.unwrap_or(Value::Null))
    }

    async fn exec_plugin(
        &self,
        config: &Value,
        command: &str,
        ifname: &str,
        pod: &PodNetwork<'_>,
    ) -> Result<Value> {
        let plugin_type = config
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if plugin_type.is_empty() || plugin_type.contains('/') {
            return Err(Error::Internal(format!(
                "invalid CNI plugin type {plugin_type:?}"
            )));
        }
        let binary = self.bin_dir.join(plugin_type);
        let args = format!(
            "IgnoreUnknown=1;K8S_POD_NAMESPACE={};K8S_POD_NAME={};K8S_POD_INFRA_CONTAINER_ID={};K8S_POD_UID={}",
            pod.namespace, pod.name, pod.sandbox_id, pod.uid
        );
        let mut child = tokio::process::Command::new(&binary)
            .env_clear()
            .env("CNI_COMMAND", command)
            .env("CNI_CONTAINERID", pod.sandbox_id)
            .env("CNI_NETNS", pod.netns)
            .env("CNI_IFNAME", ifname)
            .env("CNI_PATH", &self.bin_dir)
            .env("CNI_ARGS", args)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(Error::io("failed to run CNI plugin", &binary))?;

        let input = serde_json::to_vec(config).unwrap_or_default();
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(&input)
                .await
                .map_err(Error::io("failed to write config to CNI plugin", &binary))?;
        }
        let output = child
            .wait_with_output()
            .await
            .map_err(Error::io("failed to wait for CNI plugin", &binary))?;

        let parsed: Option<Value> = serde_json::from_slice(&output.stdout).ok();
        if !output.status.success() {
            let message = parsed
                .as_ref()
                .map(|error| {
                    let msg = error.get("msg").and_then(Value::as_str).unwrap_or_default();
                    let details = error
                        .get("details")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    format!("{msg} {details}").trim().to_string()
                })
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| String::from_utf8_lossy(&output.stderr).trim().to_string());
            return Err(Error::Internal(format!(
                "CNI plugin {plugin_type} {command} failed ({}): {message}",
                output.status
            )));
        }
        Ok(parsed.unwrap_or(Value::Null))
    }
}

/// Turns a single-plugin `.conf` into a list; a `.conflist` passes through.
fn as_list(config: Value, path: &Path) -> Result<Value> {
    if config.get("plugins").is_some() {
        return Ok(config);
    }
    if config.get("type").is_none() {
        return Err(Error::Internal(format!(
            "CNI config {} has neither plugins nor type",
            path.display()
        )));
    }
    let name = config.get("name").cloned().unwrap_or(Value::Null);
    let version = config.get("cniVersion").cloned().unwrap_or(json!("1.0.0"));
    Ok(json!({ "cniVersion": version, "name": name, "plugins": [config] }))
}

fn loopback_list() -> Value {
    json!({ "cniVersion": "1.0.0", "name": "cni-loopback", "plugins": [{ "type": "loopback" }] })
}

/// Returns the pod IPs of an ADD result, the one on [`POD_INTERFACE`] (or first) first.
pub fn result_ips(result: &Value) -> Vec<String> {
    let Some(ips) = result.get("ips").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut addresses: Vec<String> = ips
        .iter()
        .filter_map(|ip| ip.get("address").and_then(Value::as_str))
        .map(|address| address.split('/').next().unwrap_or(address).to_string())
        .collect();
    addresses.dedup();
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_ips_strip_prefix_length() {
        let result = json!({ "ips": [{ "address": "10.1.0.5/24" }, { "address": "fd00::5/64" }] });
        assert_eq!(
            result_ips(&result),
            vec!["10.1.0.5".to_string(), "fd00::5".to_string()]
        );
        assert!(result_ips(&json!({})).is_empty());
    }

    #[test]
    fn single_plugin_config_becomes_list() {
        let list = as_list(
            json!({ "cniVersion": "0.4.0", "name": "n", "type": "bridge" }),
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(list["plugins"][0]["type"], "bridge");
        assert_eq!(list["name"], "n");
        assert!(as_list(json!({ "name": "n" }), Path::new("x")).is_err());
    }
}
