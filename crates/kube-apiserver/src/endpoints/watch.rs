//! Watch responses: a chunked stream of `{"type":..,"object":..}` lines from the
//! resource's cacher, ending when `timeoutSeconds` passes, the client goes away, or
//! the cacher ends the watch (an ERROR event with 410 Expired).
//!
//! A watch that asks for Tables (`kubectl get -w`) gets each object as a Table of
//! one row; only its first event carries the column definitions, as upstream sends.

use std::time::Duration;

use apimachinery::errors::StatusError;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, Response, header};
use rand::Rng;
use serde_json::{Value, json};
use storage::cacher::{CacheEvent, WatchEventType, Watcher};
use tokio::sync::mpsc;

use super::body::ApiBody;
use super::response::{ApiResponse, Representation};
use super::{Handler, Query};
use crate::registry::store::{ListParams, Store};

/// Upstream's `--min-request-timeout`: watches without `timeoutSeconds` last between
/// this and twice this, at random, so clients do not reconnect in step.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

/// Frames buffered per watch between the cacher and the connection.
const CHANNEL_FRAMES: usize = 4;

/// Annotation of the bookmark that ends the initial events of a streaming list.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

pub async fn serve(
    handler: &Handler,
    store: &Store,
    namespace: &str,
    params: ListParams,
    query: &Query,
    representation: Representation,
) -> Result<ApiResponse, StatusError> {
    let table = match representation {
        Representation::Table => Some(crate::tables::TableOptions {
            include_object: query.get("includeObject").unwrap_or("").parse().map_err(
                |error: crate::tables::UnsupportedIncludeObject| error.to_status_error(),
            )?,
            ..Default::default()
        }),
        Representation::Object | Representation::Metadata => None,
    };
    let requested = match query.get("timeoutSeconds") {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| StatusError::bad_request(format!("invalid timeoutSeconds: {text}")))?,
        ),
    };
    let timeout = match requested.filter(|seconds| *seconds > 0) {
        // Capped at a year so that the deadline never overflows.
        Some(seconds) => Duration::from_secs(seconds.min(365 * 24 * 3600) as u64),
        None => {
            let seconds = MIN_REQUEST_TIMEOUT.as_secs();
            Duration::from_secs(rand::rng().random_range(seconds..=2 * seconds))
        }
    };
    let send_initial_events = query.flag("sendInitialEvents");

    let (sender, receiver) = mpsc::channel::<Bytes>(CHANNEL_FRAMES);
    let mut encoder = FrameEncoder::new(store, table);

    // A streaming list: the current state as ADDED events, a bookmark marking their
    // end, then the changes after the list's revision.
    let mut initial_frames = Vec::new();
    let mut params = params;
    if send_initial_events {
        if params.resource_version_match.as_deref() != Some("NotOlderThan") {
            return Err(StatusError::bad_request(
                "sendInitialEvents is forbidden unless resourceVersionMatch is NotOlderThan",
            ));
        }
        let mut list_params = params.clone();
        list_params.limit = 0;
        // An empty resourceVersion asks for the latest data: a consistent read.
        if list_params
            .resource_version
            .as_deref()
            .is_none_or(str::is_empty)
        {
            list_params.resource_version = None;
            list_params.resource_version_match = None;
        }
        let listed = store.list(namespace, &list_params).await?;
        for item in &listed.items {
            initial_frames.push(encoder.object_frame("ADDED", item));
        }
        initial_frames.push(encoder.bookmark(listed.resource_version, true));
        params.resource_version = Some(listed.resource_version.to_string());
        params.resource_version_match = None;
    }

    let watcher = match store.watch(namespace, &params).await {
        Ok(watcher) => Some(watcher),
        // Upstream reports an expired start as an ERROR event on a 200 stream.
        Err(error) if error.code() == 410 => {
            initial_frames.push(error_frame(&error));
            None
        }
        Err(error) => return Err(error),
    };

    handler.metrics.longrunning.inc();
    let longrunning = handler.metrics.longrunning.clone();
    tokio::spawn(async move {
        for frame in initial_frames {
            if sender.send(frame).await.is_err() {
                longrunning.dec();
                return;
            }
        }
        if let Some(watcher) = watcher {
            pump(watcher, encoder, sender, timeout).await;
        }
        longrunning.dec();
    });

    let mut response = Response::new(ApiBody::Stream(receiver));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(response)
}

