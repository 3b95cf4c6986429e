//! The durable journal: one line per [`Event`], `CRC32HEX JSON\n`, appended and fsynced before a
//! request is acknowledged. Concurrent requests share one fsync (group commit). On open, a torn last
//! line (a crash mid-write: no end of line) is cut off; damage anywhere else, a complete last
//! record with a bad checksum included, stops the open rather than guess, and [`inspect`] /
//! [`repair`] (`ecr-lab repair`) show and cut it, keeping a copy.
//!
//! The journal is cut into segments, and a snapshot of the state replaces the segments it covers
//! (see [`super::snapshot`] for the files and the order of the steps): opening reads the newest
//! intact snapshot and replays the segments after it, then the active `journal.log`.
//!
//! Records overwrite zeros written ahead of them: the active segment is extended with real zeros
//! (not `fallocate`, whose unwritten extents need a metadata commit at the first sync) by a
//! background thread, in chunks synced before the writer reaches them, so the fdatasync that
//! acknowledges a record flushes data only (an append changes the file's size, which the sync
//! must commit too: ~7× slower on the development machine's disk). The journal ends at the first
//! NUL byte where a record would start; a torn record followed by zeros is a torn tail as above,
//! and zeros followed by an intact record are damage. A clean close, and closing a segment for a
//! snapshot, cut the zeros off; after `kill -9` they stay (at most [`CHUNK`] + [`CHUNK`] / 4).
//!
//! A write that fails (a full disk) does not stop the writer: the file is cut back to its last
//! synced length, the journal is *broken* (every change queued since fails, and new appends fail
//! at once), and [`Journal::recover`] hands the caller what is on disk to rebuild memory from.
//! After that, writes go through again as soon as the disk takes them.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::snapshot::{self, Thresholds, failpoint};
use super::{Event, State};

const FILE_NAME: &str = "journal.log";
const LOCK_NAME: &str = "lock";
/// The largest extension of the active segment with zeros; a segment's first is [`FIRST_CHUNK`], and
/// each next one twice the last. The next one starts when less than a quarter of one is left.
pub const CHUNK: u64 = 4 << 20;
const FIRST_CHUNK: u64 = 64 << 10;
/// Zeros are written and synced in pieces of this size (so a record's sync that meets an
/// extension in flight flushes at most this much of it).
const PIECE: usize = 1 << 20;
/// A test hook (`ECR_LAB_FAILPOINT`, see [`super::snapshot`]): the process kills itself once a
/// piece of zeros is written ahead of the records and not yet synced.
pub const ZEROS_UNSYNCED: &str = "journal-zeros-unsynced";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}:{line}: damaged journal record ({reason}); see what `ecr-lab repair --data-dir {}` would cut (it keeps a copy), or start afresh",
        .path.parent().unwrap_or(Path::new(".")).display()
    )]
    Damaged { path: PathBuf, line: usize, reason: String },
    #[error("{0} is in use by another ecr-lab server (it holds {0}/lock); stop it, or pass another --data-dir")]
    Locked(PathBuf),
    /// Snapshots and segments that do not add up to the whole history.
    #[error(
        "{dir}: {reason}, so the state cannot be rebuilt; restore the directory from a backup, or start afresh with another --data-dir"
    )]
    Incomplete { dir: PathBuf, reason: String },
}

/// What a data directory holds: its newest intact snapshot, and the events journaled after it.
#[derive(Debug, Default)]
pub struct Loaded {
    pub snapshot: Option<State>,
    pub events: Vec<Event>,
}

struct Pending {
    buffer: Vec<u8>,
    /// Events in `buffer`.
    events: u64,
    /// Sequence number of the last record appended to `buffer` or earlier.
    appended: u64,
    /// A write failed: every sequence after `Lost::after` is lost, until [`Journal::recover`].
    broken: Option<Lost>,
    /// Sequences lost in failures already recovered from (contiguous failures merge into one).
    lost: Vec<Lost>,
    /// The journal was dropped: the writer drains what is queued, then stops.
    closed: bool,
}

/// Sequences `after+1 ..= through` never reached the disk, and why.
struct Lost {
    after: u64,
    through: u64,
    message: String,
}

impl Pending {
    /// Why `seq` will never be written, if it will not.
    fn lost(&self, seq: u64) -> Option<&str> {
        let broken = self.broken.iter().filter(|b| seq > b.after);
        let lost = self.lost.iter().filter(|l| seq > l.after && seq <= l.through);
        broken.chain(lost).map(|l| l.message.as_str()).next()
    }
}

/// The open active segment, how much of it is synced, intact records, and what is journaled since
/// the last snapshot.
struct JournalFile {
    file: File,
    good_len: u64,
    /// The number the active segment gets when it is closed.
    next_segment: u64,
    since_events: u64,
    since_bytes: u64,
    /// The directory is synced before the first write (opening may have created `journal.log`,
    /// and a record must not be acknowledged in a file whose name a power loss could take); the
    /// writer does it, so a start does not wait for an fsync.
    sync_dir_first: bool,
}

/// The zeros ahead of the writer in the active segment (see the module's documentation).
struct Space {
    /// The writer may overwrite the active segment up to here: records, then synced zeros.
    end: u64,
    /// An extension is being written after `end` (the writer waits rather than write past `end`).
    extending: bool,
    /// For the extender thread: the segment (a duplicate handle), where to start, how much.
    request: Option<(File, u64, u64)>,
    /// The size of the next extension.
    next_len: u64,
    /// An extension failed (a full disk): no other starts before this.
    retry_after: Option<Instant>,
    /// The journal is closed: the extender stops.
    closed: bool,
}

impl Space {
    fn new(end: u64) -> Self {
        Space { end, extending: false, request: None, next_len: FIRST_CHUNK, retry_after: None, closed: false }
    }
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    space: Mutex<Space>,
    space_changed: Condvar,
    /// Locked while writing; lock before `pending` when both are needed.
    file: Mutex<JournalFile>,
    dir: PathBuf,
    path: PathBuf,
    /// `pending.broken.is_some()`, readable without a lock on the write path.
    broken: AtomicBool,
    /// A write ever failed (some sequences may be lost).
    ever_broken: AtomicBool,
    /// A snapshot is being taken (one at a time).
    snapshotting: AtomicBool,
    /// The size of the newest snapshot (the journal may grow to it before the next one).
    snapshot_len: AtomicU64,
    /// Held while the snapshot thread deletes files, and while the directory is read to recover.
    files: Mutex<()>,
    thresholds: Thresholds,
    /// Tests make writes fail as on a full disk.
    #[cfg(test)]
    fail_writes: AtomicBool,
    /// Highest sequence handed to the OS (survives the process being killed).
    written: watch::Sender<u64>,
    /// Highest sequence fsynced (survives the machine losing power).
    durable: watch::Sender<u64>,
    /// Run before every sync of records and before a snapshot's: see [`Journal::set_before_sync`].
    before_sync: std::sync::OnceLock<BeforeSync>,
}

/// What must be durable before records are: the blob store's barrier (records name blobs).
pub type BeforeSync = Box<dyn Fn() -> io::Result<()> + Send + Sync>;

/// How safe a change must be before the caller may acknowledge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Written to the OS: survives `kill -9`. For steps of a larger operation whose final step
    /// waits for [`Safety::Synced`] (a blob of an image push: the manifest's fsync covers it, since
    /// the journal is synced in order).
    Written,
    /// Fsynced.
    Synced,
}

/// `dir` and its missing parents, created 0700: the journal holds the token-signing secret and every
/// key's secret. An existing directory is left as it is (it may be one the user chose).
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Files the journal creates are 0600 from the start.
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// Narrows `path` to `mode` when group or others may read it (left so by an older version).
pub(crate) fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + use<> {
    let path = path.to_path_buf();
    move |source| JournalError::Io { path, source }
}

