//! The address a request came from. Behind a reverse proxy the connection is the proxy's, so
//! `X-Forwarded-For` is read, but only from the proxies the council configured
//! (`SAFEGUARD_TRUSTED_PROXIES`): anyone else could write any address there.
use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address
/// in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    from_chain(peer, &forwarded, trusted).to_string()
}

/// The rule itself, apart from the request: walk from the nearest hop outwards while the hop
/// is trusted; the first hop that is not is the client. A hop that is not an address ends the
/// walk at the last trusted one, since nothing beyond it can be believed.
pub fn from_chain(peer: IpAddr, forwarded: &[String], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("a network")).collect()
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies = nets(&["10.0.0.0/24"]);
        let chain = ["203.0.113.7".to_string()];
        assert_eq!(
            from_chain(ip("10.0.0.5"), &chain, &proxies),
            ip("203.0.113.7")
        );
        // A client writing the header itself is not believed.
        assert_eq!(
            from_chain(ip("198.51.100.2"), &chain, &proxies),
            ip("198.51.100.2")
        );
        // Nothing configured: the header means nothing.
        assert_eq!(from_chain(ip("10.0.0.5"), &chain, &[]), ip("10.0.0.5"));
    }

    #[test]
    fn a_forged_hop_before_the_proxy_does_not_count() {
        let proxies = nets(&["10.0.0.5/32", "10.0.1.0/24"]);
        // The client sent "1.2.3.4" itself; the proxy appended the address it saw.
        let chain = ["1.2.3.4, 203.0.113.7".to_string(), "10.0.1.9".to_string()];
        assert_eq!(
            from_chain(ip("10.0.0.5"), &chain, &proxies),
            ip("203.0.113.7")
        );
        let garbled = ["1.2.3.4, not-an-address".to_string()];
        assert_eq!(
            from_chain(ip("10.0.0.5"), &garbled, &proxies),
            ip("10.0.0.5")
        );
    }
}
