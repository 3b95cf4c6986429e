//! `ecr-lab fault arm|clear|list`: an instructor makes a documented error happen for the whole class
//! on a running `ecr-lab serve`. Faults stay conditions (DESIGN §4): arming deletes the repository,
//! makes it immutable or moves the lab clock, and every client then meets ECR's real answer. Faults
//! that live on the learner's side (their docker login, their local tag, their region or key) cannot
//! be armed on a server; `arm` says so and how a lesson arranges them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::lesson::{self, fault};
use crate::runner::fault::run_lines;
use crate::shell::{Backing, Session};

/// What `arm` does on the server for one fault, and how `clear` undoes it.
struct ClassFault {
    id: &'static str,
    arm: &'static [&'static str],
    clear: &'static [&'static str],
    /// What the class now meets, after "armed ID: ".
    effect: &'static str,
    /// What `arm` says `clear` does, and what `clear` says it did.
    undo: &'static str,
    /// After `arm`: lines whose output the instructor is shown (an IAM user's key to hand out).
    show: &'static [&'static str],
    /// What `clear` says stays when it has nothing to undo.
    stays: &'static str,
}

const CLASS_FAULTS: &[ClassFault] = &[
    ClassFault {
        id: "missing-repo",
        // Created first (if missing) so that arming before anyone pushed still leaves it deleted.
        arm: &[
            "aws ecr create-repository --repository-name {{repo}} > /dev/null 2>&1",
            "aws ecr delete-repository --repository-name {{repo}} --force",
        ],
        clear: &["aws ecr create-repository --repository-name {{repo}}"],
        effect: "the repository {{repo}} is deleted (with its images)",
        undo: "`ecr-lab fault clear` creates it again, empty.",
        show: &[],
        stays: "",
    },
    ClassFault {
        id: "immutable-overwrite",
        arm: &["aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability IMMUTABLE"],
        clear: &["aws ecr put-image-tag-mutability --repository-name {{repo}} --image-tag-mutability MUTABLE"],
        effect: "the repository {{repo}} is immutable: pushing another image as an existing tag is refused",
        undo: "`ecr-lab fault clear` makes it mutable again.",
        show: &[],
        stays: "",
    },
    ClassFault {
        id: "expired-login",
        arm: &["ecr-lab clock advance 13h"],
        clear: &[],
        effect: "the lab clock moved 13 hours: every registry login is past its 12 hours",
        undo: "The clock does not go back, so `ecr-lab fault clear` leaves it where it is: learners log in again.",
        show: &[],
        stays: "the lab clock stays where it is (learners log in again)",
    },
    ClassFault {
        id: "expired-session",
        arm: &["ecr-lab clock advance 2h"],
        clear: &[],
        effect: "the lab clock moved 2 hours: every role session (1 hour by default) has ended, and temporary credentials copied out of one are refused",
        undo: "The clock does not go back, so `ecr-lab fault clear` leaves it where it is: learners assume the role again.",
        show: &[],
        stays: "the lab clock stays where it is (learners assume the role again)",
    },
    ClassFault {
        id: "access-denied-pull",
        arm: &[
            fault::CI_PUSHER_FILE,
            "ecr-lab iam create-user ci-pusher > /dev/null 2>&1",
            "ecr-lab iam put-user-policy --user-name ci-pusher --policy-name ci-pusher-policy --policy-document file://~/ci-pusher.json",
        ],
        clear: &[],
        effect: "IAM user ci-pusher may push to {{repo}}, not pull: learners who work as it meet the denial on `docker pull`",
        undo: "The user stays (`ecr-lab fault clear` leaves it): it is the class's exercise to fix its policy.",
        show: &[HAS_PROFILE_CI, SHOW_KEY_ID_CI, SHOW_SECRET_CI],
        stays: "user ci-pusher stays, with the policy the class gave it",
    },
    ClassFault {
        id: "access-denied-push",
        arm: &[
            fault::DEPLOY_FILE,
            "ecr-lab iam create-user deploy > /dev/null 2>&1",
            "ecr-lab iam put-user-policy --user-name deploy --policy-name deploy-policy --policy-document file://~/deploy.json",
        ],
        clear: &[],
        effect: "IAM user deploy may pull from {{repo}}, not push: learners who work as it meet the denial on `docker push`",
        undo: "The user stays (`ecr-lab fault clear` leaves it): it is the class's exercise to fix its policy.",
        show: &[HAS_PROFILE_DEPLOY, SHOW_KEY_ID_DEPLOY, SHOW_SECRET_DEPLOY],
        stays: "user deploy stays, with the policy the class gave it",
    },
];

