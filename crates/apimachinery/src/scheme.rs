//! The scheme: every built-in resource a Kubernetes v1.33 apiserver serves by default, with
//! what discovery reports for it (kind, scope, verbs, short names, categories,
//! subresources) and where it is stored.
//!
//! Entry points: [`RESOURCES`] and [`API_GROUPS`] for the tables, [`find_by_gvr`] and
//! [`find_by_gvk`] for exact lookups, and [`resolve`] for the names a user types
//! (`po`, `deploy`, `Service`, `deployments.apps`, `hpa.v1.autoscaling`).
//!
//! The verbs, short names and categories match what `kubectl api-resources -o wide` shows
//! against a v1.33 apiserver. Storage prefixes follow upstream's etcd layout,
//! `/registry/<resource>`, with the historical exceptions noted on each entry.

use crate::meta::{GroupResource, GroupVersion, GroupVersionKind, GroupVersionResource};

/// One API group and the versions it serves, most preferred first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiGroupInfo {
    /// Group name, empty for the core (legacy) group served under `/api`.
    pub name: &'static str,
    /// Served versions in preference order.
    pub versions: &'static [&'static str],
}

impl ApiGroupInfo {
    /// Returns the preferred version (the first one).
    pub fn preferred_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or("")
    }
}

/// Groups in the order discovery lists them (upstream's group priority: core first, then
/// the aggregator's own group, then apps, events, ...). Ties in upstream's priority table
/// are broken by name, which puts admissionregistration before apiextensions.
pub static API_GROUPS: &[ApiGroupInfo] = &[
    ApiGroupInfo {
        name: "",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "apiregistration.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "apps",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "events.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "authentication.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "authorization.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "autoscaling",
        versions: &["v2", "v1"],
    },
    ApiGroupInfo {
        name: "batch",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "certificates.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "networking.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "policy",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "rbac.authorization.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "storage.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "admissionregistration.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "apiextensions.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "scheduling.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "coordination.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "node.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "discovery.k8s.io",
        versions: &["v1"],
    },
    ApiGroupInfo {
        name: "flowcontrol.apiserver.k8s.io",
        versions: &["v1"],
    },
];

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubresourceInfo {
    /// Subresource name, such as `status`.
    pub name: &'static str,
    /// Group of the kind it takes and returns when that differs from the parent's
    /// (`autoscaling` for `scale`), or empty.
    pub group: &'static str,
    /// Version of that kind when it differs from the parent's, or empty.
    pub version: &'static str,
    /// Kind it takes and returns, such as `Scale` or `PodExecOptions`.
    pub kind: &'static str,
    /// Verbs discovery lists for it.
    pub verbs: &'static [&'static str],
}

/// One served resource at one version, as discovery describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, empty for core.
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Plural, lower-case resource name used in URLs.
    pub resource: &'static str,
    /// Singular name (`singularName` in discovery).
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Verbs, sorted as discovery lists them.
    pub verbs: &'static [&'static str],
    /// Short names, such as `po`.
    pub short_names: &'static [&'static str],
    /// Categories, such as `all`.
    pub categories: &'static [&'static str],
    /// Subresources, sorted by name.
    pub subresources: &'static [SubresourceInfo],
    /// Storage path under `/registry`, or `None` for resources that are never stored
    /// (reviews, bindings, component statuses).
    pub storage_path: Option<&'static str>,
}

