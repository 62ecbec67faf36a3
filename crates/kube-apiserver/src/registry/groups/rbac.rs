//! rbac.authorization.k8s.io/v1: Roles, ClusterRoles, RoleBindings and
//! ClusterRoleBindings.
//!
//! Entry point: [`strategies`]. Defaults fill `roleRef.apiGroup` and the `apiGroup` of
//! User and Group subjects; validation follows upstream's `pkg/apis/rbac/validation`.
//! Names of all four kinds only need to be valid path segments (see
//! [`super::NameValidation::PathSegment`]), so `system:node` is a valid name.
//!
//! NOTE: upstream also rejects a Role or binding that grants more than its author
//! has (privilege escalation). That check needs the authorizer and is not part of
//! these strategies.

use std::sync::Arc;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation::is_valid_path_segment_name;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::validation::{go_string_slice, invalid_each, validate_label_selector};
use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// The API group name, also the only `roleRef.apiGroup` upstream accepts.
pub const GROUP_NAME: &str = "rbac.authorization.k8s.io";

/// Returns the strategies of the rbac.authorization.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![
        entry(Arc::new(RoleStrategy)),
        entry(Arc::new(ClusterRoleStrategy)),
        entry(Arc::new(RoleBindingStrategy)),
        entry(Arc::new(ClusterRoleBindingStrategy)),
    ]
}

/// Strategy of `roles`.
pub struct RoleStrategy;

impl Strategy for RoleStrategy {
    type Object = Role;

    fn validate(&self, role: &Role) -> Vec<FieldError> {
        validate_rules(role.rules.as_deref().unwrap_or_default(), true)
    }
}

/// Strategy of `clusterroles`.
pub struct ClusterRoleStrategy;

impl Strategy for ClusterRoleStrategy {
    type Object = ClusterRole;

    fn validate(&self, role: &ClusterRole) -> Vec<FieldError> {
        validate_cluster_role(role, false)
    }

    fn validate_update(&self, role: &ClusterRole, old: &ClusterRole) -> Vec<FieldError> {
        // A stored selector with invalid label values stays updatable, as upstream's
        // validation options allow.
        let allow_invalid = old
            .aggregation_rule
            .as_ref()
            .and_then(|rule| rule.cluster_role_selectors.as_ref())
            .is_some_and(|selectors| {
                selectors.iter().any(|selector| {
                    !validate_label_selector(Some(selector), false, &FieldPath::default())
                        .is_empty()
                })
            });
        validate_cluster_role(role, allow_invalid)
    }
}

fn validate_cluster_role(role: &ClusterRole, allow_invalid_label_values: bool) -> Vec<FieldError> {
    let mut errors = validate_rules(role.rules.as_deref().unwrap_or_default(), false);
    let Some(aggregation) = &role.aggregation_rule else {
        return errors;
    };

    let selectors_path = FieldPath::from_names(["aggregationRule", "clusterRoleSelectors"]);
    let selectors = aggregation
        .cluster_role_selectors
        .as_deref()
        .unwrap_or_default();
    if selectors.is_empty() {
        errors.push(FieldError::required(
            &selectors_path,
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ));
    }
    for (index, selector) in selectors.iter().enumerate() {
        let path = selectors_path.index(index);
        let selector_errors =
            validate_label_selector(Some(selector), allow_invalid_label_values, &path);
        errors.extend(selector_errors);
        if let Err(error) = apimachinery::labels::label_selector_as_selector(Some(selector)) {
            errors.push(FieldError::invalid(
                &path,
                BadValue::Raw(error.to_string()),
                "invalid label selector.",
            ));
        }
    }
    errors
}

fn validate_rules(rules: &[PolicyRule], namespaced: bool) -> Vec<FieldError> {
    let rules_path = FieldPath::new("rules");
    rules
        .iter()
        .enumerate()
        .flat_map(|(index, rule)| validate_policy_rule(rule, namespaced, &rules_path.index(index)))
        .collect()
}

