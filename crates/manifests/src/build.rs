//! Building the objects. One [`Builder`] per render holds the inputs and the
//! explanations collected on the way; each `fn` builds one kind of object.

use std::collections::BTreeMap;

use app_toml::{App, DatabaseEngine, HardeningRule, Resolved, Strategy};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, HTTPGetAction, Lifecycle, LifecycleHandler, Namespace,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ProjectedVolumeSource,
    ResourceRequirements, SeccompProfile, SecurityContext, Service, ServiceAccount,
    ServiceAccountTokenProjection, ServicePort, ServiceSpec, SleepAction, TopologySpreadConstraint,
    Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyEgressRule,
    NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use platform_config::{Balancing, CpuLimitPolicy, DependencyAddressing, Platform};
use resources::{ContainerResources, Cpu, Recommendations};

use crate::copy::{self, TestCopy};
use crate::explain::{Explanation, Source};
use crate::gateway::{
    BackendRef, HeaderMatch, HttpRoute, HttpRouteMatch, HttpRouteRule, HttpRouteSpec, ParentRef,
    PathMatch,
};
use crate::{Error, Object, ReleaseContext, Stage, StagedObject};

type Labels = BTreeMap<String, String>;

/// `explain!(self, object, field, value, source)`: records an explanation
/// when `--explain` is on. The arguments (formatted names, source lookups)
/// are only evaluated then: a plain render pays nothing for them.
macro_rules! explain {
    ($builder:ident, $object:expr, $field:expr, $value:expr, $source:expr $(,)?) => {
        if $builder.ctx.explain {
            $builder.push_explanation($object, $field, $value, $source);
        }
    };
}

const LABEL_NAME: &str = "app.kubernetes.io/name";
const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const LABEL_NS_NAME: &str = "kubernetes.io/metadata.name";
const WEB: &str = "web";

/// The name of the main workload's Deployment for a version and strategy.
pub(crate) fn deployment_name(service: &str, version: u32, strategy: Strategy) -> String {
    match strategy {
        Strategy::Rolling => service.to_owned(),
        Strategy::Simple | Strategy::Canary | Strategy::BlueGreen => {
            format!("{service}-v{version}")
        }
    }
}

/// What one container runs: the parts that differ between the main
/// workload, processes, init jobs and cron jobs.
struct Workload<'a> {
    /// Object name (`<svc>-v3`, `<svc>-v3-worker`, ...).
    name: String,
    /// `app.kubernetes.io/component`.
    component: String,
    /// Command line of the service itself (before vault2env wrapping);
    /// `None` means the engine's command.
    command: Option<&'a [String]>,
    /// Resource preset.
    size: &'a str,
    /// Whether it serves traffic (ports, probes on them).
    serves: bool,
    /// Whether it runs to completion (Jobs): no probes, `restartPolicy: Never`.
    batch: bool,
}

