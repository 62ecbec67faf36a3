//! The Kubernetes node agent: pod sources, pod workers, PLEG and the managers, over CRI.
//!
//! [`kubelet::start`] starts everything from a [`config::KubeletConfiguration`];
//! the modules are named after the upstream managers they stand for.

pub mod admission;
pub mod api;
pub mod apparmor;
pub mod backoff;
pub mod cm;
pub mod config;
pub mod credentialprovider;
pub mod events;
pub mod eviction;
pub mod heap;
pub mod hollow;
pub mod image_gc;
pub mod images;
pub mod kubelet;
pub mod kuberuntime;
pub mod node;
pub mod pleg;
pub mod pod_manager;
pub mod prober;
pub mod quantity;
pub mod remote;
pub mod resource;
pub mod server;
pub mod sources;
pub mod stats;
pub mod status;
pub mod token;
pub mod volumes;

/// Resolves once `cancel` is true or its sender is gone.
pub async fn cancelled(cancel: &mut tokio::sync::watch::Receiver<bool>) {
    while !*cancel.borrow_and_update() {
        if cancel.changed().await.is_err() {
            return;
        }
    }
}

/// Returns the current wall-clock time as the API's timestamp type.
pub fn now() -> k8s_openapi::jiff::Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    k8s_openapi::jiff::Timestamp::from_nanosecond(nanos)
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}
