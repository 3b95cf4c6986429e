//! Progress: a small JSON file in the user's data directory, keyed by lesson id and stage id.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// lesson id → stage id → whether it was completed (`false`: skipped).
    lessons: BTreeMap<String, BTreeMap<String, bool>>,
}

impl Progress {
    pub fn load(path: &Path) -> Self {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension("json.partial");
        std::fs::write(&temporary, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
    }

    /// Done or skipped: the runner does not stop there again.
    pub fn is_done(&self, lesson: &str, stage: &str) -> bool {
        self.lessons.get(lesson).is_some_and(|stages| stages.contains_key(stage))
    }

    pub fn mark(&mut self, lesson: &str, stage: &str, completed: bool) {
        self.lessons.entry(lesson.to_owned()).or_default().insert(stage.to_owned(), completed);
    }

    pub fn reset(&mut self, lesson: &str) {
        self.lessons.remove(lesson);
    }
}
