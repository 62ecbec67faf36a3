//! The gRPC services: `runtime.v1.RuntimeService` and `runtime.v1.ImageService` over a
//! shared [`Runtime`]. Handlers validate and translate messages; [`Error`] variants map
//! to gRPC codes (unknown ids are NOT_FOUND, malformed requests INVALID_ARGUMENT).

use std::sync::Arc;

use cri::v1;
use cri::v1::image_service_server::ImageService;
use cri::v1::runtime_service_server::RuntimeService;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::images::{ImageInfo, RegistryAuth};
use crate::runtime::{RUNTIME_NAME, Runtime};
use crate::streaming::{PendingExec, StreamingServer};

/// Both CRI services over one runtime.
#[derive(Clone)]
pub struct CriService {
    runtime: Arc<Runtime>,
    streaming: Option<Arc<StreamingServer>>,
}

impl CriService {
    /// Serves `runtime`; without a streaming server, Exec returns UNIMPLEMENTED.
    pub fn new(runtime: Arc<Runtime>, streaming: Option<Arc<StreamingServer>>) -> CriService {
        CriService { runtime, streaming }
    }
}

fn required<'a>(value: &'a str, field: &str) -> Result<&'a str, Status> {
    if value.is_empty() {
        return Err(Status::invalid_argument(format!("{field} is empty")));
    }
    Ok(value)
}

fn log_error(call: &'static str, error: Error) -> Status {
    match &error {
        Error::NotFound(_) | Error::InvalidArgument(_) | Error::AlreadyExists(_) => {
            tracing::debug!(call, %error, "request rejected")
        }
        _ => tracing::warn!(call, %error, "request failed"),
    }
    error.into()
}

#[tonic::async_trait]
impl RuntimeService for CriService {
    async fn version(
        &self,
        _request: Request<v1::VersionRequest>,
    ) -> Result<Response<v1::VersionResponse>, Status> {
        Ok(Response::new(v1::VersionResponse {
            version: "0.1.0".into(),
            runtime_name: RUNTIME_NAME.into(),
            runtime_version: env!("CARGO_PKG_VERSION").into(),
            runtime_api_version: cri::API_VERSION.into(),
        }))
    }

    async fn run_pod_sandbox(
        &self,
        request: Request<v1::RunPodSandboxRequest>,
    ) -> Result<Response<v1::RunPodSandboxResponse>, Status> {
        let request = request.into_inner();
        let config = request
            .config
            .ok_or_else(|| Status::invalid_argument("sandbox config is missing"))?;
        let id = self
            .runtime
            .run_pod_sandbox(&config, &request.runtime_handler)
            .await
            .map_err(|error| log_error("RunPodSandbox", error))?;
        Ok(Response::new(v1::RunPodSandboxResponse {
            pod_sandbox_id: id,
        }))
    }

