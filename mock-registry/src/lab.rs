//! [`Lab`]: the shared handle on the state, its journal, the blob store and the request log.
//! Reads take the lock briefly; writes apply under the lock, queue their events in the journal in
//! the same order, release the lock, then wait for the fsync before the caller may acknowledge.
//! A write the journal cannot save (a full disk) is refused, and memory is rebuilt from the journal
//! before the refusal is answered and before any other write applies: memory never holds a change
//! the disk does not. The hot path pays one atomic load for this; only a failure replays.
//! A finished blob upload goes through [`Lab::commit_blob`]: into the store first, then linked in
//! the journal, for the registry and the ECR layer API alike. Image scans run on the lab's scanner
//! thread: every `ScanStarted` event queues one, and its result comes back as a write of its own.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::class::ClassConfig;
use crate::request_log::RequestLog;
use crate::scan::layers::Limits;
use crate::state::journal::{Journal, JournalError, Loaded, Safety};
use crate::state::snapshot::failpoint;
use crate::state::token::TokenClaims;
use crate::state::{Event, RegistryKey, State, StateError};
use crate::store::{BlobStore, StoreError, UploadGuard};
use crate::types::{Digest, Millis, RepositoryName};

/// `ECR_LAB_FAILPOINT` step (a crash test): the process is killed between the two halves of a blob
/// commit, the blob renamed into the store (not yet synced) and its link not yet journaled.
pub(crate) const BLOB_STORED_FAILPOINT: &str = "blob-stored";

/// How many verified registry credentials are remembered (each is re-checked for expiry on use).
const TOKEN_CACHE_SIZE: usize = 4096;

/// How long a connection may wait for the client's next request (after a response, or after it
/// was opened) before the server closes it: idle keep-alive sockets cannot pile up until the
/// process runs out of file descriptors. Only the wait between requests counts; a request whose
/// bytes are arriving, or that the server is answering, is not cut by it.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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
    /// How long [`serve`](crate::serve) keeps a connection that waits for its next request.
    idle_timeout: RwLock<std::time::Duration>,
    /// Class mode, when `ecr-lab class serve` set it (not journaled: given at every start).
    class: RwLock<Option<Arc<ClassConfig>>>,
    class_runtime: crate::class::Runtime,
    /// The bundled public registries pull through cache rules fetch from (not journaled: handed
    /// over at every start).
    upstream: crate::upstream::Upstream,
}

/// See [`Lab::closing`]; it does not keep the lab open.
#[derive(Clone)]
pub(crate) struct Closing(Weak<Inner>);

impl Closing {
    pub(crate) fn is_closed(&self) -> bool {
        self.0.strong_count() == 0
    }
}

/// A started scan: which image, and when it started (so a stale result is not recorded).
type ScanJob = (RegistryKey, RepositoryName, Digest, Millis);

/// Why [`Lab::commit_blob`] failed: the upload (nothing stored), or the link (the blob is stored
/// but not in the repository; a retry links it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lab(#[from] LabError),
}

/// A write that the rules refused, or that the disk could not make durable.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    State(#[from] StateError),
    /// The whole text for the client (ECR's ServerException, the registry's UNKNOWN): see [`LabError::storage`].
    #[error("{0}")]
    Storage(String),
}

