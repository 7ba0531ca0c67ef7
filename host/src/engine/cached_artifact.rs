//! The on-disk form of a compiled component: a header naming the `.wasm`
//! it was compiled from and the digest of the native code, then the code.
//! Reading verifies both before anything is handed to wasmtime, so a
//! truncated, mixed-up or altered file is recompiled instead of run.
//!
//! ```text
//! todo-cwasm 1 <sha256 of the .wasm> <sha256 of the artifact>\n<artifact>
//! ```

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};

use crate::ops::private_fs;

const MAGIC: &str = "todo-cwasm 1";

/// The verified artifact of the component whose `.wasm` hashes to
/// `wasm_hash`, or `None` when there is no file.
pub fn read(path: &Path, wasm_hash: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let mut file = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let newline = file.iter().position(|b| *b == b'\n').context("no header")?;
    let artifact = file.split_off(newline + 1);
    let header = std::str::from_utf8(&file[..newline]).context("header is not text")?;
    let mut fields = header.rsplitn(3, ' ');
    let (Some(digest), Some(source), Some(magic)) = (fields.next(), fields.next(), fields.next())
    else {
        bail!("malformed header");
    };
    if magic != MAGIC {
        bail!("not an artifact of this host ({magic:?})");
    }
    if source != wasm_hash {
        bail!("compiled from another .wasm ({source})");
    }
    if hex::encode(Sha256::digest(&artifact)) != digest {
        bail!("the native code does not match its digest");
    }
    Ok(Some(artifact))
}

/// Writes the artifact atomically: a new private file of this write's own
/// (hosts sharing a cache may compile the same component at once), then
/// renamed into place.
pub fn write(path: &Path, wasm_hash: &str, artifact: &[u8]) -> anyhow::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    let written = (|| {
        let mut file = private_fs::create_new(&tmp)?;
        let digest = hex::encode(Sha256::digest(artifact));
        writeln!(file, "{MAGIC} {wasm_hash} {digest}")?;
        file.write_all(artifact)?;
        std::fs::rename(&tmp, path)?;
        anyhow::Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_intact_artifact_of_the_same_wasm_is_read() {
        let dir = std::env::temp_dir().join(format!("cached-artifact-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        private_fs::ensure_dir(&dir, private_fs::OthersWriting::Refuse).unwrap();
        let path = dir.join("a.cwasm");
        assert!(read(&path, "aa").unwrap().is_none(), "no file, no artifact");

        write(&path, "aa", b"native code").unwrap();
        assert_eq!(
            read(&path, "aa").unwrap().as_deref(),
            Some(&b"native code"[..])
        );
        assert!(read(&path, "bb").is_err(), "another component's artifact");

        // One byte of the code changed (its digest not): refused.
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(read(&path, "aa").is_err());
        // A bare wasmtime artifact without the header: refused.
        std::fs::write(&path, b"\x7fELF...").unwrap();
        assert!(read(&path, "aa").is_err());
        // Truncated: refused.
        write(&path, "aa", b"native code").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read(&path, "aa").is_err());
    }
}
