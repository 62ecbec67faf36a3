//! admissionregistration.k8s.io/v1: MutatingWebhookConfigurations,
//! ValidatingWebhookConfigurations, ValidatingAdmissionPolicies and their bindings.
//!
//! Entry point: [`strategies`]. Webhook defaults: failurePolicy `Fail`, matchPolicy
//! `Equivalent`, empty namespace and object selectors, timeoutSeconds 10, rule scope
//! `*`, service port 443, and for mutating webhooks reinvocationPolicy `Never`.
//! Validation follows upstream's `pkg/apis/admissionregistration/validation`.
//!
//! NOTE: CEL expressions (match conditions, policy validations, variables, audit
//! annotations, message expressions) are only checked for presence; upstream also
//! compiles and type-checks them. Policy and binding checks cover the structure
//! (required fields, enums, rules) and are less complete than the webhook checks.

use std::collections::BTreeSet;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation::{
    is_c_identifier, is_dns1035_label, is_dns1123_subdomain, is_valid_port_num,
};
use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, MatchResources, MutatingWebhook, MutatingWebhookConfiguration,
    NamedRuleWithOperations, ParamRef, RuleWithOperations, ServiceReference,
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidatingWebhook,
    ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::validation::{go_string_slice, validate_label_selector, validate_qualified_name};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

const FAILURE_POLICIES: [&str; 2] = ["Fail", "Ignore"];
const MATCH_POLICIES: [&str; 2] = ["Equivalent", "Exact"];
const NO_SIDE_EFFECT_CLASSES: [&str; 2] = ["None", "NoneOnDryRun"];
const REINVOCATION_POLICIES: [&str; 2] = ["IfNeeded", "Never"];
const OPERATIONS: [&str; 5] = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const SCOPES: [&str; 3] = ["*", "Cluster", "Namespaced"];
const ADMISSION_REVIEW_VERSIONS: [&str; 2] = ["v1", "v1beta1"];
const VALIDATION_ACTIONS: [&str; 3] = ["Audit", "Deny", "Warn"];
const PARAMETER_NOT_FOUND_ACTIONS: [&str; 2] = ["Allow", "Deny"];
const VALIDATION_REASONS: [&str; 4] = [
    "Forbidden",
    "Invalid",
    "RequestEntityTooLarge",
    "Unauthorized",
];
const MAX_MATCH_CONDITIONS: usize = 64;

/// Returns the strategies of the admissionregistration.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(MutatingWebhookConfigurationStrategy)),
        entry(Arc::new(ValidatingWebhookConfigurationStrategy)),
        entry(Arc::new(ValidatingAdmissionPolicyStrategy)),
        entry(Arc::new(ValidatingAdmissionPolicyBindingStrategy)),
    ]
}

/// The fields both webhook kinds share, for one validation path.
struct Hook<'a> {
    name: &'a str,
    rules: &'a [RuleWithOperations],
    failure_policy: Option<&'a str>,
    match_policy: Option<&'a str>,
    side_effects: &'a str,
    timeout_seconds: Option<i32>,
    namespace_selector: Option<&'a LabelSelector>,
    object_selector: Option<&'a LabelSelector>,
    reinvocation_policy: Option<&'a str>,
    client_config: &'a WebhookClientConfig,
    match_conditions: &'a [MatchCondition],
    admission_review_versions: &'a [String],
}

impl<'a> From<&'a ValidatingWebhook> for Hook<'a> {
    fn from(hook: &'a ValidatingWebhook) -> Self {
        Hook {
            name: &hook.name,
            rules: hook.rules.as_deref().unwrap_or_default(),
            failure_policy: hook.failure_policy.as_deref(),
            match_policy: hook.match_policy.as_deref(),
            side_effects: &hook.side_effects,
            timeout_seconds: hook.timeout_seconds,
            namespace_selector: hook.namespace_selector.as_ref(),
            object_selector: hook.object_selector.as_ref(),
            reinvocation_policy: None,
            client_config: &hook.client_config,
            match_conditions: hook.match_conditions.as_deref().unwrap_or_default(),
            admission_review_versions: &hook.admission_review_versions,
        }
    }
}

impl<'a> From<&'a MutatingWebhook> for Hook<'a> {
    fn from(hook: &'a MutatingWebhook) -> Self {
        Hook {
            name: &hook.name,
            rules: hook.rules.as_deref().unwrap_or_default(),
            failure_policy: hook.failure_policy.as_deref(),
            match_policy: hook.match_policy.as_deref(),
            side_effects: &hook.side_effects,
            timeout_seconds: hook.timeout_seconds,
            namespace_selector: hook.namespace_selector.as_ref(),
            object_selector: hook.object_selector.as_ref(),
            reinvocation_policy: hook.reinvocation_policy.as_deref(),
            client_config: &hook.client_config,
            match_conditions: hook.match_conditions.as_deref().unwrap_or_default(),
            admission_review_versions: &hook.admission_review_versions,
        }
    }
}

