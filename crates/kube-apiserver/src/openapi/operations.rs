//! The operations of the API as a model that both document versions render: one path per
//! URL template, one operation per HTTP method, named and tagged as upstream names them
//! (`listCoreV1NamespacedPod`, tag `core_v1`).
//!
//! Entry point: [`build`], which walks `apimachinery::scheme::RESOURCES`: each verb of a
//! resource becomes an operation on its collection path, its item path or its deprecated
//! `watch/` path, and each subresource gets the operations of its own verbs.

use std::collections::BTreeMap;

use apimachinery::scheme::{API_GROUPS, RESOURCES, ResourceInfo, SubresourceInfo};

use super::kinds::{self, KindSchema, meta};
use super::parameters::{Parameter, ParameterSet};

/// HTTP method of an operation, in the order upstream's documents list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Method {
    Delete,
    Get,
    Head,
    Options,
    Patch,
    Post,
    Put,
}

impl Method {
    /// Key of the operation in a path item.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Get => "get",
            Self::Head => "head",
            Self::Options => "options",
            Self::Patch => "patch",
            Self::Post => "post",
            Self::Put => "put",
        }
    }

    /// Form used inside connect operation IDs, such as `connectCoreV1GetNamespacedPodExec`.
    fn title(self) -> &'static str {
        match self {
            Self::Delete => "Delete",
            Self::Get => "Get",
            Self::Head => "Head",
            Self::Options => "Options",
            Self::Patch => "Patch",
            Self::Post => "Post",
            Self::Put => "Put",
        }
    }
}

/// Group, version and kind named by `x-kubernetes-group-version-kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Gvk {
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) kind: &'static str,
}

/// Request body of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Body {
    /// Definition name of the body's schema.
    pub(super) definition: String,
    pub(super) required: bool,
}

/// Content of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Payload {
    /// An object of the named definition.
    Definition(String),
    /// Text or a stream (logs, connect sessions).
    Text,
}

/// One response of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Response {
    /// HTTP status code.
    pub(super) code: u16,
    pub(super) payload: Option<Payload>,
}

impl Response {
    /// Returns the reason phrase upstream uses as the response description.
    pub(super) fn description(&self) -> &'static str {
        match self.code {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            401 => "Unauthorized",
            _ => "",
        }
    }
}

/// One operation: an HTTP method on a path.
#[derive(Clone, Debug)]
pub(super) struct Operation {
    pub(super) method: Method,
    pub(super) id: String,
    pub(super) description: String,
    pub(super) tag: String,
    /// `x-kubernetes-action`: get, list, post, put, patch, delete, deletecollection,
    /// watch, watchlist or connect. None for discovery operations.
    pub(super) action: Option<&'static str>,
    pub(super) gvk: Option<Gvk>,
    pub(super) parameters: Vec<Parameter>,
    pub(super) body: Option<Body>,
    /// Media types of the request body.
    pub(super) consumes: &'static [&'static str],
    /// Media types of the response.
    pub(super) produces: &'static [&'static str],
    pub(super) responses: Vec<Response>,
}

/// The operations on one path, and the parameters all of them share.
#[derive(Clone, Debug, Default)]
pub(super) struct PathItem {
    pub(super) parameters: Vec<Parameter>,
    pub(super) operations: Vec<Operation>,
}

/// Path items by URL template, such as `/api/v1/namespaces/{namespace}/pods/{name}`.
pub(super) type Paths = BTreeMap<String, PathItem>;

// NOTE: protobuf (application/vnd.kubernetes.protobuf), which upstream also lists, is left
// out because this server does not encode it yet.
const ANY: &[&str] = &["*/*"];
const OBJECT_TYPES: &[&str] = &["application/json", "application/yaml"];
const WATCH_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/json;stream=watch",
];
const LOG_TYPES: &[&str] = &["text/plain", "application/json", "application/yaml"];
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
const VERSION_TYPES: &[&str] = &["application/json"];

/// Resources whose delete returns the deleted object rather than a `Status`, as their
/// upstream (v1.33) registries do.
pub(crate) const RETURNS_DELETED_OBJECT: &[(&str, &str)] = &[
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "pods"),
    ("", "podtemplates"),
    ("", "resourcequotas"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "volumeattachments"),
];

