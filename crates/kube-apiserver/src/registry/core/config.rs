//! Strategies of the plain data kinds of core/v1: config maps, secrets, service
//! accounts, endpoints and events (upstream's `ValidateConfigMap`, `ValidateSecret`,
//! `ValidateEndpoints` and the legacy checks of `ValidateEventCreate`).

use std::collections::BTreeMap;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    ConfigMap, EndpointAddress, EndpointPort, Endpoints, Event, ObjectReference, Secret,
    ServiceAccount,
};
use serde_json::Value;

use crate::registry::pod_spec::common::{
    invalid_each, name_is_dns_subdomain, validate_dns1123_label, validate_immutable,
    validate_qualified_name,
};
use crate::registry::strategy::{Strategy, field_at};

use super::service::validate_non_special_ip;

/// The largest total size of a config map's or a secret's data, in bytes (1 MiB).
pub const MAX_DATA_SIZE: usize = 1024 * 1024;

const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

/// Strategy of `configmaps`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConfigMapStrategy;

impl Strategy for ConfigMapStrategy {
    type Object = ConfigMap;

    fn validate(&self, config_map: &ConfigMap) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut total = 0usize;
        let data_path = FieldPath::new("data");
        let binary = config_map.binary_data.clone().unwrap_or_default();
        for (key, value) in config_map.data.iter().flatten() {
            errors.extend(invalid_each(
                &data_path.key(key),
                key,
                validation::is_config_map_key(key),
            ));
            if binary.contains_key(key) {
                errors.push(FieldError::invalid(
                    &data_path.key(key),
                    key.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            total += value.len();
        }
        let binary_path = FieldPath::new("binaryData");
        for (key, value) in &binary {
            errors.extend(invalid_each(
                &binary_path.key(key),
                key,
                validation::is_config_map_key(key),
            ));
            total += value.0.len();
        }
        if total > MAX_DATA_SIZE {
            errors.push(FieldError::too_long(
                &FieldPath::new(""),
                Some(MAX_DATA_SIZE),
            ));
        }
        errors
    }

    fn validate_update(&self, config_map: &ConfigMap, old: &ConfigMap) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if old.immutable == Some(true) {
            if config_map.immutable != Some(true) {
                errors.push(FieldError::forbidden(
                    &FieldPath::new("immutable"),
                    IMMUTABLE_WHEN_SET,
                ));
            }
            if config_map.data.clone().unwrap_or_default() != old.data.clone().unwrap_or_default() {
                errors.push(FieldError::forbidden(
                    &FieldPath::new("data"),
                    IMMUTABLE_WHEN_SET,
                ));
            }
            if config_map.binary_data.clone().unwrap_or_default()
                != old.binary_data.clone().unwrap_or_default()
            {
                errors.push(FieldError::forbidden(
                    &FieldPath::new("binaryData"),
                    IMMUTABLE_WHEN_SET,
                ));
            }
        }
        errors.extend(self.validate(config_map));
        errors
    }
}

/// Strategy of `secrets`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecretStrategy;

impl Strategy for SecretStrategy {
    type Object = Secret;

    /// Defaults the type to Opaque and merges `stringData` into `data`, as upstream's
    /// conversion does before anything is stored.
    fn default(&self, secret: &mut Secret) {
        if secret.type_.as_deref().is_none_or(str::is_empty) {
            secret.type_ = Some("Opaque".to_string());
        }
        if let Some(string_data) = secret.string_data.take() {
            let data = secret.data.get_or_insert_with(BTreeMap::new);
            for (key, value) in string_data {
                data.insert(key, ByteString(value.into_bytes()));
            }
        }
    }

    fn validate(&self, secret: &Secret) -> Vec<FieldError> {
        validate_secret(secret)
    }

    fn validate_update(&self, secret: &Secret, old: &Secret) -> Vec<FieldError> {
        let mut errors = validate_immutable(&secret.type_, &old.type_, &FieldPath::new("type"));
        if old.immutable == Some(true) {
            if secret.immutable != Some(true) {
                errors.push(FieldError::forbidden(
                    &FieldPath::new("immutable"),
                    IMMUTABLE_WHEN_SET,
                ));
            }
            if secret.data.clone().unwrap_or_default() != old.data.clone().unwrap_or_default() {
                errors.push(FieldError::forbidden(
                    &FieldPath::new("data"),
                    IMMUTABLE_WHEN_SET,
                ));
            }
        }
        errors.extend(validate_secret(secret));
        errors
    }

