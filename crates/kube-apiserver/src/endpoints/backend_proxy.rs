//! `pods/proxy` and `services/proxy`: plain HTTP(S) from the API server to a pod.
//!
//! The URL names the target as `name`, `name:port` or `scheme:name:port` (scheme
//! `http` or `https`). A pod is reached at its IP and the given port, or its first
//! declared container port. A service is reached through one of its endpoints: the
//! port is a service port number or name, and an endpoint address counts only if it
//! points at a pod that has that IP. As upstream, only global unicast addresses are
//! dialled, so the proxy never reaches the API server's own loopback or link-local
//! services. HTTPS backends are not verified. Requests keep their method, headers
//! (without the API server's credentials), body and query. Upgrades are spliced.
//!
//! NOTE: upstream also rewrites links in proxied HTML pages and `Location` headers
//! so that they point back through the proxy. Responses pass through unchanged here.

use std::net::IpAddr;
use std::time::Duration;

use apimachinery::errors::StatusError;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::net::TcpStream;

use super::body::ApiBody;
use super::proxy::{ResponseHeaders, copy_headers, relay, unverified_connector, with_query};
use super::response::ApiResponse;
use crate::registry::store::Store;

/// How long connecting to a pod (TCP and TLS) may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Path segments before the proxied path in `/api/v1/namespaces/NS/pods/ID/proxy`.
const PREFIX_SEGMENTS: usize = 7;

/// The backend a proxy request goes to.
#[derive(Debug, PartialEq, Eq)]
struct Location {
    https: bool,
    ip: IpAddr,
    port: Option<u16>,
}

/// Splits `[scheme:]name[:port]` as upstream's `SplitSchemeNamePort` does. Returns
/// `None` for an empty name, an unknown scheme or too many parts.
fn split_scheme_name_port(id: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return None,
    };
    if name.is_empty() || !matches!(scheme, "" | "http" | "https") {
        return None;
    }
    Some((scheme, name, port))
}

/// Returns the pod's IPs: `status.podIPs`, else `status.podIP`.
fn pod_ips(pod: &Value) -> Vec<String> {
    let listed: Vec<String> = pod
        .pointer("/status/podIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["ip"].as_str().map(str::to_string))
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    pod.pointer("/status/podIP")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
        .map(|ip| vec![ip.to_string()])
        .unwrap_or_default()
}

/// Parses an address the proxy may dial: a global unicast IP. Loopback, link-local,
/// unspecified and multicast addresses are rejected, as upstream rejects them.
fn dialable(address: &str) -> Result<IpAddr, StatusError> {
    let ip: IpAddr = address
        .parse()
        .map_err(|_| StatusError::bad_request("address not allowed"))?;
    let allowed = match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unicast_link_local())
        }
    };
    if allowed {
        Ok(ip)
    } else {
        Err(StatusError::bad_request("address not allowed"))
    }
}

fn parse_port(port: &str) -> Result<u16, StatusError> {
    port.parse::<u16>()
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| StatusError::bad_request(format!("invalid port {port:?}")))
}

/// Finds where a pod proxy request goes: the pod's first IP and the requested port,
/// else the first port any container declares, else no port (80 or 443).
fn pod_location(pod: &Value, scheme: &str, port: &str) -> Result<Location, StatusError> {
    let port = if port.is_empty() {
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|container| container.pointer("/ports/0/containerPort"))
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
    } else {
        Some(parse_port(port)?)
    };
    let ip = pod_ips(pod).into_iter().next().unwrap_or_default();
    Ok(Location {
        https: scheme == "https",
        ip: dialable(&ip)?,
        port,
    })
}

/// Returns the name of the service port that `port` names: a number is looked up
/// among the service's ports, a name is taken as it is.
fn service_port_name(service: &Value, port: &str, name: &str) -> Result<String, StatusError> {
    let Ok(number) = port.parse::<u64>() else {
        return Ok(port.to_string());
    };
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|entry| entry["port"].as_u64() == Some(number))
        .map(|entry| entry["name"].as_str().unwrap_or("").to_string())
        .ok_or_else(|| {
            StatusError::service_unavailable(format!(
                "no service port {number} found for service \"{name}\""
            ))
        })
}

