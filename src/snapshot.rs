//! Saved pages on disk (the `extract`, `tag`, `parse-feed` and `detect-charset` commands and the extraction
//! benchmark read them): a file's bytes, a `.gz` file inflated. It does not decode charsets or parse anything.
//!
//! This is on the extraction benchmark's hot path: a single-member gzip file is inflated in one libdeflate call
//! into a buffer sized from its trailer; multi-member files, lying trailers and bad data go through flate2.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Reads a saved page, decompressing `.gz`.
pub fn read_page(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        if let Some(out) = gunzip_single_member(&raw) {
            return Ok(out);
        }
        // Sized from the gzip trailer (the last member's size mod 2^32, capped): one allocation and
        // no growth copies for the usual single-member file; a wrong guess only costs regrowth.
        let mut out = Vec::with_capacity(gzip_isize(&raw).min(64 << 20) + 1);
        flate2::bufread::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{}: not valid gzip", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The gzip trailer's ISIZE: the (last) member's uncompressed size mod 2^32.
fn gzip_isize(raw: &[u8]) -> usize {
    raw.len()
        .checked_sub(4)
        .and_then(|at| raw.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
}

/// `raw` inflated in one call by libdeflate when it is surely one gzip member: no second member
/// header (1f 8b 08) anywhere after the first, which libdeflate would silently ignore (one in a
/// few hundred files has the three bytes by chance and goes the streaming way). The output buffer
/// has the trailer's size exactly; `None` (then flate2 decides, with its error) when the size is
/// implausible, the data is bad or the trailer lies.
fn gunzip_single_member(raw: &[u8]) -> Option<Vec<u8>> {
    const MAX: usize = 256 << 20;
    if raw.len() < 18 || memchr::memmem::find(&raw[3..], b"\x1f\x8b\x08").is_some() {
        return None;
    }
    let size = gzip_isize(raw);
    if size > MAX || size > raw.len().saturating_mul(1032) {
        // Deflate expands at most ~1032:1, so a larger trailer is a lie (or a file past 4 GiB).
        return None;
    }
    let mut out = vec![0u8; size];
    match libdeflater::Decompressor::new().gzip_decompress(raw, &mut out) {
        Ok(n) if n == size => Some(out),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.html.gz");
        std::fs::write(&path, bytes).unwrap();
        read_page(&path)
    }

    #[test]
    fn gzip_pages_single_and_multi_member() {
        let page = "<p>Новости 新闻 news</p>\n".repeat(500).into_bytes();
        // One member: libdeflate in one call.
        let one = gz(&page);
        assert_eq!(gunzip_single_member(&one).as_deref(), Some(&page[..]));
        assert_eq!(read(&one).unwrap(), page);
        // Two members, the same twice (equal trailers): not taken for one, both inflated.
        let two = [one.clone(), one.clone()].concat();
        assert_eq!(gunzip_single_member(&two), None);
        assert_eq!(read(&two).unwrap(), [&page[..], &page[..]].concat());
        let other = [one.clone(), gz(b"tail")].concat();
        assert_eq!(read(&other).unwrap(), [&page[..], b"tail"].concat());
        // A trailer that lies about the size goes the streaming way, which checks it.
        let mut lying = one.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(gunzip_single_member(&lying), None);
        assert!(read(&lying).is_err());
        // Truncated or not gzip at all: a clear error naming the file.
        let err = read(&one[..one.len() / 2]).unwrap_err();
        assert!(
            format!("{err:#}").contains("page.html.gz: not valid gzip"),
            "{err:#}"
        );
        assert!(read(b"<html>not gzip</html>").is_err());
        assert_eq!(read(&gz(b"")).unwrap(), b"");
    }
}
