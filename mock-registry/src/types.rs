//! Typed values at the edge: account ids, regions, repository names, tags, digests, modes, scan
//! severities and statuses.
//! Each is parsed once, with ECR's rules; nothing past this module re-validates a string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was rejected: the constraint text ECR puts inside
/// `Invalid parameter at '<member>' failed to satisfy constraint: '<constraint>'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

/// The regular expression the real service quotes when it rejects a repository name.
pub const REPOSITORY_NAME_REGEX: &str = "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*";

/// A 12-digit AWS account id, which is also the ECR registry id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    fn check(text: &str) -> Result<(), Invalid> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(Invalid::new("must satisfy regular expression '[0-9]{12}'"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An AWS region name such as `ap-south-1`, as it appears in a SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    /// Accepts the shape of every AWS region (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`).
    fn check(text: &str) -> Result<(), Invalid> {
        let parts: Vec<&str> = text.split('-').collect();
        let shaped = parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u8>().is_ok();
        if shaped { Ok(()) } else { Err(Invalid::new(format!("'{text}' is not an AWS region"))) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A repository name: 2 to 256 characters of the service model's pattern, namespaces separated by `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepositoryName(String);

impl RepositoryName {
    fn check(text: &str) -> Result<(), Invalid> {
        if text.len() < 2 {
            return Err(Invalid::new("must have length greater than or equal to 2"));
        }
        if text.len() > 256 {
            return Err(Invalid::new("must have length less than or equal to 256"));
        }
        if text.split('/').all(name_component_ok) {
            Ok(())
        } else {
            Err(Invalid::new(format!("must satisfy regular expression '{REPOSITORY_NAME_REGEX}'")))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One path component of the model's pattern `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn name_component_ok(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let sep_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let ok = match &component[sep_start..i] {
            "." | "_" | "__" => true,
            sep => sep.bytes().all(|b| b == b'-'),
        };
        if !ok {
            return false;
        }
    }
}

/// An image tag: 1 to 300 characters (the model sets no pattern).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageTag(String);

impl ImageTag {
    fn check(text: &str) -> Result<(), Invalid> {
        match text.chars().count() {
            0 => Err(Invalid::new("must have length greater than or equal to 1")),
            n if n > 300 => Err(Invalid::new("must have length less than or equal to 300")),
            _ => Ok(()),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A content digest `algorithm:hex`, as the model's `[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+`; sha256 is checked for length.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    fn check(text: &str) -> Result<(), Invalid> {
        let invalid = || Invalid::new("must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
        let (algorithm, hex) = text.split_once(':').ok_or_else(invalid)?;
        let algorithm_ok =
            !algorithm.is_empty() && algorithm.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+.".contains(&b));
        let hex_ok = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if !algorithm_ok || !hex_ok || (algorithm == "sha256" && hex.len() != 64) {
            return Err(invalid());
        }
        Ok(())
    }
    /// The sha256 digest of exactly these bytes.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes))))
    }
    /// From a finished sha256 hash.
    pub fn from_sha256(hash: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(hash)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// The value, if `text` passes its check.
            pub fn parse(text: &str) -> Result<Self, Invalid> {
                Self::check(text).map(|()| Self(text.to_owned()))
            }
        }
        // Checked in place and kept: a deserialized value (a snapshot's thousands of names) is
        // allocated once, by the deserializer, not copied again by `parse`.
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::check(&value).map(|()| Self(value)).map_err(|e| e.0)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_newtype_impls!(AccountId, Region, RepositoryName, ImageTag, Digest);

/// An enum whose wire spelling is fixed by the service model.
pub trait WireEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn wire(self) -> &'static str;
    fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.wire() == text)
    }
    /// `[A, B, C]` as in `Member must satisfy enum value set: [...]`.
    fn value_set() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|v| v.wire()).collect();
        format!("[{}]", names.join(", "))
    }
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),* }
        impl WireEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),*];
            fn wire(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
    };
}

wire_enum!(
    /// `imageTagMutability`. The value set is listed in the order the service prints it.
    TagMutability {
        Immutable = "IMMUTABLE",
        Mutable = "MUTABLE",
        MutableWithExclusion = "MUTABLE_WITH_EXCLUSION",
        ImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION",
    }
);

wire_enum!(
    /// `encryptionConfiguration.encryptionType`.
    EncryptionType { Aes256 = "AES256", Kms = "KMS", KmsDsse = "KMS_DSSE" }
);

wire_enum!(
    /// `filter.tagStatus` of ListImages and DescribeImages.
    TagStatus { Tagged = "TAGGED", Untagged = "UNTAGGED", Any = "ANY" }
);

/// One `imageTagMutabilityExclusionFilters` entry: a `WILDCARD` pattern of `[0-9a-zA-Z._*-]{1,128}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionFilter(String);

