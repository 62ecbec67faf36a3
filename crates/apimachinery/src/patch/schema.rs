//! Patch metadata lookup: how strategic merge patch learns, field by field, whether a
//! list is merged by key or replaced and whether a map is merged, replaced or pruned
//! with `retainKeys`.
//!
//! Entry points: the [`LookupPatchMeta`] trait that the merge code walks, and
//! [`BuiltinSchema`], its implementation over the built-in type table in
//! [`super::merge_keys`].

use std::borrow::Cow;

use super::error::PatchError;
use super::merge_keys::{self, FieldShape};

/// Strategy a strategic merge patch uses to combine a field's patch value with the live
/// value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PatchStrategy {
    /// No strategy declared: maps merge recursively, lists are replaced whole.
    #[default]
    Default,
    /// `merge`: lists are merged, by merge key for lists of objects and by value for
    /// lists of scalars.
    Merge,
    /// `replace`: the patch value replaces the whole field, maps included.
    Replace,
}

/// Patch metadata of one field: what `x-kubernetes-patch-strategy` and
/// `x-kubernetes-patch-merge-key` declare for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchMeta {
    /// Strategy without the `retainKeys` part.
    pub strategy: PatchStrategy,
    /// Whether the strategy includes `retainKeys`: patch creation then lists the keys to
    /// keep in a `$retainKeys` directive, and applying it clears every other key.
    pub retain_keys: bool,
    /// Key identifying the items of a list of objects merged by key.
    pub merge_key: Option<Cow<'static, str>>,
}

impl PatchMeta {
    /// Parses a declared `x-kubernetes-patch-strategy` value (comma-separated, as in
    /// `merge,retainKeys`) and merge key. `field` only names the field in errors.
    ///
    /// # Errors
    ///
    /// [`PatchError::UnexpectedStrategy`] for more than two strategies, or two where
    /// neither is `retainKeys`, as upstream rejects them. A single unknown strategy is
    /// kept as [`PatchStrategy::Default`], matching upstream, which ignores it.
    pub fn parse(
        field: &str,
        strategy: Option<&str>,
        merge_key: Option<Cow<'static, str>>,
    ) -> Result<Self, PatchError> {
        let parts: Vec<&str> = strategy
            .map(|value| value.split(',').collect())
            .unwrap_or_default();
        let unexpected = || PatchError::UnexpectedStrategy {
            field: field.to_string(),
            strategy: strategy.unwrap_or_default().to_string(),
        };

        let (retain_keys, other) = match parts.as_slice() {
            [] => (false, None),
            ["retainKeys"] => (true, None),
            [single] => (false, Some(*single)),
            ["retainKeys", other] | [other, "retainKeys"] => (true, Some(*other)),
            _ => return Err(unexpected()),
        };
        let strategy = match other {
            Some("merge") => PatchStrategy::Merge,
            Some("replace") => PatchStrategy::Replace,
            _ => PatchStrategy::Default,
        };

        Ok(Self {
            strategy,
            retain_keys,
            merge_key,
        })
    }

    /// Returns the merge key, or `""` when none is declared.
    pub fn merge_key(&self) -> &str {
        self.merge_key.as_deref().unwrap_or("")
    }
}

/// Schema walked by strategic merge patch: one node per object type, descending field by
/// field.
///
/// Implementations must return metadata for every field, known or not. A field without
/// metadata gets [`PatchMeta::default`] and a schema without metadata below it, which gives
/// JSON merge patch behaviour (maps merged, lists replaced). Upstream's server instead
/// fails on fields missing from the Go type; here such fields are patched without
/// metadata.
pub trait LookupPatchMeta: Sized {
    /// Looks up `field` of the object this node describes and returns the schema of the
    /// field's value (for an object or a map of objects) or of its items (for a list),
    /// together with the field's patch metadata.
    ///
    /// # Errors
    ///
    /// Each implementation defines its errors. [`BuiltinSchema`] fails only on invalid
    /// table entries.
    fn lookup(&self, field: &str) -> Result<(Self, PatchMeta), PatchError>;

    /// Returns a name for this node (a type name) used in error messages.
    fn name(&self) -> Cow<'static, str>;
}

