//! Render one service (all stages, YAML out) per fixture, against the floor:
//! serialising the very same objects to YAML. Targets
//! (`../shared/spec/benchmarks.md`): under 50 µs for a typical service and
//! within 3x of the floor. Whole-process `paas render` is measured by
//! `benches/paas-render.sh` (hyperfine).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::Path;

use app_toml::{Date, ParseOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use manifests::ReleaseContext;
use platform_config::Platform;

/// The allocator the paas and helmgen binaries ship with (mimalloc);
/// `--features system-alloc` measures with the system allocator instead.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 23,
};

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
        let request = manifests::pipeline::Request {
            file_name: name.clone(),
            service: Some(name.clone()),
            environment: "prod".into(),
            cluster: Some("prod-a".into()),
            version: 1,
            image_tag: "0123abc".into(),
            strategy: None,
            previous_version: None,
            canary_weight: None,
            explain: false,
            today: TODAY,
        };
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

criterion_group!(benches, bench);
criterion_main!(benches);
