//! The lab shell, scripted: the guide's cheat sheet verbatim, every documented error with its exact
//! text, and a side-by-side run of one script through the built-in tools and through the real aws
//! CLI and a real Docker engine, compared line for line after masking what must differ.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{AWS_CLI_V2, Ran, Served, aws_cli_available, aws_cli_v2_available, bash, docker_available};

const REGISTRY: &str = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";

/// Pipes `script` into `ecr-lab shell` (its own mock unless `endpoint`), in `data_dir`, with the
/// built-in docker.
fn shell(data_dir: &Path, endpoint: Option<&str>, script: &str) -> Ran {
    shell_with(data_dir, endpoint, script, "builtin")
}

/// The same, with `ECR_LAB_DOCKER=docker` (`builtin` or `engine`).
fn shell_with(data_dir: &Path, endpoint: Option<&str>, script: &str, docker: &str) -> Ran {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command.env("ECR_LAB_DOCKER", docker);
    command.arg("shell").arg("--data-dir").arg(data_dir);
    if let Some(endpoint) = endpoint {
        command.arg("--endpoint").arg(endpoint);
    }
    let mut child = command
        .env("ECR_LAB_HOME", data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ecr-lab shell");
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

#[test]
fn the_cheat_sheet_runs_verbatim() {
    let data = tempfile::tempdir().unwrap();
    let script = format!(
        "aws sts get-caller-identity --region ap-south-1
aws ecr create-repository --repository-name test --region ap-south-1 --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE
aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin {REGISTRY}
docker images
docker tag sohelqt8797/ec2-neon-pulse:v1 {REGISTRY}/test:v1
docker push {REGISTRY}/test:v1
aws ecr describe-images --repository-name test --region ap-south-1
docker rmi {REGISTRY}/test:v1
docker pull {REGISTRY}/test:v1
echo status $?
"
    );
    let ran = shell(data.path(), None, &script);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let out = &ran.stdout;
    // Each command is echoed after the prompt.
    assert!(out.starts_with("lab$ aws sts get-caller-identity --region ap-south-1\n{\n    \"UserId\": \"AIDAECRLABLEARNER0001\",\n    \"Account\": \"920736617090\",\n    \"Arn\": \"arn:aws:iam::920736617090:user/lab-learner\"\n}\n"), "{out}");
    assert!(
        out.contains(
            "\"repositoryUri\": \"920736617090.dkr.ecr.ap-south-1.amazonaws.com/test\",\n        \"createdAt\": "
        ),
        "{out}"
    );
    assert!(out.contains("\"imageTagMutability\": \"IMMUTABLE\",\n        \"imageScanningConfiguration\": {\n            \"scanOnPush\": true\n        },"), "{out}");
    assert!(out.contains(&format!("--password-stdin {REGISTRY}\nLogin Succeeded\n")), "{out}");
    assert!(out.contains("REPOSITORY                   TAG       IMAGE ID       CREATED         SIZE\nsohelqt8797/ec2-neon-pulse   v1        "), "{out}");
    let push = format!(
        "The push refers to repository [{REGISTRY}/test]\n8e737de9e262: Preparing\n9e22aa68ef2a: Preparing\n8e737de9e262: Pushed\n9e22aa68ef2a: Pushed\nv1: digest: sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa size: "
    );
    assert!(out.contains(&push), "{out}");
    assert!(out.contains("\"imageDigest\": \"sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa\",\n            \"imageTags\": [\n                \"v1\"\n            ],"), "{out}");
    assert!(out.contains(&format!("Untagged: {REGISTRY}/test:v1\nUntagged: {REGISTRY}/test@sha256:091e1c9b")), "{out}");
    assert!(out.contains(&format!("v1: Pulling from test\nDigest: sha256:091e1c9b9448b2fa264aa532a6a1cec8e9fa8d77ec2d77c623184a03c1ccddfa\nStatus: Downloaded newer image for {REGISTRY}/test:v1\n{REGISTRY}/test:v1\n")), "{out}");
    assert!(out.ends_with("lab$ echo status $?\nstatus 0\n"), "{out}");
    assert!(ran.stderr.starts_with("\nWARNING! Your credentials are stored unencrypted in '"), "{}", ran.stderr);
}

#[test]
fn every_documented_error_with_its_exact_text() {
    let data = tempfile::tempdir().unwrap();
    // One command per run, so each error's stderr and status are its own; the data dir carries state.
    let run = |line: &str| shell(data.path(), None, &format!("{line}\n"));
    let fails = |line: &str, stderr: &str, code: i32| {
        let ran = run(line);
        assert_eq!(ran.stderr, stderr, "{line}");
        assert_eq!(ran.code, code, "{line}");
        ran
    };
    run("aws ecr create-repository --repository-name test");
    run(&format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {REGISTRY}/test:v1"));

    // missing-login
    let ran = fails(&format!("docker push {REGISTRY}/test:v1"), "no basic auth credentials\n", 1);
    assert!(ran.stdout.ends_with("8e737de9e262: Preparing\n9e22aa68ef2a: Preparing\n"), "{}", ran.stdout);
    run(&format!("aws ecr get-login-password | docker login --username AWS --password-stdin {REGISTRY}"));
    // untagged-image
    fails(
        &format!("docker push {REGISTRY}/test:v2"),
        &format!("An image does not exist locally with the tag: {REGISTRY}/test\n"),
        1,
    );
    // missing-repo
    run(&format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {REGISTRY}/nope:v1"));
    fails(
        &format!("docker push {REGISTRY}/nope:v1"),
        "name unknown: The repository with name 'nope' does not exist in the registry with id '920736617090'\n",
        1,
    );
    fails(
        "aws ecr describe-images --repository-name nope",
        "\nAn error occurred (RepositoryNotFoundException) when calling the DescribeImages operation: The repository with name 'nope' does not exist in the registry with id '920736617090'\n",
        254,
    );
    // immutable-overwrite
    run("aws ecr create-repository --repository-name frozen --image-tag-mutability IMMUTABLE");
    run(&format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {REGISTRY}/frozen:v1 && docker push {REGISTRY}/frozen:v1"));
    fails(
        "aws ecr put-image --repository-name frozen --image-tag v1 --image-manifest '{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":2},\"layers\":[]}'",
        "\nAn error occurred (LayersNotFoundException) when calling the PutImage operation: Layers with digests '[sha256:0000000000000000000000000000000000000000000000000000000000000000]' required for pushing image into repository with name 'frozen' in the registry with id '920736617090' do not exist\n",
        254,
    );
    // expired-credentials
    fails(
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=x aws ecr get-login-password --region ap-south-1",
        "\nAn error occurred (UnrecognizedClientException) when calling the GetAuthorizationToken operation: The security token included in the request is invalid.\n",
        254,
    );
    // and the fix: aws configure with the lab's key
    let configured = run(
        "printf 'AKIAECRLABDEFAULT001\\necrlab/Mock+Secret+Key+Only+For+The+Lab00\\nap-south-1\\njson\\n' | aws configure",
    );
    assert_eq!(configured.code, 0, "{}", configured.stderr);
    // expired-login
    run("ecr-lab clock advance 13h");
    fails(
        &format!("docker push {REGISTRY}/test:v1"),
        "denied: Your authorization token has expired. Reauthenticate and try again.\n",
        1,
    );
    // wrong-region: a token for ap-south-1 is refused by the us-east-1 registry.
    let ran = fails(
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin 920736617090.dkr.ecr.us-east-1.amazonaws.com",
        "Error response from daemon: login attempt to https://920736617090.dkr.ecr.us-east-1.amazonaws.com/v2/ failed with status: 400 Bad Request\n",
        1,
    );
    assert!(!ran.stdout.contains("Login Succeeded"));
    // Usage errors are the tools' own, not a panic.
    let ran = run("aws ecr describe-images");
    assert_eq!(ran.code, 252);
    assert!(
        ran.stderr.ends_with("aws: error: the following arguments are required: --repository-name\n\n"),
        "{}",
        ran.stderr
    );
    let ran = run("aws ecr describe-repositories --bogus");
    assert_eq!((ran.code, ran.stderr.ends_with("\nUnknown options: --bogus\n\n")), (252, true), "{}", ran.stderr);
    fails(
        "docker frobnicate",
        "docker: unknown command: docker frobnicate\n\nRun 'docker --help' for more information\n",
        1,
    );
    fails("docker tag nothere:v1 x:v1", "Error response from daemon: No such image: nothere:v1\n", 1);
    fails("frobnicate", "lab: frobnicate: command not found (try `help`)\n", 127);
}

/// The side-by-side fidelity test: one script, built-in tools vs the real aws CLI and docker engine,
/// each against its own fresh mock; outputs must match after masking times, digests, sizes, hosts.
#[test]
fn built_in_tools_match_the_real_ones_line_for_line() {
    if !aws_cli_available() || !docker_available() {
        return;
    }
    let script = [
        "aws ecr create-repository --repository-name test --region ap-south-1",
        "aws ecr get-login-password --region ap-south-1 | docker login --username AWS --password-stdin $HOST",
        "docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/test:v1",
        "docker push $HOST/test:v1",
        "aws ecr describe-repositories --region ap-south-1",
        "aws ecr list-images --repository-name test --region ap-south-1",
        // --query (JMESPath, as the CLI's Python jmespath evaluates it) and --output text.
        "aws sts get-caller-identity --query Account --output text",
        "aws sts get-caller-identity --output text",
        "aws ecr describe-images --repository-name test --region ap-south-1 --query 'imageDetails[0].imageTags' --output text",
        "aws ecr describe-images --repository-name test --region ap-south-1 --query 'imageDetails[0].{tags:imageTags,digest:imageDigest}'",
        "aws ecr describe-repositories --region ap-south-1 --query 'repositories[?repositoryName==`test`].[repositoryName,imageTagMutability]' --output text",
        "aws ecr describe-repositories --region ap-south-1 --query 'length(repositories)'",
        "aws ecr describe-repositories --region ap-south-1 --query 'repositories[0].nothing' --output text",
        "docker push $HOST/missing:v1",
        "docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/nope:v1",
        "docker push $HOST/nope:v1",
        "aws ecr describe-images --repository-name nope --region ap-south-1",
        "aws ecr create-repository --repository-name Bad_Name",
        "aws ecr create-repository --repository-name test",
        "docker rmi $HOST/test:v1",
        "docker pull $HOST/test:v1",
        "docker pull $HOST/test:nope",
        "docker logout $HOST",
        "docker push $HOST/test:v1",
        "aws ecr describe-images --repository-name",
        // Scanning and lifecycle policies, as lessons 11 and 12 use them.
        "aws ecr create-repository --repository-name scanned --image-scanning-configuration scanOnPush=true --region ap-south-1",
        "docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/scanned:v1",
        "docker push $HOST/scanned:v1",
        "aws ecr wait image-scan-complete --repository-name scanned --image-id imageTag=v1 --region ap-south-1",
        "aws ecr describe-image-scan-findings --repository-name scanned --image-id imageTag=v1 --region ap-south-1",
        "aws ecr describe-images --repository-name scanned --region ap-south-1",
        "aws ecr start-image-scan --repository-name scanned --image-id imageTag=v1 --region ap-south-1",
        "aws ecr describe-image-scan-findings --repository-name test --image-id imageTag=v1 --region ap-south-1",
        "aws ecr wait image-scan-complete --repository-name test --image-id imageTag=v1 --region ap-south-1",
        "aws ecr get-lifecycle-policy --repository-name scanned --region ap-south-1",
        r#"aws ecr put-lifecycle-policy --repository-name scanned --region ap-south-1 --lifecycle-policy-text '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}'"#,
        "aws ecr start-lifecycle-policy-preview --repository-name scanned --region ap-south-1",
        "aws ecr wait lifecycle-policy-preview-complete --repository-name scanned --region ap-south-1",
        "aws ecr get-lifecycle-policy-preview --repository-name scanned --region ap-south-1",
        "aws ecr delete-lifecycle-policy --repository-name scanned --region ap-south-1",
        "aws ecr get-registry-scanning-configuration --region ap-south-1",
        r#"aws ecr put-registry-scanning-configuration --scan-type BASIC --rules '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"prod-*","filterType":"WILDCARD"}]}]' --region ap-south-1"#,
        "aws ecr batch-get-repository-scanning-configuration --repository-names scanned test nope --region ap-south-1",
        // Repository policies (issue 14).
        "aws ecr get-repository-policy --repository-name test --region ap-south-1",
        r#"aws ecr set-repository-policy --repository-name test --region ap-south-1 --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}'"#,
        "aws ecr get-repository-policy --repository-name test --region ap-south-1 --query policyText --output text",
        r#"aws ecr set-repository-policy --repository-name test --region ap-south-1 --policy-text '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}'"#,
        "aws ecr delete-repository-policy --repository-name test --region ap-south-1",
        "aws ecr delete-repository-policy --repository-name test --region ap-south-1",
    ];

    // The real tools, in bash, against `ecr-lab serve`.
    let real_home = tempfile::tempdir().unwrap();
    let real_server = Served::start(real_home.path(), &["--ephemeral"]);
    let real_host = real_server.url.trim_start_matches("http://").to_owned();
    let docker_config = real_home.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    let prelude = format!(
        "eval \"$(ecr-lab env --endpoint {})\"\nexport DOCKER_CONFIG={}\nHOST={real_host}\n",
        real_server.url,
        docker_config.display()
    );
    let loaded = bash(&format!("{prelude}ecr-lab sample-image --load"), real_home.path());
    assert_eq!(loaded.code, 0, "{}", loaded.stderr);

    // The built-in tools, in `ecr-lab shell` against another `ecr-lab serve`.
    let lab_home = tempfile::tempdir().unwrap();
    let lab_server = Served::start(lab_home.path(), &["--ephemeral"]);
    let lab_host = lab_server.url.trim_start_matches("http://").to_owned();
    let shell_data = lab_home.path().join("shell");

    let mut differences = Vec::new();
    for line in script {
        let real = bash(&format!("{prelude}{line}"), real_home.path());
        // PyPI's aws is CLI v1: the built-in speaks v1 too here.
        let script = format!("AWS_LAB_CLI_VERSION=1\nHOST={lab_host}\n{line}\n");
        let built_in = shell(&shell_data, Some(&lab_server.url), &script);
        let built_in_out = built_in.stdout.lines().skip(3).map(|l| format!("{l}\n")).collect::<String>();
        let pairs = [
            ("stdout", mask(&real.stdout, &real_host), mask(&built_in_out, &lab_host)),
            ("stderr", mask(&real.stderr, &real_host), mask(&built_in.stderr, &lab_host)),
            ("status", real.code.to_string(), built_in.code.to_string()),
        ];
        for (what, expected, got) in pairs {
            if expected != got {
                differences.push(format!("`{line}` {what}:\n--- real\n{expected:?}\n--- built-in\n{got:?}"));
            }
        }
    }
    let _ = bash(
        &format!("{prelude}docker rmi -f $HOST/test:v1 $HOST/nope:v1 $HOST/scanned:v1 > /dev/null 2>&1"),
        real_home.path(),
    );
    assert!(differences.is_empty(), "{} differences:\n\n{}", differences.len(), differences.join("\n\n"));
}

/// The commands the v2 side-by-side test runs (after the same pushes on both sides): the cheat
/// sheet's aws commands, each fault's aws error, usage errors, and every `--output` with `--query`.
const V2_SCRIPT: &[&str] = &[
    "aws sts get-caller-identity --region ap-south-1",
    "aws ecr create-repository --repository-name cheat --region ap-south-1 --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE",
    "aws ecr describe-images --repository-name test --region ap-south-1",
    "aws ecr describe-repositories",
    "aws ecr list-images --repository-name test",
    "aws ecr describe-repositories --output table",
    "aws ecr describe-repositories --output yaml",
    "aws ecr describe-repositories --output yaml-stream",
    "aws ecr describe-repositories --output text",
    "aws ecr describe-images --repository-name test --output table",
    "aws ecr describe-images --repository-name test --output yaml",
    "aws ecr list-images --repository-name test --output table",
    "aws ecr list-images --repository-name test --output yaml",
    "aws ecr list-images --repository-name cheat --output table",
    "aws ecr list-images --repository-name cheat --output yaml-stream",
    "aws sts get-caller-identity --output table",
    "aws sts get-caller-identity --output yaml",
    "aws sts get-caller-identity --query Account --output text",
    "aws sts get-caller-identity --query Account --output yaml",
    "aws sts get-caller-identity --query Account --output yaml-stream",
    "aws ecr describe-images --repository-name test --query 'imageDetails[0].imageTags' --output text",
    "aws ecr describe-images --repository-name test --query 'imageDetails[0].{tags:imageTags,digest:imageDigest}' --output table",
    "aws ecr describe-images --repository-name test --query 'imageDetails[0].{tags:imageTags,pushed:imagePushedAt}' --output yaml",
    "aws ecr describe-repositories --query 'repositories[?repositoryName==`test`].[repositoryName,imageTagMutability]' --output table",
    "aws ecr describe-repositories --query 'repositories[].repositoryName' --output table",
    "aws ecr describe-repositories --query 'length(repositories)' --output table",
    "aws ecr describe-repositories --query 'repositories[0].nothing' --output text",
    "aws ecr describe-repositories --query 'repositories[0].nothing' --output yaml",
    "aws ecr describe-repositories --query 'repositories[0].nothing' --output table",
    "aws ecr describe-repositories --query 'x['",
    "aws ecr describe-repositories --output xml",
    // missing-repo, wrong names, validation, usage
    "aws ecr describe-images --repository-name nope",
    "aws ecr describe-images --repository-name nope --output table",
    "aws ecr create-repository --repository-name Bad_Name",
    "aws ecr create-repository --repository-name test",
    "aws ecr create-repository --repository-name x",
    "aws ecr describe-images",
    "aws ecr describe-images --repository-name",
    "aws ecr describe-repositories --bogus",
    "aws ecr describe-repositories --endpoint-url localhost:1",
    // expired-credentials, wrong-region
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=x aws ecr get-login-password --region ap-south-1",
    "aws ecr describe-repositories --region us-east-1 --output yaml",
    "aws ecr describe-images --repository-name test --region us-east-1",
    // immutable-overwrite as the API sees it (a manifest whose layers were never pushed)
    r#"aws ecr put-image --repository-name cheat --image-tag v1 --image-manifest '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}'"#,
    "aws ecr batch-delete-image --repository-name test --image-ids imageTag=nope --output table",
    // scanning and lifecycle (lessons 11 and 12)
    "aws ecr wait image-scan-complete --repository-name scanned --image-id imageTag=v1",
    "aws ecr describe-image-scan-findings --repository-name scanned --image-id imageTag=v1 --output yaml",
    "aws ecr describe-image-scan-findings --repository-name scanned --image-id imageTag=v1 --query 'imageScanFindings.findingSeverityCounts' --output table",
    "aws ecr describe-image-scan-findings --repository-name test --image-id imageTag=v1",
    "aws ecr wait image-scan-complete --repository-name test --image-id imageTag=v9",
    "aws ecr get-lifecycle-policy --repository-name scanned",
    r#"aws ecr put-lifecycle-policy --repository-name scanned --lifecycle-policy-text '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}' --output yaml"#,
    "aws ecr get-lifecycle-policy --repository-name scanned --output table",
    // the registry policy (the only issue-18 part-B commands Debian's 2.9.19 knows)
    "aws ecr get-registry-policy",
    r#"aws ecr put-registry-policy --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:920736617090:repository/*"}]}'"#,
    "aws ecr get-registry-policy --output yaml",
    "aws ecr put-registry-policy --policy-text '{nope'",
    "aws ecr delete-registry-policy --output table",
    "aws ecr delete-registry-policy",
    // pull through cache rules and replication (2.9.19 predates update/validate and the newer members)
    "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws --query '[ecrRepositoryPrefix,upstreamRegistryUrl,registryId]'",
    "aws ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws",
    "aws ecr create-pull-through-cache-rule --ecr-repository-prefix hub --upstream-registry-url registry-1.docker.io",
    "aws ecr create-pull-through-cache-rule --ecr-repository-prefix harbor --upstream-registry-url harbor.example.com",
    "aws ecr describe-pull-through-cache-rules --query 'pullThroughCacheRules[].[ecrRepositoryPrefix,upstreamRegistryUrl,registryId]' --output table",
    "aws ecr describe-pull-through-cache-rules --ecr-repository-prefixes nope",
    "aws ecr delete-pull-through-cache-rule --ecr-repository-prefix ecr-public --query ecrRepositoryPrefix --output text",
    "aws ecr delete-pull-through-cache-rule --ecr-repository-prefix ecr-public",
    "aws ecr describe-registry",
    r#"aws ecr put-replication-configuration --replication-configuration '{"rules":[{"destinations":[{"region":"us-west-2","registryId":"920736617090"}],"repositoryFilters":[{"filter":"test","filterType":"PREFIX_MATCH"}]}]}'"#,
    "aws ecr describe-registry --output yaml",
    "aws ecr describe-image-replication-status --repository-name test --image-id imageTag=v1",
    "aws ecr describe-image-replication-status --repository-name test --image-id imageTag=nope",
];

/// The side-by-side test against CLI v2 (Debian's `awscli`, /usr/bin/aws): the built-in aws, which
/// speaks v2 by default, must print what v2 prints, line for line, with the same exit status.
#[test]
fn built_in_aws_matches_cli_v2_line_for_line() {
    if !aws_cli_v2_available() {
        return;
    }
    let setup = "aws ecr create-repository --repository-name test
aws ecr get-login-password | docker login --username AWS --password-stdin $HOST
docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/test:v1
docker push $HOST/test:v1
aws ecr create-repository --repository-name scanned --image-scanning-configuration scanOnPush=true
docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/scanned:v1
docker push $HOST/scanned:v1
";
    let (differences, _) = side_by_side_v2(setup, "", V2_SCRIPT, &mask_v2);
    assert!(differences.is_empty(), "{} differences:\n\n{}", differences.len(), differences.join("\n\n"));
}

/// Runs `setup` with the built-in tools against two fresh mocks, then `per_mock` (bash, with the
/// real CLI as `aws`) against each, whose `NAME=VALUE` output lines become variables of both sides;
/// then each line of `script` through the real CLI v2 and through the built-in aws. The differences
/// after `masked`, and what the real CLI printed for each line (stdout, then stderr).
fn side_by_side_v2(
    setup: &str,
    per_mock: &str,
    script: &[&str],
    masked: &dyn Fn(&str, &str) -> String,
) -> (Vec<String>, Vec<String>) {
    // CLI 2.9 predates AWS_ENDPOINT_URL, so the real one is given --endpoint-url.
    let v2 = format!("{AWS_CLI_V2} --endpoint-url \"$AWS_ENDPOINT_URL\"");
    side_by_side(&v2, "", (setup, per_mock), script, masked)
}

/// [`side_by_side_v2`] with the real CLI run as `real_aws` (bash's `aws` calls it) and the built-in
/// given `built_in_prelude` (such as `AWS_LAB_CLI_VERSION=1`) before each line.
fn side_by_side(
    real_aws: &str,
    built_in_prelude: &str,
    (setup, per_mock): (&str, &str),
    script: &[&str],
    masked: &dyn Fn(&str, &str) -> String,
) -> (Vec<String>, Vec<String>) {
    // Two mocks, each given the same repositories and images by the built-in tools.
    let real_home = tempfile::tempdir().unwrap();
    let real_server = Served::start(real_home.path(), &["--ephemeral"]);
    let real_host = real_server.url.trim_start_matches("http://").to_owned();
    let lab_home = tempfile::tempdir().unwrap();
    let lab_server = Served::start(lab_home.path(), &["--ephemeral"]);
    let lab_host = lab_server.url.trim_start_matches("http://").to_owned();
    let prelude = |server: &Served| {
        format!("eval \"$(ecr-lab env --endpoint {})\"\naws() {{ {real_aws} \"$@\"; }}\n", server.url)
    };
    let mut variables = [String::new(), String::new()];
    for (n, (home, server, host)) in
        [(&real_home, &real_server, &real_host), (&lab_home, &lab_server, &lab_host)].into_iter().enumerate()
    {
        let ran = shell(&home.path().join("setup"), Some(&server.url), &format!("HOST={host}\n{setup}"));
        assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
        if !per_mock.is_empty() {
            let ran = bash(&format!("{}{per_mock}", prelude(server)), home.path());
            assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
            let lines = ran.stdout.lines().filter(|l| l.split_once('=').is_some_and(|(k, _)| !k.contains(' ')));
            variables[n] = lines.map(|l| format!("{l}\n")).collect();
        }
    }
    let prelude = format!("{}{}", prelude(&real_server), variables[0]);
    variables[1].insert_str(0, built_in_prelude);
    let shell_data = lab_home.path().join("shell");
    let (mut differences, mut printed) = (Vec::new(), Vec::new());
    for line in script {
        let real = bash(&format!("{prelude}{line}"), real_home.path());
        printed.push(format!("{}{}", real.stdout, real.stderr));
        let built_in = shell(&shell_data, Some(&lab_server.url), &format!("{}{line}\n", variables[1]));
        // Debian's 2.9.19 predates ECR's `imageStatus` (current v2 and v1 1.45 print it): not compared.
        let built_in_json = built_in.stdout.replace(",\n            \"imageStatus\": \"ACTIVE\"\n", "\n");
        // The shell echoes each line it runs (the variables' too) after its prompt.
        let echoed = 1 + variables[1].lines().count();
        let built_in_out = built_in_json.lines().skip(echoed).filter(|l| !l.contains("imageStatus"));
        let built_in_out = built_in_out.map(|l| format!("{l}\n")).collect::<String>();
        let pairs = [
            ("stdout", masked(&real.stdout, &real_host), masked(&built_in_out, &lab_host)),
            ("stderr", masked(&real.stderr, &real_host), masked(&built_in.stderr, &lab_host)),
            ("status", real.code.to_string(), built_in.code.to_string()),
        ];
        for (what, expected, got) in pairs {
            if expected != got {
                differences.push(format!("`{line}` {what}:\n--- real\n{expected}\n--- built-in\n{got}"));
            }
        }
    }
    (differences, printed)
}

/// Issue 14's commands, side by side with CLI v2: `sts assume-role` and
/// `assume-role-with-web-identity` (a token from `ecr-lab oidc token`), `get-caller-identity` as the
/// assumed role, the denials (a push-only user reading, a role without the action, an explicit deny
/// in a repository policy, an expired session), and Set/Get/DeleteRepositoryPolicy with their
/// errors, in each `--output` and with `--query`. `$P_*` are a push-only user's keys and `$S_*` a
/// 15-minute session of the role, both made on each mock before the script; `$OLD` is a web identity
/// token that expires in 5 minutes. The session and that token have expired by the last lines.
const V2_ACCESS_SCRIPT: &[&str] = &[
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --output yaml",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --output table",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --query AssumedRoleUser.Arn --output text",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --query 'Credentials.[AccessKeyId,Expiration]' --output text",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --duration-seconds 900 --query AssumedRoleUser --output yaml",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/nope --role-session-name build",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --duration-seconds 7201",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci",
    "aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name build --duration-seconds soon",
    // web identity: the trust policy allows branch main with audience sts.amazonaws.com
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com)\"",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com)\" --output table",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com)\" --query '[SubjectFromWebIdentityToken,Audience,Provider]' --output text",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com)\" --query AssumedRoleUser --output yaml",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/feature --aud sts.amazonaws.com)\"",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud someone-else)\"",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token not.a.token",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha",
    // the assumed role: who it is, and what its push-only policy refuses
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws sts get-caller-identity",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws sts get-caller-identity --output table",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws sts get-caller-identity --query Arn --output text",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws ecr describe-images --repository-name test",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET aws sts get-caller-identity",
    // the push-only user
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws sts get-caller-identity --output yaml",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr get-login-password > /dev/null",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr describe-images --repository-name test",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr describe-images --repository-name test --output table",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr batch-get-image --repository-name test --image-ids imageTag=v1",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr create-repository --repository-name made-by-ci",
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr get-repository-policy --repository-name test",
    // repository policies
    "aws ecr get-repository-policy --repository-name test",
    "aws ecr get-repository-policy --repository-name nope",
    r#"aws ecr set-repository-policy --repository-name test --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}'"#,
    "aws ecr get-repository-policy --repository-name test",
    "aws ecr get-repository-policy --repository-name test --output table",
    "aws ecr get-repository-policy --repository-name test --output yaml",
    "aws ecr get-repository-policy --repository-name test --output text",
    "aws ecr get-repository-policy --repository-name test --query policyText --output text",
    // an explicit deny in the repository policy beats the user's allow
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr batch-check-layer-availability --repository-name test --layer-digests sha256:0000000000000000000000000000000000000000000000000000000000000000",
    r#"aws ecr set-repository-policy --repository-name test --policy-text '{"Version":"2012-10-17","Statement":[{"Sid":"NoCi","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::920736617090:user/ci-pusher"},"Action":"ecr:BatchCheckLayerAvailability"}]}' --output yaml"#,
    "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr batch-check-layer-availability --repository-name test --layer-digests sha256:0000000000000000000000000000000000000000000000000000000000000000 --output table",
    "aws ecr list-images --repository-name test --query 'imageIds[].imageTag' --output text",
    r#"aws ecr set-repository-policy --repository-name test --policy-text '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}'"#,
    "aws ecr set-repository-policy --repository-name test --policy-text '{nope'",
    r#"aws ecr set-repository-policy --repository-name nope --policy-text '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}'"#,
    "aws ecr set-repository-policy --repository-name test",
    "aws ecr delete-repository-policy --repository-name test --output table",
    "aws ecr delete-repository-policy --repository-name test",
    "aws ecr describe-images --repository-name test --query 'imageDetails[].imageTags' --output text",
    // an hour later on the lab clock: the 15-minute session and the 5-minute token have expired
    "ecr-lab clock advance 1h > /dev/null",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws sts get-caller-identity",
    "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws ecr describe-repositories --output table",
    "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$OLD\"",
];

