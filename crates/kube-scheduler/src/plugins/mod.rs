//! The in-tree plugins under their upstream names (with the Kubernetes 1.18 plugins
//! that later releases removed in [`legacy`]), the registry that builds them from
//! `pluginConfig` args, and the default plugin set of a profile.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::framework::handle::Handle;
use crate::framework::interface::{Plugin, PluginFactory};

pub mod default_binder;
pub mod default_preemption;
pub mod helper;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod legacy;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod queue_sort;
pub mod taint_toleration;
pub mod volumes;

#[cfg(test)]
pub(crate) mod testing;

/// Plugin factories by plugin name.
pub type Registry = BTreeMap<&'static str, PluginFactory>;

fn no_args(name: &str, args: &serde_json::Value) -> Result<(), String> {
    if args.is_null()
        || args.as_object().is_some_and(|object| {
            object
                .keys()
                .all(|key| key == "apiVersion" || key == "kind")
        })
    {
        Ok(())
    } else {
        Err(format!("plugin {name} takes no args"))
    }
}

fn in_tree_limits(
    kind: volumes::InTreeVolume,
    args: &serde_json::Value,
    handle: &Handle,
) -> Result<Arc<dyn Plugin>, String> {
    no_args(kind.plugin_name(), args)?;
    Ok(Arc::new(volumes::InTreeLimits::new(
        kind,
        handle.cluster.clone(),
    )))
}

fn resource_score(name: &'static str, args: &serde_json::Value) -> Result<Arc<dyn Plugin>, String> {
    let args = legacy::resource_scores::parse_args(name, args)?;
    Ok(Arc::new(legacy::resource_scores::ResourceScore::new(
        name, args,
    )?))
}

