//! TLS client configuration: rustls with the ring provider.
//!
//! Roots come from `VAULT_CACERT` when set (only that bundle is trusted),
//! otherwise from the system bundle of the base image (Debian, Alpine, RHEL
//! and SUSE locations). There is deliberately no "skip verify" switch.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::Error;
use crate::host::Host;

/// Where base images keep the system CA bundle.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// Builds the client configuration.
pub fn client_config(
    host: &dyn Host,
    cacert: Option<&Path>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    match cacert {
        Some(path) => {
            let pem = host.read_file(path).map_err(|source| Error::ReadFile {
                path: path.to_owned(),
                source,
            })?;
            let added = add_pem(&mut roots, &pem);
            if added == 0 {
                return Err(Error::Config(format!(
                    "VAULT_CACERT {} holds no usable certificate",
                    path.display()
                )));
            }
        }
        None => {
            for bundle in SYSTEM_BUNDLES {
                if let Ok(pem) = host.read_file(Path::new(bundle))
                    && add_pem(&mut roots, &pem) > 0
                {
                    break;
                }
            }
            if roots.is_empty() {
                return Err(Error::Config(
                    "https address but no system CA bundle found; set VAULT_CACERT".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("tls: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn add_pem(roots: &mut rustls::RootCertStore, pem: &[u8]) -> usize {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    added
}
