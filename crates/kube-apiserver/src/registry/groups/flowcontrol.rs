//! flowcontrol.apiserver.k8s.io/v1: FlowSchemas and PriorityLevelConfigurations (API
//! Priority and Fairness).
//!
//! Entry point: [`strategies`]. Defaults: `matchingPrecedence` 1000; a limited level
//! gets 30 nominal shares, lendablePercent 0 and queuing of 64 queues, hand size 8 and
//! queue length 50; an exempt level gets 0 shares and 0 lendablePercent. Both kinds
//! count generations and write status through the status subresource.
//!
//! TODO: upstream also requires the mandatory objects (`exempt` and `catch-all` of
//! both kinds) to keep their built-in specs; that check needs those specs here.

use std::collections::BTreeSet;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::{is_dns1123_label, is_dns1123_subdomain};
use k8s_openapi::api::flowcontrol::v1::{
    FlowSchema, FlowSchemaSpec, LimitResponse, LimitedPriorityLevelConfiguration,
    NonResourcePolicyRule, PolicyRulesWithSubjects, PriorityLevelConfiguration,
    PriorityLevelConfigurationSpec, QueuingConfiguration, ResourcePolicyRule, Subject,
};

use super::validation::{go_string_slice, invalid_each, rendered};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// `matchingPrecedence` of a FlowSchema that sets none.
pub const DEFAULT_MATCHING_PRECEDENCE: i32 = 1000;
/// The largest `matchingPrecedence`.
pub const MAX_MATCHING_PRECEDENCE: i32 = 10000;
/// The largest number of queues of a priority level.
pub const MAX_QUEUES: i32 = 10_000_000;
/// The maximum hash bits shuffle sharding may need (upstream's `shufflesharding.MaxHashBits`).
pub const MAX_HASH_BITS: f64 = 60.0;

const DISTINGUISHER_METHODS: [&str; 2] = ["ByNamespace", "ByUser"];
const SUBJECT_KINDS: [&str; 3] = ["Group", "ServiceAccount", "User"];
const PRIORITY_LEVEL_TYPES: [&str; 2] = ["Exempt", "Limited"];
const LIMIT_RESPONSE_TYPES: [&str; 2] = ["Queue", "Reject"];
const SUPPORTED_VERBS: [&str; 9] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "proxy",
    "update",
    "watch",
];
const NAMESPACE_ERROR_INTRO: &str = "each member of this list must be '*' or a DNS-1123 label; ";

/// Returns the strategies of the flowcontrol.apiserver.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(FlowSchemaStrategy)),
        entry(Arc::new(PriorityLevelConfigurationStrategy)),
    ]
}

/// Strategy of `flowschemas`.
pub struct FlowSchemaStrategy;

impl Strategy for FlowSchemaStrategy {
    type Object = FlowSchema;

    fn default(&self, schema: &mut FlowSchema) {
        let spec = schema.spec.get_or_insert_with(Default::default);
        if spec.matching_precedence.unwrap_or(0) == 0 {
            spec.matching_precedence = Some(DEFAULT_MATCHING_PRECEDENCE);
        }
    }

    fn prepare_for_create(&self, schema: &mut FlowSchema) {
        schema.status = None;
    }

    fn prepare_for_update(&self, schema: &mut FlowSchema, old: &FlowSchema) {
        schema.status = old.status.clone();
    }

    fn validate(&self, schema: &FlowSchema) -> Vec<FieldError> {
        let name = schema.metadata.name.as_deref().unwrap_or_default();
        let mut errors = validate_flow_schema_spec(name, &schema.spec.clone().unwrap_or_default());
        errors.extend(self.validate_status_update(schema, schema));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(&self, schema: &FlowSchema, _old: &FlowSchema) -> Vec<FieldError> {
        let types = schema
            .status
            .iter()
            .flat_map(|status| status.conditions.iter().flatten())
            .map(|condition| condition.type_.as_deref().unwrap_or_default());
        validate_condition_types(types)
    }
}

/// Upstream's status condition checks of both kinds: unique, non-empty types.
fn validate_condition_types<'a>(types: impl Iterator<Item = &'a str>) -> Vec<FieldError> {
    let path = FieldPath::from_names(["status", "conditions"]);
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, condition_type) in types.enumerate() {
        let type_path = path.index(index).child("type");
        if !seen.insert(condition_type) {
            errors.push(FieldError::duplicate(&type_path, condition_type));
        }
        if condition_type.is_empty() {
            errors.push(FieldError::required(&type_path, "must not be empty"));
        }
    }
    errors
}