/// A closed segment's file name.
pub(crate) fn segment_name(number: u64) -> String {
    format!("journal.{number:016}.log")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("journal.")?.strip_suffix(".log")?;
    (digits.len() == 16).then(|| digits.parse().ok()).flatten()
}

/// The snapshots and closed segments in a data directory, by number.
#[derive(Debug, Default)]
struct Layout {
    snapshots: Vec<u64>,
    segments: Vec<u64>,
    /// Snapshots' temporary files (left by a crash).
    temporary: Vec<PathBuf>,
}

impl Layout {
    fn read(dir: &Path) -> Result<Self, JournalError> {
        let mut layout = Layout::default();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(n) = parse_segment_name(name) {
                layout.segments.push(n);
            } else if let Some(n) = snapshot::parse_name(name) {
                layout.snapshots.push(n);
            } else if snapshot::is_temporary(name) {
                layout.temporary.push(entry.path());
            }
        }
        layout.segments.sort_unstable();
        layout.snapshots.sort_unstable();
        Ok(layout)
    }

    /// The highest segment number in use (a segment's or a snapshot's).
    fn last(&self) -> u64 {
        self.segments.last().copied().unwrap_or(0).max(self.snapshots.last().copied().unwrap_or(0))
    }
}

/// Where replay starts for the closed segments up to `last`: the newest intact snapshot whose
/// later segments are all there (or none, when every segment since the first is).
struct Base {
    snapshot: Option<State>,
    snapshot_len: u64,
    covers: u64,
    /// The closed segments to replay after it, in order.
    segments: Vec<u64>,
}

fn base(dir: &Path, layout: &Layout, last: u64) -> Result<Base, JournalError> {
    let mut refused = Vec::new();
    let candidates = layout.snapshots.iter().rev().copied().filter(|&n| n <= last);
    for covers in candidates.map(Some).chain([None]) {
        let after = covers.unwrap_or(0);
        let segments: Vec<u64> = layout.segments.iter().copied().filter(|&n| n > after && n <= last).collect();
        if segments.len() as u64 != last - after {
            let missing = (after + 1..=last).find(|n| segments.binary_search(n).is_err()).unwrap_or(after + 1);
            let from = covers.map_or("the start".to_owned(), snapshot::file_name);
            refused.push(format!("replaying from {from} needs {}, which is missing", segment_name(missing)));
            continue;
        }
        let Some(covers) = covers else {
            return Ok(Base { snapshot: None, snapshot_len: 0, covers: 0, segments });
        };
        match snapshot::read(dir, covers) {
            Ok((state, snapshot_len)) => return Ok(Base { snapshot: Some(state), snapshot_len, covers, segments }),
            Err(reason) => {
                tracing::warn!("{}: not trusted ({reason}); using the snapshot before it", snapshot::file_name(covers));
                refused.push(format!("{} is damaged ({reason})", snapshot::file_name(covers)));
            }
        }
    }
    Err(JournalError::Incomplete { dir: dir.to_path_buf(), reason: refused.join("; ") })
}

/// Every record of a closed segment, which must be whole (it was synced before it was closed).
fn read_closed(dir: &Path, number: u64) -> Result<(Vec<Event>, u64), JournalError> {
    let path = dir.join(segment_name(number));
    let file = File::open(&path).map_err(io_err(&path))?;
    let scan = scan(&path, &file)?;
    if let Some((line, reason)) = scan.damage {
        return Err(JournalError::Damaged { path, line, reason });
    }
    if !scan.zero_tail && scan.good_len < file.metadata().map_err(io_err(&path))?.len() {
        let line = scan.events.len() + 1;
        return Err(JournalError::Damaged { path, line, reason: "a closed segment ends in a torn record".into() });
    }
    Ok((scan.events, scan.good_len))
}

/// What replay reads after the base: the closed segments' events, then the active segment's.
#[derive(Default)]
struct Tail {
    events: Vec<Event>,
    /// Bytes of the closed segments read.
    closed_bytes: u64,
    /// Length of the active segment's intact records (a torn last record is not counted).
    active_len: u64,
    /// Only zeros follow them (or nothing).
    active_zero_tail: bool,
}

/// The segment replay would start after if the newest snapshot whose later segments are all
/// there is intact (the usual case, so it is read ahead): that snapshot's number, or 0.
fn likely_base(layout: &Layout, last: u64) -> u64 {
    let complete = |after: u64| {
        let present = layout.segments.iter().filter(|&&n| n > after && n <= last).count();
        present as u64 == last - after
    };
    let candidates = layout.snapshots.iter().rev().copied().filter(|&n| n <= last);
    candidates.chain([0]).find(|&after| complete(after)).unwrap_or(0)
}

/// The closed segments `after+1 ..= last` and then `active` (a path and its open file), read in
/// order; the first damage stops it.
fn read_tail(dir: &Path, after: u64, last: u64, active: Option<(&Path, &File)>) -> Result<Tail, JournalError> {
    let mut tail = Tail::default();
    for number in after + 1..=last {
        let (mut more, len) = read_closed(dir, number)?;
        tail.events.append(&mut more);
        tail.closed_bytes += len;
    }
    if let Some((path, file)) = active {
        let (mut more, good_len, zero_tail) = read_events(path, file)?;
        tail.events.append(&mut more);
        (tail.active_len, tail.active_zero_tail) = (good_len, zero_tail);
    }
    Ok(tail)
}

/// The base (the newest intact snapshot) and the tail after it: the closed segments after it up
/// to `last`, then `active`'s records when given. The tail is read and parsed on a second thread
/// while this one reads the snapshot, so a start waits for the longer of the two rather than their
/// sum. Errors come in the order a sequential read meets them: the base's, then the segments' in
/// order, then the active segment's.
fn load(dir: &Path, layout: &Layout, last: u64, active: Option<(&Path, &File)>) -> Result<(Base, Tail), JournalError> {
    let after = likely_base(layout, last);
    let (base, tail) = std::thread::scope(|scope| {
        let ahead = std::thread::Builder::new()
            .name("ecr-lab-load".into())
            .spawn_scoped(scope, || read_tail(dir, after, last, active));
        let base = base(dir, layout, last);
        let tail = match ahead {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => read_tail(dir, after, last, active), // no thread to spare: one after the other
        };
        (base, tail)
    });
    let base = base?;
    if base.covers == after {
        return Ok((base, tail?));
    }
    // The newest snapshot was damaged: the base is an older one, and the segments between the two
    // come before the tail read ahead.
    let mut whole = read_tail(dir, base.covers, after, None)?;
    let mut tail = tail?;
    whole.events.append(&mut tail.events);
    whole.closed_bytes += tail.closed_bytes;
    (whole.active_len, whole.active_zero_tail) = (tail.active_len, tail.active_zero_tail);
    Ok((base, whole))
}

fn lock_dir(dir: &Path) -> Result<File, JournalError> {
    let lock_path = dir.join(LOCK_NAME);
    let lock = owner_only(OpenOptions::new().create(true).truncate(false).write(true))
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    if lock.try_lock().is_err() {
        return Err(JournalError::Locked(dir.to_path_buf()));
    }
    Ok(lock)
}

/// The active segment, written at the writer's position (not appended: zeros follow the records).
fn open_active(path: &Path) -> io::Result<File> {
    owner_only(OpenOptions::new().create(true).truncate(false).read(true).write(true)).open(path)
}

