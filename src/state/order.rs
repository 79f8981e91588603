//! The order of events, which decides whether an event is older than the one on record.
//!
//! keepalived forks a notify script per event, in event order, and runs them concurrently:
//! the process started first carries the older event, whichever reaches the lock first.
//! An event's place is therefore the time its process was forked (in clock ticks since
//! boot, all /proc offers), ties within a tick broken by PID. PIDs are handed out in
//! increasing order and wrap (at `kernel.pid_max`, back to 300), so they are compared as
//! serial numbers: the one less than half the PID space ahead is the later. In FIFO mode
//! one process reads the events in order and stamps each with the clock, strictly
//! increasing.
//!
//! A record from another boot is older than any event of this one, whatever its numbers
//! (a state directory on persistent storage after a reboot), and so is one that claims a
//! time not yet reached in this boot (a hand-edited file): neither may hold events back
//! forever.

use std::fmt;

/// The kernel's random id of the running boot (`/proc/sys/kernel/random/boot_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootId(pub u128);

impl BootId {
    /// The running boot's id; `None` when /proc cannot say.
    pub fn current() -> Option<BootId> {
        let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        text.trim().parse().ok()
    }
}

impl fmt::Display for BootId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for BootId {
    type Err = String;

    /// 32 hexadecimal digits, with or without the dashes /proc writes.
    fn from_str(s: &str) -> Result<BootId, String> {
        let digits: String = s.chars().filter(|&c| c != '-').collect();
        if digits.len() != 32 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("'{s}' is not a boot id"));
        }
        u128::from_str_radix(&digits, 16)
            .map(BootId)
            .map_err(|_| format!("'{s}' is not a boot id"))
    }
}

/// An event's place in the order of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seq {
    /// The boot it happened in; `None` when unknown (no /proc, or a record written before
    /// boot ids were recorded).
    pub boot: Option<BootId>,
    /// Nanoseconds since boot (CLOCK_BOOTTIME) at which it was handed to us.
    pub boot_ns: u64,
    /// The PID of the process it was handed to, for ties within a clock tick; 0 in FIFO
    /// mode, whose stamps never tie.
    pub tiebreak: u64,
}

impl fmt::Display for Seq {
    /// `BOOT_NS.TIEBREAK`; the boot id is written on a line of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.boot_ns, self.tiebreak)
    }
}

impl Seq {
    /// Parses `BOOT_NS.TIEBREAK`, in the boot `boot`.
    pub fn parse(s: &str, boot: Option<BootId>) -> Option<Seq> {
        let (a, b) = s.split_once('.')?;
        Some(Seq {
            boot,
            boot_ns: a.parse().ok()?,
            tiebreak: b.parse().ok()?,
        })
    }

    /// Whether this event may replace the record `on_record`: it is not older. `now_ns` is
    /// the time since boot now.
    pub fn supersedes(&self, on_record: &Seq, now_ns: u64) -> bool {
        self.supersedes_with(on_record, now_ns, pid_max)
    }

    /// [`Seq::supersedes`] with the PID space's size given (read only on a tie).
    pub fn supersedes_with(
        &self,
        on_record: &Seq,
        now_ns: u64,
        pid_max: impl FnOnce() -> u64,
    ) -> bool {
        if on_record.boot != self.boot || on_record.boot_ns > now_ns {
            // From another boot, or from a future this boot has not reached.
            return true;
        }
        if on_record.boot_ns != self.boot_ns {
            return self.boot_ns > on_record.boot_ns;
        }
        !serial_after(on_record.tiebreak, self.tiebreak, pid_max())
    }
}

/// Whether PID `a` was handed out after PID `b`, in a space of `modulus` PIDs that wraps.
fn serial_after(a: u64, b: u64, modulus: u64) -> bool {
    // In u128: a tiebreak read from a file may be anything up to u64::MAX.
    let (a, b) = (u128::from(a), u128::from(b));
    let modulus = u128::from(modulus).max(a.max(b) + 1);
    let ahead = (a + modulus - b) % modulus;
    ahead != 0 && ahead < modulus / 2
}