    async fn stop_pod_sandbox(
        &self,
        request: Request<v1::StopPodSandboxRequest>,
    ) -> Result<Response<v1::StopPodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        required(&id, "pod_sandbox_id")?;
        self.runtime
            .stop_pod_sandbox(&id)
            .await
            .map_err(|error| log_error("StopPodSandbox", error))?;
        Ok(Response::new(v1::StopPodSandboxResponse {}))
    }

    async fn remove_pod_sandbox(
        &self,
        request: Request<v1::RemovePodSandboxRequest>,
    ) -> Result<Response<v1::RemovePodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        required(&id, "pod_sandbox_id")?;
        self.runtime
            .remove_pod_sandbox(&id)
            .await
            .map_err(|error| log_error("RemovePodSandbox", error))?;
        Ok(Response::new(v1::RemovePodSandboxResponse {}))
    }

    async fn pod_sandbox_status(
        &self,
        request: Request<v1::PodSandboxStatusRequest>,
    ) -> Result<Response<v1::PodSandboxStatusResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        required(&id, "pod_sandbox_id")?;
        let status = self
            .runtime
            .pod_sandbox_status(&id)
            .map_err(|error| log_error("PodSandboxStatus", error))?;
        Ok(Response::new(v1::PodSandboxStatusResponse {
            status: Some(status),
            timestamp: crate::store::now_nanos(),
            ..Default::default()
        }))
    }

    async fn list_pod_sandbox(
        &self,
        request: Request<v1::ListPodSandboxRequest>,
    ) -> Result<Response<v1::ListPodSandboxResponse>, Status> {
        let filter = request.into_inner().filter;
        let items = self
            .runtime
            .sandboxes(filter.as_ref())
            .iter()
            .map(|record| v1::PodSandbox {
                id: record.id.clone(),
                metadata: Some(crate::runtime::sandbox_metadata(record)),
                state: crate::runtime::sandbox_state(record) as i32,
                created_at: record.created_at,
                labels: record.labels.clone().into_iter().collect(),
                annotations: record.annotations.clone().into_iter().collect(),
                runtime_handler: record.runtime_handler.clone(),
            })
            .collect();
        Ok(Response::new(v1::ListPodSandboxResponse { items }))
    }

    async fn create_container(
        &self,
        request: Request<v1::CreateContainerRequest>,
    ) -> Result<Response<v1::CreateContainerResponse>, Status> {
        let request = request.into_inner();
        required(&request.pod_sandbox_id, "pod_sandbox_id")?;
        let config = request
            .config
            .ok_or_else(|| Status::invalid_argument("container config is missing"))?;
        let id = self
            .runtime
            .create_container(&request.pod_sandbox_id, &config)
            .await
            .map_err(|error| log_error("CreateContainer", error))?;
        Ok(Response::new(v1::CreateContainerResponse {
            container_id: id,
        }))
    }

    async fn start_container(
        &self,
        request: Request<v1::StartContainerRequest>,
    ) -> Result<Response<v1::StartContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        required(&id, "container_id")?;
        self.runtime
            .start_container(&id)
            .await
            .map_err(|error| log_error("StartContainer", error))?;
        Ok(Response::new(v1::StartContainerResponse {}))
    }

    async fn stop_container(
        &self,
        request: Request<v1::StopContainerRequest>,
    ) -> Result<Response<v1::StopContainerResponse>, Status> {
        let request = request.into_inner();
        required(&request.container_id, "container_id")?;
        self.runtime
            .stop_container(&request.container_id, request.timeout)
            .await
            .map_err(|error| log_error("StopContainer", error))?;
        Ok(Response::new(v1::StopContainerResponse {}))
    }

    async fn remove_container(
        &self,
        request: Request<v1::RemoveContainerRequest>,
    ) -> Result<Response<v1::RemoveContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        required(&id, "container_id")?;
        self.runtime
            .remove_container(&id)
            .await
            .map_err(|error| log_error("RemoveContainer", error))?;
        Ok(Response::new(v1::RemoveContainerResponse {}))
    }

    async fn list_containers(
        &self,
        request: Request<v1::ListContainersRequest>,
    ) -> Result<Response<v1::ListContainersResponse>, Status> {
        let filter = request.into_inner().filter;
        Ok(Response::new(v1::ListContainersResponse {
            containers: self.runtime.list_containers(filter.as_ref()),
        }))
    }

    async fn container_status(
        &self,
        request: Request<v1::ContainerStatusRequest>,
    ) -> Result<Response<v1::ContainerStatusResponse>, Status> {
        let id = request.into_inner().container_id;
        required(&id, "container_id")?;
        let status = self
            .runtime
            .container_status(&id)
            .map_err(|error| log_error("ContainerStatus", error))?;
        Ok(Response::new(v1::ContainerStatusResponse {
            status: Some(status),
            info: Default::default(),
        }))
    }

    async fn update_container_resources(
        &self,
        request: Request<v1::UpdateContainerResourcesRequest>,
    ) -> Result<Response<v1::UpdateContainerResourcesResponse>, Status> {
        let request = request.into_inner();
        required(&request.container_id, "container_id")?;
        let resources = request
            .linux
            .ok_or_else(|| Status::invalid_argument("linux resources are missing"))?;
        self.runtime
            .update_container_resources(&request.container_id, &resources)
            .await
            .map_err(|error| log_error("UpdateContainerResources", error))?;
        Ok(Response::new(v1::UpdateContainerResourcesResponse {}))
    }

    async fn reopen_container_log(
        &self,
        request: Request<v1::ReopenContainerLogRequest>,
    ) -> Result<Response<v1::ReopenContainerLogResponse>, Status> {
        let id = request.into_inner().container_id;
        required(&id, "container_id")?;
        self.runtime
            .reopen_container_log(&id)
            .await
            .map_err(|error| log_error("ReopenContainerLog", error))?;
        Ok(Response::new(v1::ReopenContainerLogResponse {}))
    }

    async fn exec_sync(
        &self,
        request: Request<v1::ExecSyncRequest>,
    ) -> Result<Response<v1::ExecSyncResponse>, Status> {
        let request = request.into_inner();
        required(&request.container_id, "container_id")?;
        let output = self
            .runtime
            .exec_sync(&request.container_id, &request.cmd, request.timeout)
            .await
            .map_err(|error| log_error("ExecSync", error))?;
        Ok(Response::new(v1::ExecSyncResponse {
            stdout: output.stdout,
            stderr: output.stderr,
            exit_code: output.exit_code,
        }))
    }

    async fn exec(
        &self,
        request: Request<v1::ExecRequest>,
    ) -> Result<Response<v1::ExecResponse>, Status> {
        let request = request.into_inner();
        required(&request.container_id, "container_id")?;
        if request.cmd.is_empty() {
            return Err(Status::invalid_argument("cmd is empty"));
        }
        if !(request.stdin || request.stdout || request.stderr) {
            return Err(Status::invalid_argument(
                "one of stdin, stdout, or stderr must be set",
            ));
        }
        let Some(streaming) = &self.streaming else {
            return Err(Status::unimplemented(
                "Exec needs the streaming server, which is not running",
            ));
        };
        let record = self
            .runtime
            .container_status(&request.container_id)
            .map_err(|error| log_error("Exec", error))?;
        if record.state != v1::ContainerState::ContainerRunning as i32 {
            return Err(Status::failed_precondition(format!(
                "container {} is not running",
                request.container_id
            )));
        }
        let url = streaming.exec_url(PendingExec {
            container_id: request.container_id,
            cmd: request.cmd,
            stdin: request.stdin,
            stdout: request.stdout,
            stderr: request.stderr,
            tty: request.tty,
        });
        Ok(Response::new(v1::ExecResponse { url }))
    }

    async fn attach(
        &self,
        request: Request<v1::AttachRequest>,
    ) -> Result<Response<v1::AttachResponse>, Status> {
        let request = request.into_inner();
        required(&request.container_id, "container_id")?;
        if !(request.stdin || request.stdout || request.stderr) {
            return Err(Status::invalid_argument(
                "one of stdin, stdout, or stderr must be set",
            ));
        }
        let Some(streaming) = &self.streaming else {
            return Err(Status::unimplemented(
                "Attach needs the streaming server, which is not running",
            ));
        };
        let socket = self
            .runtime
            .attach_socket(&request.container_id)
            .map_err(|error| log_error("Attach", error))?;
        let url = streaming.attach_url(crate::streaming::PendingAttach {
            container_id: request.container_id,
            socket,
            stdin: request.stdin,
            stdout: request.stdout,
            stderr: request.stderr,
            tty: request.tty,
        });
        Ok(Response::new(v1::AttachResponse { url }))
    }

    async fn port_forward(
        &self,
        request: Request<v1::PortForwardRequest>,
    ) -> Result<Response<v1::PortForwardResponse>, Status> {
        let request = request.into_inner();
        required(&request.pod_sandbox_id, "pod_sandbox_id")?;
        let mut ports = Vec::new();
        for port in &request.port {
            let port = u16::try_from(*port)
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| Status::invalid_argument(format!("invalid port {port}")))?;
            ports.push(port);
        }
        let Some(streaming) = &self.streaming else {
            return Err(Status::unimplemented(
                "PortForward needs the streaming server, which is not running",
            ));
        };
        let netns = self
            .runtime
            .sandbox_netns(&request.pod_sandbox_id)
            .map_err(|error| log_error("PortForward", error))?;
        let url = streaming.port_forward_url(crate::portforward::PendingPortForward {
            sandbox_id: request.pod_sandbox_id,
            netns,
            ports,
        });
        Ok(Response::new(v1::PortForwardResponse { url }))
    }

    async fn container_stats(
        &self,
        request: Request<v1::ContainerStatsRequest>,
    ) -> Result<Response<v1::ContainerStatsResponse>, Status> {
        let id = request.into_inner().container_id;
        required(&id, "container_id")?;
        let stats = self
            .runtime
            .container_stats(&id)
            .map_err(|error| log_error("ContainerStats", error))?;
        Ok(Response::new(v1::ContainerStatsResponse {
            stats: Some(stats),
        }))
    }

    async fn list_container_stats(
        &self,
        request: Request<v1::ListContainerStatsRequest>,
    ) -> Result<Response<v1::ListContainerStatsResponse>, Status> {
        let filter = request.into_inner().filter;
        Ok(Response::new(v1::ListContainerStatsResponse {
            stats: self.runtime.list_container_stats(filter.as_ref()),
        }))
    }

    async fn pod_sandbox_stats(
        &self,
        request: Request<v1::PodSandboxStatsRequest>,
    ) -> Result<Response<v1::PodSandboxStatsResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        required(&id, "pod_sandbox_id")?;
        let stats = self
            .runtime
            .pod_sandbox_stats(&id)
            .map_err(|error| log_error("PodSandboxStats", error))?;
        Ok(Response::new(v1::PodSandboxStatsResponse {
            stats: Some(stats),
        }))
    }

    async fn list_pod_sandbox_stats(
        &self,
        request: Request<v1::ListPodSandboxStatsRequest>,
    ) -> Result<Response<v1::ListPodSandboxStatsResponse>, Status> {
        let filter = request
            .into_inner()
            .filter
            .map(|filter| v1::PodSandboxFilter {
                id: filter.id,
                state: None,
                label_selector: filter.label_selector,
            });
        let stats = self
            .runtime
            .sandboxes(filter.as_ref())
            .iter()
            .filter_map(|record| self.runtime.pod_sandbox_stats(&record.id).ok())
            .collect();
        Ok(Response::new(v1::ListPodSandboxStatsResponse { stats }))
    }

    async fn update_runtime_config(
        &self,
        request: Request<v1::UpdateRuntimeConfigRequest>,
    ) -> Result<Response<v1::UpdateRuntimeConfigResponse>, Status> {
        let pod_cidr = request
            .into_inner()
            .runtime_config
            .and_then(|config| config.network_config)
            .map(|network| network.pod_cidr)
            .unwrap_or_default();
        // The pod CIDR reaches pods through the CNI configuration, so it is only logged.
        tracing::info!(pod_cidr, "runtime config updated");
        Ok(Response::new(v1::UpdateRuntimeConfigResponse {}))
    }

    async fn status(
        &self,
        _request: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusResponse>, Status> {
        let network = self.runtime.network_ready();
        let conditions = vec![
            v1::RuntimeCondition {
                r#type: "RuntimeReady".into(),
                status: true,
                ..Default::default()
            },
            v1::RuntimeCondition {
                r#type: "NetworkReady".into(),
                status: network.is_ok(),
                reason: if network.is_ok() {
                    String::new()
                } else {
                    "NetworkPluginNotReady".into()
                },
                message: network
                    .err()
                    .map(|reason| format!("network plugin is not ready: {reason}"))
                    .unwrap_or_default(),
            },
        ];
        Ok(Response::new(v1::StatusResponse {
            status: Some(v1::RuntimeStatus { conditions }),
            runtime_handlers: vec![v1::RuntimeHandler {
                name: String::new(),
                features: Some(v1::RuntimeHandlerFeatures {
                    recursive_read_only_mounts: false,
                    user_namespaces: false,
                }),
            }],
            ..Default::default()
        }))
    }

    async fn checkpoint_container(
        &self,
        _request: Request<v1::CheckpointContainerRequest>,
    ) -> Result<Response<v1::CheckpointContainerResponse>, Status> {
        Err(Status::unimplemented(
            "CheckpointContainer is not supported",
        ))
    }

    type GetContainerEventsStream =
        tokio_stream::Pending<Result<v1::ContainerEventResponse, Status>>;

    async fn get_container_events(
        &self,
        _request: Request<v1::GetEventsRequest>,
    ) -> Result<Response<Self::GetContainerEventsStream>, Status> {
        // The kubelet falls back to relisting (generic PLEG) when events are unimplemented.
        Err(Status::unimplemented(
            "container events are not supported; use relisting",
        ))
    }

    async fn list_metric_descriptors(
        &self,
        _request: Request<v1::ListMetricDescriptorsRequest>,
    ) -> Result<Response<v1::ListMetricDescriptorsResponse>, Status> {
        Ok(Response::new(v1::ListMetricDescriptorsResponse {
            descriptors: Vec::new(),
        }))
    }

    async fn list_pod_sandbox_metrics(
        &self,
        _request: Request<v1::ListPodSandboxMetricsRequest>,
    ) -> Result<Response<v1::ListPodSandboxMetricsResponse>, Status> {
        Ok(Response::new(v1::ListPodSandboxMetricsResponse {
            pod_metrics: Vec::new(),
        }))
    }

    async fn runtime_config(
        &self,
        _request: Request<v1::RuntimeConfigRequest>,
    ) -> Result<Response<v1::RuntimeConfigResponse>, Status> {
        Ok(Response::new(v1::RuntimeConfigResponse {
            linux: Some(v1::LinuxRuntimeConfiguration {
                cgroup_driver: v1::CgroupDriver::Cgroupfs as i32,
            }),
        }))
    }

    async fn update_pod_sandbox_resources(
        &self,
        _request: Request<v1::UpdatePodSandboxResourcesRequest>,
    ) -> Result<Response<v1::UpdatePodSandboxResourcesResponse>, Status> {
        // The kubelet sizes the pod cgroup itself; without a pause process there is no
        // sandbox container whose limits could change.
        Ok(Response::new(v1::UpdatePodSandboxResourcesResponse {}))
    }
}

