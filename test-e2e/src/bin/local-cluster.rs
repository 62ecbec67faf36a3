//! `local-cluster`: starts a cluster on this machine and keeps it running until
//! Ctrl-C, or tears down one that was left running.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::Duration;

use clap::{Parser, Subcommand};
use test_e2e::cluster::{Cluster, ClusterSpec, ControlPlaneMode, NodeComponents, teardown};

#[derive(Parser)]
#[command(about = "Start or stop a local Kubernetes cluster built from this repository")]
struct Options {
    #[command(subcommand)]
    command: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Start a cluster and keep it in the foreground until Ctrl-C.
    Up {
        /// The directory for certificates, kubeconfigs, data and logs.
        #[arg(long, default_value = "_output/local")]
        dir: PathBuf,
        /// The directory containing the component binaries.
        #[arg(long, default_value = "target/release")]
        bin_dir: PathBuf,
        /// The number of nodes.
        #[arg(long, env = "NODES", default_value_t = 1)]
        nodes: usize,
        /// The prefix of node names, namespaces, interfaces and cgroups.
        #[arg(long, default_value = "local")]
        name: String,
        /// The storage directory of the local registry (hack/registry.sh), served to
        /// the nodes as their docker.io and registry.k8s.io mirror.
        #[arg(long)]
        registry_storage: Option<PathBuf>,
        /// A manifest applied once the nodes are Ready; a NodePort it creates is
        /// printed with the address to reach it.
        #[arg(long)]
        demo: Option<PathBuf>,
        /// Leave the named node daemons out (container-runtime, kubelet, kube-proxy,
        /// controllers) or the DNS add-on (kube-dns), for a cluster where a component
        /// is not built. The DNS add-on also needs --registry-storage.
        #[arg(long, value_delimiter = ',')]
        without: Vec<String>,
        /// Where the control plane runs: `host` (processes on the host) or
        /// `static-pods` (node 1's kubelet runs manifests/kube-*.yaml; needs
        /// --registry-storage with the images hack/registry.sh pushes).
        #[arg(long, default_value = "host", value_parser = ["host", "static-pods"])]
        control_plane: String,
        /// Store objects in etcd over TLS instead of the API server's embedded store:
        /// three members on 127.0.0.1 (Debian's /usr/bin/etcd), or with static pods
        /// one member as a static pod on node 1 (manifests/etcd.yaml).
        #[arg(long)]
        etcd: bool,
    },
    /// Tear down a cluster left running, from its state file.
    Down {
        /// The directory the cluster was started with.
        #[arg(long, default_value = "_output/local")]
        dir: PathBuf,
    },
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    match Options::parse().command {
        Action::Down { dir } => {
            teardown(&dir.join("cluster.json"));
            println!("local-cluster: torn down the cluster in {}", dir.display());
        }
        Action::Up {
            dir,
            bin_dir,
            nodes,
            name,
            registry_storage,
            demo,
            without,
            control_plane,
            etcd,
        } => {
            let dir = absolute(dir);
            let mut spec = ClusterSpec::new(&name, &dir, &absolute(bin_dir), nodes);
            spec.registry_storage = registry_storage.map(absolute);
            spec.node_components = NodeComponents {
                runtime: !without.iter().any(|name| name == "container-runtime"),
                kubelet: !without.iter().any(|name| name == "kubelet"),
                proxy: !without.iter().any(|name| name == "kube-proxy"),
            };
            spec.controllers = !without.iter().any(|name| name == "controllers");
            if control_plane == "static-pods" {
                spec.control_plane = ControlPlaneMode::StaticPods;
            }
            spec.etcd = etcd;
            spec.cluster_dns = spec.registry_storage.is_some()
                && spec.node_components.kubelet
                && !without.iter().any(|name| name == "kube-dns");
            install_signal_handlers();

            println!(
                "local-cluster: starting {nodes} node(s) in {}",
                dir.display()
            );
            let mut cluster = match Cluster::up(spec) {
                Ok(cluster) => cluster,
                Err(error) => {
                    eprintln!("local-cluster: {error}");
                    std::process::exit(1);
                }
            };
            if let Some(demo) = demo
                && let Err(error) = apply_demo(&cluster, &demo)
            {
                eprintln!("local-cluster: applying {} failed: {error}", demo.display());
            }
            print_usage(&cluster);
            while !INTERRUPTED.load(Ordering::SeqCst) {
                if let Some((name, status)) = cluster.exited_daemon() {
                    eprintln!("local-cluster: {name} exited with {status}; stopping the cluster");
                    break;
                }
                sleep(Duration::from_millis(500));
            }
            println!("local-cluster: stopping");
            cluster.down();
        }
    }
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Applies the demo manifest, waits for its Deployments to roll out and prints the
/// NodePort Services it made with an address that reaches them from this host.
fn apply_demo(cluster: &Cluster, manifest: &std::path::Path) -> Result<(), String> {
    let manifest = manifest.display().to_string();
    println!("  applying {manifest}");
    cluster.kubectl(&["apply", "-f", &manifest])?;
    let deployments = cluster.kubectl(&["get", "-f", &manifest, "-o", "name"])?;
    for deployment in deployments
        .lines()
        .filter(|name| name.starts_with("deployment"))
    {
        println!("  waiting for {deployment} to roll out");
        cluster.kubectl(&["rollout", "status", deployment, "--timeout=300s"])?;
    }
    let services = cluster.kubectl(&[
        "get",
        "-f",
        &manifest,
        "-o",
        "jsonpath={range .items[?(@.spec.type==\"NodePort\")]}{.metadata.name} {.spec.ports[0].nodePort}{\"\\n\"}{end}",
    ])?;
    for line in services.lines() {
        if let Some((name, port)) = line.split_once(' ') {
            println!(
                "  service {name} answers on http://{}:{port}/ (try: curl http://{}:{port}/)",
                cluster.spec.node_address(1),
                cluster.spec.node_address(1)
            );
        }
    }
    Ok(())
}

fn print_usage(cluster: &Cluster) {
    let kubeconfig = cluster.spec.admin_kubeconfig();
    println!();
    println!("The cluster is running. Use it with:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get nodes");
    if let Some(pki) = &cluster.pki
        && cluster.spec.etcd
    {
        println!(
            "etcd serves {} (CA {}, client certificate {}).",
            cluster.spec.etcd_servers().join(","),
            pki.etcd.ca.cert.display(),
            pki.etcd.healthcheck_client.cert.display(),
        );
    }
    if cluster.spec.cluster_dns {
        println!(
            "Cluster DNS answers on {} for {}; try:",
            cluster.spec.dns_service_ip(),
            test_e2e::cluster::CLUSTER_DOMAIN
        );
        println!(
            "  kubectl run dns-check -it --rm --restart=Never --image=busybox -- nslookup kubernetes.default"
        );
    }
    println!(
        "Logs are in {}/logs. Press Ctrl-C to stop it.",
        cluster.spec.dir.display()
    );
}