/// Returns the endpoint addresses of `endpoints` that serve the port named `port_name`,
/// each with the pod it points at and the port number.
fn candidate_addresses(endpoints: &Value, port_name: &str) -> Vec<(String, String, u16)> {
    let mut candidates = Vec::new();
    for subset in endpoints
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let port = subset
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|entry| entry["name"].as_str().unwrap_or("") == port_name)
            .and_then(|entry| entry["port"].as_u64())
            .and_then(|port| u16::try_from(port).ok());
        let Some(port) = port else { continue };
        for address in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let target = address.get("targetRef");
            let is_pod = target.is_some_and(|target| target["kind"] == "Pod");
            let (Some(ip), Some(pod)) = (
                address["ip"].as_str(),
                target.and_then(|target| target["name"].as_str()),
            ) else {
                continue;
            };
            if is_pod {
                candidates.push((ip.to_string(), pod.to_string(), port));
            }
        }
    }
    candidates
}

/// Finds where a service proxy request goes: a random endpoint address of the named
/// port that belongs to a pod with that IP.
async fn service_location(
    pods: &Store,
    endpoints: &Store,
    service: &Value,
    namespace: &str,
    name: &str,
    scheme: &str,
    port: &str,
) -> Result<Location, StatusError> {
    let port_name = service_port_name(service, port, name)?;
    let no_endpoints = || {
        StatusError::service_unavailable(format!("no endpoints available for service \"{name}\""))
    };
    let object = match endpoints.get(namespace, name).await {
        Ok(object) => object,
        Err(error) if error.code() == 404 => return Err(no_endpoints()),
        Err(error) => return Err(error),
    };
    let mut candidates = candidate_addresses(&object, &port_name);
    if candidates.is_empty() {
        return Err(no_endpoints());
    }
    // Start at a random address so that requests spread over the endpoints.
    let start = rand::random_range(0..candidates.len());
    candidates.rotate_left(start);
    for (ip, pod_name, port) in candidates {
        let Ok(pod) = pods.get(namespace, &pod_name).await else {
            continue;
        };
        if !pod_ips(&pod).contains(&ip) {
            tracing::debug!(
                service = name,
                pod = pod_name,
                ip,
                "endpoint address is not its pod's IP"
            );
            continue;
        }
        return Ok(Location {
            https: scheme == "https",
            ip: dialable(&ip)?,
            port: Some(port),
        });
    }
    Err(no_endpoints())
}

/// Returns the path after `.../proxy` in the raw request path, percent-encoding kept.
fn proxied_path(raw: &str) -> &str {
    let mut seen = 0;
    let mut index = 0;
    while seen < PREFIX_SEGMENTS && index < raw.len() {
        let rest = &raw[index..];
        let start = rest.len() - rest.trim_start_matches('/').len();
        let segment_len = rest[start..].find('/').unwrap_or(rest.len() - start);
        index += start + segment_len;
        seen += 1;
    }
    &raw[index.min(raw.len())..]
}

