//! Issue 18 item 3 (part B), through aws-sdk-ecr and the aws CLI: the registry policy, account
//! settings, repository creation templates (and create on push), archive and restore, pull-time
//! update exclusions, the signing configuration and status, ListImageReferrers; and every
//! operation of the botocore ECR model answering (none `Unsupported`).

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types as t;
use hyper::StatusCode;

use crate::common::{InProcess, Served, aws_cli_available, bash, cli_error, digest_of, ecr_client, put_sample, sample};
use crate::registry::Registry;

const REGION: &str = "ap-south-1";

/// The code of an SDK error (`""` if it succeeded).
fn code_of<T, E: ProvideErrorMetadata>(result: &Result<T, E>) -> String {
    result.as_ref().err().and_then(|e| e.code()).unwrap_or_default().to_owned()
}

fn message_of<T, E: ProvideErrorMetadata>(result: &Result<T, E>) -> String {
    result.as_ref().err().and_then(|e| e.message()).unwrap_or_default().to_owned()
}

const REGISTRY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:ap-south-1:920736617090:repository/*"}]}"#;

#[tokio::test]
async fn registry_policy_is_put_read_and_deleted() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let missing = ecr.get_registry_policy().send().await;
    assert_eq!(code_of(&missing), "RegistryPolicyNotFoundException");
    assert_eq!(message_of(&missing), "Registry policy does not exist in the registry with id '920736617090'");
    let bad = ecr.put_registry_policy().policy_text("{nope").send().await;
    assert_eq!(code_of(&bad), "InvalidParameterException");
    assert!(message_of(&bad).starts_with(
        "Invalid parameter at 'policyText' failed to satisfy constraint: 'Invalid registry policy provided"
    ));

    let put = ecr.put_registry_policy().policy_text(REGISTRY_POLICY).send().await.unwrap();
    assert_eq!((put.registry_id(), put.policy_text()), (Some("920736617090"), Some(REGISTRY_POLICY)));
    let got = ecr.get_registry_policy().send().await.unwrap();
    assert_eq!(got.policy_text(), Some(REGISTRY_POLICY));
    let deleted = ecr.delete_registry_policy().send().await.unwrap();
    assert_eq!(deleted.policy_text(), Some(REGISTRY_POLICY));
    assert_eq!(code_of(&ecr.delete_registry_policy().send().await), "RegistryPolicyNotFoundException");
}

#[tokio::test]
async fn account_settings_have_aws_defaults_and_documented_values() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let scope = ecr.get_account_setting().name("REGISTRY_POLICY_SCOPE").send().await.unwrap();
    assert_eq!((scope.name(), scope.value()), (Some("REGISTRY_POLICY_SCOPE"), Some("V2")));
    let put = ecr.put_account_setting().name("BASIC_SCAN_TYPE_VERSION").value("CLAIR").send().await.unwrap();
    assert_eq!(put.value(), Some("CLAIR"));
    let got = ecr.get_account_setting().name("BASIC_SCAN_TYPE_VERSION").send().await.unwrap();
    assert_eq!(got.value(), Some("CLAIR"));
    let bad = ecr.put_account_setting().name("REGISTRY_POLICY_SCOPE").value("V3").send().await;
    assert_eq!(code_of(&bad), "InvalidParameterException");
    assert_eq!(
        message_of(&bad),
        "Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy enum value set for REGISTRY_POLICY_SCOPE: [V1, V2]'"
    );
    let unknown = ecr.get_account_setting().name("COFFEE").send().await;
    assert_eq!(code_of(&unknown), "InvalidParameterException");
}

#[tokio::test]
async fn creation_templates_are_created_described_updated_and_deleted() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let created = ecr
        .create_repository_creation_template()
        .prefix("team/")
        .description("team repositories")
        .image_tag_mutability(t::ImageTagMutability::Immutable)
        .resource_tags(t::Tag::builder().key("team").value("blue").build().unwrap())
        .applied_for(t::RctAppliedFor::PullThroughCache)
        .send()
        .await
        .unwrap();
    let template = created.repository_creation_template().unwrap();
    assert_eq!(template.prefix(), Some("team"), "the trailing / ECR assumes is dropped");
    assert_eq!(template.image_tag_mutability(), Some(&t::ImageTagMutability::Immutable));
    assert_eq!(template.applied_for(), [t::RctAppliedFor::PullThroughCache]);
    assert!(template.created_at().is_some());
    let again = ecr
        .create_repository_creation_template()
        .prefix("team")
        .applied_for(t::RctAppliedFor::Replication)
        .send()
        .await;
    assert_eq!(code_of(&again), "TemplateAlreadyExistsException");
    let bad = ecr
        .create_repository_creation_template()
        .prefix("Bad_Prefix")
        .applied_for(t::RctAppliedFor::Replication)
        .send()
        .await;
    assert_eq!(code_of(&bad), "ValidationException");

    let updated =
        ecr.update_repository_creation_template().prefix("team").description("blue team").send().await.unwrap();
    let template = updated.repository_creation_template().unwrap();
    assert_eq!(template.description(), Some("blue team"));
    assert_eq!(template.image_tag_mutability(), Some(&t::ImageTagMutability::Immutable), "what was not given stays");
    let described = ecr.describe_repository_creation_templates().send().await.unwrap();
    let prefixes: Vec<_> = described.repository_creation_templates().iter().filter_map(|t| t.prefix()).collect();
    assert_eq!(prefixes, ["team"]);
    ecr.delete_repository_creation_template().prefix("team").send().await.unwrap();
    let gone = ecr.delete_repository_creation_template().prefix("team").send().await;
    assert_eq!(code_of(&gone), "TemplateNotFoundException");
    let missing = ecr.update_repository_creation_template().prefix("team").description("x").send().await;
    assert_eq!(code_of(&missing), "TemplateNotFoundException");
}

/// Create on push is off until a template applied for CREATE_ON_PUSH covers the name.
#[tokio::test]
async fn a_push_creates_its_repository_only_through_a_create_on_push_template() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let registry = Registry::connect(&mock.url).await;
    let image = sample(1, 64);
    let refused = registry.push_blob("apps/web", &image.blobs[0]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "no template: a push to a missing repository fails");
    ecr.create_repository_creation_template()
        .prefix("apps")
        .image_tag_mutability(t::ImageTagMutability::Immutable)
        .resource_tags(t::Tag::builder().key("made-by").value("create-on-push").build().unwrap())
        .applied_for(t::RctAppliedFor::CreateOnPush)
        .send()
        .await
        .unwrap();
    for blob in &image.blobs {
        assert_eq!(registry.push_blob("apps/web", blob).await.status, StatusCode::CREATED);
    }
    assert_eq!(registry.push_manifest("apps/web", "v1", &image.manifest).await.status, StatusCode::CREATED);
    let repository = ecr.describe_repositories().repository_names("apps/web").send().await.unwrap();
    let repository = &repository.repositories()[0];
    assert_eq!(repository.image_tag_mutability(), Some(&t::ImageTagMutability::Immutable));
    let arn = repository.repository_arn().unwrap();
    let tags = ecr.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags()[0].value(), "create-on-push");
    let outside = registry.push_blob("other/web", &image.blobs[0]).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "the template covers apps/ only");
}

/// A push that would create a repository needs `ecr:CreateRepository` as well as the push actions.
#[tokio::test]
async fn create_on_push_needs_create_repository_permission() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    ecr.create_repository_creation_template()
        .prefix("ROOT")
        .applied_for(t::RctAppliedFor::CreateOnPush)
        .send()
        .await
        .unwrap();
    let push_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:InitiateLayerUpload"],"Resource":"*"}]}"#;
    let account = mock_registry::types::AccountId::parse("920736617090").unwrap();
    let key = mock.lab.write(|s| s.create_user(account, "pusher", Some(("push", push_only)))).await.unwrap();
    let user =
        crate::common::ecr_client_with(&mock.url, REGION, &key.access_key_id, &key.secret_access_key, None).await;
    let token = user.get_authorization_token().send().await.unwrap();
    let auth = format!("Basic {}", token.authorization_data()[0].authorization_token().unwrap());
    let request = hyper::Request::post(format!("{}/v2/made/by-push/blobs/uploads/", mock.url))
        .header("authorization", auth)
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("ecr:CreateRepository"), "{}", String::from_utf8_lossy(&body));
    let missing = ecr.describe_repositories().repository_names("made/by-push").send().await;
    assert_eq!(code_of(&missing), "RepositoryNotFoundException", "nothing was created");
}

#[tokio::test]
async fn an_archived_image_cannot_be_pulled_or_scanned_until_restored() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    ecr.create_repository().repository_name("cold").send().await.unwrap();
    let image = sample(2, 64);
    put_sample(&ecr, "cold", &image, "v1").await.unwrap();
    let id = t::ImageIdentifier::builder().image_tag("v1").build();
    let storage = |class: t::TargetStorageClass| {
        ecr.update_image_storage_class().repository_name("cold").image_id(id.clone()).target_storage_class(class).send()
    };
    let not_archived = storage(t::TargetStorageClass::Standard).await;
    assert_eq!(code_of(&not_archived), "ImageStorageClassUpdateNotSupportedException");
    let archived = storage(t::TargetStorageClass::Archive).await.unwrap();
    assert_eq!(archived.image_status(), Some(&t::ImageStatus::Archived));
    assert_eq!(archived.image_id().unwrap().image_digest(), Some(digest_of(image.manifest.as_bytes()).as_str()));

    let registry = Registry::connect(&mock.url).await;
    assert_eq!(registry.get("/v2/cold/manifests/v1").await.status, StatusCode::NOT_FOUND);
    let described = ecr.describe_images().repository_name("cold").send().await.unwrap();
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_status(), Some(&t::ImageStatus::Archived), "an archived image is still described");
    assert!(detail.last_archived_at().is_some());
    let active_only = t::DescribeImagesFilter::builder().image_status(t::ImageStatusFilter::Active).build();
    let active = ecr.describe_images().repository_name("cold").filter(active_only).send().await.unwrap();
    assert!(active.image_details().is_empty());
    let scan = ecr.start_image_scan().repository_name("cold").image_id(id.clone()).send().await;
    assert_eq!(code_of(&scan), "ImageArchivedException");

    let restored = storage(t::TargetStorageClass::Standard).await.unwrap();
    assert_eq!(restored.image_status(), Some(&t::ImageStatus::Activating));
    assert_eq!(registry.get("/v2/cold/manifests/v1").await.status, StatusCode::OK);
    let missing = ecr
        .update_image_storage_class()
        .repository_name("cold")
        .image_id(t::ImageIdentifier::builder().image_tag("v9").build())
        .target_storage_class(t::TargetStorageClass::Archive)
        .send()
        .await;
    assert_eq!(code_of(&missing), "ImageNotFoundException");
}

#[tokio::test]
async fn pull_time_update_exclusions_are_registered_listed_and_deregistered() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let scanner = "arn:aws:iam::920736617090:role/scanner";
    let ci = "arn:aws:iam::920736617090:user/ci";
    let registered = ecr.register_pull_time_update_exclusion().principal_arn(scanner).send().await.unwrap();
    assert_eq!(registered.principal_arn(), Some(scanner));
    assert!(registered.created_at().is_some());
    ecr.register_pull_time_update_exclusion().principal_arn(ci).send().await.unwrap();
    let twice = ecr.register_pull_time_update_exclusion().principal_arn(scanner).send().await;
    assert_eq!(code_of(&twice), "ExclusionAlreadyExistsException");
    let group =
        ecr.register_pull_time_update_exclusion().principal_arn("arn:aws:iam::920736617090:group/devs").send().await;
    assert_eq!(code_of(&group), "ValidationException");
    assert!(message_of(&group).starts_with(
        "1 validation error detected: Value 'arn:aws:iam::920736617090:group/devs' at 'principalArn' failed to satisfy constraint: Member must satisfy regular expression pattern"
    ));

    let first = ecr.list_pull_time_update_exclusions().max_results(1).send().await.unwrap();
    assert_eq!(first.pull_time_update_exclusions(), [scanner], "in ARN order");
    let token = first.next_token().expect("a second page").to_owned();
    let second = ecr.list_pull_time_update_exclusions().max_results(1).next_token(token).send().await.unwrap();
    assert_eq!((second.pull_time_update_exclusions(), second.next_token()), ([ci.to_owned()].as_slice(), None));

    ecr.deregister_pull_time_update_exclusion().principal_arn(scanner).send().await.unwrap();
    let gone = ecr.deregister_pull_time_update_exclusion().principal_arn(scanner).send().await;
    assert_eq!(code_of(&gone), "ExclusionNotFoundException");
}

const PROFILE: &str = "arn:aws:signer:ap-south-1:920736617090:/signing-profiles/lab_profile";

/// An OCI artifact whose `subject` is `subject` (what `ecr-lab sign` and cosign push).
fn signature_for(subject: &str, subject_size: usize) -> String {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2 },
        "layers": [],
        "subject": { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": subject, "size": subject_size },
        "annotations": { "io.cncf.notary.x509chain.thumbprint#S256": "[\"ab\"]" }
    })
    .to_string()
}

#[tokio::test]
async fn signing_configuration_status_and_referrers() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    assert_eq!(code_of(&ecr.get_signing_configuration().send().await), "SigningConfigurationNotFoundException");
    let filter = t::SigningRepositoryFilter::builder()
        .filter("prod/*")
        .filter_type(t::SigningRepositoryFilterType::WildcardMatch)
        .build()
        .unwrap();
    let rule = t::SigningRule::builder().signing_profile_arn(PROFILE).repository_filters(filter).build().unwrap();
    let configuration = t::SigningConfiguration::builder().rules(rule).build().unwrap();
    let put = ecr.put_signing_configuration().signing_configuration(configuration).send().await.unwrap();
    assert_eq!(put.signing_configuration().unwrap().rules()[0].signing_profile_arn(), PROFILE);
    let got = ecr.get_signing_configuration().send().await.unwrap();
    assert_eq!(got.signing_configuration().unwrap().rules()[0].repository_filters()[0].filter(), "prod/*");
    let bad_rule = t::SigningRule::builder().signing_profile_arn("arn:aws:kms:x").build().unwrap();
    let bad = ecr
        .put_signing_configuration()
        .signing_configuration(t::SigningConfiguration::builder().rules(bad_rule).build().unwrap())
        .send()
        .await;
    assert_eq!(code_of(&bad), "ValidationException");

    ecr.create_repository().repository_name("prod/app").send().await.unwrap();
    let image = sample(3, 64);
    put_sample(&ecr, "prod/app", &image, "v1").await.unwrap();
    let digest = digest_of(image.manifest.as_bytes());
    let id = t::ImageIdentifier::builder().image_tag("v1").build();
    let status =
        ecr.describe_image_signing_status().repository_name("prod/app").image_id(id.clone()).send().await.unwrap();
    let unsigned = &status.signing_statuses()[0];
    assert_eq!((unsigned.signing_profile_arn(), unsigned.status()), (Some(PROFILE), Some(&t::SigningStatus::Failed)));

    let signature = signature_for(&digest, image.manifest.len());
    crate::common::upload_blobs(&ecr, "prod/app", &[b"{}".to_vec()]).await.unwrap();
    ecr.put_image().repository_name("prod/app").image_manifest(&signature).send().await.unwrap();
    let status = ecr.describe_image_signing_status().repository_name("prod/app").image_id(id).send().await.unwrap();
    assert_eq!(status.signing_statuses()[0].status(), Some(&t::SigningStatus::Complete));

    let subject = t::SubjectIdentifier::builder().image_digest(&digest).build().unwrap();
    let referrers =
        ecr.list_image_referrers().repository_name("prod/app").subject_id(subject.clone()).send().await.unwrap();
    let referrer = &referrers.referrers()[0];
    assert_eq!(referrer.digest(), digest_of(signature.as_bytes()));
    assert_eq!(referrer.artifact_type(), Some("application/vnd.cncf.notary.signature"));
    assert_eq!(referrer.size(), signature.len() as i64);
    assert_eq!(referrer.artifact_status(), Some(&t::ArtifactStatus::Active));
    let other_type = t::ListImageReferrersFilter::builder().artifact_types("application/spdx+json").build();
    let none = ecr
        .list_image_referrers()
        .repository_name("prod/app")
        .subject_id(subject.clone())
        .filter(other_type)
        .send()
        .await
        .unwrap();
    assert!(none.referrers().is_empty());
    let missing = ecr.list_image_referrers().repository_name("nope").subject_id(subject).send().await;
    assert_eq!(code_of(&missing), "RepositoryNotFoundException");

    let deleted = ecr.delete_signing_configuration().send().await.unwrap();
    assert_eq!(deleted.signing_configuration().unwrap().rules().len(), 1);
    assert_eq!(code_of(&ecr.delete_signing_configuration().send().await), "SigningConfigurationNotFoundException");
}

/// Every operation in the current botocore ECR model (58). The test below sends each one.
pub const MODEL_OPERATIONS: &[&str] = &[
    "BatchCheckLayerAvailability",
    "BatchDeleteImage",
    "BatchGetImage",
    "BatchGetRepositoryScanningConfiguration",
    "CompleteLayerUpload",
    "CreatePullThroughCacheRule",
    "CreateRepository",
    "CreateRepositoryCreationTemplate",
    "DeleteLifecyclePolicy",
    "DeletePullThroughCacheRule",
    "DeleteRegistryPolicy",
    "DeleteRepository",
    "DeleteRepositoryCreationTemplate",
    "DeleteRepositoryPolicy",
    "DeleteSigningConfiguration",
    "DeregisterPullTimeUpdateExclusion",
    "DescribeImageReplicationStatus",
    "DescribeImageScanFindings",
    "DescribeImageSigningStatus",
    "DescribeImages",
    "DescribePullThroughCacheRules",
    "DescribeRegistry",
    "DescribeRepositories",
    "DescribeRepositoryCreationTemplates",
    "GetAccountSetting",
    "GetAuthorizationToken",
    "GetDownloadUrlForLayer",
    "GetLifecyclePolicy",
    "GetLifecyclePolicyPreview",
    "GetRegistryPolicy",
    "GetRegistryScanningConfiguration",
    "GetRepositoryPolicy",
    "GetSigningConfiguration",
    "InitiateLayerUpload",
    "ListImageReferrers",
    "ListImages",
    "ListPullTimeUpdateExclusions",
    "ListTagsForResource",
    "PutAccountSetting",
    "PutImage",
    "PutImageScanningConfiguration",
    "PutImageTagMutability",
    "PutLifecyclePolicy",
    "PutRegistryPolicy",
    "PutRegistryScanningConfiguration",
    "PutReplicationConfiguration",
    "PutSigningConfiguration",
    "RegisterPullTimeUpdateExclusion",
    "SetRepositoryPolicy",
    "StartImageScan",
    "StartLifecyclePolicyPreview",
    "TagResource",
    "UntagResource",
    "UpdateImageStorageClass",
    "UpdatePullThroughCacheRule",
    "UpdateRepositoryCreationTemplate",
    "UploadLayerPart",
    "ValidatePullThroughCacheRule",
];

/// The replication-backfill operations: in the current ECR model (aws-sdk-ecr 1.138), newer than
/// botocore's. They answer too (tests/it/backfill.rs has their semantics).
const NEWER_THAN_BOTOCORE: &[&str] = &[
    "DescribeReplicationBackfillResults",
    "ListReplicationBackfills",
    "StartReplicationBackfill",
    "StopReplicationBackfill",
];

#[tokio::test]
async fn every_operation_of_the_botocore_model_answers() {
    let lab = mock_registry::Lab::ephemeral().unwrap();
    let mut unsupported = Vec::new();
    for operation in MODEL_OPERATIONS.iter().chain(NEWER_THAN_BOTOCORE) {
        let (status, value) = crate::wire::send(&lab, crate::wire::ecr_request(operation, b"{}".to_vec())).await;
        let code = value["__type"].as_str().unwrap_or_default();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{operation}: {value}");
        assert_ne!(code, "UnknownOperationException", "{operation} is in ECR's model: {value}");
        if code == "UnsupportedOperationException" {
            unsupported.push(*operation);
        }
    }
    assert!(unsupported.is_empty(), "operations of the model the lab answers Unsupported: {unsupported:?}");
    assert_eq!(mock_registry::aws::NOT_IMPLEMENTED, Vec::<&str>::new(), "operations the mock does not implement");
}

/// The list above is the current model's, when botocore is at hand to ask.
#[test]
fn the_operation_list_is_botocores() {
    let script = "import botocore.session as s; print('\\n'.join(sorted(s.get_session().get_service_model('ecr').operation_names)))";
    let Ok(output) = std::process::Command::new("python3").args(["-c", script]).output() else { return };
    if !output.status.success() {
        return;
    }
    let names: Vec<String> = String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect();
    if names.len() < MODEL_OPERATIONS.len() {
        return; // an older botocore than the model this list was taken from
    }
    let missing: Vec<&String> = names.iter().filter(|n| !MODEL_OPERATIONS.contains(&n.as_str())).collect();
    assert!(missing.is_empty(), "botocore's ECR model has operations the lab was not checked for: {missing:?}");
}

/// The real aws CLI (v1, whose botocore knows the newest commands) against the lab.
#[test]
fn the_aws_cli_runs_the_registry_settings_commands() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let sh = |script: &str| bash(&format!("eval \"$(ecr-lab env --endpoint {})\"\n{script}", server.url), home.path());
    let setting = sh("aws ecr get-account-setting --name REGISTRY_POLICY_SCOPE");
    assert_eq!(setting.code, 0, "{}", setting.stderr);
    assert_eq!(setting.stdout, "{\n    \"name\": \"REGISTRY_POLICY_SCOPE\",\n    \"value\": \"V2\"\n}\n");
    let template =
        sh("aws ecr create-repository-creation-template --prefix ROOT --applied-for CREATE_ON_PUSH REPLICATION \
         --query 'repositoryCreationTemplate.[prefix,appliedFor]' --output text");
    assert_eq!(template.code, 0, "{}", template.stderr);
    assert_eq!(template.stdout, "ROOT\nCREATE_ON_PUSH\tREPLICATION\n");
    let missing = sh("aws ecr get-signing-configuration");
    assert_eq!(missing.code, 255);
    assert_eq!(
        missing.stderr,
        cli_error(
            "SigningConfigurationNotFoundException",
            "GetSigningConfiguration",
            "Signing configuration does not exist in the registry with id '920736617090'"
        )
    );
    let exclusion = sh(
        "aws ecr register-pull-time-update-exclusion --principal-arn arn:aws:iam::920736617090:role/scanner > /dev/null && \
         aws ecr list-pull-time-update-exclusions --output text",
    );
    assert_eq!(exclusion.code, 0, "{}", exclusion.stderr);
    assert_eq!(exclusion.stdout, "PULLTIMEUPDATEEXCLUSIONS\tarn:aws:iam::920736617090:role/scanner\n");
}

/// The lab shell's built-in `aws` (no real CLI involved), speaking CLI v1, on one line of script.
fn built_in(data_dir: &std::path::Path, endpoint: &str, line: &str) -> crate::common::Ran {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--data-dir"])
        .arg(data_dir)
        .args(["--endpoint", endpoint])
        .env("ECR_LAB_HOME", data_dir)
        .env("ECR_LAB_DOCKER", "builtin")
        .env("AWS_LAB_CLI_VERSION", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecr-lab shell");
    child.stdin.take().unwrap().write_all(format!("{line}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    crate::common::Ran {
        // The shell's first line is its banner.
        stdout: stdout.lines().skip(1).map(|l| format!("{l}\n")).collect(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// The new commands without timestamps, through the real aws CLI (v1, the one whose botocore
/// knows them) and through the built-in `aws`, each against a mock of its own: the same
/// output, errors and exit status, line for line.
#[test]
fn built_in_aws_prints_the_new_commands_as_the_cli_does() {
    if !aws_cli_available() {
        return;
    }
    let zeros = format!("sha256:{}", "0".repeat(64));
    let script = [
        "aws ecr get-account-setting --name BLOB_MOUNTING".to_owned(),
        "aws ecr put-account-setting --name REGISTRY_POLICY_SCOPE --value V1".to_owned(),
        "aws ecr put-account-setting --name REGISTRY_POLICY_SCOPE --value V9".to_owned(),
        "aws ecr get-signing-configuration".to_owned(),
        format!(
            r#"aws ecr put-signing-configuration --signing-configuration '{{"rules":[{{"signingProfileArn":"{PROFILE}","repositoryFilters":[{{"filter":"prod/*","filterType":"WILDCARD_MATCH"}}]}}]}}'"#
        ),
        "aws ecr get-signing-configuration --output text".to_owned(),
        "aws ecr delete-signing-configuration".to_owned(),
        "aws ecr list-pull-time-update-exclusions".to_owned(),
        "aws ecr deregister-pull-time-update-exclusion --principal-arn arn:aws:iam::920736617090:role/nobody".to_owned(),
        "aws ecr describe-repository-creation-templates".to_owned(),
        "aws ecr delete-repository-creation-template --prefix nope".to_owned(),
        format!("aws ecr list-image-referrers --repository-name nope --subject-id imageDigest={zeros}"),
        "aws ecr describe-image-signing-status --repository-name nope --image-id imageTag=v1".to_owned(),
        "aws ecr update-image-storage-class --repository-name nope --image-id imageTag=v1 --target-storage-class ARCHIVE"
            .to_owned(),
        "aws ecr get-registry-policy".to_owned(),
    ];
    let real_home = tempfile::tempdir().unwrap();
    let real = Served::start(real_home.path(), &["--ephemeral"]);
    let lab_home = tempfile::tempdir().unwrap();
    let lab = Served::start(lab_home.path(), &["--ephemeral"]);
    let shell_data = lab_home.path().join("shell");
    let mut differences = Vec::new();
    for line in &script {
        let expected = bash(&format!("eval \"$(ecr-lab env --endpoint {})\"\n{line}", real.url), real_home.path());
        let got = built_in(&shell_data, &lab.url, line);
        for (what, e, g) in [
            ("stdout", expected.stdout.clone(), got.stdout.clone()),
            ("stderr", expected.stderr.clone(), got.stderr.clone()),
            ("status", expected.code.to_string(), got.code.to_string()),
        ] {
            if e != g {
                differences.push(format!("`{line}` {what}:\n--- aws\n{e}\n--- built-in\n{g}"));
            }
        }
    }
    assert!(differences.is_empty(), "{} differences:\n\n{}", differences.len(), differences.join("\n\n"));
}

/// The console's read-only registry settings page shows what the API set.
#[tokio::test]
async fn the_console_shows_the_registry_settings() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, REGION).await;
    let page = || async {
        let request = hyper::Request::get(format!("{}/console/private-registry?region={REGION}", mock.url))
            .body(Full::new(bytes::Bytes::new()))
            .unwrap();
        let response = Client::builder(TokioExecutor::new()).build_http().request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    };
    let before = page().await;
    assert!(before.contains("No registry policy.") && before.contains("No templates"), "{before}");
    ecr.put_registry_policy().policy_text(REGISTRY_POLICY).send().await.unwrap();
    ecr.create_repository_creation_template()
        .prefix("team")
        .applied_for(t::RctAppliedFor::Replication)
        .send()
        .await
        .unwrap();
    ecr.put_account_setting().name("BLOB_MOUNTING").value("ENABLED").send().await.unwrap();
    let after = page().await;
    assert!(after.contains("replicate") && !after.contains("No registry policy."), "{after}");
    assert!(after.contains("<code>team</code>") && after.contains("REPLICATION"), "{after}");
    assert!(after.contains("<td>ENABLED</td>"), "{after}");
}
