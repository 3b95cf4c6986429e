//! The instructor's commands against a class server: `ecr-lab class students|reset|remove`, and
//! `ecr-lab fault arm|clear ID --student NAME | --all` (server-side faults on students' own accounts).
//! All send the instructor token (`ECR_LAB_INSTRUCTOR_TOKEN`, or the one `class serve` recorded here).

use anyhow::{Result, bail};
use serde_json::Value;

use crate::control_client::{Auth, call_as};

fn text<'v>(value: &'v Value, name: &str) -> &'v str {
    value.get(name).and_then(Value::as_str).unwrap_or("")
}

/// A student's name as a URL path segment (names are IAM user names; anything else is refused here).
fn segment(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !ok {
        bail!(
            "'{name}' is not a student name: 1-64 letters, digits and +=,.@_- (e.g. ana-lopez); `ecr-lab class students` lists them"
        );
    }
    // Letters, digits and +=,.@_- are all allowed as they are in a URL path segment.
    Ok(name.to_owned())
}

/// One line of the students table.
fn row(student: &Value) -> String {
    let stage = student.get("stage").and_then(Value::as_u64).map(|s| (s + 1).to_string()).unwrap_or("-".into());
    let minutes = student.get("minutesOnStage").and_then(Value::as_f64).map(|m| format!("{m:.0}")).unwrap_or_default();
    let error = match student.get("lastError") {
        Some(e) if e.is_object() => {
            format!("{} {}", text(e, "code"), e.get("status").map(Value::to_string).unwrap_or_default())
        }
        _ => String::new(),
    };
    let count = |name: &str| student.get(name).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "{:<20} {:<12} {:<24} {:>5} {:<7} {:>4} {:>5}/{:<4} {}",
        text(student, "name"),
        text(student, "account"),
        text(student, "lesson"),
        stage,
        text(student, "status"),
        minutes,
        count("hints"),
        count("solutions"),
        error
    )
}

/// `ecr-lab class students`: the roster as a table (who, account, where, status, help used, last error).
pub async fn students(endpoint: &str) -> Result<()> {
    let state = call_as(hyper::Method::GET, format!("{endpoint}/class/api/state"), None, Auth::Instructor).await?;
    let students = state.get("students").and_then(Value::as_array).cloned().unwrap_or_default();
    println!("class '{}' at {endpoint}: {} student(s)", text(&state, "className"), students.len());
    if students.is_empty() {
        println!("nobody has joined yet; students run: ecr-lab join {endpoint} --name THEIR-NAME");
        return Ok(());
    }
    println!(
        "{:<20} {:<12} {:<24} {:>5} {:<7} {:>4} {:>10} last error",
        "name", "account", "lesson", "stage", "status", "min", "hints/sol"
    );
    for student in &students {
        println!("{}", row(student));
    }
    Ok(())
}

/// `ecr-lab class reset NAME`: new key and secret, progress cleared, repositories kept.
pub async fn reset(endpoint: &str, name: &str) -> Result<()> {
    let url = format!("{endpoint}/class/api/students/{}/reset", segment(name)?);
    let answer = call_as(hyper::Method::POST, url, Some(serde_json::json!({})), Auth::Instructor).await?;
    println!(
        "reset {name} (account {}): a new key (the old one is revoked), progress cleared; their repositories stay.",
        text(&answer, "account")
    );
    println!(
        "Give {name} (and only {name}) this command, for the machine they work on now:\n  ecr-lab join {endpoint} --name {name} --secret {}",
        text(&answer, "studentSecret")
    );
    Ok(())
}

/// `ecr-lab class remove NAME`: key revoked, gone from the roster.
pub async fn remove(endpoint: &str, name: &str) -> Result<()> {
    let url = format!("{endpoint}/class/api/students/{}", segment(name)?);
    call_as(hyper::Method::DELETE, url, None, Auth::Instructor).await?;
    println!(
        "removed {name}: their key is revoked and they are off the roster (their account's data stays, unreachable)"
    );
    Ok(())
}

/// Who a class fault is for.
pub enum Target {
    Student(String),
    All,
}

/// `ecr-lab fault arm|clear ID --student NAME | --all`: `POST /class/api/faults`.
pub async fn fault(endpoint: &str, id: &str, repo: &str, target: &Target, arm: bool) -> Result<()> {
    let students = match target {
        Target::Student(name) => {
            segment(name)?;
            serde_json::json!([name])
        }
        Target::All => Value::String("all".into()),
    };
    let body = serde_json::json!({
        "fault": id, "students": students, "repository": repo, "action": if arm { "arm" } else { "clear" },
    });
    let answer =
        call_as(hyper::Method::POST, format!("{endpoint}/class/api/faults"), Some(body), Auth::Instructor).await?;
    let applied = answer.get("applied").and_then(Value::as_array).cloned().unwrap_or_default();
    let verb = if arm { "armed" } else { "cleared" };
    println!("{verb} {id} for {} student(s) on {endpoint}:", applied.len());
    for entry in &applied {
        println!("  {:<20} {}", text(entry, "student"), text(entry, "effect"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_iam_names_go_into_a_url() {
        assert_eq!(segment("ana-lopez").unwrap(), "ana-lopez");
        assert!(segment("ana lopez").is_err());
        assert!(segment("../_lab").is_err());
        assert!(segment(&"a".repeat(65)).is_err());
        assert!(segment("ñandú").is_err());
    }

    #[test]
    fn a_row_shows_the_stage_one_based_and_the_last_error() {
        let student = serde_json::json!({"name":"ana","account":"123456789012","lesson":"push-first-image","stage":2,
            "status":"error","minutesOnStage":3.4,"hints":1,"solutions":0,
            "lastError":{"code":"NAME_UNKNOWN","status":404}});
        let line = row(&student);
        assert!(line.contains("ana") && line.contains(" 3 ") && line.contains("NAME_UNKNOWN 404"), "{line}");
    }
}
