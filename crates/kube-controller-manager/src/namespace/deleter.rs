//! Empties a Terminating namespace: deletes every namespaced object of every
//! resource discovery lists, reports progress in the namespace's conditions, and
//! removes the `kubernetes` finalizer once nothing is left.
//!
//! Entry point: [`NamespacedResourcesDeleter::delete`].

use std::collections::BTreeMap;

use client::api::Api;
use client::rest::{ClientError, RestClient};
use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use crate::garbagecollector::discovery::{self, ApiResource};
use crate::objectapi::{is_method_not_supported, is_not_found};

/// The finalizer in `spec.finalizers` this controller owns.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";

/// An error of one deletion pass.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// Content is left (being deleted gracefully, or held by finalizers); try again
    /// after `estimate_seconds` (0: no estimate).
    #[error("unexpected items still remain in namespace: {namespace} for gvr: {remaining}")]
    ContentRemaining {
        namespace: String,
        remaining: String,
        estimate_seconds: i64,
    },
    /// Requests failed; the messages are joined.
    #[error("failed to delete all content of namespace {namespace}: {messages}")]
    Failed { namespace: String, messages: String },
    /// The namespace itself could not be read or written.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The namespace-emptying logic of the namespace controller.
#[derive(Clone)]
pub struct NamespacedResourcesDeleter {
    client: RestClient,
}

/// The findings of one pass over a namespace's resources.
#[derive(Debug, Default)]
struct ContentReport {
    discovery_failed: Vec<String>,
    deletion_failed: Vec<String>,
    /// Group resource -> remaining object count.
    remaining: BTreeMap<String, usize>,
    /// Finalizer -> count of remaining objects holding it.
    finalizers: BTreeMap<String, usize>,
    estimate_seconds: i64,
}

impl NamespacedResourcesDeleter {
    pub fn new(client: RestClient) -> Self {
        Self { client }
    }

    /// Runs one deletion pass over `name`. Does nothing unless the namespace is being
    /// deleted and still carries the `kubernetes` finalizer.
    ///
    /// # Errors
    /// [`DeleteError::ContentRemaining`] while objects remain,
    /// [`DeleteError::Failed`] when some deletions failed, or the client's error for
    /// the namespace itself.
    pub async fn delete(&self, name: &str) -> Result<(), DeleteError> {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let Some(namespace) = namespaces.get_opt(name).await? else {
            return Ok(());
        };
        if namespace.metadata.deletion_timestamp.is_none() {
            return Ok(());
        }
        if !has_kubernetes_finalizer(&namespace) {
            return Ok(());
        }

        let report = self.delete_all_content(name).await;
        let namespace = self
            .update_conditions(&namespaces, namespace, &report)
            .await?;

        if !report.discovery_failed.is_empty() || !report.deletion_failed.is_empty() {
            let messages = report
                .discovery_failed
                .iter()
                .chain(&report.deletion_failed)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            return Err(DeleteError::Failed {
                namespace: name.to_string(),
                messages,
            });
        }
        if !report.remaining.is_empty() {
            return Err(DeleteError::ContentRemaining {
                namespace: name.to_string(),
                remaining: remaining_message(&report.remaining, "resource instances"),
                estimate_seconds: report.estimate_seconds,
            });
        }

        self.finalize(namespace).await
    }

