//! Table-driven checks of pod spec validation against upstream's paths and messages.

use apimachinery::errors::FieldPath;
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use serde_json::{Value, json};

use super::defaults::{default_pod_only, default_pod_spec};
use super::validation::{validate_pod_spec_for_pod, validate_pod_template_spec};

/// Returns a valid pod spec with `changes` merged over it (a JSON merge patch).
fn spec_with(changes: Value) -> PodSpec {
    let mut base = json!({
        "containers": [{"name": "app", "image": "nginx"}],
        "volumes": [{"name": "data", "emptyDir": {}}]
    });
    merge(&mut base, changes);
    let mut spec: PodSpec = serde_json::from_value(base).expect("test spec decodes");
    default_pod_spec(&mut spec);
    default_pod_only(&mut spec);
    spec
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

fn errors_of(spec: &PodSpec) -> Vec<String> {
    validate_pod_spec_for_pod(spec, "web", &FieldPath::new("spec"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn valid_spec_has_no_errors() {
    assert_eq!(errors_of(&spec_with(json!({}))), Vec::<String>::new());
}

#[test]
fn pod_spec_rules() {
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "no containers",
            json!({"containers": []}),
            vec!["spec.containers: Required value"],
        ),
        (
            "missing image",
            json!({"containers": [{"name": "app", "image": ""}]}),
            vec!["spec.containers[0].image: Required value"],
        ),
        (
            "bad container name",
            json!({"containers": [{"name": "App_1", "image": "i"}]}),
            vec![
                "spec.containers[0].name: Invalid value: \"App_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
        (
            "duplicate container name",
            json!({"containers": [{"name": "app", "image": "i"}, {"name": "app", "image": "i"}]}),
            vec!["spec.containers[1].name: Duplicate value: \"app\""],
        ),
        (
            "init container shares a name",
            json!({"initContainers": [{"name": "app", "image": "i"}]}),
            vec!["spec.initContainers[0].name: Duplicate value: \"app\""],
        ),
        (
            "image with whitespace",
            json!({"containers": [{"name": "app", "image": " nginx"}]}),
            vec![
                "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
            ],
        ),
        (
            "restart policy",
            json!({"restartPolicy": "Sometimes"}),
            vec![
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ],
        ),
        (
            "dns policy",
            json!({"dnsPolicy": "Cluster"}),
            vec![
                "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
            ],
        ),
        (
            "active deadline",
            json!({"activeDeadlineSeconds": 0}),
            vec![
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            ],
        ),
        (
            "port out of range",
            json!({"containers": [{"name": "app", "image": "i", "ports": [{"containerPort": 70000}]}]}),
            vec![
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ],
        ),
        (
            "duplicate port names",
            json!({"containers": [{"name": "app", "image": "i", "ports": [
                {"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]}]}),
            vec!["spec.containers[0].ports[1].name: Duplicate value: \"http\""],
        ),
        (
            "protocol",
            json!({"containers": [{"name": "app", "image": "i", "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]}),
            vec![
                "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ],
        ),
        (
            "host port conflict",
            json!({"containers": [
                {"name": "a", "image": "i", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"name": "b", "image": "i", "ports": [{"containerPort": 81, "hostPort": 8080}]}]}),
            vec!["spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""],
        ),
        (
            "env name with '='",
            json!({"containers": [{"name": "app", "image": "i", "env": [{"name": "A=B", "value": "x"}]}]}),
            vec![
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            ],
        ),
        (
            "env with value and valueFrom",
            json!({"containers": [{"name": "app", "image": "i", "env": [
                {"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}),
            vec![
                "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
            ],
        ),
        (
            "env field path",
            json!({"containers": [{"name": "app", "image": "i", "env": [
                {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]}]}),
            vec![
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"spec.bogus\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
            ],
        ),
        (
            "mount of a missing volume",
            json!({"containers": [{"name": "app", "image": "i", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]}),
            vec!["spec.containers[0].volumeMounts[0].name: Not found: \"nope\""],
        ),
        (
            "duplicate volume",
            json!({"volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]}),
            vec!["spec.volumes[1].name: Duplicate value: \"data\""],
        ),
        (
            "two volume sources",
            json!({"volumes": [{"name": "data", "emptyDir": {}, "hostPath": {"path": "/tmp"}}]}),
            vec!["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            "config map volume without name",
            json!({"volumes": [{"name": "data", "configMap": {}}]}),
            vec!["spec.volumes[0].configMap.name: Required value"],
        ),
        (
            "bad default mode",
            json!({"volumes": [{"name": "data", "secret": {"secretName": "s", "defaultMode": 1000}}]}),
            vec![
                "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            ],
        ),
        (
            "probe without handler",
            json!({"containers": [{"name": "app", "image": "i", "readinessProbe": {"periodSeconds": 5}}]}),
            vec!["spec.containers[0].readinessProbe: Required value: must specify a handler type"],
        ),
        (
            "probe with two handlers",
            json!({"containers": [{"name": "app", "image": "i", "livenessProbe": {
                "exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}}]}),
            vec![
                "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            ],
        ),
        (
            "liveness success threshold",
            json!({"containers": [{"name": "app", "image": "i", "livenessProbe": {
                "exec": {"command": ["true"]}, "successThreshold": 2}}]}),
            vec!["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        ),
        (
            "requests above limits",
            json!({"containers": [{"name": "app", "image": "i", "resources": {
                "limits": {"memory": "1Gi"}, "requests": {"memory": "2Gi"}}}]}),
            vec![
                "spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi",
            ],
        ),
        (
            "negative request",
            json!({"containers": [{"name": "app", "image": "i", "resources": {"requests": {"cpu": "-1"}}}]}),
            vec![
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
            ],
        ),
        (
            "node selector value",
            json!({"nodeSelector": {"disk": "ss d"}}),
            vec![
                "spec.nodeSelector: Invalid value: \"ss d\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ],
        ),
        (
            "toleration without key",
            json!({"tolerations": [{"operator": "Equal", "value": "x"}]}),
            vec![
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ],
        ),
        (
            "toleration seconds need NoExecute",
            json!({"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]}),
            vec![
                "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            ],
        ),
        (
            "toleration effect",
            json!({"tolerations": [{"key": "k", "operator": "Exists", "effect": "Never"}]}),
            vec![
                "spec.tolerations[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ],
        ),
        (
            "service account name",
            json!({"serviceAccountName": "Bad_Name"}),
            vec![
                "spec.serviceAccountName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ],
        ),
        (
            "node affinity without terms",
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}),
            vec![
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
            ],
        ),
        (
            "pod anti-affinity without topology key",
            json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": ""}]}}}),
            vec![
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must be non-empty",
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ],
        ),
        (
            "host network port mismatch",
            json!({"hostNetwork": true, "containers": [{"name": "app", "image": "i", "ports": [{"containerPort": 80, "hostPort": 81}]}]}),
            vec![
                "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
            ],
        ),
        (
            "dns none without config",
            json!({"dnsPolicy": "None"}),
            vec![
                "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
            ],
        ),
        (
            "sidecar probes only with restartPolicy Always",
            json!({"initContainers": [{"name": "init", "image": "i", "readinessProbe": {"exec": {"command": ["true"]}}}]}),
            vec![
                "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            ],
        ),
        (
            "restart policy on a regular container",
            json!({"containers": [{"name": "app", "image": "i", "restartPolicy": "Always"}]}),
            vec![
                "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
            ],
        ),
    ];
    for (name, changes, expected) in cases {
        let spec = spec_with(changes);
        assert_eq!(errors_of(&spec), expected, "case {name}");
    }
}

#[test]
fn missing_defaults_are_required() {
    let spec: PodSpec =
        serde_json::from_value(json!({"containers": [{"name": "app", "image": "i"}]}))
            .expect("decodes");
    let errors = errors_of(&spec);
    assert_eq!(
        errors,
        vec![
            "spec.terminationGracePeriodSeconds: Required value",
            "spec.containers[0].terminationMessagePolicy: Required value",
            "spec.containers[0].imagePullPolicy: Required value",
            "spec.restartPolicy: Required value",
            "spec.dnsPolicy: Required value",
        ]
    );
}

#[test]
fn template_rules() {
    let mut template: PodTemplateSpec = serde_json::from_value(json!({
        "metadata": {"labels": {"app": "-bad"}},
        "spec": {
            "containers": [{"name": "app", "image": "i"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]
        }
    }))
    .expect("decodes");
    super::defaults::default_pod_template_spec(&mut template);
    let path = FieldPath::from_names(["spec", "template"]);
    let errors: Vec<String> = validate_pod_template_spec(&template, &path)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("spec.template.labels: Invalid value: \"-bad\""));
    assert_eq!(
        errors[1],
        "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"
    );
}

#[test]
fn ephemeral_container_rules() {
    let spec = spec_with(json!({"ephemeralContainers": [{
        "name": "app", "image": "busybox", "targetContainerName": "missing",
        "ports": [{"containerPort": 80}]
    }]}));
    let errors = errors_of(&spec);
    assert_eq!(
        errors,
        vec![
            "spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
            "spec.ephemeralContainers[0].targetContainerName: Not found: \"missing\"",
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
        ]
    );
}
