//! The durable journal: one line per [`Event`], `CRC32HEX JSON\n`, appended and fsynced before a
//! request is acknowledged. Concurrent requests share one fsync (group commit). On open, a torn last
//! line (a crash mid-write) is cut off; damage anywhere else stops the open rather than guess.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::watch;

use super::Event;

const FILE_NAME: &str = "journal.log";
const LOCK_NAME: &str = "lock";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}:{line}: damaged journal record ({reason}); the data directory needs repair or a fresh start")]
    Damaged { path: PathBuf, line: usize, reason: String },
    #[error("{0} is in use by another ecr-lab server (it holds {0}/lock); stop it, or pass another --data-dir")]
    Locked(PathBuf),
}

struct Pending {
    buffer: Vec<u8>,
    /// Sequence number of the last record appended to `buffer` or earlier.
    appended: u64,
    failed: Option<String>,
    /// The journal was dropped: the writer drains what is queued, then stops.
    closed: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
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

/// An open journal. Appends are cheap (into memory); [`Journal::wait_durable`] waits for the fsync.
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
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK_NAME);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io_err(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(JournalError::Locked(dir.to_path_buf()));
        }
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
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
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending { buffer: Vec::new(), appended: 0, failed: None, closed: false }),
            wake: Condvar::new(),
            written,
            durable,
        });
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ecr-lab-journal".into())
            .spawn(move || flush_loop(&writer, file, &path))
            .map_err(io_err(dir))?;
        Ok((Self { shared, _lock: lock }, events))
    }

    /// Queues events (call under the state lock, so the journal's order is the state's order).
    /// Returns the sequence number to wait for.
    pub fn append(&self, events: &[Event]) -> u64 {
        let mut pending = self.shared.pending.lock().expect("journal lock");
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

    /// Resolves once everything up to `seq` is on disk; an error if the disk refused it.
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
            if *level.borrow_and_update() >= seq {
                return Ok(());
            }
            if let Some(failed) = &self.shared.pending.lock().expect("journal lock").failed {
                return Err(failed.clone());
            }
            if level.changed().await.is_err() {
                return Err("the journal writer stopped".into());
            }
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.shared.pending.lock().expect("journal lock").closed = true;
        self.shared.wake.notify_one();
    }
}

fn flush_loop(shared: &Shared, mut file: File, path: &Path) {
    loop {
        let (buffer, seq) = {
            let mut pending = shared.pending.lock().expect("journal lock");
            while pending.buffer.is_empty() {
                if pending.closed {
                    return;
                }
                pending = shared.wake.wait(pending).expect("journal lock");
            }
            (std::mem::take(&mut pending.buffer), pending.appended)
        };
        let written = file.write_all(&buffer);
        if written.is_ok() {
            shared.written.send_replace(seq);
        }
        if let Err(e) = written.and_then(|()| file.sync_data()) {
            let message = format!("writing {}: {e}", path.display());
            tracing::error!("{message}");
            shared.pending.lock().expect("journal lock").failed = Some(message);
            // Wake waiters so they see the failure.
            shared.written.send_modify(|_| {});
            shared.durable.send_modify(|_| {});
            return;
        }
        shared.durable.send_replace(seq);
    }
}

/// Reads every whole, intact record. Returns the events and the length of the good prefix.
fn read_events(path: &Path, file: &File) -> Result<(Vec<Event>, u64), JournalError> {
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0)).map_err(|source| JournalError::Io { path: path.into(), source })?;
    let mut events = Vec::new();
    let mut good_len = 0u64;
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read =
            reader.read_until(b'\n', &mut line).map_err(|source| JournalError::Io { path: path.into(), source })?;
        if read == 0 {
            break;
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        match parse_record(&line) {
            Ok(event) if complete => {
                events.push(event);
                good_len += read as u64;
            }
            result => {
                // Only the last record can be torn by a crash; anything else is real damage.
                let at_end = reader.fill_buf().map(|rest| rest.is_empty()).unwrap_or(false);
                if at_end {
                    tracing::warn!(
                        "{}:{number}: discarding a torn last record (the write never completed)",
                        path.display()
                    );
                    break;
                }
                let reason = result.err().unwrap_or_else(|| "record without end of line".into());
                return Err(JournalError::Damaged { path: path.into(), line: number, reason });
            }
        }
    }
    Ok((events, good_len))
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
