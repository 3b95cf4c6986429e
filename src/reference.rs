//! Docker image references (`[host[:port]/]path[:tag][@digest]`) parsed with docker's grammar and
//! its error texts, so the built-in `docker` refuses what the real one refuses.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `None` for Docker Hub (`docker.io`).
    pub host: Option<String>,
    /// `sohelqt8797/ec2-neon-pulse`, `test`, `library/busybox`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// docker's own wording for a reference it cannot parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError(pub String);

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Reference {
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let invalid = || ReferenceError("invalid reference format".into());
        if text.is_empty() || text.len() > 255 {
            return Err(invalid());
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let (algorithm, hex) = digest.split_once(':').ok_or_else(invalid)?;
                if algorithm != "sha256" || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid());
                }
                (rest, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        // A tag follows the last ':' after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            let ok = !tag.is_empty()
                && tag.len() <= 128
                && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !ok {
                return Err(invalid());
            }
        }
        let mut components: Vec<&str> = name.split('/').collect();
        let host = match components.first() {
            Some(first)
                if components.len() > 1 && (first.contains('.') || first.contains(':') || *first == "localhost") =>
            {
                Some(components.remove(0).to_owned())
            }
            _ => None,
        };
        let path = components.join("/");
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError(format!(
                "invalid reference format: repository name ({path}) must be lowercase"
            )));
        }
        if components.is_empty() || !components.iter().all(|c| component_ok(c)) {
            return Err(invalid());
        }
        Ok(Self { host, path, tag: tag.map(str::to_owned), digest })
    }

    /// The repository as docker names it: `HOST/PATH`, or `PATH` on Docker Hub.
    pub fn repository(&self) -> String {
        match &self.host {
            Some(host) => format!("{host}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The tag, `latest` when none was given.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// With `latest` filled in when neither tag nor digest was given (what `docker push/pull` do).
    pub fn with_default_tag(&self) -> Self {
        let mut full = self.clone();
        if full.tag.is_none() && full.digest.is_none() {
            full.tag = Some("latest".into());
        }
        full
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn component_ok(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        match &component[start..i] {
            "." | "_" | "__" => {}
            sep if sep.bytes().all(|b| b == b'-') => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = Reference::parse("920736617090.dkr.ecr.ap-south-1.amazonaws.com/test:v1").unwrap();
        assert_eq!(r.host.as_deref(), Some("920736617090.dkr.ecr.ap-south-1.amazonaws.com"));
        assert_eq!((r.path.as_str(), r.tag.as_deref()), ("test", Some("v1")));
        let r = Reference::parse("127.0.0.1:5000/a/b").unwrap();
        assert_eq!((r.host.as_deref(), r.path.as_str(), r.tag.as_deref()), (Some("127.0.0.1:5000"), "a/b", None));
        let r = Reference::parse("sohelqt8797/ec2-neon-pulse:v1").unwrap();
        assert_eq!((r.host.clone(), r.repository()), (None, "sohelqt8797/ec2-neon-pulse".to_owned()));
        assert_eq!(
            Reference::parse("host.io/MyApp:v1").unwrap_err().0,
            "invalid reference format: repository name (MyApp) must be lowercase"
        );
        assert_eq!(Reference::parse("host.io/myapp:-bad").unwrap_err().0, "invalid reference format");
        assert!(Reference::parse("a//b").is_err());
    }
}