fn image_message(info: &ImageInfo) -> v1::Image {
    v1::Image {
        id: info.id.clone(),
        repo_tags: info.repo_tags.clone(),
        repo_digests: info.repo_digests.clone(),
        size: info.size,
        uid: info.uid.map(|value| v1::Int64Value { value }),
        username: info.username.clone(),
        spec: Some(v1::ImageSpec {
            image: info.id.clone(),
            ..Default::default()
        }),
        pinned: false,
    }
}

fn image_name(spec: Option<&v1::ImageSpec>) -> Result<&str, Status> {
    let name = spec.map(|spec| spec.image.as_str()).unwrap_or_default();
    required(name, "image")
}

#[tonic::async_trait]
impl ImageService for CriService {
    async fn list_images(
        &self,
        request: Request<v1::ListImagesRequest>,
    ) -> Result<Response<v1::ListImagesResponse>, Status> {
        let filter = request
            .into_inner()
            .filter
            .and_then(|filter| filter.image)
            .map(|spec| spec.image)
            .unwrap_or_default();
        let images = self
            .runtime
            .images()
            .list()
            .await
            .map_err(|error| log_error("ListImages", error))?;
        let images = images
            .iter()
            .filter(|info| {
                filter.is_empty() || info.id == filter || info.repo_tags.contains(&filter)
            })
            .map(image_message)
            .collect();
        Ok(Response::new(v1::ListImagesResponse { images }))
    }

