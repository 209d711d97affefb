//! The disk that holds the archive: tells a full disk (or an exhausted quota) from a damaged file, and
//! says which disk it is, so an error on a full disk reads as one and not as "damaged?" or "an index
//! writer was killed".

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `ENOSPC` and `EDQUOT` on Linux.
const NO_SPACE: i32 = 28;
const QUOTA: i32 = 122;

/// Whether an error (anywhere in its chain) is "no space left on device" or "disk quota exceeded".
///
/// The index library keeps the I/O error it met inside its own error types, and does not always expose
/// it as a `source`, so its message (which carries `os error 28`) is read too.
pub fn is_full(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(NO_SPACE | QUOTA))
                || matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            {
                return true;
            }
        }
        let text = cause.to_string();
        text.contains(&format!("(os error {NO_SPACE})"))
            || text.contains(&format!("(os error {QUOTA})"))
    })
}

/// What to tell the user when writing under `path` failed on a full disk: the path, the file system it
/// is on (its mount point), how much is free there now, and what to do.
pub fn full_message(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mount = mount_point(&absolute);
    let free = fs4::available_space(&mount).map_or_else(
        |_| "unknown".to_string(),
        |bytes| format!("{:.1} MB", bytes as f64 / 1e6),
    );
    format!(
        "the disk holding {} is full (file system mounted at {}, {free} free now): free space there, or \
         move `index.path` to a larger disk, and run again; what was last committed is intact",
        absolute.display(),
        mount.display()
    )
}

/// The mount point of the file system holding `path`: the last ancestor on the same device.
fn mount_point(path: &Path) -> PathBuf {
    let existing = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let Ok(device) = std::fs::metadata(existing).map(|m| m.dev()) else {
        return existing.to_path_buf();
    };
    let mut mount = existing;
    while let Some(parent) = mount.parent() {
        match std::fs::metadata(parent) {
            Ok(m) if m.dev() == device => mount = parent,
            _ => break,
        }
    }
    mount.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_io_errors() {
        let full =
            anyhow::Error::new(std::io::Error::from_raw_os_error(NO_SPACE)).context("commit");
        assert!(is_full(&full));
        let quota = anyhow::Error::new(std::io::Error::from_raw_os_error(QUOTA));
        assert!(is_full(&quota));
        // Wrapped by a library that keeps only the message.
        let wrapped = anyhow::anyhow!(
            "An IO error occurred: 'No space left on device (os error 28) at path \"/x/.tmp1\"'"
        );
        assert!(is_full(&wrapped));
        let denied = anyhow::Error::new(std::io::Error::from_raw_os_error(13)).context("commit");
        assert!(!is_full(&denied));
        assert!(!is_full(&anyhow::anyhow!("failed to fill whole buffer")));
    }

    #[test]
    fn the_message_names_the_path_and_its_file_system() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index/tantivy");
        let message = full_message(&index);
        assert!(message.contains(&index.display().to_string()), "{message}");
        assert!(message.contains("is full"), "{message}");
        // The mount point is an ancestor of the path (here: of the temporary folder, which exists).
        let mount = mount_point(&index);
        assert!(
            index.starts_with(&mount),
            "{} / {}",
            mount.display(),
            index.display()
        );
        assert!(
            message.contains(&format!("mounted at {}", mount.display())),
            "{message}"
        );
    }
}