/// The new user's key, as the class exports it (the lab shell saved it as the user's aws profile);
/// fails first when the user existed already (no profile was saved).
const HAS_PROFILE_CI: &str = "aws configure get aws_access_key_id --profile ci-pusher > /dev/null";
const HAS_PROFILE_DEPLOY: &str = "aws configure get aws_access_key_id --profile deploy > /dev/null";
const SHOW_KEY_ID_CI: &str = "echo export AWS_ACCESS_KEY_ID=$(aws configure get aws_access_key_id --profile ci-pusher)";
const SHOW_SECRET_CI: &str =
    "echo export AWS_SECRET_ACCESS_KEY=$(aws configure get aws_secret_access_key --profile ci-pusher)";
const SHOW_KEY_ID_DEPLOY: &str =
    "echo export AWS_ACCESS_KEY_ID=$(aws configure get aws_access_key_id --profile deploy)";
const SHOW_SECRET_DEPLOY: &str =
    "echo export AWS_SECRET_ACCESS_KEY=$(aws configure get aws_secret_access_key --profile deploy)";

/// Faults armed on servers, so `clear` knows what to undo: one file in the lab's home.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Armed {
    /// endpoint -> (fault id, repository) in the order armed.
    servers: BTreeMap<String, Vec<(String, String)>>,
}

fn armed_path(home: &Path) -> PathBuf {
    home.join("faults-armed.json")
}

fn load(home: &Path) -> Result<Armed> {
    match std::fs::read(armed_path(home)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged; delete it to start over", armed_path(home).display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Armed::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", armed_path(home).display())),
    }
}

fn save(home: &Path, armed: &Armed) -> Result<()> {
    std::fs::create_dir_all(home)?;
    let path = armed_path(home);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(armed)?)?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

fn variables(repo: &str) -> BTreeMap<String, String> {
    // `registry` stays the ECR host the class types (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`); the lab
    // shell sends it to the server.
    let mut vars = lesson::built_in_variables();
    vars.insert("repo".into(), repo.to_owned());
    vars
}

/// Runs lines through a lab shell pointed at the server, failing with their output; then `show`,
/// returning what it printed (empty when a `show` line fails).
async fn run(endpoint: &str, lines: &[&str], show: &[&str], vars: &BTreeMap<String, String>) -> Result<String> {
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let mut session = Session::start_on(scratch.path(), Backing::Mock(Some(endpoint.to_owned()))).await?;
    let lines: Vec<String> = lines.iter().map(|line| lesson::fill(line, vars)).collect();
    run_lines(&mut session, &lines).await.map_err(|why| anyhow::anyhow!("on {endpoint}: {why}"))?;
    let mut shown = Vec::new();
    for line in show {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        if session.run_line(&lesson::fill(line, vars), &mut out, &mut err).await != 0 {
            return Ok(String::new());
        }
        shown.extend_from_slice(&out);
    }
    Ok(String::from_utf8_lossy(&shown).into_owned())
}

