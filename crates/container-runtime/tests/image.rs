//! Integration tests of the image store against a real registry. Each test starts Debian's
//! `docker-registry` on a free loopback port with its own storage directory. It pushes
//! images built here (layer tars in gzip and zstd) and pulls them as `docker.io/...`
//! through a mirror configuration. Authentication runs through an in-test proxy on loopback that
//! issues basic-auth challenges or bearer tokens. Needs root (whiteout device nodes,
//! trusted xattrs, overlay mounts) and `docker-registry` from hack/install-deps.sh.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use container_runtime::image::{Credentials, Digest, ImageError, ImageStore, RegistryConfig};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// ---------------------------------------------------------------------------------------
// Fixtures: registry process, HTTP client, auth proxy, mount guard.

/// A `docker-registry` process on 127.0.0.1 with storage in a temporary directory; killed
/// and cleaned up on drop.
struct Registry {
    child: Child,
    address: SocketAddr,
    storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    async fn start() -> Registry {
        let dir = tempfile::tempdir().expect("temporary directory");
        let storage = dir.path().join("storage");
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("docker-registry must be installed (hack/install-deps.sh)");
        let registry = Registry {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            storage,
            _dir: dir,
        };
        registry.wait_ready().await;
        registry
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((status, _, _)) =
                http_request("GET", &format!("{}/v2/", self.url()), &[], Bytes::new()).await
                && status == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Path of a blob's data file in the registry's filesystem storage.
    fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    async fn push_blob(&self, repository: &str, data: &[u8]) {
        let digest = sha256(data);
        let (status, headers, body) = http_request(
            "POST",
            &format!("{}/v2/{repository}/blobs/uploads/", self.url()),
            &[],
            Bytes::new(),
        )
        .await
        .expect("start upload");
        assert_eq!(
            status,
            202,
            "start upload: {}",
            String::from_utf8_lossy(&body)
        );

        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.url())
        };

        let separator = if location.contains('?') { '&' } else { '?' };
        let (status, _, body) = http_request(
            "PUT",
            &format!("{location}{separator}digest={digest}"),
            &[("content-type", "application/octet-stream")],
            Bytes::copy_from_slice(data),
        )
        .await
        .expect("finish upload");
        assert_eq!(
            status,
            201,
            "finish upload: {}",
            String::from_utf8_lossy(&body)
        );
    }

    async fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        data: &[u8],
    ) {
        let (status, _, body) = http_request(
            "PUT",
            &format!("{}/v2/{repository}/manifests/{reference}", self.url()),
            &[("content-type", media_type)],
            Bytes::copy_from_slice(data),
        )
        .await
        .expect("put manifest");
        assert_eq!(
            status,
            201,
            "put manifest: {}",
            String::from_utf8_lossy(&body)
        );
    }

    async fn push_image(&self, repository: &str, tag: &str, image: &BuiltImage) {
        for blob in image.blobs() {
            self.push_blob(repository, blob).await;
        }
        self.push_manifest(repository, tag, &image.manifest_media_type, &image.manifest)
            .await;
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

async fn http_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<(u16, http::HeaderMap, Bytes), String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, headers, body))
}

/// How the auth proxy challenges clients.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AuthMode {
    Basic,
    Bearer,
}

const USERNAME: &str = "puller";
const PASSWORD: &str = "s3cret";
const TOKEN: &str = "token-for-puller";

/// A loopback proxy in front of a registry that requires authentication. In bearer mode it
/// also serves the token endpoint at `/token`.
struct AuthProxy {
    address: SocketAddr,
    token_requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl AuthProxy {
    async fn start(upstream: String, mode: AuthMode) -> AuthProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let token_requests = Arc::new(AtomicUsize::new(0));
        let counter = token_requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let (upstream, counter) = (upstream.clone(), counter.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                handle_proxy(request, &upstream, address, mode, &counter).await,
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        AuthProxy {
            address,
            token_requests,
            task,
        }
    }
}

impl Drop for AuthProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn basic_value() -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{PASSWORD}"));
    format!("Basic {encoded}")
}

