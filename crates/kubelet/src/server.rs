//! The kubelet's HTTPS server on `port` (10250) and the healthz server on
//! `healthzBindAddress:healthzPort`.
//!
//! Endpoints: `/healthz`, `/pods`, `/runningpods/`, `/stats/summary`, `/metrics`,
//! `/metrics/resource`,
//! `/containerLogs/{namespace}/{pod}/{container}` (tailLines, limitBytes, follow,
//! timestamps, previous, sinceSeconds), `/logs/` (files under /var/log), and
//! `/exec`, `/attach` and `/portForward`, which are proxied to the runtime's
//! streaming URL.
//!
//! NOTE: requests are not authenticated or authorized (upstream's webhook authn/authz
//! is missing). The summary has CPU and memory only, without filesystem or network
//! figures per pod.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cri::v1 as pb;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::kubelet::Kubelet;

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Full::new(body.into()).boxed())
        .unwrap_or_default()
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", body.into())
}

/// Starts both servers; returns their bound addresses (`None` when disabled).
/// Port 0 for the main server binds an ephemeral port.
///
/// # Errors
///
/// A message when a port cannot be bound or the certificate cannot be loaded.
pub async fn start(
    kubelet: Arc<Kubelet>,
    cancel: watch::Receiver<bool>,
) -> Result<(Option<SocketAddr>, Option<SocketAddr>), String> {
    let config = kubelet.config.clone();
    let main_address;
    {
        let listener = TcpListener::bind((config.address, config.port))
            .await
            .map_err(|e| format!("bind {}:{}: {e}", config.address, config.port))?;
        main_address = listener.local_addr().ok();
        let tls = tls_config(&kubelet)?;
        tokio::spawn(serve(listener, Some(tls), kubelet.clone(), cancel.clone()));
        tracing::info!(address = ?main_address, "kubelet server listening");
    }
    let mut healthz_address = None;
    if config.healthz_port != 0 {
        let listener = TcpListener::bind((config.healthz_bind_address, config.healthz_port))
            .await
            .map_err(|e| {
                format!(
                    "bind healthz {}:{}: {e}",
                    config.healthz_bind_address, config.healthz_port
                )
            })?;
        healthz_address = listener.local_addr().ok();
        tokio::spawn(serve(listener, None, kubelet.clone(), cancel.clone()));
    }
    if config.read_only_port != 0 {
        let listener = TcpListener::bind((config.address, config.read_only_port))
            .await
            .map_err(|e| format!("bind read-only port {}: {e}", config.read_only_port))?;
        tokio::spawn(serve(listener, None, kubelet, cancel));
    }
    Ok((main_address, healthz_address))
}

fn tls_config(kubelet: &Kubelet) -> Result<Arc<rustls::ServerConfig>, String> {
    let config = &kubelet.config;
    let (cert_pem, key_pem) = match (&config.tls_cert_file, &config.tls_private_key_file) {
        (Some(cert), Some(key)) => (
            std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?,
            std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?,
        ),
        _ => self_signed(&config.root_dir.join("pki"), &kubelet.node_name)?,
    };
    let certs = rustls_pemfile_certs(&cert_pem)?;
    let key = rustls::pki_types::PrivateKeyDer::try_from(pem_block(&key_pem, "PRIVATE KEY")?)
        .map_err(|e| format!("invalid private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("invalid serving certificate: {e}"))?;
    Ok(Arc::new(server))
}

fn pem_block(pem: &[u8], label_suffix: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let text = String::from_utf8_lossy(pem);
    let mut inside = false;
    let mut data = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") && line.ends_with(&format!("{label_suffix}-----")) {
            inside = true;
        } else if line.starts_with("-----END ") {
            if inside {
                break;
            }
        } else if inside {
            data.push_str(line.trim());
        }
    }
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("invalid PEM: {e}"))
}

fn rustls_pemfile_certs(
    pem: &[u8],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    Ok(vec![rustls::pki_types::CertificateDer::from(pem_block(
        pem,
        "CERTIFICATE",
    )?)])
}

