//! [`Lab`]: the shared handle on the state, its journal, the blob store and the request log.
//! Reads take the lock briefly; writes apply under the lock, queue their events in the journal in
//! the same order, release the lock, then wait for the fsync before the caller may acknowledge.
//! Image scans run on the lab's scanner thread: every `ScanStarted` event queues one, and its
//! result comes back as a write of its own.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::request_log::RequestLog;
use crate::scan::layers::Limits;
use crate::state::journal::{Journal, JournalError, Safety};
use crate::state::token::TokenClaims;
use crate::state::{Event, RegistryKey, State, StateError};
use crate::store::BlobStore;
use crate::types::{Digest, Millis, RepositoryName};

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
    /// Scans for the scanner thread, which stops when the lab is dropped.
    scans: Mutex<Sender<ScanJob>>,
    scan_limits: RwLock<Limits>,
}

/// A started scan: which image, and when it started (so a stale result is not recorded).
type ScanJob = (RegistryKey, RepositoryName, Digest, Millis);

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
        let lab = Self::assemble(state, Some(journal), store);
        // Scans the server was running when it stopped start again.
        for job in lab.read(State::scans_in_progress) {
            lab.queue_scan(job);
        }
        Ok(lab)
    }

    fn assemble(state: State, journal: Option<Journal>, store: BlobStore) -> Self {
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let (sender, receiver) = std::sync::mpsc::channel();
            let scanner = weak.clone();
            std::thread::Builder::new()
                .name("ecr-lab-scanner".into())
                .spawn(move || scan_loop(&scanner, &receiver))
                .expect("the scanner thread starts");
            Inner {
                state: RwLock::new(state),
                journal,
                store,
                log: RequestLog::default(),
                tokens: Mutex::new(HashMap::new()),
                scans: Mutex::new(sender),
                scan_limits: RwLock::new(Limits::default()),
            }
        });
        Self { inner }
    }

    /// How much a scan may read (tests lower it to feed the scanner a decompression bomb).
    pub fn set_scan_limits(&self, limits: Limits) {
        *self.inner.scan_limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    fn queue_scan(&self, job: ScanJob) {
        let _ = self.inner.scans.lock().unwrap_or_else(|e| e.into_inner()).send(job);
    }

    /// Queues the scans that `events` started.
    fn queue_started_scans(&self, events: &[Event]) {
        for event in events {
            if let Event::ScanStarted { registry, name, digest, at } = event {
                self.queue_scan((registry.clone(), name.clone(), digest.clone(), *at));
            }
        }
    }

    /// Runs one scan on this thread and records its result (journaled; not awaited: nobody is
    /// waiting to acknowledge it, and a result lost in a crash is redone on restart).
    fn run_scan(&self, (registry, name, digest, started_at): ScanJob) {
        let manifest = self.read(|state| {
            let scan = state.repository(&registry, &name).ok()?.scans.get(&digest)?;
            let image = state.repository(&registry, &name).ok()?.images.get(&digest)?;
            (scan.started_at == started_at && scan.result.is_none()).then(|| image.manifest.clone())
        });
        let Some(manifest) = manifest else { return };
        let limits = *self.inner.scan_limits.read().unwrap_or_else(|e| e.into_inner());
        let store = &self.inner.store;
        let result = crate::scan::scan_image(&manifest, |d| std::fs::File::open(store.path(d)), &limits);
        let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
        let _ = state.finish_image_scan(&registry, &name, &digest, started_at, result);
        let events = state.take_outbox();
        if let (Some(journal), false) = (&self.inner.journal, events.is_empty()) {
            journal.append(&events);
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
        let (result, seq, events) = {
            let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut state);
            let events = state.take_outbox();
            let seq = match (&self.inner.journal, events.is_empty()) {
                (Some(journal), false) => Some(journal.append(&events)),
                _ => None,
            };
            (result, seq, events)
        };
        self.queue_started_scans(&events);
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

/// The scanner thread: one scan at a time, off the async runtime; ends with the lab.
fn scan_loop(lab: &Weak<Inner>, jobs: &Receiver<ScanJob>) {
    while let Ok(job) = jobs.recv() {
        let Some(inner) = lab.upgrade() else { return };
        Lab { inner }.run_scan(job);
    }
}

fn random_secret() -> Vec<u8> {
    let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
    secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    secret
}
