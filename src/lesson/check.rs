//! Typed check assertions (`lab:check` blocks), as data: what each wants, with ECR's enums
//! (severities, tag mutability) parsed when the lesson is read, so lint names a value ECR does not
//! know. How an assertion is judged against the lab is `crate::runner::check`'s.

use std::collections::BTreeMap;

use mock_registry::types::Severity;
use mock_registry::types::{TagMutability, WireEnum as _};
use serde::{Deserialize, Deserializer};

use super::fill;

#[derive(Debug, Clone, Deserialize)]
pub enum Assertion {
    #[serde(rename = "ecr.repository")]
    Repository(RepositoryCheck),
    #[serde(rename = "ecr.image")]
    Image(ImageCheck),
    #[serde(rename = "ecr.images")]
    Images(ImagesCheck),
    #[serde(rename = "docker.credentials")]
    Credentials(CredentialsCheck),
    #[serde(rename = "local.image")]
    LocalImage(LocalImageCheck),
    #[serde(rename = "output")]
    Output(OutputCheck),
    #[serde(rename = "exit")]
    Exit(ExitCheck),
    #[serde(rename = "mock.requests")]
    Requests(RequestsCheck),
    #[serde(rename = "scan.findings")]
    Findings(FindingsCheck),
    #[serde(rename = "iam.user")]
    IamUser(IamUserCheck),
    #[serde(rename = "console")]
    Console(ConsoleCheck),
}

/// What an IAM user the lesson made may and may not do, as the mock evaluates its policies (on the
/// mock only: a stage that checks it runs there). Proves a fixed policy allows what the job needs and
/// was not widened to more.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamUserCheck {
    pub name: String,
    /// Actions the user must be allowed (`ecr:BatchGetImage`).
    #[serde(default)]
    pub can: Vec<String>,
    /// Actions the user must be refused (`ecr:DeleteRepository`): what a `ecr:*` grant would allow.
    #[serde(default)]
    pub cannot: Vec<String>,
    /// The repository the actions are on; none: registry-wide (`*`, as GetAuthorizationToken).
    pub repo: Option<String>,
    pub region: Option<String>,
}

/// The console pages a `console` check can ask about (the mock's request log names them so).
pub const CONSOLE_PAGES: &[&str] = &[
    "repositories",
    "create-repository",
    "repository",
    "push-commands",
    "image",
    "findings",
    "edit",
    "lifecycle",
    "permissions",
    "delete",
    "delete-images",
    "private-registry",
];

/// The learner opened a page of the lab's web console in this stage (the mock logs each page view).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleCheck {
    /// Which page: one of [`CONSOLE_PAGES`] (`repository` is a repository's Images tab,
    /// `push-commands` its "View push commands").
    pub viewed: String,
    /// The repository the page is about (any when absent).
    pub repository: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryCheck {
    pub name: String,
    pub exists: Option<bool>,
    pub scan_on_push: Option<bool>,
    pub tag_mutability: Option<Wire<TagMutability>>,
    /// `AES256` or `KMS` (ECR's `encryptionConfiguration.encryptionType`).
    pub encryption: Option<String>,
    pub region: Option<String>,
}