/// An open journal. Appends are cheap (into memory); [`Journal::wait`] waits until they are written or fsynced.
pub struct Journal {
    shared: Arc<Shared>,
    /// Joined on drop, so the directory is released (`_lock`) only once the writer is done with it.
    writer: Option<std::thread::JoinHandle<()>>,
    _lock: File,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, returning it and the events since the newest
    /// snapshot (tests: a directory without snapshots).
    #[cfg(test)]
    pub fn open(dir: &Path) -> Result<(Self, Vec<Event>), JournalError> {
        Self::open_loaded(dir).map(|(journal, loaded)| (journal, loaded.events))
    }

    /// Opens (or creates) the journal in `dir`, returning it and what the directory holds.
    pub fn open_loaded(dir: &Path) -> Result<(Self, Loaded), JournalError> {
        create_private_dir(dir).map_err(io_err(dir))?;
        let lock = lock_dir(dir)?;
        let layout = Layout::read(dir)?;
        for temporary in &layout.temporary {
            let _ = std::fs::remove_file(temporary); // a snapshot a crash interrupted
        }
        let last = layout.last();
        let path = dir.join(FILE_NAME);
        let file = open_active(&path).map_err(io_err(&path))?;
        tighten(&path, 0o600).map_err(io_err(&path))?; // an older version's journal was 0644
        crate::startup_trace::phase("lock and list the data directory");
        let (base, tail) = load(dir, &layout, last, Some((&path, &file)))?;
        crate::startup_trace::phase("snapshot and journal read");
        let good_len = tail.active_len;
        let mut end = file.metadata().map_err(io_err(&path))?.len();
        if good_len < end && !tail.active_zero_tail {
            file.set_len(good_len).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            end = good_len;
        }
        let events = tail.events;
        let journal_file = JournalFile {
            file,
            good_len,
            next_segment: last + 1,
            since_events: events.len() as u64,
            since_bytes: tail.closed_bytes + good_len,
            sync_dir_first: true,
        };
        let (shared, writer) = Self::start(dir, path, journal_file, end, base.snapshot_len)?;
        Ok((Self { shared, writer: Some(writer), _lock: lock }, Loaded { snapshot: base.snapshot, events }))
    }

    fn start(
        dir: &Path,
        path: PathBuf,
        file: JournalFile,
        end: u64,
        snapshot_len: u64,
    ) -> Result<(Arc<Shared>, std::thread::JoinHandle<()>), JournalError> {
        let (durable, _) = watch::channel(0);
        let (written, _) = watch::channel(0);
        let pending =
            Pending { buffer: Vec::new(), events: 0, appended: 0, broken: None, lost: Vec::new(), closed: false };
        let shared = Arc::new(Shared {
            pending: Mutex::new(pending),
            wake: Condvar::new(),
            space: Mutex::new(Space::new(end)),
            space_changed: Condvar::new(),
            file: Mutex::new(file),
            dir: dir.to_path_buf(),
            path,
            broken: AtomicBool::new(false),
            ever_broken: AtomicBool::new(false),
            snapshotting: AtomicBool::new(false),
            snapshot_len: AtomicU64::new(snapshot_len),
            files: Mutex::new(()),
            thresholds: Thresholds::get(),
            #[cfg(test)]
            fail_writes: AtomicBool::new(false),
            written,
            durable,
            before_sync: std::sync::OnceLock::new(),
        });
        let extender = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ecr-lab-journal-zeros".into())
            .spawn(move || extend_loop(&extender))
            .map_err(io_err(dir))?;
        let writer = Arc::clone(&shared);
        let spawned = std::thread::Builder::new().name("ecr-lab-journal".into()).spawn(move || flush_loop(&writer));
        match spawned {
            Ok(handle) => Ok((shared, handle)),
            Err(e) => {
                stop_extender(&shared);
                Err(JournalError::Io { path: dir.to_path_buf(), source: e })
            }
        }
    }

    /// Queues events (call under the state lock, so the journal's order is the state's order).
    /// Returns the sequence number to wait for. While the journal is broken the events are
    /// dropped, and waiting for the sequence fails.
    pub fn append(&self, events: &[Event]) -> u64 {
        // Serialized before the lock is taken: the writer takes it to swap the buffer out.
        let mut records = Vec::new();
        for event in events {
            let json = serde_json::to_vec(event).expect("events serialize");
            let crc = crc32fast::hash(&json);
            records.extend_from_slice(format!("{crc:08x} ").as_bytes());
            records.extend_from_slice(&json);
            records.push(b'\n');
        }
        let mut pending = lock(&self.shared.pending);
        if pending.broken.is_some() {
            pending.appended += 1;
            return pending.appended;
        }
        pending.buffer.extend_from_slice(&records);
        pending.events += events.len() as u64;
        pending.appended += 1;
        let seq = pending.appended;
        drop(pending);
        self.shared.wake.notify_one();
        seq
    }

    /// Resolves once everything up to `seq` is on disk (for tests).
    #[cfg(test)]
    pub async fn wait_durable(&self, seq: u64) -> Result<(), String> {
        self.wait(seq, Safety::Synced).await
    }

    /// Resolves once everything up to `seq` is as safe as asked.
    pub async fn wait(&self, seq: u64, safety: Safety) -> Result<(), String> {
        let mut level = match safety {
            Safety::Written => self.shared.written.subscribe(),
            Safety::Synced => self.shared.durable.subscribe(),
        };
        loop {
            // Lost first: after a recovery, later sequences become durable past a lost one. (No
            // lock while nothing was ever lost: every waiter asks again at every batch.)
            if self.shared.ever_broken.load(Ordering::Acquire)
                && let Some(lost) = lock(&self.shared.pending).lost(seq)
            {
                return Err(lost.to_owned());
            }
            if *level.borrow_and_update() >= seq {
                return Ok(());
            }
            if level.changed().await.is_err() {
                return Err("the journal writer stopped".into());
            }
        }
    }
}

impl Journal {
    /// Whether a write failed and [`Journal::recover`] has not yet run (cheap: the write path asks
    /// on every write).
    pub fn is_broken(&self) -> bool {
        self.shared.broken.load(Ordering::Acquire)
    }

    /// After a failed write: cuts the active segment back to its synced records and returns what
    /// the directory holds (snapshot and events), to rebuild the state from (call under the state
    /// lock). `None` when nothing failed; an error (the journal stays broken) when the file cannot
    /// be cut or read.
    pub fn recover(&self) -> Result<Option<Loaded>, String> {
        if !self.is_broken() {
            return Ok(None);
        }
        let mut file = lock(&self.shared.file);
        let mut pending = lock(&self.shared.pending);
        let Some(broken) = pending.broken.take() else { return Ok(None) };
        let path = &self.shared.path;
        let read = cut_back(&self.shared, &file)
            .map_err(|e| format!("cutting {} back after a failed write: {e}", path.display()))
            .and_then(|()| self.reload(&file.file).map_err(|e| e.to_string()));
        match read {
            Ok((loaded, good_len)) => {
                file.good_len = good_len;
                let through = pending.appended;
                match pending.lost.last_mut() {
                    Some(last) if broken.after <= last.through => last.through = through,
                    _ => pending.lost.push(Lost { through, ..broken }),
                }
                self.shared.broken.store(false, Ordering::Release);
                Ok(Some(loaded))
            }
            Err(message) => {
                pending.broken = Some(broken);
                Err(message)
            }
        }
    }

    /// What the directory holds now, the active segment being `active` (under the file lock).
    fn reload(&self, active: &File) -> Result<(Loaded, u64), JournalError> {
        let _files = lock(&self.shared.files);
        let dir = &self.shared.dir;
        let layout = Layout::read(dir)?;
        let (base, tail) = load(dir, &layout, layout.last(), Some((&self.shared.path, active)))?;
        Ok((Loaded { snapshot: base.snapshot, events: tail.events }, tail.active_len))
    }

