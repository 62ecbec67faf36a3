//! The pod lifecycle event generator: relists sandboxes and containers every
//! second and reports each pod whose containers changed (ContainerStarted,
//! ContainerDied, ContainerRemoved, and sandbox changes), so that its worker syncs.
//!
//! [`run`] also reports runtime pods the kubelet may not know (for example after a
//! restart), which lets the kubelet clean them up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cri::v1 as pb;
use tokio::sync::{mpsc, watch};

use crate::kuberuntime::labels;
use crate::remote::RemoteRuntime;

/// A lifecycle event of one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventType {
    ContainerStarted,
    ContainerDied,
    ContainerRemoved,
    ContainerChanged,
}

/// An event: the pod UID, what happened and the container or sandbox id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodLifecycleEvent {
    pub pod_uid: String,
    pub event: EventType,
    pub id: String,
}

/// State per container or sandbox id: (pod uid, state code; sandboxes offset by 10).
type Snapshot = HashMap<String, (String, i32)>;

/// Computes the events between two relists.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Vec<PodLifecycleEvent> {
    let mut events = Vec::new();
    for (id, (uid, state)) in new {
        let event = match (old.get(id).map(|o| o.1), *state) {
            (Some(o), n) if o == n => continue,
            (_, 1) => EventType::ContainerStarted,
            (_, 2) => EventType::ContainerDied,
            _ => EventType::ContainerChanged,
        };
        events.push(PodLifecycleEvent {
            pod_uid: uid.clone(),
            event,
            id: id.clone(),
        });
    }
    for (id, (uid, _)) in old {
        if !new.contains_key(id) {
            events.push(PodLifecycleEvent {
                pod_uid: uid.clone(),
                event: EventType::ContainerRemoved,
                id: id.clone(),
            });
        }
    }
    events
}

async fn relist(runtime: &RemoteRuntime) -> Result<Snapshot, tonic::Status> {
    let mut rt = runtime.runtime.clone();
    let mut snapshot = Snapshot::new();
    let sandboxes = rt
        .list_pod_sandbox(pb::ListPodSandboxRequest { filter: None })
        .await?
        .into_inner()
        .items;
    for s in sandboxes {
        if let Some(uid) = s.labels.get(labels::POD_UID) {
            snapshot.insert(s.id, (uid.clone(), 10 + s.state));
        }
    }
    let containers = rt
        .list_containers(pb::ListContainersRequest { filter: None })
        .await?
        .into_inner()
        .containers;
    for c in containers {
        if let Some(uid) = c.labels.get(labels::POD_UID) {
            snapshot.insert(c.id, (uid.clone(), c.state));
        }
    }
    Ok(snapshot)
}

/// Relists every `period` until cancelled, sending the UID of every pod with events.
/// `healthy` receives the time of the last successful relist.
pub async fn run(
    runtime: RemoteRuntime,
    period: Duration,
    tx: mpsc::UnboundedSender<String>,
    healthy: watch::Sender<Option<Instant>>,
    mut cancel: watch::Receiver<bool>,
) {
    let mut old = Snapshot::new();
    let mut first = true;
    loop {
        match relist(&runtime).await {
            Ok(new) => {
                let mut pods: Vec<String> = if first {
                    new.values().map(|v| v.0.clone()).collect()
                } else {
                    diff(&old, &new).into_iter().map(|e| e.pod_uid).collect()
                };
                first = false;
                pods.sort();
                pods.dedup();
                for uid in pods {
                    let _ = tx.send(uid);
                }
                old = new;
                let _ = healthy.send(Some(Instant::now()));
            }
            Err(status) => tracing::warn!(%status, "PLEG relist failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_between_relists() {
        let old: Snapshot = [
            ("c1".to_string(), ("p1".to_string(), 1)),
            ("c2".to_string(), ("p2".to_string(), 1)),
        ]
        .into();
        let new: Snapshot = [
            ("c1".to_string(), ("p1".to_string(), 2)),
            ("c3".to_string(), ("p3".to_string(), 1)),
        ]
        .into();
        let mut events = diff(&old, &new);
        events.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            events,
            vec![
                PodLifecycleEvent {
                    pod_uid: "p1".into(),
                    event: EventType::ContainerDied,
                    id: "c1".into()
                },
                PodLifecycleEvent {
                    pod_uid: "p2".into(),
                    event: EventType::ContainerRemoved,
                    id: "c2".into()
                },
                PodLifecycleEvent {
                    pod_uid: "p3".into(),
                    event: EventType::ContainerStarted,
                    id: "c3".into()
                },
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
