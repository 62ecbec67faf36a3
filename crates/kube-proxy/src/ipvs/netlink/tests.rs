//! Byte-exact encodings, derived by hand from the layouts of `struct nlmsghdr`,
//! `struct genlmsghdr` and `struct nlattr` and the attribute numbers of
//! `include/uapi/linux/ip_vs.h`, on a little-endian host.

#![cfg(target_endian = "little")]

use super::*;

const FAMILY: u16 = 0x1c;

fn web() -> VirtualServer {
    VirtualServer {
        address: "10.96.0.10".parse().unwrap(),
        protocol: Protocol::Tcp,
        port: 80,
        scheduler: "rr".to_string(),
        flags: 0,
        timeout: 0,
    }
}

fn pod() -> RealServer {
    RealServer {
        address: "10.244.1.2".parse().unwrap(),
        port: 8080,
        weight: 1,
        active_connections: 0,
        inactive_connections: 0,
    }
}

#[test]
fn get_family_request() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x20, 0, 0, 0,  0x10, 0,  0x05, 0,  1, 0, 0, 0,  0, 0, 0, 0, // nlmsghdr: len 32, GENL_ID_CTRL, REQUEST|ACK, seq 1
        3, 1, 0, 0,                                                 // CTRL_CMD_GETFAMILY, version 1
        9, 0, 2, 0,  b'I', b'P', b'V', b'S', 0,  0, 0, 0,           // CTRL_ATTR_FAMILY_NAME "IPVS\0" + padding
    ];
    assert_eq!(encode_get_family(1), expected);
}

#[test]
fn new_service_request() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x5c, 0, 0, 0,  0x1c, 0,  0x05, 0,  1, 0, 0, 0,  0, 0, 0, 0, // len 92, family 0x1c, REQUEST|ACK, seq 1
        1, 1, 0, 0,                                                  // IPVS_CMD_NEW_SERVICE, version 1
        0x48, 0, 1, 0,                                               // IPVS_CMD_ATTR_SERVICE, len 72
        6, 0, 1, 0,  2, 0, 0, 0,                                     // AF = AF_INET
        6, 0, 2, 0,  6, 0, 0, 0,                                     // PROTOCOL = TCP
        8, 0, 3, 0,  10, 96, 0, 10,                                  // ADDR = 10.96.0.10
        6, 0, 4, 0,  0, 80, 0, 0,                                    // PORT = 80, network order
        7, 0, 6, 0,  b'r', b'r', 0, 0,                               // SCHED_NAME = "rr\0"
        12, 0, 7, 0,  0, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,           // FLAGS = {flags 0, mask all}
        8, 0, 8, 0,  0, 0, 0, 0,                                     // TIMEOUT = 0
        8, 0, 9, 0,  0xff, 0xff, 0xff, 0xff,                         // NETMASK = /32
    ];
    assert_eq!(
        encode_service(FAMILY, 1, Command::NewService, &web()),
        expected
    );
}

#[test]
fn persistent_service_flags_and_timeout() {
    let server = VirtualServer {
        flags: SVC_FLAG_PERSISTENT,
        timeout: 10800,
        ..web()
    };
    let encoded = encode_service(FAMILY, 1, Command::NewService, &server);
    let flags: &[u8] = &[12, 0, 7, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
    let timeout: &[u8] = &[8, 0, 8, 0, 0x30, 0x2a, 0, 0];
    assert_eq!(&encoded[64..76], flags);
    assert_eq!(&encoded[76..84], timeout);
}

#[test]
fn delete_service_request() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x38, 0, 0, 0,  0x1c, 0,  0x05, 0,  7, 0, 0, 0,  0, 0, 0, 0, // len 56, seq 7
        3, 1, 0, 0,                                                  // IPVS_CMD_DEL_SERVICE
        0x24, 0, 1, 0,                                               // IPVS_CMD_ATTR_SERVICE, len 36
        6, 0, 1, 0,  2, 0, 0, 0,
        6, 0, 2, 0,  6, 0, 0, 0,
        8, 0, 3, 0,  10, 96, 0, 10,
        6, 0, 4, 0,  0, 80, 0, 0,
    ];
    assert_eq!(
        encode_service(FAMILY, 7, Command::DelService, &web()),
        expected
    );
}

