//! Small files that someone else may have replaced with something else.
//!
//! A state file or a credentials file is a few hundred bytes. What is found at its path
//! may be a FIFO (an open or read that blocks forever), a device (`/dev/zero`: an endless
//! read), or a huge file. So the file is opened without blocking, refused unless it is a
//! regular file, and read up to a bound. Files written for the operator (ka-notify's marker
//! and history) are written only in a checked directory ([`crate::trusted_dir`]), never
//! through a link, into a FIFO or into a file with another name.

use std::ffi::{CStr, CString};
use std::fs::{File, Metadata};
use std::io::{self, Read as _};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd as _, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::Path;

use crate::trusted_dir;

/// How a path's last component is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A symbolic link is followed (operator-managed files, e.g. a credentials file).
    Follow,
    /// A symbolic link is refused (files in a directory others may write).
    Refuse,
}

/// Opens `path` for reading without blocking and without becoming its controlling tty.
pub fn open(path: &Path, links: Links) -> io::Result<File> {
    open_at(None, path, links)
}

/// [`open`] relative to the directory `dir` (`openat(2)`), or to the working directory.
/// A symbolic link refused is an `InvalidData` error.
pub fn open_at(dir: Option<BorrowedFd<'_>>, path: &Path, links: Links) -> io::Result<File> {
    let mut flags = libc::O_RDONLY;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    openat(
        dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd()),
        &c_path(path)?,
        flags,
        0,
    )
}

/// `path` for a system call.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))
}

/// openat(2) of `name` in `dirfd` with `flags` plus O_NONBLOCK, O_NOCTTY and O_CLOEXEC
/// (`mode` for O_CREAT). The refusals that follow from O_NOFOLLOW and O_NONBLOCK are
/// `InvalidData` errors saying what is there.
fn openat(dirfd: RawFd, name: &CStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
    let flags = flags | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: openat with a NUL-terminated name; the descriptor is owned by the File.
    let fd = unsafe { libc::openat(dirfd, name.as_ptr(), flags, libc::c_uint::from(mode)) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        let refused = |what| io::Error::new(io::ErrorKind::InvalidData, what);
        return Err(match e.raw_os_error() {
            Some(libc::ELOOP) if flags & libc::O_NOFOLLOW != 0 => {
                refused("it is a symbolic link (refused)")
            }
            // O_NONBLOCK, for writing, on a FIFO without a reader.
            Some(libc::ENXIO) if flags & libc::O_ACCMODE != libc::O_RDONLY => {
                refused("it is a FIFO, not a regular file (refused)")
            }
            _ => e,
        });
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Whether `meta` is a regular file; if not, an error saying what it is (`InvalidData`,
/// or `Other` for a directory, which cannot be replaced by renaming a file over it).
fn check_regular(meta: &Metadata) -> io::Result<()> {
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    let kind = if kind.is_dir() {
        io::ErrorKind::Other
    } else {
        io::ErrorKind::InvalidData
    };
    Err(io::Error::new(
        kind,
        format!("it is {what}, not a regular file (refused)"),
    ))
}

/// Whether `meta`'s owner is root or this user; if not, an `InvalidData` error.
pub fn check_owner(meta: &Metadata) -> io::Result<()> {
    if trusted_dir::trusted_owner(meta.uid()) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "it is owned by uid {}, neither root nor this user (refused)",
            meta.uid()
        ),
    ))
}

/// Reads the opened `file` whole, refusing anything but a regular file ("it is a FIFO,
/// not a regular file (refused)") and anything longer than `max` bytes (`InvalidData`).
pub fn read_regular(mut file: File, max: usize) -> io::Result<Vec<u8>> {
    let meta = file.metadata()?;
    check_regular(&meta)?;
    let mut out = Vec::with_capacity(usize::try_from(meta.size()).unwrap_or(max).min(max) + 1);
    // One byte past the bound tells "exactly max" from "longer".
    (&mut file)
        .take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is longer than {max} bytes (refused)"),
        ));
    }
    Ok(out)
}

/// Opens `path` for writing, created (mode 0644) if missing, for ka-notify's marker and
/// history, which root writes where the operator says. Its directory must pass
/// [`crate::trusted_dir`]'s check; the file is never a symbolic link, a FIFO or a device,
/// never a hard link to another file (it must have one name), and owned by root or this
/// user. `append` adds to the end (one `write` per line keeps concurrent writers' lines
/// whole); otherwise the file is truncated.
pub fn create_regular(path: &Path, append: bool) -> io::Result<File> {
    let (dir, name) = parent_and_name(path)?;
    let mut flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW;
    if append {
        flags |= libc::O_APPEND;
    }
    let file = openat(dir.as_raw_fd(), &name, flags, 0o644)?;
    let meta = file.metadata()?;
    check_regular(&meta)?;
    check_owner(&meta)?;
    if meta.nlink() != 1 {
        return Err(io::Error::other(format!(
            "it has {} names (hard links) (refused)",
            meta.nlink()
        )));
    }
    if !append {
        file.set_len(0)?;
    }
    Ok(file)
}