    /// Takes a snapshot now, in this thread, of everything journaled so far (after waiting for one
    /// being taken in the background). Returns whether there was anything new to cover.
    pub fn snapshot_now(&self) -> Result<bool, String> {
        let shared = &self.shared;
        while shared.snapshotting.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let closed = {
            let mut file = lock(&shared.file);
            if self.is_broken() {
                Err("a write failed; the journal is recovering".to_owned())
            } else if file.good_len > 0 {
                rotate(shared, &mut file).map_err(|e| format!("closing {}: {e}", shared.path.display()))
            } else {
                Ok(file.next_segment - 1)
            }
        };
        let taken = closed.and_then(|n| if n == 0 { Ok(false) } else { take_snapshot(shared, n) });
        shared.snapshotting.store(false, Ordering::Release);
        taken
    }

    /// Sets `barrier` (once) to run before each fdatasync of records and before a snapshot's fsync:
    /// whatever records name (blobs) is durable before they are. Its error fails the batch exactly
    /// as a failed fdatasync does.
    pub fn set_before_sync(&self, barrier: BeforeSync) {
        let _ = self.shared.before_sync.set(barrier);
    }

    /// Makes every write fail (or succeed again), as a full disk would.
    #[cfg(test)]
    pub fn fail_writes(&self, fail: bool) {
        self.shared.fail_writes.store(fail, Ordering::Release);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("journal lock")
}

impl Drop for Journal {
    fn drop(&mut self) {
        lock(&self.shared.pending).closed = true;
        self.shared.wake.notify_one();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join(); // it drains what is queued (one write and sync), then cuts the zeros
        }
    }
}

fn flush_loop(shared: &Arc<Shared>) {
    let mut stats = Stats::new();
    // Appends (requests) in the last batch, and the sequence it ended at.
    let (mut last_batch, mut last_seq) = (0, 0);
    loop {
        let (buffer, events, seq) = {
            let mut pending = lock(&shared.pending);
            while pending.buffer.is_empty() {
                if pending.closed {
                    drop(pending);
                    close(shared);
                    return;
                }
                pending = shared.wake.wait(pending).expect("journal lock");
            }
            pending = gather(shared, pending, last_seq + last_batch);
            (last_batch, last_seq) = (pending.appended - last_seq, pending.appended);
            let events = std::mem::take(&mut pending.events);
            (std::mem::take(&mut pending.buffer), events, pending.appended)
        };
        let mut file = lock(&shared.file);
        if std::mem::take(&mut file.sync_dir_first) {
            let _ = snapshot::sync_dir(&shared.dir); // make `journal.log`'s creation itself durable
        }
        let at = file.good_len;
        reserve(shared, &file.file, at + buffer.len() as u64);
        let started = stats.enabled.then(Instant::now);
        match write_batch(shared, &file.file, at, &buffer, seq) {
            Ok(()) => {
                if let Some(started) = started {
                    stats.batch(seq, started.elapsed());
                }
                file.good_len += buffer.len() as u64;
                file.since_bytes += buffer.len() as u64;
                file.since_events += events;
                shared.durable.send_replace(seq);
                maybe_snapshot(shared, &mut file);
            }
            Err(e) => {
                // Whatever part of the batch reached the file goes: no waiter was told it is saved.
                let cut = cut_back(shared, &file);
                drop(file);
                let mut message = format!("writing {}: {e}", shared.path.display());
                if let Err(e) = cut {
                    message += &format!(" (and cutting it back failed: {e})");
                }
                break_journal(shared, message);
            }
        }
    }
}

/// How long a batch may wait for more appends (see [`gather`]).
const GATHER: Duration = Duration::from_micros(500);

/// Group commit under load: when the last batch held several appends, the requests it answered
/// are likely coming back; the writer waits (at most [`GATHER`]) until as many are queued
/// (`pending.appended` reaches `target`) rather than sync the first alone. Fewer, fuller syncs
/// leave the CPU to the requests (`ECR_LAB_JOURNAL_STATS=1` showed 64 clients at 3-8 appends
/// per batch, 1,000-2,000 syncs a second, the writer idle a third of the time).
fn gather<'a>(shared: &Shared, mut pending: MutexGuard<'a, Pending>, target: u64) -> MutexGuard<'a, Pending> {
    let deadline = Instant::now() + GATHER;
    while pending.appended < target && !pending.closed && target > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        pending = shared.wake.wait_timeout(pending, left).expect("journal lock").0;
    }
    pending
}

/// `ECR_LAB_JOURNAL_STATS=1` (a diagnostic for `scripts/bench-api`): the writer prints, each second
/// it writes, how many batches it wrote and synced, how many appends (requests) each held, and how
/// long its write and sync took.
struct Stats {
    enabled: bool,
    since: Instant,
    last_seq: u64,
    batches: u64,
    appends: u64,
    largest: u64,
    busy: Duration,
}

impl Stats {
    fn new() -> Self {
        let enabled = std::env::var("ECR_LAB_JOURNAL_STATS").is_ok_and(|v| v == "1");
        Stats { enabled, since: Instant::now(), last_seq: 0, batches: 0, appends: 0, largest: 0, busy: Duration::ZERO }
    }

    fn batch(&mut self, seq: u64, took: Duration) {
        let appends = seq - self.last_seq;
        self.last_seq = seq;
        self.batches += 1;
        self.appends += appends;
        self.largest = self.largest.max(appends);
        self.busy += took;
        let elapsed = self.since.elapsed();
        if elapsed >= Duration::from_secs(1) {
            eprintln!(
                "ecr-lab journal: {:.0} batches/s, {:.1} appends per batch (largest {}), {:.0} appends/s, write+sync {:.3} ms per batch ({:.0} % of the time)",
                self.batches as f64 / elapsed.as_secs_f64(),
                self.appends as f64 / self.batches as f64,
                self.largest,
                self.appends as f64 / elapsed.as_secs_f64(),
                self.busy.as_secs_f64() * 1e3 / self.batches as f64,
                self.busy.as_secs_f64() * 100.0 / elapsed.as_secs_f64(),
            );
            *self = Stats { last_seq: seq, ..Stats::new() };
        }
    }
}

/// After a batch: when enough was journaled since the last snapshot (and none is being taken),
/// closes the active segment and starts a snapshot of it in the background.
fn maybe_snapshot(shared: &Arc<Shared>, file: &mut JournalFile) {
    let snapshot_len = shared.snapshot_len.load(Ordering::Relaxed);
    let by_events = file.since_events >= shared.thresholds.events && file.since_bytes >= snapshot_len / 8;
    if !by_events && file.since_bytes < shared.thresholds.bytes.max(snapshot_len) {
        return;
    }
    if shared.snapshotting.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return;
    }
    let closed = match rotate(shared, file) {
        Ok(closed) => closed,
        Err(e) => {
            tracing::warn!("could not close {} for a snapshot (trying again later): {e}", shared.path.display());
            (file.since_events, file.since_bytes) = (0, 0);
            shared.snapshotting.store(false, Ordering::Release);
            return;
        }
    };
    let background = Arc::clone(shared);
    let spawned = std::thread::Builder::new().name("ecr-lab-snapshot".into()).spawn(move || {
        if let Err(e) = take_snapshot(&background, closed) {
            tracing::warn!("snapshot of {} not taken (the journal keeps everything): {e}", background.dir.display());
        }
        background.snapshotting.store(false, Ordering::Release);
    });
    if spawned.is_err() {
        shared.snapshotting.store(false, Ordering::Release);
    }
}

