//! The state directory: checked before it is trusted, then used only through its open
//! descriptor, so that nothing another user does to the path afterwards redirects a write.
//!
//! ka-notify runs as root. Whoever can write the state directory could otherwise plant a
//! symbolic link where ka-notify writes, and have root overwrite any file. So:
//! - the directory, every directory above it and every symbolic link on the way are
//!   checked ([`crate::trusted_dir`]): owned by root or by the user running ka-notify, and
//!   not writable by others unless the sticky bit is set, the rule keepalived applies to
//!   script paths;
//! - a record is written to a new file with an unpredictable name, created exclusively
//!   and never through a link (`O_CREAT|O_EXCL|O_NOFOLLOW`), then renamed over the record;
//! - records are opened without following links or blocking, only regular files owned by
//!   root or this user are read, and at most [`MAX_RECORD`] bytes of them; anything else is
//!   a corrupt record, replaced by the next event.

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::path::{Path, PathBuf};

use super::{validate_name, Kind, StateError, StateRecord};
use crate::small_file::{self, Links};
use crate::trusted_dir;

/// The longest state file read; records are under 300 bytes.
pub const MAX_RECORD: usize = 4096;

/// An open, checked state directory.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    dir: File,
}

impl StateDir {
    /// Opens the existing directory `path` after checking it and every directory and link
    /// on the way ([`crate::trusted_dir`]). Errors name the directory; `NotFound` when it
    /// does not exist, `PermissionDenied` when it is not to be trusted.
    pub fn open(path: &Path) -> io::Result<StateDir> {
        StateDir::opened(path, false)
    }

    /// Creates `path` if needed (mode 0755, parents too, each under a checked directory)
    /// and opens it as [`StateDir::open`] does.
    pub fn create(path: &Path) -> io::Result<StateDir> {
        StateDir::opened(path, true)
    }

    fn opened(path: &Path, create: bool) -> io::Result<StateDir> {
        let dir = trusted_dir::open(path, create)
            .map_err(|e| io::Error::new(e.kind(), format!("state directory {e}")))?;
        Ok(StateDir {
            path: path.to_path_buf(),
            dir,
        })
    }

    /// The state file of `kind` `name`, for messages.
    pub fn file(&self, kind: Kind, name: &str) -> PathBuf {
        self.path.join(super::file_name(kind, name))
    }

    /// Locks the directory exclusively, waiting for other ka-notify processes to finish
    /// with it; unlocked when the guard is dropped.
    pub fn lock(&self) -> io::Result<DirLock<'_>> {
        // SAFETY: flock(2) on a descriptor this value owns.
        if unsafe { libc::flock(self.dir.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(DirLock { dir: &self.dir })
    }

    /// Reads the state file of `kind` `name`: `Ok(None)` when there is none.
    ///
    /// What ka-notify cannot have written (a symbolic link, a FIFO, a device, a file of
    /// another user) is corrupt and so replaced by the next event: in a sticky directory
    /// anyone may plant such a thing, and leaving it would stop every event for good. What
    /// could not be read (EACCES, EIO, a directory in its place) is unreadable and left
    /// alone.
    pub fn read(&self, kind: Kind, name: &str) -> Result<Option<StateRecord>, StateError> {
        let file = super::file_name(kind, name);
        let unreadable = |source| StateError::Unreadable {
            path: self.path.join(&file),
            source,
        };
        let corrupt = |why| StateError::Corrupt {
            path: self.path.join(&file),
            why,
        };
        // What ka-notify cannot have written is corrupt (small_file's InvalidData).
        let classify = |e: io::Error| {
            if e.kind() == io::ErrorKind::InvalidData {
                corrupt(e.to_string())
            } else {
                unreadable(e)
            }
        };
        let opened =
            match small_file::open_at(Some(self.dir.as_fd()), Path::new(&file), Links::Refuse) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(classify(e)),
            };
        opened
            .metadata()
            .and_then(|meta| small_file::check_owner(&meta))
            .map_err(classify)?;
        let bytes = small_file::read_regular(opened, MAX_RECORD).map_err(classify)?;
        let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".into()))?;
        StateRecord::parse(&text).map(Some).map_err(corrupt)
    }

    /// Replaces the state file atomically: readers see the old file or the new one, never a
    /// part of either, and a crash leaves one of the two.
    pub fn write_atomic(&self, record: &StateRecord) -> io::Result<()> {
        validate_name(&record.name).map_err(io::Error::other)?;
        let name = super::file_name(record.kind, &record.name);
        let shown = self.file(record.kind, &record.name);
        small_file::replace_in(&self.dir, &name, record.to_text().as_bytes(), &shown)
    }

    /// Every state file, sorted by kind and name; unusable ones as errors, after the
    /// records. A file removed while listing is left out.
    pub fn list(&self) -> io::Result<Vec<Result<StateRecord, StateError>>> {
        let context = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("cannot list {}: {e}", self.path.display()),
            )
        };
        let mut out = Vec::new();
        for entry in
            fs::read_dir(format!("/proc/self/fd/{}", self.dir.as_raw_fd())).map_err(context)?
        {
            let entry = entry.map_err(context)?;
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some((name, kind)) = file.rsplit_once('.') else {
                continue;
            };
            let kind = match kind {
                "instance" => Kind::Instance,
                "group" => Kind::Group,
                _ => continue,
            };
            if validate_name(name).is_err() {
                continue;
            }
            match self.read(kind, name) {
                Ok(Some(record)) => out.push(Ok(record)),
                Ok(None) => {}
                Err(e) => out.push(Err(e)),
            }
        }
        out.sort_by_key(|r| match r {
            Ok(rec) => (0, rec.kind.as_str(), rec.name.clone()),
            Err(e) => (1, "", e.to_string()),
        });
        Ok(out)
    }
}

/// An exclusive lock on a state directory, held until dropped.
#[derive(Debug)]
pub struct DirLock<'a> {
    dir: &'a File,
}

impl Drop for DirLock<'_> {
    fn drop(&mut self) {
        // SAFETY: flock(2) on the descriptor the StateDir still owns.
        unsafe { libc::flock(self.dir.as_raw_fd(), libc::LOCK_UN) };
    }
}
