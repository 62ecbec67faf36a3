//! Metric sources of the horizontal pod autoscaler: the [`MetricsClient`] trait and
//! its production implementation, [`RestMetricsClient`], which reads the resource
//! metrics API (`metrics.k8s.io/v1beta1` PodMetrics), the custom metrics API
//! (`custom.metrics.k8s.io/v1beta2`) and the external metrics API
//! (`external.metrics.k8s.io/v1beta1`) through the kube-apiserver.
//!
//! Those APIs are served by aggregated API servers (metrics-server, a Prometheus
//! adapter). When none is registered, the kube-apiserver responds 404 and the
//! error names the API, so the autoscaler's ScalingActive condition names the
//! missing API.

use std::collections::HashMap;
use std::time::Duration;

use apimachinery::labels::Selector;
use apimachinery::quantity::Quantity;
use async_trait::async_trait;
use client::discovery::DiscoveryClient;
use client::rest::{ClientError, RestClient};
use k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

/// The window metrics-server reports when a custom metric has no `windowSeconds`.
const DEFAULT_METRIC_WINDOW: Duration = Duration::from_secs(60);

/// One pod's value of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct PodMetric {
    /// When the sample was taken (the end of its window).
    pub timestamp: Timestamp,
    /// The interval the sample averages over.
    pub window: Duration,
    /// The value in thousandths of the unit (millicores for cpu, millibytes for
    /// memory), as upstream's `MilliValue`.
    pub value: i64,
}

/// Metric values by pod name.
pub type PodMetricsInfo = HashMap<String, PodMetric>;

/// An error of a metrics source. The text is what the autoscaler's conditions and
/// events show, after upstream's wording.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The request to a metrics API failed; a 404 means the API is not served.
    #[error("unable to fetch metrics from {api}: {}", describe_fetch_error(.source, .resource))]
    Fetch {
        /// `resource metrics API`, `custom metrics API` or `external metrics API`.
        api: &'static str,
        /// The resource requested, such as `pods.metrics.k8s.io`.
        resource: String,
        #[source]
        source: Box<ClientError>,
    },
    /// The API responded with an empty list.
    #[error("no metrics returned from {api}")]
    Empty {
        /// The API, as in [`MetricsError::Fetch`].
        api: &'static str,
    },
    /// A response could not be decoded, or a test source reports a failure.
    #[error("{0}")]
    Invalid(String),
}

/// Words a fetch error as upstream does for a 404: the message plus the request,
/// such as `the server could not find the requested resource (get
/// pods.metrics.k8s.io)`.
fn describe_fetch_error(source: &ClientError, resource: &str) -> String {
    if source.is_not_found() {
        format!("the server could not find the requested resource (get {resource})")
    } else {
        source.to_string()
    }
}

/// The source of metric values, after upstream's `MetricsClient` interface.
/// Every method is called once per metric per sync of an autoscaler. An error
/// fails that metric only, and the ScalingActive condition and a Warning event
/// carry its text.
#[async_trait]
pub trait MetricsClient: Send + Sync {
    /// Returns the usage of `resource` (`cpu`, `memory`) of each pod matching
    /// `selector` in `namespace`, summed over its containers, or of `container` only
    /// when it is not empty, plus the timestamp of the first sample. A pod missing the
    /// resource in one of its containers is left out.
    async fn resource_metric(
        &self,
        resource: &str,
        namespace: &str,
        selector: &Selector,
        container: &str,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError>;

    /// Returns the custom metric `metric_name` of each pod matching `selector`,
    /// restricted by `metric_selector`, plus the timestamp of the first sample.
    async fn pods_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        selector: &Selector,
        metric_selector: &Selector,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError>;

    /// Returns the custom metric `metric_name` of the object `object` in milli-units,
    /// with its timestamp.
    async fn object_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        object: &CrossVersionObjectReference,
        metric_selector: &Selector,
    ) -> Result<(i64, Timestamp), MetricsError>;

    /// Returns every value in milli-units of the external metric `metric_name` whose
    /// labels match `metric_selector`, with the timestamp of the first one.
    async fn external_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        metric_selector: &Selector,
    ) -> Result<(Vec<i64>, Timestamp), MetricsError>;
}

/// Reads metrics through the kube-apiserver, which proxies the metrics APIs to the
/// aggregated servers that implement them.
pub struct RestMetricsClient {
    client: RestClient,
    discovery: DiscoveryClient,
}

