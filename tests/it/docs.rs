//! What a trainer reads: `--help` explains every option of every command, and the authoring guide
//! names files that exist.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ecr-lab")).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The names listed under `Commands:` (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Options in the long `--help` whose description line is empty.
fn undescribed(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut in_options = false;
    for (n, line) in lines.iter().enumerate() {
        if line.ends_with(':') && !line.starts_with(' ') {
            in_options = *line == "Options:";
            continue;
        }
        let trimmed = line.trim_start();
        let is_option = in_options && line.starts_with("  ") && trimmed.starts_with('-') && !trimmed.starts_with("- ");
        // Short help puts the description on the option's line, after two spaces; long help on the next.
        let on_its_line = trimmed.split("  ").filter(|part| !part.trim().is_empty()).count() > 1;
        if is_option && !on_its_line && lines.get(n + 1).is_none_or(|next| next.trim().is_empty()) {
            found.push(trimmed.to_owned());
        }
    }
    found
}

#[test]
fn every_option_of_every_command_says_what_it_does() {
    let mut missing = Vec::new();
    let mut commands: Vec<Vec<String>> = subcommands(&help(&[])).into_iter().map(|c| vec![c]).collect();
    while let Some(path) = commands.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        for option in undescribed(&text) {
            missing.push(format!("ecr-lab {} {option}", path.join(" ")));
        }
        for sub in subcommands(&text) {
            let mut deeper = path.clone();
            deeper.push(sub);
            commands.push(deeper);
        }
    }
    assert!(missing.is_empty(), "options without a description in --help:\n{}", missing.join("\n"));
}

#[test]
fn the_authoring_guide_names_lessons_that_exist() {
    let root = env!("CARGO_MANIFEST_DIR");
    let guide = std::fs::read_to_string(format!("{root}/lessons/README.md")).unwrap();
    let named: Vec<&str> = guide
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| word.ends_with(".md") && word.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .collect();
    assert!(!named.is_empty(), "the guide names no example lesson");
    let absent: Vec<&&str> =
        named.iter().filter(|name| !std::path::Path::new(&format!("{root}/lessons/{name}")).exists()).collect();
    assert!(absent.is_empty(), "lessons/README.md names files that do not exist: {absent:?}");
}
