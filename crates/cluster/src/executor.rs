//! The executor: one planner [`Action`] in one cluster becomes requests,
//! and what the cluster answered becomes [`Event`]s for the planner.
//!
//! Every outcome is an event: an error from a cluster that answered is
//! [`Event::Failed`] with the cluster, the object, the reason and the latest
//! message; a cluster that did not answer is [`Event::Unreachable`]. The
//! executor never decides what happens next; the planner does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use release::{Action, Event, ObjectRef, Reason, Release, Stage};

use crate::apply::{self, Problem, classify_error};
use crate::connect::ClusterClient;
use crate::error::{Error, Result};
use crate::lease::{self, LeaseOutcome};
use crate::readiness;
use crate::records;

/// Runs actions against the connected clusters. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Executor {
    clusters: BTreeMap<String, ClusterClient>,
    /// The generation each object's last apply returned, per cluster:
    /// readiness is judged against it, not against whatever the object
    /// says later.
    generations: Mutex<HashMap<(String, ObjectRef), i64>>,
}

impl Executor {
    /// An executor over these clusters.
    pub fn new(clients: impl IntoIterator<Item = ClusterClient>) -> Executor {
        Executor {
            clusters: clients
                .into_iter()
                .map(|c| (c.name().to_owned(), c))
                .collect(),
            generations: Mutex::new(HashMap::new()),
        }
    }

    /// The client of a cluster.
    pub fn cluster(&self, name: &str) -> Result<&ClusterClient> {
        self.clusters
            .get(name)
            .ok_or_else(|| Error::UnknownCluster {
                cluster: name.to_owned(),
            })
    }

    /// Every connected cluster.
    pub fn clusters(&self) -> impl Iterator<Item = &ClusterClient> {
        self.clusters.values()
    }

    /// API requests sent so far to all clusters.
    pub fn requests(&self) -> u64 {
        self.clusters.values().map(ClusterClient::requests).sum()
    }

    fn remember(&self, cluster: &str, object: &ObjectRef, generation: i64) {
        let mut map = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        map.insert((cluster.to_owned(), object.clone()), generation);
    }

