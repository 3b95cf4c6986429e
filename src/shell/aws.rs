//! The built-in `aws`: the aws CLI v1's commands for ECR and STS, through the real `aws-sdk-ecr`
//! client to the lab's mock, with the CLI's argument handling, JSON output and error lines.

use std::collections::BTreeMap;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types as t;
use base64::Engine as _;
use serde_json::{Value, json};

use super::aws_json as out;
use super::{Io, Session};
use crate::backend::{BackendKind, cleanup, explain};

const VERSION: &str = "aws-cli/1.45.11 Python/3.11.7 Linux/ecr-lab botocore/1.43.11";
const USAGE: &str = "usage: \rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for general use. For more information, see the AWS CLI version 2 installation instructions at: https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html

usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]
To see help text, you can run:

  aws help
  aws <command> help
  aws <command> <subcommand> help";

/// How a flag takes values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arity {
    One,
    Many,
    /// `--force` / `--no-force`.
    Switch,
}

/// A flag: its name, how it takes values, whether it is required.
type Flag = (&'static str, Arity, bool);

/// The supported ECR operations: CLI name, API name, flags.
const OPERATIONS: &[(&str, &str, &[Flag])] = {
    use Arity::*;
    &[
        (
            "batch-check-layer-availability",
            "BatchCheckLayerAvailability",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--layer-digests", Many, true)],
        ),
        (
            "batch-delete-image",
            "BatchDeleteImage",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--image-ids", Many, true)],
        ),
        (
            "batch-get-image",
            "BatchGetImage",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--image-ids", Many, true),
                ("--accepted-media-types", Many, false),
            ],
        ),
        (
            "complete-layer-upload",
            "CompleteLayerUpload",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--upload-id", One, true),
                ("--layer-digests", Many, true),
            ],
        ),
        (
            "create-repository",
            "CreateRepository",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--tags", Many, false),
                ("--image-tag-mutability", One, false),
                ("--image-tag-mutability-exclusion-filters", Many, false),
                ("--image-scanning-configuration", One, false),
                ("--encryption-configuration", One, false),
            ],
        ),
        (
            "delete-repository",
            "DeleteRepository",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--force", Switch, false)],
        ),
        (
            "describe-images",
            "DescribeImages",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--image-ids", Many, false),
                ("--filter", One, false),
            ],
        ),
        ("describe-registry", "DescribeRegistry", &[]),
        (
            "batch-get-repository-scanning-configuration",
            "BatchGetRepositoryScanningConfiguration",
            &[("--repository-names", Many, true)],
        ),
        ("get-registry-scanning-configuration", "GetRegistryScanningConfiguration", &[]),
        (
            "put-registry-scanning-configuration",
            "PutRegistryScanningConfiguration",
            &[("--scan-type", One, false), ("--rules", One, false)],
        ),
        (
            "delete-lifecycle-policy",
            "DeleteLifecyclePolicy",
            &[("--registry-id", One, false), ("--repository-name", One, true)],
        ),
        (
            "describe-image-scan-findings",
            "DescribeImageScanFindings",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--image-id", One, true)],
        ),
        (
            "get-lifecycle-policy",
            "GetLifecyclePolicy",
            &[("--registry-id", One, false), ("--repository-name", One, true)],
        ),
        (
            "get-lifecycle-policy-preview",
            "GetLifecyclePolicyPreview",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--image-ids", Many, false)],
        ),
        (
            "put-lifecycle-policy",
            "PutLifecyclePolicy",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--lifecycle-policy-text", One, true)],
        ),
        (
            "start-image-scan",
            "StartImageScan",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--image-id", One, true)],
        ),
        (
            "start-lifecycle-policy-preview",
            "StartLifecyclePolicyPreview",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--lifecycle-policy-text", One, false)],
        ),
        (
            "describe-repositories",
            "DescribeRepositories",
            &[("--registry-id", One, false), ("--repository-names", Many, false)],
        ),
        ("get-authorization-token", "GetAuthorizationToken", &[("--registry-ids", Many, false)]),
        (
            "get-download-url-for-layer",
            "GetDownloadUrlForLayer",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--layer-digest", One, true)],
        ),
        ("get-login-password", "GetAuthorizationToken", &[]),
        (
            "initiate-layer-upload",
            "InitiateLayerUpload",
            &[("--registry-id", One, false), ("--repository-name", One, true)],
        ),
        (
            "list-images",
            "ListImages",
            &[("--registry-id", One, false), ("--repository-name", One, true), ("--filter", One, false)],
        ),
        ("list-tags-for-resource", "ListTagsForResource", &[("--resource-arn", One, true)]),
        (
            "put-image",
            "PutImage",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--image-manifest", One, true),
                ("--image-manifest-media-type", One, false),
                ("--image-tag", One, false),
                ("--image-digest", One, false),
            ],
        ),
        (
            "put-image-scanning-configuration",
            "PutImageScanningConfiguration",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--image-scanning-configuration", One, true),
            ],
        ),
        (
            "put-image-tag-mutability",
            "PutImageTagMutability",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--image-tag-mutability", One, true),
                ("--image-tag-mutability-exclusion-filters", Many, false),
            ],
        ),
        ("tag-resource", "TagResource", &[("--resource-arn", One, true), ("--tags", Many, true)]),
        ("untag-resource", "UntagResource", &[("--resource-arn", One, true), ("--tag-keys", Many, true)]),
        (
            "upload-layer-part",
            "UploadLayerPart",
            &[
                ("--registry-id", One, false),
                ("--repository-name", One, true),
                ("--upload-id", One, true),
                ("--part-first-byte", One, true),
                ("--part-last-byte", One, true),
                ("--layer-part-blob", One, true),
            ],
        ),
    ]
};

pub fn operation_names() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().map(|(name, ..)| *name)
}

pub fn flags_of(operation: &str) -> impl Iterator<Item = &'static str> {
    OPERATIONS
        .iter()
        .filter(move |(name, ..)| *name == operation)
        .flat_map(|(_, _, flags)| flags.iter().map(|(f, ..)| *f))
}

