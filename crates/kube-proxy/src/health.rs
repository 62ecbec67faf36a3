//! The proxier health check (served on `--healthz-bind-address`) and the metrics
//! server (`--metrics-bind-address`).
//!
//! The proxier is healthy unless a change has been waiting longer than the timeout
//! (twice the sync period, as upstream) without a successful sync. `/healthz` and
//! `/livez` return 200 or 503 with `{"lastUpdated": ..., "currentTime": ...}`. The
//! metrics server serves `/metrics`, `/healthz` and `/proxyMode`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::ProxyMetrics;

/// Tracks whether syncs keep up with changes.
pub struct ProxierHealth {
    timeout: Duration,
    inner: Mutex<HealthTimes>,
}

#[derive(Default)]
struct HealthTimes {
    last_updated: Option<SystemTime>,
    /// When the oldest change not yet synced arrived.
    oldest_pending: Option<SystemTime>,
}

impl ProxierHealth {
    pub fn new(timeout: Duration) -> Self {
        ProxierHealth {
            timeout,
            inner: Mutex::new(HealthTimes::default()),
        }
    }

    fn times(&self) -> std::sync::MutexGuard<'_, HealthTimes> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that a change is waiting for a sync.
    pub fn queued_update(&self) {
        let mut times = self.times();
        if times.oldest_pending.is_none() {
            times.oldest_pending = Some(SystemTime::now());
        }
    }

    /// Records a successful sync that applied every pending change.
    pub fn updated(&self) {
        let mut times = self.times();
        times.last_updated = Some(SystemTime::now());
        times.oldest_pending = None;
    }

    /// Returns whether the proxier is healthy at `now`, and the last successful sync.
    pub fn status_at(&self, now: SystemTime) -> (bool, Option<SystemTime>) {
        let times = self.times();
        let stale = times
            .oldest_pending
            .is_some_and(|pending| now.duration_since(pending).unwrap_or_default() > self.timeout);
        (!stale, times.last_updated)
    }
}

fn rfc3339(time: SystemTime) -> String {
    let Ok(since_epoch) = time.duration_since(SystemTime::UNIX_EPOCH) else {
        return String::new();
    };
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    k8s_openapi::jiff::Timestamp::new(seconds, 0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

fn healthz_response(health: &ProxierHealth) -> Response<Full<Bytes>> {
    let now = SystemTime::now();
    let (healthy, last_updated) = health.status_at(now);
    let body = serde_json::json!({
        "lastUpdated": last_updated.map(rfc3339).unwrap_or_default(),
        "currentTime": rfc3339(now),
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    respond(status, "application/json", body.to_string())
}

/// The paths one of the two servers serves.
#[derive(Clone)]
pub enum Endpoints {
    Health(Arc<ProxierHealth>),
    Metrics {
        metrics: Arc<ProxyMetrics>,
        mode: &'static str,
    },
}

impl Endpoints {
    fn handle(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::GET {
            return respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "method not allowed\n".to_string(),
            );
        }
        match (self, request.uri().path()) {
            (Endpoints::Health(health), "/healthz" | "/livez") => healthz_response(health),
            (Endpoints::Metrics { metrics, .. }, "/metrics") => respond(
                StatusCode::OK,
                "text/plain; version=0.0.4",
                metrics.encode(),
            ),
            (Endpoints::Metrics { .. }, "/healthz") => {
                respond(StatusCode::OK, "text/plain", "ok".to_string())
            }
            (Endpoints::Metrics { mode, .. }, "/proxyMode") => {
                respond(StatusCode::OK, "text/plain", mode.to_string())
            }
            _ => respond(
                StatusCode::NOT_FOUND,
                "text/plain",
                "404 page not found\n".to_string(),
            ),
        }
    }
}

/// Binds `address` and returns the bound address and a future that serves
/// `endpoints` over HTTP/1.1 until `cancel` turns true.
pub async fn serve(
    address: SocketAddr,
    endpoints: Endpoints,
    mut cancel: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    let serve = async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = cancel.changed() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, address = %bound, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let endpoints = endpoints.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = endpoints.handle(&request);
                    async move { Ok::<_, Infallible>(response) }
                });
                if let Err(error) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%error, "HTTP connection ended with an error");
                }
            });
        }
    };
    Ok((bound, serve))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_turns_bad_when_changes_wait_too_long() {
        let health = ProxierHealth::new(Duration::from_secs(60));
        let now = SystemTime::now();
        assert!(health.status_at(now).0, "healthy before any change");
        health.queued_update();
        assert!(health.status_at(now + Duration::from_secs(30)).0);
        assert!(!health.status_at(now + Duration::from_secs(61)).0);
        health.updated();
        let (healthy, last_updated) = health.status_at(now + Duration::from_secs(61));
        assert!(healthy);
        assert!(last_updated.is_some());
    }
}
