//! VolumeBinding: PreFilter sorts the pod's claims into bound ones and unbound
//! `WaitForFirstConsumer` ones, and rejects the pod when a claim is missing or an
//! unbound claim binds immediately. Filter checks the bound volumes' node affinity and
//! picks, per node, an available volume for each unbound claim (or provisioning through
//! the claim's class). Reserve assumes the chosen node's bindings so the next cycles
//! see them; PreBind writes them (the volume's `claimRef` and the claim's
//! `spec.volumeName`, or the selected-node annotation for provisioning) and waits for
//! provisioned claims to be bound; Unreserve drops the assumptions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::binder::{
    ClaimCandidates, VolumeView, claim_candidates, requested_storage, volume_fits_node,
};
use super::{
    ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, BINDING_NAME, ERR_REASON_BIND_CONFLICT,
    ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST, ERR_REASON_UNBOUND_IMMEDIATE,
    NO_PROVISIONER, annotation, check_ephemeral_owner, claim_class, claim_key, claim_volume_name,
    has_claims, is_delay_binding_mode, is_volume_bound_to_claim, pod_claims,
};
use crate::cache::Snapshot;
use crate::framework::handle::{ClusterClient, ClusterState, Handle};
use crate::framework::interface::{
    CycleState, FilterPlugin, Plugin, PreBindPlugin, PreFilterPlugin, ReservePlugin, Status,
};
use crate::framework::types::{NodeInfo, pod_namespace};

const PRE_FILTER_KEY: &str = "PreFilterVolumeBinding";
const ASSUMED_KEY: &str = "ReserveVolumeBinding";
/// How often PreBind checks whether provisioned claims are bound, as upstream polls.
const BIND_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The `VolumeBindingArgs` of `pluginConfig`.
#[derive(Clone, Debug, PartialEq)]
pub struct BindingArgs {
    /// How long PreBind waits for provisioned claims to be bound (600 s by default).
    pub bind_timeout: Duration,
}

