//! Unpacking image layers, as a container runtime stacks them, but keeping only the few files a
//! scan reads (os-release and the package databases). Layers are streamed: gzip, zstd or plain tar
//! (told apart by their magic bytes), one 512-byte tar block at a time. Whiteouts (`.wh.NAME`,
//! `.wh..wh..opq`) hide what lower layers put there. Everything read is bounded: the uncompressed
//! bytes of all layers together, each kept file, and each long-name or pax header.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

/// What a scan may read and keep.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Uncompressed bytes read from all of an image's layers together.
    pub max_uncompressed: u64,
    /// The largest file kept in memory (a package database).
    pub max_kept_file: u64,
    /// The largest GNU long name or pax extended header.
    pub max_header_extension: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_uncompressed: 8 << 30, max_kept_file: 64 << 20, max_header_extension: 1 << 20 }
    }
}

/// Why a layer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    #[error("{0}")]
    Corrupt(String),
    #[error("the layers hold more than {0} bytes uncompressed, more than a scan reads")]
    TooLarge(u64),
    #[error("{path} is {size} bytes, larger than the {limit} bytes a scan keeps")]
    FileTooLarge { path: String, size: u64, limit: u64 },
}

/// The files a scan reads, if an image has them.
pub const OS_RELEASE: &str = "etc/os-release";
pub const OS_RELEASE_USR: &str = "usr/lib/os-release";
pub const DPKG_STATUS: &str = "var/lib/dpkg/status";
pub const APK_INSTALLED: &str = "lib/apk/db/installed";
const KEPT: &[&str] = &[OS_RELEASE, OS_RELEASE_USR, DPKG_STATUS, APK_INSTALLED];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    File(Vec<u8>),
    /// A symbolic link and its target as written (`../usr/lib/os-release` on Debian).
    Symlink(String),
}

/// The kept files of the layers applied so far, each with the index of the layer that wrote it.
#[derive(Debug, Default)]
pub struct Rootfs {
    files: BTreeMap<String, (usize, Kept)>,
}

impl Rootfs {
    /// A kept file's bytes, following one symbolic link (relative or absolute).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match &self.files.get(path)?.1 {
            Kept::File(bytes) => Some(bytes),
            Kept::Symlink(target) => {
                let resolved = resolve(path, target);
                match &self.files.get(&resolved)?.1 {
                    Kept::File(bytes) => Some(bytes),
                    Kept::Symlink(_) => None,
                }
            }
        }
    }

    /// Hides lower layers' files at `path` or under it (`.wh.NAME`), or only under it (opaque).
    fn whiteout(&mut self, layer: usize, path: &str, opaque: bool) {
        let under = |p: &str| path.is_empty() || p.strip_prefix(path).is_some_and(|rest| rest.starts_with('/'));
        self.files.retain(|p, (l, _)| *l >= layer || !(under(p) || (!opaque && p == path)));
    }
}

/// `target` of a link at `path`, as a path from the root without a leading `/`.
fn resolve(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> =
        if target.starts_with('/') { Vec::new() } else { path.split('/').collect::<Vec<_>>()[..].to_vec() };
    if !target.starts_with('/') {
        parts.pop();
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Counts the uncompressed bytes read across layers and fails past the limit, so a layer that
/// inflates without end (a decompression bomb) stops at the limit.
struct Budget<'a, R> {
    inner: R,
    left: &'a mut u64,
    limit: u64,
}

impl<R: Read> Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if *self.left == 0 {
            // One byte more than allowed tells a layer that ends exactly at the limit from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LayerError::TooLarge(self.limit))),
            };
        }
        let want = buf.len().min(usize::try_from(*self.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..want])?;
        *self.left -= read as u64;
        Ok(read)
    }
}

