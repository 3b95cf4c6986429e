//! The mock through the real `aws-sdk-ecr` client: every operation, pagination, and the error codes
//! and messages the SDK parses.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageIdentifier, ImageScanningConfiguration, ImageTagMutability,
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType, ListImagesFilter, Tag, TagStatus,
};
use mock_registry::AccessKey;
use mock_registry::types::{AccountId, Millis};

use crate::common::{InProcess, digest_of, ecr_client, ecr_client_with, put_sample, sample, upload_blobs};

/// The (code, message) of a failed SDK call.
fn failure<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    result: Result<R, aws_sdk_ecr::error::SdkError<E>>,
) -> (String, String) {
    let error = result.expect_err("the call should fail");
    (error.code().unwrap_or_default().to_owned(), error.message().unwrap_or_default().to_owned())
}

fn by_tag(tag: &str) -> ImageIdentifier {
    ImageIdentifier::builder().image_tag(tag).build()
}

#[tokio::test]
async fn repository_lifecycle_through_the_sdk() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;

    let created = ecr
        .create_repository()
        .repository_name("test")
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .image_tag_mutability(ImageTagMutability::Immutable)
        .encryption_configuration(
            EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256).build().unwrap(),
        )
        .tags(Tag::builder().key("team").value("seminar").build().unwrap())
        .send()
        .await
        .unwrap();
    let repository = created.repository().unwrap();
    assert_eq!(repository.repository_arn(), Some("arn:aws:ecr:ap-south-1:920736617090:repository/test"));
    assert_eq!(repository.repository_uri(), Some("920736617090.dkr.ecr.ap-south-1.amazonaws.com/test"));
    assert_eq!(repository.registry_id(), Some("920736617090"));
    assert_eq!(repository.image_tag_mutability(), Some(&ImageTagMutability::Immutable));
    assert!(repository.image_scanning_configuration().unwrap().scan_on_push());
    let created_at = repository.created_at().unwrap().secs();
    let now = mock_registry::clock::unix_seconds();
    assert!((created_at - now).abs() < 60, "createdAt {created_at} should be about now {now}");

    let (code, message) = failure(ecr.create_repository().repository_name("test").send().await);
    assert_eq!(code, "RepositoryAlreadyExistsException");
    assert_eq!(message, "The repository with name 'test' already exists in the registry with id '920736617090'");

    let described = ecr.describe_repositories().send().await.unwrap();
    assert_eq!(described.repositories().len(), 1);

    let arn = repository.repository_arn().unwrap();
    let tags = ecr.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags()[0].key(), "team");
    ecr.tag_resource()
        .resource_arn(arn)
        .tags(Tag::builder().key("env").value("lab").build().unwrap())
        .send()
        .await
        .unwrap();
    ecr.untag_resource().resource_arn(arn).tag_keys("team").send().await.unwrap();
    let tags = ecr.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["env"]);

    let mutability = ecr
        .put_image_tag_mutability()
        .repository_name("test")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(
            ImageTagMutabilityExclusionFilter::builder()
                .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                .filter("dev-*")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(mutability.image_tag_mutability(), Some(&ImageTagMutability::ImmutableWithExclusion));
    assert_eq!(mutability.image_tag_mutability_exclusion_filters()[0].filter(), "dev-*");

    let scanning = ecr
        .put_image_scanning_configuration()
        .repository_name("test")
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(false).build())
        .send()
        .await
        .unwrap();
    assert!(!scanning.image_scanning_configuration().unwrap().scan_on_push());

    let registry = ecr.describe_registry().send().await.unwrap();
    assert_eq!(registry.registry_id(), Some("920736617090"));

    put_sample(&ecr, "test", &sample(1, 10), "v1").await.unwrap();
    let (code, message) = failure(ecr.delete_repository().repository_name("test").send().await);
    assert_eq!(code, "RepositoryNotEmptyException");
    assert_eq!(
        message,
        "The repository with name 'test' in registry with id '920736617090' cannot be deleted because it still contains images"
    );
    let deleted = ecr.delete_repository().repository_name("test").force(true).send().await.unwrap();
    assert_eq!(deleted.repository().unwrap().repository_name(), Some("test"));
    let (code, message) = failure(ecr.describe_images().repository_name("test").send().await);
    assert_eq!(code, "RepositoryNotFoundException");
    assert_eq!(message, "The repository with name 'test' does not exist in the registry with id '920736617090'");
}

