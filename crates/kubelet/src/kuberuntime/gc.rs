//! Node-wide container garbage collection: removes exited containers beyond the
//! limits of the container GC policy, oldest first.
//!
//! As upstream's container GC (Kubernetes v1.18), an evict unit is the set of
//! exited instances of one container name in one pod. Only containers that are
//! not running and were created more than `min_age` ago count. Each unit keeps at
//! most `max_per_pod_container` instances. When the node then still has more than
//! `max_containers`, every unit is cut to an equal share (at least one). After
//! that, the oldest containers of the node go until `max_containers` remain. A
//! negative limit disables its step.
//!
//! Containers of pods that are gone are removed when their pod worker terminates
//! the pod, not here.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cri::v1 as pb;

use super::{RuntimeManager, labels};

/// The limits of container garbage collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerGcPolicy {
    /// The minimum age of a dead container before it may be removed.
    pub min_age: Duration,
    /// The maximum number of dead instances kept per container of a pod; negative
    /// means no limit.
    pub max_per_pod_container: i32,
    /// The maximum number of dead containers kept on the node; negative means no
    /// limit.
    pub max_containers: i32,
}

/// A dead container that may be removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvictableContainer {
    pub id: String,
    /// Nanoseconds since the Unix epoch, as CRI reports it.
    pub created_at: i64,
}

/// Evict units keyed by (pod UID, container name), each newest first.
pub type EvictUnits = BTreeMap<(String, String), Vec<EvictableContainer>>;

/// Returns the IDs of the containers `policy` removes from `units`.
pub fn select_for_removal(policy: &ContainerGcPolicy, mut units: EvictUnits) -> Vec<String> {
    let mut removed = Vec::new();
    for unit in units.values_mut() {
        unit.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    }

    if policy.max_per_pod_container >= 0 {
        enforce_per_unit(
            &mut units,
            policy.max_per_pod_container as usize,
            &mut removed,
        );
    }

    let total: usize = units.values().map(Vec::len).sum();
    if policy.max_containers >= 0 && total > policy.max_containers as usize {
        let max = policy.max_containers as usize;
        let share = (max / units.len().max(1)).max(1);
        enforce_per_unit(&mut units, share, &mut removed);

        let mut rest: Vec<EvictableContainer> = units.into_values().flatten().collect();
        if rest.len() > max {
            rest.sort_by_key(|c| std::cmp::Reverse(c.created_at));
            removed.extend(rest.drain(max..).map(|c| c.id));
        }
    }
    removed
}

fn enforce_per_unit(units: &mut EvictUnits, keep: usize, removed: &mut Vec<String>) {
    for unit in units.values_mut() {
        if unit.len() > keep {
            removed.extend(unit.drain(keep..).map(|c| c.id));
        }
    }
}

impl RuntimeManager {
    /// Lists the node's containers through CRI and removes the dead ones that
    /// `policy` does not keep. Failures are logged, and the next run tries again.
    pub async fn garbage_collect_containers(&self, policy: &ContainerGcPolicy) {
        let mut rt = self.runtime.runtime.clone();
        let containers = match rt
            .list_containers(pb::ListContainersRequest { filter: None })
            .await
        {
            Ok(response) => response.into_inner().containers,
            Err(status) => {
                tracing::warn!(%status, "container GC: ListContainers failed");
                return;
            }
        };

        let newest_evictable = SystemTime::now()
            .checked_sub(policy.min_age)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        let mut units = EvictUnits::new();
        for container in containers {
            if container.state == pb::ContainerState::ContainerRunning as i32
                || container.created_at > newest_evictable
            {
                continue;
            }
            let label = |key: &str| container.labels.get(key).cloned().unwrap_or_default();
            let key = (label(labels::POD_UID), label(labels::CONTAINER_NAME));
            units.entry(key).or_default().push(EvictableContainer {
                id: container.id.clone(),
                created_at: container.created_at,
            });
        }

        for id in select_for_removal(policy, units) {
            tracing::info!(container_id = %id, "container GC: removing dead container");
            if let Err(status) = rt
                .remove_container(pb::RemoveContainerRequest {
                    container_id: id.clone(),
                })
                .await
            {
                tracing::warn!(container_id = %id, %status, "container GC: RemoveContainer failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(spec: &[(&str, &str, &[i64])]) -> EvictUnits {
        spec.iter()
            .map(|(pod, name, times)| {
                let containers = times
                    .iter()
                    .map(|t| EvictableContainer {
                        id: format!("{pod}-{name}-{t}"),
                        created_at: *t,
                    })
                    .collect();
                ((pod.to_string(), name.to_string()), containers)
            })
            .collect()
    }

    fn policy(max_per_pod_container: i32, max_containers: i32) -> ContainerGcPolicy {
        ContainerGcPolicy {
            min_age: Duration::ZERO,
            max_per_pod_container,
            max_containers,
        }
    }

    fn sorted(mut ids: Vec<String>) -> Vec<String> {
        ids.sort();
        ids
    }

    #[test]
    fn gc_keeps_newest_per_container() {
        let removed = select_for_removal(&policy(1, -1), units(&[("p", "c", &[1, 3, 2])]));
        assert_eq!(sorted(removed), ["p-c-1", "p-c-2"]);
    }

    #[test]
    fn gc_negative_limits_keep_everything() {
        let removed = select_for_removal(&policy(-1, -1), units(&[("p", "c", &[1, 2, 3])]));
        assert!(removed.is_empty());
    }

    #[test]
    fn gc_node_limit_shares_between_units() {
        // Four dead containers in two units, at most two on the node: one each.
        let removed = select_for_removal(
            &policy(-1, 2),
            units(&[("p", "a", &[1, 2]), ("q", "b", &[3, 4])]),
        );
        assert_eq!(sorted(removed), ["p-a-1", "q-b-3"]);
    }

    #[test]
    fn gc_node_limit_removes_oldest_overall() {
        // Three units and a limit of two: each keeps one, then the oldest goes.
        let removed = select_for_removal(
            &policy(-1, 2),
            units(&[("p", "a", &[5]), ("q", "b", &[1]), ("r", "c", &[9, 8])]),
        );
        assert_eq!(sorted(removed), ["q-b-1", "r-c-8"]);
    }

    #[test]
    fn gc_node_limit_zero_removes_all() {
        let removed = select_for_removal(&policy(1, 0), units(&[("p", "a", &[1, 2])]));
        assert_eq!(sorted(removed), ["p-a-1", "p-a-2"]);
    }
}