    fn selectable_fields(&self, secret: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([("type".to_string(), field_at(secret, "type"))])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["type"]
    }
}

fn validate_secret(secret: &Secret) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let data_path = FieldPath::new("data");
    let data = secret.data.clone().unwrap_or_default();
    let mut total = 0usize;
    for (key, value) in &data {
        errors.extend(invalid_each(
            &data_path.key(key),
            key,
            validation::is_config_map_key(key),
        ));
        total += value.0.len();
    }
    if total > MAX_DATA_SIZE {
        errors.push(FieldError::too_long(&data_path, Some(MAX_DATA_SIZE)));
    }

    let require_key = |key: &str, errors: &mut Vec<FieldError>| -> Option<Vec<u8>> {
        match data.get(key) {
            Some(value) => Some(value.0.clone()),
            None => {
                errors.push(FieldError::required(&data_path.key(key), ""));
                None
            }
        }
    };
    let require_json = |key: &str, errors: &mut Vec<FieldError>| {
        if let Some(bytes) = require_key(key, errors)
            && let Err(error) = serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes)
        {
            // NOTE: the detail is serde_json's parse error, not Go's encoding/json text.
            errors.push(FieldError::invalid(
                &data_path.key(key),
                "<secret contents redacted>",
                error.to_string(),
            ));
        }
    };
    match secret.type_.as_deref().unwrap_or_default() {
        "kubernetes.io/service-account-token" => {
            let name = secret
                .metadata
                .annotations
                .as_ref()
                .and_then(|annotations| annotations.get("kubernetes.io/service-account.name"))
                .cloned()
                .unwrap_or_default();
            if name.is_empty() {
                errors.push(FieldError::required(
                    &FieldPath::from_names(["metadata", "annotations"])
                        .key("kubernetes.io/service-account.name"),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" => require_json(".dockercfg", &mut errors),
        "kubernetes.io/dockerconfigjson" => require_json(".dockerconfigjson", &mut errors),
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") =>
        {
            errors.push(FieldError::required(&data_path.key("username"), ""));
            errors.push(FieldError::required(&data_path.key("password"), ""));
        }
        "kubernetes.io/ssh-auth"
            if data
                .get("ssh-privatekey")
                .is_none_or(|value| value.0.is_empty()) =>
        {
            errors.push(FieldError::required(&data_path.key("ssh-privatekey"), ""));
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !data.contains_key(key) {
                    errors.push(FieldError::required(&data_path.key(key), ""));
                }
            }
        }
        _ => {}
    }
    errors
}

/// Strategy of `serviceaccounts`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceAccountStrategy;

impl Strategy for ServiceAccountStrategy {
    type Object = ServiceAccount;

    /// Keeps only the name of each referenced secret, as upstream does.
    fn prepare_for_create(&self, account: &mut ServiceAccount) {
        clean_secret_references(account);
    }

    fn prepare_for_update(&self, account: &mut ServiceAccount, _old: &ServiceAccount) {
        clean_secret_references(account);
    }
}

fn clean_secret_references(account: &mut ServiceAccount) {
    for secret in account.secrets.iter_mut().flatten() {
        *secret = ObjectReference {
            name: secret.name.clone(),
            ..Default::default()
        };
    }
}

/// Strategy of `endpoints`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointsStrategy;

impl Strategy for EndpointsStrategy {
    type Object = Endpoints;

    /// Returns true: a PUT of missing endpoints creates them, as the endpoints controller
    /// expects.
    fn allow_create_on_update(&self) -> bool {
        true
    }

    // NOTE: upstream also repacks the subsets into a canonical order, grouping addresses
    // by port set and sorting by hash. Subsets are stored as sent here.
    fn default(&self, endpoints: &mut Endpoints) {
        for subset in endpoints.subsets.iter_mut().flatten() {
            for port in subset.ports.iter_mut().flatten() {
                if port.protocol.as_deref().is_none_or(str::is_empty) {
                    port.protocol = Some("TCP".to_string());
                }
            }
        }
    }

    fn validate(&self, endpoints: &Endpoints) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let subsets_path = FieldPath::new("subsets");
        for (index, subset) in endpoints.subsets.iter().flatten().enumerate() {
            let subset_path = subsets_path.index(index);
            let addresses = subset.addresses.as_deref().unwrap_or_default();
            let not_ready = subset.not_ready_addresses.as_deref().unwrap_or_default();
            if addresses.is_empty() && not_ready.is_empty() {
                errors.push(FieldError::required(
                    &subset_path,
                    "must specify `addresses` or `notReadyAddresses`",
                ));
            }
            for (address_index, address) in addresses.iter().enumerate() {
                errors.extend(validate_endpoint_address(
                    address,
                    &subset_path.child("addresses").index(address_index),
                ));
            }
            for (address_index, address) in not_ready.iter().enumerate() {
                errors.extend(validate_endpoint_address(
                    address,
                    &subset_path.child("notReadyAddresses").index(address_index),
                ));
            }
            let ports = subset.ports.as_deref().unwrap_or_default();
            for (port_index, port) in ports.iter().enumerate() {
                errors.extend(validate_endpoint_port(
                    port,
                    ports.len() > 1,
                    &subset_path.child("ports").index(port_index),
                ));
            }
        }
        errors
    }
}

fn validate_endpoint_address(address: &EndpointAddress, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = invalid_each(
        &path.child("ip"),
        &address.ip,
        validation::is_valid_ip_for_legacy_field(&address.ip, true),
    );
    if let Some(hostname) = address.hostname.as_deref().filter(|name| !name.is_empty()) {
        errors.extend(validate_dns1123_label(hostname, &path.child("hostname")));
    }
    if let Some(node) = address.node_name.as_deref() {
        errors.extend(invalid_each(
            &path.child("nodeName"),
            node,
            name_is_dns_subdomain(node, false),
        ));
    }
    errors.extend(validate_non_special_ip(&address.ip, &path.child("ip")));
    errors
}

fn validate_endpoint_port(
    port: &EndpointPort,
    require_name: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = port.name.as_deref().unwrap_or_default();
    if require_name && name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errors.extend(validate_dns1123_label(name, &path.child("name")));
    }
    for message in validation::is_valid_port_num(port.port) {
        errors.push(FieldError::invalid(&path.child("port"), port.port, message));
    }
    match port.protocol.as_deref().unwrap_or_default() {
        "" => errors.push(FieldError::required(&path.child("protocol"), "")),
        "TCP" | "UDP" | "SCTP" => {}
        other => errors.push(FieldError::not_supported(
            &path.child("protocol"),
            other,
            &["SCTP", "TCP", "UDP"],
        )),
    }
    if let Some(protocol) = port.app_protocol.as_deref() {
        errors.extend(validate_qualified_name(
            protocol,
            &path.child("appProtocol"),
        ));
    }
    errors
}

