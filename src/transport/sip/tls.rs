//! TLS for a SIP trunk, both ways, with rustls (ring): our connection to
//! the trunk verifies its certificate (`tls_ca_file`, or the system's
//! roots) for the carrier's `host`; the trunk's connections to `listen`
//! are served with `tls_cert_file` and `tls_key_file`.

use std::sync::Arc;

use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::SipLinkConfig;

/// What TLS needs, loaded once at start.
#[derive(Clone)]
pub struct SipTls {
    /// Serves the trunk's connections.
    pub acceptor: TlsAcceptor,
    /// Connects to the trunk.
    pub connector: TlsConnector,
    /// The name the trunk's certificate must carry.
    pub server_name: ServerName<'static>,
}

/// Loads the carrier's certificate, key and trust.
///
/// # Errors
/// A file is unreadable or holds no certificate or key, or `host` is not a
/// valid server name.
pub fn load(carrier: &SipLinkConfig) -> Result<SipTls, String> {
    let (Some(cert_file), Some(key_file)) = (&carrier.tls_cert_file, &carrier.tls_key_file) else {
        return Err("TLS needs tls_cert_file and tls_key_file".to_owned());
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("{}: {e}", cert_file.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert_file.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in it", cert_file.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", cert_file.display()))?;
    let client = crate::tls::client_config(carrier.tls_ca_file.as_deref())?;
    let server_name = ServerName::try_from(carrier.host.clone())
        .map_err(|e| format!("host {:?}: {e}", carrier.host))?;
    Ok(SipTls {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        connector: TlsConnector::from(client),
        server_name,
    })
}
