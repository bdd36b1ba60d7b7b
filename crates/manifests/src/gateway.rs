//! Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1`), which
//! `k8s-openapi` does not carry: only the fields the generator sets, with the
//! Gateway API's field names.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// An `HTTPRoute`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRoute {
    /// Standard object metadata.
    pub metadata: ObjectMeta,
    /// The route.
    pub spec: HttpRouteSpec,
}

impl Serialize for HttpRoute {
    /// `apiVersion`, `kind`, `metadata`, `spec`: the order of every other object.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use k8s_openapi::Resource;
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HTTPRoute", 4)?;
        st.serialize_field("apiVersion", Self::API_VERSION)?;
        st.serialize_field("kind", Self::KIND)?;
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("spec", &self.spec)?;
        st.end()
    }
}

impl k8s_openapi::Resource for HttpRoute {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const GROUP: &'static str = "gateway.networking.k8s.io";
    const KIND: &'static str = "HTTPRoute";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "httproutes";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::Metadata for HttpRoute {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// `spec` of an `HTTPRoute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// What the route attaches to: a Gateway, or a Service for mesh (GAMMA) routing.
    pub parent_refs: Vec<ParentRef>,
    /// Host names matched (external routes only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Routing rules.
    pub rules: Vec<HttpRouteRule>,
}

/// `parentRefs[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentRef {
    /// API group (`""` for a core Service, `gateway.networking.k8s.io` for a Gateway).
    pub group: String,
    /// `Service` or `Gateway`.
    pub kind: String,
    /// Name of the parent.
    pub name: String,
    /// Namespace of the parent (omitted for the route's own namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port of a Service parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

/// `rules[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Path matches (none: every request).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpRouteMatch>,
    /// Weighted backends.
    pub backend_refs: Vec<BackendRef>,
}

/// `matches[]`: a path prefix, header matches, or both (all must hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRouteMatch {
    /// Path match (none: the Gateway API default, every path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// Header matches (every one must hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderMatch>,
}

/// `headers[]` of a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderMatch {
    /// `Exact` or `RegularExpression`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Header name (case-insensitive in HTTP).
    pub name: String,
    /// The value, or the regular expression.
    pub value: String,
}

/// `path` of a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathMatch {
    /// Always `PathPrefix`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The prefix.
    pub value: String,
}

/// `backendRefs[]`: a Service and its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackendRef {
    /// Service name.
    pub name: String,
    /// Service port.
    pub port: i32,
    /// Relative weight (0..=100 here).
    pub weight: i32,
}
