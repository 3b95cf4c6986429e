//! `docker-credential-ecr-lab` against docker's credential-helper protocol (docker-credential-helpers
//! `credentials/credentials.go`, reference/ecr-facts.md §7), its token cache across the lab clock, and
//! a real Docker engine, skopeo and podman pushing and pulling through `credHelpers` with no password stored.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Ran, Served, aws_cli_available, bash, docker_available, require_tool};

const HELPER: &str = env!("CARGO_BIN_EXE_docker-credential-ecr-lab");

/// Runs the helper binary as docker runs it: one argument, `input` on stdin.
fn helper(home: &Path, args: &[&str], input: &str) -> Ran {
    let mut child = Command::new(HELPER)
        .args(args)
        .env("ECR_LAB_HOME", home)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_ECR_IGNORE_CREDS_STORAGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run docker-credential-ecr-lab");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

fn token_calls(url: &str) -> usize {
    let log = ureq_get(&format!("{url}/_lab/requests?since=0"));
    log.as_array().unwrap().iter().filter(|r| r["api"] == "ecr:GetAuthorizationToken").count()
}

/// A GET on the mock's control API, from a blocking test.
fn ureq_get(url: &str) -> serde_json::Value {
    let home = tempfile::tempdir().unwrap();
    let ran = bash(&format!("curl -s '{url}'"), home.path());
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{url}: {e}: {}", ran.stdout))
}

#[test]
fn the_protocol_answers_as_docker_credential_helpers_define_it() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();

    // get: the server URL on stdin (docker sends the bare host; trailing newline trimmed).
    let ran = helper(home.path(), &["get"], &format!("{host}\n"));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let answer: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert!(ran.stdout.ends_with("}\n"), "one JSON object and a newline: {:?}", ran.stdout);
    let keys: Vec<&str> = answer.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["ServerURL", "Username", "Secret"]);
    assert_eq!(answer["ServerURL"], host.as_str());
    assert_eq!(answer["Username"], "AWS");
    let secret = answer["Secret"].as_str().unwrap().to_owned();
    assert!(secret.len() > 20, "{secret}");
    // The secret is a working registry password.
    let ran =
        bash(&format!("curl -s -o /dev/null -w '%{{http_code}}' -u 'AWS:{secret}' {}/v2/", server.url), home.path());
    assert_eq!(ran.stdout, "200");

    // Errors go to stdout, exit 1, in docker-credential-helpers' words.
    let ran = helper(home.path(), &["get"], "  \n");
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "no credentials server URL\n"));
    let ran = helper(home.path(), &["get"], "https://index.docker.io/v1/");
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "credentials not found in native keychain\n"));
    assert!(ran.stderr.contains("can only be used with Amazon ECR"), "{}", ran.stderr);
    let ran = helper(home.path(), &["bogus"], "");
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "Unknown credential action `bogus`\n"));
    let ran = helper(home.path(), &[], "");
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (1, "Usage: docker-credential-ecr-lab <store|get|erase|list|version>\n")
    );

    // store and erase are refused as amazon-ecr-credential-helper refuses them; nothing is stored.
    let documented = r#"{"ServerURL":"https://index.docker.io/v1","Username":"david","Secret":"passw0rd1"}"#;
    let ran = helper(home.path(), &["store"], documented);
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "not implemented\n"));
    let ran = helper(home.path(), &["store"], r#"{"ServerURL":"","Username":"david","Secret":"x"}"#);
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "no credentials server URL\n"));
    let ran = helper(home.path(), &["store"], r#"{"ServerURL":"https://x","Username":"","Secret":"x"}"#);
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "no credentials username\n"));
    let ran = helper(home.path(), &["erase"], "https://index.docker.io/v1\n");
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "not implemented\n"));

    // list: the registries with a cached token, user AWS.
    let ran = helper(home.path(), &["list"], "");
    assert_eq!(ran.code, 0);
    let listed: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(listed.as_object().unwrap().values().collect::<Vec<_>>(), [&serde_json::json!("AWS")]);
    let ran = helper(home.path(), &["version"], "");
    assert_eq!(ran.stdout, format!("docker-credential-ecr-lab (ecr-lab) {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_token_is_cached_until_half_its_life_then_fetched_again_after_the_clock_moves() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();
    let secret = |ran: &Ran| -> String {
        assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
        serde_json::from_str::<serde_json::Value>(&ran.stdout).unwrap()["Secret"].as_str().unwrap().to_owned()
    };
    let first = secret(&helper(home.path(), &["get"], &host));
    let again = secret(&helper(home.path(), &["get"], &host));
    assert_eq!(first, again);
    assert_eq!(token_calls(&server.url), 1, "the second get used the cache");
    let cache = home.path().join("credential-helper/cache.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let advance = |by: &str| {
        let ran = bash(&format!("ecr-lab clock advance {by} --endpoint {}", server.url), home.path());
        assert_eq!(ran.code, 0, "{}", ran.stderr);
    };
    advance("1h");
    assert_eq!(secret(&helper(home.path(), &["get"], &host)), first);
    assert_eq!(token_calls(&server.url), 1, "an hour in, the 12-hour token is reused");

    advance("13h");
    let fresh = secret(&helper(home.path(), &["get"], &host));
    assert_eq!(token_calls(&server.url), 2, "after 14 hours a new token was fetched");
    assert_ne!(fresh, first);
    let ran =
        bash(&format!("curl -s -o /dev/null -w '%{{http_code}}' -u 'AWS:{fresh}' {}/v2/", server.url), home.path());
    assert_eq!(ran.stdout, "200", "the fresh token opens the registry");
    let ran =
        bash(&format!("curl -s -o /dev/null -w '%{{http_code}}' -u 'AWS:{first}' {}/v2/", server.url), home.path());
    assert_ne!(ran.stdout, "200", "the old one has expired on the lab clock");
}

/// The mock as `ecr-lab serve`, docker's config naming the helper for the registry, and a shell
/// prelude pointing the aws CLI at the mock.
fn sh(server: &Served, script: &str) -> Ran {
    let host = server.url.trim_start_matches("http://");
    let prelude = format!(
        "eval \"$(ecr-lab env --endpoint {})\"\nexport DOCKER_CONFIG={}\nHOST={host}\n",
        server.url,
        server.home.join("docker-config").display(),
    );
    bash(&format!("{prelude}{script}"), &server.home)
}

fn ok(server: &Served, script: &str) -> Ran {
    let ran = sh(server, script);
    assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    ran
}

#[test]
fn docker_and_skopeo_push_and_pull_through_the_helper_with_no_password_stored() {
    if !aws_cli_available() || !docker_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let ran = ok(&server, "ecr-lab credential-helper configure $HOST");
    assert!(ran.stdout.contains("credHelpers"), "{}", ran.stdout);
    ok(&server, "aws ecr create-repository --repository-name helped > /dev/null");
    ok(&server, "ecr-lab sample-image --load > /dev/null && docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/helped:v1");

    // No `docker login`: docker asks the helper, the push goes through.
    let ran = ok(&server, "docker push $HOST/helped:v1");
    assert!(ran.stdout.lines().last().unwrap().starts_with("v1: digest: sha256:"), "{}", ran.stdout);
    ok(&server, "docker rmi $HOST/helped:v1 > /dev/null");
    let ran = ok(&server, "docker pull $HOST/helped:v1");
    assert!(ran.stdout.contains("Digest: sha256:"), "{}", ran.stdout);

    // No password anywhere in docker's config.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(server.home.join("docker-config/config.json")).unwrap()).unwrap();
    let host = server.url.trim_start_matches("http://");
    assert_eq!(config["credHelpers"][host], "ecr-lab");
    assert!(config["auths"].as_object().is_none_or(|a| a.values().all(|v| v.get("auth").is_none())), "{config}");

    // `docker login` hands the password to the helper, which refuses it as Amazon's helper does.
    let ran = sh(&server, "aws ecr get-login-password | docker login --username AWS --password-stdin $HOST");
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.contains("error storing credentials - err: exit status 1, out: `not implemented`"),
        "{}",
        ran.stderr
    );

    // skopeo reads credHelpers from the same file.
    let ran = ok(
        &server,
        "skopeo inspect --raw --tls-verify=false --authfile $DOCKER_CONFIG/config.json docker://$HOST/helped:v1",
    );
    assert!(ran.stdout.contains("schemaVersion"), "{}", ran.stdout);
    let _ = sh(&server, "docker rmi -f $HOST/helped:v1 > /dev/null 2>&1");
}