impl LabError {
    /// A change the journal could not save: what happened and what to do next.
    fn storage(cause: String) -> Self {
        Self::Storage(format!(
            "the lab could not save the change, so it was not made ({cause}); free disk space for the lab's data directory and try again"
        ))
    }
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
        // A journal not closed cleanly loses its links to blobs a power loss took (store.rs).
        crate::store::cut_links_to_lost_blobs(dir).map_err(|source| JournalError::Io { path: dir.into(), source })?;
        let (journal, loaded) = Journal::open_loaded(dir)?;
        Self::open_journal(dir, journal, loaded)
    }

    /// [`Lab::open`] on an opened journal and what its directory held.
    fn open_journal(dir: &Path, journal: Journal, loaded: Loaded) -> Result<Self, JournalError> {
        let linked = crate::store::linked_digests(&loaded.events);
        let state = if loaded.snapshot.is_none() && loaded.events.is_empty() {
            let mut state = State::new(random_secret());
            let first = state.take_outbox();
            journal.append(&first);
            state
        } else {
            State::loaded(loaded)
        };
        crate::startup_trace::phase("journal replayed onto the snapshot");
        let store = BlobStore::open(dir).map_err(|source| JournalError::Io { path: dir.to_path_buf(), source })?;
        // Blobs the journal's tail links may be unsynced (a killed process); the store syncs them
        // in the background, and before the journal's next sync or snapshot.
        store.queue_sync(&linked);
        journal.set_before_sync(Box::new(store.barrier()));
        crate::startup_trace::phase("blob store opened");
        let lab = Self::assemble(state, Some(journal), store);
        // Scans the server was running when it stopped start again.
        for job in lab.read(State::scans_in_progress) {
            lab.queue_scan(job);
        }
        crate::startup_trace::phase("lab assembled, scans queued");
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
                idle_timeout: RwLock::new(IDLE_TIMEOUT),
                class: RwLock::new(None),
                class_runtime: crate::class::Runtime::default(),
                upstream: crate::upstream::Upstream::default(),
            }
        });
        Self { inner }
    }

    /// A handle that tells when this lab is closed: every clone dropped, its journal cut to its
    /// records and unlocked.
    pub(crate) fn closing(&self) -> Closing {
        Closing(Arc::downgrade(&self.inner))
    }

    /// How much a scan may read (tests lower it to feed the scanner a decompression bomb).
    pub fn set_scan_limits(&self, limits: Limits) {
        *self.inner.scan_limits.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    /// How long [`serve`](crate::serve) keeps a connection that is waiting for the client's next
    /// request ([`IDLE_TIMEOUT`](crate::IDLE_TIMEOUT) unless set; tests shorten it). Takes effect
    /// for servers started afterwards.
    pub fn set_idle_timeout(&self, timeout: std::time::Duration) {
        *self.inner.idle_timeout.write().unwrap_or_else(|e| e.into_inner()) = timeout;
    }

    /// Puts the lab in class mode: `/class/` answers, `/_lab/` wants the instructor token from
    /// every caller and the console wants a sign-in on loopback too.
    pub fn set_class(&self, config: ClassConfig) {
        *self.inner.class.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(config));
    }

    /// The class this lab runs, if it is in class mode.
    pub fn class(&self) -> Option<Arc<ClassConfig>> {
        self.inner.class.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn class_runtime(&self) -> &crate::class::Runtime {
        &self.inner.class_runtime
    }

    pub(crate) fn idle_timeout(&self) -> std::time::Duration {
        *self.inner.idle_timeout.read().unwrap_or_else(|e| e.into_inner())
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
        if self.recover(&mut state).is_err() {
            return; // the disk still refuses; recovery queues the scan again
        }
        let _ = state.finish_image_scan(&registry, &name, &digest, started_at, result);
        let events = state.take_outbox();
        if let (Some(journal), false) = (&self.inner.journal, events.is_empty()) {
            journal.append(&events);
        }
    }

    /// Takes a snapshot of the state now and cuts the journal it covers (a clean stop does, so the
    /// next start replays nothing). Blocks: call it off the async runtime's threads, or at the end.
    /// Returns whether there was anything new to cover; ephemeral labs have nothing to snapshot.
    pub fn snapshot(&self) -> Result<bool, String> {
        match &self.inner.journal {
            Some(journal) => journal.snapshot_now(),
            None => Ok(false),
        }
    }

    /// Makes journal writes fail as on a full disk (or succeed again).
    #[cfg(test)]
    pub(crate) fn fail_writes_for_tests(&self, fail: bool) {
        if let Some(journal) = &self.inner.journal {
            journal.fail_writes(fail);
        }
    }

    /// The bundled upstream registries: publish images here for pull through cache rules to fetch.
    pub fn upstream(&self) -> &crate::upstream::Upstream {
        &self.inner.upstream
    }

    pub fn is_durable(&self) -> bool {
        self.inner.journal.is_some()
    }

    /// The blob store, told the lab clock first (uploads expire by it).
    pub(crate) fn store(&self) -> &BlobStore {
        self.inner.store.tick(self.read(|s| s.now()));
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
            self.recover(&mut state)?;
            let result = f(&mut state);
            let events = state.take_outbox();
            let seq = match (&self.inner.journal, events.is_empty()) {
                (Some(journal), false) => Some(journal.append(&events)),
                _ => None,
            };
            (result, seq, events)
        };
        self.queue_started_scans(&events);
        if let (Some(journal), Some(seq)) = (&self.inner.journal, seq)
            && let Err(message) = journal.wait(seq, safety).await
        {
            // This change (and any applied after it) is not on disk: memory goes back to the disk
            // before the refusal is answered. If that fails too, the next write retries it.
            let _ = self.recover(&mut self.inner.state.write().unwrap_or_else(|e| e.into_inner()));
            return Err(LabError::storage(message));
        }
        Ok(result?)
    }

    /// After a write the journal could not save: rebuilds `state` from the journal (held under the
    /// state lock, so no write applies on top of a change that is not on disk) and restarts the
    /// scans that were in progress there. Nothing to do while the journal is whole.
    fn recover(&self, state: &mut State) -> Result<(), LabError> {
        let Some(journal) = self.inner.journal.as_ref().filter(|j| j.is_broken()) else { return Ok(()) };
        let Some(mut loaded) = journal.recover().map_err(LabError::storage)? else { return Ok(()) };
        if loaded.snapshot.is_none() && loaded.events.is_empty() {
            // Not even the first record reached the disk: it goes again, with the same secret.
            loaded.events.push(Event::Initialized { token_secret: hex::encode(state.token_secret()) });
            journal.append(&loaded.events);
        }
        *state = state.rebuilt(loaded);
        tracing::warn!("a change could not be saved; the state was rebuilt from the journal");
        for job in state.scans_in_progress() {
            self.queue_scan(job);
        }
        Ok(())
    }

    /// Commits an upload as `digest` and links the blob into its repository: the blob is renamed
    /// into the store first (a `kill -9` keeps it), and the journal's barrier syncs it before any
    /// sync of the link record, so the journal never names a blob a power loss could take. `safety`
    /// is how durable the link must be before this returns (a registry blob is one step of a push).
    pub(crate) async fn commit_blob(
        &self,
        upload: UploadGuard<'_>,
        digest: &Digest,
        safety: Safety,
    ) -> Result<u64, CommitError> {
        let (registry, name) = (upload.registry().clone(), upload.repository().clone());
        let size = self.inner.store.commit(upload, digest).await?;
        failpoint(BLOB_STORED_FAILPOINT);
        self.write_with(safety, |s| s.link_blob(&registry, &name, digest.clone(), size)).await?;
        Ok(size)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{DEFAULT_ACCOUNT, NewRepository};
    use crate::types::{AccountId, Region};

    fn registry() -> RegistryKey {
        RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("ap-south-1").unwrap())
    }

    async fn create(lab: &Lab, name: &str) -> Result<(), LabError> {
        let new = NewRepository::with_defaults(RepositoryName::parse(name).unwrap());
        lab.write(|s| s.create_repository(&registry(), new).map(|_| ())).await
    }

    fn names(lab: &Lab) -> Vec<String> {
        lab.read(|s| s.repositories(&registry()).map(|r| r.name.to_string()).collect())
    }

    fn fail_writes(lab: &Lab, fail: bool) {
        lab.inner.journal.as_ref().unwrap().fail_writes(fail);
    }

    #[tokio::test]
    async fn a_write_the_journal_cannot_save_is_refused_and_memory_holds_only_what_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        create(&lab, "kept").await.unwrap();

        fail_writes(&lab, true);
        let refused = create(&lab, "lost").await.unwrap_err();
        assert!(matches!(&refused, LabError::Storage(m) if m.contains("No space left on device")), "{refused}");
        assert!(refused.to_string().contains("so it was not made"), "{refused}");
        assert_eq!(names(&lab), ["kept"], "a refused create is not in memory");
        // Concurrent writes that share the failed batch are all refused, and none stays in memory.
        let (a, b, c) = tokio::join!(create(&lab, "aa"), create(&lab, "bb"), create(&lab, "cc"));
        assert!(a.is_err() && b.is_err() && c.is_err());
        let kept = RepositoryName::parse("kept").unwrap();
        let deleted = lab.write(|s| s.delete_repository(&registry(), &kept, false).map(|_| ())).await;
        assert!(matches!(deleted, Err(LabError::Storage(_))));
        assert_eq!(names(&lab), ["kept"], "a refused delete leaves the repository");

        // Space returns: the same lab takes writes again, without a restart.
        fail_writes(&lab, false);
        create(&lab, "after").await.unwrap();
        assert_eq!(names(&lab), ["after", "kept"]);
        drop(lab);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!(names(&reopened), ["after", "kept"], "the journal holds exactly what was acknowledged");
    }

    /// A killed server may not have synced the blobs its last records link: a lab opened on the
    /// directory queues the blobs the journal's tail links, and its barrier syncs them.
    #[tokio::test]
    async fn a_reopened_lab_syncs_the_blobs_its_journal_tail_links() {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::open(dir.path()).unwrap();
        create(&lab, "test").await.unwrap();
        let (bytes, name) = (b"a blob linked in the tail".to_vec(), RepositoryName::parse("test").unwrap());
        let digest = Digest::sha256_of(&bytes);
        std::fs::write(lab.inner.store.path(&digest), &bytes).unwrap();
        lab.write(|s| s.link_blob(&registry(), &name, digest.clone(), bytes.len() as u64)).await.unwrap();
        drop(lab);
        std::thread::sleep(std::time::Duration::from_millis(50));

        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!(reopened.inner.store.sync_counts().0, 1, "the tail's one link is queued");
        reopened.inner.store.barrier()().unwrap();
        assert_eq!(reopened.inner.store.sync_counts(), (1, 1));
    }

    #[tokio::test]
    async fn a_lab_whose_first_record_was_lost_writes_it_again_with_the_same_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, loaded) = Journal::open_loaded(dir.path()).unwrap();
        journal.fail_writes(true);
        let lab = Lab::open_journal(dir.path(), journal, loaded).unwrap();
        let secret = lab.read(|s| s.token_secret().to_vec());
        assert!(create(&lab, "lost").await.is_err());
        // The refusal rebuilt the state and queued the first record again, which the full disk
        // refuses too. A write appended while that batch is being refused is refused with it, so
        // the disk gets its space back only once the journal has broken again.
        let journal = lab.inner.journal.as_ref().unwrap();
        for _ in 0..1000 {
            if journal.is_broken() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(journal.is_broken(), "the first record, queued again, is refused while the disk is full");
        fail_writes(&lab, false);
        create(&lab, "saved").await.unwrap();
        drop(lab);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let reopened = Lab::open(dir.path()).unwrap();
        assert_eq!(names(&reopened), ["saved"]);
        assert_eq!(reopened.read(|s| s.token_secret().to_vec()), secret, "registry passwords stay valid");
        assert!(reopened.read(|s| s.key(crate::state::DEFAULT_ACCESS_KEY_ID).is_some()), "the default key is there");
    }

    #[tokio::test]
    async fn a_sequence_lost_in_a_failure_stays_lost_after_later_writes_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path()).unwrap();
        journal.fail_writes(true);
        let lost = journal.append(&[Event::ClockAdvanced { seconds: 1 }]);
        assert!(journal.wait(lost, Safety::Synced).await.is_err());
        assert!(journal.is_broken());
        let refused = journal.append(&[Event::ClockAdvanced { seconds: 2 }]);
        assert_eq!(journal.recover().unwrap().unwrap().events.len(), 0, "nothing reached the file");
        journal.fail_writes(false);
        let saved = journal.append(&[Event::ClockAdvanced { seconds: 3 }]);
        journal.wait(saved, Safety::Synced).await.unwrap();
        assert!(journal.wait(lost, Safety::Synced).await.is_err());
        assert!(journal.wait(refused, Safety::Written).await.is_err());
        assert!(journal.recover().unwrap().is_none(), "nothing to recover while whole");
    }
}