async fn handle_proxy(
    request: http::Request<hyper::body::Incoming>,
    upstream: &str,
    address: SocketAddr,
    mode: AuthMode,
    token_requests: &AtomicUsize,
) -> http::Response<Full<Bytes>> {
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();

    if request.uri().path() == "/token" {
        token_requests.fetch_add(1, Ordering::SeqCst);
        let query = request.uri().query().unwrap_or("");
        if authorization != basic_value()
            || !query.contains("scope=repository%3Alibrary%2Fsecret%3Apull")
        {
            return respond(401, &[], "bad credentials or scope");
        }
        return respond(
            200,
            &[("content-type", "application/json")],
            &json!({"token": TOKEN}).to_string(),
        );
    }

    let authorized = match mode {
        AuthMode::Basic => authorization == basic_value(),
        AuthMode::Bearer => authorization == format!("Bearer {TOKEN}"),
    };
    if !authorized {
        let challenge = match mode {
            AuthMode::Basic => "Basic realm=\"test registry\"".to_string(),
            AuthMode::Bearer => format!(
                "Bearer realm=\"http://{address}/token\",service=\"test-registry\",\
                 scope=\"repository:library/secret:pull\""
            ),
        };
        return respond(401, &[("www-authenticate", &challenge)], "{\"errors\":[]}");
    }

    let mut headers = vec![];
    if let Some(accept) = request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
    {
        headers.push(("accept", accept.to_string()));
    }
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match http_request(
        "GET",
        &format!("{upstream}{path_and_query}"),
        &header_refs,
        Bytes::new(),
    )
    .await
    {
        Ok((status, upstream_headers, body)) => {
            let mut response = http::Response::builder().status(status);
            for name in ["content-type", "docker-content-digest"] {
                if let Some(value) = upstream_headers.get(name) {
                    response = response.header(name, value);
                }
            }
            response.body(Full::new(body)).expect("response")
        }
        Err(error) => respond(502, &[], &error),
    }
}

fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("response")
}

/// Detaches a mount left behind by a failing test, so the temporary directory can go.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

fn is_mounted(path: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let path = path.to_string_lossy();
    mountinfo
        .lines()
        .any(|line| line.split(' ').nth(4) == Some(path.as_ref()))
}

/// Opens a store that reaches `docker.io` only through `mirror`, never the real registry.
fn store_with_mirror(root: &Path, mirror: &str) -> ImageStore {
    store_with_mirrors(root, &[mirror])
}

/// Opens a store whose `docker.io` mirrors are `mirrors`, in order, with no fallback to
/// the real registry.
fn store_with_mirrors(root: &Path, mirrors: &[&str]) -> ImageStore {
    let config_path = root.with_extension("toml");
    let mirrors: Vec<String> = mirrors.iter().map(|m| format!("{m:?}")).collect();
    std::fs::write(
        &config_path,
        format!(
            "[registries.\"docker.io\"]\nmirrors = [{}]\nfallback_to_upstream = false\n",
            mirrors.join(", ")
        ),
    )
    .expect("write registry config");
    let config = RegistryConfig::load(&config_path).expect("load registry config");
    ImageStore::open(root, config).expect("open store")
}

// ---------------------------------------------------------------------------------------
// Image building.

fn sha256(data: &[u8]) -> String {
    Digest::of(data).to_string()
}

enum Entry {
    Dir(&'static str, u32),
    File(&'static str, &'static [u8], u32, u64),
    Symlink(&'static str, &'static str),
    Hardlink(&'static str, &'static str),
    CharDevice(&'static str, u32, u32),
    Fifo(&'static str),
}

fn layer_tar(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::Dir(path, mode) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, &[][..])
                    .expect("dir");
            }
            Entry::File(path, content, mode, uid) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_uid(*uid);
                header.set_gid(*uid);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, path, *content)
                    .expect("file");
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .expect("symlink");
            }
            Entry::Hardlink(path, target) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_mode(0o644);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .expect("hardlink");
            }
            Entry::CharDevice(path, major, minor) => {
                header.set_entry_type(tar::EntryType::Char);
                header.set_mode(0o666);
                header.set_size(0);
                header.set_device_major(*major).expect("major");
                header.set_device_minor(*minor).expect("minor");
                builder
                    .append_data(&mut header, path, &[][..])
                    .expect("device");
            }
            Entry::Fifo(path) => {
                header.set_entry_type(tar::EntryType::Fifo);
                header.set_mode(0o620);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, &[][..])
                    .expect("fifo");
            }
        }
    }
    builder.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