/// How a command ends, as the CLI reports it.
enum Failure {
    /// argparse: usage, then `aws: error: ...`, exit 2.
    Usage(String),
    /// Unknown options: usage, blank line, `Unknown options: ...`, exit 255.
    UnknownOptions(String),
    /// Client-side validation: `Parameter validation failed:` ..., exit 255.
    Validation(String),
    /// `An error occurred (Code) when calling the Op operation: message`, exit 255.
    Service { code: String, operation: &'static str, message: String },
    /// Anything else the CLI prints after a blank line, exit 255.
    Other(String),
}

type Outcome = Result<Option<Value>, Failure>;

/// Global options and what they leave.
struct Invocation {
    region: Option<String>,
    output: String,
    /// `--query`: a JMESPath expression applied to the response before it is printed.
    query: Option<String>,
    endpoint: Option<String>,
    rest: Vec<String>,
}

fn split_globals(args: &[String]) -> Result<Invocation, Failure> {
    let mut invocation =
        Invocation { region: None, output: "json".into(), query: None, endpoint: None, rest: Vec::new() };
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| {
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("argument {}: expected one argument", args[i])))
        };
        match args[i].as_str() {
            "--region" => invocation.region = Some(value(i)?),
            "--output" => {
                invocation.output = value(i)?;
                if !matches!(invocation.output.as_str(), "json" | "text") {
                    return Err(Failure::Usage(format!(
                        "argument --output: Invalid choice, valid choices are:\n\njson | text\n(the lab's aws prints json and text; '{}' is not built in)",
                        invocation.output
                    )));
                }
            }
            "--query" => invocation.query = Some(value(i)?),
            "--endpoint-url" => invocation.endpoint = Some(value(i)?),
            "--profile" | "--color" | "--cli-read-timeout" | "--cli-connect-timeout" | "--ca-bundle" => {
                value(i)?;
            }
            "--debug" | "--no-paginate" | "--no-verify-ssl" | "--no-sign-request" => {
                i += 1;
                continue;
            }
            _ => {
                invocation.rest.push(args[i].clone());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Ok(invocation)
}

pub async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    if args.first().map(String::as_str) == Some("--version") {
        io.println(VERSION);
        return 0;
    }
    let outcome = match split_globals(args) {
        Ok(invocation) => dispatch(session, invocation, io).await,
        Err(failure) => Err(failure),
    };
    // On real AWS an error about the learner's set-up (access, credentials, throttling, the network)
    // gets one line of what to do under AWS's own text.
    let fix = match (&outcome, session.backend.kind) {
        (Err(Failure::Service { code, message, .. }), BackendKind::Aws) => explain::fix_for(code, message),
        (Err(Failure::Other(message)), BackendKind::Aws) if message.starts_with("Could not connect") => {
            Some(explain::unreachable("").fix)
        }
        (Err(Failure::Other(message)), BackendKind::Aws) if message.starts_with("Unable to locate credentials") => {
            Some(explain::no_credentials("").fix)
        }
        _ => None,
    };
    let status = report(outcome, io);
    if let Some(fix) = fix {
        io.eprintln(format!("ecr-lab: what to do: {fix}"));
    }
    status
}

fn report(outcome: Outcome, io: &mut Io) -> i32 {
    match outcome {
        Ok(None) => 0,
        Ok(Some(value)) => {
            io.println(out::pretty(&value));
            0
        }
        Err(Failure::Usage(message)) => {
            io.eprintln(USAGE);
            io.eprintln(format!("aws: error: {message}"));
            2
        }
        Err(Failure::UnknownOptions(options)) => {
            io.eprintln(USAGE);
            io.eprintln("");
            io.eprintln(format!("Unknown options: {options}"));
            255
        }
        Err(Failure::Validation(line)) => {
            io.eprintln("");
            io.eprintln("Parameter validation failed:");
            io.eprintln(line);
            255
        }
        Err(Failure::Service { code, operation, message }) => {
            io.eprintln("");
            io.eprintln(format!("An error occurred ({code}) when calling the {operation} operation: {message}"));
            255
        }
        Err(Failure::Other(message)) => {
            io.eprintln("");
            io.eprintln(message);
            255
        }
    }
}

async fn dispatch(session: &mut Session, invocation: Invocation, io: &mut Io) -> Outcome {
    let mut rest = invocation.rest.iter();
    let service = rest.next().ok_or_else(|| Failure::Usage("the following arguments are required: command".into()))?;
    let args: Vec<String> = rest.cloned().collect();
    let outcome = match service.as_str() {
        "ecr" => ecr(session, &invocation, &args, io).await,
        "sts" => sts(session, &invocation, &args).await,
        "configure" => configure(session, &args, io),
        other => Err(Failure::Usage(format!(
            "argument command: Invalid choice: '{other}' (the lab's aws knows ecr, sts and configure)"
        ))),
    };
    match outcome {
        Ok(Some(value)) => render(&invocation, value, io),
        other => other,
    }
}

/// Credentials and region, as the CLI finds them. On the mock: shell variables, then the lab
/// profile, then the lab's default key. On real AWS: shell variables, else the backend's chain
/// (`credentials` is `None`), and the backend's region.
struct Resolved {
    credentials: Option<aws_credential_types::Credentials>,
    region: String,
}

fn resolve(session: &Session, invocation: &Invocation) -> Resolved {
    let aws = session.backend.kind == BackendKind::Aws;
    let profile = if aws { BTreeMap::new() } else { read_profile(session) };
    let credentials = match (session.var("AWS_ACCESS_KEY_ID"), session.var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Some((key, secret, session.var("AWS_SESSION_TOKEN"))),
        _ if aws => None,
        _ => Some((
            profile
                .get("aws_access_key_id")
                .cloned()
                .unwrap_or_else(|| mock_registry::state::DEFAULT_ACCESS_KEY_ID.into()),
            profile
                .get("aws_secret_access_key")
                .cloned()
                .unwrap_or_else(|| mock_registry::state::DEFAULT_SECRET_ACCESS_KEY.into()),
            profile.get("aws_session_token").cloned(),
        )),
    };
    let fallback_region =
        if aws { session.backend.region.clone() } else { mock_registry::state::DEFAULT_REGION.into() };
    let region = invocation
        .region
        .clone()
        .or_else(|| session.var("AWS_REGION"))
        .or_else(|| session.var("AWS_DEFAULT_REGION"))
        .or_else(|| profile.get("region").cloned())
        .unwrap_or(fallback_region);
    Resolved {
        credentials: credentials.map(|(key, secret, token)| {
            aws_credential_types::Credentials::new(key, secret, token, None, "ecr-lab-shell")
        }),
        region,
    }
}

/// Where the call goes, as the CLI names it in "Could not connect to the endpoint URL".
fn endpoint_shown(session: &Session, invocation: &Invocation, service: &str, region: &str) -> String {
    invocation
        .endpoint
        .clone()
        .or_else(|| session.backend.mock_endpoint().map(str::to_owned))
        .unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"))
}

fn profile_path(session: &Session) -> std::path::PathBuf {
    session.home.join("aws").join("config")
}