/// Amazon's own helper (Debian's amazon-ecr-credential-helper 0.6.0), when it is installed: the facts
/// the lab's helper copies, and why it cannot serve the mock (README: "Amazon's helper").
#[test]
fn amazons_helper_refuses_store_and_does_not_serve_a_mock() {
    let Ok(found) = Command::new("docker-credential-ecr-login").arg("version").output() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs every real-tool test: scripts/test installs amazon-ecr-credential-helper"
        );
        eprintln!(
            "docker-credential-ecr-login is not installed (apt-get install amazon-ecr-credential-helper); skipped"
        );
        return;
    };
    assert!(found.status.success());
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://");
    let run = |action: &str, input: &str| {
        bash(
            &format!(
                "export HOME={} AWS_ENDPOINT_URL={} AWS_ACCESS_KEY_ID=AKIAECRLABDEFAULT001 AWS_SECRET_ACCESS_KEY=x AWS_REGION=ap-south-1\n\
                 printf '%s' '{input}' | docker-credential-ecr-login {action}",
                home.path().display(),
                server.url
            ),
            home.path(),
        )
    };
    let ran = run("store", r#"{"ServerURL":"x","Username":"AWS","Secret":"y"}"#);
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "not implemented\n"));
    let ran = run("get", host);
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "credentials not found in native keychain\n"));
    assert_eq!(token_calls(&server.url), 0, "it never reached the mock: 127.0.0.1 is not an ECR host name");
}

