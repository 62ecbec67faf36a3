//! The protobuf messages of every built-in kind this apiserver serves, with the JSON
//! name of each field. Entry point: [`GROUP_VERSIONS`], the kinds of each group version.
//!
//! Generated from the `generated.proto` files and Go struct tags of Kubernetes v1.33
//! (k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver and
//! k8s.io/kube-aggregator v0.33.13): field numbers and types come from the proto files,
//! JSON names, `omitempty` and inlining from the `json` struct tags. Only messages
//! reachable from a served kind are listed.

use super::schema::{GroupVersionKinds, Message, Repr, Type::*, inline, map, omitempty, one, rep};

pub(super) static GROUP_VERSIONS: &[GroupVersionKinds] = &[
    GroupVersionKinds {
        group: "",
        version: "v1",
        kinds: &[
            &CORE_V1_BINDING,
            &CORE_V1_COMPONENT_STATUS,
            &CORE_V1_COMPONENT_STATUS_LIST,
            &CORE_V1_CONFIG_MAP,
            &CORE_V1_CONFIG_MAP_LIST,
            &CORE_V1_ENDPOINTS,
            &CORE_V1_ENDPOINTS_LIST,
            &CORE_V1_EVENT,
            &CORE_V1_EVENT_LIST,
            &CORE_V1_LIMIT_RANGE,
            &CORE_V1_LIMIT_RANGE_LIST,
            &CORE_V1_NAMESPACE,
            &CORE_V1_NAMESPACE_LIST,
            &CORE_V1_NODE,
            &CORE_V1_NODE_LIST,
            &CORE_V1_NODE_PROXY_OPTIONS,
            &CORE_V1_OBJECT_REFERENCE,
            &CORE_V1_PERSISTENT_VOLUME,
            &CORE_V1_PERSISTENT_VOLUME_CLAIM,
            &CORE_V1_PERSISTENT_VOLUME_CLAIM_LIST,
            &CORE_V1_PERSISTENT_VOLUME_LIST,
            &CORE_V1_POD,
            &CORE_V1_POD_ATTACH_OPTIONS,
            &CORE_V1_POD_EXEC_OPTIONS,
            &CORE_V1_POD_LIST,
            &CORE_V1_POD_LOG_OPTIONS,
            &CORE_V1_POD_PORT_FORWARD_OPTIONS,
            &CORE_V1_POD_PROXY_OPTIONS,
            &CORE_V1_POD_STATUS_RESULT,
            &CORE_V1_POD_TEMPLATE,
            &CORE_V1_POD_TEMPLATE_LIST,
            &CORE_V1_RANGE_ALLOCATION,
            &CORE_V1_REPLICATION_CONTROLLER,
            &CORE_V1_REPLICATION_CONTROLLER_LIST,
            &CORE_V1_RESOURCE_QUOTA,
            &CORE_V1_RESOURCE_QUOTA_LIST,
            &CORE_V1_SECRET,
            &CORE_V1_SECRET_LIST,
            &CORE_V1_SERIALIZED_REFERENCE,
            &CORE_V1_SERVICE,
            &CORE_V1_SERVICE_ACCOUNT,
            &CORE_V1_SERVICE_ACCOUNT_LIST,
            &CORE_V1_SERVICE_LIST,
            &CORE_V1_SERVICE_PROXY_OPTIONS,
        ],
    },
    GroupVersionKinds {
        group: "apiregistration.k8s.io",
        version: "v1",
        kinds: &[
            &APIREGISTRATION_V1_API_SERVICE,
            &APIREGISTRATION_V1_API_SERVICE_LIST,
        ],
    },
    GroupVersionKinds {
        group: "apps",
        version: "v1",
        kinds: &[
            &APPS_V1_CONTROLLER_REVISION,
            &APPS_V1_CONTROLLER_REVISION_LIST,
            &APPS_V1_DAEMON_SET,
            &APPS_V1_DAEMON_SET_LIST,
            &APPS_V1_DEPLOYMENT,
            &APPS_V1_DEPLOYMENT_LIST,
            &APPS_V1_REPLICA_SET,
            &APPS_V1_REPLICA_SET_LIST,
            &APPS_V1_STATEFUL_SET,
            &APPS_V1_STATEFUL_SET_LIST,
        ],
    },
    GroupVersionKinds {
        group: "events.k8s.io",
        version: "v1",
        kinds: &[&EVENTS_V1_EVENT, &EVENTS_V1_EVENT_LIST],
    },
    GroupVersionKinds {
        group: "authentication.k8s.io",
        version: "v1",
        kinds: &[
            &AUTHENTICATION_V1_SELF_SUBJECT_REVIEW,
            &AUTHENTICATION_V1_TOKEN_REQUEST,
            &AUTHENTICATION_V1_TOKEN_REVIEW,
        ],
    },
    GroupVersionKinds {
        group: "authorization.k8s.io",
        version: "v1",
        kinds: &[
            &AUTHORIZATION_V1_LOCAL_SUBJECT_ACCESS_REVIEW,
            &AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW,
            &AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW,
            &AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW,
        ],
    },
    GroupVersionKinds {
        group: "autoscaling",
        version: "v2",
        kinds: &[
            &AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER,
            &AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_LIST,
        ],
    },
    GroupVersionKinds {
        group: "autoscaling",
        version: "v1",
        kinds: &[
            &AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER,
            &AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_LIST,
            &AUTOSCALING_V1_SCALE,
        ],
    },
    GroupVersionKinds {
        group: "batch",
        version: "v1",
        kinds: &[
            &BATCH_V1_CRON_JOB,
            &BATCH_V1_CRON_JOB_LIST,
            &BATCH_V1_JOB,
            &BATCH_V1_JOB_LIST,
        ],
    },
    GroupVersionKinds {
        group: "certificates.k8s.io",
        version: "v1",
        kinds: &[
            &CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST,
            &CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_LIST,
        ],
    },
    GroupVersionKinds {
        group: "networking.k8s.io",
        version: "v1",
        kinds: &[
            &NETWORKING_V1_IP_ADDRESS,
            &NETWORKING_V1_IP_ADDRESS_LIST,
            &NETWORKING_V1_INGRESS,
            &NETWORKING_V1_INGRESS_CLASS,
            &NETWORKING_V1_INGRESS_CLASS_LIST,
            &NETWORKING_V1_INGRESS_LIST,
            &NETWORKING_V1_NETWORK_POLICY,
            &NETWORKING_V1_NETWORK_POLICY_LIST,
            &NETWORKING_V1_SERVICE_CIDR,
            &NETWORKING_V1_SERVICE_CIDR_LIST,
        ],
    },
    GroupVersionKinds {
        group: "policy",
        version: "v1",
        kinds: &[
            &POLICY_V1_EVICTION,
            &POLICY_V1_POD_DISRUPTION_BUDGET,
            &POLICY_V1_POD_DISRUPTION_BUDGET_LIST,
        ],
    },
    GroupVersionKinds {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kinds: &[
            &RBAC_V1_CLUSTER_ROLE,
            &RBAC_V1_CLUSTER_ROLE_BINDING,
            &RBAC_V1_CLUSTER_ROLE_BINDING_LIST,
            &RBAC_V1_CLUSTER_ROLE_LIST,
            &RBAC_V1_ROLE,
            &RBAC_V1_ROLE_BINDING,
            &RBAC_V1_ROLE_BINDING_LIST,
            &RBAC_V1_ROLE_LIST,
        ],
    },
    GroupVersionKinds {
        group: "storage.k8s.io",
        version: "v1",
        kinds: &[
            &STORAGE_V1_CSI_DRIVER,
            &STORAGE_V1_CSI_DRIVER_LIST,
            &STORAGE_V1_CSI_NODE,
            &STORAGE_V1_CSI_NODE_LIST,
            &STORAGE_V1_CSI_STORAGE_CAPACITY,
            &STORAGE_V1_CSI_STORAGE_CAPACITY_LIST,
            &STORAGE_V1_STORAGE_CLASS,
            &STORAGE_V1_STORAGE_CLASS_LIST,
            &STORAGE_V1_VOLUME_ATTACHMENT,
            &STORAGE_V1_VOLUME_ATTACHMENT_LIST,
        ],
    },
    GroupVersionKinds {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kinds: &[
            &ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION,
            &ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION_LIST,
            &ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY,
            &ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING,
            &ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING_LIST,
            &ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_LIST,
            &ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION,
            &ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION_LIST,
        ],
    },
    GroupVersionKinds {
        group: "apiextensions.k8s.io",
        version: "v1",
        kinds: &[
            &APIEXTENSIONS_V1_CONVERSION_REVIEW,
            &APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION,
            &APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_LIST,
        ],
    },
    GroupVersionKinds {
        group: "scheduling.k8s.io",
        version: "v1",
        kinds: &[
            &SCHEDULING_V1_PRIORITY_CLASS,
            &SCHEDULING_V1_PRIORITY_CLASS_LIST,
        ],
    },
    GroupVersionKinds {
        group: "coordination.k8s.io",
        version: "v1",
        kinds: &[&COORDINATION_V1_LEASE, &COORDINATION_V1_LEASE_LIST],
    },
    GroupVersionKinds {
        group: "node.k8s.io",
        version: "v1",
        kinds: &[&NODE_V1_RUNTIME_CLASS, &NODE_V1_RUNTIME_CLASS_LIST],
    },
    GroupVersionKinds {
        group: "discovery.k8s.io",
        version: "v1",
        kinds: &[
            &DISCOVERY_V1_ENDPOINT_SLICE,
            &DISCOVERY_V1_ENDPOINT_SLICE_LIST,
        ],
    },
    GroupVersionKinds {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kinds: &[
            &FLOWCONTROL_V1_FLOW_SCHEMA,
            &FLOWCONTROL_V1_FLOW_SCHEMA_LIST,
            &FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION,
            &FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_LIST,
        ],
    },
    GroupVersionKinds {
        group: "meta.k8s.io",
        version: "v1",
        kinds: &[
            &META_V1_API_GROUP,
            &META_V1_API_GROUP_LIST,
            &META_V1_API_RESOURCE_LIST,
            &META_V1_API_VERSIONS,
            &META_V1_CREATE_OPTIONS,
            &META_V1_DELETE_OPTIONS,
            &META_V1_GET_OPTIONS,
            &META_V1_LIST,
            &META_V1_LIST_OPTIONS,
            &META_V1_PARTIAL_OBJECT_METADATA,
            &META_V1_PARTIAL_OBJECT_METADATA_LIST,
            &META_V1_PATCH_OPTIONS,
            &META_V1_STATUS,
            &META_V1_TABLE_OPTIONS,
            &META_V1_UPDATE_OPTIONS,
            &META_V1_WATCH_EVENT,
        ],
    },
];

pub(super) static ADMISSIONREGISTRATION_V1_AUDIT_ANNOTATION: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "AuditAnnotation",
    repr: Repr::Object,
    fields: &[one(1, "key", Str), one(2, "valueExpression", Str)],
};

pub(super) static ADMISSIONREGISTRATION_V1_EXPRESSION_WARNING: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ExpressionWarning",
    repr: Repr::Object,
    fields: &[one(2, "fieldRef", Str), one(3, "warning", Str)],
};

pub(super) static ADMISSIONREGISTRATION_V1_MATCH_CONDITION: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "MatchCondition",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "expression", Str)],
};

pub(super) static ADMISSIONREGISTRATION_V1_MATCH_RESOURCES: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "MatchResources",
    repr: Repr::Object,
    fields: &[
        one(1, "namespaceSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(2, "objectSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(
            3,
            "resourceRules",
            Msg(&ADMISSIONREGISTRATION_V1_NAMED_RULE_WITH_OPERATIONS),
        ),
        rep(
            4,
            "excludeResourceRules",
            Msg(&ADMISSIONREGISTRATION_V1_NAMED_RULE_WITH_OPERATIONS),
        ),
        one(7, "matchPolicy", Str),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "MutatingWebhook",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(
            2,
            "clientConfig",
            Msg(&ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG),
        ),
        rep(
            3,
            "rules",
            Msg(&ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS),
        ),
        one(4, "failurePolicy", Str),
        one(5, "namespaceSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(6, "sideEffects", Str),
        one(7, "timeoutSeconds", Int32),
        rep(8, "admissionReviewVersions", Str),
        one(9, "matchPolicy", Str),
        one(10, "reinvocationPolicy", Str),
        one(11, "objectSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(
            12,
            "matchConditions",
            Msg(&ADMISSIONREGISTRATION_V1_MATCH_CONDITION),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "MutatingWebhookConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(
            2,
            "webhooks",
            Msg(&ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION_LIST: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "MutatingWebhookConfigurationList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(
            2,
            "items",
            Msg(&ADMISSIONREGISTRATION_V1_MUTATING_WEBHOOK_CONFIGURATION),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_NAMED_RULE_WITH_OPERATIONS: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "NamedRuleWithOperations",
    repr: Repr::Object,
    fields: &[
        rep(1, "resourceNames", Str),
        inline(2, Msg(&ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS)),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_PARAM_KIND: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ParamKind",
    repr: Repr::Object,
    fields: &[omitempty(1, "apiVersion", Str), omitempty(2, "kind", Str)],
};

pub(super) static ADMISSIONREGISTRATION_V1_PARAM_REF: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ParamRef",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        omitempty(2, "namespace", Str),
        one(3, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(4, "parameterNotFoundAction", Str),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_RULE: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "Rule",
    repr: Repr::Object,
    fields: &[
        rep(1, "apiGroups", Str),
        rep(2, "apiVersions", Str),
        rep(3, "resources", Str),
        one(4, "scope", Str),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "RuleWithOperations",
    repr: Repr::Object,
    fields: &[
        rep(1, "operations", Str),
        inline(2, Msg(&ADMISSIONREGISTRATION_V1_RULE)),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_SERVICE_REFERENCE: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ServiceReference",
    repr: Repr::Object,
    fields: &[
        one(1, "namespace", Str),
        one(2, "name", Str),
        one(3, "path", Str),
        one(4, "port", Int32),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_TYPE_CHECKING: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "TypeChecking",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "expressionWarnings",
        Msg(&ADMISSIONREGISTRATION_V1_EXPRESSION_WARNING),
    )],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingAdmissionPolicy",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_STATUS),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingAdmissionPolicyBinding",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING_SPEC),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING_LIST: Message =
    Message {
        package: "k8s.io.api.admissionregistration.v1",
        name: "ValidatingAdmissionPolicyBindingList",
        repr: Repr::Object,
        fields: &[
            one(1, "metadata", Msg(&META_V1_LIST_META)),
            rep(
                2,
                "items",
                Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING),
            ),
        ],
    };

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_BINDING_SPEC: Message =
    Message {
        package: "k8s.io.api.admissionregistration.v1",
        name: "ValidatingAdmissionPolicyBindingSpec",
        repr: Repr::Object,
        fields: &[
            omitempty(1, "policyName", Str),
            one(2, "paramRef", Msg(&ADMISSIONREGISTRATION_V1_PARAM_REF)),
            one(
                3,
                "matchResources",
                Msg(&ADMISSIONREGISTRATION_V1_MATCH_RESOURCES),
            ),
            rep(4, "validationActions", Str),
        ],
    };

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_LIST: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingAdmissionPolicyList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(
            2,
            "items",
            Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_SPEC: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingAdmissionPolicySpec",
    repr: Repr::Object,
    fields: &[
        one(1, "paramKind", Msg(&ADMISSIONREGISTRATION_V1_PARAM_KIND)),
        one(
            2,
            "matchConstraints",
            Msg(&ADMISSIONREGISTRATION_V1_MATCH_RESOURCES),
        ),
        rep(3, "validations", Msg(&ADMISSIONREGISTRATION_V1_VALIDATION)),
        one(4, "failurePolicy", Str),
        rep(
            5,
            "auditAnnotations",
            Msg(&ADMISSIONREGISTRATION_V1_AUDIT_ANNOTATION),
        ),
        rep(
            6,
            "matchConditions",
            Msg(&ADMISSIONREGISTRATION_V1_MATCH_CONDITION),
        ),
        rep(7, "variables", Msg(&ADMISSIONREGISTRATION_V1_VARIABLE)),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_ADMISSION_POLICY_STATUS: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingAdmissionPolicyStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "observedGeneration", Int64),
        one(
            2,
            "typeChecking",
            Msg(&ADMISSIONREGISTRATION_V1_TYPE_CHECKING),
        ),
        rep(3, "conditions", Msg(&META_V1_CONDITION)),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingWebhook",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(
            2,
            "clientConfig",
            Msg(&ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG),
        ),
        rep(
            3,
            "rules",
            Msg(&ADMISSIONREGISTRATION_V1_RULE_WITH_OPERATIONS),
        ),
        one(4, "failurePolicy", Str),
        one(5, "namespaceSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(6, "sideEffects", Str),
        one(7, "timeoutSeconds", Int32),
        rep(8, "admissionReviewVersions", Str),
        one(9, "matchPolicy", Str),
        one(10, "objectSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(
            11,
            "matchConditions",
            Msg(&ADMISSIONREGISTRATION_V1_MATCH_CONDITION),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "ValidatingWebhookConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(
            2,
            "webhooks",
            Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK),
        ),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION_LIST: Message =
    Message {
        package: "k8s.io.api.admissionregistration.v1",
        name: "ValidatingWebhookConfigurationList",
        repr: Repr::Object,
        fields: &[
            one(1, "metadata", Msg(&META_V1_LIST_META)),
            rep(
                2,
                "items",
                Msg(&ADMISSIONREGISTRATION_V1_VALIDATING_WEBHOOK_CONFIGURATION),
            ),
        ],
    };

pub(super) static ADMISSIONREGISTRATION_V1_VALIDATION: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "Validation",
    repr: Repr::Object,
    fields: &[
        one(1, "expression", Str),
        omitempty(2, "message", Str),
        one(3, "reason", Str),
        omitempty(4, "messageExpression", Str),
    ],
};

pub(super) static ADMISSIONREGISTRATION_V1_VARIABLE: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "Variable",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "expression", Str)],
};

pub(super) static ADMISSIONREGISTRATION_V1_WEBHOOK_CLIENT_CONFIG: Message = Message {
    package: "k8s.io.api.admissionregistration.v1",
    name: "WebhookClientConfig",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "service",
            Msg(&ADMISSIONREGISTRATION_V1_SERVICE_REFERENCE),
        ),
        omitempty(2, "caBundle", Bytes),
        one(3, "url", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CONVERSION_REQUEST: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ConversionRequest",
    repr: Repr::Object,
    fields: &[
        one(1, "uid", Str),
        one(2, "desiredAPIVersion", Str),
        rep(3, "objects", Msg(&RUNTIME_RAW_EXTENSION)),
    ],
};

pub(super) static APIEXTENSIONS_V1_CONVERSION_RESPONSE: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ConversionResponse",
    repr: Repr::Object,
    fields: &[
        one(1, "uid", Str),
        rep(2, "convertedObjects", Msg(&RUNTIME_RAW_EXTENSION)),
        one(3, "result", Msg(&META_V1_STATUS)),
    ],
};

pub(super) static APIEXTENSIONS_V1_CONVERSION_REVIEW: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ConversionReview",
    repr: Repr::Object,
    fields: &[
        one(1, "request", Msg(&APIEXTENSIONS_V1_CONVERSION_REQUEST)),
        one(2, "response", Msg(&APIEXTENSIONS_V1_CONVERSION_RESPONSE)),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_COLUMN_DEFINITION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceColumnDefinition",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "type", Str),
        omitempty(3, "format", Str),
        omitempty(4, "description", Str),
        omitempty(5, "priority", Int32),
        one(6, "jsonPath", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_CONVERSION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceConversion",
    repr: Repr::Object,
    fields: &[
        one(1, "strategy", Str),
        one(2, "webhook", Msg(&APIEXTENSIONS_V1_WEBHOOK_CONVERSION)),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinition",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_STATUS),
        ),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_CONDITION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_LIST: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(
            2,
            "items",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION),
        ),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_NAMES: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionNames",
    repr: Repr::Object,
    fields: &[
        one(1, "plural", Str),
        omitempty(2, "singular", Str),
        rep(3, "shortNames", Str),
        one(4, "kind", Str),
        omitempty(5, "listKind", Str),
        rep(6, "categories", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_SPEC: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "group", Str),
        one(
            3,
            "names",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_NAMES),
        ),
        one(4, "scope", Str),
        rep(
            7,
            "versions",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_VERSION),
        ),
        one(
            9,
            "conversion",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_CONVERSION),
        ),
        omitempty(10, "preserveUnknownFields", Bool),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_STATUS: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionStatus",
    repr: Repr::Object,
    fields: &[
        rep(
            1,
            "conditions",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_CONDITION),
        ),
        one(
            2,
            "acceptedNames",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_NAMES),
        ),
        rep(3, "storedVersions", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_DEFINITION_VERSION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceDefinitionVersion",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "served", Bool),
        one(3, "storage", Bool),
        one(
            4,
            "schema",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_VALIDATION),
        ),
        one(
            5,
            "subresources",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCES),
        ),
        rep(
            6,
            "additionalPrinterColumns",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_COLUMN_DEFINITION),
        ),
        omitempty(7, "deprecated", Bool),
        one(8, "deprecationWarning", Str),
        rep(
            9,
            "selectableFields",
            Msg(&APIEXTENSIONS_V1_SELECTABLE_FIELD),
        ),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCES: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceSubresources",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "status",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCE_STATUS),
        ),
        one(
            2,
            "scale",
            Msg(&APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCE_SCALE),
        ),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCE_SCALE: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceSubresourceScale",
    repr: Repr::Object,
    fields: &[
        one(1, "specReplicasPath", Str),
        one(2, "statusReplicasPath", Str),
        one(3, "labelSelectorPath", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_SUBRESOURCE_STATUS: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceSubresourceStatus",
    repr: Repr::Object,
    fields: &[],
};

pub(super) static APIEXTENSIONS_V1_CUSTOM_RESOURCE_VALIDATION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "CustomResourceValidation",
    repr: Repr::Object,
    fields: &[one(
        1,
        "openAPIV3Schema",
        Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS),
    )],
};

