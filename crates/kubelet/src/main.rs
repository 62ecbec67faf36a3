//! The kubelet binary: flags, configuration and logging; the work happens in
//! [`kubelet::kubelet::start`].

use clap::Parser;
use kubelet::config::{self, Flags};

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if flags.logging_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }

    let configuration = match config::load(&flags) {
        Ok(c) => c,
        Err(error) => {
            eprintln!("kubelet: {error}");
            std::process::exit(1);
        }
    };
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    if let Err(error) = kubelet::kubelet::start(configuration, cancel_rx).await {
        eprintln!("kubelet: {error}");
        std::process::exit(1);
    }
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(error) => {
                eprintln!("kubelet: cannot handle SIGTERM: {error}");
                std::process::exit(1);
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
    let _ = cancel_tx.send(true);
}
