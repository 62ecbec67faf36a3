//! Hollow nodes, as kubemark's: the real kubelet over an in-process fake CRI
//! runtime, many nodes per process, to load the control plane with nodes and pods
//! without running containers.
//!
//! [`FakeRuntime`] implements the CRI RuntimeService and ImageService in memory:
//! sandboxes get an address, containers run until stopped, pulls always succeed
//! and exec returns success. [`start_hollow_node`] serves one on a unix socket
//! and starts a kubelet against it; the `kubemark` binary starts N of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cri::v1 as pb;
use cri::v1::image_service_server::{ImageService, ImageServiceServer};
use cri::v1::runtime_service_server::{RuntimeService, RuntimeServiceServer};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

/// The name the fake runtime reports, which prefixes container IDs (`fake://...`).
pub const RUNTIME_NAME: &str = "fake";

#[derive(Default)]
struct State {
    sandboxes: HashMap<String, pb::PodSandboxStatus>,
    containers: HashMap<String, pb::ContainerStatus>,
    /// Container ID to its sandbox ID.
    container_sandbox: HashMap<String, String>,
    images: HashMap<String, pb::Image>,
}

/// An in-memory CRI runtime. Clones share the state.
#[derive(Clone)]
pub struct FakeRuntime {
    state: Arc<Mutex<State>>,
    next_id: Arc<AtomicU64>,
    /// The first three octets of the sandbox addresses, such as `10.64.3`.
    ip_prefix: String,
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn labels_match(labels: &HashMap<String, String>, selector: &HashMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl FakeRuntime {
    /// Creates an empty runtime whose sandboxes get addresses `<ip_prefix>.N`.
    pub fn new(ip_prefix: &str) -> Self {
        FakeRuntime {
            state: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
            ip_prefix: ip_prefix.to_string(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_id(&self) -> (u64, String) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        (n, format!("{n:064x}"))
    }

    /// Returns the number of sandboxes in the READY state.
    pub fn ready_sandboxes(&self) -> usize {
        self.lock()
            .sandboxes
            .values()
            .filter(|s| s.state == pb::PodSandboxState::SandboxReady as i32)
            .count()
    }

    /// Serves both services on `socket` until `cancel` turns true.
    ///
    /// # Errors
    ///
    /// A message when the socket cannot be bound.
    pub fn serve(
        self,
        socket: &Path,
        mut cancel: watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>, String> {
        let _ = std::fs::remove_file(socket);
        let listener = tokio::net::UnixListener::bind(socket)
            .map_err(|e| format!("failed to listen on {}: {e}", socket.display()))?;
        let server = tonic::transport::Server::builder()
            .add_service(RuntimeServiceServer::new(self.clone()))
            .add_service(ImageServiceServer::new(self))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::UnixListenerStream::new(listener),
                async move { crate::cancelled(&mut cancel).await },
            );
        Ok(tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::warn!(%error, "fake CRI server failed");
            }
        }))
    }

    fn stop_container_locked(state: &mut State, id: &str) {
        if let Some(c) = state.containers.get_mut(id)
            && c.state == pb::ContainerState::ContainerRunning as i32
        {
            c.state = pb::ContainerState::ContainerExited as i32;
            c.finished_at = now_nanos();
            c.exit_code = 0;
            c.reason = "Completed".to_string();
        }
    }
}

fn not_found(kind: &str, id: &str) -> Status {
    Status::not_found(format!("{kind} {id:?} not found"))
}

#[tonic::async_trait]
impl RuntimeService for FakeRuntime {
    async fn version(
        &self,
        _request: Request<pb::VersionRequest>,
    ) -> Result<Response<pb::VersionResponse>, Status> {
        Ok(Response::new(pb::VersionResponse {
            version: "0.1.0".to_string(),
            runtime_name: RUNTIME_NAME.to_string(),
            runtime_version: "0.1.0".to_string(),
            runtime_api_version: cri::API_VERSION.to_string(),
        }))
    }