#[tokio::test]
async fn images_tags_and_the_mutability_rules() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("app").send().await.unwrap();

    let one = sample(1, 1000);
    let first = one.manifest.clone();

    // Before its layers are uploaded, a manifest is refused.
    let (code, message) =
        failure(ecr.put_image().repository_name("app").image_manifest(&first).image_tag("v1").send().await);
    assert_eq!(code, "LayersNotFoundException");
    assert_eq!(
        message,
        format!(
            "Layers with digests '[{}, {}]' required for pushing image into repository with name 'app' in the registry with id '920736617090' do not exist",
            digest_of(&one.blobs[0]),
            digest_of(&one.blobs[1])
        )
    );

    let put = put_sample(&ecr, "app", &one, "v1").await.unwrap();
    let image = put.image().unwrap();
    let digest = image.image_id().unwrap().image_digest().unwrap().to_owned();
    assert_eq!(digest, format!("sha256:{}", sha256_hex(first.as_bytes())));
    assert_eq!(image.image_manifest_media_type(), Some("application/vnd.docker.distribution.manifest.v2+json"));
    assert_eq!(image.image_manifest(), Some(first.as_str()));

    // The same manifest and tag again: ImageAlreadyExists.
    let (code, message) =
        failure(ecr.put_image().repository_name("app").image_manifest(&first).image_tag("v1").send().await);
    assert_eq!(code, "ImageAlreadyExistsException");
    assert_eq!(
        message,
        format!(
            "Image with digest '{digest}' and tag 'v1' already exists in the repository with name 'app' in registry with id '920736617090'"
        )
    );

    // Mutable: moving v1 leaves the first image untagged.
    put_sample(&ecr, "app", &sample(2, 2000), "v1").await.unwrap();
    let untagged = ecr
        .list_images()
        .repository_name("app")
        .filter(ListImagesFilter::builder().tag_status(TagStatus::Untagged).build())
        .send()
        .await
        .unwrap();
    assert_eq!(untagged.image_ids().len(), 1);
    assert_eq!(untagged.image_ids()[0].image_digest(), Some(digest.as_str()));
    assert_eq!(untagged.image_ids()[0].image_tag(), None);

    let details = ecr.describe_images().repository_name("app").image_ids(by_tag("v1")).send().await.unwrap();
    let detail = &details.image_details()[0];
    assert_eq!(detail.image_size_in_bytes(), Some(2000));
    assert_eq!(detail.image_tags(), ["v1"]);
    assert_eq!(detail.artifact_media_type(), Some("application/vnd.docker.container.image.v1+json"));

    let (code, message) = failure(ecr.describe_images().repository_name("app").image_ids(by_tag("nope")).send().await);
    assert_eq!(code, "ImageNotFoundException");
    assert_eq!(
        message,
        "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'app' in the registry with id '920736617090'"
    );

    // Immutable: re-pointing v1 is refused with the registry's wording.
    ecr.put_image_tag_mutability()
        .repository_name("app")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .send()
        .await
        .unwrap();
    let (code, message) = failure(put_sample(&ecr, "app", &sample(3, 1), "v1").await);
    assert_eq!(code, "ImageTagAlreadyExistsException");
    assert_eq!(
        message,
        "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable."
    );

    let got = ecr
        .batch_get_image()
        .repository_name("app")
        .image_ids(by_tag("v1"))
        .image_ids(by_tag("zzz"))
        .image_ids(ImageIdentifier::builder().image_digest(&digest).build())
        .send()
        .await
        .unwrap();
    assert_eq!(got.images().len(), 2);
    assert_eq!(got.failures().len(), 1);
    assert_eq!(got.failures()[0].failure_code().map(|c| c.as_str()), Some("ImageNotFound"));
    assert_eq!(got.failures()[0].failure_reason(), Some("Requested image not found"));

    let deleted = ecr
        .batch_delete_image()
        .repository_name("app")
        .image_ids(ImageIdentifier::builder().image_digest(&digest).build())
        .image_ids(by_tag("zzz"))
        .image_ids(ImageIdentifier::builder().image_digest("sha256:12").build())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.image_ids().len(), 1);
    let codes: Vec<&str> = deleted.failures().iter().map(|f| f.failure_code().unwrap().as_str()).collect();
    assert_eq!(codes, ["ImageNotFound", "InvalidImageDigest"]);
    let left = ecr.list_images().repository_name("app").send().await.unwrap();
    assert_eq!(left.image_ids().len(), 1);
}