/// Moves events from the watcher to the connection until one side ends.
async fn pump(
    mut watcher: Watcher,
    mut encoder: FrameEncoder,
    sender: mpsc::Sender<Bytes>,
    timeout: Duration,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let next = tokio::select! {
            next = watcher.next() => next,
            _ = tokio::time::sleep_until(deadline) => return,
            _ = sender.closed() => return,
        };
        let frame = match next {
            None => return,
            Some(Ok(event)) => encoder.event(&event),
            Some(Err(storage::Error::Compacted {
                requested,
                compacted,
            })) => {
                let error = StatusError::too_old_resource_version(
                    requested.max(0) as u64,
                    compacted.max(0) as u64,
                );
                let _ = sender.send(error_frame(&error)).await;
                return;
            }
            Some(Err(error)) => {
                tracing::debug!(error = %error, "watch ended by the cacher");
                return;
            }
        };
        if sender.send(frame).await.is_err() {
            return;
        }
    }
}

/// Encodes watch frames of one resource.
#[derive(Clone)]
struct FrameEncoder {
    kind: &'static str,
    api_version: String,
    group: &'static str,
    resource: &'static str,
    /// `Some` when the client asked for Tables.
    table: Option<crate::tables::TableOptions>,
    /// Whether the column definitions were sent already (Table watches only).
    sent_headers: bool,
    /// Set when the resource is served in another version than stored.
    converter: Option<std::sync::Arc<dyn crate::registry::conversion::VersionConverter>>,
}

impl FrameEncoder {
    fn new(store: &Store, table: Option<crate::tables::TableOptions>) -> FrameEncoder {
        FrameEncoder {
            kind: store.info.kind,
            api_version: store.info.group_version().api_version(),
            group: store.info.group,
            resource: store.info.resource,
            table,
            sent_headers: false,
            converter: store.converter(),
        }
    }

    /// Converts a served object into its Table of one row.
    fn table_object(&self, object: &[u8], with_headers: bool) -> Result<Bytes, String> {
        let Some(mut options) = self.table else {
            return Ok(Bytes::copy_from_slice(object));
        };
        options.no_headers = !with_headers;
        let value: Value = serde_json::from_slice(object).map_err(|error| error.to_string())?;
        let list_meta = json!({"resourceVersion": value.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
        let table = crate::tables::table_with_options(
            self.group,
            self.resource,
            &[value],
            options,
            list_meta,
            std::time::SystemTime::now(),
        );
        serde_json::to_vec(&table)
            .map(Bytes::from)
            .map_err(|error| error.to_string())
    }

    /// Builds the frame of a served object in the requested representation.
    fn object_frame(&mut self, event_type: &str, object: &[u8]) -> Bytes {
        let with_headers = !self.sent_headers;
        self.sent_headers = true;
        match self.table_object(object, with_headers) {
            Ok(converted) => self.frame(event_type, &converted),
            Err(error) => error_frame(&StatusError::internal_error(error)),
        }
    }

    /// Builds `{"type":"<type>","object":<object>}` followed by a newline.
    fn frame(&self, event_type: &str, object: &[u8]) -> Bytes {
        let mut frame = BytesMut::with_capacity(object.len() + 32);
        frame.put_slice(b"{\"type\":\"");
        frame.put_slice(event_type.as_bytes());
        frame.put_slice(b"\",\"object\":");
        frame.put_slice(object);
        frame.put_slice(b"}\n");
        frame.freeze()
    }

    fn bookmark(&self, revision: i64, initial_events_end: bool) -> Bytes {
        let mut metadata =
            json!({"resourceVersion": revision.to_string(), "creationTimestamp": null});
        if initial_events_end {
            metadata["annotations"] = json!({ INITIAL_EVENTS_END: "true" });
        }
        let object =
            json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata});
        self.frame("BOOKMARK", &serde_json::to_vec(&object).unwrap_or_default())
    }

    /// Encodes a cacher event, once per event and encoding however many watchers
    /// send it.
    fn event(&mut self, event: &CacheEvent) -> Bytes {
        if event.event_type == WatchEventType::Bookmark {
            return self.bookmark(event.revision, false);
        }
        let with_headers = self.table.is_some() && !self.sent_headers;
        self.sent_headers = true;
        let encoder = match (self.table.is_some(), with_headers) {
            (false, _) => "json",
            (true, true) => "table-with-headers",
            (true, false) => "table",
        };
        let this = &*self;
        let encoded = event.encoded_frame(encoder, |event| {
            let object = crate::registry::store::served_bytes(
                this.converter.as_deref(),
                &event.object.kv.value,
                event.object.kv.mod_revision,
            );
            let object = this.table_object(&object, with_headers)?;
            Ok(this.frame(event.event_type.as_str(), &object))
        });
        match encoded {
            Ok(frame) => frame,
            Err(error) => {
                tracing::error!(error = %error, "failed to encode a watch event");
                error_frame(&StatusError::internal_error(error.to_string()))
            }
        }
    }
}

fn error_frame(error: &StatusError) -> Bytes {
    let status: Value = error.to_json();
    let mut frame =
        serde_json::to_vec(&json!({"type": "ERROR", "object": status})).unwrap_or_default();
    frame.push(b'\n');
    Bytes::from(frame)
}
