//! ControllerRevisions: the template history of DaemonSets and StatefulSets
//! (upstream `controller/history`).
//!
//! Entry point: [`sync_revision`], which finds or creates the revision of the
//! current template and returns it with the owner's older revisions.

use std::collections::BTreeMap;

use client::api::{Api, DeleteParams, ListParams, PostParams};
use client::rest::RestClient;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::Value;

use crate::client_ext::Resource;
use crate::controller_utils::{controller_ref, new_controller_ref};
use crate::deployment::util::compute_hash_of;

/// The label carrying a revision's hash, on the revision and on its pods.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// The current revision of an owner and the rest of its history.
pub struct Revisions {
    pub current: ControllerRevision,
    pub old: Vec<ControllerRevision>,
}

/// Returns the hash label value of a revision.
pub fn revision_hash(revision: &ControllerRevision) -> Option<&str> {
    revision
        .metadata
        .labels
        .as_ref()?
        .get(CONTROLLER_REVISION_HASH_LABEL)
        .map(String::as_str)
}

/// Finds the owner's revision whose data equals `data`, or creates it as
/// `<owner>-<hash>` with the next revision number; an existing match that is not
/// the newest gets the next number, which is how a rollback becomes current.
/// `labels` are the owner's selector labels, copied onto the revision.
///
/// # Errors
/// A message naming the failed API call.
pub async fn sync_revision<K: Resource>(
    client: &RestClient,
    owner: &K,
    data: Value,
    labels: BTreeMap<String, String>,
    collision_count: Option<i32>,
) -> Result<Revisions, String> {
    let meta = owner.metadata();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let owner_uid = meta.uid.clone().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), &namespace);
    let mut revisions: Vec<ControllerRevision> = api
        .list(&ListParams::default())
        .await
        .map_err(|err| format!("failed to list controller revisions: {err}"))?
        .items
        .into_iter()
        .filter(|revision| controller_ref(&revision.metadata).is_some_and(|r| r.uid == owner_uid))
        .collect();
    revisions.sort_by_key(|revision| revision.revision);
    let max_revision = revisions.last().map_or(0, |revision| revision.revision);

    let matching = revisions
        .iter()
        .position(|revision| revision.data.as_ref().map(|raw| &raw.0) == Some(&data));
    let current = match matching {
        Some(index) => {
            let mut found = revisions.remove(index);
            if found.revision < max_revision {
                found.revision = max_revision + 1;
                found = api
                    .replace(found.metadata.name.as_deref().unwrap_or_default(), &found)
                    .await
                    .map_err(|err| format!("failed to update controller revision: {err}"))?;
            }
            found
        }
        None => {
            let hash = compute_hash_of(&data, collision_count);
            let mut revision_labels = labels;
            revision_labels.insert(CONTROLLER_REVISION_HASH_LABEL.to_string(), hash.clone());
            let revision = ControllerRevision {
                metadata: ObjectMeta {
                    name: Some(format!(
                        "{}-{hash}",
                        meta.name.as_deref().unwrap_or_default()
                    )),
                    namespace: Some(namespace.clone()),
                    labels: Some(revision_labels),
                    owner_references: Some(vec![new_controller_ref(owner)]),
                    ..ObjectMeta::default()
                },
                data: Some(RawExtension(data)),
                revision: max_revision + 1,
            };
            match api.create(&revision, &PostParams::default()).await {
                Ok(created) => created,
                Err(err) if err.is_already_exists() => api
                    .get(revision.metadata.name.as_deref().unwrap_or_default())
                    .await
                    .map_err(|err| format!("failed to read controller revision: {err}"))?,
                Err(err) => return Err(format!("failed to create controller revision: {err}")),
            }
        }
    };
    Ok(Revisions {
        current,
        old: revisions,
    })
}

/// Deletes the oldest revisions beyond `limit` whose hash no live pod uses.
///
/// # Errors
/// A message naming the failed deletion.
pub async fn truncate_history(
    client: &RestClient,
    namespace: &str,
    old: &[ControllerRevision],
    live_hashes: &[String],
    limit: i32,
) -> Result<(), String> {
    let unused: Vec<&ControllerRevision> = old
        .iter()
        .filter(|revision| {
            revision_hash(revision).is_none_or(|hash| !live_hashes.iter().any(|live| live == hash))
        })
        .collect();
    let excess = unused.len() as i64 - i64::from(limit.max(0));
    let api: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    for revision in unused.into_iter().take(excess.max(0) as usize) {
        match api
            .delete(
                revision.metadata.name.as_deref().unwrap_or_default(),
                &DeleteParams::default(),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(format!("failed to delete controller revision: {err}")),
        }
    }
    Ok(())
}
