//! The CRI client: one gRPC channel to the runtime's unix socket, shared by the
//! runtime and image services.
//!
//! [`connect`] returns a [`RemoteRuntime`] whose clients are cheap to clone. The
//! channel reconnects by itself when the runtime restarts; calls in between fail with
//! `Unavailable`, which the callers log and retry on their next sync.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use cri::v1 as pb;
use hyper_util::rt::TokioIo;
use pb::image_service_client::ImageServiceClient;
use pb::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint};

/// A connection to a CRI runtime.
#[derive(Clone)]
pub struct RemoteRuntime {
    pub runtime: RuntimeServiceClient<Channel>,
    pub image: ImageServiceClient<Channel>,
    /// The name the runtime reports, such as `containerd`, used in container IDs;
    /// set by the first successful [`RemoteRuntime::version`] of any clone.
    runtime_name: Arc<OnceLock<String>>,
}

/// An error reaching the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("unsupported container runtime endpoint {0:?}: only unix:// sockets are supported")]
    Endpoint(String),
    #[error("CRI call {call} failed: {status}")]
    Call {
        call: &'static str,
        #[source]
        status: tonic::Status,
    },
}

/// Builds the channel to `endpoint` (`unix:///path` or a bare path). The channel
/// connects lazily, so this succeeds while the runtime is still starting.
///
/// # Errors
///
/// [`RemoteError::Endpoint`] for a non-unix endpoint.
pub fn connect(endpoint: &str, timeout: Duration) -> Result<RemoteRuntime, RemoteError> {
    let path = match endpoint.strip_prefix("unix://") {
        Some(path) => PathBuf::from(path),
        None if endpoint.starts_with('/') => PathBuf::from(endpoint),
        None => return Err(RemoteError::Endpoint(endpoint.to_string())),
    };
    // The URI is required by tonic but unused: the connector dials the socket.
    let channel = Endpoint::from_static("http://cri.invalid")
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(UnixConnector { path });
    Ok(RemoteRuntime {
        runtime: RuntimeServiceClient::new(channel.clone())
            .max_decoding_message_size(16 * 1024 * 1024),
        image: ImageServiceClient::new(channel).max_decoding_message_size(16 * 1024 * 1024),
        runtime_name: Arc::default(),
    })
}

impl RemoteRuntime {
    /// Returns the runtime's name, empty until a `Version` call succeeded.
    pub fn runtime_name(&self) -> &str {
        self.runtime_name
            .get()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Calls `Version` and records the runtime's name.
    ///
    /// # Errors
    ///
    /// [`RemoteError::Call`] when the runtime does not respond.
    pub async fn version(&mut self) -> Result<pb::VersionResponse, RemoteError> {
        let response = self
            .runtime
            .version(pb::VersionRequest {
                version: "v1".to_string(),
            })
            .await
            .map_err(|status| RemoteError::Call {
                call: "Version",
                status,
            })?
            .into_inner();
        let _ = self.runtime_name.set(response.runtime_name.clone());
        Ok(response)
    }
}

/// Maps a tonic error to [`RemoteError::Call`].
pub fn call_error(call: &'static str) -> impl FnOnce(tonic::Status) -> RemoteError {
    move |status| RemoteError::Call { call, status }
}

#[derive(Clone)]
struct UnixConnector {
    path: PathBuf,
}

impl tower_service::Service<http::Uri> for UnixConnector {
    type Response = TokioIo<tokio::net::UnixStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let path = self.path.clone();
        Box::pin(async move { Ok(TokioIo::new(tokio::net::UnixStream::connect(path).await?)) })
    }
}