fn zstd_compress(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).expect("zstd")
}

#[derive(Clone, Copy)]
enum Codec {
    Gzip,
    Zstd,
}

struct BuiltImage {
    config: Vec<u8>,
    layers: Vec<Vec<u8>>,
    manifest: Vec<u8>,
    manifest_media_type: String,
}

impl BuiltImage {
    /// Builds an image from uncompressed layer tars. `docker` selects Docker schema 2
    /// media types instead of OCI ones.
    fn new(tars: &[(Vec<u8>, Codec)], user: &str, architecture: &str, docker: bool) -> BuiltImage {
        let diff_ids: Vec<String> = tars.iter().map(|(tar, _)| sha256(tar)).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": architecture,
            "os": "linux",
            "config": {
                "User": user,
                "Env": ["PATH=/bin"],
                "Entrypoint": ["/bin/sh"],
                "Cmd": ["-c", "true"],
                "WorkingDir": "/srv",
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .expect("config json");
        let mut layers = Vec::new();
        let mut descriptors = Vec::new();
        for (tar, codec) in tars {
            let (blob, media_type) = match (codec, docker) {
                (Codec::Gzip, true) => (gzip(tar), DOCKER_LAYER_GZIP),
                (Codec::Gzip, false) => (gzip(tar), OCI_LAYER_GZIP),
                (Codec::Zstd, _) => (zstd_compress(tar), OCI_LAYER_ZSTD),
            };
            descriptors.push(
                json!({"mediaType": media_type, "digest": sha256(&blob), "size": blob.len()}),
            );
            layers.push(blob);
        }
        let (manifest_media_type, config_media_type) = if docker {
            (DOCKER_MANIFEST, DOCKER_CONFIG)
        } else {
            (OCI_MANIFEST, OCI_CONFIG)
        };
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": manifest_media_type,
            "config": {"mediaType": config_media_type, "digest": sha256(&config), "size": config.len()},
            "layers": descriptors,
        }))
        .expect("manifest json");
        BuiltImage {
            config,
            layers,
            manifest,
            manifest_media_type: manifest_media_type.to_string(),
        }
    }

    fn blobs(&self) -> impl Iterator<Item = &Vec<u8>> {
        std::iter::once(&self.config).chain(&self.layers)
    }

    fn id(&self) -> String {
        sha256(&self.config)
    }

    fn manifest_digest(&self) -> String {
        sha256(&self.manifest)
    }

    /// Writes this image as an OCI image layout at `dir`, named `name` in index.json.
    fn write_oci_layout(&self, dir: &Path, name: &str) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).expect("layout dirs");
        for blob in self.blobs().chain(std::iter::once(&self.manifest)) {
            let digest = sha256(blob);
            std::fs::write(blobs.join(&digest["sha256:".len()..]), blob).expect("layout blob");
        }
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{
                "mediaType": self.manifest_media_type,
                "digest": self.manifest_digest(),
                "size": self.manifest.len(),
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rsplit(':').next().unwrap(),
                },
            }],
        });
        std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
    }
}

fn base_layer() -> Vec<u8> {
    layer_tar(&[
        Entry::Dir("bin", 0o755),
        Entry::File("bin/sh", b"#!fake shell\n", 0o755, 0),
        Entry::Dir("etc", 0o755),
        Entry::File("etc/removed", b"gone in layer 2\n", 0o644, 0),
        Entry::File("etc/kept", b"kept\n", 0o600, 1000),
        Entry::Dir("opaque", 0o755),
        Entry::File("opaque/old", b"hidden by layer 2\n", 0o644, 0),
        Entry::Dir("gonedir", 0o755),
        Entry::File("gonedir/file", b"x\n", 0o644, 0),
        Entry::Symlink("bin/link", "sh"),
        Entry::Hardlink("bin/hard", "bin/sh"),
        Entry::File("bin/suid", b"suid\n", 0o4755, 0),
        Entry::Dir("dev", 0o755),
        Entry::CharDevice("dev/null", 1, 3),
        Entry::Fifo("dev/pipe"),
    ])
}

