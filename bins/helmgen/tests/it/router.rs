//! The router without a socket: every route of the contract, and a
//! snapshot of the problem document of every error status.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use helmgen::Config;
use manifests::pipeline::{Request as RenderRequest, render_source};
use platform_config::Platform;
use serde_json::json;

use crate::{TODAY, app, fixture, get, post, send, state_with};

const TOML: &str = "application/toml";
const TINY_PROD: &str = "name = \"tiny\"\nreplicas = 1\n[engine]\nname = \"golang\"\n";

/// Sends `request` to a fresh router and snapshots status, content type and
/// problem document under `name`.
async fn check(name: &str, request: Request<Body>, expect: StatusCode) {
    let (_, router) = app();
    check_with(&router, name, request, expect).await;
}

async fn check_with(router: &axum::Router, name: &str, request: Request<Body>, expect: StatusCode) {
    let reply = send(router, request).await;
    assert_eq!(
        reply.status,
        expect,
        "{name}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type"),
        "application/problem+json",
        "{name}"
    );
    let doc = reply.json();
    assert_eq!(doc["status"], json!(expect.as_u16()), "{name}");
    insta::assert_json_snapshot!(name, doc);
}

fn oracle(source: &[u8], env: &str) -> manifests::Rendered {
    let request = RenderRequest {
        file_name: "app.toml".into(),
        service: None,
        environment: env.into(),
        cluster: None,
        version: 1,
        image_tag: "abc123".into(),
        strategy: None,
        previous_version: None,
        canary_weight: None,
        explain: false,
        today: TODAY,
    };
    render_source(source, &Platform::builtin(), &request).unwrap()
}

#[tokio::test]
async fn render_toml_to_yaml_is_the_library_output() {
    let (state, router) = app();
    let source = fixture("fixtures/app-toml/ok/wordcounter.toml");
    let reply = send(
        &router,
        post("/v1/render?env=prod&image_tag=abc123", TOML, source.clone()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), "application/yaml");
    assert_eq!(
        reply.header("x-platform-version"),
        state.platform().version_id
    );
    assert!(!reply.header("x-request-id").is_empty());
    assert_eq!(reply.text(), oracle(&source, "prod").to_yaml().unwrap());
}

#[tokio::test]
async fn render_json_body_to_json() {
    let (_, router) = app();
    let source = String::from_utf8(fixture("fixtures/app-toml/ok/wordcounter.toml")).unwrap();
    let body = json!({"app_toml": source, "env": "staging", "image_tag": "abc123"});
    let mut request = post(
        "/v1/render",
        "application/json; charset=utf-8",
        body.to_string(),
    );
    request
        .headers_mut()
        .insert("accept", "application/json".parse().unwrap());
    let reply = send(&router, request).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), "application/json");
    let expected = oracle(source.as_bytes(), "staging")
        .to_json_value()
        .unwrap();
    assert_eq!(reply.json(), expected);
    assert!(reply.json()["stages"]["application"].is_array());
}

