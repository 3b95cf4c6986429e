//! [`Lab`]: the shared handle on the state, its journal, the blob store and the request log.
//! Reads take the lock briefly; writes apply under the lock, queue their events in the journal in
//! the same order, release the lock, then wait for the fsync before the caller may acknowledge.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use crate::request_log::RequestLog;
use crate::state::journal::{Journal, JournalError, Safety};
use crate::state::token::TokenClaims;
use crate::state::{State, StateError};
use crate::store::BlobStore;

/// How many verified registry credentials are remembered (each is re-checked for expiry on use).
const TOKEN_CACHE_SIZE: usize = 4096;

#[derive(Clone)]
pub struct Lab {
    inner: Arc<Inner>,
}

struct Inner {
    state: RwLock<State>,
    journal: Option<Journal>,
    store: BlobStore,
    log: RequestLog,
    tokens: Mutex<HashMap<String, TokenClaims>>,
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
    /// State in memory and blobs in a temporary directory, all gone when the lab is dropped
    /// (tests, `serve --ephemeral`).
    pub fn ephemeral() -> std::io::Result<Self> {
        let mut state = State::new(random_secret());
        state.take_outbox();
        Ok(Self::assemble(state, None, BlobStore::temporary()?))
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
        let store = BlobStore::open(dir).map_err(|source| JournalError::Io { path: dir.to_path_buf(), source })?;
        Ok(Self::assemble(state, Some(journal), store))
    }

    fn assemble(state: State, journal: Option<Journal>, store: BlobStore) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: RwLock::new(state),
                journal,
                store,
                log: RequestLog::default(),
                tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn is_durable(&self) -> bool {
        self.inner.journal.is_some()
    }

    pub fn store(&self) -> &BlobStore {
        &self.inner.store
    }

    pub fn log(&self) -> &RequestLog {
        &self.inner.log
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `f` on the state; once it returns, whatever it changed is durable (or this is an error).
    pub async fn write<T>(&self, f: impl FnOnce(&mut State) -> Result<T, StateError>) -> Result<T, LabError> {
        self.write_with(Safety::Synced, f).await
    }

    /// [`Lab::write`], acknowledging once the change would survive the process being killed; a
    /// later synced write makes it survive power loss too (the journal is synced in order).
    pub async fn write_step<T>(&self, f: impl FnOnce(&mut State) -> Result<T, StateError>) -> Result<T, LabError> {
        self.write_with(Safety::Written, f).await
    }

    async fn write_with<T>(
        &self,
        safety: Safety,
        f: impl FnOnce(&mut State) -> Result<T, StateError>,
    ) -> Result<T, LabError> {
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
            journal.wait(seq, safety).await.map_err(LabError::Storage)?;
        }
        Ok(result?)
    }

    pub(crate) fn cached_token(&self, credentials: &str) -> Option<TokenClaims> {
        self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(credentials).cloned()
    }

    pub(crate) fn cache_token(&self, credentials: &str, claims: TokenClaims) {
        let mut tokens = self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= TOKEN_CACHE_SIZE {
            tokens.clear();
        }
        tokens.insert(credentials.to_owned(), claims);
    }
}

fn random_secret() -> Vec<u8> {
    let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
    secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    secret
}
