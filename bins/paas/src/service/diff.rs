//! `paas service diff -e ENV`: what a deploy would change, object by
//! object, in every cluster, against the release that serves there.
//!
//! The app.toml is rendered as if it were the serving release (its number
//! and previous version), so object names and version labels line up and
//! only real changes show: a changed image, replicas, an added variable.
//! Exit 0: no change; 1: changes; 2: an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use release::{Manifests, ObjectRef, Stage, Version};
use serde_json::{Value, json};

use super::{
    Renderer, environment, json_text, merge_records, parse_app, read_app, read_records, serving,
    unreachable_failure,
};
use crate::cli::{DiffArgs, Global, Output};
use crate::render::{fallback_service, render_failure};
use crate::{Failure, gitinfo, session};

/// The objects of every stage, by reference.
fn objects(m: &Manifests) -> BTreeMap<&ObjectRef, &Value> {
    Stage::ALL
        .iter()
        .flat_map(|s| m.stage(*s))
        .map(|o| (&o.reference, &o.body))
        .collect()
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# cannot show: {e}\n"))
}

/// One cluster's changes.
#[derive(Debug, Default)]
struct ClusterDiff {
    new: Vec<String>,
    removed: Vec<String>,
    changed: Vec<(String, String)>,
}

impl ClusterDiff {
    fn is_empty(&self) -> bool {
        self.new.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn diff_cluster(next: &Manifests, current: Option<&Manifests>) -> ClusterDiff {
    let empty = Manifests::default();
    let before = objects(current.unwrap_or(&empty));
    let after = objects(next);
    let mut d = ClusterDiff::default();
    for (reference, body) in &after {
        match before.get(reference) {
            None => d.new.push(reference.to_string()),
            Some(old) if old == body => {}
            Some(old) => {
                let (a, b) = (yaml(old), yaml(body));
                let text = similar::TextDiff::from_lines(&a, &b)
                    .unified_diff()
                    .context_radius(3)
                    .header("serving", "next")
                    .to_string();
                d.changed.push((reference.to_string(), text));
            }
        }
    }
    for reference in before.keys() {
        if !after.contains_key(reference) {
            d.removed.push(reference.to_string());
        }
    }
    d
}

/// `paas service diff`.
pub(crate) fn diff(global: &Global, args: &DiffArgs, color: bool) -> Result<String, Failure> {
    let (platform, env) = environment(global, &args.env)?;
    let source = read_app(global)?;
    let app = parse_app(global, &platform, color)?;
    let service = app.name().to_owned();
    // Resolving the environment reports its errors before any cluster starts.
    app.resolve_app(&args.env)
        .map_err(|e| render_failure(&global.app, e.into(), color))?;
    let image_tag = gitinfo::image_tag(args.image_tag.as_deref(), &global.app);
    let recommendations = crate::resources_cmd::load_recommendations(&global.app, None)?;
    let renderer = Renderer {
        global,
        platform: &platform,
        env: &env,
        env_name: &args.env,
        source: &source,
        file_name: global.app.display().to_string(),
        service: fallback_service(global, &global.app),
        image_tag: &image_tag,
        strategy: args.strategy,
        color,
        recommendations: recommendations.as_ref(),
    };
    let renderer = &renderer;
    let output = global.output;
    session::with_clusters(&env, false, |clients, _| async move {
        let records = read_records(&clients, &service).await;
        let mut per_cluster = BTreeMap::new();
        for (name, r) in &records {
            match r {
                Ok(list) => {
                    per_cluster.insert(name.clone(), merge_records(list));
                }
                Err(e) => return Err(unreachable_failure(name, e)),
            }
        }
        let mut diffs = BTreeMap::new();
        for c in &renderer.env.clusters {
            let merged = per_cluster.get(&c.name);
            let current = merged.and_then(serving);
            let (version, previous) =
                current.map_or((Version(1), None), |r| (r.spec.serving(), r.spec.previous));
            let next = super::staged(&renderer.one(&c.name, version, previous)?)?;
            let before = current.and_then(|r| r.spec.manifests.get(&c.name));
            diffs.insert(
                c.name.clone(),
                (current.map(|r| r.spec.number), diff_cluster(&next, before)),
            );
        }
        let changed = diffs.values().any(|(_, d)| !d.is_empty());
        let text = match output {
            Some(Output::Json) => json_text(&json!({
                "service": service,
                "environment": args.env,
                "changed": changed,
                "clusters": diffs.iter().map(|(c, (serving, d))| (c.clone(), json!({
                    "serving": serving.map(|v| v.to_string()),
                    "new": d.new,
                    "removed": d.removed,
                    "changed": d.changed.iter().map(|(r, diff)| json!({"object": r, "diff": diff})).collect::<Vec<_>>(),
                }))).collect::<serde_json::Map<String, Value>>(),
            })),
            _ => {
                let mut out = String::new();
                for (cluster, (serving, d)) in &diffs {
                    let against = serving
                        .map_or_else(|| "nothing deployed".to_owned(), |v| format!("against {v}"));
                    let _ = writeln!(
                        out,
                        "{cluster} ({against}): {} new, {} changed, {} removed",
                        d.new.len(),
                        d.changed.len(),
                        d.removed.len()
                    );
                    for r in &d.new {
                        let _ = writeln!(out, "+ {r}");
                    }
                    for r in &d.removed {
                        let _ = writeln!(out, "- {r}");
                    }
                    for (r, diff) in &d.changed {
                        let _ = writeln!(out, "~ {r}");
                        for line in diff.lines() {
                            let _ = writeln!(out, "    {line}");
                        }
                    }
                }
                out
            }
        };
        if changed {
            // The diff is data: printed on stdout, and the exit code says "changes".
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            return Err(Failure {
                code: 1,
                message: format!(
                    "{service}: a deploy to {} would change the objects above",
                    args.env
                ),
            });
        }
        Ok(text)
    })
}
