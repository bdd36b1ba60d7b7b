//! Brief on the benchmark schema of the spec (2,000 messages, 500 rpcs):
//! parse, parse + check, Rust generation and proto generation, in process;
//! and rendering the diagnostics of a file with 50,000 errors.
//! The whole-process comparison with protoc is `benches/brief/compare.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;

/// The schema of `benches/brief/gen_schema.py`, generated the same way.
fn schema() -> String {
    let mut s = String::from("service \"bench\"\n\n");
    for i in 0..500 {
        let _ = writeln!(
            s,
            "rpc call{i} (M{}) M{} `Rpc number {i}`",
            2 * i,
            2 * i + 1
        );
    }
    s.push('\n');
    for k in 0..2000 {
        let _ = writeln!(s, "message M{k} {{");
        let _ = writeln!(s, "    id       int      `Identifier of M{k}`");
        s.push_str(
            "    name     string\n    score    float?\n    active   bool\n    tags     []string\n",
        );
        s.push_str("    counts   map[string]int?\n    payload  bytes?\n    at       time\n");
        let _ = writeln!(s, "    kind     E{}", k % 10);
        if k < 1000 {
            let _ = writeln!(s, "    child    M{}", 1000 + k);
            let _ = writeln!(s, "    others   []M{}", 1000 + (k * 7) % 1000);
        }
        s.push_str("}\n\n");
    }
    for e in 0..10 {
        let _ = writeln!(s, "enum E{e} {{ a b c d }}\n");
    }
    s
}

fn bench(c: &mut Criterion) {
    let src = schema();
    let checked = brief_check::parse_and_check(&src, 0);
    assert!(checked.ok(), "benchmark schema must check");
    let opts = brief_codegen::RustOptions {
        client: false,
        source_name: "bench.brief".into(),
    };
    let mut g = c.benchmark_group("brief_2000_messages_500_rpcs");
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| brief_syntax::parse(black_box(&src), 0))
    });
    g.bench_function("parse_and_check", |b| {
        b.iter(|| brief_check::parse_and_check(black_box(&src), 0))
    });
    g.bench_function("gen_rust", |b| {
        b.iter(|| brief_codegen::rust(black_box(&checked.file), &opts))
    });
    g.bench_function("gen_proto", |b| {
        b.iter(|| brief_codegen::proto(black_box(&checked.file), "bench.brief"))
    });
    g.bench_function("fmt", |b| {
        b.iter(|| brief_syntax::fmt::format(black_box(&checked.file)))
    });
    g.finish();

    // Text diagnostics of a file with 50,000 errors (one per line): linear
    // since the renderer stopped handing annotate-snippets the whole file
    // per diagnostic.
    let broken: String = (0..50_000).map(|i| format!("message M{i} {{\n")).collect();
    let diags = brief_check::parse_and_check(&broken, 0).diagnostics;
    let sources = [brief_check::Source {
        name: "broken.brief".into(),
        text: broken.clone(),
    }];
    let mut g = c.benchmark_group("brief_50000_errors");
    g.sample_size(10);
    g.bench_function("render_text", |b| {
        b.iter(|| brief_check::render::text(black_box(&diags), &sources, false))
    });
    g.bench_function("render_json", |b| {
        b.iter(|| brief_check::render::json(black_box(&diags), &sources).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
