//! The fault catalogue (DESIGN §1), as data: each documented error as a condition arranged in the lab, the
//! command that meets it, and the exact text the learner then sees. Faults are conditions, not
//! canned replies: the mock answers as ECR would, for any client. On real AWS each fault has its own
//! recipe that meets the genuine error without harming the account: it only touches what the lab
//! created (tagged, see `backend::cleanup`), the lab shell's own environment and local images. A
//! fault that cannot be made real (`aws: None`) runs its stage on the bundled mock. Arranging a fault
//! through the lab shell is `crate::runner::fault`'s.

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
    /// How to arrange it on real AWS, or `None` when it cannot be made real there.
    pub aws: Option<AwsRecipe>,
}

/// A fault's arrangement on real AWS.
pub struct AwsRecipe {
    pub arrange: &'static [&'static str],
    pub revert: &'static [&'static str],
}

/// Lines that make sure the guide's starting point exists: the repository, the tagged image, a login.
const READY: &[&str] = &[
    "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
    "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
    "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
];

/// `immutable-overwrite`, the same on the mock and on AWS (there on the lab's own tagged repository,
/// immutable for the stage only).
const IMMUTABLE_ARRANGE: &[&str] = &[
    READY[0],
    READY[1],
    READY[2],
    "aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability IMMUTABLE > /dev/null",
    "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
    "docker tag {{sample_v2}} {{registry}}/{{repo}}:{{tag}}",
];
const IMMUTABLE_REVERT: &[&str] =
    &["aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability MUTABLE > /dev/null 2>&1"];

