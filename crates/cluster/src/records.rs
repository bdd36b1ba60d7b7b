//! Release records: the `Release` custom resource and the ConfigMaps that
//! hold its manifests.
//!
//! Every cluster stores the whole record of a release, with the manifests
//! of **every** cluster of the environment (the peer copies): that is what
//! lets sync rebuild a cluster that lost its state from any other one.
//!
//! The manifests (JSON, gzip-compressed) live beside the record in
//! immutable ConfigMaps of at most [`CHUNK_BYTES`] each, named
//! `<svc>-v<N>-m<i>`, in order, each carrying the SHA-256 digest of the
//! whole compressed payload; the record's `spec.manifestsRef` lists them.
//! Chunks are written before the record, so a record never points at
//! missing chunks, and read back only when the digest matches.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};

use base64::Engine;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use release::{Manifests, Release};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::connect::ClusterClient;
use crate::crd::api_resource;
use crate::error::{Error, Result};

/// Largest chunk of compressed manifests per ConfigMap (0.9 MB, under the
/// API server's 1 MiB limit on a ConfigMap's data).
pub const CHUNK_BYTES: usize = 900_000;
/// Label naming the service of a record or chunk.
pub const SERVICE_LABEL: &str = "paas.io/service";
/// Label marking manifests chunks.
pub const PART_LABEL: &str = "paas.io/part";
const DIGEST_ANNOTATION: &str = "paas.io/digest";
const DATA_KEY: &str = "manifests.json.gz";

/// Compressed manifests split into chunks, with the digest of the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunks {
    /// The pieces, in order, each at most [`CHUNK_BYTES`].
    pub parts: Vec<Vec<u8>>,
    /// `sha256:<hex>` of the concatenated pieces.
    pub digest: String,
}

/// Compresses and chunks the manifests of every cluster.
pub fn encode_manifests(manifests: &BTreeMap<String, Manifests>) -> Chunks {
    let json = serde_json::to_vec(manifests).unwrap_or_default();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(&json);
    let packed = encoder.finish().unwrap_or_default();
    let digest = digest(&packed);
    let parts = packed.chunks(CHUNK_BYTES).map(<[u8]>::to_vec).collect();
    Chunks { parts, digest }
}

/// Joins chunks, checks the digest and decompresses; `None` when damaged.
pub fn decode_manifests(parts: &[Vec<u8>], expected: &str) -> Option<BTreeMap<String, Manifests>> {
    let packed: Vec<u8> = parts.concat();
    if digest(&packed) != expected {
        return None;
    }
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut json)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn chunk_name(record: &str, index: usize) -> String {
    format!("{record}-m{index}")
}

fn releases(cluster: &ClusterClient) -> Api<DynamicObject> {
    Api::namespaced_with(
        cluster.client().clone(),
        &cluster.settings().namespace,
        &api_resource(),
    )
}

fn config_maps(cluster: &ClusterClient) -> Api<ConfigMap> {
    Api::namespaced(cluster.client().clone(), &cluster.settings().namespace)
}

/// Creates the records namespace when it is missing.
pub async fn ensure_namespace(cluster: &ClusterClient) -> Result<()> {
    let api: Api<Namespace> = Api::all(cluster.client().clone());
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": cluster.settings().namespace,
                     "labels": {"app.kubernetes.io/managed-by": "paas"}}
    }))
    .unwrap_or_default();
    match cluster.call(api.create(&PostParams::default(), &ns)).await {
        Ok(_) => Ok(()),
        Err(e) if e.status_code() == Some(409) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes the whole record (chunks, spec and status). Chunks that already
/// hold the same digest are kept; damaged or different ones are replaced.
pub async fn save_record(cluster: &ClusterClient, release: &Release) -> Result<()> {
    let name = release.resource_name();
    let chunks = encode_manifests(&release.spec.manifests);
    let cms = config_maps(cluster);
    let mut names = Vec::with_capacity(chunks.parts.len());
    for (index, part) in chunks.parts.iter().enumerate() {
        let cm_name = chunk_name(&name, index);
        let existing = cluster.call(cms.get_opt(&cm_name)).await?;
        let same = existing.as_ref().is_some_and(|cm| {
            cm.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DIGEST_ANNOTATION))
                == Some(&chunks.digest)
        });
        if !same {
            if existing.is_some() {
                // Immutable: a different payload means delete and create.
                delete_ignoring_missing(cluster, cms.delete(&cm_name, &DeleteParams::default()))
                    .await?;
            }
            let cm = chunk_config_map(release, &cm_name, index, part, &chunks.digest);
            cluster
                .call(cms.create(&PostParams::default(), &cm))
                .await?;
        }
        names.push(cm_name);
    }
    let mut spec = release.to_json()["spec"].clone();
    if let Some(map) = spec.as_object_mut() {
        map.remove("manifests");
        map.insert(
            "manifestsRef".to_owned(),
            json!({"configMaps": names, "digest": chunks.digest,
                   "size": chunks.parts.iter().map(Vec::len).sum::<usize>()}),
        );
    }
    let body = json!({
        "apiVersion": "paas.io/v1", "kind": "Release",
        "metadata": {
            "name": name,
            "namespace": cluster.settings().namespace,
            "labels": record_labels(release),
        },
        "spec": spec,
    });
    let api = releases(cluster);
    let params = PatchParams::apply(release::planner::FIELD_MANAGER).force();
    cluster
        .call(api.patch(&name, &params, &Patch::Apply(&body)))
        .await?;
    write_status(cluster, release).await
}