impl ResourceInfo {
    const fn new(
        group: &'static str,
        version: &'static str,
        resource: &'static str,
        singular: &'static str,
        kind: &'static str,
        namespaced: bool,
    ) -> Self {
        Self {
            group,
            version,
            resource,
            singular,
            kind,
            namespaced,
            verbs: CRUD,
            short_names: &[],
            categories: &[],
            subresources: &[],
            storage_path: Some(resource),
        }
    }

    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }

    const fn short_names(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }

    const fn categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }

    const fn subresources(mut self, subresources: &'static [SubresourceInfo]) -> Self {
        self.subresources = subresources;
        self
    }

    const fn stored_at(mut self, path: &'static str) -> Self {
        self.storage_path = Some(path);
        self
    }

    const fn not_stored(mut self) -> Self {
        self.storage_path = None;
        self
    }

    /// Returns the group, version and resource.
    pub fn gvr(&self) -> GroupVersionResource {
        GroupVersionResource::new(self.group, self.version, self.resource)
    }

    /// Returns the group, version and kind.
    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::new(self.group, self.version, self.kind)
    }

    /// Returns the group-qualified resource used in error messages (`deployments.apps`).
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.group, self.resource)
    }

    /// Returns the group and version.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group, self.version)
    }

    /// Returns the kind of the list type, such as `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Returns whether discovery lists the verb.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Returns the subresource with that name.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceInfo> {
        self.subresources
            .iter()
            .find(|subresource| subresource.name == name)
    }

    /// Returns the etcd key prefix, such as `/registry/pods` or `/registry/minions`.
    /// Objects live at `<prefix>/<namespace>/<name>` or `<prefix>/<name>`.
    pub fn storage_prefix(&self) -> Option<String> {
        self.storage_path.map(|path| format!("/registry/{path}"))
    }

    /// Returns the group, version and kind objects are stored as. Upstream stores
    /// `events.k8s.io` events as core v1 Events and autoscaling/v1 HorizontalPodAutoscalers
    /// as autoscaling/v2, so each pair shares one storage path.
    pub fn storage_gvk(&self) -> GroupVersionKind {
        match (self.group, self.resource) {
            ("events.k8s.io", "events") => GroupVersionKind::new("", "v1", "Event"),
            ("autoscaling", "horizontalpodautoscalers") => {
                GroupVersionKind::new("autoscaling", "v2", "HorizontalPodAutoscaler")
            }
            _ => self.gvk(),
        }
    }
}

const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE: &[&str] = &["create"];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CONNECT: &[&str] = &["create", "get"];
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];
const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];

