//! The manifest generator (helmgen core).
//!
//! A pure function, [`render`]: a resolved app (one service in one
//! environment), the platform config and a [`ReleaseContext`] go in; typed
//! Kubernetes objects (`k8s-openapi`), grouped by [`Stage`], come out. The
//! output is deterministic: the same input always gives byte-identical YAML
//! (maps are `BTreeMap`, objects come in a fixed order, nothing reads a clock).
//!
//! Stages (`../shared/spec/manifests.md`):
//! - **init**: Namespace, ServiceAccount, the per-version ConfigMap,
//!   NetworkPolicies, one Job per `[init.*]` entry;
//! - **application**: the versioned Deployment (or `<svc>` for `rolling`), its
//!   Service, PodDisruptionBudget and HPA, Deployments for `[processes.*]`,
//!   CronJobs for `[jobs.*]`;
//! - **balancing**: the stable Service, an HTTPRoute for `gateway-api`, and
//!   Ingress or HTTPRoute per `[routes.*]`.
//!
//! **Architecture Invariant:** this crate does no I/O and knows nothing of
//! HTTP, files or kube: it takes values and returns values.

mod build;
pub mod copy;
mod explain;
mod gateway;
mod output;
pub mod pipeline;
mod policy;

use app_toml::{Resolved, Strategy};
use platform_config::Platform;
use resources::Recommendations;
use serde::Serialize;

pub use build::container_key;
pub use copy::TestCopy;
pub use explain::{Explanation, Source};
pub use gateway::HttpRoute;
pub use policy::Violation;

/// Everything about one release that is not in app.toml or the platform config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseContext {
    /// Environment name (`prod`); must match the one the app was resolved for.
    pub environment: String,
    /// Cluster name (`prod-a`).
    pub cluster: String,
    /// Release number N of `v<N>` (at least 1).
    pub version: u32,
    /// Image tag (never `latest`).
    pub image_tag: String,
    /// Rollout strategy of this release.
    pub strategy: Strategy,
    /// The version live before this release, if any: the other side of a
    /// canary's weighted split.
    pub previous_version: Option<u32>,
    /// Weight (percent) of traffic for this release's version while a canary
    /// runs; `None` means all traffic.
    pub canary_weight: Option<u8>,
    /// Collect [`Explanation`]s of where each configured value came from.
    pub explain: bool,
}

impl ReleaseContext {
    /// A context for environment/cluster with version 1, the app's default
    /// strategy, no canary and no explanations.
    pub fn new(app: &Resolved, cluster: &str, image_tag: &str) -> ReleaseContext {
        ReleaseContext {
            environment: app.app.environment.clone(),
            cluster: cluster.to_owned(),
            version: 1,
            image_tag: image_tag.to_owned(),
            strategy: app.app.deploy.strategy,
            previous_version: None,
            canary_weight: None,
            explain: false,
        }
    }
}

/// The stages of a deploy, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Objects the new version needs before it starts (namespace, config, migrations).
    Init,
    /// The workloads of the new version.
    Application,
    /// What switches traffic to the new version.
    Balancing,
}

impl Stage {
    /// Every stage, in deploy order.
    pub const ALL: [Stage; 3] = [Stage::Init, Stage::Application, Stage::Balancing];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Init => "init",
            Stage::Application => "application",
            Stage::Balancing => "balancing",
        }
    }
}

/// One generated Kubernetes object, typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)] // each variant is the Kubernetes kind of the same name
#[allow(clippy::large_enum_variant)] // objects live in one Vec per render; boxing would only add allocations
pub enum Object {
    Namespace(k8s_openapi::api::core::v1::Namespace),
    ServiceAccount(k8s_openapi::api::core::v1::ServiceAccount),
    ConfigMap(k8s_openapi::api::core::v1::ConfigMap),
    NetworkPolicy(k8s_openapi::api::networking::v1::NetworkPolicy),
    Job(k8s_openapi::api::batch::v1::Job),
    Deployment(k8s_openapi::api::apps::v1::Deployment),
    Service(k8s_openapi::api::core::v1::Service),
    PodDisruptionBudget(k8s_openapi::api::policy::v1::PodDisruptionBudget),
    HorizontalPodAutoscaler(k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler),
    CronJob(k8s_openapi::api::batch::v1::CronJob),
    Ingress(k8s_openapi::api::networking::v1::Ingress),
    HttpRoute(HttpRoute),
}

