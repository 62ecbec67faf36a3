//! The etcd3 backend against a real etcd that serves TLS and requires client
//! certificates, as the etcd of a kubeadm cluster does.
//!
//! Each test writes a fresh CA and certificates with rcgen into a temporary
//! directory, starts `/usr/bin/etcd` with them through `storage::testing`, and
//! connects with the files kube-apiserver takes as `--etcd-cafile`,
//! `--etcd-certfile` and `--etcd-keyfile`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use storage::etcd3::{Etcd3Backend, Etcd3Options, Etcd3Tls};
use storage::testing::{EtcdServer, MemberTls};
use storage::{Backend, Error, EventType, WatchMessage};

/// Two unrelated CAs, `trusted` and `other`, and the certificates each signed, as
/// PEM files in one temporary directory.
struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    fn generate() -> Certificates {
        let dir = tempfile::tempdir().expect("create a temp dir");
        write_ca(dir.path(), "trusted");
        write_ca(dir.path(), "other");
        Certificates { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    fn member_tls(&self, name: &str) -> MemberTls {
        MemberTls {
            ca_file: self.path(&format!("{name}-ca.crt")),
            cert_file: self.path(&format!("{name}-server.crt")),
            key_file: self.path(&format!("{name}-server.key")),
            peer_cert_file: self.path(&format!("{name}-server.crt")),
            peer_key_file: self.path(&format!("{name}-server.key")),
        }
    }

    fn client_tls(&self, ca: &str, client: Option<&str>) -> Etcd3Tls {
        Etcd3Tls {
            ca_file: self.path(&format!("{ca}-ca.crt")),
            client: client.map(|name| {
                (
                    self.path(&format!("{name}-client.crt")),
                    self.path(&format!("{name}-client.key")),
                )
            }),
        }
    }
}

/// Writes `<name>-ca.crt`, a server and peer certificate for 127.0.0.1
/// (`<name>-server.*`) and a client certificate (`<name>-client.*`) into `dir`.
fn write_ca(dir: &Path, name: &str) {
    let ca_key = KeyPair::generate().expect("generate the CA key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name}-ca"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("self-sign the CA");
    write(dir, &format!("{name}-ca.crt"), &ca_cert.pem());
    let issuer = Issuer::new(ca, ca_key);

    // etcd uses the peer certificate as client and server, so it gets both usages.
    let mut server = CertificateParams::new(vec!["localhost".to_string()])
        .expect("server certificate parameters");
    server
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    server.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    sign(dir, &format!("{name}-server"), server, &issuer);

    let mut client = CertificateParams::default();
    client
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver-etcd-client");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    sign(dir, &format!("{name}-client"), client, &issuer);
}

fn sign(dir: &Path, stem: &str, params: CertificateParams, issuer: &Issuer<'_, KeyPair>) {
    let key = KeyPair::generate().expect("generate a key");
    let cert = params.signed_by(&key, issuer).expect("sign a certificate");
    write(dir, &format!("{stem}.crt"), &cert.pem());
    write(dir, &format!("{stem}.key"), &key.serialize_pem());
}

fn write(dir: &Path, file: &str, contents: &str) {
    std::fs::write(dir.join(file), contents).expect("write a PEM file");
}

/// Starts a TLS etcd whose certificates come from the `trusted` CA.
fn start_tls_server() -> (EtcdServer, Certificates) {
    let certificates = Certificates::generate();
    let server = EtcdServer::start_tls(certificates.member_tls("trusted")).expect("start etcd");
    (server, certificates)
}

fn options(tls: Etcd3Tls) -> Etcd3Options {
    Etcd3Options {
        dial_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(3),
        tls: Some(tls),
        ..Etcd3Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_client_certificate_works() {
    let (server, certificates) = start_tls_server();
    let endpoints = server.endpoints();
    assert!(endpoints[0].starts_with("https://"), "{endpoints:?}");
    let tls = certificates.client_tls("trusted", Some("trusted"));
    let backend = Etcd3Backend::connect(&endpoints, options(tls))
        .await
        .expect("connect over TLS");

    let mut stream = backend.watch("/registry/", 0).await.expect("watch");
    let created = backend
        .create("/registry/pods/default/a", Bytes::from_static(b"one"))
        .await
        .expect("create over TLS");
    let fetched = backend.get("/registry/pods/default/a").await.expect("get");
    assert_eq!(fetched, Some(created.clone()));

    let message = stream
        .next_timeout(Duration::from_secs(10))
        .await
        .expect("a watch event within 10s");
    match message {
        Some(Ok(WatchMessage::Event(event))) => {
            assert_eq!(event.event_type, EventType::Created);
            assert_eq!(event.kv, created);
        }
        other => panic!("expected the create event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_rejects_missing_or_foreign_credentials() {
    let (server, certificates) = start_tls_server();
    let endpoints = server.endpoints();

    // etcd runs with --client-cert-auth, so a client without a certificate, or with
    // one from another CA, is refused during the handshake.
    for (what, tls) in [
        (
            "no client certificate",
            certificates.client_tls("trusted", None),
        ),
        (
            "a client certificate from another CA",
            certificates.client_tls("trusted", Some("other")),
        ),
        (
            "a CA that did not sign the server certificate",
            certificates.client_tls("other", Some("trusted")),
        ),
    ] {
        let backend = Etcd3Backend::connect(&endpoints, options(tls))
            .await
            .expect("connect is lazy");
        let result = backend.current_revision().await;
        assert!(
            matches!(result, Err(Error::Unavailable(_) | Error::Timeout(_))),
            "{what}: expected the request to fail, got {result:?}"
        );
    }
}

#[tokio::test]
async fn tls_settings_must_match_endpoint_schemes() {
    let certificates = Certificates::generate();
    let tls = certificates.client_tls("trusted", Some("trusted"));

    let plain =
        Etcd3Backend::connect(&["http://127.0.0.1:1".to_string()], options(tls.clone())).await;
    assert!(
        matches!(&plain, Err(Error::InvalidRequest(message)) if message.contains("https://")),
        "{plain:?}"
    );

    let without_tls = Etcd3Backend::connect(
        &["https://127.0.0.1:1".to_string()],
        Etcd3Options::default(),
    )
    .await;
    assert!(
        matches!(&without_tls, Err(Error::InvalidRequest(message)) if message.contains("--etcd-cafile")),
        "{without_tls:?}"
    );

    let missing = Etcd3Tls {
        ca_file: certificates.path("missing-ca.crt"),
        ..tls
    };
    let unreadable =
        Etcd3Backend::connect(&["https://127.0.0.1:1".to_string()], options(missing)).await;
    assert!(
        matches!(&unreadable, Err(Error::InvalidRequest(message)) if message.contains("missing-ca.crt")),
        "{unreadable:?}"
    );
}
