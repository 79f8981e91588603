//! Directories root may write in: checked component by component before they are used,
//! then used only through an open descriptor.
//!
//! ka-notify runs as root and writes its state files, marker and history where the
//! operator says. Whoever can change a directory on that path, or a symbolic link in it,
//! could otherwise steer root's writes to any file. So the path is walked from `/` without
//! trusting the kernel to resolve it:
//! - every directory on the way (links resolved) must be owned by root or by this user, and
//!   not writable by its group or others unless the sticky bit is set: the rule keepalived
//!   applies to script paths;
//! - every symbolic link on the way must be owned by root or by this user (in a checked
//!   directory nobody else can then replace it);
//! - missing directories are created (mode 0755) only under a checked one.
//!
//! Nobody else can change a checked directory, so the one opened at the end is the one
//! checked.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Component, Path, PathBuf};

/// Symbolic links followed before giving up, as the kernel's limit.
pub(crate) const MAX_LINKS: u32 = 40;

/// Opens the directory `path` after checking it and everything on the way to it;
/// `create` makes missing directories. Errors name the path as given; `NotFound` when it
/// does not exist, `PermissionDenied` when it is not to be trusted.
pub fn open(path: &Path, create: bool) -> io::Result<File> {
    let context = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let refused = |why: String| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{}: {why}", path.display()),
        )
    };
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(context)?.join(path)
    };
    // Components still to walk, the next one last.
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, &absolute);
    let mut current = PathBuf::from("/");
    let mut last = fs::symlink_metadata(&current).map_err(context)?;
    check_dir(&current, &last).map_err(refused)?;
    let mut links = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            // `current` was reached from `/` one checked directory at a time.
            current.pop();
            last = fs::symlink_metadata(&current).map_err(context)?;
            continue;
        }
        let next = current.join(&part);
        let meta = match fs::symlink_metadata(&next) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                match fs::DirBuilder::new().mode(0o755).create(&next) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                        return Err(context(io::Error::new(
                            e.kind(),
                            format!("cannot create {}: {e}", next.display()),
                        )))
                    }
                    _ => fs::symlink_metadata(&next).map_err(context)?,
                }
            }
            other => other.map_err(context)?,
        };
        if meta.file_type().is_symlink() {
            if !trusted_owner(meta.uid()) {
                return Err(refused(format!(
                    "{} is a symbolic link owned by uid {}, neither root nor this user: refused",
                    next.display(),
                    meta.uid()
                )));
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(context(io::Error::other("too many symbolic links")));
            }
            let target = fs::read_link(&next).map_err(context)?;
            if target.is_absolute() {
                current = PathBuf::from("/");
            }
            push_components(&mut todo, &target);
        } else if meta.is_dir() {
            check_dir(&next, &meta).map_err(refused)?;
            current = next;
            last = meta;
        } else {
            return Err(context(io::Error::other(format!(
                "{} is not a directory",
                next.display()
            ))));
        }
    }
    let dir = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&current)
        .map_err(context)?;
    let opened = dir.metadata().map_err(context)?;
    if (opened.dev(), opened.ino()) != (last.dev(), last.ino()) {
        return Err(context(io::Error::other(
            "it changed while it was being opened",
        )));
    }
    Ok(dir)
}

/// Pushes `path`'s components so that the first is popped first.
pub(crate) fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    todo.extend(parts.into_iter().rev());
}

/// Why directory `dir` is not to be trusted, if it is not.
fn check_dir(dir: &Path, meta: &Metadata) -> Result<(), String> {
    if !trusted_owner(meta.uid()) {
        return Err(format!(
            "{} is owned by uid {}, neither root nor this user: refused",
            dir.display(),
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
            "{} is writable by {who} without the sticky bit (mode {:04o}): refused, as keepalived refuses such script paths",
            dir.display(),
            mode & 0o7777
        ));
    }
    Ok(())
}

/// Root, or the user this process runs as.
pub fn trusted_owner(uid: u32) -> bool {
    // SAFETY: geteuid has no preconditions.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kc-trusted-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Gives `path` (a link itself, not its target) to `uid`; for other modules' tests too.
    pub(crate) fn chown(path: &Path, uid: u32) {
        let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
            .unwrap();
        // SAFETY: lchown with a NUL-terminated path. The tests run as root (CI does).
        assert_eq!(
            unsafe { libc::lchown(c.as_ptr(), uid, uid) },
            0,
            "lchown needs root"
        );
    }

    #[test]
    fn a_link_someone_else_planted_is_not_followed() {
        // /tmp is sticky: anyone may put a link there, pointing at a directory root
        // trusts. Before, the resolved directory was checked and passed.
        let d = scratch("planted");
        let link = d.join("state");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        chown(&link, 65534);
        fs::set_permissions(&d, fs::Permissions::from_mode(0o1777)).unwrap();
        for create in [false, true] {
            let e = open(&link.join("sub"), create).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
            assert!(
                e.to_string().contains("a symbolic link owned by uid 65534"),
                "{e}"
            );
        }
        // Root's own link is followed, and the directories it leads to are checked.
        chown(&link, 0);
        assert!(open(&link, false).is_ok());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directories_are_created_only_under_checked_ones() {
        let d = scratch("create");
        let deep = d.join("a/b/../c/./d");
        assert!(open(&deep, false).unwrap_err().kind() == io::ErrorKind::NotFound);
        open(&deep, true).unwrap();
        assert!(d.join("a/c/d").is_dir());
        assert_eq!(fs::metadata(d.join("a/c")).unwrap().mode() & 0o777, 0o755);
        fs::set_permissions(d.join("a"), fs::Permissions::from_mode(0o777)).unwrap();
        let e = open(&d.join("a/new"), true).unwrap_err();
        assert!(e.to_string().contains("writable by everyone"), "{e}");
        assert!(!d.join("a/new").exists(), "nothing created under it");
        let file = d.join("file");
        fs::write(&file, "").unwrap();
        let e = open(&file, false).unwrap_err();
        assert!(e.to_string().contains("is not a directory"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
