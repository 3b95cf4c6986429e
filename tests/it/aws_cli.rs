//! The real aws CLI (v1, from PyPI) against `ecr-lab serve`, set up with `eval "$(ecr-lab env ...)"`
//! exactly as a learner does: stdout JSON fields, stderr lines and exit codes asserted exactly.

use std::path::Path;

use crate::common::{Ran, Served, aws_cli_available, bash, cli_error, digest_of, sample};

struct Lab {
    server: Served,
    _home: tempfile::TempDir,
}

impl Lab {
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let server = Served::start(home.path(), &["--data-dir", data.to_str().unwrap()]);
        Self { server, _home: home }
    }

    fn home(&self) -> &Path {
        &self.server.home
    }

    /// Runs `script` after `eval "$(ecr-lab env --endpoint URL)"`.
    fn sh(&self, script: &str) -> Ran {
        bash(&format!("eval \"$(ecr-lab env --endpoint {})\"\n{script}", self.server.url), self.home())
    }

    fn ok(&self, script: &str) -> serde_json::Value {
        let ran = self.sh(script);
        assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
        if ran.stdout.trim().is_empty() { serde_json::Value::Null } else { ran.json() }
    }

    /// Uploads one blob with the CLI's layer commands: initiate, one part, complete.
    fn upload_layer(&self, repository: &str, blob: &[u8]) {
        let file = self.home().join(format!("blob-{}", &digest_of(blob)[7..19]));
        std::fs::write(&file, blob).unwrap();
        let script = format!(
            "set -e\n\
             id=$(aws ecr initiate-layer-upload --repository-name {repository} --query uploadId --output text)\n\
             aws ecr upload-layer-part --repository-name {repository} --upload-id $id --part-first-byte 0 \
               --part-last-byte {} --layer-part-blob fileb://{} > /dev/null\n\
             aws ecr complete-layer-upload --repository-name {repository} --upload-id $id --layer-digests {}",
            blob.len() - 1,
            file.display(),
            digest_of(blob)
        );
        let completed = self.ok(&script);
        assert_eq!(completed["layerDigest"], digest_of(blob).as_str());
    }

    fn fails(&self, script: &str, code: &str, operation: &str, message: &str) {
        let ran = self.sh(script);
        assert_eq!(ran.stderr, cli_error(code, operation, message), "{script}");
        assert_eq!(ran.code, 255, "{script}");
        assert_eq!(ran.stdout, "", "{script}");
    }
}