/// `wrong-account`: the image tagged for the colleague's registry (111122223333, AWS's example
/// account), and docker logged in to it, which a token for this principal in this region does.
const WRONG_ACCOUNT: &[&str] = &[
    "docker tag {{sample}} 111122223333.dkr.ecr.{{region}}.amazonaws.com/{{repo}}:{{tag}}",
    "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin 111122223333.dkr.ecr.{{region}}.amazonaws.com > /dev/null 2>&1",
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
        // The lab's own repository name (never one the learner had: the runner checks), deleted.
        aws: Some(AwsRecipe {
            arrange: &[
                "aws ecr delete-repository --repository-name {{repo}} --force > /dev/null 2>&1",
                "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
                "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
            ],
            revert: &[],
        }),
    },
    FaultSpec {
        id: "expired-credentials",
        summary: "the AWS access key is not valid (expired, revoked or mistyped)",
        arrange: &["export AWS_ACCESS_KEY_ID=AKIAEXPIREDLABKEY001 AWS_SECRET_ACCESS_KEY=no-longer-valid"],
        revert: &["unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"],
        trigger: "aws ecr get-login-password --region {{region}}",
        error: "An error occurred (UnrecognizedClientException) when calling the GetAuthorizationToken operation: The security token included in the request is invalid.",
        // An invalid key in the lab shell's own environment: the learner's real keys are untouched.
        aws: Some(AwsRecipe {
            arrange: &["export AWS_ACCESS_KEY_ID=AKIAEXPIREDLABKEY001 AWS_SECRET_ACCESS_KEY=no-longer-valid"],
            revert: &["unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"],
        }),
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
        // A docker config of the lab's with no entry for the registry: the learner's own docker login stays.
        aws: Some(AwsRecipe {
            arrange: &[
                "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
                "docker tag {{sample}} {{registry}}/{{repo}}:{{tag}}",
                "export DOCKER_CONFIG=$HOME/docker-without-logins",
                "docker logout {{registry}} > /dev/null",
            ],
            revert: &["unset DOCKER_CONFIG"],
        }),
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
        aws: Some(AwsRecipe {
            arrange: &[
                "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
                "aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
                "docker rmi {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
            ],
            revert: &[],
        }),
    },
    FaultSpec {
        id: "immutable-overwrite",
        summary: "the repository is immutable and already holds the tag",
        arrange: IMMUTABLE_ARRANGE,
        revert: IMMUTABLE_REVERT,
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "tag invalid: The image tag '{{tag}}' already exists in the '{{repo}}' repository and cannot be overwritten because the repository is immutable.",
        // The lab's own (tagged) repository, immutable for the stage only.
        aws: Some(AwsRecipe { arrange: IMMUTABLE_ARRANGE, revert: IMMUTABLE_REVERT }),
    },
    FaultSpec {
        id: "wrong-region",
        summary: "the token is for another region than the registry",
        arrange: &["export AWS_DEFAULT_REGION={{other_region}}"],
        revert: &["unset AWS_DEFAULT_REGION"],
        trigger: "aws ecr get-login-password | docker login --username AWS --password-stdin {{registry}}",
        error: "Error response from daemon: login attempt to https://{{registry}}/v2/ failed with status: 400 Bad Request",
        // A token from another region for this region's registry.
        aws: Some(AwsRecipe {
            arrange: &["export AWS_DEFAULT_REGION={{other_region}}"],
            revert: &["unset AWS_DEFAULT_REGION"],
        }),
    },
    FaultSpec {
        id: "wrong-account",
        summary: "the image is tagged for another account's registry, which grants this principal nothing",
        arrange: WRONG_ACCOUNT,
        revert: &[],
        // A registry token stands for the principal in its region: the login to another account's
        // registry succeeds and IAM refuses at the push (the principal's ARN leads the line:
        // `denied: User: ARN is not authorized ...`). Captured: gh:aws/amazon-ecs-agent#654,
        // gh:aws-actions/amazon-ecr-login#232 and #334; GetAuthorizationToken's reference ("can be
        // used to access any Amazon ECR registry that your IAM principal has access to").
        trigger: "docker push 111122223333.dkr.ecr.{{region}}.amazonaws.com/{{repo}}:{{tag}}",
        error: "is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:{{region}}:111122223333:repository/{{repo}} because no resource-based policy allows the ecr:InitiateLayerUpload action",
        // Nothing in the account changes: a tag on a local image and a login to a registry that refuses.
        aws: Some(AwsRecipe { arrange: WRONG_ACCOUNT, revert: &[] }),
    },
    FaultSpec {
        id: "expired-login",
        summary: "the registry login is older than 12 hours",
        arrange: &[READY[0], READY[1], READY[2], "ecr-lab clock advance 13h > /dev/null"],
        revert: &[],
        trigger: "docker push {{registry}}/{{repo}}:{{tag}}",
        error: "denied: Your authorization token has expired. Reauthenticate and try again.",
        // A registry token lasts 12 hours on AWS and its clock cannot be moved: this stage uses the mock.
        aws: None,
    },
    FaultSpec {
        id: "unsigned-image",
        summary: "the tag was pushed over after signing: nothing signs the image it names now",
        arrange: UNSIGNED_ARRANGE,
        revert: UNSIGNED_REVERT,
        trigger: "verify-signature {{registry}}/{{repo}}:{{tag}} --key cosign.pub",
        error: "Error: no signatures found",
        // Pushes and a signature in the lab's own repository only.
        aws: Some(AwsRecipe { arrange: UNSIGNED_ARRANGE, revert: UNSIGNED_REVERT }),
    },
    FaultSpec {
        id: "access-denied-pull",
        summary: "docker works as an IAM user (ci-pusher) whose policy allows pushing to the repository, not pulling",
        arrange: CI_PUSHER_ARRANGE,
        revert: LOGIN_AS_LEARNER,
        trigger: "docker pull {{registry}}/{{repo}}:{{tag}}",
        error: "denied: User: arn:aws:iam::{{account}}:user/ci-pusher is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:{{region}}:{{account}}:repository/{{repo}} because no identity-based policy allows the ecr:BatchGetImage action",
        // Mock only: making IAM users in a learner's account is more than a lab may touch.
        aws: None,
    },
    FaultSpec {
        id: "access-denied-push",
        summary: "docker works as an IAM user (deploy) whose policy allows pulling from the repository, not pushing",
        arrange: DEPLOY_ARRANGE,
        revert: LOGIN_AS_LEARNER,
        trigger: "docker push {{registry}}/{{repo}}:v2",
        error: "denied: User: arn:aws:iam::{{account}}:user/deploy is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:{{region}}:{{account}}:repository/{{repo}} because no identity-based policy allows the ecr:InitiateLayerUpload action",
        // Mock only, as access-denied-pull.
        aws: None,
    },
    FaultSpec {
        id: "long-lived-key",
        summary: "the lab shell signs with IAM user ci-pusher's long-lived key (AKIA...); role ci-push, which it could assume instead, exists",
        arrange: LONG_LIVED_ARRANGE,
        revert: &["unset AWS_PROFILE"],
        trigger: "aws sts get-caller-identity",
        error: "\"Arn\": \"arn:aws:iam::{{account}}:user/ci-pusher\"",
        // Mock only: the lab makes no IAM users or roles in a real account.
        aws: None,
    },
    FaultSpec {
        id: "expired-session",
        summary: "the environment holds a role session's temporary credentials (ASIA..., copied an hour ago) that have expired",
        arrange: EXPIRED_SESSION_ARRANGE,
        revert: &["unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE"],
        trigger: "aws ecr describe-images --repository-name {{repo}}",
        error: "An error occurred (ExpiredTokenException) when calling the DescribeImages operation: The security token included in the request is expired",
        // Mock only: a session lasts at least 15 minutes on AWS and its clock cannot be moved.
        aws: None,
    },
    FaultSpec {
        id: "oidc-other-branch",
        summary: "role ci-main trusts the lab OIDC issuer's tokens for branch main only; a token for branch feature waits in ~/feature.jwt",
        arrange: OIDC_ARRANGE,
        revert: OIDC_REVERT,
        trigger: "AWS_ROLE_ARN=arn:aws:iam::{{account}}:role/ci-main AWS_WEB_IDENTITY_TOKEN_FILE=~/feature.jwt aws sts get-caller-identity",
        error: "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity",
        // Mock only: the lab makes no roles or OIDC providers in a real account.
        aws: None,
    },
];