pub(super) static APIEXTENSIONS_V1_EXTERNAL_DOCUMENTATION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ExternalDocumentation",
    repr: Repr::Object,
    fields: &[omitempty(1, "description", Str), omitempty(2, "url", Str)],
};

pub(super) static APIEXTENSIONS_V1_JSON: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "JSON",
    repr: Repr::RawJson,
    fields: &[one(1, "raw", Bytes)],
};

pub(super) static APIEXTENSIONS_V1_JSON_SCHEMA_PROPS: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "JSONSchemaProps",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "id", Str),
        omitempty(2, "$schema", Str),
        one(3, "$ref", Str),
        omitempty(4, "description", Str),
        omitempty(5, "type", Str),
        omitempty(6, "format", Str),
        omitempty(7, "title", Str),
        one(8, "default", Msg(&APIEXTENSIONS_V1_JSON)),
        one(9, "maximum", Double),
        omitempty(10, "exclusiveMaximum", Bool),
        one(11, "minimum", Double),
        omitempty(12, "exclusiveMinimum", Bool),
        one(13, "maxLength", Int64),
        one(14, "minLength", Int64),
        omitempty(15, "pattern", Str),
        one(16, "maxItems", Int64),
        one(17, "minItems", Int64),
        omitempty(18, "uniqueItems", Bool),
        one(19, "multipleOf", Double),
        rep(20, "enum", Msg(&APIEXTENSIONS_V1_JSON)),
        one(21, "maxProperties", Int64),
        one(22, "minProperties", Int64),
        rep(23, "required", Str),
        one(
            24,
            "items",
            Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_ARRAY),
        ),
        rep(25, "allOf", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        rep(26, "oneOf", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        rep(27, "anyOf", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        one(28, "not", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        map(29, "properties", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        one(
            30,
            "additionalProperties",
            Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_BOOL),
        ),
        map(
            31,
            "patternProperties",
            Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS),
        ),
        map(
            32,
            "dependencies",
            Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_STRING_ARRAY),
        ),
        one(
            33,
            "additionalItems",
            Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_BOOL),
        ),
        map(34, "definitions", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        one(
            35,
            "externalDocs",
            Msg(&APIEXTENSIONS_V1_EXTERNAL_DOCUMENTATION),
        ),
        one(36, "example", Msg(&APIEXTENSIONS_V1_JSON)),
        omitempty(37, "nullable", Bool),
        one(38, "x-kubernetes-preserve-unknown-fields", Bool),
        omitempty(39, "x-kubernetes-embedded-resource", Bool),
        omitempty(40, "x-kubernetes-int-or-string", Bool),
        rep(41, "x-kubernetes-list-map-keys", Str),
        one(42, "x-kubernetes-list-type", Str),
        one(43, "x-kubernetes-map-type", Str),
        rep(
            44,
            "x-kubernetes-validations",
            Msg(&APIEXTENSIONS_V1_VALIDATION_RULE),
        ),
    ],
};

pub(super) static APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_ARRAY: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "JSONSchemaPropsOrArray",
    repr: Repr::SchemaOrArray,
    fields: &[
        one(1, "schema", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        rep(2, "jSONSchemas", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
    ],
};

pub(super) static APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_BOOL: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "JSONSchemaPropsOrBool",
    repr: Repr::SchemaOrBool,
    fields: &[
        one(1, "allows", Bool),
        one(2, "schema", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
    ],
};

pub(super) static APIEXTENSIONS_V1_JSON_SCHEMA_PROPS_OR_STRING_ARRAY: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "JSONSchemaPropsOrStringArray",
    repr: Repr::SchemaOrStringArray,
    fields: &[
        one(1, "schema", Msg(&APIEXTENSIONS_V1_JSON_SCHEMA_PROPS)),
        rep(2, "property", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_SELECTABLE_FIELD: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "SelectableField",
    repr: Repr::Object,
    fields: &[one(1, "jsonPath", Str)],
};

pub(super) static APIEXTENSIONS_V1_SERVICE_REFERENCE: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ServiceReference",
    repr: Repr::Object,
    fields: &[
        one(1, "namespace", Str),
        one(2, "name", Str),
        one(3, "path", Str),
        one(4, "port", Int32),
    ],
};

pub(super) static APIEXTENSIONS_V1_VALIDATION_RULE: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "ValidationRule",
    repr: Repr::Object,
    fields: &[
        one(1, "rule", Str),
        omitempty(2, "message", Str),
        omitempty(3, "messageExpression", Str),
        one(4, "reason", Str),
        omitempty(5, "fieldPath", Str),
        one(6, "optionalOldSelf", Bool),
    ],
};

pub(super) static APIEXTENSIONS_V1_WEBHOOK_CLIENT_CONFIG: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "WebhookClientConfig",
    repr: Repr::Object,
    fields: &[
        one(1, "service", Msg(&APIEXTENSIONS_V1_SERVICE_REFERENCE)),
        omitempty(2, "caBundle", Bytes),
        one(3, "url", Str),
    ],
};

pub(super) static APIEXTENSIONS_V1_WEBHOOK_CONVERSION: Message = Message {
    package: "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    name: "WebhookConversion",
    repr: Repr::Object,
    fields: &[
        one(
            2,
            "clientConfig",
            Msg(&APIEXTENSIONS_V1_WEBHOOK_CLIENT_CONFIG),
        ),
        rep(3, "conversionReviewVersions", Str),
    ],
};

pub(super) static APIREGISTRATION_V1_API_SERVICE: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "APIService",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&APIREGISTRATION_V1_API_SERVICE_SPEC)),
        one(3, "status", Msg(&APIREGISTRATION_V1_API_SERVICE_STATUS)),
    ],
};

pub(super) static APIREGISTRATION_V1_API_SERVICE_CONDITION: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "APIServiceCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static APIREGISTRATION_V1_API_SERVICE_LIST: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "APIServiceList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APIREGISTRATION_V1_API_SERVICE)),
    ],
};

pub(super) static APIREGISTRATION_V1_API_SERVICE_SPEC: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "APIServiceSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "service", Msg(&APIREGISTRATION_V1_SERVICE_REFERENCE)),
        omitempty(2, "group", Str),
        omitempty(3, "version", Str),
        omitempty(4, "insecureSkipTLSVerify", Bool),
        omitempty(5, "caBundle", Bytes),
        one(7, "groupPriorityMinimum", Int32),
        one(8, "versionPriority", Int32),
    ],
};

pub(super) static APIREGISTRATION_V1_API_SERVICE_STATUS: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "APIServiceStatus",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "conditions",
        Msg(&APIREGISTRATION_V1_API_SERVICE_CONDITION),
    )],
};

pub(super) static APIREGISTRATION_V1_SERVICE_REFERENCE: Message = Message {
    package: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
    name: "ServiceReference",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "namespace", Str),
        omitempty(2, "name", Str),
        one(3, "port", Int32),
    ],
};

pub(super) static APPS_V1_CONTROLLER_REVISION: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ControllerRevision",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "data", Msg(&RUNTIME_RAW_EXTENSION)),
        one(3, "revision", Int64),
    ],
};

pub(super) static APPS_V1_CONTROLLER_REVISION_LIST: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ControllerRevisionList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APPS_V1_CONTROLLER_REVISION)),
    ],
};

pub(super) static APPS_V1_DAEMON_SET: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSet",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&APPS_V1_DAEMON_SET_SPEC)),
        one(3, "status", Msg(&APPS_V1_DAEMON_SET_STATUS)),
    ],
};

pub(super) static APPS_V1_DAEMON_SET_CONDITION: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSetCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static APPS_V1_DAEMON_SET_LIST: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSetList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APPS_V1_DAEMON_SET)),
    ],
};

pub(super) static APPS_V1_DAEMON_SET_SPEC: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSetSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(2, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        one(
            3,
            "updateStrategy",
            Msg(&APPS_V1_DAEMON_SET_UPDATE_STRATEGY),
        ),
        omitempty(4, "minReadySeconds", Int32),
        one(6, "revisionHistoryLimit", Int32),
    ],
};

pub(super) static APPS_V1_DAEMON_SET_STATUS: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSetStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "currentNumberScheduled", Int32),
        one(2, "numberMisscheduled", Int32),
        one(3, "desiredNumberScheduled", Int32),
        one(4, "numberReady", Int32),
        omitempty(5, "observedGeneration", Int64),
        omitempty(6, "updatedNumberScheduled", Int32),
        omitempty(7, "numberAvailable", Int32),
        omitempty(8, "numberUnavailable", Int32),
        one(9, "collisionCount", Int32),
        rep(10, "conditions", Msg(&APPS_V1_DAEMON_SET_CONDITION)),
    ],
};

pub(super) static APPS_V1_DAEMON_SET_UPDATE_STRATEGY: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DaemonSetUpdateStrategy",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "type", Str),
        one(2, "rollingUpdate", Msg(&APPS_V1_ROLLING_UPDATE_DAEMON_SET)),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "Deployment",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&APPS_V1_DEPLOYMENT_SPEC)),
        one(3, "status", Msg(&APPS_V1_DEPLOYMENT_STATUS)),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT_CONDITION: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DeploymentCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
        one(6, "lastUpdateTime", Msg(&META_V1_TIME)),
        one(7, "lastTransitionTime", Msg(&META_V1_TIME)),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT_LIST: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DeploymentList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APPS_V1_DEPLOYMENT)),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT_SPEC: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DeploymentSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        one(2, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        one(4, "strategy", Msg(&APPS_V1_DEPLOYMENT_STRATEGY)),
        omitempty(5, "minReadySeconds", Int32),
        one(6, "revisionHistoryLimit", Int32),
        omitempty(7, "paused", Bool),
        one(9, "progressDeadlineSeconds", Int32),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT_STATUS: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DeploymentStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "observedGeneration", Int64),
        omitempty(2, "replicas", Int32),
        omitempty(3, "updatedReplicas", Int32),
        omitempty(4, "availableReplicas", Int32),
        omitempty(5, "unavailableReplicas", Int32),
        rep(6, "conditions", Msg(&APPS_V1_DEPLOYMENT_CONDITION)),
        omitempty(7, "readyReplicas", Int32),
        one(8, "collisionCount", Int32),
        one(9, "terminatingReplicas", Int32),
    ],
};

pub(super) static APPS_V1_DEPLOYMENT_STRATEGY: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "DeploymentStrategy",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "type", Str),
        one(2, "rollingUpdate", Msg(&APPS_V1_ROLLING_UPDATE_DEPLOYMENT)),
    ],
};

pub(super) static APPS_V1_REPLICA_SET: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ReplicaSet",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&APPS_V1_REPLICA_SET_SPEC)),
        one(3, "status", Msg(&APPS_V1_REPLICA_SET_STATUS)),
    ],
};

pub(super) static APPS_V1_REPLICA_SET_CONDITION: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ReplicaSetCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static APPS_V1_REPLICA_SET_LIST: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ReplicaSetList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APPS_V1_REPLICA_SET)),
    ],
};

pub(super) static APPS_V1_REPLICA_SET_SPEC: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ReplicaSetSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        one(2, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        omitempty(4, "minReadySeconds", Int32),
    ],
};

pub(super) static APPS_V1_REPLICA_SET_STATUS: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "ReplicaSetStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        omitempty(2, "fullyLabeledReplicas", Int32),
        omitempty(3, "observedGeneration", Int64),
        omitempty(4, "readyReplicas", Int32),
        omitempty(5, "availableReplicas", Int32),
        rep(6, "conditions", Msg(&APPS_V1_REPLICA_SET_CONDITION)),
        one(7, "terminatingReplicas", Int32),
    ],
};

pub(super) static APPS_V1_ROLLING_UPDATE_DAEMON_SET: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "RollingUpdateDaemonSet",
    repr: Repr::Object,
    fields: &[
        one(1, "maxUnavailable", Msg(&INTSTR_INT_OR_STRING)),
        one(2, "maxSurge", Msg(&INTSTR_INT_OR_STRING)),
    ],
};

pub(super) static APPS_V1_ROLLING_UPDATE_DEPLOYMENT: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "RollingUpdateDeployment",
    repr: Repr::Object,
    fields: &[
        one(1, "maxUnavailable", Msg(&INTSTR_INT_OR_STRING)),
        one(2, "maxSurge", Msg(&INTSTR_INT_OR_STRING)),
    ],
};

pub(super) static APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "RollingUpdateStatefulSetStrategy",
    repr: Repr::Object,
    fields: &[
        one(1, "partition", Int32),
        one(2, "maxUnavailable", Msg(&INTSTR_INT_OR_STRING)),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSet",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&APPS_V1_STATEFUL_SET_SPEC)),
        one(3, "status", Msg(&APPS_V1_STATEFUL_SET_STATUS)),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET_CONDITION: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET_LIST: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&APPS_V1_STATEFUL_SET)),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET_ORDINALS: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetOrdinals",
    repr: Repr::Object,
    fields: &[one(1, "start", Int32)],
};

pub(super) static APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Message =
    Message {
        package: "k8s.io.api.apps.v1",
        name: "StatefulSetPersistentVolumeClaimRetentionPolicy",
        repr: Repr::Object,
        fields: &[
            omitempty(1, "whenDeleted", Str),
            omitempty(2, "whenScaled", Str),
        ],
    };

pub(super) static APPS_V1_STATEFUL_SET_SPEC: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        one(2, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        rep(
            4,
            "volumeClaimTemplates",
            Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM),
        ),
        one(5, "serviceName", Str),
        omitempty(6, "podManagementPolicy", Str),
        one(
            7,
            "updateStrategy",
            Msg(&APPS_V1_STATEFUL_SET_UPDATE_STRATEGY),
        ),
        one(8, "revisionHistoryLimit", Int32),
        omitempty(9, "minReadySeconds", Int32),
        one(
            10,
            "persistentVolumeClaimRetentionPolicy",
            Msg(&APPS_V1_STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
        ),
        one(11, "ordinals", Msg(&APPS_V1_STATEFUL_SET_ORDINALS)),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET_STATUS: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "observedGeneration", Int64),
        one(2, "replicas", Int32),
        omitempty(3, "readyReplicas", Int32),
        omitempty(4, "currentReplicas", Int32),
        omitempty(5, "updatedReplicas", Int32),
        omitempty(6, "currentRevision", Str),
        omitempty(7, "updateRevision", Str),
        one(9, "collisionCount", Int32),
        rep(10, "conditions", Msg(&APPS_V1_STATEFUL_SET_CONDITION)),
        one(11, "availableReplicas", Int32),
    ],
};

pub(super) static APPS_V1_STATEFUL_SET_UPDATE_STRATEGY: Message = Message {
    package: "k8s.io.api.apps.v1",
    name: "StatefulSetUpdateStrategy",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "type", Str),
        one(
            2,
            "rollingUpdate",
            Msg(&APPS_V1_ROLLING_UPDATE_STATEFUL_SET_STRATEGY),
        ),
    ],
};

pub(super) static AUTHENTICATION_V1_BOUND_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "BoundObjectReference",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "kind", Str),
        omitempty(2, "apiVersion", Str),
        omitempty(3, "name", Str),
        omitempty(4, "uid", Str),
    ],
};

pub(super) static AUTHENTICATION_V1_EXTRA_VALUE: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "ExtraValue",
    repr: Repr::StringList,
    fields: &[rep(1, "items", Str)],
};

pub(super) static AUTHENTICATION_V1_SELF_SUBJECT_REVIEW: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "SelfSubjectReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "status",
            Msg(&AUTHENTICATION_V1_SELF_SUBJECT_REVIEW_STATUS),
        ),
    ],
};

pub(super) static AUTHENTICATION_V1_SELF_SUBJECT_REVIEW_STATUS: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "SelfSubjectReviewStatus",
    repr: Repr::Object,
    fields: &[one(1, "userInfo", Msg(&AUTHENTICATION_V1_USER_INFO))],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenRequest",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&AUTHENTICATION_V1_TOKEN_REQUEST_SPEC)),
        one(3, "status", Msg(&AUTHENTICATION_V1_TOKEN_REQUEST_STATUS)),
    ],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST_SPEC: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenRequestSpec",
    repr: Repr::Object,
    fields: &[
        rep(1, "audiences", Str),
        one(
            3,
            "boundObjectRef",
            Msg(&AUTHENTICATION_V1_BOUND_OBJECT_REFERENCE),
        ),
        one(4, "expirationSeconds", Int64),
    ],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REQUEST_STATUS: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenRequestStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "token", Str),
        one(2, "expirationTimestamp", Msg(&META_V1_TIME)),
    ],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&AUTHENTICATION_V1_TOKEN_REVIEW_SPEC)),
        one(3, "status", Msg(&AUTHENTICATION_V1_TOKEN_REVIEW_STATUS)),
    ],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW_SPEC: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenReviewSpec",
    repr: Repr::Object,
    fields: &[omitempty(1, "token", Str), rep(2, "audiences", Str)],
};

pub(super) static AUTHENTICATION_V1_TOKEN_REVIEW_STATUS: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "TokenReviewStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "authenticated", Bool),
        one(2, "user", Msg(&AUTHENTICATION_V1_USER_INFO)),
        omitempty(3, "error", Str),
        rep(4, "audiences", Str),
    ],
};

pub(super) static AUTHENTICATION_V1_USER_INFO: Message = Message {
    package: "k8s.io.api.authentication.v1",
    name: "UserInfo",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "username", Str),
        omitempty(2, "uid", Str),
        rep(3, "groups", Str),
        map(4, "extra", Msg(&AUTHENTICATION_V1_EXTRA_VALUE)),
    ],
};

pub(super) static AUTHORIZATION_V1_EXTRA_VALUE: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "ExtraValue",
    repr: Repr::StringList,
    fields: &[rep(1, "items", Str)],
};

pub(super) static AUTHORIZATION_V1_FIELD_SELECTOR_ATTRIBUTES: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "FieldSelectorAttributes",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "rawSelector", Str),
        rep(2, "requirements", Msg(&META_V1_FIELD_SELECTOR_REQUIREMENT)),
    ],
};

pub(super) static AUTHORIZATION_V1_LABEL_SELECTOR_ATTRIBUTES: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "LabelSelectorAttributes",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "rawSelector", Str),
        rep(2, "requirements", Msg(&META_V1_LABEL_SELECTOR_REQUIREMENT)),
    ],
};

pub(super) static AUTHORIZATION_V1_LOCAL_SUBJECT_ACCESS_REVIEW: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "LocalSubjectAccessReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC)),
        one(
            3,
            "status",
            Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "NonResourceAttributes",
    repr: Repr::Object,
    fields: &[omitempty(1, "path", Str), omitempty(2, "verb", Str)],
};

pub(super) static AUTHORIZATION_V1_NON_RESOURCE_RULE: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "NonResourceRule",
    repr: Repr::Object,
    fields: &[rep(1, "verbs", Str), rep(2, "nonResourceURLs", Str)],
};

pub(super) static AUTHORIZATION_V1_RESOURCE_ATTRIBUTES: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "ResourceAttributes",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "namespace", Str),
        omitempty(2, "verb", Str),
        omitempty(3, "group", Str),
        omitempty(4, "version", Str),
        omitempty(5, "resource", Str),
        omitempty(6, "subresource", Str),
        omitempty(7, "name", Str),
        one(
            8,
            "fieldSelector",
            Msg(&AUTHORIZATION_V1_FIELD_SELECTOR_ATTRIBUTES),
        ),
        one(
            9,
            "labelSelector",
            Msg(&AUTHORIZATION_V1_LABEL_SELECTOR_ATTRIBUTES),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_RESOURCE_RULE: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "ResourceRule",
    repr: Repr::Object,
    fields: &[
        rep(1, "verbs", Str),
        rep(2, "apiGroups", Str),
        rep(3, "resources", Str),
        rep(4, "resourceNames", Str),
    ],
};

pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SelfSubjectAccessReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SelfSubjectAccessReviewSpec",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "resourceAttributes",
            Msg(&AUTHORIZATION_V1_RESOURCE_ATTRIBUTES),
        ),
        one(
            2,
            "nonResourceAttributes",
            Msg(&AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SelfSubjectRulesReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&AUTHORIZATION_V1_SUBJECT_RULES_REVIEW_STATUS),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SelfSubjectRulesReviewSpec",
    repr: Repr::Object,
    fields: &[omitempty(1, "namespace", Str)],
};

pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SubjectAccessReview",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC)),
        one(
            3,
            "status",
            Msg(&AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS),
        ),
    ],
};

pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SubjectAccessReviewSpec",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "resourceAttributes",
            Msg(&AUTHORIZATION_V1_RESOURCE_ATTRIBUTES),
        ),
        one(
            2,
            "nonResourceAttributes",
            Msg(&AUTHORIZATION_V1_NON_RESOURCE_ATTRIBUTES),
        ),
        omitempty(3, "user", Str),
        rep(4, "groups", Str),
        map(5, "extra", Msg(&AUTHORIZATION_V1_EXTRA_VALUE)),
        omitempty(6, "uid", Str),
    ],
};

pub(super) static AUTHORIZATION_V1_SUBJECT_ACCESS_REVIEW_STATUS: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SubjectAccessReviewStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "allowed", Bool),
        omitempty(2, "reason", Str),
        omitempty(3, "evaluationError", Str),
        omitempty(4, "denied", Bool),
    ],
};

pub(super) static AUTHORIZATION_V1_SUBJECT_RULES_REVIEW_STATUS: Message = Message {
    package: "k8s.io.api.authorization.v1",
    name: "SubjectRulesReviewStatus",
    repr: Repr::Object,
    fields: &[
        rep(1, "resourceRules", Msg(&AUTHORIZATION_V1_RESOURCE_RULE)),
        rep(
            2,
            "nonResourceRules",
            Msg(&AUTHORIZATION_V1_NON_RESOURCE_RULE),
        ),
        one(3, "incomplete", Bool),
        omitempty(4, "evaluationError", Str),
    ],
};

pub(super) static AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "CrossVersionObjectReference",
    repr: Repr::Object,
    fields: &[
        one(1, "kind", Str),
        one(2, "name", Str),
        omitempty(3, "apiVersion", Str),
    ],
};

pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "HorizontalPodAutoscaler",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS),
        ),
    ],
};

pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_LIST: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "HorizontalPodAutoscalerList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER)),
    ],
};

pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "HorizontalPodAutoscalerSpec",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "scaleTargetRef",
            Msg(&AUTOSCALING_V1_CROSS_VERSION_OBJECT_REFERENCE),
        ),
        one(2, "minReplicas", Int32),
        one(3, "maxReplicas", Int32),
        one(4, "targetCPUUtilizationPercentage", Int32),
    ],
};

pub(super) static AUTOSCALING_V1_HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "HorizontalPodAutoscalerStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "observedGeneration", Int64),
        one(2, "lastScaleTime", Msg(&META_V1_TIME)),
        one(3, "currentReplicas", Int32),
        one(4, "desiredReplicas", Int32),
        one(5, "currentCPUUtilizationPercentage", Int32),
    ],
};

pub(super) static AUTOSCALING_V1_SCALE: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "Scale",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&AUTOSCALING_V1_SCALE_SPEC)),
        one(3, "status", Msg(&AUTOSCALING_V1_SCALE_STATUS)),
    ],
};

pub(super) static AUTOSCALING_V1_SCALE_SPEC: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "ScaleSpec",
    repr: Repr::Object,
    fields: &[omitempty(1, "replicas", Int32)],
};

pub(super) static AUTOSCALING_V1_SCALE_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v1",
    name: "ScaleStatus",
    repr: Repr::Object,
    fields: &[one(1, "replicas", Int32), omitempty(2, "selector", Str)],
};

pub(super) static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ContainerResourceMetricSource",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET)),
        one(3, "container", Str),
    ],
};

pub(super) static AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ContainerResourceMetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS)),
        one(3, "container", Str),
    ],
};

pub(super) static AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "CrossVersionObjectReference",
    repr: Repr::Object,
    fields: &[
        one(1, "kind", Str),
        one(2, "name", Str),
        omitempty(3, "apiVersion", Str),
    ],
};

pub(super) static AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ExternalMetricSource",
    repr: Repr::Object,
    fields: &[
        one(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
        one(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET)),
    ],
};

pub(super) static AUTOSCALING_V2_EXTERNAL_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ExternalMetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
        one(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS)),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscaler",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscalerBehavior",
    repr: Repr::Object,
    fields: &[
        one(1, "scaleUp", Msg(&AUTOSCALING_V2_HPA_SCALING_RULES)),
        one(2, "scaleDown", Msg(&AUTOSCALING_V2_HPA_SCALING_RULES)),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscalerCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_LIST: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscalerList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER)),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_SPEC: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscalerSpec",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "scaleTargetRef",
            Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE),
        ),
        one(2, "minReplicas", Int32),
        one(3, "maxReplicas", Int32),
        rep(4, "metrics", Msg(&AUTOSCALING_V2_METRIC_SPEC)),
        one(
            5,
            "behavior",
            Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_BEHAVIOR),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HorizontalPodAutoscalerStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "observedGeneration", Int64),
        one(2, "lastScaleTime", Msg(&META_V1_TIME)),
        omitempty(3, "currentReplicas", Int32),
        one(4, "desiredReplicas", Int32),
        rep(5, "currentMetrics", Msg(&AUTOSCALING_V2_METRIC_STATUS)),
        rep(
            6,
            "conditions",
            Msg(&AUTOSCALING_V2_HORIZONTAL_POD_AUTOSCALER_CONDITION),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_HPA_SCALING_POLICY: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HPAScalingPolicy",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "value", Int32),
        one(3, "periodSeconds", Int32),
    ],
};

pub(super) static AUTOSCALING_V2_HPA_SCALING_RULES: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "HPAScalingRules",
    repr: Repr::Object,
    fields: &[
        one(1, "selectPolicy", Str),
        rep(2, "policies", Msg(&AUTOSCALING_V2_HPA_SCALING_POLICY)),
        one(3, "stabilizationWindowSeconds", Int32),
        one(4, "tolerance", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static AUTOSCALING_V2_METRIC_IDENTIFIER: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "MetricIdentifier",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "selector", Msg(&META_V1_LABEL_SELECTOR)),
    ],
};

pub(super) static AUTOSCALING_V2_METRIC_SPEC: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "MetricSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "object", Msg(&AUTOSCALING_V2_OBJECT_METRIC_SOURCE)),
        one(3, "pods", Msg(&AUTOSCALING_V2_PODS_METRIC_SOURCE)),
        one(4, "resource", Msg(&AUTOSCALING_V2_RESOURCE_METRIC_SOURCE)),
        one(5, "external", Msg(&AUTOSCALING_V2_EXTERNAL_METRIC_SOURCE)),
        one(
            7,
            "containerResource",
            Msg(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_SOURCE),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "MetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "object", Msg(&AUTOSCALING_V2_OBJECT_METRIC_STATUS)),
        one(3, "pods", Msg(&AUTOSCALING_V2_PODS_METRIC_STATUS)),
        one(4, "resource", Msg(&AUTOSCALING_V2_RESOURCE_METRIC_STATUS)),
        one(5, "external", Msg(&AUTOSCALING_V2_EXTERNAL_METRIC_STATUS)),
        one(
            7,
            "containerResource",
            Msg(&AUTOSCALING_V2_CONTAINER_RESOURCE_METRIC_STATUS),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_METRIC_TARGET: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "MetricTarget",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "value", Msg(&RESOURCE_QUANTITY)),
        one(3, "averageValue", Msg(&RESOURCE_QUANTITY)),
        one(4, "averageUtilization", Int32),
    ],
};

pub(super) static AUTOSCALING_V2_METRIC_VALUE_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "MetricValueStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "value", Msg(&RESOURCE_QUANTITY)),
        one(2, "averageValue", Msg(&RESOURCE_QUANTITY)),
        one(3, "averageUtilization", Int32),
    ],
};

pub(super) static AUTOSCALING_V2_OBJECT_METRIC_SOURCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ObjectMetricSource",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "describedObject",
            Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE),
        ),
        one(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET)),
        one(3, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
    ],
};

pub(super) static AUTOSCALING_V2_OBJECT_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ObjectMetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
        one(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS)),
        one(
            3,
            "describedObject",
            Msg(&AUTOSCALING_V2_CROSS_VERSION_OBJECT_REFERENCE),
        ),
    ],
};

pub(super) static AUTOSCALING_V2_PODS_METRIC_SOURCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "PodsMetricSource",
    repr: Repr::Object,
    fields: &[
        one(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
        one(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET)),
    ],
};

pub(super) static AUTOSCALING_V2_PODS_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "PodsMetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "metric", Msg(&AUTOSCALING_V2_METRIC_IDENTIFIER)),
        one(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS)),
    ],
};

pub(super) static AUTOSCALING_V2_RESOURCE_METRIC_SOURCE: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ResourceMetricSource",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "target", Msg(&AUTOSCALING_V2_METRIC_TARGET)),
    ],
};

pub(super) static AUTOSCALING_V2_RESOURCE_METRIC_STATUS: Message = Message {
    package: "k8s.io.api.autoscaling.v2",
    name: "ResourceMetricStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "current", Msg(&AUTOSCALING_V2_METRIC_VALUE_STATUS)),
    ],
};

pub(super) static BATCH_V1_CRON_JOB: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "CronJob",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&BATCH_V1_CRON_JOB_SPEC)),
        one(3, "status", Msg(&BATCH_V1_CRON_JOB_STATUS)),
    ],
};

pub(super) static BATCH_V1_CRON_JOB_LIST: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "CronJobList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&BATCH_V1_CRON_JOB)),
    ],
};

pub(super) static BATCH_V1_CRON_JOB_SPEC: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "CronJobSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "schedule", Str),
        one(2, "startingDeadlineSeconds", Int64),
        omitempty(3, "concurrencyPolicy", Str),
        one(4, "suspend", Bool),
        one(5, "jobTemplate", Msg(&BATCH_V1_JOB_TEMPLATE_SPEC)),
        one(6, "successfulJobsHistoryLimit", Int32),
        one(7, "failedJobsHistoryLimit", Int32),
        one(8, "timeZone", Str),
    ],
};

pub(super) static BATCH_V1_CRON_JOB_STATUS: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "CronJobStatus",
    repr: Repr::Object,
    fields: &[
        rep(1, "active", Msg(&CORE_V1_OBJECT_REFERENCE)),
        one(4, "lastScheduleTime", Msg(&META_V1_TIME)),
        one(5, "lastSuccessfulTime", Msg(&META_V1_TIME)),
    ],
};

pub(super) static BATCH_V1_JOB: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "Job",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&BATCH_V1_JOB_SPEC)),
        one(3, "status", Msg(&BATCH_V1_JOB_STATUS)),
    ],
};

pub(super) static BATCH_V1_JOB_CONDITION: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "JobCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastProbeTime", Msg(&META_V1_TIME)),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(5, "reason", Str),
        omitempty(6, "message", Str),
    ],
};

pub(super) static BATCH_V1_JOB_LIST: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "JobList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&BATCH_V1_JOB)),
    ],
};

pub(super) static BATCH_V1_JOB_SPEC: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "JobSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "parallelism", Int32),
        one(2, "completions", Int32),
        one(3, "activeDeadlineSeconds", Int64),
        one(4, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(5, "manualSelector", Bool),
        one(6, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        one(7, "backoffLimit", Int32),
        one(8, "ttlSecondsAfterFinished", Int32),
        one(9, "completionMode", Str),
        one(10, "suspend", Bool),
        one(11, "podFailurePolicy", Msg(&BATCH_V1_POD_FAILURE_POLICY)),
        one(12, "backoffLimitPerIndex", Int32),
        one(13, "maxFailedIndexes", Int32),
        one(14, "podReplacementPolicy", Str),
        one(15, "managedBy", Str),
        one(16, "successPolicy", Msg(&BATCH_V1_SUCCESS_POLICY)),
    ],
};

pub(super) static BATCH_V1_JOB_STATUS: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "JobStatus",
    repr: Repr::Object,
    fields: &[
        rep(1, "conditions", Msg(&BATCH_V1_JOB_CONDITION)),
        one(2, "startTime", Msg(&META_V1_TIME)),
        one(3, "completionTime", Msg(&META_V1_TIME)),
        omitempty(4, "active", Int32),
        omitempty(5, "succeeded", Int32),
        omitempty(6, "failed", Int32),
        omitempty(7, "completedIndexes", Str),
        one(
            8,
            "uncountedTerminatedPods",
            Msg(&BATCH_V1_UNCOUNTED_TERMINATED_PODS),
        ),
        one(9, "ready", Int32),
        one(10, "failedIndexes", Str),
        one(11, "terminating", Int32),
    ],
};

pub(super) static BATCH_V1_JOB_TEMPLATE_SPEC: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "JobTemplateSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&BATCH_V1_JOB_SPEC)),
    ],
};

pub(super) static BATCH_V1_POD_FAILURE_POLICY: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "PodFailurePolicy",
    repr: Repr::Object,
    fields: &[rep(1, "rules", Msg(&BATCH_V1_POD_FAILURE_POLICY_RULE))],
};

pub(super) static BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "PodFailurePolicyOnExitCodesRequirement",
    repr: Repr::Object,
    fields: &[
        one(1, "containerName", Str),
        one(2, "operator", Str),
        rep(3, "values", Int32),
    ],
};

pub(super) static BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "PodFailurePolicyOnPodConditionsPattern",
    repr: Repr::Object,
    fields: &[one(1, "type", Str), one(2, "status", Str)],
};

pub(super) static BATCH_V1_POD_FAILURE_POLICY_RULE: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "PodFailurePolicyRule",
    repr: Repr::Object,
    fields: &[
        one(1, "action", Str),
        one(
            2,
            "onExitCodes",
            Msg(&BATCH_V1_POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT),
        ),
        rep(
            3,
            "onPodConditions",
            Msg(&BATCH_V1_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN),
        ),
    ],
};

pub(super) static BATCH_V1_SUCCESS_POLICY: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "SuccessPolicy",
    repr: Repr::Object,
    fields: &[rep(1, "rules", Msg(&BATCH_V1_SUCCESS_POLICY_RULE))],
};

pub(super) static BATCH_V1_SUCCESS_POLICY_RULE: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "SuccessPolicyRule",
    repr: Repr::Object,
    fields: &[
        one(1, "succeededIndexes", Str),
        one(2, "succeededCount", Int32),
    ],
};

pub(super) static BATCH_V1_UNCOUNTED_TERMINATED_PODS: Message = Message {
    package: "k8s.io.api.batch.v1",
    name: "UncountedTerminatedPods",
    repr: Repr::Object,
    fields: &[rep(1, "succeeded", Str), rep(2, "failed", Str)],
};

pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "CertificateSigningRequest",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_STATUS),
        ),
    ],
};

pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_CONDITION: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "CertificateSigningRequestCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        omitempty(2, "reason", Str),
        omitempty(3, "message", Str),
        one(4, "lastUpdateTime", Msg(&META_V1_TIME)),
        one(5, "lastTransitionTime", Msg(&META_V1_TIME)),
        one(6, "status", Str),
    ],
};

pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_LIST: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "CertificateSigningRequestList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(
            2,
            "items",
            Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST),
        ),
    ],
};

pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_SPEC: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "CertificateSigningRequestSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "request", Bytes),
        omitempty(2, "username", Str),
        omitempty(3, "uid", Str),
        rep(4, "groups", Str),
        rep(5, "usages", Str),
        map(6, "extra", Msg(&CERTIFICATES_V1_EXTRA_VALUE)),
        one(7, "signerName", Str),
        one(8, "expirationSeconds", Int32),
    ],
};

pub(super) static CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_STATUS: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "CertificateSigningRequestStatus",
    repr: Repr::Object,
    fields: &[
        rep(
            1,
            "conditions",
            Msg(&CERTIFICATES_V1_CERTIFICATE_SIGNING_REQUEST_CONDITION),
        ),
        omitempty(2, "certificate", Bytes),
    ],
};

pub(super) static CERTIFICATES_V1_EXTRA_VALUE: Message = Message {
    package: "k8s.io.api.certificates.v1",
    name: "ExtraValue",
    repr: Repr::StringList,
    fields: &[rep(1, "items", Str)],
};

pub(super) static COORDINATION_V1_LEASE: Message = Message {
    package: "k8s.io.api.coordination.v1",
    name: "Lease",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&COORDINATION_V1_LEASE_SPEC)),
    ],
};

pub(super) static COORDINATION_V1_LEASE_LIST: Message = Message {
    package: "k8s.io.api.coordination.v1",
    name: "LeaseList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&COORDINATION_V1_LEASE)),
    ],
};

pub(super) static COORDINATION_V1_LEASE_SPEC: Message = Message {
    package: "k8s.io.api.coordination.v1",
    name: "LeaseSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "holderIdentity", Str),
        one(2, "leaseDurationSeconds", Int32),
        one(3, "acquireTime", Msg(&META_V1_MICRO_TIME)),
        one(4, "renewTime", Msg(&META_V1_MICRO_TIME)),
        one(5, "leaseTransitions", Int32),
        one(6, "strategy", Str),
        one(7, "preferredHolder", Str),
    ],
};

pub(super) static CORE_V1_AFFINITY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Affinity",
    repr: Repr::Object,
    fields: &[
        one(1, "nodeAffinity", Msg(&CORE_V1_NODE_AFFINITY)),
        one(2, "podAffinity", Msg(&CORE_V1_POD_AFFINITY)),
        one(3, "podAntiAffinity", Msg(&CORE_V1_POD_ANTI_AFFINITY)),
    ],
};

pub(super) static CORE_V1_APP_ARMOR_PROFILE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AppArmorProfile",
    repr: Repr::Object,
    fields: &[one(1, "type", Str), one(2, "localhostProfile", Str)],
};

pub(super) static CORE_V1_ATTACHED_VOLUME: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AttachedVolume",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "devicePath", Str)],
};

pub(super) static CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AWSElasticBlockStoreVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "volumeID", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "partition", Int32),
        omitempty(4, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_AZURE_DISK_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AzureDiskVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "diskName", Str),
        one(2, "diskURI", Str),
        one(3, "cachingMode", Str),
        one(4, "fsType", Str),
        one(5, "readOnly", Bool),
        one(6, "kind", Str),
    ],
};

pub(super) static CORE_V1_AZURE_FILE_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AzureFilePersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "secretName", Str),
        one(2, "shareName", Str),
        omitempty(3, "readOnly", Bool),
        one(4, "secretNamespace", Str),
    ],
};

pub(super) static CORE_V1_AZURE_FILE_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "AzureFileVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "secretName", Str),
        one(2, "shareName", Str),
        omitempty(3, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_BINDING: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Binding",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "target", Msg(&CORE_V1_OBJECT_REFERENCE)),
    ],
};

pub(super) static CORE_V1_CAPABILITIES: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Capabilities",
    repr: Repr::Object,
    fields: &[rep(1, "add", Str), rep(2, "drop", Str)],
};

pub(super) static CORE_V1_CEPH_FS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CephFSPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "monitors", Str),
        omitempty(2, "path", Str),
        omitempty(3, "user", Str),
        omitempty(4, "secretFile", Str),
        one(5, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        omitempty(6, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_CEPH_FS_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CephFSVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "monitors", Str),
        omitempty(2, "path", Str),
        omitempty(3, "user", Str),
        omitempty(4, "secretFile", Str),
        one(5, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(6, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_CINDER_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CinderPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "volumeID", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "readOnly", Bool),
        one(4, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
    ],
};

pub(super) static CORE_V1_CINDER_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CinderVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "volumeID", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "readOnly", Bool),
        one(4, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
    ],
};

pub(super) static CORE_V1_CLIENT_IP_CONFIG: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ClientIPConfig",
    repr: Repr::Object,
    fields: &[one(1, "timeoutSeconds", Int32)],
};

pub(super) static CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ClusterTrustBundleProjection",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "signerName", Str),
        one(3, "labelSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(4, "path", Str),
        one(5, "optional", Bool),
    ],
};

pub(super) static CORE_V1_COMPONENT_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ComponentCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        omitempty(3, "message", Str),
        omitempty(4, "error", Str),
    ],
};

pub(super) static CORE_V1_COMPONENT_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ComponentStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "conditions", Msg(&CORE_V1_COMPONENT_CONDITION)),
    ],
};

pub(super) static CORE_V1_COMPONENT_STATUS_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ComponentStatusList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_COMPONENT_STATUS)),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMap",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        map(2, "data", Str),
        map(3, "binaryData", Bytes),
        one(4, "immutable", Bool),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_ENV_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapEnvSource",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        one(2, "optional", Bool),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_KEY_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapKeySelector",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        one(2, "key", Str),
        one(3, "optional", Bool),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_CONFIG_MAP)),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_NODE_CONFIG_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapNodeConfigSource",
    repr: Repr::Object,
    fields: &[
        one(1, "namespace", Str),
        one(2, "name", Str),
        omitempty(3, "uid", Str),
        omitempty(4, "resourceVersion", Str),
        one(5, "kubeletConfigKey", Str),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapProjection",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        rep(2, "items", Msg(&CORE_V1_KEY_TO_PATH)),
        one(4, "optional", Bool),
    ],
};

