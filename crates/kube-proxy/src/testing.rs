//! Object builders shared by unit tests.

use k8s_openapi::api::core::v1::{
    ClientIPConfig, LoadBalancerIngress, LoadBalancerStatus, Service, ServicePort, ServiceSpec,
    ServiceStatus, SessionAffinityConfig,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::endpoints::SERVICE_NAME_LABEL;

/// Builds a ClusterIP service with one port.
pub fn service(namespace: &str, name: &str, cluster_ip: &str, port: (&str, i32, &str)) -> Service {
    Service {
        metadata: ObjectMeta {
            namespace: Some(namespace.to_string()),
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            cluster_ip: Some(cluster_ip.to_string()),
            cluster_ips: Some(vec![cluster_ip.to_string()]),
            ports: Some(vec![ServicePort {
                name: Some(port.0.to_string()),
                port: port.1,
                protocol: Some(port.2.to_string()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

pub fn spec_mut(service: &mut Service) -> &mut ServiceSpec {
    service.spec.as_mut().expect("builder sets spec")
}

/// Makes the service a NodePort service on `node_port`.
pub fn with_node_port(mut service: Service, node_port: i32) -> Service {
    let spec = spec_mut(&mut service);
    spec.type_ = Some("NodePort".to_string());
    if let Some(port) = spec.ports.as_mut().and_then(|ports| ports.first_mut()) {
        port.node_port = Some(node_port);
    }
    service
}

/// Makes the service a LoadBalancer service with ingress `ip`.
pub fn with_load_balancer(mut service: Service, node_port: i32, ip: &str) -> Service {
    service = with_node_port(service, node_port);
    spec_mut(&mut service).type_ = Some("LoadBalancer".to_string());
    service.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress {
                ip: Some(ip.to_string()),
                ..LoadBalancerIngress::default()
            }]),
        }),
        conditions: None,
    });
    service
}

/// Turns on ClientIP session affinity with `timeout` seconds (`None`: the default).
pub fn with_affinity(mut service: Service, timeout: Option<i32>) -> Service {
    let spec = spec_mut(&mut service);
    spec.session_affinity = Some("ClientIP".to_string());
    spec.session_affinity_config = timeout.map(|seconds| SessionAffinityConfig {
        client_ip: Some(ClientIPConfig {
            timeout_seconds: Some(seconds),
        }),
    });
    service
}

/// Builds an IPv4 slice of `service` with one port and `(ip, ready, node)` endpoints.
pub fn slice(
    namespace: &str,
    name: &str,
    service: &str,
    port: (&str, i32, &str),
    endpoints: &[(&str, bool, &str)],
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            namespace: Some(namespace.to_string()),
            name: Some(name.to_string()),
            labels: Some([(SERVICE_NAME_LABEL.to_string(), service.to_string())].into()),
            ..ObjectMeta::default()
        },
        address_type: "IPv4".to_string(),
        endpoints: endpoints
            .iter()
            .map(|(ip, ready, node)| Endpoint {
                addresses: vec![ip.to_string()],
                conditions: Some(EndpointConditions {
                    ready: Some(*ready),
                    serving: Some(*ready),
                    terminating: Some(false),
                }),
                node_name: Some(node.to_string()),
                ..Endpoint::default()
            })
            .collect(),
        ports: Some(vec![EndpointPort {
            name: Some(port.0.to_string()),
            port: Some(port.1),
            protocol: Some(port.2.to_string()),
            app_protocol: None,
        }]),
    }
}
