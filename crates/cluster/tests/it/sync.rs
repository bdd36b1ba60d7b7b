//! Sync: snapshots read through kube, a wiped cluster rebuilt from peer copies.

use std::sync::Arc;

use app_toml::Strategy;
use cluster::Executor;
use cluster::snapshot::{execute_plan, read_snapshots};
use release::{Phase, Version};
use serde_json::json;

use crate::deploy::{drive, route_backends};
use crate::support::{release, start};

#[tokio::test]
async fn sync_rebuilds_a_wiped_cluster_from_peer_copies() {
    let env = start(&["a", "b", "c"]).await;
    let names = env.names();
    let (done, _) = drive(
        &env,
        release("pay", 1, None, "v1", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let (done, _) = drive(
        &env,
        release("pay", 2, Some(1), "v2", Strategy::Simple, &names),
        |_, _| {},
    )
    .await;
    assert_eq!(done.status.phase, Phase::Succeeded);
    let executor = Arc::new(Executor::new(env.clients.clone()));

    let snapshots = read_snapshots(&executor, &names).await;
    let plan = sync::plan(&snapshots, &sync::Options::default());
    assert!(plan.is_idle(), "in sync before the wipe:\n{plan}");
    let live = &snapshots[0].live["pay"];
    assert_eq!(
        live.versions.iter().copied().collect::<Vec<_>>(),
        [Version(2)]
    );
    assert_eq!(live.traffic, Some(sync::Traffic::all(Version(2))));
    assert_eq!(snapshots[0].records.len(), 2);

    env.sim("b").wipe();
    cluster::prepare(env.client("b")).await.expect("CRD again");
    let snapshots = read_snapshots(&executor, &names).await;
    assert!(snapshots[1].records.is_empty() && snapshots[1].live.is_empty());
    let plan = sync::plan(&snapshots, &sync::Options::default());
    assert!(!plan.is_idle());
    assert!(plan.actions().all(|a| a.cluster() == "b"), "{plan}");
    let report = execute_plan(&executor, &plan).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.done, plan.actions().count());

    let back = cluster::records::list_records(env.client("b"), Some("pay"))
        .await
        .expect("list");
    let mut numbers: Vec<u64> = back
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.spec.number.0)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2], "history rebuilt");
    assert_eq!(
        route_backends(&env, "b", "pay").await,
        json!([{"name": "pay-v2", "port": 80, "weight": 100}])
    );
    let snapshots = read_snapshots(&executor, &names).await;
    let again = sync::plan(&snapshots, &sync::Options::default());
    assert!(again.is_idle(), "sync is idempotent:\n{again}");
}

#[tokio::test]
async fn an_unreachable_cluster_is_reported_not_read() {
    let env = start(&["a", "b"]).await;
    env.sim("b")
        .set_reachability(sim_cluster::Reachability::Refusing);
    let executor = Executor::new(env.clients.clone());
    let snapshots = read_snapshots(&executor, &env.names()).await;
    assert!(snapshots[0].reachable);
    assert!(!snapshots[1].reachable);
    env.sim("b")
        .set_reachability(sim_cluster::Reachability::Answering);
}
