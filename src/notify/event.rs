//! keepalived's events, from a notify script's arguments or a notify FIFO line.

use std::time::Duration;

use crate::state::{validate_name, BootId, Kind, Seq, VrrpState};

/// One state change keepalived reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Instance or group.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// The new state.
    pub state: VrrpState,
    /// Priority (0 for groups and per-state scripts, which are not told it).
    pub priority: u8,
    /// Its place in the order of events.
    pub seq: Seq,
}

impl Event {
    /// `INSTANCE VI_1 -> MASTER (priority 100)`, for logs and stdout.
    pub fn describe(&self) -> String {
        format!(
            "{} {} -> {} (priority {})",
            self.kind.as_str(),
            self.name,
            self.state,
            self.priority
        )
    }
}

fn priority(s: &str) -> Result<u8, String> {
    s.parse()
        .map_err(|_| format!("priority '{s}' is not a number from 0 to 255"))
}

/// Builds the event of a notify invocation from its positional arguments:
/// `INSTANCE|GROUP NAME STATE PRIORITY` (generic `notify`, keepalived appends these four)
/// or `STATE` with `named` set from `--instance`/`--group` (`notify_master` and friends,
/// which get no arguments from keepalived).
pub fn from_args(args: &[String], named: Option<(Kind, &str)>, seq: Seq) -> Result<Event, String> {
    let (kind, name, state, prio) = match (args, named) {
        ([kind, name, state, prio], _) => (Kind::parse(kind)?, name.as_str(), state, priority(prio)?),
        ([state], Some((kind, name))) => (kind, name, state, 0),
        ([_], None) => {
            return Err("a lone STATE needs --instance NAME or --group NAME (for notify_master and the like)".into())
        }
        (other, _) => {
            return Err(format!(
                "expected INSTANCE|GROUP NAME STATE PRIORITY (generic notify) or STATE with --instance (notify_master ...), got {} argument(s)",
                other.len()
            ))
        }
    };
    validate_name(name)?;
    Ok(Event {
        kind,
        name: name.to_string(),
        state: VrrpState::parse(state)?,
        priority: prio,
        seq,
    })
}

/// What a FIFO line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FifoLine {
    /// A state change to act on.
    Event(Event),
    /// A line that is valid but not for us (priority changes, LVS `VS`/`RS` lines).
    Ignored(String),
}

/// Parses one FIFO line: `INSTANCE "VI_1" MASTER 100`, `GROUP "G1" BACKUP 0`.
pub fn from_fifo_line(line: &str, seq: Seq) -> Result<FifoLine, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
    let kind = match kind {
        "INSTANCE" => Kind::Instance,
        "GROUP" => Kind::Group,
        "VS" | "RS" => return Ok(FifoLine::Ignored(format!("LVS event: {line}"))),
        _ => return Err(format!("unrecognised line: {line:?}")),
    };
    let rest = rest
        .strip_prefix('"')
        .ok_or_else(|| format!("name not quoted: {line:?}"))?;
    let (name, rest) = rest
        .split_once('"')
        .ok_or_else(|| format!("unterminated name: {line:?}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let [state, prio] = fields.as_slice() else {
        return Err(format!("expected STATE PRIORITY after the name: {line:?}"));
    };
    if state.ends_with("_PRIORITY") {
        return Ok(FifoLine::Ignored(format!("priority change: {line}")));
    }
    validate_name(name)?;
    Ok(FifoLine::Event(Event {
        kind,
        name: name.to_string(),
        state: VrrpState::parse(state)?,
        priority: priority(prio)?,
        seq,
    }))
}

/// The order of an event handed to this process in its arguments: the time the process
/// was forked (keepalived forks notify scripts in event order), with the PID breaking ties
/// within the clock tick (see [`crate::state::order`]). Falls back to the time now if
/// /proc cannot say.
pub fn seq_of_this_process() -> Seq {
    let start = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The command name in parentheses may contain spaces: count fields after ')'.
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().nth(19)?.parse::<u64>().ok()
        });
    // SAFETY: sysconf has no preconditions.
    let ticks_per_s = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .unwrap_or(100)
        .max(1);
    Seq {
        boot: BootId::current(),
        boot_ns: match start {
            Some(ticks) => ticks.saturating_mul(1_000_000_000 / ticks_per_s),
            None => boottime_ns(),
        },
        tiebreak: u64::from(std::process::id()),
    }
}