/// Relaxations upstream grants on update when the stored object already breaks a rule.
#[derive(Clone, Copy)]
struct HookOptions {
    require_unique_names: bool,
    require_recognized_review_version: bool,
    allow_invalid_label_values: bool,
}

impl HookOptions {
    const STRICT: HookOptions = HookOptions {
        require_unique_names: true,
        require_recognized_review_version: true,
        allow_invalid_label_values: false,
    };

    fn for_old(old: &[Hook<'_>]) -> HookOptions {
        let names: Vec<&str> = old.iter().map(|hook| hook.name).collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        let has_invalid_selector = old.iter().any(|hook| {
            [hook.namespace_selector, hook.object_selector]
                .into_iter()
                .any(|selector| {
                    !validate_label_selector(selector, false, &FieldPath::default()).is_empty()
                })
        });
        HookOptions {
            require_unique_names: unique.len() == names.len(),
            require_recognized_review_version: old.iter().all(|hook| {
                hook.admission_review_versions
                    .iter()
                    .any(|version| ADMISSION_REVIEW_VERSIONS.contains(&version.as_str()))
            }),
            allow_invalid_label_values: has_invalid_selector,
        }
    }
}

fn default_rule_scope(scope: &mut Option<String>) {
    scope.get_or_insert_with(|| "*".to_string());
}

fn default_client_config(config: &mut WebhookClientConfig) {
    if let Some(service) = &mut config.service {
        service.port.get_or_insert(443);
    }
}

/// Strategy of `mutatingwebhookconfigurations`.
pub struct MutatingWebhookConfigurationStrategy;

impl Strategy for MutatingWebhookConfigurationStrategy {
    type Object = MutatingWebhookConfiguration;

    fn default(&self, configuration: &mut MutatingWebhookConfiguration) {
        for hook in configuration.webhooks.iter_mut().flatten() {
            hook.failure_policy
                .get_or_insert_with(|| "Fail".to_string());
            hook.match_policy
                .get_or_insert_with(|| "Equivalent".to_string());
            hook.namespace_selector.get_or_insert_with(Default::default);
            hook.object_selector.get_or_insert_with(Default::default);
            hook.timeout_seconds.get_or_insert(10);
            hook.reinvocation_policy
                .get_or_insert_with(|| "Never".to_string());
            for rule in hook.rules.iter_mut().flatten() {
                default_rule_scope(&mut rule.scope);
            }
            default_client_config(&mut hook.client_config);
        }
    }

    fn validate(&self, configuration: &MutatingWebhookConfiguration) -> Vec<FieldError> {
        let hooks: Vec<Hook<'_>> = configuration
            .webhooks
            .iter()
            .flatten()
            .map(Hook::from)
            .collect();
        validate_hooks(&hooks, HookOptions::STRICT)
    }

