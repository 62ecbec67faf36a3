//! Prometheus metrics of the proxy, served on `--metrics-bind-address` under /metrics,
//! with upstream's metric names.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub table: String,
}

/// The proxy's metrics and their registry.
pub struct ProxyMetrics {
    registry: Mutex<Registry>,
    /// Duration of one successful or failed sync, in seconds.
    pub sync_duration: Histogram,
    /// Unix time of the last successful sync, in seconds.
    pub last_sync_timestamp: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Time from an endpoint change (EndpointSlice trigger time) to its rules being
    /// applied, in seconds.
    pub network_programming: Histogram,
    /// Rules written per table by the last sync.
    pub iptables_rules: Family<TableLabels, Gauge>,
    /// iptables-restore runs that failed.
    pub restore_failures: Counter,
}

impl ProxyMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let sync_duration = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        let last_sync_timestamp = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let network_programming = Histogram::new([
            0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0,
        ]);
        let iptables_rules = Family::<TableLabels, Gauge>::default();
        let restore_failures = Counter::default();
        registry.register(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds",
            sync_duration.clone(),
        );
        registry.register(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
            last_sync_timestamp.clone(),
        );
        registry.register(
            "kubeproxy_network_programming_duration_seconds",
            "In Cluster Network Programming Latency in seconds",
            network_programming.clone(),
        );
        registry.register(
            "kubeproxy_sync_proxy_rules_iptables_total",
            "Number of iptables rules written by kube-proxy in the last sync, per table",
            iptables_rules.clone(),
        );
        registry.register(
            "kubeproxy_sync_proxy_rules_iptables_restore_failures",
            "Cumulative proxy iptables restore failures",
            restore_failures.clone(),
        );
        ProxyMetrics {
            registry: Mutex::new(registry),
            sync_duration,
            last_sync_timestamp,
            network_programming,
            iptables_rules,
            restore_failures,
        }
    }

    /// Records a successful sync that took `elapsed` and applied changes triggered at
    /// `trigger_times`.
    pub fn record_sync(&self, elapsed: Duration, trigger_times: &[SystemTime]) {
        self.sync_duration.observe(elapsed.as_secs_f64());
        let now = SystemTime::now();
        if let Ok(since_epoch) = now.duration_since(SystemTime::UNIX_EPOCH) {
            self.last_sync_timestamp.set(since_epoch.as_secs_f64());
        }
        for trigger in trigger_times {
            if let Ok(latency) = now.duration_since(*trigger) {
                self.network_programming.observe(latency.as_secs_f64());
            }
        }
    }

    /// Sets the rule count gauge of `table`.
    pub fn set_rules(&self, table: &str, count: usize) {
        self.iptables_rules
            .get_or_create(&TableLabels {
                table: table.to_string(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Encodes every metric in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // fmt::Write for String never returns an error.
        let _ = encode(&mut out, &registry);
        out
    }
}

impl Default for ProxyMetrics {
    fn default() -> Self {
        Self::new()
    }
}
