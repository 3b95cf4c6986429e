//! Transcripts: one JSON-lines file per run (stage, command, output, status, failing checks), so an
//! instructor can replay a stuck student's attempt with `ecr-lab replay FILE`. Secrets (registry
//! passwords, secret keys, session tokens) are replaced by markers such as `<redacted: registry
//! password>` before an entry is written, and again when one is replayed (see `redact`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub struct Entry {
    /// Epoch seconds (wall clock).
    pub at: u64,
    pub stage: String,
    pub command: String,
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub status: i32,
    /// For `check` entries: what still fails (empty when the stage passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<Vec<String>>,
}

pub struct Writer {
    file: std::fs::File,
    path: PathBuf,
}

fn now() -> u64 {
    mock_registry::clock::unix_seconds() as u64
}

impl Writer {
    pub fn create(dir: &Path, lesson: &str) -> Result<Self> {
        // Transcripts are the learner's: 0600 files in a 0700 directory (narrowed if an older version made it 0755).
        crate::paths::lab_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        let millis = mock_registry::clock::unix_millis();
        let path = dir.join(format!("{lesson}-{millis}-{}.jsonl", std::process::id()));
        let file = crate::paths::open_private(&path, std::fs::OpenOptions::new().write(true).create_new(true))
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record(
        &mut self,
        stage: &str,
        command: &str,
        output: &str,
        status: i32,
        failing: Option<Vec<String>>,
    ) -> Result<()> {
        // Redacted here, so a secret never reaches the disk.
        let entry = redact::entry(Entry {
            at: now(),
            stage: stage.to_owned(),
            command: command.to_owned(),
            output: output.to_owned(),
            status,
            failing,
        });
        serde_json::to_writer(&mut self.file, &entry)?;
        self.file.write_all(b"\n")?;
        Ok(self.file.flush()?)
    }
}

/// `ecr-lab replay FILE`: prints a transcript as the learner saw it, stage by stage.
pub fn replay(path: &Path, out: &mut dyn Write) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut stage = String::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        let entry: Entry = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a transcript entry", path.display(), n + 1))?;
        // Older versions wrote secrets verbatim: replay shows the markers all the same.
        let entry = redact::entry(entry);
        if entry.stage != stage {
            writeln!(out, "── stage {} ──", entry.stage)?;
            stage = entry.stage.clone();
        }
        match entry.failing {
            Some(failing) if failing.is_empty() => writeln!(out, "   ✓ checks pass")?,
            Some(failing) => writeln!(out, "   ✗ {}", failing.join("; "))?,
            None => {
                writeln!(out, "lab$ {}", entry.command)?;
                out.write_all(printable(&entry.output).as_bytes())?;
                if entry.status != 0 {
                    writeln!(out, "   (exit status {})", entry.status)?;
                }
            }
        }
    }
    Ok(())
}

/// Output as plain text for replay: terminal escapes (colours, cursor moves) dropped, a screen
/// clear said in words, other control characters but newlines and tabs dropped.
fn printable(output: &str) -> String {
    const CLEARED: &str = "   (the screen was cleared)\n";
    let mut out = String::new();
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        let cleared = match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    let mut sequence = String::new();
                    for c in chars.by_ref() {
                        sequence.push(c);
                        if ('\x40'..='\x7e').contains(&c) {
                            break;
                        }
                    }
                    sequence == "2J" || sequence == "3J"
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                    false
                }
                next => next == Some('c'),
            },
            '\n' | '\t' => {
                out.push(c);
                false
            }
            c if c.is_control() => false,
            c => {
                out.push(c);
                false
            }
        };
        if cleared && !out.ends_with(CLEARED) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(CLEARED);
        }
    }
    out
}

/// Finding secrets in what a transcript records, and putting markers in their place: what was typed
/// on a command line (`aws configure set aws_secret_access_key …`, `docker login -p …`, `echo … |
/// docker login --password-stdin`, `export AWS_SECRET_ACCESS_KEY=…`), and what a command printed
/// (`get-login-password`, authorization tokens, secret keys and session tokens, the lab's own key).
mod redact {
    use base64::Engine as _;

    use super::Entry;

    pub const REGISTRY_PASSWORD: &str = "<redacted: registry password>";
    pub const AUTHORIZATION_TOKEN: &str = "<redacted: registry authorization token>";
    pub const SECRET_KEY: &str = "<redacted: secret access key>";
    pub const SESSION_TOKEN: &str = "<redacted: session token>";

