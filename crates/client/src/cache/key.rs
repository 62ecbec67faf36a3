//! Object keys: the `namespace/name` strings every store and queue files objects under.
//!
//! [`meta_namespace_key`] builds a key from an [`Object`]; [`split_meta_namespace_key`]
//! takes one apart. [`DeletedFinalStateUnknown`] is the tombstone a relist leaves for an
//! object whose deletion was missed, and [`ObjectOrTombstone`] carries either form
//! through the DeltaFIFO and into [`Store::delete`](super::Store::delete).

use std::sync::Arc;

use super::CacheError;

/// An API object reduced to the metadata the cache builds keys from.
///
/// `serde_json::Value` implements it, and so does `Arc<K>` for every
/// [`KubeObject`](crate::api::KubeObject), which is what informers cache.
pub trait Object: Clone + Send + Sync + 'static {
    /// Returns `metadata.namespace`, or `None` for a cluster-scoped object.
    fn namespace(&self) -> Option<&str>;

    /// Returns `metadata.name`.
    fn name(&self) -> &str;

    /// Returns `metadata.resourceVersion`, or `""` if it is unset.
    fn resource_version(&self) -> &str;
}

impl Object for serde_json::Value {
    fn namespace(&self) -> Option<&str> {
        self.pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str)
    }

    fn name(&self) -> &str {
        self.pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }

    fn resource_version(&self) -> &str {
        self.pointer("/metadata/resourceVersion")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }
}

/// A function computing the key an object is stored under. The error string explains
/// why the object has no key, and callers wrap it in [`CacheError::Key`].
pub type KeyFunc<T> = Arc<dyn Fn(&T) -> Result<String, String> + Send + Sync>;

/// Returns `namespace/name` for a namespaced object and `name` for a cluster-scoped
/// one. An empty namespace counts as cluster-scoped, as upstream's
/// `MetaNamespaceKeyFunc` treats it.
pub fn meta_namespace_key<T: Object>(obj: &T) -> String {
    match obj.namespace() {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{}", obj.name()),
        _ => obj.name().to_string(),
    }
}

/// Returns [`meta_namespace_key`] as a [`KeyFunc`], the default key function of the
/// indexer and the DeltaFIFO.
pub fn meta_namespace_key_func<T: Object>() -> KeyFunc<T> {
    Arc::new(|obj: &T| Ok(meta_namespace_key(obj)))
}

/// Splits a key from [`meta_namespace_key`] into `(namespace, name)`; the namespace is
/// `""` for a key without a slash.
///
/// # Errors
///
/// [`CacheError::InvalidKey`] when the key has more than one `/`.
pub fn split_meta_namespace_key(key: &str) -> Result<(&str, &str), CacheError> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, None) => Ok(("", name)),
        (Some(namespace), Some(name), None) => Ok((namespace, name)),
        _ => Err(CacheError::InvalidKey {
            key: key.to_string(),
        }),
    }
}

/// The tombstone placed in a Deleted delta when a relist finds an object gone and the
/// watch never delivered its deletion. `obj` is the last state the cache knew, and it
/// may be stale or missing.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedFinalStateUnknown<T> {
    /// The key the object was stored under.
    pub key: String,
    /// The last known state of the object, if the cache still had it.
    pub obj: Option<T>,
}

/// The object a delta carries: a real object, or a tombstone for a missed deletion.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectOrTombstone<T> {
    /// A state of the object as the API server reported it.
    Object(T),
    /// A deletion observed only by its absence from a relist.
    Tombstone(DeletedFinalStateUnknown<T>),
}

impl<T> ObjectOrTombstone<T> {
    /// Returns the real object, or the last known object inside a tombstone.
    pub fn object(&self) -> Option<&T> {
        match self {
            Self::Object(obj) => Some(obj),
            Self::Tombstone(tombstone) => tombstone.obj.as_ref(),
        }
    }

