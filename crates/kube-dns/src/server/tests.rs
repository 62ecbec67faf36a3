use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use serde_json::json;

use crate::testing::{resolver, service, slice, store};

use super::{Transport, handle_request};

fn query(name: &str, record_type: RecordType) -> Message {
    let mut message = Message::query();
    message.metadata.id = 0x1234;
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
    message
}

fn exchange(message: &Message, transport: Transport) -> Message {
    let resolver = resolver(store());
    let bytes =
        handle_request(&resolver, &message.to_vec().unwrap(), transport).expect("a response");
    Message::from_vec(&bytes).expect("the response parses")
}

#[test]
fn response_header_echoes_request() {
    let response = exchange(
        &query("kubernetes.default.svc.cluster.local.", RecordType::A),
        Transport::Udp,
    );
    assert_eq!(response.metadata.id, 0x1234);
    assert_eq!(response.metadata.message_type, MessageType::Response);
    assert_eq!(response.metadata.op_code, OpCode::Query);
    assert!(response.metadata.recursion_desired);
    assert!(
        !response.metadata.recursion_available,
        "the server never recurses"
    );
    assert!(response.metadata.authoritative);
    assert!(!response.metadata.truncation);
    assert_eq!(response.metadata.response_code, ResponseCode::NoError);
    assert_eq!(response.queries.len(), 1);
    assert_eq!(response.answers.len(), 1);
    assert_eq!(response.answers[0].data.to_string(), "10.96.0.1");
    assert!(
        response.edns.is_none(),
        "no EDNS in the response without EDNS in the request"
    );
}

#[test]
fn nxdomain_over_the_wire_carries_soa() {
    let response = exchange(
        &query(
            "kubernetes.default.svc.cluster.local.svc.cluster.local.",
            RecordType::A,
        ),
        Transport::Udp,
    );
    assert_eq!(response.metadata.response_code, ResponseCode::NXDomain);
    assert!(response.answers.is_empty());
    assert_eq!(response.authorities.len(), 1);
    assert_eq!(response.authorities[0].record_type(), RecordType::SOA);
}

#[test]
fn outside_names_are_refused() {
    let response = exchange(&query("example.org.", RecordType::A), Transport::Udp);
    assert_eq!(response.metadata.response_code, ResponseCode::Refused);
    assert!(response.answers.is_empty());
    assert!(response.authorities.is_empty());
}

#[test]
fn short_packets_and_responses_are_dropped() {
    let resolver = resolver(store());
    for packet in [&[][..], &[0x12][..], &[0u8; 11][..]] {
        assert_eq!(
            handle_request(&resolver, packet, Transport::Udp),
            None,
            "{packet:?}"
        );
    }
    let mut response = query("kubernetes.default.svc.cluster.local.", RecordType::A);
    response.metadata.message_type = MessageType::Response;
    assert_eq!(
        handle_request(&resolver, &response.to_vec().unwrap(), Transport::Udp),
        None,
        "a response is never answered, so two servers cannot loop"
    );
}

#[test]
fn garbage_after_header_is_formerr() {
    let resolver = resolver(store());
    // A header that announces one question, followed by a label that runs past
    // the end of the packet.
    let packet = [
        0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, b'a', b'b',
    ];
    let bytes = handle_request(&resolver, &packet, Transport::Udp).expect("a response");
    assert_eq!(bytes.len(), 12, "header only");
    let response = Message::from_vec(&bytes).unwrap();
    assert_eq!(response.metadata.id, 0xabcd);
    assert_eq!(response.metadata.message_type, MessageType::Response);
    assert_eq!(response.metadata.response_code, ResponseCode::FormErr);
    assert!(response.metadata.recursion_desired);
}

#[test]
fn random_packets_never_panic() {
    let resolver = resolver(store());
    let valid = query("_http._tcp.web.apps.svc.cluster.local.", RecordType::SRV)
        .to_vec()
        .unwrap();
    // A fixed linear congruential generator, so a failure repeats.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    for round in 0..20_000 {
        let packet: Vec<u8> = if round % 2 == 0 {
            let length = (next() % 64) as usize;
            (0..length).map(|_| next() as u8).collect()
        } else {
            // Flip a few bytes of a valid query, past the QR bit.
            let mut packet = valid.clone();
            for _ in 0..(1 + next() % 4) {
                let index = (next() as usize) % packet.len();
                packet[index] = next() as u8;
            }
            packet[2] &= 0x7f;
            packet
        };
        for transport in [Transport::Udp, Transport::Tcp] {
            if let Some(bytes) = handle_request(&resolver, &packet, transport) {
                assert!(bytes.len() >= 12, "round {round}: a response has a header");
                assert_eq!(bytes[..2], packet[..2], "round {round}: the ID is echoed");
                assert_ne!(bytes[2] & 0x80, 0, "round {round}: QR is set");
            }
        }
    }
}