/// Closes the active segment (it is synced): renames it to the next segment number and starts an
/// empty `journal.log`. Returns the closed segment's number.
fn rotate(shared: &Shared, file: &mut JournalFile) -> io::Result<u64> {
    let number = file.next_segment;
    let closed = shared.dir.join(segment_name(number));
    // The zeros go (not synced: if the cut is lost, readers stop at them).
    let mut space = settle(shared);
    file.file.set_len(file.good_len)?;
    space.end = file.good_len;
    std::fs::rename(&shared.path, &closed)?;
    failpoint("rotate-renamed");
    let active = match open_active(&shared.path) {
        Ok(active) => active,
        Err(e) => {
            std::fs::rename(&closed, &shared.path)?;
            return Err(e);
        }
    };
    snapshot::sync_dir(&shared.dir)?;
    *space = Space::new(0);
    file.file = active;
    file.good_len = 0;
    file.next_segment += 1;
    (file.since_events, file.since_bytes) = (0, 0);
    Ok(number)
}

/// Writes the snapshot covering the closed segments up to `covers`, from the previous snapshot and
/// the segments after it, then cuts what the previous snapshot covered. `false` when a snapshot
/// already covers them.
fn take_snapshot(shared: &Shared, covers: u64) -> Result<bool, String> {
    let dir = &shared.dir;
    let layout = Layout::read(dir).map_err(|e| e.to_string())?;
    if layout.snapshots.contains(&covers) && snapshot::read(dir, covers).is_ok() {
        return Ok(false);
    }
    let (base, tail) = load(dir, &layout, covers, None).map_err(|e| e.to_string())?;
    let state = base.snapshot.unwrap_or_default().replayed(tail.events);
    before_sync(shared).map_err(|e| format!("syncing what {} names: {e}", snapshot::file_name(covers)))?;
    let len =
        snapshot::write(dir, covers, &state).map_err(|e| format!("writing {}: {e}", snapshot::file_name(covers)))?;
    drop(state);
    shared.snapshot_len.store(len, Ordering::Relaxed);
    failpoint("snapshot-renamed");
    let _files = lock(&shared.files);
    cut(dir, base.covers).map_err(|e| format!("deleting what {} covered: {e}", snapshot::file_name(base.covers)))?;
    Ok(true)
}

/// Deletes the snapshots before the one covering `keep` and the segments it covers (they only
/// back up a newer snapshot that might be damaged; `keep`'s snapshot and what follows now do).
fn cut(dir: &Path, keep: u64) -> io::Result<()> {
    let layout = Layout::read(dir).map_err(io::Error::other)?;
    let old_snapshots = layout.snapshots.iter().filter(|&&n| n < keep).map(|&n| snapshot::file_name(n));
    let old_segments = layout.segments.iter().filter(|&&n| n <= keep).map(|&n| segment_name(n));
    let mut deleted = 0;
    for name in old_segments.chain(old_snapshots) {
        std::fs::remove_file(dir.join(name))?;
        deleted += 1;
        if deleted == 1 {
            failpoint("cut-mid");
        }
    }
    if deleted > 0 {
        snapshot::sync_dir(dir)?;
    }
    Ok(())
}

/// Writes one batch at `at` and syncs it, announcing when it is written.
fn write_batch(shared: &Shared, file: &File, at: u64, buffer: &[u8], seq: u64) -> io::Result<()> {
    #[cfg(test)]
    if shared.fail_writes.load(Ordering::Acquire) {
        return Err(io::Error::from_raw_os_error(28)); // ENOSPC
    }
    write_at(file, buffer, at)?;
    shared.written.send_replace(seq);
    before_sync(shared)?;
    file.sync_data()
}

/// Runs the barrier set by [`Journal::set_before_sync`], if any.
fn before_sync(shared: &Shared) -> io::Result<()> {
    shared.before_sync.get().map_or(Ok(()), |barrier| barrier())
}

fn write_at(file: &File, buffer: &[u8], at: u64) -> io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::write_all_at(file, buffer, at);
    #[cfg(not(unix))]
    {
        use std::io::Write as _;
        let mut file = file;
        file.seek(SeekFrom::Start(at))?;
        file.write_all(buffer)
    }
}

/// Before the writer writes up to `upto`: waits if that is past the zeros and more are being
/// written, and starts the next extension when less than a quarter of one is left.
fn reserve(shared: &Shared, file: &File, upto: u64) {
    let mut space = lock(&shared.space);
    while space.extending && upto > space.end {
        space = shared.space_changed.wait(space).expect("journal lock");
    }
    // Past the zeros (none written yet, or the last extension failed): this batch's sync commits
    // the file's new length too.
    space.end = space.end.max(upto);
    let low = space.end - upto < space.next_len / 4;
    let may = space.retry_after.is_none_or(|t| Instant::now() >= t);
    if low && may && !space.extending && !space.closed {
        let Ok(handle) = file.try_clone() else { return };
        let len = space.next_len;
        space.request = Some((handle, space.end, len));
        space.extending = true;
        space.next_len = (len * 2).min(CHUNK);
        shared.space_changed.notify_all();
    }
}

/// Waits until no extension is in flight; the writer (holding the file lock) may then change the
/// active segment's length.
fn settle(shared: &Shared) -> MutexGuard<'_, Space> {
    let mut space = lock(&shared.space);
    while space.extending {
        space = shared.space_changed.wait(space).expect("journal lock");
    }
    space
}

/// Cuts the active segment back to its synced records (zeros included), under the file lock.
fn cut_back(shared: &Shared, file: &JournalFile) -> io::Result<()> {
    let mut space = settle(shared);
    file.file.set_len(file.good_len)?;
    space.end = file.good_len;
    space.next_len = FIRST_CHUNK;
    Ok(())
}

/// The writer's last step: the zeros are cut off (a clean close leaves only records), and the
/// extender stops.
fn close(shared: &Shared) {
    let file = lock(&shared.file);
    let space = settle(shared);
    if space.end > file.good_len
        && let Err(e) = file.file.set_len(file.good_len)
    {
        tracing::warn!("{}: could not cut the zeros after the last record: {e}", shared.path.display());
    }
    drop(space);
    drop(file);
    stop_extender(shared);
}

fn stop_extender(shared: &Shared) {
    lock(&shared.space).closed = true;
    shared.space_changed.notify_all();
}

/// The extender thread: writes and syncs the zeros [`reserve`] asks for, a piece at a time.
fn extend_loop(shared: &Shared) {
    let zeros = vec![0u8; PIECE];
    loop {
        let (file, from, len) = {
            let mut space = lock(&shared.space);
            loop {
                if let Some(request) = space.request.take() {
                    break request;
                }
                if space.closed {
                    return;
                }
                space = shared.space_changed.wait(space).expect("journal lock");
            }
        };
        let mut at = from;
        let result = loop {
            if at >= from + len {
                break Ok(());
            }
            let piece = (from + len - at).min(PIECE as u64);
            let written = write_at(&file, &zeros[..piece as usize], at);
            failpoint(ZEROS_UNSYNCED);
            // This sync also flushes any record written and not yet synced: the barrier first, so
            // no record becomes durable here before the blobs it names.
            if let Err(e) = written.and_then(|()| before_sync(shared)).and_then(|()| file.sync_data()) {
                break Err(e);
            }
            at += piece;
            lock(&shared.space).end = at;
            shared.space_changed.notify_all();
        };
        let mut space = lock(&shared.space);
        if let Err(e) = result {
            tracing::warn!(
                "{}: could not write zeros ahead of the journal (trying again in a second): {e}",
                shared.path.display()
            );
            space.retry_after = Some(Instant::now() + Duration::from_secs(1));
        }
        space.extending = false;
        shared.space_changed.notify_all();
    }
}

