//! Full releases through the driver: simple, failed, canary, a hung cluster,
//! and the dry run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app_toml::Strategy;
use cluster::{Driver, Executor, Progress};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use release::{Event, Phase, Reason, Release, Timestamp, Version};
use serde_json::{Value, json};
use sim_cluster::Reachability;
use tokio::sync::mpsc;

use crate::support::{Env, release, start};

/// Runs a release to its end; `watch` sees every progress item and may send
/// commands.
pub async fn drive(
    env: &Env,
    r: Release,
    mut watch: impl FnMut(&Progress, &mpsc::UnboundedSender<Event>),
) -> (Release, Vec<Progress>) {
    let executor = Arc::new(Executor::new(env.clients.clone()));
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let driver = Driver::new(executor).with_progress(ptx);
    let start = Event::Start {
        at: Timestamp("2026-11-23T00:00:00Z".to_owned()),
    };
    let run = tokio::spawn(async move { driver.run(r, start, crx).await });
    let mut seen = Vec::new();
    let watching = async {
        while let Some(p) = prx.recv().await {
            watch(&p, &ctx);
            seen.push(p);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), watching)
        .await
        .expect("the release ends within a minute");
    let done = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("finished in time")
        .expect("joined")
        .expect("ran");
    (done, seen)
}

