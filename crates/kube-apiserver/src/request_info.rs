//! RequestInfo: what a request path and method address, parsed the way upstream's
//! request info resolver does before authorization and routing.
//!
//! Resource paths are `/api/v1/...` for the core group and `/apis/<group>/<version>/...`
//! for the others, followed by `[namespaces/<namespace>/]<resource>[/<name>[/<subresource>...]]`.
//! Every other path (`/healthz`, `/version`, `/api`, `/openapi/v2`, ...) is a
//! non-resource request.

/// The parsed request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the path addresses an API resource (or collection).
    pub is_resource_request: bool,
    /// The path as requested, without the query string.
    pub path: String,
    /// The Kubernetes verb: get, list, watch, create, update, patch, delete,
    /// deletecollection, or the lower-cased HTTP method for non-resource requests.
    pub verb: String,
    /// `api` or `apis`; empty for non-resource requests.
    pub api_prefix: String,
    /// API group; empty for the core group.
    pub api_group: String,
    pub api_version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// Path segments after `api_prefix` (and group and version), as upstream keeps them.
    pub parts: Vec<String>,
}

/// Subresources addressed under a namespace's own path (`/api/v1/namespaces/x/status`).
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

impl RequestInfo {
    /// Parses the request. `query_watch` is whether the query string asks for a watch
    /// (`watch=true` or `watch=1`).
    pub fn parse(method: &http::Method, path: &str, query_watch: bool) -> RequestInfo {
        let mut info = RequestInfo {
            path: path.to_string(),
            verb: method.as_str().to_ascii_lowercase(),
            ..RequestInfo::default()
        };

        // Segments are percent-decoded, so `system%3Anode` names `system:node`.
        let decoded: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(crate::health::percent_decode_path)
            .collect();
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        let (prefix, rest) = match segments.split_first() {
            Some((prefix, rest)) if *prefix == "api" || *prefix == "apis" => (*prefix, rest),
            _ => return info,
        };

        // /api/v1/... carries one segment of group version, /apis/<group>/<version>/... two.
        let (group, version, mut parts) = match (prefix, rest) {
            ("api", [version, parts @ ..]) => ("", *version, parts),
            ("apis", [group, version, parts @ ..]) => (*group, *version, parts),
            _ => return info,
        };
        if parts.is_empty() {
            // A group-version discovery document such as /api/v1 or /apis/apps/v1.
            return info;
        }

        info.is_resource_request = true;
        info.api_prefix = prefix.to_string();
        info.api_group = group.to_string();
        info.api_version = version.to_string();

        let mut is_legacy_watch = false;
        if parts.first() == Some(&"watch") {
            is_legacy_watch = true;
            parts = &parts[1..];
        }

        if parts.first() == Some(&"namespaces") && parts.len() > 1 {
            info.namespace = parts[1].to_string();
            if parts.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&parts[2]) {
                parts = &parts[2..];
            }
        }
        info.parts = parts.iter().map(|part| part.to_string()).collect();

        if let Some(resource) = parts.first() {
            info.resource = resource.to_string();
        }
        if let Some(name) = parts.get(1) {
            info.name = name.to_string();
        }
        if let Some(subresource) = parts.get(2) {
            info.subresource = subresource.to_string();
        }

        info.verb = match *method {
            http::Method::GET | http::Method::HEAD if is_legacy_watch || query_watch => "watch",
            http::Method::GET | http::Method::HEAD if info.name.is_empty() => "list",
            http::Method::GET | http::Method::HEAD => "get",
            http::Method::POST => "create",
            http::Method::PUT => "update",
            http::Method::PATCH => "patch",
            http::Method::DELETE if info.name.is_empty() => "deletecollection",
            http::Method::DELETE => "delete",
            _ => info.verb.as_str(),
        }
        .to_string();
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    struct Case {
        method: Method,
        path: &'static str,
        watch: bool,
        verb: &'static str,
        group: &'static str,
        namespace: &'static str,
        resource: &'static str,
        name: &'static str,
        subresource: &'static str,
    }

