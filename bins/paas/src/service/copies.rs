//! Test copies: `paas service deploy -e ENV --test-copy ID [--ttl D]` and
//! `paas service delete-copy -e ENV ID`, and the removal of expired copies
//! that they and `paas sync` do.
//!
//! A copy is not a release: no record, no number, no lease, no planner. It
//! is rendered by `manifests::render_test_copy`, applied whole in every
//! cluster, waited for, and removed by its label. The expiry is computed
//! here from the system clock and stored on the objects; the pure
//! `manifests::copy::is_expired` decides, with `now` passed in.

use std::time::{SystemTime, UNIX_EPOCH};

use cluster::ClusterClient;
use cluster::copies::{
    apply_copy, delete_copy as delete_copy_objects, list_copies, namespace_exists,
};
use manifests::copy::{self, TestCopy};
use manifests::pipeline::{Request, render_test_copy_source};
use serde_json::json;

use super::{environment, json_text, parse_app, read_app, staged, unreachable_failure};
use crate::cli::{DeleteCopyArgs, DeployArgs, Global, Output};
use crate::render::{fallback_service, render_failure};
use crate::{Failure, clock, gitinfo, session};

/// Seconds since the Unix epoch, from the system clock.
pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn cluster_failure(name: &str, what: &str, e: &cluster::Error) -> Failure {
    if e.is_unreachable() {
        unreachable_failure(name, e)
    } else {
        Failure::failed(format!("error: {name}: {what}: {e}"))
    }
}

/// Removes the expired copies of `service` in one cluster (at `now`);
/// returns their IDs. With `dry_run`, only names them.
pub(crate) async fn remove_expired(
    cluster: &ClusterClient,
    service: &str,
    now: i64,
    dry_run: bool,
) -> Result<Vec<String>, cluster::Error> {
    let mut removed = Vec::new();
    for c in list_copies(cluster, service).await? {
        if copy::is_expired(c.expires_at.as_deref(), now) {
            if !dry_run {
                delete_copy_objects(cluster, service, &c.id).await?;
            }
            removed.push(c.id);
        }
    }
    Ok(removed)
}

fn expired_lines(out: &mut String, service: &str, cluster: &str, ids: &[String]) {
    for id in ids {
        out.push_str(&format!(
            "removed the expired test copy {} in {cluster}\n",
            copy::object_name(service, id)
        ));
    }
}

