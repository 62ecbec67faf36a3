//! The kube-controller-manager binary: flags, logging, signals, then [`app::run`].

use clap::Parser;
use kube_controller_manager::app;
use kube_controller_manager::options::ControllerManagerOptions;

fn main() -> std::process::ExitCode {
    let options = ControllerManagerOptions::parse();
    init_logging(&options);
    // One malloc arena per core instead of glibc's eight: the handler threads of
    // every informer decode and drop objects, and fewer arenas keep the freed
    // memory reusable. Set before the runtime starts any thread.
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    apimachinery::heap::limit_arenas(cores);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-controller-manager: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let (stop, cancel) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("received a termination signal");
            let _ = stop.send(true);
        });
        app::run(options, cancel).await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "kube-controller-manager failed");
            eprintln!("kube-controller-manager: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Logs as text or JSON (`--logging-format`); `-v` raises the level as klog's does.
fn init_logging(options: &ControllerManagerOptions) {
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