/// Upstream's `ValidatePolicyRule`.
fn validate_policy_rule(rule: &PolicyRule, namespaced: bool, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if rule.verbs.is_empty() {
        errors.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }

    let api_groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    let resource_names = rule.resource_names.as_deref().unwrap_or_default();
    let non_resource_urls = rule.non_resource_urls.as_deref().unwrap_or_default();

    if !non_resource_urls.is_empty() {
        let urls_path = path.child("nonResourceURLs");
        if namespaced {
            errors.push(FieldError::invalid(
                &urls_path,
                go_string_slice(non_resource_urls),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !api_groups.is_empty() || !resources.is_empty() || !resource_names.is_empty() {
            errors.push(FieldError::invalid(
                &urls_path,
                go_string_slice(non_resource_urls),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errors;
    }

    if api_groups.is_empty() {
        errors.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if resources.is_empty() {
        errors.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    if !resource_names.is_empty() && resources.len() > 1 {
        errors.push(FieldError::required(
            &path.child("resourceNames"),
            "resource names cannot apply to multiple resources",
        ));
    }
    errors
}

/// Strategy of `rolebindings`.
pub struct RoleBindingStrategy;

impl Strategy for RoleBindingStrategy {
    type Object = RoleBinding;

    fn default(&self, binding: &mut RoleBinding) {
        default_role_ref(&mut binding.role_ref);
        default_subjects(binding.subjects.as_deref_mut().unwrap_or_default());
    }

    fn validate(&self, binding: &RoleBinding) -> Vec<FieldError> {
        validate_binding(
            &binding.role_ref,
            binding.subjects.as_deref().unwrap_or_default(),
            true,
        )
    }

    fn validate_update(&self, binding: &RoleBinding, old: &RoleBinding) -> Vec<FieldError> {
        let mut errors = self.validate(binding);
        errors.extend(validate_role_ref_unchanged(
            &binding.role_ref,
            &old.role_ref,
        ));
        errors
    }
}

/// Strategy of `clusterrolebindings`.
pub struct ClusterRoleBindingStrategy;

impl Strategy for ClusterRoleBindingStrategy {
    type Object = ClusterRoleBinding;

    fn default(&self, binding: &mut ClusterRoleBinding) {
        default_role_ref(&mut binding.role_ref);
        default_subjects(binding.subjects.as_deref_mut().unwrap_or_default());
    }

    fn validate(&self, binding: &ClusterRoleBinding) -> Vec<FieldError> {
        validate_binding(
            &binding.role_ref,
            binding.subjects.as_deref().unwrap_or_default(),
            false,
        )
    }

    fn validate_update(
        &self,
        binding: &ClusterRoleBinding,
        old: &ClusterRoleBinding,
    ) -> Vec<FieldError> {
        let mut errors = self.validate(binding);
        errors.extend(validate_role_ref_unchanged(
            &binding.role_ref,
            &old.role_ref,
        ));
        errors
    }
}

fn default_role_ref(role_ref: &mut RoleRef) {
    if role_ref.api_group.is_empty() {
        role_ref.api_group = GROUP_NAME.to_string();
    }
}

fn default_subjects(subjects: &mut [Subject]) {
    for subject in subjects {
        if subject.api_group.as_deref().unwrap_or_default().is_empty()
            && matches!(subject.kind.as_str(), "User" | "Group")
        {
            subject.api_group = Some(GROUP_NAME.to_string());
        }
    }
}

/// Validates a RoleBinding (`namespaced`) or ClusterRoleBinding.
fn validate_binding(role_ref: &RoleRef, subjects: &[Subject], namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if role_ref.api_group != GROUP_NAME {
        errors.push(FieldError::not_supported(
            &FieldPath::from_names(["roleRef", "apiGroup"]),
            &role_ref.api_group,
            &[GROUP_NAME],
        ));
    }

    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&role_ref.kind.as_str()) {
        errors.push(FieldError::not_supported(
            &FieldPath::from_names(["roleRef", "kind"]),
            &role_ref.kind,
            kinds,
        ));
    }

    let name_path = FieldPath::from_names(["roleRef", "name"]);
    if role_ref.name.is_empty() {
        errors.push(FieldError::required(&name_path, ""));
    } else {
        errors.extend(invalid_each(
            &name_path,
            &role_ref.name,
            is_valid_path_segment_name(&role_ref.name),
        ));
    }

    let subjects_path = FieldPath::new("subjects");
    for (index, subject) in subjects.iter().enumerate() {
        errors.extend(validate_subject(
            subject,
            namespaced,
            &subjects_path.index(index),
        ));
    }
    errors
}

/// Upstream's `validateRoleBindingSubject`.
fn validate_subject(subject: &Subject, namespaced: bool, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let api_group = subject.api_group.as_deref().unwrap_or_default();
    if subject.name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    }

    match subject.kind.as_str() {
        "ServiceAccount" => {
            if !subject.name.is_empty() {
                // Service account names are DNS-1123 subdomains (upstream's
                // ValidateServiceAccountName).
                errors.extend(invalid_each(
                    &path.child("name"),
                    &subject.name,
                    apimachinery::validation::is_dns1123_subdomain(&subject.name),
                ));
            }
            if !api_group.is_empty() {
                errors.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    api_group,
                    &[""],
                ));
            }
            if !namespaced && subject.namespace.as_deref().unwrap_or_default().is_empty() {
                errors.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        kind @ ("User" | "Group") => {
            if subject.name.is_empty() {
                let detail = if kind == "User" {
                    "user name cannot be empty"
                } else {
                    "group name cannot be empty"
                };
                errors.push(FieldError::invalid(&path.child("name"), "", detail));
            }
            if api_group != GROUP_NAME {
                errors.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    api_group,
                    &[GROUP_NAME],
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errors
}

/// `roleRef` may never change; upstream prints the new value with Go's `%#v`.
fn validate_role_ref_unchanged(new: &RoleRef, old: &RoleRef) -> Vec<FieldError> {
    if new == old {
        return Vec::new();
    }
    let value = format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        apimachinery::errors::go_quote(&new.api_group),
        apimachinery::errors::go_quote(&new.kind),
        apimachinery::errors::go_quote(&new.name)
    );
    vec![FieldError::invalid(
        &FieldPath::new("roleRef"),
        BadValue::Raw(value),
        "cannot change roleRef",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use serde_json::json;

    fn role(rules: serde_json::Value) -> Role {
        serde_json::from_value(
            json!({"metadata": {"name": "r", "namespace": "ns"}, "rules": rules}),
        )
        .unwrap()
    }

    #[test]
    fn policy_rule_validation() {
        let cases = [
            (
                json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]),
                vec![],
            ),
            (
                json!([{"apiGroups": [""], "resources": ["pods"], "verbs": []}]),
                vec!["rules[0].verbs: Required value: verbs must contain at least one value"],
            ),
            (
                json!([{"verbs": ["get"]}]),
                vec![
                    "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                    "rules[0].resources: Required value: resource rules must supply at least one resource",
                ],
            ),
            (
                json!([{"apiGroups": [""], "resources": ["pods", "secrets"], "resourceNames": ["a"], "verbs": ["get"]}]),
                vec![
                    "rules[0].resourceNames: Required value: resource names cannot apply to multiple resources",
                ],
            ),
            (
                json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]),
                vec![
                    "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
                ],
            ),
        ];
        for (rules, expected) in cases {
            let errors = RoleStrategy.validate(&role(rules.clone()));
            assert_eq!(messages(&errors), expected, "{rules}");
        }
    }

    #[test]
    fn cluster_role_allows_non_resource_urls_alone() {
        let role: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": "system:discovery"},
            "rules": [
                {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
                {"nonResourceURLs": ["/api"], "resources": ["pods"], "verbs": ["get"]}
            ]
        }))
        .unwrap();
        assert_eq!(
            messages(&ClusterRoleStrategy.validate(&role)),
            [
                "rules[1].nonResourceURLs: Invalid value: []string{\"/api\"}: rules cannot apply to both regular resources and non-resource URLs"
            ]
        );
    }

    #[test]
    fn cluster_role_aggregation_rule() {
        let empty: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": "admin"}, "aggregationRule": {}
        }))
        .unwrap();
        assert_eq!(
            messages(&ClusterRoleStrategy.validate(&empty)),
            [
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
            ]
        );
        let good: ClusterRole = serde_json::from_value(json!({
            "metadata": {"name": "admin"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-admin": "true"}}]}
        }))
        .unwrap();
        assert!(ClusterRoleStrategy.validate(&good).is_empty());
    }

    #[test]
    fn binding_defaults() {
        let object = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "ns"},
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [
                {"kind": "User", "name": "alice"},
                {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "default", "namespace": "ns"}
            ]
        });
        let defaulted = defaulted(&RoleBindingStrategy, object);
        assert_eq!(defaulted["roleRef"]["apiGroup"], GROUP_NAME);
        assert_eq!(defaulted["subjects"][0]["apiGroup"], GROUP_NAME);
        assert_eq!(defaulted["subjects"][1]["apiGroup"], GROUP_NAME);
        assert!(defaulted["subjects"][2].get("apiGroup").is_none());
    }

    fn role_binding(value: serde_json::Value) -> RoleBinding {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn binding_validation() {
        let cases = [
            (
                json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": GROUP_NAME, "kind": "Role", "name": "r"},
                       "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}),
                vec![],
            ),
            (
                json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "x", "kind": "Pod", "name": ""}}),
                vec![
                    "roleRef.apiGroup: Unsupported value: \"x\": supported values: \"rbac.authorization.k8s.io\"",
                    "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
                    "roleRef.name: Required value",
                ],
            ),
            (
                json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": GROUP_NAME, "kind": "Role", "name": "a/b"},
                       "subjects": [{"kind": "Robot", "name": "x"}, {"kind": "User", "name": "u", "apiGroup": ""},
                                    {"kind": "ServiceAccount", "name": "Bad_Name", "apiGroup": "v1"}]}),
                vec![
                    "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
                    "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
                    "subjects[1].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                    "subjects[2].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                    "subjects[2].apiGroup: Unsupported value: \"v1\": supported values: \"\"",
                ],
            ),
        ];
        for (object, expected) in cases {
            let errors = RoleBindingStrategy.validate(&role_binding(object.clone()));
            assert_eq!(messages(&errors), expected, "{object}");
        }
    }

    #[test]
    fn cluster_role_binding_rules() {
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": "b"},
            "roleRef": {"apiGroup": GROUP_NAME, "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]
        }))
        .unwrap();
        assert_eq!(
            messages(&ClusterRoleBindingStrategy.validate(&binding)),
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ]
        );
    }

    #[test]
    fn role_ref_is_immutable() {
        let old = role_binding(json!({"metadata": {"name": "b"},
            "roleRef": {"apiGroup": GROUP_NAME, "kind": "Role", "name": "r"}}));
        let mut new = old.clone();
        assert!(RoleBindingStrategy.validate_update(&new, &old).is_empty());
        new.role_ref.name = "other".into();
        assert_eq!(
            messages(&RoleBindingStrategy.validate_update(&new, &old)),
            [
                "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef"
            ]
        );
    }
}