pub(super) static CORE_V1_CONFIG_MAP_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ConfigMapVolumeSource",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        rep(2, "items", Msg(&CORE_V1_KEY_TO_PATH)),
        one(3, "defaultMode", Int32),
        one(4, "optional", Bool),
    ],
};

pub(super) static CORE_V1_CONTAINER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Container",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        omitempty(2, "image", Str),
        rep(3, "command", Str),
        rep(4, "args", Str),
        omitempty(5, "workingDir", Str),
        rep(6, "ports", Msg(&CORE_V1_CONTAINER_PORT)),
        rep(7, "env", Msg(&CORE_V1_ENV_VAR)),
        one(8, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS)),
        rep(9, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT)),
        one(10, "livenessProbe", Msg(&CORE_V1_PROBE)),
        one(11, "readinessProbe", Msg(&CORE_V1_PROBE)),
        one(12, "lifecycle", Msg(&CORE_V1_LIFECYCLE)),
        omitempty(13, "terminationMessagePath", Str),
        omitempty(14, "imagePullPolicy", Str),
        one(15, "securityContext", Msg(&CORE_V1_SECURITY_CONTEXT)),
        omitempty(16, "stdin", Bool),
        omitempty(17, "stdinOnce", Bool),
        omitempty(18, "tty", Bool),
        rep(19, "envFrom", Msg(&CORE_V1_ENV_FROM_SOURCE)),
        omitempty(20, "terminationMessagePolicy", Str),
        rep(21, "volumeDevices", Msg(&CORE_V1_VOLUME_DEVICE)),
        one(22, "startupProbe", Msg(&CORE_V1_PROBE)),
        rep(23, "resizePolicy", Msg(&CORE_V1_CONTAINER_RESIZE_POLICY)),
        one(24, "restartPolicy", Str),
    ],
};

pub(super) static CORE_V1_CONTAINER_IMAGE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerImage",
    repr: Repr::Object,
    fields: &[rep(1, "names", Str), omitempty(2, "sizeBytes", Int64)],
};

pub(super) static CORE_V1_CONTAINER_PORT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerPort",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        omitempty(2, "hostPort", Int32),
        one(3, "containerPort", Int32),
        omitempty(4, "protocol", Str),
        omitempty(5, "hostIP", Str),
    ],
};

pub(super) static CORE_V1_CONTAINER_RESIZE_POLICY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerResizePolicy",
    repr: Repr::Object,
    fields: &[one(1, "resourceName", Str), one(2, "restartPolicy", Str)],
};

pub(super) static CORE_V1_CONTAINER_STATE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerState",
    repr: Repr::Object,
    fields: &[
        one(1, "waiting", Msg(&CORE_V1_CONTAINER_STATE_WAITING)),
        one(2, "running", Msg(&CORE_V1_CONTAINER_STATE_RUNNING)),
        one(3, "terminated", Msg(&CORE_V1_CONTAINER_STATE_TERMINATED)),
    ],
};

pub(super) static CORE_V1_CONTAINER_STATE_RUNNING: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerStateRunning",
    repr: Repr::Object,
    fields: &[one(1, "startedAt", Msg(&META_V1_TIME))],
};

pub(super) static CORE_V1_CONTAINER_STATE_TERMINATED: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerStateTerminated",
    repr: Repr::Object,
    fields: &[
        one(1, "exitCode", Int32),
        omitempty(2, "signal", Int32),
        omitempty(3, "reason", Str),
        omitempty(4, "message", Str),
        one(5, "startedAt", Msg(&META_V1_TIME)),
        one(6, "finishedAt", Msg(&META_V1_TIME)),
        omitempty(7, "containerID", Str),
    ],
};

pub(super) static CORE_V1_CONTAINER_STATE_WAITING: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerStateWaiting",
    repr: Repr::Object,
    fields: &[omitempty(1, "reason", Str), omitempty(2, "message", Str)],
};

pub(super) static CORE_V1_CONTAINER_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "state", Msg(&CORE_V1_CONTAINER_STATE)),
        one(3, "lastState", Msg(&CORE_V1_CONTAINER_STATE)),
        one(4, "ready", Bool),
        one(5, "restartCount", Int32),
        one(6, "image", Str),
        one(7, "imageID", Str),
        omitempty(8, "containerID", Str),
        one(9, "started", Bool),
        map(10, "allocatedResources", Msg(&RESOURCE_QUANTITY)),
        one(11, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS)),
        rep(12, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT_STATUS)),
        one(13, "user", Msg(&CORE_V1_CONTAINER_USER)),
        rep(
            14,
            "allocatedResourcesStatus",
            Msg(&CORE_V1_RESOURCE_STATUS),
        ),
        one(15, "stopSignal", Str),
    ],
};

pub(super) static CORE_V1_CONTAINER_USER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ContainerUser",
    repr: Repr::Object,
    fields: &[one(1, "linux", Msg(&CORE_V1_LINUX_CONTAINER_USER))],
};

pub(super) static CORE_V1_CSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CSIPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "driver", Str),
        one(2, "volumeHandle", Str),
        omitempty(3, "readOnly", Bool),
        omitempty(4, "fsType", Str),
        map(5, "volumeAttributes", Str),
        one(
            6,
            "controllerPublishSecretRef",
            Msg(&CORE_V1_SECRET_REFERENCE),
        ),
        one(7, "nodeStageSecretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        one(8, "nodePublishSecretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        one(
            9,
            "controllerExpandSecretRef",
            Msg(&CORE_V1_SECRET_REFERENCE),
        ),
        one(10, "nodeExpandSecretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
    ],
};

pub(super) static CORE_V1_CSI_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "CSIVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "driver", Str),
        one(2, "readOnly", Bool),
        one(3, "fsType", Str),
        map(4, "volumeAttributes", Str),
        one(
            5,
            "nodePublishSecretRef",
            Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE),
        ),
    ],
};

pub(super) static CORE_V1_DAEMON_ENDPOINT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "DaemonEndpoint",
    repr: Repr::Object,
    fields: &[one(1, "Port", Int32)],
};

pub(super) static CORE_V1_DOWNWARD_API_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "DownwardAPIProjection",
    repr: Repr::Object,
    fields: &[rep(1, "items", Msg(&CORE_V1_DOWNWARD_API_VOLUME_FILE))],
};

pub(super) static CORE_V1_DOWNWARD_API_VOLUME_FILE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "DownwardAPIVolumeFile",
    repr: Repr::Object,
    fields: &[
        one(1, "path", Str),
        one(2, "fieldRef", Msg(&CORE_V1_OBJECT_FIELD_SELECTOR)),
        one(3, "resourceFieldRef", Msg(&CORE_V1_RESOURCE_FIELD_SELECTOR)),
        one(4, "mode", Int32),
    ],
};

pub(super) static CORE_V1_DOWNWARD_API_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "DownwardAPIVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "items", Msg(&CORE_V1_DOWNWARD_API_VOLUME_FILE)),
        one(2, "defaultMode", Int32),
    ],
};

pub(super) static CORE_V1_EMPTY_DIR_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EmptyDirVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "medium", Str),
        one(2, "sizeLimit", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static CORE_V1_ENDPOINTS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Endpoints",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "subsets", Msg(&CORE_V1_ENDPOINT_SUBSET)),
    ],
};

pub(super) static CORE_V1_ENDPOINTS_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EndpointsList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_ENDPOINTS)),
    ],
};

pub(super) static CORE_V1_ENDPOINT_ADDRESS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EndpointAddress",
    repr: Repr::Object,
    fields: &[
        one(1, "ip", Str),
        one(2, "targetRef", Msg(&CORE_V1_OBJECT_REFERENCE)),
        omitempty(3, "hostname", Str),
        one(4, "nodeName", Str),
    ],
};

pub(super) static CORE_V1_ENDPOINT_PORT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EndpointPort",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        one(2, "port", Int32),
        omitempty(3, "protocol", Str),
        one(4, "appProtocol", Str),
    ],
};

pub(super) static CORE_V1_ENDPOINT_SUBSET: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EndpointSubset",
    repr: Repr::Object,
    fields: &[
        rep(1, "addresses", Msg(&CORE_V1_ENDPOINT_ADDRESS)),
        rep(2, "notReadyAddresses", Msg(&CORE_V1_ENDPOINT_ADDRESS)),
        rep(3, "ports", Msg(&CORE_V1_ENDPOINT_PORT)),
    ],
};

pub(super) static CORE_V1_ENV_FROM_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EnvFromSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "prefix", Str),
        one(2, "configMapRef", Msg(&CORE_V1_CONFIG_MAP_ENV_SOURCE)),
        one(3, "secretRef", Msg(&CORE_V1_SECRET_ENV_SOURCE)),
    ],
};

pub(super) static CORE_V1_ENV_VAR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EnvVar",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        omitempty(2, "value", Str),
        one(3, "valueFrom", Msg(&CORE_V1_ENV_VAR_SOURCE)),
    ],
};

pub(super) static CORE_V1_ENV_VAR_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EnvVarSource",
    repr: Repr::Object,
    fields: &[
        one(1, "fieldRef", Msg(&CORE_V1_OBJECT_FIELD_SELECTOR)),
        one(2, "resourceFieldRef", Msg(&CORE_V1_RESOURCE_FIELD_SELECTOR)),
        one(3, "configMapKeyRef", Msg(&CORE_V1_CONFIG_MAP_KEY_SELECTOR)),
        one(4, "secretKeyRef", Msg(&CORE_V1_SECRET_KEY_SELECTOR)),
    ],
};

pub(super) static CORE_V1_EPHEMERAL_CONTAINER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EphemeralContainer",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_EPHEMERAL_CONTAINER_COMMON)),
        omitempty(2, "targetContainerName", Str),
    ],
};

pub(super) static CORE_V1_EPHEMERAL_CONTAINER_COMMON: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EphemeralContainerCommon",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        omitempty(2, "image", Str),
        rep(3, "command", Str),
        rep(4, "args", Str),
        omitempty(5, "workingDir", Str),
        rep(6, "ports", Msg(&CORE_V1_CONTAINER_PORT)),
        rep(7, "env", Msg(&CORE_V1_ENV_VAR)),
        one(8, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS)),
        rep(9, "volumeMounts", Msg(&CORE_V1_VOLUME_MOUNT)),
        one(10, "livenessProbe", Msg(&CORE_V1_PROBE)),
        one(11, "readinessProbe", Msg(&CORE_V1_PROBE)),
        one(12, "lifecycle", Msg(&CORE_V1_LIFECYCLE)),
        omitempty(13, "terminationMessagePath", Str),
        omitempty(14, "imagePullPolicy", Str),
        one(15, "securityContext", Msg(&CORE_V1_SECURITY_CONTEXT)),
        omitempty(16, "stdin", Bool),
        omitempty(17, "stdinOnce", Bool),
        omitempty(18, "tty", Bool),
        rep(19, "envFrom", Msg(&CORE_V1_ENV_FROM_SOURCE)),
        omitempty(20, "terminationMessagePolicy", Str),
        rep(21, "volumeDevices", Msg(&CORE_V1_VOLUME_DEVICE)),
        one(22, "startupProbe", Msg(&CORE_V1_PROBE)),
        rep(23, "resizePolicy", Msg(&CORE_V1_CONTAINER_RESIZE_POLICY)),
        one(24, "restartPolicy", Str),
    ],
};

pub(super) static CORE_V1_EPHEMERAL_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EphemeralVolumeSource",
    repr: Repr::Object,
    fields: &[one(
        1,
        "volumeClaimTemplate",
        Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE),
    )],
};

pub(super) static CORE_V1_EVENT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Event",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "involvedObject", Msg(&CORE_V1_OBJECT_REFERENCE)),
        omitempty(3, "reason", Str),
        omitempty(4, "message", Str),
        one(5, "source", Msg(&CORE_V1_EVENT_SOURCE)),
        one(6, "firstTimestamp", Msg(&META_V1_TIME)),
        one(7, "lastTimestamp", Msg(&META_V1_TIME)),
        omitempty(8, "count", Int32),
        omitempty(9, "type", Str),
        one(10, "eventTime", Msg(&META_V1_MICRO_TIME)),
        one(11, "series", Msg(&CORE_V1_EVENT_SERIES)),
        omitempty(12, "action", Str),
        one(13, "related", Msg(&CORE_V1_OBJECT_REFERENCE)),
        one(14, "reportingComponent", Str),
        one(15, "reportingInstance", Str),
    ],
};

pub(super) static CORE_V1_EVENT_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EventList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_EVENT)),
    ],
};

pub(super) static CORE_V1_EVENT_SERIES: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EventSeries",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "count", Int32),
        one(2, "lastObservedTime", Msg(&META_V1_MICRO_TIME)),
    ],
};

pub(super) static CORE_V1_EVENT_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "EventSource",
    repr: Repr::Object,
    fields: &[omitempty(1, "component", Str), omitempty(2, "host", Str)],
};

pub(super) static CORE_V1_EXEC_ACTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ExecAction",
    repr: Repr::Object,
    fields: &[rep(1, "command", Str)],
};

pub(super) static CORE_V1_FC_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "FCVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "targetWWNs", Str),
        one(2, "lun", Int32),
        omitempty(3, "fsType", Str),
        omitempty(4, "readOnly", Bool),
        rep(5, "wwids", Str),
    ],
};

pub(super) static CORE_V1_FLEX_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "FlexPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "driver", Str),
        omitempty(2, "fsType", Str),
        one(3, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        omitempty(4, "readOnly", Bool),
        map(5, "options", Str),
    ],
};

pub(super) static CORE_V1_FLEX_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "FlexVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "driver", Str),
        omitempty(2, "fsType", Str),
        one(3, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(4, "readOnly", Bool),
        map(5, "options", Str),
    ],
};

pub(super) static CORE_V1_FLOCKER_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "FlockerVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "datasetName", Str),
        omitempty(2, "datasetUUID", Str),
    ],
};

pub(super) static CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "GCEPersistentDiskVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "pdName", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "partition", Int32),
        omitempty(4, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_GIT_REPO_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "GitRepoVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "repository", Str),
        omitempty(2, "revision", Str),
        omitempty(3, "directory", Str),
    ],
};

pub(super) static CORE_V1_GLUSTERFS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "GlusterfsPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "endpoints", Str),
        one(2, "path", Str),
        omitempty(3, "readOnly", Bool),
        one(4, "endpointsNamespace", Str),
    ],
};

pub(super) static CORE_V1_GLUSTERFS_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "GlusterfsVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "endpoints", Str),
        one(2, "path", Str),
        omitempty(3, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_GRPC_ACTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "GRPCAction",
    repr: Repr::Object,
    fields: &[one(1, "port", Int32), one(2, "service", Str)],
};

pub(super) static CORE_V1_HOST_ALIAS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "HostAlias",
    repr: Repr::Object,
    fields: &[one(1, "ip", Str), rep(2, "hostnames", Str)],
};

pub(super) static CORE_V1_HOST_IP: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "HostIP",
    repr: Repr::Object,
    fields: &[one(1, "ip", Str)],
};

pub(super) static CORE_V1_HOST_PATH_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "HostPathVolumeSource",
    repr: Repr::Object,
    fields: &[one(1, "path", Str), one(2, "type", Str)],
};

pub(super) static CORE_V1_HTTP_GET_ACTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "HTTPGetAction",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "path", Str),
        one(2, "port", Msg(&INTSTR_INT_OR_STRING)),
        omitempty(3, "host", Str),
        omitempty(4, "scheme", Str),
        rep(5, "httpHeaders", Msg(&CORE_V1_HTTP_HEADER)),
    ],
};

pub(super) static CORE_V1_HTTP_HEADER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "HTTPHeader",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "value", Str)],
};

pub(super) static CORE_V1_IMAGE_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ImageVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "reference", Str),
        omitempty(2, "pullPolicy", Str),
    ],
};

pub(super) static CORE_V1_ISCSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ISCSIPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "targetPortal", Str),
        one(2, "iqn", Str),
        one(3, "lun", Int32),
        omitempty(4, "iscsiInterface", Str),
        omitempty(5, "fsType", Str),
        omitempty(6, "readOnly", Bool),
        rep(7, "portals", Str),
        omitempty(8, "chapAuthDiscovery", Bool),
        one(10, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        omitempty(11, "chapAuthSession", Bool),
        one(12, "initiatorName", Str),
    ],
};

pub(super) static CORE_V1_ISCSI_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ISCSIVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "targetPortal", Str),
        one(2, "iqn", Str),
        one(3, "lun", Int32),
        omitempty(4, "iscsiInterface", Str),
        omitempty(5, "fsType", Str),
        omitempty(6, "readOnly", Bool),
        rep(7, "portals", Str),
        omitempty(8, "chapAuthDiscovery", Bool),
        one(10, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(11, "chapAuthSession", Bool),
        one(12, "initiatorName", Str),
    ],
};

pub(super) static CORE_V1_KEY_TO_PATH: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "KeyToPath",
    repr: Repr::Object,
    fields: &[
        one(1, "key", Str),
        one(2, "path", Str),
        one(3, "mode", Int32),
    ],
};

pub(super) static CORE_V1_LIFECYCLE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Lifecycle",
    repr: Repr::Object,
    fields: &[
        one(1, "postStart", Msg(&CORE_V1_LIFECYCLE_HANDLER)),
        one(2, "preStop", Msg(&CORE_V1_LIFECYCLE_HANDLER)),
        one(3, "stopSignal", Str),
    ],
};

pub(super) static CORE_V1_LIFECYCLE_HANDLER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LifecycleHandler",
    repr: Repr::Object,
    fields: &[
        one(1, "exec", Msg(&CORE_V1_EXEC_ACTION)),
        one(2, "httpGet", Msg(&CORE_V1_HTTP_GET_ACTION)),
        one(3, "tcpSocket", Msg(&CORE_V1_TCP_SOCKET_ACTION)),
        one(4, "sleep", Msg(&CORE_V1_SLEEP_ACTION)),
    ],
};

pub(super) static CORE_V1_LIMIT_RANGE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LimitRange",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_LIMIT_RANGE_SPEC)),
    ],
};

pub(super) static CORE_V1_LIMIT_RANGE_ITEM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LimitRangeItem",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        map(2, "max", Msg(&RESOURCE_QUANTITY)),
        map(3, "min", Msg(&RESOURCE_QUANTITY)),
        map(4, "default", Msg(&RESOURCE_QUANTITY)),
        map(5, "defaultRequest", Msg(&RESOURCE_QUANTITY)),
        map(6, "maxLimitRequestRatio", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static CORE_V1_LIMIT_RANGE_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LimitRangeList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_LIMIT_RANGE)),
    ],
};

pub(super) static CORE_V1_LIMIT_RANGE_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LimitRangeSpec",
    repr: Repr::Object,
    fields: &[rep(1, "limits", Msg(&CORE_V1_LIMIT_RANGE_ITEM))],
};

pub(super) static CORE_V1_LINUX_CONTAINER_USER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LinuxContainerUser",
    repr: Repr::Object,
    fields: &[
        one(1, "uid", Int64),
        one(2, "gid", Int64),
        rep(3, "supplementalGroups", Int64),
    ],
};

pub(super) static CORE_V1_LOAD_BALANCER_INGRESS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LoadBalancerIngress",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "ip", Str),
        omitempty(2, "hostname", Str),
        one(3, "ipMode", Str),
        rep(4, "ports", Msg(&CORE_V1_PORT_STATUS)),
    ],
};

pub(super) static CORE_V1_LOAD_BALANCER_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LoadBalancerStatus",
    repr: Repr::Object,
    fields: &[rep(1, "ingress", Msg(&CORE_V1_LOAD_BALANCER_INGRESS))],
};

pub(super) static CORE_V1_LOCAL_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LocalObjectReference",
    repr: Repr::Object,
    fields: &[omitempty(1, "name", Str)],
};

pub(super) static CORE_V1_LOCAL_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "LocalVolumeSource",
    repr: Repr::Object,
    fields: &[one(1, "path", Str), one(2, "fsType", Str)],
};

pub(super) static CORE_V1_MODIFY_VOLUME_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ModifyVolumeStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "targetVolumeAttributesClassName", Str),
        one(2, "status", Str),
    ],
};

pub(super) static CORE_V1_NAMESPACE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Namespace",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_NAMESPACE_SPEC)),
        one(3, "status", Msg(&CORE_V1_NAMESPACE_STATUS)),
    ],
};

pub(super) static CORE_V1_NAMESPACE_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NamespaceCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(5, "reason", Str),
        omitempty(6, "message", Str),
    ],
};

pub(super) static CORE_V1_NAMESPACE_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NamespaceList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_NAMESPACE)),
    ],
};

pub(super) static CORE_V1_NAMESPACE_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NamespaceSpec",
    repr: Repr::Object,
    fields: &[rep(1, "finalizers", Str)],
};

pub(super) static CORE_V1_NAMESPACE_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NamespaceStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "phase", Str),
        rep(2, "conditions", Msg(&CORE_V1_NAMESPACE_CONDITION)),
    ],
};

pub(super) static CORE_V1_NFS_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NFSVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "server", Str),
        one(2, "path", Str),
        omitempty(3, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_NODE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Node",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_NODE_SPEC)),
        one(3, "status", Msg(&CORE_V1_NODE_STATUS)),
    ],
};

