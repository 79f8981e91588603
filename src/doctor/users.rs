//! Users and groups on the examined system: who a script will run as, and which groups
//! that user is in, for "may this user run it".
//!
//! On the running system the C library answers (`getpwnam_r`, `getgrouplist`), so users
//! from LDAP or sssd count as keepalived would see them. Under another root the root's own
//! `/etc/passwd` and `/etc/group` are read.

use std::ffi::{CStr, CString};
use std::path::Path;

use super::rooted::Root;

/// A user, as far as permissions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name.
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The primary group.
    pub gid: u32,
    /// Every group the user is in, the primary one included.
    pub groups: Vec<u32>,
}

impl User {
    /// Whether the user is in group `gid`.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }
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

    /// The user `name` (or a numeric uid, as keepalived accepts), if it exists.
    pub fn find(&self, name: &str) -> Option<User> {
        if self.root.is_system() {
            return system_user(name);
        }
        // A root without a passwd file still has root, which keepalived falls back to.
        self.file_user(name).or_else(|| {
            matches!(name, "root" | "0").then(|| User {
                name: "root".into(),
                uid: 0,
                gid: 0,
                groups: Vec::new(),
            })
        })
    }

    /// Whether the group `name` (or a numeric gid) exists.
    pub fn group_exists(&self, name: &str) -> bool {
        if name.parse::<u32>().is_ok() {
            return true;
        }
        if self.root.is_system() {
            let Ok(c) = CString::new(name) else {
                return false;
            };
            // SAFETY: getgrnam with a NUL-terminated name; only the null-ness of the
            // result is used, before any other call could overwrite it.
            return !unsafe { libc::getgrnam(c.as_ptr()) }.is_null();
        }
        self.table("/etc/group")
            .iter()
            .any(|fields| fields.first().is_some_and(|n| n == name))
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
        let by_uid = name.parse::<u32>().ok();
        let entry = passwd.iter().find(|f| {
            f.len() >= 4 && (f[0] == name || by_uid.is_some_and(|u| f[2].parse::<u32>() == Ok(u)))
        })?;
        let uid = entry[2].parse().ok()?;
        let gid = entry[3].parse().ok()?;
        let user_name = entry[0].clone();
        let groups = self
            .table("/etc/group")
            .iter()
            .filter(|g| g.len() >= 4 && g[3].split(',').any(|m| m == user_name))
            .filter_map(|g| g[2].parse().ok())
            .collect();
        Some(User {
            name: user_name,
            uid,
            gid,
            groups,
        })
    }
}

fn system_user(name: &str) -> Option<User> {
    let c = CString::new(name).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: passwd is plain data filled in by getpwnam_r/getpwuid_r.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: the buffers outlive the calls; result points into pw or is null.
    let rc = match name.parse::<u32>() {
        Ok(uid) => unsafe {
            libc::getpwuid_r(
                uid,
                &mut pw,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        },
        Err(_) => unsafe {
            libc::getpwnam_r(
                c.as_ptr(),
                &mut pw,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        },
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: pw_name points into buf, NUL-terminated, while buf lives.
    let user_name = unsafe { CStr::from_ptr(pw.pw_name) }
        .to_string_lossy()
        .into_owned();
    let (uid, gid) = (pw.pw_uid, pw.pw_gid);
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut count = groups.len() as libc::c_int;
    let c_name = CString::new(user_name.clone()).ok()?;
    // SAFETY: groups has room for count entries; getgrouplist says how many it wrote.
    let rc = unsafe { libc::getgrouplist(c_name.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
    groups.truncate(if rc < 0 { 0 } else { count.max(0) as usize });
    Some(User {
        name: user_name,
        uid,
        gid,
        groups,
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
        assert_eq!(users.find("0").map(|u| u.name), Some("root".into()));
        assert!(users.find("no-such-user-kc").is_none());
        assert!(users.group_exists("root") && !users.group_exists("no-such-group-kc"));
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
        assert_eq!((u.uid, u.gid, u.groups.clone()), (990, 985, vec![44]));
        assert!(u.in_group(985) && u.in_group(44) && !u.in_group(0));
        assert!(users.find("nobody-here").is_none());
        assert!(users.group_exists("video") && !users.group_exists("audio"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