    /// Returns true for the [`ObjectOrTombstone::Tombstone`] form.
    pub fn is_tombstone(&self) -> bool {
        matches!(self, Self::Tombstone(_))
    }
}

impl<T> From<T> for ObjectOrTombstone<T> {
    fn from(obj: T) -> Self {
        Self::Object(obj)
    }
}

impl<T> From<DeletedFinalStateUnknown<T>> for ObjectOrTombstone<T> {
    fn from(tombstone: DeletedFinalStateUnknown<T>) -> Self {
        Self::Tombstone(tombstone)
    }
}

/// Returns the tombstone's own key, or [`meta_namespace_key`] of a real object.
pub fn deletion_handling_meta_namespace_key<T: Object>(obj: &ObjectOrTombstone<T>) -> String {
    match obj {
        ObjectOrTombstone::Object(obj) => meta_namespace_key(obj),
        ObjectOrTombstone::Tombstone(tombstone) => tombstone.key.clone(),
    }
}

/// Applies `key_func` to a real object and returns a tombstone's own key, wrapping a
/// key function failure in [`CacheError::Key`].
pub(crate) fn key_of<T>(
    key_func: &KeyFunc<T>,
    obj: &ObjectOrTombstone<T>,
) -> Result<String, CacheError> {
    match obj {
        ObjectOrTombstone::Object(obj) => {
            key_func(obj).map_err(|reason| CacheError::Key { reason })
        }
        ObjectOrTombstone::Tombstone(tombstone) => Ok(tombstone.key.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn meta_namespace_key_cases() {
        let cases = [
            (
                "namespaced",
                json!({"metadata": {"namespace": "ns", "name": "a"}}),
                "ns/a",
            ),
            (
                "cluster scoped",
                json!({"metadata": {"name": "node-1"}}),
                "node-1",
            ),
            (
                "empty namespace",
                json!({"metadata": {"namespace": "", "name": "a"}}),
                "a",
            ),
            ("no metadata", json!({}), ""),
        ];
        for (case, obj, expected) in cases {
            assert_eq!(meta_namespace_key(&obj), expected, "case {case}");
        }
    }

    #[test]
    fn split_meta_namespace_key_cases() {
        type Expected = Result<(&'static str, &'static str), CacheError>;
        let cases: [(&str, Expected); 5] = [
            ("ns/a", Ok(("ns", "a"))),
            ("a", Ok(("", "a"))),
            ("", Ok(("", ""))),
            ("/a", Ok(("", "a"))),
            (
                "a/b/c",
                Err(CacheError::InvalidKey {
                    key: "a/b/c".to_string(),
                }),
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(split_meta_namespace_key(key), expected, "key {key:?}");
        }
    }

    #[test]
    fn split_error_message_quotes_key() {
        let err = split_meta_namespace_key("a/b/c").unwrap_err();
        assert_eq!(err.to_string(), "unexpected key format: \"a/b/c\"");
    }

    #[test]
    fn deletion_handling_key_cases() {
        let obj = json!({"metadata": {"namespace": "ns", "name": "a"}});
        let real: ObjectOrTombstone<serde_json::Value> = obj.clone().into();
        assert_eq!(deletion_handling_meta_namespace_key(&real), "ns/a");

        let tombstone: ObjectOrTombstone<serde_json::Value> = DeletedFinalStateUnknown {
            key: "other/b".to_string(),
            obj: Some(obj),
        }
        .into();
        assert_eq!(deletion_handling_meta_namespace_key(&tombstone), "other/b");
        assert!(tombstone.is_tombstone());
    }

    #[test]
    fn value_metadata_accessors() {
        let obj = json!({"metadata": {"namespace": "ns", "name": "a", "resourceVersion": "7"}});
        assert_eq!(obj.namespace(), Some("ns"));
        assert_eq!(obj.name(), "a");
        assert_eq!(obj.resource_version(), "7");
        assert_eq!(json!({}).resource_version(), "");
    }
}