pub(super) static CORE_V1_NODE_ADDRESS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeAddress",
    repr: Repr::Object,
    fields: &[one(1, "type", Str), one(2, "address", Str)],
};

pub(super) static CORE_V1_NODE_AFFINITY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeAffinity",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "requiredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_NODE_SELECTOR),
        ),
        rep(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_PREFERRED_SCHEDULING_TERM),
        ),
    ],
};

pub(super) static CORE_V1_NODE_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastHeartbeatTime", Msg(&META_V1_TIME)),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(5, "reason", Str),
        omitempty(6, "message", Str),
    ],
};

pub(super) static CORE_V1_NODE_CONFIG_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeConfigSource",
    repr: Repr::Object,
    fields: &[one(
        2,
        "configMap",
        Msg(&CORE_V1_CONFIG_MAP_NODE_CONFIG_SOURCE),
    )],
};

pub(super) static CORE_V1_NODE_CONFIG_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeConfigStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "assigned", Msg(&CORE_V1_NODE_CONFIG_SOURCE)),
        one(2, "active", Msg(&CORE_V1_NODE_CONFIG_SOURCE)),
        one(3, "lastKnownGood", Msg(&CORE_V1_NODE_CONFIG_SOURCE)),
        omitempty(4, "error", Str),
    ],
};

pub(super) static CORE_V1_NODE_DAEMON_ENDPOINTS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeDaemonEndpoints",
    repr: Repr::Object,
    fields: &[one(1, "kubeletEndpoint", Msg(&CORE_V1_DAEMON_ENDPOINT))],
};

pub(super) static CORE_V1_NODE_FEATURES: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeFeatures",
    repr: Repr::Object,
    fields: &[one(1, "supplementalGroupsPolicy", Bool)],
};

pub(super) static CORE_V1_NODE_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_NODE)),
    ],
};

pub(super) static CORE_V1_NODE_PROXY_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeProxyOptions",
    repr: Repr::Object,
    fields: &[omitempty(1, "path", Str)],
};

pub(super) static CORE_V1_NODE_RUNTIME_HANDLER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeRuntimeHandler",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "features", Msg(&CORE_V1_NODE_RUNTIME_HANDLER_FEATURES)),
    ],
};

pub(super) static CORE_V1_NODE_RUNTIME_HANDLER_FEATURES: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeRuntimeHandlerFeatures",
    repr: Repr::Object,
    fields: &[
        one(1, "recursiveReadOnlyMounts", Bool),
        one(2, "userNamespaces", Bool),
    ],
};

pub(super) static CORE_V1_NODE_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSelector",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "nodeSelectorTerms",
        Msg(&CORE_V1_NODE_SELECTOR_TERM),
    )],
};

pub(super) static CORE_V1_NODE_SELECTOR_REQUIREMENT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSelectorRequirement",
    repr: Repr::Object,
    fields: &[
        one(1, "key", Str),
        one(2, "operator", Str),
        rep(3, "values", Str),
    ],
};

pub(super) static CORE_V1_NODE_SELECTOR_TERM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSelectorTerm",
    repr: Repr::Object,
    fields: &[
        rep(
            1,
            "matchExpressions",
            Msg(&CORE_V1_NODE_SELECTOR_REQUIREMENT),
        ),
        rep(2, "matchFields", Msg(&CORE_V1_NODE_SELECTOR_REQUIREMENT)),
    ],
};

pub(super) static CORE_V1_NODE_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSpec",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "podCIDR", Str),
        omitempty(2, "externalID", Str),
        omitempty(3, "providerID", Str),
        omitempty(4, "unschedulable", Bool),
        rep(5, "taints", Msg(&CORE_V1_TAINT)),
        one(6, "configSource", Msg(&CORE_V1_NODE_CONFIG_SOURCE)),
        rep(7, "podCIDRs", Str),
    ],
};

pub(super) static CORE_V1_NODE_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeStatus",
    repr: Repr::Object,
    fields: &[
        map(1, "capacity", Msg(&RESOURCE_QUANTITY)),
        map(2, "allocatable", Msg(&RESOURCE_QUANTITY)),
        omitempty(3, "phase", Str),
        rep(4, "conditions", Msg(&CORE_V1_NODE_CONDITION)),
        rep(5, "addresses", Msg(&CORE_V1_NODE_ADDRESS)),
        one(6, "daemonEndpoints", Msg(&CORE_V1_NODE_DAEMON_ENDPOINTS)),
        one(7, "nodeInfo", Msg(&CORE_V1_NODE_SYSTEM_INFO)),
        rep(8, "images", Msg(&CORE_V1_CONTAINER_IMAGE)),
        rep(9, "volumesInUse", Str),
        rep(10, "volumesAttached", Msg(&CORE_V1_ATTACHED_VOLUME)),
        one(11, "config", Msg(&CORE_V1_NODE_CONFIG_STATUS)),
        rep(12, "runtimeHandlers", Msg(&CORE_V1_NODE_RUNTIME_HANDLER)),
        one(13, "features", Msg(&CORE_V1_NODE_FEATURES)),
    ],
};

pub(super) static CORE_V1_NODE_SWAP_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSwapStatus",
    repr: Repr::Object,
    fields: &[one(1, "capacity", Int64)],
};

pub(super) static CORE_V1_NODE_SYSTEM_INFO: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "NodeSystemInfo",
    repr: Repr::Object,
    fields: &[
        one(1, "machineID", Str),
        one(2, "systemUUID", Str),
        one(3, "bootID", Str),
        one(4, "kernelVersion", Str),
        one(5, "osImage", Str),
        one(6, "containerRuntimeVersion", Str),
        one(7, "kubeletVersion", Str),
        one(8, "kubeProxyVersion", Str),
        one(9, "operatingSystem", Str),
        one(10, "architecture", Str),
        one(11, "swap", Msg(&CORE_V1_NODE_SWAP_STATUS)),
    ],
};

pub(super) static CORE_V1_OBJECT_FIELD_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ObjectFieldSelector",
    repr: Repr::Object,
    fields: &[omitempty(1, "apiVersion", Str), one(2, "fieldPath", Str)],
};

pub(super) static CORE_V1_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ObjectReference",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "kind", Str),
        omitempty(2, "namespace", Str),
        omitempty(3, "name", Str),
        omitempty(4, "uid", Str),
        omitempty(5, "apiVersion", Str),
        omitempty(6, "resourceVersion", Str),
        omitempty(7, "fieldPath", Str),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolume",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_PERSISTENT_VOLUME_SPEC)),
        one(3, "status", Msg(&CORE_V1_PERSISTENT_VOLUME_STATUS)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaim",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC)),
        one(3, "status", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastProbeTime", Msg(&META_V1_TIME)),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(5, "reason", Str),
        omitempty(6, "message", Str),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimSpec",
    repr: Repr::Object,
    fields: &[
        rep(1, "accessModes", Str),
        one(2, "resources", Msg(&CORE_V1_VOLUME_RESOURCE_REQUIREMENTS)),
        omitempty(3, "volumeName", Str),
        one(4, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(5, "storageClassName", Str),
        one(6, "volumeMode", Str),
        one(7, "dataSource", Msg(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE)),
        one(8, "dataSourceRef", Msg(&CORE_V1_TYPED_OBJECT_REFERENCE)),
        one(9, "volumeAttributesClassName", Str),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "phase", Str),
        rep(2, "accessModes", Str),
        map(3, "capacity", Msg(&RESOURCE_QUANTITY)),
        rep(
            4,
            "conditions",
            Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_CONDITION),
        ),
        map(5, "allocatedResources", Msg(&RESOURCE_QUANTITY)),
        map(7, "allocatedResourceStatuses", Str),
        one(8, "currentVolumeAttributesClassName", Str),
        one(9, "modifyVolumeStatus", Msg(&CORE_V1_MODIFY_VOLUME_STATUS)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimTemplate",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_SPEC)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeClaimVolumeSource",
    repr: Repr::Object,
    fields: &[one(1, "claimName", Str), omitempty(2, "readOnly", Bool)],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_PERSISTENT_VOLUME)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "gcePersistentDisk",
            Msg(&CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE),
        ),
        one(
            2,
            "awsElasticBlockStore",
            Msg(&CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE),
        ),
        one(3, "hostPath", Msg(&CORE_V1_HOST_PATH_VOLUME_SOURCE)),
        one(
            4,
            "glusterfs",
            Msg(&CORE_V1_GLUSTERFS_PERSISTENT_VOLUME_SOURCE),
        ),
        one(5, "nfs", Msg(&CORE_V1_NFS_VOLUME_SOURCE)),
        one(6, "rbd", Msg(&CORE_V1_RBD_PERSISTENT_VOLUME_SOURCE)),
        one(7, "iscsi", Msg(&CORE_V1_ISCSI_PERSISTENT_VOLUME_SOURCE)),
        one(8, "cinder", Msg(&CORE_V1_CINDER_PERSISTENT_VOLUME_SOURCE)),
        one(9, "cephfs", Msg(&CORE_V1_CEPH_FS_PERSISTENT_VOLUME_SOURCE)),
        one(10, "fc", Msg(&CORE_V1_FC_VOLUME_SOURCE)),
        one(11, "flocker", Msg(&CORE_V1_FLOCKER_VOLUME_SOURCE)),
        one(
            12,
            "flexVolume",
            Msg(&CORE_V1_FLEX_PERSISTENT_VOLUME_SOURCE),
        ),
        one(
            13,
            "azureFile",
            Msg(&CORE_V1_AZURE_FILE_PERSISTENT_VOLUME_SOURCE),
        ),
        one(
            14,
            "vsphereVolume",
            Msg(&CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE),
        ),
        one(15, "quobyte", Msg(&CORE_V1_QUOBYTE_VOLUME_SOURCE)),
        one(16, "azureDisk", Msg(&CORE_V1_AZURE_DISK_VOLUME_SOURCE)),
        one(
            17,
            "photonPersistentDisk",
            Msg(&CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE),
        ),
        one(18, "portworxVolume", Msg(&CORE_V1_PORTWORX_VOLUME_SOURCE)),
        one(
            19,
            "scaleIO",
            Msg(&CORE_V1_SCALE_IO_PERSISTENT_VOLUME_SOURCE),
        ),
        one(20, "local", Msg(&CORE_V1_LOCAL_VOLUME_SOURCE)),
        one(
            21,
            "storageos",
            Msg(&CORE_V1_STORAGE_OS_PERSISTENT_VOLUME_SOURCE),
        ),
        one(22, "csi", Msg(&CORE_V1_CSI_PERSISTENT_VOLUME_SOURCE)),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeSpec",
    repr: Repr::Object,
    fields: &[
        map(1, "capacity", Msg(&RESOURCE_QUANTITY)),
        inline(2, Msg(&CORE_V1_PERSISTENT_VOLUME_SOURCE)),
        rep(3, "accessModes", Str),
        one(4, "claimRef", Msg(&CORE_V1_OBJECT_REFERENCE)),
        omitempty(5, "persistentVolumeReclaimPolicy", Str),
        omitempty(6, "storageClassName", Str),
        rep(7, "mountOptions", Str),
        one(8, "volumeMode", Str),
        one(9, "nodeAffinity", Msg(&CORE_V1_VOLUME_NODE_AFFINITY)),
        one(10, "volumeAttributesClassName", Str),
    ],
};

pub(super) static CORE_V1_PERSISTENT_VOLUME_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PersistentVolumeStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "phase", Str),
        omitempty(2, "message", Str),
        omitempty(3, "reason", Str),
        one(4, "lastPhaseTransitionTime", Msg(&META_V1_TIME)),
    ],
};

pub(super) static CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PhotonPersistentDiskVolumeSource",
    repr: Repr::Object,
    fields: &[one(1, "pdID", Str), omitempty(2, "fsType", Str)],
};

pub(super) static CORE_V1_POD: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Pod",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_POD_SPEC)),
        one(3, "status", Msg(&CORE_V1_POD_STATUS)),
    ],
};

pub(super) static CORE_V1_POD_AFFINITY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodAffinity",
    repr: Repr::Object,
    fields: &[
        rep(
            1,
            "requiredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_POD_AFFINITY_TERM),
        ),
        rep(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM),
        ),
    ],
};

pub(super) static CORE_V1_POD_AFFINITY_TERM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodAffinityTerm",
    repr: Repr::Object,
    fields: &[
        one(1, "labelSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(2, "namespaces", Str),
        one(3, "topologyKey", Str),
        one(4, "namespaceSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(5, "matchLabelKeys", Str),
        rep(6, "mismatchLabelKeys", Str),
    ],
};

pub(super) static CORE_V1_POD_ANTI_AFFINITY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodAntiAffinity",
    repr: Repr::Object,
    fields: &[
        rep(
            1,
            "requiredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_POD_AFFINITY_TERM),
        ),
        rep(
            2,
            "preferredDuringSchedulingIgnoredDuringExecution",
            Msg(&CORE_V1_WEIGHTED_POD_AFFINITY_TERM),
        ),
    ],
};

pub(super) static CORE_V1_POD_ATTACH_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodAttachOptions",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "stdin", Bool),
        omitempty(2, "stdout", Bool),
        omitempty(3, "stderr", Bool),
        omitempty(4, "tty", Bool),
        omitempty(5, "container", Str),
    ],
};

pub(super) static CORE_V1_POD_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastProbeTime", Msg(&META_V1_TIME)),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(5, "reason", Str),
        omitempty(6, "message", Str),
        omitempty(7, "observedGeneration", Int64),
    ],
};

pub(super) static CORE_V1_POD_DNS_CONFIG: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodDNSConfig",
    repr: Repr::Object,
    fields: &[
        rep(1, "nameservers", Str),
        rep(2, "searches", Str),
        rep(3, "options", Msg(&CORE_V1_POD_DNS_CONFIG_OPTION)),
    ],
};

pub(super) static CORE_V1_POD_DNS_CONFIG_OPTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodDNSConfigOption",
    repr: Repr::Object,
    fields: &[omitempty(1, "name", Str), one(2, "value", Str)],
};

pub(super) static CORE_V1_POD_EXEC_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodExecOptions",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "stdin", Bool),
        omitempty(2, "stdout", Bool),
        omitempty(3, "stderr", Bool),
        omitempty(4, "tty", Bool),
        omitempty(5, "container", Str),
        rep(6, "command", Str),
    ],
};

pub(super) static CORE_V1_POD_IP: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodIP",
    repr: Repr::Object,
    fields: &[one(1, "ip", Str)],
};

pub(super) static CORE_V1_POD_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_POD)),
    ],
};

pub(super) static CORE_V1_POD_LOG_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodLogOptions",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "container", Str),
        omitempty(2, "follow", Bool),
        omitempty(3, "previous", Bool),
        one(4, "sinceSeconds", Int64),
        one(5, "sinceTime", Msg(&META_V1_TIME)),
        omitempty(6, "timestamps", Bool),
        one(7, "tailLines", Int64),
        one(8, "limitBytes", Int64),
        omitempty(9, "insecureSkipTLSVerifyBackend", Bool),
        one(10, "stream", Str),
    ],
};

pub(super) static CORE_V1_POD_OS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodOS",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static CORE_V1_POD_PORT_FORWARD_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodPortForwardOptions",
    repr: Repr::Object,
    fields: &[rep(1, "ports", Int32)],
};

pub(super) static CORE_V1_POD_PROXY_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodProxyOptions",
    repr: Repr::Object,
    fields: &[omitempty(1, "path", Str)],
};

pub(super) static CORE_V1_POD_READINESS_GATE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodReadinessGate",
    repr: Repr::Object,
    fields: &[one(1, "conditionType", Str)],
};

pub(super) static CORE_V1_POD_RESOURCE_CLAIM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodResourceClaim",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(3, "resourceClaimName", Str),
        one(4, "resourceClaimTemplateName", Str),
    ],
};

pub(super) static CORE_V1_POD_RESOURCE_CLAIM_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodResourceClaimStatus",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "resourceClaimName", Str)],
};

pub(super) static CORE_V1_POD_SCHEDULING_GATE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodSchedulingGate",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static CORE_V1_POD_SECURITY_CONTEXT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodSecurityContext",
    repr: Repr::Object,
    fields: &[
        one(1, "seLinuxOptions", Msg(&CORE_V1_SE_LINUX_OPTIONS)),
        one(2, "runAsUser", Int64),
        one(3, "runAsNonRoot", Bool),
        rep(4, "supplementalGroups", Int64),
        one(5, "fsGroup", Int64),
        one(6, "runAsGroup", Int64),
        rep(7, "sysctls", Msg(&CORE_V1_SYSCTL)),
        one(
            8,
            "windowsOptions",
            Msg(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS),
        ),
        one(9, "fsGroupChangePolicy", Str),
        one(10, "seccompProfile", Msg(&CORE_V1_SECCOMP_PROFILE)),
        one(11, "appArmorProfile", Msg(&CORE_V1_APP_ARMOR_PROFILE)),
        one(12, "supplementalGroupsPolicy", Str),
        one(13, "seLinuxChangePolicy", Str),
    ],
};

pub(super) static CORE_V1_POD_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodSpec",
    repr: Repr::Object,
    fields: &[
        rep(1, "volumes", Msg(&CORE_V1_VOLUME)),
        rep(2, "containers", Msg(&CORE_V1_CONTAINER)),
        omitempty(3, "restartPolicy", Str),
        one(4, "terminationGracePeriodSeconds", Int64),
        one(5, "activeDeadlineSeconds", Int64),
        omitempty(6, "dnsPolicy", Str),
        map(7, "nodeSelector", Str),
        omitempty(8, "serviceAccountName", Str),
        omitempty(9, "serviceAccount", Str),
        omitempty(10, "nodeName", Str),
        omitempty(11, "hostNetwork", Bool),
        omitempty(12, "hostPID", Bool),
        omitempty(13, "hostIPC", Bool),
        one(14, "securityContext", Msg(&CORE_V1_POD_SECURITY_CONTEXT)),
        rep(15, "imagePullSecrets", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(16, "hostname", Str),
        omitempty(17, "subdomain", Str),
        one(18, "affinity", Msg(&CORE_V1_AFFINITY)),
        omitempty(19, "schedulerName", Str),
        rep(20, "initContainers", Msg(&CORE_V1_CONTAINER)),
        one(21, "automountServiceAccountToken", Bool),
        rep(22, "tolerations", Msg(&CORE_V1_TOLERATION)),
        rep(23, "hostAliases", Msg(&CORE_V1_HOST_ALIAS)),
        omitempty(24, "priorityClassName", Str),
        one(25, "priority", Int32),
        one(26, "dnsConfig", Msg(&CORE_V1_POD_DNS_CONFIG)),
        one(27, "shareProcessNamespace", Bool),
        rep(28, "readinessGates", Msg(&CORE_V1_POD_READINESS_GATE)),
        one(29, "runtimeClassName", Str),
        one(30, "enableServiceLinks", Bool),
        one(31, "preemptionPolicy", Str),
        map(32, "overhead", Msg(&RESOURCE_QUANTITY)),
        rep(
            33,
            "topologySpreadConstraints",
            Msg(&CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT),
        ),
        rep(34, "ephemeralContainers", Msg(&CORE_V1_EPHEMERAL_CONTAINER)),
        one(35, "setHostnameAsFQDN", Bool),
        one(36, "os", Msg(&CORE_V1_POD_OS)),
        one(37, "hostUsers", Bool),
        rep(38, "schedulingGates", Msg(&CORE_V1_POD_SCHEDULING_GATE)),
        rep(39, "resourceClaims", Msg(&CORE_V1_POD_RESOURCE_CLAIM)),
        one(40, "resources", Msg(&CORE_V1_RESOURCE_REQUIREMENTS)),
    ],
};

pub(super) static CORE_V1_POD_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "phase", Str),
        rep(2, "conditions", Msg(&CORE_V1_POD_CONDITION)),
        omitempty(3, "message", Str),
        omitempty(4, "reason", Str),
        omitempty(5, "hostIP", Str),
        omitempty(6, "podIP", Str),
        one(7, "startTime", Msg(&META_V1_TIME)),
        rep(8, "containerStatuses", Msg(&CORE_V1_CONTAINER_STATUS)),
        omitempty(9, "qosClass", Str),
        rep(10, "initContainerStatuses", Msg(&CORE_V1_CONTAINER_STATUS)),
        omitempty(11, "nominatedNodeName", Str),
        rep(12, "podIPs", Msg(&CORE_V1_POD_IP)),
        rep(
            13,
            "ephemeralContainerStatuses",
            Msg(&CORE_V1_CONTAINER_STATUS),
        ),
        omitempty(14, "resize", Str),
        rep(
            15,
            "resourceClaimStatuses",
            Msg(&CORE_V1_POD_RESOURCE_CLAIM_STATUS),
        ),
        rep(16, "hostIPs", Msg(&CORE_V1_HOST_IP)),
        omitempty(17, "observedGeneration", Int64),
    ],
};

pub(super) static CORE_V1_POD_STATUS_RESULT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodStatusResult",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "status", Msg(&CORE_V1_POD_STATUS)),
    ],
};

pub(super) static CORE_V1_POD_TEMPLATE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodTemplate",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
    ],
};

pub(super) static CORE_V1_POD_TEMPLATE_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodTemplateList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_POD_TEMPLATE)),
    ],
};

