//! The platform's own policy checks, run on every render: what
//! `kubernetes-validate` and `checkov` cannot know (prod replicas, tags,
//! name lengths), plus the release context's consistency.

use std::fmt::Write as _;

use app_toml::{Criticality, HardeningRule, Resolved, Strategy};
use platform_config::Platform;
use serde::Serialize;

use crate::{Error, Object, ReleaseContext, StagedObject};

/// One broken policy, named by the app.toml key or object it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The app.toml key path, or `Kind/name` of a generated object.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

pub(crate) fn display(violations: &[Violation]) -> String {
    let mut out = String::new();
    for (i, v) in violations.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "policy: {}: {}", v.path, v.message);
        if let Some(h) = &v.hint {
            let _ = write!(out, "\n  help: {h}");
        }
    }
    out
}

/// The longest CronJob name: its Jobs get an 11-character suffix.
const CRONJOB_NAME_MAX: usize = 52;

pub(crate) fn check_context(
    resolved: &Resolved,
    platform: &Platform,
    ctx: &ReleaseContext,
) -> Result<(), Error> {
    let app = &resolved.app;
    if ctx.environment != app.environment {
        return Err(Error::Context {
            field: "environment",
            message: format!(
                "the app was resolved for `{}` but the release is for `{}`",
                app.environment, ctx.environment
            ),
        });
    }
    let Some(env) = platform.environment(&ctx.environment) else {
        let known: Vec<_> = platform.environments.keys().map(String::as_str).collect();
        return Err(Error::Context {
            field: "environment",
            message: format!(
                "unknown environment `{}` (expected one of {})",
                ctx.environment,
                known.join(", ")
            ),
        });
    };
    if !env.clusters.iter().any(|c| c.name == ctx.cluster) {
        let known: Vec<_> = env.clusters.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::Context {
            field: "cluster",
            message: format!(
                "unknown cluster `{}` in environment `{}` (expected one of {})",
                ctx.cluster,
                ctx.environment,
                known.join(", ")
            ),
        });
    }
    if ctx.version == 0 {
        return Err(Error::Context {
            field: "version",
            message: "release versions start at v1".into(),
        });
    }
    if let Some(prev) = ctx.previous_version
        && prev >= ctx.version
    {
        return Err(Error::Context {
            field: "previous_version",
            message: format!(
                "the previous version v{prev} must be older than v{}",
                ctx.version
            ),
        });
    }
    if let Some(w) = ctx.canary_weight {
        if ctx.strategy != Strategy::Canary {
            return Err(Error::Context {
                field: "canary_weight",
                message: format!(
                    "a canary weight needs the canary strategy, not `{}`",
                    ctx.strategy
                ),
            });
        }
        if w > 100 {
            return Err(Error::Context {
                field: "canary_weight",
                message: format!("canary weight {w} is over 100"),
            });
        }
    }
    let mut violations = Vec::new();
    check_tag(&ctx.image_tag, &mut violations);
    if let Some(min) = env.min_replicas
        && app.criticality != Criticality::Low
        && app.exception(HardeningRule::MinProdReplicas).is_none()
    {
        let (replicas, key) = match app.autoscale {
            Some(a) => (a.min, "autoscale.min"),
            None => (app.replicas, "replicas"),
        };
        if replicas < min {
            violations.push(Violation {
                path: format!("envs.{}.{key}", ctx.environment),
                message: format!(
                    "`{}` needs at least {min} replicas, this service has {replicas}",
                    ctx.environment
                ),
                hint: Some(format!(
                    "set `{key} = {min}` under [envs.{}], or `criticality = \"low\"`, or add [exceptions.min-prod-replicas] with a reason",
                    ctx.environment
                )),
            });
        }
    }
    let engine_has_command = platform
        .engines
        .get(&app.engine.name)
        .is_some_and(|e| !e.command.is_empty());
    if app.secrets.vault && !engine_has_command {
        violations.push(Violation {
            path: "secrets.vault".into(),
            message: format!(
                "engine `{}` runs the image's own entrypoint, which vault2env cannot wrap",
                app.engine.name
            ),
            hint: Some(
                "set `vault = false` under [secrets], or use an engine with a command".into(),
            ),
        });
    }
    if !app.name.starts_with(|c: char| c.is_ascii_lowercase()) {
        violations.push(Violation {
            path: "name".into(),
            message: format!(
                "`{}` must start with a letter to name a Kubernetes Service",
                app.name
            ),
            hint: None,
        });
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Policy(violations))
    }
}

fn check_tag(tag: &str, violations: &mut Vec<Violation>) {
    let valid = !tag.is_empty()
        && tag.len() <= 63
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric())
        && tag.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        violations.push(Violation {
            path: "image_tag".into(),
            message: format!("`{tag}` is not a usable image tag"),
            hint: Some(
                "use at most 63 letters, digits, `_`, `.` and `-`, starting and ending with a letter or digit (it is also a label value)"
                    .into(),
            ),
        });
    } else if tag == "latest" {
        violations.push(Violation {
            path: "image_tag".into(),
            message: "the `latest` tag is not allowed: a release must name an immutable image"
                .into(),
            hint: Some(
                "use the commit hash (the default of `paas render` inside a repository)".into(),
            ),
        });
    }
}

pub(crate) fn check_objects(objects: &[StagedObject]) -> Result<(), Error> {
    let mut violations = Vec::new();
    for staged in objects {
        let o = &staged.object;
        let max = match o {
            Object::CronJob(_) => CRONJOB_NAME_MAX,
            _ => 63,
        };
        if o.name().len() > max {
            violations.push(Violation {
                path: o.key(),
                message: format!(
                    "the name has {} characters, over the limit of {max}",
                    o.name().len()
                ),
                hint: Some("shorten the service name or the table name it is made from".into()),
            });
        }
        if let Some(labels) = &o.metadata().labels {
            for (k, v) in labels {
                if v.len() > 63 {
                    violations.push(Violation {
                        path: o.key(),
                        message: format!(
                            "label `{k}` has a value of {} characters, over 63",
                            v.len()
                        ),
                        hint: None,
                    });
                }
            }
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Policy(violations))
    }
}
