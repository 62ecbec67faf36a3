//! The pod manager: the pods the kubelet should run, merged from every source, and
//! the mirror pods of the static ones.
//!
//! [`PodManager::apply`] takes a source's full set of pods and returns the UIDs
//! whose pod was added, changed or removed, which the kubelet then syncs.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use crate::kuberuntime::pod_full_name;
use crate::sources::{self, Source, SourceUpdate};

/// The pods the kubelet should run, by UID, and the mirror pods by full name.
#[derive(Default)]
pub struct PodManager {
    pub(crate) pods: HashMap<String, Arc<Pod>>,
    by_source: HashMap<Source, HashMap<String, Arc<Pod>>>,
    pub(crate) mirrors: HashMap<String, Arc<Pod>>,
}

impl PodManager {
    /// Returns the desired pod with this UID.
    pub fn get(&self, uid: &str) -> Option<Arc<Pod>> {
        self.pods.get(uid).cloned()
    }

    /// Returns every desired pod.
    pub fn pods(&self) -> Vec<Arc<Pod>> {
        self.pods.values().cloned().collect()
    }

    /// Finds the desired pod with this namespace and name.
    pub fn by_name(&self, namespace: &str, name: &str) -> Option<Arc<Pod>> {
        self.pods
            .values()
            .find(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.metadata.name.as_deref() == Some(name)
            })
            .cloned()
    }

    /// Replaces one source's pods; returns the UIDs that were added, changed or removed.
    pub fn apply(&mut self, update: SourceUpdate) -> Vec<String> {
        let mut fresh = HashMap::new();
        if update.source == Source::Api {
            self.mirrors.clear();
        }
        for pod in update.pods {
            if update.source == Source::Api && sources::is_mirror(&pod) {
                self.mirrors.insert(pod_full_name(&pod), pod);
                continue;
            }
            fresh.insert(crate::kuberuntime::pod_uid(&pod).to_string(), pod);
        }
        let old = self
            .by_source
            .insert(update.source, fresh.clone())
            .unwrap_or_default();
        let mut changed = Vec::new();
        for (uid, pod) in &fresh {
            if old
                .get(uid)
                .is_none_or(|o| !Arc::ptr_eq(o, pod) && !same_pod(o, pod))
            {
                changed.push(uid.clone());
            }
            self.pods.insert(uid.clone(), pod.clone());
        }
        for uid in old.keys() {
            if !fresh.contains_key(uid) {
                self.pods.remove(uid);
                changed.push(uid.clone());
            }
        }
        changed
    }
}

fn same_pod(a: &Pod, b: &Pod) -> bool {
    a.metadata.resource_version == b.metadata.resource_version
        && a.metadata.deletion_timestamp == b.metadata.deletion_timestamp
        && a.spec == b.spec
        && (a.metadata.resource_version.is_some()
            || a.metadata.annotations == b.metadata.annotations)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn pod(uid: &str, version: &str, mirror: bool) -> Pod {
        let annotations =
            mirror.then(|| BTreeMap::from([(sources::CONFIG_MIRROR.to_string(), "h".to_string())]));
        Pod {
            metadata: ObjectMeta {
                name: Some(format!("p-{uid}")),
                namespace: Some("default".into()),
                uid: Some(uid.into()),
                resource_version: Some(version.into()),
                annotations,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn apply_reports_changes_and_keeps_mirrors_apart() {
        let mut manager = PodManager::default();
        let update = |pods: Vec<Pod>| SourceUpdate {
            source: Source::Api,
            pods: pods.into_iter().map(Arc::new).collect(),
        };
        assert_eq!(
            manager.apply(update(vec![pod("a", "1", false), pod("m", "1", true)])),
            vec!["a"]
        );
        assert!(manager.get("m").is_none());
        assert_eq!(manager.mirrors.len(), 1);
        assert!(manager.apply(update(vec![pod("a", "1", false)])).is_empty());
        assert_eq!(manager.apply(update(vec![pod("a", "2", false)])), vec!["a"]);
        assert_eq!(manager.apply(update(vec![])), vec!["a"]);
        assert!(manager.get("a").is_none());
        assert!(manager.mirrors.is_empty());
    }
}