pub(super) static CORE_V1_POD_TEMPLATE_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PodTemplateSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_POD_SPEC)),
    ],
};

pub(super) static CORE_V1_PORTWORX_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PortworxVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "volumeID", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_PORT_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PortStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "port", Int32),
        one(2, "protocol", Str),
        one(3, "error", Str),
    ],
};

pub(super) static CORE_V1_PREFERRED_SCHEDULING_TERM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "PreferredSchedulingTerm",
    repr: Repr::Object,
    fields: &[
        one(1, "weight", Int32),
        one(2, "preference", Msg(&CORE_V1_NODE_SELECTOR_TERM)),
    ],
};

pub(super) static CORE_V1_PROBE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Probe",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_PROBE_HANDLER)),
        omitempty(2, "initialDelaySeconds", Int32),
        omitempty(3, "timeoutSeconds", Int32),
        omitempty(4, "periodSeconds", Int32),
        omitempty(5, "successThreshold", Int32),
        omitempty(6, "failureThreshold", Int32),
        one(7, "terminationGracePeriodSeconds", Int64),
    ],
};

pub(super) static CORE_V1_PROBE_HANDLER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ProbeHandler",
    repr: Repr::Object,
    fields: &[
        one(1, "exec", Msg(&CORE_V1_EXEC_ACTION)),
        one(2, "httpGet", Msg(&CORE_V1_HTTP_GET_ACTION)),
        one(3, "tcpSocket", Msg(&CORE_V1_TCP_SOCKET_ACTION)),
        one(4, "grpc", Msg(&CORE_V1_GRPC_ACTION)),
    ],
};

pub(super) static CORE_V1_PROJECTED_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ProjectedVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "sources", Msg(&CORE_V1_VOLUME_PROJECTION)),
        one(2, "defaultMode", Int32),
    ],
};

pub(super) static CORE_V1_QUOBYTE_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "QuobyteVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "registry", Str),
        one(2, "volume", Str),
        omitempty(3, "readOnly", Bool),
        omitempty(4, "user", Str),
        omitempty(5, "group", Str),
        omitempty(6, "tenant", Str),
    ],
};

pub(super) static CORE_V1_RANGE_ALLOCATION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "RangeAllocation",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "range", Str),
        one(3, "data", Bytes),
    ],
};

pub(super) static CORE_V1_RBD_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "RBDPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "monitors", Str),
        one(2, "image", Str),
        omitempty(3, "fsType", Str),
        omitempty(4, "pool", Str),
        omitempty(5, "user", Str),
        omitempty(6, "keyring", Str),
        one(7, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        omitempty(8, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_RBD_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "RBDVolumeSource",
    repr: Repr::Object,
    fields: &[
        rep(1, "monitors", Str),
        one(2, "image", Str),
        omitempty(3, "fsType", Str),
        omitempty(4, "pool", Str),
        omitempty(5, "user", Str),
        omitempty(6, "keyring", Str),
        one(7, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(8, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_REPLICATION_CONTROLLER: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ReplicationController",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_REPLICATION_CONTROLLER_SPEC)),
        one(3, "status", Msg(&CORE_V1_REPLICATION_CONTROLLER_STATUS)),
    ],
};

pub(super) static CORE_V1_REPLICATION_CONTROLLER_CONDITION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ReplicationControllerCondition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static CORE_V1_REPLICATION_CONTROLLER_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ReplicationControllerList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_REPLICATION_CONTROLLER)),
    ],
};

pub(super) static CORE_V1_REPLICATION_CONTROLLER_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ReplicationControllerSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        map(2, "selector", Str),
        one(3, "template", Msg(&CORE_V1_POD_TEMPLATE_SPEC)),
        omitempty(4, "minReadySeconds", Int32),
    ],
};

pub(super) static CORE_V1_REPLICATION_CONTROLLER_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ReplicationControllerStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "replicas", Int32),
        omitempty(2, "fullyLabeledReplicas", Int32),
        omitempty(3, "observedGeneration", Int64),
        omitempty(4, "readyReplicas", Int32),
        omitempty(5, "availableReplicas", Int32),
        rep(
            6,
            "conditions",
            Msg(&CORE_V1_REPLICATION_CONTROLLER_CONDITION),
        ),
    ],
};

pub(super) static CORE_V1_RESOURCE_CLAIM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceClaim",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), omitempty(2, "request", Str)],
};

pub(super) static CORE_V1_RESOURCE_FIELD_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceFieldSelector",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "containerName", Str),
        one(2, "resource", Str),
        one(3, "divisor", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static CORE_V1_RESOURCE_HEALTH: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceHealth",
    repr: Repr::Object,
    fields: &[one(1, "resourceID", Str), omitempty(2, "health", Str)],
};

pub(super) static CORE_V1_RESOURCE_QUOTA: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceQuota",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_RESOURCE_QUOTA_SPEC)),
        one(3, "status", Msg(&CORE_V1_RESOURCE_QUOTA_STATUS)),
    ],
};

pub(super) static CORE_V1_RESOURCE_QUOTA_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceQuotaList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_RESOURCE_QUOTA)),
    ],
};

pub(super) static CORE_V1_RESOURCE_QUOTA_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceQuotaSpec",
    repr: Repr::Object,
    fields: &[
        map(1, "hard", Msg(&RESOURCE_QUANTITY)),
        rep(2, "scopes", Str),
        one(3, "scopeSelector", Msg(&CORE_V1_SCOPE_SELECTOR)),
    ],
};

pub(super) static CORE_V1_RESOURCE_QUOTA_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceQuotaStatus",
    repr: Repr::Object,
    fields: &[
        map(1, "hard", Msg(&RESOURCE_QUANTITY)),
        map(2, "used", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static CORE_V1_RESOURCE_REQUIREMENTS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceRequirements",
    repr: Repr::Object,
    fields: &[
        map(1, "limits", Msg(&RESOURCE_QUANTITY)),
        map(2, "requests", Msg(&RESOURCE_QUANTITY)),
        rep(3, "claims", Msg(&CORE_V1_RESOURCE_CLAIM)),
    ],
};

pub(super) static CORE_V1_RESOURCE_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ResourceStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        rep(2, "resources", Msg(&CORE_V1_RESOURCE_HEALTH)),
    ],
};

pub(super) static CORE_V1_SCALE_IO_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ScaleIOPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "gateway", Str),
        one(2, "system", Str),
        one(3, "secretRef", Msg(&CORE_V1_SECRET_REFERENCE)),
        omitempty(4, "sslEnabled", Bool),
        omitempty(5, "protectionDomain", Str),
        omitempty(6, "storagePool", Str),
        omitempty(7, "storageMode", Str),
        omitempty(8, "volumeName", Str),
        omitempty(9, "fsType", Str),
        omitempty(10, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_SCALE_IO_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ScaleIOVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "gateway", Str),
        one(2, "system", Str),
        one(3, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        omitempty(4, "sslEnabled", Bool),
        omitempty(5, "protectionDomain", Str),
        omitempty(6, "storagePool", Str),
        omitempty(7, "storageMode", Str),
        omitempty(8, "volumeName", Str),
        omitempty(9, "fsType", Str),
        omitempty(10, "readOnly", Bool),
    ],
};

pub(super) static CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ScopedResourceSelectorRequirement",
    repr: Repr::Object,
    fields: &[
        one(1, "scopeName", Str),
        one(2, "operator", Str),
        rep(3, "values", Str),
    ],
};

pub(super) static CORE_V1_SCOPE_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ScopeSelector",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "matchExpressions",
        Msg(&CORE_V1_SCOPED_RESOURCE_SELECTOR_REQUIREMENT),
    )],
};

pub(super) static CORE_V1_SECCOMP_PROFILE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SeccompProfile",
    repr: Repr::Object,
    fields: &[one(1, "type", Str), one(2, "localhostProfile", Str)],
};

pub(super) static CORE_V1_SECRET: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Secret",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        map(2, "data", Bytes),
        omitempty(3, "type", Str),
        map(4, "stringData", Str),
        one(5, "immutable", Bool),
    ],
};

pub(super) static CORE_V1_SECRET_ENV_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretEnvSource",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        one(2, "optional", Bool),
    ],
};

pub(super) static CORE_V1_SECRET_KEY_SELECTOR: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretKeySelector",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        one(2, "key", Str),
        one(3, "optional", Bool),
    ],
};

pub(super) static CORE_V1_SECRET_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_SECRET)),
    ],
};

pub(super) static CORE_V1_SECRET_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretProjection",
    repr: Repr::Object,
    fields: &[
        inline(1, Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        rep(2, "items", Msg(&CORE_V1_KEY_TO_PATH)),
        one(4, "optional", Bool),
    ],
};

pub(super) static CORE_V1_SECRET_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretReference",
    repr: Repr::Object,
    fields: &[omitempty(1, "name", Str), omitempty(2, "namespace", Str)],
};

pub(super) static CORE_V1_SECRET_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecretVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "secretName", Str),
        rep(2, "items", Msg(&CORE_V1_KEY_TO_PATH)),
        one(3, "defaultMode", Int32),
        one(4, "optional", Bool),
    ],
};

pub(super) static CORE_V1_SECURITY_CONTEXT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SecurityContext",
    repr: Repr::Object,
    fields: &[
        one(1, "capabilities", Msg(&CORE_V1_CAPABILITIES)),
        one(2, "privileged", Bool),
        one(3, "seLinuxOptions", Msg(&CORE_V1_SE_LINUX_OPTIONS)),
        one(4, "runAsUser", Int64),
        one(5, "runAsNonRoot", Bool),
        one(6, "readOnlyRootFilesystem", Bool),
        one(7, "allowPrivilegeEscalation", Bool),
        one(8, "runAsGroup", Int64),
        one(9, "procMount", Str),
        one(
            10,
            "windowsOptions",
            Msg(&CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS),
        ),
        one(11, "seccompProfile", Msg(&CORE_V1_SECCOMP_PROFILE)),
        one(12, "appArmorProfile", Msg(&CORE_V1_APP_ARMOR_PROFILE)),
    ],
};

pub(super) static CORE_V1_SERIALIZED_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SerializedReference",
    repr: Repr::Object,
    fields: &[one(1, "reference", Msg(&CORE_V1_OBJECT_REFERENCE))],
};

pub(super) static CORE_V1_SERVICE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Service",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&CORE_V1_SERVICE_SPEC)),
        one(3, "status", Msg(&CORE_V1_SERVICE_STATUS)),
    ],
};

pub(super) static CORE_V1_SERVICE_ACCOUNT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceAccount",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "secrets", Msg(&CORE_V1_OBJECT_REFERENCE)),
        rep(3, "imagePullSecrets", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
        one(4, "automountServiceAccountToken", Bool),
    ],
};

pub(super) static CORE_V1_SERVICE_ACCOUNT_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceAccountList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_SERVICE_ACCOUNT)),
    ],
};

pub(super) static CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceAccountTokenProjection",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "audience", Str),
        one(2, "expirationSeconds", Int64),
        one(3, "path", Str),
    ],
};

pub(super) static CORE_V1_SERVICE_LIST: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&CORE_V1_SERVICE)),
    ],
};

pub(super) static CORE_V1_SERVICE_PORT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServicePort",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        omitempty(2, "protocol", Str),
        one(3, "port", Int32),
        one(4, "targetPort", Msg(&INTSTR_INT_OR_STRING)),
        omitempty(5, "nodePort", Int32),
        one(6, "appProtocol", Str),
    ],
};

pub(super) static CORE_V1_SERVICE_PROXY_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceProxyOptions",
    repr: Repr::Object,
    fields: &[omitempty(1, "path", Str)],
};

pub(super) static CORE_V1_SERVICE_SPEC: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceSpec",
    repr: Repr::Object,
    fields: &[
        rep(1, "ports", Msg(&CORE_V1_SERVICE_PORT)),
        map(2, "selector", Str),
        omitempty(3, "clusterIP", Str),
        omitempty(4, "type", Str),
        rep(5, "externalIPs", Str),
        omitempty(7, "sessionAffinity", Str),
        omitempty(8, "loadBalancerIP", Str),
        rep(9, "loadBalancerSourceRanges", Str),
        omitempty(10, "externalName", Str),
        omitempty(11, "externalTrafficPolicy", Str),
        omitempty(12, "healthCheckNodePort", Int32),
        omitempty(13, "publishNotReadyAddresses", Bool),
        one(
            14,
            "sessionAffinityConfig",
            Msg(&CORE_V1_SESSION_AFFINITY_CONFIG),
        ),
        one(17, "ipFamilyPolicy", Str),
        rep(18, "clusterIPs", Str),
        rep(19, "ipFamilies", Str),
        one(20, "allocateLoadBalancerNodePorts", Bool),
        one(21, "loadBalancerClass", Str),
        one(22, "internalTrafficPolicy", Str),
        one(23, "trafficDistribution", Str),
    ],
};

pub(super) static CORE_V1_SERVICE_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "ServiceStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "loadBalancer", Msg(&CORE_V1_LOAD_BALANCER_STATUS)),
        rep(2, "conditions", Msg(&META_V1_CONDITION)),
    ],
};

pub(super) static CORE_V1_SESSION_AFFINITY_CONFIG: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SessionAffinityConfig",
    repr: Repr::Object,
    fields: &[one(1, "clientIP", Msg(&CORE_V1_CLIENT_IP_CONFIG))],
};

pub(super) static CORE_V1_SE_LINUX_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SELinuxOptions",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "user", Str),
        omitempty(2, "role", Str),
        omitempty(3, "type", Str),
        omitempty(4, "level", Str),
    ],
};

pub(super) static CORE_V1_SLEEP_ACTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "SleepAction",
    repr: Repr::Object,
    fields: &[one(1, "seconds", Int64)],
};

pub(super) static CORE_V1_STORAGE_OS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "StorageOSPersistentVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "volumeName", Str),
        omitempty(2, "volumeNamespace", Str),
        omitempty(3, "fsType", Str),
        omitempty(4, "readOnly", Bool),
        one(5, "secretRef", Msg(&CORE_V1_OBJECT_REFERENCE)),
    ],
};

pub(super) static CORE_V1_STORAGE_OS_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "StorageOSVolumeSource",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "volumeName", Str),
        omitempty(2, "volumeNamespace", Str),
        omitempty(3, "fsType", Str),
        omitempty(4, "readOnly", Bool),
        one(5, "secretRef", Msg(&CORE_V1_LOCAL_OBJECT_REFERENCE)),
    ],
};

pub(super) static CORE_V1_SYSCTL: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Sysctl",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "value", Str)],
};

pub(super) static CORE_V1_TAINT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Taint",
    repr: Repr::Object,
    fields: &[
        one(1, "key", Str),
        omitempty(2, "value", Str),
        one(3, "effect", Str),
        one(4, "timeAdded", Msg(&META_V1_TIME)),
    ],
};

pub(super) static CORE_V1_TCP_SOCKET_ACTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TCPSocketAction",
    repr: Repr::Object,
    fields: &[
        one(1, "port", Msg(&INTSTR_INT_OR_STRING)),
        omitempty(2, "host", Str),
    ],
};

pub(super) static CORE_V1_TOLERATION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Toleration",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "key", Str),
        omitempty(2, "operator", Str),
        omitempty(3, "value", Str),
        omitempty(4, "effect", Str),
        one(5, "tolerationSeconds", Int64),
    ],
};

pub(super) static CORE_V1_TOPOLOGY_SELECTOR_LABEL_REQUIREMENT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TopologySelectorLabelRequirement",
    repr: Repr::Object,
    fields: &[one(1, "key", Str), rep(2, "values", Str)],
};

pub(super) static CORE_V1_TOPOLOGY_SELECTOR_TERM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TopologySelectorTerm",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "matchLabelExpressions",
        Msg(&CORE_V1_TOPOLOGY_SELECTOR_LABEL_REQUIREMENT),
    )],
};

pub(super) static CORE_V1_TOPOLOGY_SPREAD_CONSTRAINT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TopologySpreadConstraint",
    repr: Repr::Object,
    fields: &[
        one(1, "maxSkew", Int32),
        one(2, "topologyKey", Str),
        one(3, "whenUnsatisfiable", Str),
        one(4, "labelSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(5, "minDomains", Int32),
        one(6, "nodeAffinityPolicy", Str),
        one(7, "nodeTaintsPolicy", Str),
        rep(8, "matchLabelKeys", Str),
    ],
};

pub(super) static CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TypedLocalObjectReference",
    repr: Repr::Object,
    fields: &[
        one(1, "apiGroup", Str),
        one(2, "kind", Str),
        one(3, "name", Str),
    ],
};

pub(super) static CORE_V1_TYPED_OBJECT_REFERENCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "TypedObjectReference",
    repr: Repr::Object,
    fields: &[
        one(1, "apiGroup", Str),
        one(2, "kind", Str),
        one(3, "name", Str),
        one(4, "namespace", Str),
    ],
};

pub(super) static CORE_V1_VOLUME: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "Volume",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), inline(2, Msg(&CORE_V1_VOLUME_SOURCE))],
};

pub(super) static CORE_V1_VOLUME_DEVICE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeDevice",
    repr: Repr::Object,
    fields: &[one(1, "name", Str), one(2, "devicePath", Str)],
};

pub(super) static CORE_V1_VOLUME_MOUNT: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeMount",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        omitempty(2, "readOnly", Bool),
        one(3, "mountPath", Str),
        omitempty(4, "subPath", Str),
        one(5, "mountPropagation", Str),
        omitempty(6, "subPathExpr", Str),
        one(7, "recursiveReadOnly", Str),
    ],
};

pub(super) static CORE_V1_VOLUME_MOUNT_STATUS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeMountStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "mountPath", Str),
        omitempty(3, "readOnly", Bool),
        one(4, "recursiveReadOnly", Str),
    ],
};

pub(super) static CORE_V1_VOLUME_NODE_AFFINITY: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeNodeAffinity",
    repr: Repr::Object,
    fields: &[one(1, "required", Msg(&CORE_V1_NODE_SELECTOR))],
};

pub(super) static CORE_V1_VOLUME_PROJECTION: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeProjection",
    repr: Repr::Object,
    fields: &[
        one(1, "secret", Msg(&CORE_V1_SECRET_PROJECTION)),
        one(2, "downwardAPI", Msg(&CORE_V1_DOWNWARD_API_PROJECTION)),
        one(3, "configMap", Msg(&CORE_V1_CONFIG_MAP_PROJECTION)),
        one(
            4,
            "serviceAccountToken",
            Msg(&CORE_V1_SERVICE_ACCOUNT_TOKEN_PROJECTION),
        ),
        one(
            5,
            "clusterTrustBundle",
            Msg(&CORE_V1_CLUSTER_TRUST_BUNDLE_PROJECTION),
        ),
    ],
};

pub(super) static CORE_V1_VOLUME_RESOURCE_REQUIREMENTS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeResourceRequirements",
    repr: Repr::Object,
    fields: &[
        map(1, "limits", Msg(&RESOURCE_QUANTITY)),
        map(2, "requests", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static CORE_V1_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "hostPath", Msg(&CORE_V1_HOST_PATH_VOLUME_SOURCE)),
        one(2, "emptyDir", Msg(&CORE_V1_EMPTY_DIR_VOLUME_SOURCE)),
        one(
            3,
            "gcePersistentDisk",
            Msg(&CORE_V1_GCE_PERSISTENT_DISK_VOLUME_SOURCE),
        ),
        one(
            4,
            "awsElasticBlockStore",
            Msg(&CORE_V1_AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE),
        ),
        one(5, "gitRepo", Msg(&CORE_V1_GIT_REPO_VOLUME_SOURCE)),
        one(6, "secret", Msg(&CORE_V1_SECRET_VOLUME_SOURCE)),
        one(7, "nfs", Msg(&CORE_V1_NFS_VOLUME_SOURCE)),
        one(8, "iscsi", Msg(&CORE_V1_ISCSI_VOLUME_SOURCE)),
        one(9, "glusterfs", Msg(&CORE_V1_GLUSTERFS_VOLUME_SOURCE)),
        one(
            10,
            "persistentVolumeClaim",
            Msg(&CORE_V1_PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE),
        ),
        one(11, "rbd", Msg(&CORE_V1_RBD_VOLUME_SOURCE)),
        one(12, "flexVolume", Msg(&CORE_V1_FLEX_VOLUME_SOURCE)),
        one(13, "cinder", Msg(&CORE_V1_CINDER_VOLUME_SOURCE)),
        one(14, "cephfs", Msg(&CORE_V1_CEPH_FS_VOLUME_SOURCE)),
        one(15, "flocker", Msg(&CORE_V1_FLOCKER_VOLUME_SOURCE)),
        one(16, "downwardAPI", Msg(&CORE_V1_DOWNWARD_API_VOLUME_SOURCE)),
        one(17, "fc", Msg(&CORE_V1_FC_VOLUME_SOURCE)),
        one(18, "azureFile", Msg(&CORE_V1_AZURE_FILE_VOLUME_SOURCE)),
        one(19, "configMap", Msg(&CORE_V1_CONFIG_MAP_VOLUME_SOURCE)),
        one(
            20,
            "vsphereVolume",
            Msg(&CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE),
        ),
        one(21, "quobyte", Msg(&CORE_V1_QUOBYTE_VOLUME_SOURCE)),
        one(22, "azureDisk", Msg(&CORE_V1_AZURE_DISK_VOLUME_SOURCE)),
        one(
            23,
            "photonPersistentDisk",
            Msg(&CORE_V1_PHOTON_PERSISTENT_DISK_VOLUME_SOURCE),
        ),
        one(24, "portworxVolume", Msg(&CORE_V1_PORTWORX_VOLUME_SOURCE)),
        one(25, "scaleIO", Msg(&CORE_V1_SCALE_IO_VOLUME_SOURCE)),
        one(26, "projected", Msg(&CORE_V1_PROJECTED_VOLUME_SOURCE)),
        one(27, "storageos", Msg(&CORE_V1_STORAGE_OS_VOLUME_SOURCE)),
        one(28, "csi", Msg(&CORE_V1_CSI_VOLUME_SOURCE)),
        one(29, "ephemeral", Msg(&CORE_V1_EPHEMERAL_VOLUME_SOURCE)),
        one(30, "image", Msg(&CORE_V1_IMAGE_VOLUME_SOURCE)),
    ],
};