impl RestMetricsClient {
    /// Creates a client over `client`. `discovery` resolves an Object metric's kind
    /// to its resource name.
    pub fn new(client: RestClient, discovery: DiscoveryClient) -> Self {
        Self { client, discovery }
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, String)],
        api: &'static str,
        resource: &str,
    ) -> Result<T, MetricsError> {
        let mut request = self.client.get(path);
        for (name, value) in query {
            if !value.is_empty() {
                request = request.query(name, value);
            }
        }
        request
            .request_json()
            .await
            .map_err(|source| MetricsError::Fetch {
                api,
                resource: resource.to_string(),
                source: Box::new(source),
            })
    }

    /// Returns the custom metrics API's name of a kind's resource: `pods`, or
    /// `deployments.apps` outside the core group.
    async fn qualified_resource(
        &self,
        object: &CrossVersionObjectReference,
    ) -> Result<String, MetricsError> {
        let group = object
            .api_version
            .as_deref()
            .and_then(|version| version.split_once('/'))
            .map(|(group, _)| group)
            .unwrap_or_default();
        let lookup = |discovery: &client::discovery::Discovery| {
            discovery
                .all_resources()
                .find(|found| found.resource.group == group && found.resource.kind == object.kind)
                .map(|found| found.resource.plural.clone())
        };
        let mut plural = match self.discovery.resources().await {
            Ok(discovery) => lookup(&discovery),
            Err(_) => None,
        };
        if plural.is_none() {
            plural = self
                .discovery
                .refresh()
                .await
                .ok()
                .and_then(|discovery| lookup(&discovery));
        }
        let plural = plural.ok_or_else(|| {
            MetricsError::Invalid(format!(
                "no matches for kind {:?} in group {group:?}",
                object.kind
            ))
        })?;
        Ok(if group.is_empty() {
            plural
        } else {
            format!("{plural}.{group}")
        })
    }
}

