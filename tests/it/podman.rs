//! Issue 18 item 6: podman (Debian's 4.3.1, which scripts/test installs) meets the guide's errors.
//! Its texts differ from docker's: it names the request that failed, a HEAD answer has no body (so a
//! status line stands in for the message), and a refused manifest is tried in every format.

use std::process::Command;

use crate::common::{Ran, Served, aws_cli_available, bash, require_tool};

pub(crate) fn podman_available() -> bool {
    require_tool("podman (apt-get install podman; scripts/test installs it)", || {
        Command::new("podman").arg("--version").output().is_ok_and(|o| o.status.success())
    })
}

/// `script` after `ecr-lab env`, with `P` as podman with all its state under the test's temp dir
/// (the flags tests/it/credhelper.rs uses as root) and `$HOST` the registry.
pub(crate) fn podman(server: &Served, script: &str) -> Ran {
    let dir = server.home.join("podman");
    for sub in ["home", "xdg"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let prelude = format!(
        "eval \"$(ecr-lab env --endpoint {url})\"\nHOST={host}\nPODMAN={dir}\n\
         export HOME=$PODMAN/home XDG_RUNTIME_DIR=$PODMAN/xdg REGISTRY_AUTH_FILE=$PODMAN/auth.json\n\
         P() {{ podman --root $PODMAN/root --runroot $PODMAN/runroot --storage-driver=vfs --events-backend=none \
         --cgroup-manager=cgroupfs \"$@\"; }}\n",
        url = server.url,
        host = server.url.trim_start_matches("http://"),
        dir = dir.display(),
    );
    bash(&format!("{prelude}{script}"), &server.home)
}

fn ok(server: &Served, script: &str) -> Ran {
    let ran = podman(server, script);
    assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    ran
}

/// The lessons where a podman user meets these errors (issue 18 item 6).
const LESSONS: [&str; 2] = ["lessons/09-troubleshooting.md", "lessons/14-capstone.md"];

/// Both lessons offer a hint on `when`, and `when` is in what podman printed.
fn hinted(line: &str, when: &str) {
    assert!(line.contains(when), "podman no longer prints {when:?}: {line}");
    for lesson in LESSONS {
        let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(lesson)).unwrap();
        assert!(text.contains(&format!("```lab:hint when=\"{when}\"")), "{lesson} has no hint for {when:?}");
    }
}

/// podman's last stderr line (its `Error: ...`), after the progress lines.
fn error_line(ran: &Ran) -> &str {
    assert_eq!(ran.code, 125, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    ran.stderr.lines().last().unwrap_or_default()
}

#[test]
fn podman_meets_the_guides_errors_in_its_own_words() {
    if !aws_cli_available() || !podman_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();
    ok(
        &server,
        "echo '{}' > $PODMAN/auth.json && aws ecr create-repository --repository-name test > /dev/null && \
         aws ecr create-repository --repository-name frozen --image-tag-mutability IMMUTABLE > /dev/null && \
         ecr-lab sample-image --output $PODMAN/image.tar > /dev/null && P load -q -i $PODMAN/image.tar > /dev/null && \
         P tag sohelqt8797/ec2-neon-pulse:v1 $HOST/test:v1 $HOST/nope:v1 $HOST/frozen:v1",
    );
    let layer = "sha256:9e22aa68ef2a2d01d0c7bacd3582b9a8686d5070fef8347bb2c6a82d63231588";

    // Not logged in: podman sends `Basic Og==` (empty user and password), which ECR treats as no
    // credentials (401), so podman says what it says against ECR (containers/podman#12620).
    let ran = podman(&server, "P push --tls-verify=false $HOST/test:v1");
    assert_eq!(
        error_line(&ran),
        format!(
            "Error: trying to reuse blob {layer} at destination: checking whether a blob {layer} exists in {host}/test: unauthorized: authentication required"
        )
    );
    hinted(error_line(&ran), "unauthorized: authentication required");
    let ran = podman(&server, "P pull --tls-verify=false $HOST/test:v1");
    assert_eq!(
        error_line(&ran),
        format!(
            "Error: initializing source docker://{host}/test:v1: reading manifest v1 in {host}/test: unauthorized: authentication required"
        )
    );

    let ran = ok(&server, "aws ecr get-login-password | P login --tls-verify=false -u AWS --password-stdin $HOST");
    assert_eq!(ran.stdout, "Login Succeeded!\n");

    // A repository that does not exist: ECR's message, after podman's account of the request.
    let ran = podman(&server, "P push --tls-verify=false $HOST/nope:v1");
    assert_eq!(
        error_line(&ran),
        format!(
            "Error: writing blob: initiating layer upload to /v2/nope/blobs/uploads/ in {host}: name unknown: The repository with name 'nope' does not exist in the registry with id '920736617090'"
        )
    );

    // An immutable tag: podman tries each manifest format and repeats ECR's line for each.
    ok(&server, "P push -q --tls-verify=false $HOST/test:v1 && P push -q --tls-verify=false $HOST/frozen:v1");
    let ran = podman(
        &server,
        "d=$(mktemp -d) && echo other > $d/hello.txt && tar -C $d -c . | P import -q - other:v1 > /dev/null && \
         rm -rf $d && P tag other:v1 $HOST/frozen:v1 && P push --tls-verify=false $HOST/frozen:v1",
    );
    let refused = format!(
        "writing manifest: uploading manifest v1 to {host}/frozen: tag invalid: The image tag 'v1' already exists in the 'frozen' repository and cannot be overwritten because the repository is immutable."
    );
    let line = error_line(&ran);
    assert!(line.starts_with("Error: Uploading manifest failed, attempted the following formats: "), "{line}");
    assert_eq!(line.matches(&refused).count(), 4, "{line}");
    hinted(line, "attempted the following formats");
    assert!(
        line.starts_with(&format!(
            "Error: Uploading manifest failed, attempted the following formats: application/vnd.oci.image.manifest.v1+json({refused}), application/vnd.docker.distribution.manifest.v2+json({refused}),"
        )),
        "{line}"
    );

    // Twelve hours on (the lab clock): a push's first request is a HEAD, whose 403 has no body, so
    // podman prints the status; a pull's GET carries ECR's message.
    ok(&server, "ecr-lab clock advance 13h > /dev/null");
    let ran = podman(&server, "P push --tls-verify=false $HOST/test:v1");
    assert_eq!(
        error_line(&ran),
        format!(
            "Error: trying to reuse blob {layer} at destination: failed to read from destination repository test: 403 (Forbidden)"
        )
    );
    hinted(error_line(&ran), "403 (Forbidden)");
    let ran = podman(&server, "P pull --tls-verify=false $HOST/test:v1");
    assert_eq!(
        error_line(&ran),
        format!(
            "Error: initializing source docker://{host}/test:v1: reading manifest v1 in {host}/test: denied: Your authorization token has expired. Reauthenticate and try again."
        )
    );
    ok(&server, "aws ecr get-login-password | P login --tls-verify=false -u AWS --password-stdin $HOST > /dev/null");
    ok(&server, "P push -q --tls-verify=false $HOST/test:v1");
}
