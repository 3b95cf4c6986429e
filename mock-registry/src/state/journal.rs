//! The durable journal: one line per [`Event`], `CRC32HEX JSON\n`, appended and fsynced before a
//! request is acknowledged. Concurrent requests share one fsync (group commit). On open, a torn last
//! line (a crash mid-write: no end of line) is cut off; damage anywhere else, a complete last
//! record with a bad checksum included, stops the open rather than guess, and [`inspect`] /
//! [`repair`] (`ecr-lab repair`) show and cut it, keeping a copy.
//!
//! A write that fails (a full disk) does not stop the writer: the file is cut back to its last
//! synced length, the journal is *broken* (every change queued since fails, and new appends fail
//! at once), and [`Journal::recover`] hands the caller the events on disk to rebuild memory from.
//! After that, writes go through again as soon as the disk takes them.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::watch;

use super::Event;

const FILE_NAME: &str = "journal.log";
const LOCK_NAME: &str = "lock";

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
}

struct Pending {
    buffer: Vec<u8>,
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

/// The open file and how much of it is synced, intact records.
struct JournalFile {
    file: File,
    good_len: u64,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Locked while writing; lock before `pending` when both are needed.
    file: Mutex<JournalFile>,
    path: PathBuf,
    /// `pending.broken.is_some()`, readable without a lock on the write path.
    broken: AtomicBool,
    /// Tests make writes fail as on a full disk.
    #[cfg(test)]
    fail_writes: AtomicBool,
    /// Highest sequence handed to the OS (survives the process being killed).
    written: watch::Sender<u64>,
    /// Highest sequence fsynced (survives the machine losing power).
    durable: watch::Sender<u64>,
}

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

/// An open journal. Appends are cheap (into memory); [`Journal::wait`] waits until they are written or fsynced.
pub struct Journal {
    shared: Arc<Shared>,
    _lock: File,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, returning it and the events it already holds.
    pub fn open(dir: &Path) -> Result<(Self, Vec<Event>), JournalError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| JournalError::Io { path, source }
        };
        create_private_dir(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK_NAME);
        let lock = owner_only(OpenOptions::new().create(true).truncate(false).write(true))
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(JournalError::Locked(dir.to_path_buf()));
        }
        let path = dir.join(FILE_NAME);
        let mut file = owner_only(OpenOptions::new().create(true).truncate(false).read(true).append(true))
            .open(&path)
            .map_err(io_err(&path))?;
        tighten(&path, 0o600).map_err(io_err(&path))?; // an older version's journal was 0644
        let (events, good_len) = read_events(&path, &file)?;
        if good_len < file.metadata().map_err(io_err(&path))?.len() {
            file.set_len(good_len).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
        }
        file.seek(SeekFrom::End(0)).map_err(io_err(&path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all(); // make the file's creation itself durable
        }
        let (durable, _) = watch::channel(0);
        let (written, _) = watch::channel(0);
        let pending = Pending { buffer: Vec::new(), appended: 0, broken: None, lost: Vec::new(), closed: false };
        let shared = Arc::new(Shared {
            pending: Mutex::new(pending),
            wake: Condvar::new(),
            file: Mutex::new(JournalFile { file, good_len }),
            path,
            broken: AtomicBool::new(false),
            #[cfg(test)]
            fail_writes: AtomicBool::new(false),
            written,
            durable,
        });
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ecr-lab-journal".into())
            .spawn(move || flush_loop(&writer))
            .map_err(io_err(dir))?;
        Ok((Self { shared, _lock: lock }, events))
    }

    /// Queues events (call under the state lock, so the journal's order is the state's order).
    /// Returns the sequence number to wait for. While the journal is broken the events are
    /// dropped, and waiting for the sequence fails.
    pub fn append(&self, events: &[Event]) -> u64 {
        let mut pending = self.shared.pending.lock().expect("journal lock");
        if pending.broken.is_some() {
            pending.appended += 1;
            return pending.appended;
        }
        for event in events {
            let json = serde_json::to_vec(event).expect("events serialize");
            let crc = crc32fast::hash(&json);
            pending.buffer.extend_from_slice(format!("{crc:08x} ").as_bytes());
            pending.buffer.extend_from_slice(&json);
            pending.buffer.push(b'\n');
        }
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
            // Lost first: after a recovery, later sequences become durable past a lost one.
            if let Some(lost) = lock(&self.shared.pending).lost(seq) {
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

    /// After a failed write: cuts the file back to its synced records and returns every event in
    /// it, to rebuild the state from (call under the state lock). `None` when nothing failed; an
    /// error (the journal stays broken) when the file cannot be cut or read.
    pub fn recover(&self) -> Result<Option<Vec<Event>>, String> {
        if !self.is_broken() {
            return Ok(None);
        }
        let mut file = lock(&self.shared.file);
        let mut pending = lock(&self.shared.pending);
        let Some(broken) = pending.broken.take() else { return Ok(None) };
        let path = &self.shared.path;
        let read = file
            .file
            .set_len(file.good_len)
            .map_err(|e| format!("cutting {} back after a failed write: {e}", path.display()))
            .and_then(|()| read_events(path, &file.file).map_err(|e| e.to_string()));
        match read {
            Ok((events, good_len)) => {
                file.good_len = good_len;
                let through = pending.appended;
                match pending.lost.last_mut() {
                    Some(last) if broken.after <= last.through => last.through = through,
                    _ => pending.lost.push(Lost { through, ..broken }),
                }
                self.shared.broken.store(false, Ordering::Release);
                Ok(Some(events))
            }
            Err(message) => {
                pending.broken = Some(broken);
                Err(message)
            }
        }
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
        self.shared.pending.lock().expect("journal lock").closed = true;
        self.shared.wake.notify_one();
    }
}

fn flush_loop(shared: &Shared) {
    loop {
        let (buffer, seq) = {
            let mut pending = lock(&shared.pending);
            while pending.buffer.is_empty() {
                if pending.closed {
                    return;
                }
                pending = shared.wake.wait(pending).expect("journal lock");
            }
            (std::mem::take(&mut pending.buffer), pending.appended)
        };
        let mut file = lock(&shared.file);
        match write_batch(shared, &mut file.file, &buffer, seq) {
            Ok(()) => {
                file.good_len += buffer.len() as u64;
                drop(file);
                shared.durable.send_replace(seq);
            }
            Err(e) => {
                // Whatever part of the batch reached the file goes: no waiter was told it is saved.
                let cut = file.file.set_len(file.good_len);
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

/// Writes one batch and syncs it, announcing when it is written.
fn write_batch(shared: &Shared, file: &mut File, buffer: &[u8], seq: u64) -> io::Result<()> {
    #[cfg(test)]
    if shared.fail_writes.load(Ordering::Acquire) {
        return Err(io::Error::from_raw_os_error(28)); // ENOSPC
    }
    file.write_all(buffer)?;
    shared.written.send_replace(seq);
    file.sync_data()
}

/// Marks every change not yet synced as lost, and wakes their waiters.
fn break_journal(shared: &Shared, message: String) {
    tracing::error!("{message}");
    let mut pending = lock(&shared.pending);
    pending.buffer.clear();
    let after = *shared.durable.borrow();
    pending.broken = Some(Lost { after, through: u64::MAX, message });
    shared.broken.store(true, Ordering::Release);
    drop(pending);
    shared.written.send_modify(|_| {});
    shared.durable.send_modify(|_| {});
}

/// Reads every whole, intact record. Returns the events and the length of the good prefix.
fn read_events(path: &Path, file: &File) -> Result<(Vec<Event>, u64), JournalError> {
    let scan = scan(path, file)?;
    match scan.damage {
        Some((line, reason)) => Err(JournalError::Damaged { path: path.into(), line, reason }),
        None => Ok((scan.events, scan.good_len)),
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
}

fn scan(path: &Path, file: &File) -> Result<Scan, JournalError> {
    let io = |source| JournalError::Io { path: path.into(), source };
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut scan = Scan { events: Vec::new(), good_len: 0, damage: None, records_after: 0 };
    let mut line = Vec::new();
    let mut number = 0;
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
                break;
            }
            Ok(_) => unreachable!("complete lines are handled above"),
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
    pub path: PathBuf,
    /// The first damaged line (1-based) and why it is damaged.
    pub line: usize,
    pub reason: String,
    /// Intact records before it, which are kept.
    pub kept_records: usize,
    /// Records from the damaged one to the end, which are cut.
    pub cut_records: usize,
    /// Bytes kept and cut.
    pub kept_bytes: u64,
    pub cut_bytes: u64,
}

/// The damage in `dir`'s journal, `None` when it opens as it is (a torn tail is cut on open).
/// Refuses while a server holds the directory.
pub fn inspect(dir: &Path) -> Result<Option<Damage>, JournalError> {
    let (_lock, path, file) = open_locked(dir)?;
    inspect_file(&path, &file)
}

/// Cuts `damage` (as [`inspect`] found it, and only if the journal is still as it was then) after
/// copying the whole journal to `journal.log.damaged-<unix seconds>`. Returns the copy's path.
pub fn repair(dir: &Path, damage: &Damage) -> Result<PathBuf, JournalError> {
    let (_lock, path, file) = open_locked(dir)?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| JournalError::Io { path, source }
    };
    if inspect_file(&path, &file)?.as_ref() != Some(damage) {
        return Err(JournalError::Io {
            path,
            source: io::Error::other("the journal changed since it was inspected; inspect it again"),
        });
    }
    let backup = dir.join(format!("{FILE_NAME}.damaged-{}", crate::clock::unix_seconds()));
    std::fs::copy(&path, &backup).map_err(io_err(&backup))?;
    File::open(&backup).and_then(|b| b.sync_all()).map_err(io_err(&backup))?;
    file.set_len(damage.kept_bytes).map_err(io_err(&path))?;
    file.sync_all().map_err(io_err(&path))?;
    Ok(backup)
}

fn inspect_file(path: &Path, file: &File) -> Result<Option<Damage>, JournalError> {
    let scan = scan(path, file)?;
    let total = file.metadata().map_err(|source| JournalError::Io { path: path.into(), source })?.len();
    Ok(scan.damage.map(|(line, reason)| Damage {
        path: path.into(),
        line,
        reason,
        kept_records: scan.events.len(),
        cut_records: scan.records_after,
        kept_bytes: scan.good_len,
        cut_bytes: total - scan.good_len,
    }))
}

/// `dir`'s lock (held until dropped) and its journal, opened for reading and writing.
fn open_locked(dir: &Path) -> Result<(File, PathBuf, File), JournalError> {
    let lock_path = dir.join(LOCK_NAME);
    let path = dir.join(FILE_NAME);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| JournalError::Io { path: lock_path, source })?;
    if lock.try_lock().is_err() {
        return Err(JournalError::Locked(dir.to_path_buf()));
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|source| JournalError::Io { path: path.clone(), source })?;
    Ok((lock, path, file))
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
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
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
