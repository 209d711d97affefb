//! How the archive's files are read from disk.
//!
//! tantivy memory-maps every file of the index. A page fault in a mapped file makes the kernel read
//! around the faulting page (`read_ahead_kb` of the device: 128 KB by default, 8 MB on some virtual
//! disks), which suits the postings (a term's list is read from start to end) and not the stored
//! articles: a search's hits, a digest's tagged articles and a page's snippets each read one 16 KB block
//! of the store at a random place. On a cold page cache at 10,000,000 articles the digest of a day read
//! 9.6 GB that way for 1,300 faults. [`ArchiveDirectory`] therefore reads small ranges of the store
//! (one block, its skip index) with a positional read of exactly those bytes, and leaves everything else
//! (large ranges such as a merge's copy of a whole store, and every other file) to the memory map.
//!
//! A long-running reader (the web workspace) also warms the index once when it starts
//! ([`Warmup`]): it reads the files searches read (field norms, term dictionaries, fast columns,
//! postings, positions), then the stored articles, into the page cache while they fit in a share of the
//! memory available, so the first searches after a restart do not each wait on the disk.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};
use tantivy::index::SegmentComponent;
use tantivy::{HasLen, Searcher};

/// Reads of the store up to this size are positional reads; larger ones (a merge copying a whole
/// store) go through the memory map.
const SMALL_READ: usize = 1 << 20;

/// tantivy's [`MmapDirectory`], except for small reads of the stored articles (see the module doc).
#[derive(Clone, Debug)]
pub struct ArchiveDirectory {
    mmap: MmapDirectory,
    root: PathBuf,
}

impl ArchiveDirectory {
    /// The directory at `root` (which must exist).
    pub fn open(root: &Path) -> Result<ArchiveDirectory, OpenDirectoryError> {
        Ok(ArchiveDirectory {
            mmap: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

impl Directory for ArchiveDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let mapped = self.mmap.get_file_handle(path)?;
        if cfg!(unix) && path.extension().is_some_and(|e| e == "store") {
            let file = File::open(self.root.join(path))
                .map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?;
            return Ok(Arc::new(StoreFile { file, mapped }));
        }
        Ok(mapped)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mmap.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mmap.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mmap.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mmap.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.mmap.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.mmap.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mmap.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mmap.watch(watch_callback)
    }
}

/// A store file: small ranges by positional read, large ones from the map.
#[derive(Debug)]
struct StoreFile {
    file: File,
    mapped: Arc<dyn FileHandle>,
}

impl HasLen for StoreFile {
    fn len(&self) -> usize {
        self.mapped.len()
    }
}

impl FileHandle for StoreFile {
    fn read_bytes(&self, range: Range<usize>) -> std::io::Result<OwnedBytes> {
        if range.len() > SMALL_READ {
            return self.mapped.read_bytes(range);
        }
        let mut buf = vec![0; range.len()];
        read_exact_at(&self.file, &mut buf, range.start as u64)?;
        Ok(OwnedBytes::new(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

// Never called: store files are only wrapped on unix.
#[cfg(not(unix))]
fn read_exact_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The index's files in the order they are worth having in memory: field norms (every scored search),
/// term dictionaries (every word looked up), fast columns (filters, facets, dates), postings, positions
/// (phrases only), then the stored articles (a search reads its hits' blocks only, but a server
/// answering many searches reads many; the largest files, so the first left out of a budget).
const WARM: [SegmentComponent; 6] = [
    SegmentComponent::FieldNorms,
    SegmentComponent::Terms,
    SegmentComponent::FastFields,
    SegmentComponent::Postings,
    SegmentComponent::Positions,
    SegmentComponent::Store,
];

/// What [`Warmup::read`] will read: the files of a searcher's segments that fit in a budget.
#[derive(Debug, Default)]
pub struct Warmup {
    /// Files to read, in order, with their sizes.
    pub files: Vec<(PathBuf, u64)>,
    /// Bytes of files left out because they did not fit in the budget.
    pub skipped: u64,
}

impl Warmup {
    /// The files of `searcher`'s segments (in `dir`, the index's directory), in [`WARM`]'s order,
    /// each taken while the total stays within `budget` bytes; a file that does not fit is
    /// counted in `skipped` and a smaller later one may still be taken.
    pub fn plan(searcher: &Searcher, dir: &Path, budget: u64) -> Warmup {
        let live: std::collections::HashSet<_> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        let metas: Vec<_> = searcher
            .index()
            .searchable_segment_metas()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| live.contains(&m.id()))
            .collect();
        let mut plan = Warmup::default();
        let mut taken = 0u64;
        for component in WARM {
            for meta in &metas {
                let path = dir.join(meta.relative_path(component.clone()));
                let Ok(size) = std::fs::metadata(&path).map(|m| m.len()) else {
                    continue; // a segment without this component (no positions), or merged away
                };
                if taken + size <= budget {
                    taken += size;
                    plan.files.push((path, size));
                } else {
                    plan.skipped += size;
                }
            }
        }
        plan
    }

    /// Bytes the plan reads.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }

    /// Reads every planned file through (into the page cache), returning the bytes read. A file gone
    /// meanwhile (merged away by a writer) is passed over.
    pub fn read(&self) -> anyhow::Result<u64> {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        for (path, _) in &self.files {
            let mut file = match File::open(path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
                    )
                }
            };
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => total += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("cannot read {}", path.display())))
                    }
                }
            }
        }
        Ok(total)
    }
}

/// The share of memory a warm-up may fill: half of what the system reports available
/// (`MemAvailable`, which counts the page cache that can be dropped), so the warmed files and
/// everything else running stay in memory together. `None` where it cannot be read (not Linux).
pub fn warm_budget() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024 / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_reads_equal_the_file_whatever_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3 * SMALL_READ as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(dir.path().join("a.store"), &data).unwrap();
        std::fs::write(dir.path().join("a.idx"), &data[..1000]).unwrap();
        let directory = ArchiveDirectory::open(dir.path()).unwrap();
        let store = directory.get_file_handle(Path::new("a.store")).unwrap();
        assert_eq!(store.len(), data.len());
        for range in [
            0..0,
            0..1,
            5..16_389,
            SMALL_READ - 3..SMALL_READ + 3,
            0..SMALL_READ,
            1..SMALL_READ + 2, // past SMALL_READ: the map
            0..data.len(),
            data.len() - 7..data.len(),
        ] {
            let bytes = store.read_bytes(range.clone()).unwrap();
            assert_eq!(bytes.as_slice(), &data[range]);
        }
        let other = directory.get_file_handle(Path::new("a.idx")).unwrap();
        assert_eq!(other.read_bytes(10..20).unwrap().as_slice(), &data[10..20]);
        assert!(directory.get_file_handle(Path::new("none.store")).is_err());
    }
}