#[test]
fn the_guide_commands_work_verbatim() {
    if !aws_cli_available() {
        return;
    }
    let lab = Lab::start();
    let identity = lab.ok("aws sts get-caller-identity --region ap-south-1");
    assert_eq!(
        identity,
        serde_json::json!({
            "UserId": "AIDAECRLABLEARNER0001",
            "Account": "920736617090",
            "Arn": "arn:aws:iam::920736617090:user/lab-learner"
        })
    );

    let created = lab.ok("aws ecr create-repository --repository-name test --region ap-south-1 \
         --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE");
    let repository = &created["repository"];
    assert_eq!(repository["repositoryArn"], "arn:aws:ecr:ap-south-1:920736617090:repository/test");
    assert_eq!(repository["registryId"], "920736617090");
    assert_eq!(repository["repositoryName"], "test");
    assert_eq!(repository["repositoryUri"], "920736617090.dkr.ecr.ap-south-1.amazonaws.com/test");
    assert_eq!(repository["imageTagMutability"], "IMMUTABLE");
    assert_eq!(repository["imageScanningConfiguration"], serde_json::json!({ "scanOnPush": true }));
    assert_eq!(repository["encryptionConfiguration"], serde_json::json!({ "encryptionType": "AES256" }));
    assert!(repository["createdAt"].is_f64(), "epoch seconds with a fraction: {}", repository["createdAt"]);
    // Printed in the order the captured AWS output has them.
    let printed = lab.sh("aws ecr describe-repositories --region ap-south-1").stdout;
    let order = [
        "repositoryArn",
        "registryId",
        "repositoryName",
        "repositoryUri",
        "createdAt",
        "imageTagMutability",
        "imageScanningConfiguration",
        "encryptionConfiguration",
    ];
    let positions: Vec<usize> = order.iter().map(|k| printed.find(&format!("\"{k}\"")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{printed}");

    let described = lab.ok("aws ecr describe-repositories --region ap-south-1");
    assert_eq!(described["repositories"][0], created["repository"]);

    let password = lab.sh("aws ecr get-login-password --region ap-south-1");
    assert_eq!(password.code, 0);
    assert!(password.stdout.starts_with("eyJwYXlsb2FkIjoi"), "{}", password.stdout);
    assert!(password.stdout.ends_with('\n') && password.stdout.lines().count() == 1);

    assert_eq!(
        lab.ok("aws ecr describe-images --repository-name test --region ap-south-1"),
        serde_json::json!({ "imageDetails": [] })
    );
    // The CLI pretty-prints with four spaces, as for AWS.
    let raw = lab.sh("aws ecr describe-images --repository-name test --region ap-south-1");
    assert_eq!(raw.stdout, "{\n    \"imageDetails\": []\n}\n");
}

#[test]
fn the_documented_errors_word_for_word() {
    if !aws_cli_available() {
        return;
    }
    let lab = Lab::start();
    lab.ok("aws ecr create-repository --repository-name test");
    lab.fails(
        "aws ecr describe-images --repository-name nope --region ap-south-1",
        "RepositoryNotFoundException",
        "DescribeImages",
        "The repository with name 'nope' does not exist in the registry with id '920736617090'",
    );
    lab.fails(
        "aws ecr create-repository --repository-name test --region ap-south-1",
        "RepositoryAlreadyExistsException",
        "CreateRepository",
        "The repository with name 'test' already exists in the registry with id '920736617090'",
    );
    lab.fails(
        "aws ecr create-repository --repository-name My_App",
        "InvalidParameterException",
        "CreateRepository",
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
    );
    lab.fails(
        "aws ecr create-repository --repository-name ok --image-tag-mutability BOGUS",
        "InvalidParameterException",
        "CreateRepository",
        "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]'",
    );
    lab.fails(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws ecr get-authorization-token --region ap-south-1",
        "UnrecognizedClientException",
        "GetAuthorizationToken",
        "The security token included in the request is invalid.",
    );
    lab.fails(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws ecr get-login-password --region ap-south-1",
        "UnrecognizedClientException",
        "GetAuthorizationToken",
        "The security token included in the request is invalid.",
    );
    lab.fails(
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws ecr describe-repositories",
        "InvalidSignatureException",
        "DescribeRepositories",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
    lab.fails(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws sts get-caller-identity",
        "InvalidClientTokenId",
        "GetCallerIdentity",
        "The security token included in the request is invalid.",
    );
    lab.fails(
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws sts get-caller-identity",
        "SignatureDoesNotMatch",
        "GetCallerIdentity",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
    lab.fails(
        "aws ecr get-registry-policy",
        "RegistryPolicyNotFoundException",
        "GetRegistryPolicy",
        "Registry policy does not exist in the registry with id '920736617090'",
    );
    // botocore stops a too-short name on the client, before any request (exit 255 too).
    let short = lab.sh("aws ecr create-repository --repository-name a");
    assert_eq!(
        short.stderr,
        "\nParameter validation failed:\nInvalid length for parameter repositoryName, value: 1, valid min length: 2\n"
    );
    assert_eq!(short.code, 255);
}

#[test]
fn every_operation_through_the_cli() {
    if !aws_cli_available() {
        return;
    }
    let lab = Lab::start();
    let (one, two) = (sample(1, 1469), sample(2, 2000));
    let manifest = lab.home().join("manifest.json");
    std::fs::write(&manifest, &one.manifest).unwrap();
    let second = lab.home().join("manifest2.json");
    std::fs::write(&second, &two.manifest).unwrap();
    let (m1, m2) = (manifest.display(), second.display());

    lab.ok("aws ecr create-repository --repository-name project-a/nginx-web-app --tags Key=team,Value=seminar");
    lab.fails(
        &format!("aws ecr put-image --repository-name project-a/nginx-web-app --image-tag v1 --image-manifest file://{m1}"),
        "LayersNotFoundException",
        "PutImage",
        &format!(
            "Layers with digests '[{}, {}]' required for pushing image into repository with name 'project-a/nginx-web-app' in the registry with id '920736617090' do not exist",
            digest_of(&one.blobs[0]),
            digest_of(&one.blobs[1])
        ),
    );
    for blob in one.blobs.iter().chain(&two.blobs) {
        lab.upload_layer("project-a/nginx-web-app", blob);
    }
    let check = lab.ok(&format!(
        "aws ecr batch-check-layer-availability --repository-name project-a/nginx-web-app --layer-digests {} sha256:{}",
        digest_of(&one.blobs[1]),
        "0".repeat(64)
    ));
    assert_eq!(check["layers"][0]["layerAvailability"], "AVAILABLE");
    assert_eq!(check["layers"][0]["layerSize"], 1469);
    assert_eq!(check["failures"][0]["failureCode"], "MissingLayerDigest");
    let url = lab.ok(&format!(
        "aws ecr get-download-url-for-layer --repository-name project-a/nginx-web-app --layer-digest {}",
        digest_of(&one.blobs[1])
    ));
    let fetched = lab.sh(&format!("curl -sf '{}' | sha256sum", url["downloadUrl"].as_str().unwrap()));
    assert_eq!(fetched.stdout.split_whitespace().next().map(|h| format!("sha256:{h}")), Some(digest_of(&one.blobs[1])));
    let put = lab.ok(&format!(
        "aws ecr put-image --repository-name project-a/nginx-web-app --image-tag v1 --image-manifest file://{m1}"
    ));
    let digest = put["image"]["imageId"]["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(put["image"]["imageId"]["imageTag"], "v1");
    assert_eq!(put["image"]["imageManifestMediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(put["image"]["registryId"], "920736617090");

    let described = lab.ok("aws ecr describe-images --repository-name project-a/nginx-web-app");
    let detail = &described["imageDetails"][0];
    assert_eq!(detail["imageDigest"], digest.as_str());
    assert_eq!(detail["imageTags"], serde_json::json!(["v1"]));
    assert_eq!(detail["imageSizeInBytes"], 1469);
    assert_eq!(detail["imageManifestMediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert!(detail["imagePushedAt"].is_f64());

    // Re-point v1 (mutable): the old image stays, untagged.
    lab.ok(&format!(
        "aws ecr put-image --repository-name project-a/nginx-web-app --image-tag v1 --image-manifest file://{m2}"
    ));
    let untagged = lab.ok("aws ecr list-images --repository-name project-a/nginx-web-app --filter tagStatus=UNTAGGED");
    assert_eq!(untagged, serde_json::json!({ "imageIds": [{ "imageDigest": digest }] }));
    let all = lab.ok("aws ecr list-images --repository-name project-a/nginx-web-app");
    assert_eq!(all["imageIds"].as_array().unwrap().len(), 2);

    let got = lab
        .ok("aws ecr batch-get-image --repository-name project-a/nginx-web-app --image-ids imageTag=v1 imageTag=zzz");
    assert_eq!(got["images"][0]["imageManifest"], two.manifest);
    assert_eq!(
        got["failures"],
        serde_json::json!([{ "imageId": { "imageTag": "zzz" }, "failureCode": "ImageNotFound", "failureReason": "Requested image not found" }])
    );

    let deleted = lab.ok(&format!(
        "aws ecr batch-delete-image --repository-name project-a/nginx-web-app --image-ids imageDigest={digest} imageTag=zzz"
    ));
    assert_eq!(deleted["imageIds"], serde_json::json!([{ "imageDigest": digest }]));
    assert_eq!(deleted["failures"][0]["failureCode"], "ImageNotFound");

    let mutability = lab.ok(
        "aws ecr put-image-tag-mutability --repository-name project-a/nginx-web-app --image-tag-mutability IMMUTABLE_WITH_EXCLUSION \
         --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter=dev-*",
    );
    assert_eq!(
        mutability,
        serde_json::json!({
            "registryId": "920736617090",
            "repositoryName": "project-a/nginx-web-app",
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{ "filterType": "WILDCARD", "filter": "dev-*" }]
        })
    );
    lab.fails(
        &format!("aws ecr put-image --repository-name project-a/nginx-web-app --image-tag v1 --image-manifest file://{m1}"),
        "ImageTagAlreadyExistsException",
        "PutImage",
        "The image tag 'v1' already exists in the 'project-a/nginx-web-app' repository and cannot be overwritten because the repository is immutable.",
    );
    lab.ok(&format!(
        "aws ecr put-image --repository-name project-a/nginx-web-app --image-tag dev-1 --image-manifest file://{m1}"
    ));
    lab.ok(&format!(
        "aws ecr put-image --repository-name project-a/nginx-web-app --image-tag dev-1 --image-manifest file://{m2}"
    ));

    let scanning = lab.ok(
        "aws ecr put-image-scanning-configuration --repository-name project-a/nginx-web-app --image-scanning-configuration scanOnPush=true",
    );
    assert_eq!(
        scanning,
        serde_json::json!({
            "registryId": "920736617090",
            "repositoryName": "project-a/nginx-web-app",
            "imageScanningConfiguration": { "scanOnPush": true }
        })
    );

    let arn = "arn:aws:ecr:ap-south-1:920736617090:repository/project-a/nginx-web-app";
    assert_eq!(
        lab.ok(&format!("aws ecr tag-resource --resource-arn {arn} --tags Key=env,Value=lab")),
        serde_json::Value::Null
    );
    lab.ok(&format!("aws ecr untag-resource --resource-arn {arn} --tag-keys team"));
    assert_eq!(
        lab.ok(&format!("aws ecr list-tags-for-resource --resource-arn {arn}")),
        serde_json::json!({ "tags": [{ "Key": "env", "Value": "lab" }] })
    );

    assert_eq!(
        lab.ok("aws ecr describe-registry"),
        serde_json::json!({ "registryId": "920736617090", "replicationConfiguration": { "rules": [] } })
    );

    let token = lab.ok("aws ecr get-authorization-token");
    let data = &token["authorizationData"][0];
    assert_eq!(data["proxyEndpoint"], "https://920736617090.dkr.ecr.ap-south-1.amazonaws.com");
    assert!(data["authorizationToken"].as_str().unwrap().starts_with("QVdTOmV5SndZWGxzYjJGa0lqb2"));
    let expires = data["expiresAt"].as_f64().unwrap();

    // The lab clock moves token expiry.
    let advanced = lab.sh("ecr-lab clock advance 13h");
    assert_eq!(advanced.code, 0, "{}", advanced.stderr);
    assert!(advanced.stdout.starts_with("lab clock is now "), "{}", advanced.stdout);
    let later = lab.ok("aws ecr get-authorization-token");
    let moved = later["authorizationData"][0]["expiresAt"].as_f64().unwrap() - expires;
    assert!((13.0 * 3600.0..13.0 * 3600.0 + 60.0).contains(&moved), "expiresAt moved by {moved}s");

    lab.fails(
        "aws ecr delete-repository --repository-name project-a/nginx-web-app",
        "RepositoryNotEmptyException",
        "DeleteRepository",
        "The repository with name 'project-a/nginx-web-app' in registry with id '920736617090' cannot be deleted because it still contains images",
    );
    let deleted = lab.ok("aws ecr delete-repository --repository-name project-a/nginx-web-app --force");
    assert_eq!(deleted["repository"]["repositoryName"], "project-a/nginx-web-app");
    assert_eq!(lab.ok("aws ecr describe-repositories"), serde_json::json!({ "repositories": [] }));
}

#[test]
fn a_lifecycle_policy_previews_then_expires_on_the_lab_clock() {
    if !aws_cli_available() {
        return;
    }
    let lab = Lab::start();
    lab.ok("aws ecr create-repository --repository-name keep-two");
    lab.fails(
        "aws ecr get-lifecycle-policy --repository-name keep-two",
        "LifecyclePolicyNotFoundException",
        "GetLifecyclePolicy",
        "Lifecycle policy does not exist for the repository with name 'keep-two' in the registry with id '920736617090'",
    );
    // Same layer size, so the four samples share one layer blob.
    let samples: Vec<_> = (1..=4).map(|n| sample(n, 512)).collect();
    lab.upload_layer("keep-two", &samples[0].blobs[1]);
    let mut digests = Vec::new();
    for (n, s) in samples.iter().enumerate() {
        lab.upload_layer("keep-two", &s.blobs[0]);
        let file = lab.home().join(format!("m{n}.json"));
        std::fs::write(&file, &s.manifest).unwrap();
        let put = lab.ok(&format!(
            "aws ecr put-image --repository-name keep-two --image-tag v{} --image-manifest file://{}",
            n + 1,
            file.display()
        ));
        digests.push(put["image"]["imageId"]["imageDigest"].as_str().unwrap().to_owned());
    }
    lab.fails(
        "aws ecr get-lifecycle-policy-preview --repository-name keep-two",
        "LifecyclePolicyPreviewNotFoundException",
        "GetLifecyclePolicyPreview",
        "There is no lifecycle policy preview for the repository with name 'keep-two' in the registry with id '920736617090'",
    );
    let policy = r#"{"rules":[{"rulePriority":1,"description":"Keep last 2 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;
    let policy_file = lab.home().join("policy.json");
    std::fs::write(&policy_file, policy).unwrap();
    let put = lab.ok(&format!(
        "aws ecr put-lifecycle-policy --repository-name keep-two --lifecycle-policy-text file://{}",
        policy_file.display()
    ));
    assert_eq!(put["lifecyclePolicyText"], policy);
    assert_eq!(put["repositoryName"], "keep-two");
    assert_eq!(put["registryId"], "920736617090");

    let started = lab.ok("aws ecr start-lifecycle-policy-preview --repository-name keep-two");
    assert_eq!(started["status"], "IN_PROGRESS");
    assert_eq!(started["lifecyclePolicyText"], policy);
    let preview = lab.ok("aws ecr get-lifecycle-policy-preview --repository-name keep-two");
    assert_eq!(preview["status"], "COMPLETE");
    assert_eq!(preview["summary"]["expiringImageTotalCount"], 2);
    let results = preview["previewResults"].as_array().unwrap();
    let expiring: Vec<&str> = results.iter().map(|r| r["imageDigest"].as_str().unwrap()).collect();
    assert_eq!(expiring, [digests[0].as_str(), digests[1].as_str()]);
    assert_eq!(results[0]["imageTags"], serde_json::json!(["v1"]));
    assert_eq!(results[0]["action"]["type"], "EXPIRE");
    assert_eq!(results[0]["appliedRulePriority"], 1);
    assert!(results[0]["imagePushedAt"].is_f64());
    // Nothing expires before the lab clock moves.
    let before = lab.ok("aws ecr describe-images --repository-name keep-two");
    assert_eq!(before["imageDetails"].as_array().unwrap().len(), 4);

    let advanced = lab.sh("ecr-lab clock advance 1d");
    assert_eq!(advanced.code, 0, "{}", advanced.stderr);
    let after = lab.ok("aws ecr describe-images --repository-name keep-two");
    let mut left: Vec<&str> =
        after["imageDetails"].as_array().unwrap().iter().map(|d| d["imageTags"][0].as_str().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["v3", "v4"]);
    let got = lab.ok("aws ecr get-lifecycle-policy --repository-name keep-two");
    assert_eq!(got["lifecyclePolicyText"], policy);
    assert!(got["lastEvaluatedAt"].is_f64(), "{got}");

    lab.fails(
        "aws ecr put-lifecycle-policy --repository-name keep-two --lifecycle-policy-text '{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"tagged\",\"countType\":\"imageCountMoreThan\",\"countNumber\":1},\"action\":{\"type\":\"expire\"}}]}'",
        "InvalidParameterException",
        "PutLifecyclePolicy",
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: instance failed to match exactly one schema (matched 0 out of 4)\n'",
    );
    let deleted = lab.ok("aws ecr delete-lifecycle-policy --repository-name keep-two");
    assert_eq!(deleted["lifecyclePolicyText"], policy);
    lab.fails(
        "aws ecr delete-lifecycle-policy --repository-name keep-two",
        "LifecyclePolicyNotFoundException",
        "DeleteLifecyclePolicy",
        "Lifecycle policy does not exist for the repository with name 'keep-two' in the registry with id '920736617090'",
    );
}

#[test]
fn regions_do_not_share_repositories() {
    if !aws_cli_available() {
        return;
    }
    let lab = Lab::start();
    lab.ok("aws ecr create-repository --repository-name test --region ap-south-1");
    assert_eq!(lab.ok("aws ecr describe-repositories --region us-east-1"), serde_json::json!({ "repositories": [] }));
    lab.fails(
        "aws ecr describe-repositories --repository-names test --region us-east-1",
        "RepositoryNotFoundException",
        "DescribeRepositories",
        "The repository with name 'test' does not exist in the registry with id '920736617090'",
    );
    let token = lab.ok("aws ecr get-authorization-token --region us-east-1");
    assert_eq!(token["authorizationData"][0]["proxyEndpoint"], "https://920736617090.dkr.ecr.us-east-1.amazonaws.com");
}

#[test]
fn env_without_a_server_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let ran = bash("ecr-lab env", home.path());
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "ecr-lab: no running mock is known: start one with `ecr-lab serve`, or pass --endpoint URL\n"
    );
    let lab = Lab::start();
    let ran = bash("ecr-lab env", lab.home());
    assert_eq!(ran.code, 0);
    assert!(ran.stdout.contains(&format!("export AWS_ENDPOINT_URL={}\n", lab.server.url)), "{}", ran.stdout);
    assert!(ran.stdout.contains("export AWS_DEFAULT_REGION=ap-south-1\n"));
}
