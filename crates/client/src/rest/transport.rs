//! The transport under [`super::RestClient`]: a rustls client configuration built
//! from [`TlsConfig`] and a connector that hyper-util's pooling client dials with.
//!
//! [`tls_client_config`] trusts exactly the configured certificate authorities (never
//! the system roots, as client-go does) or skips verification when `insecure` is set.
//! [`Connector`] opens TCP, then TLS for `https` URLs, and reports an ALPN-negotiated
//! `h2` so that the pool speaks HTTP/2 where the server offers it and HTTP/1.1
//! otherwise.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tower_service::Service;

use super::ClientError;
use crate::config::TlsConfig;

/// Builds the rustls configuration of a client: trusted authorities, client
/// certificate and ALPN (`h2`, then `http/1.1`), with the ring provider.
///
/// # Errors
/// [`ClientError::ReadFile`] when a CA, certificate or key file cannot be read, and
/// [`ClientError::Tls`] when the PEM data contains no certificate or key or rustls
/// rejects it.
pub fn tls_client_config(tls: &TlsConfig) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|source| ClientError::Tls {
            message: "no TLS protocol version is available".to_string(),
            source: Some(source),
        })?;

    let builder = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InsecureVerifier { provider }))
    } else {
        builder.with_root_certificates(root_store(tls)?)
    };

    let client_cert = pem_input(&tls.cert_data, tls.cert_file.as_deref())?;
    let client_key = pem_input(&tls.key_data, tls.key_file.as_deref())?;
    let mut config = match (client_cert, client_key) {
        (Some(cert), Some(key)) => {
            let chain = parse_certificates(&cert, "client certificate")?;
            let key = parse_private_key(&key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|source| ClientError::Tls {
                    message: "invalid client certificate or key".to_string(),
                    source: Some(source),
                })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(tls_error("client certificate given without a key")),
        (None, Some(_)) => return Err(tls_error("client key given without a certificate")),
    };

    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Collects the configured CA data and file into a root store. With neither, the
/// store is empty and every server certificate fails verification.
fn root_store(tls: &TlsConfig) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore::empty();
    let Some(pem) = pem_input(&tls.ca_data, tls.ca_file.as_deref())? else {
        return Ok(roots);
    };

    for certificate in parse_certificates(&pem, "certificate authority")? {
        roots.add(certificate).map_err(|source| ClientError::Tls {
            message: "invalid certificate authority".to_string(),
            source: Some(source),
        })?;
    }
    Ok(roots)
}

/// Returns inline PEM data, else the contents of the file, else `None`. Inline data
/// wins, as client-go prefers `*-data` over `*-file`.
fn pem_input(data: &Option<Vec<u8>>, file: Option<&Path>) -> Result<Option<Vec<u8>>, ClientError> {
    if let Some(data) = data {
        return Ok(Some(data.clone()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    std::fs::read(path)
        .map(Some)
        .map_err(|source| ClientError::ReadFile {
            path: path.to_path_buf(),
            source,
        })
}

fn parse_certificates(
    pem: &[u8],
    source_name: &str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certificates = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| tls_error(&format!("invalid PEM in {source_name}: {err}")))?;
    if certificates.is_empty() {
        return Err(tls_error(&format!(
            "no PEM certificate found in {source_name}"
        )));
    }
    Ok(certificates)
}

fn parse_private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, ClientError> {
    match rustls_pemfile::private_key(&mut &pem[..]) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(tls_error("no PEM private key found in client key")),
        Err(err) => Err(tls_error(&format!("invalid PEM in client key: {err}"))),
    }
}

fn tls_error(message: &str) -> ClientError {
    ClientError::Tls {
        message: message.to_string(),
        source: None,
    }
}

/// Accepts any server certificate, for `insecure-skip-tls-verify`. Handshake
/// signatures are still checked, so the peer must hold the key of the certificate
/// it presents.
#[derive(Debug)]
struct InsecureVerifier {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for InsecureVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Dials the API server for hyper-util's pooling client: TCP, then TLS for `https`
/// URLs with the configured server name override.
#[derive(Clone)]
pub struct Connector {
    http: HttpConnector,
    tls: TlsConnector,
    server_name: Option<ServerName<'static>>,
}

impl Connector {
    /// Builds a connector from a rustls configuration and the optional server name
    /// to verify instead of the URL's host (`tls-server-name`).
    ///
    /// # Errors
    /// [`ClientError::Config`] when the override is not a valid DNS name or IP address.
    pub fn new(config: ClientConfig, server_name: Option<&str>) -> Result<Self, ClientError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);

        let server_name = server_name
            .map(|name| {
                ServerName::try_from(name.to_string())
                    .map_err(|_| ClientError::Config(format!("invalid TLS server name {name:?}")))
            })
            .transpose()?;

        Ok(Self {
            http,
            tls: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let is_https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default().to_string();
        let server_name = self.server_name.clone();
        let tls = self.tls.clone();
        let connecting = self.http.call(uri);

        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            if !is_https {
                return Ok(Stream::Plain(TokioIo::new(tcp)));
            }

            // An IPv6 host arrives in brackets, which a server name must not carry.
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = match server_name {
                Some(name) => name,
                None => ServerName::try_from(host.to_string())?,
            };
            let stream = tls.connect(name, tcp).await?;
            Ok(Stream::Tls(Box::new(TokioIo::new(stream))))
        })
    }
}

/// One connection to the server, plain or TLS.
pub enum Stream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(_) => Connected::new(),
            Stream::Tls(stream) => {
                let (_, session) = stream.inner().get_ref();
                if session.alpn_protocol() == Some(b"h2") {
                    Connected::new().negotiated_h2()
                } else {
                    Connected::new()
                }
            }
        }
    }
}

impl Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}