fn read_profile(session: &Session) -> BTreeMap<String, String> {
    std::fs::read_to_string(profile_path(session))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

fn write_profile(session: &Session, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let path = profile_path(session);
    std::fs::create_dir_all(path.parent().expect("aws dir"))?;
    let text: String =
        std::iter::once("[default]\n".to_owned()).chain(values.iter().map(|(k, v)| format!("{k} = {v}\n"))).collect();
    std::fs::write(path, text)
}

fn client(session: &Session, invocation: &Invocation) -> aws_sdk_ecr::Client {
    let resolved = resolve(session, invocation);
    session.backend.ecr_client(Some(&resolved.region), resolved.credentials, invocation.endpoint.as_deref())
}

/// Parsed `--flag value...` arguments of one operation.
struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    fn parse(args: &[String], spec: &'static [Flag]) -> Result<Self, Failure> {
        let mut values: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut unknown = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            let negated = arg.strip_prefix("--no-").map(|rest| format!("--{rest}"));
            let found = spec.iter().find(|(flag, arity, _)| {
                *flag == arg.as_str() || (*arity == Arity::Switch && negated.as_deref() == Some(flag))
            });
            i += 1;
            let Some((flag, arity, _)) = found else {
                unknown.push(arg.clone());
                continue;
            };
            let taken: Vec<String> = match arity {
                Arity::Switch => vec![(negated.is_none()).to_string()],
                Arity::One => match args.get(i) {
                    Some(value) => {
                        i += 1;
                        vec![value.clone()]
                    }
                    None => return Err(Failure::Usage(format!("argument {flag}: expected one argument"))),
                },
                Arity::Many => {
                    let start = i;
                    while i < args.len() && !args[i].starts_with("--") {
                        i += 1;
                    }
                    if start == i {
                        return Err(Failure::Usage(format!("argument {flag}: expected at least one argument")));
                    }
                    args[start..i].to_vec()
                }
            };
            values.insert(flag, taken);
        }
        if !unknown.is_empty() {
            return Err(Failure::UnknownOptions(unknown.join(", ")));
        }
        let missing: Vec<&str> =
            spec.iter().filter(|(f, _, required)| *required && !values.contains_key(f)).map(|(f, ..)| *f).collect();
        if !missing.is_empty() {
            return Err(Failure::Usage(format!("the following arguments are required: {}", missing.join(", "))));
        }
        Ok(Self { values })
    }

    fn one(&self, flag: &str) -> Option<String> {
        self.values.get(flag).and_then(|v| v.first()).cloned()
    }

    fn many(&self, flag: &str) -> Option<Vec<String>> {
        self.values.get(flag).cloned()
    }

    fn switch(&self, flag: &str) -> Option<bool> {
        self.one(flag).map(|v| v == "true")
    }
}

/// `file://path` and `fileb://path` values, as the CLI reads them.
fn load_value(value: &str) -> Result<Vec<u8>, Failure> {
    let path = value.strip_prefix("fileb://").or_else(|| value.strip_prefix("file://"));
    match path {
        Some(path) => std::fs::read(path)
            .map_err(|e| Failure::Other(format!("Error parsing parameter: Unable to load paramfile {value}: {e}"))),
        None => Ok(value.as_bytes().to_vec()),
    }
}

fn text_value(value: &str) -> Result<String, Failure> {
    String::from_utf8(load_value(value)?)
        .map_err(|_| Failure::Other(format!("Error parsing parameter: {value} is not UTF-8 text")))
}

/// Shorthand `a=1,b=x` (or JSON) into key/value pairs.
fn shorthand(flag: &str, value: &str) -> Result<BTreeMap<String, Value>, Failure> {
    let value = text_value(value)?;
    if value.trim_start().starts_with('{') {
        return serde_json::from_str(&value).map_err(|e| {
            Failure::Other(format!(
                "Error parsing parameter '{}': Invalid JSON: {e}\nJSON received: {value}",
                flag.trim_start_matches("--")
            ))
        });
    }
    value
        .split(',')
        .map(|pair| {
            pair.split_once('=').map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned()))).ok_or_else(
                || {
                    Failure::Other(format!(
                        "Error parsing parameter '{}': Expected: '=', received: 'EOF' for input:\n{value}",
                        flag.trim_start_matches("--")
                    ))
                },
            )
        })
        .collect()
}

fn bool_member(map: &BTreeMap<String, Value>, key: &str, path: &str) -> Result<Option<bool>, Failure> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(Failure::Validation(format!(
            "Invalid type for parameter {path}, value: {}, type: <class 'str'>, valid types: <class 'bool'>",
            other.as_str().map(str::to_owned).unwrap_or_else(|| other.to_string())
        ))),
    }
}

fn str_member(map: &BTreeMap<String, Value>, key: &str) -> Option<String> {
    map.get(key).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
}

/// botocore's client-side check: the model's minimum lengths.
fn min_length(name: &str, value: &str, min: usize) -> Result<(), Failure> {
    if value.chars().count() < min {
        return Err(Failure::Validation(format!(
            "Invalid length for parameter {name}, value: {}, valid min length: {min}",
            value.chars().count()
        )));
    }
    Ok(())
}

fn repository_name(flags: &Flags) -> Result<Option<String>, Failure> {
    let name = flags.one("--repository-name");
    if let Some(name) = &name {
        min_length("repositoryName", name, 2)?;
    }
    Ok(name)
}

fn image_ids(flags: &Flags, flag: &str) -> Result<Option<Vec<t::ImageIdentifier>>, Failure> {
    flags
        .many(flag)
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    let map = shorthand(flag, v)?;
                    Ok(t::ImageIdentifier::builder()
                        .set_image_digest(str_member(&map, "imageDigest"))
                        .set_image_tag(str_member(&map, "imageTag"))
                        .build())
                })
                .collect()
        })
        .transpose()
}

/// `--image-id imageTag=v1` (or `imageDigest=...`): one image.
fn image_id(flags: &Flags) -> Result<Option<t::ImageIdentifier>, Failure> {
    flags
        .one("--image-id")
        .map(|v| {
            let map = shorthand("--image-id", &v)?;
            Ok(t::ImageIdentifier::builder()
                .set_image_digest(str_member(&map, "imageDigest"))
                .set_image_tag(str_member(&map, "imageTag"))
                .build())
        })
        .transpose()
}

/// `--rules` of put-registry-scanning-configuration: the CLI's JSON form,
/// `[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"prod-*","filterType":"WILDCARD"}]}]`.
fn scanning_rules(value: &str) -> Result<Vec<t::RegistryScanningRule>, Failure> {
    let text = text_value(value)?;
    let parsed: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
        Failure::Other(format!(
            "Error parsing parameter 'rules': Invalid JSON: {e}\nJSON received: {text}\n(the lab's aws takes --rules as JSON)"
        ))
    })?;
    parsed
        .iter()
        .enumerate()
        .map(|(n, rule)| {
            let filters = rule["repositoryFilters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    t::ScanningRepositoryFilter::builder()
                        .set_filter(f["filter"].as_str().map(str::to_owned))
                        .set_filter_type(f["filterType"].as_str().map(t::ScanningRepositoryFilterType::from))
                        .build()
                        .map_err(|_| {
                            Failure::Validation(format!(
                                "Missing required parameter in rules[{n}].repositoryFilters: \"filter\" or \"filterType\""
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            t::RegistryScanningRule::builder()
                .set_scan_frequency(rule["scanFrequency"].as_str().map(t::ScanFrequency::from))
                .set_repository_filters(Some(filters))
                .build()
                .map_err(|_| Failure::Validation(format!("Missing required parameter in rules[{n}]: \"scanFrequency\"")))
        })
        .collect()
}

fn resource_tags(flags: &Flags) -> Result<Option<Vec<t::Tag>>, Failure> {
    flags
        .many("--tags")
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    let map = shorthand("--tags", v)?;
                    t::Tag::builder()
                        .set_key(str_member(&map, "Key"))
                        .set_value(str_member(&map, "Value"))
                        .build()
                        .map_err(|_| Failure::Validation("Missing required parameter in tags[0]: \"Key\"".into()))
                })
                .collect()
        })
        .transpose()
}

