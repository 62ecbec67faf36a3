//! Query parameters and bodies of the typed client's requests.

use serde_json::{Value, json};

use crate::rest::Request;

/// Options of a list (and the selectors of a watch).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListParams {
    /// `labelSelector`, such as `app=web,tier!=db`.
    pub label_selector: Option<String>,
    /// `fieldSelector`, such as `spec.nodeName=node-1`.
    pub field_selector: Option<String>,
    /// `limit`: the page size; `None` lets the server return everything.
    pub limit: Option<u32>,
    /// `continue`: the token of the previous page.
    pub continue_token: Option<String>,
    /// `resourceVersion`: `"0"` lets the server answer from its cache.
    pub resource_version: Option<String>,
    /// `timeoutSeconds` of the request (lists and watches).
    pub timeout_seconds: Option<u32>,
}

impl ListParams {
    /// Sets the label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_string());
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the continue token of the next page.
    pub fn continue_token(mut self, token: &str) -> Self {
        self.continue_token = Some(token.to_string());
        self
    }

    /// Sets the resourceVersion to list at.
    pub fn at(mut self, resource_version: &str) -> Self {
        self.resource_version = Some(resource_version.to_string());
        self
    }

    pub(crate) fn apply_selectors(&self, mut request: Request) -> Request {
        if let Some(selector) = self.label_selector.as_deref().filter(|s| !s.is_empty()) {
            request = request.query("labelSelector", selector);
        }
        if let Some(selector) = self.field_selector.as_deref().filter(|s| !s.is_empty()) {
            request = request.query("fieldSelector", selector);
        }
        request
    }

    pub(crate) fn apply(&self, mut request: Request) -> Request {
        request = self.apply_selectors(request);
        if let Some(limit) = self.limit {
            request = request.query("limit", &limit.to_string());
        }
        if let Some(token) = self.continue_token.as_deref().filter(|t| !t.is_empty()) {
            request = request.query("continue", token);
        }
        if let Some(version) = &self.resource_version {
            request = request.query("resourceVersion", version);
        }
        if let Some(seconds) = self.timeout_seconds {
            request = request.query("timeoutSeconds", &seconds.to_string());
        }
        request
    }
}

/// Options of a create.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostParams {
    /// `dryRun=All`: validate without persisting.
    pub dry_run: bool,
    /// `fieldManager`: the manager name recorded in managedFields.
    pub field_manager: Option<String>,
}

impl PostParams {
    pub(crate) fn apply(&self, mut request: Request) -> Request {
        if self.dry_run {
            request = request.query("dryRun", "All");
        }
        if let Some(manager) = &self.field_manager {
            request = request.query("fieldManager", manager);
        }
        request
    }
}

/// Options of a patch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatchParams {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldManager`, required for server-side apply.
    pub field_manager: Option<String>,
    /// `force=true`: take over conflicting fields in a server-side apply.
    pub force: bool,
}

impl PatchParams {
    /// Parameters of a server-side apply by `manager`.
    pub fn apply_as(manager: &str) -> Self {
        Self {
            field_manager: Some(manager.to_string()),
            ..Self::default()
        }
    }

    pub(crate) fn apply(&self, mut request: Request) -> Request {
        if self.dry_run {
            request = request.query("dryRun", "All");
        }
        if let Some(manager) = &self.field_manager {
            request = request.query("fieldManager", manager);
        }
        if self.force {
            request = request.query("force", "true");
        }
        request
    }
}

/// The preconditions of a delete: it fails with Conflict unless they hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Preconditions {
    /// The object's UID must be this.
    pub uid: Option<String>,
    /// The object's resourceVersion must be this.
    pub resource_version: Option<String>,
}

/// Options of a delete, sent as a meta/v1 DeleteOptions body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteParams {
    /// `gracePeriodSeconds`; 0 deletes at once.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy`: `Orphan`, `Background` or `Foreground`.
    pub propagation_policy: Option<String>,
    /// Conditions the object must meet.
    pub preconditions: Option<Preconditions>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteParams {
    /// Deletes in the background (dependents are collected afterwards).
    pub fn background() -> Self {
        Self {
            propagation_policy: Some("Background".to_string()),
            ..Self::default()
        }
    }

    /// Deletes in the foreground (the object waits for its dependents).
    pub fn foreground() -> Self {
        Self {
            propagation_policy: Some("Foreground".to_string()),
            ..Self::default()
        }
    }

    /// Orphans the dependents.
    pub fn orphan() -> Self {
        Self {
            propagation_policy: Some("Orphan".to_string()),
            ..Self::default()
        }
    }

    /// Sets the grace period in seconds.
    pub fn grace_period(mut self, seconds: i64) -> Self {
        self.grace_period_seconds = Some(seconds);
        self
    }

    pub(crate) fn apply(&self, request: Request) -> Request {
        if self.dry_run {
            request.query("dryRun", "All")
        } else {
            request
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut body = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
        if let Some(seconds) = self.grace_period_seconds {
            body["gracePeriodSeconds"] = json!(seconds);
        }
        if let Some(policy) = &self.propagation_policy {
            body["propagationPolicy"] = json!(policy);
        }
        if let Some(pre) = &self.preconditions {
            let mut value = json!({});
            if let Some(uid) = &pre.uid {
                value["uid"] = json!(uid);
            }
            if let Some(version) = &pre.resource_version {
                value["resourceVersion"] = json!(version);
            }
            body["preconditions"] = value;
        }
        if self.dry_run {
            body["dryRun"] = json!(["All"]);
        }
        body
    }
}

/// Options of a pod log read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogParams {
    /// The container; required when the pod has more than one.
    pub container: Option<String>,
    /// Keep the stream open and return once it ends.
    pub follow: bool,
    /// Only the last this many lines.
    pub tail_lines: Option<i64>,
    /// The log of the previous, terminated container instance.
    pub previous: bool,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// Prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
}

impl LogParams {
    pub(crate) fn apply(&self, mut request: Request) -> Request {
        if let Some(container) = &self.container {
            request = request.query("container", container);
        }
        if self.follow {
            request = request.query("follow", "true");
        }
        if let Some(lines) = self.tail_lines {
            request = request.query("tailLines", &lines.to_string());
        }
        if self.previous {
            request = request.query("previous", "true");
        }
        if let Some(seconds) = self.since_seconds {
            request = request.query("sinceSeconds", &seconds.to_string());
        }
        if self.timestamps {
            request = request.query("timestamps", "true");
        }
        if let Some(bytes) = self.limit_bytes {
            request = request.query("limitBytes", &bytes.to_string());
        }
        request
    }
}