/// `paas service deploy -e ENV --test-copy ID [--ttl D] [--image-tag T] [--dry-run]`.
pub(super) fn deploy_copy(
    global: &Global,
    args: &DeployArgs,
    id: &str,
    color: bool,
) -> Result<String, Failure> {
    let (platform, env) = environment(global, &args.env)?;
    if !env.test_copies_allowed(&args.env) {
        return Err(Failure::usage(format!(
            "error: test copies are not allowed in environment `{}`\nhelp: deploy the copy to staging, or set `test_copies = true` under [environments.{}] of the platform config",
            args.env, args.env
        )));
    }
    let ttl = match &args.ttl {
        Some(t) => copy::parse_ttl(t).map_err(|e| Failure::usage(format!("error: {e}")))?,
        None => copy::DEFAULT_TTL_SECONDS,
    };
    let source = read_app(global)?;
    let app = parse_app(global, &platform, color)?;
    let service = app.name().to_owned();
    let resolved = app
        .resolve_app(&args.env)
        .map_err(|e| render_failure(&global.app, e.into(), color))?;
    let taken: Vec<&str> = resolved
        .app
        .routes
        .keys()
        .chain(resolved.app.processes.keys())
        .map(String::as_str)
        .collect();
    copy::validate_id(&service, id, &taken).map_err(|e| Failure::usage(format!("error: {e}")))?;
    let image_tag = gitinfo::image_tag(args.image_tag.as_deref(), &global.app);
    let recommendations = crate::resources_cmd::load_recommendations(&global.app, None)?;
    let now = now_seconds();
    let expires_at = clock::rfc3339(u64::try_from(now.saturating_add(ttl)).unwrap_or(0));
    let test_copy = TestCopy {
        id: id.to_owned(),
        expires_at: expires_at.clone(),
    };
    let mut rendered = Vec::new();
    for c in &env.clusters {
        let request = Request {
            file_name: global.app.display().to_string(),
            service: fallback_service(global, &global.app),
            environment: args.env.clone(),
            cluster: Some(c.name.clone()),
            version: 1,
            image_tag: image_tag.clone(),
            strategy: None,
            previous_version: None,
            canary_weight: None,
            explain: false,
            today: clock::today(),
        };
        let r = render_test_copy_source(
            &source,
            &platform,
            &request,
            &test_copy,
            recommendations.as_ref(),
        )
        .map_err(|e| render_failure(&global.app, e, color))?;
        let m = staged(&r)?;
        let objects: Vec<release::Object> = release::Stage::ALL
            .iter()
            .flat_map(|s| m.stage(*s).iter().cloned())
            .collect();
        rendered.push((c.name.clone(), objects));
    }
    let name = copy::object_name(&service, id);
    let dry_run = args.dry_run;
    let output = global.output;
    let env_name = &args.env;
    let rendered = &rendered;
    session::with_clusters(&env, false, |clients, _| async move {
        // Every cluster must hold the service: a copy needs its namespace,
        // service account and network policies.
        for c in &clients {
            let exists = namespace_exists(c, &service)
                .await
                .map_err(|e| cluster_failure(c.name(), "cannot read the namespace", &e))?;
            if !exists {
                return Err(Failure::failed(format!(
                    "error: {service} is not deployed in {} ({env_name}): a test copy runs beside the service, in its namespace\nhelp: deploy the service first: `paas service deploy -e {env_name}`",
                    c.name()
                )));
            }
        }
        let mut text = String::new();
        for c in &clients {
            let expired = remove_expired(c, &service, now, dry_run)
                .await
                .map_err(|e| cluster_failure(c.name(), "cannot remove expired test copies", &e))?;
            expired_lines(&mut text, &service, c.name(), &expired);
        }
        for c in &clients {
            let Some((_, objects)) = rendered.iter().find(|(n, _)| n == c.name()) else {
                continue;
            };
            if dry_run {
                // A redeploy replaces the copy whole; its immutable
                // ConfigMap cannot be judged by a dry run against the old one.
                let exists = list_copies(c, &service)
                    .await
                    .map_err(|e| cluster_failure(c.name(), "cannot list the test copies", &e))?
                    .iter()
                    .any(|k| k.id == id);
                let checked: Vec<release::Object> = objects
                    .iter()
                    .filter(|o| !(exists && o.reference.kind == "ConfigMap"))
                    .cloned()
                    .collect();
                apply_copy(c, &checked, true).await.map_err(|(o, e)| {
                    cluster_failure(c.name(), &format!("the dry run of {o} failed"), &e)
                })?;
                continue;
            }
            // A copy is replaced whole: its ConfigMap is immutable.
            delete_copy_objects(c, &service, id)
                .await
                .map_err(|e| cluster_failure(c.name(), "cannot remove the old copy", &e))?;
            let applied = apply_copy(c, objects, false)
                .await
                .map_err(|(o, e)| cluster_failure(c.name(), &format!("cannot apply {o}"), &e))?;
            for (reference, generation) in &applied {
                if reference.kind != "Deployment" {
                    continue;
                }
                eprintln!("{}: waiting for {reference}", c.name());
                match cluster::readiness::wait_ready(c, reference, Some(*generation)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(not_ready)) => {
                        return Err(Failure::failed(format!(
                            "error: {}: {reference}: {}: {}\nhelp: remove it with `paas service delete-copy -e {env_name} {id}`",
                            c.name(),
                            not_ready.reason,
                            not_ready.message
                        )));
                    }
                    Err(e) => {
                        return Err(cluster_failure(c.name(), "cannot wait for the copy", &e));
                    }
                }
            }
        }
        let clusters: Vec<&str> = clients.iter().map(ClusterClient::name).collect();
        if let Some(Output::Json) = output {
            return Ok(json_text(&json!({
                "service": service,
                "test_copy": id,
                "name": name,
                "clusters": clusters,
                "image_tag": image_tag,
                "expires_at": expires_at,
                "dry_run": dry_run,
                "header": format!("{}: {id}", copy::HEADER),
            })));
        }
        if dry_run {
            text.push_str(&format!(
                "dry run: test copy {name} checked in {}; nothing changed\n",
                clusters.join(", ")
            ));
            return Ok(text);
        }
        text.push_str(&format!(
            "test copy {name} (image {image_tag}) is ready in {}; it expires at {expires_at}\n\
             requests with `{h}: {id}` (or `{h}: {service}={id}` in a list) reach it; nothing else does\n\
             remove it with `paas service delete-copy -e {env_name} {id}`\n",
            clusters.join(", "),
            h = copy::HEADER,
        ));
        Ok(text)
    })
}

/// `paas service delete-copy -e ENV ID`: removes the copy's objects and its
/// route in every cluster (and the service's expired copies); exit 0 when
/// it was removed or was not there.
pub(crate) fn delete_copy(
    global: &Global,
    args: &DeleteCopyArgs,
    color: bool,
) -> Result<String, Failure> {
    let (platform, env) = environment(global, &args.env)?;
    let service = super::service_name(global, &platform, color)?;
    let id = args.id.as_str();
    copy::validate_id(&service, id, &[]).map_err(|e| Failure::usage(format!("error: {e}")))?;
    let name = copy::object_name(&service, id);
    let output = global.output;
    let env_name = &args.env;
    session::with_clusters(&env, false, |clients, _| async move {
        let now = now_seconds();
        let mut text = String::new();
        let mut removed = Vec::new();
        for c in &clients {
            let n = delete_copy_objects(c, &service, id)
                .await
                .map_err(|e| cluster_failure(c.name(), "cannot remove the copy", &e))?;
            let expired = remove_expired(c, &service, now, false)
                .await
                .map_err(|e| cluster_failure(c.name(), "cannot remove expired test copies", &e))?;
            expired_lines(&mut text, &service, c.name(), &expired);
            removed.push((c.name().to_owned(), n));
        }
        if let Some(Output::Json) = output {
            return Ok(json_text(&json!({
                "service": service,
                "test_copy": id,
                "removed": removed.iter().map(|(c, n)| (c.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            })));
        }
        if removed.iter().all(|(_, n)| *n == 0) {
            text.push_str(&format!(
                "no test copy {name} in {env_name}: nothing to remove\n"
            ));
        } else {
            let per: Vec<String> = removed
                .iter()
                .map(|(c, n)| format!("{n} object{} in {c}", if *n == 1 { "" } else { "s" }))
                .collect();
            text.push_str(&format!("removed test copy {name} ({})\n", per.join(", ")));
        }
        Ok(text)
    })
}