/// The side-by-side test against CLI v2 for issue 14's commands ([`V2_ACCESS_SCRIPT`]).
#[test]
fn built_in_aws_matches_cli_v2_for_roles_policies_and_denials() {
    if !aws_cli_v2_available() {
        return;
    }
    let (setup, per_mock) = access_setup();
    let (differences, printed) = side_by_side_v2(&setup, &per_mock, V2_ACCESS_SCRIPT, &mask_access);
    assert!(differences.is_empty(), "{} differences:\n\n{}", differences.len(), differences.join("\n\n"));
    // Both sides agreeing is not enough: the real CLI met what each line is there for.
    let real = |start: &str| {
        let n = V2_ACCESS_SCRIPT.iter().position(|l| l.starts_with(start)).expect("a line of the script");
        printed[n].as_str()
    };
    let session = "AWS_ACCESS_KEY_ID=$S_ID AWS_SECRET_ACCESS_KEY=$S_SECRET AWS_SESSION_TOKEN=$S_TOKEN aws sts get-caller-identity";
    assert!(real(session).contains("\"Arn\": \"arn:aws:sts::920736617090:assumed-role/ci/old\""), "{}", real(session));
    let pusher =
        "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr describe-images --repository-name test";
    assert!(
        real(pusher).contains(
            "(AccessDeniedException) when calling the DescribeImages operation: User: arn:aws:iam::920736617090:user/ci-pusher \
             is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:ap-south-1:920736617090:repository/test \
             because no identity-based policy allows the ecr:DescribeImages action"
        ),
        "{}",
        real(pusher)
    );
    let web = "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::920736617090:role/ci --role-session-name gha --web-identity-token \"$(";
    assert!(
        real(web).contains("\"SubjectFromWebIdentityToken\": \"repo:org/app:ref:refs/heads/main\""),
        "{}",
        real(web)
    );
    let explicit = "AWS_ACCESS_KEY_ID=$P_ID AWS_SECRET_ACCESS_KEY=$P_SECRET aws ecr batch-check-layer-availability";
    let n = V2_ACCESS_SCRIPT.iter().rposition(|l| l.starts_with(explicit)).unwrap();
    assert!(printed[n].contains("with an explicit deny in a resource-based policy"), "{}", printed[n]);
    assert!(printed[n - 2].contains("\"failureCode\": \"MissingLayerDigest\""), "{}", printed[n - 2]);
    if std::env::var_os("ECR_LAB_SHOW_REAL").is_some() {
        for (line, printed) in V2_ACCESS_SCRIPT.iter().zip(&printed) {
            eprintln!("$ {line}\n{printed}");
        }
    }
    let last = printed.len() - 1;
    assert!(
        printed[last].contains("(ExpiredTokenException) when calling the AssumeRoleWithWebIdentity"),
        "{}",
        printed[last]
    );
    assert!(
        printed[last - 1].contains("(ExpiredTokenException) when calling the DescribeRepositories"),
        "{}",
        printed[last - 1]
    );
}

