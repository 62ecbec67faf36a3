//! The volume binder of VolumeBinding (upstream `SchedulerVolumeBinder`): the assume
//! caches that let the next scheduling cycles see bindings before the API server
//! stores them, and the matching of unbound claims to available volumes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apimachinery::labels::label_selector_as_selector;
use apimachinery::quantity::Quantity;
use k8s_openapi::Metadata;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{claim_class, is_volume_bound_to_claim, volume_class};
use crate::framework::handle::{ClusterState, read_map};
use crate::plugins::helper::node_selector_terms_match;

/// An object assumed ahead of the informer, and the `resourceVersion` of the informer's
/// copy it was derived from.
struct Assumed<K> {
    object: Arc<K>,
    base_version: String,
}

/// Objects changed in memory before the API server confirms them (upstream
/// `AssumeCache`). An assumed object shadows the informer's copy until the informer
/// reports a different `resourceVersion`, which means the write (or another one) was
/// stored, or until the assumption is restored.
pub(super) struct AssumeCache<K> {
    entries: Mutex<HashMap<String, Assumed<K>>>,
}

impl<K> Default for AssumeCache<K> {
    fn default() -> Self {
        AssumeCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

fn resource_version(meta: &ObjectMeta) -> &str {
    meta.resource_version.as_deref().unwrap_or_default()
}

impl<K: Metadata<Ty = ObjectMeta>> AssumeCache<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Assumed<K>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shadows the informer's object `base` with `object` under `key`.
    pub(super) fn assume(&self, key: String, object: Arc<K>, base: &K) {
        let base_version = resource_version(base.metadata()).to_string();
        self.lock().insert(
            key,
            Assumed {
                object,
                base_version,
            },
        );
    }

    /// Drops the assumption under `key`, so the informer's copy counts again.
    pub(super) fn restore(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Returns the effective object under `key` given the informer's copy, dropping an
    /// assumption the informer has moved past.
    pub(super) fn resolve(&self, key: &str, informer: Option<Arc<K>>) -> Option<Arc<K>> {
        let mut entries = self.lock();
        let Some(assumed) = entries.get(key) else {
            return informer;
        };
        match &informer {
            Some(current) if resource_version(current.metadata()) == assumed.base_version => {
                Some(assumed.object.clone())
            }
            _ => {
                entries.remove(key);
                informer
            }
        }
    }

    /// Returns whether anything is assumed, so listing can skip the overlay.
    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// The claims and volumes as the scheduler sees them: the informers' objects with the
/// assumed bindings laid over them.
#[derive(Default)]
pub(super) struct VolumeView {
    pub(super) volumes: AssumeCache<PersistentVolume>,
    pub(super) claims: AssumeCache<PersistentVolumeClaim>,
}

impl VolumeView {
    /// Returns the claim `namespace/name`.
    pub(super) fn claim(
        &self,
        cluster: &ClusterState,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<PersistentVolumeClaim>> {
        let key = format!("{namespace}/{name}");
        self.claims.resolve(&key, cluster.claim(namespace, name))
    }

    /// Returns the volume `name`.
    pub(super) fn volume(
        &self,
        cluster: &ClusterState,
        name: &str,
    ) -> Option<Arc<PersistentVolume>> {
        self.volumes.resolve(name, cluster.volume(name))
    }

    /// Returns every volume of the class `class_name`.
    pub(super) fn volumes_of_class(
        &self,
        cluster: &ClusterState,
        class_name: &str,
    ) -> Vec<Arc<PersistentVolume>> {
        let informer: Vec<(String, Arc<PersistentVolume>)> = read_map(&cluster.pvs)
            .iter()
            .map(|(name, volume)| (name.clone(), volume.clone()))
            .collect();
        let overlay = !self.volumes.is_empty();
        informer
            .into_iter()
            .filter_map(|(name, volume)| {
                if overlay {
                    self.volumes.resolve(&name, Some(volume))
                } else {
                    Some(volume)
                }
            })
            .filter(|volume| volume_class(volume) == class_name)
            .collect()
    }

    /// Returns whether the claim is bound, seen through the assumed objects; see
    /// [`super::is_claim_bound`].
    pub(super) fn is_claim_bound(
        &self,
        cluster: &ClusterState,
        claim: &PersistentVolumeClaim,
    ) -> bool {
        let volume_name = super::claim_volume_name(claim);
        if volume_name.is_empty() {
            return false;
        }
        if super::annotation(
            claim.metadata.annotations.as_ref(),
            super::ANN_BIND_COMPLETED,
        )
        .is_some()
        {
            return true;
        }
        self.volume(cluster, volume_name)
            .is_some_and(|volume| is_volume_bound_to_claim(&volume, claim))
    }
}

/// Returns the storage a claim requests (`spec.resources.requests.storage`), zero when
/// unset or unparsable.
pub(super) fn requested_storage(claim: &PersistentVolumeClaim) -> Quantity {
    claim
        .spec
        .as_ref()
        .and_then(|spec| spec.resources.as_ref())
        .and_then(|resources| resources.requests.as_ref())
        .and_then(|requests| requests.get("storage"))
        .and_then(|quantity| Quantity::parse(&quantity.0).ok())
        .unwrap_or_default()
}

fn volume_capacity(volume: &PersistentVolume) -> Quantity {
    volume
        .spec
        .as_ref()
        .and_then(|spec| spec.capacity.as_ref())
        .and_then(|capacity| capacity.get("storage"))
        .and_then(|quantity| Quantity::parse(&quantity.0).ok())
        .unwrap_or_default()
}

/// Returns whether the volume's required node affinity admits the node; a volume
/// without one fits every node.
pub(super) fn volume_fits_node(volume: &PersistentVolume, node: &Node) -> bool {
    let required = volume
        .spec
        .as_ref()
        .and_then(|spec| spec.node_affinity.as_ref())
        .and_then(|affinity| affinity.required.as_ref());
    match required {
        Some(selector) => node_selector_terms_match(&selector.node_selector_terms, node),
        None => true,
    }
}

/// The volumes that may satisfy one unbound claim, found once per cycle so Filter only
/// checks node affinity.
#[derive(Clone)]
pub(super) struct ClaimCandidates {
    /// The claim.
    pub(super) claim: Arc<PersistentVolumeClaim>,
    /// A volume pre-bound to the claim and large enough: the only acceptable match.
    pub(super) pre_bound: Option<Arc<PersistentVolume>>,
    /// Available volumes that match the claim, smallest first.
    pub(super) available: Vec<Arc<PersistentVolume>>,
}

fn volume_mode(mode: Option<&String>) -> &str {
    mode.map(String::as_str).unwrap_or("Filesystem")
}

/// Collects the candidates of a claim among `volumes` (upstream `FindMatchingVolume`
/// without the node): the volume mode matches and the volume is not being deleted;
/// then either the volume is pre-bound to the claim, or it is `Available`, not claimed,
/// selected by the claim's selector, of the claim's class, offers every requested
/// access mode and is at least as large as the request.
///
/// # Errors
///
/// The claim's label selector is invalid.
pub(super) fn claim_candidates(
    claim: Arc<PersistentVolumeClaim>,
    volumes: &[Arc<PersistentVolume>],
) -> Result<ClaimCandidates, String> {
    let spec = claim.spec.clone().unwrap_or_default();
    let requested = requested_storage(&claim);
    let class_name = claim_class(&claim).to_string();
    let selector = match spec.selector.as_ref() {
        Some(selector) => Some(label_selector_as_selector(Some(selector)).map_err(|error| {
            format!(
                "invalid label selector of claim {}: {error}",
                super::claim_key(&claim)
            )
        })?),
        None => None,
    };
    let claim_mode = volume_mode(spec.volume_mode.as_ref()).to_string();
    let access_modes = spec.access_modes.unwrap_or_default();

    let mut pre_bound = None;
    let mut available: Vec<(Quantity, Arc<PersistentVolume>)> = Vec::new();
    for volume in volumes {
        let Some(volume_spec) = volume.spec.as_ref() else {
            continue;
        };
        if volume_mode(volume_spec.volume_mode.as_ref()) != claim_mode
            || volume.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let capacity = volume_capacity(volume);
        if is_volume_bound_to_claim(volume, &claim) {
            if capacity >= requested {
                pre_bound = Some(volume.clone());
            }
            continue;
        }
        let phase = volume
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref());
        if phase != Some("Available") || volume_spec.claim_ref.is_some() {
            continue;
        }
        if let Some(selector) = &selector
            && !selector.matches(&volume.metadata.labels)
        {
            continue;
        }
        if volume_class(volume) != class_name {
            continue;
        }
        let offered = volume_spec.access_modes.as_deref().unwrap_or_default();
        if !access_modes.iter().all(|mode| offered.contains(mode)) {
            continue;
        }
        if capacity >= requested {
            available.push((capacity, volume.clone()));
        }
    }
    available.sort_by(|(a, va), (b, vb)| {
        a.cmp(b)
            .then_with(|| va.metadata.name.cmp(&vb.metadata.name))
    });
    Ok(ClaimCandidates {
        claim,
        pre_bound,
        available: available.into_iter().map(|(_, volume)| volume).collect(),
    })
}

impl ClaimCandidates {
    /// Returns the volume for the claim on `node`, skipping volumes already chosen for
    /// the pod's other claims. A pre-bound volume is the only acceptable match, so when
    /// it does not fit the node there is none (the claim may still be provisioned).
    pub(super) fn find(
        &self,
        node: &Node,
        chosen: &[Arc<PersistentVolume>],
    ) -> Option<Arc<PersistentVolume>> {
        if let Some(volume) = &self.pre_bound {
            return volume_fits_node(volume, node).then(|| volume.clone());
        }
        self.available
            .iter()
            .find(|volume| {
                volume_fits_node(volume, node)
                    && !chosen
                        .iter()
                        .any(|other| other.metadata.name == volume.metadata.name)
            })
            .cloned()
    }
}
