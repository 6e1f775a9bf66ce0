//! Which addresses the printed share links name, so that a link opens on
//! the laptops it is shared with, not only on the host.
//!
//! - `--public-url URL` wins: the host knows best (a reverse proxy, a DNS
//!   name, a port forward).
//! - Bound to one address, the links name that address.
//! - Bound to every interface (`0.0.0.0` or `::`), there is one link per
//!   address of an interface that is up and not loopback, and one with the
//!   host name; `localhost` only when there is nothing else.

use std::net::{IpAddr, SocketAddr};

/// The bases (`http://host:port`, or the public URL without a trailing
/// slash) the share links are built on, best first.
///
/// `interfaces` are the host's interface addresses (used only when `bound`
/// is unspecified), `host_name` its name if it has one.
pub fn share_bases(
    bound: SocketAddr,
    public_url: Option<&str>,
    interfaces: &[IpAddr],
    host_name: Option<&str>,
) -> Vec<String> {
    if let Some(url) = public_url {
        return vec![url.trim_end_matches('/').to_owned()];
    }
    let port = bound.port();
    let ip = bound.ip();
    if !ip.is_unspecified() {
        return vec![base(&host_of(ip), port)];
    }
    // An IPv4 wildcard accepts only IPv4; `::` takes both on Linux.
    let reachable = |addr: &&IpAddr| {
        !addr.is_loopback()
            && !addr.is_unspecified()
            && !is_link_local(addr)
            && (ip.is_ipv6() || addr.is_ipv4())
    };
    let mut addresses: Vec<IpAddr> = interfaces.iter().filter(reachable).copied().collect();
    // IPv4 first: what people type and what every network routes.
    addresses.sort_by_key(|a| (a.is_ipv6(), *a));
    addresses.dedup();
    let mut bases: Vec<String> = addresses
        .into_iter()
        .map(|a| base(&host_of(a), port))
        .collect();
    if let Some(name) = host_name.filter(|n| is_usable_host_name(n)) {
        bases.push(base(name, port));
    }
    if bases.is_empty() {
        bases.push(base("localhost", port));
    }
    bases
}

/// The host's interface addresses and name, as [`share_bases`] takes them.
pub fn this_host() -> (Vec<IpAddr>, Option<String>) {
    let interfaces = if_addrs::get_if_addrs()
        .map(|list| {
            list.into_iter()
                .filter(|i| i.is_oper_up() || i.oper_status == if_addrs::IfOperStatus::Unknown)
                .map(|i| i.ip())
                .collect()
        })
        .unwrap_or_default();
    #[cfg(unix)]
    let name = rustix::system::uname()
        .nodename()
        .to_str()
        .ok()
        .map(str::to_owned);
    #[cfg(not(unix))]
    let name = None;
    (interfaces, name)
}

fn base(host: &str, port: u16) -> String {
    format!("http://{host}:{port}")
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        // fe80::/10 needs a zone id that a browser address bar cannot take.
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// A name another machine could resolve: not empty, not `localhost`, only
/// the characters of a DNS name.
fn is_usable_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.eq_ignore_ascii_case("localhost")
        && !name.starts_with("localhost.")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn all_interfaces_get_one_link_per_reachable_address_and_the_host_name() {
        let interfaces = ips(&[
            "127.0.0.1",
            "192.168.1.20",
            "10.0.0.5",
            "169.254.3.4",
            "::1",
            "fe80::1",
            "2001:db8::7",
        ]);
        assert_eq!(
            share_bases(addr("0.0.0.0:8787"), None, &interfaces, Some("studio")),
            [
                "http://10.0.0.5:8787",
                "http://192.168.1.20:8787",
                "http://studio:8787"
            ]
        );
        assert_eq!(
            share_bases(addr("[::]:8787"), None, &interfaces, None),
            [
                "http://10.0.0.5:8787",
                "http://192.168.1.20:8787",
                "http://[2001:db8::7]:8787"
            ]
        );
    }

    #[test]
    fn localhost_only_when_nothing_else_exists() {
        let only_loopback = ips(&["127.0.0.1", "::1"]);
        for name in [None, Some("localhost"), Some("")] {
            assert_eq!(
                share_bases(addr("0.0.0.0:9000"), None, &only_loopback, name),
                ["http://localhost:9000"]
            );
        }
    }

    #[test]
    fn a_specific_address_or_a_public_url_is_used_as_given() {
        let interfaces = ips(&["192.168.1.20"]);
        assert_eq!(
            share_bases(addr("192.168.1.20:8787"), None, &interfaces, Some("h")),
            ["http://192.168.1.20:8787"]
        );
        assert_eq!(
            share_bases(addr("127.0.0.1:8787"), None, &interfaces, Some("h")),
            ["http://127.0.0.1:8787"]
        );
        assert_eq!(
            share_bases(
                addr("0.0.0.0:8787"),
                Some("https://rooms.example.org/"),
                &interfaces,
                Some("h")
            ),
            ["https://rooms.example.org"]
        );
    }
}