impl Default for BindingArgs {
    fn default() -> Self {
        BindingArgs {
            bind_timeout: Duration::from_secs(600),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBindingArgs {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    bind_timeout_seconds: Option<i64>,
    /// The StorageCapacityScoring shape, accepted and unused because that alpha
    /// feature is not implemented.
    #[serde(default)]
    shape: Option<serde_json::Value>,
}

/// Parses `VolumeBindingArgs` (`null` gives the defaults).
///
/// # Errors
///
/// A decode message, or a negative `bindTimeoutSeconds`.
pub fn parse_binding_args(args: &serde_json::Value) -> Result<BindingArgs, String> {
    if args.is_null() {
        return Ok(BindingArgs::default());
    }
    let raw: RawBindingArgs = serde_json::from_value(args.clone())
        .map_err(|error| format!("VolumeBindingArgs: {error}"))?;
    let _ = (raw.api_version, raw.kind, raw.shape);
    match raw.bind_timeout_seconds {
        None => Ok(BindingArgs::default()),
        Some(seconds) if seconds < 0 => Err(format!(
            "bindTimeoutSeconds: Invalid value: {seconds}: invalid BindTimeoutSeconds, should not be a negative value"
        )),
        Some(seconds) => Ok(BindingArgs {
            bind_timeout: Duration::from_secs(seconds as u64),
        }),
    }
}

/// The claims of the pod being scheduled, sorted in PreFilter.
#[derive(Clone)]
struct PreFilterState {
    /// Claims bound to a volume whose node affinity each node must satisfy.
    bound: Vec<Arc<PersistentVolumeClaim>>,
    /// Unbound delayed-binding claims with their candidate volumes, smallest request
    /// first so the smallest volumes go to the smallest claims.
    to_bind: Vec<ClaimCandidates>,
    /// The decisions of Filter per node name, shared by every copy of the state as
    /// upstream shares it, because Filter runs in parallel on a read-only state.
    by_node: Arc<Mutex<HashMap<String, PodVolumes>>>,
}

/// What binding the pod's unbound claims on one node takes.
#[derive(Clone)]
struct PodVolumes {
    node: Arc<Node>,
    /// Each chosen volume with its claim.
    static_bindings: Vec<(Arc<PersistentVolume>, Arc<PersistentVolumeClaim>)>,
    /// Claims to provision on the node.
    provisions: Vec<Arc<PersistentVolumeClaim>>,
}

/// One binding as Reserve assumed it: the objects to write, `None` when that side
/// already has the value.
#[derive(Clone)]
struct AssumedBinding {
    volume_name: String,
    claim_key: String,
    volume: Option<Arc<PersistentVolume>>,
    claim: Option<Arc<PersistentVolumeClaim>>,
}

/// What Reserve assumed for the chosen node, for PreBind and Unreserve.
#[derive(Clone)]
struct AssumedVolumes {
    node: Arc<Node>,
    bindings: Vec<AssumedBinding>,
    provisions: Vec<Arc<PersistentVolumeClaim>>,
}

/// The VolumeBinding plugin.
pub struct VolumeBinding {
    cluster: Arc<ClusterState>,
    client: Arc<dyn ClusterClient>,
    view: VolumeView,
    args: BindingArgs,
}

impl VolumeBinding {
    /// Builds the plugin over the handle's listers and client.
    pub fn new(args: BindingArgs, handle: &Handle) -> VolumeBinding {
        VolumeBinding {
            cluster: handle.cluster.clone(),
            client: handle.client.clone(),
            view: VolumeView::default(),
            args,
        }
    }

    /// Sorts the pod's claims, or returns the status that rejects the pod.
    fn sort_claims(&self, pod: &Pod) -> Result<PreFilterState, Status> {
        let namespace = pod_namespace(pod);
        let mut bound = Vec::new();
        let mut unbound_delayed = Vec::new();
        let mut unbound_immediate = false;
        for pod_claim in pod_claims(pod) {
            let Some(claim) = self.view.claim(&self.cluster, namespace, &pod_claim.name) else {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim {:?} not found",
                    pod_claim.name
                )));
            };
            if pod_claim.ephemeral {
                check_ephemeral_owner(pod, &claim).map_err(Status::unresolvable)?;
            }
            let phase = claim
                .status
                .as_ref()
                .and_then(|status| status.phase.as_deref());
            if phase == Some("Lost") {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim {:?} bound to non-existent persistentvolume {:?}",
                    pod_claim.name,
                    claim_volume_name(&claim)
                )));
            }
            if claim.metadata.deletion_timestamp.is_some() {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim {:?} is being deleted",
                    pod_claim.name
                )));
            }
            if self.view.is_claim_bound(&self.cluster, &claim) {
                bound.push(claim);
                continue;
            }
            let delayed = is_delay_binding_mode(&claim, &self.cluster).map_err(Status::error)?;
            if delayed && claim_volume_name(&claim).is_empty() {
                unbound_delayed.push(claim);
            } else {
                // A claim that binds immediately, or names a volume that is not bound to
                // it yet, waits for the PV controller.
                unbound_immediate = true;
            }
        }
        if unbound_immediate {
            return Err(Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE));
        }

        unbound_delayed.sort_by_key(|claim| requested_storage(claim));
        let mut volumes_by_class: HashMap<String, Vec<Arc<PersistentVolume>>> = HashMap::new();
        let mut to_bind = Vec::with_capacity(unbound_delayed.len());
        for claim in unbound_delayed {
            let class_name = claim_class(&claim).to_string();
            let volumes = volumes_by_class
                .entry(class_name.clone())
                .or_insert_with(|| self.view.volumes_of_class(&self.cluster, &class_name));
            // A pre-bound volume may carry another class, so it is looked up by name.
            let mut candidates_from = volumes.clone();
            for volume in self.pre_bound_volumes(&claim) {
                if !candidates_from
                    .iter()
                    .any(|known| known.metadata.name == volume.metadata.name)
                {
                    candidates_from.push(volume);
                }
            }
            to_bind.push(claim_candidates(claim, &candidates_from).map_err(Status::error)?);
        }
        Ok(PreFilterState {
            bound,
            to_bind,
            by_node: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Returns volumes whose `claimRef` names the claim, in any class.
    fn pre_bound_volumes(&self, claim: &PersistentVolumeClaim) -> Vec<Arc<PersistentVolume>> {
        let names: Vec<String> = crate::framework::handle::read_map(&self.cluster.pvs)
            .values()
            .filter(|volume| is_volume_bound_to_claim(volume, claim))
            .filter_map(|volume| volume.metadata.name.clone())
            .collect();
        names
            .iter()
            .filter_map(|name| self.view.volume(&self.cluster, name))
            .filter(|volume| is_volume_bound_to_claim(volume, claim))
            .collect()
    }

    /// Returns whether the claim's class can provision a volume reachable from `node`
    /// (upstream `checkVolumeProvisions`).
    fn can_provision(&self, claim: &PersistentVolumeClaim, node: &Node) -> bool {
        let Some(class) = self.cluster.storage_class(claim_class(claim)) else {
            return false;
        };
        if class.provisioner.is_empty() || class.provisioner == NO_PROVISIONER {
            return false;
        }
        allowed_topologies_match(&class, node)
    }

    /// Decides the unbound claims on one node. Returns `None` when some claim has
    /// neither a volume nor a way to be provisioned there.
    fn find_pod_volumes(&self, pre: &PreFilterState, node: &Arc<Node>) -> Option<PodVolumes> {
        let node_name = node.metadata.name.as_deref().unwrap_or_default();
        let mut decision = PodVolumes {
            node: node.clone(),
            static_bindings: Vec::new(),
            provisions: Vec::new(),
        };
        let mut chosen: Vec<Arc<PersistentVolume>> = Vec::new();
        for candidates in &pre.to_bind {
            let claim = &candidates.claim;
            if let Some(selected) =
                annotation(claim.metadata.annotations.as_ref(), ANN_SELECTED_NODE)
            {
                // Provisioning was already requested for a node; only that node fits.
                if selected != node_name {
                    return None;
                }
                decision.provisions.push(claim.clone());
                continue;
            }
            match candidates.find(node, &chosen) {
                Some(volume) => {
                    chosen.push(volume.clone());
                    decision.static_bindings.push((volume, claim.clone()));
                }
                None => decision.provisions.push(claim.clone()),
            }
        }
        for claim in &decision.provisions {
            let requested = annotation(claim.metadata.annotations.as_ref(), ANN_SELECTED_NODE);
            if requested.is_none() && !self.can_provision(claim, node) {
                return None;
            }
        }
        Some(decision)
    }

    /// Builds the volume and claim of one binding as PreBind writes them, as upstream's
    /// `GetBindVolumeToClaim` and the PV controller's claim update do.
    fn bind_objects(
        volume: &PersistentVolume,
        claim: &PersistentVolumeClaim,
    ) -> (Option<PersistentVolume>, Option<PersistentVolumeClaim>) {
        let reference_has_uid = volume
            .spec
            .as_ref()
            .and_then(|spec| spec.claim_ref.as_ref())
            .and_then(|reference| reference.uid.as_deref())
            .is_some_and(|uid| !uid.is_empty());
        let pre_bound = is_volume_bound_to_claim(volume, claim);
        let new_volume = if pre_bound && reference_has_uid {
            None
        } else {
            let mut new_volume = volume.clone();
            let spec = new_volume.spec.get_or_insert_with(Default::default);
            spec.claim_ref = Some(ObjectReference {
                api_version: Some("v1".to_string()),
                kind: Some("PersistentVolumeClaim".to_string()),
                namespace: claim.metadata.namespace.clone(),
                name: claim.metadata.name.clone(),
                uid: claim.metadata.uid.clone(),
                resource_version: claim.metadata.resource_version.clone(),
                field_path: None,
            });
            if !pre_bound {
                new_volume
                    .metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(ANN_BOUND_BY_CONTROLLER.to_string(), "yes".to_string());
            }
            Some(new_volume)
        };
        let volume_name = volume.metadata.name.clone().unwrap_or_default();
        let new_claim = if claim_volume_name(claim) == volume_name {
            None
        } else {
            let mut new_claim = claim.clone();
            new_claim
                .spec
                .get_or_insert_with(Default::default)
                .volume_name = Some(volume_name);
            Some(new_claim)
        };
        (new_volume, new_claim)
    }

    /// Drops every assumption Reserve made for the pod.
    fn revert(&self, assumed: &AssumedVolumes) {
        for binding in &assumed.bindings {
            if binding.volume.is_some() {
                self.view.volumes.restore(&binding.volume_name);
            }
            if binding.claim.is_some() {
                self.view.claims.restore(&binding.claim_key);
            }
        }
        for claim in &assumed.provisions {
            self.view.claims.restore(&claim_key(claim));
        }
    }

    /// Waits until every provisioned claim is bound to a volume that fits the node
    /// (upstream `checkBindings`). `claims` are the claims as the API server stored
    /// them; an older informer copy is waited out.
    async fn wait_for_provisioning(
        &self,
        claims: &[PersistentVolumeClaim],
        node: &Node,
    ) -> Result<(), String> {
        let node_name = node.metadata.name.as_deref().unwrap_or_default();
        let deadline = Instant::now() + self.args.bind_timeout;
        loop {
            let mut all_bound = true;
            for written in claims {
                let key = claim_key(written);
                let namespace = written.metadata.namespace.as_deref().unwrap_or_default();
                let name = written.metadata.name.as_deref().unwrap_or_default();
                let Some(claim) = self.cluster.claim(namespace, name) else {
                    return Err(format!("failed to check provisioning pvc: {key} not found"));
                };
                if is_older(&claim.metadata, &written.metadata) {
                    all_bound = false;
                    continue;
                }
                let selected = annotation(claim.metadata.annotations.as_ref(), ANN_SELECTED_NODE);
                if selected != Some(node_name) {
                    return Err(format!(
                        "selectedNode annotation value {:?} not set to scheduled node {node_name:?}",
                        selected.unwrap_or_default()
                    ));
                }
                let volume_name = claim_volume_name(&claim);
                if volume_name.is_empty() {
                    all_bound = false;
                    continue;
                }
                let Some(volume) = self.cluster.volume(volume_name) else {
                    all_bound = false;
                    continue;
                };
                if !volume_fits_node(&volume, node) {
                    return Err(format!(
                        "pv {volume_name:?} node affinity doesn't match node {node_name:?}"
                    ));
                }
                if !super::is_claim_bound(&claim, &self.cluster) {
                    all_bound = false;
                }
            }
            if all_bound {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err("timed out waiting for the condition".to_string());
            }
            tokio::time::sleep(BIND_POLL_INTERVAL.min(self.args.bind_timeout)).await;
        }
    }
}

/// Returns whether `current` is an older version than `written`, comparing
/// `resourceVersion`s as the numbers both storage backends issue.
fn is_older(current: &ObjectMeta, written: &ObjectMeta) -> bool {
    let version = |meta: &ObjectMeta| {
        meta.resource_version
            .as_deref()
            .and_then(|version| version.parse::<u64>().ok())
    };
    match (version(current), version(written)) {
        (Some(current), Some(written)) => current < written,
        _ => false,
    }
}

/// Returns whether the node satisfies the class's `allowedTopologies` (upstream
/// `MatchTopologySelectorTerms`): no terms match every node, otherwise any term whose
/// every requirement lists the node's label value.
fn allowed_topologies_match(class: &StorageClass, node: &Node) -> bool {
    let terms = class.allowed_topologies.as_deref().unwrap_or_default();
    if terms.is_empty() {
        return true;
    }
    let labels = node.metadata.labels.as_ref();
    terms.iter().any(|term| {
        term.match_label_expressions
            .iter()
            .flatten()
            .all(|requirement| {
                labels
                    .and_then(|labels| labels.get(&requirement.key))
                    .is_some_and(|value| requirement.values.contains(value))
            })
    })
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        BINDING_NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }

    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }

    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _snapshot: &Snapshot) -> Status {
        if !has_claims(pod) {
            state.write(
                PRE_FILTER_KEY,
                PreFilterState {
                    bound: Vec::new(),
                    to_bind: Vec::new(),
                    by_node: Arc::default(),
                },
            );
            return Status::success();
        }
        match self.sort_claims(pod) {
            Ok(pre) => {
                state.write(PRE_FILTER_KEY, pre);
                Status::success()
            }
            Err(status) => status,
        }
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(&self, state: &CycleState, _pod: &Pod, node_info: &NodeInfo) -> Status {
        let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error("VolumeBinding prefilter state not found");
        };
        if pre.bound.is_empty() && pre.to_bind.is_empty() {
            return Status::success();
        }
        let Some(node) = node_info.node.as_ref() else {
            return Status::error("node not found");
        };

        let mut bound_satisfied = true;
        let mut bound_volumes_found = true;
        for claim in &pre.bound {
            match self.view.volume(&self.cluster, claim_volume_name(claim)) {
                None => {
                    bound_volumes_found = false;
                    break;
                }
                Some(volume) if !volume_fits_node(&volume, node) => {
                    bound_satisfied = false;
                    break;
                }
                Some(_) => {}
            }
        }

        let mut unbound_satisfied = true;
        if !pre.to_bind.is_empty() {
            match self.find_pod_volumes(pre, node) {
                Some(decision) => {
                    pre.by_node
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(node_info.node_name().to_string(), decision);
                }
                None => unbound_satisfied = false,
            }
        }

        // The reasons come in upstream's order.
        let mut reasons = Vec::new();
        if !bound_satisfied {
            reasons.push(ERR_REASON_NODE_CONFLICT);
        }
        if !unbound_satisfied {
            reasons.push(ERR_REASON_BIND_CONFLICT);
        }
        if !bound_volumes_found {
            reasons.push(ERR_REASON_PV_NOT_EXIST);
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            Status::new(
                crate::framework::interface::Code::UnschedulableAndUnresolvable,
                reasons,
            )
        }
    }
}

