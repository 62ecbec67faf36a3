//! The query and path parameters of the operations, with their types and descriptions.
//!
//! Entry point: [`ParameterSet::new`], then one method per group of parameters (list,
//! create, patch, delete, connect, log). The delete options take their descriptions from
//! the `DeleteOptions` schema, as upstream derives them from the same Go struct.

use std::borrow::Cow;

use serde_json::Value;

use super::definitions::Definitions;
use super::kinds::meta;

/// Location of a parameter in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Location {
    Path,
    Query,
}

impl Location {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
        }
    }
}

/// JSON type of a parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ParamType {
    String,
    Integer,
    Boolean,
}

impl ParamType {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }
}

/// One path or query parameter of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Parameter {
    pub(super) name: &'static str,
    pub(super) location: Location,
    pub(super) param_type: ParamType,
    pub(super) description: Cow<'static, str>,
    /// Always true for path parameters.
    pub(super) required: bool,
}

fn query(name: &'static str, param_type: ParamType, description: &'static str) -> Parameter {
    Parameter {
        name,
        location: Location::Query,
        param_type,
        description: Cow::Borrowed(description),
        required: false,
    }
}

fn path(name: &'static str, description: Cow<'static, str>) -> Parameter {
    Parameter {
        name,
        location: Location::Path,
        param_type: ParamType::String,
        description,
        required: true,
    }
}

const FIELD_MANAGER: &str = "Name of the actor or entity making the change, recorded in \
    metadata.managedFields. At most 128 characters, all of them printable.";
const FIELD_MANAGER_PATCH: &str = "Name of the actor or entity making the change, recorded \
    in metadata.managedFields. At most 128 characters, all of them printable. Required for \
    apply patches (application/apply-patch+yaml), optional for the other patch types.";
const FIELD_VALIDATION: &str = "How the server treats unknown and duplicate fields in the \
    object: Ignore drops them silently, Warn (the default) drops them and adds a Warning \
    header for each, and Strict rejects the request with 400 Bad Request listing all of them.";