const fn sub(
    name: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> SubresourceInfo {
    SubresourceInfo {
        name,
        group: "",
        version: "",
        kind,
        verbs,
    }
}

const fn sub_in(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> SubresourceInfo {
    SubresourceInfo {
        name,
        group,
        version,
        kind,
        verbs,
    }
}

const fn status(kind: &'static str) -> SubresourceInfo {
    sub("status", kind, GET_PATCH_UPDATE)
}

const fn scale() -> SubresourceInfo {
    sub_in("scale", "autoscaling", "v1", "Scale", GET_PATCH_UPDATE)
}

const fn core(
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new("", "v1", resource, singular, kind, namespaced)
}

const POD_SUBRESOURCES: &[SubresourceInfo] = &[
    sub("attach", "PodAttachOptions", CONNECT),
    sub("binding", "Binding", CREATE),
    sub("ephemeralcontainers", "Pod", GET_PATCH_UPDATE),
    sub_in("eviction", "policy", "v1", "Eviction", CREATE),
    sub("exec", "PodExecOptions", CONNECT),
    sub("log", "Pod", &["get"]),
    sub("portforward", "PodPortForwardOptions", CONNECT),
    sub("proxy", "PodProxyOptions", PROXY),
    sub("resize", "Pod", GET_PATCH_UPDATE),
    status("Pod"),
];

const HPA_V2: ResourceInfo = ResourceInfo::new(
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    "HorizontalPodAutoscaler",
    true,
)
.short_names(&["hpa"])
.categories(ALL)
.subresources(&[status("HorizontalPodAutoscaler")]);

/// Every built-in resource, grouped in [`API_GROUPS`] order and, within a group, with the
/// preferred version first. [`resolve`] relies on this order to break ties.
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    core("bindings", "binding", "Binding", true)
        .verbs(CREATE)
        .not_stored(),
    core(
        "componentstatuses",
        "componentstatus",
        "ComponentStatus",
        false,
    )
    .verbs(&["get", "list"])
    .short_names(&["cs"])
    .not_stored(),
    core("configmaps", "configmap", "ConfigMap", true).short_names(&["cm"]),
    // Endpoints live beside services in etcd.
    core("endpoints", "endpoints", "Endpoints", true)
        .short_names(&["ep"])
        .stored_at("services/endpoints"),
    core("events", "event", "Event", true).short_names(&["ev"]),
    core("limitranges", "limitrange", "LimitRange", true).short_names(&["limits"]),
    core("namespaces", "namespace", "Namespace", false)
        .verbs(&[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ])
        .short_names(&["ns"])
        .subresources(&[
            sub("finalize", "Namespace", &["update"]),
            status("Namespace"),
        ]),
    // Nodes keep their pre-1.0 name "minions" in etcd.
    core("nodes", "node", "Node", false)
        .short_names(&["no"])
        .subresources(&[sub("proxy", "NodeProxyOptions", PROXY), status("Node")])
        .stored_at("minions"),
    core(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
    )
    .short_names(&["pvc"])
    .subresources(&[status("PersistentVolumeClaim")]),
    core(
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
    )
    .short_names(&["pv"])
    .subresources(&[status("PersistentVolume")]),
    core("pods", "pod", "Pod", true)
        .short_names(&["po"])
        .categories(ALL)
        .subresources(POD_SUBRESOURCES),
    core("podtemplates", "podtemplate", "PodTemplate", true),
    // Replication controllers are stored as "controllers".
    core(
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        true,
    )
    .short_names(&["rc"])
    .categories(ALL)
    .subresources(&[scale(), status("ReplicationController")])
    .stored_at("controllers"),
    core("resourcequotas", "resourcequota", "ResourceQuota", true)
        .short_names(&["quota"])
        .subresources(&[status("ResourceQuota")]),
    core("secrets", "secret", "Secret", true),
    core("serviceaccounts", "serviceaccount", "ServiceAccount", true)
        .short_names(&["sa"])
        .subresources(&[sub_in(
            "token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            CREATE,
        )]),
    // Services are stored under "services/specs", beside "services/endpoints".
    core("services", "service", "Service", true)
        .short_names(&["svc"])
        .categories(ALL)
        .subresources(&[
            sub("proxy", "ServiceProxyOptions", PROXY),
            status("Service"),
        ])
        .stored_at("services/specs"),
    // apiregistration.k8s.io/v1. The aggregator stores its objects under a group-qualified path.
    ResourceInfo::new(
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "apiservice",
        "APIService",
        false,
    )
    .categories(API_EXTENSIONS)
    .subresources(&[status("APIService")])
    .stored_at("apiregistration.k8s.io/apiservices"),
    // apps/v1
    ResourceInfo::new(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
    ),
    ResourceInfo::new("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true)
        .short_names(&["ds"])
        .categories(ALL)
        .subresources(&[status("DaemonSet")]),
    ResourceInfo::new(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
    )
    .short_names(&["deploy"])
    .categories(ALL)
    .subresources(&[scale(), status("Deployment")]),
    ResourceInfo::new(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
    )
    .short_names(&["rs"])
    .categories(ALL)
    .subresources(&[scale(), status("ReplicaSet")]),
    ResourceInfo::new(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
    )
    .short_names(&["sts"])
    .categories(ALL)
    .subresources(&[scale(), status("StatefulSet")]),
    // events.k8s.io/v1 shares storage with core events.
    ResourceInfo::new("events.k8s.io", "v1", "events", "event", "Event", true).short_names(&["ev"]),
    // authentication.k8s.io/v1
    ResourceInfo::new(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "selfsubjectreview",
        "SelfSubjectReview",
        false,
    )
    .verbs(CREATE)
    .not_stored(),
    ResourceInfo::new(
        "authentication.k8s.io",
        "v1",
        "tokenreviews",
        "tokenreview",
        "TokenReview",
        false,
    )
    .verbs(CREATE)
    .not_stored(),
    // authorization.k8s.io/v1
    ResourceInfo::new(
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        "LocalSubjectAccessReview",
        true,
    )
    .verbs(CREATE)
    .not_stored(),
    ResourceInfo::new(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        false,
    )
    .verbs(CREATE)
    .not_stored(),
    ResourceInfo::new(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        "SelfSubjectRulesReview",
        false,
    )
    .verbs(CREATE)
    .not_stored(),
    ResourceInfo::new(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "subjectaccessreview",
        "SubjectAccessReview",
        false,
    )
    .verbs(CREATE)
    .not_stored(),
    // autoscaling: v2 is preferred, and both versions share one storage path.
    HPA_V2,
    ResourceInfo {
        version: "v1",
        ..HPA_V2
    },
    // batch/v1
    ResourceInfo::new("batch", "v1", "cronjobs", "cronjob", "CronJob", true)
        .short_names(&["cj"])
        .categories(ALL)
        .subresources(&[status("CronJob")]),
    ResourceInfo::new("batch", "v1", "jobs", "job", "Job", true)
        .categories(ALL)
        .subresources(&[status("Job")]),
    // certificates.k8s.io/v1
    ResourceInfo::new(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "certificatesigningrequest",
        "CertificateSigningRequest",
        false,
    )
    .short_names(&["csr"])
    .subresources(&[
        sub("approval", "CertificateSigningRequest", GET_PATCH_UPDATE),
        status("CertificateSigningRequest"),
    ]),
    // networking.k8s.io/v1. IPAddress and ServiceCIDR became GA in v1.33.
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        false,
    ),
    // Ingresses are stored under the singular "ingress".
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
    )
    .short_names(&["ing"])
    .subresources(&[status("Ingress")])
    .stored_at("ingress"),
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        "ipaddresses",
        "ipaddress",
        "IPAddress",
        false,
    ),
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
    )
    .short_names(&["netpol"]),
    ResourceInfo::new(
        "networking.k8s.io",
        "v1",
        "servicecidrs",
        "servicecidr",
        "ServiceCIDR",
        false,
    )
    .subresources(&[status("ServiceCIDR")]),
    // policy/v1
    ResourceInfo::new(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
    )
    .short_names(&["pdb"])
    .subresources(&[status("PodDisruptionBudget")]),
    // rbac.authorization.k8s.io/v1
    ResourceInfo::new(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
    ),
    ResourceInfo::new(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
    ),
    ResourceInfo::new(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
    ),
    ResourceInfo::new(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
    ),
    // storage.k8s.io/v1
    ResourceInfo::new(
        "storage.k8s.io",
        "v1",
        "csidrivers",
        "csidriver",
        "CSIDriver",
        false,
    ),
    ResourceInfo::new(
        "storage.k8s.io",
        "v1",
        "csinodes",
        "csinode",
        "CSINode",
        false,
    ),
    ResourceInfo::new(
        "storage.k8s.io",
        "v1",
        "csistoragecapacities",
        "csistoragecapacity",
        "CSIStorageCapacity",
        true,
    ),
    ResourceInfo::new(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
    )
    .short_names(&["sc"]),
    ResourceInfo::new(
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "volumeattachment",
        "VolumeAttachment",
        false,
    )
    .subresources(&[status("VolumeAttachment")]),
    // admissionregistration.k8s.io/v1
    ResourceInfo::new(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        false,
    )
    .categories(API_EXTENSIONS),
    ResourceInfo::new(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        "ValidatingAdmissionPolicy",
        false,
    )
    .categories(API_EXTENSIONS)
    .subresources(&[status("ValidatingAdmissionPolicy")]),
    ResourceInfo::new(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        "ValidatingAdmissionPolicyBinding",
        false,
    )
    .categories(API_EXTENSIONS),
    ResourceInfo::new(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        false,
    )
    .categories(API_EXTENSIONS),
    // apiextensions.k8s.io/v1, stored under a group-qualified path like custom resources.
    ResourceInfo::new(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
    )
    .short_names(&["crd", "crds"])
    .categories(API_EXTENSIONS)
    .subresources(&[status("CustomResourceDefinition")])
    .stored_at("apiextensions.k8s.io/customresourcedefinitions"),
    // scheduling.k8s.io/v1
    ResourceInfo::new(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        false,
    )
    .short_names(&["pc"]),
    // coordination.k8s.io/v1
    ResourceInfo::new(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
    ),
    // node.k8s.io/v1
    ResourceInfo::new(
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        "runtimeclass",
        "RuntimeClass",
        false,
    ),
    // discovery.k8s.io/v1
    ResourceInfo::new(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
    ),
    // flowcontrol.apiserver.k8s.io/v1
    ResourceInfo::new(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "flowschemas",
        "flowschema",
        "FlowSchema",
        false,
    )
    .subresources(&[status("FlowSchema")]),
    ResourceInfo::new(
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        "PriorityLevelConfiguration",
        false,
    )
    .subresources(&[status("PriorityLevelConfiguration")]),
];

