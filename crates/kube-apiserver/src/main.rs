//! The kube-apiserver binary: flags, logging, then the server.

use clap::Parser;
use kube_apiserver::apiserver;
use kube_apiserver::options::Options;

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    init_logging(&options);
    kube_apiserver::heap::limit_arenas();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-apiserver: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(apiserver::run(options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "kube-apiserver failed");
            eprintln!("kube-apiserver: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs as text or JSON (`--logging-format`); `-v` raises the level as klog's does.
fn init_logging(options: &Options) {
    let level = match options.verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    use std::io::IsTerminal;

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
