//! The host's own files on disk, readable by its user only: the data dir
//! (password hashes and every user's data) and the cache of compiled
//! components (native code the host runs).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PrivateFsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a directory (a symlink is not accepted)")]
    NotADirectory { path: PathBuf },
    #[error("{path} belongs to uid {owner}, not to this host's user (uid {me})")]
    NotOurs { path: PathBuf, owner: u32, me: u32 },
    #[error(
        "{path} is writable by other users (mode {mode:o}): what it holds cannot be trusted; \
         remove it or give it mode 0700"
    )]
    WritableByOthers { path: PathBuf, mode: u32 },
}

/// What to do with a directory others may write to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OthersWriting {
    /// Refuse it: its contents may have been planted (the code cache).
    Refuse,
    /// Take the permission away and go on (the data dir: its files are
    /// checked by their own formats).
    Revoke,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PrivateFsError + '_ {
    move |source| PrivateFsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes `dir` a directory of this user with mode 0700: created so if
/// missing; an existing one must be a real directory owned by this user,
/// and loses any group or other permission.
pub fn ensure_dir(dir: &Path, others: OthersWriting) -> Result<(), PrivateFsError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if !meta.file_type().is_dir() {
        return Err(PrivateFsError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(PrivateFsError::NotOurs {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 && others == OthersWriting::Refuse {
        return Err(PrivateFsError::WritableByOthers {
            path: dir.to_path_buf(),
            mode,
        });
    }
    if mode & 0o077 != 0 {
        tracing::info!(path = %dir.display(), "mode {mode:o} -> 700");
        std::fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    Ok(())
}

/// Gives an existing file mode 0600, or creates it empty so; a symlink is
/// not followed.
pub fn ensure_file(path: &Path) -> Result<(), PrivateFsError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(io(path))?;
    let mode = file.metadata().map_err(io(path))?.mode() & 0o777;
    if mode != 0o600 {
        file.set_permissions(Permissions::from_mode(0o600))
            .map_err(io(path))?;
    }
    Ok(())
}

/// A new file of mode 0600 that did not exist before (not even as a
/// symlink): the temporary half of an atomic write.
pub fn create_new(path: &Path) -> Result<File, PrivateFsError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o777
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("private-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_dir_and_file_are_the_owners_only() {
        let dir = scratch("new").join("data");
        ensure_dir(&dir, OthersWriting::Refuse).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("todo.redb");
        ensure_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn an_open_dir_is_closed_or_refused() {
        let dir = scratch("open");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        // Readable by others only: the permission is taken away.
        ensure_dir(&dir, OthersWriting::Refuse).unwrap();
        assert_eq!(mode(&dir), 0o700);
        ensure_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"x", "the contents stay");
        // Writable by others: refused for the cache, closed for the data.
        std::fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        let refused = ensure_dir(&dir, OthersWriting::Refuse).unwrap_err();
        assert!(matches!(
            refused,
            PrivateFsError::WritableByOthers { mode: 0o777, .. }
        ));
        ensure_dir(&dir, OthersWriting::Revoke).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn symlinks_are_not_followed() {
        let dir = scratch("links");
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        let err = ensure_dir(&dir.join("link"), OthersWriting::Revoke).unwrap_err();
        assert!(matches!(err, PrivateFsError::NotADirectory { .. }), "{err}");
        std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("file-link")).unwrap();
        assert!(ensure_file(&dir.join("file-link")).is_err());
        assert!(create_new(&dir.join("file-link")).is_err());
        assert!(
            !dir.join("elsewhere").exists(),
            "nothing written through a link"
        );
    }
}