/// What a repository holds, counted: every image, and the untagged ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesCheck {
    pub repo: String,
    /// How many images the repository holds (tagged or not).
    pub count: Option<usize>,
    /// How many of them no tag names.
    pub untagged: Option<usize>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageCheck {
    pub repo: String,
    pub tag: Option<String>,
    /// `sha256:...` (for example `{{sample_v2_digest}}`): with `tag`, the tag names this image;
    /// alone, an image with this digest is (or is not) there, tagged or not.
    pub digest: Option<String>,
    pub exists: Option<bool>,
    /// `stage_start`: pushed since the stage began.
    pub pushed_after: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsCheck {
    pub registry: String,
    pub present: Option<bool>,
    /// `helper`: docker asks a credential helper for the registry and holds no password for it;
    /// `password`: a password is stored in docker's config (`auths`).
    pub via: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalImageCheck {
    #[serde(rename = "ref")]
    pub reference: String,
    pub exists: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputCheck {
    /// `last` (default), or the start of a command (`docker push`): its most recent run in the stage.
    pub of: Option<String>,
    pub contains: String,
    /// `true`: any run of that command in the stage printed it (an error met before the fix), not
    /// only the most recent one.
    pub any_run: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitCheck {
    pub of: Option<String>,
    pub code: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsCheck {
    /// `registry`, `ecr:<Operation>`, `sts`, or `METHOD /path` with `*` wildcards.
    pub route: String,
    pub status: Option<u16>,
    /// `stage_start` (default): only requests since the stage began.
    pub since: Option<String>,
}

/// The image's scan is COMPLETE with at least one finding of `min_severity` or higher.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsCheck {
    pub repo: String,
    /// Default: the lesson's `tag` variable, else `latest`.
    pub tag: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL` or `UNDEFINED` (the default: any finding).
    pub min_severity: Option<Wire<Severity>>,
}

impl FindingsCheck {
    /// The lowest severity that counts (default `UNDEFINED`: any finding), or the value as written
    /// when ECR has no such severity.
    pub fn min_severity(&self) -> Result<Severity, &str> {
        match &self.min_severity {
            None => Ok(Severity::Undefined),
            Some(Wire::Known(severity)) => Ok(*severity),
            Some(Wire::Unknown(text)) => Err(text),
        }
    }
}

/// A value of one of ECR's enums as a lesson writes it (in any case), parsed when the lesson is read.
/// A value ECR does not know is kept as written, for lint to name (LAB011).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire<T> {
    Known(T),
    Unknown(String),
}

/// ECR's enums a lesson names, with how they are written there.
pub trait LessonEnum: Sized + Copy {
    fn parse_any_case(text: &str) -> Option<Self>;
    fn wire_text(self) -> &'static str;
}

impl LessonEnum for Severity {
    fn parse_any_case(text: &str) -> Option<Self> {
        Severity::parse(&text.to_ascii_uppercase())
    }
    fn wire_text(self) -> &'static str {
        self.wire()
    }
}

impl LessonEnum for TagMutability {
    fn parse_any_case(text: &str) -> Option<Self> {
        TagMutability::from_wire(&text.to_ascii_uppercase())
    }
    fn wire_text(self) -> &'static str {
        self.wire()
    }
}

impl<T: LessonEnum> Wire<T> {
    /// The value as ECR spells it, or as the lesson wrote it.
    pub fn text(&self) -> &str {
        match self {
            Self::Known(value) => value.wire_text(),
            Self::Unknown(text) => text,
        }
    }
}

impl<'de, T: LessonEnum> Deserialize<'de> for Wire<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match T::parse_any_case(&text) {
            Some(value) => Self::Known(value),
            None => Self::Unknown(text),
        })
    }
}

/// Line offsets (0-based, within the block body) of each top-level `- ` item.
pub fn item_lines(body: &str) -> Vec<usize> {
    body.lines().enumerate().filter(|(_, l)| l.starts_with("- ")).map(|(n, _)| n).collect()
}

impl Assertion {
    /// One line a learner understands: what this check wants.
    pub fn describe(&self, vars: &BTreeMap<String, String>) -> String {
        let f = |s: &str| fill(s, vars);
        match self {
            Self::Repository(c) if c.exists == Some(false) => format!("repository {} does not exist", f(&c.name)),
            Self::Repository(c) => {
                let mut parts = vec![format!("repository {} exists", f(&c.name))];
                if let Some(scan) = c.scan_on_push {
                    parts.push(format!("scan on push {}", if scan { "on" } else { "off" }));
                }
                if let Some(m) = &c.tag_mutability {
                    parts.push(format!("tags {}", m.text().to_lowercase()));
                }
                if let Some(e) = &c.encryption {
                    parts.push(format!("encrypted with {e}"));
                }
                parts.join(", ")
            }
            Self::Images(c) => {
                let mut parts = Vec::new();
                if let Some(n) = c.count {
                    parts.push(format!("{n} image{}", if n == 1 { "" } else { "s" }));
                }
                if let Some(n) = c.untagged {
                    parts.push(format!("{n} untagged"));
                }
                format!("repository {} holds {}", f(&c.repo), parts.join(", of them "))
            }
            Self::Image(c) if c.digest.is_some() => format!(
                "{} {} {}",
                c.tag.as_deref().map(|t| format!("{}:{}", f(&c.repo), f(t))).unwrap_or_else(|| f(&c.repo)),
                if c.exists == Some(false) { "does not hold image" } else { "holds image" },
                short_digest(&f(c.digest.as_deref().unwrap_or_default()))
            ),
            Self::Image(c) => format!(
                "image {}:{} {}",
                f(&c.repo),
                c.tag.as_deref().map(f).unwrap_or_else(|| "*".into()),
                if c.exists == Some(false) { "is not in the registry" } else { "is in the registry" }
            ),
            Self::Credentials(c) => format!(
                "docker {} logged in to {}",
                if c.present == Some(false) { "is not" } else { "is" },
                f(&c.registry)
            ),
            Self::LocalImage(c) => format!(
                "local image {} {}",
                f(&c.reference),
                if c.exists == Some(false) { "is absent" } else { "exists" }
            ),
            // In backticks, so a text with quotes (`"v1"`) reads as written, not as `""v1""`.
            Self::Output(c) if c.any_run == Some(true) => format!(
                "a run of `{}` in this stage printed `{}`",
                c.of.as_deref().map(f).unwrap_or_else(|| "a command".into()),
                f(&c.contains)
            ),
            Self::Output(c) => format!(
                "the output of `{}` contains `{}`",
                c.of.as_deref().map(f).unwrap_or_else(|| "the last command".into()),
                f(&c.contains)
            ),
            Self::Exit(c) => format!("`{}` exits with {}", c.of.as_deref().unwrap_or("the last command"), c.code),
            Self::Requests(c) => {
                let what = match c.route.as_str() {
                    "registry" => "a docker request".to_owned(),
                    "sts" => "an STS request".to_owned(),
                    route => match route.strip_prefix("ecr:") {
                        Some(operation) => format!("an ECR {operation} call"),
                        None => format!("a `{route}` request"),
                    },
                };
                match c.status {
                    Some(status) => format!("the registry answered {what} with {status}"),
                    None => format!("the registry received {what}"),
                }
            }
            Self::IamUser(c) => {
                let on = c.repo.as_deref().map(|r| format!(" on {}", f(r))).unwrap_or_default();
                let mut parts = Vec::new();
                if !c.can.is_empty() {
                    parts.push(format!("may {}", c.can.join(", ")));
                }
                if !c.cannot.is_empty() {
                    parts.push(format!("may not {}", c.cannot.join(", ")));
                }
                format!("user {} {}{on}", f(&c.name), parts.join(" and "))
            }
            Self::Console(c) => {
                let page = match c.viewed.as_str() {
                    "repositories" => return "the repository list opened in the console".into(),
                    "create-repository" => return "the Create repository form opened in the console".into(),
                    "repository" => "the Images tab".to_owned(),
                    "push-commands" => "View push commands".to_owned(),
                    "image" => "an image's page".to_owned(),
                    "findings" => "an image's scan findings".to_owned(),
                    "private-registry" => return "the private registry settings opened in the console".into(),
                    page => format!("the {page} page"),
                };
                match &c.repository {
                    Some(repo) => format!("{page} of {} opened in the console", f(repo)),
                    None => format!("{page} of a repository opened in the console"),
                }
            }
            Self::Findings(c) => format!(
                "the scan of {}:{} found a {} or higher finding",
                f(&c.repo),
                c.tag.as_deref().map(f).unwrap_or_else(|| vars.get("tag").cloned().unwrap_or_else(|| "latest".into())),
                c.min_severity.as_ref().map_or("UNDEFINED", Wire::text).to_uppercase()
            ),
        }
    }
}

/// `sha256:0123456789ab`: enough of a digest to tell images apart when reading.
pub fn short_digest(digest: &str) -> String {
    digest.chars().take(19).collect()
}
