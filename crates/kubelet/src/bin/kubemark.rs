//! kubemark: many hollow nodes in one process, each the real kubelet over an
//! in-memory CRI runtime ([`kubelet::hollow`]), registered through one kubeconfig.

use std::path::PathBuf;

use clap::Parser;

/// Starts hollow nodes against an API server.
#[derive(Debug, Parser)]
#[command(name = "kubemark")]
struct Flags {
    /// Number of hollow nodes to start.
    #[arg(long, default_value_t = 1)]
    hollow_nodes: usize,
    /// Index of the first node; nodes are named `hollow-node-<index>`.
    #[arg(long, default_value_t = 0)]
    first_index: usize,
    /// Kubeconfig file with the API server's address and credentials.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// Directory for the nodes' sockets, pod directories and logs.
    #[arg(long, default_value = "/var/lib/kubemark")]
    root_dir: PathBuf,
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let mut nodes = Vec::with_capacity(flags.hollow_nodes);
    for index in flags.first_index..flags.first_index + flags.hollow_nodes {
        match kubelet::hollow::start_hollow_node(
            index,
            &flags.root_dir,
            flags.kubeconfig.clone(),
            cancel_rx.clone(),
        )
        .await
        {
            Ok(node) => nodes.push(node),
            Err(error) => {
                eprintln!("kubemark: {error}");
                let _ = cancel_tx.send(true);
                std::process::exit(1);
            }
        }
    }
    tracing::warn!(nodes = nodes.len(), "hollow nodes started");

    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(error) => {
                eprintln!("kubemark: cannot handle SIGTERM: {error}");
                std::process::exit(1);
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    let _ = cancel_tx.send(true);
}
