//! ka-notify's state files: what keepalived last said about each VRRP instance and group.
//!
//! One small `key=value` file per instance (`NAME.instance`) or group (`NAME.group`) in a
//! state directory, by default under /run so that no stale MASTER survives a reboot.
//! Written atomically (temporary file in the same directory, fsync, rename, fsync of the
//! directory) under an exclusive lock on the directory, and never by an event older than
//! the one on disk. Read by `ka-notify status` and by the checks' `--only-if-master`.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

    fn suffix(self) -> &'static str {
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

/// The order of events: nanoseconds since boot at which the event was handed to us, and a
/// tie-breaker. Later events compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seq {
    /// Nanoseconds since boot (CLOCK_BOOTTIME).
    pub boot_ns: u64,
    /// Breaks ties within the clock's resolution (PID, or line number in FIFO mode).
    pub tiebreak: u64,
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.boot_ns, self.tiebreak)
    }
}

impl Seq {
    fn parse(s: &str) -> Option<Seq> {
        let (a, b) = s.split_once('.')?;
        Some(Seq {
            boot_ns: a.parse().ok()?,
            tiebreak: b.parse().ok()?,
        })
    }
}

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
            "type={}\nname={}\nstate={}\npriority={}\ntime={}\nunix_time={secs}\nseq={}\n",
            self.kind.as_str(),
            self.name,
            self.state,
            self.priority,
            humantime::format_rfc3339_seconds(self.time),
            self.seq
        )
    }

    /// Parses a state file; any missing or malformed field makes the whole file corrupt.
    pub fn parse(text: &str) -> Result<StateRecord, String> {
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .ok_or_else(|| format!("no {key}="))
        };
        Ok(StateRecord {
            kind: Kind::parse(get("type")?)?,
            name: get("name")?.to_string(),
            state: VrrpState::parse(get("state")?)?,
            priority: get("priority")?
                .parse()
                .map_err(|_| "bad priority=".to_string())?,
            time: UNIX_EPOCH
                + Duration::from_secs(
                    get("unix_time")?
                        .parse()
                        .map_err(|_| "bad unix_time=".to_string())?,
                ),
            seq: Seq::parse(get("seq")?).ok_or("bad seq=")?,
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

/// The state file of `kind` `name` in `dir`.
pub fn path(dir: &Path, kind: Kind, name: &str) -> PathBuf {
    dir.join(format!("{name}.{}", kind.suffix()))
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

/// Reads a state file: `Ok(None)` when there is none.
pub fn read(dir: &Path, kind: Kind, name: &str) -> Result<Option<StateRecord>, StateError> {
    let p = path(dir, kind, name);
    match fs::read_to_string(&p) {
        Ok(text) => StateRecord::parse(&text)
            .map(Some)
            .map_err(|why| StateError::Corrupt { path: p, why }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Unreadable { path: p, source }),
    }
}

/// Replaces the state file atomically: readers see the old file or the new one, never a
/// part of either, and a crash leaves one of the two.
pub fn write_atomic(dir: &Path, record: &StateRecord) -> io::Result<()> {
    let target = path(dir, record.kind, &record.name);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(record.to_text().as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &target)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// An exclusive lock on the state directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

/// Creates the state directory if needed (mode 0755) and locks it exclusively, waiting
/// for other ka-notify processes to finish with it.
pub fn lock(dir: &Path) -> io::Result<DirLock> {
    fs::create_dir_all(dir)?;
    let handle = File::open(dir)?;
    // SAFETY: flock(2) on a descriptor this function owns.
    if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(DirLock { _dir: handle })
}

/// Every state file in `dir`, sorted by kind and name; unusable ones as errors, after
/// the records. A file removed while listing is left out.
pub fn list(dir: &Path) -> io::Result<Vec<Result<StateRecord, StateError>>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((name, kind)) = file.rsplit_once('.') else {
            continue;
        };
        let kind = match kind {
            "instance" => Kind::Instance,
            "group" => Kind::Group,
            _ => continue,
        };
        if name.starts_with('.') || name.is_empty() {
            continue;
        }
        match read(dir, kind, name) {
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
pub fn master_gate(dir: &Path, name: &str) -> Gate {
    let found = read(dir, Kind::Instance, name).and_then(|r| match r {
        Some(rec) => Ok(Some(rec)),
        None => read(dir, Kind::Group, name),
    });
    match found {
        Ok(Some(rec)) if rec.state == VrrpState::Master => Gate::Run,
        Ok(Some(rec)) => Gate::Skip(format!(
            "not MASTER: {name} is {} since {}",
            rec.state,
            humantime::format_rfc3339_seconds(rec.time)
        )),
        Ok(None) => Gate::Unknown(format!(
            "not MASTER: no state for {name} in {} (is ka-notify its notify script?)",
            dir.display()
        )),
        Err(e) => Gate::Unknown(format!("not MASTER: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: VrrpState, ns: u64) -> StateRecord {
        StateRecord {
            kind: Kind::Instance,
            name: "VI_1".into(),
            state,
            priority: 100,
            time: UNIX_EPOCH + Duration::from_secs(1_790_000_000),
            seq: Seq {
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
        assert!(text.contains("time=2026-09-21T"), "{text}");
        assert_eq!(StateRecord::parse(&text), Ok(r));
        assert!(StateRecord::parse("type=INSTANCE\nname=x\n").is_err());
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
        let dir = temp_dir("rw");
        let lock = lock(&dir).unwrap();
        write_atomic(&dir, &record(VrrpState::Backup, 1)).unwrap();
        drop(lock);
        assert_eq!(
            read(&dir, Kind::Instance, "VI_1").unwrap().unwrap().state,
            VrrpState::Backup
        );
        assert!(matches!(read(&dir, Kind::Group, "VI_1"), Ok(None)));
        assert!(
            matches!(master_gate(&dir, "VI_1"), Gate::Skip(w) if w.contains("VI_1 is BACKUP since"))
        );
        write_atomic(&dir, &record(VrrpState::Master, 2)).unwrap();
        assert_eq!(master_gate(&dir, "VI_1"), Gate::Run);
        assert!(
            matches!(master_gate(&dir, "VI_9"), Gate::Unknown(w) if w.contains("no state for VI_9"))
        );
        fs::write(path(&dir, Kind::Instance, "BAD"), "garbage").unwrap();
        assert!(matches!(master_gate(&dir, "BAD"), Gate::Unknown(w) if w.contains("corrupt")));
        let listed = list(&dir).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].is_ok() && listed[1].is_err());
        // No temporary files are left behind.
        assert!(fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_is_not_corrupt() {
        let dir = temp_dir("unreadable");
        fs::create_dir_all(path(&dir, Kind::Instance, "VI_1")).unwrap();
        fs::write(path(&dir, Kind::Instance, "VI_2"), "type=INSTANCE\n").unwrap();
        let unreadable = read(&dir, Kind::Instance, "VI_1").unwrap_err();
        assert!(
            matches!(unreadable, StateError::Unreadable { .. }),
            "{unreadable}"
        );
        let corrupt = read(&dir, Kind::Instance, "VI_2").unwrap_err();
        assert!(matches!(corrupt, StateError::Corrupt { .. }), "{corrupt}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
