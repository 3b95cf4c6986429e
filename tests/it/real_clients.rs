//! The registry driven by clients nobody on the team wrote: a real Docker engine (Debian docker.io,
//! which scripts/test starts and names in DOCKER_HOST) and skopeo, with the aws CLI logging them in.
//! The docker lines asserted are the guide's documented errors, word for word.

use std::path::Path;

use crate::common::{Ran, Served, aws_cli_available, bash, digest_of, docker_available, require_tool};

/// A mock served as `ecr-lab serve`, a private DOCKER_CONFIG, and the shell prelude that points the
/// aws CLI at the mock.
struct Setup {
    server: Served,
    _home: tempfile::TempDir,
    /// `127.0.0.1:PORT`, the registry host.
    host: String,
}

impl Setup {
    fn start() -> Self {
        let home = tempfile::tempdir().unwrap();
        let server = Served::start(home.path(), &["--data-dir", home.path().join("data").to_str().unwrap()]);
        let host = server.url.trim_start_matches("http://").to_owned();
        std::fs::create_dir_all(home.path().join("docker-config")).unwrap();
        Self { server, _home: home, host }
    }

    fn home(&self) -> &Path {
        &self.server.home
    }

    fn sh(&self, script: &str) -> Ran {
        let prelude = format!(
            "eval \"$(ecr-lab env --endpoint {})\"\nexport DOCKER_CONFIG={}\nHOST={}\n",
            self.server.url,
            self.home().join("docker-config").display(),
            self.host
        );
        bash(&format!("{prelude}{script}"), self.home())
    }

    fn ok(&self, script: &str) -> Ran {
        let ran = self.sh(script);
        assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
        ran
    }
}

/// Makes a small local image `name` from a rootfs holding `content`, with `docker import`.
fn import_image(setup: &Setup, name: &str, content: &str) {
    setup.ok(&format!(
        "d=$(mktemp -d) && echo '{content}' > $d/hello.txt && tar -C $d -c . | docker import - {name} > /dev/null && rm -rf $d"
    ));
}

#[test]
fn docker_runs_the_guide_and_meets_its_errors() {
    if !aws_cli_available() || !docker_available() {
        return;
    }
    let setup = Setup::start();
    let unique = uuid_like();
    // The guide's image, from `ecr-lab sample-image --load`.
    let image = "sohelqt8797/ec2-neon-pulse:v1".to_owned();
    let loaded = setup.ok("ecr-lab sample-image --load");
    assert_eq!(loaded.stdout, "Loaded image: sohelqt8797/ec2-neon-pulse:v1\n");
    let other = format!("ecr-lab-other-{unique}:v1");
    import_image(&setup, &other, "something else");
    setup.ok("aws ecr create-repository --repository-name test > /dev/null");
    setup.ok(&format!("docker tag {image} $HOST/test:v1"));

    // Not logged in: docker's line, after the Preparing lines.
    let ran = setup.sh("docker push $HOST/test:v1");
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, "no basic auth credentials\n");
    assert!(
        ran.stdout.starts_with(&format!("The push refers to repository [{}/test]\n", setup.host)),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains(": Preparing\n"), "{}", ran.stdout);

    // The guide's login pipe.
    let ran =
        setup.ok("aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin $HOST");
    assert_eq!(ran.stdout, "Login Succeeded\n");
    assert!(ran.stderr.contains("WARNING! Your credentials are stored unencrypted in '"), "{}", ran.stderr);

    // A tag that is not local.
    let ran = setup.sh("docker push $HOST/missing:v1");
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, format!("An image does not exist locally with the tag: {}/missing\n", setup.host));

    // A repository that does not exist.
    setup.ok(&format!("docker tag {image} $HOST/nope:v1"));
    let ran = setup.sh("docker push $HOST/nope:v1");
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "name unknown: The repository with name 'nope' does not exist in the registry with id '920736617090'\n"
    );

    // The push, and what DescribeImages then says.
    let ran = setup.ok("docker push $HOST/test:v1");
    let last = ran.stdout.lines().last().unwrap().to_owned();
    assert!(last.starts_with("v1: digest: sha256:") && last.contains(" size: "), "{}", ran.stdout);
    assert!(ran.stdout.contains(": Pushed\n"), "{}", ran.stdout);
    let digest = last.split_whitespace().nth(2).unwrap().to_owned();
    let described = setup.ok("aws ecr describe-images --repository-name test --image-ids imageTag=v1");
    let described: serde_json::Value = serde_json::from_str(&described.stdout).unwrap();
    assert_eq!(described["imageDetails"][0]["imageDigest"], digest.as_str());
    assert_eq!(
        described["imageDetails"][0]["imageManifestMediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let again = setup.ok("docker push $HOST/test:v1");
    assert!(again.stdout.contains(": Layer already exists\n"), "{}", again.stdout);

    // Pull it back.
    setup.ok("docker rmi $HOST/test:v1 > /dev/null");
    let ran = setup.ok("docker pull $HOST/test:v1");
    assert!(ran.stdout.contains(&format!("Digest: {digest}\n")), "{}", ran.stdout);

    // Overwriting a tag in an immutable repository.
    setup.ok("aws ecr create-repository --repository-name frozen --image-tag-mutability IMMUTABLE > /dev/null");
    setup.ok(&format!("docker tag {image} $HOST/frozen:v1 && docker push $HOST/frozen:v1 > /dev/null"));
    setup.ok(&format!("docker tag {other} $HOST/frozen:v1"));
    let ran = setup.sh("docker push $HOST/frozen:v1");
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "tag invalid: The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable.\n"
    );

    // Twelve hours later (on the lab clock) the registry login has expired.
    setup.ok("ecr-lab clock advance 13h > /dev/null");
    let ran = setup.sh("docker push $HOST/test:v1");
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, "denied: Your authorization token has expired. Reauthenticate and try again.\n");
    setup.ok("aws ecr get-login-password | docker login --username AWS --password-stdin $HOST > /dev/null 2>&1");
    setup.ok("docker push $HOST/test:v1 > /dev/null");

    let _ = setup
        .sh(&format!("docker rmi -f {image} {other} $HOST/test:v1 $HOST/nope:v1 $HOST/frozen:v1 > /dev/null 2>&1"));
}

