//! `watch=true`: a chunked stream of newline-delimited watch events
//! (`{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}`).
//!
//! Without a resourceVersion (or with "0") the stream starts with an ADDED
//! event per existing object; with one, it replays every change after it
//! from the history, or sends an ERROR event with a 410 status when that
//! version is no longer kept. It ends after `timeoutSeconds`, when the
//! cluster is wiped, or when the watcher falls too far behind.

use crate::Shared;
use crate::api_error::ApiError;
use crate::resources::ResourceInfo;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, ChangeType};
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// What a watch request asked for.
pub struct Params {
    /// The resource watched.
    pub info: ResourceInfo,
    /// The namespace, or None for all.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `resourceVersion` to start after.
    pub resource_version: Option<String>,
    /// `timeoutSeconds`.
    pub timeout: Option<u64>,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
    /// `sendInitialEvents`: start with the current objects whatever the
    /// resourceVersion, then a BOOKMARK marking the end of them.
    pub send_initial_events: bool,
}

impl Params {
    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches(obj)
    }

    /// The event a change means to this watcher, if any.
    fn event(&self, change: &Change) -> Option<Value> {
        if change.key != self.info.storage_key()
            || self
                .namespace
                .as_deref()
                .is_some_and(|ns| ns != change.namespace)
        {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
        let kind = match change.kind {
            ChangeType::Added if now => "ADDED",
            ChangeType::Modified if now && before => "MODIFIED",
            ChangeType::Modified if now => "ADDED",
            ChangeType::Modified if before => "DELETED",
            ChangeType::Deleted if now => "DELETED",
            _ => return None,
        };
        Some(json!({"type": kind, "object": change.object}))
    }
}

struct Stream {
    shared: Arc<Shared>,
    params: Params,
    pending: VecDeque<Value>,
    receiver: Option<broadcast::Receiver<Arc<Change>>>,
    last_rv: u64,
    deadline: Option<Instant>,
    next_bookmark: Option<Instant>,
    bookmark_every: Duration,
    faults: tokio::sync::watch::Receiver<crate::FaultState>,
}

/// Starts a watch response.
pub fn serve(shared: Arc<Shared>, params: Params) -> Result<Response, ApiError> {
    let store = &shared.store;
    let mut pending = VecDeque::new();
    let start = match params.resource_version.as_deref() {
        _ if params.send_initial_events => None,
        None | Some("" | "0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?,
        ),
    };
    let from = match start {
        Some(rv) => rv,
        None => {
            let (items, rv) = store.list(
                &params.info,
                params.namespace.as_deref(),
                &params.labels,
                &params.fields,
            );
            pending.extend(
                items
                    .into_iter()
                    .map(|o| json!({"type": "ADDED", "object": o})),
            );
            if params.send_initial_events {
                pending.push_back(json!({"type": "BOOKMARK", "object": {
                    "kind": params.info.kind, "apiVersion": params.info.api_version(),
                    "metadata": {
                        "resourceVersion": rv.to_string(),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }}));
            }
            rv
        }
    };
    let (receiver, last_rv) = match store.subscribe_from(from) {
        Ok((replay, receiver, current)) => {
            pending.extend(replay.iter().filter_map(|c| params.event(c)));
            (Some(receiver), current.max(from))
        }
        Err(oldest) => {
            pending.push_back(json!({"type": "ERROR", "object": {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {from} ({oldest})"),
                "reason": "Expired", "code": 410,
            }}));
            (None, from)
        }
    };
    let bookmark_every = shared.timing.bookmark_interval;
    let now = Instant::now();
    let stream = Stream {
        deadline: params.timeout.map(|t| now + Duration::from_secs(t)),
        next_bookmark: params.bookmarks.then(|| now + bookmark_every),
        shared: shared.clone(),
        params,
        pending,
        receiver,
        last_rv,
        bookmark_every,
        faults: shared.faults.subscribe(),
    };
    let body = Body::from_stream(futures_util::stream::unfold(stream, next_chunk));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn next_chunk(mut s: Stream) -> Option<(Result<Bytes, Infallible>, Stream)> {
    loop {
        // An unavailable server ends its watches (clients re-watch and get 503).
        if s.shared.faults.unavailable() {
            return None;
        }
        if let Some(event) = s.pending.pop_front() {
            // A cluster told to stop answering stalls its open watches too.
            s.shared.faults.wait_answering().await;
            let mut line = serde_json::to_vec(&event).unwrap_or_default();
            line.push(b'\n');
            return Some((Ok(Bytes::from(line)), s));
        }
        let receiver = s.receiver.as_mut()?;
        let deadline = s.deadline;
        let bookmark = s.next_bookmark;
        tokio::select! {
            _ = sleep_until(deadline) => return None,
            changed = s.faults.changed() => if changed.is_err() { return None },
            _ = sleep_until(bookmark) => {
                s.next_bookmark = Some(Instant::now() + s.bookmark_every);
                s.pending.push_back(json!({"type": "BOOKMARK", "object": {
                    "kind": s.params.info.kind, "apiVersion": s.params.info.api_version(),
                    "metadata": {"resourceVersion": s.last_rv.to_string()},
                }}));
            }
            received = receiver.recv() => match received {
                Ok(change) if change.kind == ChangeType::Reset => return None,
                Ok(change) => {
                    if change.rv > s.last_rv {
                        s.last_rv = change.rv;
                        if let Some(event) = s.params.event(&change) {
                            s.pending.push_back(event);
                        }
                    }
                }
                // Too far behind, or the cluster is gone: end the stream so
                // the client re-lists or resumes.
                Err(_) => return None,
            },
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