macro_rules! each_object {
    ($self:ident, $o:ident => $e:expr) => {
        match $self {
            Object::Namespace($o) => $e,
            Object::ServiceAccount($o) => $e,
            Object::ConfigMap($o) => $e,
            Object::NetworkPolicy($o) => $e,
            Object::Job($o) => $e,
            Object::Deployment($o) => $e,
            Object::Service($o) => $e,
            Object::PodDisruptionBudget($o) => $e,
            Object::HorizontalPodAutoscaler($o) => $e,
            Object::CronJob($o) => $e,
            Object::Ingress($o) => $e,
            Object::HttpRoute($o) => $e,
        }
    };
}

impl Object {
    /// `apiVersion` of the object.
    pub fn api_version(&self) -> &'static str {
        fn of<T: k8s_openapi::Resource>(_: &T) -> &'static str {
            T::API_VERSION
        }
        each_object!(self, o => of(o))
    }

    /// `kind` of the object.
    pub fn kind(&self) -> &'static str {
        fn of<T: k8s_openapi::Resource>(_: &T) -> &'static str {
            T::KIND
        }
        each_object!(self, o => of(o))
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        each_object!(self, o => &o.metadata)
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace` (`None` for the Namespace itself).
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// `Kind/name`, the way the CLI and reports name an object.
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// A generated object with its stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedObject {
    /// The stage the object is applied in.
    pub stage: Stage,
    /// The object.
    pub object: Object,
}

/// The result of [`render`]: every object, in stage order.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Objects in deploy order: all of `init`, then `application`, then `balancing`.
    pub objects: Vec<StagedObject>,
    /// Where configured values came from (empty unless [`ReleaseContext::explain`]).
    pub explanations: Vec<Explanation>,
    /// The platform config version that rendered this.
    pub platform_version: String,
}

impl Rendered {
    /// The objects of one stage, in order.
    pub fn stage(&self, stage: Stage) -> impl Iterator<Item = &Object> {
        self.objects
            .iter()
            .filter(move |o| o.stage == stage)
            .map(|o| &o.object)
    }

    /// Multi-document YAML of every object, in deploy order.
    pub fn to_yaml(&self) -> Result<String, Error> {
        output::to_yaml(self)
    }

    /// `{"objects": [...], "stages": {"init": ["Kind/name", ...], ...}}`.
    pub fn to_json_value(&self) -> Result<serde_json::Value, Error> {
        output::to_json_value(self)
    }
}

/// Errors of the generator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The release context does not fit the app or platform (unknown
    /// cluster, environment mismatch, bad version or canary weight).
    #[error("{message}")]
    Context {
        /// The [`ReleaseContext`] field at fault: `environment`, `cluster`,
        /// `version`, `previous_version` or `canary_weight`; or
        /// `recommendations` when the recommendations are another service's;
        /// or `test_copy` when a test copy's ID is not usable.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The generated objects break platform policy; every violation is listed.
    #[error("{}", policy::display(.0))]
    Policy(Vec<Violation>),
    /// Serialisation failed (an internal error: objects are plain data).
    #[error("cannot serialise the manifests: {0}")]
    Serialize(String),
}

/// Renders one service for one cluster: the staged objects, checked against
/// the platform's policies.
pub fn render(
    app: &Resolved,
    platform: &Platform,
    ctx: &ReleaseContext,
) -> Result<Rendered, Error> {
    render_with(app, platform, ctx, None)
}

/// [`render`] with the service's resource recommendations: a container
/// with an entry takes its values in place of its size preset's (what the
/// entry leaves out still comes from the preset), and explanations say so.
/// The platform still decides whether there is a CPU limit and an extended
/// network resource at all. Entries of containers this environment does
/// not have are ignored; recommendations made for another service (their
/// `service`) are refused.
pub fn render_with(
    app: &Resolved,
    platform: &Platform,
    ctx: &ReleaseContext,
    recommendations: Option<&Recommendations>,
) -> Result<Rendered, Error> {
    render_inner(app, platform, ctx, recommendations, None)
}

/// Renders a test copy of one service for one cluster (see [`copy`]): the
/// ConfigMap, Deployment and Service named `<svc>-<ID>` and the HTTPRoute
/// that sends `X-Route: <ID>` requests to it, labelled with the copy's ID
/// and its expiry instead of a release. `ctx.version` and the strategy do
/// not matter; the image tag, environment and cluster do. The ID is
/// checked with [`copy::validate_id`] against the names the service's own
/// objects use.
pub fn render_test_copy(
    app: &Resolved,
    platform: &Platform,
    ctx: &ReleaseContext,
    test_copy: &TestCopy,
    recommendations: Option<&Recommendations>,
) -> Result<Rendered, Error> {
    let taken: Vec<&str> = app
        .app
        .routes
        .keys()
        .chain(app.app.processes.keys())
        .map(String::as_str)
        .collect();
    copy::validate_id(&app.app.name, &test_copy.id, &taken).map_err(|message| Error::Context {
        field: "test_copy",
        message,
    })?;
    render_inner(app, platform, ctx, recommendations, Some(test_copy))
}

fn render_inner(
    app: &Resolved,
    platform: &Platform,
    ctx: &ReleaseContext,
    recommendations: Option<&Recommendations>,
    test_copy: Option<&TestCopy>,
) -> Result<Rendered, Error> {
    policy::check_context(app, platform, ctx)?;
    if let Some(r) = recommendations
        && let Some(service) = &r.service
        && *service != app.app.name
    {
        return Err(Error::Context {
            field: "recommendations",
            message: format!(
                "{} holds the recommendations of `{service}`, not of `{}`",
                r.file, app.app.name
            ),
        });
    }
    let mut builder = build::Builder::new(app, platform, ctx, recommendations, test_copy);
    let objects = builder.build()?;
    policy::check_objects(&objects)?;
    let (explanations, platform_version) = builder.finish();
    Ok(Rendered {
        objects,
        explanations,
        platform_version,
    })
}

/// A container of a service whose resources come from a size preset, or
/// from its entry in the recommendations file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizedContainer {
    /// Its name in the recommendations file (see [`container_key`]).
    pub name: String,
    /// The app.toml table it comes from (`engine`, `processes.worker`,
    /// `jobs.reindex`, `init.migrate`).
    pub table: String,
    /// Its size preset.
    pub size: String,
}

/// The containers of a resolved app whose resources come from a size
/// preset, named as the recommendations file names them: `app` (the main
/// workload), `process-<name>`, `job-<name>`, `init-<name>`, in that order.
/// (Sidecars are the platform's and keep their preset.)
pub fn sized_containers(app: &app_toml::App) -> Vec<SizedContainer> {
    let engine = &app.engine.size;
    let mut out = vec![SizedContainer {
        name: "app".into(),
        table: "engine".into(),
        size: engine.clone(),
    }];
    for (name, p) in &app.processes {
        out.push(SizedContainer {
            name: format!("process-{name}"),
            table: format!("processes.{name}"),
            size: p.size.clone(),
        });
    }
    for name in app.jobs.keys() {
        out.push(SizedContainer {
            name: format!("job-{name}"),
            table: format!("jobs.{name}"),
            size: engine.clone(),
        });
    }
    for name in app.init.keys() {
        out.push(SizedContainer {
            name: format!("init-{name}"),
            table: format!("init.{name}"),
            size: engine.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests;