/// Writes only the status of a record that exists. The status is replaced
/// whole (a merge patch would keep fields the planner dropped, such as a
/// finished release's timer or a cluster's pending objects).
pub async fn write_status(cluster: &ClusterClient, release: &Release) -> Result<()> {
    let body = json!({
        "apiVersion": "paas.io/v1", "kind": "Release",
        "metadata": {"name": release.resource_name(), "namespace": cluster.settings().namespace},
        "status": release.to_json()["status"].clone(),
    });
    let object: DynamicObject = serde_json::from_value(body).map_err(|e| Error::Record {
        cluster: cluster.name().to_owned(),
        name: release.resource_name(),
        message: e.to_string(),
    })?;
    cluster
        .call(releases(cluster).replace_status(
            &release.resource_name(),
            &PostParams::default(),
            &object,
        ))
        .await
        .map(|_| ())
}

fn record_labels(release: &Release) -> Value {
    json!({
        SERVICE_LABEL: release.spec.service,
        release::RELEASE_LABEL: release.spec.number.to_string(),
        "paas.io/env": release.spec.environment,
        "app.kubernetes.io/managed-by": "paas",
    })
}

fn chunk_config_map(
    release: &Release,
    name: &str,
    index: usize,
    part: &[u8],
    digest: &str,
) -> ConfigMap {
    let data = base64::engine::general_purpose::STANDARD.encode(part);
    let mut labels = record_labels(release);
    labels[PART_LABEL] = json!("manifests");
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {DIGEST_ANNOTATION: digest, "paas.io/chunk": index.to_string()}},
        "immutable": true,
        "binaryData": {DATA_KEY: data},
    }))
    .unwrap_or_default()
}

/// Reads one record back with its manifests (`None` when it does not exist).
pub async fn read_record(cluster: &ClusterClient, name: &str) -> Result<Option<Release>> {
    let Some(object) = cluster.call(releases(cluster).get_opt(name)).await? else {
        return Ok(None);
    };
    let cms = cluster
        .call(
            config_maps(cluster).list(
                &ListParams::default()
                    .labels(&format!("{PART_LABEL}=manifests,{}", selector_of(&object))),
            ),
        )
        .await?;
    decode_record(cluster.name(), &object, &index_chunks(cms.items)).map(Some)
}

/// Every record of the records namespace (one service, or all), decoded;
/// records that cannot be decoded are returned as errors beside the rest.
pub async fn list_records(
    cluster: &ClusterClient,
    service: Option<&str>,
) -> Result<Vec<Result<Release>>> {
    let selector = service
        .map(|s| format!("{SERVICE_LABEL}={s}"))
        .unwrap_or_default();
    let objects = cluster
        .call(releases(cluster).list(&ListParams::default().labels(&selector)))
        .await?;
    let mut chunk_selector = format!("{PART_LABEL}=manifests");
    if !selector.is_empty() {
        chunk_selector = format!("{chunk_selector},{selector}");
    }
    let cms = cluster
        .call(config_maps(cluster).list(&ListParams::default().labels(&chunk_selector)))
        .await?;
    let chunks = index_chunks(cms.items);
    Ok(objects
        .items
        .iter()
        .map(|object| decode_record(cluster.name(), object, &chunks))
        .collect())
}