/// Strategy of core/v1 `events`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventStrategy;

const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
const ACTION_LENGTH_LIMIT: usize = 128;
const REASON_LENGTH_LIMIT: usize = 128;
const NOTE_LENGTH_LIMIT: usize = 1024;

impl Strategy for EventStrategy {
    type Object = Event;

    fn validate(&self, event: &Event) -> Vec<FieldError> {
        validate_event(event)
    }

    fn validate_update(&self, event: &Event, _old: &Event) -> Vec<FieldError> {
        validate_event(event)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn selectable_fields(&self, event: &Value) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::new();
        for (selector, json_path) in [
            ("involvedObject.kind", "involvedObject.kind"),
            ("involvedObject.namespace", "involvedObject.namespace"),
            ("involvedObject.name", "involvedObject.name"),
            ("involvedObject.uid", "involvedObject.uid"),
            ("involvedObject.apiVersion", "involvedObject.apiVersion"),
            (
                "involvedObject.resourceVersion",
                "involvedObject.resourceVersion",
            ),
            ("involvedObject.fieldPath", "involvedObject.fieldPath"),
            ("reason", "reason"),
            ("reportingComponent", "reportingComponent"),
            ("type", "type"),
        ] {
            fields.insert(selector.to_string(), field_at(event, json_path));
        }
        let mut source = field_at(event, "source.component");
        if source.is_empty() {
            source = field_at(event, "reportingComponent");
        }
        fields.insert("source".to_string(), source);
        fields
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ]
    }
}

