//! The planner's own output feeding sync: releases rolled out by
//! `release::step` through a tiny in-memory adapter, then a cluster wiped or
//! left behind, and sync repairing it from the peers.

use std::collections::BTreeMap;

use release::{Action, Event, Phase, Release, Timestamp, Version, step};
use sync::{LiveService, Options, Snapshot, Traffic, plan};

use crate::fixtures::{CLUSTERS, perform_plan, record};

/// Three clusters as an adapter sees them.
struct World {
    snapshots: Vec<Snapshot>,
    down: Option<&'static str>,
}

impl World {
    fn new() -> World {
        // v1 of `web` runs everywhere.
        let v1 = record("web", 1, None);
        let snapshots = CLUSTERS
            .iter()
            .map(|c| Snapshot {
                cluster: (*c).to_owned(),
                reachable: true,
                records: vec![v1.clone()],
                live: BTreeMap::from([(
                    "web".to_owned(),
                    LiveService {
                        versions: [Version(1)].into_iter().collect(),
                        traffic: Some(Traffic::all(Version(1))),
                        lease: None,
                    },
                )]),
            })
            .collect();
        World {
            snapshots,
            down: None,
        }
    }

    fn cluster(&mut self, name: &str) -> Option<&mut Snapshot> {
        if self.down == Some(name) {
            return None;
        }
        self.snapshots.iter_mut().find(|s| s.cluster == name)
    }

    /// Performs one action; returns what the adapter observes.
    fn perform(&mut self, release: &Release, action: &Action) -> Vec<Event> {
        let unreachable = |cluster: &str| {
            vec![Event::Unreachable {
                cluster: cluster.to_owned(),
                message: "timeout".to_owned(),
            }]
        };
        match action {
            Action::WriteStatus { .. } => {
                let down = self.down;
                for s in self
                    .snapshots
                    .iter_mut()
                    .filter(|s| Some(s.cluster.as_str()) != down)
                {
                    s.records.retain(|r| r.spec.number != release.spec.number);
                    s.records.push(release.clone());
                }
                vec![]
            }
            Action::AcquireLease { cluster, .. } => match self.cluster(cluster) {
                Some(_) => vec![Event::LeaseAcquired {
                    cluster: cluster.clone(),
                }],
                None => unreachable(cluster),
            },
            Action::Apply {
                cluster, version, ..
            } => match self.cluster(cluster) {
                Some(s) => {
                    s.live
                        .entry("web".to_owned())
                        .or_default()
                        .versions
                        .insert(*version);
                    vec![]
                }
                None => unreachable(cluster),
            },
            Action::WaitReady {
                cluster, objects, ..
            } => match self.cluster(cluster) {
                Some(_) => objects
                    .iter()
                    .map(|o| Event::Ready {
                        cluster: cluster.clone(),
                        object: o.clone(),
                    })
                    .collect(),
                None => unreachable(cluster),
            },
            Action::SwitchTraffic {
                cluster,
                version,
                stable,
                weight,
                ..
            } => match self.cluster(cluster) {
                Some(s) => {
                    let traffic = Traffic {
                        version: *version,
                        weight: *weight,
                        stable: *stable,
                    };
                    s.live.entry("web".to_owned()).or_default().traffic =
                        Some(traffic.normalised());
                    vec![Event::TrafficSwitched {
                        cluster: cluster.clone(),
                        version: *version,
                        weight: *weight,
                    }]
                }
                None => unreachable(cluster),
            },
            Action::Delete { cluster, version } => match self.cluster(cluster) {
                Some(s) => {
                    if let Some(live) = s.live.get_mut("web") {
                        live.versions.remove(version);
                    }
                    vec![Event::Deleted {
                        cluster: cluster.clone(),
                        version: *version,
                    }]
                }
                None => unreachable(cluster),
            },
            _ => vec![],
        }
    }

    /// Rolls `release` out to the end, delivering timers when nothing else is pending.
    fn roll_out(
        &mut self,
        mut release: Release,
        down_after_switch: Option<&'static str>,
    ) -> Release {
        let mut queue = vec![Event::Start {
            at: Timestamp("2026-11-23T12:00:00Z".to_owned()),
        }];
        let mut timer = None;
        for _ in 0..500 {
            let Some(event) = (if queue.is_empty() {
                timer.take().map(|timer| Event::Timeout { timer })
            } else {
                Some(queue.remove(0))
            }) else {
                break;
            };
            let (next, actions) = step(release, &event);
            release = next;
            for action in &actions {
                if let Action::StartTimer { timer: t, .. } = action {
                    timer = Some(*t);
                }
                if let (Some(c), Action::SwitchTraffic { cluster, .. }) =
                    (down_after_switch, action)
                    && cluster == c
                {
                    self.down = Some(c);
                }
                queue.extend(self.perform(&release, action));
            }
        }
        release
    }
}

fn v2() -> Release {
    let mut v2 = record("web", 2, Some(1));
    v2.status = Release::new(v2.spec.clone()).expect("valid").status;
    v2
}

fn check_repaired(world: &mut World, repaired: &str) {
    let options = Options::default();
    let first = plan(&world.snapshots, &options);
    assert!(!first.is_idle(), "sync found nothing to repair");
    perform_plan(&mut world.snapshots, &first);
    let second = plan(&world.snapshots, &options);
    assert!(second.is_idle(), "not a fixpoint:\n{second}");
    let reference = world.snapshots[0].clone();
    let target = world
        .snapshots
        .iter()
        .find(|s| s.cluster == repaired)
        .expect("cluster exists");
    assert_eq!(target.live["web"].versions, reference.live["web"].versions);
    assert_eq!(target.live["web"].traffic, Some(Traffic::all(Version(2))));
    let numbers = |s: &Snapshot| {
        let mut n: Vec<_> = s
            .records
            .iter()
            .map(|r| (r.spec.number, r.status.phase))
            .collect();
        n.sort_by_key(|(v, _)| *v);
        n
    };
    assert_eq!(numbers(target), numbers(&reference));
}

#[test]
fn a_cluster_wiped_after_a_deploy_is_rebuilt_from_its_peers() {
    let mut world = World::new();
    let done = world.roll_out(v2(), None);
    assert_eq!(done.status.phase, Phase::Succeeded);
    let wiped = &mut world.snapshots[2];
    wiped.records.clear();
    wiped.live.clear();
    check_repaired(&mut world, "dc-c");
}

#[test]
fn a_cluster_lost_during_the_switch_is_brought_forward_when_it_returns() {
    let mut world = World::new();
    let done = world.roll_out(v2(), Some("dc-c"));
    assert_eq!(done.status.phase, Phase::Incomplete);
    assert!(done.status.lagging.contains_key("dc-c"));
    // dc-c comes back still serving v1, with the record as it was before the switch.
    world.down = None;
    let stale = &world.snapshots[2];
    assert_eq!(stale.live["web"].traffic, Some(Traffic::all(Version(1))));
    check_repaired(&mut world, "dc-c");
}
