//! ka-notify's state files: what keepalived last said about each VRRP instance and group.
//!
//! One small `key=value` file per instance (`NAME.instance`) or group (`NAME.group`) in a
//! state directory, by default under /run so that no stale MASTER survives a reboot.
//! Written atomically (temporary file in the same directory, fsync, rename, fsync of the
//! directory) under an exclusive lock on the directory, and never by an event older than
//! the one on disk. Read by `ka-notify status` and by the checks' `--only-if-master`.
//!
//! - [`dir`]: the directory, checked before it is trusted; reading, writing, locking.
//! - [`order`]: the order of events.

pub mod dir;
pub mod order;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use dir::{DirLock, StateDir};
pub use order::{BootId, Seq};

/// Where state files live unless `--state-dir` says otherwise.
pub const DEFAULT_STATE_DIR: &str = "/run/keepalived-checks";

/// Whether an event is about a VRRP instance or a sync group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `INSTANCE`.
    Instance,
    /// `GROUP`.
    Group,
}

impl Kind {
    /// As keepalived writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instance => "INSTANCE",
            Kind::Group => "GROUP",
        }
    }

    /// Parses `INSTANCE` / `GROUP` (any case).
    pub fn parse(s: &str) -> Result<Kind, String> {
        match s.to_ascii_uppercase().as_str() {
            "INSTANCE" => Ok(Kind::Instance),
            "GROUP" => Ok(Kind::Group),
            _ => Err(format!("'{s}' is neither INSTANCE nor GROUP")),
        }
    }

    /// The state file's extension.
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Instance => "instance",
            Kind::Group => "group",
        }
    }
}

/// A VRRP state as keepalived reports it to notify scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VrrpState {
    /// MASTER.
    Master,
    /// BACKUP.
    Backup,
    /// FAULT.
    Fault,
    /// STOP (keepalived is shutting the instance down).
    Stop,
    /// DELETED (removed on reload; only with notify_deleted).
    Deleted,
}

impl VrrpState {
    /// Every state, for help texts and parsing lists.
    pub const ALL: [VrrpState; 5] = [
        VrrpState::Master,
        VrrpState::Backup,
        VrrpState::Fault,
        VrrpState::Stop,
        VrrpState::Deleted,
    ];

    /// As keepalived writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VrrpState::Master => "MASTER",
            VrrpState::Backup => "BACKUP",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
            VrrpState::Deleted => "DELETED",
        }
    }

    /// Parses a state name (any case).
    pub fn parse(s: &str) -> Result<VrrpState, String> {
        let upper = s.to_ascii_uppercase();
        VrrpState::ALL
            .into_iter()
            .find(|st| st.as_str() == upper)
            .ok_or_else(|| format!("unknown state '{s}' (MASTER, BACKUP, FAULT, STOP or DELETED)"))
    }
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last second RFC 3339 can write (9999-12-31T23:59:59Z); a record claiming a later
/// time is corrupt.
const LAST_UNIX_TIME: u64 = 253_402_300_799;

/// One state file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    /// Instance or group.
    pub kind: Kind,
    /// Its name in keepalived.conf.
    pub name: String,
    /// The state keepalived reported.
    pub state: VrrpState,
    /// The priority reported with it (0 for groups).
    pub priority: u8,
    /// When the event was handled.
    pub time: SystemTime,
    /// The event's order.
    pub seq: Seq,
}

impl StateRecord {
    /// The file's text: `key=value` lines, readable by people and by `source` in shells.
    pub fn to_text(&self) -> String {
        let secs = self
            .time
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        format!(
            "type={}\nname={}\nstate={}\npriority={}\ntime={}\nunix_time={secs}\nseq={}\n{}",
            self.kind.as_str(),
            self.name,
            self.state,
            self.priority,
            humantime::format_rfc3339_seconds(self.time),
            self.seq,
            self.seq
                .boot
                .map(|b| format!("boot_id={b}\n"))
                .unwrap_or_default()
        )
    }