pub(crate) struct Builder<'a> {
    resolved: &'a Resolved,
    app: &'a App,
    platform: &'a Platform,
    ctx: &'a ReleaseContext,
    /// Values that replace size presets, per container (`resources.toml`).
    recommendations: Option<&'a Recommendations>,
    /// Render a test copy instead of a release.
    copy: Option<&'a TestCopy>,
    explanations: Vec<Explanation>,
    release: String,
    /// Computed once per render: it hashes the whole platform config.
    platform_version: String,
    /// The labels every object shares; [`Builder::labels`] adds the rest.
    base_labels: Labels,
    /// The service's named ports: the app's, or the engine's `http` port.
    ports: BTreeMap<String, u16>,
    /// Object annotations without and with the workload ones (exceptions
    /// and their checkov skips), built once per render.
    annotations: [Labels; 2],
    /// The containers' environment, the same for every workload of a render
    /// (computed once unless explanations, which name each object, are on).
    env_cache: Option<Vec<EnvVar>>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(
        resolved: &'a Resolved,
        platform: &'a Platform,
        ctx: &'a ReleaseContext,
        recommendations: Option<&'a Recommendations>,
        copy: Option<&'a TestCopy>,
    ) -> Self {
        let app = &resolved.app;
        let ports = if app.ports.is_empty() {
            let port = platform
                .engines
                .get(&app.engine.name)
                .map_or(8080, |e| e.port);
            BTreeMap::from([("http".to_owned(), port)])
        } else {
            app.ports.clone()
        };
        let platform_version = platform.version_id();
        let mut annotations =
            [false, true].map(|w| annotations(app, platform, &platform_version, w));
        let mut base_labels = base_labels(app, platform, ctx);
        let mut release = format!("v{}", ctx.version);
        if let Some(c) = copy {
            // Not a release: no release label (nothing counts it as a
            // version), its own label and its expiry instead.
            base_labels.remove("paas.io/release");
            base_labels.insert(copy::COPY_LABEL.into(), c.id.clone());
            for a in &mut annotations {
                a.insert(copy::EXPIRES_ANNOTATION.into(), c.expires_at.clone());
            }
            release.clone_from(&c.id);
        }
        Builder {
            resolved,
            app,
            platform,
            ctx,
            recommendations,
            copy,
            explanations: Vec::new(),
            release,
            platform_version,
            base_labels,
            ports,
            annotations,
            env_cache: None,
        }
    }

    /// The explanations collected, and the platform version id.
    pub(crate) fn finish(self) -> (Vec<Explanation>, String) {
        (self.explanations, self.platform_version)
    }

    /// Records where a value came from; use [`explain!`], which evaluates
    /// its arguments only when explanations are on.
    fn push_explanation(
        &mut self,
        object: &str,
        field: &str,
        value: impl ToString,
        source: Source,
    ) {
        self.explanations.push(Explanation {
            object: object.to_owned(),
            field: field.to_owned(),
            value: value.to_string(),
            source,
        });
    }

    /// The app.toml origin of `path`; for a table (`dependencies.summer`),
    /// the origin of its first key when the table itself has none.
    fn app_source(&self, path: &str) -> Source {
        let origin = match self.resolved.origins.get(path) {
            Some(o) => o.clone(),
            None => {
                let prefix = format!("{path}.");
                self.resolved
                    .origins
                    .range(prefix.clone()..)
                    .next()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map_or(app_toml::Origin::Default, |(_, o)| o.clone())
            }
        };
        Source::App {
            path: path.to_owned(),
            origin,
        }
    }

    fn svc(&self) -> &'a str {
        &self.app.name
    }

    pub(crate) fn build(&mut self) -> Result<Vec<StagedObject>, Error> {
        if let Some(c) = self.copy {
            return Ok(self.build_copy(c));
        }
        let mut out = Vec::with_capacity(16);
        let mut push = |stage: Stage, object: Object| out.push(StagedObject { stage, object });

        // init
        push(Stage::Init, Object::Namespace(self.namespace()));
        push(Stage::Init, Object::ServiceAccount(self.service_account()));
        push(Stage::Init, Object::ConfigMap(self.config_map()));
        push(Stage::Init, Object::NetworkPolicy(self.default_deny()));
        push(Stage::Init, Object::NetworkPolicy(self.allow_policy()));
        let init_jobs: Vec<_> = self
            .app
            .init
            .iter()
            .map(|(n, j)| (n.clone(), j.command.clone()))
            .collect();
        for (name, command) in &init_jobs {
            push(Stage::Init, Object::Job(self.init_job(name, command)));
        }

        // application
        let main = deployment_name(self.svc(), self.ctx.version, self.ctx.strategy);
        push(
            Stage::Application,
            Object::Deployment(self.main_deployment(&main)),
        );
        if self.ctx.strategy != Strategy::Rolling {
            push(
                Stage::Application,
                Object::Service(self.version_service(&main)),
            );
        }
        push(
            Stage::Application,
            Object::PodDisruptionBudget(self.pdb(&main, WEB)),
        );
        if self.app.autoscale.is_some() {
            push(
                Stage::Application,
                Object::HorizontalPodAutoscaler(self.hpa(&main)),
            );
        }
        let processes: Vec<_> = self.app.processes.keys().cloned().collect();
        for name in &processes {
            let (deployment, object_name) = self.process_deployment(name);
            push(Stage::Application, Object::Deployment(deployment));
            push(
                Stage::Application,
                Object::PodDisruptionBudget(self.pdb(&object_name, &format!("process-{name}"))),
            );
        }
        let jobs: Vec<_> = self.app.jobs.keys().cloned().collect();
        for name in &jobs {
            push(Stage::Application, Object::CronJob(self.cron_job(name)));
        }

        // balancing
        push(
            Stage::Balancing,
            Object::Service(self.stable_service(&main)),
        );
        if self.platform.balancing == Balancing::GatewayApi
            && self.ctx.strategy != Strategy::Rolling
        {
            push(Stage::Balancing, Object::HttpRoute(self.mesh_route(&main)));
        }
        let routes: Vec<_> = self.app.routes.keys().cloned().collect();
        for name in &routes {
            match self.platform.balancing {
                Balancing::Selector => push(Stage::Balancing, Object::Ingress(self.ingress(name))),
                Balancing::GatewayApi => push(
                    Stage::Balancing,
                    Object::HttpRoute(self.external_route(name)),
                ),
            }
        }
        Ok(out)
    }

    /// A test copy: its ConfigMap, Deployment and Service named
    /// `<svc>-<ID>`, and its own HTTPRoute. No init jobs (a copy must not
    /// migrate the shared database), no processes or cron jobs (they would
    /// do the service's background work twice), one replica, no PDB or HPA.
    fn build_copy(&mut self, c: &TestCopy) -> Vec<StagedObject> {
        let name = copy::object_name(self.svc(), &c.id);
        let w = Workload {
            name: name.clone(),
            component: copy::COPY_COMPONENT.to_owned(),
            command: None,
            size: &self.app.engine.size,
            serves: true,
            batch: false,
        };
        let mut config = self.config_map();
        config.metadata.labels = Some(self.labels(&name, copy::COPY_COMPONENT));
        let deployment = self.deployment(&w, Some(1));
        let service = Service {
            metadata: self.meta(&name, &name, copy::COPY_COMPONENT, false),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(self.selector(&name, copy::COPY_COMPONENT)),
                ports: Some(self.service_ports()),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let route = self.copy_route(&name, &c.id);
        vec![
            StagedObject {
                stage: Stage::Init,
                object: Object::ConfigMap(config),
            },
            StagedObject {
                stage: Stage::Application,
                object: Object::Deployment(deployment),
            },
            StagedObject {
                stage: Stage::Application,
                object: Object::Service(service),
            },
            StagedObject {
                stage: Stage::Balancing,
                object: Object::HttpRoute(route),
            },
        ]
    }

    /// The copy's HTTPRoute: attached to the stable Service like the
    /// service's own route (GAMMA), one rule that sends requests carrying
    /// `X-Route: <ID>`, or an `X-Route` list holding `<svc>=<ID>`, to the
    /// copy's Service. Across the routes of one parent, Gateway API gives a
    /// rule with more header matches precedence over the service's default
    /// rule (no matches), so no ordering between the two routes is needed.
    fn copy_route(&self, name: &str, id: &str) -> HttpRoute {
        let svc = self.svc().to_owned();
        let header = |type_: &str, value: String| HttpRouteMatch {
            path: None,
            headers: vec![HeaderMatch {
                type_: type_.into(),
                name: copy::HEADER.into(),
                value,
            }],
        };
        HttpRoute {
            metadata: self.meta(name, name, copy::COPY_COMPONENT, false),
            spec: HttpRouteSpec {
                parent_refs: vec![ParentRef {
                    group: String::new(),
                    kind: "Service".into(),
                    name: svc.clone(),
                    namespace: None,
                    port: Some(80),
                }],
                hostnames: Vec::new(),
                rules: vec![HttpRouteRule {
                    matches: vec![
                        header("Exact", id.to_owned()),
                        header("RegularExpression", copy::list_pattern(&svc, id)),
                    ],
                    backend_refs: vec![BackendRef {
                        name: name.to_owned(),
                        port: 80,
                        weight: 100,
                    }],
                }],
            },
        }
    }

    // ---- metadata ----------------------------------------------------------

    /// Labels of an object: the recommended `app.kubernetes.io/*` set, the
    /// release labels and the platform's labels.
    fn labels(&self, instance: &str, component: &str) -> Labels {
        let mut l = self.base_labels.clone();
        l.insert(LABEL_INSTANCE.into(), instance.to_owned());
        l.insert(LABEL_COMPONENT.into(), component.to_owned());
        l
    }

    /// The labels a selector uses: only ones that never change during the
    /// selected object's life (name, instance, component).
    fn selector(&self, instance: &str, component: &str) -> Labels {
        let mut l = Labels::new();
        l.insert(LABEL_NAME.into(), self.svc().to_owned());
        l.insert(LABEL_INSTANCE.into(), instance.to_owned());
        l.insert(LABEL_COMPONENT.into(), component.to_owned());
        l
    }

    fn annotations(&self, workload: bool) -> Labels {
        self.annotations[usize::from(workload)].clone()
    }

    fn meta(&self, name: &str, instance: &str, component: &str, workload: bool) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.svc().to_owned()),
            labels: Some(self.labels(instance, component)),
            annotations: Some(self.annotations(workload)),
            ..ObjectMeta::default()
        }
    }

    // ---- init --------------------------------------------------------------

    fn namespace(&mut self) -> Namespace {
        let svc = self.svc();
        let mut meta = self.meta(svc, svc, "namespace", true);
        meta.namespace = None;
        if !self.app.description.is_empty()
            && let Some(a) = meta.annotations.as_mut()
        {
            a.insert("paas.io/description".into(), self.app.description.clone());
        }
        // An exception that breaks the restricted Pod Security Standard
        // lowers enforcement to baseline, and says so.
        let breaks_restricted = [
            HardeningRule::RunAsNonRoot,
            HardeningRule::DropAllCapabilities,
        ]
        .into_iter()
        .find(|r| self.app.exception(*r).is_some());
        let level = if breaks_restricted.is_some() {
            "baseline"
        } else {
            "restricted"
        };
        if let Some(labels) = meta.labels.as_mut() {
            for mode in ["enforce", "audit", "warn"] {
                let value = if mode == "enforce" {
                    level
                } else {
                    "restricted"
                };
                labels.insert(format!("pod-security.kubernetes.io/{mode}"), value.into());
                labels.insert(
                    format!("pod-security.kubernetes.io/{mode}-version"),
                    "latest".into(),
                );
            }
        }
        let source = match breaks_restricted {
            Some(rule) => Source::Exception {
                rule: rule.to_string(),
            },
            None => Source::Platform {
                key: "pod security standard".into(),
            },
        };
        explain!(
            self,
            &format!("Namespace/{svc}"),
            "metadata.labels[pod-security.kubernetes.io/enforce]",
            level,
            source,
        );
        Namespace {
            metadata: meta,
            ..Namespace::default()
        }
    }

    fn service_account(&self) -> ServiceAccount {
        let svc = self.svc();
        ServiceAccount {
            metadata: self.meta(svc, svc, "service-account", false),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        }
    }

    fn config_map_name(&self) -> String {
        format!("{}-{}-env", self.svc(), self.release)
    }

    fn config_map(&mut self) -> ConfigMap {
        let name = self.config_map_name();
        for (k, v) in &self.app.env {
            explain!(
                self,
                &format!("ConfigMap/{name}"),
                &format!("data.{k}"),
                v,
                self.app_source(&format!("env.{k}")),
            );
        }
        ConfigMap {
            metadata: self.meta(&name, self.svc(), "config", false),
            data: Some(self.app.env.clone()),
            // One immutable ConfigMap per release: a running version never
            // sees configuration meant for another one.
            immutable: Some(true),
            ..ConfigMap::default()
        }
    }

    fn default_deny(&self) -> NetworkPolicy {
        let svc = self.svc();
        NetworkPolicy {
            metadata: self.meta(&format!("{svc}-default-deny"), svc, "network-policy", false),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector::default()),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ..NetworkPolicySpec::default()
            }),
        }
    }

    fn allow_policy(&mut self) -> NetworkPolicy {
        let svc = self.svc().to_owned();
        let name = format!("{svc}-allow");
        let ns_peer = |ns: &str| NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(LABEL_NS_NAME.to_owned(), ns.to_owned())])),
                ..LabelSelector::default()
            }),
            ..NetworkPolicyPeer::default()
        };
        let tcp = |port: IntOrString| NetworkPolicyPort {
            port: Some(port),
            protocol: Some("TCP".into()),
            ..NetworkPolicyPort::default()
        };
        let ports = &self.ports;
        let serving_ports: Vec<NetworkPolicyPort> = ports
            .keys()
            .filter(|n| n.as_str() != "metrics")
            .map(|n| tcp(IntOrString::String(n.clone())))
            .collect();
        let mut callers: Vec<NetworkPolicyPeer> = self
            .platform
            .network
            .ingress_namespaces
            .iter()
            .map(|n| ns_peer(n))
            .collect();
        // Any service of the platform may call this one: callers declare
        // their dependencies, and their own egress rules are the narrow side.
        callers.push(NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    LABEL_MANAGED_BY.to_owned(),
                    "paas".to_owned(),
                )])),
                ..LabelSelector::default()
            }),
            ..NetworkPolicyPeer::default()
        });
        let mut ingress = vec![NetworkPolicyIngressRule {
            from: Some(callers),
            ports: Some(serving_ports),
        }];
        let metrics_port = if ports.contains_key("metrics") {
            "metrics"
        } else {
            "http"
        };
        ingress.push(NetworkPolicyIngressRule {
            from: Some(vec![ns_peer(&self.platform.network.monitoring_namespace)]),
            ports: Some(vec![tcp(IntOrString::String(metrics_port.into()))]),
        });

        let egress = if self
            .app
            .exception(HardeningRule::DefaultDenyEgress)
            .is_some()
        {
            explain!(
                self,
                &format!("NetworkPolicy/{name}"),
                "spec.egress",
                "allow all",
                Source::Exception {
                    rule: HardeningRule::DefaultDenyEgress.to_string(),
                },
            );
            vec![NetworkPolicyEgressRule::default()]
        } else {
            let mut egress = vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([(
                            "k8s-app".to_owned(),
                            "kube-dns".to_owned(),
                        )])),
                        ..LabelSelector::default()
                    }),
                    ..ns_peer(&self.platform.network.dns_namespace)
                }]),
                ports: Some(vec![
                    NetworkPolicyPort {
                        port: Some(IntOrString::Int(53)),
                        protocol: Some("UDP".into()),
                        ..NetworkPolicyPort::default()
                    },
                    tcp(IntOrString::Int(53)),
                ]),
            }];
            // The service's own pods (versions side by side, processes).
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![ns_peer(&svc)]),
                ports: None,
            });
            for dep in self.app.dependencies.keys() {
                egress.push(NetworkPolicyEgressRule {
                    to: Some(vec![ns_peer(dep)]),
                    ports: None,
                });
            }
            let mut db_engines: Vec<DatabaseEngine> =
                self.app.databases.values().map(|d| d.engine).collect();
            db_engines.sort();
            db_engines.dedup();
            for engine in db_engines {
                if let Some(db) = self.platform.databases.get(engine.as_str()) {
                    egress.push(NetworkPolicyEgressRule {
                        to: Some(vec![ns_peer(&db.namespace)]),
                        ports: Some(vec![tcp(IntOrString::Int(i32::from(db.port)))]),
                    });
                }
            }
            if self.app.secrets.vault {
                egress.push(NetworkPolicyEgressRule {
                    to: Some(vec![ns_peer(&self.platform.vault.namespace)]),
                    ports: None,
                });
            }
            egress
        };

        let mut pod_selector = Labels::new();
        pod_selector.insert(LABEL_NAME.into(), svc.clone());
        NetworkPolicy {
            metadata: self.meta(&name, &svc, "network-policy", true),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector {
                    match_labels: Some(pod_selector),
                    ..LabelSelector::default()
                }),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ingress: Some(ingress),
                egress: Some(egress),
            }),
        }
    }

    fn init_job(&mut self, name: &str, command: &[String]) -> Job {
        let object_name = format!("{}-{}-init-{name}", self.svc(), self.release);
        let w = Workload {
            name: object_name.clone(),
            component: format!("init-{name}"),
            command: Some(command),
            size: &self.app.engine.size,
            serves: false,
            batch: true,
        };
        let template = self.pod_template(&w);
        Job {
            metadata: self.meta(&object_name, &object_name, &w.component, true),
            spec: Some(JobSpec {
                backoff_limit: Some(2),
                active_deadline_seconds: Some(1800),
                ttl_seconds_after_finished: Some(86_400),
                template,
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    // ---- application -------------------------------------------------------

    fn main_deployment(&mut self, name: &str) -> Deployment {
        let w = Workload {
            name: name.to_owned(),
            component: WEB.to_owned(),
            command: None,
            size: &self.app.engine.size,
            serves: true,
            batch: false,
        };
        let replicas = match self.app.autoscale {
            Some(_) => {
                explain!(
                    self,
                    &format!("Deployment/{name}"),
                    "spec.replicas",
                    "(set by the HPA)",
                    self.app_source("autoscale"),
                );
                None
            }
            None => {
                explain!(
                    self,
                    &format!("Deployment/{name}"),
                    "spec.replicas",
                    self.app.replicas,
                    self.app_source("replicas"),
                );
                Some(self.app.replicas as i32)
            }
        };
        self.deployment(&w, replicas)
    }

    fn process_deployment(&mut self, process: &str) -> (Deployment, String) {
        let p = &self.app.processes[process];
        let name = format!("{}-{}-{process}", self.svc(), self.release);
        let name = match self.ctx.strategy {
            Strategy::Rolling => format!("{}-{process}", self.svc()),
            _ => name,
        };
        let w = Workload {
            name: name.clone(),
            component: format!("process-{process}"),
            command: Some(&p.command),
            size: &p.size,
            serves: false,
            batch: false,
        };
        explain!(
            self,
            &format!("Deployment/{name}"),
            "spec.replicas",
            p.replicas,
            self.app_source(&format!("processes.{process}.replicas")),
        );
        (self.deployment(&w, Some(p.replicas as i32)), name)
    }

    fn deployment(&mut self, w: &Workload<'_>, replicas: Option<i32>) -> Deployment {
        let template = self.pod_template(w);
        let startup = i32::try_from(self.app.health.startup_seconds).unwrap_or(i32::MAX);
        Deployment {
            metadata: self.meta(&w.name, &w.name, &w.component, true),
            spec: Some(DeploymentSpec {
                replicas,
                selector: LabelSelector {
                    match_labels: Some(self.selector(&w.name, &w.component)),
                    ..LabelSelector::default()
                },
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_unavailable: Some(IntOrString::Int(0)),
                        max_surge: Some(IntOrString::String(self.platform.pod.max_surge.clone())),
                    }),
                }),
                revision_history_limit: Some(3),
                progress_deadline_seconds: Some(startup.saturating_add(300)),
                template,
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        }
    }

    fn version_service(&self, main: &str) -> Service {
        Service {
            metadata: self.meta(main, main, WEB, false),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(self.selector(main, WEB)),
                ports: Some(self.service_ports()),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn service_ports(&self) -> Vec<ServicePort> {
        self.ports
            .iter()
            .map(|(name, &port)| ServicePort {
                port: i32::from(self.platform.service_port(name).unwrap_or(port)),
                target_port: Some(IntOrString::String(name.clone())),
                protocol: Some("TCP".into()),
                name: Some(name.clone()),
                ..ServicePort::default()
            })
            .collect()
    }

    fn pdb(&self, name: &str, component: &str) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: self.meta(name, name, component, false),
            spec: Some(PodDisruptionBudgetSpec {
                // One at a time, and never blocked by unhealthy pods: a PDB
                // that cannot block a node drain.
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(self.selector(name, component)),
                    ..LabelSelector::default()
                }),
                unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
                ..PodDisruptionBudgetSpec::default()
            }),
            ..PodDisruptionBudget::default()
        }
    }

    fn hpa(&mut self, main: &str) -> HorizontalPodAutoscaler {
        let Some(a) = self.app.autoscale else {
            return HorizontalPodAutoscaler::default();
        };
        let object = format!("HorizontalPodAutoscaler/{main}");
        for (field, key, value) in [
            ("spec.minReplicas", "autoscale.min", a.min),
            ("spec.maxReplicas", "autoscale.max", a.max),
            (
                "spec.metrics[cpu].averageUtilization",
                "autoscale.cpu_percent",
                a.cpu_percent,
            ),
        ] {
            explain!(self, &object, field, value, self.app_source(key));
        }
        HorizontalPodAutoscaler {
            metadata: self.meta(main, main, WEB, false),
            spec: Some(HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: "Deployment".into(),
                    name: main.to_owned(),
                },
                min_replicas: Some(a.min as i32),
                max_replicas: a.max as i32,
                metrics: Some(vec![MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: "cpu".into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(a.cpu_percent as i32),
                            ..MetricTarget::default()
                        },
                    }),
                    ..MetricSpec::default()
                }]),
                ..HorizontalPodAutoscalerSpec::default()
            }),
            ..HorizontalPodAutoscaler::default()
        }
    }

    fn cron_job(&mut self, job: &str) -> CronJob {
        let j = &self.app.jobs[job];
        let name = format!("{}-{job}", self.svc());
        let component = format!("job-{job}");
        let w = Workload {
            name: name.clone(),
            component: component.clone(),
            command: Some(&j.command),
            size: &self.app.engine.size,
            serves: false,
            batch: true,
        };
        explain!(
            self,
            &format!("CronJob/{name}"),
            "spec.schedule",
            &j.schedule,
            self.app_source(&format!("jobs.{job}.schedule")),
        );
        let template = self.pod_template(&w);
        CronJob {
            metadata: self.meta(&name, &name, &component, true),
            spec: Some(CronJobSpec {
                schedule: j.schedule.clone(),
                time_zone: Some("Etc/UTC".into()),
                concurrency_policy: Some("Forbid".into()),
                starting_deadline_seconds: Some(300),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(self.labels(&name, &component)),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(JobSpec {
                        backoff_limit: Some(2),
                        active_deadline_seconds: j.deadline_seconds.map(i64::from),
                        ttl_seconds_after_finished: Some(86_400),
                        template,
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            ..CronJob::default()
        }
    }

    // ---- pods --------------------------------------------------------------

    fn pod_template(&mut self, w: &Workload<'_>) -> PodTemplateSpec {
        let object = format!(
            "{}/{}",
            if w.batch {
                if w.component.starts_with("init-") {
                    "Job"
                } else {
                    "CronJob"
                }
            } else {
                "Deployment"
            },
            w.name
        );
        let pod = &self.platform.pod;
        let non_root = self.app.exception(HardeningRule::RunAsNonRoot).is_none();
        let mut annotations = Labels::new();
        let ports = &self.ports;
        if w.serves {
            let engine = self.platform.engines.get(&self.app.engine.name);
            let metrics_port = ports
                .get("metrics")
                .or_else(|| ports.get("http"))
                .copied()
                .unwrap_or(8080);
            annotations.insert("prometheus.io/scrape".into(), "true".into());
            annotations.insert("prometheus.io/port".into(), metrics_port.to_string());
            annotations.insert(
                "prometheus.io/path".into(),
                engine.map_or("/metrics".to_owned(), |e| e.metrics_path.clone()),
            );
        }
        let mut containers = vec![self.main_container(w, &object)];
        for (name, sidecar) in &self.platform.sidecars {
            containers.push(self.sidecar_container(name, sidecar));
        }
        let mut volumes = vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity(pod.tmp_size.clone())),
                ..EmptyDirVolumeSource::default()
            }),
            ..Volume::default()
        }];
        if self.app.secrets.vault {
            volumes.push(Volume {
                name: "vault-token".into(),
                projected: Some(ProjectedVolumeSource {
                    default_mode: Some(0o440),
                    sources: Some(vec![VolumeProjection {
                        service_account_token: Some(ServiceAccountTokenProjection {
                            audience: Some("vault".into()),
                            expiration_seconds: Some(self.platform.vault.token_expiration_seconds),
                            path: file_name(&self.platform.vault.token_path).to_owned(),
                        }),
                        ..VolumeProjection::default()
                    }]),
                }),
                ..Volume::default()
            });
        }
        let selector = self.selector(&w.name, &w.component);
        let spread = |key: &str| TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.to_owned(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            }),
            match_label_keys: Some(vec!["pod-template-hash".into()]),
            ..TopologySpreadConstraint::default()
        };
        let topology = if w.batch {
            None
        } else {
            Some(vec![
                spread(&pod.zone_topology_key),
                spread(&pod.host_topology_key),
            ])
        };
        let grace = pod.prestop_sleep_seconds + pod.shutdown_seconds;
        if !w.batch {
            explain!(
                self,
                &object,
                "spec.template.spec.terminationGracePeriodSeconds",
                grace,
                Source::Platform {
                    key: "pod.prestop_sleep_seconds + pod.shutdown_seconds".into(),
                },
            );
        }
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(self.labels(&w.name, &w.component)),
                annotations: if annotations.is_empty() {
                    None
                } else {
                    Some(annotations)
                },
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                service_account_name: Some(self.svc().to_owned()),
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                restart_policy: Some(if w.batch { "Never" } else { "Always" }.into()),
                termination_grace_period_seconds: Some(grace),
                security_context: Some(PodSecurityContext {
                    run_as_non_root: non_root.then_some(true),
                    run_as_user: non_root.then_some(pod.run_as_user),
                    run_as_group: non_root.then_some(pod.run_as_group),
                    fs_group: Some(pod.run_as_group),
                    seccomp_profile: Some(SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        ..SeccompProfile::default()
                    }),
                    ..PodSecurityContext::default()
                }),
                topology_spread_constraints: topology,
                containers,
                volumes: Some(volumes),
                ..PodSpec::default()
            }),
        }
    }

    fn image(&self) -> String {
        match &self.app.engine.image {
            Some(image) => format!("{image}:{}", self.ctx.image_tag),
            None => format!(
                "{}/{}:{}",
                self.platform.registry,
                self.svc(),
                self.ctx.image_tag
            ),
        }
    }

    fn main_container(&mut self, w: &Workload<'_>, object: &str) -> Container {
        // References with the inputs' lifetime, not the builder's: no copies.
        let (app, platform) = (self.app, self.platform);
        let engine_name = &app.engine.name;
        let engine = platform.engines.get(engine_name);
        let image = self.image();
        explain!(
            self,
            object,
            "containers[app].image",
            &image,
            if self.app.engine.image.is_some() {
                self.app_source("engine.image")
            } else {
                Source::Platform {
                    key: "registry".into(),
                }
            },
        );

        let base_command: Vec<String> = match w.command {
            Some(c) => c.to_vec(),
            None => engine
                .as_ref()
                .map(|e| e.command.clone())
                .unwrap_or_default(),
        };
        let command = if self.app.secrets.vault && !base_command.is_empty() {
            let mut c = vec!["vault2env".to_owned(), "--".to_owned()];
            c.extend(base_command);
            c
        } else {
            base_command
        };
        if w.command.is_none() && !command.is_empty() {
            explain!(
                self,
                object,
                "containers[app].command",
                command.join(" "),
                Source::Engine {
                    engine: engine_name.clone(),
                    key: "command".into(),
                },
            );
        }

        let ports = &self.ports;
        let container_ports = w.serves.then(|| {
            ports
                .iter()
                .map(|(name, port)| ContainerPort {
                    name: Some(name.clone()),
                    container_port: i32::from(*port),
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                })
                .collect::<Vec<_>>()
        });
        if w.serves && self.ctx.explain {
            for (name, port) in ports.clone() {
                let source = if self.app.ports.is_empty() {
                    Source::Engine {
                        engine: engine_name.clone(),
                        key: "port".into(),
                    }
                } else {
                    self.app_source(&format!("ports.{name}"))
                };
                explain!(
                    self,
                    object,
                    &format!("containers[app].ports[{name}]"),
                    port,
                    source,
                );
            }
        }

        let env = self.env_vars(object);
        let resources = self.resources(w.size, &w.component, object, "app");
        let (liveness, readiness, startup) = if w.batch {
            (None, None, None)
        } else {
            self.probes(object)
        };
        let mut mounts = vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        }];
        if self.app.secrets.vault {
            mounts.push(VolumeMount {
                name: "vault-token".into(),
                mount_path: parent_dir(&self.platform.vault.token_path).to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        }
        let lifecycle = (!w.batch).then(|| Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: self.platform.pod.prestop_sleep_seconds,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        });
        Container {
            name: "app".into(),
            image: Some(image),
            image_pull_policy: Some("Always".into()),
            command: if command.is_empty() {
                None
            } else {
                Some(command)
            },
            ports: container_ports,
            env: Some(env),
            env_from: Some(vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: self.config_map_name(),
                    optional: Some(false),
                }),
                ..EnvFromSource::default()
            }]),
            resources: Some(resources),
            liveness_probe: liveness,
            readiness_probe: readiness,
            startup_probe: startup,
            lifecycle,
            security_context: Some(self.container_security(object, "app")),
            volume_mounts: Some(mounts),
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            ..Container::default()
        }
    }

    fn sidecar_container(&self, name: &str, sidecar: &platform_config::SidecarConfig) -> Container {
        let probe = |path: &str| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.to_owned()),
                port: IntOrString::Int(i32::from(sidecar.health_port)),
                ..HTTPGetAction::default()
            }),
            period_seconds: Some(self.platform.pod.probe_period_seconds),
            ..Probe::default()
        };
        Container {
            name: name.to_owned(),
            image: Some(sidecar.image.clone()),
            image_pull_policy: Some("Always".into()),
            args: if sidecar.args.is_empty() {
                None
            } else {
                Some(sidecar.args.clone())
            },
            resources: Some(
                self.pick_resources(&sidecar.size, None, false)
                    .requirements(),
            ),
            liveness_probe: Some(probe(&sidecar.health_path)),
            readiness_probe: Some(probe(&sidecar.health_path)),
            security_context: Some(self.hardened_security(true, true, true)),
            volume_mounts: Some(vec![VolumeMount {
                name: "tmp".into(),
                mount_path: "/tmp".into(),
                ..VolumeMount::default()
            }]),
            ..Container::default()
        }
    }

    fn container_security(&mut self, object: &str, container: &str) -> SecurityContext {
        let read_only = self
            .app
            .exception(HardeningRule::ReadOnlyRootFilesystem)
            .is_none();
        let non_root = self.app.exception(HardeningRule::RunAsNonRoot).is_none();
        let drop_all = self
            .app
            .exception(HardeningRule::DropAllCapabilities)
            .is_none();
        for (rule, on, field) in [
            (
                HardeningRule::ReadOnlyRootFilesystem,
                read_only,
                "readOnlyRootFilesystem",
            ),
            (HardeningRule::RunAsNonRoot, non_root, "runAsNonRoot"),
            (
                HardeningRule::DropAllCapabilities,
                drop_all,
                "capabilities.drop",
            ),
        ] {
            if !on {
                explain!(
                    self,
                    object,
                    &format!("containers[{container}].securityContext.{field}"),
                    "relaxed",
                    Source::Exception {
                        rule: rule.to_string(),
                    },
                );
            }
        }
        self.hardened_security(read_only, non_root, drop_all)
    }

    fn hardened_security(
        &self,
        read_only: bool,
        non_root: bool,
        drop_all: bool,
    ) -> SecurityContext {
        let pod = &self.platform.pod;
        SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(read_only),
            run_as_non_root: non_root.then_some(true),
            run_as_user: non_root.then_some(pod.run_as_user),
            run_as_group: non_root.then_some(pod.run_as_group),
            capabilities: Some(Capabilities {
                // Without the exception everything is dropped; with it, still
                // NET_RAW (never needed by a service, and a spoofing risk).
                drop: Some(vec![if drop_all { "ALL" } else { "NET_RAW" }.into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            ..SecurityContext::default()
        }
    }

    /// The resources of a container of size preset `size`, with the
    /// values of its recommendation (if any) in place of the preset's.
    fn pick_resources(
        &self,
        size: &str,
        rec: Option<&ContainerResources>,
        cpu_limit_excepted: bool,
    ) -> Picked {
        use Pick::{Preset, Recommendation};
        let preset = self.platform.sizes.get(size);
        let either = |r: Option<String>, p: Option<&String>| {
            r.map(|v| (v, Recommendation))
                .or_else(|| p.map(|v| (v.clone(), Preset)))
        };
        let rec_cpu = rec.and_then(|r| r.cpu);
        let cpu_limit =
            if self.platform.policy.cpu_limit == CpuLimitPolicy::FromSize && !cpu_limit_excepted {
                match (rec.and_then(|r| r.cpu_limit), rec_cpu, preset) {
                    (Some(limit), _, _) => Some((limit.to_string(), Recommendation)),
                    // A recommended request without its limit keeps the
                    // preset's limit, raised to the request if it is below.
                    (None, Some(request), Some(p))
                        if p.cpu_limit.parse::<Cpu>().is_ok_and(|l| l >= request) =>
                    {
                        Some((p.cpu_limit.clone(), Preset))
                    }
                    (None, Some(request), _) => Some((request.to_string(), Recommendation)),
                    (None, None, p) => p.map(|p| (p.cpu_limit.clone(), Preset)),
                }
            } else {
                None
            };
        let netutil = self
            .platform
            .policy
            .network_resource
            .as_ref()
            .and_then(|name| {
                let value = rec
                    .and_then(|r| r.netutil)
                    .map(|n| (n.to_string(), Recommendation))
                    .or_else(|| preset.map(|p| (p.network_mbps.to_string(), Preset)))?;
                Some((name.clone(), value))
            });
        Picked {
            cpu: either(rec_cpu.map(|c| c.to_string()), preset.map(|p| &p.cpu)),
            memory: either(
                rec.and_then(|r| r.memory).map(|m| m.to_string()),
                preset.map(|p| &p.memory),
            ),
            cpu_limit,
            // Memory limit = request unless the recommendation says
            // otherwise: a pod is never killed for using what it asked for,
            // and never overcommits a node.
            memory_limit: either(
                rec.and_then(|r| r.memory_limit.or(r.memory))
                    .map(|m| m.to_string()),
                preset.map(|p| &p.memory),
            ),
            netutil,
        }
    }

    /// The resources of a workload's own container (`container`, of the
    /// workload with `component`), explained when asked.
    fn resources(
        &mut self,
        size: &str,
        component: &str,
        object: &str,
        container: &str,
    ) -> ResourceRequirements {
        let cpu_excepted = self.app.exception(HardeningRule::CpuLimit).is_some();
        let key = container_key(component);
        let rec = self.recommendations.and_then(|r| r.containers.get(key));
        let picked = self.pick_resources(size, rec, cpu_excepted);
        if self.ctx.explain {
            let file = self
                .recommendations
                .map(|r| r.file.clone())
                .unwrap_or_default();
            let source = |pick: Pick| match pick {
                Pick::Preset => Source::SizePreset {
                    size: size.to_owned(),
                },
                Pick::Recommendation => Source::Recommendation {
                    file: file.clone(),
                    container: key.to_owned(),
                    size: size.to_owned(),
                },
            };
            let field = |f: &str| format!("containers[{container}].resources.{f}");
            let mut entries = Vec::new();
            for (f, value) in [
                ("requests.cpu", &picked.cpu),
                ("requests.memory", &picked.memory),
                ("limits.cpu", &picked.cpu_limit),
                ("limits.memory", &picked.memory_limit),
            ] {
                if let Some((v, pick)) = value {
                    entries.push((field(f), v.clone(), source(*pick)));
                } else if f == "limits.cpu" && cpu_excepted {
                    entries.push((
                        field(f),
                        "none".to_owned(),
                        Source::Exception {
                            rule: HardeningRule::CpuLimit.to_string(),
                        },
                    ));
                }
            }
            if let Some((name, (v, pick))) = &picked.netutil {
                for kind in ["requests", "limits"] {
                    entries.push((field(&format!("{kind}[{name}]")), v.clone(), source(*pick)));
                }
            }
            for (f, v, s) in entries {
                explain!(self, object, &f, v, s);
            }
        }
        picked.requirements()
    }

    fn probes(&mut self, object: &str) -> (Option<Probe>, Option<Probe>, Option<Probe>) {
        let (app, platform) = (self.app, self.platform);
        let engine_name = &app.engine.name;
        let engine = platform.engines.get(engine_name);
        let period = platform.pod.probe_period_seconds.max(1);
        let health = &app.health;
        let mut path = |kind: &str, own: &Option<String>, default: Option<&String>| -> String {
            let value = match (own, default) {
                (Some(p), _) => p.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => "/healthz".to_owned(),
            };
            explain!(
                self,
                object,
                &format!("containers[app].{kind}Probe.httpGet.path"),
                &value,
                match (own, default) {
                    (Some(_), _) => self.app_source(&format!("health.{kind}")),
                    (None, Some(_)) => Source::Engine {
                        engine: engine_name.clone(),
                        key: kind.into(),
                    },
                    (None, None) => Source::Platform {
                        key: "probe default".into(),
                    },
                },
            );
            value
        };
        let liveness = path(
            "liveness",
            &health.liveness,
            engine.as_ref().map(|e| &e.liveness),
        );
        let readiness = path(
            "readiness",
            &health.readiness,
            engine.as_ref().map(|e| &e.readiness),
        );
        let startup = path(
            "startup",
            &health.startup,
            engine.as_ref().map(|e| &e.startup),
        );
        let probe = |path: String, failure: i32| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path),
                port: IntOrString::String("http".into()),
                scheme: Some("HTTP".into()),
                ..HTTPGetAction::default()
            }),
            period_seconds: Some(period),
            timeout_seconds: Some(2),
            failure_threshold: Some(failure),
            success_threshold: Some(1),
            ..Probe::default()
        };
        let startup_failures = i32::try_from(health.startup_seconds.div_ceil(period as u32))
            .unwrap_or(i32::MAX)
            .max(1);
        explain!(
            self,
            object,
            "containers[app].startupProbe.failureThreshold",
            startup_failures,
            self.app_source("health.startup_seconds"),
        );
        (
            Some(probe(liveness, 3)),
            Some(probe(readiness, 3)),
            Some(probe(startup, startup_failures)),
        )
    }

    fn env_vars(&mut self, object: &str) -> Vec<EnvVar> {
        if let Some(cached) = &self.env_cache {
            return cached.clone();
        }
        let env = self.compute_env_vars(object);
        if !self.ctx.explain {
            self.env_cache = Some(env.clone());
        }
        env
    }

    fn compute_env_vars(&mut self, object: &str) -> Vec<EnvVar> {
        let var = |name: &str, value: String| EnvVar {
            name: name.to_owned(),
            value: Some(value),
            ..EnvVar::default()
        };
        let mut env = vec![
            var("SERVICE_NAME", self.svc().to_owned()),
            var("PAAS_ENV", self.ctx.environment.clone()),
            var("PAAS_CLUSTER", self.ctx.cluster.clone()),
            var("PAAS_RELEASE", self.release.clone()),
        ];
        let env_config = self.platform.environment(&self.ctx.environment);
        for (dep, d) in &self.app.dependencies {
            let name = format!("{}_URL", upper_snake(dep));
            let url = match env_config.map(|e| e.dependencies) {
                Some(DependencyAddressing::Localhost) => {
                    let port = env_config.map_or(8080, |e| e.local_port(dep));
                    format!("http://localhost:{port}")
                }
                _ => {
                    let host = format!("{dep}.{dep}.svc.{}", self.platform.cluster_domain);
                    match self.platform.service_port(&d.port) {
                        Some(80) => format!("http://{host}"),
                        Some(port) => format!("http://{host}:{port}"),
                        // Unknown port names fall back to the name-free
                        // main port; the app.toml checker warns about them.
                        None => format!("http://{host}"),
                    }
                }
            };
            explain!(
                self,
                object,
                &format!("env.{name}"),
                &url,
                self.app_source(&format!("dependencies.{dep}")),
            );
            env.push(var(&name, url));
            if let Some(ms) = d.timeout_ms {
                env.push(var(
                    &format!("{}_TIMEOUT_MS", upper_snake(dep)),
                    ms.to_string(),
                ));
            }
        }
        for (db, d) in &self.app.databases {
            let Some(cfg) = self.platform.databases.get(d.engine.as_str()) else {
                continue;
            };
            let host = cfg
                .host
                .replace("{service}", self.svc())
                .replace("{database}", db)
                .replace("{env}", &self.ctx.environment)
                .replace("{cluster_domain}", &self.platform.cluster_domain);
            let prefix = upper_snake(db);
            let secret = |key: &str| format!("vault:{}/databases/{db}#{key}", self.svc());
            let mut vars = Vec::new();
            match d.engine {
                DatabaseEngine::Postgres => {
                    vars.push((format!("{prefix}_PG_HOST"), host));
                    vars.push((format!("{prefix}_PG_PORT"), cfg.port.to_string()));
                    vars.push((
                        format!("{prefix}_PG_DATABASE"),
                        format!("{}_{}", self.svc(), db).replace('-', "_"),
                    ));
                    if self.app.secrets.vault {
                        vars.push((format!("{prefix}_PG_USER"), secret("username")));
                        vars.push((format!("{prefix}_PG_PASSWORD"), secret("password")));
                    }
                }
                DatabaseEngine::Redis => {
                    vars.push((
                        format!("{prefix}_REDIS_ADDR"),
                        format!("{host}:{}", cfg.port),
                    ));
                    if self.app.secrets.vault {
                        vars.push((format!("{prefix}_REDIS_PASSWORD"), secret("password")));
                    }
                }
                DatabaseEngine::Kafka => {
                    vars.push((
                        format!("{prefix}_KAFKA_BROKERS"),
                        format!("{host}:{}", cfg.port),
                    ));
                    if self.app.secrets.vault {
                        vars.push((format!("{prefix}_KAFKA_USERNAME"), secret("username")));
                        vars.push((format!("{prefix}_KAFKA_PASSWORD"), secret("password")));
                    }
                }
            }
            for (name, value) in vars {
                explain!(
                    self,
                    object,
                    &format!("env.{name}"),
                    &value,
                    self.app_source(&format!("databases.{db}.engine")),
                );
                env.push(var(&name, value));
            }
        }
        if self.app.secrets.vault {
            let v = &self.platform.vault;
            env.push(var("VAULT_ADDR", v.address.clone()));
            env.push(var("VAULT2ENV_AUTH_MOUNT", v.auth_mount.clone()));
            env.push(var("VAULT2ENV_KV_MOUNT", v.kv_mount.clone()));
            env.push(var("VAULT2ENV_NAMESPACE", self.svc().to_owned()));
            env.push(var("VAULT2ENV_TOKEN_FILE", v.token_path.clone()));
            if !self.app.secrets.keys.is_empty() {
                env.push(var("VAULT2ENV_REQUIRED", self.app.secrets.keys.join(",")));
            }
        }
        env
    }

    // ---- balancing ---------------------------------------------------------

    fn stable_service(&mut self, main: &str) -> Service {
        let svc = self.svc().to_owned();
        // The stable Service selects the live version. During a canary with
        // selector balancing it selects every version (traffic then follows
        // replica counts); with gateway-api the HTTPRoute does the weighting
        // and the stable Service is only the mesh's parent.
        let select_all = match self.platform.balancing {
            Balancing::GatewayApi => true,
            Balancing::Selector => self.ctx.canary_weight.is_some_and(|w| w < 100),
        };
        let mut selector = self.selector(main, WEB);
        if select_all {
            selector.remove(LABEL_INSTANCE);
        }
        let target = if select_all {
            "every version".to_owned()
        } else {
            main.to_owned()
        };
        explain!(
            self,
            &format!("Service/{svc}"),
            "spec.selector",
            target,
            Source::Platform {
                key: "balancing".into(),
            },
        );
        Service {
            metadata: self.meta(&svc, &svc, WEB, false),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(selector),
                ports: Some(self.service_ports()),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn mesh_route(&mut self, main: &str) -> HttpRoute {
        let svc = self.svc().to_owned();
        let weight = i32::from(self.ctx.canary_weight.unwrap_or(100).min(100));
        let mut backends = Vec::new();
        if let Some(prev) = self.ctx.previous_version
            && weight < 100
        {
            backends.push(BackendRef {
                name: format!("{svc}-v{prev}"),
                port: 80,
                weight: 100 - weight,
            });
        }
        backends.push(BackendRef {
            name: main.to_owned(),
            port: 80,
            weight,
        });
        explain!(
            self,
            &format!("HTTPRoute/{svc}"),
            &format!("spec.rules[0].backendRefs[{main}].weight"),
            weight,
            Source::Release {
                key: "canary weight".into(),
            },
        );
        HttpRoute {
            metadata: self.meta(&svc, &svc, WEB, false),
            spec: HttpRouteSpec {
                parent_refs: vec![ParentRef {
                    group: String::new(),
                    kind: "Service".into(),
                    name: svc.clone(),
                    namespace: None,
                    port: Some(80),
                }],
                hostnames: Vec::new(),
                rules: vec![HttpRouteRule {
                    matches: Vec::new(),
                    backend_refs: backends,
                }],
            },
        }
    }

    fn ingress(&mut self, route: &str) -> Ingress {
        let r = &self.app.routes[route];
        let svc = self.svc().to_owned();
        let name = format!("{svc}-{route}");
        explain!(
            self,
            &format!("Ingress/{name}"),
            "spec.rules[0].host",
            &r.host,
            self.app_source(&format!("routes.{route}.host")),
        );
        let mut meta = self.meta(&name, &svc, &format!("route-{route}"), false);
        let tls = self.platform.routes.cluster_issuer.as_ref().map(|issuer| {
            if let Some(a) = meta.annotations.as_mut() {
                a.insert("cert-manager.io/cluster-issuer".into(), issuer.clone());
            }
            vec![IngressTLS {
                hosts: Some(vec![r.host.clone()]),
                secret_name: Some(format!("{name}-tls")),
            }]
        });
        Ingress {
            metadata: meta,
            spec: Some(IngressSpec {
                ingress_class_name: Some(self.platform.routes.ingress_class.clone()),
                tls,
                rules: Some(vec![IngressRule {
                    host: Some(r.host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some(r.path.clone()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: svc.clone(),
                                    port: Some(ServiceBackendPort {
                                        name: Some("http".into()),
                                        ..ServiceBackendPort::default()
                                    }),
                                }),
                                ..IngressBackend::default()
                            },
                        }],
                    }),
                }]),
                ..IngressSpec::default()
            }),
            ..Ingress::default()
        }
    }

    fn external_route(&mut self, route: &str) -> HttpRoute {
        let r = &self.app.routes[route];
        let svc = self.svc().to_owned();
        let name = format!("{svc}-{route}");
        explain!(
            self,
            &format!("HTTPRoute/{name}"),
            "spec.hostnames[0]",
            &r.host,
            self.app_source(&format!("routes.{route}.host")),
        );
        HttpRoute {
            metadata: self.meta(&name, &svc, &format!("route-{route}"), false),
            spec: HttpRouteSpec {
                parent_refs: vec![ParentRef {
                    group: "gateway.networking.k8s.io".into(),
                    kind: "Gateway".into(),
                    name: self.platform.gateway.name.clone(),
                    namespace: Some(self.platform.gateway.namespace.clone()),
                    port: None,
                }],
                hostnames: vec![r.host.clone()],
                rules: vec![HttpRouteRule {
                    matches: vec![HttpRouteMatch {
                        path: Some(PathMatch {
                            type_: "PathPrefix".into(),
                            value: r.path.clone(),
                        }),
                        headers: Vec::new(),
                    }],
                    backend_refs: vec![BackendRef {
                        name: svc.clone(),
                        port: 80,
                        weight: 100,
                    }],
                }],
            },
        }
    }
}