/// `ecr-lab fault list [--endpoint URL]`: the catalogue, and with a server, what this machine armed on it.
pub fn list(home: &Path, endpoint: Option<&str>) -> Result<()> {
    println!("{:<21} {:<8} what", "fault", "armed on");
    for spec in fault::CATALOGUE {
        let place = if CLASS_FAULTS.iter().any(|c| c.id == spec.id) { "server" } else { "learner" };
        println!("{:<21} {:<8} {}", spec.id, place, spec.summary);
    }
    println!(
        "\n`ecr-lab fault arm ID` arms a server fault on the running `ecr-lab serve` for everyone; learner faults are\n\
         arranged by the lessons in each learner's lab shell (`ecr-lab start`)."
    );
    if let Some(endpoint) = endpoint {
        let armed = load(home)?;
        match armed.servers.get(endpoint).filter(|faults| !faults.is_empty()) {
            None => println!("no faults armed on {endpoint} (by this machine)"),
            Some(faults) => {
                let named: Vec<String> = faults.iter().map(|(id, repo)| format!("{id} ({repo})")).collect();
                println!("armed on {endpoint} (by this machine): {}", named.join(", "));
            }
        }
    }
    Ok(())
}

/// `ecr-lab fault arm ID`.
pub async fn arm(home: &Path, endpoint: &str, id: &str, repo: &str) -> Result<()> {
    let Some(spec) = fault::spec(id) else {
        let known: Vec<&str> = fault::CATALOGUE.iter().map(|f| f.id).collect();
        bail!("no fault `{id}`; the catalogue has {} (`ecr-lab fault list`)", known.join(", "));
    };
    let vars = variables(repo);
    let Some(class) = CLASS_FAULTS.iter().find(|c| c.id == id) else {
        bail!(
            "`{id}` ({}) is on the learner's side, not the server's: it cannot be armed for a class. The lessons arrange it \
             in each learner's lab shell (`ecr-lab start troubleshooting`, `ecr-lab start wrong-registry`); by hand, \
             a learner runs:\n{}",
            spec.summary,
            spec.arrange.iter().map(|l| format!("  {}", lesson::fill(l, &vars))).collect::<Vec<_>>().join("\n")
        );
    };
    let shown = run(endpoint, class.arm, class.show, &vars).await?;
    let mut armed = load(home)?;
    armed.servers.entry(endpoint.to_owned()).or_default().push((id.to_owned(), repo.to_owned()));
    save(home, &armed)?;
    println!("armed {id} on {endpoint}: {}", lesson::fill(class.effect, &vars));
    println!("the class now meets, on `{}`:", lesson::fill(spec.trigger, &vars));
    println!("  {}", lesson::fill(spec.error, &vars));
    if !class.show.is_empty() {
        match shown.is_empty() {
            true => println!("the user existed already: its key is the one printed when it was made"),
            false => print!("the class works as it with:\n{shown}"),
        }
    }
    println!("{}", class.undo);
    Ok(())
}

/// `ecr-lab fault clear`: undoes what `arm` did on this server, newest first.
pub async fn clear(home: &Path, endpoint: &str) -> Result<()> {
    let mut armed = load(home)?;
    let faults = armed.servers.remove(endpoint).unwrap_or_default();
    if faults.is_empty() {
        println!("no faults armed on {endpoint} (by this machine)");
        return Ok(());
    }
    let mut failures = Vec::new();
    for (id, repo) in faults.iter().rev() {
        let Some(class) = CLASS_FAULTS.iter().find(|c| c.id == id) else { continue };
        match run(endpoint, class.clear, &[], &variables(repo)).await {
            Ok(_) if class.clear.is_empty() => println!("cleared {id}: {}", class.stays),
            Ok(_) => println!("cleared {id} ({repo})"),
            Err(why) => failures.push(format!("{id}: {why:#}")),
        }
    }
    save(home, &armed)?;
    if !failures.is_empty() {
        bail!("some faults could not be undone:\n{}", failures.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_fault_is_in_the_catalogue() {
        for class in CLASS_FAULTS {
            assert!(fault::spec(class.id).is_some(), "{}", class.id);
        }
    }
}