#[tokio::test]
async fn pagination_follows_max_results_and_next_token() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("many").send().await.unwrap();
    for n in 0..250 {
        let tag = format!("t{n}");
        put_sample(&ecr, "many", &sample(n, 1), &tag).await.unwrap();
    }
    let first = ecr.describe_images().repository_name("many").send().await.unwrap();
    assert_eq!(first.image_details().len(), 100, "100 per page when maxResults is not given");
    assert!(first.next_token().is_some());

    let pages: Vec<_> =
        ecr.describe_images().repository_name("many").max_results(70).into_paginator().send().collect::<Vec<_>>().await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.as_ref().unwrap().image_details().len()).collect();
    assert_eq!(sizes, [70, 70, 70, 40]);
    let mut digests: Vec<String> = pages
        .iter()
        .flat_map(|p| p.as_ref().unwrap().image_details().iter().map(|d| d.image_digest().unwrap().to_owned()))
        .collect();
    digests.dedup();
    assert_eq!(digests.len(), 250);

    let listed: usize = ecr
        .list_images()
        .repository_name("many")
        .max_results(1000)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .iter()
        .map(|p| p.as_ref().unwrap().image_ids().len())
        .sum();
    assert_eq!(listed, 250);

    let (code, message) = failure(ecr.list_images().repository_name("many").max_results(1001).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'"
    );

    for n in 0..3 {
        ecr.create_repository().repository_name(format!("repo-{n}")).send().await.unwrap();
    }
    let repositories: Vec<String> = ecr
        .describe_repositories()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|r| r.unwrap().repository_name().unwrap().to_owned())
        .collect();
    assert_eq!(repositories, ["many", "repo-0", "repo-1", "repo-2"]);
}

#[tokio::test]
async fn regions_are_separate_and_tokens_are_regional() {
    let mock = InProcess::start().await;
    let mumbai = ecr_client(&mock.url, "ap-south-1").await;
    let virginia = ecr_client(&mock.url, "us-east-1").await;
    mumbai.create_repository().repository_name("test").send().await.unwrap();
    assert_eq!(virginia.describe_repositories().send().await.unwrap().repositories().len(), 0);
    let (code, _) = failure(virginia.describe_repositories().repository_names("test").send().await);
    assert_eq!(code, "RepositoryNotFoundException");
    virginia.create_repository().repository_name("test").send().await.unwrap();
    let uri =
        virginia.describe_repositories().send().await.unwrap().repositories()[0].repository_uri().unwrap().to_owned();
    assert_eq!(uri, "920736617090.dkr.ecr.us-east-1.amazonaws.com/test");

    let token = mumbai.get_authorization_token().send().await.unwrap();
    let data = &token.authorization_data()[0];
    assert_eq!(data.proxy_endpoint(), Some("https://920736617090.dkr.ecr.ap-south-1.amazonaws.com"));
    let decoded = base64_decode(data.authorization_token().unwrap());
    assert!(decoded.starts_with("AWS:eyJwYXlsb2FkIjoi"), "{decoded}");
    let lifetime = data.expires_at().unwrap().secs() - mock.lab.read(|s| s.now().0 / 1000);
    assert!((12 * 3600 - 5..=12 * 3600).contains(&lifetime), "a token lives 12 hours, not {lifetime}s");
}

