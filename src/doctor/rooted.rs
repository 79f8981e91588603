//! The file system as keepalived on the examined system sees it: every path is absolute
//! and lies under a root (`/`, or `--root DIR` for an image, a container or a test), and
//! symbolic links are resolved inside that root, as a chroot would.
//!
//! The doctor walks paths itself rather than asking the kernel, because keepalived's rules
//! are about each component on the way (who owns it, who may write it), and because the
//! doctor need not run as the user the question is about: `access(2)` answers for the
//! caller only.

use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};

use crate::small_file::{self, Links};
use crate::trusted_dir::{push_components, MAX_LINKS};

/// A root directory under which absolute paths are looked up.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
}

/// One component met on the way to a path's end.
#[derive(Debug, Clone)]
pub struct Step {
    /// The component's path inside the root.
    pub path: PathBuf,
    /// Its own metadata (`lstat`).
    pub meta: Metadata,
}

/// A path resolved inside the root.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where the links led, inside the root.
    pub target: PathBuf,
    /// Every directory passed through (`/` first), every link followed, in order; the
    /// target itself is last.
    pub steps: Vec<Step>,
}

impl Resolved {
    /// The target's metadata.
    pub fn meta(&self) -> &Metadata {
        // A resolution always ends with its target.
        &self.steps[self.steps.len() - 1].meta
    }

    /// The directories of the target's own path (its parents, from `/`), links resolved:
    /// what keepalived checks after `realpath(3)`.
    pub fn real_parents(&self) -> impl Iterator<Item = &Step> {
        let parents: Vec<&Path> = self.target.ancestors().skip(1).collect();
        self.steps
            .iter()
            .filter(move |s| s.meta.is_dir() && parents.contains(&s.path.as_path()))
    }
}

impl Root {
    /// The root `dir` (`/` for the running system).
    pub fn new(dir: impl Into<PathBuf>) -> Root {
        Root { dir: dir.into() }
    }

    /// Whether this is the running system's own root.
    pub fn is_system(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// Where `path` (absolute, inside the root) is on this machine.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        let inside = path.strip_prefix("/").unwrap_or(path);
        self.dir.join(inside)
    }

    /// The path inside the root of `host` (a path [`Root::host_path`] made), or `host`.
    pub fn inside(&self, host: &Path) -> PathBuf {
        if self.is_system() {
            return host.to_path_buf();
        }
        match host.strip_prefix(&self.dir) {
            Ok(rest) => Path::new("/").join(rest),
            Err(_) => host.to_path_buf(),
        }
    }

    /// `lstat` of `path` inside the root.
    pub fn lstat(&self, path: &Path) -> io::Result<Metadata> {
        fs::symlink_metadata(self.host_path(path))
    }

