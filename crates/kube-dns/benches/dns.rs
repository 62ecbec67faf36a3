//! UDP query throughput of the in-process DNS server on 127.0.0.1: a store with S
//! ClusterIP Services and S/10 headless Services of 10 endpoints each, and C client
//! tasks that each keep W queries in flight. The query mix repeats A of a ClusterIP
//! Service, A of a headless Service, SRV of a headless port, a search-path NXDOMAIN
//! and a PTR. Prints queries per second and the number of lost queries.
//!
//! Run: `cargo bench -p kube-dns --bench dns -- [services] [clients] [queries per client]`
//! (defaults 1000 services, 4 clients, 50000 queries each; window 8).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube_dns::resolver::Resolver;
use kube_dns::server::DnsServer;
use kube_dns::store::ClusterStore;
use serde_json::json;
use tokio::net::UdpSocket;
use tokio::sync::watch;

const WINDOW: usize = 8;

fn argument(index: usize, default: usize) -> usize {
    std::env::args()
        .filter(|argument| !argument.starts_with('-'))
        .nth(index)
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn fill_store(services: usize) -> Arc<ClusterStore> {
    let store = Arc::new(ClusterStore::new());
    for i in 0..services {
        let service: Service = serde_json::from_value(json!({
            "metadata": {"namespace": format!("ns{}", i % 20), "name": format!("svc{i}")},
            "spec": {"clusterIP": format!("10.96.{}.{}", 1 + i / 250, 1 + i % 250),
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
        }))
        .expect("valid Service");
        store.apply_service(&service);
    }
    for i in 0..services.div_ceil(10) {
        let namespace = format!("ns{}", i % 20);
        let name = format!("headless{i}");
        let service: Service = serde_json::from_value(json!({
            "metadata": {"namespace": namespace, "name": name},
            "spec": {"clusterIP": "None"},
        }))
        .expect("valid Service");
        store.apply_service(&service);
        let endpoints: Vec<_> = (0..10)
            .map(|j| {
                json!({"addresses": [format!("10.244.{}.{}", i % 250, 1 + j)],
                       "hostname": format!("{name}-{j}"), "conditions": {"ready": true}})
            })
            .collect();
        let slice: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"namespace": namespace, "name": format!("{name}-abc"),
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }))
        .expect("valid EndpointSlice");
        store.apply_endpoint_slice(&slice);
    }
    store
}

fn query_mix() -> Vec<(Name, RecordType)> {
    [
        ("svc7.ns7.svc.cluster.local.", RecordType::A),
        ("headless3.ns3.svc.cluster.local.", RecordType::A),
        (
            "_http._tcp.headless3.ns3.svc.cluster.local.",
            RecordType::SRV,
        ),
        (
            "svc7.ns7.svc.cluster.local.ns7.svc.cluster.local.",
            RecordType::A,
        ),
        ("8.1.96.10.in-addr.arpa.", RecordType::PTR),
    ]
    .into_iter()
    .map(|(name, record_type)| (Name::from_ascii(name).unwrap(), record_type))
    .collect()
}

/// Sends `queries` queries, `WINDOW` at a time, and returns how many got no answer
/// within 1 s.
async fn run_client(server: SocketAddr, queries: usize) -> usize {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind client");
    socket.connect(server).await.expect("connect client");
    let requests: Vec<Vec<u8>> = query_mix()
        .into_iter()
        .map(|(name, record_type)| {
            let mut message = Message::query();
            message.add_query(Query::query(name, record_type));
            message.to_vec().unwrap()
        })
        .collect();
    let mut buffer = vec![0u8; 4096];
    let mut lost = 0;
    let mut sent = 0;
    while sent < queries {
        let batch = WINDOW.min(queries - sent);
        for i in 0..batch {
            let mut request = requests[(sent + i) % requests.len()].clone();
            request[..2].copy_from_slice(&((sent + i) as u16).to_be_bytes());
            socket.send(&request).await.expect("send query");
        }
        for _ in 0..batch {
            match tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buffer)).await {
                Ok(Ok(length)) => assert!(length >= 12, "short response"),
                _ => lost += 1,
            }
        }
        sent += batch;
    }
    lost
}

fn main() {
    let services = argument(1, 1000);
    let clients = argument(2, 4);
    let per_client = argument(3, 50_000);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the runtime");
    runtime.block_on(async {
        let store = fill_store(services);
        let resolver = Resolver::new("cluster.local.", 30, store).expect("valid zone");
        let server = DnsServer::bind("127.0.0.1:0".parse().unwrap(), Arc::new(resolver))
            .await
            .expect("bind the server");
        let address = server.local_addr().unwrap();
        let (stop, cancel) = watch::channel(false);
        let serving = tokio::spawn(server.serve(cancel));

        // Warm-up: one round of every query.
        run_client(address, 100).await;

        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| tokio::spawn(run_client(address, per_client)))
            .collect();
        let mut lost = 0;
        for task in tasks {
            lost += task.await.expect("client task");
        }
        let elapsed = started.elapsed();
        let total = clients * per_client;
        println!(
            "kube-dns UDP: {services} ClusterIP + {} headless services, {clients} clients x \
             {per_client} queries (window {WINDOW}): {:.0} queries/s over {:.2} s, {lost} lost",
            services.div_ceil(10),
            (total - lost) as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
        );

        let _ = stop.send(true);
        let _ = serving.await;
    });
}