/// Builds every path: discovery, then each resource of the scheme with its subresources.
pub(super) fn build(kinds: &[KindSchema], parameters: &ParameterSet) -> Paths {
    let mut builder = Builder {
        kinds,
        parameters,
        paths: Paths::new(),
    };

    builder.add_discovery();
    for resource in RESOURCES {
        builder.add_resource(resource);
    }

    let mut paths = builder.paths;
    for item in paths.values_mut() {
        hoist_common_parameters(item);
    }
    paths
}

/// Returns the group as operation IDs spell it: `Core`, `Apps`, `RbacAuthorization`.
pub(super) fn group_title(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_string();
    }
    group
        .trim_end_matches(".k8s.io")
        .split('.')
        .map(capitalize)
        .collect()
}

/// Returns the group as tags spell it: `core`, `apps`, `rbacAuthorization`.
pub(super) fn group_tag(group: &str) -> String {
    let title = group_title(group);
    let mut characters = title.chars();
    match characters.next() {
        Some(first) => first.to_lowercase().chain(characters).collect(),
        None => title,
    }
}

fn capitalize(word: &str) -> String {
    let mut characters = word.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// Returns the URL prefix of a group version: `/api/v1` or `/apis/apps/v1`.
pub(super) fn group_version_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Moves the parameters that every operation of a path has onto the path, as upstream
/// does, and sorts both lists by name.
fn hoist_common_parameters(item: &mut PathItem) {
    let Some((first, rest)) = item.operations.split_first() else {
        return;
    };
    let common: Vec<Parameter> = first
        .parameters
        .iter()
        .filter(|parameter| {
            rest.iter()
                .all(|operation| operation.parameters.contains(parameter))
        })
        .cloned()
        .collect();

    for operation in &mut item.operations {
        operation
            .parameters
            .retain(|parameter| !common.contains(parameter));
        operation
            .parameters
            .sort_by(|left, right| (left.name, left.location).cmp(&(right.name, right.location)));
    }
    item.parameters = common;
    item.parameters
        .sort_by(|left, right| (left.name, left.location).cmp(&(right.name, right.location)));
    item.operations.sort_by_key(|operation| operation.method);
}

struct Builder<'a> {
    kinds: &'a [KindSchema],
    parameters: &'a ParameterSet,
    paths: Paths,
}

/// Names shared by the operations of one resource.
struct ResourceNames {
    /// Group and version as in operation IDs: `CoreV1`, `AppsV1`.
    group_version: String,
    /// Tag: `core_v1`.
    tag: String,
    /// `Namespaced` or empty.
    scope: &'static str,
    /// `/api/v1` or `/apis/apps/v1`.
    prefix: String,
    /// `/namespaces/{namespace}` or empty.
    namespace_segment: &'static str,
}

impl ResourceNames {
    fn new(resource: &ResourceInfo) -> Self {
        let (scope, namespace_segment) = if resource.namespaced {
            ("Namespaced", "/namespaces/{namespace}")
        } else {
            ("", "")
        };
        Self {
            group_version: format!(
                "{}{}",
                group_title(resource.group),
                capitalize(resource.version)
            ),
            tag: format!("{}_{}", group_tag(resource.group), resource.version),
            scope,
            prefix: group_version_prefix(resource.group, resource.version),
            namespace_segment,
        }
    }
}