fn exclusion_filters(flags: &Flags) -> Result<Option<Vec<t::ImageTagMutabilityExclusionFilter>>, Failure> {
    flags
        .many("--image-tag-mutability-exclusion-filters")
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    let map = shorthand("--image-tag-mutability-exclusion-filters", v)?;
                    t::ImageTagMutabilityExclusionFilter::builder()
                        .set_filter_type(
                            str_member(&map, "filterType")
                                .map(|s| t::ImageTagMutabilityExclusionFilterType::from(s.as_str())),
                        )
                        .set_filter(str_member(&map, "filter"))
                        .build()
                        .map_err(|e| Failure::Validation(e.to_string()))
                })
                .collect()
        })
        .transpose()
}

fn scanning(flags: &Flags) -> Result<Option<t::ImageScanningConfiguration>, Failure> {
    flags
        .one("--image-scanning-configuration")
        .map(|v| {
            let map = shorthand("--image-scanning-configuration", &v)?;
            let scan_on_push = bool_member(&map, "scanOnPush", "imageScanningConfiguration.scanOnPush")?;
            Ok(t::ImageScanningConfiguration::builder().set_scan_on_push(scan_on_push).build())
        })
        .transpose()
}

/// An SDK failure as the CLI prints it.
fn service_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    error: aws_sdk_ecr::error::SdkError<E, R>,
    endpoint: &str,
) -> Failure {
    use aws_sdk_ecr::error::SdkError;
    match &error {
        SdkError::ServiceError(_) => Failure::Service {
            code: error.code().unwrap_or("Unknown").to_owned(),
            operation,
            message: error.message().unwrap_or_default().to_owned(),
        },
        _ if format!("{}", aws_sdk_ecr::error::DisplayErrorContext(&error)).contains("CredentialsNotLoaded") => {
            Failure::Other(
                "Unable to locate credentials. You can configure credentials by running \"aws configure\".".into(),
            )
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            Failure::Other(format!("Could not connect to the endpoint URL: \"{endpoint}/\""))
        }
        _ => Failure::Other(format!("{}", aws_sdk_ecr::error::DisplayErrorContext(&error))),
    }
}

