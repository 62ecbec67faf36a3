//! Network namespaces for the tests, removed again on drop, plus an echo server and
//! helpers that run commands and sockets inside them.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_proxy::exec::{Cmd, CmdOutput, CommandExecutor, ExecError, Executor};

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A named network namespace (`ip netns add`), deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn create(name: String) -> Netns {
        run("ip", &["netns", "add", &name]);
        let netns = Netns { name };
        run("ip", &["-n", &netns.name, "link", "set", "lo", "up"]);
        netns
    }

    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }

    /// Moves the calling thread into this namespace. Only for threads the test owns.
    pub fn enter_current_thread(&self) {
        let file = File::open(self.path()).expect("open netns");
        // SAFETY: setns on a valid namespace fd affects only the calling thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "setns {}: {}",
            self.name,
            std::io::Error::last_os_error()
        );
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs every command inside one namespace through `nsenter --net`, whatever thread
/// calls it, so the proxier never touches the host's rules.
pub struct NsExecutor {
    path: String,
}

impl Executor for NsExecutor {
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, ExecError> {
        let mut args = vec![format!("--net={}", self.path), cmd.program.clone()];
        args.extend(cmd.args.iter().cloned());
        let wrapped = Cmd {
            program: "nsenter".to_string(),
            args,
            stdin: cmd.stdin.clone(),
        };
        CommandExecutor.run(&wrapped)
    }
}

/// A node namespace (10.244.1.1, route to 10.96.0.0/16 on its veth) and a pod
/// namespace (10.244.1.2), joined by a veth pair. Neither has a default route.
pub struct NodeAndPod {
    // Field order: the pod goes first, then the node (which deletes the veth pair).
    pub pod: Netns,
    pub node: Netns,
}

impl NodeAndPod {
    pub fn create(label: &str) -> NodeAndPod {
        let id = format!(
            "{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::SeqCst)
        );
        let node = Netns::create(format!("kp-{label}-{id}-node"));
        let pod = Netns::create(format!("kp-{label}-{id}-pod"));
        run(
            "ip",
            &[
                "-n", &node.name, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0",
                "netns", &pod.name,
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &node.name,
                "addr",
                "add",
                "10.244.1.1/24",
                "dev",
                "veth0",
            ],
        );
        run("ip", &["-n", &node.name, "link", "set", "veth0", "up"]);
        run(
            "ip",
            &[
                "-n",
                &node.name,
                "route",
                "add",
                "10.96.0.0/16",
                "dev",
                "veth0",
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &pod.name,
                "addr",
                "add",
                "10.244.1.2/24",
                "dev",
                "eth0",
            ],
        );
        run("ip", &["-n", &pod.name, "link", "set", "eth0", "up"]);
        NodeAndPod { pod, node }
    }

    /// Lets the pod reach the service range through the node, and the node forward
    /// packets, so that a pod can connect to its own service (hairpin).
    pub fn enable_pod_to_service(&self) {
        run(
            "ip",
            &[
                "-n",
                &self.pod.name,
                "route",
                "add",
                "10.96.0.0/16",
                "via",
                "10.244.1.1",
            ],
        );
        run(
            "nsenter",
            &[
                &format!("--net={}", self.node.path()),
                "sh",
                "-c",
                "echo 1 > /proc/sys/net/ipv4/ip_forward",
            ],
        );
    }

