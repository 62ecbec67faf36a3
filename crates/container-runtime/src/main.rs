//! `container-runtime`: a CRI v1 runtime daemon. Flags and wiring only; see the library.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use container_runtime::config::Config;
use container_runtime::image::{ImageStore, RegistryConfig};
use container_runtime::runtime::Runtime;
use container_runtime::shim::{self, ShimArgs};
use container_runtime::streaming::StreamingServer;

#[derive(Parser, Debug)]
#[command(
    name = "container-runtime",
    version,
    about = "CRI v1 container runtime"
)]
struct Flags {
    /// Unix socket to serve CRI on (path or unix:// URL).
    #[arg(long, default_value = "/run/container-runtime/container-runtime.sock")]
    listen: String,
    /// Directory for persistent state: records, bundles, container root filesystems.
    #[arg(long, default_value = "/var/lib/container-runtime")]
    root: PathBuf,
    /// Directory for volatile state: pinned namespaces, OCI runtime state.
    #[arg(long, default_value = "/run/container-runtime")]
    state: PathBuf,
    /// OCI runtime binary (runc or crun), a path or a name in PATH.
    #[arg(long, default_value = "runc")]
    oci_runtime: PathBuf,
    /// Directory with the CNI plugin binaries.
    #[arg(long, default_value = "/usr/lib/cni")]
    cni_bin_dir: PathBuf,
    /// Directory with CNI network configurations.
    #[arg(long, default_value = "/etc/cni/net.d")]
    cni_conf_dir: PathBuf,
    /// Cgroup driver; only cgroupfs is supported.
    #[arg(long, default_value = "cgroupfs")]
    cgroup_driver: String,
    /// Address (host:port) of the exec streaming server; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    stream_address: String,
    /// Registry hosts file (TOML or JSON): mirrors and plain-HTTP registries.
    #[arg(long)]
    registry_config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    logging_format: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Supervise one container (started by the daemon, not by users).
    #[command(hide = true)]
    Shim(ShimArgs),
    /// Run as PID 1 of a pod's shared PID namespace (started by the daemon).
    #[command(hide = true)]
    PodInit,
}

fn main() {
    let flags = Flags::parse();
    match flags.command {
        Some(Command::Shim(args)) => std::process::exit(shim::run(args)),
        Some(Command::PodInit) => std::process::exit(container_runtime::pod_init::run()),
        None => {}
    }

    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if flags.logging_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }

    if flags.cgroup_driver != "cgroupfs" {
        eprintln!(
            "container-runtime: invalid --cgroup-driver {:?}: only cgroupfs is supported",
            flags.cgroup_driver
        );
        std::process::exit(2);
    }
    let listen = match cri::socket_path(&flags.listen) {
        Ok(path) => path,
        Err(error) => {
            eprintln!("container-runtime: {error}");
            std::process::exit(2);
        }
    };
    let shim_binary =
        std::env::current_exe().unwrap_or_else(|_| PathBuf::from("container-runtime"));
    let config = Config {
        listen,
        root: flags.root,
        state: flags.state,
        oci_runtime: flags.oci_runtime,
        cni_bin_dir: flags.cni_bin_dir,
        cni_conf_dir: flags.cni_conf_dir,
        cgroup_driver: flags.cgroup_driver,
        stream_address: flags.stream_address,
        shim_binary,
    };

    let registries = match &flags.registry_config {
        Some(path) => match RegistryConfig::load(path) {
            Ok(registries) => registries,
            Err(error) => {
                eprintln!("container-runtime: {error}");
                std::process::exit(2);
            }
        },
        None => RegistryConfig::default(),
    };

    let runtime = tokio::runtime::Runtime::new().expect("failed to start the tokio runtime");
    if let Err(error) = runtime.block_on(run(config, registries)) {
        tracing::error!(%error, "container-runtime failed");
        std::process::exit(1);
    }
}

async fn run(config: Config, registries: RegistryConfig) -> container_runtime::error::Result<()> {
    let images = ImageStore::open(config.root.join("images"), registries)
        .map_err(|error| container_runtime::error::Error::Internal(error.to_string()))?;
    let images = Arc::new(images);
    let socket = config.listen.clone();
    let stream_address = config.stream_address.clone();
    let runtime = Arc::new(Runtime::new(config, images)?);
    let (streaming, listener) = StreamingServer::bind(&stream_address).await?;
    tokio::spawn(streaming.clone().serve(listener, runtime.clone()));
    container_runtime::server::serve(runtime, Some(streaming), &socket, shutdown_signal()).await
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down; containers keep running under their shims");
}
