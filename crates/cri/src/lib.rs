//! CRI v1 (`runtime.v1`) messages and gRPC services, generated from
//! `proto/runtime/v1/api.proto`.
//!
//! Entry points: [`v1::runtime_service_client::RuntimeServiceClient`] and
//! [`v1::image_service_client::ImageServiceClient`] for callers (the kubelet, tests),
//! [`v1::runtime_service_server::RuntimeService`] and
//! [`v1::image_service_server::ImageService`] for a runtime. [`connect_unix`] opens a
//! channel to a runtime listening on a unix socket, the usual CRI transport.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

/// The generated `runtime.v1` package.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("runtime.v1");
}

/// The CRI API version string a v1 runtime reports in `VersionResponse.runtime_api_version`.
pub const API_VERSION: &str = "v1";

/// Errors from [`connect_unix`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The endpoint is neither a `unix://` URL nor an absolute socket path.
    #[error("invalid CRI endpoint {0:?}: expected unix:///path/to/socket or an absolute path")]
    InvalidEndpoint(String),
    /// Connecting to the socket failed.
    #[error("failed to connect to CRI socket {path}: {source}")]
    Connect {
        path: PathBuf,
        #[source]
        source: tonic::transport::Error,
    },
}

/// Parses a CRI endpoint (`unix:///run/x.sock` or `/run/x.sock`) into a socket path.
pub fn socket_path(endpoint: &str) -> Result<PathBuf, ConnectError> {
    let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    if !path.starts_with('/') {
        return Err(ConnectError::InvalidEndpoint(endpoint.to_string()));
    }
    Ok(PathBuf::from(path))
}

/// Opens a gRPC channel to the runtime at `endpoint` (see [`socket_path`]).
///
/// The channel connects eagerly, so a missing socket fails here; after that tonic
/// reconnects on its own when the runtime restarts.
pub async fn connect_unix(endpoint: &str) -> Result<Channel, ConnectError> {
    let path = socket_path(endpoint)?;

    // The authority is unused: every connection goes to the socket.
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(UnixConnector { path: path.clone() })
        .await
        .map_err(|source| ConnectError::Connect { path, source })?;
    Ok(channel)
}

/// A connector that ignores the URI and dials one unix socket.
#[derive(Clone)]
struct UnixConnector {
    path: PathBuf,
}

impl tower_service::Service<Uri> for UnixConnector {
    type Response = TokioIo<tokio::net::UnixStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let path = self.path.clone();
        Box::pin(async move { Ok(TokioIo::new(connect(&path).await?)) })
    }
}

async fn connect(path: &Path) -> std::io::Result<tokio::net::UnixStream> {
    tokio::net::UnixStream::connect(path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_accepts_unix_url_and_path() {
        assert_eq!(
            socket_path("unix:///run/a.sock").unwrap(),
            PathBuf::from("/run/a.sock")
        );
        assert_eq!(
            socket_path("/run/a.sock").unwrap(),
            PathBuf::from("/run/a.sock")
        );
        assert!(socket_path("tcp://1.2.3.4:5").is_err());
        assert!(socket_path("relative.sock").is_err());
    }

    #[test]
    fn messages_keep_upstream_field_numbers() {
        use prost::Message;
        // Field 2 (runtime_name) as a length-delimited string: tag byte 0x12.
        let response = v1::VersionResponse {
            runtime_name: "x".into(),
            ..Default::default()
        };
        assert_eq!(response.encode_to_vec(), vec![0x12, 1, b'x']);
        // ContainerConfig.log_path is field 11: tag (11 << 3) | 2 = 0x5a.
        let config = v1::ContainerConfig {
            log_path: "l".into(),
            ..Default::default()
        };
        assert_eq!(config.encode_to_vec(), vec![0x5a, 1, b'l']);
    }
}
