//! Fetches the media an API client names by URL (`"media": [{"url":
//! "https://…"}]`) into the media store — without becoming a way into the
//! contact center's network.
//!
//! Only `https` URLs of hosts on `[media] fetch_hosts` are fetched. The
//! host is resolved here, every address it resolves to must be public (no
//! loopback, private, link-local, CGNAT, multicast, documentation or
//! reserved range, in IPv4 or IPv6, nor one hidden in an IPv4-mapped,
//! NAT64 or 6to4 address), and the connection goes to the address that was
//! checked, so a DNS answer that changes between check and use (rebinding)
//! cannot redirect it. Redirects are followed at most three times, each
//! target checked the same way. The body is bounded by `[media]
//! max_bytes` as it streams, the whole fetch by `[media] fetch_timeout`,
//! and the bytes pass the media store's type check like an upload.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use super::{MediaError, MediaInfo, MediaStore};

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 3;

/// Why a URL was not fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not `https://host[:port]/path`.
    #[error("{0:?} is not an https URL")]
    NotHttps(String),
    /// The host is not on the allow-list.
    #[error("host {0:?} is not in [media] fetch_hosts")]
    HostNotAllowed(String),
    /// The host resolves to an internal address.
    #[error("host {0:?} resolves to {1}, which is not a public address")]
    PrivateAddress(String, IpAddr),
    /// The host does not resolve.
    #[error("host {0:?} does not resolve: {1}")]
    Resolve(String, String),
    /// Connection, TLS or HTTP failed.
    #[error("fetching {0:?} failed: {1}")]
    Transfer(String, String),
    /// The server answered something other than 200 (or a redirect).
    #[error("{0:?} answered HTTP {1}")]
    Status(String, u16),
    /// More redirects than allowed.
    #[error("more than {MAX_REDIRECTS} redirects from {0:?}")]
    TooManyRedirects(String),
    /// Over `fetch_timeout`.
    #[error("fetching took longer than {0:?}")]
    Timeout(Duration),
    /// The bytes were refused by the store.
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// Which addresses may be connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Public addresses only (production).
    PublicOnly,
    /// Public addresses and loopback (tests, with their own TLS server).
    AllowLoopback,
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network"
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 169 && b == 254)              // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    // An IPv4 address inside an IPv6 one: judged as that IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(segments[6], segments[7])); // NAT64
    }
    if segments[0] == 0x2002 {
        return is_public_v4(embedded(segments[1], segments[2])); // 6to4
    }
    let global_unicast = segments[0] & 0xe000 == 0x2000; // 2000::/3
    global_unicast
        && segments[..2] != [0x2001, 0x0db8] // documentation
        && !(segments[0] == 0x2001 && segments[1] < 0x200) // Teredo, ORCHID, benchmarking
}

/// Fetches allowed URLs into the media store.
#[derive(Clone)]
pub struct MediaFetcher {
    hosts: Vec<String>,
    tls: Arc<ClientConfig>,
    policy: AddressPolicy,
    timeout: Duration,
    /// Tests: answers instead of DNS, by host.
    resolved: Option<Arc<std::collections::HashMap<String, IpAddr>>>,
}

/// Where a `Location` header points, from `target`: absolute, scheme-
/// relative (`//host/p`), absolute-path (`/p`) or relative (`p`, against
/// the current path's directory).
fn resolve_location(target: &Target, location: &str) -> String {
    let origin = format!("https://{}:{}", target.host, target.port);
    if location.contains("://") {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("https://{rest}")
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        let path = target.path.split('?').next().unwrap_or("/");
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{origin}{dir}{location}")
    }
}

/// A checked `https` URL.
struct Target {
    host: String,
    port: u16,
    path: String,
}

fn parse_target(url: &str) -> Result<Target, FetchError> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| FetchError::NotHttps(url.to_owned()))?;
    if uri.scheme_str() != Some("https") {
        return Err(FetchError::NotHttps(url.to_owned()));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| FetchError::NotHttps(url.to_owned()))?;
    if authority.as_str().contains('@') {
        return Err(FetchError::NotHttps(url.to_owned()));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Ok(Target {
        host,
        port: authority.port_u16().unwrap_or(443),
        path: uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned()),
    })
}

