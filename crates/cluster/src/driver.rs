//! The driver: runs one release to its end.
//!
//! It feeds [`release::step`] with events and performs the actions it
//! returns:
//! - every cluster has its own worker task and queue, so actions for one
//!   cluster run in the order the planner gave them while clusters run in
//!   parallel: a slow or unreachable cluster delays only its own queue
//!   (each of its requests is bounded by the request timeout), never the
//!   events and progress of the others;
//! - [`Action::WriteStatus`] is queued to every cluster *before* the
//!   actions that follow it, so in each cluster the status (the write-ahead
//!   record, point of no return included) is stored before anything it
//!   announces happens there. The first write of a cluster stores the whole
//!   record (manifests chunks, spec, status: the peer copy), later ones only
//!   the status;
//! - a `WaitReady` runs beside the queue and is cancelled by the cluster's
//!   next action (its step is over then); status writes do not cancel it;
//! - timers are tokio sleeps that deliver [`Event::Timeout`];
//! - the lease is renewed every third of its time to live while the
//!   release runs;
//! - a cluster whose request failed for lack of an answer is reported
//!   [`Event::Unreachable`], and [`Event::Reachable`] once it answers again;
//! - a release that waits for a person (a gate, or a canary holding its
//!   weight) when nobody can send commands any more (the command channel is
//!   closed) is *parked*: its status is stored, the lease is given back and
//!   [`Driver::run`] returns it unfinished. `paas service promote`, `abort`
//!   and `canary` take it up later from the stored record with
//!   [`Event::Resume`] (see [`Driver::run`]).
//!
//! Progress (every action issued, every event, every stored status) goes
//! to an optional channel, which the CLI draws.

use std::sync::Arc;
use std::time::Duration;

use release::{Action, Event, Release, step};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::executor::Executor;
use crate::{lease, records};

/// What the driver reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// An event reached the planner.
    Event(Event),
    /// The planner asked for an action.
    Action(Action),
    /// The release after a step that changed it.
    Status(Box<Release>),
}

/// How a driver runs.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Records kept per service in each cluster when a release ends.
    pub history: usize,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions { history: 20 }
    }
}

/// Runs releases over an [`Executor`].
#[derive(Debug, Clone)]
pub struct Driver {
    executor: Arc<Executor>,
    options: DriverOptions,
    progress: Option<UnboundedSender<Progress>>,
}

enum Job {
    Write(Arc<Release>),
    Act(Arc<Release>, Action),
}

/// What reaches the driver's loop, in one channel so that a job's events
/// always arrive before its `Done`.
enum Msg {
    Event(Event),
    /// A worker finished one job.
    Done,
}

impl Driver {
    /// A driver over `executor`.
    pub fn new(executor: Arc<Executor>) -> Driver {
        Driver {
            executor,
            options: DriverOptions::default(),
            progress: None,
        }
    }

    /// Sets the options.
    pub fn with_options(mut self, options: DriverOptions) -> Driver {
        self.options = options;
        self
    }

    /// Reports progress to `progress`.
    pub fn with_progress(mut self, progress: UnboundedSender<Progress>) -> Driver {
        self.progress = Some(progress);
        self
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    fn report(&self, progress: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.send(progress);
        }
    }