#[test]
fn skopeo_pushes_inspects_lists_pulls_and_deletes() {
    if !aws_cli_available() || !require_tool("skopeo", || which("skopeo")) {
        return;
    }
    let setup = Setup::start();
    let layout = setup.home().join("layout");
    let manifest_digest = write_oci_layout(&layout, "neon pulse");
    setup.ok("aws ecr create-repository --repository-name test > /dev/null");
    let creds = "--creds AWS:$(aws ecr get-login-password)";
    let ran = setup.ok(&format!(
        "skopeo copy --dest-tls-verify=false --dest-creds AWS:$(aws ecr get-login-password) oci:{}:v1 docker://$HOST/test:v1",
        layout.display()
    ));
    assert!(ran.stderr.is_empty() || !ran.stderr.contains("rror"), "{}", ran.stderr);

    let inspected = setup.ok(&format!("skopeo inspect --tls-verify=false {creds} docker://$HOST/test:v1"));
    let inspected: serde_json::Value = serde_json::from_str(&inspected.stdout).unwrap();
    let described = setup.ok("aws ecr describe-images --repository-name test");
    let described: serde_json::Value = serde_json::from_str(&described.stdout).unwrap();
    assert_eq!(inspected["Digest"], described["imageDetails"][0]["imageDigest"]);
    assert_eq!(inspected["Digest"], manifest_digest.as_str(), "the digest is over the manifest bytes as pushed");
    assert_eq!(described["imageDetails"][0]["imageManifestMediaType"], "application/vnd.oci.image.manifest.v1+json");

    let raw = setup.ok(&format!("skopeo inspect --raw --tls-verify=false {creds} docker://$HOST/test:v1"));
    assert_eq!(digest_of(raw.stdout.as_bytes()), manifest_digest);

    setup.ok("t=$(aws ecr get-login-password) && skopeo copy --src-tls-verify=false --dest-tls-verify=false --src-creds AWS:$t --dest-creds AWS:$t docker://$HOST/test:v1 docker://$HOST/test:v2 > /dev/null");
    let tags = setup.ok(&format!("skopeo list-tags --tls-verify=false {creds} docker://$HOST/test"));
    let tags: serde_json::Value = serde_json::from_str(&tags.stdout).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["v1", "v2"]));

    let pulled = setup.home().join("pulled");
    setup.ok(&format!("skopeo copy --src-tls-verify=false --src-creds AWS:$(aws ecr get-login-password) docker://$HOST/test:v1 oci:{}:v1 > /dev/null", pulled.display()));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pulled.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], manifest_digest.as_str());

    setup.ok(&format!("skopeo delete --tls-verify=false {creds} docker://$HOST/test@{manifest_digest}"));
    let left = setup.ok("aws ecr list-images --repository-name test");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&left.stdout).unwrap(), serde_json::json!({ "imageIds": [] }));
}

/// Writes an OCI image layout with one gzip layer holding `hello.txt`; returns the manifest digest.
pub(crate) fn write_oci_layout(dir: &Path, content: &str) -> String {
    let work = dir.with_extension("work");
    std::fs::create_dir_all(work.join("rootfs")).unwrap();
    std::fs::write(work.join("rootfs/hello.txt"), content).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg("set -e; cd \"$0\"; tar --sort=name --mtime=@0 --owner=0 --group=0 -C rootfs -cf layer.tar . ; gzip -n -k -9 layer.tar")
        .arg(&work)
        .status()
        .unwrap();
    assert!(status.success());
    let tar = std::fs::read(work.join("layer.tar")).unwrap();
    let layer = std::fs::read(work.join("layer.tar.gz")).unwrap();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [digest_of(&tar)] },
        "config": {}
    })
    .to_string()
    .into_bytes();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(&config), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest_of(&layer), "size": layer.len() }]
    })
    .to_string()
    .into_bytes();
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for blob in [&config, &layer, &manifest] {
        std::fs::write(blobs.join(&digest_of(blob)[7..]), blob).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest_of(&manifest), "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": "v1" }
        }]
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    digest_of(&manifest)
}

fn which(tool: &str) -> bool {
    std::process::Command::new("which").arg(tool).output().is_ok_and(|o| o.status.success())
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}