/// Marks every change not yet synced as lost, and wakes their waiters.
fn break_journal(shared: &Shared, message: String) {
    tracing::error!("{message}");
    let mut pending = lock(&shared.pending);
    pending.buffer.clear();
    pending.events = 0;
    let after = *shared.durable.borrow();
    pending.broken = Some(Lost { after, through: u64::MAX, message });
    shared.broken.store(true, Ordering::Release);
    shared.ever_broken.store(true, Ordering::Release);
    drop(pending);
    shared.written.send_modify(|_| {});
    shared.durable.send_modify(|_| {});
}

/// Reads every whole, intact record. Returns the events, the length of the good prefix, and
/// whether only zeros follow it.
fn read_events(path: &Path, file: &File) -> Result<(Vec<Event>, u64, bool), JournalError> {
    let scan = scan(path, file)?;
    match scan.damage {
        Some((line, reason)) => Err(JournalError::Damaged { path: path.into(), line, reason }),
        None => Ok((scan.events, scan.good_len, scan.zero_tail)),
    }
}

/// A journal read up to its first damaged record.
struct Scan {
    events: Vec<Event>,
    good_len: u64,
    /// The line number and reason of the first damaged record; `None` when only a torn tail (a
    /// last line without its end of line) follows the good prefix, or nothing.
    damage: Option<(usize, String)>,
    /// Records after the good prefix (the damaged one included).
    records_after: usize,
    /// Nothing but zeros follows the good prefix (or nothing at all).
    zero_tail: bool,
}

/// Why the records end where they do, after zeros: an intact record after them is damage (zeros
/// are only ever written ahead of the writer), anything else the rest of a torn batch.
const ZEROS_THEN_RECORDS: &str = "zeros in the middle of the journal, with intact records after them";

/// `line` (read after the journal's end) ends in an intact record after its last NUL byte.
fn intact_after_zeros(line: &[u8]) -> bool {
    let start = line.iter().rposition(|&b| b == 0).map_or(0, |i| i + 1);
    line.last() == Some(&b'\n') && parse_record(&line[start..]).is_ok()
}

fn scan(path: &Path, file: &File) -> Result<Scan, JournalError> {
    let io = |source| JournalError::Io { path: path.into(), source };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut scan = Scan { events: Vec::new(), good_len: 0, damage: None, records_after: 0, zero_tail: true };
    let mut line = Vec::new();
    let mut number = 0;
    // The line where the records ended at zeros (a NUL where a record would start, or a torn one).
    let mut end = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            break;
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        if scan.damage.is_some() {
            scan.records_after += 1;
            continue;
        }
        if end.is_none() && line[0] == 0 {
            end = Some(number);
        }
        if let Some(at) = end {
            if line.iter().any(|&b| b != 0) {
                scan.zero_tail = false;
                if intact_after_zeros(&line) {
                    scan.damage = Some((at, ZEROS_THEN_RECORDS.into()));
                    scan.records_after = number - at + 1;
                }
            }
            continue;
        }
        match parse_record(&line) {
            Ok(event) if complete => {
                scan.events.push(event);
                scan.good_len += line.len() as u64;
            }
            // Only a last line cut short can be a crash mid-write; a complete line that fails its
            // checksum was written whole and damaged since (or written by something else).
            _ if !complete => {
                tracing::warn!(
                    "{}:{number}: discarding a torn last record (the write never completed)",
                    path.display()
                );
                scan.zero_tail = false;
                break;
            }
            Ok(_) => unreachable!("complete lines are handled above"),
            // NUL bytes in a record: a batch whose pages only partly reached the disk (power lost
            // before its sync); what follows is checked as after the end.
            Err(_) if line.contains(&0) => {
                tracing::warn!("{}:{number}: discarding a torn record followed by zeros", path.display());
                scan.zero_tail = false;
                end = Some(number);
                if intact_after_zeros(&line) {
                    scan.damage = Some((number, ZEROS_THEN_RECORDS.into()));
                    scan.records_after = 1;
                }
            }
            Err(reason) => {
                scan.damage = Some((number, reason));
                scan.records_after = 1;
            }
        }
    }
    Ok(scan)
}

/// What [`repair`] would cut from a data directory's damaged journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment with the first damaged record.
    pub path: PathBuf,
    /// The first damaged line (1-based) and why it is damaged.
    pub line: usize,
    pub reason: String,
    /// Intact records before it (since the snapshot replay starts from), which are kept.
    pub kept_records: usize,
    /// Records from the damaged one to the end (later segments included), which are cut.
    pub cut_records: usize,
    /// Bytes of `path` kept, and bytes cut in all.
    pub kept_bytes: u64,
    pub cut_bytes: u64,
    /// Segments after `path`, cut whole.
    pub later: Vec<PathBuf>,
}

/// The damage in `dir`'s journal, `None` when it opens as it is (a torn tail is cut on open).
/// Refuses while a server holds the directory.
pub fn inspect(dir: &Path) -> Result<Option<Damage>, JournalError> {
    let _lock = lock_dir(dir)?;
    inspect_locked(dir)
}

/// The segments replay reads after the snapshot, in order (the active one last).
fn tail_segments(dir: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let layout = Layout::read(dir)?;
    let base = base(dir, &layout, layout.last())?;
    let mut paths: Vec<PathBuf> = base.segments.iter().map(|&n| dir.join(segment_name(n))).collect();
    paths.push(dir.join(FILE_NAME));
    Ok(paths)
}

fn inspect_locked(dir: &Path) -> Result<Option<Damage>, JournalError> {
    let paths = tail_segments(dir)?;
    let mut kept_records = 0;
    for (index, path) in paths.iter().enumerate() {
        let Ok(file) = File::open(path) else { continue }; // no active segment yet
        let scan = scan(path, &file)?;
        let total = file.metadata().map_err(io_err(path))?.len();
        let closed = index + 1 < paths.len();
        let damage = match scan.damage {
            Some(damage) => damage,
            None if closed && scan.good_len < total && !scan.zero_tail => {
                (scan.events.len() + 1, "a closed segment ends in a torn record".to_owned())
            }
            None => {
                kept_records += scan.events.len();
                continue;
            }
        };
        let later = paths[index + 1..].to_vec();
        let (later_records, later_bytes) = count_records(&later)?;
        return Ok(Some(Damage {
            path: path.clone(),
            line: damage.0,
            reason: damage.1,
            kept_records: kept_records + scan.events.len(),
            cut_records: scan.records_after.max(1) + later_records,
            kept_bytes: scan.good_len,
            cut_bytes: total - scan.good_len + later_bytes,
            later: later.into_iter().filter(|p| p.exists()).collect(),
        }));
    }
    Ok(None)
}

/// Records (lines, a torn last one included) and bytes in `paths`.
fn count_records(paths: &[PathBuf]) -> Result<(usize, u64), JournalError> {
    let (mut records, mut bytes) = (0, 0);
    for path in paths {
        let Ok(data) = std::fs::read(path) else { continue };
        records += data.split(|&b| b == b'\n').filter(|line| line.iter().any(|&b| b != 0)).count();
        bytes += data.len() as u64;
    }
    Ok((records, bytes))
}

/// Cuts `damage` (as [`inspect`] found it, and only if the journal is still as it was then) after
/// copying the damaged segment to `<its name>.damaged-<unix seconds>`; later segments are moved
/// aside under the same suffix. Returns the copy's path.
pub fn repair(dir: &Path, damage: &Damage) -> Result<PathBuf, JournalError> {
    let _lock = lock_dir(dir)?;
    if inspect_locked(dir)?.as_ref() != Some(damage) {
        return Err(JournalError::Io {
            path: damage.path.clone(),
            source: io::Error::other("the journal changed since it was inspected; inspect it again"),
        });
    }
    let suffix = format!("damaged-{}", crate::clock::unix_seconds());
    let aside = |path: &Path| PathBuf::from(format!("{}.{suffix}", path.display()));
    let path = &damage.path;
    let backup = aside(path);
    std::fs::copy(path, &backup).map_err(io_err(&backup))?;
    File::open(&backup).and_then(|b| b.sync_all()).map_err(io_err(&backup))?;
    let file = OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
    file.set_len(damage.kept_bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))?;
    for later in &damage.later {
        std::fs::rename(later, aside(later)).map_err(io_err(later))?;
    }
    snapshot::sync_dir(dir).map_err(io_err(dir))?;
    Ok(backup)
}

