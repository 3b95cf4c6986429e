//! Transcripts: one JSON-lines file per run (stage, command, output, status, failing checks), so an
//! instructor can replay a stuck student's attempt with `ecr-lab replay FILE`.

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
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Writer {
    pub fn create(dir: &Path, lesson: &str) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let millis =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let path = dir.join(format!("{lesson}-{millis}-{}.jsonl", std::process::id()));
        let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
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
        let entry = Entry {
            at: now(),
            stage: stage.to_owned(),
            command: command.to_owned(),
            output: output.to_owned(),
            status,
            failing,
        };
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
        if entry.stage != stage {
            writeln!(out, "── stage {} ──", entry.stage)?;
            stage = entry.stage.clone();
        }
        match entry.failing {
            Some(failing) if failing.is_empty() => writeln!(out, "   ✓ checks pass")?,
            Some(failing) => writeln!(out, "   ✗ {}", failing.join("; "))?,
            None => {
                writeln!(out, "lab$ {}", entry.command)?;
                out.write_all(entry.output.as_bytes())?;
                if entry.status != 0 {
                    writeln!(out, "   (exit status {})", entry.status)?;
                }
            }
        }
    }
    Ok(())
}