    /// Runs `release` from `first` (`Start` for a new release, `Resume` for
    /// a stored one) until it is finished, taking commands (promote, abort,
    /// set weight) from `commands`. Returns the finished release, or the
    /// parked one: when `commands` is closed while the release waits for a
    /// person ([`waits_for_person`]) and no work is in flight, the lease is
    /// given back in every cluster and the release returns unfinished, its
    /// status stored.
    ///
    /// A resumed release that is not finished renews the lease of its
    /// holder (the release, `<svc>-v<N>`) while it runs, as a started one
    /// does once the lease is granted: the caller takes the lease back
    /// ([`lease::acquire`]) before resuming a parked or crashed release.
    pub async fn run(
        &self,
        release: Release,
        first: Event,
        mut commands: UnboundedReceiver<Event>,
    ) -> Result<Release> {
        release.check_status()?;
        let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Msg>();
        let mut workers = Vec::new();
        let mut queues = std::collections::BTreeMap::new();
        for name in &release.spec.clusters {
            let (tx, rx) = mpsc::unbounded_channel::<Job>();
            queues.insert(name.clone(), tx);
            workers.push(tokio::spawn(worker(
                self.executor.clone(),
                name.clone(),
                rx,
                events_tx.clone(),
            )));
        }
        let mut timers: Vec<JoinHandle<()>> = Vec::new();
        let mut renewal: Option<JoinHandle<()>> = None;
        if matches!(first, Event::Resume) && !release.status.phase.is_finished() {
            renewal = Some(self.renew_leases(
                &release,
                &release.resource_name(),
                release.spec.options.lease_seconds,
            ));
        }
        let mut parked = false;
        let mut release = release;
        let mut next = Some(first);
        let mut commands_open = true;
        // Jobs queued to workers and not finished yet.
        let mut outstanding = 0usize;
        let mut finished_at: Option<tokio::time::Instant> = None;
        loop {
            if next.is_none()
                && !commands_open
                && outstanding == 0
                && finished_at.is_none()
                && waits_for_person(&release)
            {
                parked = true;
                break;
            }
            let event = match next.take() {
                Some(event) => event,
                None => tokio::select! {
                    Some(msg) = events_rx.recv() => match msg {
                        Msg::Event(event) => event,
                        Msg::Done => {
                            outstanding = outstanding.saturating_sub(1);
                            if finished_at.is_some() && outstanding == 0 {
                                break;
                            }
                            continue;
                        }
                    },
                    command = commands.recv(), if commands_open && finished_at.is_none() => match command {
                        Some(event) => event,
                        None => { commands_open = false; continue; }
                    },
                    () = sleep_until(finished_at.map(|at| at + self.drain_bound())) => break,
                },
            };
            self.report(Progress::Event(event.clone()));
            let (stepped, actions) = step(release, &event);
            release = stepped;
            let shared = Arc::new(release.clone());
            for action in actions {
                self.report(Progress::Action(action.clone()));
                match &action {
                    Action::WriteStatus { .. } => {
                        self.report(Progress::Status(Box::new(release.clone())));
                        for queue in queues.values() {
                            if queue.send(Job::Write(shared.clone())).is_ok() {
                                outstanding += 1;
                            }
                        }
                    }
                    Action::StartTimer { timer, seconds } => {
                        let tx = events_tx.clone();
                        let timer = *timer;
                        let delay = Duration::from_secs(*seconds);
                        timers.push(tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = tx.send(Msg::Event(Event::Timeout { timer }));
                        }));
                    }
                    Action::Rejected { .. } => {}
                    Action::AcquireLease {
                        holder,
                        ttl_seconds,
                        ..
                    } => {
                        if renewal.is_none() {
                            renewal = Some(self.renew_leases(&release, holder, *ttl_seconds));
                        }
                        outstanding += dispatch(&queues, &shared, action.clone());
                    }
                    _ => outstanding += dispatch(&queues, &shared, action.clone()),
                }
            }
            // Once finished, keep stepping the events of work still in
            // flight (a late lease grant is given back at once), bounded.
            if release.status.phase.is_finished() && finished_at.is_none() {
                finished_at = Some(tokio::time::Instant::now());
            }
            if finished_at.is_some() && outstanding == 0 {
                break;
            }
        }
        if let Some(renewal) = renewal {
            renewal.abort();
        }
        for timer in timers {
            timer.abort();
        }
        // The queues are empty (or a hung cluster's ran past the bound).
        drop(queues);
        for worker in workers {
            worker.abort();
        }
        if parked {
            self.give_back_leases(&release).await;
            return Ok(release);
        }
        self.prune(&release).await;
        Ok(release)
    }

    /// Gives the release's lease back in every cluster (best effort: an
    /// unreachable cluster's lease expires by itself).
    async fn give_back_leases(&self, release: &Release) {
        let holder = release.resource_name();
        let service = &release.spec.service;
        let gives = release.spec.clusters.iter().filter_map(|name| {
            let cluster = self.executor.cluster(name).ok()?;
            Some(lease::give_back(cluster, service, &holder))
        });
        let _ = futures_util::future::join_all(gives).await;
    }

    /// How long a finished release waits for work still in flight: a hung
    /// cluster must not keep the deploy from returning.
    fn drain_bound(&self) -> Duration {
        self.executor
            .clusters()
            .map(|c| c.settings().request_timeout)
            .max()
            .unwrap_or(Duration::from_secs(10))
            * 4
    }

    fn renew_leases(&self, release: &Release, holder: &str, ttl: u64) -> JoinHandle<()> {
        let executor = self.executor.clone();
        let service = release.spec.service.clone();
        let clusters = release.spec.clusters.clone();
        let holder = holder.to_owned();
        tokio::spawn(async move {
            let every =
                Duration::from_millis(ttl.saturating_mul(1000) / 3).max(Duration::from_millis(200));
            loop {
                tokio::time::sleep(every).await;
                let renewals = clusters.iter().filter_map(|name| {
                    let cluster = executor.cluster(name).ok()?;
                    Some(lease::renew(cluster, &service, &holder, ttl))
                });
                let _ = futures_util::future::join_all(renewals).await;
            }
        })
    }

    async fn prune(&self, release: &Release) {
        let mut protect = vec![release.spec.number, release.spec.serving()];
        protect.extend(release.spec.previous);
        let prunes = release.spec.clusters.iter().filter_map(|name| {
            let cluster = self.executor.cluster(name).ok()?;
            let protect = protect.clone();
            Some(async move {
                let _ = records::prune_history(
                    cluster,
                    &release.spec.service,
                    self.options.history,
                    &protect,
                )
                .await;
            })
        });
        futures_util::future::join_all(prunes).await;
    }
}

