//! helmgen throughput, in process: the rate `helmgen serve` is compared with
//! (`../shared/spec/benchmarks.md`: wrk on loopback must reach at least 80%
//! of the in-process render rate on the same cores). `benches/helmgen/wrk.sh`
//! runs this bench and wrk in one go and prints the ratio.
//!
//! - `helmgen/render/1-thread`: one render (parse, validate, resolve, build,
//!   policy, YAML) of `wordcounter.toml` for prod, the work of one request;
//! - `helmgen/render/2-threads`: the same on two threads at once, reported
//!   per render (wall time / renders), i.e. the in-process rate on 2 cores;
//! - `helmgen/router`: one `POST /v1/render` through the router without a
//!   socket (the handler's own overhead on top of the render);
//! - `helmgen/router-healthz`: one `GET /healthz` the same way, the cost of
//!   the middleware stack alone (request id, timeout, metrics, log event).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use helmgen::{AppState, Config};
use http_body_util::BodyExt;
use manifests::pipeline::{Request as RenderRequest, render_source};
use paas_benches::TODAY;
use platform_config::Platform;
use tower::ServiceExt;

fn source() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/app-toml/ok/wordcounter.toml"),
    )
    .unwrap()
}

fn request() -> RenderRequest {
    RenderRequest {
        file_name: "app.toml".into(),
        service: None,
        environment: "prod".into(),
        cluster: None,
        version: 1,
        image_tag: "abc123".into(),
        strategy: None,
        previous_version: None,
        canary_weight: None,
        explain: false,
        today: TODAY,
    }
}

fn render_once(source: &[u8], platform: &Platform, req: &RenderRequest) -> usize {
    render_source(black_box(source), platform, req)
        .unwrap()
        .to_yaml()
        .unwrap()
        .len()
}

fn bench(c: &mut Criterion) {
    let source = source();
    let platform = Platform::builtin();
    let req = request();
    let mut group = c.benchmark_group("helmgen");

    group.bench_function("render/1-thread", |b| {
        b.iter(|| render_once(&source, &platform, &req))
    });

    group.bench_function("render/2-threads", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(2);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..per_thread {
                            black_box(render_once(&source, &platform, &req));
                        }
                    });
                }
            });
            // Wall time per render at two renders at a time.
            let elapsed = start.elapsed();
            Duration::from_secs_f64(elapsed.as_secs_f64() * iters as f64 / (per_thread * 2) as f64)
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::new(platform.clone(), Config::default(), Arc::new(|| TODAY));
    let app = helmgen::app(state);
    let body = bytes_of(&source);
    // One request through the router, its whole body read: the bytes sent.
    let call = |request: Request<Body>| {
        runtime.block_on(async {
            let response = app.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success());
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .len()
        })
    };
    group.bench_function("router", |b| {
        b.iter(|| {
            call(
                Request::post("/v1/render?env=prod&image_tag=abc123")
                    .header("content-type", "application/toml")
                    .body(Body::from(body.clone()))
                    .unwrap(),
            )
        })
    });
    group.bench_function("router-healthz", |b| {
        b.iter(|| call(Request::get("/healthz").body(Body::empty()).unwrap()))
    });
    group.finish();
}

fn bytes_of(source: &[u8]) -> axum::body::Bytes {
    axum::body::Bytes::copy_from_slice(source)
}

criterion_group!(benches, bench);
criterion_main!(benches);