/// Reads every zstd frame of a stream in turn (a layer may hold several; skippable ones are skipped
/// by the decoder).
struct ZstdFrames<R: BufRead> {
    decoder: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> io::Result<Self> {
        let decoder = ruzstd::decoding::StreamingDecoder::new(source).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self { decoder: Some(decoder) })
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else { return Ok(0) };
            let read = decoder.read(buf)?;
            if read > 0 || buf.is_empty() {
                return Ok(read);
            }
            let (mut source, frame) = self.decoder.take().expect("checked above").into_parts();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let next = ruzstd::decoding::StreamingDecoder::new_with_decoder(source, frame)
                .map_err(|e| io::Error::other(e.to_string()))?;
            self.decoder = Some(next);
        }
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Applies one layer (`index` counts from the bottom) to `rootfs`. `left` is the uncompressed
/// budget shared by the image's layers.
pub fn apply_layer(
    rootfs: &mut Rootfs,
    index: usize,
    blob: impl Read,
    limits: &Limits,
    left: &mut u64,
) -> Result<(), LayerError> {
    let mut blob = BufReader::new(blob);
    let head = blob.fill_buf().map_err(|e| LayerError::Corrupt(format!("reading the layer: {e}")))?.to_vec();
    let limit = limits.max_uncompressed;
    if head.starts_with(GZIP_MAGIC) {
        let inflated = flate2::bufread::MultiGzDecoder::new(blob);
        read_tar(rootfs, index, Budget { inner: inflated, left, limit }, limits, "gzip")
    } else if head.starts_with(ZSTD_MAGIC) {
        let inflated = ZstdFrames::new(blob).map_err(|e| LayerError::Corrupt(format!("bad zstd stream: {e}")))?;
        read_tar(rootfs, index, Budget { inner: inflated, left, limit }, limits, "zstd")
    } else {
        read_tar(rootfs, index, Budget { inner: blob, left, limit }, limits, "tar")
    }
}

/// Why a read failed: the budget, or the named stream being broken.
fn read_error(error: io::Error, format: &str) -> LayerError {
    if let Some(inner) = error.get_ref().and_then(|e| e.downcast_ref::<LayerError>()) {
        return inner.clone();
    }
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return LayerError::Corrupt(format!("the {format} stream ends in the middle of a tar entry"));
    }
    LayerError::Corrupt(format!("bad {format} stream: {error}"))
}

/// Reads exactly one 512-byte block; `Ok(false)` at a clean end of stream before the block.
fn block(reader: &mut impl Read, buf: &mut [u8; 512], format: &str) -> Result<bool, LayerError> {
    let mut filled = 0;
    while filled < 512 {
        match reader.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(LayerError::Corrupt(format!("the {format} stream ends inside a tar header"))),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e, format)),
        }
    }
    Ok(true)
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A header's size field: octal, or base-256 when the high bit is set (GNU, for large files).
fn size_field(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut value: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    octal(field)
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A path as the scan keys it: no leading `/` or `./`, no trailing `/`.
fn normalize(path: &str) -> String {
    let mut path = path.trim_end_matches('/');
    loop {
        if let Some(rest) = path.strip_prefix("./") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix('/') {
            path = rest;
        } else {
            break;
        }
    }
    if path == "." { String::new() } else { path.to_owned() }
}

/// pax records: `LEN key=value\n`.
fn pax_records(data: &[u8]) -> Result<Vec<(String, String)>, LayerError> {
    let bad = || LayerError::Corrupt("bad pax extended header".into());
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let length: usize = std::str::from_utf8(&rest[..space]).ok().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
        if length <= space + 1 || length > rest.len() || rest[length - 1] != b'\n' {
            return Err(bad());
        }
        let record = &rest[space + 1..length - 1];
        let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        records.push((
            String::from_utf8_lossy(&record[..eq]).into_owned(),
            String::from_utf8_lossy(&record[eq + 1..]).into_owned(),
        ));
        rest = &rest[length..];
    }
    Ok(records)
}

/// Reads `size` bytes of entry data into memory (bounded by the caller).
fn read_data(reader: &mut impl Read, size: u64, format: &str) -> Result<Vec<u8>, LayerError> {
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 20));
    let read = reader.take(size).read_to_end(&mut data).map_err(|e| read_error(e, format))?;
    if (read as u64) < size {
        return Err(LayerError::Corrupt(format!("the {format} stream ends in the middle of a tar entry")));
    }
    Ok(data)
}

