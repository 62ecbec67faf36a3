//! The serving certificate: loaded from `--tls-cert-file`/`--tls-private-key-file`,
//! or, as upstream does without them, a self-signed one kept in `--cert-dir` as
//! `apiserver.crt` and `apiserver.key` and reused on the next start.

use std::fs;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no certificate found in {0}")]
    NoCertificate(PathBuf),
    #[error("no private key found in {0}")]
    NoPrivateKey(PathBuf),
    #[error("failed to generate the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("--tls-cert-file and --tls-private-key-file must be given together")]
    Incomplete,
}

/// Paths of the certificate and key actually served.
#[derive(Clone, Debug)]
pub struct ServingCertificate {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// Returns the files to serve: the given pair, or the self-signed pair in `cert_dir`,
/// generated when missing. `alternate_ips` and `alternate_names` go into a generated
/// certificate's subject alternative names beside localhost and 127.0.0.1.
pub fn serving_certificate(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    cert_dir: &Path,
    alternate_ips: &[IpAddr],
    alternate_names: &[String],
) -> Result<ServingCertificate, CertError> {
    match (cert_file, key_file) {
        (Some(cert), Some(key)) => {
            return Ok(ServingCertificate {
                cert_file: cert.to_path_buf(),
                key_file: key.to_path_buf(),
            });
        }
        (None, None) => {}
        _ => return Err(CertError::Incomplete),
    }

    let cert_file = cert_dir.join("apiserver.crt");
    let key_file = cert_dir.join("apiserver.key");
    if cert_file.exists() && key_file.exists() {
        tracing::info!(cert = %cert_file.display(), "using the existing self-signed serving certificate");
        return Ok(ServingCertificate {
            cert_file,
            key_file,
        });
    }

    let (cert_pem, key_pem) = generate_self_signed(alternate_ips, alternate_names)?;
    fs::create_dir_all(cert_dir).map_err(|source| CertError::Write {
        path: cert_dir.to_path_buf(),
        source,
    })?;
    write_private(&key_file, key_pem.as_bytes())?;
    fs::write(&cert_file, cert_pem.as_bytes()).map_err(|source| CertError::Write {
        path: cert_file.clone(),
        source,
    })?;
    tracing::info!(cert = %cert_file.display(), "generated a self-signed serving certificate");
    Ok(ServingCertificate {
        cert_file,
        key_file,
    })
}

/// Generates a CA and a serving certificate it signs. Returns the PEM of the serving
/// certificate followed by the CA certificate, and the serving key's PEM.
fn generate_self_signed(
    alternate_ips: &[IpAddr],
    alternate_names: &[String],
) -> Result<(String, String), CertError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("localhost-ca@{now}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let mut names = vec!["localhost".to_string()];
    names.extend(alternate_names.iter().cloned());
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("localhost@{now}"));
    let mut ips = vec![IpAddr::from([127, 0, 0, 1])];
    ips.extend(alternate_ips.iter().copied());
    ips.dedup();
    for ip in ips {
        params.subject_alt_names.push(SanType::IpAddress(ip));
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer)?;

    Ok((
        format!("{}{}", cert.pem(), ca_cert.pem()),
        key.serialize_pem(),
    ))
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), CertError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| CertError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(contents).map_err(|source| CertError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Builds the rustls server configuration for the certificate, offering HTTP/2 and
/// HTTP/1.1 through ALPN.
pub fn server_config(certificate: &ServingCertificate) -> Result<Arc<ServerConfig>, CertError> {
    let chain = load_certificates(&certificate.cert_file)?;
    let key = load_private_key(&certificate.key_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let file = fs::File::open(path).map_err(|source| CertError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certificates: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<_, _>>()
        .map_err(|source| CertError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(CertError::NoCertificate(path.to_path_buf()));
    }
    Ok(certificates)
}

fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, CertError> {
    let file = fs::File::open(path).map_err(|source| CertError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|source| CertError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| CertError::NoPrivateKey(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pair_is_generated_once_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let first =
            serving_certificate(None, None, dir.path(), &[], &["kubernetes".into()]).unwrap();
        let pem = fs::read_to_string(&first.cert_file).unwrap();
        assert_eq!(
            pem.matches("BEGIN CERTIFICATE").count(),
            2,
            "serving cert then CA"
        );

        let second = serving_certificate(None, None, dir.path(), &[], &[]).unwrap();
        assert_eq!(
            fs::read_to_string(&second.cert_file).unwrap(),
            pem,
            "reused, not regenerated"
        );

        let config = server_config(&second).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2".to_vec());
    }

    #[test]
    fn half_a_pair_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let error = serving_certificate(Some(Path::new("/tmp/a.crt")), None, dir.path(), &[], &[]);
        assert!(matches!(error, Err(CertError::Incomplete)));
    }

    #[test]
    fn missing_files_name_the_path() {
        let certificate = ServingCertificate {
            cert_file: "/nonexistent/apiserver.crt".into(),
            key_file: "/nonexistent/apiserver.key".into(),
        };
        let error = server_config(&certificate).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/apiserver.crt"),
            "{error}"
        );
    }
}