/// Upstream's `ValidateFlowSchemaSpec`.
fn validate_flow_schema_spec(name: &str, spec: &FlowSchemaSpec) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let precedence = spec.matching_precedence.unwrap_or(0);
    let precedence_path = path.child("matchingPrecedence");
    if precedence <= 0 {
        errors.push(FieldError::invalid(
            &precedence_path,
            precedence,
            "must be a positive value",
        ));
    }
    if precedence > MAX_MATCHING_PRECEDENCE {
        errors.push(FieldError::invalid(
            &precedence_path,
            precedence,
            format!("must not be greater than {MAX_MATCHING_PRECEDENCE}"),
        ));
    }
    if precedence == 1 && name != "exempt" {
        errors.push(FieldError::invalid(
            &precedence_path,
            precedence,
            "only the schema named 'exempt' may have matchingPrecedence 1",
        ));
    }
    if let Some(method) = &spec.distinguisher_method
        && !DISTINGUISHER_METHODS.contains(&method.type_.as_str())
    {
        errors.push(FieldError::not_supported(
            &path.child("distinguisherMethod").child("type"),
            rendered(method),
            &DISTINGUISHER_METHODS,
        ));
    }
    let level_path = path.child("priorityLevelConfiguration").child("name");
    let level = &spec.priority_level_configuration.name;
    if level.is_empty() {
        errors.push(FieldError::required(
            &level_path,
            "must reference a priority level",
        ));
    } else {
        errors.extend(invalid_each(
            &level_path,
            level,
            is_dns1123_subdomain(level),
        ));
    }
    for (index, rule) in spec.rules.iter().flatten().enumerate() {
        errors.extend(validate_rules_with_subjects(
            rule,
            &path.child("rules").index(index),
        ));
    }
    errors
}

fn validate_rules_with_subjects(
    rule: &PolicyRulesWithSubjects,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if rule.subjects.is_empty() {
        errors.push(FieldError::required(
            &path.child("subjects"),
            "subjects must contain at least one value",
        ));
    }
    for (index, subject) in rule.subjects.iter().enumerate() {
        errors.extend(validate_subject(
            subject,
            &path.child("subjects").index(index),
        ));
    }
    let resource_rules = rule.resource_rules.as_deref().unwrap_or_default();
    let non_resource_rules = rule.non_resource_rules.as_deref().unwrap_or_default();
    if resource_rules.is_empty() && non_resource_rules.is_empty() {
        errors.push(FieldError::required(
            path,
            "at least one of resourceRules and nonResourceRules has to be non-empty",
        ));
    }
    for (index, resource_rule) in resource_rules.iter().enumerate() {
        errors.extend(validate_resource_rule(
            resource_rule,
            &path.child("resourceRules").index(index),
        ));
    }
    for (index, non_resource_rule) in non_resource_rules.iter().enumerate() {
        errors.extend(validate_non_resource_rule(
            non_resource_rule,
            &path.child("nonResourceRules").index(index),
        ));
    }
    errors
}

