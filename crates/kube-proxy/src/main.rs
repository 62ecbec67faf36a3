//! The kube-proxy binary: parses flags, sets up logging and runs [`kube_proxy::server::run`].

use kube_proxy::options::Options;
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
    let (options, matches) = match Options::parse_from_args(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(error) => error.exit(),
    };
    let config = match options.resolve(&matches) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("kube-proxy: {error}");
            std::process::exit(1);
        }
    };
    init_logging(&config.logging_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-proxy: failed to start the async runtime: {error}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        tokio::spawn(async move {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { if let Some(signal) = terminate.as_mut() { signal.recv().await; } else { std::future::pending::<()>().await } } => {}
            }
            tracing::info!("received a termination signal; stopping");
            let _ = cancel_tx.send(true);
        });
        kube_proxy::server::run(config, cancel_rx).await
    });
    if let Err(error) = result {
        tracing::error!(%error, "kube-proxy failed");
        eprintln!("kube-proxy: {error}");
        std::process::exit(1);
    }
}