async fn ecr(session: &mut Session, invocation: &Invocation, args: &[String], io: &mut Io) -> Outcome {
    let Some(name) = args.first() else {
        return Err(Failure::Usage("the following arguments are required: operation".into()));
    };
    if name == "wait" {
        return wait(session, invocation, &args[1..]).await;
    }
    let Some((_, operation, spec)) = OPERATIONS.iter().find(|(n, ..)| n == name) else {
        let choices: Vec<&str> = operation_names().collect();
        return Err(Failure::Usage(format!(
            "argument operation: Invalid choice, valid choices are:\n\n{}",
            choices.chunks(2).map(|pair| pair.join(" | ")).collect::<Vec<_>>().join("\n")
        )));
    };
    let operation: &'static str = operation;
    let flags = Flags::parse(&args[1..], spec)?;
    let ecr = client(session, invocation);
    let region = resolve(session, invocation).region;
    let endpoint = endpoint_shown(session, invocation, "api.ecr", &region);
    let registry_id = flags.one("--registry-id");
    let value = match name.as_str() {
        "create-repository" => {
            let mut tags = resource_tags(&flags)?;
            if let (Some(created), Some(repository)) = (&session.created, repository_name(&flags)?) {
                tags.get_or_insert_with(Vec::new).push(
                    t::Tag::builder().key(cleanup::TAG_KEY).value(&created.run).build().expect("key and value set"),
                );
                // Written before the call: if the lab dies now, `ecr-lab cleanup` still knows where to look.
                let record = cleanup::Record {
                    run: created.run.clone(),
                    account: session.backend.account.clone(),
                    region: region.clone(),
                    repository,
                    at: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                };
                cleanup::record(&created.records, &record).map_err(|e| {
                    Failure::Other(format!(
                        "ecr-lab: not creating the repository: cannot record it in {} for cleanup ({e})",
                        created.records.display()
                    ))
                })?;
            }
            let result = ecr
                .create_repository()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_tags(tags)
                .set_image_tag_mutability(
                    flags.one("--image-tag-mutability").map(|m| t::ImageTagMutability::from(m.as_str())),
                )
                .set_image_tag_mutability_exclusion_filters(exclusion_filters(&flags)?)
                .set_image_scanning_configuration(scanning(&flags)?)
                .set_encryption_configuration(
                    flags
                        .one("--encryption-configuration")
                        .map(|v| -> Result<_, Failure> {
                            let map = shorthand("--encryption-configuration", &v)?;
                            t::EncryptionConfiguration::builder()
                                .set_encryption_type(
                                    str_member(&map, "encryptionType").map(|e| t::EncryptionType::from(e.as_str())),
                                )
                                .set_kms_key(str_member(&map, "kmsKey"))
                                .build()
                                .map_err(|_| {
                                    Failure::Validation(
                                        "Missing required parameter in encryptionConfiguration: \"encryptionType\""
                                            .into(),
                                    )
                                })
                        })
                        .transpose()?,
                )
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({ "repository": result.repository().map(out::repository) })
        }
        "describe-repositories" => {
            let pages = ecr
                .describe_repositories()
                .set_registry_id(registry_id)
                .set_repository_names(flags.many("--repository-names"))
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            let mut repositories = Vec::new();
            for page in pages {
                repositories.extend(
                    page.map_err(|e| service_error(operation, e, &endpoint))?
                        .repositories()
                        .iter()
                        .map(out::repository),
                );
            }
            json!({ "repositories": repositories })
        }
        "delete-repository" => {
            let result = ecr
                .delete_repository()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_force(flags.switch("--force"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({ "repository": result.repository().map(out::repository) })
        }
        "get-authorization-token" => {
            #[allow(deprecated)] // the CLI still takes --registry-ids
            let request = ecr.get_authorization_token().set_registry_ids(flags.many("--registry-ids"));
            let result = request.send().await.map_err(|e| service_error(operation, e, &endpoint))?;
            json!({ "authorizationData": result.authorization_data().iter().map(out::authorization_data).collect::<Vec<_>>() })
        }
        "get-login-password" => {
            let result =
                ecr.get_authorization_token().send().await.map_err(|e| service_error(operation, e, &endpoint))?;
            let token = result.authorization_data().first().and_then(|d| d.authorization_token()).unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD.decode(token).unwrap_or_default();
            let text = String::from_utf8_lossy(&decoded);
            io.println(text.strip_prefix("AWS:").unwrap_or(&text));
            return Ok(None);
        }
        "describe-images" => {
            let filter = flags
                .one("--filter")
                .map(|v| -> Result<_, Failure> {
                    let map = shorthand("--filter", &v)?;
                    Ok(t::DescribeImagesFilter::builder()
                        .set_tag_status(str_member(&map, "tagStatus").map(|s| t::TagStatus::from(s.as_str())))
                        .build())
                })
                .transpose()?;
            let pages = ecr
                .describe_images()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_ids(image_ids(&flags, "--image-ids")?)
                .set_filter(filter)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            let mut details = Vec::new();
            for page in pages {
                details.extend(
                    page.map_err(|e| service_error(operation, e, &endpoint))?
                        .image_details()
                        .iter()
                        .map(out::image_detail),
                );
            }
            json!({ "imageDetails": details })
        }
        "list-images" => {
            let filter = flags
                .one("--filter")
                .map(|v| -> Result<_, Failure> {
                    let map = shorthand("--filter", &v)?;
                    Ok(t::ListImagesFilter::builder()
                        .set_tag_status(str_member(&map, "tagStatus").map(|s| t::TagStatus::from(s.as_str())))
                        .build())
                })
                .transpose()?;
            let pages = ecr
                .list_images()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_filter(filter)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            let mut ids = Vec::new();
            for page in pages {
                ids.extend(
                    page.map_err(|e| service_error(operation, e, &endpoint))?.image_ids().iter().map(out::image_id),
                );
            }
            json!({ "imageIds": ids })
        }
        "batch-get-image" => {
            let result = ecr
                .batch_get_image()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_ids(image_ids(&flags, "--image-ids")?)
                .set_accepted_media_types(flags.many("--accepted-media-types"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({
                "images": result.images().iter().map(out::image).collect::<Vec<_>>(),
                "failures": result.failures().iter().map(out::image_failure).collect::<Vec<_>>()
            })
        }
        "batch-delete-image" => {
            let result = ecr
                .batch_delete_image()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_ids(image_ids(&flags, "--image-ids")?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({
                "imageIds": result.image_ids().iter().map(out::image_id).collect::<Vec<_>>(),
                "failures": result.failures().iter().map(out::image_failure).collect::<Vec<_>>()
            })
        }
        "put-image" => {
            let manifest = flags.one("--image-manifest").map(|v| text_value(&v)).transpose()?;
            let result = ecr
                .put_image()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_manifest(manifest)
                .set_image_manifest_media_type(flags.one("--image-manifest-media-type"))
                .set_image_tag(flags.one("--image-tag"))
                .set_image_digest(flags.one("--image-digest"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({ "image": result.image().map(out::image) })
        }
        "put-image-tag-mutability" => {
            let result = ecr
                .put_image_tag_mutability()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_tag_mutability(
                    flags.one("--image-tag-mutability").map(|m| t::ImageTagMutability::from(m.as_str())),
                )
                .set_image_tag_mutability_exclusion_filters(exclusion_filters(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("imageTagMutability", result.image_tag_mutability().map(|m| Value::from(m.as_str()))),
                (
                    "imageTagMutabilityExclusionFilters",
                    out::non_empty(
                        result.image_tag_mutability_exclusion_filters().iter().map(out::exclusion_filter).collect(),
                    ),
                ),
            ])
        }
        "put-image-scanning-configuration" => {
            let result = ecr
                .put_image_scanning_configuration()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_scanning_configuration(scanning(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("imageScanningConfiguration", result.image_scanning_configuration().map(out::scanning)),
            ])
        }
        "tag-resource" => {
            ecr.tag_resource()
                .set_resource_arn(flags.one("--resource-arn"))
                .set_tags(resource_tags(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            return Ok(None);
        }
        "untag-resource" => {
            ecr.untag_resource()
                .set_resource_arn(flags.one("--resource-arn"))
                .set_tag_keys(flags.many("--tag-keys"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            return Ok(None);
        }
        "list-tags-for-resource" => {
            let result = ecr
                .list_tags_for_resource()
                .set_resource_arn(flags.one("--resource-arn"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({ "tags": result.tags().iter().map(out::tag).collect::<Vec<_>>() })
        }
        "describe-registry" => {
            let result = ecr.describe_registry().send().await.map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                (
                    "replicationConfiguration",
                    result
                        .replication_configuration()
                        .map(|c| json!({ "rules": c.rules().iter().map(|_| json!({})).collect::<Vec<_>>() })),
                ),
            ])
        }
        "batch-check-layer-availability" => {
            let result = ecr
                .batch_check_layer_availability()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_layer_digests(flags.many("--layer-digests"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            json!({
                "layers": result.layers().iter().map(out::layer).collect::<Vec<_>>(),
                "failures": result.failures().iter().map(out::layer_failure).collect::<Vec<_>>()
            })
        }
        "initiate-layer-upload" => {
            let result = ecr
                .initiate_layer_upload()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("uploadId", result.upload_id().map(Value::from)),
                ("partSize", result.part_size().map(Value::from)),
            ])
        }
        "upload-layer-part" => {
            let integer = |flag: &str, member: &str| -> Result<Option<i64>, Failure> {
                flags
                    .one(flag)
                    .map(|v| v.parse::<i64>().map_err(|_| Failure::Validation(format!("Invalid type for parameter {member}, value: {v}, type: <class 'str'>, valid types: <class 'int'>"))))
                    .transpose()
            };
            let blob = flags.one("--layer-part-blob").map(|v| load_value(&v)).transpose()?;
            let result = ecr
                .upload_layer_part()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_upload_id(flags.one("--upload-id"))
                .set_part_first_byte(integer("--part-first-byte", "partFirstByte")?)
                .set_part_last_byte(integer("--part-last-byte", "partLastByte")?)
                .set_layer_part_blob(blob.map(aws_sdk_ecr::primitives::Blob::new))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("uploadId", result.upload_id().map(Value::from)),
                ("lastByteReceived", result.last_byte_received().map(Value::from)),
            ])
        }
        "complete-layer-upload" => {
            let result = ecr
                .complete_layer_upload()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_upload_id(flags.one("--upload-id"))
                .set_layer_digests(flags.many("--layer-digests"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("uploadId", result.upload_id().map(Value::from)),
                ("layerDigest", result.layer_digest().map(Value::from)),
            ])
        }
        "get-download-url-for-layer" => {
            let result = ecr
                .get_download_url_for_layer()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_layer_digest(flags.one("--layer-digest"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("downloadUrl", result.download_url().map(Value::from)),
                ("layerDigest", result.layer_digest().map(Value::from)),
            ])
        }
        "put-lifecycle-policy" => {
            let result = ecr
                .put_lifecycle_policy()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_lifecycle_policy_text(flags.one("--lifecycle-policy-text").map(|v| text_value(&v)).transpose()?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
            ])
        }
        "get-lifecycle-policy" => {
            let result = ecr
                .get_lifecycle_policy()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
                ("lastEvaluatedAt", out::time(result.last_evaluated_at())),
            ])
        }
        "delete-lifecycle-policy" => {
            let result = ecr
                .delete_lifecycle_policy()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
                ("lastEvaluatedAt", out::time(result.last_evaluated_at())),
            ])
        }
        "start-lifecycle-policy-preview" => {
            let result = ecr
                .start_lifecycle_policy_preview()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_lifecycle_policy_text(flags.one("--lifecycle-policy-text").map(|v| text_value(&v)).transpose()?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("lifecyclePolicyText", result.lifecycle_policy_text().map(Value::from)),
                ("status", result.status().map(|s| Value::from(s.as_str()))),
            ])
        }
        "get-lifecycle-policy-preview" => {
            let pages = ecr
                .get_lifecycle_policy_preview()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_ids(image_ids(&flags, "--image-ids")?)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            let mut first = None;
            let mut results = Vec::new();
            for page in pages {
                let page = page.map_err(|e| service_error(operation, e, &endpoint))?;
                results.extend(page.preview_results().iter().map(out::preview_result));
                first.get_or_insert(page);
            }
            let first = first.unwrap_or_else(|| {
                aws_sdk_ecr::operation::get_lifecycle_policy_preview::GetLifecyclePolicyPreviewOutput::builder().build()
            });
            // The CLI's paginator puts the merged result key first, then the other members.
            out::object([
                ("previewResults", Some(Value::Array(results))),
                ("registryId", first.registry_id().map(Value::from)),
                ("repositoryName", first.repository_name().map(Value::from)),
                ("lifecyclePolicyText", first.lifecycle_policy_text().map(Value::from)),
                ("status", first.status().map(|s| Value::from(s.as_str()))),
                (
                    "summary",
                    first.summary().map(|s| json!({ "expiringImageTotalCount": s.expiring_image_total_count() })),
                ),
            ])
        }
        "start-image-scan" => {
            let result = ecr
                .start_image_scan()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_id(image_id(&flags)?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("repositoryName", result.repository_name().map(Value::from)),
                ("imageId", result.image_id().map(out::image_id)),
                ("imageScanStatus", result.image_scan_status().map(out::scan_status)),
            ])
        }
        "describe-image-scan-findings" => {
            let pages = ecr
                .describe_image_scan_findings()
                .set_registry_id(registry_id)
                .set_repository_name(repository_name(&flags)?)
                .set_image_id(image_id(&flags)?)
                .into_paginator()
                .send()
                .collect::<Vec<_>>()
                .await;
            let mut first = None;
            let mut findings = Vec::new();
            for page in pages {
                let page = page.map_err(|e| service_error(operation, e, &endpoint))?;
                if let Some(f) = page.image_scan_findings() {
                    findings.extend(f.findings().iter().map(out::finding));
                }
                first.get_or_insert(page);
            }
            let first = first.unwrap_or_else(|| {
                aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput::builder().build()
            });
            out::object([
                ("registryId", first.registry_id().map(Value::from)),
                ("repositoryName", first.repository_name().map(Value::from)),
                ("imageId", first.image_id().map(out::image_id)),
                ("imageScanStatus", first.image_scan_status().map(out::scan_status)),
                ("imageScanFindings", first.image_scan_findings().map(|f| out::scan_findings(f, findings))),
            ])
        }
        "get-registry-scanning-configuration" => {
            let result = ecr
                .get_registry_scanning_configuration()
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                ("registryId", result.registry_id().map(Value::from)),
                ("scanningConfiguration", result.scanning_configuration().map(out::registry_scanning)),
            ])
        }
        "put-registry-scanning-configuration" => {
            let result = ecr
                .put_registry_scanning_configuration()
                .set_scan_type(flags.one("--scan-type").map(|t| t::ScanType::from(t.as_str())))
                .set_rules(flags.one("--rules").map(|v| scanning_rules(&v)).transpose()?)
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([(
                "registryScanningConfiguration",
                result.registry_scanning_configuration().map(out::registry_scanning),
            )])
        }
        "batch-get-repository-scanning-configuration" => {
            let result = ecr
                .batch_get_repository_scanning_configuration()
                .set_repository_names(flags.many("--repository-names"))
                .send()
                .await
                .map_err(|e| service_error(operation, e, &endpoint))?;
            out::object([
                (
                    "scanningConfigurations",
                    Some(Value::Array(result.scanning_configurations().iter().map(out::repository_scanning).collect())),
                ),
                (
                    "failures",
                    Some(Value::Array(
                        result
                            .failures()
                            .iter()
                            .map(|f| {
                                out::object([
                                    ("repositoryName", f.repository_name().map(Value::from)),
                                    ("failureCode", f.failure_code().map(|c| Value::from(c.as_str()))),
                                    ("failureReason", f.failure_reason().map(Value::from)),
                                ])
                            })
                            .collect(),
                    )),
                ),
            ])
        }
        other => unreachable!("{other} is in OPERATIONS but not handled"),
    };
    Ok(Some(value))
}

