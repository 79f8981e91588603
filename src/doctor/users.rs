//! Users and groups on the examined system: who a script will run as, for "may this user
//! run it".
//!
//! keepalived looks names up with `getpwnam_r`/`getgrnam_r` (a number is a name like any
//! other, so `user 0` names no user), and runs a script with the user's id and one group:
//! the one configured, or the user's primary group (`setgroups(1, &gid)`); supplementary
//! groups give no access. On the running system the C library answers, so users from LDAP
//! or sssd count as keepalived would see them; under another root its own `/etc/passwd`
//! and `/etc/group` are read.

use std::ffi::{CStr, CString};
use std::path::Path;

use super::rooted::Root;

/// Who a script runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name.
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The one group it runs with.
    pub gid: u32,
}

/// Looks up users on the examined system.
#[derive(Debug, Clone)]
pub struct Users {
    root: Root,
}

impl Users {
    /// The users of the system under `root`.
    pub fn new(root: &Root) -> Users {
        Users { root: root.clone() }
    }

    /// The user `name`, with its primary group, if it exists.
    pub fn find(&self, name: &str) -> Option<User> {
        if self.root.is_system() {
            return system_user(name);
        }
        // A root without a passwd file still has root, which keepalived falls back to.
        self.file_user(name).or_else(|| {
            (name == "root").then(|| User {
                name: "root".into(),
                uid: 0,
                gid: 0,
            })
        })
    }

    /// The id of the group `name`, if it exists.
    pub fn group(&self, name: &str) -> Option<u32> {
        if self.root.is_system() {
            let c = CString::new(name).ok()?;
            // SAFETY: getgrnam with a NUL-terminated name; the result is read at once,
            // before any other call could overwrite it.
            let group = unsafe { libc::getgrnam(c.as_ptr()) };
            // SAFETY: non-null results point to a valid struct group.
            return (!group.is_null()).then(|| unsafe { (*group).gr_gid });
        }
        self.table("/etc/group")
            .iter()
            .find(|f| f.len() >= 3 && f[0] == name)
            .and_then(|f| f[2].parse().ok())
    }

    fn table(&self, path: &str) -> Vec<Vec<String>> {
        let text = self
            .root
            .read(Path::new(path), 1 << 20)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split(':').map(str::to_string).collect())
            .collect()
    }

    fn file_user(&self, name: &str) -> Option<User> {
        let passwd = self.table("/etc/passwd");
        let entry = passwd.iter().find(|f| f.len() >= 4 && f[0] == name)?;
        Some(User {
            name: entry[0].clone(),
            uid: entry[2].parse().ok()?,
            gid: entry[3].parse().ok()?,
        })
    }
}

fn system_user(name: &str) -> Option<User> {
    let c = CString::new(name).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: passwd is plain data filled in by getpwnam_r.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: the buffers outlive the call; result points into pw or is null.
    let rc = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: pw_name points into buf, NUL-terminated, while buf lives.
    let user_name = unsafe { CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    Some(User {
        name: user_name,
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_on_this_system_and_a_made_up_user_does_not() {
        let users = Users::new(&Root::new("/"));
        let root = users.find("root").expect("root");
        assert_eq!((root.uid, root.gid), (0, 0));
        // A number is a name keepalived looks up, and no user is called 0.
        assert!(users.find("0").is_none());
        assert!(users.find("no-such-user-kc").is_none());
        assert_eq!(users.group("root"), Some(0));
        assert!(users.group("no-such-group-kc").is_none());
    }

    #[test]
    fn another_root_has_its_own_passwd() {
        let dir = std::env::temp_dir().join(format!("kc-users-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nkeepalived_script:x:990:985::/:/usr/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("etc/group"),
            "root:x:0:\nvideo:x:44:keepalived_script\n",
        )
        .unwrap();
        let users = Users::new(&Root::new(&dir));
        let u = users
            .find("keepalived_script")
            .expect("in the root's passwd");
        assert_eq!((u.uid, u.gid), (990, 985));
        assert!(users.find("nobody-here").is_none());
        assert_eq!(users.group("video"), Some(44));
        assert!(users.group("audio").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