impl ReservePlugin for VolumeBinding {
    fn reserve(&self, state: &mut CycleState, _pod: &Pod, node_name: &str) -> Status {
        let Some(pre) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::success();
        };
        let decision = pre
            .by_node
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(node_name)
            .cloned();
        let Some(decision) = decision else {
            return Status::success();
        };

        let mut assumed = AssumedVolumes {
            node: decision.node.clone(),
            bindings: Vec::new(),
            provisions: Vec::new(),
        };
        for (volume, claim) in &decision.static_bindings {
            let volume_name = volume.metadata.name.clone().unwrap_or_default();
            let key = claim_key(claim);
            let (new_volume, new_claim) = Self::bind_objects(volume, claim);
            let new_volume = new_volume.map(Arc::new);
            let new_claim = new_claim.map(Arc::new);
            if let Some(new_volume) = &new_volume {
                self.view
                    .volumes
                    .assume(volume_name.clone(), new_volume.clone(), volume);
            }
            if let Some(new_claim) = &new_claim {
                self.view
                    .claims
                    .assume(key.clone(), new_claim.clone(), claim);
            }
            assumed.bindings.push(AssumedBinding {
                volume_name,
                claim_key: key,
                volume: new_volume,
                claim: new_claim,
            });
        }
        for claim in &decision.provisions {
            let mut new_claim = (**claim).clone();
            new_claim
                .metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(ANN_SELECTED_NODE.to_string(), node_name.to_string());
            let new_claim = Arc::new(new_claim);
            self.view
                .claims
                .assume(claim_key(claim), new_claim.clone(), claim);
            assumed.provisions.push(new_claim);
        }
        state.write(ASSUMED_KEY, assumed);
        Status::success()
    }

    fn unreserve(&self, state: &mut CycleState, _pod: &Pod, _node_name: &str) {
        if let Some(assumed) = state.read::<AssumedVolumes>(ASSUMED_KEY) {
            self.revert(assumed);
        }
    }
}