    fn validate_update(
        &self,
        configuration: &MutatingWebhookConfiguration,
        old: &MutatingWebhookConfiguration,
    ) -> Vec<FieldError> {
        let hooks: Vec<Hook<'_>> = configuration
            .webhooks
            .iter()
            .flatten()
            .map(Hook::from)
            .collect();
        let old_hooks: Vec<Hook<'_>> = old.webhooks.iter().flatten().map(Hook::from).collect();
        validate_hooks(&hooks, HookOptions::for_old(&old_hooks))
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Strategy of `validatingwebhookconfigurations`.
pub struct ValidatingWebhookConfigurationStrategy;

impl Strategy for ValidatingWebhookConfigurationStrategy {
    type Object = ValidatingWebhookConfiguration;

    fn default(&self, configuration: &mut ValidatingWebhookConfiguration) {
        for hook in configuration.webhooks.iter_mut().flatten() {
            hook.failure_policy
                .get_or_insert_with(|| "Fail".to_string());
            hook.match_policy
                .get_or_insert_with(|| "Equivalent".to_string());
            hook.namespace_selector.get_or_insert_with(Default::default);
            hook.object_selector.get_or_insert_with(Default::default);
            hook.timeout_seconds.get_or_insert(10);
            for rule in hook.rules.iter_mut().flatten() {
                default_rule_scope(&mut rule.scope);
            }
            default_client_config(&mut hook.client_config);
        }
    }

    fn validate(&self, configuration: &ValidatingWebhookConfiguration) -> Vec<FieldError> {
        let hooks: Vec<Hook<'_>> = configuration
            .webhooks
            .iter()
            .flatten()
            .map(Hook::from)
            .collect();
        validate_hooks(&hooks, HookOptions::STRICT)
    }

    fn validate_update(
        &self,
        configuration: &ValidatingWebhookConfiguration,
        old: &ValidatingWebhookConfiguration,
    ) -> Vec<FieldError> {
        let hooks: Vec<Hook<'_>> = configuration
            .webhooks
            .iter()
            .flatten()
            .map(Hook::from)
            .collect();
        let old_hooks: Vec<Hook<'_>> = old.webhooks.iter().flatten().map(Hook::from).collect();
        validate_hooks(&hooks, HookOptions::for_old(&old_hooks))
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

fn validate_hooks(hooks: &[Hook<'_>], options: HookOptions) -> Vec<FieldError> {
    let hooks_path = FieldPath::new("webhooks");
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, hook) in hooks.iter().enumerate() {
        let path = hooks_path.index(index);
        errors.extend(validate_hook(hook, options, &path));
        errors.extend(validate_admission_review_versions(
            hook.admission_review_versions,
            options.require_recognized_review_version,
            &path.child("admissionReviewVersions"),
        ));
        if options.require_unique_names && !hook.name.is_empty() && !names.insert(hook.name) {
            errors.push(FieldError::duplicate(&path.child("name"), hook.name));
        }
    }
    errors
}

/// Upstream's `validateValidatingWebhook` and `validateMutatingWebhook`.
fn validate_hook(hook: &Hook<'_>, options: HookOptions, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_fully_qualified_name(&path.child("name"), hook.name);
    for (index, rule) in hook.rules.iter().enumerate() {
        let rule_path = path.child("rules").index(index);
        errors.extend(validate_operations(
            rule.operations.as_deref().unwrap_or_default(),
            &rule_path,
        ));
        errors.extend(validate_rule(
            rule.api_groups.as_deref().unwrap_or_default(),
            rule.api_versions.as_deref().unwrap_or_default(),
            rule.resources.as_deref().unwrap_or_default(),
            rule.scope.as_deref(),
            &rule_path,
        ));
    }
    if let Some(policy) = hook
        .failure_policy
        .filter(|policy| !FAILURE_POLICIES.contains(policy))
    {
        errors.push(FieldError::not_supported(
            &path.child("failurePolicy"),
            policy,
            &FAILURE_POLICIES,
        ));
    }
    if let Some(policy) = hook
        .match_policy
        .filter(|policy| !MATCH_POLICIES.contains(policy))
    {
        errors.push(FieldError::not_supported(
            &path.child("matchPolicy"),
            policy,
            &MATCH_POLICIES,
        ));
    }
    // v1 only allows side effect classes that are safe for dry runs.
    if hook.side_effects.is_empty() {
        errors.push(FieldError::required(
            &path.child("sideEffects"),
            format!("must specify one of {}", NO_SIDE_EFFECT_CLASSES.join(", ")),
        ));
    } else if !NO_SIDE_EFFECT_CLASSES.contains(&hook.side_effects) {
        errors.push(FieldError::not_supported(
            &path.child("sideEffects"),
            hook.side_effects,
            &NO_SIDE_EFFECT_CLASSES,
        ));
    }
    if let Some(timeout) = hook
        .timeout_seconds
        .filter(|timeout| !(1..=30).contains(timeout))
    {
        errors.push(FieldError::invalid(
            &path.child("timeoutSeconds"),
            timeout,
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    errors.extend(validate_label_selector(
        hook.namespace_selector,
        options.allow_invalid_label_values,
        &path.child("namespaceSelector"),
    ));
    errors.extend(validate_label_selector(
        hook.object_selector,
        options.allow_invalid_label_values,
        &path.child("objectSelector"),
    ));
    if let Some(policy) = hook
        .reinvocation_policy
        .filter(|policy| !REINVOCATION_POLICIES.contains(policy))
    {
        errors.push(FieldError::not_supported(
            &path.child("reinvocationPolicy"),
            policy,
            &REINVOCATION_POLICIES,
        ));
    }

    let config_path = path.child("clientConfig");
    match (&hook.client_config.url, &hook.client_config.service) {
        (Some(url), None) => errors.extend(validate_webhook_url(&config_path.child("url"), url)),
        (None, Some(service)) => errors.extend(validate_webhook_service(
            &config_path.child("service"),
            service,
        )),
        _ => errors.push(FieldError::required(
            &config_path,
            "exactly one of url or service is required",
        )),
    }
    errors.extend(validate_match_conditions(
        hook.match_conditions,
        &path.child("matchConditions"),
    ));
    errors
}

/// Upstream's `IsFullyQualifiedName`: a DNS subdomain of at least three labels.
fn validate_fully_qualified_name(path: &FieldPath, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let messages = is_dns1123_subdomain(name);
    if !messages.is_empty() {
        return vec![FieldError::invalid(path, name, messages.join(","))];
    }
    if name.split('.').count() < 3 {
        return vec![FieldError::invalid(
            path,
            name,
            "should be a domain with at least three segments separated by dots",
        )];
    }
    Vec::new()
}

fn validate_admission_review_versions(
    versions: &[String],
    require_recognized: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    if versions.is_empty() {
        return vec![FieldError::required(
            path,
            format!(
                "must specify one of {}",
                ADMISSION_REVIEW_VERSIONS.join(", ")
            ),
        )];
    }
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, version) in versions.iter().enumerate() {
        if !seen.insert(version.as_str()) {
            errors.push(FieldError::invalid(
                &path.index(index),
                version,
                "duplicate version",
            ));
            continue;
        }
        for message in is_dns1035_label(version) {
            errors.push(FieldError::invalid(&path.index(index), version, message));
        }
    }
    let recognized = versions
        .iter()
        .any(|version| ADMISSION_REVIEW_VERSIONS.contains(&version.as_str()));
    if require_recognized && !recognized {
        errors.push(FieldError::invalid(
            path,
            go_string_slice(versions),
            format!(
                "must include at least one of {}",
                ADMISSION_REVIEW_VERSIONS.join(", ")
            ),
        ));
    }
    errors
}

fn has_wildcard(values: &[String]) -> bool {
    values.iter().any(|value| value == "*")
}

fn validate_operations(operations: &[String], rule_path: &FieldPath) -> Vec<FieldError> {
    let path = rule_path.child("operations");
    let mut errors = Vec::new();
    if operations.is_empty() {
        errors.push(FieldError::required(&path, ""));
    }
    if operations.len() > 1 && has_wildcard(operations) {
        errors.push(FieldError::invalid(
            &path,
            go_string_slice(operations),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (index, operation) in operations.iter().enumerate() {
        if !OPERATIONS.contains(&operation.as_str()) {
            errors.push(FieldError::not_supported(
                &path.index(index),
                operation,
                &OPERATIONS,
            ));
        }
    }
    errors
}

/// Upstream's `validateRule` with subresources allowed.
fn validate_rule(
    groups: &[String],
    versions: &[String],
    resources: &[String],
    scope: Option<&str>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let groups_path = path.child("apiGroups");
    if groups.is_empty() {
        errors.push(FieldError::required(&groups_path, ""));
    }
    if groups.len() > 1 && has_wildcard(groups) {
        errors.push(FieldError::invalid(
            &groups_path,
            go_string_slice(groups),
            "if '*' is present, must not specify other API groups",
        ));
    }
    let versions_path = path.child("apiVersions");
    if versions.is_empty() {
        errors.push(FieldError::required(&versions_path, ""));
    }
    if versions.len() > 1 && has_wildcard(versions) {
        errors.push(FieldError::invalid(
            &versions_path,
            go_string_slice(versions),
            "if '*' is present, must not specify other API versions",
        ));
    }
    for (index, version) in versions.iter().enumerate() {
        if version.is_empty() {
            errors.push(FieldError::required(&versions_path.index(index), ""));
        }
    }
    errors.extend(validate_resources(resources, &path.child("resources")));
    if let Some(scope) = scope.filter(|scope| !SCOPES.contains(scope)) {
        errors.push(FieldError::not_supported(
            &path.child("scope"),
            scope,
            &SCOPES,
        ));
    }
    errors
}

/// Upstream's `validateResources`: wildcard resources and subresources may not overlap.
fn validate_resources(resources: &[String], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if resources.is_empty() {
        errors.push(FieldError::required(path, ""));
    }
    let mut wildcard_subresources = BTreeSet::new();
    let mut wildcard_resources = BTreeSet::new();
    let mut has_double_wildcard = false;
    let mut has_single_wildcard = false;
    let mut has_plain_resource = false;
    for (index, entry) in resources.iter().enumerate() {
        if entry.is_empty() {
            errors.push(FieldError::required(&path.index(index), ""));
            continue;
        }
        has_double_wildcard |= entry == "*/*";
        has_single_wildcard |= entry == "*";
        let Some((resource, subresource)) = entry.split_once('/') else {
            // Upstream keeps the value of the last resource without a subresource.
            has_plain_resource = entry != "*";
            continue;
        };
        if wildcard_subresources.contains(resource) {
            errors.push(FieldError::invalid(
                &path.index(index),
                entry,
                format!("if '{resource}/*' is present, must not specify {entry}"),
            ));
        }
        if wildcard_resources.contains(subresource) {
            errors.push(FieldError::invalid(
                &path.index(index),
                entry,
                format!("if '*/{subresource}' is present, must not specify {entry}"),
            ));
        }
        if subresource == "*" {
            wildcard_subresources.insert(resource);
        }
        if resource == "*" {
            wildcard_resources.insert(subresource);
        }
    }
    if resources.len() > 1 && has_double_wildcard {
        errors.push(FieldError::invalid(
            path,
            go_string_slice(resources),
            "if '*/*' is present, must not specify other resources",
        ));
    }
    if has_single_wildcard && has_plain_resource {
        errors.push(FieldError::invalid(
            path,
            go_string_slice(resources),
            "if '*' is present, must not specify other resources without subresources",
        ));
    }
    errors
}

/// Upstream's `ValidateWebhookURL` with https required. The URL is split by hand into
/// scheme, user information, host, query and fragment.
fn validate_webhook_url(path: &FieldPath, url: &str) -> Vec<FieldError> {
    const FORM: &str = "; desired format: https://host[/path]";
    let mut errors = Vec::new();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => (String::new(), ""),
    };
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = rest.split('/').next().unwrap_or_default();
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };

    if scheme != "https" {
        errors.push(FieldError::invalid(
            path,
            scheme.as_str(),
            format!("'https' is the only allowed URL scheme{FORM}"),
        ));
    }
    if host.is_empty() {
        errors.push(FieldError::invalid(
            path,
            host,
            format!("host must be specified{FORM}"),
        ));
    }
    if let Some(user) = user {
        errors.push(FieldError::invalid(
            path,
            user,
            "user information is not permitted in the URL",
        ));
    }
    if !fragment.is_empty() {
        errors.push(FieldError::invalid(
            path,
            fragment,
            "fragments are not permitted in the URL",
        ));
    }
    if !query.is_empty() {
        errors.push(FieldError::invalid(
            path,
            query,
            "query parameters are not permitted in the URL",
        ));
    }
    errors
}

/// Upstream's `ValidateWebhookService`.
fn validate_webhook_service(path: &FieldPath, service: &ServiceReference) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if service.name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "service name is required",
        ));
    }
    if service.namespace.is_empty() {
        errors.push(FieldError::required(
            &path.child("namespace"),
            "service namespace is required",
        ));
    }
    let port = service.port.unwrap_or(443);
    let port_messages = is_valid_port_num(port);
    if !port_messages.is_empty() {
        errors.push(FieldError::invalid(
            &path.child("port"),
            port,
            format!("port is not valid: {}", port_messages.join(", ")),
        ));
    }

    let Some(url_path) = service.path.as_deref() else {
        return errors;
    };
    let path_field = path.child("path");
    if url_path.is_empty() || url_path == "/" {
        return errors;
    }
    if url_path == "//" {
        errors.push(FieldError::invalid(
            &path_field,
            url_path,
            "segment[0] may not be empty",
        ));
        return errors;
    }
    if !url_path.starts_with('/') {
        errors.push(FieldError::invalid(
            &path_field,
            url_path,
            "must start with a '/'",
        ));
    }
    let trimmed = url_path.get(1..).unwrap_or_default();
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    for (index, step) in trimmed.split('/').enumerate() {
        if step.is_empty() {
            errors.push(FieldError::invalid(
                &path_field,
                url_path,
                format!("segment[{index}] may not be empty"),
            ));
            continue;
        }
        for message in is_dns1123_subdomain(step) {
            errors.push(FieldError::invalid(
                &path_field,
                url_path,
                format!("segment[{index}]: {message}"),
            ));
        }
    }
    errors
}

/// Upstream's `validateMatchConditions` without the CEL compilation.
fn validate_match_conditions(conditions: &[MatchCondition], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if conditions.len() > MAX_MATCH_CONDITIONS {
        errors.push(FieldError::too_many(
            path,
            Some(conditions.len()),
            Some(MAX_MATCH_CONDITIONS),
        ));
    }
    let mut names = BTreeSet::new();
    for (index, condition) in conditions.iter().enumerate() {
        let item = path.index(index);
        if condition.expression.trim().is_empty() {
            errors.push(FieldError::required(&item.child("expression"), ""));
        }
        if condition.name.is_empty() {
            errors.push(FieldError::required(&item.child("name"), ""));
        } else {
            errors.extend(validate_qualified_name(
                &condition.name,
                &item.child("name"),
            ));
            if !names.insert(condition.name.as_str()) {
                errors.push(FieldError::duplicate(&item.child("name"), &condition.name));
            }
        }
    }
    errors
}

fn default_match_resources(resources: &mut MatchResources) {
    resources
        .match_policy
        .get_or_insert_with(|| "Equivalent".to_string());
    resources
        .namespace_selector
        .get_or_insert_with(Default::default);
    resources
        .object_selector
        .get_or_insert_with(Default::default);
    for rule in resources
        .resource_rules
        .iter_mut()
        .flatten()
        .chain(resources.exclude_resource_rules.iter_mut().flatten())
    {
        default_rule_scope(&mut rule.scope);
    }
}

/// Strategy of `validatingadmissionpolicies`. Status (type checking results) is
/// written through the status subresource.
pub struct ValidatingAdmissionPolicyStrategy;

impl Strategy for ValidatingAdmissionPolicyStrategy {
    type Object = ValidatingAdmissionPolicy;

    fn default(&self, policy: &mut ValidatingAdmissionPolicy) {
        let spec = policy.spec.get_or_insert_with(Default::default);
        spec.failure_policy
            .get_or_insert_with(|| "Fail".to_string());
        if let Some(resources) = &mut spec.match_constraints {
            default_match_resources(resources);
        }
    }

    fn prepare_for_create(&self, policy: &mut ValidatingAdmissionPolicy) {
        policy.status = None;
    }

    fn prepare_for_update(
        &self,
        policy: &mut ValidatingAdmissionPolicy,
        old: &ValidatingAdmissionPolicy,
    ) {
        policy.status = old.status.clone();
    }

    fn validate(&self, policy: &ValidatingAdmissionPolicy) -> Vec<FieldError> {
        let path = FieldPath::new("spec");
        let spec = policy.spec.clone().unwrap_or_default();
        let mut errors = Vec::new();

        if let Some(policy) = spec
            .failure_policy
            .as_deref()
            .filter(|policy| !FAILURE_POLICIES.contains(policy))
        {
            errors.push(FieldError::not_supported(
                &path.child("failurePolicy"),
                policy,
                &FAILURE_POLICIES,
            ));
        }
        if let Some(kind) = &spec.param_kind {
            let kind_path = path.child("paramKind");
            if kind.kind.as_deref().unwrap_or_default().is_empty() {
                errors.push(FieldError::required(&kind_path.child("kind"), ""));
            }
            if kind.api_version.as_deref().unwrap_or_default().is_empty() {
                errors.push(FieldError::required(&kind_path.child("apiVersion"), ""));
            }
        }
        match &spec.match_constraints {
            None => errors.push(FieldError::required(&path.child("matchConstraints"), "")),
            Some(resources) => {
                errors.extend(validate_match_resources(
                    resources,
                    &path.child("matchConstraints"),
                    true,
                ));
            }
        }

        let validations = spec.validations.as_deref().unwrap_or_default();
        let audit_annotations = spec.audit_annotations.as_deref().unwrap_or_default();
        if validations.is_empty() && audit_annotations.is_empty() {
            errors.push(FieldError::required(
                &path.child("validations"),
                "validations or auditAnnotations must contain at least one item",
            ));
        }
        for (index, validation) in validations.iter().enumerate() {
            let item = path.child("validations").index(index);
            if validation.expression.trim().is_empty() {
                errors.push(FieldError::required(
                    &item.child("expression"),
                    "expression is not specified",
                ));
            }
            if let Some(reason) = validation
                .reason
                .as_deref()
                .filter(|reason| !VALIDATION_REASONS.contains(reason))
            {
                errors.push(FieldError::not_supported(
                    &item.child("reason"),
                    reason,
                    &VALIDATION_REASONS,
                ));
            }
        }
        let mut keys = BTreeSet::new();
        for (index, annotation) in audit_annotations.iter().enumerate() {
            let item = path.child("auditAnnotations").index(index);
            if annotation.key.is_empty() {
                errors.push(FieldError::required(&item.child("key"), ""));
            } else if !keys.insert(annotation.key.as_str()) {
                errors.push(FieldError::duplicate(&item.child("key"), &annotation.key));
            }
            if annotation.value_expression.trim().is_empty() {
                errors.push(FieldError::required(
                    &item.child("valueExpression"),
                    "valueExpression is not specified",
                ));
            }
        }
        for (index, variable) in spec.variables.iter().flatten().enumerate() {
            let item = path.child("variables").index(index);
            if variable.name.is_empty() {
                errors.push(FieldError::required(
                    &item.child("name"),
                    "name is not specified",
                ));
            } else {
                for message in is_c_identifier(&variable.name) {
                    errors.push(FieldError::invalid(
                        &item.child("name"),
                        &variable.name,
                        message,
                    ));
                }
            }
            if variable.expression.trim().is_empty() {
                errors.push(FieldError::required(
                    &item.child("expression"),
                    "expression is not specified",
                ));
            }
        }
        errors.extend(validate_match_conditions(
            spec.match_conditions.as_deref().unwrap_or_default(),
            &path.child("matchConditions"),
        ));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Validates `matchConstraints` of a policy (`require_rules`) or `matchResources` of a
/// binding.
fn validate_match_resources(
    resources: &MatchResources,
    path: &FieldPath,
    require_rules: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(policy) = resources
        .match_policy
        .as_deref()
        .filter(|policy| !MATCH_POLICIES.contains(policy))
    {
        errors.push(FieldError::not_supported(
            &path.child("matchPolicy"),
            policy,
            &MATCH_POLICIES,
        ));
    }
    errors.extend(validate_label_selector(
        resources.namespace_selector.as_ref(),
        false,
        &path.child("namespaceSelector"),
    ));
    errors.extend(validate_label_selector(
        resources.object_selector.as_ref(),
        false,
        &path.child("objectSelector"),
    ));
    let rules = resources.resource_rules.as_deref().unwrap_or_default();
    if require_rules && rules.is_empty() {
        errors.push(FieldError::required(&path.child("resourceRules"), ""));
    }
    for (field, list) in [
        ("resourceRules", rules),
        (
            "excludeResourceRules",
            resources
                .exclude_resource_rules
                .as_deref()
                .unwrap_or_default(),
        ),
    ] {
        for (index, rule) in list.iter().enumerate() {
            errors.extend(validate_named_rule(rule, &path.child(field).index(index)));
        }
    }
    errors
}

fn validate_named_rule(rule: &NamedRuleWithOperations, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_operations(rule.operations.as_deref().unwrap_or_default(), path);
    errors.extend(validate_rule(
        rule.api_groups.as_deref().unwrap_or_default(),
        rule.api_versions.as_deref().unwrap_or_default(),
        rule.resources.as_deref().unwrap_or_default(),
        rule.scope.as_deref(),
        path,
    ));
    for (index, name) in rule.resource_names.iter().flatten().enumerate() {
        for message in apimachinery::validation::is_valid_path_segment_name(name) {
            errors.push(FieldError::invalid(
                &path.child("resourceNames").index(index),
                name,
                message,
            ));
        }
    }
    errors
}

/// Strategy of `validatingadmissionpolicybindings`.
pub struct ValidatingAdmissionPolicyBindingStrategy;

impl Strategy for ValidatingAdmissionPolicyBindingStrategy {
    type Object = ValidatingAdmissionPolicyBinding;

    fn default(&self, binding: &mut ValidatingAdmissionPolicyBinding) {
        let resources = binding
            .spec
            .as_mut()
            .and_then(|spec| spec.match_resources.as_mut());
        if let Some(resources) = resources {
            default_match_resources(resources);
        }
    }

    fn validate(&self, binding: &ValidatingAdmissionPolicyBinding) -> Vec<FieldError> {
        let path = FieldPath::new("spec");
        let spec = binding.spec.clone().unwrap_or_default();
        let mut errors = Vec::new();
        if spec.policy_name.as_deref().unwrap_or_default().is_empty() {
            errors.push(FieldError::required(&path.child("policyName"), ""));
        }
        if let Some(param_ref) = &spec.param_ref {
            errors.extend(validate_param_ref(param_ref, &path.child("paramRef")));
        }
        if let Some(resources) = &spec.match_resources {
            errors.extend(validate_match_resources(
                resources,
                &path.child("matchResources"),
                false,
            ));
        }

        let actions_path = path.child("validationActions");
        let actions = spec.validation_actions.as_deref().unwrap_or_default();
        if actions.is_empty() {
            errors.push(FieldError::required(
                &actions_path,
                "at least one validation action is required",
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, action) in actions.iter().enumerate() {
            if !seen.insert(action.as_str()) {
                errors.push(FieldError::duplicate(&actions_path.index(index), action));
            }
            if !VALIDATION_ACTIONS.contains(&action.as_str()) {
                errors.push(FieldError::not_supported(
                    &actions_path.index(index),
                    action,
                    &VALIDATION_ACTIONS,
                ));
            }
        }
        if seen.contains("Deny") && seen.contains("Warn") {
            errors.push(FieldError::invalid(
                &actions_path,
                go_string_slice(actions),
                "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
            ));
        }
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

fn validate_param_ref(param_ref: &ParamRef, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = param_ref.name.as_deref().unwrap_or_default();
    if !name.is_empty() && param_ref.selector.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("name"),
            "name and selector are mutually exclusive",
        ));
    }
    if name.is_empty() && param_ref.selector.is_none() {
        errors.push(FieldError::required(
            path,
            "one of name or selector must be set",
        ));
    }
    errors.extend(validate_label_selector(
        param_ref.selector.as_ref(),
        false,
        &path.child("selector"),
    ));
    match param_ref.parameter_not_found_action.as_deref() {
        None => errors.push(FieldError::required(
            &path.child("parameterNotFoundAction"),
            "",
        )),
        Some(action) if !PARAMETER_NOT_FOUND_ACTIONS.contains(&action) => {
            errors.push(FieldError::not_supported(
                &path.child("parameterNotFoundAction"),
                action,
                &PARAMETER_NOT_FOUND_ACTIONS,
            ));
        }
        Some(_) => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn hook(fields: serde_json::Value) -> serde_json::Value {
        let mut hook = json!({
            "name": "check.example.com",
            "clientConfig": {"service": {"name": "hook", "namespace": "system", "path": "/validate"}},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"]
        });
        if let (Some(target), Some(source)) = (hook.as_object_mut(), fields.as_object()) {
            for (key, value) in source {
                if value.is_null() {
                    target.remove(key);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        hook
    }

    fn validating(hooks: Vec<serde_json::Value>) -> ValidatingWebhookConfiguration {
        serde_json::from_value(json!({"metadata": {"name": "c"}, "webhooks": hooks})).unwrap()
    }

    #[test]
    fn webhook_defaults() {
        let object = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                            "metadata": {"name": "c"}, "webhooks": [hook(json!({}))]});
        let result = defaulted(&MutatingWebhookConfigurationStrategy, object);
        let mutating = &result["webhooks"][0];
        assert_eq!(mutating["failurePolicy"], "Fail");
        assert_eq!(mutating["matchPolicy"], "Equivalent");
        assert_eq!(mutating["namespaceSelector"], json!({}));
        assert_eq!(mutating["objectSelector"], json!({}));
        assert_eq!(mutating["timeoutSeconds"], 10);
        assert_eq!(mutating["reinvocationPolicy"], "Never");
        assert_eq!(mutating["rules"][0]["scope"], "*");
        assert_eq!(mutating["clientConfig"]["service"]["port"], 443);

        let object = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                            "metadata": {"name": "c"}, "webhooks": [hook(json!({}))]});
        let result = defaulted(&ValidatingWebhookConfigurationStrategy, object);
        assert!(result["webhooks"][0].get("reinvocationPolicy").is_none());
        assert_eq!(result["webhooks"][0]["failurePolicy"], "Fail");
    }

    #[test]
    fn webhook_validation() {
        let cases = [
            (hook(json!({})), vec![]),
            (
                hook(
                    json!({"name": "check", "sideEffects": null, "admissionReviewVersions": [], "timeoutSeconds": 31}),
                ),
                vec![
                    "webhooks[0].name: Invalid value: \"check\": should be a domain with at least three segments separated by dots",
                    "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                    "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
                    "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
                ],
            ),
            (
                hook(
                    json!({"sideEffects": "Some", "failurePolicy": "Maybe", "admissionReviewVersions": ["v2"]}),
                ),
                vec![
                    "webhooks[0].failurePolicy: Unsupported value: \"Maybe\": supported values: \"Fail\", \"Ignore\"",
                    "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
                    "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1",
                ],
            ),
            (
                hook(json!({"clientConfig": {"url": "http://user@example.com/hook?x=1"}})),
                vec![
                    "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                    "webhooks[0].clientConfig.url: Invalid value: \"user\": user information is not permitted in the URL",
                    "webhooks[0].clientConfig.url: Invalid value: \"x=1\": query parameters are not permitted in the URL",
                ],
            ),
            (
                hook(json!({"clientConfig": {}})),
                vec![
                    "webhooks[0].clientConfig: Required value: exactly one of url or service is required",
                ],
            ),
            (
                hook(
                    json!({"rules": [{"operations": ["*", "CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["*", "pods"]}]}),
                ),
                vec![
                    "webhooks[0].rules[0].operations: Invalid value: []string{\"*\", \"CREATE\"}: if '*' is present, must not specify other operations",
                    "webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' is present, must not specify other resources without subresources",
                ],
            ),
            (
                hook(
                    json!({"matchConditions": [{"name": "a", "expression": "true"}, {"name": "a", "expression": " "}]}),
                ),
                vec![
                    "webhooks[0].matchConditions[1].expression: Required value",
                    "webhooks[0].matchConditions[1].name: Duplicate value: \"a\"",
                ],
            ),
        ];
        for (webhook, expected) in cases {
            let errors =
                ValidatingWebhookConfigurationStrategy.validate(&validating(vec![webhook.clone()]));
            assert_eq!(messages(&errors), expected, "{webhook}");
        }
    }

    #[test]
    fn webhook_names_unique_unless_stored_duplicates() {
        let duplicated = validating(vec![hook(json!({})), hook(json!({}))]);
        assert_eq!(
            messages(&ValidatingWebhookConfigurationStrategy.validate(&duplicated)),
            ["webhooks[1].name: Duplicate value: \"check.example.com\""]
        );
        assert!(
            ValidatingWebhookConfigurationStrategy
                .validate_update(&duplicated, &duplicated)
                .is_empty()
        );
    }

    #[test]
    fn policy_and_binding_basics() {
        let object = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "p"}, "spec": {"matchConstraints": {"resourceRules": [
                {"operations": ["CREATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}]},
                "validations": [{"expression": "object.spec.replicas <= 5"}]}});
        let result = defaulted(&ValidatingAdmissionPolicyStrategy, object);
        assert_eq!(result["spec"]["failurePolicy"], "Fail");
        assert_eq!(
            result["spec"]["matchConstraints"]["matchPolicy"],
            "Equivalent"
        );
        let policy: ValidatingAdmissionPolicy = serde_json::from_value(result).unwrap();
        assert!(
            ValidatingAdmissionPolicyStrategy
                .validate(&policy)
                .is_empty()
        );

        let empty: ValidatingAdmissionPolicy =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {}})).unwrap();
        assert_eq!(
            messages(&ValidatingAdmissionPolicyStrategy.validate(&empty)),
            [
                "spec.matchConstraints: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
            ]
        );

        let binding: ValidatingAdmissionPolicyBinding =
            serde_json::from_value(json!({"metadata": {"name": "b"},
            "spec": {"paramRef": {"name": "x"}, "validationActions": ["Deny", "Warn", "Deny"]}}))
            .unwrap();
        assert_eq!(
            messages(&ValidatingAdmissionPolicyBindingStrategy.validate(&binding)),
            [
                "spec.policyName: Required value",
                "spec.paramRef.parameterNotFoundAction: Required value",
                "spec.validationActions[2]: Duplicate value: \"Deny\"",
                "spec.validationActions: Invalid value: []string{\"Deny\", \"Warn\", \"Deny\"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
            ]
        );
    }
}