    async fn run_pod_sandbox(
        &self,
        request: Request<pb::RunPodSandboxRequest>,
    ) -> Result<Response<pb::RunPodSandboxResponse>, Status> {
        let config = request
            .into_inner()
            .config
            .ok_or_else(|| Status::invalid_argument("config is missing"))?;
        let (n, id) = self.new_id();
        let ip = format!("{}.{}", self.ip_prefix, 2 + n % 250);
        let status = pb::PodSandboxStatus {
            id: id.clone(),
            metadata: config.metadata,
            state: pb::PodSandboxState::SandboxReady as i32,
            created_at: now_nanos(),
            network: Some(pb::PodSandboxNetworkStatus {
                ip,
                additional_ips: Vec::new(),
            }),
            labels: config.labels,
            annotations: config.annotations,
            runtime_handler: String::new(),
            ..Default::default()
        };
        self.lock().sandboxes.insert(id.clone(), status);
        Ok(Response::new(pb::RunPodSandboxResponse {
            pod_sandbox_id: id,
        }))
    }

    async fn stop_pod_sandbox(
        &self,
        request: Request<pb::StopPodSandboxRequest>,
    ) -> Result<Response<pb::StopPodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        let mut state = self.lock();
        let members: Vec<String> = state
            .container_sandbox
            .iter()
            .filter(|(_, s)| **s == id)
            .map(|(c, _)| c.clone())
            .collect();
        for container in members {
            Self::stop_container_locked(&mut state, &container);
        }
        if let Some(sandbox) = state.sandboxes.get_mut(&id) {
            sandbox.state = pb::PodSandboxState::SandboxNotready as i32;
        }
        Ok(Response::new(pb::StopPodSandboxResponse {}))
    }

