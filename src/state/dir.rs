//! The state directory: checked before it is trusted, then used only through its open
//! descriptor, so that nothing another user does to the path afterwards redirects a write.
//!
//! ka-notify runs as root. Whoever can write the state directory could otherwise plant a
//! symbolic link where ka-notify writes, and have root overwrite any file. So:
//! - the directory (symbolic links in its path resolved) and every directory above it must
//!   be owned by root or by the user running ka-notify, and not writable by others unless
//!   the sticky bit is set: the rule keepalived applies to script paths;
//! - a record is written to a new file with an unpredictable name, created exclusively
//!   and never through a link (`O_CREAT|O_EXCL|O_NOFOLLOW`), then renamed over the record;
//! - records are opened without following links or blocking, only regular files owned by
//!   root or this user are read, and at most [`MAX_RECORD`] bytes of them.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::os::fd::{AsFd as _, AsRawFd as _, FromRawFd as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use super::{validate_name, Kind, StateError, StateRecord};
use crate::small_file::{self, Links};

/// The longest state file read; records are under 300 bytes.
pub const MAX_RECORD: usize = 4096;

/// An open, checked state directory.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    dir: File,
}

impl StateDir {
    /// Opens the existing directory `path` after checking that it can be trusted. Errors
    /// name the directory; `NotFound` when it does not exist, `PermissionDenied` when it is
    /// not to be trusted.
    pub fn open(path: &Path) -> io::Result<StateDir> {
        let context = |e: io::Error| {
            io::Error::new(e.kind(), format!("state directory {}: {e}", path.display()))
        };
        let resolved = fs::canonicalize(path).map_err(context)?;
        check_trusted(&resolved).map_err(|why| {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("state directory {}: {why}", shown(path, &resolved)),
            )
        })?;
        let dir = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(&resolved)
            .map_err(context)?;
        // What was checked is what was opened: the same directory, not one swapped in.
        let (checked, opened) = (
            fs::symlink_metadata(&resolved).map_err(context)?,
            dir.metadata().map_err(context)?,
        );
        if (checked.dev(), checked.ino()) != (opened.dev(), opened.ino()) {
            return Err(context(io::Error::other(
                "it changed while it was being opened",
            )));
        }
        Ok(StateDir {
            path: path.to_path_buf(),
            dir,
        })
    }

    /// Creates `path` if needed (mode 0755, parents too) and opens it as [`StateDir::open`]
    /// does.
    pub fn create(path: &Path) -> io::Result<StateDir> {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot create state directory {}: {e}", path.display()),
                ))
            }
        }
        StateDir::open(path)
    }

    /// The path it was opened by.
    pub fn path(&self) -> &Path {
        &self.path
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
    pub fn read(&self, kind: Kind, name: &str) -> Result<Option<StateRecord>, StateError> {
        let file = super::file_name(kind, name);
        let unreadable = |source| StateError::Unreadable {
            path: self.path.join(&file),
            source,
        };
        let opened =
            match small_file::open_at(Some(self.dir.as_fd()), Path::new(&file), Links::Refuse) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(unreadable(e)),
            };
        let owner = opened.metadata().map_err(unreadable)?.uid();
        if !trusted_owner(owner) {
            return Err(unreadable(io::Error::other(format!(
                "it is owned by uid {owner}, neither root nor this user (refused)"
            ))));
        }
        let corrupt = |why| StateError::Corrupt {
            path: self.path.join(&file),
            why,
        };
        let bytes = match small_file::read_regular(opened, MAX_RECORD) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(corrupt(e.to_string())),
            Err(e) => return Err(unreadable(e)),
        };
        let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".into()))?;
        StateRecord::parse(&text).map(Some).map_err(corrupt)
    }

    /// Replaces the state file atomically: readers see the old file or the new one, never a
    /// part of either, and a crash leaves one of the two.
    pub fn write_atomic(&self, record: &StateRecord) -> io::Result<()> {
        validate_name(&record.name).map_err(io::Error::other)?;
        let target = c_name(&super::file_name(record.kind, &record.name))?;
        let tmp = c_name(&format!(
            ".{}.{}.tmp",
            super::file_name(record.kind, &record.name),
            crate::token::random_hex()
        ))?;
        let dirfd = self.dir.as_raw_fd();
        // SAFETY: openat with NUL-terminated names; the new descriptor is owned below.
        let fd = unsafe {
            libc::openat(
                dirfd,
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o644 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        let mut f = unsafe { File::from_raw_fd(fd) };
        let result = (|| {
            f.write_all(record.to_text().as_bytes())?;
            f.sync_all()?;
            // SAFETY: renameat within the directory this value owns.
            if unsafe { libc::renameat(dirfd, tmp.as_ptr(), dirfd, target.as_ptr()) } != 0 {
                return Err(io::Error::last_os_error());
            }
            self.dir.sync_all()
        })();
        if result.is_err() {
            // SAFETY: unlinkat of the name this function created.
            unsafe { libc::unlinkat(dirfd, tmp.as_ptr(), 0) };
        }
        result
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

/// Why `dir` (absolute, links resolved) is not to be trusted, if it is not: it or a
/// directory above it is owned by another user than root or us, or writable by others
/// without the sticky bit.
fn check_trusted(dir: &Path) -> Result<(), String> {
    for d in dir.ancestors() {
        let meta =
            fs::symlink_metadata(d).map_err(|e| format!("cannot check {}: {e}", d.display()))?;
        let here = if d == dir {
            String::new()
        } else {
            format!(" (above it, {})", d.display())
        };
        if !trusted_owner(meta.uid()) {
            return Err(format!(
                "owned by uid {}, neither root nor this user{here}: refused",
                meta.uid()
            ));
        }
        let mode = meta.mode();
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            let who = if mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            };
            return Err(format!(
                "writable by {who} without the sticky bit (mode {:04o}){here}: refused, as keepalived refuses such script paths",
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

/// Root, or the user this process runs as.
fn trusted_owner(uid: u32) -> bool {
    // SAFETY: geteuid has no preconditions.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a name"))
}

fn shown(given: &Path, resolved: &Path) -> String {
    if given == resolved {
        given.display().to_string()
    } else {
        format!("{} (= {})", given.display(), resolved.display())
    }
}
