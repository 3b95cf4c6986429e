//! A journal written directly (for `scripts/bench-startup`): pushing a million events through the
//! API would take hours of fsyncs. The events are made by the state's own methods, as requests make
//! them, and written as the journal writes them.

use std::io::{self, BufWriter, Write as _};
use std::path::Path;

use crate::state::{Event, Image, NewRepository, PutMode, RegistryKey, State};
use crate::types::{AccountId, Digest, ImageTag, Millis, Region, RepositoryName};

/// Writes `dir/journal.log` (appends with `append`, else a new lab's first record comes first):
/// `live` repositories created (they stay), then `churn` events of history that leave no trace in
/// the state: a repository created, an image pushed to it, the repository deleted, over and over
/// (the last cycle may stop short, leaving one scratch repository).
/// Returns the events written.
pub fn generate(dir: &Path, live: usize, churn: usize, append: bool) -> io::Result<usize> {
    crate::state::journal::create_private_dir(dir)?;
    let file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(dir.join("journal.log"))?;
    if append {
        cut_zeros(&file)?; // a journal a server left after `kill -9` ends in zeros written ahead
    }
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut state = State::new(b"bench-startup secret, not for real use".to_vec());
    let first = state.take_outbox();
    let mut written = 0;
    if !append {
        written += write(&mut out, &first)?;
    }
    let registry = RegistryKey::new(AccountId::parse(crate::state::DEFAULT_ACCOUNT).map_err(bad)?, region()?);
    let invalid = |e: crate::state::StateError| io::Error::other(e.to_string());
    for n in 0..live {
        state.create_repository(&registry, new_repository(&format!("team-{n:06}/service"))?).map_err(invalid)?;
        written += write(&mut out, &state.take_outbox())?;
    }
    let tag = ImageTag::parse("latest").map_err(bad)?;
    let target = written + churn;
    let mut n = 0;
    while written < target {
        let name = RepositoryName::parse(&format!("scratch-{n:08}")).map_err(bad)?;
        state.create_repository(&registry, new_repository(name.as_str())?).map_err(invalid)?;
        state.put_image(&registry, &name, image(n), Some(tag.clone()), PutMode::Api).map_err(invalid)?;
        state.delete_repository(&registry, &name, true).map_err(invalid)?;
        let events = state.take_outbox();
        written += write(&mut out, &events[..events.len().min(target - written)])?;
        n += 1;
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(written)
}

/// Cuts the zeros after the last record, so that appended records follow it.
fn cut_zeros(file: &std::fs::File) -> io::Result<()> {
    use std::io::{Read as _, Seek as _};
    let mut reader = file;
    let mut end = file.metadata()?.len();
    let mut block = vec![0u8; 1 << 16];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let block = &mut block[..(end - start) as usize];
        reader.seek(io::SeekFrom::Start(start))?;
        reader.read_exact(block)?;
        if let Some(last) = block.iter().rposition(|&b| b != 0) {
            end = start + last as u64 + 1;
            break;
        }
        end = start;
    }
    file.set_len(end)
}

fn region() -> io::Result<Region> {
    Region::parse("eu-central-1").map_err(bad)
}

fn new_repository(name: &str) -> io::Result<NewRepository> {
    Ok(NewRepository::with_defaults(RepositoryName::parse(name).map_err(bad)?))
}

fn image(n: usize) -> Image {
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
        Digest::sha256_of(format!("config {n}").as_bytes())
    );
    Image {
        digest: Digest::sha256_of(manifest.as_bytes()),
        manifest,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        artifact_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
        size: 2,
        pushed_at: Millis(1_700_000_000_000),
        tags: vec![],
        blobs: vec![],
        children: vec![],
        subject: None,
        artifact_type: None,
        annotations: Default::default(),
    }
}

fn write(out: &mut impl io::Write, events: &[Event]) -> io::Result<usize> {
    for event in events {
        let json = serde_json::to_vec(event).map_err(io::Error::other)?;
        write!(out, "{:08x} ", crc32fast::hash(&json))?;
        out.write_all(&json)?;
        out.write_all(b"\n")?;
    }
    Ok(events.len())
}

fn bad(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("{e:?}"))
}