pub(super) static CORE_V1_VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "VsphereVirtualDiskVolumeSource",
    repr: Repr::Object,
    fields: &[
        one(1, "volumePath", Str),
        omitempty(2, "fsType", Str),
        omitempty(3, "storagePolicyName", Str),
        omitempty(4, "storagePolicyID", Str),
    ],
};

pub(super) static CORE_V1_WEIGHTED_POD_AFFINITY_TERM: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "WeightedPodAffinityTerm",
    repr: Repr::Object,
    fields: &[
        one(1, "weight", Int32),
        one(2, "podAffinityTerm", Msg(&CORE_V1_POD_AFFINITY_TERM)),
    ],
};

pub(super) static CORE_V1_WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = Message {
    package: "k8s.io.api.core.v1",
    name: "WindowsSecurityContextOptions",
    repr: Repr::Object,
    fields: &[
        one(1, "gmsaCredentialSpecName", Str),
        one(2, "gmsaCredentialSpec", Str),
        one(3, "runAsUserName", Str),
        one(4, "hostProcess", Bool),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "Endpoint",
    repr: Repr::Object,
    fields: &[
        rep(1, "addresses", Str),
        one(2, "conditions", Msg(&DISCOVERY_V1_ENDPOINT_CONDITIONS)),
        one(3, "hostname", Str),
        one(4, "targetRef", Msg(&CORE_V1_OBJECT_REFERENCE)),
        map(5, "deprecatedTopology", Str),
        one(6, "nodeName", Str),
        one(7, "zone", Str),
        one(8, "hints", Msg(&DISCOVERY_V1_ENDPOINT_HINTS)),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT_CONDITIONS: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "EndpointConditions",
    repr: Repr::Object,
    fields: &[
        one(1, "ready", Bool),
        one(2, "serving", Bool),
        one(3, "terminating", Bool),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT_HINTS: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "EndpointHints",
    repr: Repr::Object,
    fields: &[
        rep(1, "forZones", Msg(&DISCOVERY_V1_FOR_ZONE)),
        rep(2, "forNodes", Msg(&DISCOVERY_V1_FOR_NODE)),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT_PORT: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "EndpointPort",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "protocol", Str),
        one(3, "port", Int32),
        one(4, "appProtocol", Str),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT_SLICE: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "EndpointSlice",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "endpoints", Msg(&DISCOVERY_V1_ENDPOINT)),
        rep(3, "ports", Msg(&DISCOVERY_V1_ENDPOINT_PORT)),
        one(4, "addressType", Str),
    ],
};

pub(super) static DISCOVERY_V1_ENDPOINT_SLICE_LIST: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "EndpointSliceList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&DISCOVERY_V1_ENDPOINT_SLICE)),
    ],
};

pub(super) static DISCOVERY_V1_FOR_NODE: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "ForNode",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static DISCOVERY_V1_FOR_ZONE: Message = Message {
    package: "k8s.io.api.discovery.v1",
    name: "ForZone",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static EVENTS_V1_EVENT: Message = Message {
    package: "k8s.io.api.events.v1",
    name: "Event",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "eventTime", Msg(&META_V1_MICRO_TIME)),
        one(3, "series", Msg(&EVENTS_V1_EVENT_SERIES)),
        omitempty(4, "reportingController", Str),
        omitempty(5, "reportingInstance", Str),
        omitempty(6, "action", Str),
        omitempty(7, "reason", Str),
        one(8, "regarding", Msg(&CORE_V1_OBJECT_REFERENCE)),
        one(9, "related", Msg(&CORE_V1_OBJECT_REFERENCE)),
        omitempty(10, "note", Str),
        omitempty(11, "type", Str),
        one(12, "deprecatedSource", Msg(&CORE_V1_EVENT_SOURCE)),
        one(13, "deprecatedFirstTimestamp", Msg(&META_V1_TIME)),
        one(14, "deprecatedLastTimestamp", Msg(&META_V1_TIME)),
        omitempty(15, "deprecatedCount", Int32),
    ],
};

pub(super) static EVENTS_V1_EVENT_LIST: Message = Message {
    package: "k8s.io.api.events.v1",
    name: "EventList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&EVENTS_V1_EVENT)),
    ],
};

pub(super) static EVENTS_V1_EVENT_SERIES: Message = Message {
    package: "k8s.io.api.events.v1",
    name: "EventSeries",
    repr: Repr::Object,
    fields: &[
        one(1, "count", Int32),
        one(2, "lastObservedTime", Msg(&META_V1_MICRO_TIME)),
    ],
};

pub(super) static FLOWCONTROL_V1_EXEMPT_PRIORITY_LEVEL_CONFIGURATION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "ExemptPriorityLevelConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "nominalConcurrencyShares", Int32),
        one(2, "lendablePercent", Int32),
    ],
};

pub(super) static FLOWCONTROL_V1_FLOW_DISTINGUISHER_METHOD: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowDistinguisherMethod",
    repr: Repr::Object,
    fields: &[one(1, "type", Str)],
};

pub(super) static FLOWCONTROL_V1_FLOW_SCHEMA: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowSchema",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&FLOWCONTROL_V1_FLOW_SCHEMA_SPEC)),
        one(3, "status", Msg(&FLOWCONTROL_V1_FLOW_SCHEMA_STATUS)),
    ],
};

pub(super) static FLOWCONTROL_V1_FLOW_SCHEMA_CONDITION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowSchemaCondition",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "type", Str),
        omitempty(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static FLOWCONTROL_V1_FLOW_SCHEMA_LIST: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowSchemaList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&FLOWCONTROL_V1_FLOW_SCHEMA)),
    ],
};

pub(super) static FLOWCONTROL_V1_FLOW_SCHEMA_SPEC: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowSchemaSpec",
    repr: Repr::Object,
    fields: &[
        one(
            1,
            "priorityLevelConfiguration",
            Msg(&FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_REFERENCE),
        ),
        one(2, "matchingPrecedence", Int32),
        one(
            3,
            "distinguisherMethod",
            Msg(&FLOWCONTROL_V1_FLOW_DISTINGUISHER_METHOD),
        ),
        rep(4, "rules", Msg(&FLOWCONTROL_V1_POLICY_RULES_WITH_SUBJECTS)),
    ],
};

pub(super) static FLOWCONTROL_V1_FLOW_SCHEMA_STATUS: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "FlowSchemaStatus",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "conditions",
        Msg(&FLOWCONTROL_V1_FLOW_SCHEMA_CONDITION),
    )],
};

pub(super) static FLOWCONTROL_V1_GROUP_SUBJECT: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "GroupSubject",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static FLOWCONTROL_V1_LIMITED_PRIORITY_LEVEL_CONFIGURATION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "LimitedPriorityLevelConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "nominalConcurrencyShares", Int32),
        one(2, "limitResponse", Msg(&FLOWCONTROL_V1_LIMIT_RESPONSE)),
        one(3, "lendablePercent", Int32),
        one(4, "borrowingLimitPercent", Int32),
    ],
};

pub(super) static FLOWCONTROL_V1_LIMIT_RESPONSE: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "LimitResponse",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "queuing", Msg(&FLOWCONTROL_V1_QUEUING_CONFIGURATION)),
    ],
};

pub(super) static FLOWCONTROL_V1_NON_RESOURCE_POLICY_RULE: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "NonResourcePolicyRule",
    repr: Repr::Object,
    fields: &[rep(1, "verbs", Str), rep(6, "nonResourceURLs", Str)],
};

pub(super) static FLOWCONTROL_V1_POLICY_RULES_WITH_SUBJECTS: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PolicyRulesWithSubjects",
    repr: Repr::Object,
    fields: &[
        rep(1, "subjects", Msg(&FLOWCONTROL_V1_SUBJECT)),
        rep(
            2,
            "resourceRules",
            Msg(&FLOWCONTROL_V1_RESOURCE_POLICY_RULE),
        ),
        rep(
            3,
            "nonResourceRules",
            Msg(&FLOWCONTROL_V1_NON_RESOURCE_POLICY_RULE),
        ),
    ],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(
            2,
            "spec",
            Msg(&FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_SPEC),
        ),
        one(
            3,
            "status",
            Msg(&FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_STATUS),
        ),
    ],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_CONDITION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfigurationCondition",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "type", Str),
        omitempty(2, "status", Str),
        one(3, "lastTransitionTime", Msg(&META_V1_TIME)),
        omitempty(4, "reason", Str),
        omitempty(5, "message", Str),
    ],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_LIST: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfigurationList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(
            2,
            "items",
            Msg(&FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION),
        ),
    ],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_REFERENCE: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfigurationReference",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_SPEC: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfigurationSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(
            2,
            "limited",
            Msg(&FLOWCONTROL_V1_LIMITED_PRIORITY_LEVEL_CONFIGURATION),
        ),
        one(
            3,
            "exempt",
            Msg(&FLOWCONTROL_V1_EXEMPT_PRIORITY_LEVEL_CONFIGURATION),
        ),
    ],
};

pub(super) static FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_STATUS: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "PriorityLevelConfigurationStatus",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "conditions",
        Msg(&FLOWCONTROL_V1_PRIORITY_LEVEL_CONFIGURATION_CONDITION),
    )],
};

pub(super) static FLOWCONTROL_V1_QUEUING_CONFIGURATION: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "QueuingConfiguration",
    repr: Repr::Object,
    fields: &[
        one(1, "queues", Int32),
        one(2, "handSize", Int32),
        one(3, "queueLengthLimit", Int32),
    ],
};

pub(super) static FLOWCONTROL_V1_RESOURCE_POLICY_RULE: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "ResourcePolicyRule",
    repr: Repr::Object,
    fields: &[
        rep(1, "verbs", Str),
        rep(2, "apiGroups", Str),
        rep(3, "resources", Str),
        omitempty(4, "clusterScope", Bool),
        rep(5, "namespaces", Str),
    ],
};

pub(super) static FLOWCONTROL_V1_SERVICE_ACCOUNT_SUBJECT: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "ServiceAccountSubject",
    repr: Repr::Object,
    fields: &[one(1, "namespace", Str), one(2, "name", Str)],
};

pub(super) static FLOWCONTROL_V1_SUBJECT: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "Subject",
    repr: Repr::Object,
    fields: &[
        one(1, "kind", Str),
        one(2, "user", Msg(&FLOWCONTROL_V1_USER_SUBJECT)),
        one(3, "group", Msg(&FLOWCONTROL_V1_GROUP_SUBJECT)),
        one(
            4,
            "serviceAccount",
            Msg(&FLOWCONTROL_V1_SERVICE_ACCOUNT_SUBJECT),
        ),
    ],
};

pub(super) static FLOWCONTROL_V1_USER_SUBJECT: Message = Message {
    package: "k8s.io.api.flowcontrol.v1",
    name: "UserSubject",
    repr: Repr::Object,
    fields: &[one(1, "name", Str)],
};

pub(super) static INTSTR_INT_OR_STRING: Message = Message {
    package: "k8s.io.apimachinery.pkg.util.intstr",
    name: "IntOrString",
    repr: Repr::IntOrString,
    fields: &[
        one(1, "type", Int64),
        one(2, "intVal", Int32),
        one(3, "strVal", Str),
    ],
};

pub(super) static META_V1_API_GROUP: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "APIGroup",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        rep(2, "versions", Msg(&META_V1_GROUP_VERSION_FOR_DISCOVERY)),
        one(
            3,
            "preferredVersion",
            Msg(&META_V1_GROUP_VERSION_FOR_DISCOVERY),
        ),
        rep(
            4,
            "serverAddressByClientCIDRs",
            Msg(&META_V1_SERVER_ADDRESS_BY_CLIENT_CIDR),
        ),
    ],
};

pub(super) static META_V1_API_GROUP_LIST: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "APIGroupList",
    repr: Repr::Object,
    fields: &[rep(1, "groups", Msg(&META_V1_API_GROUP))],
};

pub(super) static META_V1_API_RESOURCE: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "APIResource",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "namespaced", Bool),
        one(3, "kind", Str),
        one(4, "verbs", Msg(&META_V1_VERBS)),
        rep(5, "shortNames", Str),
        one(6, "singularName", Str),
        rep(7, "categories", Str),
        omitempty(8, "group", Str),
        omitempty(9, "version", Str),
        omitempty(10, "storageVersionHash", Str),
    ],
};

pub(super) static META_V1_API_RESOURCE_LIST: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "APIResourceList",
    repr: Repr::Object,
    fields: &[
        one(1, "groupVersion", Str),
        rep(2, "resources", Msg(&META_V1_API_RESOURCE)),
    ],
};

pub(super) static META_V1_API_VERSIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "APIVersions",
    repr: Repr::Object,
    fields: &[
        rep(1, "versions", Str),
        rep(
            2,
            "serverAddressByClientCIDRs",
            Msg(&META_V1_SERVER_ADDRESS_BY_CLIENT_CIDR),
        ),
    ],
};

pub(super) static META_V1_CONDITION: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "Condition",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "status", Str),
        omitempty(3, "observedGeneration", Int64),
        one(4, "lastTransitionTime", Msg(&META_V1_TIME)),
        one(5, "reason", Str),
        one(6, "message", Str),
    ],
};

pub(super) static META_V1_CREATE_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "CreateOptions",
    repr: Repr::Object,
    fields: &[
        rep(1, "dryRun", Str),
        omitempty(3, "fieldManager", Str),
        omitempty(4, "fieldValidation", Str),
    ],
};

pub(super) static META_V1_DELETE_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "DeleteOptions",
    repr: Repr::Object,
    fields: &[
        one(1, "gracePeriodSeconds", Int64),
        one(2, "preconditions", Msg(&META_V1_PRECONDITIONS)),
        one(3, "orphanDependents", Bool),
        one(4, "propagationPolicy", Str),
        rep(5, "dryRun", Str),
        one(6, "ignoreStoreReadErrorWithClusterBreakingPotential", Bool),
    ],
};

pub(super) static META_V1_FIELDS_V1: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "FieldsV1",
    repr: Repr::RawJson,
    fields: &[one(1, "Raw", Bytes)],
};

pub(super) static META_V1_FIELD_SELECTOR_REQUIREMENT: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "FieldSelectorRequirement",
    repr: Repr::Object,
    fields: &[
        one(1, "key", Str),
        one(2, "operator", Str),
        rep(3, "values", Str),
    ],
};

pub(super) static META_V1_GET_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "GetOptions",
    repr: Repr::Object,
    fields: &[omitempty(1, "resourceVersion", Str)],
};

pub(super) static META_V1_GROUP_VERSION_FOR_DISCOVERY: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "GroupVersionForDiscovery",
    repr: Repr::Object,
    fields: &[one(1, "groupVersion", Str), one(2, "version", Str)],
};

pub(super) static META_V1_LABEL_SELECTOR: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "LabelSelector",
    repr: Repr::Object,
    fields: &[
        map(1, "matchLabels", Str),
        rep(
            2,
            "matchExpressions",
            Msg(&META_V1_LABEL_SELECTOR_REQUIREMENT),
        ),
    ],
};

pub(super) static META_V1_LABEL_SELECTOR_REQUIREMENT: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "LabelSelectorRequirement",
    repr: Repr::Object,
    fields: &[
        one(1, "key", Str),
        one(2, "operator", Str),
        rep(3, "values", Str),
    ],
};

pub(super) static META_V1_LIST: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "List",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&RUNTIME_RAW_EXTENSION)),
    ],
};

pub(super) static META_V1_LIST_META: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "ListMeta",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "selfLink", Str),
        omitempty(2, "resourceVersion", Str),
        omitempty(3, "continue", Str),
        one(4, "remainingItemCount", Int64),
    ],
};

pub(super) static META_V1_LIST_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "ListOptions",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "labelSelector", Str),
        omitempty(2, "fieldSelector", Str),
        omitempty(3, "watch", Bool),
        omitempty(4, "resourceVersion", Str),
        one(5, "timeoutSeconds", Int64),
        omitempty(7, "limit", Int64),
        omitempty(8, "continue", Str),
        omitempty(9, "allowWatchBookmarks", Bool),
        omitempty(10, "resourceVersionMatch", Str),
        one(11, "sendInitialEvents", Bool),
    ],
};

pub(super) static META_V1_MANAGED_FIELDS_ENTRY: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "ManagedFieldsEntry",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "manager", Str),
        omitempty(2, "operation", Str),
        omitempty(3, "apiVersion", Str),
        one(4, "time", Msg(&META_V1_TIME)),
        omitempty(6, "fieldsType", Str),
        one(7, "fieldsV1", Msg(&META_V1_FIELDS_V1)),
        omitempty(8, "subresource", Str),
    ],
};

pub(super) static META_V1_MICRO_TIME: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "MicroTime",
    repr: Repr::MicroTime,
    fields: &[one(1, "seconds", Int64), one(2, "nanos", Int32)],
};

pub(super) static META_V1_OBJECT_META: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "ObjectMeta",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        omitempty(2, "generateName", Str),
        omitempty(3, "namespace", Str),
        omitempty(4, "selfLink", Str),
        omitempty(5, "uid", Str),
        omitempty(6, "resourceVersion", Str),
        omitempty(7, "generation", Int64),
        one(8, "creationTimestamp", Msg(&META_V1_TIME)),
        one(9, "deletionTimestamp", Msg(&META_V1_TIME)),
        one(10, "deletionGracePeriodSeconds", Int64),
        map(11, "labels", Str),
        map(12, "annotations", Str),
        rep(13, "ownerReferences", Msg(&META_V1_OWNER_REFERENCE)),
        rep(14, "finalizers", Str),
        rep(17, "managedFields", Msg(&META_V1_MANAGED_FIELDS_ENTRY)),
    ],
};

pub(super) static META_V1_OWNER_REFERENCE: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "OwnerReference",
    repr: Repr::Object,
    fields: &[
        one(1, "kind", Str),
        one(3, "name", Str),
        one(4, "uid", Str),
        one(5, "apiVersion", Str),
        one(6, "controller", Bool),
        one(7, "blockOwnerDeletion", Bool),
    ],
};

pub(super) static META_V1_PARTIAL_OBJECT_METADATA: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "PartialObjectMetadata",
    repr: Repr::Object,
    fields: &[one(1, "metadata", Msg(&META_V1_OBJECT_META))],
};

pub(super) static META_V1_PARTIAL_OBJECT_METADATA_LIST: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "PartialObjectMetadataList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&META_V1_PARTIAL_OBJECT_METADATA)),
    ],
};

pub(super) static META_V1_PATCH_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "PatchOptions",
    repr: Repr::Object,
    fields: &[
        rep(1, "dryRun", Str),
        one(2, "force", Bool),
        omitempty(3, "fieldManager", Str),
        omitempty(4, "fieldValidation", Str),
    ],
};

pub(super) static META_V1_PRECONDITIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "Preconditions",
    repr: Repr::Object,
    fields: &[one(1, "uid", Str), one(2, "resourceVersion", Str)],
};

pub(super) static META_V1_SERVER_ADDRESS_BY_CLIENT_CIDR: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "ServerAddressByClientCIDR",
    repr: Repr::Object,
    fields: &[one(1, "clientCIDR", Str), one(2, "serverAddress", Str)],
};

pub(super) static META_V1_STATUS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "Status",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        omitempty(2, "status", Str),
        omitempty(3, "message", Str),
        omitempty(4, "reason", Str),
        one(5, "details", Msg(&META_V1_STATUS_DETAILS)),
        omitempty(6, "code", Int32),
    ],
};

pub(super) static META_V1_STATUS_CAUSE: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "StatusCause",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "reason", Str),
        omitempty(2, "message", Str),
        omitempty(3, "field", Str),
    ],
};

pub(super) static META_V1_STATUS_DETAILS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "StatusDetails",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "name", Str),
        omitempty(2, "group", Str),
        omitempty(3, "kind", Str),
        rep(4, "causes", Msg(&META_V1_STATUS_CAUSE)),
        omitempty(5, "retryAfterSeconds", Int32),
        omitempty(6, "uid", Str),
    ],
};