#[tokio::test]
async fn identity_errors_name_the_problem_like_aws() {
    let mock = InProcess::start().await;
    let unknown = ecr_client_with(&mock.url, "ap-south-1", "AKIAUNKNOWNKEY000000", "whatever", None).await;
    let (code, message) = failure(unknown.get_authorization_token().send().await);
    assert_eq!(code, "UnrecognizedClientException");
    assert_eq!(message, "The security token included in the request is invalid.");

    let wrong_secret = ecr_client_with(
        &mock.url,
        "ap-south-1",
        mock_registry::defaults::DEFAULT_ACCESS_KEY_ID,
        "not-the-secret",
        None,
    )
    .await;
    let (code, message) = failure(wrong_secret.describe_repositories().send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert_eq!(message, mock_registry::aws::SIGNATURE_MISMATCH);

    // A second account with temporary credentials: works, sees its own registry, then expires.
    let account = AccountId::parse("111122223333").unwrap();
    let key = mock
        .lab
        .write(|s| {
            let expires = s.now().plus_seconds(3600);
            s.add_key(AccessKey::generate(account, "student".into(), Some(expires)))
        })
        .await
        .unwrap();
    let temporary =
        ecr_client_with(&mock.url, "ap-south-1", &key.access_key_id, &key.secret_access_key, key.session_token.clone())
            .await;
    let created = temporary.create_repository().repository_name("mine").send().await.unwrap();
    assert_eq!(created.repository().unwrap().registry_id(), Some("111122223333"));
    let default = ecr_client(&mock.url, "ap-south-1").await;
    assert!(default.describe_repositories().send().await.unwrap().repositories().is_empty());

    mock.lab.write(|s| s.advance_clock(2 * 3600).map(|_: Millis| ())).await.unwrap();
    let (code, message) = failure(temporary.describe_repositories().send().await);
    assert_eq!(code, "ExpiredTokenException");
    assert_eq!(message, "The security token included in the request is expired");

    // A revoked key is unknown from then on.
    let key = mock
        .lab
        .write(|s| s.add_key(AccessKey::generate(AccountId::parse("920736617090").unwrap(), "x".into(), None)))
        .await
        .unwrap();
    let revoked = ecr_client_with(&mock.url, "ap-south-1", &key.access_key_id, &key.secret_access_key, None).await;
    revoked.describe_repositories().send().await.unwrap();
    mock.lab.write(|s| s.revoke_key(&key.access_key_id)).await.unwrap();
    let (code, _) = failure(revoked.describe_repositories().send().await);
    assert_eq!(code, "UnrecognizedClientException");
}

#[tokio::test]
async fn validation_errors_use_the_service_wording() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let (code, message) = failure(ecr.create_repository().repository_name("My_App").send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
    );
    let (code, message) = failure(
        ecr.create_repository()
            .repository_name("ok-name")
            .image_tag_mutability(ImageTagMutability::from("BOGUS"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]'"
    );
    let (code, message) = failure(
        ecr.create_repository()
            .repository_name("ok-name")
            .image_tag_mutability(ImageTagMutability::MutableWithExclusion)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as MUTABLE_WITH_EXCLUSION'"
    );
    ecr.create_repository().repository_name("ok-name").send().await.unwrap();
    let (code, _) = failure(ecr.put_image().repository_name("ok-name").image_manifest("{not json").send().await);
    assert_eq!(code, "InvalidParameterException");
    let image = sample(1, 1);
    upload_blobs(&ecr, "ok-name", &image.blobs).await.unwrap();
    let manifest = image.manifest;
    let (code, _) = failure(
        ecr.put_image()
            .repository_name("ok-name")
            .image_manifest(&manifest)
            .image_digest(format!("sha256:{}", "0".repeat(64)))
            .send()
            .await,
    );
    assert_eq!(code, "ImageDigestDoesNotMatchException");
}

fn sha256_hex(bytes: &[u8]) -> String {
    mock_registry::types::Digest::sha256_of(bytes).as_str().trim_start_matches("sha256:").to_owned()
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).unwrap()).unwrap()
}

fn padded(policy: &str) -> String {
    format!("{policy:<100}")
}

