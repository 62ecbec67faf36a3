//! Prometheus metrics served on `/metrics`, named as upstream's apiserver names them
//! so that existing dashboards and alerts read them unchanged.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of one API request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub verb: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    /// `resource`, `namespace` or `cluster`, as upstream reports the scope.
    pub scope: String,
    pub component: String,
    pub code: String,
}

/// Labels of a request-duration sample: the request labels without the code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    pub verb: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub scope: String,
    pub component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InflightLabels {
    /// `readOnly` or `mutating`.
    pub request_kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StorageLabels {
    pub operation: String,
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WatchLabels {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Every metric the apiserver exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<DurationLabels, Histogram>,
    pub inflight: Family<InflightLabels, Gauge<i64, AtomicI64>>,
    pub storage_duration: Family<StorageLabels, Histogram>,
    pub registered_watchers: Family<WatchLabels, Gauge<i64, AtomicI64>>,
    pub longrunning: Gauge<i64, AtomicI64>,
}

/// Histogram buckets in seconds, the ones upstream uses for request latencies.
const REQUEST_BUCKETS: [f64; 21] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 60.0,
];

/// Histogram buckets in seconds for storage calls, as upstream's etcd metrics use.
const STORAGE_BUCKETS: [f64; 14] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0,
];

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();

        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code",
            requests.clone(),
        );

        let request_duration = Family::<DurationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(REQUEST_BUCKETS)
        });
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, group, version, resource, subresource, scope and component",
            request_duration.clone(),
        );

        let inflight = Family::<InflightLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit of this apiserver per request kind in last second",
            inflight.clone(),
        );

        let storage_duration = Family::<StorageLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(STORAGE_BUCKETS)
        });
        registry.register(
            "etcd_request_duration_seconds",
            "Etcd request latency in seconds for each operation and object type",
            storage_duration.clone(),
        );

        let registered_watchers = Family::<WatchLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "apiserver_registered_watchers",
            "Number of currently registered watchers for a given resources",
            registered_watchers.clone(),
        );

        let longrunning = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests",
            longrunning.clone(),
        );

        Metrics {
            registry,
            requests,
            request_duration,
            inflight,
            storage_duration,
            registered_watchers,
            longrunning,
        }
    }

    /// Records one finished request.
    pub fn observe_request(&self, labels: DurationLabels, code: u16, elapsed: Duration) {
        self.request_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        let counted = RequestLabels {
            verb: labels.verb,
            group: labels.group,
            version: labels.version,
            resource: labels.resource,
            subresource: labels.subresource,
            scope: labels.scope,
            component: labels.component,
            code: code.to_string(),
        };
        self.requests.get_or_create(&counted).inc();
    }

    /// Records one storage call of `operation` (get, list, create, ...) on `object_type`.
    pub fn observe_storage(&self, operation: &str, object_type: &str, elapsed: Duration) {
        let labels = StorageLabels {
            operation: operation.to_string(),
            r#type: object_type.to_string(),
        };
        self.storage_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::error!(error = %error, "failed to encode metrics");
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_counter_and_histogram_render() {
        let metrics = Metrics::new();
        let labels = DurationLabels {
            verb: "LIST".into(),
            group: "".into(),
            version: "v1".into(),
            resource: "pods".into(),
            subresource: "".into(),
            scope: "cluster".into(),
            component: "apiserver".into(),
        };
        metrics.observe_request(labels.clone(), 200, Duration::from_millis(3));
        metrics.observe_request(labels, 200, Duration::from_millis(30));
        metrics.observe_storage("list", "/registry/pods", Duration::from_millis(1));

        let text = metrics.render();
        assert!(text.contains("apiserver_request_total{"), "{text}");
        assert!(text.contains("code=\"200\"} 2"), "{text}");
        assert!(
            text.contains("apiserver_request_duration_seconds_bucket{"),
            "{text}"
        );
        assert!(
            text.contains("etcd_request_duration_seconds_count{operation=\"list\""),
            "{text}"
        );
    }
}