/// `oidc-other-branch`: role `ci-main` (trusting tokens of the lab issuer for `repo:org/app` on
/// branch main, audience sts.amazonaws.com; the job's push actions on `{{repo}}`), and a token for
/// branch feature.
const OIDC_ARRANGE: &[&str] = &[
    READY[0],
    concat!(
        "echo '",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::{{account}}:oidc-provider/oidc.ecr-lab.localhost"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.ecr-lab.localhost:aud":"sts.amazonaws.com","oidc.ecr-lab.localhost:sub":"repo:org/app:ref:refs/heads/main"}}}]}"#,
        "' > ~/ci-main-trust.json"
    ),
    CI_ROLE[1],
    "ecr-lab iam create-role ci-main --trust-policy file://~/ci-main-trust.json --policy file://~/ci-push-role.json > /dev/null 2>&1",
    "ecr-lab iam update-assume-role-policy --role-name ci-main --policy-document file://~/ci-main-trust.json > /dev/null",
    "ecr-lab oidc token --sub repo:org/app:ref:refs/heads/feature --aud sts.amazonaws.com > ~/feature.jwt",
    "unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN",
];

/// Leaving `oidc-other-branch`: the variables unset, docker logged in as the learner again.
const OIDC_REVERT: &[&str] = &["unset AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE", READY[2]];

/// Role `ci-push` (trusting the account, with the CI job's pull and push actions on `{{repo}}`).
const CI_ROLE: &[&str] = &[
    concat!(
        "echo '",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{account}}:root"},"Action":"sts:AssumeRole"}]}"#,
        "' > ~/ci-push-trust.json"
    ),
    concat!(
        "echo '",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:DescribeImages","ecr:ListImages"],"Resource":"arn:aws:ecr:{{region}}:{{account}}:repository/{{repo}}"}]}"#,
        "' > ~/ci-push-role.json"
    ),
    "ecr-lab iam create-role ci-push --trust-policy file://~/ci-push-trust.json --policy file://~/ci-push-role.json > /dev/null 2>&1",
];

/// `long-lived-key`: user `ci-pusher` (its key saved as aws profile `ci-pusher`), role `ci-push`, and
/// the shell working as the user.
const LONG_LIVED_ARRANGE: &[&str] = &[
    READY[0],
    CI_PUSHER_FILE,
    "ecr-lab iam create-user ci-pusher > /dev/null 2>&1",
    "ecr-lab iam put-user-policy --user-name ci-pusher --policy-name ci-pusher-policy --policy-document file://~/ci-pusher.json > /dev/null",
    CI_ROLE[0],
    CI_ROLE[1],
    CI_ROLE[2],
    "export AWS_PROFILE=ci-pusher",
];

/// `expired-session`: role `ci-push` and profile `ci-role`, the session's credentials exported into
/// the environment (as a job copies them), then the lab clock moved past the session's hour.
const EXPIRED_SESSION_ARRANGE: &[&str] = &[
    READY[0],
    CI_ROLE[0],
    CI_ROLE[1],
    CI_ROLE[2],
    "aws configure set role_arn arn:aws:iam::{{account}}:role/ci-push --profile ci-role",
    "aws configure set source_profile default --profile ci-role",
    "unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN",
    "eval \"$(aws configure export-credentials --profile ci-role --format env)\"",
    "ecr-lab clock advance 2h > /dev/null",
];

/// The push-only policy of the CI job's user: the token, and the five push actions on `{{repo}}`.
macro_rules! ci_pusher_policy {
    () => {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"arn:aws:ecr:{{region}}:{{account}}:repository/{{repo}}"}]}"#
    };
}
/// Writes the CI job's push-only policy to `~/ci-pusher.json` in the lab shell.
pub const CI_PUSHER_FILE: &str = concat!("echo '", ci_pusher_policy!(), "' > ~/ci-pusher.json");