/// The same against PyPI's CLI v1 (the built-in told `AWS_LAB_CLI_VERSION=1`).
#[test]
fn built_in_aws_matches_cli_v1_for_roles_policies_and_denials() {
    if !aws_cli_available() {
        return;
    }
    let (setup, per_mock) = access_setup();
    let mask = |text: &str, host: &str| mask_access(&mask_iso_times(text), host);
    let (differences, _) =
        side_by_side("command aws", "AWS_LAB_CLI_VERSION=1\n", (&setup, &per_mock), V2_ACCESS_SCRIPT, &mask);
    assert!(differences.is_empty(), "{} differences:\n\n{}", differences.len(), differences.join("\n\n"));
}

/// The setup of the access side-by-side tests: a repository with an image and the role `ci` (by the
/// built-in tools), then on each mock the push-only user, a session of the role and a short token.
fn access_setup() -> (String, String) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:user/lab-learner"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::920736617090:oidc-provider/oidc.ecr-lab.localhost"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.ecr-lab.localhost:aud":"sts.amazonaws.com"},"StringLike":{"oidc.ecr-lab.localhost:sub":"repo:org/app:ref:refs/heads/main"}}}]}"#;
    let push = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}"#;
    let setup = format!(
        "aws ecr create-repository --repository-name test
aws ecr get-login-password | docker login --username AWS --password-stdin $HOST
docker tag sohelqt8797/ec2-neon-pulse:v1 $HOST/test:v1
docker push $HOST/test:v1
echo '{trust}' > ~/trust.json
echo '{push}' > ~/push.json
ecr-lab iam create-role ci --trust-policy file://~/trust.json --policy file://~/push.json
"
    );
    // The push-only user's keys, a 15-minute session of the role and a 5-minute token, as variables.
    let per_mock = format!(
        "ecr-lab iam create-user ci-pusher --policy '{push}' | sed -n 's/^export AWS_ACCESS_KEY_ID=/P_ID=/p; s/^export AWS_SECRET_ACCESS_KEY=/P_SECRET=/p'
aws sts assume-role --role-arn arn:aws:iam::920736617090:role/ci --role-session-name old --duration-seconds 900 \
 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text | {{ read -r a s t; echo S_ID=$a; echo S_SECRET=$s; echo S_TOKEN=$t; }}
echo OLD=$(ecr-lab oidc token --sub repo:org/app:ref:refs/heads/main --aud sts.amazonaws.com --expires-in 5m)
"
    );
    (setup, per_mock)
}

