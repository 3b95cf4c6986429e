//! The Host allow-list in front of every route: the mock answers only to names that cannot be
//! rebound by someone else's DNS: `localhost` (and `*.localhost`), IP addresses (the loopback
//! ones, the bound address, any of the machine's addresses when bound to `0.0.0.0`/`::`), and the
//! ECR and STS host names the lab serves (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`,
//! `api.ecr.REGION.amazonaws.com`, ...). A web page on another name that rebinds its DNS to this
//! machine (DNS rebinding) is refused before it reaches the console, the registry or `/_lab/`.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a request whose `Host` is not one of the lab's names with `421 Misdirected Request`.
/// A request without a `Host` (HTTP/1.0, the router driven without a socket) is let through: a
/// browser always sends one.
pub(crate) async fn allowed_host(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if !is_lab_host(&host) => refusal(&host),
        _ => next.run(request).await,
    }
}

fn refusal(host: &str) -> Response {
    let text = format!(
        "ecr-lab mock: refused, the Host header '{host}' is not a name this lab answers to (a web page on \
         another name may be trying to reach it). Nothing was read or changed. Address the lab by IP address \
         (http://127.0.0.1:PORT, or this machine's LAN address), by localhost, or by an ECR host name such as \
         920736617090.dkr.ecr.ap-south-1.amazonaws.com; address it by one of those and try again.\n"
    );
    (StatusCode::MISDIRECTED_REQUEST, text).into_response()
}

/// `host` (with or without `:port`) is loopback, an IP address, or a host name the lab serves.
pub(crate) fn is_lab_host(host: &str) -> bool {
    let name = strip_port(host).to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    if name.starts_with('[') {
        return name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    is_aws_host(name)
}

/// `host:port` or `[v6]:port` without the port.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// ECR's registry and API endpoints and STS's: `ACCOUNT.dkr.ecr.REGION.amazonaws.com`,
/// `api.ecr.REGION.amazonaws.com`, `ecr.REGION.amazonaws.com`, `sts[.REGION].amazonaws.com`
/// (and the `.amazonaws.com.cn` partition).
fn is_aws_host(name: &str) -> bool {
    let Some(rest) = name.strip_suffix(".amazonaws.com").or_else(|| name.strip_suffix(".amazonaws.com.cn")) else {
        return false;
    };
    let labels: Vec<&str> = rest.split('.').collect();
    let label_ok = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !labels.iter().all(|l| label_ok(l)) {
        return false;
    }
    matches!(
        labels.as_slice(),
        [account, "dkr", "ecr", _] if account.bytes().all(|b| b.is_ascii_digit())
    ) || matches!(labels.as_slice(), ["api", "ecr", _] | ["ecr", _] | ["sts"] | ["sts", _])
}

#[cfg(test)]
mod tests {
    use super::is_lab_host;

    #[test]
    fn lab_hosts() {
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "LOCALHOST:1",
            "[::1]:5000",
            "10.0.0.7:5000",
            "111122223333.dkr.ecr.us-east-1.localhost:5000",
            "920736617090.dkr.ecr.ap-south-1.amazonaws.com",
            "api.ecr.eu-west-1.amazonaws.com",
            "sts.amazonaws.com",
            "ecr.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(is_lab_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:5000",
            "127.0.0.1.evil.example",
            "amazonaws.com.evil.example",
            "evil.amazonaws.com",
            "x.dkr.ecr.evil.example",
            "[::1",
            "",
            "s3.amazonaws.com",
        ] {
            assert!(!is_lab_host(host), "{host}");
        }
    }
}
