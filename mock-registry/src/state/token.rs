//! Registry passwords from GetAuthorizationToken. Shaped like ECR's (base64 JSON with `payload`,
//! `datakey`, `version`, `type`, `expiration`), but self-verifying: the payload names the account,
//! region and expiry, and `datakey` is an HMAC over it with the lab's secret, so the registry can
//! check a password without a lookup, and it stays valid across restarts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Caller, RegistryKey};
use crate::types::{AccountId, Millis, Region};

/// A token lasts 12 hours on the lab clock.
pub const TOKEN_LIFETIME_SECONDS: i64 = 12 * 3600;

#[derive(Serialize, Deserialize)]
struct Envelope {
    payload: String,
    datakey: String,
    version: String,
    #[serde(rename = "type")]
    kind: String,
    expiration: i64,
}

/// What a registry password says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub account: AccountId,
    pub region: Region,
    #[serde(rename = "accessKeyId")]
    pub access_key_id: String,
    #[serde(rename = "expiresAt")]
    pub expires_at: Millis,
}

/// An issued token: `authorizationToken` = base64(`AWS:` + password).
#[derive(Debug, Clone)]
pub struct AuthorizationToken {
    pub password: String,
    pub expires_at: Millis,
    pub registry: RegistryKey,
}

impl AuthorizationToken {
    pub fn authorization_token(&self) -> String {
        B64.encode(format!("AWS:{}", self.password))
    }
    /// `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub fn proxy_endpoint(&self) -> String {
        format!("https://{}", self.registry.host())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a password this lab issued (garbled, forged, or from another lab).
    Invalid,
    /// Issued in another region than the registry it was sent to.
    WrongRegistry,
    Expired,
}

/// A token for `caller` (12 hours, or less: never past `not_after`, the end of the caller's session).
pub fn issue(
    secret: &[u8],
    caller: &Caller,
    registry: RegistryKey,
    now: Millis,
    not_after: Option<Millis>,
) -> AuthorizationToken {
    let full = now.plus_seconds(TOKEN_LIFETIME_SECONDS);
    let expires_at = not_after.map_or(full, |end| end.min(full));
    let claims = TokenClaims {
        account: registry.account.clone(),
        region: registry.region.clone(),
        access_key_id: caller.access_key_id.clone(),
        expires_at,
    };
    let payload = B64.encode(serde_json::to_vec(&claims).expect("claims serialize"));
    let envelope = Envelope {
        datakey: B64.encode(mac(secret, &payload)),
        payload,
        version: "2".into(),
        kind: "DATA_KEY".into(),
        expiration: expires_at.0 / 1000,
    };
    let password = B64.encode(serde_json::to_vec(&envelope).expect("envelope serializes"));
    AuthorizationToken { password, expires_at, registry }
}

/// Checks a password sent to `registry` at lab time `now`. A token stands for its principal in its
/// region: any account's registry there accepts it (what the principal may do there is IAM's to
/// decide, at each push and pull), another region's does not ("can be used to access any Amazon
/// ECR registry that your IAM principal has access to", GetAuthorizationToken's reference).
pub fn verify(secret: &[u8], password: &str, registry: &RegistryKey, now: Millis) -> Result<TokenClaims, TokenError> {
    let claims = claims_of(secret, password)?;
    if claims.region != registry.region {
        return Err(TokenError::WrongRegistry);
    }
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// What a password this lab issued says (its signature checked; its registry and expiry not).
pub fn claims_of(secret: &[u8], password: &str) -> Result<TokenClaims, TokenError> {
    let envelope: Envelope = B64
        .decode(password.trim())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(TokenError::Invalid)?;
    let datakey = B64.decode(&envelope.datakey).map_err(|_| TokenError::Invalid)?;
    let mut check = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    check.update(envelope.payload.as_bytes());
    check.verify_slice(&datakey).map_err(|_| TokenError::Invalid)?;
    let claims: TokenClaims = B64
        .decode(&envelope.payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(TokenError::Invalid)?;
    Ok(claims)
}

/// How long a GetDownloadUrlForLayer URL works (lab clock), like a presigned S3 URL.
pub const DOWNLOAD_URL_SECONDS: i64 = 3600;

/// The signature of a layer download URL's path and expiry.
pub fn sign_download(secret: &[u8], path: &str, expires: i64) -> String {
    hex::encode(mac(secret, &format!("{path}?{expires}")))
}

pub fn verify_download(secret: &[u8], path: &str, expires: i64, signature: &str, now: Millis) -> bool {
    let expected = sign_download(secret, path, expires);
    crate::types::constant_time_eq(expected.as_bytes(), signature.as_bytes()) && now.0 / 1000 < expires
}

fn mac(secret: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AccessKey;

    #[test]
    fn tokens_look_like_ecr_and_verify_for_their_registry_only() {
        let key = AccessKey::lab_default();
        let region = Region::parse("ap-south-1").unwrap();
        let caller = key.caller(region.clone());
        let registry = RegistryKey::new(key.account.clone(), region);
        let token = issue(b"secret", &caller, registry.clone(), Millis(1_000_000), None);
        assert!(
            token.authorization_token().starts_with("QVdTOmV5SndZWGxzYjJGa0lqb2"),
            "{}",
            token.authorization_token()
        );
        assert_eq!(token.expires_at, Millis(1_000_000 + 12 * 3600 * 1000));
        assert!(verify(b"secret", &token.password, &registry, Millis(1_000_001)).is_ok());
        assert_eq!(verify(b"other", &token.password, &registry, Millis(1_000_001)), Err(TokenError::Invalid));
        assert_eq!(verify(b"secret", &token.password, &registry, token.expires_at), Err(TokenError::Expired));
        let elsewhere = RegistryKey::new(key.account.clone(), Region::parse("us-east-1").unwrap());
        assert_eq!(verify(b"secret", &token.password, &elsewhere, Millis(1)), Err(TokenError::WrongRegistry));
        assert_eq!(verify(b"secret", "garbage", &registry, Millis(1)), Err(TokenError::Invalid));
        // Another account's registry in the same region reads it (IAM decides there).
        let other = RegistryKey::new(AccountId::parse("111122223333").unwrap(), registry.region.clone());
        assert!(verify(b"secret", &token.password, &other, Millis(1_000_001)).is_ok());
        // A session's token ends with the session.
        let session = issue(b"secret", &caller, registry.clone(), Millis(1_000_000), Some(Millis(2_000_000)));
        assert_eq!(session.expires_at, Millis(2_000_000));
        assert_eq!(verify(b"secret", &session.password, &registry, Millis(2_000_000)), Err(TokenError::Expired));
    }
}
