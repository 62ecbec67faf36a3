//! Packers: how a store keeps objects as bytes (see
//! [`ThreadSafeStore::set_packer`](super::ThreadSafeStore::set_packer)).

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use apimachinery::labels::Labels;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::KubeObject;

/// Turns objects into bytes and back, for a store that keeps its objects packed.
pub trait Packer<T>: Send + Sync {
    /// Returns the bytes `obj` is kept as. On an error the store keeps `obj` itself.
    ///
    /// # Errors
    ///
    /// When `obj` cannot be encoded; the reason is logged.
    fn pack(&self, obj: &T) -> Result<Vec<u8>, String>;

    /// Rebuilds the object [`Packer::pack`] made `bytes` of.
    ///
    /// # Errors
    ///
    /// When `bytes` do not decode; the reason is logged and the object is skipped.
    fn unpack(&self, bytes: &[u8]) -> Result<T, String>;

    /// Returns what a packed object keeps decoded beside its bytes, so that lookups
    /// by labels or by controller skip decoding the objects they do not select.
    fn summarize(&self, _obj: &T) -> Option<ObjectSummary> {
        None
    }
}

/// The parts of an object that listers select by, kept decoded beside a packed
/// object: its labels and the uid of its controller (the owner reference with
/// `controller: true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Each label as `key NUL value NUL`; neither may contain NUL.
    labels: Box<str>,
    controller_uid: Option<Box<str>>,
}

impl ObjectSummary {
    /// Summarizes the metadata of an object.
    pub fn of(meta: &ObjectMeta) -> Self {
        let mut labels = String::new();
        for (key, value) in meta.labels.iter().flatten() {
            labels.push_str(key);
            labels.push('\0');
            labels.push_str(value);
            labels.push('\0');
        }
        let controller_uid = meta
            .owner_references
            .iter()
            .flatten()
            .find(|reference| reference.controller == Some(true))
            .map(|reference| reference.uid.as_str().into());
        Self {
            labels: labels.into_boxed_str(),
            controller_uid,
        }
    }

    /// Returns the uid of the object's controller, if it has one.
    pub fn controller_uid(&self) -> Option<&str> {
        self.controller_uid.as_deref()
    }
}

/// Selectors match a summary as they match the object's labels.
impl Labels for ObjectSummary {
    fn get(&self, key: &str) -> Option<&str> {
        let mut parts = self.labels.split('\0');
        while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
            if name == key {
                return Some(value);
            }
        }
        None
    }
}

/// The most of the first packed object's JSON a [`JsonPacker`] keeps as its
/// dictionary: enough for the metadata and spec of a typical object.
const DICTIONARY_LIMIT: usize = 16 * 1024;

/// Packs `Arc<K>` as the JSON the API server sends, without the fields `K` leaves
/// out when they are empty, compressed with LZ4. The objects of one collection
/// repeat each other's field names and most values: the pods of one ReplicaSet
/// differ in little more than names, uids and addresses. So the JSON of the first
/// object packed becomes a dictionary that every object is compressed against. A
/// pod then takes a few hundred bytes; unpacking it costs a decompression of about
/// a microsecond and a JSON decode of a few microseconds.
pub struct JsonPacker<K> {
    dictionary: OnceLock<Box<[u8]>>,
    kind: PhantomData<fn() -> K>,
}

impl<K> JsonPacker<K> {
    /// Creates the packer.
    pub fn new() -> Self {
        Self {
            dictionary: OnceLock::new(),
            kind: PhantomData,
        }
    }
}

impl<K> Default for JsonPacker<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: KubeObject> Packer<Arc<K>> for JsonPacker<K> {
    fn pack(&self, obj: &Arc<K>) -> Result<Vec<u8>, String> {
        let json = serde_json::to_vec(obj.as_ref()).map_err(|error| error.to_string())?;
        let dictionary = self
            .dictionary
            .get_or_init(|| json[..json.len().min(DICTIONARY_LIMIT)].into());
        Ok(lz4_flex::block::compress_prepend_size_with_dict(
            &json, dictionary,
        ))
    }

    fn unpack(&self, bytes: &[u8]) -> Result<Arc<K>, String> {
        let dictionary = self
            .dictionary
            .get()
            .ok_or("nothing was packed with this packer")?;
        let json = lz4_flex::block::decompress_size_prepended_with_dict(bytes, dictionary)
            .map_err(|error| error.to_string())?;
        // Objects decoded for a read are dropped soon after, like replaced ones, so
        // they count toward the next heap trim.
        super::heap_trim::record(json.len());
        serde_json::from_slice(&json)
            .map(Arc::new)
            .map_err(|error| error.to_string())
    }