/// `kernel.pid_max`, where PIDs wrap; Linux's largest when /proc cannot say.
fn pid_max() -> u64 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1 << 22)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOT: Option<BootId> = Some(BootId(0xfeed));
    const NOW: u64 = 10_000_000_000;

    fn seq(boot_ns: u64, pid: u64) -> Seq {
        Seq {
            boot: BOOT,
            boot_ns,
            tiebreak: pid,
        }
    }

    #[test]
    fn later_fork_wins_and_an_equal_event_is_replayed() {
        assert!(seq(2_000, 10).supersedes_with(&seq(1_000, 99), NOW, || 1 << 22));
        assert!(!seq(1_000, 99).supersedes_with(&seq(2_000, 10), NOW, || 1 << 22));
        assert!(seq(1_000, 10).supersedes_with(&seq(1_000, 10), NOW, || 1 << 22));
    }

    #[test]
    fn pids_wrap_within_a_tick() {
        // MASTER from the last PID, then BACKUP from a PID after the wrap, same tick.
        let master = seq(5_000, 4_194_303);
        let backup = seq(5_000, 300);
        assert!(backup.supersedes_with(&master, NOW, || 4_194_304));
        assert!(!master.supersedes_with(&backup, NOW, || 4_194_304));
        // The same with the default pid_max of small machines.
        assert!(seq(5_000, 301).supersedes_with(&seq(5_000, 32_767), NOW, || 32_768));
        assert!(!seq(5_000, 32_767).supersedes_with(&seq(5_000, 301), NOW, || 32_768));
        // Without a wrap the higher PID is the later.
        assert!(seq(5_000, 1_001).supersedes_with(&seq(5_000, 1_000), NOW, || 32_768));
        assert!(!seq(5_000, 1_000).supersedes_with(&seq(5_000, 1_001), NOW, || 32_768));
    }

    #[test]
    fn records_from_another_boot_or_the_future_are_stale() {
        let early = seq(1_000, 5);
        let other_boot = Seq {
            boot: Some(BootId(0xdead)),
            ..seq(NOW * 100, 5)
        };
        assert!(early.supersedes_with(&other_boot, NOW, || 1 << 22));
        let unknown_boot = Seq {
            boot: None,
            ..seq(NOW * 100, 5)
        };
        assert!(early.supersedes_with(&unknown_boot, NOW, || 1 << 22));
        let future = seq(NOW + 1, 5);
        assert!(early.supersedes_with(&future, NOW, || 1 << 22));
        // A record of this boot from the past still holds an older event back.
        assert!(!early.supersedes_with(&seq(2_000, 5), NOW, || 1 << 22));
        // From another boot, even with numbers between the event's and now.
        let between = Seq {
            boot: Some(BootId(0xdead)),
            ..seq(2_000, 5)
        };
        assert!(early.supersedes_with(&between, NOW, || 1 << 22));
        // Any tiebreak a file may hold compares without overflow.
        assert!(seq(5_000, 1).supersedes_with(&seq(5_000, u64::MAX), NOW, || 1 << 22));
        assert!(!seq(5_000, u64::MAX - 1).supersedes_with(&seq(5_000, u64::MAX), NOW, || 1 << 22));
    }

    #[test]
    fn boot_ids_parse_as_proc_writes_them() {
        let id: BootId = "2c7b9c3e-0d43-4d8a-9a55-0a1b2c3d4e5f".parse().unwrap();
        assert_eq!(id.to_string(), "2c7b9c3e0d434d8a9a550a1b2c3d4e5f");
        assert_eq!(id.to_string().parse::<BootId>(), Ok(id));
        assert!("2c7b9c3e".parse::<BootId>().is_err());
        assert!("zz7b9c3e-0d43-4d8a-9a55-0a1b2c3d4e5f"
            .parse::<BootId>()
            .is_err());
        assert!(
            BootId::current().is_some(),
            "/proc/sys/kernel/random/boot_id"
        );
    }
}