    fn case(method: Method, path: &'static str, verb: &'static str) -> Case {
        Case {
            method,
            path,
            watch: false,
            verb,
            group: "",
            namespace: "",
            resource: "",
            name: "",
            subresource: "",
        }
    }

    #[test]
    fn resource_paths_parse_like_upstream() {
        let cases = [
            Case {
                namespace: "default",
                resource: "pods",
                ..case(Method::GET, "/api/v1/namespaces/default/pods", "list")
            },
            Case {
                namespace: "default",
                resource: "pods",
                name: "web",
                ..case(Method::GET, "/api/v1/namespaces/default/pods/web", "get")
            },
            Case {
                namespace: "default",
                resource: "pods",
                name: "web",
                subresource: "status",
                ..case(
                    Method::PUT,
                    "/api/v1/namespaces/default/pods/web/status",
                    "update",
                )
            },
            Case {
                resource: "pods",
                ..case(Method::GET, "/api/v1/pods", "list")
            },
            Case {
                resource: "pods",
                watch: true,
                ..case(Method::GET, "/api/v1/pods", "watch")
            },
            Case {
                namespace: "kube-system",
                resource: "pods",
                ..case(
                    Method::GET,
                    "/api/v1/watch/namespaces/kube-system/pods",
                    "watch",
                )
            },
            Case {
                namespace: "other",
                resource: "namespaces",
                name: "other",
                ..case(Method::GET, "/api/v1/namespaces/other", "get")
            },
            Case {
                namespace: "other",
                resource: "namespaces",
                name: "other",
                subresource: "finalize",
                ..case(Method::PUT, "/api/v1/namespaces/other/finalize", "update")
            },
            Case {
                resource: "namespaces",
                ..case(Method::POST, "/api/v1/namespaces", "create")
            },
            Case {
                group: "apps",
                namespace: "ns",
                resource: "deployments",
                name: "d",
                subresource: "scale",
                ..case(
                    Method::PATCH,
                    "/apis/apps/v1/namespaces/ns/deployments/d/scale",
                    "patch",
                )
            },
            Case {
                group: "apps",
                namespace: "ns",
                resource: "deployments",
                ..case(
                    Method::DELETE,
                    "/apis/apps/v1/namespaces/ns/deployments",
                    "deletecollection",
                )
            },
            Case {
                resource: "nodes",
                name: "n1",
                ..case(Method::DELETE, "/api/v1/nodes/n1", "delete")
            },
        ];
        for case in cases {
            let info = RequestInfo::parse(&case.method, case.path, case.watch);
            assert!(info.is_resource_request, "{}", case.path);
            assert_eq!(info.verb, case.verb, "{}", case.path);
            assert_eq!(info.api_group, case.group, "{}", case.path);
            assert_eq!(info.namespace, case.namespace, "{}", case.path);
            assert_eq!(info.resource, case.resource, "{}", case.path);
            assert_eq!(info.name, case.name, "{}", case.path);
            assert_eq!(info.subresource, case.subresource, "{}", case.path);
        }
    }

    #[test]
    fn non_resource_paths() {
        for path in [
            "/healthz",
            "/version",
            "/api",
            "/apis",
            "/api/v1",
            "/apis/apps/v1",
            "/apis/apps",
            "/openapi/v2",
            "/",
        ] {
            let info = RequestInfo::parse(&Method::GET, path, false);
            assert!(!info.is_resource_request, "{path}");
            assert_eq!(info.verb, "get", "{path}");
        }
    }

    #[test]
    fn proxy_keeps_remaining_parts() {
        let info = RequestInfo::parse(
            &Method::GET,
            "/api/v1/namespaces/ns/pods/p/proxy/metrics/x",
            false,
        );
        assert_eq!(info.subresource, "proxy");
        assert_eq!(info.parts, vec!["pods", "p", "proxy", "metrics", "x"]);
    }
}