#[tokio::test]
async fn query_and_body_must_agree() {
    check(
        "conflicting-env",
        post(
            "/v1/render?env=prod",
            "application/json",
            json!({"app_toml": TINY_PROD, "env": "dev", "image_tag": "a1"}).to_string(),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_toml_is_400() {
    check(
        "bad-toml",
        post(
            "/v1/render?env=prod&image_tag=abc123",
            TOML,
            fixture("fixtures/app-toml/err/syntax-unclosed-array.toml"),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn not_utf8_is_400() {
    check(
        "not-utf8",
        post(
            "/v1/render?env=prod&image_tag=abc123",
            TOML,
            fixture("fixtures/app-toml/err/not-utf8.toml"),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_json_is_400_with_position() {
    check(
        "bad-json",
        post(
            "/v1/render?env=prod",
            "application/json",
            "{\"app_toml\": \n 3}",
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_query_values_are_400_all_at_once() {
    check(
        "bad-query",
        post(
            "/v1/render?env=prod&version=three&strategy=big-bang&canary_weigth=5",
            TOML,
            TINY_PROD,
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn unknown_environment_is_400() {
    check(
        "unknown-env",
        post("/v1/render?env=qa&image_tag=abc123", TOML, TINY_PROD),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn unknown_cluster_is_400() {
    check(
        "unknown-cluster",
        post(
            "/v1/render?env=dev&cluster=mars-1&image_tag=abc123",
            TOML,
            TINY_PROD,
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_image_tag_is_400() {
    check(
        "bad-image-tag",
        post("/v1/render?env=dev&image_tag=-latest-", TOML, TINY_PROD),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn invalid_app_toml_is_422() {
    check(
        "invalid-app-toml",
        post(
            "/v1/render?env=prod&image_tag=abc123",
            TOML,
            fixture("fixtures/app-toml/err/seed-typos.toml"),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn policy_violation_is_422() {
    check(
        "policy-violation",
        post("/v1/render?env=prod&image_tag=abc123", TOML, TINY_PROD),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn unknown_route_is_404() {
    check("not-found", get("/v2/render"), StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn wrong_method_is_405() {
    check(
        "method-not-allowed",
        get("/v1/render"),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    let (_, router) = app();
    let reply = send(&router, post("/v1/platform", TOML, "")).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn body_over_the_limit_is_413_before_parsing() {
    let router = helmgen::app(state_with(Config {
        max_body: 1024,
        ..Config::default()
    }));
    // Not even TOML: the limit comes first. Without Content-Length (as in
    // a chunked upload) the body is cut off while it is read.
    let big = vec![0xffu8; 4096];
    check_with(
        &router,
        "too-large",
        post("/v1/render?env=prod&image_tag=abc123", TOML, big.clone()),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // With a declared length, the body is refused before it is read.
    let mut request = post("/v1/render?env=prod&image_tag=abc123", TOML, big);
    request
        .headers_mut()
        .insert("content-length", "4096".parse().unwrap());
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn other_content_types_are_415() {
    check(
        "unsupported-media-type",
        post(
            "/v1/render?env=prod&image_tag=abc123",
            "application/x-www-form-urlencoded",
            TINY_PROD,
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    let (_, router) = app();
    let reply = send(&router, post("/v1/render?env=prod", "", TINY_PROD)).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn draining_is_503_and_not_ready() {
    let (state, router) = app();
    let ready = send(&router, get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    state.start_draining();
    check_with(
        &router,
        "draining",
        post("/v1/render?env=prod&image_tag=abc123", TOML, TINY_PROD),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let ready = send(&router, get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.header("retry-after"), "1");
    // Liveness stays green: the process is healthy, only leaving.
    assert_eq!(send(&router, get("/healthz")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn schema_platform_and_health() {
    let (state, router) = app();
    let schema = send(&router, get("/v1/schema/app-toml")).await;
    assert_eq!(schema.status, StatusCode::OK);
    assert_eq!(schema.header("content-type"), "application/schema+json");
    assert_eq!(schema.json(), app_toml::json_schema());

    let platform = send(&router, get("/v1/platform")).await;
    assert_eq!(platform.status, StatusCode::OK);
    let doc = platform.json();
    assert_eq!(doc["version_id"], json!(state.platform().version_id));
    assert_eq!(
        doc["platform"],
        serde_json::to_value(Platform::builtin()).unwrap()
    );

    let health = send(&router, get("/healthz")).await;
    assert_eq!(health.json()["status"], json!("ok"));
}

#[tokio::test]
async fn reload_changes_the_platform_version_of_renders() {
    let (state, router) = app();
    let before = state.platform().version_id.clone();
    let text =
        platform_config::BUILTIN_TOML.replace("version = \"2026.11.0\"", "version = \"2027.1.0\"");
    let after = state.reload(&text, "new.toml").unwrap();
    assert_ne!(before, after);
    assert!(state.reload("version = ", "bad.toml").is_err());
    // A version that is no valid header value is refused too.
    let bad = platform_config::BUILTIN_TOML
        .replace("version = \"2026.11.0\"", "version = \"bad version\\n\"");
    assert!(matches!(
        state.reload(&bad, "bad-version.toml"),
        Err(helmgen::ReloadError::BadVersion(_))
    ));
    assert_eq!(
        state.platform().version_id,
        after,
        "a bad config keeps the old one"
    );
    let reply = send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
    )
    .await;
    assert_eq!(reply.header("x-platform-version"), after);
}

#[tokio::test]
async fn metrics_count_routes_statuses_and_render_errors() {
    let (_, router) = app();
    send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
    )
    .await;
    send(
        &router,
        post("/v1/render?env=prod&image_tag=abc123", TOML, TINY_PROD),
    )
    .await;
    send(&router, get("/no/such/route")).await;
    let text = send(&router, get("/metrics")).await.text().to_owned();
    for line in [
        r#"helmgen_requests_total{route="/v1/render",status="200"} 1"#,
        r#"helmgen_requests_total{route="/v1/render",status="422"} 1"#,
        r#"helmgen_requests_total{route="unmatched",status="404"} 1"#,
        r#"helmgen_request_duration_seconds_count{route="/v1/render"} 2"#,
        r#"helmgen_request_duration_seconds_bucket{route="/v1/render",le="+Inf"} 2"#,
        r#"helmgen_render_errors_total{kind="policy-violation"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let (_, router) = app();
    let doc = send(&router, get("/openapi.json")).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    insta::assert_json_snapshot!("openapi-paths", paths);
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let params = &doc["paths"]["/v1/render"]["post"]["parameters"];
    let names: Vec<&str> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"env") && names.contains(&"canary_weight"),
        "{names:?}"
    );
}

/// A body that never sends anything (a client that stalls mid-upload), and
/// the sender that keeps it open.
fn stalled() -> (http_body_util::channel::Sender<axum::body::Bytes>, Body) {
    let (sender, body) = http_body_util::channel::Channel::<axum::body::Bytes>::new(1);
    (sender, Body::new(body))
}

#[tokio::test]
async fn a_stalled_upload_times_out_with_408() {
    let (state, router) = {
        let state = state_with(Config {
            timeout: std::time::Duration::from_millis(200),
            ..Config::default()
        });
        (state.clone(), helmgen::app(state))
    };
    let (_keep, body) = stalled();
    check_with(
        &router,
        "timeout",
        post("/v1/render?env=prod&image_tag=abc123", TOML, body),
        StatusCode::REQUEST_TIMEOUT,
    )
    .await;
    assert!(
        state
            .metrics()
            .render()
            .contains(r#"helmgen_render_errors_total{kind="body-timeout"} 1"#)
    );
}

#[tokio::test]
async fn concurrency_is_bounded_with_503_when_every_slot_stays_busy() {
    let router = helmgen::app(state_with(Config {
        timeout: std::time::Duration::from_millis(400),
        concurrency: 1,
        ..Config::default()
    }));
    // The only slot is held by a stalled upload...
    let (_keep, body) = stalled();
    let first = tokio::spawn({
        let router = router.clone();
        async move {
            send(
                &router,
                post("/v1/render?env=prod&image_tag=abc123", TOML, body),
            )
            .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // ...so the next request waits half the timeout, then gets 503.
    check_with(
        &router,
        "overloaded",
        post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(first.await.unwrap().status, StatusCode::REQUEST_TIMEOUT);
    // Once the slot is free again, renders go through.
    let reply = send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// An app.toml with `jobs` CronJobs: valid, cheap to send, costly to render
/// (every job is one object of a few KiB).
fn many_jobs(jobs: usize) -> String {
    let mut text = String::from(TINY_PROD);
    for i in 0..jobs {
        text.push_str(&format!(
            "[jobs.j{i}]\nschedule = \"30 3 * * *\"\ncommand = [\"./tiny\", \"job{i}\"]\n"
        ));
    }
    text
}

#[tokio::test]
async fn output_over_the_byte_limit_is_422() {
    let router = helmgen::app(state_with(Config {
        max_output_bytes: 4096,
        ..Config::default()
    }));
    check_with(
        &router,
        "output-too-large",
        post("/v1/render?env=dev&image_tag=abc123", TOML, many_jobs(3)),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn output_over_the_object_limit_is_422() {
    let router = helmgen::app(state_with(Config {
        max_objects: 5,
        ..Config::default()
    }));
    let reply = send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, many_jobs(10)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json()["type"],
        json!("urn:paas:problem:output-too-large")
    );
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("--max-objects = 5")
    );
}

/// A render that runs past the deadline answers 503 while it still runs
/// (it is off the async workers), and health checks answer meanwhile.
#[tokio::test]
async fn a_render_past_the_deadline_is_503_and_health_answers_meanwhile() {
    let state = state_with(Config {
        timeout: std::time::Duration::from_millis(20),
        concurrency: 1,
        // Room for a render that takes long even in a release build.
        max_body: 4 * 1024 * 1024,
        ..Config::default()
    });
    let router = helmgen::app(state.clone());
    let slow = many_jobs(12_000);
    let reply = send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, slow.clone()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("retry-after"), "1");
    assert_eq!(
        reply.header("x-platform-version"),
        state.platform().version_id
    );
    assert_eq!(reply.json()["type"], json!("urn:paas:problem:timeout"));
    // The abandoned render still holds the only slot, but /healthz (a
    // single-threaded test runtime) answers at once...
    assert_eq!(send(&router, get("/healthz")).await.status, StatusCode::OK);
    // ...and the slot stays taken until the render ends: the concurrency
    // bound covers the renders still running, not only the requests.
    let reply = send(
        &router,
        post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
    )
    .await;
    assert_eq!(reply.json()["type"], json!("urn:paas:problem:overloaded"));
    assert!(
        state
            .metrics()
            .render()
            .contains(r#"helmgen_render_errors_total{kind="timeout"} 1"#)
    );
}

/// Every response carries X-Platform-Version, problems included.
#[tokio::test]
async fn every_response_names_the_platform_version() {
    let (state, router) = app();
    let version = state.platform().version_id.clone();
    let requests = [
        get("/nope"),
        Request::delete("/v1/render").body(Body::empty()).unwrap(),
        get("/healthz"),
        get("/metrics"),
        get("/openapi.json"),
        post("/v1/render?env=dev", "text/plain", "x"),
    ];
    for request in requests {
        let uri = request.uri().clone();
        let reply = send(&router, request).await;
        assert_eq!(reply.header("x-platform-version"), version, "{uri}");
    }
}

/// Every `$ref` in `v` (recursively) resolves in `doc`.
fn refs_resolve(doc: &serde_json::Value, v: &serde_json::Value, at: &str) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(r) = map.get("$ref") {
                let r = r.as_str().unwrap();
                let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: {r}"));
                assert!(doc.pointer(pointer).is_some(), "{at}: {r} does not resolve");
            }
            for (k, x) in map {
                refs_resolve(doc, x, &format!("{at}/{k}"));
            }
        }
        serde_json::Value::Array(list) => {
            for (i, x) in list.iter().enumerate() {
                refs_resolve(doc, x, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

/// The OpenAPI 3.1 rules that can be checked without a validator: every
/// response has a description, every `$ref` resolves, the shared headers are
/// declared, the bodies say what they accept, and every status the handlers
/// answer (driven through the router) is declared for its operation.
#[tokio::test]
async fn openapi_is_valid_and_declares_every_answer() {
    let state = state_with(Config {
        max_body: 64,
        ..Config::default()
    });
    let router = helmgen::app(state.clone());
    let doc = send(&router, get("/openapi.json")).await.json();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    refs_resolve(&doc, &doc, "");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                let at = format!("{method} {path} {status}");
                assert!(response["description"].is_string(), "{at}: no description");
                assert!(
                    response["headers"]["x-platform-version"].is_object(),
                    "{at}: no X-Platform-Version"
                );
                if status == "503" {
                    assert!(response["headers"]["Retry-After"].is_object(), "{at}");
                }
                if status == "405" {
                    assert!(response["headers"]["Allow"].is_object(), "{at}");
                }
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{at}"
                    );
                }
            }
            assert!(responses.contains_key("405"), "{method} {path}");
        }
    }
    assert!(doc["components"]["responses"]["NotFound"]["description"].is_string());
    let render = &doc["paths"]["/v1/render"]["post"];
    let statuses: std::collections::BTreeSet<&str> = render["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        statuses,
        ["200", "400", "405", "408", "413", "415", "422", "503"].into()
    );
    let body = &doc["components"]["schemas"]["RenderBody"];
    assert_eq!(body["additionalProperties"], json!(false));
    assert_eq!(body["properties"]["canary_weight"]["maximum"], json!(100));
    let weight = render["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "canary_weight")
        .unwrap();
    assert_eq!(weight["schema"]["maximum"], json!(100));
    assert_eq!(
        render["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        json!("#/components/schemas/RenderedJson")
    );
    let rendered = &doc["components"]["schemas"]["RenderedJson"]["properties"];
    for field in ["platform_version", "objects", "stages"] {
        assert!(rendered[field].is_object(), "{field}");
    }

    // What the handlers answer is declared.
    let answers = [
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
        ),
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", TOML, "x = ["),
        ),
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", TOML, "x".repeat(100)),
        ),
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", "text/plain", "x"),
        ),
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", TOML, "name = \"x\""),
        ),
        (
            "post",
            "/v1/render",
            Request::get("/v1/render").body(Body::empty()).unwrap(),
        ),
        ("get", "/healthz", get("/healthz")),
        ("get", "/readyz", get("/readyz")),
        ("get", "/metrics", get("/metrics")),
        ("get", "/v1/platform", get("/v1/platform")),
        ("get", "/v1/schema/app-toml", get("/v1/schema/app-toml")),
        (
            "get",
            "/openapi.json",
            Request::post("/openapi.json").body(Body::empty()).unwrap(),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (method, path, request) in answers {
        let status = send(&router, request).await.status.as_u16().to_string();
        assert!(
            doc["paths"][path][method]["responses"][&status].is_object(),
            "{method} {path} answers {status}, not declared"
        );
        seen.insert(status);
    }
    state.start_draining();
    for (method, path, request) in [
        (
            "post",
            "/v1/render",
            post("/v1/render?env=dev&image_tag=abc123", TOML, TINY_PROD),
        ),
        ("get", "/readyz", get("/readyz")),
    ] {
        let status = send(&router, request).await.status.as_u16().to_string();
        assert_eq!(status, "503");
        assert!(doc["paths"][path][method]["responses"][&status].is_object());
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
}

/// A bad `service` value is the request's 400 (`query.service`), also when
/// app.toml has no `name` and the value would become it.
#[tokio::test]
async fn a_bad_service_value_is_400() {
    let (_, router) = app();
    let no_name = "replicas = 1\n[engine]\nname = \"golang\"\n";
    for service in ["a%2Fb", "Big", "-x", &"x".repeat(41)] {
        let reply = send(
            &router,
            post(
                &format!("/v1/render?env=dev&image_tag=abc123&service={service}"),
                TOML,
                no_name,
            ),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{service}: {}",
            reply.text()
        );
        assert_eq!(
            reply.json()["errors"][0]["path"],
            json!("query.service"),
            "{service}"
        );
    }
    let reply = send(
        &router,
        post(
            "/v1/render?env=dev&image_tag=abc123&service=tiny-2",
            TOML,
            no_name,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}
