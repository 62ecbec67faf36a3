//! Fixtures for the unit tests: Services and EndpointSlices built from JSON, as the
//! API server returns them.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};

use crate::resolver::Resolver;
use crate::store::ClusterStore;

pub fn service(namespace: &str, name: &str, spec: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"namespace": namespace, "name": name},
        "spec": spec,
    }))
    .expect("valid Service")
}

/// Builds an EndpointSlice of `service`; each endpoint is (address, hostname, ready).
pub fn slice(
    namespace: &str,
    name: &str,
    service: &str,
    address_type: &str,
    endpoints: &[(&str, Option<&str>, Option<bool>)],
    ports: Value,
) -> EndpointSlice {
    let endpoints: Vec<Value> = endpoints
        .iter()
        .map(|(address, hostname, ready)| {
            let mut endpoint = json!({"addresses": [address]});
            if let Some(hostname) = hostname {
                endpoint["hostname"] = json!(hostname);
            }
            if let Some(ready) = ready {
                endpoint["conditions"] = json!({"ready": ready});
            }
            endpoint
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {
            "namespace": namespace,
            "name": name,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": address_type,
        "endpoints": endpoints,
        "ports": ports,
    }))
    .expect("valid EndpointSlice")
}

/// Builds a store with the objects most tests use:
///
/// - `default/kubernetes`: cluster IP 10.96.0.1, port `https` 443/TCP;
/// - `default/dual`: cluster IPs 10.96.0.20 and fd00:96::20, port `dns` 53/UDP;
/// - `apps/web`: headless, endpoints web-0 (10.244.1.5), web-1 (10.244.2.6), an
///   endpoint without hostname (10.244.1.7) and a not-ready web-2 (10.244.2.8),
///   port `http` 8080/TCP; 10.244.1.5 also sits in a second slice;
/// - `apps/v6`: headless, one IPv6 endpoint fd00:244::5;
/// - `apps/search`: ExternalName `www.example.org`;
/// - `apps/unnamed`: cluster IP 10.96.0.30 with an unnamed port.
pub fn store() -> Arc<ClusterStore> {
    let store = Arc::new(ClusterStore::new());
    store.apply_service(&service(
        "default",
        "kubernetes",
        json!({"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
               "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}),
    ));
    store.apply_service(&service(
        "default",
        "dual",
        json!({"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20", "fd00:96::20"],
               "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}),
    ));
    store.apply_service(&service(
        "apps",
        "web",
        json!({"clusterIP": "None", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}),
    ));
    store.apply_endpoint_slice(&slice(
        "apps",
        "web-abc",
        "web",
        "IPv4",
        &[
            ("10.244.1.5", Some("web-0"), Some(true)),
            ("10.244.2.6", Some("web-1"), None),
            ("10.244.1.7", None, Some(true)),
            ("10.244.2.8", Some("web-2"), Some(false)),
        ],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}]),
    ));
    store.apply_endpoint_slice(&slice(
        "apps",
        "web-def",
        "web",
        "IPv4",
        &[("10.244.1.5", Some("web-0"), Some(true))],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}]),
    ));
    store.apply_service(&service("apps", "v6", json!({"clusterIP": "None"})));
    store.apply_endpoint_slice(&slice(
        "apps",
        "v6-abc",
        "v6",
        "IPv6",
        &[("fd00:244::5", None, None)],
        json!([]),
    ));
    store.apply_service(&service(
        "apps",
        "search",
        json!({"type": "ExternalName", "externalName": "WWW.Example.org."}),
    ));
    store.apply_service(&service(
        "apps",
        "unnamed",
        json!({"clusterIP": "10.96.0.30", "ports": [{"port": 80}]}),
    ));
    store
}

pub fn resolver(store: Arc<ClusterStore>) -> Resolver {
    Resolver::new("cluster.local.", 30, store).expect("valid zone")
}