    async fn image_status(
        &self,
        request: Request<v1::ImageStatusRequest>,
    ) -> Result<Response<v1::ImageStatusResponse>, Status> {
        let request = request.into_inner();
        let name = image_name(request.image.as_ref())?;
        let image = self
            .runtime
            .images()
            .status(name)
            .await
            .map_err(|error| log_error("ImageStatus", error))?;
        // An absent image is not an error: the response carries no image.
        Ok(Response::new(v1::ImageStatusResponse {
            image: image.as_ref().map(image_message),
            info: Default::default(),
        }))
    }

    async fn pull_image(
        &self,
        request: Request<v1::PullImageRequest>,
    ) -> Result<Response<v1::PullImageResponse>, Status> {
        let request = request.into_inner();
        let name = image_name(request.image.as_ref())?;
        let auth = request.auth.map(|auth| RegistryAuth {
            username: auth.username,
            password: auth.password,
            auth: auth.auth,
            server_address: auth.server_address,
            identity_token: auth.identity_token,
            registry_token: auth.registry_token,
        });
        let image_ref = self
            .runtime
            .images()
            .pull(name, auth.as_ref())
            .await
            .map_err(|error| log_error("PullImage", error))?;
        Ok(Response::new(v1::PullImageResponse { image_ref }))
    }

