//! Who is calling: parses a SigV4 `Authorization` header, finds the access key, recomputes the
//! signature over the request exactly as AWS does, and yields the caller's account and the region
//! of the credential scope. Protocol-neutral: each API maps [`AuthError`] to its own codes.

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Method};
use sha2::{Digest as _, Sha256};

use crate::clock::{format_amz_date, parse_amz_date};
use crate::state::{AccessKey, Caller};
use crate::types::{Millis, Region, constant_time_eq};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's `X-Amz-Date` may be from the server's wall clock, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header at all.
    Missing,
    /// The header is there but not a SigV4 header we can read.
    Malformed(String),
    /// The access key id is not one the service knows (or it was revoked).
    UnknownKey,
    /// The signature does not match (wrong secret, or a tampered request).
    SignatureMismatch,
    /// Signed for another service's scope.
    WrongService { expected: &'static str },
    /// `X-Amz-Date` too far from now: the AWS text names both times.
    Skewed { request: String, server: String },
    /// Temporary credentials whose time is up.
    ExpiredToken,
}

/// The parts of a request that SigV4 covers.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

struct Credential<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

/// Authenticates a request for `service` (`ecr`, `sts`). `lookup` finds a key by id; `now` is the
/// lab clock (for session expiry); `wall_seconds` the real clock (for skew).
pub fn authenticate<'k>(
    request: &SignedRequest<'_>,
    service: &'static str,
    lookup: impl Fn(&str) -> Option<&'k AccessKey>,
    now: Millis,
    wall_seconds: i64,
) -> Result<Caller, AuthError> {
    let header = request.headers.get(http::header::AUTHORIZATION).ok_or(AuthError::Missing)?;
    let header = header.to_str().map_err(|_| AuthError::Malformed("Authorization header is not ASCII".into()))?;
    let rest = header
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| AuthError::Malformed("Authorization header requires the AWS4-HMAC-SHA256 algorithm".into()))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) =
            part.trim().split_once('=').ok_or_else(|| AuthError::Malformed(format!("bad field '{part}'")))?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let missing = |what: &str| AuthError::Malformed(format!("Authorization header requires '{what}' parameter"));
    let credential = parse_credential(credential.ok_or_else(|| missing("Credential"))?)?;
    let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    require_signed(request.headers, signed_headers)?;

    let key = lookup(credential.access_key_id).filter(|k| !k.revoked).ok_or(AuthError::UnknownKey)?;
    if let Some(token) = &key.session_token {
        let sent = request.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
        if sent != Some(token.as_str()) {
            return Err(AuthError::UnknownKey);
        }
    }
    let amz_date = header_str(request.headers, "x-amz-date").ok_or_else(|| missing("X-Amz-Date"))?;
    if !amz_date.starts_with(credential.date) {
        return Err(AuthError::SignatureMismatch);
    }
    let expected = signature_for(request, signed_headers, amz_date, &credential, &key.secret_access_key)?;
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(AuthError::SignatureMismatch);
    }
    if credential.service != service {
        return Err(AuthError::WrongService { expected: service });
    }
    let request_seconds =
        parse_amz_date(amz_date).ok_or_else(|| AuthError::Malformed(format!("bad X-Amz-Date '{amz_date}'")))?;
    if (request_seconds - wall_seconds).abs() > MAX_SKEW_SECONDS {
        return Err(AuthError::Skewed { request: amz_date.to_owned(), server: format_amz_date(wall_seconds) });
    }
    if key.expires_at.is_some_and(|at| now >= at) {
        return Err(AuthError::ExpiredToken);
    }
    let region = Region::parse(credential.region).map_err(|e| AuthError::Malformed(e.0))?;
    Ok(key.caller(region))
}

