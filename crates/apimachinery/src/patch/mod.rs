//! Patches of API objects, in the three formats the kube-apiserver accepts on PATCH and
//! the helpers clients use to compute them.
//!
//! - JSON patch (RFC 6902, `application/json-patch+json`): [`apply_json_patch`].
//! - JSON merge patch (RFC 7386, `application/merge-patch+json`): [`apply_merge_patch`],
//!   [`create_merge_patch`], [`create_three_way_json_merge_patch`].
//! - Strategic merge patch (`application/strategic-merge-patch+json`):
//!   [`apply_strategic_merge_patch`], [`create_two_way_merge_patch`],
//!   [`create_three_way_merge_patch`], driven by the per-type patch metadata in
//!   [`merge_keys`] through [`BuiltinSchema`].
//!
//! All functions work on `serde_json::Value` documents. Errors are [`PatchError`], which
//! also gives the HTTP status upstream returns for each failure.

mod error;
mod json_patch;
pub mod merge_keys;
mod merge_patch;
mod schema;
mod strategic;

pub use error::{MAX_JSON_PATCH_OPERATIONS, PatchError};
pub use json_patch::{apply_json_patch, decode_json_patch};
pub use merge_keys::root_type_for_kind;
pub use merge_patch::{
    apply_merge_patch, create_merge_patch, create_three_way_json_merge_patch, has_conflicts,
};
pub use schema::{BuiltinSchema, LookupPatchMeta, PatchMeta, PatchStrategy};
pub use strategic::{
    APPLY_PRECONDITIONS, Precondition, apply_strategic_merge_patch, check_preconditions,
    create_three_way_merge_patch, create_two_way_merge_patch,
};
