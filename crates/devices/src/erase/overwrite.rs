//! Overwrite every byte of a block device from the host: `O_DIRECT` writes
//! of 4 MiB chunks from a few threads at once (so the device always has
//! the next write queued), then a cache flush.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::aligned::AlignedBuf;
use super::pattern::Fill;

/// Bytes per write: what `dd bs=4M` uses, large enough for full-speed
/// sequential writes on NVMe and small enough to keep progress smooth.
pub const CHUNK: usize = 4 << 20;
/// Writes in flight at once.
pub const QUEUE_DEPTH: usize = 2;

/// What an overwrite did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Written {
    /// Bytes written (the whole device).
    pub bytes: u64,
    /// Seconds from the first write to the end of the flush.
    pub seconds: f64,
}

/// Write `fill` over the first `size` bytes of `dev` (opened for writing,
/// ideally with `O_DIRECT`), then flush the device's write cache.
/// `progress` gets the bytes written so far after each chunk.
pub fn overwrite(
    dev: &File,
    size: u64,
    fill: &Fill,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<Written> {
    let started = Instant::now();
    let next_chunk = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let chunks = size.div_ceil(CHUNK as u64);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..QUEUE_DEPTH)
            .map(|_| {
                scope.spawn(|| -> io::Result<()> {
                    let mut buf = AlignedBuf::new(CHUNK);
                    fill.render(0, buf.as_mut_slice());
                    loop {
                        let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks {
                            return Ok(());
                        }
                        let offset = chunk * CHUNK as u64;
                        let len =
                            usize::try_from((size - offset).min(CHUNK as u64)).unwrap_or(CHUNK);
                        let bytes = &mut buf.as_mut_slice()[..len];
                        fill.restamp(offset, bytes);
                        dev.write_all_at(bytes, offset).map_err(|e| {
                            // Stop the other writers too.
                            next_chunk.store(chunks, Ordering::Relaxed);
                            io::Error::new(
                                e.kind(),
                                format!("writing {len} bytes at offset {offset}: {e}"),
                            )
                        })?;
                        progress(done.fetch_add(len as u64, Ordering::Relaxed) + len as u64);
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(io::Error::other("a writer panicked")))
        })
    })?;
    dev.sync_all()
        .map_err(|e| io::Error::new(e.kind(), format!("flushing the device: {e}")))?;
    Ok(Written {
        bytes: size,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erase::pattern::{UNIT, filler};

    #[test]
    fn every_byte_of_an_odd_sized_file_is_written() {
        let size = 2 * CHUNK as u64 + 3 * UNIT as u64 + 512;
        let f = tempfile::NamedTempFile::new().expect("temp");
        std::fs::write(f.path(), vec![0xEEu8; size as usize]).expect("fill");
        let dev = std::fs::OpenOptions::new()
            .write(true)
            .open(f.path())
            .expect("open");
        let fill = Fill::Pattern(filler(11));
        let last = AtomicU64::new(0);
        let w = overwrite(&dev, size, &fill, &|n| {
            last.fetch_max(n, Ordering::Relaxed);
        })
        .expect("overwrite");
        assert_eq!(w.bytes, size);
        assert_eq!(last.load(Ordering::Relaxed), size);
        let got = std::fs::read(f.path()).expect("read");
        let mut want = vec![0u8; size as usize];
        fill.render(0, &mut want);
        assert!(got == want, "device bytes differ from the pattern");
        let dev = std::fs::OpenOptions::new()
            .write(true)
            .open(f.path())
            .expect("open");
        overwrite(&dev, size, &Fill::Zeros, &|_| {}).expect("zero");
        assert!(
            std::fs::read(f.path())
                .expect("read")
                .iter()
                .all(|&b| b == 0)
        );
    }
}
