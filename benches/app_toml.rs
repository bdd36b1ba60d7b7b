//! app.toml: parse + validate (every layer, every environment's merged
//! checks) and resolve, per ok fixture, plus the rustc-style rendering of an
//! error fixture's diagnostics. `toml/parse` is the floor: the span-
//! keeping TOML parse alone (`toml::de::DeTable`, what app-toml parses with), measured in the same run so that the ratio
//! holds on a noisy machine.

use std::hint::black_box;
use std::path::Path;

use app_toml::{ParseOptions, Vocabulary};
use criterion::{Criterion, criterion_group, criterion_main};
use paas_benches::TODAY;

fn vocabulary() -> Vocabulary {
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
    Vocabulary {
        engines: list(&["golang", "python", "node", "rust", "java", "php", "generic"]),
        sizes: list(&["xsmall", "small", "medium", "large", "xlarge"]),
        environments: list(&["prod", "staging", "dev", "local"]),
        today: TODAY,
    }
}

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/app-toml");
    std::fs::read(root.join(path)).expect("fixture")
}

fn bench(c: &mut Criterion) {
    let vocabulary = vocabulary();
    let options = ParseOptions {
        file_name: "app.toml",
        fallback_name: Some("svc"),
        vocabulary: &vocabulary,
    };
    for name in ["userinfo", "wordcounter", "kitchen-sink"] {
        let source = fixture(&format!("ok/{name}.toml"));
        let text = String::from_utf8(source.clone()).expect("utf-8");
        c.bench_function(&format!("toml/parse/{name}"), |b| {
            b.iter(|| toml::de::DeTable::parse(black_box(text.as_str())).expect("toml"))
        });
        c.bench_function(&format!("app_toml/parse+validate/{name}"), |b| {
            b.iter(|| app_toml::parse(black_box(&source), &options).expect("valid"))
        });
        let file = app_toml::parse(&source, &options).expect("valid");
        c.bench_function(&format!("app_toml/resolve-prod/{name}"), |b| {
            b.iter(|| file.resolve(black_box("prod")).expect("resolves"))
        });
    }
    let source = fixture("err/seed-typos.toml");
    c.bench_function("app_toml/parse+render-errors/seed-typos", |b| {
        b.iter(|| match app_toml::parse(black_box(&source), &options) {
            Err(app_toml::Error::Invalid(d)) => d.render(false),
            _ => String::new(),
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