/// ISO 8601 times as CLI v1 prints STS's (`2026-12-03T23:49:13Z`, `...13.824Z`): `<TIME>`.
fn mask_iso_times(text: &str) -> String {
    let shape = |b: &[u8]| {
        b.len() >= 20
            && b.iter().take(19).enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            })
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('T') {
        let start = i.saturating_sub(10);
        let candidate = &rest.as_bytes()[start..];
        if i >= 10 && shape(candidate) {
            let tail = &rest[start + 19..];
            let fraction = tail.strip_prefix('.').map_or(0, |f| 1 + f.bytes().take_while(u8::is_ascii_digit).count());
            if tail[fraction..].starts_with('Z') {
                out.push_str(&rest[..start]);
                out.push_str("<TIME>");
                rest = &tail[fraction + 1..];
                continue;
            }
        }
        out.push_str(&rest[..i + 1]);
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// [`mask_v2`], and what STS and IAM make up at random: access key ids, role and user ids (`ASIA`,
/// `AKIA`, `AROA`, `AIDA` and the rest), secret keys, session tokens, and the lab clock's seconds in
/// an expired web identity token's message.
fn mask_access(text: &str, host: &str) -> String {
    let mut masked = mask_v2(text, host);
    for prefix in ["ASIA", "AKIA", "AROA", "AIDA", "IQoJb3JpZ2luX2VjRUxBQg"] {
        masked = replace_alphanumeric_after(&masked, prefix, "<ID>");
    }
    masked = replace_number_after(&masked, "current date/time ");
    masked = replace_number_after(&masked, "expiration date/time ");
    // A secret key: 40 lowercase hex digits standing alone.
    let mut out = String::new();
    let mut word = String::new();
    for c in masked.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_alphanumeric() || c == '/' || c == '+' {
            word.push(c);
            continue;
        }
        let secret = word.len() == 40 && word.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        out.push_str(if secret { "<SECRET>" } else { &word });
        word.clear();
        out.push(c);
    }
    out.pop();
    masked = out;
    masked
}

