//! The fault catalogue (DESIGN §1): each documented error as a condition arranged in the lab, the
//! command that meets it, and the exact text the learner then sees. Faults are conditions, not
//! canned replies: the mock answers as ECR would, for any client.

use std::collections::BTreeMap;

use super::fill;
use crate::shell::Session;

pub struct FaultSpec {
    pub id: &'static str,
    /// What the condition is, in words (shown by `lint` when an id is unknown).
    pub summary: &'static str,
    /// Shell lines that arrange the condition (variables filled in).
    pub arrange: &'static [&'static str],
    /// Shell lines that undo it when the stage is left.
    pub revert: &'static [&'static str],
    /// The command that meets the error.
    pub trigger: &'static str,
    /// What the learner sees (on stdout or stderr).
    pub error: &'static str,
}

/// Lines that make sure the guide's starting point exists: the repository, the tagged image, a login.
const READY: &[&str] = &[
    "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
    "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
    "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
];

pub const CATALOGUE: &[FaultSpec] = &[
    FaultSpec {
        id: "missing-repo",
        summary: "the repository does not exist",
        arrange: &[
            "aws ecr delete-repository --repository-name {{repo}} --force > /dev/null 2>&1",
            "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
            "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
        ],
        revert: &[],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "name unknown: The repository with name '{{repo}}' does not exist in the registry with id '{{account}}'",
    },
    FaultSpec {
        id: "expired-credentials",
        summary: "the AWS access key is not valid (expired, revoked or mistyped)",
        arrange: &["export AWS_ACCESS_KEY_ID=AKIAEXPIREDLABKEY001 AWS_SECRET_ACCESS_KEY=no-longer-valid"],
        revert: &["unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"],
        trigger: "aws ecr get-login-password --region {{region}}",
        error: "An error occurred (UnrecognizedClientException) when calling the GetAuthorizationToken operation: The security token included in the request is invalid.",
    },
    FaultSpec {
        id: "missing-login",
        summary: "docker holds no login for the registry",
        arrange: &[
            "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
            "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
            "docker logout {{registry}} > /dev/null",
        ],
        revert: &[],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "no basic auth credentials",
    },
    FaultSpec {
        id: "untagged-image",
        summary: "the image was never tagged with the repository URI",
        arrange: &[
            "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
            "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
            "docker rmi {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
        ],
        revert: &[],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "An image does not exist locally with the tag: {{registry}}/{{repo}}",
    },
    FaultSpec {
        id: "immutable-overwrite",
        summary: "the repository is immutable and already holds the tag",
        arrange: &[
            READY[0],
            READY[1],
            READY[2],
            "aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability IMMUTABLE > /dev/null",
            "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
            "docker tag {{sample_v2}} {{registry}}/{{repo}}:{{tag}}",
        ],
        revert: &[
            "aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability MUTABLE > /dev/null 2>&1",
        ],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "tag invalid: The image tag '{{tag}}' already exists in the '{{repo}}' repository and cannot be overwritten because the repository is immutable.",
    },
    FaultSpec {
        id: "wrong-region",
        summary: "the token is for another region than the registry",
        arrange: &["export AWS_DEFAULT_REGION=us-east-1"],
        revert: &["unset AWS_DEFAULT_REGION"],
        trigger: "aws ecr get-login-password | docker login --username AWS --password-stdin {{registry}}",
        error: "Error response from daemon: login attempt to https://{{registry}}/v2/ failed with status: 400 Bad Request",
    },
    FaultSpec {
        id: "wrong-account",
        summary: "the registry URI names another account",
        arrange: &[],
        revert: &[],
        trigger: "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin 111122223333.dkr.ecr.{{region}}.amazonaws.com",
        error: "Error response from daemon: login attempt to https://111122223333.dkr.ecr.{{region}}.amazonaws.com/v2/ failed with status: 400 Bad Request",
    },
    FaultSpec {
        id: "expired-login",
        summary: "the registry login is older than 12 hours",
        arrange: &[READY[0], READY[1], READY[2], "ecr-lab clock advance 13h > /dev/null"],
        revert: &[],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "denied: Your authorization token has expired. Reauthenticate and try again.",
    },
];

pub fn spec(id: &str) -> Option<&'static FaultSpec> {
    CATALOGUE.iter().find(|f| f.id == id)
}

/// Runs shell lines quietly in the session; returns what they printed if one failed.
pub async fn run_lines(session: &mut Session, lines: &[String]) -> Result<(), String> {
    for line in lines {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = session.run_line(line, &mut out, &mut err).await;
        if status != 0 && !line.contains("2>&1") {
            return Err(format!(
                "`{line}` failed ({status}): {}{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ));
        }
    }
    Ok(())
}

/// Arranges a fault (the block's own `mock:` lines if it has them).
pub async fn arrange(
    session: &mut Session,
    id: &str,
    custom: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    let lines: Vec<String> = match (custom, spec(id)) {
        (Some(custom), _) => custom.lines().filter(|l| !l.trim().is_empty()).map(|l| fill(l, vars)).collect(),
        (None, Some(spec)) => spec.arrange.iter().map(|l| fill(l, vars)).collect(),
        (None, None) => return Err(format!("fault `{id}` is not in the catalogue")),
    };
    run_lines(session, &lines).await
}

pub async fn revert(session: &mut Session, id: &str, vars: &BTreeMap<String, String>) {
    if let Some(spec) = spec(id) {
        let lines: Vec<String> = spec.revert.iter().map(|l| fill(l, vars)).collect();
        let _ = run_lines(session, &lines).await;
    }
}
