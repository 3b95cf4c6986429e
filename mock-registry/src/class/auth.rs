//! Who is the instructor: the instructor token as `Authorization: Bearer TOKEN`, or the dashboard's
//! cookie (`ecrlab_class`) plus, for a write, the `X-CSRF-Token` header. Both values are HMACs of
//! the lab's secret, so they survive a restart of a durable lab and no other lab accepts them.

use axum::http::{HeaderMap, Method, header};
use hmac::{KeyInit, Mac};

use crate::Lab;

/// The dashboard's cookie name.
pub(crate) const COOKIE: &str = "ecrlab_class";
/// The header a dashboard write carries.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

fn derive(lab: &Lab, purpose: &str) -> String {
    lab.read(|state| {
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(state.token_secret()).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    })
}

/// The value of the `ecrlab_class` cookie a signed-in dashboard holds.
pub(crate) fn dashboard_cookie_value(lab: &Lab) -> String {
    derive(lab, "ecr-lab class dashboard cookie")
}

/// The token a dashboard write sends as `X-CSRF-Token`.
pub(crate) fn csrf_token(lab: &Lab) -> String {
    derive(lab, "ecr-lab class dashboard csrf")
}

/// Compares in constant time.
pub(crate) fn same(a: &str, b: &str) -> bool {
    crate::types::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// The bearer token of `headers`, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The value of cookie `name` in `headers`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The instructor token as Bearer, or the dashboard cookie (and, for anything but GET/HEAD, the
/// CSRF header).
pub(crate) fn is_instructor(lab: &Lab, headers: &HeaderMap, method: &Method) -> bool {
    if bearer(headers).is_some_and(|shown| same(shown, &lab.instructor_token())) {
        return true;
    }
    let Some(cookie) = cookie(headers, COOKIE) else { return false };
    if !same(cookie, &dashboard_cookie_value(lab)) {
        return false;
    }
    if *method == Method::GET || *method == Method::HEAD {
        return true;
    }
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|shown| same(shown.trim(), &csrf_token(lab)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_or_cookie_plus_csrf_for_writes() {
        let lab = Lab::ephemeral().unwrap();
        let mut headers = HeaderMap::new();
        assert!(!is_instructor(&lab, &headers, &Method::GET));
        headers.insert(header::AUTHORIZATION, format!("Bearer {}", lab.instructor_token()).parse().unwrap());
        assert!(is_instructor(&lab, &headers, &Method::POST));
        headers.insert(header::AUTHORIZATION, "Bearer ecrlab-wrong".parse().unwrap());
        assert!(!is_instructor(&lab, &headers, &Method::GET));

        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, format!("a=b; {COOKIE}={}", dashboard_cookie_value(&lab)).parse().unwrap());
        assert!(is_instructor(&lab, &headers, &Method::GET));
        assert!(!is_instructor(&lab, &headers, &Method::POST), "a write needs the CSRF header");
        headers.insert(CSRF_HEADER, csrf_token(&lab).parse().unwrap());
        assert!(is_instructor(&lab, &headers, &Method::POST));
        assert_ne!(dashboard_cookie_value(&lab), csrf_token(&lab));
        let other = Lab::ephemeral().unwrap();
        assert!(!is_instructor(&other, &headers, &Method::GET), "another lab's cookie is refused");
    }
}
