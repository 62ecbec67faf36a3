//! The kube-dns binary: parses flags, sets up logging and runs [`kube_dns::app::run`].

use clap::Parser;
use kube_dns::options::Options;
use tokio::sync::watch;

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() {
    let options = Options::parse();
    init_logging(&options.logging_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-dns: failed to start the async runtime: {error}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        tokio::spawn(async move {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async {
                    match terminate.as_mut() {
                        Some(signal) => { signal.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
            tracing::info!("received a termination signal; stopping");
            let _ = cancel_tx.send(true);
        });
        kube_dns::app::run(options, cancel_rx).await
    });
    if let Err(error) = result {
        tracing::error!(%error, "kube-dns failed");
        eprintln!("kube-dns: {error}");
        std::process::exit(1);
    }
}
