//! Render one service (all stages, YAML out) per fixture, against the floor:
//! serialising the very same objects to YAML. Targets
//! (`../shared/spec/benchmarks.md`): under 50 µs for a typical service and
//! within 3x of the floor, linear in objects. Whole-process `paas render` is
//! measured by `benches/paas-render.sh` (hyperfine). `render-scaling` renders
//! a service with 1 to 64 processes and cron jobs, reported per object.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;

use app_toml::ParseOptions;
use criterion::{Criterion, criterion_group, criterion_main};
use manifests::ReleaseContext;
use paas_benches::TODAY;
use platform_config::Platform;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/app-toml/ok");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A render of release v1 for `prod-a`, as `paas render -e prod` asks for it.
fn prod_request(file_name: &str, service: Option<&str>) -> manifests::pipeline::Request {
    manifests::pipeline::Request {
        file_name: file_name.into(),
        service: service.map(str::to_owned),
        environment: "prod".into(),
        cluster: Some("prod-a".into()),
        version: 1,
        image_tag: "0123abc".into(),
        strategy: None,
        previous_version: None,
        canary_weight: None,
        explain: false,
        today: TODAY,
    }
}

fn bench(c: &mut Criterion) {
    let platform = Platform::builtin();
    let vocabulary = platform.vocabulary(TODAY);
    let mut group = c.benchmark_group("render");
    for (name, source) in fixtures() {
        let options = ParseOptions {
            file_name: &name,
            fallback_name: Some(&name),
            vocabulary: &vocabulary,
        };
        let resolved = app_toml::parse(&source, &options)
            .unwrap()
            .resolve("prod")
            .unwrap();
        let ctx = ReleaseContext::new(&resolved, "prod-a", "0123abc");
        // Everything a render does, through the path paas and helmgen share:
        // parse, validate, resolve, build, policy, YAML.
        let request = prod_request(&name, Some(&name));
        group.bench_function(format!("{name}/full"), |b| {
            b.iter(|| {
                let rendered =
                    manifests::pipeline::render_source(black_box(&source), &platform, &request)
                        .unwrap();
                black_box(rendered.to_yaml().unwrap())
            })
        });
        // The generator alone on a resolved app, YAML out.
        group.bench_function(format!("{name}/generate+yaml"), |b| {
            b.iter(|| {
                black_box(
                    manifests::render(black_box(&resolved), &platform, &ctx)
                        .unwrap()
                        .to_yaml()
                        .unwrap(),
                )
            })
        });
        // The floor: serialising the same objects.
        let rendered = manifests::render(&resolved, &platform, &ctx).unwrap();
        group.bench_function(format!("{name}/yaml-floor"), |b| {
            b.iter(|| black_box(rendered.to_yaml().unwrap()))
        });
        // The same objects through serde_yaml, the usual writer (for reference).
        group.bench_function(format!("{name}/serde_yaml-floor"), |b| {
            b.iter(|| {
                let mut out = String::new();
                for o in &rendered.objects {
                    out.push_str("---\n");
                    out.push_str(&serde_yaml::to_string(&o.object).unwrap());
                }
                black_box(out)
            })
        });
    }
    group.finish();
}

/// A service with `n` processes and `n` cron jobs on top of the seed: 2n
/// more workloads (a Deployment and a PDB per process, a CronJob per job).
fn scaled_app(n: usize) -> String {
    let mut text = String::from(
        "name = \"scaled\"\nreplicas = 2\n\n[engine]\nname = \"golang\"\n\n[dependencies.users]\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "\n[processes.worker-{i}]\ncommand = [\"./scaled\", \"work\", \"--shard={i}\"]\n\n[jobs.report-{i}]\nschedule = \"{} 3 * * *\"\ncommand = [\"./scaled\", \"report\"]\n",
            i % 60
        ));
    }
    text
}

/// Render time against the number of objects: the spec asks for linear.
/// Criterion reports the time per object (throughput in elements).
fn scaling(c: &mut Criterion) {
    let platform = Platform::builtin();
    let mut group = c.benchmark_group("render-scaling");
    for n in [1, 4, 16, 64] {
        let source = scaled_app(n).into_bytes();
        let request = prod_request("app.toml", None);
        let objects = manifests::pipeline::render_source(&source, &platform, &request)
            .unwrap()
            .objects
            .len();
        group.throughput(criterion::Throughput::Elements(objects as u64));
        group.bench_function(format!("{n}-processes-{n}-jobs/{objects}-objects"), |b| {
            b.iter(|| {
                manifests::pipeline::render_source(black_box(&source), &platform, &request)
                    .unwrap()
                    .to_yaml()
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, scaling);
criterion_main!(benches);