fn validate_event(event: &Event) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let namespace = event.metadata.namespace.as_deref().unwrap_or_default();
    let involved_namespace = event
        .involved_object
        .namespace
        .as_deref()
        .unwrap_or_default();
    let namespace_path = FieldPath::from_names(["involvedObject", "namespace"]);
    let mismatch = || {
        FieldError::invalid(
            &namespace_path,
            involved_namespace,
            "does not match event.namespace",
        )
    };

    if event.event_time.is_none() {
        if involved_namespace.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                errors.push(mismatch());
            }
        } else if namespace != involved_namespace {
            errors.push(mismatch());
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errors.push(mismatch());
        }
        let controller = event.reporting_component.as_deref().unwrap_or_default();
        let controller_path = FieldPath::new("reportingComponent");
        if controller.is_empty() {
            errors.push(FieldError::required(&controller_path, ""));
        }
        errors.extend(validate_qualified_name(controller, &controller_path));
        let limited = [
            (
                event.reporting_instance.as_deref(),
                "reportingInstance",
                REPORTING_INSTANCE_LENGTH_LIMIT,
                true,
            ),
            (event.action.as_deref(), "action", ACTION_LENGTH_LIMIT, true),
            (event.reason.as_deref(), "reason", REASON_LENGTH_LIMIT, true),
            (
                event.message.as_deref(),
                "message",
                NOTE_LENGTH_LIMIT,
                false,
            ),
        ];
        for (value, field, limit, required) in limited {
            let value = value.unwrap_or_default();
            let path = FieldPath::new(field);
            if required && value.is_empty() {
                errors.push(FieldError::required(&path, ""));
            }
            if value.len() > limit {
                errors.push(FieldError::invalid(
                    &path,
                    BadValue::String(String::new()),
                    format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    errors.extend(invalid_each(
        &FieldPath::new("namespace"),
        namespace,
        validation::is_dns1123_subdomain(namespace),
    ));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_map_rules() {
        let config_map: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"},
            "data": {"bad key": "v", "dup": "x"}, "binaryData": {"dup": "eA=="}}))
        .expect("decodes");
        let errors = messages(ConfigMapStrategy.validate(&config_map));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with(
            "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of"
        ));
        assert_eq!(
            errors[1],
            "data[dup]: Invalid value: \"dup\": duplicate of key present in binaryData"
        );

        let big: ConfigMap =
            serde_json::from_value(json!({"data": {"k": "x".repeat(MAX_DATA_SIZE + 1)}}))
                .expect("decodes");
        assert_eq!(
            messages(ConfigMapStrategy.validate(&big)),
            vec![": Too long: may not be more than 1048576 bytes"]
        );

        let old: ConfigMap = serde_json::from_value(json!({"data": {"k": "v"}, "immutable": true}))
            .expect("decodes");
        let new: ConfigMap = serde_json::from_value(json!({"data": {"k": "w"}, "immutable": true}))
            .expect("decodes");
        assert_eq!(
            messages(ConfigMapStrategy.validate_update(&new, &old)),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
    }

    #[test]
    fn secret_defaults_and_rules() {
        let mut secret: Secret = serde_json::from_value(
            json!({"metadata": {"name": "s"}, "stringData": {"password": "pw"}}),
        )
        .expect("decodes");
        SecretStrategy.default(&mut secret);
        let value = serde_json::to_value(&secret).expect("encodes");
        assert_eq!(value["type"], "Opaque");
        assert_eq!(value["data"], json!({"password": "cHc="}));
        assert!(value.get("stringData").is_none());

        let cases: Vec<(Value, Vec<&str>)> = vec![
            (
                json!({"type": "kubernetes.io/tls", "data": {"tls.crt": ""}}),
                vec!["data[tls.key]: Required value"],
            ),
            (
                json!({"type": "kubernetes.io/service-account-token"}),
                vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
            ),
            (
                json!({"type": "kubernetes.io/dockerconfigjson"}),
                vec!["data[.dockerconfigjson]: Required value"],
            ),
            (
                json!({"type": "kubernetes.io/basic-auth"}),
                vec![
                    "data[username]: Required value",
                    "data[password]: Required value",
                ],
            ),
        ];
        for (value, expected) in cases {
            let secret: Secret = serde_json::from_value(value).expect("decodes");
            assert_eq!(messages(SecretStrategy.validate(&secret)), expected);
        }

        let old: Secret = serde_json::from_value(json!({"type": "Opaque"})).expect("decodes");
        let new: Secret = serde_json::from_value(
            json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
        )
        .expect("decodes");
        assert_eq!(
            messages(SecretStrategy.validate_update(&new, &old)),
            vec!["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
        );
    }

    #[test]
    fn event_rules_and_fields() {
        let event: Event = serde_json::from_value(json!({"metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}, "reason": "Started",
            "source": {"component": "kubelet"}})).expect("decodes");
        assert_eq!(
            messages(EventStrategy.validate(&event)),
            vec![
                "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"
            ]
        );
        let value = serde_json::to_value(&event).expect("encodes");
        let fields = EventStrategy.selectable_fields(&value);
        assert_eq!(fields["involvedObject.name"], "p");
        assert_eq!(fields["reason"], "Started");
        assert_eq!(fields["source"], "kubelet");
        for name in EventStrategy.selectable_field_names() {
            assert!(fields.contains_key(*name), "{name}");
        }
    }

    #[test]
    fn endpoints_rules() {
        let mut endpoints: Endpoints = serde_json::from_value(json!({"subsets": [
            {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 80}, {"port": 81}]}]}))
        .expect("decodes");
        EndpointsStrategy.default(&mut endpoints);
        assert_eq!(
            messages(EndpointsStrategy.validate(&endpoints)),
            vec![
                "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "subsets[0].ports[0].name: Required value",
                "subsets[0].ports[1].name: Required value",
            ]
        );
    }
}
