//! [`Lab`]: the shared handle on the state and its journal. Reads take the lock briefly; writes
//! apply under the lock, queue their events in the journal in the same order, release the lock,
//! then wait for the fsync before the caller may acknowledge anything.

use std::path::Path;
use std::sync::{Arc, RwLock};

use crate::state::journal::{Journal, JournalError};
use crate::state::{State, StateError};

#[derive(Clone)]
pub struct Lab {
    inner: Arc<Inner>,
}

struct Inner {
    state: RwLock<State>,
    journal: Option<Journal>,
}

/// A write that the rules refused, or that the disk could not make durable.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the lab could not save the change: {0}")]
    Storage(String),
}

impl Lab {
    /// State in memory only, gone when the process ends (tests, `serve --ephemeral`).
    pub fn ephemeral() -> Self {
        let mut state = State::new(random_secret());
        state.take_outbox();
        Self { inner: Arc::new(Inner { state: RwLock::new(state), journal: None }) }
    }

    /// State kept in `dir`: replays what is there, or starts a new lab there.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        let (journal, events) = Journal::open(dir)?;
        let state = if events.is_empty() {
            let mut state = State::new(random_secret());
            let first = state.take_outbox();
            journal.append(&first);
            state
        } else {
            State::replay(events)
        };
        Ok(Self { inner: Arc::new(Inner { state: RwLock::new(state), journal: Some(journal) }) })
    }

    pub fn is_durable(&self) -> bool {
        self.inner.journal.is_some()
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `f` on the state; once it returns, whatever it changed is durable (or this is an error).
    pub async fn write<T>(&self, f: impl FnOnce(&mut State) -> Result<T, StateError>) -> Result<T, LabError> {
        let (result, seq) = {
            let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut state);
            let events = state.take_outbox();
            let seq = match (&self.inner.journal, events.is_empty()) {
                (Some(journal), false) => Some(journal.append(&events)),
                _ => None,
            };
            (result, seq)
        };
        if let (Some(journal), Some(seq)) = (&self.inner.journal, seq) {
            journal.wait_durable(seq).await.map_err(LabError::Storage)?;
        }
        Ok(result?)
    }
}

fn random_secret() -> Vec<u8> {
    let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
    secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    secret
}
