//! The CRD, release records with chunked manifests, peer copies, the lease.

use std::time::Duration;

use app_toml::Strategy;
use cluster::lease::{self, LeaseOutcome};
use cluster::records;

use crate::support::{release, release_with, start};

#[tokio::test]
async fn crd_install_is_idempotent_and_established() {
    let env = start(&["a"]).await;
    // `start` installed it once; a second install finds it established.
    cluster::crd::install_crd(env.client("a"))
        .await
        .expect("install again");
}

#[tokio::test]
async fn large_release_round_trips_through_chunked_config_maps_in_every_cluster() {
    let env = start(&["a", "b", "c"]).await;
    let names = env.names();
    // 600 kB of noise per cluster: three clusters' manifests exceed 0.9 MB gzipped.
    let r = release_with("big", 1, None, "v1", Strategy::Simple, &names, 600_000);
    let chunks = records::encode_manifests(&r.spec.manifests);
    assert!(chunks.parts.len() >= 2, "{} chunks", chunks.parts.len());
    for client in &env.clients {
        records::save_record(client, &r).await.expect("save");
    }
    // Every cluster holds the manifests of every cluster (the peer copies).
    for client in &env.clients {
        let back = records::read_record(client, "big-v1")
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(back, r, "in {}", client.name());
        assert_eq!(back.spec.manifests.len(), 3);
        assert!(back.spec.digest_matches());
    }
    // Saving again keeps the immutable chunks and the record as they are.
    records::save_record(env.client("a"), &r)
        .await
        .expect("save again");
    let listed = records::list_records(env.client("b"), Some("big"))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].as_ref().ok(), Some(&r));
}

#[tokio::test]
async fn history_keeps_the_newest_records() {
    let env = start(&["a"]).await;
    let names = env.names();
    let client = env.client("a");
    for n in 1..=5 {
        let r = release(
            "hist",
            n,
            (n > 1).then(|| n - 1),
            "v",
            Strategy::Simple,
            &names,
        );
        records::save_record(client, &r).await.expect("save");
    }
    let deleted = records::prune_history(client, "hist", 3, &[release::Version(1)])
        .await
        .expect("prune");
    assert_eq!(deleted, 1);
    let mut kept: Vec<u64> = records::list_records(client, Some("hist"))
        .await
        .expect("list")
        .into_iter()
        .filter_map(Result::ok)
        .map(|r| r.spec.number.0)
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, [1, 3, 4, 5]);
}

#[tokio::test]
async fn lease_is_acquired_denied_renewed_given_back_and_expires() {
    let env = start(&["a"]).await;
    let c = env.client("a");
    let got = lease::acquire(c, "svc", "svc-v1", 1)
        .await
        .expect("acquire");
    assert_eq!(got, LeaseOutcome::Acquired);
    assert_eq!(
        lease::acquire(c, "svc", "svc-v1", 1).await.expect("again"),
        LeaseOutcome::Acquired
    );
    assert_eq!(
        lease::acquire(c, "svc", "svc-v2", 30).await.expect("other"),
        LeaseOutcome::Denied {
            holder: "svc-v1".to_owned()
        }
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        lease::read_lease(c, "svc").await.expect("read"),
        Some(("svc-v1".to_owned(), true))
    );
    // Expired: another release may take it, and the old holder cannot renew.
    assert_eq!(
        lease::acquire(c, "svc", "svc-v2", 30).await.expect("take"),
        LeaseOutcome::Acquired
    );
    assert!(!lease::renew(c, "svc", "svc-v1", 30).await.expect("renew"));
    assert!(
        lease::renew(c, "svc", "svc-v2", 30)
            .await
            .expect("renew own")
    );
    lease::give_back(c, "svc", "svc-v2")
        .await
        .expect("give back");
    assert_eq!(lease::read_lease(c, "svc").await.expect("read"), None);
    assert_eq!(
        lease::acquire(c, "svc", "svc-v3", 30).await.expect("free"),
        LeaseOutcome::Acquired
    );
}