#[async_trait]
impl PreBindPlugin for VolumeBinding {
    async fn pre_bind(&self, state: &CycleState, pod: &Pod, node_name: &str) -> Status {
        let Some(assumed) = state.read::<AssumedVolumes>(ASSUMED_KEY) else {
            return Status::success();
        };
        // The volume is written first, as upstream does: a PV controller that sees the
        // claim name a volume not yet reserved for it would try to bind it itself.
        for binding in &assumed.bindings {
            if let Some(volume) = &binding.volume
                && let Err(error) = self.client.update_persistent_volume(volume).await
            {
                return Status::error(format!(
                    "binding volumes: binding persistentvolume {:?} to claim {}: {error}",
                    binding.volume_name, binding.claim_key
                ));
            }
            if let Some(claim) = &binding.claim
                && let Err(error) = self.client.update_persistent_volume_claim(claim).await
            {
                return Status::error(format!(
                    "binding volumes: setting volumeName {:?} on claim {}: {error}",
                    binding.volume_name, binding.claim_key
                ));
            }
            tracing::info!(pod = %crate::framework::types::pod_key(pod), node = %node_name,
                claim = %binding.claim_key, volume = %binding.volume_name, "bound claim to volume");
        }
        let mut written = Vec::with_capacity(assumed.provisions.len());
        for claim in &assumed.provisions {
            match self.client.update_persistent_volume_claim(claim).await {
                Ok(stored) => written.push(stored),
                Err(error) => {
                    return Status::error(format!(
                        "binding volumes: requesting provisioning of claim {} on node {node_name:?}: {error}",
                        claim_key(claim)
                    ));
                }
            }
        }
        if !written.is_empty()
            && let Err(error) = self.wait_for_provisioning(&written, &assumed.node).await
        {
            return Status::error(format!("binding volumes: {error}"));
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests;