/// `--query`, as the CLI's Python jmespath evaluates it: a backtick literal that is not JSON is a
/// string (`` `test` ``, the legacy form), and a multi-select hash keeps its keys in the order written.
fn apply_query(query: &str, value: &Value) -> Result<Value, Failure> {
    let expression = jmespath::compile(&legacy_literals(query))
        .map_err(|e| Failure::Other(format!("Bad value for --query {query}: Invalid jmespath expression: {e}")))?;
    let data = jmespath::Variable::from_json(&value.to_string()).map_err(Failure::Other)?;
    let found = expression.search(data).map_err(|e| Failure::Other(format!("Bad value for --query {query}: {e}")))?;
    let mut result = serde_json::to_value(&*found).map_err(|e| Failure::Other(e.to_string()))?;
    let mut orders = Vec::new();
    hash_key_orders(expression.as_ast(), &mut orders);
    reorder_keys(&mut result, &orders);
    Ok(result)
}

/// Rewrites each backtick literal that is not valid JSON as a JSON string, as Python's jmespath does.
fn legacy_literals(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        // The closing backtick is the next one not escaped with a backslash.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '`' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[start..]);
            return out;
        };
        let literal = after[..end].replace("\\`", "`");
        if serde_json::from_str::<Value>(&literal).is_ok() {
            out.push_str(&rest[start..start + end + 2]);
        } else {
            let json = Value::String(literal.trim().to_owned()).to_string().replace('`', "\\`");
            out.push('`');
            out.push_str(&json);
            out.push('`');
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The key order of every multi-select hash (`{a: x, b: y}`) in the expression.
fn hash_key_orders(ast: &jmespath::ast::Ast, orders: &mut Vec<Vec<String>>) {
    use jmespath::ast::Ast;
    match ast {
        Ast::MultiHash { elements, .. } => {
            orders.push(elements.iter().map(|kv| kv.key.clone()).collect());
            for kv in elements {
                hash_key_orders(&kv.value, orders);
            }
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            hash_key_orders(lhs, orders);
            hash_key_orders(rhs, orders);
        }
        Ast::Condition { predicate, then, .. } => {
            hash_key_orders(predicate, orders);
            hash_key_orders(then, orders);
        }
        Ast::Expref { ast, .. } => hash_key_orders(ast, orders),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            hash_key_orders(node, orders)
        }
        Ast::Function { args, .. } => args.iter().for_each(|a| hash_key_orders(a, orders)),
        Ast::MultiList { elements, .. } => elements.iter().for_each(|a| hash_key_orders(a, orders)),
        _ => {}
    }
}