/// Labels of every object of a render, except `instance` and `component`:
/// the recommended `app.kubernetes.io/*` set, the release labels and the
/// platform's labels.
/// Annotations of an object: the platform's, the platform version and, on
/// workloads, each exception with the checkov skips it implies.
fn annotations(app: &App, platform: &Platform, platform_version: &str, workload: bool) -> Labels {
    let mut a = platform.annotations.clone();
    a.insert(
        "paas.io/platform-version".into(),
        platform_version.to_owned(),
    );
    if workload {
        let mut skip = 0;
        for (rule, e) in &app.exceptions {
            a.insert(
                format!("paas.io/exception.{rule}"),
                format!("{} (expires {})", e.reason, e.expires),
            );
            // The same exception, in the form checkov reads: the check is
            // skipped for this object only, with the app's reason.
            for check in checkov_checks(*rule) {
                skip += 1;
                a.insert(
                    format!("checkov.io/skip{skip}"),
                    format!("{check}=paas exception {rule}: {}", e.reason),
                );
            }
        }
    }
    a
}

fn base_labels(app: &App, platform: &Platform, ctx: &ReleaseContext) -> Labels {
    let mut l = platform.labels.clone();
    l.insert(LABEL_NAME.into(), app.name.clone());
    l.insert("app.kubernetes.io/version".into(), ctx.image_tag.clone());
    l.insert("app.kubernetes.io/part-of".into(), app.name.clone());
    l.insert(LABEL_MANAGED_BY.into(), "paas".into());
    l.insert("paas.io/release".into(), format!("v{}", ctx.version));
    l.insert("paas.io/env".into(), ctx.environment.clone());
    l.insert("paas.io/cluster".into(), ctx.cluster.clone());
    l.insert("paas.io/kind".into(), kind_str(app.kind).into());
    if !app.owner.is_empty() && platform_config::is_dns_label(&app.owner, 63) {
        l.insert("paas.io/owner".into(), app.owner.clone());
    }
    l
}