impl Builder<'_> {
    fn add(&mut self, path: String, operation: Operation) {
        self.paths
            .entry(path)
            .or_default()
            .operations
            .push(operation);
    }

    fn definition(&self, group: &str, version: &str, kind: &str) -> Option<String> {
        kinds::find(self.kinds, group, version, kind).map(|entry| entry.definition.to_string())
    }

    fn add_discovery(&mut self) {
        let discovery = |id: String, description: &str, tag: String, definition: &str| Operation {
            method: Method::Get,
            id,
            description: description.to_string(),
            tag,
            action: None,
            gvk: None,
            parameters: Vec::new(),
            body: None,
            consumes: OBJECT_TYPES,
            produces: OBJECT_TYPES,
            responses: ok(definition),
        };

        self.add(
            "/api/".to_string(),
            discovery(
                "getCoreAPIVersions".to_string(),
                "get available API versions",
                "core".to_string(),
                meta::API_VERSIONS,
            ),
        );
        self.add(
            "/apis/".to_string(),
            discovery(
                "getAPIVersions".to_string(),
                "get available API versions",
                "apis".to_string(),
                meta::API_GROUP_LIST,
            ),
        );
        let mut version = discovery(
            "getCodeVersion".to_string(),
            "get the code version",
            "version".to_string(),
            meta::VERSION_INFO,
        );
        version.consumes = VERSION_TYPES;
        version.produces = VERSION_TYPES;
        self.add("/version/".to_string(), version);

        for group in API_GROUPS {
            let title = group_title(group.name);
            let tag = group_tag(group.name);
            if !group.name.is_empty() {
                self.add(
                    format!("/apis/{}/", group.name),
                    discovery(
                        format!("get{title}APIGroup"),
                        "get information of a group",
                        tag.clone(),
                        meta::API_GROUP,
                    ),
                );
            }
            for version in group.versions {
                self.add(
                    format!("{}/", group_version_prefix(group.name, version)),
                    discovery(
                        format!("get{title}{}APIResources", capitalize(version)),
                        "get available resources",
                        format!("{tag}_{version}"),
                        meta::API_RESOURCE_LIST,
                    ),
                );
            }
        }
    }

    fn add_resource(&mut self, resource: &ResourceInfo) {
        let set = self.parameters;
        let Some(definition) = self.definition(resource.group, resource.version, resource.kind)
        else {
            return;
        };
        let names = ResourceNames::new(resource);
        let gvk = Gvk {
            group: resource.group,
            version: resource.version,
            kind: resource.kind,
        };
        let kind = resource.kind;
        let collection = format!(
            "{}{}/{}",
            names.prefix, names.namespace_segment, resource.resource
        );
        let item = format!("{collection}/{{name}}");

        let base = |method: Method, id: String, description: String, action: &'static str| {
            let mut parameters = vec![set.pretty()];
            if resource.namespaced {
                parameters.push(set.namespace());
            }
            Operation {
                method,
                id,
                description,
                tag: names.tag.clone(),
                action: Some(action),
                gvk: Some(gvk),
                parameters,
                body: None,
                consumes: ANY,
                produces: OBJECT_TYPES,
                responses: Vec::new(),
            }
        };
        let (gv, scope) = (&names.group_version, names.scope);
        let mut operations: Vec<(String, Operation)> = Vec::new();

        if resource.supports("list") {
            let mut list = base(
                Method::Get,
                format!("list{gv}{scope}{kind}"),
                if resource.supports("watch") {
                    format!("list or watch objects of kind {kind}")
                } else {
                    format!("list objects of kind {kind}")
                },
                "list",
            );
            list.parameters.extend(set.list());
            list.produces = WATCH_TYPES;
            list.responses = ok(&format!("{definition}List"));
            if resource.namespaced {
                let mut all = list.clone();
                all.id = format!("list{gv}{kind}ForAllNamespaces");
                all.parameters = vec![set.pretty()];
                all.parameters.extend(set.list());
                operations.push((format!("{}/{}", names.prefix, resource.resource), all));
            }
            operations.push((collection.clone(), list));
        }
        if resource.supports("create") {
            let mut create = base(
                Method::Post,
                format!("create{gv}{scope}{kind}"),
                format!("create {}", with_article(kind)),
                "post",
            );
            create.parameters.extend(set.write());
            create.body = Some(required_body(&definition));
            create.responses = created(&definition, true);
            operations.push((collection.clone(), create));
        }
        if resource.supports("deletecollection") {
            let mut delete_collection = base(
                Method::Delete,
                format!("delete{gv}Collection{scope}{kind}"),
                format!("delete collection of {kind}"),
                "deletecollection",
            );
            delete_collection.parameters.extend(set.delete_collection());
            delete_collection.body = Some(optional_body(meta::DELETE_OPTIONS));
            delete_collection.responses = ok(meta::STATUS);
            operations.push((collection.clone(), delete_collection));
        }

        let with_name = |mut operation: Operation| {
            operation.parameters.push(set.name(kind));
            operation
        };
        if resource.supports("get") {
            let mut read = with_name(base(
                Method::Get,
                format!("read{gv}{scope}{kind}"),
                format!("read the specified {kind}"),
                "get",
            ));
            read.responses = ok(&definition);
            operations.push((item.clone(), read));
        }
        if resource.supports("update") {
            let mut replace = with_name(base(
                Method::Put,
                format!("replace{gv}{scope}{kind}"),
                format!("replace the specified {kind}"),
                "put",
            ));
            replace.parameters.extend(set.write());
            replace.body = Some(required_body(&definition));
            replace.responses = created(&definition, false);
            operations.push((item.clone(), replace));
        }
        if resource.supports("patch") {
            let mut patch = with_name(base(
                Method::Patch,
                format!("patch{gv}{scope}{kind}"),
                format!("partially update the specified {kind}"),
                "patch",
            ));
            patch.parameters.extend(set.patch());
            patch.body = Some(required_body(meta::PATCH));
            patch.consumes = PATCH_TYPES;
            patch.responses = created(&definition, false);
            operations.push((item.clone(), patch));
        }
        if resource.supports("delete") {
            let mut delete = with_name(base(
                Method::Delete,
                format!("delete{gv}{scope}{kind}"),
                format!("delete {}", with_article(kind)),
                "delete",
            ));
            delete.parameters.extend(set.delete());
            delete.body = Some(optional_body(meta::DELETE_OPTIONS));
            let returned = if RETURNS_DELETED_OBJECT.contains(&(resource.group, resource.resource))
            {
                definition.as_str()
            } else {
                meta::STATUS
            };
            delete.responses = vec![
                response(200, returned),
                response(202, returned),
                unauthorized(),
            ];
            operations.push((item.clone(), delete));
        }
        if resource.supports("watch") {
            let watch_prefix = format!("{}/watch", names.prefix);
            let watch = |id: String, description: String, action: &'static str| {
                let mut operation = base(Method::Get, id, description, action);
                operation.parameters.extend(set.list());
                operation.produces = WATCH_TYPES;
                operation.responses = ok(meta::WATCH_EVENT);
                operation
            };

            let single = with_name(watch(
                format!("watch{gv}{scope}{kind}"),
                format!(
                    "watch changes to an object of kind {kind}. deprecated: use the 'watch' \
                     parameter with a list operation instead, filtered to a single item with \
                     the 'fieldSelector' parameter."
                ),
                "watch",
            ));
            let list_description = format!(
                "watch individual changes to a list of {kind}. deprecated: use the 'watch' \
                 parameter with a list operation instead."
            );
            let watch_collection = format!(
                "{watch_prefix}{}/{}",
                names.namespace_segment, resource.resource
            );
            operations.push((format!("{watch_collection}/{{name}}"), single));
            operations.push((
                watch_collection,
                watch(
                    format!("watch{gv}{scope}{kind}List"),
                    list_description.clone(),
                    "watchlist",
                ),
            ));
            if resource.namespaced {
                let mut all = watch(
                    format!("watch{gv}{kind}ListForAllNamespaces"),
                    list_description,
                    "watchlist",
                );
                all.parameters
                    .retain(|parameter| parameter.name != "namespace");
                operations.push((format!("{watch_prefix}/{}", resource.resource), all));
            }
        }

        for (path, operation) in operations {
            self.add(path, operation);
        }
        for subresource in resource.subresources {
            self.add_subresource(resource, subresource, &names, &item);
        }
    }

    fn add_subresource(
        &mut self,
        resource: &ResourceInfo,
        subresource: &SubresourceInfo,
        names: &ResourceNames,
        item: &str,
    ) {
        let set = self.parameters;
        let (group, version) = if subresource.group.is_empty() {
            (resource.group, resource.version)
        } else {
            (subresource.group, subresource.version)
        };
        let gvk = Gvk {
            group,
            version,
            kind: subresource.kind,
        };
        let path = format!("{item}/{}", subresource.name);
        let suffix = capitalize(subresource.name);
        let (gv, scope, kind) = (&names.group_version, names.scope, resource.kind);

        let base = |method: Method, id: String, description: String, action: &'static str| {
            let mut parameters = vec![set.name(subresource.kind)];
            if resource.namespaced {
                parameters.push(set.namespace());
            }
            Operation {
                method,
                id,
                description,
                tag: names.tag.clone(),
                action: Some(action),
                gvk: Some(gvk),
                parameters,
                body: None,
                consumes: ANY,
                produces: OBJECT_TYPES,
                responses: Vec::new(),
            }
        };

        if subresource.kind.ends_with("Options") {
            let methods: &[Method] = if subresource.name == "proxy" {
                &[
                    Method::Delete,
                    Method::Get,
                    Method::Head,
                    Method::Options,
                    Method::Patch,
                    Method::Post,
                    Method::Put,
                ]
            } else {
                &[Method::Get, Method::Post]
            };
            for &method in methods {
                let connect = |id_suffix: &str| {
                    let mut operation = base(
                        method,
                        format!(
                            "connect{gv}{}{scope}{kind}{suffix}{id_suffix}",
                            method.title()
                        ),
                        format!(
                            "connect {} requests to {} of {kind}",
                            method.as_str().to_uppercase(),
                            subresource.name
                        ),
                        "connect",
                    );
                    operation.parameters.extend(set.connect(subresource.name));
                    operation.produces = ANY;
                    operation.responses = vec![
                        Response {
                            code: 200,
                            payload: Some(Payload::Text),
                        },
                        unauthorized(),
                    ];
                    operation
                };
                self.add(path.clone(), connect(""));
                if subresource.name == "proxy" {
                    let mut with_path = connect("WithPath");
                    with_path.parameters.push(set.proxy_path_segment());
                    self.add(format!("{path}/{{path}}"), with_path);
                }
            }
            return;
        }

        if subresource.name == "log" {
            let mut log = base(
                Method::Get,
                format!("read{gv}{scope}{kind}Log"),
                format!("read log of the specified {kind}"),
                "get",
            );
            log.parameters.push(set.pretty());
            log.parameters.extend(set.log());
            log.produces = LOG_TYPES;
            log.responses = vec![
                Response {
                    code: 200,
                    payload: Some(Payload::Text),
                },
                unauthorized(),
            ];
            self.add(path, log);
            return;
        }

        let Some(definition) = self.definition(group, version, subresource.kind) else {
            return;
        };
        let name = subresource.name;
        for verb in subresource.verbs {
            let mut operation = match *verb {
                "get" => {
                    let mut read = base(
                        Method::Get,
                        format!("read{gv}{scope}{kind}{suffix}"),
                        format!("read {name} of the specified {kind}"),
                        "get",
                    );
                    read.responses = ok(&definition);
                    read
                }
                "update" => {
                    let mut replace = base(
                        Method::Put,
                        format!("replace{gv}{scope}{kind}{suffix}"),
                        format!("replace {name} of the specified {kind}"),
                        "put",
                    );
                    replace.parameters.extend(set.write());
                    replace.body = Some(required_body(&definition));
                    replace.responses = created(&definition, false);
                    replace
                }
                "patch" => {
                    let mut patch = base(
                        Method::Patch,
                        format!("patch{gv}{scope}{kind}{suffix}"),
                        format!("partially update {name} of the specified {kind}"),
                        "patch",
                    );
                    patch.parameters.extend(set.patch());
                    patch.body = Some(required_body(meta::PATCH));
                    patch.consumes = PATCH_TYPES;
                    patch.responses = created(&definition, false);
                    patch
                }
                "create" => {
                    let mut create = base(
                        Method::Post,
                        format!("create{gv}{scope}{kind}{suffix}"),
                        format!("create {name} of {}", with_article(kind)),
                        "post",
                    );
                    create.parameters.extend(set.write());
                    create.body = Some(required_body(&definition));
                    create.responses = created(&definition, true);
                    create
                }
                _ => continue,
            };
            operation.parameters.push(set.pretty());
            self.add(path.clone(), operation);
        }
    }
}

