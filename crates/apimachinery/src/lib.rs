//! Kubernetes API machinery shared by every component: object metadata helpers, the
//! scheme of built-in kinds and resources, label and field selectors, Status errors,
//! name validation, quantities, patches and strict decoding.
//!
//! Built-in object types come from k8s-openapi (API v1.33); this crate adds the
//! behaviour the apiserver and the clients need around them.

pub mod decode;
pub mod errors;
pub mod fieldpath;
pub mod fields;
pub mod heap;
pub mod labels;
pub mod meta;
pub mod patch;
pub mod protobuf;
pub mod quantity;
pub mod scheme;
pub mod validation;
pub mod yaml;