    /// Follows `path` (absolute) from `/` one component at a time, links resolved inside
    /// the root. Errors keep their kind (`PermissionDenied`: the doctor may not look) and
    /// say which component is missing or not a directory.
    pub fn resolve(&self, path: &Path) -> io::Result<Resolved> {
        let at = |p: &Path, e: io::Error| match e.kind() {
            io::ErrorKind::NotFound => {
                io::Error::new(e.kind(), format!("{} does not exist", p.display()))
            }
            _ => io::Error::new(e.kind(), format!("{}: {e}", p.display())),
        };
        let mut todo: Vec<OsString> = Vec::new();
        push_components(&mut todo, path);
        let mut current = PathBuf::from("/");
        let root_meta = self.lstat(&current).map_err(|e| at(&self.dir, e))?;
        let mut steps = vec![Step {
            path: current.clone(),
            meta: root_meta,
        }];
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                current.pop();
                continue;
            }
            let next = current.join(&part);
            let meta = self.lstat(&next).map_err(|e| at(&next, e))?;
            let is_link = meta.file_type().is_symlink();
            let is_dir = meta.is_dir();
            steps.push(Step {
                path: next.clone(),
                meta,
            });
            if is_link {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::other(format!(
                        "{}: too many symbolic links",
                        path.display()
                    )));
                }
                let target = fs::read_link(self.host_path(&next)).map_err(|e| at(&next, e))?;
                if target.is_absolute() {
                    current = PathBuf::from("/");
                }
                push_components(&mut todo, &target);
                continue;
            }
            if !todo.is_empty() && !is_dir {
                return Err(io::Error::other(format!(
                    "{} is not a directory",
                    next.display()
                )));
            }
            current = next;
        }
        Ok(Resolved {
            target: current,
            steps,
        })
    }

    /// The first `max` bytes of the regular file `path`, or why not.
    pub fn read(&self, path: &Path, max: usize) -> io::Result<Vec<u8>> {
        small_file::read(&self.host_path(path), Links::Follow, max)
    }

    /// The paths inside the root that the glob `pattern` (absolute) matches, sorted;
    /// `glob(3)` does the matching with `{a,b}` braces, as keepalived's include does.
    pub fn glob(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let host = self.host_path(pattern);
        let c = CString::new(host.into_os_string().into_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
        // SAFETY: glob_t is plain data that glob(3) fills in; zeroed is its documented
        // initial state.
        let mut found: libc::glob_t = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated pattern, no error callback, and globfree below.
        let rc = unsafe { libc::glob(c.as_ptr(), libc::GLOB_BRACE, None, &mut found) };
        let mut out = Vec::new();
        if rc == 0 {
            for i in 0..found.gl_pathc {
                // SAFETY: glob(3) set gl_pathc NUL-terminated strings in gl_pathv.
                let p = unsafe { std::ffi::CStr::from_ptr(*found.gl_pathv.add(i)) };
                out.push(self.inside(Path::new(OsStr::from_bytes(p.to_bytes()))));
            }
        }
        // SAFETY: found was filled by glob(3) (or is still zeroed, which globfree accepts).
        unsafe { libc::globfree(&mut found) };
        match rc {
            0 | libc::GLOB_NOMATCH => Ok(out),
            libc::GLOB_ABORTED => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "a directory could not be read",
            )),
            _ => Err(io::Error::other("glob(3) failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kc-rooted-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("usr/bin")).unwrap();
        fs::create_dir_all(dir.join("etc/keepalived")).unwrap();
        dir
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = scratch("links");
        fs::write(dir.join("usr/bin/check"), "x").unwrap();
        // An absolute link means the root's /usr/bin, not the host's.
        symlink("/usr/bin/check", dir.join("etc/keepalived/check")).unwrap();
        symlink("keepalived/check", dir.join("etc/rel")).unwrap();
        symlink("../keepalived/check", dir.join("etc/keepalived/up")).unwrap();
        let root = Root::new(&dir);
        let r = root.resolve(Path::new("/etc/keepalived/check")).unwrap();
        assert_eq!(r.target, Path::new("/usr/bin/check"));
        assert!(r.meta().is_file());
        let parents: Vec<_> = r.real_parents().map(|s| s.path.clone()).collect();
        assert_eq!(parents, ["/", "/usr", "/usr/bin"].map(PathBuf::from));
        for path in ["/etc/rel", "/etc/keepalived/up"] {
            let r = root.resolve(Path::new(path)).unwrap();
            assert_eq!(r.target, Path::new("/usr/bin/check"), "{path}");
        }
        let missing = root.resolve(Path::new("/etc/nothing/x")).unwrap_err();
        assert_eq!(missing.to_string(), "/etc/nothing does not exist");
        let not_dir = root.resolve(Path::new("/usr/bin/check/x")).unwrap_err();
        assert_eq!(not_dir.to_string(), "/usr/bin/check is not a directory");
        symlink("loop", dir.join("etc/loop")).unwrap();
        assert!(root
            .resolve(Path::new("/etc/loop"))
            .unwrap_err()
            .to_string()
            .contains("too many"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn globs_match_inside_the_root() {
        let dir = scratch("glob");
        for name in ["b.conf", "a.conf", "c.txt"] {
            fs::write(dir.join("etc/keepalived").join(name), "").unwrap();
        }
        let root = Root::new(&dir);
        assert_eq!(
            root.glob(Path::new("/etc/keepalived/*.conf")).unwrap(),
            ["/etc/keepalived/a.conf", "/etc/keepalived/b.conf"].map(PathBuf::from)
        );
        assert!(root.glob(Path::new("/etc/none/*.conf")).unwrap().is_empty());
        let _ = fs::remove_dir_all(&dir);
    }
}