impl MediaFetcher {
    /// A fetcher for `hosts` (lowercase names), trusting `tls`'s roots.
    pub fn new(hosts: Vec<String>, tls: Arc<ClientConfig>, timeout: Duration) -> MediaFetcher {
        MediaFetcher {
            hosts: hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            tls,
            policy: AddressPolicy::PublicOnly,
            timeout,
            resolved: None,
        }
    }

    /// For tests: another address policy, and fixed answers for hosts.
    pub fn for_tests(
        mut self,
        policy: AddressPolicy,
        resolved: std::collections::HashMap<String, IpAddr>,
    ) -> MediaFetcher {
        self.policy = policy;
        self.resolved = Some(Arc::new(resolved));
        self
    }

    /// Fetches `url` into `store`.
    pub async fn fetch(&self, url: &str, store: &MediaStore) -> Result<MediaInfo, FetchError> {
        match tokio::time::timeout(self.timeout, self.fetch_following(url, store)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(self.timeout)),
        }
    }

    async fn addresses_of(&self, target: &Target) -> Result<Vec<SocketAddr>, FetchError> {
        let addresses: Vec<IpAddr> = match &self.resolved {
            Some(fixed) => fixed.get(&target.host).copied().into_iter().collect(),
            None => match target.host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => tokio::net::lookup_host((target.host.as_str(), target.port))
                    .await
                    .map_err(|e| FetchError::Resolve(target.host.clone(), e.to_string()))?
                    .map(|a| a.ip())
                    .collect(),
            },
        };
        if addresses.is_empty() {
            return Err(FetchError::Resolve(
                target.host.clone(),
                "no address".to_owned(),
            ));
        }
        // Every answer must be acceptable: a mixed answer is a DNS trick.
        for ip in &addresses {
            let allowed =
                is_public(*ip) || (self.policy == AddressPolicy::AllowLoopback && ip.is_loopback());
            if !allowed {
                return Err(FetchError::PrivateAddress(target.host.clone(), *ip));
            }
        }
        Ok(addresses
            .into_iter()
            .map(|ip| SocketAddr::new(ip, target.port))
            .collect())
    }

    async fn fetch_following(
        &self,
        url: &str,
        store: &MediaStore,
    ) -> Result<MediaInfo, FetchError> {
        let mut url = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let target = parse_target(&url)?;
            if !self.hosts.contains(&target.host) {
                return Err(FetchError::HostNotAllowed(target.host));
            }
            let addresses = self.addresses_of(&target).await?;
            let transfer = |e: String| FetchError::Transfer(url.clone(), e);
            // Each checked address in turn (a dual-stack host whose IPv6
            // address is unreachable from here still works).
            let mut connected = Err(transfer("no address".to_owned()));
            for address in addresses {
                match tokio::net::TcpStream::connect(address).await {
                    Ok(tcp) => {
                        connected = Ok(tcp);
                        break;
                    }
                    Err(e) => connected = Err(transfer(e.to_string())),
                }
            }
            let tcp = connected?;
            let name =
                ServerName::try_from(target.host.clone()).map_err(|e| transfer(e.to_string()))?;
            let tls = TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| transfer(e.to_string()))?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| transfer(e.to_string()))?;
            let driver = tokio::spawn(connection);
            let host_header = if target.port == 443 {
                target.host.clone()
            } else {
                format!("{}:{}", target.host, target.port)
            };
            let request = hyper::Request::get(&target.path)
                .header(hyper::header::HOST, host_header)
                .header(hyper::header::USER_AGENT, "carrier-gateway")
                .body(Empty::<Bytes>::new())
                .map_err(|e| transfer(e.to_string()))?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| transfer(e.to_string()))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(hyper::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Status(url.clone(), status.as_u16()))?;
                url = resolve_location(&target, location);
                driver.abort();
                continue;
            }
            if status != hyper::StatusCode::OK {
                driver.abort();
                return Err(FetchError::Status(url, status.as_u16()));
            }
            let declared = response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut writer = store.writer(declared.as_deref())?;
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| transfer(e.to_string()))?;
                if let Ok(data) = frame.into_data() {
                    writer.write(&data)?;
                }
            }
            driver.abort();
            let info = tokio::task::spawn_blocking(move || writer.commit())
                .await
                .map_err(|e| transfer(e.to_string()))??;
            return Ok(info);
        }
        Err(FetchError::TooManyRedirects(url))
    }
}

#[cfg(test)]
mod tests;