/// An ECR host name goes through the standard AWS chain (here pointed at the mock with
/// `AWS_ENDPOINT_URL`, as for any AWS SDK); `install` links the helper under docker's name.
#[test]
fn ecr_hosts_use_the_aws_chain_and_install_links_the_helper() {
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let ran = bash(
        &format!(
            "eval \"$(ecr-lab env --endpoint {})\"\n\
             echo https://920736617090.dkr.ecr.ap-south-1.amazonaws.com | docker-credential-ecr-lab get",
            server.url
        ),
        home.path(),
    );
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    let answer: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(answer["ServerURL"], "https://920736617090.dkr.ecr.ap-south-1.amazonaws.com");
    assert_eq!(answer["Username"], "AWS");
    assert_eq!(token_calls(&server.url), 1);

    // Without credentials the chain finds none: docker is told "not found", the reason goes to stderr.
    let ran = bash(
        "echo 920736617090.dkr.ecr.ap-south-1.amazonaws.com | AWS_EC2_METADATA_DISABLED=true docker-credential-ecr-lab get",
        home.path(),
    );
    assert_eq!((ran.code, ran.stdout.as_str()), (1, "credentials not found in native keychain\n"));
    assert!(!ran.stderr.is_empty());

    let bin = home.path().join("bin");
    let ran = bash(&format!("ecr-lab credential-helper install --dir {}", bin.display()), home.path());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let link = bin.join("docker-credential-ecr-lab");
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let ran = bash(&format!("{} version", link.display()), home.path());
    assert_eq!(ran.stdout, format!("docker-credential-ecr-lab (ecr-lab) {}\n", env!("CARGO_PKG_VERSION")));
    let ran = bash(&format!("echo {} | {} get", server.url.trim_start_matches("http://"), link.display()), home.path());
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
}

/// Real podman (Debian's podman 4.3.1), when it is installed; scripts/test installs it.
fn podman_available() -> bool {
    require_tool("podman (apt-get install podman; scripts/test installs it)", || {
        Command::new("podman").arg("--version").output().is_ok_and(|o| o.status.success())
    })
}

/// A script run with `P` as podman the way reference/registry-clients.md runs it on this machine
/// (storage, run root, runtime dir and HOME all under `$PODMAN` in the test's temp dir, so neither
/// /run/containers nor ~/.docker is read or written) and `$PODMAN/auth.json` as its auth file.
fn podman(server: &Served, script: &str) -> Ran {
    let prelude = format!(
        "PODMAN={}\nexport HOME=$PODMAN/home XDG_RUNTIME_DIR=$PODMAN/xdg REGISTRY_AUTH_FILE=$PODMAN/auth.json\n\
         P() {{ podman --root $PODMAN/root --runroot $PODMAN/runroot --storage-driver=vfs --events-backend=none \
         --cgroup-manager=cgroupfs \"$@\"; }}\n",
        server.home.join("podman").display()
    );
    sh(server, &format!("{prelude}{script}"))
}

