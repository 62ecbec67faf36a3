//! Objects every cluster has after the apiserver starts, created as upstream's
//! bootstrap controller and post-start hooks create them: the system namespaces,
//! the `kubernetes` Service with its Endpoints and EndpointSlice, the system
//! priority classes, and the mandatory API Priority and Fairness configuration.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::registry::store::{Store, WriteParams};

/// Namespaces upstream refuses to delete.
pub const UNDELETABLE_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// Namespaces upstream creates at start-up.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Addresses of the `kubernetes` Service and its endpoints.
#[derive(Clone, Debug)]
pub struct KubernetesService {
    /// The first address of `--service-cluster-ip-range`.
    pub cluster_ip: String,
    /// `--advertise-address`.
    pub endpoint_ip: String,
    /// The secure port.
    pub port: u16,
}

fn store<'a>(
    stores: &'a HashMap<(String, String, String), Arc<Store>>,
    group: &str,
    resource: &str,
) -> Option<&'a Arc<Store>> {
    stores.get(&(group.to_string(), "v1".to_string(), resource.to_string()))
}

/// Creates the bootstrap objects, retrying each until it exists.
pub async fn run(
    stores: &HashMap<(String, String, String), Arc<Store>>,
    kubernetes: &KubernetesService,
) {
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

    if let Some(services) = store(stores, "", "services") {
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": kubernetes.cluster_ip,
                "sessionAffinity": "None",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": kubernetes.port}],
            },
        });
        ensure(services, "default", "kubernetes", service).await;
    }
    // Endpoints may not point at loopback addresses, so a server advertising one
    // (a test, a single-host setup) publishes no endpoints, as upstream's would fail to.
    let loopback = kubernetes
        .endpoint_ip
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        tracing::warn!(address = %kubernetes.endpoint_ip, "advertise address is a loopback address; the kubernetes Service gets no endpoints");
    }
    if let Some(endpoints) = store(stores, "", "endpoints").filter(|_| !loopback) {
        let object = json!({
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{
                "addresses": [{"ip": kubernetes.endpoint_ip}],
                "ports": [{"name": "https", "port": kubernetes.port, "protocol": "TCP"}],
            }],
        });
        ensure(endpoints, "default", "kubernetes", object).await;
    }
    if let Some(slices) = store(stores, "discovery.k8s.io", "endpointslices").filter(|_| !loopback)
    {
        let family = if kubernetes.endpoint_ip.contains(':') {
            "IPv6"
        } else {
            "IPv4"
        };
        // No managed-by label: the EndpointSlice controller deletes the slices it
        // manages for Services without a selector, such as this one.
        let object = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": family,
            "endpoints": [{"addresses": [kubernetes.endpoint_ip], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": kubernetes.port, "protocol": "TCP"}],
        });
        ensure(slices, "default", "kubernetes", object).await;
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
    ensure_flow_control(stores).await;
    tracing::info!("bootstrap objects exist");
}

/// Annotation marking a bootstrap flow-control object whose spec the apiserver
/// keeps up to date.
const AUTOUPDATE_SPEC: &str = "apf.kubernetes.io/autoupdate-spec";

/// Creates the mandatory PriorityLevelConfigurations and FlowSchemas (`exempt` and
/// `catch-all`), as upstream's APF configuration producer does at start-up.
// NOTE: only the mandatory objects exist; upstream also creates the suggested ones
// (system, node-high, leader-election, workload-high, ...).
async fn ensure_flow_control(stores: &HashMap<(String, String, String), Arc<Store>>) {
    const GROUP: &str = "flowcontrol.apiserver.k8s.io";
    let metadata = |name: &str| json!({"name": name, "annotations": {AUTOUPDATE_SPEC: "true"}});
    if let Some(levels) = store(stores, GROUP, "prioritylevelconfigurations") {
        let exempt = json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "PriorityLevelConfiguration",
            "metadata": metadata("exempt"),
            "spec": {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}},
        });
        ensure(levels, "", "exempt", exempt).await;
        let catch_all = json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "PriorityLevelConfiguration",
            "metadata": metadata("catch-all"),
            "spec": {"type": "Limited", "limited": {
                "nominalConcurrencyShares": 5,
                "lendablePercent": 0,
                "limitResponse": {"type": "Reject"},
            }},
        });
        ensure(levels, "", "catch-all", catch_all).await;
    }

    let every_request = |groups: &[&str]| {
        let subjects: Vec<Value> = groups
            .iter()
            .map(|group| json!({"kind": "Group", "group": {"name": group}}))
            .collect();
        json!([{
            "subjects": subjects,
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": true, "namespaces": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        }])
    };
    if let Some(schemas) = store(stores, GROUP, "flowschemas") {
        let exempt = json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": metadata("exempt"),
            "spec": {
                "priorityLevelConfiguration": {"name": "exempt"},
                "matchingPrecedence": 1,
                "rules": every_request(&["system:masters"]),
            },
        });
        ensure(schemas, "", "exempt", exempt).await;
        let catch_all = json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": metadata("catch-all"),
            "spec": {
                "priorityLevelConfiguration": {"name": "catch-all"},
                "matchingPrecedence": 10000,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": every_request(&["system:unauthenticated", "system:authenticated"]),
            },
        });
        ensure(schemas, "", "catch-all", catch_all).await;
    }
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
