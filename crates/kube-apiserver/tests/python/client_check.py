"""Drives a kube-apiserver with the official Python client (pip package `kubernetes`).

Usage: client_check.py KUBECONFIG. Exits non-zero with a traceback on the first
failed check; prints one line per passed step.
"""

import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NAMESPACE = "default"


def step(name):
    print(f"ok: {name}", flush=True)


def expect_status(code, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except ApiException as error:
        assert error.status == code, f"expected {code}, got {error.status}: {error.body}"
        return
    raise AssertionError(f"expected HTTP {code}, the call succeeded")


def check_configmaps(core):
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="py-cm", labels={"app": "py"}), data={"k": "v"}
    )
    created = core.create_namespaced_config_map(NAMESPACE, body)
    assert created.metadata.uid and created.metadata.resource_version
    read = core.read_namespaced_config_map("py-cm", NAMESPACE)
    assert read.data == {"k": "v"}
    step("configmap create and get")

    core.create_namespaced_config_map(
        NAMESPACE, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-other"))
    )
    selected = core.list_namespaced_config_map(NAMESPACE, label_selector="app=py")
    assert [item.metadata.name for item in selected.items] == ["py-cm"]
    by_field = core.list_namespaced_config_map(NAMESPACE, field_selector="metadata.name=py-other")
    assert [item.metadata.name for item in by_field.items] == ["py-other"]
    step("configmap list with label and field selectors")

    patched = core.patch_namespaced_config_map("py-cm", NAMESPACE, {"data": {"extra": "1"}})
    assert patched.data == {"k": "v", "extra": "1"}
    step("configmap patch")

    expect_status(409, core.create_namespaced_config_map, NAMESPACE, body)
    expect_status(404, core.read_namespaced_config_map, "missing", NAMESPACE)
    step("configmap errors")

    core.delete_namespaced_config_map("py-cm", NAMESPACE)
    core.delete_namespaced_config_map("py-other", NAMESPACE)
    expect_status(404, core.read_namespaced_config_map, "py-cm", NAMESPACE)
    step("configmap delete")


def check_pods_and_watch(core):
    start = core.list_namespaced_pod(NAMESPACE).metadata.resource_version
    seen = []

    def follow():
        stream = watch.Watch()
        for event in stream.stream(
            core.list_namespaced_pod, NAMESPACE, resource_version=start, timeout_seconds=10
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()

    watcher = threading.Thread(target=follow)
    watcher.start()

    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1.25")]),
    )
    created = core.create_namespaced_pod(NAMESPACE, pod)
    assert created.spec.restart_policy == "Always", "defaults are applied"
    assert created.status.phase == "Pending"
    core.patch_namespaced_pod("py-pod", NAMESPACE, {"metadata": {"labels": {"seen": "yes"}}})
    core.delete_namespaced_pod("py-pod", NAMESPACE, grace_period_seconds=0)
    watcher.join(timeout=15)
    types = [event_type for event_type, name in seen if name == "py-pod"]
    assert types == ["ADDED", "MODIFIED", "DELETED"], seen
    step("pod create, patch, delete and watch")


def check_deployments(apps):
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment(NAMESPACE, body)
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment_scale("py-web", NAMESPACE, {"spec": {"replicas": 4}})
    assert scaled.spec.replicas == 4
    read = apps.read_namespaced_deployment("py-web", NAMESPACE)
    assert read.spec.replicas == 4 and read.metadata.generation == 2
    listed = apps.list_namespaced_deployment(NAMESPACE)
    assert "py-web" in [item.metadata.name for item in listed.items]

    invalid = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="Bad_Name"), spec=body.spec
    )
    expect_status(422, apps.create_namespaced_deployment, NAMESPACE, invalid)
    apps.delete_namespaced_deployment("py-web", NAMESPACE)
    step("deployment create, scale, get, list, invalid and delete")


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    check_configmaps(core)
    check_pods_and_watch(core)
    check_deployments(apps)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
