//! The patch metadata of every built-in Kubernetes v1.33 type, as data.
//!
//! Three tables, each sorted for binary search:
//! - [`PATCH_META`]: per (type, field), the `x-kubernetes-patch-strategy`,
//!   `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type` and
//!   `x-kubernetes-list-map-keys` values. Strategic merge patch reads the first two; the
//!   OpenAPI documents publish all four.
//! - [`FIELD_TYPES`]: per (type, field), the type of the field's value or items, so a
//!   document can be walked from a root kind (Pod -> spec: PodSpec -> containers:
//!   Container -> ports: ContainerPort). Only fields that lead to a type with a patch
//!   strategy somewhere below are listed; any other field has no strategic behaviour.
//! - [`ROOT_KINDS`]: the root type of each built-in (group, version, kind).
//!
//! Types are named by their OpenAPI definition names, as k8s-openapi 0.29 (feature
//! `v1_33`) names them. The strategies and merge keys are the `patchStrategy` and
//! `patchMergeKey` struct tags of the Go types in k8s.io/api, k8s.io/apimachinery
//! (meta/v1), k8s.io/apiextensions-apiserver and k8s.io/kube-aggregator at v0.33, with
//! fields of embedded (inline) structs attributed to the embedding type. The list types
//! are those types' `+listType` and `+listMapKey` markers.
//!
//! Entry points: [`patch_meta`], [`field_type`] and [`root_type_for_kind`].

/// Value of `x-kubernetes-list-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// `atomic`: the list is replaced as a whole.
    Atomic,
    /// `set`: a list of unique scalars.
    Set,
    /// `map`: a list of objects identified by the `x-kubernetes-list-map-keys` fields.
    Map,
}

impl ListType {
    /// Returns the value as written in OpenAPI documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Atomic => "atomic",
            Self::Set => "set",
            Self::Map => "map",
        }
    }
}