    async fn remove_pod_sandbox(
        &self,
        request: Request<pb::RemovePodSandboxRequest>,
    ) -> Result<Response<pb::RemovePodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        let mut state = self.lock();
        state.sandboxes.remove(&id);
        let members: Vec<String> = state
            .container_sandbox
            .iter()
            .filter(|(_, s)| **s == id)
            .map(|(c, _)| c.clone())
            .collect();
        for container in members {
            state.containers.remove(&container);
            state.container_sandbox.remove(&container);
        }
        Ok(Response::new(pb::RemovePodSandboxResponse {}))
    }

    async fn pod_sandbox_status(
        &self,
        request: Request<pb::PodSandboxStatusRequest>,
    ) -> Result<Response<pb::PodSandboxStatusResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        let status = self
            .lock()
            .sandboxes
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("sandbox", &id))?;
        Ok(Response::new(pb::PodSandboxStatusResponse {
            status: Some(status),
            ..Default::default()
        }))
    }

    async fn list_pod_sandbox(
        &self,
        request: Request<pb::ListPodSandboxRequest>,
    ) -> Result<Response<pb::ListPodSandboxResponse>, Status> {
        let filter = request.into_inner().filter.unwrap_or_default();
        let items = self
            .lock()
            .sandboxes
            .values()
            .filter(|s| filter.id.is_empty() || s.id == filter.id)
            .filter(|s| filter.state.as_ref().is_none_or(|f| f.state == s.state))
            .filter(|s| labels_match(&s.labels, &filter.label_selector))
            .map(|s| pb::PodSandbox {
                id: s.id.clone(),
                metadata: s.metadata.clone(),
                state: s.state,
                created_at: s.created_at,
                labels: s.labels.clone(),
                annotations: s.annotations.clone(),
                runtime_handler: s.runtime_handler.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListPodSandboxResponse { items }))
    }

    async fn create_container(
        &self,
        request: Request<pb::CreateContainerRequest>,
    ) -> Result<Response<pb::CreateContainerResponse>, Status> {
        let request = request.into_inner();
        let config = request
            .config
            .ok_or_else(|| Status::invalid_argument("config is missing"))?;
        let mut state = self.lock();
        let sandbox = state
            .sandboxes
            .get(&request.pod_sandbox_id)
            .ok_or_else(|| not_found("sandbox", &request.pod_sandbox_id))?;
        if sandbox.state != pb::PodSandboxState::SandboxReady as i32 {
            return Err(Status::failed_precondition(format!(
                "sandbox {:?} is not ready",
                request.pod_sandbox_id
            )));
        }
        let log_path = config.log_path.clone();
        let (_, id) = self.new_id();
        let image = config.image.clone().unwrap_or_default();
        let status = pb::ContainerStatus {
            id: id.clone(),
            metadata: config.metadata,
            state: pb::ContainerState::ContainerCreated as i32,
            created_at: now_nanos(),
            image_ref: format!("sha256:{:064x}", image.image.len()),
            image: Some(image),
            labels: config.labels,
            annotations: config.annotations,
            log_path,
            ..Default::default()
        };
        state.containers.insert(id.clone(), status);
        state
            .container_sandbox
            .insert(id.clone(), request.pod_sandbox_id);
        Ok(Response::new(pb::CreateContainerResponse {
            container_id: id,
        }))
    }

    async fn start_container(
        &self,
        request: Request<pb::StartContainerRequest>,
    ) -> Result<Response<pb::StartContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        let mut state = self.lock();
        let container = state
            .containers
            .get_mut(&id)
            .ok_or_else(|| not_found("container", &id))?;
        container.state = pb::ContainerState::ContainerRunning as i32;
        container.started_at = now_nanos();
        Ok(Response::new(pb::StartContainerResponse {}))
    }

    async fn stop_container(
        &self,
        request: Request<pb::StopContainerRequest>,
    ) -> Result<Response<pb::StopContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        Self::stop_container_locked(&mut self.lock(), &id);
        Ok(Response::new(pb::StopContainerResponse {}))
    }

    async fn remove_container(
        &self,
        request: Request<pb::RemoveContainerRequest>,
    ) -> Result<Response<pb::RemoveContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        let mut state = self.lock();
        state.containers.remove(&id);
        state.container_sandbox.remove(&id);
        Ok(Response::new(pb::RemoveContainerResponse {}))
    }

    async fn list_containers(
        &self,
        request: Request<pb::ListContainersRequest>,
    ) -> Result<Response<pb::ListContainersResponse>, Status> {
        let filter = request.into_inner().filter.unwrap_or_default();
        let state = self.lock();
        let containers = state
            .containers
            .values()
            .filter(|c| filter.id.is_empty() || c.id == filter.id)
            .filter(|c| filter.state.as_ref().is_none_or(|f| f.state == c.state))
            .filter(|c| {
                filter.pod_sandbox_id.is_empty()
                    || state.container_sandbox.get(&c.id) == Some(&filter.pod_sandbox_id)
            })
            .filter(|c| labels_match(&c.labels, &filter.label_selector))
            .map(|c| pb::Container {
                id: c.id.clone(),
                pod_sandbox_id: state
                    .container_sandbox
                    .get(&c.id)
                    .cloned()
                    .unwrap_or_default(),
                metadata: c.metadata.clone(),
                image: c.image.clone(),
                image_ref: c.image_ref.clone(),
                state: c.state,
                created_at: c.created_at,
                labels: c.labels.clone(),
                annotations: c.annotations.clone(),
                ..Default::default()
            })
            .collect();
        Ok(Response::new(pb::ListContainersResponse { containers }))
    }

    async fn container_status(
        &self,
        request: Request<pb::ContainerStatusRequest>,
    ) -> Result<Response<pb::ContainerStatusResponse>, Status> {
        let id = request.into_inner().container_id;
        let status = self
            .lock()
            .containers
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found("container", &id))?;
        Ok(Response::new(pb::ContainerStatusResponse {
            status: Some(status),
            ..Default::default()
        }))
    }

    async fn update_container_resources(
        &self,
        _request: Request<pb::UpdateContainerResourcesRequest>,
    ) -> Result<Response<pb::UpdateContainerResourcesResponse>, Status> {
        Ok(Response::new(pb::UpdateContainerResourcesResponse {}))
    }

    async fn reopen_container_log(
        &self,
        _request: Request<pb::ReopenContainerLogRequest>,
    ) -> Result<Response<pb::ReopenContainerLogResponse>, Status> {
        Ok(Response::new(pb::ReopenContainerLogResponse {}))
    }

    async fn exec_sync(
        &self,
        _request: Request<pb::ExecSyncRequest>,
    ) -> Result<Response<pb::ExecSyncResponse>, Status> {
        Ok(Response::new(pb::ExecSyncResponse::default()))
    }

    async fn exec(
        &self,
        _request: Request<pb::ExecRequest>,
    ) -> Result<Response<pb::ExecResponse>, Status> {
        Err(Status::unimplemented(
            "a hollow node has no streaming server",
        ))
    }

    async fn attach(
        &self,
        _request: Request<pb::AttachRequest>,
    ) -> Result<Response<pb::AttachResponse>, Status> {
        Err(Status::unimplemented(
            "a hollow node has no streaming server",
        ))
    }

    async fn port_forward(
        &self,
        _request: Request<pb::PortForwardRequest>,
    ) -> Result<Response<pb::PortForwardResponse>, Status> {
        Err(Status::unimplemented(
            "a hollow node has no streaming server",
        ))
    }

    async fn container_stats(
        &self,
        _request: Request<pb::ContainerStatsRequest>,
    ) -> Result<Response<pb::ContainerStatsResponse>, Status> {
        Ok(Response::new(pb::ContainerStatsResponse::default()))
    }

    async fn list_container_stats(
        &self,
        _request: Request<pb::ListContainerStatsRequest>,
    ) -> Result<Response<pb::ListContainerStatsResponse>, Status> {
        Ok(Response::new(pb::ListContainerStatsResponse::default()))
    }

    async fn pod_sandbox_stats(
        &self,
        _request: Request<pb::PodSandboxStatsRequest>,
    ) -> Result<Response<pb::PodSandboxStatsResponse>, Status> {
        Ok(Response::new(pb::PodSandboxStatsResponse::default()))
    }

    async fn list_pod_sandbox_stats(
        &self,
        _request: Request<pb::ListPodSandboxStatsRequest>,
    ) -> Result<Response<pb::ListPodSandboxStatsResponse>, Status> {
        Ok(Response::new(pb::ListPodSandboxStatsResponse::default()))
    }

    async fn update_runtime_config(
        &self,
        _request: Request<pb::UpdateRuntimeConfigRequest>,
    ) -> Result<Response<pb::UpdateRuntimeConfigResponse>, Status> {
        Ok(Response::new(pb::UpdateRuntimeConfigResponse {}))
    }

    async fn status(
        &self,
        _request: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let condition = |kind: &str| pb::RuntimeCondition {
            r#type: kind.to_string(),
            status: true,
            reason: String::new(),
            message: String::new(),
        };
        Ok(Response::new(pb::StatusResponse {
            status: Some(pb::RuntimeStatus {
                conditions: vec![condition("RuntimeReady"), condition("NetworkReady")],
            }),
            ..Default::default()
        }))
    }

    async fn checkpoint_container(
        &self,
        _request: Request<pb::CheckpointContainerRequest>,
    ) -> Result<Response<pb::CheckpointContainerResponse>, Status> {
        Err(Status::unimplemented(
            "CheckpointContainer is not supported",
        ))
    }

    type GetContainerEventsStream =
        tokio_stream::Pending<Result<pb::ContainerEventResponse, Status>>;

    async fn get_container_events(
        &self,
        _request: Request<pb::GetEventsRequest>,
    ) -> Result<Response<Self::GetContainerEventsStream>, Status> {
        Err(Status::unimplemented("container events are not supported"))
    }

    async fn list_metric_descriptors(
        &self,
        _request: Request<pb::ListMetricDescriptorsRequest>,
    ) -> Result<Response<pb::ListMetricDescriptorsResponse>, Status> {
        Ok(Response::new(pb::ListMetricDescriptorsResponse::default()))
    }

    async fn list_pod_sandbox_metrics(
        &self,
        _request: Request<pb::ListPodSandboxMetricsRequest>,
    ) -> Result<Response<pb::ListPodSandboxMetricsResponse>, Status> {
        Ok(Response::new(pb::ListPodSandboxMetricsResponse::default()))
    }

    async fn runtime_config(
        &self,
        _request: Request<pb::RuntimeConfigRequest>,
    ) -> Result<Response<pb::RuntimeConfigResponse>, Status> {
        Ok(Response::new(pb::RuntimeConfigResponse::default()))
    }

    async fn update_pod_sandbox_resources(
        &self,
        _request: Request<pb::UpdatePodSandboxResourcesRequest>,
    ) -> Result<Response<pb::UpdatePodSandboxResourcesResponse>, Status> {
        Ok(Response::new(pb::UpdatePodSandboxResourcesResponse {}))
    }
}