    /// Removes the `kubernetes` finalizer through the `finalize` subresource.
    async fn finalize(&self, mut namespace: Namespace) -> Result<(), DeleteError> {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        if let Some(spec) = namespace.spec.as_mut() {
            let finalizers = spec.finalizers.take().unwrap_or_default();
            spec.finalizers = Some(
                finalizers
                    .into_iter()
                    .filter(|finalizer| finalizer != FINALIZER_KUBERNETES)
                    .collect(),
            );
        }
        tracing::info!(
            namespace = name,
            "namespace is empty; removing the kubernetes finalizer"
        );
        match self
            .client
            .put(&format!("/api/v1/namespaces/{name}/finalize"))
            .json(&namespace)
            .request_json::<Value>()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn delete_all_content(&self, namespace: &str) -> ContentReport {
        let mut report = ContentReport::default();
        let found = match discovery::discover(&self.client).await {
            Ok(found) => found,
            Err(error) => {
                report.discovery_failed.push(error.to_string());
                return report;
            }
        };
        for (group_version, error) in &found.failed {
            report
                .discovery_failed
                .push(format!("{group_version}: {error}"));
        }

        let resources: Vec<&ApiResource> = found
            .resources
            .iter()
            .filter(|resource| {
                resource.namespaced && resource.preferred && resource.supports(&["list", "delete"])
            })
            .collect();
        for resource in resources {
            self.delete_resource_content(namespace, resource, &mut report)
                .await;
        }
        report
    }

    async fn delete_resource_content(
        &self,
        namespace: &str,
        resource: &ApiResource,
        report: &mut ContentReport,
    ) {
        let collection = resource.collection(namespace);
        let options =
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"});

        let collection_deleted = if resource.supports(&["deletecollection"]) {
            match self
                .client
                .delete(&collection)
                .json(&options)
                .request_json::<Value>()
                .await
            {
                Ok(_) => true,
                Err(error) if is_method_not_supported(&error) || is_not_found(&error) => false,
                Err(error) => {
                    report
                        .deletion_failed
                        .push(format!("{}: {error}", resource.group_resource()));
                    return;
                }
            }
        } else {
            false
        };

        let items = match self.list_items(&collection).await {
            Ok(items) => items,
            Err(error) => {
                report
                    .deletion_failed
                    .push(format!("{}: {error}", resource.group_resource()));
                return;
            }
        };
        if !collection_deleted {
            for item in &items {
                if item.pointer("/metadata/deletionTimestamp").is_some() {
                    continue;
                }
                let name = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let path = format!("{collection}/{name}");
                match self
                    .client
                    .delete(&path)
                    .json(&options)
                    .request_json::<Value>()
                    .await
                {
                    Ok(_) => {}
                    Err(error) if is_not_found(&error) => {}
                    Err(error) => report
                        .deletion_failed
                        .push(format!("{}: {error}", resource.group_resource())),
                }
            }
        }

        // What is still listed after the deletes is waiting on grace periods or
        // finalizers.
        let remaining = if collection_deleted || items.is_empty() {
            items
        } else {
            match self.list_items(&collection).await {
                Ok(items) => items,
                Err(error) => {
                    report
                        .deletion_failed
                        .push(format!("{}: {error}", resource.group_resource()));
                    return;
                }
            }
        };
        if remaining.is_empty() {
            return;
        }
        report
            .remaining
            .insert(resource.group_resource_dotted(), remaining.len());
        for item in &remaining {
            for finalizer in item
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                *report.finalizers.entry(finalizer.to_string()).or_default() += 1;
            }
            if resource.group.is_empty() && resource.plural == "pods" {
                let grace = item
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                report.estimate_seconds = report.estimate_seconds.max(grace);
            }
        }
    }

