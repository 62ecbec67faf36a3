//! Store hooks: work a kind needs around its writes beyond the strategy, such as
//! allocating a Service's ClusterIP and NodePorts before it is stored and releasing
//! them after it is deleted.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath, StatusError};
use apimachinery::meta::GroupKind;
use async_trait::async_trait;
use serde_json::{Value, json};

use super::allocator::{AllocationError, Allocator};

/// Something a hook allocated, to release when the write fails or the object goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allocation {
    ClusterIp(String),
    NodePort(String),
}

/// Hooks around the generic store's writes. Every method defaults to doing nothing.
#[async_trait]
pub trait StoreHooks: Send + Sync {
    /// Runs before a create is validated; may fill in server-assigned fields.
    /// Returns what it allocated, released again if the create fails.
    async fn before_create(
        &self,
        _object: &mut Value,
        _dry_run: bool,
    ) -> Result<Vec<Allocation>, StatusError> {
        Ok(Vec::new())
    }

    /// Keeps server-assigned fields of `old` that an update left out.
    fn carry_over(&self, _new: &mut Value, _old: &Value) {}

    /// Runs before an update (PUT) is applied; returns new allocations.
    async fn before_update(
        &self,
        _new: &mut Value,
        _old: &Value,
        _dry_run: bool,
    ) -> Result<Vec<Allocation>, StatusError> {
        Ok(Vec::new())
    }

    /// Returns what `old` held that `new` no longer needs, to release after an update.
    fn freed_by_update(&self, _new: &Value, _old: &Value) -> Vec<Allocation> {
        Vec::new()
    }

    /// Releases allocations.
    async fn release(&self, _allocations: Vec<Allocation>) {}

    /// Runs after the object was deleted.
    async fn after_delete(&self, _object: &Value) {}

    /// Decides on a delete whether the kind keeps the object for now beyond its
    /// metadata finalizers; may mark it (a namespace turns Terminating).
    fn holds_deletion(&self, _object: &mut Value) -> bool {
        false
    }
}

/// Namespace lifecycle: a namespace with `spec.finalizers` is not removed on delete
/// but turns Terminating, until the namespace controller has emptied it and removed
/// its finalizer through the `finalize` subresource.
pub struct NamespaceHooks;

#[async_trait]
impl StoreHooks for NamespaceHooks {
    fn holds_deletion(&self, object: &mut Value) -> bool {
        let held = object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|list| !list.is_empty());
        if held {
            if !object.get("status").is_some_and(Value::is_object) {
                object["status"] = json!({});
            }
            object["status"]["phase"] = json!("Terminating");
        }
        held
    }
}

/// ClusterIP and NodePort allocation for Services.
pub struct ServiceHooks {
    pub cluster_ips: Allocator,
    pub node_ports: Allocator,
    /// `IPv4` or `IPv6`: the family of `--service-cluster-ip-range`.
    pub ip_family: &'static str,
}

impl ServiceHooks {
    pub fn new(
        cluster_ips: Allocator,
        node_ports: Allocator,
        ip_family: &'static str,
    ) -> Arc<ServiceHooks> {
        Arc::new(ServiceHooks {
            cluster_ips,
            node_ports,
            ip_family,
        })
    }

    fn invalid(name: &str, path: FieldPath, value: &str, error: AllocationError) -> StatusError {
        match error {
            AllocationError::Storage(message) => StatusError::internal_error(message),
            AllocationError::Full => StatusError::internal_error(format!(
                "failed to allocate a {}: range is full",
                if path.to_string().contains("nodePort") {
                    "nodePort"
                } else {
                    "serviceIP"
                }
            )),
            other => StatusError::invalid(
                &GroupKind::new("", "Service"),
                name,
                &[FieldError::invalid(&path, value, other.to_string())],
            ),
        }
    }

    async fn allocate_node_ports(
        &self,
        object: &mut Value,
        old: Option<&Value>,
        allocated: &mut Vec<Allocation>,
    ) -> Result<(), StatusError> {
        let name = service_name(object);
        let service_type = service_type(object);
        if !matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
            return Ok(());
        }
        let ports = object
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut updated = Vec::with_capacity(ports.len());
        for (index, mut port) in ports.into_iter().enumerate() {
            let requested = port
                .get("nodePort")
                .and_then(Value::as_i64)
                .filter(|port| *port != 0);
            let previous = old.and_then(|old| previous_node_port(old, &port));
            let node_port = match (requested, previous) {
                (Some(requested), Some(previous)) if requested == previous => requested.to_string(),
                (None, Some(previous)) => previous.to_string(),
                (requested, _) => {
                    let wanted = requested.map(|port| port.to_string());
                    let path = FieldPath::new("spec")
                        .child("ports")
                        .index(index)
                        .child("nodePort");
                    let value =
                        self.node_ports
                            .allocate(wanted.as_deref())
                            .await
                            .map_err(|error| {
                                Self::invalid(&name, path, wanted.as_deref().unwrap_or(""), error)
                            })?;
                    allocated.push(Allocation::NodePort(value.clone()));
                    value
                }
            };
            port["nodePort"] = json!(node_port.parse::<i64>().unwrap_or(0));
            updated.push(port);
        }
        object["spec"]["ports"] = Value::Array(updated);
        Ok(())
    }
}