#[tonic::async_trait]
impl ImageService for FakeRuntime {
    async fn list_images(
        &self,
        _request: Request<pb::ListImagesRequest>,
    ) -> Result<Response<pb::ListImagesResponse>, Status> {
        let images = self.lock().images.values().cloned().collect();
        Ok(Response::new(pb::ListImagesResponse { images }))
    }

    async fn image_status(
        &self,
        request: Request<pb::ImageStatusRequest>,
    ) -> Result<Response<pb::ImageStatusResponse>, Status> {
        let name = request.into_inner().image.unwrap_or_default().image;
        let image = self.lock().images.get(&name).cloned();
        Ok(Response::new(pb::ImageStatusResponse {
            image,
            ..Default::default()
        }))
    }

    async fn pull_image(
        &self,
        request: Request<pb::PullImageRequest>,
    ) -> Result<Response<pb::PullImageResponse>, Status> {
        let spec = request.into_inner().image.unwrap_or_default();
        let id = format!("sha256:{:064x}", spec.image.len());
        let image = pb::Image {
            id: id.clone(),
            repo_tags: vec![spec.image.clone()],
            size: 1 << 20,
            spec: Some(spec.clone()),
            ..Default::default()
        };
        self.lock().images.insert(spec.image, image);
        Ok(Response::new(pb::PullImageResponse { image_ref: id }))
    }