pub(super) static META_V1_TABLE_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "TableOptions",
    repr: Repr::Object,
    fields: &[omitempty(1, "includeObject", Str)],
};

pub(super) static META_V1_TIME: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "Time",
    repr: Repr::Time,
    fields: &[one(1, "seconds", Int64), one(2, "nanos", Int32)],
};

pub(super) static META_V1_UPDATE_OPTIONS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "UpdateOptions",
    repr: Repr::Object,
    fields: &[
        rep(1, "dryRun", Str),
        omitempty(2, "fieldManager", Str),
        omitempty(3, "fieldValidation", Str),
    ],
};

pub(super) static META_V1_VERBS: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "Verbs",
    repr: Repr::StringList,
    fields: &[rep(1, "items", Str)],
};

pub(super) static META_V1_WATCH_EVENT: Message = Message {
    package: "k8s.io.apimachinery.pkg.apis.meta.v1",
    name: "WatchEvent",
    repr: Repr::Object,
    fields: &[
        one(1, "type", Str),
        one(2, "object", Msg(&RUNTIME_RAW_EXTENSION)),
    ],
};

pub(super) static NETWORKING_V1_HTTP_INGRESS_PATH: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "HTTPIngressPath",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "path", Str),
        one(2, "backend", Msg(&NETWORKING_V1_INGRESS_BACKEND)),
        one(3, "pathType", Str),
    ],
};

pub(super) static NETWORKING_V1_HTTP_INGRESS_RULE_VALUE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "HTTPIngressRuleValue",
    repr: Repr::Object,
    fields: &[rep(1, "paths", Msg(&NETWORKING_V1_HTTP_INGRESS_PATH))],
};

pub(super) static NETWORKING_V1_INGRESS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "Ingress",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&NETWORKING_V1_INGRESS_SPEC)),
        one(3, "status", Msg(&NETWORKING_V1_INGRESS_STATUS)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_BACKEND: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressBackend",
    repr: Repr::Object,
    fields: &[
        one(3, "resource", Msg(&CORE_V1_TYPED_LOCAL_OBJECT_REFERENCE)),
        one(4, "service", Msg(&NETWORKING_V1_INGRESS_SERVICE_BACKEND)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_CLASS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressClass",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&NETWORKING_V1_INGRESS_CLASS_SPEC)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_CLASS_LIST: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressClassList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NETWORKING_V1_INGRESS_CLASS)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_CLASS_PARAMETERS_REFERENCE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressClassParametersReference",
    repr: Repr::Object,
    fields: &[
        one(1, "apiGroup", Str),
        one(2, "kind", Str),
        one(3, "name", Str),
        one(4, "scope", Str),
        one(5, "namespace", Str),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_CLASS_SPEC: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressClassSpec",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "controller", Str),
        one(
            2,
            "parameters",
            Msg(&NETWORKING_V1_INGRESS_CLASS_PARAMETERS_REFERENCE),
        ),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_LIST: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NETWORKING_V1_INGRESS)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressLoadBalancerIngress",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "ip", Str),
        omitempty(2, "hostname", Str),
        rep(4, "ports", Msg(&NETWORKING_V1_INGRESS_PORT_STATUS)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressLoadBalancerStatus",
    repr: Repr::Object,
    fields: &[rep(
        1,
        "ingress",
        Msg(&NETWORKING_V1_INGRESS_LOAD_BALANCER_INGRESS),
    )],
};

pub(super) static NETWORKING_V1_INGRESS_PORT_STATUS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressPortStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "port", Int32),
        one(2, "protocol", Str),
        one(3, "error", Str),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_RULE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressRule",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "host", Str),
        inline(2, Msg(&NETWORKING_V1_INGRESS_RULE_VALUE)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_RULE_VALUE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressRuleValue",
    repr: Repr::Object,
    fields: &[one(1, "http", Msg(&NETWORKING_V1_HTTP_INGRESS_RULE_VALUE))],
};

pub(super) static NETWORKING_V1_INGRESS_SERVICE_BACKEND: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressServiceBackend",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "port", Msg(&NETWORKING_V1_SERVICE_BACKEND_PORT)),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_SPEC: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "defaultBackend", Msg(&NETWORKING_V1_INGRESS_BACKEND)),
        rep(2, "tls", Msg(&NETWORKING_V1_INGRESS_TLS)),
        rep(3, "rules", Msg(&NETWORKING_V1_INGRESS_RULE)),
        one(4, "ingressClassName", Str),
    ],
};

pub(super) static NETWORKING_V1_INGRESS_STATUS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressStatus",
    repr: Repr::Object,
    fields: &[one(
        1,
        "loadBalancer",
        Msg(&NETWORKING_V1_INGRESS_LOAD_BALANCER_STATUS),
    )],
};

pub(super) static NETWORKING_V1_INGRESS_TLS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IngressTLS",
    repr: Repr::Object,
    fields: &[rep(1, "hosts", Str), omitempty(2, "secretName", Str)],
};

pub(super) static NETWORKING_V1_IP_ADDRESS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IPAddress",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&NETWORKING_V1_IP_ADDRESS_SPEC)),
    ],
};

pub(super) static NETWORKING_V1_IP_ADDRESS_LIST: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IPAddressList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NETWORKING_V1_IP_ADDRESS)),
    ],
};

pub(super) static NETWORKING_V1_IP_ADDRESS_SPEC: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IPAddressSpec",
    repr: Repr::Object,
    fields: &[one(1, "parentRef", Msg(&NETWORKING_V1_PARENT_REFERENCE))],
};

pub(super) static NETWORKING_V1_IP_BLOCK: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "IPBlock",
    repr: Repr::Object,
    fields: &[one(1, "cidr", Str), rep(2, "except", Str)],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicy",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&NETWORKING_V1_NETWORK_POLICY_SPEC)),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_EGRESS_RULE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicyEgressRule",
    repr: Repr::Object,
    fields: &[
        rep(1, "ports", Msg(&NETWORKING_V1_NETWORK_POLICY_PORT)),
        rep(2, "to", Msg(&NETWORKING_V1_NETWORK_POLICY_PEER)),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_INGRESS_RULE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicyIngressRule",
    repr: Repr::Object,
    fields: &[
        rep(1, "ports", Msg(&NETWORKING_V1_NETWORK_POLICY_PORT)),
        rep(2, "from", Msg(&NETWORKING_V1_NETWORK_POLICY_PEER)),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_LIST: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicyList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NETWORKING_V1_NETWORK_POLICY)),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_PEER: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicyPeer",
    repr: Repr::Object,
    fields: &[
        one(1, "podSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(2, "namespaceSelector", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "ipBlock", Msg(&NETWORKING_V1_IP_BLOCK)),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_PORT: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicyPort",
    repr: Repr::Object,
    fields: &[
        one(1, "protocol", Str),
        one(2, "port", Msg(&INTSTR_INT_OR_STRING)),
        one(3, "endPort", Int32),
    ],
};

pub(super) static NETWORKING_V1_NETWORK_POLICY_SPEC: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "NetworkPolicySpec",
    repr: Repr::Object,
    fields: &[
        one(1, "podSelector", Msg(&META_V1_LABEL_SELECTOR)),
        rep(
            2,
            "ingress",
            Msg(&NETWORKING_V1_NETWORK_POLICY_INGRESS_RULE),
        ),
        rep(3, "egress", Msg(&NETWORKING_V1_NETWORK_POLICY_EGRESS_RULE)),
        rep(4, "policyTypes", Str),
    ],
};

pub(super) static NETWORKING_V1_PARENT_REFERENCE: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ParentReference",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "group", Str),
        omitempty(2, "resource", Str),
        omitempty(3, "namespace", Str),
        omitempty(4, "name", Str),
    ],
};

pub(super) static NETWORKING_V1_SERVICE_BACKEND_PORT: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ServiceBackendPort",
    repr: Repr::Object,
    fields: &[omitempty(1, "name", Str), omitempty(2, "number", Int32)],
};

pub(super) static NETWORKING_V1_SERVICE_CIDR: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ServiceCIDR",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&NETWORKING_V1_SERVICE_CIDR_SPEC)),
        one(3, "status", Msg(&NETWORKING_V1_SERVICE_CIDR_STATUS)),
    ],
};

pub(super) static NETWORKING_V1_SERVICE_CIDR_LIST: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ServiceCIDRList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NETWORKING_V1_SERVICE_CIDR)),
    ],
};

pub(super) static NETWORKING_V1_SERVICE_CIDR_SPEC: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ServiceCIDRSpec",
    repr: Repr::Object,
    fields: &[rep(1, "cidrs", Str)],
};

pub(super) static NETWORKING_V1_SERVICE_CIDR_STATUS: Message = Message {
    package: "k8s.io.api.networking.v1",
    name: "ServiceCIDRStatus",
    repr: Repr::Object,
    fields: &[rep(1, "conditions", Msg(&META_V1_CONDITION))],
};

pub(super) static NODE_V1_OVERHEAD: Message = Message {
    package: "k8s.io.api.node.v1",
    name: "Overhead",
    repr: Repr::Object,
    fields: &[map(1, "podFixed", Msg(&RESOURCE_QUANTITY))],
};

pub(super) static NODE_V1_RUNTIME_CLASS: Message = Message {
    package: "k8s.io.api.node.v1",
    name: "RuntimeClass",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "handler", Str),
        one(3, "overhead", Msg(&NODE_V1_OVERHEAD)),
        one(4, "scheduling", Msg(&NODE_V1_SCHEDULING)),
    ],
};

pub(super) static NODE_V1_RUNTIME_CLASS_LIST: Message = Message {
    package: "k8s.io.api.node.v1",
    name: "RuntimeClassList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&NODE_V1_RUNTIME_CLASS)),
    ],
};

pub(super) static NODE_V1_SCHEDULING: Message = Message {
    package: "k8s.io.api.node.v1",
    name: "Scheduling",
    repr: Repr::Object,
    fields: &[
        map(1, "nodeSelector", Str),
        rep(2, "tolerations", Msg(&CORE_V1_TOLERATION)),
    ],
};

pub(super) static POLICY_V1_EVICTION: Message = Message {
    package: "k8s.io.api.policy.v1",
    name: "Eviction",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "deleteOptions", Msg(&META_V1_DELETE_OPTIONS)),
    ],
};

pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET: Message = Message {
    package: "k8s.io.api.policy.v1",
    name: "PodDisruptionBudget",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&POLICY_V1_POD_DISRUPTION_BUDGET_SPEC)),
        one(3, "status", Msg(&POLICY_V1_POD_DISRUPTION_BUDGET_STATUS)),
    ],
};

pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET_LIST: Message = Message {
    package: "k8s.io.api.policy.v1",
    name: "PodDisruptionBudgetList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&POLICY_V1_POD_DISRUPTION_BUDGET)),
    ],
};

pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET_SPEC: Message = Message {
    package: "k8s.io.api.policy.v1",
    name: "PodDisruptionBudgetSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "minAvailable", Msg(&INTSTR_INT_OR_STRING)),
        one(2, "selector", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "maxUnavailable", Msg(&INTSTR_INT_OR_STRING)),
        one(4, "unhealthyPodEvictionPolicy", Str),
    ],
};

pub(super) static POLICY_V1_POD_DISRUPTION_BUDGET_STATUS: Message = Message {
    package: "k8s.io.api.policy.v1",
    name: "PodDisruptionBudgetStatus",
    repr: Repr::Object,
    fields: &[
        omitempty(1, "observedGeneration", Int64),
        map(2, "disruptedPods", Msg(&META_V1_TIME)),
        one(3, "disruptionsAllowed", Int32),
        one(4, "currentHealthy", Int32),
        one(5, "desiredHealthy", Int32),
        one(6, "expectedPods", Int32),
        rep(7, "conditions", Msg(&META_V1_CONDITION)),
    ],
};

pub(super) static RBAC_V1_AGGREGATION_RULE: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "AggregationRule",
    repr: Repr::Object,
    fields: &[rep(1, "clusterRoleSelectors", Msg(&META_V1_LABEL_SELECTOR))],
};

pub(super) static RBAC_V1_CLUSTER_ROLE: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "ClusterRole",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "rules", Msg(&RBAC_V1_POLICY_RULE)),
        one(3, "aggregationRule", Msg(&RBAC_V1_AGGREGATION_RULE)),
    ],
};

pub(super) static RBAC_V1_CLUSTER_ROLE_BINDING: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "ClusterRoleBinding",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "subjects", Msg(&RBAC_V1_SUBJECT)),
        one(3, "roleRef", Msg(&RBAC_V1_ROLE_REF)),
    ],
};

pub(super) static RBAC_V1_CLUSTER_ROLE_BINDING_LIST: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "ClusterRoleBindingList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&RBAC_V1_CLUSTER_ROLE_BINDING)),
    ],
};

pub(super) static RBAC_V1_CLUSTER_ROLE_LIST: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "ClusterRoleList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&RBAC_V1_CLUSTER_ROLE)),
    ],
};

pub(super) static RBAC_V1_POLICY_RULE: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "PolicyRule",
    repr: Repr::Object,
    fields: &[
        rep(1, "verbs", Str),
        rep(2, "apiGroups", Str),
        rep(3, "resources", Str),
        rep(4, "resourceNames", Str),
        rep(5, "nonResourceURLs", Str),
    ],
};

pub(super) static RBAC_V1_ROLE: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "Role",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "rules", Msg(&RBAC_V1_POLICY_RULE)),
    ],
};

pub(super) static RBAC_V1_ROLE_BINDING: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "RoleBinding",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        rep(2, "subjects", Msg(&RBAC_V1_SUBJECT)),
        one(3, "roleRef", Msg(&RBAC_V1_ROLE_REF)),
    ],
};

pub(super) static RBAC_V1_ROLE_BINDING_LIST: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "RoleBindingList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&RBAC_V1_ROLE_BINDING)),
    ],
};

pub(super) static RBAC_V1_ROLE_LIST: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "RoleList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&RBAC_V1_ROLE)),
    ],
};

pub(super) static RBAC_V1_ROLE_REF: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "RoleRef",
    repr: Repr::Object,
    fields: &[
        one(1, "apiGroup", Str),
        one(2, "kind", Str),
        one(3, "name", Str),
    ],
};

pub(super) static RBAC_V1_SUBJECT: Message = Message {
    package: "k8s.io.api.rbac.v1",
    name: "Subject",
    repr: Repr::Object,
    fields: &[
        one(1, "kind", Str),
        omitempty(2, "apiGroup", Str),
        one(3, "name", Str),
        omitempty(4, "namespace", Str),
    ],
};

pub(super) static RESOURCE_QUANTITY: Message = Message {
    package: "k8s.io.apimachinery.pkg.api.resource",
    name: "Quantity",
    repr: Repr::Quantity,
    fields: &[one(1, "string", Str)],
};

pub(super) static RUNTIME_RAW_EXTENSION: Message = Message {
    package: "k8s.io.apimachinery.pkg.runtime",
    name: "RawExtension",
    repr: Repr::RawJson,
    fields: &[one(1, "raw", Bytes)],
};

pub(super) static SCHEDULING_V1_PRIORITY_CLASS: Message = Message {
    package: "k8s.io.api.scheduling.v1",
    name: "PriorityClass",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "value", Int32),
        omitempty(3, "globalDefault", Bool),
        omitempty(4, "description", Str),
        one(5, "preemptionPolicy", Str),
    ],
};

pub(super) static SCHEDULING_V1_PRIORITY_CLASS_LIST: Message = Message {
    package: "k8s.io.api.scheduling.v1",
    name: "PriorityClassList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&SCHEDULING_V1_PRIORITY_CLASS)),
    ],
};

pub(super) static STORAGE_V1_CSI_DRIVER: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSIDriver",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&STORAGE_V1_CSI_DRIVER_SPEC)),
    ],
};

pub(super) static STORAGE_V1_CSI_DRIVER_LIST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSIDriverList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&STORAGE_V1_CSI_DRIVER)),
    ],
};

pub(super) static STORAGE_V1_CSI_DRIVER_SPEC: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSIDriverSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "attachRequired", Bool),
        one(2, "podInfoOnMount", Bool),
        rep(3, "volumeLifecycleModes", Str),
        one(4, "storageCapacity", Bool),
        one(5, "fsGroupPolicy", Str),
        rep(6, "tokenRequests", Msg(&STORAGE_V1_TOKEN_REQUEST)),
        one(7, "requiresRepublish", Bool),
        one(8, "seLinuxMount", Bool),
        one(9, "nodeAllocatableUpdatePeriodSeconds", Int64),
    ],
};

pub(super) static STORAGE_V1_CSI_NODE: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSINode",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&STORAGE_V1_CSI_NODE_SPEC)),
    ],
};

pub(super) static STORAGE_V1_CSI_NODE_DRIVER: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSINodeDriver",
    repr: Repr::Object,
    fields: &[
        one(1, "name", Str),
        one(2, "nodeID", Str),
        rep(3, "topologyKeys", Str),
        one(4, "allocatable", Msg(&STORAGE_V1_VOLUME_NODE_RESOURCES)),
    ],
};

pub(super) static STORAGE_V1_CSI_NODE_LIST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSINodeList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&STORAGE_V1_CSI_NODE)),
    ],
};

pub(super) static STORAGE_V1_CSI_NODE_SPEC: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSINodeSpec",
    repr: Repr::Object,
    fields: &[rep(1, "drivers", Msg(&STORAGE_V1_CSI_NODE_DRIVER))],
};

pub(super) static STORAGE_V1_CSI_STORAGE_CAPACITY: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSIStorageCapacity",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "nodeTopology", Msg(&META_V1_LABEL_SELECTOR)),
        one(3, "storageClassName", Str),
        one(4, "capacity", Msg(&RESOURCE_QUANTITY)),
        one(5, "maximumVolumeSize", Msg(&RESOURCE_QUANTITY)),
    ],
};

pub(super) static STORAGE_V1_CSI_STORAGE_CAPACITY_LIST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "CSIStorageCapacityList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&STORAGE_V1_CSI_STORAGE_CAPACITY)),
    ],
};

pub(super) static STORAGE_V1_STORAGE_CLASS: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "StorageClass",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "provisioner", Str),
        map(3, "parameters", Str),
        one(4, "reclaimPolicy", Str),
        rep(5, "mountOptions", Str),
        one(6, "allowVolumeExpansion", Bool),
        one(7, "volumeBindingMode", Str),
        rep(8, "allowedTopologies", Msg(&CORE_V1_TOPOLOGY_SELECTOR_TERM)),
    ],
};

pub(super) static STORAGE_V1_STORAGE_CLASS_LIST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "StorageClassList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&STORAGE_V1_STORAGE_CLASS)),
    ],
};

pub(super) static STORAGE_V1_TOKEN_REQUEST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "TokenRequest",
    repr: Repr::Object,
    fields: &[one(1, "audience", Str), one(2, "expirationSeconds", Int64)],
};

pub(super) static STORAGE_V1_VOLUME_ATTACHMENT: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeAttachment",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_OBJECT_META)),
        one(2, "spec", Msg(&STORAGE_V1_VOLUME_ATTACHMENT_SPEC)),
        one(3, "status", Msg(&STORAGE_V1_VOLUME_ATTACHMENT_STATUS)),
    ],
};

pub(super) static STORAGE_V1_VOLUME_ATTACHMENT_LIST: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeAttachmentList",
    repr: Repr::Object,
    fields: &[
        one(1, "metadata", Msg(&META_V1_LIST_META)),
        rep(2, "items", Msg(&STORAGE_V1_VOLUME_ATTACHMENT)),
    ],
};

pub(super) static STORAGE_V1_VOLUME_ATTACHMENT_SOURCE: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeAttachmentSource",
    repr: Repr::Object,
    fields: &[
        one(1, "persistentVolumeName", Str),
        one(2, "inlineVolumeSpec", Msg(&CORE_V1_PERSISTENT_VOLUME_SPEC)),
    ],
};

pub(super) static STORAGE_V1_VOLUME_ATTACHMENT_SPEC: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeAttachmentSpec",
    repr: Repr::Object,
    fields: &[
        one(1, "attacher", Str),
        one(2, "source", Msg(&STORAGE_V1_VOLUME_ATTACHMENT_SOURCE)),
        one(3, "nodeName", Str),
    ],
};

pub(super) static STORAGE_V1_VOLUME_ATTACHMENT_STATUS: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeAttachmentStatus",
    repr: Repr::Object,
    fields: &[
        one(1, "attached", Bool),
        map(2, "attachmentMetadata", Str),
        one(3, "attachError", Msg(&STORAGE_V1_VOLUME_ERROR)),
        one(4, "detachError", Msg(&STORAGE_V1_VOLUME_ERROR)),
    ],
};

pub(super) static STORAGE_V1_VOLUME_ERROR: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeError",
    repr: Repr::Object,
    fields: &[
        one(1, "time", Msg(&META_V1_TIME)),
        omitempty(2, "message", Str),
        one(3, "errorCode", Int32),
    ],
};

pub(super) static STORAGE_V1_VOLUME_NODE_RESOURCES: Message = Message {
    package: "k8s.io.api.storage.v1",
    name: "VolumeNodeResources",
    repr: Repr::Object,
    fields: &[one(1, "count", Int32)],
};