/// Returns the group with that name.
pub fn api_group(name: &str) -> Option<&'static ApiGroupInfo> {
    API_GROUPS.iter().find(|group| group.name == name)
}

/// Returns the preferred version of a group, such as `v2` for `autoscaling`.
pub fn preferred_version(group: &str) -> Option<&'static str> {
    api_group(group).map(ApiGroupInfo::preferred_version)
}

/// Returns the resources served at one group and version, in table order.
pub fn resources_in(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceInfo> {
    let (group, version) = (group.to_string(), version.to_string());
    RESOURCES
        .iter()
        .filter(move |info| info.group == group && info.version == version)
}

/// Returns the resource served at exactly that group, version and plural name.
pub fn find_by_gvr(group: &str, version: &str, resource: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|info| info.group == group && info.version == version && info.resource == resource)
}

/// Returns the resource whose kind is exactly that group, version and kind.
pub fn find_by_gvk(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|info| info.group == group && info.version == version && info.kind == kind)
}

/// Returns the preferred-version resource of a group and kind.
pub fn find_by_group_kind(group: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|info| info.group == group && info.kind == kind)
}

/// Returns whether `name` (already lower case) names the resource: its plural, singular,
/// a short name, or its kind in lower case.
fn names_resource(info: &ResourceInfo, name: &str) -> bool {
    info.resource == name
        || info.singular == name
        || info.short_names.contains(&name)
        || info.kind.eq_ignore_ascii_case(name)
}