/// Schema backed by the built-in type table [`merge_keys::PATCH_META`] and
/// [`merge_keys::FIELD_TYPES`] (Kubernetes v1.33).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinSchema {
    node: Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    /// Nothing is known: a custom resource, or a type without patch metadata below it.
    Unknown,
    /// An object of the named definition.
    Type(&'static str),
    /// A map whose values are objects of the named definition.
    MapOf(&'static str),
}

impl BuiltinSchema {
    /// Returns the schema of the root type of a built-in kind, or `None` for a kind the
    /// table does not know (custom resources, aggregated APIs). The core group is `""`.
    pub fn for_kind(group: &str, version: &str, kind: &str) -> Option<Self> {
        merge_keys::root_type_for_kind(group, version, kind).map(Self::for_type)
    }

    /// Returns the schema of an OpenAPI definition name such as
    /// `io.k8s.api.core.v1.PodSpec`. A name the table does not know behaves like
    /// [`BuiltinSchema::unknown`].
    pub fn for_type(type_name: &'static str) -> Self {
        Self {
            node: Node::Type(type_name),
        }
    }

    /// Returns a schema without any metadata: strategic merge patch then behaves like a
    /// JSON merge patch that also understands the `$patch` directives.
    pub fn unknown() -> Self {
        Self {
            node: Node::Unknown,
        }
    }
}

impl LookupPatchMeta for BuiltinSchema {
    fn lookup(&self, field: &str) -> Result<(Self, PatchMeta), PatchError> {
        let type_name = match self.node {
            Node::Unknown => return Ok((Self::unknown(), PatchMeta::default())),
            Node::MapOf(value_type) => {
                return Ok((Self::for_type(value_type), PatchMeta::default()));
            }
            Node::Type(type_name) => type_name,
        };

        let meta = match merge_keys::patch_meta(type_name, field) {
            Some(entry) => PatchMeta::parse(
                field,
                entry.patch_strategy,
                entry.patch_merge_key.map(Cow::Borrowed),
            )?,
            None => PatchMeta::default(),
        };
        let node = match merge_keys::field_type(type_name, field) {
            Some(entry) => match entry.shape {
                FieldShape::Object | FieldShape::List => Node::Type(entry.value_type),
                FieldShape::Map => Node::MapOf(entry.value_type),
            },
            None => Node::Unknown,
        };
        Ok((Self { node }, meta))
    }

    fn name(&self) -> Cow<'static, str> {
        match self.node {
            Node::Unknown => Cow::Borrowed("unknown type"),
            Node::Type(type_name) => Cow::Borrowed(type_name),
            Node::MapOf(value_type) => Cow::Owned(format!("map of {value_type}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_meta_parses_strategies() {
        let cases = [
            (None, PatchStrategy::Default, false),
            (Some("merge"), PatchStrategy::Merge, false),
            (Some("replace"), PatchStrategy::Replace, false),
            (Some("retainKeys"), PatchStrategy::Default, true),
            (Some("merge,retainKeys"), PatchStrategy::Merge, true),
            (Some("retainKeys,merge"), PatchStrategy::Merge, true),
            (Some("unknown"), PatchStrategy::Default, false),
        ];
        for (declared, strategy, retain_keys) in cases {
            let meta = PatchMeta::parse("f", declared, None).expect("valid strategy");
            assert_eq!(meta.strategy, strategy, "{declared:?}");
            assert_eq!(meta.retain_keys, retain_keys, "{declared:?}");
        }
        for declared in ["merge,replace", "merge,retainKeys,replace"] {
            assert!(
                PatchMeta::parse("f", Some(declared), None).is_err(),
                "{declared}"
            );
        }
    }

    #[test]
    fn builtin_schema_walks_from_root_kind() {
        let pod = BuiltinSchema::for_kind("", "v1", "Pod").expect("Pod is built in");
        let (spec, spec_meta) = pod.lookup("spec").unwrap();
        assert_eq!(spec_meta, PatchMeta::default());

        let (container, containers_meta) = spec.lookup("containers").unwrap();
        assert_eq!(containers_meta.strategy, PatchStrategy::Merge);
        assert_eq!(containers_meta.merge_key(), "name");

        let (_, ports_meta) = container.lookup("ports").unwrap();
        assert_eq!(ports_meta.merge_key(), "containerPort");

        let (_, volumes_meta) = spec.lookup("volumes").unwrap();
        assert!(volumes_meta.retain_keys);
        assert_eq!(volumes_meta.strategy, PatchStrategy::Merge);

        let (_, tolerations_meta) = spec.lookup("tolerations").unwrap();
        assert_eq!(tolerations_meta.strategy, PatchStrategy::Default);

        let (unknown, meta) = spec.lookup("noSuchField").unwrap();
        assert_eq!(meta, PatchMeta::default());
        assert_eq!(unknown, BuiltinSchema::unknown());
    }

    #[test]
    fn builtin_schema_descends_into_maps_of_objects() {
        let crd = BuiltinSchema::for_type(
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        );
        let (properties, _) = crd.lookup("properties").unwrap();
        let (property, _) = properties.lookup("replicas").unwrap();
        let (_, meta) = property.lookup("x-kubernetes-validations").unwrap();
        assert_eq!(meta.merge_key(), "rule");
    }
}