/// Returns the registry of every in-tree plugin.
pub fn in_tree_registry() -> Registry {
    let mut registry: Registry = BTreeMap::new();
    registry.insert(queue_sort::NAME, |args, _| {
        no_args(queue_sort::NAME, args)?;
        Ok(Arc::new(queue_sort::PrioritySort) as Arc<dyn Plugin>)
    });
    registry.insert(node_unschedulable::NAME, |args, _| {
        no_args(node_unschedulable::NAME, args)?;
        Ok(Arc::new(node_unschedulable::NodeUnschedulable))
    });
    registry.insert(node_name::NAME, |args, _| {
        no_args(node_name::NAME, args)?;
        Ok(Arc::new(node_name::NodeName))
    });
    registry.insert(taint_toleration::NAME, |args, _| {
        no_args(taint_toleration::NAME, args)?;
        Ok(Arc::new(taint_toleration::TaintToleration))
    });
    registry.insert(node_affinity::NAME, |args, _| {
        let args = node_affinity::parse_args(args)?;
        Ok(Arc::new(node_affinity::NodeAffinity::new(args)))
    });
    registry.insert(node_ports::NAME, |args, _| {
        no_args(node_ports::NAME, args)?;
        Ok(Arc::new(node_ports::NodePorts))
    });
    registry.insert(node_resources::FIT_NAME, |args, _| {
        let args = node_resources::parse_fit_args(args)?;
        Ok(Arc::new(node_resources::Fit::new(args)?))
    });
    registry.insert(node_resources::BALANCED_NAME, |args, _| {
        let args = node_resources::parse_balanced_args(args)?;
        Ok(Arc::new(node_resources::BalancedAllocation::new(args)))
    });
    registry.insert(inter_pod_affinity::NAME, |args, handle: &Handle| {
        let args = inter_pod_affinity::parse_args(args)?;
        Ok(Arc::new(inter_pod_affinity::InterPodAffinity::new(
            args,
            handle.cluster.clone(),
        )?))
    });
    registry.insert(pod_topology_spread::NAME, |args, handle: &Handle| {
        let args = pod_topology_spread::parse_args(args)?;
        Ok(Arc::new(pod_topology_spread::PodTopologySpread::new(
            args,
            handle.cluster.clone(),
        )?))
    });
    registry.insert(image_locality::NAME, |args, _| {
        no_args(image_locality::NAME, args)?;
        Ok(Arc::new(image_locality::ImageLocality))
    });
    registry.insert(volumes::BINDING_NAME, |args, handle: &Handle| {
        let args = volumes::parse_binding_args(args)?;
        Ok(Arc::new(volumes::VolumeBinding::new(args, handle)))
    });
    registry.insert(volumes::RESTRICTIONS_NAME, |args, handle: &Handle| {
        no_args(volumes::RESTRICTIONS_NAME, args)?;
        Ok(Arc::new(volumes::VolumeRestrictions::new(
            handle.cluster.clone(),
        )))
    });
    registry.insert(volumes::LIMITS_NAME, |args, handle: &Handle| {
        no_args(volumes::LIMITS_NAME, args)?;
        Ok(Arc::new(volumes::NodeVolumeLimits::new(
            handle.cluster.clone(),
        )))
    });
    registry.insert(volumes::ZONE_NAME, |args, handle: &Handle| {
        no_args(volumes::ZONE_NAME, args)?;
        Ok(Arc::new(volumes::VolumeZone::new(handle.cluster.clone())))
    });
    registry.insert(volumes::EBS_LIMITS_NAME, |args, handle: &Handle| {
        in_tree_limits(volumes::InTreeVolume::AwsEbs, args, handle)
    });
    registry.insert(volumes::GCE_PD_LIMITS_NAME, |args, handle: &Handle| {
        in_tree_limits(volumes::InTreeVolume::GcePd, args, handle)
    });
    registry.insert(volumes::AZURE_DISK_LIMITS_NAME, |args, handle: &Handle| {
        in_tree_limits(volumes::InTreeVolume::AzureDisk, args, handle)
    });
    registry.insert(volumes::CINDER_LIMITS_NAME, |args, handle: &Handle| {
        in_tree_limits(volumes::InTreeVolume::Cinder, args, handle)
    });
    registry.insert(legacy::node_label::NAME, |args, _| {
        let args = legacy::node_label::parse_args(args)?;
        Ok(Arc::new(legacy::node_label::NodeLabel::new(args)))
    });
    registry.insert(legacy::service_affinity::NAME, |args, handle: &Handle| {
        let args = legacy::service_affinity::parse_args(args)?;
        Ok(Arc::new(legacy::service_affinity::ServiceAffinity::new(
            args,
            handle.cluster.clone(),
        )))
    });
    registry.insert(legacy::selector_spread::NAME, |args, handle: &Handle| {
        no_args(legacy::selector_spread::NAME, args)?;
        Ok(Arc::new(legacy::selector_spread::SelectorSpread::new(
            handle.cluster.clone(),
        )))
    });
    registry.insert(legacy::node_prefer_avoid_pods::NAME, |args, _| {
        no_args(legacy::node_prefer_avoid_pods::NAME, args)?;
        Ok(Arc::new(
            legacy::node_prefer_avoid_pods::NodePreferAvoidPods,
        ))
    });
    registry.insert(legacy::resource_scores::LEAST_ALLOCATED_NAME, |args, _| {
        resource_score(legacy::resource_scores::LEAST_ALLOCATED_NAME, args)
    });
    registry.insert(legacy::resource_scores::MOST_ALLOCATED_NAME, |args, _| {
        resource_score(legacy::resource_scores::MOST_ALLOCATED_NAME, args)
    });
    registry.insert(
        legacy::resource_scores::REQUESTED_TO_CAPACITY_RATIO_NAME,
        |args, _| {
            resource_score(
                legacy::resource_scores::REQUESTED_TO_CAPACITY_RATIO_NAME,
                args,
            )
        },
    );
    registry.insert(default_preemption::NAME, |args, handle: &Handle| {
        let args = default_preemption::parse_args(args)?;
        Ok(Arc::new(default_preemption::DefaultPreemption::new(
            args,
            handle.clone(),
        )))
    });
    registry.insert(default_binder::NAME, |args, handle: &Handle| {
        no_args(default_binder::NAME, args)?;
        Ok(Arc::new(default_binder::DefaultBinder::new(handle.clone())))
    });
    registry
}

/// Returns the default `multiPoint` plugins of a profile with their score weights, in
/// the order of Kubernetes 1.33. Each is enabled at every extension point it implements.
pub fn default_multi_point() -> Vec<(&'static str, i64)> {
    vec![
        (queue_sort::NAME, 0),
        (node_unschedulable::NAME, 0),
        (node_name::NAME, 0),
        (taint_toleration::NAME, 3),
        (node_affinity::NAME, 2),
        (node_ports::NAME, 0),
        (node_resources::FIT_NAME, 1),
        (volumes::RESTRICTIONS_NAME, 0),
        (volumes::LIMITS_NAME, 0),
        (volumes::BINDING_NAME, 0),
        (volumes::ZONE_NAME, 0),
        (pod_topology_spread::NAME, 2),
        (inter_pod_affinity::NAME, 2),
        (default_preemption::NAME, 0),
        (node_resources::BALANCED_NAME, 1),
        (image_locality::NAME, 1),
        (default_binder::NAME, 0),
    ]
}