impl ExclusionFilter {
    pub fn parse(filter_type: &str, filter: &str) -> Result<Self, Invalid> {
        if filter_type != "WILDCARD" {
            return Err(Invalid::new("Member must satisfy enum value set: [WILDCARD]"));
        }
        let ok = (1..=128).contains(&filter.len())
            && filter.bytes().all(|b| b.is_ascii_alphanumeric() || b"._*-".contains(&b));
        if ok {
            Ok(Self(filter.to_owned()))
        } else {
            Err(Invalid::new("must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}'"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn matches(&self, tag: &ImageTag) -> bool {
        wildcard_match(self.0.as_bytes(), tag.as_str().as_bytes())
    }
}

/// `*` matches any run of characters (including none); every other character matches itself.
pub fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// Milliseconds since the Unix epoch on the lab clock; surfaces as epoch seconds with a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Millis(pub i64);

impl Millis {
    pub fn epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + seconds * 1000)
    }
}

/// `FindingSeverity`, lowest first (`UNDEFINED` below everything: it was not rated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Undefined,
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
        Severity::Undefined,
    ];

    pub fn wire(self) -> &'static str {
        match self {
            Severity::Undefined => "UNDEFINED",
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.wire() == text)
    }
}

/// `imageScanStatus.status` of a basic scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanStatus {
    InProgress,
    Complete,
    Failed,
}

impl ScanStatus {
    pub fn wire(self) -> &'static str {
        match self {
            ScanStatus::InProgress => "IN_PROGRESS",
            ScanStatus::Complete => "COMPLETE",
            ScanStatus::Failed => "FAILED",
        }
    }
}

/// [`WireEnum`] too, so severities parse and list their value set like the other wire enums.
impl WireEnum for Severity {
    const ALL: &'static [Self] = &Severity::ALL;
    fn wire(self) -> &'static str {
        Severity::wire(self)
    }
}

impl WireEnum for ScanStatus {
    const ALL: &'static [Self] = &[ScanStatus::InProgress, ScanStatus::Complete, ScanStatus::Failed];
    fn wire(self) -> &'static str {
        ScanStatus::wire(self)
    }
}

/// `1.46 KiB`, `2.15 MiB`, `512 B`: sizes as the lab's web console and the deck's live panels
/// write them (binary units, two decimals).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// Whether two secrets are equal, in time that depends on their lengths only (signatures, tokens,
/// secrets a caller shows).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_scan_statuses_are_wire_enums() {
        assert_eq!(<Severity as WireEnum>::from_wire("HIGH"), Some(Severity::High));
        assert_eq!(<Severity as WireEnum>::from_wire("high"), None);
        assert_eq!(Severity::value_set(), "[CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED]");
        assert_eq!(ScanStatus::from_wire("IN_PROGRESS"), Some(ScanStatus::InProgress));
        assert_eq!(ScanStatus::value_set(), "[IN_PROGRESS, COMPLETE, FAILED]");
    }

    #[test]
    fn repository_names_follow_the_model() {
        for ok in ["test", "ab", "project-a/nginx-web-app", "a__b", "a--b", "a.b_c", "1app", "x/y/z"] {
            assert!(RepositoryName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["Test", "a", "-ab", "ab-", "a//b", "/ab", "ab/", "a___b", "a.-b", "my app", "a_.b"] {
            assert!(RepositoryName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RepositoryName::parse("a").unwrap_err().0, "must have length greater than or equal to 2");
        assert!(RepositoryName::parse(&"a".repeat(257)).is_err());
        assert!(RepositoryName::parse(&"a".repeat(256)).is_ok());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"dev-*", b"dev-1"));
        assert!(wildcard_match(b"dev-*", b"dev-"));
        assert!(!wildcard_match(b"dev-*", b"prod-1"));
        assert!(wildcard_match(b"*", b"anything"));
        assert!(wildcard_match(b"a*b*c", b"aXXbYYc"));
        assert!(!wildcard_match(b"a*b*c", b"aXXbYY"));
        assert!(wildcard_match(b"latest", b"latest"));
        assert!(!wildcard_match(b"latest", b"latest1"));
    }

    #[test]
    fn digests() {
        let d = Digest::sha256_of(b"");
        assert_eq!(d.as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert!(Digest::parse(d.as_str()).is_ok());
        assert!(Digest::parse("sha256:abc").is_err());
        assert!(Digest::parse("nocolon").is_err());
    }

    #[test]
    fn regions_and_accounts() {
        for ok in ["ap-south-1", "us-east-1", "us-gov-west-1", "cn-north-1"] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "apsouth1", "AP-south-1", "ap-south-x"] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
        assert!(AccountId::parse("920736617090").is_ok());
        assert!(AccountId::parse("92073661709").is_err());
    }

    #[test]
    fn enum_value_set_order() {
        assert_eq!(
            TagMutability::value_set(),
            "[IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]"
        );
    }
}