/// Loads or creates `<dir>/kubelet.crt` and `kubelet.key`, self-signed for the node.
fn self_signed(dir: &Path, node_name: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let cert_path = dir.join("kubelet.crt");
    let key_path = dir.join("kubelet.key");
    if let (Ok(cert), Ok(key)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        return Ok((cert, key));
    }
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(vec![node_name.to_string(), "localhost".to_string()])
            .map_err(|e| e.to_string())?;
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(&cert_path, cert.pem()).map_err(|e| format!("{}: {e}", cert_path.display()))?;
    std::fs::write(&key_path, key.serialize_pem())
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    Ok((cert.pem().into_bytes(), key.serialize_pem().into_bytes()))
}

async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    kubelet: Arc<Kubelet>,
    mut cancel: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = crate::cancelled(&mut cancel) => return,
        };
        let kubelet = kubelet.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let kubelet = kubelet.clone();
                async move { Ok::<_, Infallible>(route(&kubelet, req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let result = match acceptor {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => {
                        builder
                            .serve_connection_with_upgrades(TokioIo::new(tls), service)
                            .await
                    }
                    Err(_) => return,
                },
                None => {
                    builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

fn query(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn route(kubelet: &Arc<Kubelet>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let q = query(&req);
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["healthz", ..]) => healthz(kubelet),
        (Method::GET, ["pods"] | ["pods", ""] | ["runningpods", ..]) => {
            let list = json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": kubelet.running_pods()});
            full(StatusCode::OK, "application/json", list.to_string())
        }
        (Method::GET, ["containerLogs", namespace, pod, container]) => {
            container_logs(kubelet, namespace, pod, container, &q).await
        }
        (Method::GET, ["logs", rest @ ..]) => node_logs(rest),
        (Method::GET, ["stats", "summary"]) => summary(kubelet, false).await,
        (Method::GET, ["metrics", "resource"]) => summary(kubelet, true).await,
        (Method::GET, ["metrics"]) => metrics(kubelet),
        (_, ["exec" | "attach", namespace, pod, container]) => {
            stream(kubelet, segments[0], namespace, pod, Some(container), req).await
        }
        (_, ["portForward", namespace, pod]) => {
            stream(kubelet, "portForward", namespace, pod, None, req).await
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

fn healthz(kubelet: &Kubelet) -> Response<Body> {
    let last = *kubelet.pleg_healthy.borrow();
    match last {
        Some(at) if at.elapsed() > Duration::from_secs(180) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "[-]pleg failed: pleg was last seen active {:?} ago\n",
                at.elapsed()
            ),
        ),
        _ => text(StatusCode::OK, "ok"),
    }
}

/// One line of a CRI log file: `<RFC3339Nano> <stream> <P|F> <content>`.
#[derive(Debug, PartialEq)]
pub struct CriLogLine<'a> {
    pub timestamp: &'a str,
    pub stream: &'a str,
    pub partial: bool,
    pub content: &'a str,
}

/// Parses one CRI log line; `None` for malformed lines.
pub fn parse_cri_log_line(line: &str) -> Option<CriLogLine<'_>> {
    let mut parts = line.splitn(4, ' ');
    let timestamp = parts.next()?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let content = parts.next().unwrap_or("");
    Some(CriLogLine {
        timestamp,
        stream,
        partial: tag.split(':').next() == Some("P"),
        content,
    })
}

fn render(line: &CriLogLine<'_>, timestamps: bool) -> String {
    let mut out = String::new();
    if timestamps {
        out.push_str(line.timestamp);
        out.push(' ');
    }
    out.push_str(line.content);
    if !line.partial {
        out.push('\n');
    }
    out
}

async fn container_logs(
    kubelet: &Arc<Kubelet>,
    namespace: &str,
    pod_name: &str,
    container: &str,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let Some(pod) = kubelet
        .pod_manager
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .by_name(namespace, pod_name)
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("pod {namespace}/{pod_name} not found\n"),
        );
    };
    let uid = crate::kuberuntime::pod_uid(&pod).to_string();
    let status = match kubelet.runtime_manager.get_pod_status(&uid).await {
        Ok(s) => s,
        Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    };
    let previous = q.get("previous").is_some_and(|v| v == "true");
    let mut instances = status.instances(container);
    let instance = if previous {
        instances.nth(1)
    } else {
        instances.next()
    };
    let Some(instance) = instance else {
        let what = if previous {
            "previous terminated container"
        } else {
            "container"
        };
        return text(
            StatusCode::BAD_REQUEST,
            format!("{what} \"{container}\" in pod \"{pod_name}\" is not available\n"),
        );
    };
    let path = PathBuf::from(&instance.log_path);
    let timestamps = q.get("timestamps").is_some_and(|v| v == "true");
    let follow = q.get("follow").is_some_and(|v| v == "true") && !previous;
    let tail: Option<usize> = q.get("tailLines").and_then(|v| v.parse().ok());
    let limit: Option<usize> = q.get("limitBytes").and_then(|v| v.parse().ok());
    let since = q
        .get("sinceSeconds")
        .and_then(|v| v.parse::<i64>().ok())
        .map(|s| crate::now().as_second() - s);

    let content = tokio::fs::read(&path).await.unwrap_or_default();
    let text_content = String::from_utf8_lossy(&content).into_owned();
    let mut lines: Vec<String> = text_content
        .lines()
        .filter_map(parse_cri_log_line)
        .filter(|l| {
            since.is_none_or(|s| {
                l.timestamp
                    .parse::<k8s_openapi::jiff::Timestamp>()
                    .map(|t| t.as_second() >= s)
                    .unwrap_or(true)
            })
        })
        .map(|l| render(&l, timestamps))
        .collect();
    if let Some(tail) = tail {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    let mut initial = lines.concat().into_bytes();
    if let Some(limit) = limit {
        initial.truncate(limit);
    }
    if !follow {
        return full(StatusCode::OK, "text/plain", initial);
    }

    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(16);
    let runtime_manager = kubelet.runtime_manager.clone();
    let container_id = instance.id.clone();
    let offset = content.len() as u64;
    tokio::spawn(async move {
        if tx.send_data(Bytes::from(initial)).await.is_err() {
            return;
        }
        let Ok(mut file) = tokio::fs::File::open(&path).await else {
            return;
        };
        let _ = tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(offset)).await;
        let mut pending = String::new();
        let mut buffer = vec![0u8; 8192];
        loop {
            let n = file.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                // Stop following once the container is no longer running.
                let running = runtime_manager
                    .runtime
                    .runtime
                    .clone()
                    .container_status(pb::ContainerStatusRequest {
                        container_id: container_id.clone(),
                        verbose: false,
                    })
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().status)
                    .is_some_and(|s| s.state == pb::ContainerState::ContainerRunning as i32);
                if !running {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            pending.push_str(&String::from_utf8_lossy(&buffer[..n]));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                if let Some(parsed) = parse_cri_log_line(line.trim_end_matches('\n'))
                    && tx
                        .send_data(Bytes::from(render(&parsed, timestamps)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain")
        .body(body.boxed())
        .unwrap_or_default()
}

fn node_logs(rest: &[&str]) -> Response<Body> {
    if rest.contains(&"..") {
        return text(StatusCode::BAD_REQUEST, "invalid path\n");
    }
    let path = Path::new("/var/log").join(rest.join("/"));
    if path.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let body: String = names
            .iter()
            .map(|n| format!("<a href=\"{n}\">{n}</a>\n"))
            .collect();
        return full(
            StatusCode::OK,
            "text/html; charset=utf-8",
            format!("<pre>\n{body}</pre>\n"),
        );
    }
    match std::fs::read(&path) {
        Ok(content) => full(StatusCode::OK, "text/plain", content),
        Err(_) => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

async fn summary(kubelet: &Kubelet, prometheus: bool) -> Response<Body> {
    let snapshot = crate::stats::collect(
        &kubelet.runtime,
        &kubelet.node_name,
        &kubelet.config.root_dir,
    )
    .await;
    match snapshot {
        Ok(snapshot) if prometheus => full(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            crate::stats::resource_metrics(&snapshot),
        ),
        Ok(snapshot) => full(
            StatusCode::OK,
            "application/json",
            crate::stats::summary(&snapshot).to_string(),
        ),
        Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    }
}

fn metrics(kubelet: &Kubelet) -> Response<Body> {
    let pods = kubelet.running_pods();
    let containers: usize = pods
        .iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| s.container_statuses.iter().flatten())
        .filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
        .count();
    let body = format!(
        "# HELP kubelet_running_pods Number of pods that have a running pod sandbox\n# TYPE kubelet_running_pods gauge\nkubelet_running_pods {}\n\
         # HELP kubelet_running_containers Number of containers currently running\n# TYPE kubelet_running_containers gauge\nkubelet_running_containers{{container_state=\"running\"}} {containers}\n",
        pods.len()
    );
    full(StatusCode::OK, "text/plain; version=0.0.4", body)
}

/// Asks the runtime for a streaming URL (Exec, Attach or PortForward) and proxies
/// the request, including its protocol upgrade, to it.
async fn stream(
    kubelet: &Arc<Kubelet>,
    kind: &str,
    namespace: &str,
    pod_name: &str,
    container: Option<&&str>,
    req: Request<Incoming>,
) -> Response<Body> {
    let Some(pod) = kubelet
        .pod_manager
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .by_name(namespace, pod_name)
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("pod {namespace}/{pod_name} not found\n"),
        );
    };
    let uid = crate::kuberuntime::pod_uid(&pod).to_string();
    let status = match kubelet.runtime_manager.get_pod_status(&uid).await {
        Ok(s) => s,
        Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    };
    let pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| {
            p.split_once('=')
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        })
        .collect();
    let flag = |name: &str| {
        pairs
            .iter()
            .any(|(k, v)| k == name && (v == "1" || v == "true"))
    };
    let mut rt = kubelet.runtime.runtime.clone();
    let url = match (kind, container) {
        ("portForward", _) => {
            let Some(sandbox) = status.sandboxes.iter().find(|s| s.ready) else {
                return text(StatusCode::NOT_FOUND, "pod sandbox is not running\n");
            };
            rt.port_forward(pb::PortForwardRequest {
                pod_sandbox_id: sandbox.id.clone(),
                port: pairs
                    .iter()
                    .filter(|(k, _)| k == "port")
                    .filter_map(|(_, v)| v.parse().ok())
                    .collect(),
            })
            .await
            .map(|r| r.into_inner().url)
        }
        (_, Some(container)) => {
            let Some(c) = status
                .latest(container)
                .filter(|c| c.state == crate::kuberuntime::ContainerState::Running)
            else {
                return text(
                    StatusCode::NOT_FOUND,
                    format!("container {container} is not running\n"),
                );
            };
            if kind == "exec" {
                rt.exec(pb::ExecRequest {
                    container_id: c.id.clone(),
                    cmd: pairs
                        .iter()
                        .filter(|(k, _)| k == "command")
                        .map(|(_, v)| v.clone())
                        .collect(),
                    tty: flag("tty"),
                    stdin: flag("input") || flag("stdin"),
                    stdout: flag("output") || flag("stdout"),
                    stderr: flag("error") || flag("stderr"),
                })
                .await
                .map(|r| r.into_inner().url)
            } else {
                rt.attach(pb::AttachRequest {
                    container_id: c.id.clone(),
                    stdin: flag("input") || flag("stdin"),
                    tty: flag("tty"),
                    stdout: flag("output") || flag("stdout"),
                    stderr: flag("error") || flag("stderr"),
                })
                .await
                .map(|r| r.into_inner().url)
            }
        }
        _ => return text(StatusCode::BAD_REQUEST, "missing container\n"),
    };
    match url {
        Ok(url) => {
            let (parts, _) = req.into_parts();
            let on_upgrade = parts.extensions.get::<hyper::upgrade::OnUpgrade>().cloned();
            proxy_upgrade(&url, &parts.method, &parts.headers, on_upgrade).await
        }
        Err(status) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}\n", status.message()),
        ),
    }
}