#[test]
fn new_dest_request() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x74, 0, 0, 0,  0x1c, 0,  0x05, 0,  2, 0, 0, 0,  0, 0, 0, 0, // len 116, seq 2
        5, 1, 0, 0,                                                  // IPVS_CMD_NEW_DEST
        0x24, 0, 1, 0,                                               // service identity
        6, 0, 1, 0,  2, 0, 0, 0,
        6, 0, 2, 0,  6, 0, 0, 0,
        8, 0, 3, 0,  10, 96, 0, 10,
        6, 0, 4, 0,  0, 80, 0, 0,
        0x3c, 0, 2, 0,                                               // IPVS_CMD_ATTR_DEST, len 60
        8, 0, 1, 0,  10, 244, 1, 2,                                  // ADDR
        6, 0, 2, 0,  0x1f, 0x90, 0, 0,                               // PORT = 8080
        8, 0, 3, 0,  0, 0, 0, 0,                                     // FWD_METHOD = masquerade
        8, 0, 4, 0,  1, 0, 0, 0,                                     // WEIGHT = 1
        8, 0, 5, 0,  0, 0, 0, 0,                                     // U_THRESH
        8, 0, 6, 0,  0, 0, 0, 0,                                     // L_THRESH
        6, 0, 11, 0,  2, 0, 0, 0,                                    // ADDR_FAMILY = AF_INET
    ];
    assert_eq!(
        encode_dest(FAMILY, 2, Command::NewDest, &web(), &pod()),
        expected
    );
    let delete = encode_dest(FAMILY, 2, Command::DelDest, &web(), &pod());
    assert_eq!(delete[16], 7, "IPVS_CMD_DEL_DEST");
    assert_eq!(&delete[17..], &expected[17..]);
}

#[test]
fn list_services_request() {
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x14, 0, 0, 0,  0x1c, 0,  0x01, 0x03,  3, 0, 0, 0,  0, 0, 0, 0, // REQUEST|DUMP
        4, 1, 0, 0,                                                     // IPVS_CMD_GET_SERVICE
    ];
    assert_eq!(encode_list_services(FAMILY, 3), expected);
}

#[test]
fn decode_service_reply() {
    // A dump reply as the kernel sends it: NLM_F_MULTI, the nested flag on the
    // service attribute, and attributes this decoder ignores (STATS, 10).
    #[rustfmt::skip]
    let reply: &[u8] = &[
        0x5c, 0, 0, 0,  0x1c, 0,  0x02, 0,  3, 0, 0, 0,  0x10, 0, 0, 0,
        1, 1, 0, 0,
        0x48, 0, 0x01, 0x80,
        6, 0, 1, 0,  2, 0, 0, 0,
        6, 0, 2, 0,  17, 0, 0, 0,
        8, 0, 3, 0,  10, 96, 0, 10,
        6, 0, 4, 0,  0, 53, 0, 0,
        7, 0, 6, 0,  b's', b'h', 0, 0,
        12, 0, 7, 0,  3, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,
        8, 0, 8, 0,  0x2c, 0x01, 0, 0,
        8, 0, 10, 0,  0, 0, 0, 0,
    ];
    let replies = parse_replies(reply).unwrap();
    assert_eq!(replies.len(), 1);
    let Reply::Data {
        command,
        attrs,
        multi,
    } = &replies[0]
    else {
        panic!("expected a data reply, got {:?}", replies[0]);
    };
    assert_eq!(*command, 1);
    assert!(multi);
    let server = decode_service(attrs).expect("decodes");
    assert_eq!(
        server,
        VirtualServer {
            address: "10.96.0.10".parse().unwrap(),
            protocol: Protocol::Udp,
            port: 53,
            scheduler: "sh".to_string(),
            flags: SVC_FLAG_PERSISTENT | SVC_FLAG_HASHED,
            timeout: 300,
        }
    );
}

#[test]
fn decode_error_and_done() {
    #[rustfmt::skip]
    let buffer: &[u8] = &[
        0x24, 0, 0, 0,  2, 0,  0, 0,  1, 0, 0, 0,  0, 0, 0, 0,       // NLMSG_ERROR
        0xfe, 0xff, 0xff, 0xff,                                     // -ENOENT
        0x14, 0, 0, 0,  0x10, 0,  5, 0,  1, 0, 0, 0,  0, 0, 0, 0,    // the request that failed
        0x14, 0, 0, 0,  3, 0,  2, 0,  2, 0, 0, 0,  0, 0, 0, 0,       // NLMSG_DONE
        0, 0, 0, 0,
    ];
    let replies = parse_replies(buffer).unwrap();
    assert_eq!(replies, [Reply::Error(2), Reply::Done]);
    assert!(
        parse_replies(&[0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(),
        "length beyond buffer"
    );
}

#[test]
fn decode_family_reply() {
    #[rustfmt::skip]
    let attrs: &[u8] = &[
        9, 0, 2, 0,  b'I', b'P', b'V', b'S', 0, 0, 0, 0,
        6, 0, 1, 0,  0x1c, 0, 0, 0,
    ];
    assert_eq!(decode_family_id(attrs), Some(0x1c));
}
