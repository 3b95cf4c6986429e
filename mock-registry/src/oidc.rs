//! The lab's OpenID Connect issuer: the identity provider a CI job would get its token from.
//! `ecr-lab oidc token` mints a signed JWT (through the control API), the mock serves the issuer's
//! discovery document and JWKS, and STS `AssumeRoleWithWebIdentity` verifies a token here.
//!
//! The signing key is Ed25519 (JWT `alg: EdDSA`), derived from the lab's token secret, so it is the
//! same for a data directory across restarts and needs no journal record of its own. Times are
//! the lab clock's, so `ecr-lab clock advance` expires tokens as it expires sessions.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, KeyInit, Mac};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::types::Millis;

/// The issuer (`iss`) of every lab token; its host names the provider in IAM
/// (`arn:aws:iam::ACCOUNT:oidc-provider/oidc.ecr-lab.localhost`) and in trust-policy condition keys
/// (`oidc.ecr-lab.localhost:sub`). `.localhost` is reserved: it can never be a real provider.
pub const ISSUER: &str = "https://oidc.ecr-lab.localhost";
pub const PROVIDER: &str = "oidc.ecr-lab.localhost";
/// The audience the lab's provider is registered for (its client ID list), as for GitHub Actions.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// How long a token lasts unless `--expires-in` says otherwise (GitHub's are 5 minutes; a lab
/// learner needs longer to read one).
pub const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
const KEY_ID: &str = "ecr-lab-1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Why STS refuses a web identity token, with its code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Not a JWT, or its signature is not the lab issuer's.
    Invalid,
    /// Issued by someone else than the lab's provider.
    UnknownIssuer(String),
    /// `aud` is not the provider's registered client id.
    Audience,
    /// `exp` has passed on the lab clock.
    Expired { now: i64, exp: i64 },
}

impl TokenRefusal {
    /// STS's (code, message). Captured: `Incorrect token audience` (gh:awslabs/amazon-eks-irsa-cfn#18),
    /// `Token expired: current date/time ... must be before the expiration date/time ...`
    /// (gh:aws/aws-sdk-java-v2#5709), `No OpenIDConnect provider found in your account for ISSUER`;
    /// a token STS cannot validate gets the API reference's InvalidIdentityToken text.
    pub fn code_and_message(&self) -> (&'static str, String) {
        match self {
            Self::Invalid => (
                "InvalidIdentityToken",
                "The web identity token that was passed could not be validated by AWS. Get a new identity token from \
                 the identity provider and then retry the request."
                    .into(),
            ),
            Self::UnknownIssuer(issuer) => {
                ("InvalidIdentityToken", format!("No OpenIDConnect provider found in your account for {issuer}"))
            }
            Self::Audience => ("InvalidIdentityToken", "Incorrect token audience".into()),
            Self::Expired { now, exp } => (
                "ExpiredTokenException",
                format!("Token expired: current date/time {now} must be before the expiration date/time {exp}"),
            ),
        }
    }
}

fn key_pair(secret: &[u8]) -> Ed25519KeyPair {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(b"ecr-lab oidc issuer signing key");
    let seed = mac.finalize().into_bytes();
    Ed25519KeyPair::from_seed_unchecked(&seed).expect("a 32-byte seed is an Ed25519 key")
}

/// A signed token for `sub` and `aud`, issued at lab time `now`, expiring `lifetime` seconds later.
pub fn mint(secret: &[u8], sub: &str, aud: &str, now: Millis, lifetime: i64) -> (String, Claims) {
    let iat = now.0 / 1000;
    let claims = Claims { iss: ISSUER.into(), sub: sub.into(), aud: aud.into(), iat, nbf: iat, exp: iat + lifetime };
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": KEY_ID });
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(serde_json::to_vec(&claims).expect("claims serialize"))
    );
    let signature = key_pair(secret).sign(signing_input.as_bytes());
    (format!("{signing_input}.{}", B64URL.encode(signature.as_ref())), claims)
}

/// Checks a token's signature, issuer, audience and expiry (lab time `now`).
pub fn verify(secret: &[u8], token: &str, now: Millis) -> Result<Claims, TokenRefusal> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenRefusal::Invalid);
    };
    let claims: Claims =
        B64URL.decode(payload).ok().and_then(|json| serde_json::from_slice(&json).ok()).ok_or(TokenRefusal::Invalid)?;
    if claims.iss != ISSUER {
        return Err(TokenRefusal::UnknownIssuer(claims.iss));
    }
    let signature = B64URL.decode(signature).map_err(|_| TokenRefusal::Invalid)?;
    let public = key_pair(secret);
    UnparsedPublicKey::new(&ED25519, public.public_key().as_ref())
        .verify(format!("{header}.{payload}").as_bytes(), &signature)
        .map_err(|_| TokenRefusal::Invalid)?;
    if claims.aud != AUDIENCE {
        return Err(TokenRefusal::Audience);
    }
    let now = now.0 / 1000;
    if now >= claims.exp {
        return Err(TokenRefusal::Expired { now, exp: claims.exp });
    }
    Ok(claims)
}

/// The issuer's JSON Web Key Set (`/.well-known/jwks.json`).
pub fn jwks(secret: &[u8]) -> serde_json::Value {
    let public = B64URL.encode(key_pair(secret).public_key().as_ref());
    serde_json::json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": KEY_ID, "x": public }] })
}

/// The discovery document (`/.well-known/openid-configuration`); `base` is the mock's own URL.
pub fn discovery(base: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": ISSUER,
        "jwks_uri": format!("{}/.well-known/jwks.json", base.trim_end_matches('/')),
        "subject_types_supported": ["public"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "nbf"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "scopes_supported": ["openid"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_nothing_else_does() {
        let now = Millis(1_700_000_000_000);
        let (token, claims) = mint(b"secret", "repo:org/app:ref:refs/heads/main", AUDIENCE, now, 600);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(b"secret", &token, now), Ok(claims.clone()));
        assert_eq!(verify(b"other lab", &token, now), Err(TokenRefusal::Invalid));
        let later = now.plus_seconds(600);
        assert_eq!(verify(b"secret", &token, later), Err(TokenRefusal::Expired { now: claims.exp, exp: claims.exp }));
        let (wrong_aud, _) = mint(b"secret", "x", "someone-else", now, 600);
        assert_eq!(verify(b"secret", &wrong_aud, now), Err(TokenRefusal::Audience));
        // A payload edited after signing (another branch) fails the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims.clone();
        forged.sub = "repo:org/app:ref:refs/heads/evil".into();
        let forged = format!("{}.{}.{}", parts[0], B64URL.encode(serde_json::to_vec(&forged).unwrap()), parts[2]);
        assert_eq!(verify(b"secret", &forged, now), Err(TokenRefusal::Invalid));
        assert_eq!(verify(b"secret", "not-a-jwt", now), Err(TokenRefusal::Invalid));
        let jwks = jwks(b"secret");
        assert_eq!(jwks["keys"][0]["x"].as_str().unwrap().len(), 43, "32 bytes, base64url");
    }
}