/// Upstream's `ValidateFlowSchemaSubject`: the member for the kind is set and valid,
/// the others are absent.
fn validate_subject(subject: &Subject, path: &FieldPath) -> Vec<FieldError> {
    const USER_FORBIDDEN: &str = "user is forbidden when subject kind is not 'User'";
    const GROUP_FORBIDDEN: &str = "group is forbidden when subject kind is not 'Group'";
    const ACCOUNT_FORBIDDEN: &str =
        "serviceAccount is forbidden when subject kind is not 'ServiceAccount'";
    let mut errors = Vec::new();
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let account_path = path.child("serviceAccount");
            match &subject.service_account {
                None => errors.push(FieldError::required(
                    &account_path,
                    "serviceAccount is required when subject kind is 'ServiceAccount'",
                )),
                Some(account) => {
                    if account.name.is_empty() {
                        errors.push(FieldError::required(&account_path.child("name"), ""));
                    } else if account.name != "*" {
                        errors.extend(invalid_each(
                            &account_path.child("name"),
                            &account.name,
                            is_dns1123_subdomain(&account.name),
                        ));
                    }
                    if account.namespace.is_empty() {
                        errors.push(FieldError::required(
                            &account_path.child("namespace"),
                            "must specify namespace for service account",
                        ));
                    } else {
                        errors.extend(invalid_each(
                            &account_path.child("namespace"),
                            &account.namespace,
                            is_dns1123_label(&account.namespace),
                        ));
                    }
                }
            }
            if subject.user.is_some() {
                errors.push(FieldError::forbidden(&path.child("user"), USER_FORBIDDEN));
            }
            if subject.group.is_some() {
                errors.push(FieldError::forbidden(&path.child("group"), GROUP_FORBIDDEN));
            }
        }
        "User" => {
            match &subject.user {
                None => errors.push(FieldError::required(
                    &path.child("user"),
                    "user is required when subject kind is 'User'",
                )),
                Some(user) if user.name.is_empty() => {
                    errors.push(FieldError::required(&path.child("user").child("name"), ""));
                }
                Some(_) => {}
            }
            if subject.service_account.is_some() {
                errors.push(FieldError::forbidden(
                    &path.child("serviceAccount"),
                    ACCOUNT_FORBIDDEN,
                ));
            }
            if subject.group.is_some() {
                errors.push(FieldError::forbidden(&path.child("group"), GROUP_FORBIDDEN));
            }
        }
        "Group" => {
            match &subject.group {
                None => errors.push(FieldError::required(
                    &path.child("group"),
                    "group is required when subject kind is 'Group'",
                )),
                Some(group) if group.name.is_empty() => {
                    errors.push(FieldError::required(&path.child("group").child("name"), ""));
                }
                Some(_) => {}
            }
            if subject.service_account.is_some() {
                errors.push(FieldError::forbidden(
                    &path.child("serviceAccount"),
                    ACCOUNT_FORBIDDEN,
                ));
            }
            if subject.user.is_some() {
                errors.push(FieldError::forbidden(&path.child("user"), USER_FORBIDDEN));
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &SUBJECT_KINDS,
        )),
    }
    errors
}

fn has_wildcard(values: &[String]) -> bool {
    values.iter().any(|value| value == "*")
}

fn validate_verbs(verbs: &[String], path: &FieldPath) -> Vec<FieldError> {
    if verbs.is_empty() {
        return vec![FieldError::required(
            path,
            "verbs must contain at least one value",
        )];
    }
    if has_wildcard(verbs) {
        if verbs.len() > 1 {
            return vec![FieldError::invalid(
                path,
                go_string_slice(verbs),
                "if '*' is present, must not specify other verbs",
            )];
        }
        return Vec::new();
    }
    if verbs
        .iter()
        .any(|verb| !SUPPORTED_VERBS.contains(&verb.as_str()))
    {
        return vec![FieldError::not_supported(
            path,
            go_string_slice(verbs),
            &SUPPORTED_VERBS,
        )];
    }
    Vec::new()
}

/// Checks a list that must be non-empty and may hold '*' only alone.
fn validate_wildcard_list(
    values: &[String],
    path: &FieldPath,
    required: &str,
    other: &str,
) -> Vec<FieldError> {
    if values.is_empty() {
        return vec![FieldError::required(path, required)];
    }
    if values.len() > 1 && has_wildcard(values) {
        return vec![FieldError::invalid(
            path,
            go_string_slice(values),
            format!("if '*' is present, must not specify other {other}"),
        )];
    }
    Vec::new()
}

