//! Packers: how a store keeps objects as bytes (see
//! [`ThreadSafeStore::set_packer`](super::ThreadSafeStore::set_packer)).

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

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
}

/// Packs `Arc<K>` as the JSON the API server sends, without the fields `K` leaves
/// out when they are empty. Decoding a pod back takes a few microseconds.
pub struct JsonPacker<K>(PhantomData<fn() -> K>);

impl<K> JsonPacker<K> {
    /// Creates the packer.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<K> Default for JsonPacker<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Packer<Arc<K>> for JsonPacker<K>
where
    K: Serialize + DeserializeOwned + Send + Sync,
{
    fn pack(&self, obj: &Arc<K>) -> Result<Vec<u8>, String> {
        serde_json::to_vec(obj.as_ref()).map_err(|error| error.to_string())
    }

    fn unpack(&self, bytes: &[u8]) -> Result<Arc<K>, String> {
        serde_json::from_slice(bytes)
            .map(Arc::new)
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    #[test]
    fn json_packer_round_trips_a_pod() {
        let pod = Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some("web-0".to_string()),
                namespace: Some("default".to_string()),
                labels: Some([("app".to_string(), "web".to_string())].into()),
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
        });
        let packer = JsonPacker::<Pod>::new();

        let bytes = packer.pack(&pod).unwrap();
        assert_eq!(packer.unpack(&bytes).unwrap(), pod);
        assert!(packer.unpack(b"{\"spec\": 3}").is_err());
    }
}
