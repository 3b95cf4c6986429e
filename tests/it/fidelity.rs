//! Issue 18 item 4: the exact shapes the botocore ECR model gives, through aws-sdk-ecr (which
//! parses the modelled members) and the aws CLI (which prints the wire JSON).

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::upload_layer_part::UploadLayerPartError;
use aws_sdk_ecr::primitives::Blob;
use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageIdentifier};

use crate::common::{InProcess, Served, aws_cli_available, bash, cli_error, ecr_client, put_sample, sample};

const POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"keep two","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;

#[tokio::test]
async fn invalid_layer_part_names_the_upload_and_its_last_good_byte() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "us-east-1").await;
    ecr.create_repository().repository_name("parts").send().await.unwrap();
    let id = ecr.initiate_layer_upload().repository_name("parts").send().await.unwrap().upload_id().unwrap().to_owned();
    let part = |first: i64, bytes: Vec<u8>| {
        ecr.upload_layer_part()
            .repository_name("parts")
            .upload_id(&id)
            .part_first_byte(first)
            .part_last_byte(first + bytes.len() as i64 - 1)
            .layer_part_blob(Blob::new(bytes))
            .send()
    };
    let first = part(0, vec![7; 10]).await.unwrap();
    assert_eq!(first.last_byte_received(), Some(9));
    let error = part(20, vec![7; 5]).await.expect_err("a part that skips bytes 10-19");
    let UploadLayerPartError::InvalidLayerPartException(e) = error.into_service_error() else {
        panic!("expected InvalidLayerPartException");
    };
    assert_eq!(e.registry_id(), Some("920736617090"));
    assert_eq!(e.repository_name(), Some("parts"));
    assert_eq!(e.upload_id(), Some(id.as_str()));
    assert_eq!(e.last_valid_byte_received(), Some(9));
}

#[tokio::test]
async fn lifecycle_policy_responses_carry_last_evaluated_at_where_the_model_has_it() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "us-east-1").await;
    ecr.create_repository().repository_name("life").send().await.unwrap();
    ecr.put_lifecycle_policy().repository_name("life").lifecycle_policy_text(POLICY).send().await.unwrap();
    let got = ecr.get_lifecycle_policy().repository_name("life").send().await.unwrap();
    assert_eq!(got.last_evaluated_at().map(|t| t.as_secs_f64()), Some(0.0));
    let deleted = ecr.delete_lifecycle_policy().repository_name("life").send().await.unwrap();
    assert_eq!(deleted.last_evaluated_at().map(|t| t.as_secs_f64()), Some(0.0));
}

#[tokio::test]
async fn put_image_without_any_media_type_is_refused_as_ecr_does() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "us-east-1").await;
    ecr.create_repository().repository_name("oci").send().await.unwrap();
    let image = sample(1, 64);
    put_sample(&ecr, "oci", &image, "v1").await.unwrap();
    // The same manifest with its top-level mediaType taken out, as Helm and OCI tools write it.
    let mut bare: serde_json::Value = serde_json::from_str(&image.manifest).unwrap();
    let kind = bare.as_object_mut().unwrap().remove("mediaType").unwrap();
    let bare = bare.to_string();
    let error = ecr.put_image().repository_name("oci").image_manifest(&bare).image_tag("v2").send().await.unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterException"));
    assert_eq!(
        error.message(),
        Some("Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'")
    );
    // Saying the type in imageManifestMediaType is the documented way through.
    let put = ecr
        .put_image()
        .repository_name("oci")
        .image_manifest(&bare)
        .image_manifest_media_type(kind.as_str().unwrap())
        .image_tag("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(put.image().unwrap().image_manifest_media_type(), kind.as_str());
}

#[tokio::test]
async fn describe_images_refuses_image_ids_with_max_results() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "us-east-1").await;
    ecr.create_repository().repository_name("both").send().await.unwrap();
    put_sample(&ecr, "both", &sample(1, 64), "v1").await.unwrap();
    let by_tag = ImageIdentifier::builder().image_tag("v1").build();
    let error = ecr
        .describe_images()
        .repository_name("both")
        .image_ids(by_tag.clone())
        .max_results(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterException"));
    assert_eq!(
        error.message(),
        Some(
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults cannot be used together with imageIds'"
        )
    );
    let alone = ecr.describe_images().repository_name("both").image_ids(by_tag).send().await.unwrap();
    assert_eq!(alone.image_details().len(), 1);
}