fn podman_ok(server: &Served, script: &str) -> Ran {
    let ran = podman(server, script);
    assert_eq!(ran.code, 0, "{script}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr);
    ran
}

#[test]
fn podman_pushes_and_pulls_through_the_helper_with_no_password_stored() {
    if !aws_cli_available() || !podman_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();
    let dir = server.home.join("podman");
    for sub in ["home", "xdg"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let auth_file = dir.join("auth.json");
    let helpers = serde_json::json!({ "credHelpers": { host.as_str(): "ecr-lab" } }).to_string();
    std::fs::write(&auth_file, "{}").unwrap();
    ok(&server, "aws ecr create-repository --repository-name helped > /dev/null");
    podman_ok(
        &server,
        "ecr-lab sample-image --output $PODMAN/image.tar > /dev/null && P load -q -i $PODMAN/image.tar > /dev/null \
         && P tag sohelqt8797/ec2-neon-pulse:v1 $HOST/helped:v1",
    );

    // An auth file without the helper: podman has no credentials and the mock refuses the push.
    let ran = podman(&server, "P push --tls-verify=false $HOST/helped:v1");
    assert_ne!(ran.code, 0, "a push with no credentials went through: {}{}", ran.stdout, ran.stderr);
    assert_eq!(token_calls(&server.url), 0);

    // With `credHelpers` podman runs docker-credential-ecr-lab from PATH; no `podman login`.
    std::fs::write(&auth_file, &helpers).unwrap();
    let ran = podman_ok(&server, "P push --tls-verify=false $HOST/helped:v1");
    assert!(ran.stderr.contains("Writing manifest to image destination"), "{}", ran.stderr);
    assert_eq!(token_calls(&server.url), 1, "the helper fetched one token (then served it from its cache)");
    ok(&server, "aws ecr describe-images --repository-name helped --image-ids imageTag=v1 > /dev/null");
    podman_ok(&server, "P rmi $HOST/helped:v1 sohelqt8797/ec2-neon-pulse:v1 > /dev/null");
    let ran = podman_ok(&server, "P pull -q --tls-verify=false $HOST/helped:v1 && P image exists $HOST/helped:v1");
    assert!(ran.stdout.trim().len() == 64, "pull prints the image ID: {}", ran.stdout);

    // `podman login` hands the password to the helper, which refuses to store it.
    let ran = podman(&server, "aws ecr get-login-password | P login --tls-verify=false -u AWS --password-stdin $HOST");
    assert_eq!(ran.code, 125, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("error storing credentials - err: exit status 1, out: `not implemented`"),
        "{}",
        ran.stderr
    );
    assert_no_password_stored(&server, &dir, &helpers);
}

/// The auth file still names only the helper; podman wrote no other auth file; and the token the
/// helper handed out (plain or as docker's base64 `auth`) appears nowhere under podman's directories.
fn assert_no_password_stored(server: &Served, dir: &Path, helpers: &str) {
    assert_eq!(std::fs::read_to_string(dir.join("auth.json")).unwrap(), helpers);
    assert!(!dir.join("xdg/containers/auth.json").exists());
    assert!(!dir.join("home/.docker").exists());
    let host = server.url.trim_start_matches("http://");
    let calls = token_calls(&server.url);
    let ran = helper(&server.home, &["get"], host);
    let secret = serde_json::from_str::<serde_json::Value>(&ran.stdout).unwrap()["Secret"].as_str().unwrap().to_owned();
    assert_eq!(token_calls(&server.url), calls, "from the cache: the token podman used");
    let ran = sh(
        server,
        &format!("grep -rlF -e '{secret}' -e \"$(printf 'AWS:%s' '{secret}' | base64 -w0)\" {} || true", dir.display()),
    );
    assert_eq!(ran.stdout, "", "the registry password was stored in these files");
}