#[test]
fn non_query_opcode_is_notimp() {
    let mut message = query("kubernetes.default.svc.cluster.local.", RecordType::A);
    message.metadata.op_code = OpCode::Status;
    let response = exchange(&message, Transport::Udp);
    assert_eq!(response.metadata.response_code, ResponseCode::NotImp);
    assert_eq!(response.metadata.op_code, OpCode::Status);
}

#[test]
fn question_count_other_than_one_is_formerr() {
    let mut none = query("kubernetes.default.svc.cluster.local.", RecordType::A);
    none.queries.clear();
    assert_eq!(
        exchange(&none, Transport::Udp).metadata.response_code,
        ResponseCode::FormErr
    );

    let mut two = query("kubernetes.default.svc.cluster.local.", RecordType::A);
    two.add_query(Query::query(
        Name::from_ascii("dual.default.svc.cluster.local.").unwrap(),
        RecordType::A,
    ));
    assert_eq!(
        exchange(&two, Transport::Udp).metadata.response_code,
        ResponseCode::FormErr
    );
}

#[test]
fn other_classes_and_zone_transfers_are_refused() {
    let mut chaos = Message::query();
    let mut question = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    question.set_query_class(DNSClass::CH);
    chaos.add_query(question);
    assert_eq!(
        exchange(&chaos, Transport::Udp).metadata.response_code,
        ResponseCode::Refused
    );

    let transfer = query("cluster.local.", RecordType::AXFR);
    assert_eq!(
        exchange(&transfer, Transport::Tcp).metadata.response_code,
        ResponseCode::Refused
    );
}

/// Builds a resolver whose headless Service `apps/big` has `count` ready endpoints.
fn big_resolver(count: u8) -> crate::resolver::Resolver {
    let store = store();
    store.apply_service(&service("apps", "big", json!({"clusterIP": "None"})));
    let addresses: Vec<String> = (1..=count).map(|i| format!("10.244.3.{i}")).collect();
    let endpoints: Vec<(&str, Option<&str>, Option<bool>)> = addresses
        .iter()
        .map(|address| (address.as_str(), None, Some(true)))
        .collect();
    store.apply_endpoint_slice(&slice(
        "apps",
        "big-1",
        "big",
        "IPv4",
        &endpoints,
        json!([]),
    ));
    resolver(store)
}

#[test]
fn large_udp_answer_is_truncated() {
    let resolver = big_resolver(100);
    let request = query("big.apps.svc.cluster.local.", RecordType::A)
        .to_vec()
        .unwrap();

    let udp = handle_request(&resolver, &request, Transport::Udp).unwrap();
    assert!(udp.len() <= 512, "{} bytes", udp.len());
    let udp = Message::from_vec(&udp).unwrap();
    assert!(
        udp.metadata.truncation,
        "TC tells the client to retry over TCP"
    );
    assert!(udp.answers.is_empty());
    assert_eq!(udp.queries.len(), 1);

    let tcp =
        Message::from_vec(&handle_request(&resolver, &request, Transport::Tcp).unwrap()).unwrap();
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 100);
}

#[test]
fn edns_payload_size_raises_udp_limit() {
    let resolver = big_resolver(100);
    let mut message = query("big.apps.svc.cluster.local.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    message.set_edns(edns);

    let bytes = handle_request(&resolver, &message.to_vec().unwrap(), Transport::Udp).unwrap();
    assert!(bytes.len() > 512);
    let response = Message::from_vec(&bytes).unwrap();
    assert!(!response.metadata.truncation);
    assert_eq!(response.answers.len(), 100);
    let edns = response.edns.expect("EDNS answered with EDNS");
    assert_eq!(edns.max_payload(), 1232);
}

#[test]
fn srv_additionals_dropped_before_truncating() {
    let store = store();
    store.apply_service(&service("apps", "many", json!({"clusterIP": "None"})));
    let addresses: Vec<String> = (1..=7).map(|i| format!("10.244.4.{i}")).collect();
    let endpoints: Vec<(&str, Option<&str>, Option<bool>)> = addresses
        .iter()
        .map(|address| (address.as_str(), None, Some(true)))
        .collect();
    store.apply_endpoint_slice(&slice(
        "apps",
        "many-1",
        "many",
        "IPv4",
        &endpoints,
        json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
    ));
    let resolver = resolver(store);
    let request = query("_http._tcp.many.apps.svc.cluster.local.", RecordType::SRV)
        .to_vec()
        .unwrap();

    let tcp =
        Message::from_vec(&handle_request(&resolver, &request, Transport::Tcp).unwrap()).unwrap();
    assert_eq!(
        tcp.additionals.len(),
        7,
        "TCP carries the targets' A records"
    );

    let bytes = handle_request(&resolver, &request, Transport::Udp).unwrap();
    assert!(bytes.len() <= 512, "{} bytes", bytes.len());
    let udp = Message::from_vec(&bytes).unwrap();
    assert!(!udp.metadata.truncation, "the answers alone fit");
    assert_eq!(udp.answers.len(), 7);
    assert!(
        udp.additionals.is_empty(),
        "the additional section went first"
    );
}
