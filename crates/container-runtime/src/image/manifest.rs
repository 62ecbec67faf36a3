//! The JSON documents of OCI image-spec v1 and Docker image manifest v2 schema 2 that the
//! store reads: descriptors, manifests, indexes (manifest lists) and the image config.
//! Both families share one shape and differ in media type strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const OCI_LAYER_NONDIST_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// Annotation with the tag (or full reference) of a manifest in an OCI layout's index.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation with the full image name, written by containerd and `docker save` (v25+).
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// `Accept` header value for manifest requests: every manifest and index type we read.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// A content descriptor: what a blob is, its digest and size in bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// An image index or Docker manifest list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

/// Either kind of top-level document a tag can point at.
#[derive(Debug, Clone)]
pub enum ManifestDocument {
    Manifest(Manifest),
    Index(Index),
}

impl ManifestDocument {
    /// Decodes `body` using the media type from the response header or, when that is
    /// missing or generic, from the document's own `mediaType` field and shape.
    ///
    /// # Errors
    /// A message naming the media type: schema 1 manifests, unknown types and invalid JSON.
    pub fn decode(content_type: Option<&str>, body: &[u8]) -> Result<Self, String> {
        let declared = content_type
            .map(|value| value.split(';').next().unwrap_or("").trim().to_string())
            .filter(|value| !value.is_empty() && value != "application/json");
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("manifest is not valid JSON: {e}"))?;
        let media_type = declared.or_else(|| {
            value
                .get("mediaType")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        let is_index = match media_type.as_deref() {
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
            Some(DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED) => {
                return Err(
                    "Docker image manifest schema 1 is not supported; push the image again \
                     with a current client"
                        .to_string(),
                );
            }
            Some(other) => return Err(format!("unsupported manifest media type {other:?}")),
            None => value.get("manifests").is_some(),
        };
        if is_index {
            serde_json::from_value(value)
                .map(ManifestDocument::Index)
                .map_err(|e| format!("invalid image index: {e}"))
        } else {
            serde_json::from_value(value)
                .map(ManifestDocument::Manifest)
                .map_err(|e| format!("invalid image manifest: {e}"))
        }
    }
}

/// The parts of an image config (`application/vnd.oci.image.config.v1+json`) that the
/// runtime uses.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ImageConfigFile {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub config: ContainerConfig,
    pub rootfs: RootFs,
}

/// Execution defaults of an image, as the image config's `config` object names them.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

/// Compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Detects compression from the first bytes of a blob (gzip `1f 8b`, zstd
    /// `28 b5 2f fd`), which is more reliable than media types written by old tools.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Checks whether `media_type` names a layer this store can unpack.
pub fn is_layer_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_LAYER_TAR
            | OCI_LAYER_GZIP
            | OCI_LAYER_ZSTD
            | OCI_LAYER_NONDIST_GZIP
            | DOCKER_LAYER_GZIP
            | DOCKER_LAYER_FOREIGN
            | ""
    )
}

/// Returns the platform this process runs on, in the GOOS/GOARCH spelling images use.
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform {
        architecture: architecture.to_string(),
        os: "linux".to_string(),
        variant: (architecture == "arm64").then(|| "v8".to_string()),
    }
}

/// Picks the manifest for `platform` from an index: os and architecture must match, and
/// the variant must match when both sides give one.
pub fn select_platform<'a>(index: &'a Index, platform: &Platform) -> Option<&'a Descriptor> {
    index.manifests.iter().find(|descriptor| {
        let Some(candidate) = &descriptor.platform else {
            return false;
        };
        let variant_ok = match (&candidate.variant, &platform.variant) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        candidate.os == platform.os && candidate.architecture == platform.architecture && variant_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(os: &str, architecture: &str, byte: u8) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.to_string(),
            digest: Digest::of(&[byte]),
            size: 1,
            platform: Some(Platform {
                architecture: architecture.to_string(),
                os: os.to_string(),
                variant: None,
            }),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn select_platform_matches_os_and_arch() {
        let index = Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: vec![
                descriptor("linux", "arm64", 1),
                descriptor("windows", "amd64", 2),
                descriptor("linux", "amd64", 3),
            ],
        };
        let amd64 = Platform {
            architecture: "amd64".to_string(),
            os: "linux".to_string(),
            variant: None,
        };
        assert_eq!(
            select_platform(&index, &amd64).map(|d| &d.digest),
            Some(&Digest::of(&[3]))
        );
    }

    #[test]
    fn decode_rejects_schema1() {
        let err = ManifestDocument::decode(Some(DOCKER_SCHEMA1_SIGNED), b"{}").unwrap_err();
        assert!(err.contains("schema 1"), "{err}");
    }

    #[test]
    fn sniff_detects_compression() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"etc/"), Compression::None);
    }
}