/// Replaces `name` in the open directory `dir` atomically: readers see the old file or
/// the new one, never a part of either, and a crash leaves one of the two. The bytes go to
/// a new file with an unpredictable name, created exclusively and never through a link
/// (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644), synced, then renamed over `name`. Errors
/// name `shown` and the step that failed.
pub fn replace_in(dir: &File, name: &str, bytes: &[u8], shown: &Path) -> io::Result<()> {
    use std::io::Write as _;
    let target = c_path(Path::new(name))?;
    let tmp = c_path(Path::new(&format!(
        ".{name}.{}.tmp",
        crate::token::random_hex()
    )))?;
    let dirfd = dir.as_raw_fd();
    let step = |what: &str, e: io::Error| {
        io::Error::new(e.kind(), format!("{}: {what}: {e}", shown.display()))
    };
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let mut f =
        openat(dirfd, &tmp, flags, 0o644).map_err(|e| step("cannot create a temporary file", e))?;
    let result = (|| {
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| step("cannot write the temporary file", e))?;
        // SAFETY: renameat within the directory the caller holds open.
        if unsafe { libc::renameat(dirfd, tmp.as_ptr(), dirfd, target.as_ptr()) } != 0 {
            return Err(step(
                "cannot rename the temporary file over it",
                io::Error::last_os_error(),
            ));
        }
        dir.sync_all()
            .map_err(|e| step("cannot sync the directory", e))
    })();
    if result.is_err() {
        // SAFETY: unlinkat of the name this function created.
        unsafe { libc::unlinkat(dirfd, tmp.as_ptr(), 0) };
    }
    result
}

/// [`replace_in`] `path`'s directory, created if missing (mode 0755) and checked as for
/// [`create_regular`]: for keepalived-checkd's track, status and metrics files.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a UTF-8 file name"))?;
    let dir = parent_dir(path, true)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    replace_in(&dir, name, bytes, path)
}

/// `path`'s directory (`.` for a bare name), opened after [`crate::trusted_dir`]'s check;
/// `create` makes it (mode 0755) when missing. Errors start "its directory".
pub fn parent_dir(path: &Path, create: bool) -> io::Result<File> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    trusted_dir::open(parent, create)
        .map_err(|e| io::Error::new(e.kind(), format!("its directory {e}")))
}

/// Removes the file `path` (never a directory), its directory checked as for
/// [`create_regular`]. A missing file is `NotFound`.
pub fn remove(path: &Path) -> io::Result<()> {
    let (dir, name) = parent_and_name(path)?;
    // SAFETY: unlinkat with a NUL-terminated name in a directory we hold open.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `path`'s directory, opened after [`crate::trusted_dir`]'s check, and its file name.
fn parent_and_name(path: &Path) -> io::Result<(File, CString)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    Ok((parent_dir(path, false)?, c_path(Path::new(name))?))
}

/// [`open`] then [`read_regular`].
pub fn read(path: &Path, links: Links, max: usize) -> io::Result<Vec<u8>> {
    read_regular(open(path, links)?, max)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Makes a FIFO at `path`; for the unit tests of other modules too.
    pub(crate) fn mkfifo(path: &Path) {
        let c = c_path(path).unwrap();
        // SAFETY: mkfifo with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("kc-small-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn regular_files_up_to_the_bound() {
        let d = scratch("regular");
        let f = d.join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read(&f, Links::Refuse, 5).unwrap(), b"12345");
        let long = read(&f, Links::Refuse, 4).unwrap_err();
        assert_eq!(long.kind(), io::ErrorKind::InvalidData);
        assert!(long.to_string().contains("longer than 4 bytes"), "{long}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn fifos_devices_directories_and_links_are_refused_without_blocking() {
        let d = scratch("odd");
        let fifo = d.join("fifo");
        mkfifo(&fifo);
        let e = read(&fifo, Links::Follow, 64).unwrap_err();
        assert!(e.to_string().contains("a FIFO, not a regular file"), "{e}");
        let e = read(Path::new("/dev/zero"), Links::Follow, 64).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
        let e = read(&d, Links::Follow, 64).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let target = d.join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, Links::Follow, 64).unwrap(), b"x");
        let e = read(&link, Links::Refuse, 64).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // Writing: never through the link (its target keeps its bytes), never a FIFO.
        for append in [false, true] {
            let e = create_regular(&link, append).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
            let e = create_regular(&fifo, append).unwrap_err();
            assert!(e.to_string().contains("a FIFO, not a regular file"), "{e}");
            // A hard link to someone's file is a regular file, but not one to write.
            let hard = d.join("hard");
            let _ = std::fs::remove_file(&hard);
            std::fs::hard_link(&target, &hard).unwrap();
            let e = create_regular(&hard, append).unwrap_err();
            assert!(e.to_string().contains("has 2 names (hard links)"), "{e}");
            std::fs::remove_file(&hard).unwrap();
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"x");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