async fn deployments(env: &Env, cluster: &str, svc: &str) -> Vec<String> {
    let api: Api<Deployment> = Api::namespaced(env.client(cluster).client().clone(), svc);
    let mut names: Vec<String> = api
        .list(&Default::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|d| d.metadata.name)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub async fn route_backends(env: &Env, cluster: &str, svc: &str) -> Value {
    let ar = cluster::apply::resource("gateway.networking.k8s.io/v1", "HTTPRoute");
    let api: Api<DynamicObject> =
        Api::namespaced_with(env.client(cluster).client().clone(), svc, &ar);
    api.get(svc)
        .await
        .map(|o| o.data["spec"]["rules"][0]["backendRefs"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn simple_deploy_completes_everywhere_then_replaces_the_old_version() {
    let env = start(&["a", "b", "c"]).await;
    let names = env.names();
    let before = Instant::now();
    let (done, _) = drive(
        &env,
        release("web", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    let requests = env.clients.iter().map(|c| c.requests()).sum::<u64>();
    let objects = done.spec.manifests.values().map(|m| m.len()).sum::<usize>();
    eprintln!(
        "simple v1 over 3 clusters: {:?}, {requests} requests for {objects} objects",
        before.elapsed()
    );
    for name in &names {
        assert_eq!(deployments(&env, name, "web").await, ["web-v1"]);
        assert_eq!(
            route_backends(&env, name, "web").await,
            json!([{"name": "web-v1", "port": 80, "weight": 100}])
        );
        let stored = cluster::records::read_record(env.client(name), "web-v1")
            .await
            .expect("read")
            .expect("record");
        assert_eq!(stored.status.phase, Phase::Succeeded);
        assert_eq!(stored.spec.manifests.len(), 3, "peer copies in {name}");
        assert_eq!(
            cluster::lease::read_lease(env.client(name), "web")
                .await
                .expect("lease"),
            None
        );
    }
    let (done, _) = drive(
        &env,
        release("web", 2, Some(1), "v2", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    for name in &names {
        assert_eq!(
            deployments(&env, name, "web").await,
            ["web-v2"],
            "old version pruned in {name}"
        );
        assert_eq!(
            route_backends(&env, name, "web").await,
            json!([{"name": "web-v2", "port": 80, "weight": 100}])
        );
    }
}

#[tokio::test]
async fn a_failed_pull_in_one_cluster_aborts_with_the_old_version_serving_everywhere() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let (done, _) = drive(
        &env,
        release("api", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let (done, _) = drive(
        &env,
        release(
            "api",
            2,
            Some(1),
            "fail-pull-in-b",
            Strategy::Simple,
            &names,
        ),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Failed);
    let failure = done.status.failures.first().expect("a failure");
    assert_eq!(failure.cluster, "b");
    assert_eq!(failure.reason, Reason::ImagePullBackOff);
    assert_eq!(
        failure.object.as_ref().map(|o| o.name.as_str()),
        Some("api-v2")
    );
    assert!(failure.message.to_lowercase().contains("pull"), "{failure}");
    for name in &names {
        assert_eq!(
            deployments(&env, name, "api").await,
            ["api-v1"],
            "in {name}"
        );
        assert_eq!(
            route_backends(&env, name, "api").await,
            json!([{"name": "api-v1", "port": 80, "weight": 100}])
        );
    }
}

#[tokio::test]
async fn a_canary_steps_its_weights_then_promotes() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let (done, _) = drive(
        &env,
        release("shop", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let mut weights = Vec::new();
    let (done, seen) = drive(
        &env,
        release("shop", 2, Some(1), "v2", Strategy::Canary, &names),
        |p, commands| {
            if let Progress::Event(Event::TrafficSwitched {
                cluster, weight, ..
            }) = p
                && cluster == "a"
            {
                weights.push(*weight);
                if *weight == 50 {
                    let _ = commands.send(Event::Promote);
                }
            }
        },
    )
    .await;
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    assert_eq!(weights, [20, 50, 100]);
    assert!(
        seen.iter()
            .any(|p| matches!(p, Progress::Status(r) if r.status.weight == 20))
    );
    for name in &names {
        assert_eq!(deployments(&env, name, "shop").await, ["shop-v2"]);
        assert_eq!(
            route_backends(&env, name, "shop").await,
            json!([{"name": "shop-v2", "port": 80, "weight": 100}])
        );
    }
}

#[tokio::test]
async fn a_canary_weight_is_set_on_the_route() {
    let env = start(&["a"]).await;
    let names = env.names();
    drive(
        &env,
        release("cart", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    let client = env.client("a").clone();
    let svc = "cart";
    let mut r = release(svc, 2, Some(1), "v2", Strategy::Canary, &names);
    r.spec.options.canary_steps = vec![30];
    r.spec.options.canary_step_seconds = 30;
    // A lease of one second lives only because the driver renews it.
    r.spec.options.lease_seconds = 1;
    let r = Release::new(r.spec).expect("valid");
    let (held_tx, mut held_rx) = mpsc::unbounded_channel::<()>();
    let run = {
        let env_clients = env.clients.clone();
        tokio::spawn(async move {
            let executor = Arc::new(Executor::new(env_clients));
            let (ptx, mut prx) = mpsc::unbounded_channel();
            let (ctx, crx) = mpsc::unbounded_channel();
            let driver = Driver::new(executor).with_progress(ptx);
            let at = Timestamp("2026-11-23T00:00:00Z".to_owned());
            let run = tokio::spawn(async move { driver.run(r, Event::Start { at }, crx).await });
            while let Some(p) = prx.recv().await {
                if matches!(
                    p,
                    Progress::Event(Event::TrafficSwitched { weight: 30, .. })
                ) {
                    let _ = held_tx.send(());
                    // Hold the canary until the test looked, then abort.
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                    let _ = ctx.send(Event::Abort);
                }
            }
            run.await.expect("join").expect("run")
        })
    };
    held_rx.recv().await.expect("canary held");
    let ar = cluster::apply::resource("gateway.networking.k8s.io/v1", "HTTPRoute");
    let api: Api<DynamicObject> = Api::namespaced_with(client.client().clone(), svc, &ar);
    let route = api.get(svc).await.expect("route");
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"],
        json!([{"name": "cart-v1", "port": 80, "weight": 70}, {"name": "cart-v2", "port": 80, "weight": 30}])
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        cluster::lease::read_lease(&client, svc)
            .await
            .expect("lease"),
        Some(("cart-v2".to_owned(), false)),
        "renewed while the canary holds"
    );
    let done = run.await.expect("join");
    assert_eq!(done.status.phase, Phase::Aborted);
    assert_eq!(deployments(&env, "a", svc).await, ["cart-v1"]);
    assert_eq!(
        route_backends(&env, "a", svc).await,
        json!([{"name": "cart-v1", "port": 80, "weight": 100}])
    );
}

#[tokio::test]
async fn a_hung_cluster_times_out_while_the_others_progress() {
    let env = start(&["a", "b", "c"]).await;
    let names = env.names();
    // `slow` pods take 600 ms, so a and b become ready after c hangs.
    let mut r = release("hang", 1, None, "slow", Strategy::Simple, &names);
    r.spec.options.stage_deadline_seconds = 4;
    r.spec.options.max_retries = 1;
    let r = Release::new(r.spec).expect("valid");
    let sim_c = env.sim("c").clone();
    let mut hung_at = None;
    let mut ready_after_hang = Vec::new();
    let started = Instant::now();
    let (done, _) = drive(&env, r, |p, _| match p {
        Progress::Event(Event::Applied { cluster, object })
            if cluster == "c" && object.kind == "Deployment" && hung_at.is_none() =>
        {
            sim_c.set_reachability(Reachability::Hanging);
            hung_at = Some(Instant::now());
        }
        Progress::Event(Event::Ready { cluster, object })
            if hung_at.is_some() && object.kind == "Deployment" =>
        {
            ready_after_hang.push(cluster.clone());
        }
        _ => {}
    })
    .await;
    assert!(hung_at.is_some(), "c was hung during the rollout");
    ready_after_hang.sort();
    assert_eq!(ready_after_hang, ["a", "b"], "the others progressed");
    assert_eq!(done.status.phase, Phase::Failed);
    assert!(
        done.status.failures.iter().all(|f| f.cluster == "c"),
        "{:?}",
        done.status.failures
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    env.sim("c").set_reachability(Reachability::Answering);
    for name in ["a", "b"] {
        assert!(
            deployments(&env, name, "hang").await.is_empty(),
            "removed in {name}"
        );
    }
}

#[tokio::test]
async fn dry_run_reports_a_conflict_and_changes_nothing() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    drive(
        &env,
        release("dry", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    // Someone else scales v1 in cluster a by hand (their own field manager).
    let api: Api<Deployment> = Api::namespaced(env.client("a").client().clone(), "dry");
    let patch = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dry-v1"}, "spec": {"replicas": 5}});
    api.patch(
        "dry-v1",
        &PatchParams::apply("kubectl").force(),
        &Patch::Apply(&patch),
    )
    .await
    .expect("manual change");
    // A re-rendered v1 (a replay) would set replicas back: a conflict.
    let r = release("dry", 1, None, "v1", Strategy::Simple, &names);
    let executor = Executor::new(env.clients.clone());
    let requests_before = executor.requests();
    let problems = executor.dry_run(&r).await;
    assert!(executor.requests() > requests_before);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].cluster, "a");
    assert_eq!(problems[0].object.name, "dry-v1");
    assert_eq!(problems[0].reason, Reason::Other("Conflict".to_owned()));
    assert!(
        problems[0].message.contains("kubectl"),
        "{}",
        problems[0].message
    );
    let after = api.get("dry-v1").await.expect("still there");
    assert_eq!(
        after.spec.and_then(|s| s.replicas),
        Some(5),
        "nothing changed"
    );
    // A first deploy of a new service in empty clusters has no problems and creates nothing.
    let fresh = release("fresh", 1, None, "v1", Strategy::Simple, &names);
    assert!(executor.dry_run(&fresh).await.is_empty());
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(env.client("b").client().clone());
    assert!(ns.get_opt("fresh").await.expect("get").is_none());
    let _ = Version(1);
}

#[tokio::test]
async fn a_lease_held_elsewhere_fails_the_release_before_anything_is_applied() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let held = cluster::lease::acquire(env.client("b"), "busy", "busy-v9", 60)
        .await
        .expect("lease");
    assert_eq!(held, cluster::lease::LeaseOutcome::Acquired);
    let (done, _) = drive(
        &env,
        release("busy", 10, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Failed);
    assert!(
        done.status
            .failures
            .iter()
            .any(|f| f.cluster == "b" && f.reason == Reason::LeaseHeld),
        "{:?}",
        done.status.failures
    );
    for name in &names {
        assert!(deployments(&env, name, "busy").await.is_empty());
    }
    assert_eq!(
        cluster::lease::read_lease(env.client("a"), "busy")
            .await
            .expect("read"),
        None,
        "the lease taken in a was given back"
    );
    assert_eq!(
        cluster::lease::read_lease(env.client("b"), "busy")
            .await
            .expect("read")
            .map(|l| l.0),
        Some("busy-v9".to_owned())
    );
}

/// API requests per deployed object stay bounded (watches, not polling).
#[tokio::test]
async fn api_requests_per_deployed_object_are_bounded() {
    let env = start(&["a", "b", "c"]).await;
    let names = env.names();
    let before: u64 = env.clients.iter().map(|c| c.requests()).sum();
    let (done, _) = drive(
        &env,
        release("count", 1, None, "slow", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let requests: u64 = env.clients.iter().map(|c| c.requests()).sum::<u64>() - before;
    let objects = done.spec.manifests.values().map(|m| m.len()).sum::<usize>() as u64;
    let per_object = requests as f64 / objects as f64;
    eprintln!(
        "{requests} requests for {objects} objects: {per_object:.1} per object (pods ready after 600 ms)"
    );
    assert!(per_object < 10.0, "{per_object:.1} requests per object");
}

/// Wall time of a simple deploy over 1 and 3 clusters, without and with
/// 10 ms of latency per request (a network round trip), run with
/// `cargo test -p cluster --test it -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn measure_one_versus_three_clusters() {
    for (count, latency) in [(1usize, 0u64), (3, 0), (1, 10), (3, 10)] {
        let all = ["m1", "m2", "m3"];
        let env = start(&all[..count]).await;
        let names = env.names();
        for name in &names {
            env.sim(name).set_latency(Duration::from_millis(latency));
        }
        let mut times = Vec::new();
        for n in 1..=5u64 {
            let r = release(
                "time",
                n,
                (n > 1).then(|| n - 1),
                "v",
                Strategy::Simple,
                &names,
            );
            let started = Instant::now();
            let (done, _) = drive(&env, r, |_, _| {}).await;
            assert_eq!(done.status.phase, Phase::Succeeded);
            times.push(started.elapsed());
        }
        times.sort();
        let requests: u64 = env.clients.iter().map(|c| c.requests()).sum();
        eprintln!(
            "{count} cluster(s): median {:?} per deploy, {requests} requests over 5 deploys",
            times[2]
        );
    }
}

#[tokio::test]
async fn a_crashed_deployer_resumes_from_the_stored_record() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let mut r = release("resume", 1, None, "v1", Strategy::Simple, &names);
    r.spec.options.manual = true;
    let r = Release::new(r.spec).expect("valid");
    // First deployer: runs to the first gate, then dies.
    let executor = Arc::new(Executor::new(env.clients.clone()));
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (_ctx, crx) = mpsc::unbounded_channel();
    let driver = Driver::new(executor.clone()).with_progress(ptx);
    let at = Timestamp("2026-11-23T00:00:00Z".to_owned());
    let run = tokio::spawn(async move { driver.run(r, Event::Start { at }, crx).await });
    while let Some(p) = prx.recv().await {
        if let Progress::Status(r) = &p
            && matches!(r.status.step, release::Step::Gate { .. })
        {
            break;
        }
    }
    run.abort();
    // Let the last status writes land (they were queued before the gate).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = cluster::records::read_record(env.client("a"), "resume-v1")
        .await
        .expect("read")
        .expect("record");
    assert!(
        matches!(stored.status.step, release::Step::Gate { .. }),
        "{:?}",
        stored.status.step
    );
    // Second deployer: resumes and promotes through every gate.
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let driver = Driver::new(executor).with_progress(ptx);
    let run = tokio::spawn(async move { driver.run(stored, Event::Resume, crx).await });
    // It resumes at the gate it stopped at.
    let _ = ctx.send(Event::Promote);
    let mut gates = 1;
    let watching = async {
        while let Some(p) = prx.recv().await {
            if let Progress::Status(r) = &p
                && matches!(r.status.step, release::Step::Gate { .. })
            {
                gates += 1;
                let _ = ctx.send(Event::Promote);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), watching)
        .await
        .expect("the resumed release ends within a minute");
    let done = run.await.expect("join").expect("run");
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    assert!(gates >= 2, "{gates} gates");
    for name in &names {
        assert_eq!(deployments(&env, name, "resume").await, ["resume-v1"]);
    }
}

#[tokio::test]
async fn a_cluster_that_hangs_for_a_while_catches_up_before_the_deadline() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let mut r = release("blip", 1, None, "v1", Strategy::Simple, &names);
    r.spec.options.stage_deadline_seconds = 15;
    let r = Release::new(r.spec).expect("valid");
    let sim_b = env.sim("b").clone();
    let mut hung = false;
    let (done, seen) = drive(&env, r, |p, _| {
        if let Progress::Event(Event::Applied { cluster, object }) = p
            && cluster == "b"
            && object.kind == "Deployment"
            && !hung
        {
            hung = true;
            sim_b.set_reachability(Reachability::Hanging);
            let sim_b = sim_b.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                sim_b.set_reachability(Reachability::Answering);
            });
        }
    })
    .await;
    assert!(hung);
    assert!(seen.iter().any(
        |p| matches!(p, Progress::Event(Event::Unreachable { cluster, .. }) if cluster == "b")
    ));
    assert!(
        seen.iter()
            .any(|p| matches!(p, Progress::Event(Event::Reachable { cluster }) if cluster == "b"))
    );
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    assert_eq!(deployments(&env, "b", "blip").await, ["blip-v1"]);
}

#[tokio::test]
async fn a_canary_with_nobody_to_command_it_is_parked_and_taken_up_again() {
    let env = start(&["a", "b"]).await;
    let names = env.names();
    let (done, _) = drive(
        &env,
        release("park", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let mut r = release("park", 2, Some(1), "v2", Strategy::Canary, &names);
    r.spec.options.canary_steps = vec![10, 40];
    let r = Release::new(r.spec).expect("valid");
    let executor = Arc::new(Executor::new(env.clients.clone()));
    // First deployer: closes its commands once the canary holds its weight.
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel::<Event>();
    let driver = Driver::new(executor.clone()).with_progress(ptx);
    let at = Timestamp("2026-11-23T00:00:00Z".to_owned());
    let run = tokio::spawn(async move { driver.run(r, Event::Start { at }, crx).await });
    let mut ctx = Some(ctx);
    while let Some(p) = prx.recv().await {
        if let Progress::Status(r) = &p
            && r.status.step == release::Step::CanaryHold
        {
            ctx = None;
        }
    }
    assert!(ctx.is_none(), "the canary held");
    let parked = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("parked in time")
        .expect("joined")
        .expect("ran");
    assert_eq!(parked.status.phase, Phase::Running);
    assert_eq!(parked.status.step, release::Step::CanaryHold);
    assert_eq!(parked.status.weight, 10);
    for name in &names {
        let client = env.client(name);
        assert_eq!(
            cluster::lease::read_lease(client, "park")
                .await
                .expect("lease"),
            None,
            "the lease is given back in {name}"
        );
        let stored = cluster::records::read_record(client, "park-v2")
            .await
            .expect("read")
            .expect("record");
        assert_eq!(
            stored.status.step,
            release::Step::CanaryHold,
            "stored in {name}"
        );
        assert_eq!(
            route_backends(&env, name, "park").await,
            json!([
                {"name": "park-v1", "port": 80, "weight": 90},
                {"name": "park-v2", "port": 80, "weight": 10}
            ])
        );
    }
    // Second deployer: takes the lease back, resumes, sets 40% then promotes.
    for name in &names {
        let outcome = cluster::lease::acquire(env.client(name), "park", "park-v2", 60)
            .await
            .expect("acquire");
        assert_eq!(outcome, cluster::lease::LeaseOutcome::Acquired);
    }
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let driver = Driver::new(executor).with_progress(ptx);
    let run = tokio::spawn(async move { driver.run(parked, Event::Resume, crx).await });
    let _ = ctx.send(Event::SetWeight { weight: 40 });
    let mut weights = Vec::new();
    let watching = async {
        while let Some(p) = prx.recv().await {
            if let Progress::Event(Event::TrafficSwitched {
                cluster, weight, ..
            }) = &p
                && cluster == "a"
            {
                weights.push(*weight);
                if *weight == 40 {
                    let _ = ctx.send(Event::Promote);
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), watching)
        .await
        .expect("the resumed release ends within a minute");
    let done = run.await.expect("join").expect("run");
    assert_eq!(
        done.status.phase,
        Phase::Succeeded,
        "{:?}",
        done.status.failures
    );
    assert_eq!(weights, [40, 100]);
    for name in &names {
        assert_eq!(deployments(&env, name, "park").await, ["park-v2"]);
        assert_eq!(
            cluster::lease::read_lease(env.client(name), "park")
                .await
                .expect("lease"),
            None,
            "given back at the end in {name}"
        );
    }
}