    async fn list_items(&self, collection: &str) -> Result<Vec<Value>, ClientError> {
        let list: Value = self.client.get(collection).request_json().await?;
        Ok(list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Writes the deletion conditions to the namespace status when they changed.
    async fn update_conditions(
        &self,
        namespaces: &Api<Namespace>,
        mut namespace: Namespace,
        report: &ContentReport,
    ) -> Result<Namespace, DeleteError> {
        let wanted = deletion_conditions(report);
        let status = namespace.status.get_or_insert_with(Default::default);
        let mut conditions = status.conditions.clone().unwrap_or_default();
        let mut changed = false;
        for condition in wanted {
            match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
                Some(existing) => {
                    if existing.status != condition.status
                        || existing.reason != condition.reason
                        || existing.message != condition.message
                    {
                        *existing = condition;
                        changed = true;
                    }
                }
                None => {
                    conditions.push(condition);
                    changed = true;
                }
            }
        }
        if !changed {
            return Ok(namespace);
        }
        status.conditions = Some(conditions);
        let name = namespace.metadata.name.clone().unwrap_or_default();
        match namespaces.replace_status(&name, &namespace).await {
            Ok(updated) => Ok(updated),
            Err(error) => Err(error.into()),
        }
    }
}

impl ApiResource {
    /// Returns `plural.group`, with a trailing dot for the core group as upstream's
    /// remaining-content messages print it (`pods.`).
    pub fn group_resource_dotted(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

fn has_kubernetes_finalizer(namespace: &Namespace) -> bool {
    namespace
        .spec
        .as_ref()
        .and_then(|spec| spec.finalizers.as_ref())
        .is_some_and(|list| list.iter().any(|f| f == FINALIZER_KUBERNETES))
}

fn remaining_message(counts: &BTreeMap<String, usize>, noun: &str) -> String {
    counts
        .iter()
        .map(|(what, count)| format!("{what} has {count} {noun}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the five deletion conditions from a pass's report.
fn deletion_conditions(report: &ContentReport) -> Vec<NamespaceCondition> {
    let now: Time = crate::objectapi::now_time();
    let condition =
        |type_: &str, failing: bool, reason: &str, message: String| NamespaceCondition {
            type_: type_.to_string(),
            status: if failing { "True" } else { "False" }.to_string(),
            reason: Some(reason.to_string()),
            message: Some(message),
            last_transition_time: Some(now.clone()),
        };
    let finalizer_message = report
        .finalizers
        .iter()
        .map(|(finalizer, count)| format!("{finalizer} in {count} resource instances"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        if report.discovery_failed.is_empty() {
            condition(
                "NamespaceDeletionDiscoveryFailure",
                false,
                "ResourcesDiscovered",
                "All resources successfully discovered".into(),
            )
        } else {
            condition(
                "NamespaceDeletionDiscoveryFailure",
                true,
                "DiscoveryFailed",
                format!(
                    "Discovery failed for some groups, {} failing: {}",
                    report.discovery_failed.len(),
                    report.discovery_failed.join(", ")
                ),
            )
        },
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            false,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".into(),
        ),
        if report.deletion_failed.is_empty() {
            condition(
                "NamespaceDeletionContentFailure",
                false,
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization".into(),
            )
        } else {
            condition(
                "NamespaceDeletionContentFailure",
                true,
                "ContentDeletionFailed",
                format!(
                    "Failed to delete all resource types, {} remaining: {}",
                    report.deletion_failed.len(),
                    report.deletion_failed.join(", ")
                ),
            )
        },
        if report.remaining.is_empty() {
            condition(
                "NamespaceContentRemaining",
                false,
                "ContentRemoved",
                "All content successfully removed".into(),
            )
        } else {
            condition(
                "NamespaceContentRemaining",
                true,
                "SomeResourcesRemain",
                format!(
                    "Some resources are remaining: {}",
                    remaining_message(&report.remaining, "resource instances")
                ),
            )
        },
        if report.finalizers.is_empty() {
            condition(
                "NamespaceFinalizersRemaining",
                false,
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished".into(),
            )
        } else {
            condition(
                "NamespaceFinalizersRemaining",
                true,
                "SomeFinalizersRemain",
                format!(
                    "Some content in the namespace has finalizers remaining: {finalizer_message}"
                ),
            )
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_report_remaining_content_and_finalizers() {
        let mut report = ContentReport::default();
        report.remaining.insert("pods.".into(), 2);
        report.finalizers.insert("example.com/hold".into(), 1);
        let conditions = deletion_conditions(&report);
        let by_type: BTreeMap<&str, (&str, &str, &str)> = conditions
            .iter()
            .map(|c| {
                (
                    c.type_.as_str(),
                    (
                        c.status.as_str(),
                        c.reason.as_deref().unwrap_or_default(),
                        c.message.as_deref().unwrap_or_default(),
                    ),
                )
            })
            .collect();
        assert_eq!(by_type["NamespaceDeletionDiscoveryFailure"].0, "False");
        assert_eq!(
            by_type["NamespaceContentRemaining"],
            (
                "True",
                "SomeResourcesRemain",
                "Some resources are remaining: pods. has 2 resource instances"
            )
        );
        assert_eq!(
            by_type["NamespaceFinalizersRemaining"],
            (
                "True",
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
            )
        );
        assert_eq!(conditions.len(), 5);
    }
}