fn selector_of(object: &DynamicObject) -> String {
    let labels = object.metadata.labels.clone().unwrap_or_default();
    let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
    format!(
        "{SERVICE_LABEL}={},{}={}",
        get(SERVICE_LABEL),
        release::RELEASE_LABEL,
        get(release::RELEASE_LABEL)
    )
}

/// ConfigMaps by name: (digest annotation, decoded bytes).
fn index_chunks(items: Vec<ConfigMap>) -> HashMap<String, (String, Vec<u8>)> {
    items
        .into_iter()
        .filter_map(|cm| {
            let name = cm.metadata.name?;
            let digest = cm.metadata.annotations?.get(DIGEST_ANNOTATION)?.clone();
            let bytes = cm.binary_data?.get(DATA_KEY)?.0.clone();
            Some((name, (digest, bytes)))
        })
        .collect()
}

/// Rebuilds a [`Release`] from the custom resource and its chunks.
fn decode_record(
    cluster: &str,
    object: &DynamicObject,
    chunks: &HashMap<String, (String, Vec<u8>)>,
) -> Result<Release> {
    let name = object.metadata.name.clone().unwrap_or_default();
    let damaged = |message: String| Error::Record {
        cluster: cluster.to_owned(),
        name: name.clone(),
        message,
    };
    let mut spec = object.data.get("spec").cloned().unwrap_or(Value::Null);
    let status = object
        .data
        .get("status")
        .cloned()
        .ok_or_else(|| damaged("no status".to_owned()))?;
    let reference = spec
        .as_object_mut()
        .and_then(|m| m.remove("manifestsRef"))
        .ok_or_else(|| damaged("no manifestsRef".to_owned()))?;
    let digest = reference["digest"].as_str().unwrap_or_default();
    let mut parts = Vec::new();
    for cm in reference["configMaps"].as_array().into_iter().flatten() {
        let cm = cm.as_str().unwrap_or_default();
        match chunks.get(cm) {
            Some((d, bytes)) if d == digest => parts.push(bytes.clone()),
            Some(_) => return Err(damaged(format!("chunk {cm} has another digest"))),
            None => return Err(damaged(format!("chunk {cm} is missing"))),
        }
    }
    let manifests = decode_manifests(&parts, digest)
        .ok_or_else(|| damaged("manifests digest mismatch".into()))?;
    if let Some(map) = spec.as_object_mut() {
        map.insert(
            "manifests".to_owned(),
            serde_json::to_value(manifests).unwrap_or_default(),
        );
    }
    Release::from_json_copy(&json!({"spec": spec, "status": status}))
        .map_err(|e| damaged(e.to_string()))
}

/// Deletes a record and its chunks.
pub async fn delete_record(
    cluster: &ClusterClient,
    service: &str,
    version: release::Version,
) -> Result<()> {
    let name = format!("{service}-{version}");
    delete_ignoring_missing(
        cluster,
        releases(cluster).delete(&name, &DeleteParams::default()),
    )
    .await?;
    let selector = format!(
        "{PART_LABEL}=manifests,{SERVICE_LABEL}={service},{}={version}",
        release::RELEASE_LABEL
    );
    cluster
        .call(config_maps(cluster).delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels(&selector),
        ))
        .await
        .map(|_| ())
}

/// Keeps the newest `keep` records of a service (and `protect`ed ones),
/// deleting the older ones.
pub async fn prune_history(
    cluster: &ClusterClient,
    service: &str,
    keep: usize,
    protect: &[release::Version],
) -> Result<usize> {
    let objects = cluster
        .call(
            releases(cluster)
                .list(&ListParams::default().labels(&format!("{SERVICE_LABEL}={service}"))),
        )
        .await?;
    let mut versions: Vec<release::Version> = objects
        .items
        .iter()
        .filter_map(|o| {
            o.metadata
                .labels
                .as_ref()?
                .get(release::RELEASE_LABEL)?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    let mut deleted = 0;
    for version in versions.into_iter().skip(keep) {
        if !protect.contains(&version) {
            delete_record(cluster, service, version).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

pub(crate) async fn delete_ignoring_missing<T>(
    cluster: &ClusterClient,
    request: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<()> {
    match cluster.call(request).await {
        Ok(_) => Ok(()),
        Err(e) if e.status_code() == Some(404) => Ok(()),
        Err(e) => Err(e),
    }
}
