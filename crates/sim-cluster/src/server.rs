//! The HTTP side: routes the Kubernetes REST paths (discovery, the verbs on
//! `/api/v1/...` and `/apis/<group>/<version>/...`, namespaced and
//! cluster-scoped, and the `/status` subresource) to the store, parses
//! query parameters and bodies, and injects the cluster-level faults.

use crate::Shared;
use crate::api_error::{ApiError, Reason, json_response};
use crate::fields::Scope;
use crate::resources::{self, ResourceInfo};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Op, WriteRequest};
use crate::watch;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The media type of an aggregated discovery document.
const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Largest request body accepted (the real API server's limit is 3 MiB).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The router of one cluster.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(middleware::from_fn_with_state(shared.clone(), faults))
        .with_state(shared)
}

/// Cluster-level faults: hang while the cluster is set to stop answering,
/// and add the configured latency.
async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared.faults.wait_answering().await;
    if shared.faults.unavailable() {
        return axum::response::IntoResponse::into_response(ApiError::new(
            Reason::ServiceUnavailable,
            "the server is currently unable to handle the request",
        ));
    }
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    next.run(request).await
}

/// Query parameters, in order of appearance.
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or_default())
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
        Ok(Query(pairs))
    }

    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    fn dry_run(&self) -> Result<bool, ApiError> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.as_str())
            .collect();
        match values.as_slice() {
            [] => Ok(false),
            ["All"] => Ok(true),
            other => Err(ApiError::invalid(
                "",
                "DryRun",
                "",
                &[(
                    "dryRun".into(),
                    format!("Unsupported value: {other:?}: supported values: \"All\""),
                )],
            )),
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let uri = request.uri().clone();
    let body = request.into_body();
    match route(&shared, &method, &headers, uri.path(), uri.query(), body).await {
        Ok(response) => response,
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

fn not_found_path() -> ApiError {
    ApiError::new(
        Reason::NotFound,
        "the server could not find the requested resource",
    )
}

async fn route(
    shared: &Arc<Shared>,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    query: Option<&str>,
    body: Body,
) -> Result<Response, ApiError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Aggregated discovery (one document for all groups) when the client
    // asks for it in Accept, as kube's `Discovery::run_aggregated` does.
    let aggregated = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("as=APIGroupDiscoveryList"));
    let query = Query::parse(query)?;
    let store = &shared.store;
    let ok = |v: Value| Ok(json_response(StatusCode::OK, &v));
    let discovery = |v: Value| -> Result<Response, ApiError> {
        if method == Method::GET {
            ok(v)
        } else {
            Err(ApiError::new(
                Reason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    let (group, version, rest): (&str, &str, &[&str]) = match segments.as_slice() {
        ["version"] => {
            return discovery(json!({
                "major": "1", "minor": "33", "gitVersion": "v1.33.0-sim.paas", "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "n/a", "compiler": "rustc", "platform": "linux/amd64",
            }));
        }
        ["healthz" | "readyz" | "livez"] => return Ok(Response::new(Body::from("ok"))),
        ["api" | "apis"] if aggregated => {
            let document = resources::aggregated(&store.all_resources(), segments[0] == "api");
            return if method == Method::GET {
                let bytes = serde_json::to_vec(&document).unwrap_or_default();
                Ok(axum::response::IntoResponse::into_response((
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, AGGREGATED_CONTENT_TYPE)],
                    bytes,
                )))
            } else {
                discovery(document)
            };
        }
        ["api"] => {
            return discovery(json!({
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
            }));
        }
        ["apis"] => return discovery(resources::group_list(&store.all_resources())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g] => {
            let list = resources::group_list(&store.all_resources());
            let group = list["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["name"] == *g)
                .cloned();
            let mut group = group.ok_or_else(not_found_path)?;
            group["kind"] = json!("APIGroup");
            group["apiVersion"] = json!("v1");
            return discovery(group);
        }
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found_path()),
    };
    if rest.is_empty() {
        let resources: Vec<ResourceInfo> = store
            .all_resources()
            .into_iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        if resources.is_empty() {
            return Err(not_found_path());
        }
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        return discovery(resources::resource_list(&gv, &resources));
    }
    let namespaced_path = rest[0] == "namespaces"
        && rest.len() >= 3
        && !(rest.len() == 3 && matches!(rest[2], "status" | "finalize"));
    let (ns, rest) = if namespaced_path {
        (Some(rest[1]), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(not_found_path()),
    };
    let info = store
        .resolve(group, version, plural)
        .ok_or_else(not_found_path)?;
    if (!info.namespaced && ns.is_some()) || (info.namespaced && ns.is_none() && name.is_some()) {
        return Err(not_found_path());
    }
    if sub == Some("log") && info.group.is_empty() && info.plural == "pods" {
        if method != Method::GET {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ));
        }
        let pod = store.get(&info, ns.unwrap_or_default(), name.unwrap_or_default())?;
        let text = crate::controllers::pod_log(&pod, query.get("container"), &shared.name)?;
        return Ok(axum::response::IntoResponse::into_response((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            text,
        )));
    }
    let scope = match sub {
        None => Scope::Main {
            status_subresource: info.status_subresource,
        },
        Some("status") if info.status_subresource => Scope::Status,
        Some(_) => return Err(not_found_path()),
    };
    let ns_str = ns.unwrap_or_default();
    let manager = query
        .get("fieldManager")
        .map(str::to_string)
        .or_else(|| {
            let agent = headers.get(header::USER_AGENT)?.to_str().ok()?;
            agent
                .split('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into());
    if manager.len() > 128 {
        return Err(ApiError::invalid(
            "",
            "PatchOptions",
            "",
            &[(
                "fieldManager".into(),
                "Too long: may not be more than 128 bytes".into(),
            )],
        ));
    }
    let dry_run = query.dry_run()?;

    match (method.clone(), name) {
        (Method::GET, None) => {
            let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
                .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
            let fields =
                FieldSelector::parse(query.get("fieldSelector").unwrap_or_default(), &info.kind)
                    .map_err(ApiError::bad_request)?;
            if query.flag("watch") {
                let params = watch::Params {
                    info,
                    namespace: ns.map(str::to_string),
                    labels,
                    fields,
                    resource_version: query.get("resourceVersion").map(str::to_string),
                    timeout: query
                        .get("timeoutSeconds")
                        .map(|t| t.parse::<u64>())
                        .transpose()
                        .map_err(|_| {
                            ApiError::bad_request("timeoutSeconds must be a non-negative integer")
                        })?,
                    bookmarks: query.flag("allowWatchBookmarks"),
                    send_initial_events: query.flag("sendInitialEvents"),
                };
                return watch::serve(shared.clone(), params);
            }
            // An exact list at a version the server no longer keeps.
            if query.get("resourceVersionMatch") == Some("Exact")
                && let Some(rv) = query
                    .get("resourceVersion")
                    .and_then(|v| v.parse::<u64>().ok())
                && store.subscribe_from(rv).is_err()
            {
                return Err(ApiError::new(
                    Reason::Gone,
                    "The resourceVersion for the provided list is too old.",
                ));
            }
            let (items, rv) = store.list(&info, ns, &labels, &fields);
            let limit =
                match query.get("limit") {
                    None => None,
                    Some(l) => Some(l.parse::<usize>().map_err(|_| {
                        ApiError::bad_request("limit must be a non-negative integer")
                    })?),
                };
            let page = paginate(
                items,
                rv,
                limit.filter(|l| *l > 0),
                query.get("continue"),
                store,
            )?;
            let mut metadata = json!({"resourceVersion": page.rv.to_string()});
            if let Some(token) = page.next {
                metadata["continue"] = json!(token);
                metadata["remainingItemCount"] = json!(page.remaining);
            }
            ok(json!({
                "kind": format!("{}List", info.kind),
                "apiVersion": info.api_version(),
                "metadata": metadata,
                "items": page.items,
            }))
        }
        (Method::GET, Some(name)) => ok(store.get(&info, ns_str, name)?),
        (Method::POST, None) => {
            if scope == Scope::Status || (info.namespaced && ns.is_none()) {
                return Err(ApiError::new(
                    Reason::MethodNotAllowed,
                    "the server does not allow this method on the requested resource",
                ));
            }
            let mut body = json_body(body).await?;
            let name = match body["metadata"]["name"].as_str() {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => match body["metadata"]["generateName"].as_str() {
                    Some(prefix) if !prefix.is_empty() => {
                        let name = format!("{prefix}{}", random_suffix());
                        crate::store::set_path(&mut body, &["metadata", "name"], json!(name));
                        name
                    }
                    _ => {
                        return Err(ApiError::invalid(
                            &info.group,
                            &info.kind,
                            "",
                            &[(
                                "metadata.name".into(),
                                "Required value: name or generateName is required".into(),
                            )],
                        ));
                    }
                },
            };
            let req = WriteRequest {
                scope,
                manager,
                dry_run,
                op: Op::Create(body),
            };
            let (object, _) = store.write(&info, ns_str, &name, req)?;
            Ok(json_response(StatusCode::CREATED, &object))
        }
        (Method::PUT, Some(name)) => {
            let body = json_body(body).await?;
            let req = WriteRequest {
                scope,
                manager,
                dry_run,
                op: Op::Replace(body),
            };
            let (object, created) = store.write(&info, ns_str, name, req)?;
            Ok(json_response(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &object,
            ))
        }
        (Method::PATCH, Some(name)) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .unwrap_or_default()
                .trim()
                .to_string();
            let bytes = read_body(body).await?;
            let op = match content_type.as_str() {
                "application/apply-patch+yaml" => {
                    // Apply needs an explicit manager (no User-Agent default).
                    if query.get("fieldManager").is_none_or(str::is_empty) {
                        return Err(ApiError::bad_request(
                            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                        ));
                    }
                    let config: Value = serde_yaml::from_slice(&bytes)
                        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
                    Op::Apply {
                        config,
                        force: query.flag("force"),
                    }
                }
                "application/merge-patch+json" => Op::MergePatch(parse_json(&bytes)?),
                "application/strategic-merge-patch+json" => {
                    if !info.group.is_empty() && is_custom(&info) {
                        return Err(ApiError::new(
                            Reason::UnsupportedMediaType,
                            "the body of the request was in an unknown format - accepted media types include: \
                             application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                        ));
                    }
                    Op::StrategicPatch(parse_json(&bytes)?)
                }
                "application/json-patch+json" => Op::JsonPatch(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?,
                ),
                other => {
                    return Err(ApiError::new(
                        Reason::UnsupportedMediaType,
                        format!(
                            "the body of the request was in an unknown format - accepted media types include: \
                         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, \
                         application/strategic-merge-patch+json (got {other:?})"
                        ),
                    ));
                }
            };
            if query.flag("force") && !matches!(op, Op::Apply { .. }) {
                return Err(ApiError::invalid(
                    "",
                    "PatchOptions",
                    "",
                    &[(
                        "force".into(),
                        "Forbidden: may not be specified for non-apply patch".into(),
                    )],
                ));
            }
            let req = WriteRequest {
                scope,
                manager,
                dry_run,
                op,
            };
            let (object, created) = store.write(&info, ns_str, name, req)?;
            Ok(json_response(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &object,
            ))
        }
        (Method::DELETE, Some(name)) => {
            if scope == Scope::Status {
                return Err(ApiError::new(
                    Reason::MethodNotAllowed,
                    "the server does not allow this method on the requested resource",
                ));
            }
            let options = read_body(body).await?;
            let options: Value = if options.is_empty() {
                json!({})
            } else {
                parse_json(&options)?
            };
            let dry_run = dry_run
                || options["dryRun"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "All"));
            let policy = query
                .get("propagationPolicy")
                .or(options["propagationPolicy"].as_str());
            if let Some(p) = policy
                && !matches!(p, "Orphan" | "Background" | "Foreground")
            {
                return Err(ApiError::bad_request(format!(
                    "invalid propagationPolicy {p:?}"
                )));
            }
            if let Some(uid) = options["preconditions"]["uid"].as_str() {
                let current = store.get(&info, ns_str, name)?;
                if current["metadata"]["uid"].as_str() != Some(uid) {
                    return Err(ApiError::new(
                        Reason::Conflict,
                        format!(
                            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                            current["metadata"]["uid"].as_str().unwrap_or_default()
                        ),
                    ));
                }
            }
            let object = store.delete(&info, ns_str, name, dry_run, policy == Some("Orphan"))?;
            ok(object)
        }
        (Method::DELETE, None) => {
            let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
                .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
            let fields =
                FieldSelector::parse(query.get("fieldSelector").unwrap_or_default(), &info.kind)
                    .map_err(ApiError::bad_request)?;
            let (items, _) = store.list(&info, ns, &labels, &fields);
            let mut deleted = Vec::new();
            for item in items {
                let item_ns = item["metadata"]["namespace"].as_str().unwrap_or_default();
                let item_name = item["metadata"]["name"].as_str().unwrap_or_default();
                if let Ok(object) = store.delete(&info, item_ns, item_name, dry_run, false) {
                    deleted.push(object);
                }
            }
            ok(json!({
                "kind": format!("{}List", info.kind),
                "apiVersion": info.api_version(),
                "metadata": {"resourceVersion": store.resource_version().to_string()},
                "items": deleted,
            }))
        }
        _ => Err(ApiError::new(
            Reason::MethodNotAllowed,
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// Whether a resource comes from a CRD (strategic merge patch is not
/// supported for custom resources).
fn is_custom(info: &ResourceInfo) -> bool {
    !resources::builtins()
        .iter()
        .any(|b| b.group == info.group && b.plural == info.plural)
}

pub(crate) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::new(
            Reason::RequestEntityTooLarge,
            format!("the request body is larger than {BODY_LIMIT} bytes or could not be read"),
        )
    })
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

async fn json_body(body: Body) -> Result<Value, ApiError> {
    let value = parse_json(&read_body(body).await?)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

/// One page of a list.
struct Page {
    items: Vec<Value>,
    rv: u64,
    next: Option<String>,
    remaining: usize,
}

/// `limit` and `continue`: items come in (namespace, name) order; the token
/// records the list's resourceVersion and the last key returned. Later pages
/// show the current objects after that key (a real server serves them from
/// the first page's snapshot); a token older than the watch history is 410.
fn paginate(
    items: Vec<Value>,
    rv: u64,
    limit: Option<usize>,
    token: Option<&str>,
    store: &crate::store::Store,
) -> Result<Page, ApiError> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // (namespace, name): the order the store lists in.
    let key = |o: &Value| {
        (
            o["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let (list_rv, after) = match token.filter(|t| !t.is_empty()) {
        None => (rv, None),
        Some(token) => {
            let decoded: Value = engine
                .decode(token)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
            let (Some(token_rv), Some(ns), Some(name)) = (
                decoded["rv"].as_u64(),
                decoded["ns"].as_str(),
                decoded["name"].as_str(),
            ) else {
                return Err(ApiError::bad_request("continue key is not valid"));
            };
            if store.subscribe_from(token_rv).is_err() {
                return Err(ApiError::new(
                    Reason::Gone,
                    "The provided continue parameter is too old to display a consistent list result. \
                     You can start a new list without the continue parameter.",
                ));
            }
            (token_rv, Some((ns.to_string(), name.to_string())))
        }
    };
    let mut rest: Vec<Value> = items
        .into_iter()
        .filter(|o| after.as_ref().is_none_or(|a| key(o) > *a))
        .collect();
    let Some(limit) = limit.filter(|l| *l < rest.len()) else {
        return Ok(Page {
            items: rest,
            rv: list_rv,
            next: None,
            remaining: 0,
        });
    };
    let remaining = rest.split_off(limit);
    let (ns, name) = rest.last().map(key).unwrap_or_default();
    let token = json!({"rv": list_rv, "ns": ns, "name": name});
    let token = engine.encode(serde_json::to_vec(&token).unwrap_or_default());
    Ok(Page {
        items: rest,
        rv: list_rv,
        next: Some(token),
        remaining: remaining.len(),
    })
}
