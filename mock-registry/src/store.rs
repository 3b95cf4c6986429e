//! Content-addressed blobs on disk, and the uploads that fill them. An upload is spooled to a
//! temporary file while its sha256 is computed; on commit the digest is checked, the file synced and
//! renamed to `blobs/sha256/<hex>`, and only then may the caller record it in the journal. Memory
//! never grows with blob size. Upload sessions live in memory: after a restart a client starts its
//! upload again (it gets BLOB_UPLOAD_UNKNOWN), and leftover spool files are swept on open.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};
use std::io::{Seek as _, Write as _};

use crate::state::RegistryKey;
use crate::types::{Digest, RepositoryName};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("upload {0} is unknown (finished, cancelled, or the server restarted)")]
    UploadUnknown(String),
    #[error("upload {0} is receiving another request")]
    UploadBusy(String),
    #[error("the upload is at byte {expected}, but this part starts at {given}")]
    RangeInvalid { expected: u64, given: u64 },
    #[error("the uploaded content has digest {computed}, not {given}")]
    DigestMismatch { given: Digest, computed: Digest },
    #[error("only sha256 digests are supported, not {0}")]
    UnsupportedDigest(Digest),
    #[error("the request body was cut off: {0}")]
    Truncated(String),
    #[error("blob storage failed: {0}")]
    Io(#[from] io::Error),
}

/// Bytes are gathered up to this much before they go to the file, so a large blob costs one
/// blocking write per MiB rather than one per network frame.
const WRITE_BUFFER: usize = 1024 * 1024;

/// An upload in progress, owned by one repository.
pub struct Upload {
    pub id: String,
    pub registry: RegistryKey,
    pub repository: RepositoryName,
    path: PathBuf,
    /// `None` only while a blocking task holds it.
    file: Option<std::fs::File>,
    /// Received bytes not yet written to `file`.
    pending: Vec<u8>,
    hasher: Sha256,
    /// Bytes received (written plus pending).
    pub size: u64,
}

enum Slot {
    Idle(Box<Upload>),
    /// A request is writing to it right now.
    Busy,
}

pub struct BlobStore {
    root: PathBuf,
    uploads: Mutex<HashMap<String, Slot>>,
    /// For `Lab::ephemeral`: the directory goes when the store does.
    _temporary: Option<tempfile::TempDir>,
}

impl BlobStore {
    /// The store under `root` (`root/blobs`, `root/uploads`); sweeps uploads a crash left behind.
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("blobs/sha256"))?;
        let uploads = root.join("uploads");
        if uploads.exists() {
            std::fs::remove_dir_all(&uploads)?;
        }
        std::fs::create_dir_all(&uploads)?;
        Ok(Self { root: root.to_path_buf(), uploads: Mutex::new(HashMap::new()), _temporary: None })
    }

    /// A store in a temporary directory, removed when the store is dropped.
    pub fn temporary() -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("ecr-lab-blobs-").tempdir()?;
        let mut store = Self::open(dir.path())?;
        store._temporary = Some(dir);
        Ok(store)
    }

    /// Where a committed blob lives.
    pub fn path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.as_str().trim_start_matches("sha256:");
        self.root.join("blobs/sha256").join(hex)
    }

    /// The size of a committed blob, if the store has it.
    pub async fn size(&self, digest: &Digest) -> Option<u64> {
        tokio::fs::metadata(self.path(digest)).await.ok().map(|m| m.len())
    }

    /// Starts an upload for a repository.
    pub async fn begin(&self, registry: RegistryKey, repository: RepositoryName) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let path = self.root.join("uploads").join(&id);
        let file = Some(std::fs::File::create(&path)?);
        let upload = Upload {
            id: id.clone(),
            registry,
            repository,
            path,
            file,
            pending: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
        };
        self.uploads.lock().expect("uploads lock").insert(id.clone(), Slot::Idle(Box::new(upload)));
        Ok(id)
    }

    /// Takes an upload out for one request; [`BlobStore::put_back`] or [`BlobStore::commit`] ends that.
    pub fn take(&self, id: &str) -> Result<Box<Upload>, StoreError> {
        let mut uploads = self.uploads.lock().expect("uploads lock");
        match uploads.insert(id.to_owned(), Slot::Busy) {
            Some(Slot::Idle(upload)) => Ok(upload),
            Some(Slot::Busy) => Err(StoreError::UploadBusy(id.to_owned())),
            None => {
                uploads.remove(id);
                Err(StoreError::UploadUnknown(id.to_owned()))
            }
        }
    }

    /// Takes an upload out only if it belongs to `repository` of `registry` (else it is unknown there).
    pub fn take_for(
        &self,
        id: &str,
        registry: &RegistryKey,
        repository: &RepositoryName,
    ) -> Result<Box<Upload>, StoreError> {
        let upload = self.take(id)?;
        if upload.registry != *registry || upload.repository != *repository {
            self.put_back(upload);
            return Err(StoreError::UploadUnknown(id.to_owned()));
        }
        Ok(upload)
    }

    pub fn put_back(&self, upload: Box<Upload>) {
        self.uploads.lock().expect("uploads lock").insert(upload.id.clone(), Slot::Idle(upload));
    }

    /// Ends an upload without a blob.
    pub async fn cancel(&self, upload: Box<Upload>) {
        self.uploads.lock().expect("uploads lock").remove(&upload.id);
        let _ = tokio::fs::remove_file(&upload.path).await;
    }

    /// Commits an upload as `expected`: the digest must match. Returns the size. The upload is gone
    /// either way (a wrong digest means the client starts over).
    pub async fn commit(&self, mut upload: Box<Upload>, expected: &Digest) -> Result<u64, StoreError> {
        self.uploads.lock().expect("uploads lock").remove(&upload.id);
        let result = async {
            if !expected.as_str().starts_with("sha256:") {
                return Err(StoreError::UnsupportedDigest(expected.clone()));
            }
            let computed = Digest::from_sha256(upload.hasher.clone().finalize().as_slice());
            if computed != *expected {
                return Err(StoreError::DigestMismatch { given: expected.clone(), computed });
            }
            // One blocking task: the last bytes, fsync, rename into place, fsync the directory.
            let pending = std::mem::take(&mut upload.pending);
            let mut file = upload.file.take().expect("the upload's file");
            let (from, target) = (upload.path.clone(), self.path(expected));
            tokio::task::spawn_blocking(move || -> io::Result<()> {
                file.write_all(&pending)?;
                file.sync_all()?;
                std::fs::rename(&from, &target)?;
                std::fs::File::open(target.parent().expect("blobs dir"))?.sync_all()
            })
            .await
            .map_err(io::Error::other)??;
            Ok(upload.size)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&upload.path).await;
        }
        result
    }

    /// Stores a whole blob given in memory (the ECR layer API, manifests-as-blobs, tests).
    pub async fn put_bytes(
        &self,
        registry: RegistryKey,
        repository: RepositoryName,
        bytes: &[u8],
    ) -> Result<(Digest, u64), StoreError> {
        let digest = Digest::sha256_of(bytes);
        let id = self.begin(registry, repository).await?;
        let mut upload = self.take(&id)?;
        upload.append(bytes).await?;
        let size = self.commit(upload, &digest).await?;
        Ok((digest, size))
    }
}