    fn summarize(&self, obj: &Arc<K>) -> Option<ObjectSummary> {
        Some(ObjectSummary::of(obj.meta()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    use super::super::{Indexer, NAMESPACE_INDEX, Scope, Store};
    use super::*;

    fn pod(namespace: &str, name: &str, app: &str, controller: Option<&str>) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(namespace.to_string()),
                labels: Some([("app".to_string(), app.to_string())].into()),
                owner_references: controller.map(|uid| {
                    vec![OwnerReference {
                        api_version: "apps/v1".to_string(),
                        kind: "ReplicaSet".to_string(),
                        name: "rs".to_string(),
                        uid: uid.to_string(),
                        controller: Some(true),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "nginx".to_string(),
                    image: Some("nginx:1.27".to_string()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            status: None,
        })
    }

    /// A [`JsonPacker`] that counts the objects it decodes.
    #[derive(Default)]
    struct Counting {
        json: JsonPacker<Pod>,
        unpacked: AtomicUsize,
    }

    impl Packer<Arc<Pod>> for Counting {
        fn pack(&self, obj: &Arc<Pod>) -> Result<Vec<u8>, String> {
            self.json.pack(obj)
        }

        fn unpack(&self, bytes: &[u8]) -> Result<Arc<Pod>, String> {
            self.unpacked.fetch_add(1, Ordering::SeqCst);
            self.json.unpack(bytes)
        }

        fn summarize(&self, obj: &Arc<Pod>) -> Option<ObjectSummary> {
            self.json.summarize(obj)
        }
    }

    #[test]
    fn json_packer_round_trips_a_pod() {
        let pod = pod("default", "web-0", "web", Some("u1"));
        let packer = JsonPacker::<Pod>::new();

        assert!(
            packer.unpack(b"{}").is_err(),
            "nothing packed yet, so no dictionary"
        );
        let bytes = packer.pack(&pod).unwrap();
        assert_eq!(packer.unpack(&bytes).unwrap(), pod);
        assert!(packer.unpack(b"{\"spec\": 3}").is_err());
        assert!(packer.unpack(&bytes[..bytes.len() / 2]).is_err());

        // A sibling shares nearly all of its JSON with the dictionary.
        let sibling = self::pod("default", "web-1", "web", Some("u1"));
        let json = serde_json::to_vec(sibling.as_ref()).unwrap();
        let packed = packer.pack(&sibling).unwrap();
        assert!(
            packed.len() * 3 < json.len(),
            "{} packed bytes for {} bytes of JSON",
            packed.len(),
            json.len()
        );
        assert_eq!(packer.unpack(&packed).unwrap(), sibling);
        // Bytes that decompress to something else than the object fail to decode.
        let mut garbled = packed.clone();
        let last = garbled.len() - 1;
        garbled[last] ^= 0x55;
        assert_ne!(packer.unpack(&garbled).ok(), Some(sibling));

        let summary = packer.summarize(&pod).unwrap();
        assert_eq!(summary.controller_uid(), Some("u1"));
        assert_eq!(Labels::get(&summary, "app"), Some("web"));
        assert_eq!(Labels::get(&summary, "web"), None);
        let selector = apimachinery::labels::parse("app in (web, db), !tier").unwrap();
        assert!(selector.matches(&summary));
        let unlabeled = ObjectSummary::of(&ObjectMeta::default());
        assert_eq!(Labels::get(&unlabeled, ""), None);
        assert_eq!(unlabeled.controller_uid(), None);
    }

    #[test]
    fn filtered_reads_decode_only_what_the_summary_selects() {
        let packer = Arc::new(Counting::default());
        let indexer: Indexer<Arc<Pod>> = Indexer::with_namespace_index();
        indexer.set_packer(packer.clone());
        for (namespace, name, app, controller) in [
            ("a", "web-1", "web", Some("u1")),
            ("a", "web-2", "web", None),
            ("a", "db-1", "db", Some("u2")),
            ("b", "web-3", "web", Some("u1")),
        ] {
            indexer.add(pod(namespace, name, app, controller)).unwrap();
        }
        let name = |pods: Vec<Arc<Pod>>| {
            let mut names: Vec<String> = pods
                .iter()
                .filter_map(|pod| pod.metadata.name.clone())
                .collect();
            names.sort();
            names
        };
        let web = apimachinery::labels::parse("app=web").unwrap();

        let in_a = indexer
            .filter(
                Scope::Indexed(NAMESPACE_INDEX, "a"),
                &|summary| web.matches(summary),
                &|pod| web.matches(&pod.metadata.labels),
            )
            .unwrap();
        assert_eq!(name(in_a), vec!["web-1", "web-2"]);
        assert_eq!(packer.unpacked.swap(0, Ordering::SeqCst), 2);

        let controlled = indexer
            .filter(
                Scope::All,
                &|summary| summary.controller_uid() == Some("u1"),
                &|_| true,
            )
            .unwrap();
        assert_eq!(name(controlled), vec!["web-1", "web-3"]);
        assert_eq!(packer.unpacked.swap(0, Ordering::SeqCst), 2);

        assert_eq!(
            indexer
                .filter(Scope::Indexed("nope", "a"), &|_| true, &|_| true)
                .unwrap_err(),
            crate::cache::CacheError::IndexNotFound {
                name: "nope".to_string()
            }
        );
    }
}
