//! The ECR JSON 1.1 API: `X-Amz-Target` → [`Operation`] → parse the body → one state call →
//! serialise. Rules live in `state`; wording lives in `error`; shapes live in `wire`.

pub(crate) mod access;
mod backfill;
pub mod error;
mod layers;
mod operations;
mod policies;
mod pull_through;
mod referrers;
mod registry;
mod replication;
mod scanning;
mod templates;
pub mod wire;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub use error::{EcrError, EcrErrorCode};
pub(crate) use operations::{new_repository, tag_mutability};

use crate::Lab;
use crate::state::Caller;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";

macro_rules! operations {
    (supported { $($op:ident),* $(,)? } modeled { $($other:ident),* $(,)? }) => {
        /// The operations this mock implements. The `match` in `operations::dispatch` is the dispatch table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($op),* }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }
        }

        /// Operations in ECR's service model that this mock does not implement yet.
        pub const NOT_IMPLEMENTED: &[&str] = &[$(stringify!($other)),*];
    };
}

operations! {
    supported {
        CreateRepository, DescribeRepositories, DeleteRepository, GetAuthorizationToken, DescribeImages, ListImages,
        BatchGetImage, BatchDeleteImage, PutImage, PutImageTagMutability, PutImageScanningConfiguration, TagResource,
        UntagResource, ListTagsForResource, DescribeRegistry, BatchCheckLayerAvailability, InitiateLayerUpload,
        UploadLayerPart, CompleteLayerUpload, GetDownloadUrlForLayer, PutLifecyclePolicy, GetLifecyclePolicy,
        DeleteLifecyclePolicy, StartLifecyclePolicyPreview, GetLifecyclePolicyPreview, StartImageScan,
        DescribeImageScanFindings, GetRegistryScanningConfiguration, PutRegistryScanningConfiguration,
        BatchGetRepositoryScanningConfiguration, SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy,
        PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy, GetAccountSetting, PutAccountSetting,
        CreateRepositoryCreationTemplate, DescribeRepositoryCreationTemplates, UpdateRepositoryCreationTemplate,
        DeleteRepositoryCreationTemplate, UpdateImageStorageClass, RegisterPullTimeUpdateExclusion,
        DeregisterPullTimeUpdateExclusion, ListPullTimeUpdateExclusions, PutSigningConfiguration,
        GetSigningConfiguration, DeleteSigningConfiguration, DescribeImageSigningStatus, ListImageReferrers,
        CreatePullThroughCacheRule, DescribePullThroughCacheRules, UpdatePullThroughCacheRule, DeletePullThroughCacheRule,
        ValidatePullThroughCacheRule, PutReplicationConfiguration, DescribeImageReplicationStatus,
        StartReplicationBackfill, StopReplicationBackfill, ListReplicationBackfills, DescribeReplicationBackfillResults,
    }
    modeled {}
}

/// What an `X-Amz-Target` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Supported(Operation),
    /// In ECR's model, not in this mock (yet).
    NotImplemented(String),
    /// Not an ECR operation at all.
    Unknown(String),
}

impl Target {
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let target = headers.get("x-amz-target")?.to_str().unwrap_or_default();
        let Some(name) = target.strip_prefix(TARGET_PREFIX) else {
            return Some(Self::Unknown(target.to_owned()));
        };
        Some(match Operation::ALL.iter().find(|op| op.name() == name) {
            Some(op) => Self::Supported(*op),
            None if NOT_IMPLEMENTED.contains(&name) => Self::NotImplemented(name.to_owned()),
            None => Self::Unknown(target.to_owned()),
        })
    }

    /// The error for a target this mock will not run (after the caller was authenticated).
    pub fn refusal(&self) -> Option<EcrError> {
        match self {
            Self::Supported(_) => None,
            Self::NotImplemented(name) => {
                let supported: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
                Some(EcrError::new(
                    EcrErrorCode::UnsupportedOperationException,
                    format!(
                        "The ECR operation {name} is not supported by the ecr-lab mock. Supported operations: {}.",
                        supported.join(", ")
                    ),
                ))
            }
            Self::Unknown(target) => Some(EcrError::new(
                EcrErrorCode::UnknownOperationException,
                format!("Unknown operation '{target}': ECR has no such operation, so the ecr-lab mock cannot run it"),
            )),
        }
    }
}

/// The headers an SDK sends for one ECR call to `host`, signed by `signer` (for the lab's own
/// clients, the benchmark and tests).
pub fn signed_headers(
    host: &str,
    operation: &str,
    body: &[u8],
    signer: &crate::sigv4::Signer<'_>,
    wall_seconds: i64,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", host.parse().expect("a host is a header value"));
    headers.insert("content-type", axum::http::HeaderValue::from_static(CONTENT_TYPE));
    headers.insert("x-amz-target", format!("{TARGET_PREFIX}{operation}").parse().expect("operation names are ascii"));
    signer.sign(&axum::http::Method::POST, "/", &mut headers, body, wall_seconds);
    headers
}

/// Runs one authenticated ECR call; `host` is the `Host` the client used (for URLs this server serves).
pub async fn handle(lab: &Lab, caller: &Caller, operation: Operation, body: &[u8], host: &str) -> Response {
    if lab.class().is_some()
        && let Some(refusal) = other_account(caller, operation, body)
    {
        return refusal.into_response();
    }
    if let Some(denial) = access::check(lab, caller, operation, body) {
        return denial.into_response();
    }
    match operations::dispatch(lab, caller, operation, body, host).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// In class mode no resource-based policy lets one account in another's registry: a call that names
/// another account (`registryId`, `registryIds`, a `resourceArn`) is refused as IAM refuses it.
fn other_account(caller: &Caller, operation: Operation, body: &[u8]) -> Option<EcrError> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut accounts: Vec<String> = Vec::new();
    if let Some(id) = value.get("registryId").and_then(|v| v.as_str()) {
        accounts.push(id.to_owned());
    }
    if let Some(ids) = value.get("registryIds").and_then(|v| v.as_array()) {
        accounts.extend(ids.iter().filter_map(|v| v.as_str()).map(str::to_owned));
    }
    if let Some(arn) = value.get("resourceArn").and_then(|v| v.as_str()) {
        accounts.extend(arn.split(':').nth(4).map(str::to_owned));
    }
    let account = accounts.into_iter().find(|a| a != caller.account.as_str())?;
    let repository = value.get("repositoryName").and_then(|v| v.as_str()).unwrap_or("*");
    let action = format!("ecr:{}", operation.name());
    Some(EcrError::new(
        EcrErrorCode::AccessDeniedException,
        format!(
            "User: {} is not authorized to perform: {action} on resource: arn:aws:ecr:{}:{account}:repository/{repository} \
             because no resource-based policy allows the {action} action",
            caller.arn, caller.region
        ),
    ))
}

/// Parses a request body; `{}` when empty. Syntax and type errors are SerializationException.
fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, EcrError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            EcrError::serialization(format!("The request body is not valid JSON: {inner}"))
        } else {
            EcrError::serialization(format!("Member '{path}' has the wrong type: {inner}"))
        }
    })
}

fn json(value: impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(&value).expect("responses serialize");
    ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}