#[async_trait]
impl MetricsClient for RestMetricsClient {
    async fn resource_metric(
        &self,
        resource: &str,
        namespace: &str,
        selector: &Selector,
        container: &str,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError> {
        const API: &str = "resource metrics API";
        let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods");
        let list: PodMetricsList = self
            .get_json(
                &path,
                &[("labelSelector", selector.to_string())],
                API,
                "pods.metrics.k8s.io",
            )
            .await?;
        let Some(first) = list.items.first() else {
            return Err(MetricsError::Empty { api: API });
        };
        let timestamp = first.timestamp.0;
        let metrics = if container.is_empty() {
            pod_usage(&list.items, resource)
        } else {
            container_usage(&list.items, resource, container)
        };
        Ok((metrics, timestamp))
    }

    async fn pods_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        selector: &Selector,
        metric_selector: &Selector,
    ) -> Result<(PodMetricsInfo, Timestamp), MetricsError> {
        const API: &str = "custom metrics API";
        // NOTE: upstream discovers which custom.metrics.k8s.io version the adapter
        // serves and falls back to v1beta1. This client requests v1beta2 only.
        let path = format!(
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/pods/*/{metric_name}"
        );
        let list: MetricValueList = self
            .get_json(
                &path,
                &[
                    ("labelSelector", selector.to_string()),
                    ("metricLabelSelector", metric_selector.to_string()),
                ],
                API,
                "pods.custom.metrics.k8s.io",
            )
            .await?;
        let Some(first) = list.items.first() else {
            return Err(MetricsError::Empty { api: API });
        };
        let timestamp = first.timestamp.0;
        let mut metrics = PodMetricsInfo::new();
        for item in &list.items {
            let window = item
                .window_seconds
                .map_or(DEFAULT_METRIC_WINDOW, |seconds| {
                    Duration::from_secs(seconds.max(0) as u64)
                });
            metrics.insert(
                item.described_object.name.clone(),
                PodMetric {
                    timestamp: item.timestamp.0,
                    window,
                    value: milli_value(&item.value)?,
                },
            );
        }
        Ok((metrics, timestamp))
    }

    async fn object_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        object: &CrossVersionObjectReference,
        metric_selector: &Selector,
    ) -> Result<(i64, Timestamp), MetricsError> {
        const API: &str = "custom metrics API";
        let is_namespace = object.kind == "Namespace"
            && object
                .api_version
                .as_deref()
                .is_none_or(|version| !version.contains('/'));
        let (path, resource) = if is_namespace {
            (
                format!(
                    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/metrics/{metric_name}"
                ),
                "namespaces.custom.metrics.k8s.io".to_string(),
            )
        } else {
            let resource = self.qualified_resource(object).await?;
            (
                format!(
                    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{}/{metric_name}",
                    object.name
                ),
                format!("{resource}.custom.metrics.k8s.io"),
            )
        };
        let list: MetricValueList = self
            .get_json(
                &path,
                &[("metricLabelSelector", metric_selector.to_string())],
                API,
                &resource,
            )
            .await?;
        if list.items.len() != 1 {
            return Err(MetricsError::Invalid(format!(
                "the custom metrics API server returned {} results when we asked for exactly one",
                list.items.len()
            )));
        }
        let item = &list.items[0];
        Ok((milli_value(&item.value)?, item.timestamp.0))
    }

    async fn external_metric(
        &self,
        metric_name: &str,
        namespace: &str,
        metric_selector: &Selector,
    ) -> Result<(Vec<i64>, Timestamp), MetricsError> {
        const API: &str = "external metrics API";
        let path =
            format!("/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric_name}");
        let list: ExternalMetricValueList = self
            .get_json(
                &path,
                &[("labelSelector", metric_selector.to_string())],
                API,
                &format!("{metric_name}.external.metrics.k8s.io"),
            )
            .await?;
        let Some(first) = list.items.first() else {
            return Err(MetricsError::Empty { api: API });
        };
        let timestamp = first.timestamp.0;
        let values = list
            .items
            .iter()
            .map(|item| milli_value(&item.value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((values, timestamp))
    }
}

/// Sums each pod's containers; a pod without containers or with a container that
/// lacks the resource is left out, as upstream does.
fn pod_usage(items: &[PodMetrics], resource: &str) -> PodMetricsInfo {
    let mut metrics = PodMetricsInfo::new();
    for item in items {
        if item.containers.is_empty() {
            continue;
        }
        let mut sum = 0i64;
        let mut missing = false;
        for container in &item.containers {
            match container.usage.get(resource).map(|text| milli_value(text)) {
                Some(Ok(value)) => sum = sum.saturating_add(value),
                _ => {
                    tracing::debug!(pod = %item.metadata.name, resource, "missing resource metric");
                    missing = true;
                    break;
                }
            }
        }
        if !missing {
            metrics.insert(item.metadata.name.clone(), item.to_metric(sum));
        }
    }
    metrics
}

/// Takes one container's usage of each pod; pods without that container are left
/// out.
fn container_usage(items: &[PodMetrics], resource: &str, container: &str) -> PodMetricsInfo {
    let mut metrics = PodMetricsInfo::new();
    for item in items {
        let Some(found) = item.containers.iter().find(|c| c.name == container) else {
            tracing::debug!(pod = %item.metadata.name, container, "missing container metric");
            continue;
        };
        if let Some(Ok(value)) = found.usage.get(resource).map(|text| milli_value(text)) {
            metrics.insert(item.metadata.name.clone(), item.to_metric(value));
        }
    }
    metrics
}

fn milli_value(text: &str) -> Result<i64, MetricsError> {
    Quantity::parse(text)
        .map(|quantity| quantity.milli_value())
        .map_err(|err| MetricsError::Invalid(format!("invalid metric value {text:?}: {err}")))
}

/// `metrics.k8s.io/v1beta1` PodMetricsList.
#[derive(Deserialize)]
struct PodMetricsList {
    #[serde(default)]
    items: Vec<PodMetrics>,
}

#[derive(Deserialize)]
struct PodMetrics {
    metadata: NameOnly,
    timestamp: Time,
    /// A Go duration string such as `15.045s`.
    #[serde(default)]
    window: String,
    #[serde(default)]
    containers: Vec<ContainerMetrics>,
}

impl PodMetrics {
    fn to_metric(&self, value: i64) -> PodMetric {
        PodMetric {
            timestamp: self.timestamp.0,
            window: crate::options::parse_duration(&self.window).unwrap_or(Duration::ZERO),
            value,
        }
    }
}

#[derive(Deserialize)]
struct NameOnly {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct ContainerMetrics {
    #[serde(default)]
    name: String,
    #[serde(default)]
    usage: HashMap<String, String>,
}

/// `custom.metrics.k8s.io/v1beta2` MetricValueList.
#[derive(Deserialize)]
struct MetricValueList {
    #[serde(default)]
    items: Vec<MetricValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricValue {
    described_object: NameOnly,
    timestamp: Time,
    #[serde(default)]
    window_seconds: Option<i64>,
    value: String,
}

/// `external.metrics.k8s.io/v1beta1` ExternalMetricValueList.
#[derive(Deserialize)]
struct ExternalMetricValueList {
    #[serde(default)]
    items: Vec<ExternalMetricValue>,
}

#[derive(Deserialize)]
struct ExternalMetricValue {
    timestamp: Time,
    value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_metrics_sum_containers_and_skip_incomplete_pods() {
        let list: PodMetricsList = serde_json::from_value(serde_json::json!({
            "kind": "PodMetricsList",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "items": [
                {
                    "metadata": {"name": "a", "namespace": "default"},
                    "timestamp": "2025-01-01T00:00:00Z",
                    "window": "15.5s",
                    "containers": [
                        {"name": "app", "usage": {"cpu": "250m", "memory": "10Mi"}},
                        {"name": "sidecar", "usage": {"cpu": "50m", "memory": "1Mi"}}
                    ]
                },
                {
                    "metadata": {"name": "b", "namespace": "default"},
                    "timestamp": "2025-01-01T00:00:00Z",
                    "window": "15s",
                    "containers": [
                        {"name": "app", "usage": {"memory": "10Mi"}},
                        {"name": "sidecar", "usage": {"cpu": "50m"}}
                    ]
                }
            ]
        }))
        .expect("decode PodMetricsList");

        let cpu = pod_usage(&list.items, "cpu");
        assert_eq!(cpu.len(), 1);
        assert_eq!(cpu["a"].value, 300);
        assert_eq!(cpu["a"].window, Duration::from_millis(15_500));

        let sidecar = container_usage(&list.items, "cpu", "sidecar");
        assert_eq!(sidecar["a"].value, 50);
        assert_eq!(sidecar["b"].value, 50);

        let app = container_usage(&list.items, "cpu", "app");
        assert!(!app.contains_key("b"));
    }
}