/// Sends the request head to `url` (plain HTTP, as runtimes serve streaming by
/// default) and relays the response. After a 101 the two connections are joined
/// byte for byte until either side closes.
///
/// NOTE: an https streaming URL is rejected.
pub async fn proxy_upgrade(
    url: &str,
    method: &Method,
    headers: &http::HeaderMap,
    on_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<Body> {
    let bad_gateway = |message: String| {
        tracing::warn!(%url, %message, "streaming proxy failed");
        text(StatusCode::BAD_GATEWAY, format!("{message}\n"))
    };
    let Ok(uri) = url.parse::<http::Uri>() else {
        return bad_gateway(format!("invalid streaming URL {url:?}"));
    };
    if uri.scheme_str() != Some("http") {
        return bad_gateway(format!(
            "unsupported streaming URL {url:?}: only http is supported"
        ));
    }
    let Some(authority) = uri.authority().map(|a| a.to_string()) else {
        return bad_gateway(format!("streaming URL {url:?} has no host"));
    };
    let mut backend = match tokio::net::TcpStream::connect(&authority).await {
        Ok(s) => s,
        Err(e) => return bad_gateway(format!("failed to connect to {authority}: {e}")),
    };

    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in headers {
        if name == http::header::HOST || name == http::header::CONTENT_LENGTH {
            continue;
        }
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    if let Err(e) = tokio::io::AsyncWriteExt::write_all(&mut backend, head.as_bytes()).await {
        return bad_gateway(format!("failed to send the request to {authority}: {e}"));
    }

    // Read the response head; bytes after it belong to the stream.
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > 64 * 1024 {
            return bad_gateway("response head from the runtime is too large".to_string());
        }
        match backend.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                return bad_gateway("the runtime closed the streaming connection".to_string());
            }
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head_text = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':')
            && !name.eq_ignore_ascii_case("content-length")
            && !name.eq_ignore_ascii_case("transfer-encoding")
        {
            response = response.header(name.trim(), value.trim());
        }
    }
    let rest = buffer[head_end..].to_vec();

    if status != StatusCode::SWITCHING_PROTOCOLS {
        // Relay a short error body, bounded in time and size.
        let mut body = rest;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while body.len() < 64 * 1024 {
                match backend.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        return response
            .body(Full::new(Bytes::from(body)).boxed())
            .unwrap_or_default();
    }
    let Some(on_upgrade) = on_upgrade else {
        return bad_gateway("the request cannot be upgraded".to_string());
    };
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(error) => {
                tracing::warn!(%error, "client connection upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(upgraded);
        if !rest.is_empty()
            && tokio::io::AsyncWriteExt::write_all(&mut client, &rest)
                .await
                .is_err()
        {
            return;
        }
        if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut backend).await {
            tracing::debug!(%error, "streaming connection ended");
        }
    });
    response
        .body(Full::new(Bytes::new()).boxed())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                stream.read(&mut byte).await.unwrap(),
                1,
                "connection closed in the head"
            );
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap()
    }

    #[tokio::test]
    async fn proxy_relays_upgraded_stream() {
        // A stand-in for the runtime's streaming server: switch protocols, then echo.
        let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let backend_url = format!("http://{}/exec/abc?cmd=sh", backend.local_addr().unwrap());
        let backend_task = tokio::spawn(async move {
            let (mut conn, _) = backend.accept().await.unwrap();
            let head = read_head(&mut conn).await;
            conn.write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 4];
            conn.read_exact(&mut buf).await.unwrap();
            conn.write_all(&buf).await.unwrap();
            head
        });

        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_address = front.local_addr().unwrap();
        tokio::spawn(async move {
            let (conn, _) = front.accept().await.unwrap();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let url = backend_url.clone();
                async move {
                    let (parts, _) = req.into_parts();
                    let on_upgrade = parts.extensions.get::<hyper::upgrade::OnUpgrade>().cloned();
                    Ok::<_, Infallible>(
                        proxy_upgrade(&url, &parts.method, &parts.headers, on_upgrade).await,
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(conn), service)
                .with_upgrades()
                .await;
        });

        let mut client = tokio::net::TcpStream::connect(front_address).await.unwrap();
        client
            .write_all(b"POST /exec/ns/pod/c HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
            .await
            .unwrap();
        let response = read_head(&mut client).await;
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        client.write_all(b"ping").await.unwrap();
        let mut echoed = [0u8; 4];
        client.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"ping");
        let forwarded = backend_task.await.unwrap();
        assert!(
            forwarded.starts_with("POST /exec/abc?cmd=sh HTTP/1.1\r\n"),
            "{forwarded}"
        );
        assert!(
            forwarded.contains("x-stream-protocol-version: v4.channel.k8s.io"),
            "{forwarded}"
        );
    }

    #[test]
    fn cri_log_lines() {
        let line =
            parse_cri_log_line("2024-01-02T03:04:05.123456789Z stdout F hello world").unwrap();
        assert_eq!(line.stream, "stdout");
        assert!(!line.partial);
        assert_eq!(line.content, "hello world");
        assert_eq!(render(&line, false), "hello world\n");
        assert_eq!(
            render(&line, true),
            "2024-01-02T03:04:05.123456789Z hello world\n"
        );
        let partial = parse_cri_log_line("2024-01-02T03:04:05Z stderr P part").unwrap();
        assert!(partial.partial);
        assert!(parse_cri_log_line("garbage").is_none());
        assert_eq!(percent_decode("a%20b+c"), "a b c");
    }
}
