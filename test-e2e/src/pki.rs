//! The cluster's public key infrastructure: one CA and every certificate and key the
//! components need, written as PEM files the way kubeadm lays them out.
//!
//! Enter through [`Pki::generate`]. Client certificates carry the identity the API
//! server's x509 authenticator reads: the common name is the user and each
//! organization is a group (`system:masters` for the admin, `system:nodes` for a node).
//! etcd gets a CA of its own in `etcd/`, as kubeadm sets it up: the members' server
//! and peer certificates, a health check client, and the API server's
//! `apiserver-etcd-client` certificate are signed by it.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A failure while generating or writing the cluster's certificates.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen rejected certificate parameters or failed to sign.
    #[error("failed to generate the certificate for {name}: {source}")]
    Generate {
        /// The certificate's file stem, such as `apiserver`.
        name: String,
        /// The error from rcgen.
        #[source]
        source: rcgen::Error,
    },

    /// A PEM file could not be written.
    #[error("failed to write {path}: {source}")]
    Write {
        /// The file that failed.
        path: PathBuf,
        /// The error from the file system.
        #[source]
        source: std::io::Error,
    },
}

/// The names and addresses the certificates must cover.
#[derive(Clone, Debug)]
pub struct PkiSpec {
    /// Addresses clients use to reach the API server: the host's bridge address,
    /// loopback and the first address of the service range (the `kubernetes` Service).
    pub apiserver_ips: Vec<IpAddr>,
    /// Node names with the address each node's kubelet serves on.
    pub nodes: Vec<(String, IpAddr)>,
    /// The cluster domain, `cluster.local` by default.
    pub cluster_domain: String,
    /// The common name and DNS name of the etcd server and peer certificates
    /// (kubeadm uses the node name).
    pub etcd_name: String,
    /// The addresses etcd members serve on; `localhost` is always a DNS name.
    pub etcd_ips: Vec<IpAddr>,
}

/// A certificate and its private key, as files.
#[derive(Clone, Debug)]
pub struct CertPair {
    /// The PEM certificate.
    pub cert: PathBuf,
    /// The PEM private key, mode 0600.
    pub key: PathBuf,
}

/// The files [`Pki::generate`] wrote.
#[derive(Clone, Debug)]
pub struct Pki {
    /// The directory that contains every file.
    pub dir: PathBuf,
    /// The cluster CA; every other certificate is signed by it.
    pub ca: CertPair,
    /// The API server's serving certificate.
    pub apiserver: CertPair,
    /// The API server's client certificate for kubelets (`kube-apiserver-kubelet-client`).
    pub apiserver_kubelet_client: CertPair,
    /// The cluster administrator: user `kubernetes-admin` in group `system:masters`.
    pub admin: CertPair,
    /// The controller manager's client certificate (`system:kube-controller-manager`).
    pub controller_manager: CertPair,
    /// The scheduler's client certificate (`system:kube-scheduler`).
    pub scheduler: CertPair,
    /// kube-proxy's client certificate (`system:kube-proxy`).
    pub kube_proxy: CertPair,
    /// Per node: the kubelet's client certificate (`system:node:<name>` in
    /// `system:nodes`) and its serving certificate.
    pub nodes: Vec<NodePki>,
    /// The service account signing key (`sa.key`) and its public key (`sa.pub`).
    pub service_account: CertPair,
    /// The API server's client certificate for etcd (`kube-apiserver-etcd-client`),
    /// signed by the etcd CA.
    pub apiserver_etcd_client: CertPair,
    /// The etcd CA and the members' certificates, in the `etcd/` subdirectory.
    pub etcd: EtcdPki,
}

/// The etcd certificates, with kubeadm's file names under `etcd/`.
#[derive(Clone, Debug)]
pub struct EtcdPki {
    /// The directory that contains them.
    pub dir: PathBuf,
    /// The etcd CA (`etcd-ca`); it verifies clients, peers and servers.
    pub ca: CertPair,
    /// The members' serving certificate for clients.
    pub server: CertPair,
    /// The members' certificate for peer traffic, valid as server and as client.
    pub peer: CertPair,
    /// A client certificate for probes and etcdctl (`kube-etcd-healthcheck-client`).
    pub healthcheck_client: CertPair,
}

/// A node's kubelet certificates.
#[derive(Clone, Debug)]
pub struct NodePki {
    /// The node name.
    pub name: String,
    /// The kubelet's client certificate.
    pub client: CertPair,
    /// The kubelet's serving certificate for port 10250.
    pub serving: CertPair,
}