/// The parameters operations are built from.
pub(super) struct ParameterSet {
    delete_descriptions: Vec<(&'static str, String)>,
}

impl ParameterSet {
    /// Reads the descriptions of the delete options from the `DeleteOptions` definition.
    pub(super) fn new(definitions: &Definitions) -> Self {
        let properties = definitions
            .get(meta::DELETE_OPTIONS)
            .and_then(|schema| schema.get("properties"));
        let delete_descriptions = DELETE_OPTIONS
            .iter()
            .map(|(name, _)| {
                let description = properties
                    .and_then(|properties| properties.get(*name))
                    .and_then(|property| property.get("description"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (*name, description.to_string())
            })
            .collect();
        Self {
            delete_descriptions,
        }
    }

    /// Returns `pretty`, which every operation but the connect ones accepts.
    pub(super) fn pretty(&self) -> Parameter {
        query(
            "pretty",
            ParamType::String,
            "If 'true', the response body is indented for people to read.",
        )
    }

    /// Returns the `{namespace}` path parameter.
    pub(super) fn namespace(&self) -> Parameter {
        path(
            "namespace",
            Cow::Borrowed(
                "Namespace of the object: the scope of names and of authorization, such as a \
                 team or a project.",
            ),
        )
    }

    /// Returns the `{name}` path parameter of an object of `kind`.
    pub(super) fn name(&self, kind: &str) -> Parameter {
        path("name", Cow::Owned(format!("name of the {kind}")))
    }

    /// Returns the `{path}` path parameter of a proxy request.
    pub(super) fn proxy_path_segment(&self) -> Parameter {
        path(
            "path",
            Cow::Borrowed("Path of the request to proxy, after the proxy subresource."),
        )
    }

    /// Returns the parameters of list and watch operations.
    pub(super) fn list(&self) -> Vec<Parameter> {
        let mut parameters = vec![query(
            "allowWatchBookmarks",
            ParamType::Boolean,
            "Requests watch events of type BOOKMARK, which carry only the latest \
             resourceVersion. The server may send them at any time or not at all. Ignored \
             unless the request is a watch.",
        )];
        parameters.extend(self.list_selection());
        parameters.push(query(
            "watch",
            ParamType::Boolean,
            "Watch for changes to the selected objects and return them as a stream of ADDED, \
             MODIFIED and DELETED events. Start from a resourceVersion to miss no change.",
        ));
        parameters
    }

    /// Returns the parameters that select the objects of a list or delete-collection
    /// operation.
    fn list_selection(&self) -> Vec<Parameter> {
        vec![
            query(
                "continue",
                ParamType::String,
                "Token from metadata.continue of the previous page of a paginated list. When \
                 the token has expired the server returns 410 Gone with a fresh token, which \
                 continues from the latest state instead of the original snapshot. Not \
                 supported for watches.",
            ),
            query(
                "fieldSelector",
                ParamType::String,
                "Selects objects by field values, such as metadata.name=web or \
                 status.phase!=Running. Defaults to every object.",
            ),
            query(
                "labelSelector",
                ParamType::String,
                "Selects objects by their labels, such as app=web,tier in (frontend). \
                 Defaults to every object.",
            ),
            query(
                "limit",
                ParamType::Integer,
                "Maximum number of objects in one page of a list. When more objects remain, \
                 metadata.continue of the response holds the token for the next page; all \
                 pages of one list come from one consistent snapshot. Not supported for \
                 watches.",
            ),
            query(
                "resourceVersion",
                ParamType::String,
                "Constrains which resource version the request may be served from; see \
                 https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions. \
                 Defaults to unset.",
            ),
            query(
                "resourceVersionMatch",
                ParamType::String,
                "How resourceVersion applies to a list: Exact or NotOlderThan. Recommended \
                 whenever a list sets resourceVersion; see \
                 https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions. \
                 Defaults to unset.",
            ),
            query(
                "sendInitialEvents",
                ParamType::Boolean,
                "With watch=true, starts the stream with synthetic ADDED events for the \
                 current objects, then a BOOKMARK event annotated \
                 k8s.io/initial-events-end: \"true\" that carries the resourceVersion of that \
                 state. Requires resourceVersionMatch=NotOlderThan.",
            ),
            query(
                "timeoutSeconds",
                ParamType::Integer,
                "Maximum duration of the list or watch call in seconds, whatever the \
                 activity.",
            ),
        ]
    }

    /// Returns `dryRun`, with the description of `DeleteOptions.dryRun`.
    fn dry_run(&self) -> Parameter {
        self.delete_option("dryRun")
    }

    /// Returns the parameters of create and replace operations.
    pub(super) fn write(&self) -> Vec<Parameter> {
        vec![
            self.dry_run(),
            query("fieldManager", ParamType::String, FIELD_MANAGER),
            query("fieldValidation", ParamType::String, FIELD_VALIDATION),
        ]
    }

    /// Returns the parameters of patch operations.
    pub(super) fn patch(&self) -> Vec<Parameter> {
        vec![
            self.dry_run(),
            query("fieldManager", ParamType::String, FIELD_MANAGER_PATCH),
            query("fieldValidation", ParamType::String, FIELD_VALIDATION),
            query(
                "force",
                ParamType::Boolean,
                "Takes over the fields owned by other managers when an apply patch \
                 conflicts with them. Must be unset for the other patch types.",
            ),
        ]
    }

    /// Returns the parameters of delete operations: the query form of `DeleteOptions`.
    pub(super) fn delete(&self) -> Vec<Parameter> {
        DELETE_OPTIONS
            .iter()
            .map(|(name, _)| self.delete_option(name))
            .collect()
    }

    /// Returns the parameters of delete-collection operations.
    pub(super) fn delete_collection(&self) -> Vec<Parameter> {
        let mut parameters = self.delete();
        parameters.extend(self.list_selection());
        parameters
    }

    fn delete_option(&self, name: &str) -> Parameter {
        let (name, param_type) = DELETE_OPTIONS
            .iter()
            .copied()
            .find(|(option, _)| *option == name)
            .unwrap_or(("dryRun", ParamType::String));
        let description = self
            .delete_descriptions
            .iter()
            .find(|(option, _)| *option == name)
            .map(|(_, description)| description.clone())
            .unwrap_or_default();
        Parameter {
            name,
            location: Location::Query,
            param_type,
            description: Cow::Owned(description),
            required: false,
        }
    }

    /// Returns the query parameters of a connect subresource (`attach`, `exec`,
    /// `portforward`, `proxy`), or none for any other name.
    pub(super) fn connect(&self, subresource: &str) -> Vec<Parameter> {
        let streams = || {
            vec![
                query(
                    "container",
                    ParamType::String,
                    "Container to connect to. Defaults to the only container of the pod.",
                ),
                query(
                    "stderr",
                    ParamType::Boolean,
                    "Stream the standard error of the container.",
                ),
                query(
                    "stdin",
                    ParamType::Boolean,
                    "Stream the standard input of the container.",
                ),
                query(
                    "stdout",
                    ParamType::Boolean,
                    "Stream the standard output of the container.",
                ),
                query(
                    "tty",
                    ParamType::Boolean,
                    "Allocate a terminal for the session. Standard error then goes to \
                     standard output.",
                ),
            ]
        };
        match subresource {
            "attach" => streams(),
            "exec" => {
                let mut parameters = streams();
                parameters.push(query(
                    "command",
                    ParamType::String,
                    "Command to run, one argument per command parameter. It is not run in \
                     a shell.",
                ));
                parameters
            }
            "portforward" => vec![query(
                "ports",
                ParamType::Integer,
                "Ports of the pod to forward to; repeat the parameter for each port.",
            )],
            "proxy" => vec![query(
                "path",
                ParamType::String,
                "Path of the request to proxy.",
            )],
            _ => Vec::new(),
        }
    }

    /// Returns the query parameters of `pods/log`.
    pub(super) fn log(&self) -> Vec<Parameter> {
        vec![
            query(
                "container",
                ParamType::String,
                "Container whose log to return. Defaults to the only container of the pod.",
            ),
            query(
                "follow",
                ParamType::Boolean,
                "Keep the response open and stream the log as it grows.",
            ),
            query(
                "insecureSkipTLSVerifyBackend",
                ParamType::Boolean,
                "Skip verifying the serving certificate of the kubelet that returns the log, \
                 so the log may come from an impostor.",
            ),
            query(
                "limitBytes",
                ParamType::Integer,
                "Maximum number of bytes of log to return; the log may end in the middle of \
                 a line.",
            ),
            query(
                "previous",
                ParamType::Boolean,
                "Return the log of the previous, terminated instance of the container.",
            ),
            query(
                "sinceSeconds",
                ParamType::Integer,
                "Return only the lines logged in the last this many seconds.",
            ),
            query(
                "stream",
                ParamType::String,
                "Which stream to return: All (the default), Stdout or Stderr. Cannot be \
                 combined with tailLines.",
            ),
            query(
                "tailLines",
                ParamType::Integer,
                "Number of lines to return from the end of the log.",
            ),
            query(
                "timestamps",
                ParamType::Boolean,
                "Prefix every line with its RFC 3339 timestamp.",
            ),
        ]
    }
}

/// The fields of `DeleteOptions` that delete requests also take as query parameters.
const DELETE_OPTIONS: &[(&str, ParamType)] = &[
    ("dryRun", ParamType::String),
    ("gracePeriodSeconds", ParamType::Integer),
    (
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        ParamType::Boolean,
    ),
    ("orphanDependents", ParamType::Boolean),
    ("propagationPolicy", ParamType::String),
];

#[cfg(test)]
mod tests {
    use super::super::definitions;
    use super::super::kinds;
    use super::*;

    #[test]
    fn delete_options_take_schema_descriptions() {
        let definitions = definitions::build(&kinds::kinds());
        let parameters = ParameterSet::new(&definitions);
        for parameter in parameters.delete() {
            assert!(
                !parameter.description.is_empty(),
                "{} has no description",
                parameter.name
            );
            assert_eq!(parameter.location, Location::Query);
        }
        let grace = parameters.delete_option("gracePeriodSeconds");
        assert_eq!(grace.param_type, ParamType::Integer);
        assert!(
            grace.description.contains("seconds"),
            "{}",
            grace.description
        );
    }

    #[test]
    fn parameter_sets_have_expected_names() {
        let parameters = ParameterSet::new(&Definitions::new());
        let names = |list: Vec<Parameter>| list.iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(
            names(parameters.list()),
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
        assert_eq!(
            names(parameters.write()),
            ["dryRun", "fieldManager", "fieldValidation"]
        );
        assert_eq!(
            names(parameters.patch()),
            ["dryRun", "fieldManager", "fieldValidation", "force"]
        );
        assert_eq!(
            names(parameters.connect("exec")),
            ["container", "stderr", "stdin", "stdout", "tty", "command"]
        );
        assert!(parameters.connect("status").is_empty());
        assert!(parameters.name("Pod").required);
        assert!(!parameters.pretty().required);
    }
}
