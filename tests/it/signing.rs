//! `ecr-lab keygen`, `sign` and `verify-signature` against a served mock, and the same commands built
//! into the lab shell: what is stored is cosign's format (tag `sha256-<hex>.sig`, simple-signing layer,
//! signature annotation, the image as `subject`), and a tampered tag, a copied signature, another key
//! and an unsigned image are each refused with cosign's words and a precise reason.

use std::path::Path;
use std::process::Command;

use crate::common::{Ran, Served, ecr_client, put_sample, sample};

/// Runs the ecr-lab binary in `dir` (the key files land there), docker's config in `dir/docker`.
fn lab(dir: &Path, home: &Path, args: &[&str], password: &str) -> Ran {
    let output = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(args)
        .current_dir(dir)
        .env("ECR_LAB_HOME", home)
        .env("DOCKER_CONFIG", dir.join("docker"))
        .env("COSIGN_PASSWORD", password)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .expect("run ecr-lab");
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

fn ok(ran: Ran) -> Ran {
    assert_eq!(ran.code, 0, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    ran
}

#[tokio::test(flavor = "multi_thread")]
async fn signatures_are_cosigns_and_bad_images_are_refused_precisely() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();
    let ecr = ecr_client(&server.url, "ap-south-1").await;
    ecr.create_repository().repository_name("signed").send().await.unwrap();
    let (one, two) = (sample(1, 300), sample(2, 300));
    put_sample(&ecr, "signed", &one, "v1").await.unwrap();
    put_sample(&ecr, "signed", &two, "unsigned").await.unwrap();
    let digest = crate::common::digest_of(one.manifest.as_bytes());
    let run = |args: &[&str]| lab(work.path(), home.path(), args, "s3cret");
    // No password stored: the credential helper gives sign and verify their token.
    ok(run(&["credential-helper", "configure", &host]));

    let ran = ok(run(&["keygen"]));
    assert_eq!(ran.stderr, "Private key written to cosign.key\nPublic key written to cosign.pub\n");
    let private = std::fs::read_to_string(work.path().join("cosign.key")).unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), "{private}");
    assert!(
        std::fs::read_to_string(work.path().join("cosign.pub")).unwrap().starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    assert_ne!(run(&["keygen"]).code, 0, "an existing pair is not overwritten");

    let image = format!("{host}/signed:v1");
    let ran = ok(run(&["sign", &image, "--key", "cosign.key"]));
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    assert_eq!(ran.stderr, format!("Pushing signature to: {host}/signed:{tag}\n"));
    let wrong = run(&["sign", &image, "--key", "cosign.key"]);
    let wrong = Ran { ..wrong };
    assert_eq!(wrong.code, 0);

    // Byte-level: the .sig manifest is cosign's.
    let stored = ecr
        .batch_get_image()
        .repository_name("signed")
        .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(&tag).build())
        .send()
        .await
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(stored.images()[0].image_manifest().unwrap()).unwrap();
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    assert_eq!(manifest["subject"]["digest"], digest.as_str());
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "signing twice adds a second signature, as cosign does");
    assert_eq!(layers[0]["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    assert!(layers[0]["annotations"]["dev.cosignproject.cosign/signature"].as_str().unwrap().starts_with("ME"));

    // DescribeImages shows the signature as ECR does: an OCI manifest whose artifact media type is
    // the config's; the console lists it on the image's page.
    let described = ecr
        .describe_images()
        .repository_name("signed")
        .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(&tag).build())
        .send()
        .await
        .unwrap();
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_manifest_media_type(), Some("application/vnd.oci.image.manifest.v1+json"));
    assert_eq!(detail.artifact_media_type(), Some("application/vnd.oci.image.config.v1+json"));
    let page = crate::common::bash(
        &format!("curl -s {}/console/repositories/signed/_/image/{digest}", server.url),
        home.path(),
    );
    assert!(page.stdout.contains("Signatures and other referrers"), "{}", page.stdout);
    assert!(page.stdout.contains("Signature (cosign, 2 signatures)"), "{}", page.stdout);
    assert!(page.stdout.contains(&tag), "{}", page.stdout);

    // Verified: cosign's report on stderr, the payloads on stdout.
    let ran = ok(run(&["verify-signature", &image, "--key", "cosign.pub"]));
    assert!(ran.stderr.contains(&format!("Verification for {image} --\n")), "{}", ran.stderr);
    assert!(ran.stderr.contains("  - The signatures were verified against the specified public key\n"));
    let claims: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(claims[0]["critical"]["image"]["docker-manifest-digest"], digest.as_str());
    assert_eq!(claims[0]["critical"]["identity"]["docker-reference"], format!("{host}/signed"));
    assert_eq!(claims[0]["critical"]["type"], "cosign container image signature");

    // Another key.
    ok(run(&["keygen", "--output-key-prefix", "other"]));
    let ran = run(&["verify-signature", &image, "--key", "other.pub"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .starts_with("Error: no matching signatures: invalid signature when validating ASN.1 encoded signature\n"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("not made with the private key that belongs to this public key"), "{}", ran.stderr);

    // Unsigned.
    let ran = run(&["verify-signature", &format!("{host}/signed:unsigned"), "--key", "cosign.pub"]);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("Error: no signatures found\n"), "{}", ran.stderr);

    // The signature copied onto the other image's .sig tag: the claim names other bytes.
    let other_digest = crate::common::digest_of(two.manifest.as_bytes());
    let copied = format!("sha256-{}.sig", other_digest.trim_start_matches("sha256:"));
    ecr.put_image()
        .repository_name("signed")
        .image_manifest(stored.images()[0].image_manifest().unwrap())
        .image_tag(&copied)
        .send()
        .await
        .unwrap();
    let ran = run(&["verify-signature", &format!("{host}/signed:unsigned"), "--key", "cosign.pub"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.starts_with(&format!("Error: no matching signatures: invalid or missing digest in claim: {digest}")),
        "{}",
        ran.stderr
    );

    // The tag pushed over with other bytes after signing: nothing signs what it names now.
    put_sample(&ecr, "signed", &sample(3, 300), "v1").await.unwrap();
    let ran = run(&["verify-signature", &image, "--key", "cosign.pub"]);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("Error: no signatures found\n"), "{}", ran.stderr);
    assert!(ran.stderr.contains("the tag was pushed over after signing"), "{}", ran.stderr);

    // As on ECR, a tag-scheme signature is an image of its own: deleting the signed image leaves it.
    ecr.batch_delete_image()
        .repository_name("signed")
        .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&digest).build())
        .send()
        .await
        .unwrap();
    let left = ecr.list_images().repository_name("signed").send().await.unwrap();
    assert!(left.image_ids().iter().any(|i| i.image_tag() == Some(tag.as_str())), "{left:?}");

    // A wrong passphrase is said as such.
    let ran = lab(work.path(), home.path(), &["sign", &image, "--key", "cosign.key"], "nope");
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.contains("wrong passphrase for the private key"), "{}", ran.stderr);
}

