//! The address a request comes from, as login throttling and mail limits
//! count it. Usually the peer of the TCP connection. Behind a reverse
//! proxy every peer is the proxy, so when the peer is one of
//! `[server] trusted_proxies`, the address is taken from the
//! `X-Forwarded-For` header the proxy adds: walking it from the right (the
//! hop nearest to us) past every trusted proxy, the first address that is
//! not one is the client. Entries left of it were written by the client
//! itself and are never believed; from an untrusted peer the header is
//! ignored altogether, so no visitor can pose as another address.

use crate::AppState;
use arkiv_services::config::TrustedProxy;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Every connection the server accepts carries its peer
        // (`connections.rs`); a request without one (a test calling the
        // router directly) counts as the unspecified address.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddress(client_of(peer, &parts.headers, &state.repo.config.server.trusted_proxies)))
    }
}

/// The client behind `peer`, given the proxies trusted.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |a: &IpAddr| trusted.iter().any(|p| p.contains(a));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110, 5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(a) if is_trusted(&a) => client = a,
            Some(a) => return a,
            // What a trusted proxy wrote is not an address: the last
            // address we could believe is the best we know.
            None => return client,
        }
    }
    client
}

/// An address as proxies write it: bare, or with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        let trusted: Vec<TrustedProxy> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        client_of(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        assert_eq!(client("203.0.113.9", &["198.51.100.7"], &[]), "203.0.113.9");
        assert_eq!(client("203.0.113.9", &["198.51.100.7"], &["10.0.0.0/8"]), "203.0.113.9");
        assert_eq!(client("10.0.0.2", &["198.51.100.7"], &["10.0.0.0/8"]), "198.51.100.7");
        assert_eq!(client("10.0.0.2", &[], &["10.0.0.0/8"]), "10.0.0.2");
    }

    #[test]
    fn what_the_client_wrote_itself_is_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended
        // the real peer.
        assert_eq!(client("10.0.0.2", &["1.1.1.1, 198.51.100.7"], &["10.0.0.0/8"]), "198.51.100.7");
        assert_eq!(client("10.0.0.2", &["1.1.1.1", "198.51.100.7"], &["10.0.0.0/8"]), "198.51.100.7");
        // Two proxies of ours in a row.
        assert_eq!(client("10.0.0.2", &["1.1.1.1, 198.51.100.7, 10.0.0.3"], &["10.0.0.0/8"]), "198.51.100.7");
        assert_eq!(client("10.0.0.2", &["198.51.100.7:5555"], &["10.0.0.0/8"]), "198.51.100.7");
        assert_eq!(client("10.0.0.2", &["[2001:db8::1]:443"], &["10.0.0.0/8"]), "2001:db8::1");
        assert_eq!(client("10.0.0.2", &["nonsense, 10.0.0.3"], &["10.0.0.0/8"]), "10.0.0.3");
    }
}