#[tokio::test]
async fn lifecycle_policies_preview_page_and_expire_on_the_lab_clock() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("app").send().await.unwrap();
    for (n, tag) in ["prod-1", "prod-2", "prod-3", "dev"].iter().enumerate() {
        put_sample(&ecr, "app", &sample(n + 1, 300), tag).await.unwrap();
    }
    // Re-pointing dev leaves sample 4 untagged.
    put_sample(&ecr, "app", &sample(5, 300), "dev").await.unwrap();

    let policy = r#"{"rules":[
        {"rulePriority":1,"description":"keep one prod","selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
        {"rulePriority":2,"description":"untagged after a week","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}"#;
    ecr.put_lifecycle_policy().repository_name("app").lifecycle_policy_text(policy).send().await.unwrap();
    let got = ecr.get_lifecycle_policy().repository_name("app").send().await.unwrap();
    assert_eq!(got.lifecycle_policy_text(), Some(policy));
    // Never run yet: `lastEvaluatedAt` is 0 (epoch), as in the aws CLI's get-lifecycle-policy example.
    assert_eq!(got.last_evaluated_at().map(|t| t.as_secs_f64()), Some(0.0));

    ecr.start_lifecycle_policy_preview().repository_name("app").send().await.unwrap();
    let first = ecr.get_lifecycle_policy_preview().repository_name("app").max_results(1).send().await.unwrap();
    assert_eq!(first.summary().unwrap().expiring_image_total_count(), Some(2));
    assert_eq!(first.preview_results().len(), 1);
    assert_eq!(first.preview_results()[0].image_tags(), ["prod-1"]);
    assert_eq!(first.preview_results()[0].applied_rule_priority(), Some(1));
    let token = first.next_token().unwrap();
    let second = ecr
        .get_lifecycle_policy_preview()
        .repository_name("app")
        .max_results(1)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.preview_results()[0].image_tags(), ["prod-2"]);
    assert!(second.next_token().is_none());

    // A day on: the prod rule runs; the untagged image is too young.
    mock.lab.write(|s| s.advance_clock(86_400).map(|_: Millis| ())).await.unwrap();
    let left = ecr.describe_images().repository_name("app").send().await.unwrap();
    assert_eq!(left.image_details().len(), 3);
    assert!(ecr.get_lifecycle_policy().repository_name("app").send().await.unwrap().last_evaluated_at().is_some());
    // A week on: the untagged image goes too.
    mock.lab.write(|s| s.advance_clock(7 * 86_400).map(|_: Millis| ())).await.unwrap();
    let left = ecr.describe_images().repository_name("app").send().await.unwrap();
    let mut tags: Vec<&str> = left.image_details().iter().flat_map(|d| d.image_tags()).map(String::as_str).collect();
    tags.sort();
    assert_eq!(tags, ["dev", "prod-3"]);

    ecr.delete_lifecycle_policy().repository_name("app").send().await.unwrap();
    let (code, message) = failure(ecr.get_lifecycle_policy().repository_name("app").send().await);
    assert_eq!(code, "LifecyclePolicyNotFoundException");
    assert_eq!(
        message,
        "Lifecycle policy does not exist for the repository with name 'app' in the registry with id '920736617090'"
    );
}

#[tokio::test]
async fn malformed_lifecycle_policies_are_invalid_parameters() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("app").send().await.unwrap();
    let v = |detail: &str| {
        format!(
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: {detail}'"
        )
    };
    let cases = [
        (padded("{"), v("Could not map policyString into LifecyclePolicy.")),
        (padded(r#"{"policy":1}"#), v(r#"object has missing required properties (["rules"])"#)),
        (
            padded(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":null}}]}"#),
            v("instance failed to match exactly one schema (matched 0 out of 4)\n"),
        ),
        (
            padded(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"all","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#),
            v(r#"instance value ("all") not found in enum (possible values: ["tagged","untagged","any"])"#),
        ),
        (
            "{\"rules\":[]}".to_owned(),
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'".to_owned(),
        ),
    ];
    for (text, expected) in cases {
        let (code, message) =
            failure(ecr.put_lifecycle_policy().repository_name("app").lifecycle_policy_text(&text).send().await);
        assert_eq!((code.as_str(), message.as_str()), ("InvalidParameterException", expected.as_str()), "{text}");
    }
    let (code, _) = failure(ecr.get_lifecycle_policy_preview().repository_name("app").send().await);
    assert_eq!(code, "LifecyclePolicyPreviewNotFoundException");
    let (code, _) = failure(ecr.start_lifecycle_policy_preview().repository_name("app").send().await);
    assert_eq!(code, "LifecyclePolicyNotFoundException");
}
