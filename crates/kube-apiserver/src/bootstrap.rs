//! Objects every cluster has after the apiserver starts, created as upstream's
//! bootstrap controller and post-start hooks create them: the system namespaces and
//! the system priority classes.
//!
//! NOTE: the `kubernetes` Service and its endpoints need the ClusterIP allocator,
//! which does not exist yet, so they are not created.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::registry::store::{Store, WriteParams};

/// Namespaces upstream creates at start-up.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the bootstrap objects, retrying each until it exists.
pub async fn run(stores: &HashMap<(String, String, String), Arc<Store>>) {
    let namespaces = stores
        .get(&(String::new(), "v1".into(), "namespaces".into()))
        .cloned();
    if let Some(store) = namespaces {
        for name in SYSTEM_NAMESPACES {
            let object =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            ensure(&store, "", name, object).await;
        }
    }

    let priority_classes = stores
        .get(&(
            "scheduling.k8s.io".into(),
            "v1".into(),
            "priorityclasses".into(),
        ))
        .cloned();
    if let Some(store) = priority_classes {
        for (name, value, description) in [
            (
                "system-node-critical",
                2_000_001_000,
                "Used for system critical pods that must not be moved from their current node.",
            ),
            (
                "system-cluster-critical",
                2_000_000_000,
                "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
            ),
        ] {
            let object = json!({
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": value,
                "description": description,
                "preemptionPolicy": "PreemptLowerPriority",
            });
            ensure(&store, "", name, object).await;
        }
    }
    tracing::info!("bootstrap objects exist");
}

/// Creates the object unless it exists, retrying storage failures with backoff.
async fn ensure(store: &Store, namespace: &str, name: &str, object: Value) {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.get(namespace, name).await {
            Ok(_) => return,
            Err(error) if error.code() == 404 => {}
            Err(error) => {
                tracing::warn!(resource = store.info.resource, name, error = %error.message(), "bootstrap read failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        }
        match store
            .create(namespace, object.clone(), &WriteParams::default())
            .await
        {
            Ok(_) => {
                tracing::info!(
                    resource = store.info.resource,
                    name,
                    "created bootstrap object"
                );
                return;
            }
            Err(error) if error.code() == 409 => return,
            Err(error) => {
                tracing::warn!(resource = store.info.resource, name, error = %error.message(), "bootstrap create failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