/// `marker` followed by at least 12 letters and digits: the letters and digits become `with`.
fn replace_alphanumeric_after(text: &str, marker: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        let tail = &rest[i + marker.len()..];
        let length = tail.chars().take_while(char::is_ascii_alphanumeric).count();
        out.push_str(if length >= 12 { with } else { &tail[..length] });
        rest = &tail[length..];
    }
    out.push_str(rest);
    out
}

/// [`mask`], and CLI v2's ISO 8601 times (`2026-12-03T17:19:27.824000+00:00`).
fn mask_v2(text: &str, host: &str) -> String {
    let mut masked = mask(text, host);
    while let Some(i) = masked.find("+00:00") {
        let start = masked[..i].rfind(|c: char| !(c.is_ascii_digit() || "-T:.".contains(c))).map_or(0, |s| s + 1);
        masked.replace_range(start..i + 6, "<TIME>");
    }
    masked
}

/// What must differ between two runs: times, digests and sizes of re-compressed layers, the
/// registry's port, the docker config path.
fn mask(text: &str, host: &str) -> String {
    let mut masked = text.replace(host, "<HOST>");
    masked = replace_after(&masked, "sha256:", 64, "<DIGEST>");
    for key in [
        "\"createdAt\": ",
        "\"imagePushedAt\": ",
        "\"expiresAt\": ",
        "\"imageSizeInBytes\": ",
        " size: ",
        "\"imageScanCompletedAt\": ",
        "\"lastEvaluatedAt\": ",
    ] {
        masked = replace_number_after(&masked, key);
    }
    masked = replace_quoted_after(&masked, "stored unencrypted in '");
    sort_layer_statuses(&masked)
}

