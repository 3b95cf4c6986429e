//! The everyday commands the lessons invite besides `aws` and `docker`: `cat`, `ls`, `grep`, `env`,
//! `pwd`, with the coreutils/grep texts and exit statuses a learner knows. Paths starting with `~/`
//! are the lab's home (`$HOME`, the shell's data directory), as a real shell expands them (so
//! errors name the whole path, as they do after bash's expansion).

use std::path::PathBuf;

use super::{Io, Session, io_error_text};

/// `~` and `~/...` as the shell's home; other paths as given.
fn path(session: &Session, text: &str) -> PathBuf {
    match text.strip_prefix('~') {
        Some("") => session.home.clone(),
        Some(rest) if rest.starts_with('/') => session.home.join(&rest[1..]),
        _ => PathBuf::from(text),
    }
}

/// A redirection's file, `~` expanded as bash does.
pub(super) fn tilde(session: &Session, text: &str) -> String {
    path(session, text).display().to_string()
}

/// `cat [FILE...]`: the files one after the other, or standard input.
pub(super) fn cat(session: &Session, args: &[String], io: &mut Io) -> i32 {
    if args.is_empty() || args == ["-"] {
        io.out = std::mem::take(&mut io.stdin);
        return 0;
    }
    let mut status = 0;
    for arg in args {
        let file = path(session, arg);
        match std::fs::read(&file) {
            Ok(bytes) => io.out.extend_from_slice(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                io.eprintln(format!("cat: {}: Is a directory", file.display()));
                status = 1;
            }
            Err(e) => {
                io.eprintln(format!("cat: {}: {}", file.display(), io_error_text(&e)));
                status = 1;
            }
        }
    }
    status
}

/// `ls [DIR...]`: the names in each directory, sorted, one per line (hidden ones left out, as ls does).
pub(super) fn ls(session: &Session, args: &[String], io: &mut Io) -> i32 {
    let targets: Vec<String> = if args.is_empty() { vec![".".into()] } else { args.to_vec() };
    let mut status = 0;
    for (n, arg) in targets.iter().enumerate() {
        let dir = path(session, arg);
        if dir.is_file() {
            io.println(arg);
            continue;
        }
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .filter(|name| !name.starts_with('.'))
                    .collect();
                names.sort();
                if targets.len() > 1 {
                    if n > 0 {
                        io.println("");
                    }
                    io.println(format!("{arg}:"));
                }
                for name in names {
                    io.println(name);
                }
            }
            Err(e) => {
                io.eprintln(format!("ls: cannot access '{}': {}", dir.display(), io_error_text(&e)));
                status = 2;
            }
        }
    }
    status
}

/// `grep [-i] [-v] [-c] TEXT [FILE...]`: lines containing TEXT (a fixed string, as `grep -F`), from
/// the files or standard input; 0 when a line matched, 1 when none did, 2 on an error.
pub(super) fn grep(session: &Session, args: &[String], io: &mut Io) -> i32 {
    let (mut ignore_case, mut invert, mut count) = (false, false, false);
    let mut rest = args.iter().peekable();
    while let Some(flag) = rest.peek().filter(|a| a.starts_with('-') && a.len() > 1) {
        for c in flag[1..].chars() {
            match c {
                'i' => ignore_case = true,
                'v' => invert = true,
                'c' => count = true,
                'F' => {}
                other => {
                    io.eprintln(format!("grep: invalid option -- '{other}' (the lab's grep knows -i, -v, -c, -F)"));
                    return 2;
                }
            }
        }
        rest.next();
    }
    let Some(pattern) = rest.next() else {
        io.eprintln("Usage: grep [OPTION]... PATTERNS [FILE]...");
        return 2;
    };
    let files: Vec<&String> = rest.collect();
    let needle = if ignore_case { pattern.to_lowercase() } else { pattern.clone() };
    let matches = |line: &str| {
        let found = if ignore_case { line.to_lowercase().contains(&needle) } else { line.contains(&needle) };
        found != invert
    };
    let mut inputs: Vec<(Option<&str>, Vec<u8>)> = Vec::new();
    let mut status = 1;
    if files.is_empty() {
        inputs.push((None, std::mem::take(&mut io.stdin)));
    }
    for file in &files {
        let read = path(session, file);
        match std::fs::read(&read) {
            Ok(bytes) => inputs.push((Some(file.as_str()), bytes)),
            Err(e) => {
                io.eprintln(format!("grep: {}: {}", read.display(), io_error_text(&e)));
                status = 2;
            }
        }
    }
    let mut matched_any = false;
    for (name, bytes) in inputs {
        let text = String::from_utf8_lossy(&bytes);
        let prefix = |line: &str| match name {
            Some(name) if files.len() > 1 => format!("{name}:{line}"),
            _ => line.to_owned(),
        };
        let hits: Vec<&str> = text.lines().filter(|l| matches(l)).collect();
        matched_any |= !hits.is_empty();
        if count {
            io.println(prefix(&hits.len().to_string()));
        } else {
            for line in hits {
                io.println(prefix(line));
            }
        }
    }
    if status == 2 {
        2
    } else if matched_any {
        0
    } else {
        status
    }
}

/// `env`: the shell's variables, `NAME=value`, sorted.
pub(super) fn env(session: &Session, io: &mut Io) -> i32 {
    for (name, value) in &session.vars {
        io.println(format!("{name}={value}"));
    }
    0
}

/// `pwd`: the shell's home, where `~` points.
pub(super) fn pwd(session: &Session, io: &mut Io) -> i32 {
    io.println(session.home.display().to_string());
    0
}