    async fn remove_image(
        &self,
        request: Request<v1::RemoveImageRequest>,
    ) -> Result<Response<v1::RemoveImageResponse>, Status> {
        let request = request.into_inner();
        let name = image_name(request.image.as_ref())?;
        self.runtime
            .images()
            .remove(name)
            .await
            .map_err(|error| log_error("RemoveImage", error))?;
        Ok(Response::new(v1::RemoveImageResponse {}))
    }

    async fn image_fs_info(
        &self,
        _request: Request<v1::ImageFsInfoRequest>,
    ) -> Result<Response<v1::ImageFsInfoResponse>, Status> {
        let usage = self
            .runtime
            .images()
            .fs_info()
            .await
            .map_err(|error| log_error("ImageFsInfo", error))?;
        let filesystem = v1::FilesystemUsage {
            timestamp: crate::store::now_nanos(),
            fs_id: Some(v1::FilesystemIdentifier {
                mountpoint: usage.mountpoint,
            }),
            used_bytes: Some(v1::UInt64Value {
                value: usage.used_bytes,
            }),
            inodes_used: Some(v1::UInt64Value {
                value: usage.inodes_used,
            }),
        };
        Ok(Response::new(v1::ImageFsInfoResponse {
            image_filesystems: vec![filesystem],
            container_filesystems: Vec::new(),
        }))
    }
}