/// docker pushes layers concurrently, so the order of their `Pushed` lines varies from run to run:
/// sort each run of such lines.
fn sort_layer_statuses(text: &str) -> String {
    let is_status = |line: &str| {
        line.len() > 14
            && line.as_bytes()[12] == b':'
            && line[..12].bytes().all(|b| b.is_ascii_hexdigit())
            && !line.ends_with(": Preparing")
    };
    let mut lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    while start < lines.len() {
        let end = start + lines[start..].iter().take_while(|l| is_status(l)).count();
        lines[start..end].sort_unstable();
        start = end.max(start + 1);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn replace_after(text: &str, marker: &str, length: usize, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        let tail = &rest[i + marker.len()..];
        let hex = tail.chars().take(length).take_while(|c| c.is_ascii_hexdigit()).count();
        if hex == length {
            out.push_str(with);
            rest = &tail[length..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn replace_number_after(text: &str, marker: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        let tail = &rest[i + marker.len()..];
        let digits = tail.chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
        out.push_str(if digits > 0 { "<N>" } else { "" });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

fn replace_quoted_after(text: &str, marker: &str) -> String {
    match text.find(marker) {
        Some(i) => {
            let tail = &text[i + marker.len()..];
            let end = tail.find('\'').unwrap_or(tail.len());
            format!("{}{marker}<PATH>{}", &text[..i], &tail[end..])
        }
        None => text.to_owned(),
    }
}

/// On real AWS the shell hands `docker` to a real engine when one answers; here `ECR_LAB_DOCKER=engine`
/// makes it do so against a served mock (the engine reaches it at its loopback address). The engine
/// gets the sample images, uses the shell's own docker config (the login lands there), and its
/// output is docker's own.
#[test]
fn the_shell_hands_docker_to_a_real_engine() {
    if !docker_available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let server = Served::start(home.path(), &["--ephemeral"]);
    let host = server.url.trim_start_matches("http://").to_owned();
    let data = home.path().join("shell");
    let script = format!(
        "aws ecr create-repository --repository-name engine-test > /dev/null\n\
         aws ecr get-login-password | docker login --username AWS --password-stdin {host}\n\
         docker tag sohelqt8797/ec2-neon-pulse:v2 {host}/engine-test:v2\n\
         docker push {host}/engine-test:v2\n\
         docker image inspect --format '{{{{index .RepoTags 0}}}}' {host}/engine-test:v2\n"
    );
    let ran = shell_with(&data, Some(&server.url), &script, "engine");
    let _ = Command::new("docker").args(["rmi", &format!("{host}/engine-test:v2")]).output();
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("Login Succeeded"), "{}", ran.stdout);
    assert!(ran.stdout.contains(&format!("The push refers to repository [{host}/engine-test]")), "{}", ran.stdout);
    assert!(ran.stdout.contains("v2: digest: sha256:"), "{}", ran.stdout);
    // `--format` is the real CLI's: the built-in docker has no Go templates.
    assert!(ran.stdout.contains(&format!("{host}/engine-test:v2\n")), "{}", ran.stdout);
    // docker wrote the login into the shell's own config, where the checks read it.
    let config = std::fs::read_to_string(data.join("docker/config.json")).unwrap();
    assert!(config.contains(&format!("\"{host}\"")), "{config}");
    // The push reached the mock.
    let listed = shell(&data, Some(&server.url), "aws ecr list-images --repository-name engine-test\n");
    assert!(listed.stdout.contains("\"imageTag\": \"v2\""), "{}", listed.stdout);
}

/// On a terminal, a push refused at the manifest (an immutable tag) shows docker's progress block and
/// then the error, as docker does: the final screen, read through a terminal emulator, has the error
/// line below the layer lines (it was printed first and then overwritten by their in-place rewrites).
#[test]
fn a_refused_push_leaves_its_error_on_the_screen_below_the_progress() {
    use expectrl::Expect;
    let home = tempfile::tempdir().unwrap();
    let registry = "920736617090.dkr.ecr.ap-south-1.amazonaws.com";
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-lab"));
    command
        .args(["shell", "--data-dir", home.path().join("shell").to_str().unwrap()])
        .env("ECR_LAB_HOME", home.path())
        .env("TERM", "xterm");
    let mut pty = expectrl::Session::spawn(command).expect("spawn in a pty");
    pty.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    // Each line ends by echoing a marker the typed line itself does not contain (`"ok"-N` prints
    // `ok-N`), so the next line is typed only at the next prompt, never into a running command.
    let mut screen_bytes = Vec::new();
    fn wait_for(pty: &mut impl Expect, text: &str, bytes: &mut Vec<u8>) {
        let found = pty.expect(text).unwrap();
        bytes.extend_from_slice(found.before());
        bytes.extend_from_slice(found.get(0).unwrap());
    }
    let lines = [
        "aws ecr create-repository --repository-name test --image-tag-mutability IMMUTABLE > /dev/null".to_owned(),
        format!("aws ecr get-login-password | docker login --username AWS --password-stdin {registry} > /dev/null"),
        format!("docker tag sohelqt8797/ec2-neon-pulse:v1 {registry}/test:v1"),
        format!("docker push {registry}/test:v1 > /dev/null"),
        format!("docker tag sohelqt8797/ec2-neon-pulse:v2 {registry}/test:v1"),
    ];
    wait_for(&mut pty, "lab$ ", &mut screen_bytes);
    for (n, line) in lines.iter().enumerate() {
        pty.send_line(format!("{line}; echo \"ok\"-{n}")).unwrap();
        wait_for(&mut pty, &format!("ok-{n}"), &mut screen_bytes);
        wait_for(&mut pty, "lab$ ", &mut screen_bytes);
    }
    pty.send_line(format!("docker push {registry}/test:v1; echo \"status\"=$?")).unwrap();
    wait_for(&mut pty, "status=", &mut screen_bytes);
    wait_for(&mut pty, "lab$ ", &mut screen_bytes);
    pty.send_line("exit").unwrap();
    let rest = pty.expect(expectrl::Eof).unwrap();
    screen_bytes.extend_from_slice(rest.before());

    let mut terminal = vt100::Parser::new(60, 200, 0);
    terminal.process(&screen_bytes);
    let screen = terminal.screen().contents();
    let rows: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let row_of = |needle: &str| rows.iter().rposition(|r| r.contains(needle));
    let error = "tag invalid: The image tag 'v1' already exists in the 'test' repository and cannot be overwritten because the repository is immutable.";
    let (Some(refers), Some(layer), Some(error_row), Some(status)) = (
        row_of(&format!("The push refers to repository [{registry}/test]")),
        row_of(": Layer already exists").or(row_of(": Pushed")),
        row_of(error),
        row_of("status=1"),
    ) else {
        panic!("the final screen lacks the push, its layers, its error or its status:\n{screen}");
    };
    assert!(refers < layer && layer < error_row && error_row < status, "out of order on the final screen:\n{screen}");
}

/// The everyday commands the lessons invite: `$REGISTRY` and friends instead of a typed account,
/// `cat` of the docker config (lesson 04), `env | grep AWS` (lesson 09), `ls`, `grep`, with the real
/// tools' texts and exit statuses.
#[test]
fn everyday_commands_and_the_guides_variables() {
    let data = tempfile::tempdir().unwrap();
    let script = "echo $ACCOUNT $REGION $REGISTRY
aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY > /dev/null 2>&1
cat ~/docker/config.json | grep -c auths
grep -c $REGISTRY ~/docker/config.json
ls ~/docker
export AWS_DEFAULT_REGION=eu-west-1
env | grep AWS
env | grep -v AWS | grep -c REGISTRY=
grep nothing-like-this ~/docker/config.json; echo status=$?
cat ~/missing.txt; echo status=$?
ls ~/missing; echo status=$?
cat ~/nope 2>&1 > ~/y.txt
echo kept >> ~/y.txt; cat ~/y.txt
";
    let ran = shell(data.path(), None, script);
    let home = data.path().display();
    // Redirections as bash applies them: `> /dev/null 2>&1` silences docker login's warning too, and
    // `2>&1 > FILE` keeps stderr on the screen while the file is emptied.
    let nope = format!("cat: {home}/nope: No such file or directory");
    let out: Vec<&str> = ran.stdout.lines().filter(|l| !l.starts_with("lab$ ")).collect();
    assert_eq!(
        out,
        [
            format!("920736617090 ap-south-1 {REGISTRY}").as_str(),
            "1",
            "1",
            "config.json",
            "AWS_DEFAULT_REGION=eu-west-1",
            "1",
            "status=1",
            "status=1",
            "status=2",
            nope.as_str(),
            "kept",
        ],
        "{}",
        ran.stderr
    );
    // `~` is expanded before the tools see it, so their errors name the whole path, as in bash.
    assert_eq!(
        ran.stderr.lines().collect::<Vec<_>>(),
        [
            format!("cat: {home}/missing.txt: No such file or directory"),
            format!("ls: cannot access '{home}/missing': No such file or directory"),
        ]
    );
}

/// The built-in aws is CLI v2 unless `AWS_LAB_CLI_VERSION=1`: its version line, times and statuses.
#[test]
fn the_built_in_aws_is_v2_and_v1_on_request() {
    let data = tempfile::tempdir().unwrap();
    let script = "aws --version
aws ecr create-repository --repository-name test --query repository.createdAt
aws ecr describe-images --repository-name nope
echo status $?
AWS_LAB_CLI_VERSION=1
aws --version
aws ecr describe-repositories --query repositories[0].createdAt
aws ecr describe-images --repository-name nope
echo status $?
";
    let ran = shell(data.path(), None, script);
    let out = &ran.stdout;
    assert!(
        out.contains(
            "lab$ aws --version\naws-cli/2.9.19 Python/3.11.2 Linux/ecr-lab source/x86_64.debian.12 prompt/off\n"
        ),
        "{out}"
    );
    let v2_time = out.split("createdAt\n\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or_default();
    assert!(v2_time.len() >= 25 && v2_time.ends_with("+00:00") && v2_time.as_bytes()[10] == b'T', "{out}");
    assert!(out.contains("status 254\n"), "{out}");
    assert!(out.contains("lab$ aws --version\naws-cli/1.45.11 "), "{out}");
    let v1_time = out.split("createdAt\n").nth(2).and_then(|t| t.lines().next()).unwrap_or_default();
    assert!(v1_time.parse::<f64>().is_ok_and(|t| t > 1.7e9), "{out}");
    assert!(out.ends_with("status 255\n"), "{out}");
}

/// Working as other identities in the lab shell: `ecr-lab iam create-user` saves the user as an aws
/// profile, `AWS_PROFILE`/`--profile` pick it (a missing one stops as the CLI does), a profile with
/// `role_arn` + `source_profile` assumes the role for each command, and `export-credentials` + `eval`
/// copy a session's keys into the environment, which then expire on the lab clock.
#[test]
fn profiles_users_and_roles_in_the_lab_shell() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"aws ecr create-repository --repository-name test > /dev/null
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}' > ~/token-only.json
ecr-lab iam create-user ci-pusher --policy file://~/token-only.json
AWS_PROFILE=ci-pusher aws sts get-caller-identity --query Arn --output text
aws ecr describe-repositories --profile ci-pusher
aws sts get-caller-identity --profile nobody
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::920736617090:root"},"Action":"sts:AssumeRole"}]}' > ~/trust.json
ecr-lab iam create-role ci-push --trust-policy file://~/trust.json --policy file://~/token-only.json
aws configure set role_arn arn:aws:iam::920736617090:role/ci-push --profile ci-role
aws configure set source_profile default --profile ci-role
AWS_PROFILE=ci-role aws sts get-caller-identity --query Arn --output text
eval "$(aws configure export-credentials --profile ci-role --format env)"
env
ecr-lab clock advance 2h
aws ecr get-login-password > /dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
aws sts get-caller-identity --query Arn --output text
"#;
    let ran = shell(dir.path(), None, script);
    let out = format!("{}{}", ran.stdout, ran.stderr);
    assert!(out.contains("saved as aws profile ci-pusher"), "{out}");
    assert!(out.contains("\narn:aws:iam::920736617090:user/ci-pusher\n"), "{out}");
    assert!(
        out.contains(
            "An error occurred (AccessDeniedException) when calling the DescribeRepositories operation: User: \
             arn:aws:iam::920736617090:user/ci-pusher is not authorized to perform: ecr:DescribeRepositories"
        ),
        "{out}"
    );
    assert!(out.contains("The config profile (nobody) could not be found"), "{out}");
    assert!(out.contains("\narn:aws:sts::920736617090:assumed-role/ci-push/botocore-session-"), "{out}");
    assert!(out.contains("\nAWS_ACCESS_KEY_ID=ASIA"), "eval exported the session's key: {out}");
    assert!(out.contains("\nAWS_SESSION_TOKEN="), "{out}");
    assert!(
        out.contains(
            "An error occurred (ExpiredTokenException) when calling the GetAuthorizationToken operation: The \
             security token included in the request is expired"
        ),
        "{out}"
    );
    assert!(ran.stdout.trim_end().ends_with("arn:aws:iam::920736617090:user/lab-learner"), "{out}");
}