#[tokio::test]
async fn the_aws_managed_kms_key_is_reported_by_its_key_arn() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "eu-west-1").await;
    let kms = |name: &'static str| {
        ecr.create_repository()
            .repository_name(name)
            .encryption_configuration(
                EncryptionConfiguration::builder().encryption_type(EncryptionType::Kms).build().unwrap(),
            )
            .send()
    };
    let first = kms("enc-a").await.unwrap();
    let key = first.repository().unwrap().encryption_configuration().unwrap().kms_key().unwrap().to_owned();
    let prefix = "arn:aws:kms:eu-west-1:920736617090:key/";
    assert!(key.starts_with(prefix), "{key}");
    let uuid = &key[prefix.len()..];
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
    assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{uuid}");
    // One AWS managed key per account and region: every repository reports the same one.
    let second = kms("enc-b").await.unwrap();
    assert_eq!(second.repository().unwrap().encryption_configuration().unwrap().kms_key(), Some(key.as_str()));
}

#[test]
fn the_aws_cli_prints_the_model_shapes() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let sh = |script: &str| bash(&format!("eval \"$(ecr-lab env --endpoint {})\"\n{script}", server.url), home.path());
    let policy = home.path().join("policy.json");
    std::fs::write(&policy, POLICY).unwrap();
    let got = sh(&format!(
        "aws ecr create-repository --repository-name life > /dev/null && \
         aws ecr put-lifecycle-policy --repository-name life --lifecycle-policy-text file://{} > /dev/null && \
         aws ecr get-lifecycle-policy --repository-name life",
        policy.display()
    ));
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert!(got.stdout.contains("\"lastEvaluatedAt\": 0.0"), "{}", got.stdout);
    let bare = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let refused = sh(&format!("aws ecr put-image --repository-name life --image-tag v1 --image-manifest '{bare}'"));
    assert_eq!(
        refused.stderr,
        cli_error(
            "InvalidParameterException",
            "PutImage",
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
        )
    );
    assert_eq!(refused.code, 255);
}

/// Issue 18 item 5: after `eval "$(ecr-lab env)"`, ECR and STS go to the mock by their own
/// variables, and any other service fails on its first try with the lab's error in its protocol.
#[test]
fn other_services_fail_fast_and_say_the_lab_mocks_ecr_and_sts_only() {
    if !aws_cli_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
    let url = &server.url;
    let sh = |script: &str| bash(&format!("eval \"$(ecr-lab env --endpoint {url})\"\n{script}"), home.path());
    let env = sh("env | grep ^AWS_ENDPOINT_URL | sort");
    assert_eq!(
        env.stdout,
        format!("AWS_ENDPOINT_URL={url}\nAWS_ENDPOINT_URL_ECR={url}\nAWS_ENDPOINT_URL_STS={url}\n"),
        "{}",
        env.stderr
    );
    let identity = sh("aws sts get-caller-identity --query Account --output text");
    assert_eq!((identity.code, identity.stdout.as_str()), (0, "920736617090\n"), "{}", identity.stderr);
    for (command, service, operation) in [
        ("aws s3 ls", "s3", "ListBuckets"),
        ("aws iam get-user", "iam", "GetUser"),
        ("aws ec2 describe-vpcs", "ec2", "DescribeVpcs"),
        ("aws ecs list-clusters", "ecs", "ListClusters"),
    ] {
        let started = std::time::Instant::now();
        let ran = sh(command);
        let took = started.elapsed();
        let message = format!(
            "The ecr-lab mock answers ECR and STS only, not '{service}': this shell's AWS settings come from `ecr-lab env`. \
             For real AWS, open a new shell (or run `unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_STS \
             AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY`)."
        );
        assert_eq!(ran.stderr, cli_error("NotImplemented", operation, &message), "{command}");
        assert_eq!((ran.code, ran.stdout.as_str()), (255, ""), "{command}");
        // One request, no retries: well under the seconds botocore's backoff would take.
        assert!(took < std::time::Duration::from_secs(8), "{command} took {took:?}");
    }
    let log = sh("aws ecr describe-repositories --query 'length(repositories)'");
    assert_eq!((log.code, log.stdout.as_str()), (0, "0\n"), "{}", log.stderr);
}