/// Returns `a Pod`, `an Ingress`, or `Endpoints`: upstream gives kinds that read as
/// plurals (ending in `s` but not `ss`) no article.
fn with_article(kind: &str) -> String {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        return kind.to_string();
    }
    let article = match kind.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    };
    format!("{article} {kind}")
}

fn required_body(definition: &str) -> Body {
    Body {
        definition: definition.to_string(),
        required: true,
    }
}

fn optional_body(definition: &str) -> Body {
    Body {
        definition: definition.to_string(),
        required: false,
    }
}

fn response(code: u16, definition: &str) -> Response {
    Response {
        code,
        payload: Some(Payload::Definition(definition.to_string())),
    }
}

fn unauthorized() -> Response {
    Response {
        code: 401,
        payload: None,
    }
}

fn ok(definition: &str) -> Vec<Response> {
    vec![response(200, definition), unauthorized()]
}

/// Responses of writes: 200 and 201, plus 202 for creates.
fn created(definition: &str, accepted: bool) -> Vec<Response> {
    let mut responses = vec![response(200, definition), response(201, definition)];
    if accepted {
        responses.push(response(202, definition));
    }
    responses.push(unauthorized());
    responses
}

#[cfg(test)]
mod tests {
    use super::super::definitions;
    use super::*;