    /// Parses a state file; any missing or malformed field makes the whole file corrupt.
    /// `boot_id=` may be missing (files written before it was): such a record is older
    /// than any event.
    pub fn parse(text: &str) -> Result<StateRecord, String> {
        let find = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        };
        let get = |key: &str| find(key).ok_or_else(|| format!("no {key}="));
        let boot = find("boot_id").map(str::parse::<BootId>).transpose()?;
        Ok(StateRecord {
            kind: Kind::parse(get("type")?)?,
            name: get("name")
                .and_then(|n| validate_name(n).map(|()| n))?
                .to_string(),
            state: VrrpState::parse(get("state")?)?,
            priority: get("priority")?
                .parse()
                .map_err(|_| "bad priority=".to_string())?,
            time: get("unix_time")?
                .parse()
                .ok()
                .filter(|&secs| secs <= LAST_UNIX_TIME)
                .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
                .ok_or_else(|| "bad unix_time= (not a time from 1970 to 9999)".to_string())?,
            seq: Seq::parse(get("seq")?, boot).ok_or("bad seq=")?,
        })
    }
}

/// Instance and group names become file names: refuse anything that could escape the
/// directory or hide the file.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | ':'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name '{name}' is not a usable instance/group name (letters, digits, _ - . @ :)"
        ))
    }
}

/// The state file's name for `kind` `name`: `VI_1.instance`, `G1.group`.
pub fn file_name(kind: Kind, name: &str) -> String {
    format!("{name}.{}", kind.suffix())
}

/// Why a state file could not be used. The two are handled differently: a corrupt file is
/// replaced by the next event, but one that could not be read (EACCES, EIO, a directory in
/// its place) is left alone, since what it holds is unknown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file was read but does not hold a valid record.
    #[error("{} is corrupt: {why}", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file exists (or may) but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The state file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// What `--only-if-master NAME` decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// This node is MASTER for NAME: run the check.
    Run,
    /// Not MASTER: skip, with the reason for the status line.
    Skip(String),
    /// No readable state: skip too, but this may be a misconfiguration worth a warning.
    Unknown(String),
}