/// Skips `size` bytes of entry data, streaming.
fn skip_data(reader: &mut impl Read, size: u64, format: &str) -> Result<(), LayerError> {
    let skipped = io::copy(&mut reader.take(size), &mut io::sink()).map_err(|e| read_error(e, format))?;
    if skipped < size {
        return Err(LayerError::Corrupt(format!("the {format} stream ends in the middle of a tar entry")));
    }
    Ok(())
}

fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

/// GNU long names and pax records, which apply to the entry after them.
#[derive(Default)]
struct Extensions {
    long_name: Option<String>,
    long_link: Option<String>,
    pax: Vec<(String, String)>,
}

impl Extensions {
    /// Reads one extension entry (`L`, `K`, `x` or `g`) of `size` bytes and its padding.
    fn read(
        &mut self,
        kind: u8,
        size: u64,
        reader: &mut impl Read,
        limits: &Limits,
        format: &str,
    ) -> Result<(), LayerError> {
        if size > limits.max_header_extension {
            return Err(LayerError::Corrupt(format!(
                "a tar long-name or pax header of {size} bytes (at most {} are read)",
                limits.max_header_extension
            )));
        }
        let data = read_data(reader, size, format)?;
        skip_data(reader, padding(size), format)?;
        match kind {
            b'L' => self.long_name = Some(text(&data)),
            b'K' => self.long_link = Some(text(&data)),
            b'x' => self.pax = pax_records(&data)?,
            _ => {} // global pax headers name nothing the scan uses
        }
        Ok(())
    }

    /// An entry's size: the header's, unless a pax record overrides it.
    fn size(&self, header: &[u8; 512]) -> Result<u64, LayerError> {
        let mut size = size_field(&header[124..136])
            .ok_or_else(|| LayerError::Corrupt("a tar header with an unreadable size".into()))?;
        for (key, value) in &self.pax {
            if key == "size" {
                size = value.parse().map_err(|_| LayerError::Corrupt("bad pax size".into()))?;
            }
        }
        Ok(size)
    }

    /// An entry's path (normalized) and link target, using up the extensions that name them.
    fn take_names(&mut self, header: &[u8; 512]) -> (String, String) {
        let ustar = &header[257..263] == b"ustar\0";
        let mut name = text(&header[0..100]);
        if ustar && header[345] != 0 {
            name = format!("{}/{name}", text(&header[345..500]));
        }
        let mut link = text(&header[157..257]);
        if let Some(long) = self.long_name.take() {
            name = long;
        }
        if let Some(long) = self.long_link.take() {
            link = long;
        }
        for (key, value) in std::mem::take(&mut self.pax) {
            match key.as_str() {
                "path" => name = value,
                "linkpath" => link = value,
                _ => {}
            }
        }
        (normalize(&name), link)
    }
}

/// Whether a header's checksum is right; the first header being wrong means no tar at all.
fn check_header(header: &[u8; 512], entries: u64, format: &str) -> Result<(), LayerError> {
    let stored = octal(&header[148..156]);
    let computed: u64 =
        header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
    if stored != Some(computed) {
        let what = if entries == 0 { "not a tar archive" } else { "a damaged tar header" };
        return Err(LayerError::Corrupt(format!("{what} (the {format} stream's header checksum does not match)")));
    }
    Ok(())
}