impl Upload {
    pub async fn append(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.pending.extend_from_slice(chunk);
        if self.pending.len() >= WRITE_BUFFER {
            self.write_pending().await?;
        }
        Ok(())
    }

    /// Writes the gathered bytes to the file, off the async threads.
    async fn write_pending(&mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let mut file = self.file.take().expect("the upload's file");
        let (file, written, mut pending) = tokio::task::spawn_blocking(move || {
            let written = file.write_all(&pending);
            (file, written, pending)
        })
        .await
        .map_err(io::Error::other)?;
        self.file = Some(file);
        pending.clear();
        self.pending = pending;
        written
    }

    /// Cuts the upload back to `size` bytes (all of them already written to the file).
    async fn truncate(&mut self, size: u64) -> io::Result<()> {
        self.pending.clear();
        let mut file = self.file.take().expect("the upload's file");
        let (file, cut) = tokio::task::spawn_blocking(move || {
            let cut = file.set_len(size).and_then(|()| file.seek(io::SeekFrom::Start(size)).map(|_| ()));
            (file, cut)
        })
        .await
        .map_err(io::Error::other)?;
        self.file = Some(file);
        self.size = size;
        cut
    }

    /// Streams a request body into the upload. On a cut-off body, the upload goes back to where it
    /// was before this request, so the client can retry the same part.
    pub async fn append_body(&mut self, body: axum::body::Body) -> Result<u64, StoreError> {
        use http_body_util::BodyExt as _;
        self.write_pending().await?;
        let (start_size, start_hasher) = (self.size, self.hasher.clone());
        let mut body = body;
        let outcome: Result<(), StoreError> = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| StoreError::Truncated(e.to_string()))?;
                if let Ok(data) = frame.into_data() {
                    self.append(&data).await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            self.truncate(start_size).await?;
            self.hasher = start_hasher;
            return Err(error);
        }
        Ok(self.size - start_size)
    }
}

/// Reads a committed blob as a stream of chunks, optionally a byte range.
pub async fn read_range(path: &Path, start: u64, length: u64) -> io::Result<axum::body::Body> {
    use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(io::SeekFrom::Start(start)).await?;
    let reader = file.take(length);
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, WRITE_BUFFER);
    Ok(axum::body::Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AccountId, Region};

    fn key() -> (RegistryKey, RepositoryName) {
        (
            RegistryKey::new(AccountId::parse("920736617090").unwrap(), Region::parse("ap-south-1").unwrap()),
            RepositoryName::parse("test").unwrap(),
        )
    }

    #[tokio::test]
    async fn chunks_commit_under_their_digest_and_wrong_digests_leave_nothing() {
        let store = BlobStore::temporary().unwrap();
        let (registry, repository) = key();
        let id = store.begin(registry.clone(), repository.clone()).await.unwrap();
        let mut upload = store.take(&id).unwrap();
        upload.append(b"hello ").await.unwrap();
        store.put_back(upload);
        assert!(store.take(&id).is_ok());
        assert!(matches!(store.take(&id), Err(StoreError::UploadBusy(_))));

        let (digest, size) = store.put_bytes(registry.clone(), repository.clone(), b"hello world").await.unwrap();
        assert_eq!(size, 11);
        assert_eq!(std::fs::read(store.path(&digest)).unwrap(), b"hello world");

        let id = store.begin(registry, repository).await.unwrap();
        let mut upload = store.take(&id).unwrap();
        upload.append(b"abc").await.unwrap();
        let wrong = Digest::sha256_of(b"abd");
        assert!(matches!(store.commit(upload, &wrong).await, Err(StoreError::DigestMismatch { .. })));
        assert!(!store.path(&wrong).exists());
        assert_eq!(std::fs::read_dir(store.root.join("uploads")).unwrap().count(), 1, "only the busy upload's spool");
    }
}
