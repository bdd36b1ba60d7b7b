//! The resources the test cluster serves: the built-in kinds paas uses and
//! the custom resources that CRDs add, with the discovery documents
//! (`/api`, `/apis`, `/apis/<group>/<version>`) built from them.

use serde_json::{Value, json};

/// One REST resource (a group, version and plural) and what it supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group.
    pub version: String,
    /// Kind of the objects.
    pub kind: String,
    /// Plural name used in URLs.
    pub plural: String,
    /// Lower-case singular name.
    pub singular: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether the resource has a `/status` subresource (status is then
    /// written only through it).
    pub status_subresource: bool,
    /// Short names advertised in discovery.
    pub short_names: Vec<String>,
    /// Whether the server keeps `metadata.generation` (kinds with a spec;
    /// not ConfigMaps, Secrets, Pods, Events...).
    pub generation: bool,
}

impl ResourceInfo {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The key objects of this resource are stored under.
    pub fn storage_key(&self) -> String {
        format!("{}/{}/{}", self.group, self.version, self.plural)
    }
}

/// (group, version, kind, plural, namespaced, status subresource, short names)
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    &'static [&'static str],
);

const BUILTINS: &[Builtin] = &[
    ("", "v1", "Namespace", "namespaces", false, true, &["ns"]),
    ("", "v1", "ConfigMap", "configmaps", true, false, &["cm"]),
    ("", "v1", "Secret", "secrets", true, false, &[]),
    ("", "v1", "Service", "services", true, true, &["svc"]),
    (
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        false,
        &["sa"],
    ),
    ("", "v1", "Pod", "pods", true, true, &["po"]),
    ("", "v1", "Event", "events", true, false, &["ev"]),
    (
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        true,
        &["deploy"],
    ),
    (
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        true,
        &["rs"],
    ),
    ("batch", "v1", "Job", "jobs", true, true, &[]),
    ("batch", "v1", "CronJob", "cronjobs", true, true, &["cj"]),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        true,
        &["pdb"],
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        true,
        &["hpa"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        false,
        &["netpol"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        true,
        &["ing"],
    ),
    (
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
        "httproutes",
        true,
        true,
        &[],
    ),
    (
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        false,
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        true,
        &["crd", "crds"],
    ),
];

/// The built-in kinds whose registry strategy maintains `generation`.
const WITH_GENERATION: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "Job",
    "CronJob",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "Ingress",
    "HTTPRoute",
    "CustomResourceDefinition",
];

/// The built-in resources, in discovery order.
pub fn builtins() -> Vec<ResourceInfo> {
    BUILTINS
        .iter()
        .map(
            |(group, version, kind, plural, namespaced, status, short)| ResourceInfo {
                group: (*group).to_string(),
                version: (*version).to_string(),
                kind: (*kind).to_string(),
                plural: (*plural).to_string(),
                singular: kind.to_lowercase(),
                namespaced: *namespaced,
                status_subresource: *status,
                short_names: short.iter().map(|s| (*s).to_string()).collect(),
                generation: WITH_GENERATION.contains(kind),
            },
        )
        .collect()
}

/// The built-in Namespace resource.
pub fn namespace_info() -> ResourceInfo {
    builtin("", "namespaces")
}

/// A built-in resource by group and plural; the table above is fixed, so a
/// miss is a programming error and yields an inert placeholder.
pub fn builtin(group: &str, plural: &str) -> ResourceInfo {
    builtins()
        .into_iter()
        .find(|r| r.group == group && r.plural == plural)
        .unwrap_or_else(|| ResourceInfo {
            group: group.to_string(),
            version: "v1".into(),
            kind: plural.to_string(),
            plural: plural.to_string(),
            singular: plural.to_string(),
            namespaced: true,
            status_subresource: false,
            short_names: Vec::new(),
            generation: false,
        })
}

/// The resources an established CRD serves (one per served version).
pub fn from_crd(crd: &Value) -> Vec<ResourceInfo> {
    let spec = &crd["spec"];
    let (Some(group), Some(kind), Some(plural)) = (
        spec["group"].as_str(),
        spec["names"]["kind"].as_str(),
        spec["names"]["plural"].as_str(),
    ) else {
        return Vec::new();
    };
    let singular = spec["names"]["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let short_names: Vec<String> = spec["names"]["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            Some(ResourceInfo {
                group: group.to_string(),
                version: v["name"].as_str()?.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: singular.clone(),
                namespaced,
                status_subresource: v["subresources"]["status"].is_object(),
                short_names: short_names.clone(),
                generation: true,
            })
        })
        .collect()
}

/// Checks a CRD's spec; returns the invalid fields with messages.
pub fn validate_crd(crd: &Value) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    if group.is_empty() {
        causes.push(("spec.group".into(), "Required value".into()));
    }
    if plural.is_empty() {
        causes.push(("spec.names.plural".into(), "Required value".into()));
    }
    if spec["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        causes.push(("spec.names.kind".into(), "Required value".into()));
    }
    if !matches!(spec["scope"].as_str(), Some("Namespaced" | "Cluster")) {
        causes.push((
            "spec.scope".into(),
            "Unsupported value: must be Namespaced or Cluster".into(),
        ));
    }
    if spec["versions"].as_array().is_none_or(Vec::is_empty) {
        causes.push((
            "spec.versions".into(),
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    causes
}

fn resource_entry(r: &ResourceInfo) -> Value {
    json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": r.short_names,
    })
}

/// The `APIResourceList` of one group version.
pub fn resource_list(group_version: &str, resources: &[ResourceInfo]) -> Value {
    let mut list = Vec::new();
    for r in resources {
        list.push(resource_entry(r));
        if r.status_subresource {
            list.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        if r.group.is_empty() && r.plural == "pods" {
            list.push(json!({
                "name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"],
            }));
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list})
}

/// The `APIGroupList` of `/apis` (every non-core group).
pub fn group_list(resources: &[ResourceInfo]) -> Value {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => {
                versions.push(r.version.clone())
            }
            Some(_) => {}
            None => groups.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                .collect();
            json!({"name": name, "versions": vs, "preferredVersion": vs[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// One version's resource entries in the aggregated document.
type VersionEntries = (String, Vec<Value>);

/// The aggregated discovery document (`apidiscovery.k8s.io/v2`
/// `APIGroupDiscoveryList`) of `/api` (`core` true) or `/apis`.
pub fn aggregated(resources: &[ResourceInfo], core: bool) -> Value {
    let mut groups: Vec<(String, Vec<VersionEntries>)> = Vec::new();
    for r in resources.iter().filter(|r| r.group.is_empty() == core) {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let mut entry = json!({
            "resource": r.plural,
            "responseKind": gvk,
            "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": r.singular,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            "shortNames": r.short_names,
        });
        if r.status_subresource {
            entry["subresources"] = json!([{"subresource": "status", "responseKind": gvk, "verbs": ["get", "patch", "update"]}]);
        }
        let versions = match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => versions,
            None => {
                groups.push((r.group.clone(), Vec::new()));
                match groups.last_mut() {
                    Some((_, versions)) => versions,
                    None => continue,
                }
            }
        };
        match versions.iter_mut().find(|(v, _)| *v == r.version) {
            Some((_, list)) => list.push(entry),
            None => versions.push((r.version.clone(), vec![entry])),
        }
    }
    let items: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|(version, resources)| json!({"version": version, "resources": resources, "freshness": "Current"}))
                .collect();
            json!({"metadata": {"name": name}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
