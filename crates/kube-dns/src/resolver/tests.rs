use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use serde_json::json;

use crate::testing::{resolver, service, slice, store};

use super::{Resolution, Resolver};

fn ask(resolver: &Resolver, name: &str, record_type: RecordType) -> Resolution {
    let name = Name::from_ascii(name).expect("valid name");
    resolver.resolve(&name, record_type)
}

/// Returns the record data of `records` in presentation format, sorted.
fn data(records: &[Record]) -> Vec<String> {
    let mut data: Vec<String> = records
        .iter()
        .map(|record| record.data.to_string())
        .collect();
    data.sort();
    data
}

fn assert_negative(resolution: &Resolution, code: ResponseCode, apex: &str) {
    assert_eq!(resolution.response_code, code);
    assert!(resolution.authoritative);
    assert!(resolution.answers.is_empty(), "{:?}", resolution.answers);
    assert_eq!(
        resolution.authorities.len(),
        1,
        "one SOA in the authority section"
    );
    let soa = &resolution.authorities[0];
    assert_eq!(soa.record_type(), RecordType::SOA);
    assert_eq!(soa.name.to_ascii(), apex);
}

#[test]
fn cluster_ip_service_a_record() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(resolution.response_code, ResponseCode::NoError);
    assert!(resolution.authoritative);
    assert_eq!(data(&resolution.answers), ["10.96.0.1"]);
    assert_eq!(resolution.answers[0].ttl, 30);
    assert_eq!(
        resolution.answers[0].name.to_ascii(),
        "kubernetes.default.svc.cluster.local."
    );
    assert!(resolution.authorities.is_empty());
}

#[test]
fn names_match_case_insensitively() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "KUBERNETES.Default.SVC.Cluster.LOCAL.",
        RecordType::A,
    );
    assert_eq!(data(&resolution.answers), ["10.96.0.1"]);
    assert_eq!(
        resolution.answers[0].name.to_ascii(),
        "KUBERNETES.Default.SVC.Cluster.LOCAL.",
        "the answer keeps the question's spelling"
    );
}

#[test]
fn zone_flag_accepts_missing_trailing_dot() {
    let resolver = Resolver::new("Cluster.Local", 30, store()).unwrap();
    assert_eq!(resolver.zone(), "cluster.local");
    let resolution = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(data(&resolution.answers), ["10.96.0.1"]);
    assert!(Resolver::new(".", 30, store()).is_err());
}