fn validate_resource_rule(rule: &ResourcePolicyRule, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_verbs(&rule.verbs, &path.child("verbs"));
    errors.extend(validate_wildcard_list(
        &rule.api_groups,
        &path.child("apiGroups"),
        "resource rules must supply at least one api group",
        "api groups",
    ));
    errors.extend(validate_wildcard_list(
        &rule.resources,
        &path.child("resources"),
        "resource rules must supply at least one resource",
        "resources",
    ));

    let namespaces = rule.namespaces.as_deref().unwrap_or_default();
    let namespaces_path = path.child("namespaces");
    if namespaces.is_empty() && !rule.cluster_scope.unwrap_or(false) {
        errors.push(FieldError::required(
            &namespaces_path,
            "resource rules that are not cluster scoped must supply at least one namespace",
        ));
    } else if has_wildcard(namespaces) {
        if namespaces.len() > 1 {
            errors.push(FieldError::invalid(
                &namespaces_path,
                go_string_slice(namespaces),
                "if '*' is present, must not specify other namespaces",
            ));
        }
    } else {
        for (index, namespace) in namespaces.iter().enumerate() {
            for message in is_dns1123_label(namespace) {
                errors.push(FieldError::invalid(
                    &namespaces_path.index(index),
                    namespace,
                    format!("{NAMESPACE_ERROR_INTRO}{message}"),
                ));
            }
        }
    }
    errors
}

fn validate_non_resource_rule(rule: &NonResourcePolicyRule, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_verbs(&rule.verbs, &path.child("verbs"));
    let urls_path = path.child("nonResourceURLs");
    let urls = &rule.non_resource_urls;
    if urls.is_empty() {
        errors.push(FieldError::required(
            &urls_path,
            "nonResourceURLs must contain at least one value",
        ));
    } else if has_wildcard(urls) {
        if urls.len() > 1 {
            errors.push(FieldError::invalid(
                &urls_path,
                go_string_slice(urls),
                "if '*' is present, must not specify other non-resource URLs",
            ));
        }
    } else {
        for (index, url) in urls.iter().enumerate() {
            if let Some(message) = non_resource_url_problem(url) {
                errors.push(FieldError::invalid(&urls_path.index(index), url, message));
            }
        }
    }
    errors
}

/// Upstream's `ValidateNonResourceURLPath`: absolute, no spaces or double slashes, and
/// '*' only as a final `/*`.
fn non_resource_url_problem(url: &str) -> Option<&'static str> {
    if url.is_empty() {
        return Some("must not be empty");
    }
    if url == "/" {
        return None;
    }
    if !url.starts_with('/') {
        return Some("must start with slash");
    }
    if url.contains(' ') {
        return Some("must not contain white-space");
    }
    if url.contains("//") {
        return Some("must not contain double slash");
    }
    let wildcards = url.matches('*').count();
    if wildcards > 1 || (wildcards == 1 && !url.ends_with("/*")) {
        return Some("wildcard can only do suffix matching");
    }
    None
}

/// Strategy of `prioritylevelconfigurations`.
pub struct PriorityLevelConfigurationStrategy;

impl Strategy for PriorityLevelConfigurationStrategy {
    type Object = PriorityLevelConfiguration;

    fn default(&self, level: &mut PriorityLevelConfiguration) {
        let Some(spec) = &mut level.spec else {
            return;
        };
        if let Some(limited) = &mut spec.limited {
            limited.nominal_concurrency_shares.get_or_insert(30);
            limited.lendable_percent.get_or_insert(0);
            let queuing = limited
                .limit_response
                .as_mut()
                .and_then(|response| response.queuing.as_mut());
            if let Some(queuing) = queuing {
                default_queuing(queuing);
            }
        }
        if let Some(exempt) = &mut spec.exempt {
            exempt.nominal_concurrency_shares.get_or_insert(0);
            exempt.lendable_percent.get_or_insert(0);
        }
    }

    fn prepare_for_create(&self, level: &mut PriorityLevelConfiguration) {
        level.status = None;
    }

    fn prepare_for_update(
        &self,
        level: &mut PriorityLevelConfiguration,
        old: &PriorityLevelConfiguration,
    ) {
        level.status = old.status.clone();
    }