fn read_tar(
    rootfs: &mut Rootfs,
    index: usize,
    mut reader: impl Read,
    limits: &Limits,
    format: &str,
) -> Result<(), LayerError> {
    let mut header = [0u8; 512];
    let mut extensions = Extensions::default();
    let mut entries = 0u64;
    loop {
        if !block(&mut reader, &mut header, format)? {
            // A stream that ends at a header boundary without the end-of-archive blocks (Go's
            // archive/tar accepts that too); an empty stream is an empty layer.
            return Ok(());
        }
        if header.iter().all(|&b| b == 0) {
            return Ok(());
        }
        check_header(&header, entries, format)?;
        entries += 1;
        let size = extensions.size(&header)?;
        if size > limits.max_uncompressed {
            return Err(LayerError::TooLarge(limits.max_uncompressed));
        }
        let kind = header[156];
        if matches!(kind, b'L' | b'K' | b'x' | b'g') {
            extensions.read(kind, size, &mut reader, limits, format)?;
            continue;
        }
        let (path, link) = extensions.take_names(&header);
        let entry = TarEntry { path, link, kind, size };
        if !rootfs.apply_entry(index, entry, &mut reader, limits, format)? {
            // Hard links, symlinks, directories and devices carry no data in tar; others do.
            let data_size = if matches!(kind, b'1' | b'2' | b'3' | b'4' | b'5' | b'6') { 0 } else { size };
            skip_data(&mut reader, data_size + padding(data_size), format)?;
        }
    }
}

/// One tar entry's header, as the scan reads it.
struct TarEntry {
    path: String,
    link: String,
    kind: u8,
    size: u64,
}