/// Takes a snapshot of `dir` (no server may hold it) and cuts the journal it covers; returns
/// whether there was anything new to cover (`ecr-lab repair` on an undamaged directory).
pub fn compact(dir: &Path) -> Result<bool, JournalError> {
    // As a start does: links to blobs a power loss took go before the snapshot could keep them.
    crate::store::cut_links_to_lost_blobs(dir).map_err(io_err(dir))?;
    let (journal, loaded) = Journal::open_loaded(dir)?;
    // The blobs the tail links (a killed server may not have synced them) before the snapshot.
    crate::store::sync_linked(dir, &loaded.events).map_err(io_err(dir))?;
    journal.snapshot_now().map_err(|e| JournalError::Io { path: dir.to_path_buf(), source: io::Error::other(e) })
}

fn parse_record(line: &[u8]) -> Result<Event, String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    if line.len() < 9 || line[8] != b' ' {
        return Err("no checksum".into());
    }
    let expected = std::str::from_utf8(&line[..8])
        .ok()
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("bad checksum field")?;
    let json = &line[9..];
    if crc32fast::hash(json) != expected {
        return Err("checksum mismatch".into());
    }
    // UTF-8 checked once for the record, not string by string (see snapshot::read).
    let text = std::str::from_utf8(json).map_err(|e| format!("not UTF-8: {e}"))?;
    super::record::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn event(n: i64) -> Event {
        Event::ClockAdvanced { seconds: n }
    }

    #[tokio::test]
    async fn appended_events_come_back_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, events) = Journal::open(dir.path()).unwrap();
            assert!(events.is_empty());
            let seq = journal.append(&[event(1), event(2)]);
            journal.wait_durable(seq).await.unwrap();
        }
        let path = dir.path().join(FILE_NAME);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"0000abcd {\"event\":\"clock_adv").unwrap();
        drop(file);
        let (journal, events) = Journal::open(dir.path()).unwrap();
        assert_eq!(events.len(), 2);
        let seq = journal.append(&[event(3)]);
        journal.wait_durable(seq).await.unwrap();
        drop(journal);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    /// The barrier set by `set_before_sync` runs before every sync of records (it sees the batch
    /// not yet durable) and before a snapshot; when it fails, the batch fails as a failed fdatasync
    /// does: its waiter gets the error, nothing becomes durable, and the record is cut off.
    #[tokio::test]
    async fn the_before_sync_barrier_runs_before_every_sync_and_its_failure_fails_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path()).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let (durable, record, failing) = (journal.shared.durable.subscribe(), Arc::clone(&seen), Arc::clone(&fail));
        let zeros_thread = Arc::new(AtomicBool::new(false));
        let extender = Arc::clone(&zeros_thread);
        journal.set_before_sync(Box::new(move || {
            // The zeros thread's syncs (which flush written records too) run it as well.
            if std::thread::current().name() == Some("ecr-lab-journal-zeros") {
                extender.store(true, Ordering::Release);
                return Ok(());
            }
            record.lock().unwrap().push(*durable.borrow());
            match failing.load(Ordering::Acquire) {
                true => Err(io::Error::other("the blobs could not be synced")),
                false => Ok(()),
            }
        }));
        let mut seqs = Vec::new();
        for n in 1..=3 {
            let seq = journal.append(&[event(n)]);
            journal.wait_durable(seq).await.unwrap();
            seqs.push(seq);
        }
        assert_eq!(*seen.lock().unwrap(), vec![0, seqs[0], seqs[1]], "each sync's barrier ran before it, once");
        assert!(journal.snapshot_now().unwrap());
        assert_eq!(seen.lock().unwrap().len(), 4, "and before the snapshot");
        // Past the first 64 KiB of zeros, the zeros thread extends the segment and syncs.
        let mut last = 0;
        for n in 0..1_000 {
            last = journal.append(&[event(10 + n)]);
        }
        journal.wait_durable(last).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !zeros_thread.load(Ordering::Acquire) {
            assert!(std::time::Instant::now() < deadline, "the zeros thread synced without the barrier");
            std::thread::sleep(Duration::from_millis(5));
        }

        fail.store(true, Ordering::Release);
        let seq = journal.append(&[event(4)]);
        let refused = journal.wait_durable(seq).await.unwrap_err();
        assert!(refused.contains("the blobs could not be synced"), "{refused}");
        assert_eq!(*journal.shared.durable.borrow(), last, "nothing more is durable");
        assert!(journal.is_broken());
        assert_eq!(journal.recover().unwrap().unwrap().events.len(), 1_000, "the refused record is cut off");
        drop(journal);
        let (_journal, loaded) = Journal::open_loaded(dir.path()).unwrap();
        assert!(loaded.snapshot.is_some(), "the snapshot of the first three");
        assert_eq!(loaded.events.len(), 1_000, "the refused record is not on disk");
    }

    fn good(n: i64) -> String {
        let json = serde_json::to_vec(&event(n)).unwrap();
        format!("{:08x} {}\n", crc32fast::hash(&json), String::from_utf8(json).unwrap())
    }

    /// A complete last record (it has its end of line) whose checksum fails was not torn by a
    /// crash: opening refuses and changes nothing; `repair` keeps a copy and cuts it.
    #[test]
    fn a_complete_last_record_with_a_bad_checksum_is_refused_then_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let damaged = good(2).replacen("clock", "clocK", 1);
        let text = format!("{}{damaged}", good(1));
        std::fs::write(&path, &text).unwrap();
        match Journal::open(dir.path()) {
            Err(error @ JournalError::Damaged { line: 2, .. }) => {
                assert!(error.to_string().contains("ecr-lab repair --data-dir"), "{error}");
            }
            other => panic!("expected damage on line 2, got {:?}", other.map(|(_, e)| e.len())),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "nothing was cut");

        let damage = inspect(dir.path()).unwrap().expect("damage");
        assert_eq!((damage.line, damage.kept_records, damage.cut_records), (2, 1, 1));
        assert_eq!((damage.kept_bytes, damage.cut_bytes), (good(1).len() as u64, damaged.len() as u64));
        let backup = repair(dir.path(), &damage).unwrap();
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), text);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good(1));
        assert_eq!(inspect(dir.path()).unwrap(), None);
        assert_eq!(Journal::open(dir.path()).unwrap().1.len(), 1);
    }

    /// What a sequential read finds: the base, then every segment after it and the active one.
    fn read_sequentially(dir: &Path, layout: &Layout, last: u64, active: (&Path, &File)) -> (Base, Tail) {
        let base = base(dir, layout, last).unwrap();
        let mut tail = Tail::default();
        for &number in &base.segments {
            let (mut more, len) = read_closed(dir, number).unwrap();
            tail.events.append(&mut more);
            tail.closed_bytes += len;
        }
        let (mut more, good_len, zero_tail) = read_events(active.0, active.1).unwrap();
        tail.events.append(&mut more);
        (tail.active_len, tail.active_zero_tail) = (good_len, zero_tail);
        (base, tail)
    }

    /// The tail read on a second thread while the snapshot is read gives exactly what a read one
    /// after the other gives (compared as JSON), with the newest snapshot intact and damaged.
    #[tokio::test]
    async fn the_tail_read_ahead_is_what_a_sequential_read_finds() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, _) = Journal::open(dir.path()).unwrap();
            for round in 0..3 {
                let events: Vec<Event> = (1..=3).map(|n| event(round * 10 + n)).collect();
                journal.wait_durable(journal.append(&events)).await.unwrap();
                if round < 2 {
                    assert!(journal.snapshot_now().unwrap());
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        for damaged in [false, true] {
            if damaged {
                let newest = dir.path().join(snapshot::file_name(2));
                let mut bytes = std::fs::read(&newest).unwrap();
                let at = bytes.len() / 2;
                bytes[at] ^= 0x20;
                std::fs::write(&newest, bytes).unwrap();
            }
            let layout = Layout::read(dir.path()).unwrap();
            let path = dir.path().join(FILE_NAME);
            let file = File::open(&path).unwrap();
            let (base, tail) = load(dir.path(), &layout, layout.last(), Some((&path, &file))).unwrap();
            let (expected_base, expected) = read_sequentially(dir.path(), &layout, layout.last(), (&path, &file));
            assert_eq!(base.covers, if damaged { 1 } else { 2 });
            assert_eq!(base.covers, expected_base.covers);
            assert_eq!(json(&base.snapshot), json(&expected_base.snapshot));
            assert_eq!(json(&tail.events), json(&expected.events));
            assert_eq!(tail.events.len(), if damaged { 6 } else { 3 });
            assert_eq!((tail.closed_bytes, tail.active_len), (expected.closed_bytes, expected.active_len));
        }
    }

    fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    fn records(numbers: std::ops::RangeInclusive<i64>) -> String {
        numbers.map(good).collect()
    }

    fn with_zeros(text: &str, zeros: usize) -> Vec<u8> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.resize(text.len() + zeros, 0);
        bytes
    }

    /// After `kill -9` the zeros written ahead stay: opening keeps them and reads the records before
    /// them, the next records overwrite them in place, and a clean close cuts them off.
    #[tokio::test]
    async fn records_before_zeros_are_read_and_the_next_overwrite_them_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let left = with_zeros(&records(1..=2), 100_000);
        std::fs::write(&path, &left).unwrap();
        let (journal, events) = Journal::open(dir.path()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), left.len() as u64, "the zeros are kept");
        journal.wait_durable(journal.append(&[event(3)])).await.unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        let text = records(1..=3);
        assert!(on_disk.len() >= left.len() && on_disk.starts_with(text.as_bytes()));
        assert!(on_disk[text.len()..].iter().all(|&b| b == 0), "zeros after the records");
        drop(journal);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "a clean close cuts the zeros");
    }

    /// Records written by the journal leave zeros ahead of them (the extender), and the next
    /// open reads them back however far the zeros reach.
    #[tokio::test]
    async fn the_journal_writes_zeros_ahead_of_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (journal, _) = Journal::open(dir.path()).unwrap();
        for n in 1..=3 {
            journal.wait_durable(journal.append(&[event(n)])).await.unwrap();
        }
        let text = records(1..=3);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() < (text.len() as u64 + FIRST_CHUNK) / 2 {
            assert!(Instant::now() < deadline, "no zeros were written ahead");
            std::thread::sleep(Duration::from_millis(5));
        }
        let on_disk = std::fs::read(&path).unwrap();
        assert!(on_disk.starts_with(text.as_bytes()) && on_disk[text.len()..].iter().all(|&b| b == 0));
        // What a start after `kill -9` would read (the journal still open: nothing cut the zeros).
        let layout = Layout::read(dir.path()).unwrap();
        let file = File::open(&path).unwrap();
        let (_, tail) = load(dir.path(), &layout, layout.last(), Some((&path, &file))).unwrap();
        assert_eq!(json(&tail.events), json(&[event(1), event(2), event(3)]));
        assert_eq!((tail.active_len, tail.active_zero_tail), (text.len() as u64, true));
        drop(journal);
    }

    /// A batch cut short before zeros (a crash mid-write, or power lost with only some of its pages
    /// on disk): cut off on open like a torn tail, the records before it kept.
    #[test]
    fn a_torn_record_followed_by_zeros_is_cut_like_a_torn_tail() {
        let third = good(3);
        let torn_then_zeros = with_zeros(&third[..20], 5_000);
        let mut hole_in_a_record = with_zeros(&third[..20], 300);
        hole_in_a_record.extend_from_slice(&third.as_bytes()[40..]);
        hole_in_a_record.extend_from_slice(&with_zeros(&good(4)[..30], 5_000));
        for torn in [torn_then_zeros, hole_in_a_record] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE_NAME);
            let mut bytes = records(1..=2).into_bytes();
            bytes.extend_from_slice(&torn);
            std::fs::write(&path, &bytes).unwrap();
            let (journal, events) = Journal::open(dir.path()).unwrap();
            assert_eq!(json(&events), json(&[event(1), event(2)]));
            drop(journal);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), records(1..=2));
        }
    }

    /// Zeros are only ever written ahead of the writer: an intact record after them is damage,
    /// refused on open and cut by `repair`.
    #[test]
    fn zeros_followed_by_an_intact_record_are_damage() {
        for gap in ["", "\n"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE_NAME);
            let mut bytes = with_zeros(&records(1..=2), 1_000);
            bytes.extend_from_slice(format!("{gap}{}", good(3)).as_bytes());
            std::fs::write(&path, &bytes).unwrap();
            match Journal::open(dir.path()) {
                Err(JournalError::Damaged { line: 3, reason, .. }) => assert_eq!(reason, ZEROS_THEN_RECORDS),
                other => panic!("expected damage on line 3, got {:?}", other.map(|(_, e)| e.len())),
            }
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
            let damage = inspect(dir.path()).unwrap().expect("damage");
            assert_eq!((damage.line, damage.kept_records), (3, 2));
            repair(dir.path(), &damage).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), records(1..=2));
        }
    }

    /// A closed segment is cut to its records; one whose cut a power loss undid (zeros after its
    /// records) reads the same.
    #[tokio::test]
    async fn closed_segments_are_cut_to_their_records_and_read_with_zeros_too() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, _) = Journal::open(dir.path()).unwrap();
            for n in 1..=2 {
                journal.wait_durable(journal.append(&[event(n)])).await.unwrap();
            }
            assert!(journal.snapshot_now().unwrap());
            journal.wait_durable(journal.append(&[event(3)])).await.unwrap();
        }
        let closed = dir.path().join(segment_name(1));
        assert_eq!(std::fs::read_to_string(&closed).unwrap(), records(1..=2));
        std::fs::remove_file(dir.path().join(snapshot::file_name(1))).unwrap();
        std::fs::write(&closed, with_zeros(&records(1..=2), 70_000)).unwrap();
        let (_journal, events) = Journal::open(dir.path()).unwrap();
        assert_eq!(json(&events), json(&[event(1), event(2), event(3)]));
        assert_eq!(inspect_locked(dir.path()).unwrap(), None);
    }

    #[test]
    fn repair_refuses_while_a_server_holds_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (_journal, _) = Journal::open(dir.path()).unwrap();
        assert!(matches!(inspect(dir.path()), Err(JournalError::Locked(_))));
    }

    #[test]
    fn damage_in_the_middle_is_an_error_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let good = |n: i64| {
            let json = serde_json::to_vec(&event(n)).unwrap();
            format!("{:08x} {}\n", crc32fast::hash(&json), String::from_utf8(json).unwrap())
        };
        std::fs::write(&path, format!("{}00000000 {{}}\n{}", good(1), good(2))).unwrap();
        match Journal::open(dir.path()) {
            Err(JournalError::Damaged { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected damage, got {:?}", other.map(|(_, e)| e.len())),
        }
    }
}