/// The pull-only policy of the deploy job's user: the token, and the pull actions on `{{repo}}`.
macro_rules! deploy_policy {
    () => {
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:{{region}}:{{account}}:repository/{{repo}}"}]}"#
    };
}
/// Writes the deploy job's pull-only policy to `~/deploy.json` in the lab shell.
pub const DEPLOY_FILE: &str = concat!("echo '", deploy_policy!(), "' > ~/deploy.json");

/// `access-denied-pull`: the image pushed (by the learner), IAM user `ci-pusher` with the push-only
/// policy (made, or its policy put back), saved as aws profile `ci-pusher`, and docker logged in as it.
const CI_PUSHER_ARRANGE: &[&str] = &[
    READY[0],
    READY[1],
    READY[2],
    "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
    CI_PUSHER_FILE,
    "ecr-lab iam create-user ci-pusher > /dev/null 2>&1",
    "ecr-lab iam put-user-policy --user-name ci-pusher --policy-name ci-pusher-policy --policy-document file://~/ci-pusher.json > /dev/null",
    "AWS_PROFILE=ci-pusher aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
];

/// `access-denied-push`: as `access-denied-pull` for user `deploy` with the pull-only policy, and the
/// next build tagged `v2` to push.
const DEPLOY_ARRANGE: &[&str] = &[
    READY[0],
    READY[1],
    READY[2],
    "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
    "docker tag {{sample_v2}} {{registry}}/{{repo}}:v2",
    DEPLOY_FILE,
    "ecr-lab iam create-user deploy > /dev/null 2>&1",
    "ecr-lab iam put-user-policy --user-name deploy --policy-name deploy-policy --policy-document file://~/deploy.json > /dev/null",
    "AWS_PROFILE=deploy aws ecr get-login-password --region {{region}} | docker login --username AWS --password-stdin {{registry}} > /dev/null 2>&1",
];

/// Leaving an access-denied stage: docker logged in as the learner again.
const LOGIN_AS_LEARNER: &[&str] = &[READY[2]];

/// `unsigned-image`: the image is pushed and signed with `cosign.key` (a pair made if there is none),
/// then other bytes are pushed over the tag, so nothing signs what the tag names now. The repository
/// is made mutable for the stage (the guide creates it immutable, which forbids the push over) and set
/// back to what it was afterwards. The same on the mock and on AWS (there the lab's own repository).
const UNSIGNED_ARRANGE: &[&str] = &[
    READY[0],
    READY[1],
    READY[2],
    "aws ecr describe-repositories --repository-names {{repo}} --query \"repositories[0].imageTagMutability\" --output text > ~/.unsigned-image-mutability 2>&1",
    "aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability MUTABLE > /dev/null 2>&1",
    "keygen > /dev/null 2>&1",
    "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
    "sign {{registry}}/{{repo}}:{{tag}} --key cosign.key > /dev/null 2>&1",
    "docker tag {{sample_v2}} {{registry}}/{{repo}}:{{tag}}",
    "docker push {{registry}}/{{repo}}:{{tag}} > /dev/null 2>&1",
];
const UNSIGNED_REVERT: &[&str] = &[
    "aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability $(cat ~/.unsigned-image-mutability) > /dev/null 2>&1",
];

pub fn spec(id: &str) -> Option<&'static FaultSpec> {
    CATALOGUE.iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a real account a recipe may change only the lab's own repository (`{{repo}}`, tagged and
    /// guarded by the runner), the lab shell's environment and its local images and docker config.
    #[test]
    fn real_aws_recipes_touch_only_what_is_the_labs() {
        for spec in CATALOGUE {
            let Some(recipe) = &spec.aws else {
                assert!(
                    [
                        "expired-login",
                        "access-denied-pull",
                        "access-denied-push",
                        "long-lived-key",
                        "expired-session",
                        "oidc-other-branch"
                    ]
                    .contains(&spec.id),
                    "{}: only the 12-hour token and IAM users cannot be made real",
                    spec.id
                );
                continue;
            };
            for line in recipe.arrange.iter().chain(recipe.revert) {
                let changes_a_repository =
                    ["delete-repository", "put-image-tag-mutability", "create-repository", "docker push"]
                        .iter()
                        .any(|verb| line.contains(verb));
                if changes_a_repository {
                    assert!(line.contains("{{repo}}"), "{}: `{line}` must name the lab's {{{{repo}}}}", spec.id);
                }
                assert!(
                    !line.contains("~/.docker") && !line.contains("~/.aws"),
                    "{}: `{line}` touches the learner's files",
                    spec.id
                );
                assert!(!line.contains(" test"), "{}: `{line}` names a repository literally", spec.id);
            }
        }
    }
}