/// Serves `pods/proxy` or `services/proxy` for the target `id`.
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    pods: &Store,
    services: &Store,
    endpoints: &Store,
    resource: &str,
    namespace: &str,
    id: &str,
    parts: &http::request::Parts,
    body: Bytes,
    on_upgrade: Option<OnUpgrade>,
) -> Result<ApiResponse, StatusError> {
    let kind = if resource == "pods" { "pod" } else { "service" };
    let (scheme, name, port) = split_scheme_name_port(id)
        .ok_or_else(|| StatusError::bad_request(format!("invalid {kind} request \"{id}\"")))?;
    let location = if resource == "pods" {
        let pod = pods.get(namespace, name).await?;
        pod_location(&pod, scheme, port)?
    } else {
        let service = services.get(namespace, name).await?;
        service_location(pods, endpoints, &service, namespace, name, scheme, port).await?
    };

    let mut path = proxied_path(parts.uri.path()).to_string();
    if path.is_empty() {
        // As upstream, a GET or HEAD of the bare proxy URL is redirected to the URL
        // with a trailing slash, so that relative links in the page resolve.
        if matches!(parts.method, Method::GET | Method::HEAD) {
            let target = with_query(&format!("{}/", parts.uri.path()), parts.uri.query());
            let mut response = http::Response::new(ApiBody::empty());
            *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(value) = HeaderValue::from_str(&target) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            return Ok(response);
        }
        path.push('/');
    }

    let upgrading = parts
        .headers
        .get(header::CONNECTION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("upgrade"));
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(with_query(&path, parts.uri.query()))
        .body(Full::new(body))
        .map_err(|error| StatusError::bad_request(format!("invalid proxy request: {error}")))?;
    copy_headers(&parts.headers, request.headers_mut(), upgrading);
    let host = match (location.ip, location.port) {
        (IpAddr::V6(ip), Some(port)) => format!("[{ip}]:{port}"),
        (IpAddr::V6(ip), None) => format!("[{ip}]"),
        (ip, Some(port)) => format!("{ip}:{port}"),
        (ip, None) => ip.to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&host) {
        request.headers_mut().insert(header::HOST, value);
    }

    let port = location
        .port
        .unwrap_or(if location.https { 443 } else { 80 });
    let unreachable = |error: &dyn std::fmt::Display| {
        StatusError::service_unavailable(format!("error trying to reach {kind}: {error}"))
    };
    tracing::debug!(resource, namespace, name, %host, "proxying to a pod");
    let tcp = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect((location.ip, port)))
        .await
        .map_err(|_| unreachable(&"dial timed out"))?
        .map_err(|error| unreachable(&error))?;
    let on_upgrade = upgrading.then_some(on_upgrade).flatten();
    if location.https {
        let tls = unverified_connector()
            .connect(ServerName::IpAddress(location.ip.into()), tcp)
            .await
            .map_err(|error| unreachable(&error))?;
        relay(
            tls,
            request,
            on_upgrade,
            true,
            None,
            ResponseHeaders::EndToEnd,
        )
        .await
    } else {
        relay(
            tcp,
            request,
            on_upgrade,
            true,
            None,
            ResponseHeaders::EndToEnd,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_accepts_upstream_forms() {
        assert_eq!(split_scheme_name_port("web"), Some(("", "web", "")));
        assert_eq!(split_scheme_name_port("web:80"), Some(("", "web", "80")));
        assert_eq!(
            split_scheme_name_port("https:web:443"),
            Some(("https", "web", "443"))
        );
    }

    #[test]
    fn split_rejects_bad_forms() {
        assert_eq!(split_scheme_name_port(":80"), None);
        assert_eq!(split_scheme_name_port("ftp:web:21"), None);
        assert_eq!(split_scheme_name_port("a:b:c:d"), None);
    }

    #[test]
    fn pod_port_defaults_to_first_container_port() {
        let pod = json!({
            "spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": 8080}]}]},
            "status": {"podIP": "10.244.1.5"}
        });

        let location = pod_location(&pod, "", "").unwrap();

        assert_eq!(location.port, Some(8080));
        assert_eq!(location.ip.to_string(), "10.244.1.5");
        assert!(!location.https);
    }

    #[test]
    fn pod_on_loopback_is_not_dialled() {
        let pod = json!({"spec": {"containers": []}, "status": {"podIP": "127.0.0.1"}});

        let error = pod_location(&pod, "", "80").unwrap_err();

        assert_eq!(error.code(), 400);
        assert_eq!(error.message(), "address not allowed");
    }

    #[test]
    fn pod_without_ip_is_rejected() {
        let pod = json!({"spec": {"containers": []}, "status": {}});

        let error = pod_location(&pod, "", "80").unwrap_err();

        assert_eq!(error.message(), "address not allowed");
    }

    #[test]
    fn service_port_number_maps_to_name() {
        let service = json!({"spec": {"ports": [{"name": "http", "port": 80}, {"name": "tls", "port": 443}]}});

        assert_eq!(service_port_name(&service, "443", "web").unwrap(), "tls");
        assert_eq!(service_port_name(&service, "http", "web").unwrap(), "http");
        let error = service_port_name(&service, "8080", "web").unwrap_err();
        assert_eq!(error.code(), 503);
        assert_eq!(
            error.message(),
            "no service port 8080 found for service \"web\""
        );
    }

    #[test]
    fn candidates_need_pod_targets_and_port() {
        let endpoints = json!({"subsets": [
            {"addresses": [
                {"ip": "10.244.1.5", "targetRef": {"kind": "Pod", "name": "a"}},
                {"ip": "10.244.1.6", "targetRef": {"kind": "Node", "name": "n"}},
                {"ip": "10.244.1.7"}
            ], "ports": [{"name": "http", "port": 8080}]},
            {"addresses": [{"ip": "10.244.2.5", "targetRef": {"kind": "Pod", "name": "b"}}],
             "ports": [{"name": "metrics", "port": 9090}]}
        ]});

        let found = candidate_addresses(&endpoints, "http");

        assert_eq!(
            found,
            vec![("10.244.1.5".to_string(), "a".to_string(), 8080)]
        );
    }

    #[test]
    fn proxied_path_keeps_the_rest() {
        let prefix = "/api/v1/namespaces/default/pods/web:80/proxy";

        assert_eq!(proxied_path(prefix), "");
        assert_eq!(proxied_path(&format!("{prefix}/")), "/");
        assert_eq!(proxied_path(&format!("{prefix}/a%2Fb/c/")), "/a%2Fb/c/");
    }
}
