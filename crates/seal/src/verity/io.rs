//! File plumbing: device sizes, positional reads, a read-ahead chunk reader,
//! and the hash-device writer (atomic for regular files, in place for block
//! devices).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::VerityError;

/// Buffers in flight between the reader thread and the hasher: one being
/// hashed, one ready, one being filled.
const BUFFERS: usize = 3;

pub(crate) fn io_err(path: &Path, action: &'static str, source: std::io::Error) -> VerityError {
    VerityError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

pub(crate) fn open_read(path: &Path, action: &'static str) -> Result<File, VerityError> {
    File::open(path).map_err(|e| io_err(path, action, e))
}

/// Size in bytes of a regular file or block device.
pub(crate) fn device_size(file: &File, path: &Path) -> Result<u64, VerityError> {
    let meta = file
        .metadata()
        .map_err(|e| io_err(path, "read metadata", e))?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    // Block devices report a zero length; seeking to the end gives the size.
    let mut f = file;
    f.seek(SeekFrom::End(0))
        .map_err(|e| io_err(path, "find the size", e))
}

pub(crate) fn read_exact_at(
    file: &File,
    path: &Path,
    buf: &mut [u8],
    offset: u64,
    action: &'static str,
) -> Result<(), VerityError> {
    file.read_exact_at(buf, offset)
        .map_err(|e| io_err(path, action, e))
}

/// Reads `len` bytes of `file` from offset 0 in chunks of `chunk_bytes`
/// on a reader thread, calling `f(offset, chunk)` in order on this thread
/// while the next chunk is read. Stops early when `f` returns `Some`.
pub(crate) fn for_each_chunk<T>(
    file: &File,
    path: &Path,
    len: u64,
    chunk_bytes: usize,
    mut f: impl FnMut(u64, &[u8]) -> Result<Option<T>, VerityError>,
) -> Result<Option<T>, VerityError> {
    let chunk_bytes = chunk_bytes.max(1);
    // Only a hint for the kernel's read-ahead; failure changes nothing.
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::Sequential);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) =
            mpsc::sync_channel::<(u64, Vec<u8>, usize, std::io::Result<()>)>(BUFFERS);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..BUFFERS {
            // The receiver is alive here, so sending cannot fail.
            let _ = free_tx.send(Vec::new());
        }
        scope.spawn(move || {
            let mut offset = 0u64;
            while offset < len {
                let Ok(mut buf) = free_rx.recv() else { return };
                let n =
                    usize::try_from((len - offset).min(chunk_bytes as u64)).unwrap_or(chunk_bytes);
                if buf.len() < n {
                    buf.resize(n, 0);
                }
                let res = file.read_exact_at(&mut buf[..n], offset);
                let failed = res.is_err();
                if full_tx.send((offset, buf, n, res)).is_err() || failed {
                    return;
                }
                offset += n as u64;
            }
        });
        let mut result = Ok(None);
        while let Ok((offset, buf, n, res)) = full_rx.recv() {
            if let Err(e) = res {
                result = Err(io_err(path, "read", e));
                break;
            }
            match f(offset, &buf[..n]) {
                Ok(None) => {}
                other => {
                    result = other;
                    break;
                }
            }
            // Once the reader has read everything it stops taking buffers
            // back; the chunks still queued must be processed all the same.
            let _ = free_tx.send(buf);
        }
        // Unblock the reader whichever channel it is waiting on.
        drop(full_rx);
        drop(free_tx);
        result
    })
}

/// True when both paths name the same inode (so writing one destroys the other).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Where `format` writes the hash device.
pub(crate) struct HashOutput {
    file: File,
    path: PathBuf,
    /// For a regular file: the temporary file renamed over `path` on commit.
    temp: Option<PathBuf>,
}

impl HashOutput {
    /// Prepares to write `size` bytes to `path`: in place if it is a block
    /// device (which must be large enough), else into a new temporary file
    /// in the same directory.
    pub(crate) fn create(path: &Path, size: u64) -> Result<HashOutput, VerityError> {
        let is_block = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_block_device());
        if is_block {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| io_err(path, "open the hash device for writing", e))?;
            let have = device_size(&file, path)?;
            if have < size {
                return Err(VerityError::Hash {
                    path: path.to_path_buf(),
                    reason: format!("block device has {have} bytes but the hash tree needs {size}"),
                });
            }
            return Ok(HashOutput {
                file,
                path: path.to_path_buf(),
                temp: None,
            });
        }
        let name = path.file_name().ok_or_else(|| VerityError::Hash {
            path: path.to_path_buf(),
            reason: "not a file name".to_string(),
        })?;
        let dir = parent_dir(path);
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| {
            io_err(
                path,
                "make a temporary name",
                std::io::Error::other(e.to_string()),
            )
        })?;
        let temp = dir.join(format!(
            ".{}.tmp-{}-{:016x}",
            name.to_string_lossy(),
            std::process::id(),
            u64::from_le_bytes(nonce)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| io_err(&temp, "create the temporary hash file", e))?;
        let out = HashOutput {
            file,
            path: path.to_path_buf(),
            temp: Some(temp),
        };
        out.file
            .set_len(size)
            .map_err(|e| io_err(out.target(), "size the temporary hash file", e))?;
        Ok(out)
    }

    fn target(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.path)
    }

    pub(crate) fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), VerityError> {
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| io_err(self.target(), "write the hash tree", e))
    }

    /// Flushes to stable storage and, for a regular file, renames the
    /// temporary file over the destination and syncs the directory.
    pub(crate) fn commit(mut self) -> Result<(), VerityError> {
        self.file
            .sync_all()
            .map_err(|e| io_err(self.target(), "fsync", e))?;
        if let Some(temp) = self.temp.take() {
            if let Err(e) = std::fs::rename(&temp, &self.path) {
                let _ = std::fs::remove_file(&temp);
                return Err(io_err(
                    &self.path,
                    "rename the temporary hash file into place",
                    e,
                ));
            }
            let dir = parent_dir(&self.path);
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_err(&dir, "fsync the directory", e))?;
        }
        Ok(())
    }
}

impl Drop for HashOutput {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_reader_delivers_every_chunk_in_order_to_a_slow_consumer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let mut seen = Vec::new();
        let stopped = for_each_chunk(&file, &path, 1000, 64, |offset, chunk| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            assert_eq!(offset, seen.len() as u64);
            seen.extend_from_slice(chunk);
            Ok(None::<()>)
        })
        .unwrap();
        assert_eq!(stopped, None);
        assert_eq!(seen, bytes);
        // Stopping early returns the value and ends the reader.
        let got = for_each_chunk(&file, &path, 1000, 64, |offset, _| {
            Ok((offset == 128).then_some(offset))
        });
        assert_eq!(got.unwrap(), Some(128));
        // Reading past the end is an I/O error naming the file.
        let err = for_each_chunk(&file, &path, 2000, 64, |_, _| Ok(None::<()>)).unwrap_err();
        assert!(err.to_string().contains("data"), "{err}");
    }
}