fn service_name(object: &Value) -> String {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn service_type(object: &Value) -> String {
    object
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string()
}

fn previous_node_port(old: &Value, port: &Value) -> Option<i64> {
    let ports = old.pointer("/spec/ports").and_then(Value::as_array)?;
    let protocol = |value: &Value| {
        value
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("TCP")
            .to_string()
    };
    ports
        .iter()
        .find(|candidate| {
            candidate.get("port") == port.get("port") && protocol(candidate) == protocol(port)
        })
        .and_then(|candidate| candidate.get("nodePort").and_then(Value::as_i64))
        .filter(|port| *port != 0)
}

fn node_ports_of(object: &Value) -> Vec<String> {
    object
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|port| port.get("nodePort").and_then(Value::as_i64))
                .filter(|port| *port != 0)
                .map(|port| port.to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn cluster_ip_of(object: &Value) -> Option<String> {
    object
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .map(str::to_string)
}

#[async_trait]
impl StoreHooks for ServiceHooks {
    async fn before_create(
        &self,
        object: &mut Value,
        dry_run: bool,
    ) -> Result<Vec<Allocation>, StatusError> {
        let mut allocated = Vec::new();
        let name = service_name(object);
        if !object.get("spec").is_some_and(Value::is_object) {
            object["spec"] = json!({});
        }
        if service_type(object) != "ExternalName" {
            let requested = object
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if requested == "None" {
                object["spec"]["clusterIPs"] = json!(["None"]);
            } else if dry_run {
                // A dry run checks nothing it would have to allocate.
            } else {
                let wanted = (!requested.is_empty()).then_some(requested.as_str());
                let path = FieldPath::new("spec").child("clusterIPs").index(0);
                let ip = self
                    .cluster_ips
                    .allocate(wanted)
                    .await
                    .map_err(|error| Self::invalid(&name, path, &requested, error))?;
                allocated.push(Allocation::ClusterIp(ip.clone()));
                object["spec"]["clusterIP"] = json!(ip);
                object["spec"]["clusterIPs"] = json!([ip]);
            }
            if object.pointer("/spec/ipFamilies").is_none() && requested != "None" {
                object["spec"]["ipFamilies"] = json!([self.ip_family]);
            }
            if object.pointer("/spec/ipFamilyPolicy").is_none() {
                object["spec"]["ipFamilyPolicy"] = json!("SingleStack");
            }
        }
        if !dry_run && let Err(error) = self.allocate_node_ports(object, None, &mut allocated).await
        {
            self.release(allocated).await;
            return Err(error);
        }
        Ok(allocated)
    }

    fn carry_over(&self, new: &mut Value, old: &Value) {
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            let missing = new
                .pointer(&format!("/spec/{field}"))
                .is_none_or(|value| value.is_null() || value == "");
            if missing && let Some(value) = old.pointer(&format!("/spec/{field}")) {
                if !new.get("spec").is_some_and(Value::is_object) {
                    new["spec"] = json!({});
                }
                new["spec"][field] = value.clone();
            }
        }
        // Ports that kept their identity keep their node port.
        if matches!(service_type(new).as_str(), "NodePort" | "LoadBalancer")
            && let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut)
        {
            for port in ports {
                let unset = port
                    .get("nodePort")
                    .and_then(Value::as_i64)
                    .is_none_or(|value| value == 0);
                if unset && let Some(previous) = previous_node_port(old, port) {
                    port["nodePort"] = json!(previous);
                }
            }
        }
    }

    async fn before_update(
        &self,
        new: &mut Value,
        old: &Value,
        dry_run: bool,
    ) -> Result<Vec<Allocation>, StatusError> {
        self.carry_over(new, old);
        let mut allocated = Vec::new();
        if !dry_run {
            self.allocate_node_ports(new, Some(old), &mut allocated)
                .await?;
        }
        Ok(allocated)
    }

    fn freed_by_update(&self, new: &Value, old: &Value) -> Vec<Allocation> {
        let kept = node_ports_of(new);
        let mut freed: Vec<Allocation> = node_ports_of(old)
            .into_iter()
            .filter(|port| !kept.contains(port))
            .map(Allocation::NodePort)
            .collect();
        if service_type(new) == "ExternalName"
            && let Some(ip) = cluster_ip_of(old)
        {
            freed.push(Allocation::ClusterIp(ip));
        }
        freed
    }

    async fn release(&self, allocations: Vec<Allocation>) {
        for allocation in allocations {
            match allocation {
                Allocation::ClusterIp(ip) => self.cluster_ips.release(&ip).await,
                Allocation::NodePort(port) => self.node_ports.release(&port).await,
            }
        }
    }

    async fn after_delete(&self, object: &Value) {
        let mut allocations: Vec<Allocation> = node_ports_of(object)
            .into_iter()
            .map(Allocation::NodePort)
            .collect();
        if let Some(ip) = cluster_ip_of(object) {
            allocations.push(Allocation::ClusterIp(ip));
        }
        self.release(allocations).await;
    }
}
