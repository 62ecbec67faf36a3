//! Resource names and quantities: which names a container, quota or limit range may use,
//! which resources must be whole numbers, and the `requests <= limits` rules
//! (upstream's `pkg/apis/core/helper` and `validateResourceRequirements`).

use std::collections::BTreeMap;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::quantity::Quantity;
use apimachinery::validation;
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as OpenApiQuantity;

use super::common::{IS_NEGATIVE_ERROR_MSG, validate_dns1123_label};

const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const STANDARD_QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// Returns whether a name is a hugepages resource (`hugepages-2Mi`).
pub fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// Returns whether a name belongs to Kubernetes: no domain, or a `kubernetes.io/` domain.
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Returns whether a name is an extended resource (`example.com/gpu`).
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    validation::is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// Returns whether requests of a resource may be lower than its limits. Hugepages and
/// extended resources may not be overcommitted.
pub fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepages(name)
}

/// Returns whether a resource is counted in whole units.
pub fn is_integer_resource_name(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource_name(name)
}

fn is_standard_resource_name(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name)
        || is_hugepages(name)
        || name.starts_with("requests.hugepages-")
}

fn is_standard_quota_resource_name(name: &str) -> bool {
    STANDARD_QUOTA_RESOURCES.contains(&name) || name.starts_with("requests.hugepages-")
}

/// Checks a resource name, as upstream's `validateResourceName`.
pub fn validate_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let errors: Vec<FieldError> = validation::is_qualified_name(name)
        .into_iter()
        .map(|message| FieldError::invalid(path, name, message))
        .collect();
    if !errors.is_empty() {
        return errors;
    }
    if !name.contains('/') && !is_standard_resource_name(name) {
        return vec![FieldError::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        )];
    }
    Vec::new()
}

/// Checks the name of a container resource, as upstream's `validateContainerResourceName`.
pub fn validate_container_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_resource_name(name, path);
    if !name.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&name) && !is_hugepages(name) {
            errors.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(name) && !is_extended_resource_name(name) {
        errors.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
    errors
}

/// Checks the name of a quota resource, as upstream's `ValidateResourceQuotaResourceName`.
pub fn validate_quota_resource_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_resource_name(name, path);
    if !name.contains('/') && !is_standard_quota_resource_name(name) {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for quota",
        ));
    }
    errors
}