#[test]
fn the_lab_shell_signs_verifies_and_refuses_a_tampered_tag() {
    let data = tempfile::tempdir().unwrap();
    let registry = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let script = format!(
        "aws ecr create-repository --repository-name trust > /dev/null
ecr-lab credential-helper configure {registry}
docker tag sohelqt8797/ec2-neon-pulse:v1 {registry}/trust:v1
docker push {registry}/trust:v1 > /dev/null
keygen
sign {registry}/trust:v1 --key cosign.key
verify-signature {registry}/trust:v1 --key ~/cosign.pub
echo verified $?
docker tag sohelqt8797/ec2-neon-pulse:v2 {registry}/trust:v1
docker push {registry}/trust:v1 > /dev/null
verify-signature {registry}/trust:v1 --key cosign.pub
echo tampered $?
"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_ecr-lab"))
        .args(["shell", "--data-dir"])
        .arg(data.path())
        .env("ECR_LAB_HOME", data.path())
        .env("ECR_LAB_DOCKER", "builtin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(out.contains(&format!("credHelpers[{registry}] = \"ecr-lab\"")), "{out}\n{err}");
    assert!(out.contains("verified 0\n"), "{out}\n{err}");
    assert!(out.contains("tampered 1\n"), "{out}\n{err}");
    assert!(err.contains("Error: no signatures found\n"), "{err}");
    assert!(err.contains("Pushing signature to: 920736617090.dkr.ecr.ap-south-1.amazonaws.com/trust:sha256-"), "{err}");
}