/// Resolves a resource as kubectl does for `kubectl get <arg>`, case-insensitively:
/// `po`, `pods`, `pod`, `Pod`, `deployments.apps`, `deploy.apps`, `hpa.v1.autoscaling`.
///
/// A name with at least two dots is first tried as `resource.version.group`, then as
/// `resource.group` (the group being everything after the first dot). When several groups
/// serve the name (`events` in core and `events.k8s.io`), the group listed first in
/// discovery wins, and within a group the preferred version wins.
pub fn resolve(arg: &str) -> Option<&'static ResourceInfo> {
    let arg = arg.to_ascii_lowercase();

    if arg.matches('.').count() >= 2 {
        let mut parts = arg.splitn(3, '.');
        if let (Some(name), Some(version), Some(group)) = (parts.next(), parts.next(), parts.next())
        {
            let found = RESOURCES.iter().find(|info| {
                info.group == group && info.version == version && names_resource(info, name)
            });
            if found.is_some() {
                return found;
            }
        }
    }

    let (name, group) = match arg.split_once('.') {
        Some((name, group)) => (name, Some(group)),
        None => (arg.as_str(), None),
    };
    RESOURCES
        .iter()
        .find(|info| group.is_none_or(|group| info.group == group) && names_resource(info, name))
}

/// Returns the preferred-version resources in a category, such as everything that
/// `kubectl get all` lists.
pub fn resources_in_category(category: &str) -> Vec<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .filter(|info| info.categories.contains(&category))
        .filter(|info| preferred_version(info.group) == Some(info.version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_names_as_kubectl() {
        let cases = [
            ("po", "", "v1", "pods"),
            ("pods", "", "v1", "pods"),
            ("pod", "", "v1", "pods"),
            ("Pod", "", "v1", "pods"),
            ("PODS", "", "v1", "pods"),
            ("deploy", "apps", "v1", "deployments"),
            ("Deployment", "apps", "v1", "deployments"),
            ("deployments.apps", "apps", "v1", "deployments"),
            ("deploy.apps", "apps", "v1", "deployments"),
            ("deployments.v1.apps", "apps", "v1", "deployments"),
            ("svc", "", "v1", "services"),
            ("Service", "", "v1", "services"),
            ("ev", "", "v1", "events"),
            ("events", "", "v1", "events"),
            ("events.events.k8s.io", "events.k8s.io", "v1", "events"),
            ("hpa", "autoscaling", "v2", "horizontalpodautoscalers"),
            (
                "hpa.v1.autoscaling",
                "autoscaling",
                "v1",
                "horizontalpodautoscalers",
            ),
            (
                "hpa.autoscaling",
                "autoscaling",
                "v2",
                "horizontalpodautoscalers",
            ),
            ("no", "", "v1", "nodes"),
            ("ns", "", "v1", "namespaces"),
            ("cm", "", "v1", "configmaps"),
            ("ep", "", "v1", "endpoints"),
            ("endpoints", "", "v1", "endpoints"),
            ("limits", "", "v1", "limitranges"),
            ("quota", "", "v1", "resourcequotas"),
            ("sa", "", "v1", "serviceaccounts"),
            ("cs", "", "v1", "componentstatuses"),
            ("pvc", "", "v1", "persistentvolumeclaims"),
            ("pv", "", "v1", "persistentvolumes"),
            ("rc", "", "v1", "replicationcontrollers"),
            ("ds", "apps", "v1", "daemonsets"),
            ("rs", "apps", "v1", "replicasets"),
            ("sts", "apps", "v1", "statefulsets"),
            ("cj", "batch", "v1", "cronjobs"),
            ("job", "batch", "v1", "jobs"),
            (
                "csr",
                "certificates.k8s.io",
                "v1",
                "certificatesigningrequests",
            ),
            ("ing", "networking.k8s.io", "v1", "ingresses"),
            ("netpol", "networking.k8s.io", "v1", "networkpolicies"),
            ("pdb", "policy", "v1", "poddisruptionbudgets"),
            ("pc", "scheduling.k8s.io", "v1", "priorityclasses"),
            ("sc", "storage.k8s.io", "v1", "storageclasses"),
            (
                "crd",
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
            ),
            (
                "crds",
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
            ),
            ("lease", "coordination.k8s.io", "v1", "leases"),
            ("endpointslice", "discovery.k8s.io", "v1", "endpointslices"),
            (
                "clusterrolebindings",
                "rbac.authorization.k8s.io",
                "v1",
                "clusterrolebindings",
            ),
            ("ipaddress", "networking.k8s.io", "v1", "ipaddresses"),
            ("apiservices", "apiregistration.k8s.io", "v1", "apiservices"),
        ];
        for (arg, group, version, resource) in cases {
            let info = resolve(arg).unwrap_or_else(|| panic!("{arg} did not resolve"));
            assert_eq!(
                (info.group, info.version, info.resource),
                (group, version, resource),
                "arg {arg}"
            );
        }
    }

    #[test]
    fn resolve_unknown_names() {
        for arg in [
            "foo",
            "deployments.extensions",
            "pods.v2",
            "deploy.v1beta1.apps",
            "",
        ] {
            assert_eq!(resolve(arg).map(|info| info.gvr()), None, "arg {arg:?}");
        }
    }

    #[test]
    fn exact_lookups() {
        let pods = find_by_gvr("", "v1", "pods").expect("pods");
        assert_eq!(pods.kind, "Pod");
        assert_eq!(pods.list_kind(), "PodList");
        assert!(pods.namespaced);
        assert_eq!(
            find_by_gvk("apps", "v1", "Deployment").map(|info| info.resource),
            Some("deployments")
        );
        assert_eq!(find_by_gvk("", "v1", "Deployment"), None);
        assert_eq!(find_by_gvr("apps", "v1beta1", "deployments"), None);
        assert_eq!(
            find_by_group_kind("autoscaling", "HorizontalPodAutoscaler").map(|info| info.version),
            Some("v2")
        );
        assert_eq!(
            resources_in("batch", "v1")
                .map(|info| info.resource)
                .collect::<Vec<_>>(),
            ["cronjobs", "jobs"]
        );
    }

    #[test]
    fn preferred_versions() {
        assert_eq!(preferred_version("autoscaling"), Some("v2"));
        assert_eq!(preferred_version(""), Some("v1"));
        assert_eq!(preferred_version("apps"), Some("v1"));
        assert_eq!(preferred_version("extensions"), None);
        assert_eq!(API_GROUPS[0].name, "");
        assert_eq!(API_GROUPS[1].name, "apiregistration.k8s.io");
        assert_eq!(API_GROUPS[2].name, "apps");
    }

    /// Group, resource, verbs, short names, categories.
    type DiscoveryCase = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );

    #[test]
    fn verbs_short_names_and_categories() {
        let cases: [DiscoveryCase; 8] = [
            (
                "",
                "namespaces",
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                &["ns"],
                &[],
            ),
            ("", "bindings", &["create"], &[], &[]),
            ("", "componentstatuses", &["get", "list"], &["cs"], &[]),
            ("", "pods", CRUD, &["po"], &["all"]),
            ("apps", "deployments", CRUD, &["deploy"], &["all"]),
            (
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                &["create"],
                &[],
                &[],
            ),
            (
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                CRUD,
                &[],
                &["api-extensions"],
            ),
            (
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                CRUD,
                &["crd", "crds"],
                &["api-extensions"],
            ),
        ];
        for (group, resource, verbs, short_names, categories) in cases {
            let version = preferred_version(group).expect("group");
            let info = find_by_gvr(group, version, resource).expect("resource");
            assert_eq!(info.verbs, verbs, "{resource}");
            assert_eq!(info.short_names, short_names, "{resource}");
            assert_eq!(info.categories, categories, "{resource}");
        }
        assert!(find_by_gvr("", "v1", "pods").is_some_and(|info| info.supports("watch")));
        assert!(find_by_gvr("", "v1", "bindings").is_some_and(|info| !info.supports("get")));
    }

    #[test]
    fn category_all_matches_kubectl_get_all() {
        let mut names: Vec<&str> = resources_in_category("all")
            .iter()
            .map(|info| info.resource)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "cronjobs",
                "daemonsets",
                "deployments",
                "horizontalpodautoscalers",
                "jobs",
                "pods",
                "replicasets",
                "replicationcontrollers",
                "services",
                "statefulsets"
            ]
        );
    }

    #[test]
    fn subresources() {
        let pods = find_by_gvr("", "v1", "pods").expect("pods");
        let names: Vec<&str> = pods.subresources.iter().map(|sub| sub.name).collect();
        assert_eq!(
            names,
            [
                "attach",
                "binding",
                "ephemeralcontainers",
                "eviction",
                "exec",
                "log",
                "portforward",
                "proxy",
                "resize",
                "status"
            ]
        );
        let eviction = pods.subresource("eviction").expect("eviction");
        assert_eq!(
            (eviction.group, eviction.version, eviction.kind),
            ("policy", "v1", "Eviction")
        );
        assert_eq!(pods.subresource("exec").map(|sub| sub.verbs), Some(CONNECT));

        let scale = find_by_gvr("apps", "v1", "statefulsets")
            .and_then(|info| info.subresource("scale"))
            .expect("scale");
        assert_eq!(
            (scale.group, scale.version, scale.kind),
            ("autoscaling", "v1", "Scale")
        );
        let token = find_by_gvr("", "v1", "serviceaccounts")
            .and_then(|info| info.subresource("token"))
            .expect("token");
        assert_eq!(token.kind, "TokenRequest");
        let finalize = find_by_gvr("", "v1", "namespaces")
            .and_then(|info| info.subresource("finalize"))
            .expect("finalize");
        assert_eq!(finalize.verbs, ["update"]);
        assert!(
            find_by_gvr("", "v1", "configmaps")
                .is_some_and(|info| info.subresource("status").is_none())
        );
    }

    #[test]
    fn storage_prefixes() {
        let cases = [
            ("", "v1", "pods", Some("/registry/pods")),
            ("", "v1", "services", Some("/registry/services/specs")),
            ("", "v1", "endpoints", Some("/registry/services/endpoints")),
            ("", "v1", "nodes", Some("/registry/minions")),
            (
                "",
                "v1",
                "replicationcontrollers",
                Some("/registry/controllers"),
            ),
            (
                "networking.k8s.io",
                "v1",
                "ingresses",
                Some("/registry/ingress"),
            ),
            ("apps", "v1", "deployments", Some("/registry/deployments")),
            ("events.k8s.io", "v1", "events", Some("/registry/events")),
            (
                "autoscaling",
                "v1",
                "horizontalpodautoscalers",
                Some("/registry/horizontalpodautoscalers"),
            ),
            (
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
                Some("/registry/apiextensions.k8s.io/customresourcedefinitions"),
            ),
            (
                "apiregistration.k8s.io",
                "v1",
                "apiservices",
                Some("/registry/apiregistration.k8s.io/apiservices"),
            ),
            ("", "v1", "bindings", None),
            ("authentication.k8s.io", "v1", "tokenreviews", None),
        ];
        for (group, version, resource, prefix) in cases {
            let info = find_by_gvr(group, version, resource).expect("resource");
            assert_eq!(info.storage_prefix().as_deref(), prefix, "{resource}");
        }
    }

    #[test]
    fn storage_versions() {
        let event = find_by_gvr("events.k8s.io", "v1", "events").expect("events");
        assert_eq!(
            event.storage_gvk(),
            GroupVersionKind::new("", "v1", "Event")
        );
        let hpa_v1 = find_by_gvr("autoscaling", "v1", "horizontalpodautoscalers").expect("hpa");
        assert_eq!(hpa_v1.storage_gvk().version, "v2");
        let pods = find_by_gvr("", "v1", "pods").expect("pods");
        assert_eq!(pods.storage_gvk(), pods.gvk());
    }

    #[test]
    fn table_is_consistent() {
        for (position, info) in RESOURCES.iter().enumerate() {
            let group = api_group(info.group)
                .unwrap_or_else(|| panic!("{} has an unlisted group", info.resource));
            assert!(
                group.versions.contains(&info.version),
                "{} {}",
                info.resource,
                info.version
            );
            assert!(
                !info.singular.is_empty() && !info.kind.is_empty(),
                "{}",
                info.resource
            );
            assert!(
                info.verbs.windows(2).all(|pair| pair[0] < pair[1]),
                "verbs of {} unsorted",
                info.resource
            );
            assert!(
                info.subresources
                    .windows(2)
                    .all(|pair| pair[0].name < pair[1].name),
                "subresources of {} unsorted",
                info.resource
            );
            let duplicates = RESOURCES[position + 1..]
                .iter()
                .filter(|other| {
                    other.group == info.group
                        && other.version == info.version
                        && other.resource == info.resource
                })
                .count();
            assert_eq!(duplicates, 0, "{} listed twice", info.resource);
        }
        // Resolution breaks ties by table order, so groups must appear in discovery order.
        let group_positions: Vec<usize> = RESOURCES
            .iter()
            .map(|info| {
                API_GROUPS
                    .iter()
                    .position(|group| group.name == info.group)
                    .unwrap_or(usize::MAX)
            })
            .collect();
        assert!(group_positions.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(RESOURCES.len(), 61);
    }
}