/// Checks a quantity for a resource: it parses, is not negative, and is whole for
/// integer resources. Returns the parsed quantity when it parses.
pub fn validate_resource_quantity(
    name: &str,
    quantity: &OpenApiQuantity,
    path: &FieldPath,
) -> (Option<Quantity>, Vec<FieldError>) {
    let parsed = match Quantity::try_from(quantity) {
        Ok(parsed) => parsed,
        Err(error) => {
            return (
                None,
                vec![FieldError::invalid(
                    path,
                    quantity.0.as_str(),
                    error.to_string(),
                )],
            );
        }
    };
    let mut errors = Vec::new();
    if parsed.signum() < 0 {
        errors.push(FieldError::invalid(
            path,
            parsed.to_string(),
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    if is_integer_resource_name(name) && parsed.milli_value() % 1000 != 0 {
        errors.push(FieldError::invalid(
            path,
            BadValue::String(parsed.to_string()),
            "must be an integer",
        ));
    }
    (Some(parsed), errors)
}

/// Checks container resources, as upstream's `ValidateContainerResourceRequirements`:
/// names, quantities, `requests <= limits` (equal for resources that cannot be
/// overcommitted), and that claims name entries of `spec.resourceClaims`.
pub fn validate_resource_requirements(
    requirements: &ResourceRequirements,
    pod_claim_names: &[String],
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let limits_path = path.child("limits");
    let requests_path = path.child("requests");
    let empty = BTreeMap::new();
    let limits = requirements.limits.as_ref().unwrap_or(&empty);
    let requests = requirements.requests.as_ref().unwrap_or(&empty);
    let mut limits_have_cpu_or_memory = false;
    let mut requests_have_cpu_or_memory = false;
    let mut has_hugepages = false;

    let mut parsed_limits = BTreeMap::new();
    for (name, quantity) in limits {
        let key_path = limits_path.key(name);
        errors.extend(validate_container_resource_name(name, &key_path));
        let (parsed, quantity_errors) = validate_resource_quantity(name, quantity, &key_path);
        errors.extend(quantity_errors);
        if let Some(parsed) = parsed {
            parsed_limits.insert(name.as_str(), parsed);
        }
        has_hugepages |= is_hugepages(name);
        limits_have_cpu_or_memory |= name == "cpu" || name == "memory";
    }

    for (name, quantity) in requests {
        let key_path = requests_path.key(name);
        errors.extend(validate_container_resource_name(name, &key_path));
        let (parsed, quantity_errors) = validate_resource_quantity(name, quantity, &key_path);
        errors.extend(quantity_errors);
        match (parsed, parsed_limits.get(name.as_str())) {
            (Some(request), Some(limit)) => {
                if request != *limit && !is_overcommit_allowed(name) {
                    errors.push(FieldError::invalid(
                        &requests_path,
                        request.to_string(),
                        format!("must be equal to {name} limit of {limit}"),
                    ));
                } else if request > *limit {
                    errors.push(FieldError::invalid(
                        &requests_path,
                        request.to_string(),
                        format!("must be less than or equal to {name} limit of {limit}"),
                    ));
                }
            }
            _ if !limits.contains_key(name) && !is_overcommit_allowed(name) => {
                errors.push(FieldError::required(
                    &limits_path,
                    "Limit must be set for non overcommitable resources",
                ));
            }
            _ => {}
        }
        has_hugepages |= is_hugepages(name);
        requests_have_cpu_or_memory |= name == "cpu" || name == "memory";
    }

    if !limits_have_cpu_or_memory && !requests_have_cpu_or_memory && has_hugepages {
        errors.push(FieldError::forbidden(
            path,
            "HugePages require cpu or memory",
        ));
    }

    errors.extend(validate_resource_claim_names(
        requirements,
        pod_claim_names,
        &path.child("claims"),
    ));
    errors
}

fn validate_resource_claim_names(
    requirements: &ResourceRequirements,
    pod_claim_names: &[String],
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (index, claim) in requirements.claims.iter().flatten().enumerate() {
        let claim_path = path.index(index);
        if claim.name.is_empty() {
            errors.push(FieldError::required(&claim_path, ""));
            continue;
        }
        let mut key = claim.name.clone();
        if let Some(request) = claim
            .request
            .as_deref()
            .filter(|request| !request.is_empty())
        {
            errors.extend(validate_dns1123_label(
                request,
                &claim_path.child("request"),
            ));
            key = format!("{}/{request}", claim.name);
        }
        if seen.contains(&key) || seen.contains(&claim.name) {
            errors.push(FieldError::duplicate(&claim_path, key.as_str()));
        }
        seen.push(key);
        if !pod_claim_names.contains(&claim.name) {
            let mut error = FieldError::not_found(&claim_path, claim.name.as_str());
            error.detail = if pod_claim_names.is_empty() {
                "must be one of the names in pod.spec.resourceClaims which is empty".to_string()
            } else {
                format!(
                    "must be one of the names in pod.spec.resourceClaims: {}",
                    pod_claim_names.join(", ")
                )
            };
            errors.push(error);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirements(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> ResourceRequirements {
        let list = |entries: &[(&str, &str)]| {
            (!entries.is_empty()).then(|| {
                entries
                    .iter()
                    .map(|(name, value)| (name.to_string(), OpenApiQuantity(value.to_string())))
                    .collect()
            })
        };
        ResourceRequirements {
            limits: list(limits),
            requests: list(requests),
            ..Default::default()
        }
    }

    #[test]
    fn requirement_rules() {
        let path = FieldPath::from_names(["spec", "containers"])
            .index(0)
            .child("resources");
        let cases: Vec<(ResourceRequirements, Vec<&str>)> = vec![
            (requirements(&[("cpu", "1")], &[("cpu", "500m")]), vec![]),
            (
                requirements(&[("cpu", "1")], &[("cpu", "2")]),
                vec![
                    "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                ],
            ),
            (
                requirements(&[], &[("memory", "-1")]),
                vec![
                    "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
                ],
            ),
            (
                requirements(&[], &[("foo", "1")]),
                vec![
                    "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                    "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource for containers",
                ],
            ),
            (
                requirements(&[("example.com/gpu", "2")], &[("example.com/gpu", "1")]),
                vec![
                    "spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2",
                ],
            ),
            (
                requirements(&[], &[("example.com/gpu", "1")]),
                vec![
                    "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
                ],
            ),
            (
                requirements(&[("example.com/gpu", "500m")], &[]),
                vec![
                    "spec.containers[0].resources.limits[example.com/gpu]: Invalid value: \"500m\": must be an integer",
                ],
            ),
        ];
        for (requirements, expected) in cases {
            let errors: Vec<String> = validate_resource_requirements(&requirements, &[], &path)
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(errors, expected);
        }
    }

    #[test]
    fn resource_name_classes() {
        assert!(is_extended_resource_name("example.com/gpu"));
        assert!(!is_extended_resource_name("cpu"));
        assert!(!is_extended_resource_name("kubernetes.io/foo"));
        assert!(is_integer_resource_name("pods"));
        assert!(!is_overcommit_allowed("hugepages-2Mi"));
        assert!(is_overcommit_allowed("memory"));
    }
}
