//! Pod-level resource requests and limits, computed as upstream's
//! `PodRequests`/`PodLimits` do: the sum over app containers and restartable
//! (sidecar) init containers, at least the largest regular init container plus the
//! sidecars started before it, plus `spec.overhead`.
//!
//! Values are integers in the units admission and cgroups use: millicores for
//! `cpu`, whole units (rounded up) for everything else.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// A resource list in integer units (see the module docs).
pub type ResourceList = BTreeMap<String, i64>;

/// Converts one quantity of `resource` to its integer unit. `None` when malformed.
pub fn to_units(resource: &str, quantity: &Quantity) -> Option<i64> {
    if resource == "cpu" {
        crate::quantity::millicores(Some(quantity))
    } else {
        crate::quantity::bytes(Some(quantity))
    }
}

fn list(quantities: Option<&BTreeMap<String, Quantity>>) -> ResourceList {
    quantities
        .into_iter()
        .flatten()
        .filter_map(|(name, q)| to_units(name, q).map(|v| (name.clone(), v)))
        .collect()
}

fn add(into: &mut ResourceList, other: &ResourceList) {
    for (name, value) in other {
        *into.entry(name.clone()).or_default() += value;
    }
}

fn max_into(into: &mut ResourceList, other: &ResourceList) {
    for (name, value) in other {
        let entry = into.entry(name.clone()).or_default();
        *entry = (*entry).max(*value);
    }
}

/// Returns the container's requests. A resource with a limit but no request
/// requests its limit, as the API server's defaulting sets it, so that pods from
/// files count the same as pods from the API.
fn container_requests(c: &Container) -> ResourceList {
    let mut requests = container_limits(c);
    requests.extend(list(c.resources.as_ref().and_then(|r| r.requests.as_ref())));
    requests
}

fn container_limits(c: &Container) -> ResourceList {
    list(c.resources.as_ref().and_then(|r| r.limits.as_ref()))
}

/// Sums per the module docs. `overhead_on_all` false adds the overhead only to
/// resources already present, as limits do: an unlimited resource stays unlimited.
fn aggregate(
    pod: &Pod,
    per_container: fn(&Container) -> ResourceList,
    overhead_on_all: bool,
) -> ResourceList {
    let Some(spec) = &pod.spec else {
        return ResourceList::new();
    };
    let mut total = ResourceList::new();
    for c in &spec.containers {
        add(&mut total, &per_container(c));
    }

    // Sidecars run beside the app containers and beside every init container
    // that starts after them.
    let mut sidecars = ResourceList::new();
    let mut largest_init = ResourceList::new();
    for c in spec.init_containers.iter().flatten() {
        let own = per_container(c);
        let mut effective = own.clone();
        if c.restart_policy.as_deref() == Some("Always") {
            add(&mut sidecars, &own);
            effective = sidecars.clone();
        } else {
            add(&mut effective, &sidecars);
        }
        max_into(&mut largest_init, &effective);
    }
    add(&mut total, &sidecars);
    max_into(&mut total, &largest_init);

    let mut overhead = list(spec.overhead.as_ref());
    if !overhead_on_all {
        overhead.retain(|name, _| total.contains_key(name));
    }
    add(&mut total, &overhead);
    total
}

/// Returns the pod's effective requests.
pub fn pod_requests(pod: &Pod) -> ResourceList {
    aggregate(pod, container_requests, true)
}

/// Returns the pod's effective limits. A resource that no container limits is
/// absent.
pub fn pod_limits(pod: &Pod) -> ResourceList {
    aggregate(pod, container_limits, false)
}

/// Returns true when every app container sets a limit for `resource`.
pub fn all_containers_limit(pod: &Pod, resource: &str) -> bool {
    pod.spec.iter().flat_map(|s| &s.containers).all(|c| {
        container_limits(c)
            .get(resource)
            .is_some_and(|value| *value != 0)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements};

    use super::*;

    pub(crate) fn container(
        name: &str,
        requests: &[(&str, &str)],
        limits: &[(&str, &str)],
    ) -> Container {
        let to_map = |items: &[(&str, &str)]| {
            (!items.is_empty()).then(|| {
                items
                    .iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect()
            })
        };
        Container {
            name: name.to_string(),
            resources: Some(ResourceRequirements {
                requests: to_map(requests),
                limits: to_map(limits),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn requests_sum_containers_and_take_largest_init() {
        let mut sidecar = container("sidecar", &[("cpu", "100m")], &[]);
        sidecar.restart_policy = Some("Always".to_string());
        let pod = Pod {
            spec: Some(PodSpec {
                containers: vec![
                    container("a", &[("cpu", "250m"), ("memory", "64Mi")], &[]),
                    container("b", &[("cpu", "250m")], &[("memory", "128Mi")]),
                ],
                init_containers: Some(vec![
                    container("init", &[("cpu", "2"), ("memory", "32Mi")], &[]),
                    sidecar,
                ]),
                overhead: Some(BTreeMap::from([(
                    "cpu".to_string(),
                    Quantity("10m".to_string()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let requests = pod_requests(&pod);
        assert_eq!(requests.get("cpu"), Some(&2010));
        // Container b requests its memory limit.
        assert_eq!(requests.get("memory"), Some(&(192 << 20)));
        let limits = pod_limits(&pod);
        assert_eq!(limits.get("memory"), Some(&(128 << 20)));
        assert_eq!(limits.get("cpu"), None);
        assert!(!all_containers_limit(&pod, "memory"));
    }
}