    fn validate(&self, level: &PriorityLevelConfiguration) -> Vec<FieldError> {
        let name = level.metadata.name.as_deref().unwrap_or_default();
        let mut errors =
            validate_priority_level_spec(&level.spec.clone().unwrap_or_default(), name);
        errors.extend(self.validate_status_update(level, level));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(
        &self,
        level: &PriorityLevelConfiguration,
        _old: &PriorityLevelConfiguration,
    ) -> Vec<FieldError> {
        let types = level
            .status
            .iter()
            .flat_map(|status| status.conditions.iter().flatten())
            .map(|condition| condition.type_.as_deref().unwrap_or_default());
        validate_condition_types(types)
    }
}

fn default_queuing(queuing: &mut QueuingConfiguration) {
    for (field, default) in [
        (&mut queuing.hand_size, 8),
        (&mut queuing.queues, 64),
        (&mut queuing.queue_length_limit, 50),
    ] {
        if field.unwrap_or(0) == 0 {
            *field = Some(default);
        }
    }
}

/// Upstream's `ValidatePriorityLevelConfigurationSpec` for v1.
fn validate_priority_level_spec(
    spec: &PriorityLevelConfigurationSpec,
    name: &str,
) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if (name == "exempt") != (spec.type_ == "Exempt") {
        errors.push(FieldError::invalid(
            &path.child("type"),
            &spec.type_,
            "type must be 'Exempt' if and only if name is 'exempt'",
        ));
    }
    match spec.type_.as_str() {
        "Exempt" => {
            if spec.limited.is_some() {
                errors.push(FieldError::forbidden(
                    &path.child("limited"),
                    "must be nil if the type is not Limited",
                ));
            }
            if let Some(exempt) = &spec.exempt {
                let exempt_path = path.child("exempt");
                if let Some(shares) = exempt
                    .nominal_concurrency_shares
                    .filter(|shares| *shares < 0)
                {
                    errors.push(FieldError::invalid(
                        &exempt_path.child("nominalConcurrencyShares"),
                        shares,
                        "must be a non-negative integer",
                    ));
                }
                errors.extend(validate_lendable_percent(
                    exempt.lendable_percent,
                    &exempt_path,
                ));
            }
        }
        "Limited" => {
            if spec.exempt.is_some() {
                errors.push(FieldError::forbidden(
                    &path.child("exempt"),
                    "must be nil if the type is Limited",
                ));
            }
            match &spec.limited {
                None => errors.push(FieldError::required(
                    &path.child("limited"),
                    "must not be empty when type is Limited",
                )),
                Some(limited) => errors.extend(validate_limited(limited, &path.child("limited"))),
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &PRIORITY_LEVEL_TYPES,
        )),
    }
    errors
}

fn validate_lendable_percent(percent: Option<i32>, path: &FieldPath) -> Vec<FieldError> {
    match percent {
        Some(percent) if !(0..=100).contains(&percent) => vec![FieldError::invalid(
            &path.child("lendablePercent"),
            percent,
            "must be between 0 and 100, inclusive",
        )],
        _ => Vec::new(),
    }
}

fn validate_limited(
    limited: &LimitedPriorityLevelConfiguration,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    // v1 allows zero shares.
    let shares = limited.nominal_concurrency_shares.unwrap_or(0);
    if shares < 0 {
        errors.push(FieldError::invalid(
            &path.child("nominalConcurrencyShares"),
            shares,
            "must be a non-negative integer",
        ));
    }
    errors.extend(validate_limit_response(
        &limited.limit_response.clone().unwrap_or_default(),
        &path.child("limitResponse"),
    ));
    errors.extend(validate_lendable_percent(limited.lendable_percent, path));
    if let Some(limit) = limited.borrowing_limit_percent.filter(|limit| *limit < 0) {
        errors.push(FieldError::invalid(
            &path.child("borrowingLimitPercent"),
            limit,
            "if specified, must be a non-negative integer",
        ));
    }
    errors
}

