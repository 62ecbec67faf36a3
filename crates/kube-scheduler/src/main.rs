//! The kube-scheduler binary: parses flags, sets up logging and runs the scheduler
//! until SIGINT or SIGTERM.

use clap::Parser;
use kube_scheduler::app;
use kube_scheduler::options::Options;

/// jemalloc, as in the API server: each scheduling cycle allocates and frees many
/// small objects, and the scheduler_perf benchmark runs both under it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let options = Options::parse();
    init_logging(&options);

    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("received termination signal, shutting down");
        let _ = cancel_tx.send(true);
    });

    if let Err(error) = app::run(options, cancel).await {
        tracing::error!(%error, "kube-scheduler failed");
        eprintln!("kube-scheduler: {error}");
        std::process::exit(1);
    }
}

fn init_logging(options: &Options) {
    use std::io::IsTerminal;

    let level = match options.verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if options.logging_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};

    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; stopping on SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
