//! TLS to an SMSC with rustls (`crate::tls`): the system's root
//! certificates, or the CA certificates of the carrier's `tls_ca_file`.

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use super::SmppLinkConfig;

/// Performs the TLS handshake over an open TCP connection.
pub(super) async fn connect(
    carrier: &SmppLinkConfig,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, String> {
    let config = crate::tls::client_config(carrier.tls_ca_file.as_deref())?;
    let name = ServerName::try_from(carrier.host.clone()).map_err(|e| e.to_string())?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())
}