fn validate_limit_response(response: &LimitResponse, path: &FieldPath) -> Vec<FieldError> {
    match response.type_.as_str() {
        "Reject" if response.queuing.is_some() => vec![FieldError::forbidden(
            &path.child("queuing"),
            "must be nil if limited.limitResponse.type is not Limited",
        )],
        "Reject" => Vec::new(),
        "Queue" => match &response.queuing {
            None => vec![FieldError::required(
                &path.child("queuing"),
                "must not be empty if limited.limitResponse.type is Limited",
            )],
            Some(queuing) => validate_queuing(queuing, &path.child("queuing")),
        },
        other => vec![FieldError::not_supported(
            &path.child("type"),
            other,
            &LIMIT_RESPONSE_TYPES,
        )],
    }
}

/// Upstream's `ValidatePriorityLevelQueuingConfiguration`, with its shuffle sharding
/// entropy limit: ceil(log2(queues) * handSize) may not exceed 60 bits.
fn validate_queuing(queuing: &QueuingConfiguration, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let length_limit = queuing.queue_length_limit.unwrap_or(0);
    if length_limit <= 0 {
        errors.push(FieldError::invalid(
            &path.child("queueLengthLimit"),
            length_limit,
            "must be positive",
        ));
    }
    let queues = queuing.queues.unwrap_or(0);
    if queues <= 0 {
        errors.push(FieldError::invalid(
            &path.child("queues"),
            queues,
            "must be positive",
        ));
    } else if queues > MAX_QUEUES {
        errors.push(FieldError::invalid(
            &path.child("queues"),
            queues,
            format!("must not be greater than {MAX_QUEUES}"),
        ));
    }
    let hand_size = queuing.hand_size.unwrap_or(0);
    let hand_path = path.child("handSize");
    if hand_size <= 0 {
        errors.push(FieldError::invalid(
            &hand_path,
            hand_size,
            "must be positive",
        ));
    } else if hand_size > queues {
        errors.push(FieldError::invalid(
            &hand_path,
            hand_size,
            format!("should not be greater than queues ({queues})"),
        ));
    } else if (f64::from(queues).log2() * f64::from(hand_size)).ceil() > MAX_HASH_BITS {
        errors.push(FieldError::invalid(
            &hand_path,
            hand_size,
            format!("required entropy bits of deckSize {queues} and handSize {hand_size} should not be greater than 60"),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn schema(name: &str, spec: serde_json::Value) -> FlowSchema {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    }

    fn all_rule() -> serde_json::Value {
        json!({"subjects": [{"kind": "Group", "group": {"name": "system:authenticated"}}],
               "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true}],
               "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]})
    }

    #[test]
    fn flow_schema_defaults() {
        let object = json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
            "metadata": {"name": "fs"}, "spec": {"priorityLevelConfiguration": {"name": "global-default"}}});
        assert_eq!(
            defaulted(&FlowSchemaStrategy, object)["spec"]["matchingPrecedence"],
            1000
        );
    }

    #[test]
    fn flow_schema_validation() {
        let cases = [
            (
                json!({"matchingPrecedence": 500, "priorityLevelConfiguration": {"name": "workload-low"}, "rules": [all_rule()]}),
                vec![],
            ),
            (
                json!({"matchingPrecedence": 1, "priorityLevelConfiguration": {"name": ""}, "distinguisherMethod": {"type": "ByPod"}}),
                vec![
                    "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1",
                    "spec.distinguisherMethod.type: Unsupported value: {\"type\":\"ByPod\"}: supported values: \"ByNamespace\", \"ByUser\"",
                    "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
                ],
            ),
            (
                json!({"matchingPrecedence": 10001, "priorityLevelConfiguration": {"name": "p"}, "rules": [
                    {"subjects": [{"kind": "User", "group": {"name": "g"}}],
                     "resourceRules": [{"verbs": ["get", "fly"], "apiGroups": ["*", "apps"], "resources": ["pods"], "namespaces": ["Bad"]}],
                     "nonResourceRules": [{"verbs": ["*", "get"], "nonResourceURLs": ["/a/*/b"]}]}]}),
                vec![
                    "spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000",
                    "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'",
                    "spec.rules[0].subjects[0].group: Forbidden: group is forbidden when subject kind is not 'Group'",
                    "spec.rules[0].resourceRules[0].verbs: Unsupported value: []string{\"get\", \"fly\"}: supported values: \"create\", \"delete\", \"deletecollection\", \"get\", \"list\", \"patch\", \"proxy\", \"update\", \"watch\"",
                    "spec.rules[0].resourceRules[0].apiGroups: Invalid value: []string{\"*\", \"apps\"}: if '*' is present, must not specify other api groups",
                    "spec.rules[0].resourceRules[0].namespaces[0]: Invalid value: \"Bad\": each member of this list must be '*' or a DNS-1123 label; a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                    "spec.rules[0].nonResourceRules[0].verbs: Invalid value: []string{\"*\", \"get\"}: if '*' is present, must not specify other verbs",
                    "spec.rules[0].nonResourceRules[0].nonResourceURLs[0]: Invalid value: \"/a/*/b\": wildcard can only do suffix matching",
                ],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                messages(&FlowSchemaStrategy.validate(&schema("fs", spec.clone()))),
                expected,
                "{spec}"
            );
        }
    }

    fn level(name: &str, spec: serde_json::Value) -> PriorityLevelConfiguration {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    }

    #[test]
    fn priority_level_defaults() {
        let object = json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
            "metadata": {"name": "workload"}, "spec": {"type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {}}}}});
        let result = defaulted(&PriorityLevelConfigurationStrategy, object);
        assert_eq!(
            result["spec"]["limited"],
            json!({"lendablePercent": 0, "limitResponse": {"queuing": {"handSize": 8, "queueLengthLimit": 50, "queues": 64}, "type": "Queue"},
                   "nominalConcurrencyShares": 30})
        );
        let exempt = json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration",
            "metadata": {"name": "exempt"}, "spec": {"type": "Exempt", "exempt": {}}});
        assert_eq!(
            defaulted(&PriorityLevelConfigurationStrategy, exempt)["spec"]["exempt"],
            json!({"lendablePercent": 0, "nominalConcurrencyShares": 0})
        );
    }

    #[test]
    fn priority_level_validation() {
        let cases = [
            (
                "workload",
                json!({"type": "Limited", "limited": {"nominalConcurrencyShares": 0, "limitResponse": {"type": "Reject"}}}),
                vec![],
            ),
            (
                "workload",
                json!({"type": "Exempt"}),
                vec![
                    "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is 'exempt'",
                ],
            ),
            (
                "workload",
                json!({"type": "Limited", "limited": {"nominalConcurrencyShares": -1, "lendablePercent": 101,
                       "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 200, "queueLengthLimit": 0}}}}),
                vec![
                    "spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer",
                    "spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: 0: must be positive",
                    "spec.limited.limitResponse.queuing.handSize: Invalid value: 200: should not be greater than queues (128)",
                    "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
                ],
            ),
            (
                "workload",
                json!({"type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {"queues": 10000000, "handSize": 10, "queueLengthLimit": 5}}}}),
                vec![
                    "spec.limited.limitResponse.queuing.handSize: Invalid value: 10: required entropy bits of deckSize 10000000 and handSize 10 should not be greater than 60",
                ],
            ),
            (
                "workload",
                json!({"type": "Limited"}),
                vec!["spec.limited: Required value: must not be empty when type is Limited"],
            ),
        ];
        for (name, spec, expected) in cases {
            let errors = PriorityLevelConfigurationStrategy.validate(&level(name, spec.clone()));
            assert_eq!(messages(&errors), expected, "{spec}");
        }
    }

    #[test]
    fn status_conditions_unique() {
        let mut object = level(
            "workload",
            json!({"type": "Limited", "limited": {"limitResponse": {"type": "Reject"}}}),
        );
        object.status = serde_json::from_value(json!({"conditions": [{"type": "ConcurrencyShared"}, {"type": "ConcurrencyShared"}, {}]})).unwrap();
        assert_eq!(
            messages(&PriorityLevelConfigurationStrategy.validate_status_update(&object, &object)),
            [
                "status.conditions[1].type: Duplicate value: \"ConcurrencyShared\"",
                "status.conditions[2].type: Required value: must not be empty",
            ]
        );
    }
}