    fn generation(&self, cluster: &str, object: &ObjectRef) -> Option<i64> {
        let map = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(cluster.to_owned(), object.clone())).copied()
    }

    /// Server-side dry run of every object of the release in every cluster,
    /// in parallel. Conflicts, admission and validation errors, and clusters
    /// that do not answer, are reported; nothing changes anywhere.
    pub async fn dry_run(&self, release: &Release) -> Vec<Problem> {
        let runs = release.spec.clusters.iter().map(|name| async move {
            let Ok(cluster) = self.cluster(name) else {
                return vec![unknown_problem(name)];
            };
            let objects: Vec<_> = Stage::ALL
                .iter()
                .flat_map(|s| release.spec.objects(name, *s).iter().cloned())
                .collect();
            match apply::dry_run(cluster, &objects).await {
                Ok(problems) => problems,
                Err(e) => vec![Problem {
                    cluster: name.clone(),
                    object: ObjectRef::new("v1", "Namespace", "", &release.spec.service),
                    reason: Reason::Unreachable,
                    message: e.to_string(),
                }],
            }
        });
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Performs one cluster action of `release`, handing each resulting
    /// event to `send` as it happens. [`Action::WriteStatus`], timers and
    /// rejections are the driver's and do nothing here.
    pub async fn execute(&self, release: &Release, action: &Action, send: &(dyn Fn(Event) + Sync)) {
        let Some(name) = action.cluster() else { return };
        let Ok(cluster) = self.cluster(name) else {
            send(Event::Unreachable {
                cluster: name.to_owned(),
                message: format!("no connection to cluster {name}"),
            });
            return;
        };
        let service = &release.spec.service;
        let unreachable = |e: &Error| Event::Unreachable {
            cluster: name.to_owned(),
            message: e.to_string(),
        };
        let failed = |object: Option<ObjectRef>, e: &Error| {
            if e.is_unreachable() {
                return unreachable(e);
            }
            let (reason, message) = classify_error(e);
            Event::Failed {
                cluster: name.to_owned(),
                object,
                reason,
                message,
            }
        };
        match action {
            Action::AcquireLease {
                holder,
                ttl_seconds,
                ..
            } => match lease::acquire(cluster, service, holder, *ttl_seconds).await {
                Ok(LeaseOutcome::Acquired) => send(Event::LeaseAcquired {
                    cluster: name.to_owned(),
                }),
                Ok(LeaseOutcome::Denied { holder }) => send(Event::LeaseDenied {
                    cluster: name.to_owned(),
                    holder,
                }),
                Err(e) => send(unreachable(&e)),
            },
            Action::ReleaseLease { holder, .. } => {
                // Best effort: an expired lease frees itself.
                let _ = lease::give_back(cluster, service, holder).await;
            }
            Action::Apply {
                objects,
                field_manager,
                ..
            } => {
                let (applied, error) = apply::apply_objects(cluster, objects, field_manager).await;
                for done in applied {
                    self.remember(name, &done.object, done.generation);
                    send(Event::Applied {
                        cluster: name.to_owned(),
                        object: done.object,
                    });
                }
                if let Some((object, e)) = error {
                    send(failed(Some(object), &e));
                }
            }
            Action::WaitReady { objects, .. } => {
                let waits = objects.iter().map(|object| async move {
                    let generation = self.generation(name, object);
                    (
                        object,
                        readiness::wait_ready(cluster, object, generation).await,
                    )
                });
                let mut waits: futures_util::stream::FuturesUnordered<_> = waits.collect();
                use futures_util::StreamExt;
                while let Some((object, outcome)) = waits.next().await {
                    match outcome {
                        Ok(Ok(())) => send(Event::Ready {
                            cluster: name.to_owned(),
                            object: object.clone(),
                        }),
                        Ok(Err(not_ready)) => send(Event::Failed {
                            cluster: name.to_owned(),
                            object: Some(object.clone()),
                            reason: not_ready.reason,
                            message: not_ready.message,
                        }),
                        Err(e) => send(failed(Some(object.clone()), &e)),
                    }
                }
            }
            Action::SwitchTraffic {
                version,
                stable,
                weight,
                objects,
                ..
            } => match apply::switch_traffic(cluster, service, objects, *version, *stable, *weight)
                .await
            {
                Ok(()) => send(Event::TrafficSwitched {
                    cluster: name.to_owned(),
                    version: *version,
                    weight: *weight,
                }),
                Err(e) => send(failed(None, &e)),
            },
            Action::Delete { version, .. } => {
                match apply::delete_version(cluster, service, *version).await {
                    Ok(_) => send(Event::Deleted {
                        cluster: name.to_owned(),
                        version: *version,
                    }),
                    Err(e) => send(failed(None, &e)),
                }
            }
            Action::Restore { version, .. } => {
                match self.restore(cluster, release, *version).await {
                    Ok(()) => send(Event::Restored {
                        cluster: name.to_owned(),
                        version: *version,
                    }),
                    Err(e) => send(failed(None, &e)),
                }
            }
            Action::WriteStatus { .. } | Action::StartTimer { .. } | Action::Rejected { .. } => {}
        }
    }

    /// Re-applies the stored objects of `version` (init and application).
    async fn restore(
        &self,
        cluster: &ClusterClient,
        release: &Release,
        version: release::Version,
    ) -> Result<()> {
        let name = format!("{}-{version}", release.spec.service);
        let stored = records::read_record(cluster, &name)
            .await?
            .ok_or_else(|| Error::Record {
                cluster: cluster.name().to_owned(),
                name: name.clone(),
                message: "no such record to restore".to_owned(),
            })?;
        let objects: Vec<_> = [Stage::Init, Stage::Application]
            .iter()
            .flat_map(|s| stored.spec.objects(cluster.name(), *s).iter().cloned())
            .collect();
        let (_, error) =
            apply::apply_objects(cluster, &objects, release::planner::FIELD_MANAGER).await;
        error.map_or(Ok(()), |(_, e)| Err(e))
    }
}

fn unknown_problem(name: &str) -> Problem {
    Problem {
        cluster: name.to_owned(),
        object: ObjectRef::new("v1", "Namespace", "", ""),
        reason: Reason::Unreachable,
        message: format!("no connection to cluster {name}"),
    }
}

/// Shared executor.
pub type SharedExecutor = Arc<Executor>;