/// The headers a signature must cover, as AWS requires: `host` always (AWS's own text), and the
/// `x-amz-date` and `x-amz-target` a request carries, since they say when and which operation: a
/// request that leaves either out could be replayed later or as another operation.
fn require_signed(headers: &HeaderMap, signed_headers: &str) -> Result<(), AuthError> {
    let signed = |name: &str| signed_headers.split(';').any(|h| h.eq_ignore_ascii_case(name));
    if !signed("host") {
        return Err(AuthError::Malformed(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    for (name, shown) in [("x-amz-date", "X-Amz-Date"), ("x-amz-target", "X-Amz-Target")] {
        if headers.contains_key(name) && !signed(name) {
            return Err(AuthError::Malformed(format!("'{shown}' must be a 'SignedHeader' in the AWS Authorization.")));
        }
    }
    Ok(())
}

fn parse_credential(text: &str) -> Result<Credential<'_>, AuthError> {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [access_key_id, date, region, service, "aws4_request"] => {
            Ok(Credential { access_key_id, date, region, service })
        }
        _ => Err(AuthError::Malformed(format!("Credential should be scoped to a valid region, not '{text}'"))),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The hex signature AWS would compute for this request with `secret`.
fn signature_for(
    request: &SignedRequest<'_>,
    signed_headers: &str,
    amz_date: &str,
    credential: &Credential<'_>,
    secret: &str,
) -> Result<String, AuthError> {
    let canonical = canonical_request(request, signed_headers)?;
    let scope = format!("{}/{}/{}/aws4_request", credential.date, credential.region, credential.service);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let key = signing_key(secret, credential.date, credential.region, credential.service);
    Ok(hex(&hmac(&key, string_to_sign.as_bytes())))
}

/// The scope's signing key: four HMACs that come out the same for every request a key signs that
/// day, in that region, for that service. Each thread keeps the last one it derived (a server's
/// workers see the same few keys over and over).
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    struct Derived {
        scope: [String; 4],
        key: [u8; 32],
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<Derived>> = const { std::cell::RefCell::new(None) };
    }
    let parts = [secret, date, region, service];
    LAST.with_borrow_mut(|last| {
        if let Some(derived) = last.as_ref().filter(|d| d.scope.iter().zip(parts).all(|(a, b)| a == b)) {
            return derived.key;
        }
        let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        for part in [region, service, "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        *last = Some(Derived { scope: parts.map(str::to_owned), key });
        key
    })
}

/// Lower-case hex (what SigV4 signs and compares), without `hex::encode`'s char-by-char collect.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(byte >> 4)], DIGITS[usize::from(byte & 15)]]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

fn canonical_request(request: &SignedRequest<'_>, signed_headers: &str) -> Result<String, AuthError> {
    let mut canonical =
        format!("{}\n{}\n{}\n", request.method, canonical_uri(request.path), canonical_query(request.query));
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")))
            .collect::<Result<_, _>>()
            .map_err(|_| AuthError::SignatureMismatch)?;
        if values.is_empty() {
            return Err(AuthError::SignatureMismatch);
        }
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // The body's own hash, never the client's `x-amz-content-sha256`: a signature then covers exactly
    // the bytes received, so a captured request cannot be replayed with another body.
    let payload_hash = hex(&Sha256::digest(request.body));
    canonical.push_str(&format!("\n{signed_headers}\n{payload_hash}"));
    Ok(canonical)
}

/// Each path segment URI-encoded (the SDKs encode the already-encoded path once more).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/').map(|segment| uri_encode(segment, false)).collect::<Vec<_>>().join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode =
                |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (uri_encode(&decode(k), true), uri_encode(&decode(v), true))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Signs requests the way the SDKs do (the lab's own tools, the benchmark and tests use it).
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

impl Signer<'static> {
    /// The lab's default key, signing for ECR in `region`.
    pub fn lab_default(region: &'static str) -> Self {
        Self {
            access_key_id: crate::state::DEFAULT_ACCESS_KEY_ID,
            secret_access_key: crate::state::DEFAULT_SECRET_ACCESS_KEY,
            session_token: None,
            region,
            service: "ecr",
        }
    }
}

impl Signer<'_> {
    /// Adds `x-amz-date`, the optional `x-amz-security-token` and `authorization` to `headers`, which
    /// must already hold `host` and whatever else should be signed.
    pub fn sign(&self, method: &Method, path: &str, headers: &mut HeaderMap, body: &[u8], wall_seconds: i64) {
        let amz_date = format_amz_date(wall_seconds);
        headers.insert("x-amz-date", amz_date.parse().expect("ascii"));
        if let Some(token) = self.session_token {
            headers.insert("x-amz-security-token", token.parse().expect("ascii token"));
        }
        let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        names.dedup();
        let signed_headers = names.join(";");
        let credential = Credential {
            access_key_id: self.access_key_id,
            date: &amz_date[..8],
            region: self.region,
            service: self.service,
        };
        let request = SignedRequest { method, path, query: "", headers, body };
        let signature = signature_for(&request, &signed_headers, &amz_date, &credential, self.secret_access_key)
            .expect("headers are ascii");
        let value = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key_id,
            &amz_date[..8],
            self.region,
            self.service
        );
        headers.insert(http::header::AUTHORIZATION, value.parse().expect("ascii"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example (IAM ListUsers, the "get-vanilla"-style walkthrough in the SigV4 docs).
    #[test]
    fn matches_the_aws_documented_signature() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert("content-type", "application/x-www-form-urlencoded; charset=utf-8".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let request = SignedRequest {
            method: &Method::GET,
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
        };
        let credential =
            Credential { access_key_id: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "iam" };
        let signature = signature_for(
            &request,
            "content-type;host;x-amz-date",
            "20150830T123600Z",
            &credential,
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .unwrap();
        assert_eq!(signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    }

    /// The signing key each thread keeps is the one for this secret and scope: another secret or
    /// region gets its own, and going back gives the first signature again.
    #[test]
    fn a_kept_signing_key_is_only_reused_for_its_own_secret_and_scope() {
        let sign = |secret: &str, region: &str| {
            let key = signing_key(secret, "20150830", region, "iam");
            let mut fresh = hmac(format!("AWS4{secret}").as_bytes(), b"20150830");
            for part in [region, "iam", "aws4_request"] {
                fresh = hmac(&fresh, part.as_bytes());
            }
            assert_eq!(key, fresh, "{secret} in {region}");
            key
        };
        let first = sign("secret-a", "us-east-1");
        assert_ne!(sign("secret-b", "us-east-1"), first);
        assert_ne!(sign("secret-b", "eu-west-1"), first);
        assert_eq!(sign("secret-a", "us-east-1"), first);
        assert_eq!(hex(&[0x00, 0x9f, 0xa5, 0xff]), "009fa5ff");
    }

    /// A signed request replayed with a new body and the old body's `x-amz-content-sha256` fails:
    /// the mock hashes what it received.
    #[test]
    fn the_declared_payload_hash_is_not_trusted() {
        let key = AccessKey::lab_default();
        let now = 1_795_000_000;
        let signed_body = br#"{"repositoryName":"scratch"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:5000".parse().unwrap());
        headers.insert("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository".parse().unwrap());
        headers.insert("x-amz-content-sha256", hex::encode(Sha256::digest(signed_body)).parse().unwrap());
        Signer::lab_default("ap-south-1").sign(&Method::POST, "/", &mut headers, signed_body, now);
        let lookup = |_: &str| Some(&key);
        let request =
            SignedRequest { method: &Method::POST, path: "/", query: "", headers: &headers, body: signed_body };
        assert!(authenticate(&request, "ecr", lookup, Millis(0), now).is_ok());
        let replayed = SignedRequest { body: br#"{"repositoryName":"keepme","force":true}"#, ..request };
        assert_eq!(authenticate(&replayed, "ecr", lookup, Millis(0), now), Err(AuthError::SignatureMismatch));
    }

    /// `host` must be signed (AWS's text), and so must the `x-amz-target` and `x-amz-date` sent.
    #[test]
    fn host_date_and_target_must_be_signed() {
        let key = AccessKey::lab_default();
        let now = 1_795_000_000;
        let body = br#"{}"#;
        let lookup = |_: &str| Some(&key);
        let target = "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories";
        for (unsigned, expected) in [
            ("host", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."),
            ("x-amz-target", "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."),
        ] {
            let mut headers = HeaderMap::new();
            for (name, value) in [("host", "127.0.0.1:5000"), ("x-amz-target", target)] {
                if name != unsigned {
                    headers.insert(name, value.parse().unwrap());
                }
            }
            Signer::lab_default("ap-south-1").sign(&Method::POST, "/", &mut headers, body, now);
            // Added after signing, as a replay would add it.
            headers.insert(unsigned, if unsigned == "host" { "127.0.0.1:5000" } else { target }.parse().unwrap());
            let request = SignedRequest { method: &Method::POST, path: "/", query: "", headers: &headers, body };
            assert_eq!(
                authenticate(&request, "ecr", lookup, Millis(0), now),
                Err(AuthError::Malformed(expected.into())),
                "{unsigned} left unsigned"
            );
        }
        // x-amz-date: an Authorization header that does not list it.
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:5000".parse().unwrap());
        Signer::lab_default("ap-south-1").sign(&Method::POST, "/", &mut headers, body, now);
        let auth = headers[http::header::AUTHORIZATION].to_str().unwrap().replace("host;x-amz-date", "host");
        headers.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
        let request = SignedRequest { method: &Method::POST, path: "/", query: "", headers: &headers, body };
        assert_eq!(
            authenticate(&request, "ecr", lookup, Millis(0), now),
            Err(AuthError::Malformed("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.".into()))
        );
    }

    #[test]
    fn sign_then_authenticate() {
        let key = AccessKey::lab_default();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:5000".parse().unwrap());
        headers.insert("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.ListImages".parse().unwrap());
        let now = 1_795_000_000;
        let body = br#"{"repositoryName":"test"}"#;
        let signer = Signer {
            access_key_id: &key.access_key_id,
            secret_access_key: &key.secret_access_key,
            session_token: None,
            region: "ap-south-1",
            service: "ecr",
        };
        signer.sign(&Method::POST, "/", &mut headers, body, now);
        let request = SignedRequest { method: &Method::POST, path: "/", query: "", headers: &headers, body };
        let caller =
            authenticate(&request, "ecr", |id| (id == key.access_key_id).then_some(&key), Millis(0), now).unwrap();
        assert_eq!(caller.region.as_str(), "ap-south-1");
        assert_eq!(caller.account.as_str(), "920736617090");
        let tampered = SignedRequest { body: br#"{"repositoryName":"other"}"#, ..request };
        assert_eq!(authenticate(&tampered, "ecr", |_| Some(&key), Millis(0), now), Err(AuthError::SignatureMismatch));
        let request = SignedRequest { method: &Method::POST, path: "/", query: "", headers: &headers, body };
        assert_eq!(
            authenticate(&request, "sts", |_| Some(&key), Millis(0), now),
            Err(AuthError::WrongService { expected: "sts" })
        );
        assert_eq!(authenticate(&request, "ecr", |_| None, Millis(0), now), Err(AuthError::UnknownKey));
        assert!(matches!(
            authenticate(&request, "ecr", |_| Some(&key), Millis(0), now + 3600),
            Err(AuthError::Skewed { .. })
        ));
    }
}