/// Patch and list metadata of one field of one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPatchMeta {
    /// OpenAPI definition name of the type holding the field.
    pub type_name: &'static str,
    /// JSON name of the field.
    pub field: &'static str,
    /// `x-kubernetes-patch-strategy`: `merge`, `replace`, `retainKeys` or
    /// `merge,retainKeys`.
    pub patch_strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`.
    pub list_type: Option<ListType>,
    /// `x-kubernetes-list-map-keys`, empty unless the list type is `map`.
    pub list_map_keys: &'static [&'static str],
}

impl FieldPatchMeta {
    const fn new(
        type_name: &'static str,
        field: &'static str,
        list_type: Option<ListType>,
        list_map_keys: &'static [&'static str],
    ) -> Self {
        Self {
            type_name,
            field,
            patch_strategy: None,
            patch_merge_key: None,
            list_type,
            list_map_keys,
        }
    }

    const fn patch(self, strategy: &'static str, merge_key: Option<&'static str>) -> Self {
        Self {
            patch_strategy: Some(strategy),
            patch_merge_key: merge_key,
            ..self
        }
    }
}

const fn field(type_name: &'static str, field: &'static str) -> FieldPatchMeta {
    FieldPatchMeta::new(type_name, field, None, &[])
}

const fn atomic(type_name: &'static str, field: &'static str) -> FieldPatchMeta {
    FieldPatchMeta::new(type_name, field, Some(ListType::Atomic), &[])
}

const fn set(type_name: &'static str, field: &'static str) -> FieldPatchMeta {
    FieldPatchMeta::new(type_name, field, Some(ListType::Set), &[])
}

const fn map(
    type_name: &'static str,
    field: &'static str,
    keys: &'static [&'static str],
) -> FieldPatchMeta {
    FieldPatchMeta::new(type_name, field, Some(ListType::Map), keys)
}

/// Shape of a field that contains values of a nested type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldShape {
    /// The field is one object of the type.
    Object,
    /// The field is a list of objects of the type.
    List,
    /// The field is a map from strings to objects of the type.
    Map,
}

/// The nested type of one field, for walking documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    /// OpenAPI definition name of the type holding the field.
    pub type_name: &'static str,
    /// JSON name of the field.
    pub field: &'static str,
    /// Whether the field contains one value, a list or a map of `value_type`.
    pub shape: FieldShape,
    /// OpenAPI definition name of the field's value, item or map value type.
    pub value_type: &'static str,
}

const fn object(
    type_name: &'static str,
    field: &'static str,
    value_type: &'static str,
) -> FieldType {
    FieldType {
        type_name,
        field,
        shape: FieldShape::Object,
        value_type,
    }
}

const fn list_of(
    type_name: &'static str,
    field: &'static str,
    value_type: &'static str,
) -> FieldType {
    FieldType {
        type_name,
        field,
        shape: FieldShape::List,
        value_type,
    }
}

const fn map_of(
    type_name: &'static str,
    field: &'static str,
    value_type: &'static str,
) -> FieldType {
    FieldType {
        type_name,
        field,
        shape: FieldShape::Map,
        value_type,
    }
}

/// The root type of one built-in kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootKind {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// OpenAPI definition name of the kind's root type.
    pub type_name: &'static str,
}

const fn root(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    type_name: &'static str,
) -> RootKind {
    RootKind {
        group,
        version,
        kind,
        type_name,
    }
}

/// Returns the patch and list metadata of `field` in `type_name`, if it has any.
pub fn patch_meta(type_name: &str, field: &str) -> Option<&'static FieldPatchMeta> {
    PATCH_META
        .binary_search_by(|entry| (entry.type_name, entry.field).cmp(&(type_name, field)))
        .ok()
        .map(|index| &PATCH_META[index])
}

/// Returns the nested type of `field` in `type_name`, if a patch strategy applies
/// somewhere below it.
pub fn field_type(type_name: &str, field: &str) -> Option<&'static FieldType> {
    FIELD_TYPES
        .binary_search_by(|entry| (entry.type_name, entry.field).cmp(&(type_name, field)))
        .ok()
        .map(|index| &FIELD_TYPES[index])
}

/// Returns the OpenAPI definition name of the root type of a built-in kind, such as
/// `io.k8s.api.apps.v1.Deployment` for `("apps", "v1", "Deployment")`. The core group is
/// `""`. Returns `None` for kinds that are not built in, such as custom resources.
pub fn root_type_for_kind(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    ROOT_KINDS
        .binary_search_by(|entry| {
            (entry.group, entry.version, entry.kind).cmp(&(group, version, kind))
        })
        .ok()
        .map(|index| ROOT_KINDS[index].type_name)
}

#[rustfmt::skip]
pub static PATCH_META: &[FieldPatchMeta] = &[
    atomic("io.k8s.api.admissionregistration.v1.MatchResources", "excludeResourceRules"),
    atomic("io.k8s.api.admissionregistration.v1.MatchResources", "resourceRules"),
    atomic("io.k8s.api.admissionregistration.v1.MutatingWebhook", "admissionReviewVersions"),
    map("io.k8s.api.admissionregistration.v1.MutatingWebhook", "matchConditions", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1.MutatingWebhook", "rules"),
    map("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", "webhooks", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "apiGroups"),
    atomic("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "apiVersions"),
    atomic("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "operations"),
    atomic("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "resourceNames"),
    atomic("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations", "resources"),
    atomic("io.k8s.api.admissionregistration.v1.RuleWithOperations", "apiGroups"),
    atomic("io.k8s.api.admissionregistration.v1.RuleWithOperations", "apiVersions"),
    atomic("io.k8s.api.admissionregistration.v1.RuleWithOperations", "operations"),
    atomic("io.k8s.api.admissionregistration.v1.RuleWithOperations", "resources"),
    atomic("io.k8s.api.admissionregistration.v1.TypeChecking", "expressionWarnings"),
    set("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec", "validationActions"),
    atomic("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec", "auditAnnotations"),
    map("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec", "matchConditions", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec", "validations"),
    map("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec", "variables", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus", "conditions", &["type"]),
    atomic("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "admissionReviewVersions"),
    map("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "matchConditions", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "rules"),
    map("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", "webhooks", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1alpha1.MatchResources", "excludeResourceRules"),
    atomic("io.k8s.api.admissionregistration.v1alpha1.MatchResources", "resourceRules"),
    map("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicySpec", "matchConditions", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicySpec", "mutations"),
    atomic("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicySpec", "variables"),
    atomic("io.k8s.api.admissionregistration.v1alpha1.NamedRuleWithOperations", "resourceNames"),
    atomic("io.k8s.api.admissionregistration.v1beta1.MatchResources", "excludeResourceRules"),
    atomic("io.k8s.api.admissionregistration.v1beta1.MatchResources", "resourceRules"),
    atomic("io.k8s.api.admissionregistration.v1beta1.NamedRuleWithOperations", "resourceNames"),
    atomic("io.k8s.api.admissionregistration.v1beta1.TypeChecking", "expressionWarnings"),
    set("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBindingSpec", "validationActions"),
    atomic("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec", "auditAnnotations"),
    map("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec", "matchConditions", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec", "validations"),
    map("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec", "variables", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyStatus", "conditions", &["type"]),
    set("io.k8s.api.apiserverinternal.v1alpha1.ServerStorageVersion", "decodableVersions"),
    set("io.k8s.api.apiserverinternal.v1alpha1.ServerStorageVersion", "servedVersions"),
    map("io.k8s.api.apiserverinternal.v1alpha1.StorageVersionStatus", "conditions", &["type"]),
    map("io.k8s.api.apiserverinternal.v1alpha1.StorageVersionStatus", "storageVersions", &["apiServerID"]),
    map("io.k8s.api.apps.v1.DaemonSetStatus", "conditions", &["type"]).patch("merge", Some("type")),
    field("io.k8s.api.apps.v1.DeploymentSpec", "strategy").patch("retainKeys", None),
    map("io.k8s.api.apps.v1.DeploymentStatus", "conditions", &["type"]).patch("merge", Some("type")),
    map("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates"),
    map("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.authentication.v1.TokenRequestSpec", "audiences"),
    atomic("io.k8s.api.authentication.v1.TokenReviewSpec", "audiences"),
    atomic("io.k8s.api.authentication.v1.TokenReviewStatus", "audiences"),
    atomic("io.k8s.api.authentication.v1.UserInfo", "groups"),
    atomic("io.k8s.api.authorization.v1.FieldSelectorAttributes", "requirements"),
    atomic("io.k8s.api.authorization.v1.LabelSelectorAttributes", "requirements"),
    atomic("io.k8s.api.authorization.v1.NonResourceRule", "nonResourceURLs"),
    atomic("io.k8s.api.authorization.v1.NonResourceRule", "verbs"),
    atomic("io.k8s.api.authorization.v1.ResourceRule", "apiGroups"),
    atomic("io.k8s.api.authorization.v1.ResourceRule", "resourceNames"),
    atomic("io.k8s.api.authorization.v1.ResourceRule", "resources"),
    atomic("io.k8s.api.authorization.v1.ResourceRule", "verbs"),
    atomic("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", "groups"),
    atomic("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", "nonResourceRules"),
    atomic("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", "resourceRules"),
    atomic("io.k8s.api.autoscaling.v2.HPAScalingRules", "policies"),
    atomic("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics"),
    map("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "currentMetrics"),
    atomic("io.k8s.api.batch.v1.CronJobStatus", "active"),
    atomic("io.k8s.api.batch.v1.JobStatus", "conditions").patch("merge", Some("type")),
    atomic("io.k8s.api.batch.v1.PodFailurePolicy", "rules"),
    set("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "values"),
    atomic("io.k8s.api.batch.v1.PodFailurePolicyRule", "onPodConditions"),
    atomic("io.k8s.api.batch.v1.SuccessPolicy", "rules"),
    set("io.k8s.api.batch.v1.UncountedTerminatedPods", "failed"),
    set("io.k8s.api.batch.v1.UncountedTerminatedPods", "succeeded"),
    atomic("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "groups"),
    atomic("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "request"),
    atomic("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "usages"),
    atomic("io.k8s.api.certificates.v1.CertificateSigningRequestStatus", "certificate"),
    map("io.k8s.api.certificates.v1.CertificateSigningRequestStatus", "conditions", &["type"]),
    atomic("io.k8s.api.core.v1.Capabilities", "add"),
    atomic("io.k8s.api.core.v1.Capabilities", "drop"),
    atomic("io.k8s.api.core.v1.CephFSPersistentVolumeSource", "monitors"),
    atomic("io.k8s.api.core.v1.CephFSVolumeSource", "monitors"),
    map("io.k8s.api.core.v1.ComponentStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.ConfigMapProjection", "items"),
    atomic("io.k8s.api.core.v1.ConfigMapVolumeSource", "items"),
    atomic("io.k8s.api.core.v1.Container", "args"),
    atomic("io.k8s.api.core.v1.Container", "command"),
    map("io.k8s.api.core.v1.Container", "env", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.core.v1.Container", "envFrom"),
    map("io.k8s.api.core.v1.Container", "ports", &["containerPort", "protocol"]).patch("merge", Some("containerPort")),
    atomic("io.k8s.api.core.v1.Container", "resizePolicy"),
    map("io.k8s.api.core.v1.Container", "volumeDevices", &["devicePath"]).patch("merge", Some("devicePath")),
    map("io.k8s.api.core.v1.Container", "volumeMounts", &["mountPath"]).patch("merge", Some("mountPath")),
    atomic("io.k8s.api.core.v1.ContainerImage", "names"),
    map("io.k8s.api.core.v1.ContainerStatus", "allocatedResourcesStatus", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.core.v1.ContainerStatus", "volumeMounts", &["mountPath"]).patch("merge", Some("mountPath")),
    atomic("io.k8s.api.core.v1.DownwardAPIProjection", "items"),
    atomic("io.k8s.api.core.v1.DownwardAPIVolumeSource", "items"),
    atomic("io.k8s.api.core.v1.EndpointSubset", "addresses"),
    atomic("io.k8s.api.core.v1.EndpointSubset", "notReadyAddresses"),
    atomic("io.k8s.api.core.v1.EndpointSubset", "ports"),
    atomic("io.k8s.api.core.v1.Endpoints", "subsets"),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "args"),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "command"),
    map("io.k8s.api.core.v1.EphemeralContainer", "env", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "envFrom"),
    map("io.k8s.api.core.v1.EphemeralContainer", "ports", &["containerPort", "protocol"]).patch("merge", Some("containerPort")),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "resizePolicy"),
    map("io.k8s.api.core.v1.EphemeralContainer", "volumeDevices", &["devicePath"]).patch("merge", Some("devicePath")),
    map("io.k8s.api.core.v1.EphemeralContainer", "volumeMounts", &["mountPath"]).patch("merge", Some("mountPath")),
    atomic("io.k8s.api.core.v1.ExecAction", "command"),
    atomic("io.k8s.api.core.v1.FCVolumeSource", "targetWWNs"),
    atomic("io.k8s.api.core.v1.FCVolumeSource", "wwids"),
    atomic("io.k8s.api.core.v1.HTTPGetAction", "httpHeaders"),
    atomic("io.k8s.api.core.v1.HostAlias", "hostnames"),
    atomic("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", "portals"),
    atomic("io.k8s.api.core.v1.ISCSIVolumeSource", "portals"),
    atomic("io.k8s.api.core.v1.LimitRangeSpec", "limits"),
    atomic("io.k8s.api.core.v1.LinuxContainerUser", "supplementalGroups"),
    atomic("io.k8s.api.core.v1.LoadBalancerIngress", "ports"),
    atomic("io.k8s.api.core.v1.LoadBalancerStatus", "ingress"),
    atomic("io.k8s.api.core.v1.NamespaceSpec", "finalizers"),
    map("io.k8s.api.core.v1.NamespaceStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.NodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"),
    atomic("io.k8s.api.core.v1.NodeSelector", "nodeSelectorTerms"),
    atomic("io.k8s.api.core.v1.NodeSelectorRequirement", "values"),
    atomic("io.k8s.api.core.v1.NodeSelectorTerm", "matchExpressions"),
    atomic("io.k8s.api.core.v1.NodeSelectorTerm", "matchFields"),
    set("io.k8s.api.core.v1.NodeSpec", "podCIDRs").patch("merge", None),
    atomic("io.k8s.api.core.v1.NodeSpec", "taints"),
    map("io.k8s.api.core.v1.NodeStatus", "addresses", &["type"]).patch("merge", Some("type")),
    map("io.k8s.api.core.v1.NodeStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.NodeStatus", "images"),
    atomic("io.k8s.api.core.v1.NodeStatus", "runtimeHandlers"),
    atomic("io.k8s.api.core.v1.NodeStatus", "volumesAttached"),
    atomic("io.k8s.api.core.v1.NodeStatus", "volumesInUse"),
    atomic("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "accessModes"),
    atomic("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "accessModes"),
    map("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.PersistentVolumeSpec", "accessModes"),
    atomic("io.k8s.api.core.v1.PersistentVolumeSpec", "mountOptions"),
    atomic("io.k8s.api.core.v1.PodAffinity", "preferredDuringSchedulingIgnoredDuringExecution"),
    atomic("io.k8s.api.core.v1.PodAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "matchLabelKeys"),
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "mismatchLabelKeys"),
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "namespaces"),
    atomic("io.k8s.api.core.v1.PodAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"),
    atomic("io.k8s.api.core.v1.PodAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
    atomic("io.k8s.api.core.v1.PodDNSConfig", "nameservers"),
    atomic("io.k8s.api.core.v1.PodDNSConfig", "options"),
    atomic("io.k8s.api.core.v1.PodDNSConfig", "searches"),
    atomic("io.k8s.api.core.v1.PodSecurityContext", "supplementalGroups"),
    atomic("io.k8s.api.core.v1.PodSecurityContext", "sysctls"),
    map("io.k8s.api.core.v1.PodSpec", "containers", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.core.v1.PodSpec", "hostAliases", &["ip"]).patch("merge", Some("ip")),
    map("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", &["name"]).patch("merge", Some("name")),
    map("io.k8s.api.core.v1.PodSpec", "initContainers", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.core.v1.PodSpec", "readinessGates"),
    map("io.k8s.api.core.v1.PodSpec", "resourceClaims", &["name"]).patch("merge,retainKeys", Some("name")),
    map("io.k8s.api.core.v1.PodSpec", "schedulingGates", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.core.v1.PodSpec", "tolerations"),
    map("io.k8s.api.core.v1.PodSpec", "topologySpreadConstraints", &["topologyKey", "whenUnsatisfiable"]).patch("merge", Some("topologyKey")),
    map("io.k8s.api.core.v1.PodSpec", "volumes", &["name"]).patch("merge,retainKeys", Some("name")),
    map("io.k8s.api.core.v1.PodStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.PodStatus", "containerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "hostIPs").patch("merge", Some("ip")),
    atomic("io.k8s.api.core.v1.PodStatus", "initContainerStatuses"),
    map("io.k8s.api.core.v1.PodStatus", "podIPs", &["ip"]).patch("merge", Some("ip")),
    map("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses", &["name"]).patch("merge,retainKeys", Some("name")),
    atomic("io.k8s.api.core.v1.ProjectedVolumeSource", "sources"),
    atomic("io.k8s.api.core.v1.RBDPersistentVolumeSource", "monitors"),
    atomic("io.k8s.api.core.v1.RBDVolumeSource", "monitors"),
    map("io.k8s.api.core.v1.ReplicationControllerStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.ResourceQuotaSpec", "scopes"),
    map("io.k8s.api.core.v1.ResourceRequirements", "claims", &["name"]),
    map("io.k8s.api.core.v1.ResourceStatus", "resources", &["resourceID"]),
    atomic("io.k8s.api.core.v1.ScopeSelector", "matchExpressions"),
    atomic("io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "values"),
    atomic("io.k8s.api.core.v1.SecretProjection", "items"),
    atomic("io.k8s.api.core.v1.SecretVolumeSource", "items"),
    atomic("io.k8s.api.core.v1.ServiceAccount", "imagePullSecrets"),
    map("io.k8s.api.core.v1.ServiceAccount", "secrets", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.core.v1.ServiceSpec", "clusterIPs"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "externalIPs"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "ipFamilies"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "loadBalancerSourceRanges"),
    map("io.k8s.api.core.v1.ServiceSpec", "ports", &["port", "protocol"]).patch("merge", Some("port")),
    map("io.k8s.api.core.v1.ServiceStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.core.v1.TopologySelectorLabelRequirement", "values"),
    atomic("io.k8s.api.core.v1.TopologySelectorTerm", "matchLabelExpressions"),
    atomic("io.k8s.api.core.v1.TopologySpreadConstraint", "matchLabelKeys"),
    set("io.k8s.api.discovery.v1.Endpoint", "addresses"),
    atomic("io.k8s.api.discovery.v1.EndpointHints", "forNodes"),
    atomic("io.k8s.api.discovery.v1.EndpointHints", "forZones"),
    atomic("io.k8s.api.discovery.v1.EndpointSlice", "endpoints"),
    atomic("io.k8s.api.discovery.v1.EndpointSlice", "ports"),
    atomic("io.k8s.api.flowcontrol.v1.FlowSchemaSpec", "rules"),
    map("io.k8s.api.flowcontrol.v1.FlowSchemaStatus", "conditions", &["type"]).patch("merge", Some("type")),
    set("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", "nonResourceURLs"),
    set("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", "verbs"),
    atomic("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "nonResourceRules"),
    atomic("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "resourceRules"),
    atomic("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "subjects"),
    map("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus", "conditions", &["type"]).patch("merge", Some("type")),
    set("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "apiGroups"),
    set("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "namespaces"),
    set("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "resources"),
    set("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "verbs"),
    atomic("io.k8s.api.networking.v1.HTTPIngressRuleValue", "paths"),
    atomic("io.k8s.api.networking.v1.IPBlock", "except"),
    atomic("io.k8s.api.networking.v1.IngressLoadBalancerIngress", "ports"),
    atomic("io.k8s.api.networking.v1.IngressLoadBalancerStatus", "ingress"),
    atomic("io.k8s.api.networking.v1.IngressSpec", "rules"),
    atomic("io.k8s.api.networking.v1.IngressSpec", "tls"),
    atomic("io.k8s.api.networking.v1.IngressTLS", "hosts"),
    atomic("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "ports"),
    atomic("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "to"),
    atomic("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "from"),
    atomic("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "ports"),
    atomic("io.k8s.api.networking.v1.NetworkPolicySpec", "egress"),
    atomic("io.k8s.api.networking.v1.NetworkPolicySpec", "ingress"),
    atomic("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes"),
    atomic("io.k8s.api.networking.v1.ServiceCIDRSpec", "cidrs"),
    map("io.k8s.api.networking.v1.ServiceCIDRStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.networking.v1beta1.ServiceCIDRSpec", "cidrs"),
    map("io.k8s.api.networking.v1beta1.ServiceCIDRStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.node.v1.Scheduling", "tolerations"),
    field("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector").patch("replace", None),
    map("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.api.rbac.v1.AggregationRule", "clusterRoleSelectors"),
    atomic("io.k8s.api.rbac.v1.ClusterRole", "rules"),
    atomic("io.k8s.api.rbac.v1.ClusterRoleBinding", "subjects"),
    atomic("io.k8s.api.rbac.v1.PolicyRule", "apiGroups"),
    atomic("io.k8s.api.rbac.v1.PolicyRule", "nonResourceURLs"),
    atomic("io.k8s.api.rbac.v1.PolicyRule", "resourceNames"),
    atomic("io.k8s.api.rbac.v1.PolicyRule", "resources"),
    atomic("io.k8s.api.rbac.v1.PolicyRule", "verbs"),
    atomic("io.k8s.api.rbac.v1.Role", "rules"),
    atomic("io.k8s.api.rbac.v1.RoleBinding", "subjects"),
    map("io.k8s.api.resource.v1alpha3.AllocatedDeviceStatus", "conditions", &["type"]),
    atomic("io.k8s.api.resource.v1alpha3.BasicDevice", "consumesCounters"),
    atomic("io.k8s.api.resource.v1alpha3.BasicDevice", "taints"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceAllocationConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceAllocationResult", "config"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceAllocationResult", "results"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClaim", "config"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClaim", "constraints"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClaim", "requests"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClaimConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClassSpec", "config"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceClassSpec", "selectors"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceConstraint", "requests"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceRequest", "firstAvailable"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceRequest", "selectors"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceRequestAllocationResult", "tolerations"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceSubRequest", "selectors"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceSubRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1alpha3.DeviceTaintSelector", "selectors"),
    atomic("io.k8s.api.resource.v1alpha3.NetworkDeviceData", "ips"),
    map("io.k8s.api.resource.v1alpha3.ResourceClaimStatus", "devices", &["driver", "device", "pool"]),
    map("io.k8s.api.resource.v1alpha3.ResourceClaimStatus", "reservedFor", &["uid"]).patch("merge", Some("uid")),
    atomic("io.k8s.api.resource.v1alpha3.ResourceSliceSpec", "devices"),
    atomic("io.k8s.api.resource.v1alpha3.ResourceSliceSpec", "sharedCounters"),
    map("io.k8s.api.resource.v1beta1.AllocatedDeviceStatus", "conditions", &["type"]),
    atomic("io.k8s.api.resource.v1beta1.BasicDevice", "consumesCounters"),
    atomic("io.k8s.api.resource.v1beta1.BasicDevice", "taints"),
    atomic("io.k8s.api.resource.v1beta1.DeviceAllocationConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1beta1.DeviceAllocationResult", "config"),
    atomic("io.k8s.api.resource.v1beta1.DeviceAllocationResult", "results"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClaim", "config"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClaim", "constraints"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClaim", "requests"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClaimConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClassSpec", "config"),
    atomic("io.k8s.api.resource.v1beta1.DeviceClassSpec", "selectors"),
    atomic("io.k8s.api.resource.v1beta1.DeviceConstraint", "requests"),
    atomic("io.k8s.api.resource.v1beta1.DeviceRequest", "firstAvailable"),
    atomic("io.k8s.api.resource.v1beta1.DeviceRequest", "selectors"),
    atomic("io.k8s.api.resource.v1beta1.DeviceRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1beta1.DeviceRequestAllocationResult", "tolerations"),
    atomic("io.k8s.api.resource.v1beta1.DeviceSubRequest", "selectors"),
    atomic("io.k8s.api.resource.v1beta1.DeviceSubRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1beta1.NetworkDeviceData", "ips"),
    map("io.k8s.api.resource.v1beta1.ResourceClaimStatus", "devices", &["driver", "device", "pool"]),
    map("io.k8s.api.resource.v1beta1.ResourceClaimStatus", "reservedFor", &["uid"]).patch("merge", Some("uid")),
    atomic("io.k8s.api.resource.v1beta1.ResourceSliceSpec", "devices"),
    atomic("io.k8s.api.resource.v1beta1.ResourceSliceSpec", "sharedCounters"),
    map("io.k8s.api.resource.v1beta2.AllocatedDeviceStatus", "conditions", &["type"]),
    atomic("io.k8s.api.resource.v1beta2.Device", "consumesCounters"),
    atomic("io.k8s.api.resource.v1beta2.Device", "taints"),
    atomic("io.k8s.api.resource.v1beta2.DeviceAllocationConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1beta2.DeviceAllocationResult", "config"),
    atomic("io.k8s.api.resource.v1beta2.DeviceAllocationResult", "results"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClaim", "config"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClaim", "constraints"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClaim", "requests"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClaimConfiguration", "requests"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClassSpec", "config"),
    atomic("io.k8s.api.resource.v1beta2.DeviceClassSpec", "selectors"),
    atomic("io.k8s.api.resource.v1beta2.DeviceConstraint", "requests"),
    atomic("io.k8s.api.resource.v1beta2.DeviceRequest", "firstAvailable"),
    atomic("io.k8s.api.resource.v1beta2.DeviceRequestAllocationResult", "tolerations"),
    atomic("io.k8s.api.resource.v1beta2.DeviceSubRequest", "selectors"),
    atomic("io.k8s.api.resource.v1beta2.DeviceSubRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1beta2.ExactDeviceRequest", "selectors"),
    atomic("io.k8s.api.resource.v1beta2.ExactDeviceRequest", "tolerations"),
    atomic("io.k8s.api.resource.v1beta2.NetworkDeviceData", "ips"),
    map("io.k8s.api.resource.v1beta2.ResourceClaimStatus", "devices", &["driver", "device", "pool"]),
    map("io.k8s.api.resource.v1beta2.ResourceClaimStatus", "reservedFor", &["uid"]).patch("merge", Some("uid")),
    atomic("io.k8s.api.resource.v1beta2.ResourceSliceSpec", "devices"),
    atomic("io.k8s.api.resource.v1beta2.ResourceSliceSpec", "sharedCounters"),
    atomic("io.k8s.api.storage.v1.CSIDriverSpec", "tokenRequests"),
    set("io.k8s.api.storage.v1.CSIDriverSpec", "volumeLifecycleModes"),
    atomic("io.k8s.api.storage.v1.CSINodeDriver", "topologyKeys"),
    map("io.k8s.api.storage.v1.CSINodeSpec", "drivers", &["name"]).patch("merge", Some("name")),
    atomic("io.k8s.api.storage.v1.StorageClass", "allowedTopologies"),
    atomic("io.k8s.api.storage.v1.StorageClass", "mountOptions"),
    map("io.k8s.api.storagemigration.v1alpha1.StorageVersionMigrationStatus", "conditions", &["type"]).patch("merge", Some("type")),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames", "categories"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames", "shortNames"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec", "versions"),
    map("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus", "conditions", &["type"]),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus", "storedVersions"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion", "additionalPrinterColumns"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion", "selectableFields"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "allOf"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "anyOf"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "enum"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "oneOf"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "required"),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-list-map-keys"),
    map("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-validations", &["rule"]).patch("merge", Some("rule")),
    atomic("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion", "conversionReviewVersions"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "serverAddressByClientCIDRs"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "versions"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", "groups"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "categories"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "shortNames"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "resources"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "serverAddressByClientCIDRs"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "versions"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "dryRun"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", "values"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "matchExpressions"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "values"),
    set("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers").patch("merge", None),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "managedFields"),
    map("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", &["uid"]).patch("merge", Some("uid")),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.Status", "details"),
    atomic("io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", "causes"),
    atomic("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec", "caBundle"),
    map("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus", "conditions", &["type"]).patch("merge", Some("type")),
];

#[rustfmt::skip]
pub static FIELD_TYPES: &[FieldType] = &[
    object("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    list_of("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", "webhooks", "io.k8s.api.admissionregistration.v1.MutatingWebhook"),
    object("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy", "spec", "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec"),
    object("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    list_of("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", "webhooks", "io.k8s.api.admissionregistration.v1.ValidatingWebhook"),
    object("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicy", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicy", "spec", "io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicySpec"),
    object("io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicyBinding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicy", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicy", "spec", "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicySpec"),
    object("io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBinding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apiserverinternal.v1alpha1.StorageVersion", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.ControllerRevision", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.DaemonSet", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.DaemonSet", "spec", "io.k8s.api.apps.v1.DaemonSetSpec"),
    object("io.k8s.api.apps.v1.DaemonSet", "status", "io.k8s.api.apps.v1.DaemonSetStatus"),
    object("io.k8s.api.apps.v1.DaemonSetSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.apps.v1.Deployment", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.Deployment", "spec", "io.k8s.api.apps.v1.DeploymentSpec"),
    object("io.k8s.api.apps.v1.Deployment", "status", "io.k8s.api.apps.v1.DeploymentStatus"),
    object("io.k8s.api.apps.v1.DeploymentSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.apps.v1.ReplicaSet", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.ReplicaSet", "spec", "io.k8s.api.apps.v1.ReplicaSetSpec"),
    object("io.k8s.api.apps.v1.ReplicaSet", "status", "io.k8s.api.apps.v1.ReplicaSetStatus"),
    object("io.k8s.api.apps.v1.ReplicaSetSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.apps.v1.StatefulSet", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.apps.v1.StatefulSet", "spec", "io.k8s.api.apps.v1.StatefulSetSpec"),
    object("io.k8s.api.apps.v1.StatefulSet", "status", "io.k8s.api.apps.v1.StatefulSetStatus"),
    object("io.k8s.api.apps.v1.StatefulSetSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    list_of("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates", "io.k8s.api.core.v1.PersistentVolumeClaim"),
    object("io.k8s.api.authentication.v1.SelfSubjectReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authentication.v1.TokenRequest", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authentication.v1.TokenReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authorization.v1.LocalSubjectAccessReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authorization.v1.SelfSubjectAccessReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authorization.v1.SelfSubjectRulesReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.authorization.v1.SubjectAccessReview", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.autoscaling.v1.Scale", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", "status", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus"),
    object("io.k8s.api.batch.v1.CronJob", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.batch.v1.CronJob", "spec", "io.k8s.api.batch.v1.CronJobSpec"),
    object("io.k8s.api.batch.v1.CronJobSpec", "jobTemplate", "io.k8s.api.batch.v1.JobTemplateSpec"),
    object("io.k8s.api.batch.v1.Job", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.batch.v1.Job", "spec", "io.k8s.api.batch.v1.JobSpec"),
    object("io.k8s.api.batch.v1.Job", "status", "io.k8s.api.batch.v1.JobStatus"),
    object("io.k8s.api.batch.v1.JobSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.batch.v1.JobTemplateSpec", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.batch.v1.JobTemplateSpec", "spec", "io.k8s.api.batch.v1.JobSpec"),
    object("io.k8s.api.certificates.v1.CertificateSigningRequest", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.certificates.v1alpha1.ClusterTrustBundle", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.certificates.v1beta1.ClusterTrustBundle", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.coordination.v1.Lease", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.coordination.v1alpha2.LeaseCandidate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.coordination.v1beta1.LeaseCandidate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Binding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.ComponentStatus", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.ConfigMap", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Endpoints", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.EphemeralVolumeSource", "volumeClaimTemplate", "io.k8s.api.core.v1.PersistentVolumeClaimTemplate"),
    object("io.k8s.api.core.v1.Event", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.LimitRange", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Namespace", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Namespace", "status", "io.k8s.api.core.v1.NamespaceStatus"),
    object("io.k8s.api.core.v1.Node", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Node", "spec", "io.k8s.api.core.v1.NodeSpec"),
    object("io.k8s.api.core.v1.Node", "status", "io.k8s.api.core.v1.NodeStatus"),
    object("io.k8s.api.core.v1.PersistentVolume", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.PersistentVolumeClaim", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.PersistentVolumeClaim", "status", "io.k8s.api.core.v1.PersistentVolumeClaimStatus"),
    object("io.k8s.api.core.v1.PersistentVolumeClaimTemplate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Pod", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Pod", "spec", "io.k8s.api.core.v1.PodSpec"),
    object("io.k8s.api.core.v1.Pod", "status", "io.k8s.api.core.v1.PodStatus"),
    list_of("io.k8s.api.core.v1.PodSpec", "containers", "io.k8s.api.core.v1.Container"),
    list_of("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", "io.k8s.api.core.v1.EphemeralContainer"),
    list_of("io.k8s.api.core.v1.PodSpec", "initContainers", "io.k8s.api.core.v1.Container"),
    list_of("io.k8s.api.core.v1.PodSpec", "volumes", "io.k8s.api.core.v1.Volume"),
    list_of("io.k8s.api.core.v1.PodStatus", "containerStatuses", "io.k8s.api.core.v1.ContainerStatus"),
    list_of("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses", "io.k8s.api.core.v1.ContainerStatus"),
    list_of("io.k8s.api.core.v1.PodStatus", "initContainerStatuses", "io.k8s.api.core.v1.ContainerStatus"),
    object("io.k8s.api.core.v1.PodTemplate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.PodTemplate", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.core.v1.PodTemplateSpec", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.PodTemplateSpec", "spec", "io.k8s.api.core.v1.PodSpec"),
    object("io.k8s.api.core.v1.ReplicationController", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.ReplicationController", "spec", "io.k8s.api.core.v1.ReplicationControllerSpec"),
    object("io.k8s.api.core.v1.ReplicationController", "status", "io.k8s.api.core.v1.ReplicationControllerStatus"),
    object("io.k8s.api.core.v1.ReplicationControllerSpec", "template", "io.k8s.api.core.v1.PodTemplateSpec"),
    object("io.k8s.api.core.v1.ResourceQuota", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Secret", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Service", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Service", "spec", "io.k8s.api.core.v1.ServiceSpec"),
    object("io.k8s.api.core.v1.Service", "status", "io.k8s.api.core.v1.ServiceStatus"),
    object("io.k8s.api.core.v1.ServiceAccount", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.core.v1.Volume", "ephemeral", "io.k8s.api.core.v1.EphemeralVolumeSource"),
    object("io.k8s.api.discovery.v1.EndpointSlice", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.events.v1.Event", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.flowcontrol.v1.FlowSchema", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.flowcontrol.v1.FlowSchema", "status", "io.k8s.api.flowcontrol.v1.FlowSchemaStatus"),
    object("io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration", "status", "io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus"),
    object("io.k8s.api.networking.v1.IPAddress", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1.Ingress", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1.IngressClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1.NetworkPolicy", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1.ServiceCIDR", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1.ServiceCIDR", "status", "io.k8s.api.networking.v1.ServiceCIDRStatus"),
    object("io.k8s.api.networking.v1beta1.IPAddress", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1beta1.ServiceCIDR", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.networking.v1beta1.ServiceCIDR", "status", "io.k8s.api.networking.v1beta1.ServiceCIDRStatus"),
    object("io.k8s.api.node.v1.RuntimeClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.policy.v1.Eviction", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.policy.v1.PodDisruptionBudget", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.policy.v1.PodDisruptionBudget", "spec", "io.k8s.api.policy.v1.PodDisruptionBudgetSpec"),
    object("io.k8s.api.policy.v1.PodDisruptionBudget", "status", "io.k8s.api.policy.v1.PodDisruptionBudgetStatus"),
    object("io.k8s.api.rbac.v1.ClusterRole", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.rbac.v1.ClusterRoleBinding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.rbac.v1.Role", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.rbac.v1.RoleBinding", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.DeviceClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.DeviceTaintRule", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.ResourceClaim", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.ResourceClaim", "status", "io.k8s.api.resource.v1alpha3.ResourceClaimStatus"),
    object("io.k8s.api.resource.v1alpha3.ResourceClaimTemplate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.ResourceClaimTemplate", "spec", "io.k8s.api.resource.v1alpha3.ResourceClaimTemplateSpec"),
    object("io.k8s.api.resource.v1alpha3.ResourceClaimTemplateSpec", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1alpha3.ResourceSlice", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta1.DeviceClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta1.ResourceClaim", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta1.ResourceClaim", "status", "io.k8s.api.resource.v1beta1.ResourceClaimStatus"),
    object("io.k8s.api.resource.v1beta1.ResourceClaimTemplate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta1.ResourceClaimTemplate", "spec", "io.k8s.api.resource.v1beta1.ResourceClaimTemplateSpec"),
    object("io.k8s.api.resource.v1beta1.ResourceClaimTemplateSpec", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta1.ResourceSlice", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta2.DeviceClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta2.ResourceClaim", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta2.ResourceClaim", "status", "io.k8s.api.resource.v1beta2.ResourceClaimStatus"),
    object("io.k8s.api.resource.v1beta2.ResourceClaimTemplate", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta2.ResourceClaimTemplate", "spec", "io.k8s.api.resource.v1beta2.ResourceClaimTemplateSpec"),
    object("io.k8s.api.resource.v1beta2.ResourceClaimTemplateSpec", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.resource.v1beta2.ResourceSlice", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.scheduling.v1.PriorityClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1.CSIDriver", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1.CSINode", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1.CSINode", "spec", "io.k8s.api.storage.v1.CSINodeSpec"),
    object("io.k8s.api.storage.v1.CSIStorageCapacity", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1.StorageClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1.VolumeAttachment", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1alpha1.VolumeAttributesClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storage.v1beta1.VolumeAttributesClass", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storagemigration.v1alpha1.StorageVersionMigration", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.api.storagemigration.v1alpha1.StorageVersionMigration", "status", "io.k8s.api.storagemigration.v1alpha1.StorageVersionMigrationStatus"),
    object("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", "spec", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec"),
    list_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec", "versions", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion"),
    object("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion", "schema", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceValidation"),
    object("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceValidation", "openAPIV3Schema", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    list_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "allOf", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    list_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "anyOf", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    map_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "definitions", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    list_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "oneOf", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    map_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "patternProperties", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    map_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "properties", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
    object("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", "metadata", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
    object("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", "status", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus"),
];

#[rustfmt::skip]
pub static ROOT_KINDS: &[RootKind] = &[
    root("", "v1", "Binding", "io.k8s.api.core.v1.Binding"),
    root("", "v1", "ComponentStatus", "io.k8s.api.core.v1.ComponentStatus"),
    root("", "v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap"),
    root("", "v1", "Endpoints", "io.k8s.api.core.v1.Endpoints"),
    root("", "v1", "Event", "io.k8s.api.core.v1.Event"),
    root("", "v1", "LimitRange", "io.k8s.api.core.v1.LimitRange"),
    root("", "v1", "Namespace", "io.k8s.api.core.v1.Namespace"),
    root("", "v1", "Node", "io.k8s.api.core.v1.Node"),
    root("", "v1", "PersistentVolume", "io.k8s.api.core.v1.PersistentVolume"),
    root("", "v1", "PersistentVolumeClaim", "io.k8s.api.core.v1.PersistentVolumeClaim"),
    root("", "v1", "Pod", "io.k8s.api.core.v1.Pod"),
    root("", "v1", "PodTemplate", "io.k8s.api.core.v1.PodTemplate"),
    root("", "v1", "ReplicationController", "io.k8s.api.core.v1.ReplicationController"),
    root("", "v1", "ResourceQuota", "io.k8s.api.core.v1.ResourceQuota"),
    root("", "v1", "Secret", "io.k8s.api.core.v1.Secret"),
    root("", "v1", "Service", "io.k8s.api.core.v1.Service"),
    root("", "v1", "ServiceAccount", "io.k8s.api.core.v1.ServiceAccount"),
    root("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration"),
    root("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy"),
    root("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"),
    root("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration"),
    root("admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicy", "io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicy"),
    root("admissionregistration.k8s.io", "v1alpha1", "MutatingAdmissionPolicyBinding", "io.k8s.api.admissionregistration.v1alpha1.MutatingAdmissionPolicyBinding"),
    root("admissionregistration.k8s.io", "v1beta1", "ValidatingAdmissionPolicy", "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicy"),
    root("admissionregistration.k8s.io", "v1beta1", "ValidatingAdmissionPolicyBinding", "io.k8s.api.admissionregistration.v1beta1.ValidatingAdmissionPolicyBinding"),
    root("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"),
    root("apiregistration.k8s.io", "v1", "APIService", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"),
    root("apps", "v1", "ControllerRevision", "io.k8s.api.apps.v1.ControllerRevision"),
    root("apps", "v1", "DaemonSet", "io.k8s.api.apps.v1.DaemonSet"),
    root("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
    root("apps", "v1", "ReplicaSet", "io.k8s.api.apps.v1.ReplicaSet"),
    root("apps", "v1", "StatefulSet", "io.k8s.api.apps.v1.StatefulSet"),
    root("authentication.k8s.io", "v1", "SelfSubjectReview", "io.k8s.api.authentication.v1.SelfSubjectReview"),
    root("authentication.k8s.io", "v1", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest"),
    root("authentication.k8s.io", "v1", "TokenReview", "io.k8s.api.authentication.v1.TokenReview"),
    root("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "io.k8s.api.authorization.v1.LocalSubjectAccessReview"),
    root("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "io.k8s.api.authorization.v1.SelfSubjectAccessReview"),
    root("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "io.k8s.api.authorization.v1.SelfSubjectRulesReview"),
    root("authorization.k8s.io", "v1", "SubjectAccessReview", "io.k8s.api.authorization.v1.SubjectAccessReview"),
    root("autoscaling", "v1", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"),
    root("autoscaling", "v1", "Scale", "io.k8s.api.autoscaling.v1.Scale"),
    root("autoscaling", "v2", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"),
    root("batch", "v1", "CronJob", "io.k8s.api.batch.v1.CronJob"),
    root("batch", "v1", "Job", "io.k8s.api.batch.v1.Job"),
    root("certificates.k8s.io", "v1", "CertificateSigningRequest", "io.k8s.api.certificates.v1.CertificateSigningRequest"),
    root("certificates.k8s.io", "v1alpha1", "ClusterTrustBundle", "io.k8s.api.certificates.v1alpha1.ClusterTrustBundle"),
    root("certificates.k8s.io", "v1beta1", "ClusterTrustBundle", "io.k8s.api.certificates.v1beta1.ClusterTrustBundle"),
    root("coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease"),
    root("coordination.k8s.io", "v1alpha2", "LeaseCandidate", "io.k8s.api.coordination.v1alpha2.LeaseCandidate"),
    root("coordination.k8s.io", "v1beta1", "LeaseCandidate", "io.k8s.api.coordination.v1beta1.LeaseCandidate"),
    root("discovery.k8s.io", "v1", "EndpointSlice", "io.k8s.api.discovery.v1.EndpointSlice"),
    root("events.k8s.io", "v1", "Event", "io.k8s.api.events.v1.Event"),
    root("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "io.k8s.api.flowcontrol.v1.FlowSchema"),
    root("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration"),
    root("internal.apiserver.k8s.io", "v1alpha1", "StorageVersion", "io.k8s.api.apiserverinternal.v1alpha1.StorageVersion"),
    root("networking.k8s.io", "v1", "IPAddress", "io.k8s.api.networking.v1.IPAddress"),
    root("networking.k8s.io", "v1", "Ingress", "io.k8s.api.networking.v1.Ingress"),
    root("networking.k8s.io", "v1", "IngressClass", "io.k8s.api.networking.v1.IngressClass"),
    root("networking.k8s.io", "v1", "NetworkPolicy", "io.k8s.api.networking.v1.NetworkPolicy"),
    root("networking.k8s.io", "v1", "ServiceCIDR", "io.k8s.api.networking.v1.ServiceCIDR"),
    root("networking.k8s.io", "v1beta1", "IPAddress", "io.k8s.api.networking.v1beta1.IPAddress"),
    root("networking.k8s.io", "v1beta1", "ServiceCIDR", "io.k8s.api.networking.v1beta1.ServiceCIDR"),
    root("node.k8s.io", "v1", "RuntimeClass", "io.k8s.api.node.v1.RuntimeClass"),
    root("policy", "v1", "Eviction", "io.k8s.api.policy.v1.Eviction"),
    root("policy", "v1", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget"),
    root("rbac.authorization.k8s.io", "v1", "ClusterRole", "io.k8s.api.rbac.v1.ClusterRole"),
    root("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "io.k8s.api.rbac.v1.ClusterRoleBinding"),
    root("rbac.authorization.k8s.io", "v1", "Role", "io.k8s.api.rbac.v1.Role"),
    root("rbac.authorization.k8s.io", "v1", "RoleBinding", "io.k8s.api.rbac.v1.RoleBinding"),
    root("resource.k8s.io", "v1alpha3", "DeviceClass", "io.k8s.api.resource.v1alpha3.DeviceClass"),
    root("resource.k8s.io", "v1alpha3", "DeviceTaintRule", "io.k8s.api.resource.v1alpha3.DeviceTaintRule"),
    root("resource.k8s.io", "v1alpha3", "ResourceClaim", "io.k8s.api.resource.v1alpha3.ResourceClaim"),
    root("resource.k8s.io", "v1alpha3", "ResourceClaimTemplate", "io.k8s.api.resource.v1alpha3.ResourceClaimTemplate"),
    root("resource.k8s.io", "v1alpha3", "ResourceSlice", "io.k8s.api.resource.v1alpha3.ResourceSlice"),
    root("resource.k8s.io", "v1beta1", "DeviceClass", "io.k8s.api.resource.v1beta1.DeviceClass"),
    root("resource.k8s.io", "v1beta1", "ResourceClaim", "io.k8s.api.resource.v1beta1.ResourceClaim"),
    root("resource.k8s.io", "v1beta1", "ResourceClaimTemplate", "io.k8s.api.resource.v1beta1.ResourceClaimTemplate"),
    root("resource.k8s.io", "v1beta1", "ResourceSlice", "io.k8s.api.resource.v1beta1.ResourceSlice"),
    root("resource.k8s.io", "v1beta2", "DeviceClass", "io.k8s.api.resource.v1beta2.DeviceClass"),
    root("resource.k8s.io", "v1beta2", "ResourceClaim", "io.k8s.api.resource.v1beta2.ResourceClaim"),
    root("resource.k8s.io", "v1beta2", "ResourceClaimTemplate", "io.k8s.api.resource.v1beta2.ResourceClaimTemplate"),
    root("resource.k8s.io", "v1beta2", "ResourceSlice", "io.k8s.api.resource.v1beta2.ResourceSlice"),
    root("scheduling.k8s.io", "v1", "PriorityClass", "io.k8s.api.scheduling.v1.PriorityClass"),
    root("storage.k8s.io", "v1", "CSIDriver", "io.k8s.api.storage.v1.CSIDriver"),
    root("storage.k8s.io", "v1", "CSINode", "io.k8s.api.storage.v1.CSINode"),
    root("storage.k8s.io", "v1", "CSIStorageCapacity", "io.k8s.api.storage.v1.CSIStorageCapacity"),
    root("storage.k8s.io", "v1", "StorageClass", "io.k8s.api.storage.v1.StorageClass"),
    root("storage.k8s.io", "v1", "VolumeAttachment", "io.k8s.api.storage.v1.VolumeAttachment"),
    root("storage.k8s.io", "v1alpha1", "VolumeAttributesClass", "io.k8s.api.storage.v1alpha1.VolumeAttributesClass"),
    root("storage.k8s.io", "v1beta1", "VolumeAttributesClass", "io.k8s.api.storage.v1beta1.VolumeAttributesClass"),
    root("storagemigration.k8s.io", "v1alpha1", "StorageVersionMigration", "io.k8s.api.storagemigration.v1alpha1.StorageVersionMigration"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::PatchMeta;
    use k8s_openapi::Resource;

    #[test]
    fn tables_are_sorted_and_unique() {
        for pair in PATCH_META.windows(2) {
            assert!(
                (pair[0].type_name, pair[0].field) < (pair[1].type_name, pair[1].field),
                "PATCH_META out of order at {}.{}",
                pair[1].type_name,
                pair[1].field
            );
        }
        for pair in FIELD_TYPES.windows(2) {
            assert!(
                (pair[0].type_name, pair[0].field) < (pair[1].type_name, pair[1].field),
                "FIELD_TYPES out of order at {}.{}",
                pair[1].type_name,
                pair[1].field
            );
        }
        for pair in ROOT_KINDS.windows(2) {
            assert!(
                (pair[0].group, pair[0].version, pair[0].kind)
                    < (pair[1].group, pair[1].version, pair[1].kind),
                "ROOT_KINDS out of order at {}/{} {}",
                pair[1].group,
                pair[1].version,
                pair[1].kind
            );
        }
    }

    #[test]
    fn every_entry_is_consistent() {
        for entry in PATCH_META {
            let meta = PatchMeta::parse(entry.field, entry.patch_strategy, None);
            assert!(meta.is_ok(), "{}.{}", entry.type_name, entry.field);
            assert_eq!(
                entry.list_type == Some(ListType::Map),
                !entry.list_map_keys.is_empty(),
                "{}.{}: list map keys belong to map lists",
                entry.type_name,
                entry.field
            );
            if let Some(merge_key) = entry.patch_merge_key {
                assert_eq!(
                    entry.patch_strategy.map(|s| s.contains("merge")),
                    Some(true)
                );
                if entry.list_type == Some(ListType::Map) {
                    assert!(
                        entry.list_map_keys.contains(&merge_key),
                        "{}.{}: merge key is one of the list map keys",
                        entry.type_name,
                        entry.field
                    );
                }
            }
        }

        // Every listed edge leads to a type that has patch metadata or further edges.
        for edge in FIELD_TYPES {
            let has_meta = PATCH_META
                .iter()
                .any(|entry| entry.type_name == edge.value_type && entry.patch_strategy.is_some());
            let has_edges = FIELD_TYPES
                .iter()
                .any(|other| other.type_name == edge.value_type);
            assert!(
                has_meta || has_edges,
                "{}.{} leads nowhere",
                edge.type_name,
                edge.field
            );
        }
        for root in ROOT_KINDS {
            assert!(
                FIELD_TYPES
                    .iter()
                    .any(|edge| edge.type_name == root.type_name),
                "root {} has no walkable field",
                root.kind
            );
        }
    }

    #[test]
    fn known_merge_keys() {
        let cases = [
            (
                "io.k8s.api.core.v1.PodSpec",
                "containers",
                Some("merge"),
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "initContainers",
                Some("merge"),
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "volumes",
                Some("merge,retainKeys"),
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "imagePullSecrets",
                Some("merge"),
                Some("name"),
            ),
            ("io.k8s.api.core.v1.PodSpec", "tolerations", None, None),
            (
                "io.k8s.api.core.v1.Container",
                "ports",
                Some("merge"),
                Some("containerPort"),
            ),
            (
                "io.k8s.api.core.v1.Container",
                "env",
                Some("merge"),
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.Container",
                "volumeMounts",
                Some("merge"),
                Some("mountPath"),
            ),
            (
                "io.k8s.api.core.v1.Container",
                "volumeDevices",
                Some("merge"),
                Some("devicePath"),
            ),
            (
                "io.k8s.api.core.v1.EphemeralContainer",
                "env",
                Some("merge"),
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.ServiceSpec",
                "ports",
                Some("merge"),
                Some("port"),
            ),
            (
                "io.k8s.api.core.v1.NodeStatus",
                "addresses",
                Some("merge"),
                Some("type"),
            ),
            (
                "io.k8s.api.core.v1.NodeSpec",
                "podCIDRs",
                Some("merge"),
                None,
            ),
            (
                "io.k8s.api.apps.v1.DeploymentSpec",
                "strategy",
                Some("retainKeys"),
                None,
            ),
            (
                "io.k8s.api.apps.v1.DeploymentStatus",
                "conditions",
                Some("merge"),
                Some("type"),
            ),
            (
                "io.k8s.api.batch.v1.JobStatus",
                "conditions",
                Some("merge"),
                Some("type"),
            ),
            (
                "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
                "selector",
                Some("replace"),
                None,
            ),
            (
                "io.k8s.api.storage.v1.CSINodeSpec",
                "drivers",
                Some("merge"),
                Some("name"),
            ),
            (
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "ownerReferences",
                Some("merge"),
                Some("uid"),
            ),
            (
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                "finalizers",
                Some("merge"),
                None,
            ),
            (
                "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus",
                "conditions",
                Some("merge"),
                Some("type"),
            ),
        ];
        for (type_name, field, strategy, merge_key) in cases {
            let entry = patch_meta(type_name, field);
            assert_eq!(
                entry.and_then(|e| e.patch_strategy),
                strategy,
                "{type_name}.{field}"
            );
            assert_eq!(
                entry.and_then(|e| e.patch_merge_key),
                merge_key,
                "{type_name}.{field}"
            );
        }
        assert_eq!(
            patch_meta("io.k8s.api.core.v1.Container", "ports").map(|e| e.list_map_keys),
            Some(&["containerPort", "protocol"][..])
        );
        assert_eq!(
            patch_meta("io.k8s.api.core.v1.PodSpec", "tolerations").and_then(|e| e.list_type),
            Some(ListType::Atomic)
        );
        // Role rules and binding subjects are plain (atomic) lists without a strategy.
        assert_eq!(
            patch_meta("io.k8s.api.rbac.v1.Role", "rules").and_then(|e| e.patch_strategy),
            None
        );
    }

    #[test]
    fn walk_from_deployment_to_container_ports() {
        let root = root_type_for_kind("apps", "v1", "Deployment").expect("Deployment");
        let mut type_name = root;
        for field in ["spec", "template", "spec", "containers"] {
            type_name = field_type(type_name, field)
                .unwrap_or_else(|| panic!("{type_name}.{field}"))
                .value_type;
        }
        assert_eq!(type_name, "io.k8s.api.core.v1.Container");
        assert_eq!(
            field_type("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates")
                .map(|e| e.shape),
            Some(FieldShape::List)
        );
    }

    fn assert_root<T: Resource>() {
        let type_name = root_type_for_kind(T::GROUP, T::VERSION, T::KIND)
            .unwrap_or_else(|| panic!("{} {} {} missing", T::GROUP, T::VERSION, T::KIND));
        assert!(type_name.ends_with(&format!(".{}", T::KIND)), "{type_name}");
        assert!(
            type_name.contains(&format!(".{}.", T::VERSION)),
            "{type_name}"
        );
    }

    #[test]
    fn root_kinds_cover_builtin_resources() {
        use k8s_openapi::api::{
            apps, batch, coordination, core, discovery, networking, policy, rbac, storage,
        };
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
        use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;

        assert_root::<core::v1::Pod>();
        assert_root::<core::v1::Service>();
        assert_root::<core::v1::ConfigMap>();
        assert_root::<core::v1::Secret>();
        assert_root::<core::v1::Node>();
        assert_root::<core::v1::Namespace>();
        assert_root::<core::v1::PersistentVolumeClaim>();
        assert_root::<core::v1::ServiceAccount>();
        assert_root::<core::v1::Endpoints>();
        assert_root::<core::v1::Event>();
        assert_root::<apps::v1::Deployment>();
        assert_root::<apps::v1::StatefulSet>();
        assert_root::<apps::v1::DaemonSet>();
        assert_root::<apps::v1::ReplicaSet>();
        assert_root::<batch::v1::Job>();
        assert_root::<batch::v1::CronJob>();
        assert_root::<networking::v1::Ingress>();
        assert_root::<networking::v1::NetworkPolicy>();
        assert_root::<policy::v1::PodDisruptionBudget>();
        assert_root::<rbac::v1::Role>();
        assert_root::<rbac::v1::ClusterRoleBinding>();
        assert_root::<storage::v1::StorageClass>();
        assert_root::<storage::v1::CSINode>();
        assert_root::<coordination::v1::Lease>();
        assert_root::<discovery::v1::EndpointSlice>();
        assert_root::<apiextensions::v1::CustomResourceDefinition>();
        assert_root::<apiregistration::v1::APIService>();

        assert_eq!(
            root_type_for_kind("", "v1", "Pod"),
            Some("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(root_type_for_kind("example.com", "v1", "Widget"), None);
        assert_eq!(root_type_for_kind("apps", "v1beta1", "Deployment"), None);
    }
}
