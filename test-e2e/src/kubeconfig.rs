//! Kubeconfig files for the cluster's users: the administrator and each component.
//!
//! [`write_kubeconfig`] writes one file with a single cluster, user and context that
//! refer to certificate files by absolute path, so the files stay readable and a
//! rotated certificate needs no new kubeconfig. [`write_embedded_kubeconfig`] embeds
//! the certificates instead, as kubeadm does, for components in containers that do
//! not see the host's paths.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::pki::CertPair;

/// Writes a kubeconfig like [`write_kubeconfig`] with the CA certificate, client
/// certificate and key embedded as `*-data` fields.
///
/// # Errors
///
/// Reading a certificate or key, or writing `path`.
pub fn write_embedded_kubeconfig(
    path: &Path,
    server: &str,
    ca: &Path,
    user: &str,
    client: &CertPair,
) -> std::io::Result<PathBuf> {
    let encode = |file: &Path| fs::read(file).map(|bytes| STANDARD.encode(bytes));
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
contexts:
- name: {user}@local
  context:
    cluster: local
    user: {user}
current-context: {user}@local
",
        ca = encode(ca)?,
        cert = encode(&client.cert)?,
        key = encode(&client.key)?,
    );
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)?;
    Ok(path.to_path_buf())
}

/// Writes a kubeconfig at `path` for a user authenticating with `client`, trusting
/// `ca` for the server at `server` (such as `https://10.240.0.1:6443`).
pub fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca: &Path,
    user: &str,
    client: &CertPair,
) -> std::io::Result<PathBuf> {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: {user}
  user:
    client-certificate: {cert}
    client-key: {key}
contexts:
- name: {user}@local
  context:
    cluster: local
    user: {user}
current-context: {user}@local
",
        ca = ca.display(),
        cert = client.cert.display(),
        key = client.key.display(),
    );
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)?;
    Ok(path.to_path_buf())
}