/// Stamps the events of one FIFO reader: the clock when each line was read, strictly
/// increasing, so no two events of the FIFO ever tie.
#[derive(Debug)]
pub struct FifoStamps {
    boot: Option<BootId>,
    last_ns: u64,
}

impl FifoStamps {
    /// Stamps for this boot.
    pub fn new() -> FifoStamps {
        FifoStamps {
            boot: BootId::current(),
            last_ns: 0,
        }
    }

    /// The next line's place in the order of events.
    pub fn stamp(&mut self) -> Seq {
        self.last_ns = boottime_ns().max(self.last_ns + 1);
        Seq {
            boot: self.boot,
            boot_ns: self.last_ns,
            tiebreak: 0,
        }
    }
}

impl Default for FifoStamps {
    fn default() -> Self {
        FifoStamps::new()
    }
}

/// Nanoseconds since boot, counting suspend (CLOCK_BOOTTIME, the clock /proc uses).
pub fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    let d = Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    );
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQ: Seq = Seq {
        boot: None,
        boot_ns: 1,
        tiebreak: 1,
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn generic_and_per_state_forms() {
        let e = from_args(&strings(&["INSTANCE", "VI_1", "MASTER", "100"]), None, SEQ).unwrap();
        assert_eq!(
            (e.kind, e.name.as_str(), e.state, e.priority),
            (Kind::Instance, "VI_1", VrrpState::Master, 100)
        );
        let e = from_args(&strings(&["BACKUP"]), Some((Kind::Instance, "VI_1")), SEQ).unwrap();
        assert_eq!((e.state, e.priority), (VrrpState::Backup, 0));
        let e = from_args(&strings(&["GROUP", "G1", "FAULT", "0"]), None, SEQ).unwrap();
        assert_eq!(e.kind, Kind::Group);
    }

    #[test]
    fn bad_argv_is_refused_with_a_reason() {
        for (args, why) in [
            (vec!["INSTANCE", "VI_1", "MASTER"], "got 3 argument(s)"),
            (
                vec!["INSTANCE", "VI_1", "PRIMARY", "100"],
                "unknown state 'PRIMARY'",
            ),
            (
                vec!["INSTANCE", "VI_1", "MASTER", "high"],
                "priority 'high'",
            ),
            (vec!["INSTANCE", "VI_1", "MASTER", "300"], "0 to 255"),
            (
                vec!["VS", "VI_1", "MASTER", "100"],
                "neither INSTANCE nor GROUP",
            ),
            (vec!["INSTANCE", "../x", "MASTER", "100"], "not a usable"),
            (vec!["MASTER"], "needs --instance"),
            (vec![], "got 0 argument(s)"),
        ] {
            let err = from_args(&strings(&args), None, SEQ).unwrap_err();
            assert!(err.contains(why), "{args:?}: {err}");
        }
    }

    #[test]
    fn fifo_lines() {
        let got = from_fifo_line("INSTANCE \"VI_1\" MASTER 100\n", SEQ).unwrap();
        assert!(
            matches!(got, FifoLine::Event(e) if e.name == "VI_1" && e.state == VrrpState::Master && e.priority == 100)
        );
        let got = from_fifo_line("GROUP \"G 1\" BACKUP 0", SEQ);
        assert!(got.unwrap_err().contains("not a usable"));
        assert!(matches!(
            from_fifo_line("INSTANCE \"VI_1\" MASTER_PRIORITY 90", SEQ),
            Ok(FifoLine::Ignored(_))
        ));
        assert!(matches!(
            from_fifo_line("VS 10.0.0.1:80 UP", SEQ),
            Ok(FifoLine::Ignored(_))
        ));
        for bad in [
            "",
            "HELLO",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE \"VI_1 MASTER 100",
            "INSTANCE \"VI_1\" MASTER",
            "INSTANCE \"VI_1\" SLEEPY 1",
        ] {
            assert!(from_fifo_line(bad, SEQ).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn this_process_has_an_order() {
        let a = seq_of_this_process();
        assert_eq!(a.tiebreak, u64::from(std::process::id()));
        assert!(a.boot_ns > 0 && a.boot_ns <= boottime_ns());
        assert_eq!(a.boot, BootId::current());
        assert!(a.boot.is_some());
        let mut stamps = FifoStamps::new();
        let (first, second) = (stamps.stamp(), stamps.stamp());
        assert!(second.boot_ns > first.boot_ns && second.supersedes(&first, boottime_ns()));
        assert!(!first.supersedes(&second, boottime_ns()));
    }
}
