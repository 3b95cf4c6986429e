//! Who may use the registry, ECR's way: Basic `AWS:<password>` from GetAuthorizationToken, valid in
//! the token's region (any account's registry there: IAM then decides each push and pull) until its
//! expiry on the lab clock. The `Host` decides which
//! registry is meant; a bare `127.0.0.1:PORT` means the lab's default account and region.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::error::OciError;
use crate::Lab;
use crate::state::token::{self, TokenError};
use crate::state::{DEFAULT_ACCOUNT, DEFAULT_REGION, RegistryKey};
use crate::types::{AccountId, Region};

/// The registry a registry request is for: the one its `Host` names; for a bare address
/// (`IP:PORT`, `localhost:PORT`) the registry of the token it presents (a real docker engine
/// addressing a class server by IP), else the lab's default registry.
pub fn registry_for_request(lab: &Lab, headers: &HeaderMap) -> RegistryKey {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if let Some(registry) = parse_registry_host(host) {
        return registry;
    }
    let presented = basic_password(headers)
        .and_then(|password| lab.read(|state| token::claims_of(state.token_secret(), &password).ok()));
    match presented {
        Some(claims) => RegistryKey::new(claims.account, claims.region),
        None => default_registry(),
    }
}

/// The password of `Authorization: Basic base64(AWS:PASSWORD)`.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let encoded = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (user == "AWS").then(|| password.to_owned())
}

pub fn default_registry() -> RegistryKey {
    RegistryKey::new(
        AccountId::parse(DEFAULT_ACCOUNT).expect("default account"),
        Region::parse(DEFAULT_REGION).expect("default region"),
    )
}

fn parse_registry_host(host: &str) -> Option<RegistryKey> {
    let host = host
        .rsplit_once(':')
        .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host });
    let mut labels = host.split('.');
    let account = AccountId::parse(labels.next()?).ok()?;
    if labels.next()? != "dkr" || !matches!(labels.next()?, "ecr" | "ecr-fips") {
        return None;
    }
    let region = Region::parse(labels.next()?).ok()?;
    Some(RegistryKey::new(account, region))
}

/// Checks the request's credentials for `registry`; the access key the token stands for.
pub fn authorize(lab: &Lab, headers: &HeaderMap, registry: &RegistryKey) -> Result<String, OciError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(OciError::challenge(registry));
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Err(OciError::challenge(registry));
    };
    let decoded =
        B64.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok()).ok_or(OciError::BadCredentials)?;
    let (user, password) = decoded.split_once(':').ok_or(OciError::BadCredentials)?;
    if user.is_empty() && password.is_empty() {
        // `Basic Og==`: podman and skopeo with no login send empty credentials. ECR treats them as
        // none (podman reports `unauthorized: authentication required`, containers/podman#12620).
        return Err(OciError::challenge(registry));
    }
    if user != "AWS" {
        return Err(OciError::BadCredentials);
    }
    lab.read(|state| {
        let now = state.now_for(&registry.account);
        let claims = match lab.cached_token(encoded) {
            Some(claims) => claims,
            None => {
                let claims = token::verify(state.token_secret(), password, registry, now).map_err(|e| match e {
                    TokenError::Expired => OciError::expired(),
                    TokenError::Invalid | TokenError::WrongRegistry => OciError::BadCredentials,
                })?;
                lab.cache_token(encoded, claims.clone());
                claims
            }
        };
        if claims.region != registry.region {
            return Err(OciError::BadCredentials);
        }
        if now >= claims.expires_at {
            return Err(OciError::expired());
        }
        match state.key(&claims.access_key_id) {
            Some(key) if key.revoked => Err(OciError::BadCredentials),
            // A class: a token is for its own key's account only (no resource-based policies here).
            Some(key) if lab.class().is_some() && key.account != registry.account => Err(OciError::BadCredentials),
            Some(key) if key.expires_at.is_some_and(|at| now >= at) => Err(OciError::expired()),
            Some(key) => Ok(key.access_key_id.clone()),
            None => Err(OciError::BadCredentials),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_their_registry() {
        let key = parse_registry_host("920736617090.dkr.ecr.ap-south-1.amazonaws.com").unwrap();
        assert_eq!((key.account.as_str(), key.region.as_str()), ("920736617090", "ap-south-1"));
        let key = parse_registry_host("111122223333.dkr.ecr.us-east-1.localhost:5000").unwrap();
        assert_eq!((key.account.as_str(), key.region.as_str()), ("111122223333", "us-east-1"));
        assert!(parse_registry_host("127.0.0.1:5000").is_none());
        assert!(parse_registry_host("localhost").is_none());
    }
}