/// The checkov checks that a hardening rule's exception necessarily fails.
pub(crate) fn checkov_checks(rule: HardeningRule) -> &'static [&'static str] {
    match rule {
        HardeningRule::ReadOnlyRootFilesystem => &["CKV_K8S_22"],
        HardeningRule::RunAsNonRoot => &["CKV_K8S_23", "CKV_K8S_40"],
        HardeningRule::DropAllCapabilities => &["CKV_K8S_37"],
        HardeningRule::CpuLimit => &["CKV_K8S_11"],
        HardeningRule::DefaultDenyEgress | HardeningRule::MinProdReplicas => &[],
    }
}

fn kind_str(kind: app_toml::Kind) -> &'static str {
    match kind {
        app_toml::Kind::Business => "business",
        app_toml::Kind::Infra => "infra",
    }
}

/// `summer-v2` -> `SUMMER_V2`.
pub(crate) fn upper_snake(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Where a resource value came from (a [`Source`] only when explaining).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// The container's size preset.
    Preset,
    /// The recommendations file.
    Recommendation,
}

/// The resources of one container, each value with where it came from.
struct Picked {
    cpu: Option<(String, Pick)>,
    memory: Option<(String, Pick)>,
    /// `None`: no CPU limit (platform policy or the `cpu-limit` exception).
    cpu_limit: Option<(String, Pick)>,
    memory_limit: Option<(String, Pick)>,
    /// The extended network resource (name, Mbit/s): request = limit, as
    /// Kubernetes requires of extended resources.
    netutil: Option<(String, (String, Pick))>,
}