fn top_layer() -> Vec<u8> {
    layer_tar(&[
        Entry::Dir("etc", 0o755),
        Entry::File("etc/.wh.removed", b"", 0o644, 0),
        Entry::File(".wh.gonedir", b"", 0o644, 0),
        Entry::Dir("opaque", 0o755),
        Entry::File("opaque/.wh..wh..opq", b"", 0o644, 0),
        Entry::File("opaque/new", b"from layer 2\n", 0o644, 0),
        Entry::Dir("srv", 0o750),
    ])
}

fn two_layer_image(docker: bool) -> BuiltImage {
    BuiltImage::new(
        &[(base_layer(), Codec::Gzip), (top_layer(), Codec::Zstd)],
        "1000:1000",
        "amd64",
        docker,
    )
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_through_mirror_and_mount() {
    let registry = Registry::start().await;
    let image = two_layer_image(false);
    registry.push_image("library/x", "tag", &image).await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(&dir.path().join("store"), &registry.url());

    let (first, second) = tokio::join!(
        store.pull("docker.io/library/x:tag", None),
        store.pull("x:tag", None)
    );
    let record = first.expect("pull docker.io/library/x:tag");
    assert_eq!(second.expect("concurrent pull").id, record.id);
    assert_eq!(record.id.to_string(), image.id());
    assert_eq!(record.repo_tags, ["docker.io/library/x:tag"]);
    assert_eq!(
        record.repo_digests,
        [format!("docker.io/library/x@{}", image.manifest_digest())]
    );
    assert_eq!(record.uid, Some(1000));
    assert_eq!(record.username, "");
    assert_eq!(record.config.working_dir, "/srv");
    assert_eq!(
        record.config.entrypoint.as_deref(),
        Some(&["/bin/sh".to_string()][..])
    );
    let expected_size = image.config.len() + image.layers.iter().map(Vec::len).sum::<usize>();
    assert_eq!(record.size, expected_size as u64);
    assert_eq!(record.layers.len(), 2);

    assert_eq!(store.list().len(), 1);
    for name in [
        "x:tag",
        "docker.io/library/x:tag",
        &image.id(),
        &image.id()[7..19],
    ] {
        let found = store.status(name).unwrap();
        assert_eq!(
            found.map(|r| r.id),
            Some(record.id.clone()),
            "status({name})"
        );
    }
    let by_digest = format!("x@{}", image.manifest_digest());
    assert!(store.status(&by_digest).unwrap().is_some());
    assert!(store.status("x:other").unwrap().is_none());

    let usage = store.fs_info().await.unwrap();
    assert!(usage.used_bytes > expected_size as u64, "{usage:?}");
    assert!(usage.inodes_used > 20, "{usage:?}");

    let target = dir.path().join("rootfs");
    let _guard = MountGuard(target.clone());
    let mounted = store
        .prepare_rootfs("x:tag", "container-1", &target)
        .await
        .expect("prepare rootfs");
    assert_eq!(mounted.lowerdirs.len(), 2);
    assert!(is_mounted(&target));

    assert_eq!(
        std::fs::read(target.join("bin/sh")).unwrap(),
        b"#!fake shell\n"
    );
    assert!(
        !target.join("etc/removed").exists(),
        "whiteout hides etc/removed"
    );
    assert!(
        !target.join("gonedir").exists(),
        "whiteout hides a directory"
    );
    assert_eq!(std::fs::read(target.join("etc/kept")).unwrap(), b"kept\n");
    let kept = std::fs::metadata(target.join("etc/kept")).unwrap();
    assert_eq!(
        (kept.uid(), kept.gid(), kept.mode() & 0o7777),
        (1000, 1000, 0o600)
    );
    let mut opaque: Vec<_> = std::fs::read_dir(target.join("opaque"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    opaque.sort();
    assert_eq!(opaque, ["new"], "opaque directory shows only layer 2");
    assert_eq!(
        std::fs::read_link(target.join("bin/link")).unwrap(),
        Path::new("sh")
    );
    assert_eq!(
        std::fs::metadata(target.join("bin/hard")).unwrap().ino(),
        std::fs::metadata(target.join("bin/sh")).unwrap().ino()
    );
    assert_eq!(
        std::fs::metadata(target.join("bin/suid")).unwrap().mode() & 0o7777,
        0o4755
    );
    assert_eq!(
        std::fs::metadata(target.join("srv"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o750
    );

    let null = std::fs::metadata(target.join("dev/null")).unwrap();
    assert!(
        null.file_type().is_char_device(),
        "dev/null is a device as root"
    );
    assert_eq!(null.rdev(), rustix::fs::makedev(1, 3));
    let pipe = std::fs::metadata(target.join("dev/pipe")).unwrap();
    assert!(pipe.file_type().is_fifo());
    assert_eq!(pipe.mode() & 0o777, 0o620);

    std::fs::write(target.join("etc/written"), b"container write").unwrap();
    assert!(mounted.upperdir.join("etc/written").exists());
    let layer_dir = &mounted.lowerdirs[1];
    assert!(
        !layer_dir.join("etc/written").exists(),
        "layers stay read-only"
    );

    let again = store.prepare_rootfs("x:tag", "container-1", &target).await;
    assert!(matches!(again, Err(ImageError::Rootfs { .. })), "{again:?}");

    store.release_rootfs("container-1").await.expect("release");
    assert!(!is_mounted(&target));
    assert!(!mounted.upperdir.exists());
    store
        .release_rootfs("container-1")
        .await
        .expect("second release is a no-op");

    let reopened = store_with_mirror(&dir.path().join("store"), &registry.url());
    assert_eq!(reopened.list(), store.list(), "records survive a restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_docker_schema2() {
    let registry = Registry::start().await;
    let image = two_layer_image(true);
    registry.push_image("team/app", "v1", &image).await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(&dir.path().join("store"), &registry.url());
    let record = store.pull("team/app:v1", None).await.expect("pull");
    assert_eq!(record.repo_tags, ["docker.io/team/app:v1"]);
    assert_eq!(record.layers[0].media_type, DOCKER_LAYER_GZIP);

    let missing = store.pull("team/app:v2", None).await.unwrap_err();
    let message = missing.to_string();
    assert!(matches!(missing, ImageError::Registry { .. }), "{message}");
    assert!(message.contains("docker.io/team/app:v2"), "{message}");
    assert!(message.contains("404"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_tries_next_mirror() {
    let empty = Registry::start().await;
    let registry = Registry::start().await;
    let image = two_layer_image(false);
    registry.push_image("library/x", "tag", &image).await;
    let closed = format!("http://127.0.0.1:{}", free_port());

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirrors(
        &dir.path().join("store"),
        &[&closed, &empty.url(), &registry.url()],
    );
    let record = store
        .pull("x:tag", None)
        .await
        .expect("pull from the third mirror");
    assert_eq!(record.id.to_string(), image.id());

    // A loopback registry named in the reference is reached over plain HTTP.
    let direct = format!("{}/library/x:tag", registry.address);
    let record = store
        .pull(&direct, None)
        .await
        .expect("pull by registry address");
    assert_eq!(record.id.to_string(), image.id());
    assert!(record.repo_tags.contains(&direct), "{:?}", record.repo_tags);
    assert!(
        record
            .repo_tags
            .contains(&"docker.io/library/x:tag".to_string())
    );

    let all_failed = store_with_mirrors(&dir.path().join("other"), &[&closed, &empty.url()])
        .pull("x:tag", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(all_failed.contains(&closed), "{all_failed}");
    assert!(all_failed.contains("404"), "{all_failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_rejects_corrupted_blob() {
    let registry = Registry::start().await;
    let image = two_layer_image(false);
    registry.push_image("library/bad", "latest", &image).await;

    let layer_digest = sha256(&image.layers[1]);
    let data_path = registry.blob_data(&layer_digest);
    let mut data = std::fs::read(&data_path).expect("blob in registry storage");
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    std::fs::write(&data_path, &data).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(&dir.path().join("store"), &registry.url());
    let error = store.pull("bad", None).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::DigestMismatch { .. }),
        "{message}"
    );
    assert!(message.contains(&layer_digest), "{message}");
    assert!(
        message.contains("docker.io/library/bad:latest"),
        "{message}"
    );
    assert!(store.list().is_empty());
    let stored = dir
        .path()
        .join("store/blobs/sha256")
        .join(&layer_digest["sha256:".len()..]);
    assert!(!stored.exists(), "corrupt blob must not enter the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_with_basic_auth() {
    let registry = Registry::start().await;
    let image = two_layer_image(false);
    registry.push_image("library/secret", "1", &image).await;
    let proxy = AuthProxy::start(registry.url(), AuthMode::Basic).await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(
        &dir.path().join("store"),
        &format!("http://{}", proxy.address),
    );

    let anonymous = store.pull("secret:1", None).await.unwrap_err();
    assert!(
        matches!(anonymous, ImageError::Unauthorized { .. }),
        "{anonymous}"
    );

    let wrong = Credentials::Basic {
        username: USERNAME.to_string(),
        password: "wrong".to_string(),
    };
    let rejected = store.pull("secret:1", Some(wrong)).await.unwrap_err();
    assert!(
        matches!(rejected, ImageError::Unauthorized { .. }),
        "{rejected}"
    );

    let right = Credentials::Basic {
        username: USERNAME.to_string(),
        password: PASSWORD.to_string(),
    };
    let record = store
        .pull("secret:1", Some(right))
        .await
        .expect("pull with basic auth");
    assert_eq!(record.id.to_string(), image.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_with_bearer_token() {
    let registry = Registry::start().await;
    let image = two_layer_image(false);
    registry.push_image("library/secret", "1", &image).await;
    let proxy = AuthProxy::start(registry.url(), AuthMode::Bearer).await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(
        &dir.path().join("store"),
        &format!("http://{}", proxy.address),
    );

    let anonymous = store.pull("secret:1", None).await.unwrap_err();
    assert!(
        matches!(anonymous, ImageError::Unauthorized { .. }),
        "{anonymous}"
    );
    assert!(
        anonymous.to_string().contains("token service"),
        "{anonymous}"
    );

    let credentials = Credentials::Basic {
        username: USERNAME.to_string(),
        password: PASSWORD.to_string(),
    };
    let before = proxy.token_requests.load(Ordering::SeqCst);
    let record = store
        .pull("secret:1", Some(credentials))
        .await
        .expect("pull with bearer token");
    assert_eq!(record.id.to_string(), image.id());
    assert_eq!(
        proxy.token_requests.load(Ordering::SeqCst) - before,
        1,
        "one token serves the whole pull"
    );

    let with_token = store
        .pull(
            "secret:1",
            Some(Credentials::RegistryToken(TOKEN.to_string())),
        )
        .await
        .expect("pull with a registry token");
    assert_eq!(with_token.id, record.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_resolves_manifest_list() {
    let registry = Registry::start().await;
    let arm = BuiltImage::new(
        &[(
            layer_tar(&[Entry::File("arch", b"arm64\n", 0o644, 0)]),
            Codec::Gzip,
        )],
        "nobody",
        "arm64",
        true,
    );
    let amd = BuiltImage::new(
        &[(
            layer_tar(&[Entry::File("arch", b"amd64\n", 0o644, 0)]),
            Codec::Gzip,
        )],
        "nobody",
        "amd64",
        true,
    );
    for image in [&arm, &amd] {
        registry
            .push_image("library/multi", &image.manifest_digest(), image)
            .await;
    }
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_LIST,
        "manifests": [
            {"mediaType": DOCKER_MANIFEST, "digest": arm.manifest_digest(), "size": arm.manifest.len(),
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": DOCKER_MANIFEST, "digest": amd.manifest_digest(), "size": amd.manifest.len(),
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }))
    .unwrap();
    registry
        .push_manifest("library/multi", "latest", DOCKER_MANIFEST_LIST, &list)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_with_mirror(&dir.path().join("store"), &registry.url());
    let record = store.pull("multi", None).await.expect("pull manifest list");

    assert_eq!(record.id.to_string(), amd.id());
    assert_eq!(record.manifest_digest.to_string(), amd.manifest_digest());
    assert_eq!(
        record.repo_digests,
        [format!("docker.io/library/multi@{}", sha256(&list))]
    );
    assert_eq!(record.username, "nobody");
    assert_eq!(record.uid, None);
    let layer = dir
        .path()
        .join("store/layers/sha256")
        .join(record.layers[0].diff_id.hex());
    assert_eq!(std::fs::read(layer.join("arch")).unwrap(), b"amd64\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_oci_layout_and_docker_archive() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path().join("store"), RegistryConfig::default()).unwrap();

    let oci = two_layer_image(false);
    let layout = dir.path().join("layout");
    oci.write_oci_layout(&layout, "example.com/tools/oci:1.0");
    let records = store
        .import(&layout)
        .await
        .expect("import OCI layout directory");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id.to_string(), oci.id());
    assert_eq!(records[0].repo_tags, ["example.com/tools/oci:1.0"]);
    assert_eq!(
        records[0].repo_digests,
        [format!("example.com/tools/oci@{}", oci.manifest_digest())]
    );

    let tarball = dir.path().join("layout.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&tarball).unwrap());
    builder.append_dir_all(".", &layout).unwrap();
    builder.into_inner().unwrap();
    store.remove(&oci.id()).await.unwrap();
    let records = store
        .import(&tarball)
        .await
        .expect("import OCI layout tarball");
    assert_eq!(records[0].id.to_string(), oci.id());

    let gzipped = dir.path().join("layout.tar.gz");
    std::fs::write(&gzipped, gzip(&std::fs::read(&tarball).unwrap())).unwrap();
    store.remove(&oci.id()).await.unwrap();
    let records = store
        .import(&gzipped)
        .await
        .expect("import gzip OCI layout tarball");
    assert_eq!(records[0].repo_tags, ["example.com/tools/oci:1.0"]);

    // docker save: manifest.json, config file and uncompressed layer tars.
    let base = base_layer();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "daemon", "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&base)]},
    }))
    .unwrap();
    let config_name = format!("{}.json", &sha256(&config)["sha256:".len()..]);
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": ["saved:latest", "quay.io/team/saved:2"],
        "Layers": ["0123/layer.tar"],
    }]);
    let archive = dir.path().join("saved.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let mut append = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, data).unwrap();
    };
    append("manifest.json", manifest.to_string().as_bytes());
    append(&config_name, &config);
    append("0123/layer.tar", &base);
    builder.into_inner().unwrap();

    let records = store.import(&archive).await.expect("import docker archive");
    assert_eq!(records.len(), 1);
    let saved = &records[0];
    assert_eq!(saved.id.to_string(), sha256(&config));
    assert_eq!(
        saved.repo_tags,
        ["docker.io/library/saved:latest", "quay.io/team/saved:2"]
    );
    assert_eq!(saved.username, "daemon");
    assert_eq!(saved.layers[0].diff_id.to_string(), sha256(&base));
    assert!(store.status("saved").unwrap().is_some());

    let layer = dir
        .path()
        .join("store/layers/sha256")
        .join(saved.layers[0].diff_id.hex());
    assert_eq!(std::fs::read(layer.join("etc/kept")).unwrap(), b"kept\n");

    let bogus = dir.path().join("bogus.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&bogus).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "readme", &b"x"[..])
        .unwrap();
    builder.into_inner().unwrap();
    let error = store.import(&bogus).await.unwrap_err().to_string();
    assert!(error.contains("bogus.tar"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_keeps_shared_layers() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path().join("store"), RegistryConfig::default()).unwrap();

    let shared = base_layer();
    let first_only = layer_tar(&[Entry::File("first", b"1\n", 0o644, 0)]);
    let second_only = layer_tar(&[Entry::File("second", b"2\n", 0o644, 0)]);
    let first = BuiltImage::new(
        &[
            (shared.clone(), Codec::Gzip),
            (first_only.clone(), Codec::Gzip),
        ],
        "",
        "amd64",
        false,
    );
    let second = BuiltImage::new(
        &[
            (shared.clone(), Codec::Gzip),
            (second_only.clone(), Codec::Zstd),
        ],
        "",
        "amd64",
        false,
    );
    first.write_oci_layout(&dir.path().join("first"), "example.com/first:1");
    second.write_oci_layout(&dir.path().join("second"), "example.com/second:1");
    store.import(&dir.path().join("first")).await.unwrap();
    store.import(&dir.path().join("second")).await.unwrap();

    let layers = dir.path().join("store/layers/sha256");
    let layer = |tar: &[u8]| layers.join(&sha256(tar)["sha256:".len()..]);
    assert!(layer(&shared).exists());
    assert!(layer(&first_only).exists());
    assert!(layer(&second_only).exists());

    // A prepared container keeps its layers even after its image is removed.
    let target = dir.path().join("rootfs");
    let _guard = MountGuard(target.clone());
    store
        .prepare_rootfs("example.com/first:1", "c1", &target)
        .await
        .expect("prepare");

    assert!(store.remove("example.com/first:1").await.unwrap());
    assert!(
        !store.remove("example.com/first:1").await.unwrap(),
        "already removed"
    );
    assert!(store.status("example.com/first:1").unwrap().is_none());
    assert!(layer(&shared).exists(), "shared layer stays");
    assert!(
        layer(&first_only).exists(),
        "layer of a mounted container stays"
    );
    assert_eq!(std::fs::read(target.join("first")).unwrap(), b"1\n");

    store.release_rootfs("c1").await.unwrap();
    assert!(
        !layer(&first_only).exists(),
        "released layer of a removed image is collected"
    );
    assert!(
        layer(&shared).exists(),
        "shared layer stays while the second image exists"
    );
    store.remove(&second.id()).await.unwrap();
    assert!(store.list().is_empty());
    assert_eq!(
        std::fs::read_dir(&layers).unwrap().count(),
        0,
        "all layers collected"
    );
    let blobs = dir.path().join("store/blobs/sha256");
    assert_eq!(
        std::fs::read_dir(&blobs).unwrap().count(),
        0,
        "all blobs collected"
    );
}

#[test]
fn registry_config_rejects_unknown_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registries.json");
    std::fs::write(&path, r#"{"registries": {"docker.io": {"mirror": ["x"]}}}"#).unwrap();
    let error = RegistryConfig::load(&path).unwrap_err().to_string();
    assert!(error.contains("registries.json"), "{error}");
}

/// Builds the images of hack/images/build.sh, imports them and runs a command in the
/// mounted busybox and nginx root filesystems with chroot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_images_import_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("images");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/images/build.sh");
    let status = Command::new("bash")
        .arg(&script)
        .env("OUT", &out)
        .stdout(Stdio::null())
        .status()
        .expect("run hack/images/build.sh");
    assert!(status.success(), "hack/images/build.sh failed: {status}");

    let store = ImageStore::open(dir.path().join("store"), RegistryConfig::default()).unwrap();
    for name in ["busybox", "nginx", "pause", "python"] {
        store
            .import(&out.join(name))
            .await
            .expect("import built image");
    }
    let nginx = store.status("nginx").unwrap().expect("nginx imported");
    let busybox = store
        .status("busybox:latest")
        .unwrap()
        .expect("busybox imported");
    let pause = store
        .status("registry.k8s.io/pause:3.9")
        .unwrap()
        .expect("pause imported");
    assert_eq!(
        nginx.layers[0].diff_id, busybox.layers[0].diff_id,
        "nginx builds on busybox"
    );
    assert_eq!(
        nginx
            .config
            .exposed_ports
            .as_ref()
            .map(|ports| ports.contains_key("80/tcp")),
        Some(true)
    );
    assert_eq!(
        pause.config.entrypoint.as_deref(),
        Some(&["/pause".to_string()][..])
    );
    assert_eq!(pause.uid, Some(65535));

    let target = dir.path().join("nginx-rootfs");
    let _guard = MountGuard(target.clone());
    store
        .prepare_rootfs("nginx", "nginx-1", &target)
        .await
        .expect("prepare nginx");
    let output = Command::new("chroot")
        .arg(&target)
        .args([
            "/bin/sh",
            "-c",
            "cat /usr/share/nginx/html/index.html; echo uid=$(id -u)",
        ])
        .output()
        .expect("run chroot");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chroot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Welcome to nginx!"), "{stdout}");
    assert!(stdout.contains("uid=0"), "{stdout}");
    store.release_rootfs("nginx-1").await.unwrap();
    assert!(!is_mounted(&target));

    let target = dir.path().join("python-rootfs");
    let _guard = MountGuard(target.clone());
    store
        .prepare_rootfs("python:3.11", "python-1", &target)
        .await
        .expect("prepare python");
    let output = Command::new("chroot")
        .arg(&target)
        .args([
            "/usr/bin/python3",
            "-c",
            "import http.server, json; print(json.dumps(6 * 7))",
        ])
        .output()
        .expect("run chroot");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), "42");
    store.release_rootfs("python-1").await.unwrap();
}