    async fn remove_image(
        &self,
        request: Request<pb::RemoveImageRequest>,
    ) -> Result<Response<pb::RemoveImageResponse>, Status> {
        let name = request.into_inner().image.unwrap_or_default().image;
        self.lock()
            .images
            .retain(|key, image| *key != name && image.id != name);
        Ok(Response::new(pb::RemoveImageResponse {}))
    }

    async fn image_fs_info(
        &self,
        _request: Request<pb::ImageFsInfoRequest>,
    ) -> Result<Response<pb::ImageFsInfoResponse>, Status> {
        Ok(Response::new(pb::ImageFsInfoResponse::default()))
    }
}

/// A started hollow node.
pub struct HollowNode {
    pub name: String,
    pub runtime: FakeRuntime,
    pub kubelet: crate::kubelet::Running,
}

/// Starts hollow node `index` under `dir`: a fake runtime on
/// `<dir>/hollow-node-<index>/cri.sock` and a kubelet registered as
/// `hollow-node-<index>` through `kubeconfig`, with ephemeral ports and no
/// cgroups. Everything stops when `cancel` turns true.
///
/// # Errors
///
/// A message when the socket, directories or kubelet cannot be set up.
pub async fn start_hollow_node(
    index: usize,
    dir: &Path,
    kubeconfig: PathBuf,
    cancel: watch::Receiver<bool>,
) -> Result<HollowNode, String> {
    let name = format!("hollow-node-{index}");
    let node_dir = dir.join(&name);
    std::fs::create_dir_all(&node_dir)
        .map_err(|e| format!("failed to create {}: {e}", node_dir.display()))?;
    let socket = node_dir.join("cri.sock");
    let runtime = FakeRuntime::new(&format!("10.{}.{}", 64 + index / 256 % 64, index % 256));
    runtime.clone().serve(&socket, cancel.clone())?;

    let config = crate::config::KubeletConfiguration {
        hostname_override: Some(name.clone()),
        kubeconfig: Some(kubeconfig),
        root_dir: node_dir.join("root"),
        pod_logs_dir: node_dir.join("logs"),
        container_runtime_endpoint: format!("unix://{}", socket.display()),
        address: std::net::IpAddr::from([127, 0, 0, 1]),
        port: 0,
        healthz_port: 0,
        read_only_port: 0,
        node_ip: Some(std::net::IpAddr::from([127, 0, 0, 1])),
        cgroups_per_qos: false,
        resolv_conf: node_dir.join("resolv.conf"),
        ..Default::default()
    };
    let kubelet = crate::kubelet::start(config, cancel)
        .await
        .map_err(|e| format!("failed to start the kubelet of {name}: {e}"))?;
    Ok(HollowNode {
        name,
        runtime,
        kubelet,
    })
}