impl Rootfs {
    /// Applies one entry of layer `index`: a whiteout, or a kept file (read in), link or its
    /// removal. Returns whether the entry's data was read (else the caller skips it).
    fn apply_entry(
        &mut self,
        index: usize,
        entry: TarEntry,
        reader: &mut impl Read,
        limits: &Limits,
        format: &str,
    ) -> Result<bool, LayerError> {
        let TarEntry { path, link, kind, size } = entry;
        let (parent, base) = match path.rsplit_once('/') {
            Some((parent, base)) => (parent, base),
            None => ("", path.as_str()),
        };
        if base == ".wh..wh..opq" {
            self.whiteout(index, parent, true);
        } else if let Some(hidden) = base.strip_prefix(".wh.") {
            let target = if parent.is_empty() { hidden.to_owned() } else { format!("{parent}/{hidden}") };
            self.whiteout(index, &target, false);
        } else if KEPT.contains(&path.as_str()) {
            match kind {
                b'0' | 0 | b'7' => {
                    if size > limits.max_kept_file {
                        return Err(LayerError::FileTooLarge { path, size, limit: limits.max_kept_file });
                    }
                    let data = read_data(reader, size, format)?;
                    skip_data(reader, padding(size), format)?;
                    self.files.insert(path, (index, Kept::File(data)));
                    return Ok(true);
                }
                b'2' => {
                    self.files.insert(path, (index, Kept::Symlink(link)));
                }
                b'1' => {
                    // A hard link names a file already in the archive.
                    let target = normalize(&link);
                    match self.files.get(&target).cloned() {
                        Some((_, kept)) => {
                            self.files.insert(path, (index, kept));
                        }
                        None => {
                            self.files.remove(&path);
                        }
                    }
                }
                _ => {
                    // A directory or device where a kept file was: the file is gone.
                    self.files.remove(&path);
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tar entry for tests: a file, a directory, a symlink, or a raw header type with data.
    pub(crate) enum Entry<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
    }

    pub(crate) fn header(name: &str, kind: u8, size: u64, link: &str) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    pub(crate) fn tar(entries: &[Entry]) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in entries {
            match entry {
                Entry::File(name, data) => {
                    out.extend_from_slice(&header(name, b'0', data.len() as u64, ""));
                    out.extend_from_slice(data);
                    out.resize(out.len().next_multiple_of(512), 0);
                }
                Entry::Dir(name) => out.extend_from_slice(&header(&format!("{name}/"), b'5', 0, "")),
                Entry::Symlink(name, target) => out.extend_from_slice(&header(name, b'2', 0, target)),
            }
        }
        out.resize(out.len() + 1024, 0);
        out
    }

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    pub(crate) fn zstd(bytes: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn unpack(layers: &[Vec<u8>], limits: Limits) -> Result<Rootfs, LayerError> {
        let mut rootfs = Rootfs::default();
        let mut left = limits.max_uncompressed;
        for (i, layer) in layers.iter().enumerate() {
            apply_layer(&mut rootfs, i, &layer[..], &limits, &mut left)?;
        }
        Ok(rootfs)
    }

    #[test]
    fn gzip_zstd_and_plain_layers_stack_with_whiteouts() {
        let base = gzip(&tar(&[
            Entry::Dir("etc"),
            Entry::Symlink("etc/os-release", "../usr/lib/os-release"),
            Entry::File("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
            Entry::File("var/lib/dpkg/status", b"Package: a\n"),
            Entry::File("lib/apk/db/installed", b"P:x\n"),
            Entry::File("big/ignored.bin", &[7u8; 5000]),
        ]));
        // zstd: replaces the dpkg status and deletes the apk database.
        let second = zstd(&tar(&[
            Entry::File("./var/lib/dpkg/status", b"Package: b\n"),
            Entry::File("lib/apk/db/.wh.installed", b""),
        ]));
        let rootfs = unpack(&[base.clone(), second.clone()], Limits::default()).unwrap();
        assert_eq!(rootfs.file(OS_RELEASE), Some(&b"ID=debian\nVERSION_ID=\"12\"\n"[..]), "the symlink is followed");
        assert_eq!(rootfs.file(DPKG_STATUS), Some(&b"Package: b\n"[..]));
        assert_eq!(rootfs.file(APK_INSTALLED), None, "whited out");

        // An opaque directory hides the lower layers' files under it, not its own.
        let third = tar(&[
            Entry::Dir("var/lib/dpkg"),
            Entry::File("var/lib/dpkg/.wh..wh..opq", b""),
            Entry::File("var/lib/dpkg/status", b"Package: c\n"),
        ]);
        let rootfs = unpack(&[base.clone(), second.clone(), third], Limits::default()).unwrap();
        assert_eq!(rootfs.file(DPKG_STATUS), Some(&b"Package: c\n"[..]));
        let fourth = tar(&[Entry::File("var/lib/.wh..wh..opq", b"")]);
        let rootfs = unpack(&[base.clone(), second, fourth], Limits::default()).unwrap();
        assert_eq!(rootfs.file(DPKG_STATUS), None);
        // Whiting out a directory removes what is under it.
        let rootfs = unpack(&[base, tar(&[Entry::File("usr/.wh.lib", b"")])], Limits::default()).unwrap();
        assert_eq!(rootfs.file(OS_RELEASE), None, "the link's target is gone");
    }

    #[test]
    fn long_names_and_pax_paths_are_followed() {
        let mut layer = Vec::new();
        let long = b"var/lib/dpkg/status\0";
        layer.extend_from_slice(&header("././@LongLink", b'L', long.len() as u64, ""));
        layer.extend_from_slice(long);
        layer.resize(layer.len().next_multiple_of(512), 0);
        layer.extend_from_slice(&header("x", b'0', 4, ""));
        layer.extend_from_slice(b"long");
        layer.resize(layer.len().next_multiple_of(512), 0);
        let record = "23 path=etc/os-release\n"; // the length counts the whole record
        assert_eq!(record.len(), 23);
        layer.extend_from_slice(&header("PaxHeaders/x", b'x', record.len() as u64, ""));
        layer.extend_from_slice(record.as_bytes());
        layer.resize(layer.len().next_multiple_of(512), 0);
        layer.extend_from_slice(&header("short", b'0', 3, ""));
        layer.extend_from_slice(b"pax");
        layer.resize(layer.len().next_multiple_of(512) + 1024, 0);
        let rootfs = unpack(&[layer], Limits::default()).unwrap();
        assert_eq!(rootfs.file(DPKG_STATUS), Some(&b"long"[..]));
        assert_eq!(rootfs.file(OS_RELEASE), Some(&b"pax"[..]));
    }

    #[test]
    fn broken_layers_are_errors_not_panics() {
        let good = tar(&[Entry::File("var/lib/dpkg/status", b"Package: a\n")]);
        let gz = gzip(&good);
        // Not gzip after the magic bytes.
        let mut bad_gzip = gz.clone();
        for b in &mut bad_gzip[10..] {
            *b ^= 0x5a;
        }
        assert!(matches!(unpack(&[bad_gzip], Limits::default()), Err(LayerError::Corrupt(_))));
        // Truncated inside the file's data.
        let truncated = &good[..600];
        let error = unpack(&[truncated.to_vec()], Limits::default()).unwrap_err();
        assert_eq!(error, LayerError::Corrupt("the tar stream ends in the middle of a tar entry".into()));
        // Truncated gzip.
        assert!(matches!(unpack(&[gz[..gz.len() / 2].to_vec()], Limits::default()), Err(LayerError::Corrupt(_))));
        // Not a tar at all.
        let error = unpack(&[b"hello, this is not a layer".repeat(40)], Limits::default()).unwrap_err();
        assert!(matches!(&error, LayerError::Corrupt(m) if m.starts_with("not a tar archive")), "{error}");
        // Bad zstd after the magic bytes.
        let mut bad_zstd = zstd(&good);
        let n = bad_zstd.len();
        for b in &mut bad_zstd[4..n] {
            *b = 0xff;
        }
        assert!(matches!(unpack(&[bad_zstd], Limits::default()), Err(LayerError::Corrupt(_))));
        // A header that claims an absurd size.
        let mut absurd = header("var/lib/dpkg/status", b'0', 0, "").to_vec();
        absurd[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let sum: u32 =
            absurd.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) }).sum();
        absurd[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(
            unpack(&[absurd], Limits::default()).unwrap_err(),
            LayerError::TooLarge(Limits::default().max_uncompressed)
        );
    }

    #[test]
    fn kept_files_and_header_extensions_are_bounded() {
        let limits = Limits { max_kept_file: 100, max_header_extension: 64, ..Limits::default() };
        let layer = tar(&[Entry::File("var/lib/dpkg/status", &[b'x'; 101])]);
        assert_eq!(
            unpack(&[layer], limits).unwrap_err(),
            LayerError::FileTooLarge { path: DPKG_STATUS.into(), size: 101, limit: 100 }
        );
        // Other files of any size stream past.
        let layer = tar(&[Entry::File("usr/share/big", &[b'x'; 10_000])]);
        unpack(&[layer], limits).unwrap();
        let mut layer = header("././@LongLink", b'L', 65, "").to_vec();
        layer.extend_from_slice(&[b'a'; 65]);
        layer.resize(2048, 0);
        assert!(matches!(unpack(&[layer], limits), Err(LayerError::Corrupt(m)) if m.contains("long-name")));
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        use std::io::Write as _;
        // 64 entries of 1 MiB of zeros gzip to about 64 KiB; the scan reads 8 MiB at most. Each
        // entry is small, so it is the streaming budget that stops the read, not a header check.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![0u8; 1 << 20];
        for n in 0..64 {
            encoder.write_all(&header(&format!("usr/share/zeros{n}"), b'0', 1 << 20, "")).unwrap();
            encoder.write_all(&chunk).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{}", bomb.len());
        let limits = Limits { max_uncompressed: 8 << 20, ..Limits::default() };
        assert_eq!(unpack(std::slice::from_ref(&bomb), limits).unwrap_err(), LayerError::TooLarge(8 << 20));
        // The same as zstd.
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&bomb[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(unpack(&[zstd(&plain)], limits).unwrap_err(), LayerError::TooLarge(8 << 20));
        // The budget is shared by the layers: two that fit alone do not fit together.
        let half = gzip(&tar(&[Entry::File("usr/share/a", &vec![0u8; 5 << 20])]));
        unpack(std::slice::from_ref(&half), limits).unwrap();
        assert_eq!(unpack(&[half.clone(), half], limits).unwrap_err(), LayerError::TooLarge(8 << 20));
    }

    #[test]
    fn resolving_links() {
        assert_eq!(resolve("etc/os-release", "../usr/lib/os-release"), "usr/lib/os-release");
        assert_eq!(resolve("etc/os-release", "/usr/lib/os-release"), "usr/lib/os-release");
        assert_eq!(resolve("etc/os-release", "os-release.d/x"), "etc/os-release.d/x");
    }
}