/// Puts the keys of every object built by a multi-select hash back in the order written.
fn reorder_keys(value: &mut Value, orders: &[Vec<String>]) {
    match value {
        Value::Object(map) => {
            for member in map.values_mut() {
                reorder_keys(member, orders);
            }
            let keys: Vec<&String> = map.keys().collect();
            if let Some(order) = orders.iter().find(|o| o.len() == keys.len() && o.iter().all(|k| map.contains_key(k)))
            {
                let mut ordered = serde_json::Map::new();
                for key in order {
                    if let Some(v) = map.remove(key) {
                        ordered.insert(key.clone(), v);
                    }
                }
                *map = ordered;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| reorder_keys(i, orders)),
        _ => {}
    }
}

/// A response as the CLI prints it: `--query` applied, then `--output json|text`.
fn render(invocation: &Invocation, value: Value, io: &mut Io) -> Outcome {
    let value = match &invocation.query {
        Some(query) => apply_query(query, &value)?,
        None => value,
    };
    match invocation.output.as_str() {
        "text" => {
            io.out.extend_from_slice(out::text(&value).as_bytes());
            Ok(None)
        }
        _ => Ok(Some(value)),
    }
}

/// The CLI's waiters for what a lesson waits on: `aws ecr wait image-scan-complete` and
/// `aws ecr wait lifecycle-policy-preview-complete`. botocore's definitions: poll the describe call,
/// succeed on COMPLETE, fail on FAILED, 60 attempts. The lab polls every second (botocore every 5).
async fn wait(session: &mut Session, invocation: &Invocation, args: &[String]) -> Outcome {
    const WAITERS: &str = "image-scan-complete | lifecycle-policy-preview-complete";
    let Some(waiter) = args.first().map(String::as_str) else {
        return Err(Failure::Usage("the following arguments are required: waiter_name".into()));
    };
    let (name, path, spec): (&str, &str, &[Flag]) = match waiter {
        "image-scan-complete" => (
            "ImageScanComplete",
            "imageScanStatus.status",
            &[
                ("--registry-id", Arity::One, false),
                ("--repository-name", Arity::One, true),
                ("--image-id", Arity::One, true),
            ],
        ),
        "lifecycle-policy-preview-complete" => (
            "LifecyclePolicyPreviewComplete",
            "status",
            &[("--registry-id", Arity::One, false), ("--repository-name", Arity::One, true)],
        ),
        other => {
            return Err(Failure::Usage(format!(
                "argument waiter_name: Invalid choice, valid choices are:\n\n{WAITERS}\n(got '{other}')"
            )));
        }
    };
    let flags = Flags::parse(&args[1..], spec)?;
    let ecr = client(session, invocation);
    // A service error ends the waiter, as botocore's does.
    let failed = |e: &dyn ProvideErrorMetadata| {
        Failure::Other(format!(
            "Waiter {name} failed: An error occurred ({}): {}",
            e.code().unwrap_or("Unknown"),
            e.message().unwrap_or_default()
        ))
    };
    for _ in 0..60 {
        let status = if waiter == "image-scan-complete" {
            ecr.describe_image_scan_findings()
                .set_registry_id(flags.one("--registry-id"))
                .set_repository_name(repository_name(&flags)?)
                .set_image_id(image_id(&flags)?)
                .send()
                .await
                .map(|r| r.image_scan_status().and_then(|s| s.status()).map(|s| s.as_str().to_owned()))
                .map_err(|e| failed(&e))?
        } else {
            ecr.get_lifecycle_policy_preview()
                .set_registry_id(flags.one("--registry-id"))
                .set_repository_name(repository_name(&flags)?)
                .send()
                .await
                .map(|r| r.status().map(|s| s.as_str().to_owned()))
                .map_err(|e| failed(&e))?
        };
        match status.as_deref() {
            Some("COMPLETE") => return Ok(None),
            Some("FAILED") => {
                return Err(Failure::Other(format!(
                    "Waiter {name} failed: Waiter encountered a terminal failure state: For expression \"{path}\" we matched expected path: \"FAILED\""
                )));
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Err(Failure::Other(format!("Waiter {name} failed: Max attempts exceeded")))
}

async fn sts(session: &mut Session, invocation: &Invocation, args: &[String]) -> Outcome {
    match args.first().map(String::as_str) {
        Some("get-caller-identity") => {}
        Some(other) => {
            return Err(Failure::Usage(format!(
                "argument operation: Invalid choice: '{other}' (the lab's aws sts knows get-caller-identity)"
            )));
        }
        None => return Err(Failure::Usage("the following arguments are required: operation".into())),
    }
    Flags::parse(&args[1..], &[])?;
    let resolved = resolve(session, invocation);
    let endpoint = endpoint_shown(session, invocation, "sts", &resolved.region);
    let Some((key, secret, token)) =
        resolved.credentials.as_ref().filter(|_| session.backend.kind == BackendKind::Mock).map(|c| {
            (c.access_key_id().to_owned(), c.secret_access_key().to_owned(), c.session_token().map(str::to_owned))
        })
    else {
        // Real AWS: the SDK's STS client, with the chain's credentials or the shell's own.
        let sts =
            session.backend.sts_client(Some(&resolved.region), resolved.credentials, invocation.endpoint.as_deref());
        let output =
            sts.get_caller_identity().send().await.map_err(|e| service_error("GetCallerIdentity", e, &endpoint))?;
        return Ok(Some(out::object([
            ("UserId", output.user_id().map(Value::from)),
            ("Account", output.account().map(Value::from)),
            ("Arn", output.arn().map(Value::from)),
        ])));
    };
    let host = endpoint.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/').to_owned();
    let body = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let mut headers = hyper::HeaderMap::new();
    headers.insert("host", host.parse().map_err(|_| Failure::Other(format!("Invalid endpoint: {endpoint}")))?);
    headers.insert("content-type", "application/x-www-form-urlencoded; charset=utf-8".parse().expect("ascii"));
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    mock_registry::sigv4::Signer {
        access_key_id: &key,
        secret_access_key: &secret,
        session_token: token.as_deref(),
        region: &resolved.region,
        service: "sts",
    }
    .sign(&hyper::Method::POST, "/", &mut headers, &body, now);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut request = hyper::Request::post(format!("{}/", endpoint.trim_end_matches('/')))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(|e| Failure::Other(e.to_string()))?;
    *request.headers_mut() = headers;
    let response = client
        .request(request)
        .await
        .map_err(|_| Failure::Other(format!("Could not connect to the endpoint URL: \"{endpoint}/\"")))?;
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map_err(|e| Failure::Other(e.to_string()))?
        .to_bytes();
    let xml = String::from_utf8_lossy(&bytes);
    let field = |name: &str| {
        xml.split(&format!("<{name}>"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("</{name}>")).next())
            .map(xml_unescape)
    };
    if !status.is_success() {
        return Err(Failure::Service {
            code: field("Code").unwrap_or_else(|| status.as_u16().to_string()),
            operation: "GetCallerIdentity",
            message: field("Message").unwrap_or_default(),
        });
    }
    Ok(Some(out::object([
        ("UserId", field("UserId").map(Value::from)),
        ("Account", field("Account").map(Value::from)),
        ("Arn", field("Arn").map(Value::from)),
    ])))
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// `aws configure` (four prompts, answered from stdin), `aws configure set KEY VALUE`, `aws configure list`.
fn configure(session: &mut Session, args: &[String], io: &mut Io) -> Outcome {
    if session.backend.kind == BackendKind::Aws && args.first().map(String::as_str) != Some("list") {
        io.eprintln(
            "ecr-lab: on real AWS the lab shell uses your AWS credentials chain (profiles, SSO, environment); this lab profile is only read on the mock",
        );
    }
    let mut profile = read_profile(session);
    let save = |profile: &BTreeMap<String, String>| {
        write_profile(session, profile).map_err(|e| Failure::Other(format!("cannot save the lab profile: {e}")))
    };
    match args.first().map(String::as_str) {
        None => {
            // Answers come from a pipe, or, at the interactive prompt, from the terminal.
            let ask_terminal = io.stdin.is_empty() && std::io::IsTerminal::is_terminal(&std::io::stdin());
            let input = String::from_utf8_lossy(&io.stdin).into_owned();
            let mut answers = input.lines();
            let prompts = [
                ("aws_access_key_id", "AWS Access Key ID"),
                ("aws_secret_access_key", "AWS Secret Access Key"),
                ("region", "Default region name"),
                ("output", "Default output format"),
            ];
            for (key, label) in prompts {
                let current = profile.get(key).map(|v| {
                    if key.starts_with("aws_") {
                        format!("{}{}", "*".repeat(16), &v[v.len().saturating_sub(4)..])
                    } else {
                        v.clone()
                    }
                });
                let prompt = format!("{label} [{}]: ", current.unwrap_or_else(|| "None".into()));
                let answer = if ask_terminal {
                    use std::io::Write as _;
                    print!("{prompt}");
                    let _ = std::io::stdout().flush();
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                    line
                } else {
                    io.out.extend_from_slice(prompt.as_bytes());
                    answers.next().unwrap_or_default().to_owned()
                };
                if !answer.trim().is_empty() {
                    profile.insert(key.to_owned(), answer.trim().to_owned());
                }
            }
            if !ask_terminal {
                io.out.push(b'\n');
            }
            save(&profile)?;
            Ok(None)
        }
        Some("set") => match (args.get(1), args.get(2)) {
            (Some(key), Some(value)) => {
                profile.insert(key.trim_start_matches("default.").to_owned(), value.clone());
                save(&profile)?;
                Ok(None)
            }
            _ => Err(Failure::Usage("the following arguments are required: varname, value".into())),
        },
        Some("get") => match args.get(1).and_then(|key| profile.get(key.trim_start_matches("default."))) {
            Some(value) => {
                io.println(value);
                Ok(None)
            }
            None => Err(Failure::Other(String::new())),
        },
        Some("list") => {
            let resolved = resolve(
                session,
                &Invocation { region: None, output: "json".into(), query: None, endpoint: None, rest: Vec::new() },
            );
            let source = if session.var("AWS_ACCESS_KEY_ID").is_some() {
                "env"
            } else if session.backend.kind == BackendKind::Aws {
                "aws-chain"
            } else if profile.contains_key("aws_access_key_id") {
                "shared-credentials-file"
            } else {
                "ecr-lab"
            };
            let masked = |v: Option<&str>| match v {
                Some(v) => format!("{}{}", "*".repeat(16), &v[v.len().saturating_sub(4)..]),
                None => "<the AWS chain's>".to_owned(),
            };
            io.println("      Name                    Value             Type    Location");
            io.println("      ----                    -----             ----    --------");
            io.println("   profile                <not set>             None    None");
            let key = resolved.credentials.as_ref().map(|c| c.access_key_id());
            let secret = resolved.credentials.as_ref().map(|c| c.secret_access_key());
            io.println(format!("access_key     {:>20} {:>16}    ", masked(key), source));
            io.println(format!("secret_key     {:>20} {:>16}    ", masked(secret), source));
            io.println(format!(
                "    region     {:>20} {:>16}    ",
                resolved.region,
                if profile.contains_key("region") { "config-file" } else { "ecr-lab" }
            ));
            Ok(None)
        }
        Some(other) => Err(Failure::Usage(format!("argument operation: Invalid choice: '{other}' (set, get, list)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::OPERATIONS;

    #[test]
    fn queries_read_as_the_cli_reads_them() {
        assert_eq!(super::legacy_literals("a[?n==`test`].b"), "a[?n==`\"test\"`].b");
        assert_eq!(super::legacy_literals("a[?n==`\"x\"`]"), "a[?n==`\"x\"`]");
        assert_eq!(super::legacy_literals("contains(t, `v1`) && `3` == `3`"), "contains(t, `\"v1\"`) && `3` == `3`");
        assert_eq!(super::legacy_literals("unclosed `x"), "unclosed `x");
        let value = serde_json::json!({ "items": [{ "a": 1, "z": 2, "m": [3] }] });
        let found = super::apply_query("items[].{z: z, a: a, m: m}", &value).ok().unwrap();
        assert_eq!(found.to_string(), r#"[{"z":2,"a":1,"m":[3]}]"#);
    }

    #[test]
    fn every_operation_the_mock_supports_has_a_built_in_command() {
        let built_in: Vec<&str> = OPERATIONS.iter().map(|(_, api, _)| *api).collect();
        let missing: Vec<&str> = mock_registry::ecr_api::Operation::ALL
            .iter()
            .map(|op| op.name())
            .filter(|name| !built_in.contains(name))
            .collect();
        assert!(missing.is_empty(), "no built-in `aws ecr` command for {missing:?}");
    }
}
