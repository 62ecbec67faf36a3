//! The controller registry: upstream controller names mapped to constructors, and
//! the `--controllers` selection rules.
//!
//! Entry point: [`start_controllers`], which builds every enabled controller from a
//! [`ControllerContext`] and spawns its run loop.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::watch;

use crate::context::ControllerContext;

/// A controller's run loop, ready to spawn.
pub type ControllerFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Builds a controller (registering its informer handlers) and returns its run loop.
pub type InitFn = fn(&ControllerContext, watch::Receiver<bool>) -> ControllerFuture;

/// One entry of the registry.
pub struct ControllerDescriptor {
    /// The upstream name `--controllers` selects it by (`deployment`, `replicaset`).
    pub name: &'static str,
    /// Whether `*` leaves it off, as upstream does for bootstrapsigner and
    /// tokencleaner.
    pub disabled_by_default: bool,
    pub init: InitFn,
}

/// Upstream controllers that `*` does not enable. They are accepted by name but not
/// implemented here.
pub const DISABLED_BY_DEFAULT: &[&str] = &["bootstrapsigner", "tokencleaner"];

/// Returns every implemented controller.
pub fn controllers() -> Vec<ControllerDescriptor> {
    vec![
        ControllerDescriptor {
            name: "replicaset",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::replicaset::ReplicaSetController::new(ctx);
                let workers = ctx.options.concurrent_replicaset_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "replicationcontroller",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::replication::ReplicationManager::new(ctx);
                let workers = ctx.options.concurrent_rc_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "deployment",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::deployment::DeploymentController::new(ctx);
                let workers = ctx.options.concurrent_deployment_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "job",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::job::JobController::new(ctx);
                let workers = ctx.options.concurrent_job_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "daemonset",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::daemon::DaemonSetsController::new(ctx);
                let workers = ctx.options.concurrent_daemonset_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "cronjob",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::cronjob::CronJobController::new(ctx);
                let workers = ctx.options.concurrent_cron_job_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "statefulset",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::statefulset::StatefulSetController::new(ctx);
                let workers = ctx.options.concurrent_statefulset_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "garbagecollector",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::garbagecollector::GarbageCollector::new(ctx);
                let workers = ctx.options.concurrent_gc_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "namespace",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::namespace::NamespaceController::new(ctx);
                let workers = ctx.options.concurrent_namespace_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "endpoint",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::endpoint::EndpointController::new(ctx);
                let workers = ctx.options.concurrent_endpoint_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "endpointslice",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::endpointslice::EndpointSliceController::new(ctx);
                let workers = ctx.options.concurrent_service_endpoint_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "endpointslicemirroring",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller =
                    crate::endpointslicemirroring::EndpointSliceMirroringController::new(ctx);
                let workers = ctx.options.concurrent_service_endpoint_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "serviceaccount",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::serviceaccount::ServiceAccountsController::new(ctx);
                let workers = ctx.options.concurrent_serviceaccount_token_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "root-ca-cert-publisher",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::rootcacertpublisher::Publisher::new(ctx);
                let workers = ctx.options.concurrent_serviceaccount_token_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "nodelifecycle",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::nodelifecycle::NodeLifecycleController::new(ctx);
                let workers = 1;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "nodeipam",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::nodeipam::NodeIpamController::new(ctx);
                let workers = 1;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "podgc",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::podgc::PodGcController::new(ctx);
                let workers = 1;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "ttl-after-finished",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::ttlafterfinished::TtlAfterFinishedController::new(ctx);
                let workers = ctx.options.concurrent_ttl_after_finished_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "disruption",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::disruption::DisruptionController::new(ctx);
                let workers = 1;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "horizontalpodautoscaling",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::podautoscaler::HorizontalController::new(ctx);
                let workers = ctx.options.concurrent_horizontal_pod_autoscaler_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
        ControllerDescriptor {
            name: "resourcequota",
            disabled_by_default: false,
            init: |ctx, cancel| {
                let controller = crate::resourcequota::ResourceQuotaController::new(ctx);
                let workers = ctx.options.concurrent_resource_quota_syncs;
                Box::pin(controller.run(workers, cancel))
            },
        },
    ]
}

/// Whether `name` is enabled by the `--controllers` list: `-name` disables, `name`
/// enables, and `*` enables every controller not disabled by default. A trailing
/// `-controller` (the v1.28+ spelling, `deployment-controller`) is accepted.
pub fn is_enabled(name: &str, disabled_by_default: bool, selection: &[String]) -> bool {
    let matches = |entry: &str| {
        let entry = entry.trim();
        entry == name || entry.strip_suffix("-controller") == Some(name)
    };
    if selection
        .iter()
        .any(|entry| entry.trim().strip_prefix('-').is_some_and(matches))
    {
        return false;
    }
    if selection.iter().any(|entry| matches(entry)) {
        return true;
    }
    selection.iter().any(|entry| entry.trim() == "*") && !disabled_by_default
}

/// Returns the `--controllers` entries that name no known controller.
pub fn unknown_controllers(selection: &[String], known: &[&str]) -> Vec<String> {
    selection
        .iter()
        .map(|entry| entry.trim())
        .filter(|entry| *entry != "*" && !entry.is_empty())
        .map(|entry| entry.trim_start_matches('-'))
        .map(|entry| entry.strip_suffix("-controller").unwrap_or(entry))
        .filter(|entry| !known.contains(entry) && !DISABLED_BY_DEFAULT.contains(entry))
        .map(str::to_string)
        .collect()
}

/// Builds every controller `--controllers` enables and spawns its run loop. The
/// informers they requested are started afterwards. Returns the names started.
pub fn start_controllers(
    ctx: &ControllerContext,
    cancel: watch::Receiver<bool>,
) -> Vec<&'static str> {
    let registry = controllers();
    let known: Vec<&str> = registry.iter().map(|descriptor| descriptor.name).collect();
    for unknown in unknown_controllers(&ctx.options.controllers, &known) {
        tracing::warn!(controller = %unknown, "--controllers names a controller that is not implemented; ignoring it");
    }

    let mut started = Vec::new();
    for descriptor in registry {
        if !is_enabled(
            descriptor.name,
            descriptor.disabled_by_default,
            &ctx.options.controllers,
        ) {
            tracing::info!(controller = descriptor.name, "controller disabled");
            continue;
        }
        tracing::info!(controller = descriptor.name, "starting controller");
        tokio::spawn((descriptor.init)(ctx, cancel.clone()));
        started.push(descriptor.name);
    }
    ctx.informers.start(cancel);
    started
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn selection_rules() {
        let cases: &[(&[&str], &str, bool, bool)] = &[
            (&["*"], "deployment", false, true),
            (&["*"], "bootstrapsigner", true, false),
            (&["*", "bootstrapsigner"], "bootstrapsigner", true, true),
            (&["*", "-deployment"], "deployment", false, false),
            (&["replicaset"], "deployment", false, false),
            (&["replicaset"], "replicaset", false, true),
            (&["*", "-deployment-controller"], "deployment", false, false),
            (&["job-controller"], "job", false, true),
        ];
        for (selection, name, disabled, expected) in cases {
            assert_eq!(
                is_enabled(name, *disabled, &list(selection)),
                *expected,
                "{selection:?} {name}"
            );
        }
    }

    #[test]
    fn unknown_names_are_reported() {
        let unknown = unknown_controllers(
            &list(&["*", "-foo", "tokencleaner", "deployment"]),
            &["deployment"],
        );
        assert_eq!(unknown, vec!["foo".to_string()]);
    }
}