/// Decides `--only-if-master NAME`: run only when NAME's state file (instance, else group)
/// says MASTER. A missing or corrupt file means "not MASTER", as the seed's
/// `if ls /etc/keepalived/MASTER` did: a check that fails on a standby whose service is
/// stopped on purpose would turn it FAULT and cost the cluster its standby.
///
/// A state directory that cannot be trusted ([`dir`]) is an error: like a typo, it must
/// fail the check on every node rather than be skipped on some.
pub fn master_gate(path: &Path, name: &str) -> Result<Gate, io::Error> {
    let none = || {
        Gate::Unknown(format!(
            "not MASTER: no state for {name} in {} (is ka-notify its notify script?)",
            path.display()
        ))
    };
    let dir = match StateDir::open(path) {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(none()),
        Err(e) => return Err(e),
    };
    let found = dir.read(Kind::Instance, name).and_then(|r| match r {
        Some(rec) => Ok(Some(rec)),
        None => dir.read(Kind::Group, name),
    });
    Ok(match found {
        Ok(Some(rec)) if rec.state == VrrpState::Master => Gate::Run,
        Ok(Some(rec)) => Gate::Skip(format!(
            "not MASTER: {name} is {} since {}",
            rec.state,
            humantime::format_rfc3339_seconds(rec.time)
        )),
        Ok(None) => none(),
        Err(e) => Gate::Unknown(format!("not MASTER: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn record(state: VrrpState, ns: u64) -> StateRecord {
        StateRecord {
            kind: Kind::Instance,
            name: "VI_1".into(),
            state,
            priority: 100,
            time: UNIX_EPOCH + Duration::from_secs(1_790_000_000),
            seq: Seq {
                boot: Some(BootId(0xabc)),
                boot_ns: ns,
                tiebreak: 7,
            },
        }
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kc-state-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn text_round_trips() {
        let r = record(VrrpState::Master, 42);
        let text = r.to_text();
        assert!(
            text.contains("state=MASTER\n") && text.contains("seq=42.7\n"),
            "{text}"
        );
        assert!(
            text.contains("boot_id=00000000000000000000000000000abc\n"),
            "{text}"
        );
        assert!(text.contains("time=2026-09-21T"), "{text}");
        assert_eq!(StateRecord::parse(&text), Ok(r.clone()));
        assert!(StateRecord::parse("type=INSTANCE\nname=x\n").is_err());
        // Written before boot ids were: read, from an unknown boot.
        let old = text.replace("boot_id=00000000000000000000000000000abc\n", "");
        assert_eq!(StateRecord::parse(&old).unwrap().seq.boot, None);
    }

    #[test]
    fn times_rfc3339_cannot_write_are_corrupt() {
        let text = record(VrrpState::Master, 42).to_text();
        let at = |secs: &str| {
            StateRecord::parse(&text.replace("unix_time=1790000000", &format!("unix_time={secs}")))
        };
        assert!(at("253402300799").is_ok());
        for bad in ["253402300800", "18446744073709551615", "-1", "1e9"] {
            let why = at(bad).unwrap_err();
            assert!(why.contains("bad unix_time="), "{bad}: {why}");
        }
    }

    #[test]
    fn states_and_kinds_parse_strictly() {
        assert_eq!(VrrpState::parse("master"), Ok(VrrpState::Master));
        assert!(VrrpState::parse("PRIMARY")
            .unwrap_err()
            .contains("unknown state"));
        assert_eq!(Kind::parse("GROUP"), Ok(Kind::Group));
        assert!(Kind::parse("VS").is_err());
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        assert!(validate_name("VI_1").is_ok());
        assert!(validate_name("SBC-1.group@a").is_ok());
        for bad in ["", "../etc/passwd", ".hidden", "a/b", "a b", "x\n"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn write_read_list_and_gate() {
        let path = temp_dir("rw");
        let dir = StateDir::create(&path).unwrap();
        let lock = dir.lock().unwrap();
        dir.write_atomic(&record(VrrpState::Backup, 1)).unwrap();
        drop(lock);
        assert_eq!(
            dir.read(Kind::Instance, "VI_1").unwrap().unwrap().state,
            VrrpState::Backup
        );
        assert!(matches!(dir.read(Kind::Group, "VI_1"), Ok(None)));
        assert!(
            matches!(master_gate(&path, "VI_1"), Ok(Gate::Skip(w)) if w.contains("VI_1 is BACKUP since"))
        );
        dir.write_atomic(&record(VrrpState::Master, 2)).unwrap();
        assert_eq!(master_gate(&path, "VI_1").unwrap(), Gate::Run);
        assert!(
            matches!(master_gate(&path, "VI_9"), Ok(Gate::Unknown(w)) if w.contains("no state for VI_9"))
        );
        assert!(
            matches!(master_gate(&path.join("none"), "VI_1"), Ok(Gate::Unknown(w)) if w.contains("no state for VI_1"))
        );
        fs::write(dir.file(Kind::Instance, "BAD"), "garbage").unwrap();
        assert!(matches!(master_gate(&path, "BAD"), Ok(Gate::Unknown(w)) if w.contains("corrupt")));
        let listed = dir.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].is_ok() && listed[1].is_err());
        // No temporary files are left behind.
        assert!(fs::read_dir(&path).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn unreadable_is_not_corrupt() {
        let path = temp_dir("unreadable");
        let dir = StateDir::create(&path).unwrap();
        fs::create_dir_all(dir.file(Kind::Instance, "VI_1")).unwrap();
        fs::write(dir.file(Kind::Instance, "VI_2"), "type=INSTANCE\n").unwrap();
        let unreadable = dir.read(Kind::Instance, "VI_1").unwrap_err();
        assert!(
            matches!(unreadable, StateError::Unreadable { .. }),
            "{unreadable}"
        );
        let corrupt = dir.read(Kind::Instance, "VI_2").unwrap_err();
        assert!(matches!(corrupt, StateError::Corrupt { .. }), "{corrupt}");
        fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn links_fifos_devices_and_big_files_are_refused_unread() {
        let path = temp_dir("odd");
        let dir = StateDir::create(&path).unwrap();
        let outside = path.with_extension("outside");
        fs::write(&outside, record(VrrpState::Master, 1).to_text()).unwrap();
        std::os::unix::fs::symlink(&outside, dir.file(Kind::Instance, "LINK")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.file(Kind::Instance, "ZERO")).unwrap();
        crate::small_file::tests::mkfifo(&dir.file(Kind::Instance, "FIFO"));
        fs::write(
            dir.file(Kind::Instance, "BIG"),
            vec![b'x'; dir::MAX_RECORD + 1],
        )
        .unwrap();
        // None of these can be a record ka-notify wrote: corrupt, so replaced, never read
        // through or waited for.
        for (name, why) in [
            ("LINK", "symbolic link"),
            ("ZERO", "symbolic link"),
            ("FIFO", "a FIFO, not a regular file"),
            ("BIG", "longer than 4096 bytes"),
        ] {
            let e = dir.read(Kind::Instance, name).unwrap_err();
            assert!(matches!(e, StateError::Corrupt { .. }), "{name}: {e}");
            assert!(e.to_string().contains(why), "{name}: {e}");
        }
        // A link planted where the record goes is replaced, its target untouched.
        dir.write_atomic(&StateRecord {
            name: "LINK".into(),
            ..record(VrrpState::Backup, 2)
        })
        .unwrap();
        assert!(fs::read_to_string(&outside)
            .unwrap()
            .contains("state=MASTER"));
        assert_eq!(
            dir.read(Kind::Instance, "LINK").unwrap().unwrap().state,
            VrrpState::Backup
        );
        fs::remove_dir_all(&path).unwrap();
        fs::remove_file(&outside).unwrap();
    }

    #[test]
    fn a_link_at_the_old_temp_name_is_never_written_through() {
        // The temp name used to be .NAME.PID.tmp, opened with O_CREAT|O_TRUNC: a link
        // planted there for this PID had root overwrite its target.
        let path = temp_dir("planted");
        let dir = StateDir::create(&path).unwrap();
        let victim = path.with_extension("victim");
        fs::write(&victim, "root:secret\n").unwrap();
        let planted = path.join(format!(".VI_1.instance.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        dir.write_atomic(&record(VrrpState::Master, 1)).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "root:secret\n");
        assert_eq!(
            dir.read(Kind::Instance, "VI_1").unwrap().unwrap().state,
            VrrpState::Master
        );
        // The temp names are 128 random bits, and none is left behind.
        let names: Vec<String> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        fs::remove_dir_all(&path).unwrap();
        fs::remove_file(&victim).unwrap();
    }

    #[test]
    fn directories_others_can_write_are_refused() {
        let path = temp_dir("perm");
        fs::create_dir_all(&path).unwrap();
        for (mode, ok) in [
            (0o755, true),
            (0o1777, true),
            (0o777, false),
            (0o775, false),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let opened = StateDir::open(&path);
            assert_eq!(opened.is_ok(), ok, "{mode:o}: {opened:?}");
            if !ok {
                let e = opened.unwrap_err().to_string();
                assert!(
                    e.contains("without the sticky bit") && e.contains("refused"),
                    "{e}"
                );
                // The gate fails rather than skipping.
                assert!(master_gate(&path, "VI_1").is_err());
            }
        }
        // Owned by another user (nobody), even with safe permissions.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        crate::trusted_dir::tests::chown(&path, 65534);
        let e = StateDir::open(&path).unwrap_err().to_string();
        assert!(
            e.contains("owned by uid 65534, neither root nor this user"),
            "{e}"
        );
        // Through a link: the directory it resolves to is checked.
        crate::trusted_dir::tests::chown(&path, 0);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
        let link = path.with_extension("link");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = StateDir::open(&link).unwrap_err().to_string();
        let named = format!(
            "state directory {}: {} is writable by everyone",
            link.display(),
            path.display()
        );
        assert!(e.contains(&named), "{e}");
        fs::remove_file(&link).unwrap();
        fs::remove_dir_all(&path).unwrap();
    }
}