    /// Runs shorter than this are never taken for a registry password or token.
    const SHORTEST_TOKEN: usize = 32;

    /// The entry with every secret it holds replaced by a marker.
    pub fn entry(mut entry: Entry) -> Entry {
        let (command, typed) = command(&entry.command);
        entry.output = output(&entry.command, &entry.output, entry.status, &typed);
        entry.failing = entry.failing.map(|failing| failing.iter().map(|why| text(why, &typed)).collect());
        entry.command = command;
        entry
    }

    /// A word of a command line: where it is in the line, and its text without quotes.
    struct Word {
        start: usize,
        end: usize,
        text: String,
    }

    /// One simple command; `piped` when its output goes into the next one.
    #[derive(Default)]
    struct Simple {
        words: Vec<Word>,
        piped: bool,
    }

    impl Simple {
        /// The words from the program on (after any `NAME=value` prefixes).
        fn program(&self) -> &[Word] {
            let first = self.words.iter().position(|w| !is_assignment(&w.text)).unwrap_or(self.words.len());
            &self.words[first..]
        }
    }

    fn is_assignment(word: &str) -> bool {
        word.split_once('=')
            .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    }

    /// Splits a line as the lab shell would, closely enough to find words: quotes, `\`, `$(…)`, and
    /// the operators `|`, `||`, `&&`, `;` (a `&` inside `2>&1` stays in its word).
    fn split(line: &str) -> Vec<Simple> {
        let mut commands = vec![Simple::default()];
        let mut current: Option<Word> = None;
        let mut quote: Option<char> = None;
        let mut depth = 0usize;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, n)| n);
            let operator = match c {
                '|' | ';' => true,
                '&' => next.is_none_or(|n| n == '&' || n.is_whitespace()),
                _ => c.is_whitespace(),
            };
            if quote.is_some() || depth > 0 || !operator {
                let word = current.get_or_insert_with(|| Word { start: i, end: i, text: String::new() });
                word.end = i + c.len_utf8();
                match c {
                    _ if quote == Some(c) => quote = None,
                    '\'' | '"' if quote.is_none() && depth == 0 => quote = Some(c),
                    '\\' if quote.is_none() => {
                        if let Some((j, escaped)) = chars.next() {
                            word.text.push(escaped);
                            word.end = j + escaped.len_utf8();
                        }
                    }
                    '$' if quote.is_none() && next == Some('(') => {
                        depth += 1;
                        word.text.push(c);
                    }
                    ')' if quote.is_none() && depth > 0 => {
                        depth -= 1;
                        word.text.push(c);
                    }
                    _ => word.text.push(c),
                }
                continue;
            }
            let last = commands.last_mut().expect("one command at least");
            last.words.extend(current.take());
            if c.is_whitespace() {
                continue;
            }
            let doubled = next == Some(c);
            if doubled {
                chars.next();
            }
            last.piped = c == '|' && !doubled;
            commands.push(Simple::default());
        }
        commands.last_mut().expect("one command at least").words.extend(current.take());
        commands
    }

    /// A secret found on a command line: the bytes to replace, and with what.
    struct Found {
        start: usize,
        end: usize,
        marker: &'static str,
        value: String,
    }

    impl Found {
        fn word(word: &Word, marker: &'static str) -> Self {
            Self { start: word.start, end: word.end, marker, value: word.text.clone() }
        }
        /// The part of `word` after its first `=`.
        fn after_equals(line: &str, word: &Word, marker: &'static str) -> Self {
            let equals = line[word.start..word.end].find('=').map_or(word.end, |i| word.start + i + 1);
            let value = word.text.split_once('=').map(|(_, v)| v.to_owned()).unwrap_or_default();
            Self { start: equals, end: word.end, marker, value }
        }
    }

    /// The marker for a secret environment variable or profile key, by name.
    fn marker_for(name: &str) -> Option<&'static str> {
        let name = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        match name.as_str() {
            "aws_secret_access_key" => Some(SECRET_KEY),
            "aws_session_token" | "aws_security_token" => Some(SESSION_TOKEN),
            _ => None,
        }
    }

    /// The secrets typed on `line`.
    fn typed(line: &str) -> Vec<Found> {
        let commands = split(line);
        let mut found = Vec::new();
        for (n, command) in commands.iter().enumerate() {
            for word in &command.words {
                let name = word.text.split_once('=').map(|(name, _)| name).unwrap_or_default();
                if let Some(marker) = marker_for(name).filter(|_| is_assignment(&word.text)) {
                    found.push(Found::after_equals(line, word, marker));
                }
            }
            let program = command.program();
            let texts: Vec<&str> = program.iter().map(|w| w.text.as_str()).collect();
            match texts.as_slice() {
                ["aws", ..] => found.extend(configure_set(program)),
                ["docker", "login", ..] => {
                    let (flags, stdin) = docker_login(line, &program[2..]);
                    found.extend(flags);
                    if stdin {
                        found.extend(piped_in(&commands[..n]));
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// `aws [options] configure set KEY VALUE` with a secret KEY: the VALUE.
    fn configure_set(program: &[Word]) -> Option<Found> {
        let at = program.iter().position(|w| w.text == "configure")?;
        match &program[at + 1..] {
            [set, key, value, ..] if set.text == "set" => Some(Found::word(value, marker_for(&key.text)?)),
            _ => None,
        }
    }

    /// `docker login` flags that carry the password, and whether it reads one from standard input.
    fn docker_login(line: &str, flags: &[Word]) -> (Vec<Found>, bool) {
        let mut found = Vec::new();
        let mut stdin = false;
        let mut words = flags.iter();
        while let Some(word) = words.next() {
            let flag = word.text.as_str();
            if flag == "-p" || flag == "--password" {
                found.extend(words.next().map(|value| Found::word(value, REGISTRY_PASSWORD)));
            } else if flag.starts_with("--password=") {
                found.push(Found::after_equals(line, word, REGISTRY_PASSWORD));
            } else if flag.starts_with("-p") && line[word.start..].starts_with("-p") {
                let value = flag[2..].to_owned();
                found.push(Found { start: word.start + 2, end: word.end, marker: REGISTRY_PASSWORD, value });
            } else if flag == "--password-stdin" {
                stdin = true;
            }
        }
        (found, stdin)
    }

    /// What `echo`/`printf` pipe into a `--password-stdin`: the arguments of the command just before.
    fn piped_in(before: &[Simple]) -> Option<Found> {
        let feeder = before.last().filter(|c| c.piped)?;
        let program = feeder.program();
        let (name, args) = program.split_first()?;
        if name.text != "echo" && name.text != "printf" {
            return None;
        }
        let args: Vec<&Word> = args.iter().skip_while(|w| w.text.starts_with('-')).collect();
        let (first, last) = (args.first()?, args.last()?);
        let value = args.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        Some(Found { start: first.start, end: last.end, marker: REGISTRY_PASSWORD, value })
    }

    /// The command line with its typed secrets replaced, and those secrets (to take out of its output).
    fn command(line: &str) -> (String, Vec<(String, &'static str)>) {
        let mut found = typed(line);
        found.sort_by_key(|f| std::cmp::Reverse(f.start));
        let mut redacted = line.to_owned();
        let mut until = usize::MAX;
        let mut values = Vec::new();
        for secret in found {
            // `$VAR` and `$(…)` name a secret without holding it: the reader of a replay wants to see them.
            if secret.end > until || secret.start >= secret.end || secret.value.starts_with('$') {
                continue;
            }
            redacted.replace_range(secret.start..secret.end, secret.marker);
            until = secret.start;
            // Taken out of the output too, unless so short that it would take ordinary words with it.
            if secret.value.len() >= 8 {
                values.push((secret.value, secret.marker));
            }
        }
        (text(&redacted, &[]), values)
    }

    /// What a command printed: all of it when the command's whole output is a secret, else each secret in it.
    fn output(line: &str, printed: &str, status: i32, typed: &[(String, &'static str)]) -> String {
        match prints_only(line) {
            Some(marker) if status == 0 && !printed.trim().is_empty() => format!("{marker}\n"),
            _ => text(printed, typed),
        }
    }

    /// The marker for a line whose output is one secret: `aws ecr get-login-password`, `aws configure get` of a secret.
    fn prints_only(line: &str) -> Option<&'static str> {
        let commands = split(line);
        let shown: Vec<&Simple> = commands.iter().filter(|c| !c.piped && !c.words.is_empty()).collect();
        let [command] = shown.as_slice() else { return None };
        let texts: Vec<&str> = command.program().iter().map(|w| w.text.as_str()).collect();
        match texts.as_slice() {
            ["aws", rest @ ..] if rest.contains(&"get-login-password") => Some(REGISTRY_PASSWORD),
            ["aws", .., "configure", "get", key] => marker_for(key),
            _ => None,
        }
    }

    /// Any text: the secrets typed before, the lab's own secret key, labelled secrets, registry passwords.
    fn text(text: &str, typed: &[(String, &'static str)]) -> String {
        let mut text = text.to_owned();
        for (value, marker) in typed {
            text = text.replace(value.as_str(), marker);
        }
        text = text.replace(mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY, SECRET_KEY);
        tokens(&labelled(&text))
    }

    /// `AWS_SECRET_ACCESS_KEY=…`, `aws_secret_access_key = …`, `"SecretAccessKey": "…"`, and the same
    /// for session tokens: the value after the label.
    fn labelled(text: &str) -> String {
        const LABELS: [(&str, &str); 4] = [
            ("aws_secret_access_key", SECRET_KEY),
            ("secretaccesskey", SECRET_KEY),
            ("aws_session_token", SESSION_TOKEN),
            ("sessiontoken", SESSION_TOKEN),
        ];
        let mut text = text.to_owned();
        for (label, marker) in LABELS {
            let mut from = 0;
            while let Some(at) = text[from..].to_ascii_lowercase().find(label).map(|i| from + i + label.len()) {
                let rest = &text[at..];
                let value_at = rest.len() - rest.trim_start_matches(['"', ' ', '\t', '=', ':']).len();
                let separated = rest[..value_at].contains(['=', ':']);
                let value = &rest[value_at..];
                let len = value.find(|c: char| c.is_whitespace() || "\"',}".contains(c)).unwrap_or(value.len());
                if separated && len > 0 && !value.starts_with("<redacted") {
                    text.replace_range(at + value_at..at + value_at + len, marker);
                }
                from = at;
            }
        }
        text
    }

    /// Base64 runs that are registry passwords (ECR's `{"payload":…}`) or authorization tokens
    /// (`AWS:` + password), on the mock and on AWS alike.
    fn tokens(text: &str) -> String {
        let is_base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=';
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let (mut i, mut copied) = (0, 0);
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && is_base64(bytes[i]) {
                i += 1;
            }
            if i - start >= SHORTEST_TOKEN
                && let Some(marker) = token_marker(&text[start..i])
            {
                out.push_str(&text[copied..start]);
                out.push_str(marker);
                copied = i;
            }
            i += usize::from(i == start);
        }
        out.push_str(&text[copied..]);
        out
    }

    fn token_marker(run: &str) -> Option<&'static str> {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        let decoded = GeneralPurpose::new(&base64::alphabet::STANDARD, config).decode(run).ok()?;
        if decoded.starts_with(b"AWS:") {
            Some(AUTHORIZATION_TOKEN)
        } else if decoded.starts_with(b"{") && decoded.windows(9).any(|w| w == b"\"payload\"") {
            Some(REGISTRY_PASSWORD)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Entry;

    /// `clear` in the lab shell records the terminal's clear escape; replay says so in words instead.
    #[test]
    fn replay_prints_no_raw_clear_escape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let entries = [("clear", "\x1b[H\x1b[2J"), ("echo hi", "\x1b[1mhi\x1b[0m\n")];
        let lines: Vec<String> = entries
            .iter()
            .map(|(command, output)| {
                let entry = Entry {
                    at: 0,
                    stage: "s".into(),
                    command: (*command).into(),
                    output: (*output).into(),
                    status: 0,
                    failing: None,
                };
                serde_json::to_string(&entry).unwrap()
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut out = Vec::new();
        super::replay(&path, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains('\x1b'), "no raw escape: {out:?}");
        assert_eq!(out, "── stage s ──\nlab$ clear\n   (the screen was cleared)\nlab$ echo hi\nhi\n");
        assert_eq!(std::fs::read(&path).unwrap(), before, "replay changes nothing");
    }
    use super::redact::{REGISTRY_PASSWORD, SECRET_KEY, SESSION_TOKEN};

    /// What `Writer::record` and `replay` make of one command and its output.
    fn redacted(command: &str, output: &str) -> (String, String) {
        let entry = Entry {
            at: 0,
            stage: "s".into(),
            command: command.into(),
            output: output.into(),
            status: 0,
            failing: None,
        };
        let entry = super::redact::entry(entry);
        (entry.command, entry.output)
    }

    #[test]
    fn typed_secrets_become_markers_and_leave_their_output() {
        let cases = [
            (
                "aws configure set default.aws_session_token IQoJb3JpZ2lu",
                format!("aws configure set default.aws_session_token {SESSION_TOKEN}"),
            ),
            (
                "aws --profile lab configure set aws_secret_access_key 'a b c d'",
                format!("aws --profile lab configure set aws_secret_access_key {SECRET_KEY}"),
            ),
            ("aws configure set region ap-south-1", "aws configure set region ap-south-1".to_owned()),
            (
                "export AWS_SESSION_TOKEN=\"tok en\" AWS_REGION=x",
                format!("export AWS_SESSION_TOKEN={SESSION_TOKEN} AWS_REGION=x"),
            ),
            (
                "docker login -u AWS --password s3cr3t-pw host",
                format!("docker login -u AWS --password {REGISTRY_PASSWORD} host"),
            ),
            ("docker login -u AWS -ps3cr3t-pw host", format!("docker login -u AWS -p{REGISTRY_PASSWORD} host")),
            (
                "echo -n s3cr3t-pw | docker login -u AWS --password-stdin host 2>&1",
                format!("echo -n {REGISTRY_PASSWORD} | docker login -u AWS --password-stdin host 2>&1"),
            ),
            (
                "echo s3cr3t-pw || docker login -u AWS --password-stdin host",
                "echo s3cr3t-pw || docker login -u AWS --password-stdin host".to_owned(),
            ),
            (
                "aws ecr get-login-password | docker login -u AWS --password-stdin host",
                "aws ecr get-login-password | docker login -u AWS --password-stdin host".to_owned(),
            ),
            (
                "docker login -u AWS -p $(aws ecr get-login-password) host",
                "docker login -u AWS -p $(aws ecr get-login-password) host".to_owned(),
            ),
            (
                "echo $PW | docker login -u AWS --password-stdin host",
                "echo $PW | docker login -u AWS --password-stdin host".to_owned(),
            ),
        ];
        for (typed, want) in cases {
            assert_eq!(redacted(typed, "").0, want, "{typed}");
        }
        // A typed secret echoed back in the output goes too.
        let (_, output) = redacted("docker login -u AWS -p s3cr3t-pw host", "unknown: s3cr3t-pw\n");
        assert_eq!(output, format!("unknown: {REGISTRY_PASSWORD}\n"));
    }

    #[test]
    fn printed_secrets_become_markers() {
        let (_, env) = redacted(
            "ecr-lab env",
            "export AWS_SECRET_ACCESS_KEY=0123456789abcdef0123456789abcdef01234567\nunset AWS_SESSION_TOKEN AWS_PROFILE\n",
        );
        assert_eq!(env, format!("export AWS_SECRET_ACCESS_KEY={SECRET_KEY}\nunset AWS_SESSION_TOKEN AWS_PROFILE\n"));
        let (_, json) = redacted("x", "{\"SecretAccessKey\": \"abc/def\", \"SessionToken\":\"xyz\"}");
        assert_eq!(json, format!("{{\"SecretAccessKey\": \"{SECRET_KEY}\", \"SessionToken\":\"{SESSION_TOKEN}\"}}"));
        let (_, lab) = redacted("x", mock_registry::defaults::DEFAULT_SECRET_ACCESS_KEY);
        assert_eq!(lab, SECRET_KEY);
        // A password mid-output (here through $(…)), by its shape; digests and ordinary text stay.
        let password = "eyJwYXlsb2FkIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIn0=";
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let (_, mixed) =
            redacted("echo $(aws ecr get-login-password); echo done", &format!("{password}\n{digest}\ndone\n"));
        assert_eq!(mixed, format!("{REGISTRY_PASSWORD}\n{digest}\ndone\n"));
        // A failed get-login-password keeps its error text.
        let entry = Entry {
            at: 0,
            stage: "s".into(),
            command: "aws ecr get-login-password".into(),
            output: "Unable to locate credentials\n".into(),
            status: 255,
            failing: None,
        };
        assert_eq!(super::redact::entry(entry).output, "Unable to locate credentials\n");
    }
}
