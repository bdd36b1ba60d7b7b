//! The adapter's error type.

use release::ObjectRef;

/// Everything that can go wrong talking to a cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig, context or in-cluster configuration cannot be used.
    #[error("cannot configure cluster {cluster}: {message}")]
    Config {
        /// Cluster name.
        cluster: String,
        /// What went wrong.
        message: String,
    },
    /// A cluster address the adapter does not know how to reach.
    #[error("cluster {cluster} has an unsupported address {address:?}")]
    Address {
        /// Cluster name.
        cluster: String,
        /// The address from the platform config.
        address: String,
    },
    /// The cluster did not answer within the request timeout.
    #[error("cluster {cluster} did not answer within {seconds} s")]
    Timeout {
        /// Cluster name.
        cluster: String,
        /// The timeout.
        seconds: u64,
    },
    /// The API server answered with an error or the connection failed.
    #[error("cluster {cluster}: {source}")]
    Kube {
        /// Cluster name.
        cluster: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// An object the adapter was given cannot be sent (no name, bad kind).
    #[error("cluster {cluster}: object {object} is not valid: {message}")]
    BadObject {
        /// Cluster name.
        cluster: String,
        /// The object.
        object: Box<ObjectRef>,
        /// What is wrong.
        message: String,
    },
    /// A stored record or its manifests cannot be read back.
    #[error("cluster {cluster}: release record {name} is damaged: {message}")]
    Record {
        /// Cluster name.
        cluster: String,
        /// `<svc>-v<N>`.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The CRD was created but never became Established.
    #[error("cluster {cluster}: the Release CRD is not established")]
    NotEstablished {
        /// Cluster name.
        cluster: String,
    },
    /// No cluster of that name is connected.
    #[error("no connection to cluster {cluster}")]
    UnknownCluster {
        /// Cluster name.
        cluster: String,
    },
    /// The release given to the driver is not valid.
    #[error("release: {0}")]
    Release(#[from] release::Error),
}

impl Error {
    /// Whether the error means the cluster could not be reached (as opposed
    /// to a refusal by a cluster that answered).
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::Kube { source, .. } => match source {
                kube::Error::Api(status) => status.code == 503,
                kube::Error::HyperError(_)
                | kube::Error::Service(_)
                | kube::Error::HttpError(_) => true,
                _ => false,
            },
            _ => false,
        }
    }

    /// The HTTP status code of an API error, if the server answered with one.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::Kube {
                source: kube::Error::Api(status),
                ..
            } => Some(status.code),
            _ => None,
        }
    }
}

/// The adapter's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