    /// Connects from the pod namespace to `address`, sends `message` and returns the reply.
    pub fn echo_from_pod(&self, address: SocketAddr, message: &str) -> std::io::Result<String> {
        let pod = &self.pod;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    pod.enter_current_thread();
                    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
                    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                    stream.write_all(message.as_bytes())?;
                    stream.shutdown(std::net::Shutdown::Write)?;
                    let mut reply = String::new();
                    stream.read_to_string(&mut reply)?;
                    Ok(reply)
                })
                .join()
                .expect("client thread")
        })
    }

    pub fn node_executor(&self) -> NsExecutor {
        NsExecutor {
            path: self.node.path(),
        }
    }

    /// Connects from the node namespace to `address`, sends `message` and returns the reply.
    pub fn echo_via(&self, address: SocketAddr, message: &str) -> std::io::Result<String> {
        let node = &self.node;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    node.enter_current_thread();
                    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
                    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                    stream.write_all(message.as_bytes())?;
                    stream.shutdown(std::net::Shutdown::Write)?;
                    let mut reply = String::new();
                    stream.read_to_string(&mut reply)?;
                    Ok(reply)
                })
                .join()
                .expect("client thread")
        })
    }

    /// Sends `message` over UDP from the node namespace to `address` and returns the reply.
    pub fn udp_echo_via(&self, address: SocketAddr, message: &str) -> std::io::Result<String> {
        let node = &self.node;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    node.enter_current_thread();
                    let socket = UdpSocket::bind("0.0.0.0:0")?;
                    socket.set_read_timeout(Some(Duration::from_secs(5)))?;
                    // A connected socket accepts only replies from `address`, as DNS
                    // resolvers do, so a reply with the wrong source is an error.
                    socket.connect(address)?;
                    socket.send(message.as_bytes())?;
                    let mut buffer = [0u8; 1500];
                    let length = socket.recv(&mut buffer)?;
                    Ok(String::from_utf8_lossy(&buffer[..length]).into_owned())
                })
                .join()
                .expect("client thread")
        })
    }

    /// Returns the UDP conntrack entries of the node namespace whose original
    /// destination is `ip`.
    pub fn udp_conntrack_entries(&self, ip: &str) -> Vec<String> {
        let output = self
            .node_executor()
            .run_checked(&Cmd::new(
                "conntrack",
                &["-L", "-p", "udp", "--orig-dst", ip],
            ))
            .expect("conntrack -L");
        output.stdout.lines().map(str::to_string).collect()
    }

    /// Returns `iptables-save -c -t TABLE` of the node namespace.
    pub fn iptables_save(&self, table: &str) -> String {
        let output = self
            .node_executor()
            .run_checked(&Cmd::new("iptables-save", &["-c", "-t", table]))
            .expect("iptables-save");
        output.stdout
    }

    /// Returns the `[packets, bytes]` counters of the nat rules that start with
    /// `prefix` and mention `needle`.
    pub fn counters_of(&self, prefix: &str, needle: &str) -> Vec<(u64, u64)> {
        self.iptables_save("nat")
            .lines()
            .filter_map(|line| {
                let (counters, rule) = line.strip_prefix('[')?.split_once("] ")?;
                if !rule.starts_with(prefix) || !rule.contains(needle) {
                    return None;
                }
                let (packets, bytes) = counters.split_once(':')?;
                Some((packets.parse().ok()?, bytes.parse().ok()?))
            })
            .collect()
    }
}

/// A TCP echo server in a namespace: echoes what a client sends until the client shuts
/// down its side. Stops on drop.
pub struct EchoServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    pub fn start(netns: &Netns, address: SocketAddr) -> EchoServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let path = netns.path();
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns");
            // SAFETY: setns on a valid namespace fd affects only this thread.
            assert_eq!(
                unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
                0
            );
            let listener = TcpListener::bind(address).expect("bind echo server");
            listener.set_nonblocking(true).expect("nonblocking");
            ready_tx.send(()).expect("signal ready");
            while !thread_stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut buffer = Vec::new();
                        if stream.read_to_end(&mut buffer).is_ok() {
                            let _ = stream.write_all(&buffer);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("echo server ready");
        EchoServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A UDP echo server in a namespace: returns every datagram to its sender. Stops on drop.
pub struct UdpEchoServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpEchoServer {
    pub fn start(netns: &Netns, address: SocketAddr) -> UdpEchoServer {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let path = netns.path();
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns");
            // SAFETY: setns on a valid namespace fd affects only this thread.
            assert_eq!(
                unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
                0
            );
            let socket = UdpSocket::bind(address).expect("bind UDP echo server");
            socket
                .set_read_timeout(Some(Duration::from_millis(50)))
                .expect("read timeout");
            ready_tx.send(()).expect("signal ready");
            let mut buffer = [0u8; 1500];
            while !thread_stop.load(Ordering::SeqCst) {
                if let Ok((length, peer)) = socket.recv_from(&mut buffer) {
                    let _ = socket.send_to(&buffer[..length], peer);
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("UDP echo server ready");
        UdpEchoServer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for UdpEchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Builds a ClusterIP Service `default/NAME` with one TCP port named `http`.
pub fn service(name: &str, cluster_ip: &str, port: i32, target_port: i32) -> Service {
    Service {
        metadata: ObjectMeta {
            namespace: Some("default".to_string()),
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            cluster_ip: Some(cluster_ip.to_string()),
            cluster_ips: Some(vec![cluster_ip.to_string()]),
            ports: Some(vec![ServicePort {
                name: Some("http".to_string()),
                port,
                protocol: Some("TCP".to_string()),
                target_port: Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(target_port),
                ),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// Builds an EndpointSlice `default/SERVICE-abc` with ready endpoints on `node2`.
pub fn slice(service: &str, ips: &[&str], port: i32) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            namespace: Some("default".to_string()),
            name: Some(format!("{service}-abc")),
            labels: Some(
                [(
                    "kubernetes.io/service-name".to_string(),
                    service.to_string(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        address_type: "IPv4".to_string(),
        endpoints: ips
            .iter()
            .map(|ip| Endpoint {
                addresses: vec![ip.to_string()],
                conditions: Some(EndpointConditions {
                    ready: Some(true),
                    serving: Some(true),
                    terminating: Some(false),
                }),
                node_name: Some("node2".to_string()),
                ..Endpoint::default()
            })
            .collect(),
        ports: Some(vec![EndpointPort {
            name: Some("http".to_string()),
            port: Some(port),
            protocol: Some("TCP".to_string()),
            app_protocol: None,
        }]),
    }
}