    fn paths() -> Paths {
        let kinds = kinds::kinds();
        let definitions = definitions::build(&kinds);
        build(&kinds, &ParameterSet::new(&definitions))
    }

    fn operation<'a>(paths: &'a Paths, path: &str, method: Method) -> &'a Operation {
        paths
            .get(path)
            .and_then(|item| {
                item.operations
                    .iter()
                    .find(|operation| operation.method == method)
            })
            .unwrap_or_else(|| panic!("{method:?} {path} is missing"))
    }

    fn names(parameters: &[Parameter]) -> Vec<&'static str> {
        parameters.iter().map(|parameter| parameter.name).collect()
    }

    #[test]
    fn group_names_follow_upstream() {
        let cases = [
            ("", "Core", "core"),
            ("apps", "Apps", "apps"),
            (
                "rbac.authorization.k8s.io",
                "RbacAuthorization",
                "rbacAuthorization",
            ),
            (
                "flowcontrol.apiserver.k8s.io",
                "FlowcontrolApiserver",
                "flowcontrolApiserver",
            ),
            (
                "admissionregistration.k8s.io",
                "Admissionregistration",
                "admissionregistration",
            ),
            ("events.k8s.io", "Events", "events"),
        ];
        for (group, title, tag) in cases {
            assert_eq!(group_title(group), title, "{group}");
            assert_eq!(group_tag(group), tag, "{group}");
        }
    }

    #[test]
    fn operation_ids_follow_upstream() {
        let paths = paths();
        let cases = [
            (
                "/api/v1/namespaces/{namespace}/pods",
                Method::Get,
                "listCoreV1NamespacedPod",
                "list",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods",
                Method::Post,
                "createCoreV1NamespacedPod",
                "post",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods",
                Method::Delete,
                "deleteCoreV1CollectionNamespacedPod",
                "deletecollection",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}",
                Method::Get,
                "readCoreV1NamespacedPod",
                "get",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}",
                Method::Put,
                "replaceCoreV1NamespacedPod",
                "put",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}",
                Method::Patch,
                "patchCoreV1NamespacedPod",
                "patch",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}",
                Method::Delete,
                "deleteCoreV1NamespacedPod",
                "delete",
            ),
            (
                "/api/v1/pods",
                Method::Get,
                "listCoreV1PodForAllNamespaces",
                "list",
            ),
            (
                "/api/v1/watch/pods",
                Method::Get,
                "watchCoreV1PodListForAllNamespaces",
                "watchlist",
            ),
            (
                "/api/v1/watch/namespaces/{namespace}/pods",
                Method::Get,
                "watchCoreV1NamespacedPodList",
                "watchlist",
            ),
            (
                "/api/v1/watch/namespaces/{namespace}/pods/{name}",
                Method::Get,
                "watchCoreV1NamespacedPod",
                "watch",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/status",
                Method::Patch,
                "patchCoreV1NamespacedPodStatus",
                "patch",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/exec",
                Method::Get,
                "connectCoreV1GetNamespacedPodExec",
                "connect",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
                Method::Head,
                "connectCoreV1HeadNamespacedPodProxyWithPath",
                "connect",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/log",
                Method::Get,
                "readCoreV1NamespacedPodLog",
                "get",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
                Method::Post,
                "createCoreV1NamespacedPodEviction",
                "post",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/binding",
                Method::Post,
                "createCoreV1NamespacedPodBinding",
                "post",
            ),
            (
                "/api/v1/namespaces/{namespace}/bindings",
                Method::Post,
                "createCoreV1NamespacedBinding",
                "post",
            ),
            (
                "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                Method::Post,
                "createCoreV1NamespacedServiceAccountToken",
                "post",
            ),
            (
                "/api/v1/namespaces/{name}/finalize",
                Method::Put,
                "replaceCoreV1NamespaceFinalize",
                "put",
            ),
            (
                "/api/v1/nodes/{name}/proxy",
                Method::Options,
                "connectCoreV1OptionsNodeProxy",
                "connect",
            ),
            (
                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
                Method::Get,
                "readAppsV1NamespacedDeploymentScale",
                "get",
            ),
            (
                "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                Method::Get,
                "listRbacAuthorizationV1ClusterRole",
                "list",
            ),
            (
                "/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews",
                Method::Post,
                "createAuthorizationV1NamespacedLocalSubjectAccessReview",
                "post",
            ),
            (
                "/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers",
                Method::Get,
                "listAutoscalingV2NamespacedHorizontalPodAutoscaler",
                "list",
            ),
        ];
        for (path, method, id, action) in cases {
            let operation = operation(&paths, path, method);
            assert_eq!(operation.id, id, "{method:?} {path}");
            assert_eq!(operation.action, Some(action), "{method:?} {path}");
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let paths = paths();
        let mut seen = std::collections::BTreeSet::new();
        for item in paths.values() {
            for operation in &item.operations {
                assert!(
                    seen.insert(operation.id.clone()),
                    "duplicate {}",
                    operation.id
                );
            }
        }
    }

    #[test]
    fn discovery_operations_exist() {
        let paths = paths();
        let cases = [
            ("/api/", "getCoreAPIVersions", "core"),
            ("/apis/", "getAPIVersions", "apis"),
            ("/version/", "getCodeVersion", "version"),
            ("/api/v1/", "getCoreV1APIResources", "core_v1"),
            ("/apis/apps/", "getAppsAPIGroup", "apps"),
            (
                "/apis/autoscaling/v2/",
                "getAutoscalingV2APIResources",
                "autoscaling_v2",
            ),
        ];
        for (path, id, tag) in cases {
            let operation = operation(&paths, path, Method::Get);
            assert_eq!(operation.id, id);
            assert_eq!(operation.tag, tag);
            assert!(operation.action.is_none());
        }
    }

    #[test]
    fn group_version_kinds_of_subresources() {
        let paths = paths();
        let cases = [
            (
                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
                Method::Put,
                "autoscaling",
                "Scale",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
                Method::Post,
                "policy",
                "Eviction",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/status",
                Method::Get,
                "",
                "Pod",
            ),
            (
                "/api/v1/namespaces/{namespace}/pods/{name}/attach",
                Method::Post,
                "",
                "PodAttachOptions",
            ),
            (
                "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                Method::Post,
                "authentication.k8s.io",
                "TokenRequest",
            ),
        ];
        for (path, method, group, kind) in cases {
            let gvk = operation(&paths, path, method).gvk.expect("gvk");
            assert_eq!((gvk.group, gvk.kind), (group, kind), "{method:?} {path}");
        }
    }

    #[test]
    fn common_parameters_move_to_the_path() {
        let paths = paths();

        let collection = &paths["/api/v1/namespaces/{namespace}/pods"];
        assert_eq!(names(&collection.parameters), ["namespace", "pretty"]);
        let list = operation(&paths, "/api/v1/namespaces/{namespace}/pods", Method::Get);
        assert_eq!(
            names(&list.parameters),
            [
                "allowWatchBookmarks",
                "continue",
                "fieldSelector",
                "labelSelector",
                "limit",
                "resourceVersion",
                "resourceVersionMatch",
                "sendInitialEvents",
                "timeoutSeconds",
                "watch"
            ]
        );

        let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
        assert_eq!(names(&item.parameters), ["name", "namespace", "pretty"]);
        let patch = operation(
            &paths,
            "/api/v1/namespaces/{namespace}/pods/{name}",
            Method::Patch,
        );
        assert_eq!(
            names(&patch.parameters),
            ["dryRun", "fieldManager", "fieldValidation", "force"]
        );

        // A path with one operation keeps nothing on the operation.
        let exec = &paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"];
        assert_eq!(
            names(&exec.parameters),
            [
                "command",
                "container",
                "name",
                "namespace",
                "stderr",
                "stdin",
                "stdout",
                "tty"
            ]
        );
        let with_path = &paths["/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}"];
        assert_eq!(
            names(&with_path.parameters),
            ["name", "namespace", "path", "path"]
        );
    }

    #[test]
    fn bodies_and_responses() {
        let paths = paths();
        let create = operation(
            &paths,
            "/apis/apps/v1/namespaces/{namespace}/deployments",
            Method::Post,
        );
        assert_eq!(
            create.body,
            Some(required_body("io.k8s.api.apps.v1.Deployment"))
        );
        let codes: Vec<u16> = create
            .responses
            .iter()
            .map(|response| response.code)
            .collect();
        assert_eq!(codes, [200, 201, 202, 401]);

        let patch = operation(
            &paths,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            Method::Patch,
        );
        assert_eq!(patch.body, Some(required_body(meta::PATCH)));
        assert!(
            patch
                .consumes
                .contains(&"application/strategic-merge-patch+json")
        );

        let delete_pod = operation(
            &paths,
            "/api/v1/namespaces/{namespace}/pods/{name}",
            Method::Delete,
        );
        assert_eq!(
            delete_pod.responses[0].payload,
            Some(Payload::Definition("io.k8s.api.core.v1.Pod".to_string()))
        );
        let delete_deployment = operation(
            &paths,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            Method::Delete,
        );
        assert_eq!(
            delete_deployment.responses[0].payload,
            Some(Payload::Definition(meta::STATUS.to_string()))
        );
        assert_eq!(
            delete_deployment.body,
            Some(optional_body(meta::DELETE_OPTIONS))
        );

        let list = operation(&paths, "/api/v1/nodes", Method::Get);
        assert_eq!(
            list.responses[0].payload,
            Some(Payload::Definition(
                "io.k8s.api.core.v1.NodeList".to_string()
            ))
        );
    }

    #[test]
    fn articles_follow_upstream() {
        let cases = [
            ("Pod", "a Pod"),
            ("Event", "an Event"),
            ("Ingress", "an Ingress"),
            ("Endpoints", "Endpoints"),
        ];
        for (kind, expected) in cases {
            assert_eq!(with_article(kind), expected);
        }
    }

    #[test]
    fn verbs_limit_operations() {
        let paths = paths();
        // Namespaces have no deletecollection; component statuses only get and list.
        assert!(
            paths["/api/v1/namespaces"]
                .operations
                .iter()
                .all(|operation| operation.method != Method::Delete)
        );
        let component_statuses: Vec<Method> = paths["/api/v1/componentstatuses/{name}"]
            .operations
            .iter()
            .map(|operation| operation.method)
            .collect();
        assert_eq!(component_statuses, [Method::Get]);
        let list = operation(&paths, "/api/v1/componentstatuses", Method::Get);
        assert_eq!(list.description, "list objects of kind ComponentStatus");
        assert!(!paths.contains_key("/api/v1/watch/componentstatuses"));
        assert!(!paths.contains_key("/apis/authentication.k8s.io/v1/tokenreviews/{name}"));
    }
}