#[test]
fn cluster_ip_aaaa_is_nodata_for_ipv4_service() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::AAAA,
    );
    assert_negative(&resolution, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn dual_stack_service_has_a_and_aaaa() {
    let resolver = resolver(store());
    let v4 = ask(&resolver, "dual.default.svc.cluster.local.", RecordType::A);
    assert_eq!(data(&v4.answers), ["10.96.0.20"]);
    let v6 = ask(
        &resolver,
        "dual.default.svc.cluster.local.",
        RecordType::AAAA,
    );
    assert_eq!(data(&v6.answers), ["fd00:96::20"]);
}

#[test]
fn unknown_service_is_nxdomain_with_soa() {
    let resolver = resolver(store());
    let resolution = ask(&resolver, "nope.default.svc.cluster.local.", RecordType::A);
    assert_negative(&resolution, ResponseCode::NXDomain, "cluster.local.");
    let RecordDataSoa { minimum, mname } = soa_fields(&resolution.authorities[0]);
    assert_eq!(minimum, 30, "the SOA minimum is the TTL");
    assert_eq!(mname, "ns.dns.cluster.local.");
}

struct RecordDataSoa {
    minimum: u32,
    mname: String,
}

fn soa_fields(record: &Record) -> RecordDataSoa {
    let hickory_proto::rr::RData::SOA(soa) = &record.data else {
        panic!("not an SOA: {record:?}");
    };
    RecordDataSoa {
        minimum: soa.minimum,
        mname: soa.mname.to_ascii(),
    }
}

#[test]
fn headless_service_returns_ready_endpoints() {
    let resolver = resolver(store());
    let resolution = ask(&resolver, "web.apps.svc.cluster.local.", RecordType::A);
    assert_eq!(resolution.response_code, ResponseCode::NoError);
    assert_eq!(
        data(&resolution.answers),
        ["10.244.1.5", "10.244.1.7", "10.244.2.6"],
        "not-ready 10.244.2.8 is left out and 10.244.1.5 appears once"
    );
}

#[test]
fn headless_publish_not_ready_includes_all() {
    let store = store();
    store.apply_service(&service(
        "apps",
        "web",
        json!({"clusterIP": "None", "publishNotReadyAddresses": true}),
    ));
    let resolver = resolver(store);
    let resolution = ask(&resolver, "web.apps.svc.cluster.local.", RecordType::A);
    assert_eq!(
        data(&resolution.answers),
        ["10.244.1.5", "10.244.1.7", "10.244.2.6", "10.244.2.8"]
    );
    let web2 = ask(
        &resolver,
        "web-2.web.apps.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(data(&web2.answers), ["10.244.2.8"]);
}

#[test]
fn headless_without_endpoints_is_nodata() {
    let store = store();
    store.apply_service(&service("apps", "empty", json!({"clusterIP": "None"})));
    let resolver = resolver(store);
    let resolution = ask(&resolver, "empty.apps.svc.cluster.local.", RecordType::A);
    assert_negative(&resolution, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn headless_ipv6_endpoint_aaaa() {
    let resolver = resolver(store());
    let v6 = ask(&resolver, "v6.apps.svc.cluster.local.", RecordType::AAAA);
    assert_eq!(data(&v6.answers), ["fd00:244::5"]);
    let v4 = ask(&resolver, "v6.apps.svc.cluster.local.", RecordType::A);
    assert_negative(&v4, ResponseCode::NoError, "cluster.local.");
    let host = ask(
        &resolver,
        "fd00-244--5.v6.apps.svc.cluster.local.",
        RecordType::AAAA,
    );
    assert_eq!(data(&host.answers), ["fd00:244::5"]);
}

#[test]
fn endpoint_hostname_records() {
    let resolver = resolver(store());
    let web0 = ask(
        &resolver,
        "web-0.web.apps.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(data(&web0.answers), ["10.244.1.5"]);
    let dashed = ask(
        &resolver,
        "10-244-1-7.web.apps.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(
        data(&dashed.answers),
        ["10.244.1.7"],
        "an endpoint without hostname is named by its dashed address"
    );
    let not_ready = ask(
        &resolver,
        "web-2.web.apps.svc.cluster.local.",
        RecordType::A,
    );
    assert_negative(&not_ready, ResponseCode::NXDomain, "cluster.local.");
    let unknown = ask(
        &resolver,
        "web-9.web.apps.svc.cluster.local.",
        RecordType::A,
    );
    assert_negative(&unknown, ResponseCode::NXDomain, "cluster.local.");
    let aaaa = ask(
        &resolver,
        "web-0.web.apps.svc.cluster.local.",
        RecordType::AAAA,
    );
    assert_negative(&aaaa, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn cluster_ip_service_has_no_endpoint_names() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "x.kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_negative(&resolution, ResponseCode::NXDomain, "cluster.local.");
}

#[test]
fn cluster_ip_srv_record() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "_https._tcp.kubernetes.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(resolution.response_code, ResponseCode::NoError);
    assert_eq!(
        data(&resolution.answers),
        ["0 100 443 kubernetes.default.svc.cluster.local."]
    );
    assert_eq!(data(&resolution.additionals), ["10.96.0.1"]);
    assert_eq!(
        resolution.additionals[0].name.to_ascii(),
        "kubernetes.default.svc.cluster.local."
    );

    let udp = ask(
        &resolver,
        "_dns._udp.dual.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        data(&udp.answers),
        ["0 100 53 dual.default.svc.cluster.local."]
    );
    assert_eq!(data(&udp.additionals), ["10.96.0.20", "fd00:96::20"]);
}

#[test]
fn headless_srv_has_one_record_per_endpoint() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "_http._tcp.web.apps.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        data(&resolution.answers),
        [
            "0 33 8080 10-244-1-7.web.apps.svc.cluster.local.",
            "0 33 8080 web-0.web.apps.svc.cluster.local.",
            "0 33 8080 web-1.web.apps.svc.cluster.local.",
        ]
    );
    assert_eq!(
        data(&resolution.additionals),
        ["10.244.1.5", "10.244.1.7", "10.244.2.6"]
    );
}

#[test]
fn srv_negative_answers() {
    let resolver = resolver(store());
    let wrong_protocol = ask(
        &resolver,
        "_https._udp.kubernetes.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_negative(&wrong_protocol, ResponseCode::NXDomain, "cluster.local.");
    let unknown_port = ask(
        &resolver,
        "_ftp._tcp.kubernetes.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_negative(&unknown_port, ResponseCode::NXDomain, "cluster.local.");
    let unnamed = ask(
        &resolver,
        "_tcp.unnamed.apps.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_negative(&unnamed, ResponseCode::NXDomain, "cluster.local.");
    let a_at_srv_name = ask(
        &resolver,
        "_https._tcp.kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_negative(&a_at_srv_name, ResponseCode::NoError, "cluster.local.");
    let protocol_node = ask(
        &resolver,
        "_tcp.kubernetes.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_negative(&protocol_node, ResponseCode::NoError, "cluster.local.");
    let srv_at_service = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_negative(&srv_at_service, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn external_name_is_cname() {
    let resolver = resolver(store());
    for record_type in [RecordType::A, RecordType::AAAA, RecordType::CNAME] {
        let resolution = ask(&resolver, "search.apps.svc.cluster.local.", record_type);
        assert_eq!(
            resolution.response_code,
            ResponseCode::NoError,
            "{record_type}"
        );
        assert_eq!(resolution.answers.len(), 1, "{record_type}");
        assert_eq!(resolution.answers[0].record_type(), RecordType::CNAME);
        assert_eq!(data(&resolution.answers), ["www.example.org."]);
    }
}

#[test]
fn dns_version_txt() {
    let resolver = resolver(store());
    let resolution = ask(&resolver, "dns-version.cluster.local.", RecordType::TXT);
    assert_eq!(data(&resolution.answers), ["1.1.0"]);
    let a = ask(&resolver, "dns-version.cluster.local.", RecordType::A);
    assert_negative(&a, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn pod_records_from_dashed_address() {
    let resolver = resolver(store());
    let resolution = ask(
        &resolver,
        "10-244-1-99.anyns.pod.cluster.local.",
        RecordType::A,
    );
    assert_eq!(data(&resolution.answers), ["10.244.1.99"]);
    let v6 = ask(
        &resolver,
        "fd00-244--9.anyns.pod.cluster.local.",
        RecordType::AAAA,
    );
    assert_eq!(data(&v6.answers), ["fd00:244::9"]);
    let wrong_family = ask(
        &resolver,
        "10-244-1-99.anyns.pod.cluster.local.",
        RecordType::AAAA,
    );
    assert_negative(&wrong_family, ResponseCode::NoError, "cluster.local.");
    for bad in [
        "10-244-1.anyns",
        "10-244-1-999.anyns",
        "web.anyns",
        "a.b.anyns",
    ] {
        let resolution = ask(
            &resolver,
            &format!("{bad}.pod.cluster.local."),
            RecordType::A,
        );
        assert_negative(&resolution, ResponseCode::NXDomain, "cluster.local.");
    }
}

#[test]
fn empty_non_terminals_are_nodata() {
    let resolver = resolver(store());
    for name in [
        "svc.cluster.local.",
        "pod.cluster.local.",
        "default.svc.cluster.local.",
        "anyns.pod.cluster.local.",
        "cluster.local.",
    ] {
        let resolution = ask(&resolver, name, RecordType::A);
        assert_negative(&resolution, ResponseCode::NoError, "cluster.local.");
    }
    let missing_namespace = ask(&resolver, "nope.svc.cluster.local.", RecordType::A);
    assert_negative(&missing_namespace, ResponseCode::NXDomain, "cluster.local.");
    let other = ask(&resolver, "other.cluster.local.", RecordType::A);
    assert_negative(&other, ResponseCode::NXDomain, "cluster.local.");
}

#[test]
fn apex_soa() {
    let resolver = resolver(store());
    let resolution = ask(&resolver, "cluster.local.", RecordType::SOA);
    assert_eq!(resolution.response_code, ResponseCode::NoError);
    assert_eq!(resolution.answers.len(), 1);
    assert_eq!(resolution.answers[0].record_type(), RecordType::SOA);
}

#[test]
fn search_path_expansion_is_nxdomain() {
    let resolver = resolver(store());
    for name in [
        "kubernetes.default.svc.cluster.local.svc.cluster.local.",
        "kubernetes.default.svc.cluster.local.cluster.local.",
        "kubernetes.default.default.svc.cluster.local.",
        "kubernetes.default.svc.default.svc.cluster.local.",
    ] {
        let resolution = ask(&resolver, name, RecordType::A);
        assert_negative(&resolution, ResponseCode::NXDomain, "cluster.local.");
    }
}

#[test]
fn names_outside_zones_are_refused() {
    let resolver = resolver(store());
    for name in ["www.example.org.", "local.", "cluster.local.example.", "."] {
        let resolution = ask(&resolver, name, RecordType::A);
        assert_eq!(resolution.response_code, ResponseCode::Refused, "{name}");
        assert!(!resolution.authoritative, "{name}");
        assert!(resolution.answers.is_empty(), "{name}");
        assert!(resolution.authorities.is_empty(), "{name}");
    }
}

#[test]
fn ptr_for_cluster_ip_and_endpoints() {
    let resolver = resolver(store());
    let service = ask(&resolver, "1.0.96.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(
        data(&service.answers),
        ["kubernetes.default.svc.cluster.local."]
    );
    let endpoint = ask(&resolver, "5.1.244.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(
        data(&endpoint.answers),
        ["web-0.web.apps.svc.cluster.local."]
    );
    let dashed = ask(&resolver, "7.1.244.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(
        data(&dashed.answers),
        ["10-244-1-7.web.apps.svc.cluster.local."]
    );

    let v6_name = "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.";
    let v6 = ask(&resolver, v6_name, RecordType::PTR);
    assert_eq!(data(&v6.answers), ["dual.default.svc.cluster.local."]);
}

#[test]
fn ptr_negative_answers() {
    let resolver = resolver(store());
    let unknown = ask(&resolver, "9.9.96.10.in-addr.arpa.", RecordType::PTR);
    assert_negative(&unknown, ResponseCode::NXDomain, "in-addr.arpa.");
    let not_ready = ask(&resolver, "8.2.244.10.in-addr.arpa.", RecordType::PTR);
    assert_negative(&not_ready, ResponseCode::NXDomain, "in-addr.arpa.");
    let wrong_type = ask(&resolver, "1.0.96.10.in-addr.arpa.", RecordType::A);
    assert_negative(&wrong_type, ResponseCode::NoError, "in-addr.arpa.");
    let partial = ask(&resolver, "96.10.in-addr.arpa.", RecordType::PTR);
    assert_negative(&partial, ResponseCode::NoError, "in-addr.arpa.");
    for bad in [
        "1.1.0.96.10.in-addr.arpa.",
        "x.0.96.10.in-addr.arpa.",
        "01.0.96.10.in-addr.arpa.",
    ] {
        let resolution = ask(&resolver, bad, RecordType::PTR);
        assert_negative(&resolution, ResponseCode::NXDomain, "in-addr.arpa.");
    }
    let v6 = ask(&resolver, "1.0.0.d.f.ip6.arpa.", RecordType::PTR);
    assert_negative(&v6, ResponseCode::NoError, "ip6.arpa.");
}

#[test]
fn deletes_remove_records() {
    let store = store();
    let resolver = resolver(store.clone());
    let serial = store.read().serial;

    store.delete_endpoint_slice(&slice("apps", "web-abc", "web", "IPv4", &[], json!([])));
    let remaining = ask(&resolver, "web.apps.svc.cluster.local.", RecordType::A);
    assert_eq!(
        data(&remaining.answers),
        ["10.244.1.5"],
        "only the second slice is left"
    );
    assert!(
        store.read().serial > serial,
        "a change raises the SOA serial"
    );

    store.delete_service(&service("default", "kubernetes", json!({})));
    store.delete_service(&service("default", "dual", json!({})));
    let gone = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_negative(&gone, ResponseCode::NXDomain, "cluster.local.");
    let namespace = ask(&resolver, "default.svc.cluster.local.", RecordType::A);
    assert_negative(&namespace, ResponseCode::NXDomain, "cluster.local.");
    let ptr = ask(&resolver, "1.0.96.10.in-addr.arpa.", RecordType::PTR);
    assert_negative(&ptr, ResponseCode::NXDomain, "in-addr.arpa.");
}

#[test]
fn service_update_replaces_cluster_ip() {
    let store = store();
    let resolver = resolver(store.clone());
    store.apply_service(&service(
        "default",
        "kubernetes",
        json!({"clusterIP": "10.96.0.2", "clusterIPs": ["10.96.0.2"]}),
    ));
    let resolution = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(data(&resolution.answers), ["10.96.0.2"]);
    let namespace = ask(&resolver, "default.svc.cluster.local.", RecordType::A);
    assert_negative(&namespace, ResponseCode::NoError, "cluster.local.");
}

#[test]
fn ttl_flag_sets_record_and_soa_ttl() {
    let resolver = Resolver::new("cluster.local.", 5, store()).unwrap();
    let answer = ask(
        &resolver,
        "kubernetes.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(answer.answers[0].ttl, 5);
    let negative = ask(&resolver, "nope.default.svc.cluster.local.", RecordType::A);
    assert_eq!(negative.authorities[0].ttl, 5);
    assert_eq!(soa_fields(&negative.authorities[0]).minimum, 5);
}