impl Pki {
    /// Generates a fresh CA and every certificate in `dir`, replacing what is there.
    pub fn generate(dir: &Path, spec: &PkiSpec) -> Result<Pki, PkiError> {
        fs::create_dir_all(dir).map_err(|source| PkiError::Write {
            path: dir.to_path_buf(),
            source,
        })?;

        let (ca, issuer) = write_ca(dir, "kubernetes")?;
        let signer = Signer {
            dir,
            issuer: &issuer,
        };

        let mut apiserver_names = vec![
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
            format!("kubernetes.default.svc.{}", spec.cluster_domain),
            "localhost".to_string(),
        ];
        apiserver_names.dedup();
        let apiserver = signer.server(
            "apiserver",
            "kube-apiserver",
            &apiserver_names,
            &spec.apiserver_ips,
        )?;
        let apiserver_kubelet_client = signer.client(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            &["system:masters"],
        )?;
        let admin = signer.client("admin", "kubernetes-admin", &["system:masters"])?;
        let controller_manager =
            signer.client("controller-manager", "system:kube-controller-manager", &[])?;
        let scheduler = signer.client("scheduler", "system:kube-scheduler", &[])?;
        let kube_proxy =
            signer.client("kube-proxy", "system:kube-proxy", &["system:node-proxier"])?;

        let mut nodes = Vec::with_capacity(spec.nodes.len());
        for (name, ip) in &spec.nodes {
            let client = signer.client(
                &format!("kubelet-{name}-client"),
                &format!("system:node:{name}"),
                &["system:nodes"],
            )?;
            let serving = signer.server(
                &format!("kubelet-{name}"),
                name,
                &[name.clone(), "localhost".to_string()],
                &[*ip, IpAddr::from([127, 0, 0, 1])],
            )?;
            nodes.push(NodePki {
                name: name.clone(),
                client,
                serving,
            });
        }

        let service_account_key =
            KeyPair::generate().map_err(|source| generate_error("sa", source))?;
        let service_account = CertPair {
            cert: write_file(
                dir,
                "sa.pub",
                service_account_key.public_key_pem().as_bytes(),
                0o644,
            )?,
            key: write_file(
                dir,
                "sa.key",
                service_account_key.serialize_pem().as_bytes(),
                0o600,
            )?,
        };

        let etcd_dir = dir.join("etcd");
        fs::create_dir_all(&etcd_dir).map_err(|source| PkiError::Write {
            path: etcd_dir.clone(),
            source,
        })?;
        let (etcd_ca, etcd_issuer) = write_ca(&etcd_dir, "etcd-ca")?;
        let etcd_signer = Signer {
            dir: &etcd_dir,
            issuer: &etcd_issuer,
        };
        let etcd_names = [spec.etcd_name.clone(), "localhost".to_string()];
        let etcd = EtcdPki {
            server: etcd_signer.etcd_member(
                "server",
                &spec.etcd_name,
                &etcd_names,
                &spec.etcd_ips,
            )?,
            peer: etcd_signer.etcd_member("peer", &spec.etcd_name, &etcd_names, &spec.etcd_ips)?,
            healthcheck_client: etcd_signer.client(
                "healthcheck-client",
                "kube-etcd-healthcheck-client",
                &[],
            )?,
            ca: etcd_ca,
            dir: etcd_dir,
        };
        // kubeadm keeps this one beside the API server's other certificates.
        let apiserver_etcd_client = Signer {
            dir,
            issuer: &etcd_issuer,
        }
        .client("apiserver-etcd-client", "kube-apiserver-etcd-client", &[])?;

        Ok(Pki {
            dir: dir.to_path_buf(),
            ca,
            apiserver,
            apiserver_kubelet_client,
            admin,
            controller_manager,
            scheduler,
            kube_proxy,
            nodes,
            service_account,
            apiserver_etcd_client,
            etcd,
        })
    }

    /// Returns the certificates of the node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodePki> {
        self.nodes.iter().find(|node| node.name == name)
    }
}

struct Signer<'a> {
    dir: &'a Path,
    issuer: &'a Issuer<'static, KeyPair>,
}

impl Signer<'_> {
    fn server(
        &self,
        stem: &str,
        common_name: &str,
        dns_names: &[String],
        ips: &[IpAddr],
    ) -> Result<CertPair, PkiError> {
        let params = server_params(stem, common_name, dns_names, ips)?;
        self.sign(stem, params)
    }

    /// Signs a certificate that an etcd member presents both as server and, to its
    /// peers, as client.
    fn etcd_member(
        &self,
        stem: &str,
        common_name: &str,
        dns_names: &[String],
        ips: &[IpAddr],
    ) -> Result<CertPair, PkiError> {
        let mut params = server_params(stem, common_name, dns_names, ips)?;
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
        self.sign(stem, params)
    }

    fn client(&self, stem: &str, user: &str, groups: &[&str]) -> Result<CertPair, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *group);
        }
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(stem, params)
    }

    fn sign(&self, stem: &str, params: CertificateParams) -> Result<CertPair, PkiError> {
        let key = KeyPair::generate().map_err(|source| generate_error(stem, source))?;
        let cert = params
            .signed_by(&key, self.issuer)
            .map_err(|source| generate_error(stem, source))?;
        write_pair(self.dir, stem, &cert.pem(), &key.serialize_pem())
    }
}

/// Generates a self-signed CA called `common_name` and writes it as `ca.crt` and
/// `ca.key` in `dir`.
fn write_ca(
    dir: &Path,
    common_name: &str,
) -> Result<(CertPair, Issuer<'static, KeyPair>), PkiError> {
    let key = KeyPair::generate().map_err(|source| generate_error(common_name, source))?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params
        .self_signed(&key)
        .map_err(|source| generate_error(common_name, source))?;
    let pair = write_pair(dir, "ca", &cert.pem(), &key.serialize_pem())?;
    Ok((pair, Issuer::new(params, key)))
}

fn server_params(
    stem: &str,
    common_name: &str,
    dns_names: &[String],
    ips: &[IpAddr],
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(dns_names.to_vec())
        .map_err(|source| generate_error(stem, source))?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let mut ips = ips.to_vec();
    ips.sort();
    ips.dedup();
    params
        .subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn generate_error(name: &str, source: rcgen::Error) -> PkiError {
    PkiError::Generate {
        name: name.to_string(),
        source,
    }
}

fn write_pair(dir: &Path, stem: &str, cert: &str, key: &str) -> Result<CertPair, PkiError> {
    Ok(CertPair {
        cert: write_file(dir, &format!("{stem}.crt"), cert.as_bytes(), 0o644)?,
        key: write_file(dir, &format!("{stem}.key"), key.as_bytes(), 0o600)?,
    })
}

fn write_file(dir: &Path, name: &str, contents: &[u8], mode: u32) -> Result<PathBuf, PkiError> {
    let path = dir.join(name);
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&path)?;
        file.write_all(contents)
    };
    write().map_err(|source| PkiError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