/// Whether a running release waits for a person: at a gate, or a canary
/// holding its weight (its next step, if any, comes by timer while a
/// driver runs, or by `paas service canary`). Such a release may be parked.
pub fn waits_for_person(release: &Release) -> bool {
    !release.status.phase.is_finished()
        && matches!(
            release.status.step,
            release::Step::Gate { .. } | release::Step::CanaryHold
        )
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Queues a cluster action; 1 when queued.
fn dispatch(
    queues: &std::collections::BTreeMap<String, UnboundedSender<Job>>,
    release: &Arc<Release>,
    action: Action,
) -> usize {
    action
        .cluster()
        .and_then(|c| queues.get(c))
        .map_or(0, |queue| {
            usize::from(queue.send(Job::Act(release.clone(), action)).is_ok())
        })
}

/// One cluster's queue: status writes and actions in order, waits beside.
/// A status write followed in the queue by a newer one (with no action in
/// between) is skipped: the newer status holds everything it said.
async fn worker(
    executor: Arc<Executor>,
    name: String,
    mut jobs: UnboundedReceiver<Job>,
    events: UnboundedSender<Msg>,
) {
    let mut saved = false;
    let mut unreachable = false;
    let mut waiting: Option<JoinHandle<()>> = None;
    let mut pending: std::collections::VecDeque<Job> = std::collections::VecDeque::new();
    let send = |event: Event| {
        // The driver may have returned; late events are of no use then.
        let _ = events.send(Msg::Event(event));
    };
    let done = || {
        let _ = events.send(Msg::Done);
    };
    let cluster = executor.cluster(&name).ok().cloned();
    loop {
        let job = match pending.pop_front() {
            Some(job) => job,
            None => match jobs.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        while let Ok(more) = jobs.try_recv() {
            pending.push_back(more);
        }
        let Some(cluster) = &cluster else {
            send(Event::Unreachable {
                cluster: name.clone(),
                message: format!("no connection to cluster {name}"),
            });
            done();
            continue;
        };
        match job {
            Job::Write(_) if matches!(pending.front(), Some(Job::Write(_))) => {}
            Job::Write(release) => {
                let result = if saved {
                    match records::write_status(cluster, &release).await {
                        // The record is gone (a wiped cluster): store it whole.
                        Err(e) if e.status_code() == Some(404) => {
                            records::save_record(cluster, &release).await
                        }
                        other => other,
                    }
                } else {
                    records::save_record(cluster, &release).await
                };
                match result {
                    Ok(()) => {
                        saved = true;
                        if unreachable {
                            unreachable = false;
                            send(Event::Reachable {
                                cluster: name.clone(),
                            });
                        }
                    }
                    Err(e) if e.is_unreachable() => {
                        unreachable = true;
                        send(Event::Unreachable {
                            cluster: name.clone(),
                            message: e.to_string(),
                        });
                    }
                    // A refused write is retried with the next status.
                    Err(_) => {}
                }
            }
            Job::Act(release, action) => {
                if let Some(wait) = waiting.take() {
                    wait.abort();
                }
                if matches!(action, Action::WaitReady { .. }) {
                    let executor = executor.clone();
                    let events = events.clone();
                    waiting = Some(tokio::spawn(async move {
                        let send = |event: Event| {
                            let _ = events.send(Msg::Event(event));
                        };
                        executor.execute(&release, &action, &send).await;
                    }));
                } else {
                    // Whether the cluster answered this action: any event
                    // but `Unreachable` says it did.
                    let answered = std::sync::atomic::AtomicBool::new(false);
                    let failed = std::sync::atomic::AtomicBool::new(false);
                    let observe = |event: Event| {
                        let flag = if matches!(event, Event::Unreachable { .. }) {
                            &failed
                        } else {
                            &answered
                        };
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                        send(event);
                    };
                    executor.execute(&release, &action, &observe).await;
                    if failed.load(std::sync::atomic::Ordering::Relaxed) {
                        unreachable = true;
                    } else if unreachable && answered.load(std::sync::atomic::Ordering::Relaxed) {
                        unreachable = false;
                        send(Event::Reachable {
                            cluster: name.clone(),
                        });
                    }
                }
            }
        }
        done();
    }
    if let Some(wait) = waiting {
        wait.abort();
    }
}