impl Picked {
    fn requirements(self) -> ResourceRequirements {
        let mut requests = BTreeMap::new();
        let mut limits = BTreeMap::new();
        let put = |map: &mut BTreeMap<String, Quantity>, key: &str, v: Option<(String, Pick)>| {
            if let Some((v, _)) = v {
                map.insert(key.to_owned(), Quantity(v));
            }
        };
        put(&mut requests, "cpu", self.cpu);
        put(&mut requests, "memory", self.memory);
        put(&mut limits, "cpu", self.cpu_limit);
        put(&mut limits, "memory", self.memory_limit);
        if let Some((name, (v, _))) = self.netutil {
            requests.insert(name.clone(), Quantity(v.clone()));
            limits.insert(name, Quantity(v));
        }
        ResourceRequirements {
            requests: (!requests.is_empty()).then_some(requests),
            limits: (!limits.is_empty()).then_some(limits),
            ..ResourceRequirements::default()
        }
    }
}

/// The name of a workload's container in the recommendations file: its
/// component (`process-worker`, `job-reindex`, `init-migrate`), except the
/// main workload (`web`), whose container is `app`.
pub fn container_key(component: &str) -> &str {
    if component == WEB || component == copy::COPY_COMPONENT {
        "app"
    } else {
        component
    }
}
