//! What ka-notify does on a state change: systemctl start/stop of a unit, and hooks run as
//! argv without a shell, each bounded by a timeout.
//!
//! A hook that overruns gets SIGTERM, then SIGKILL, sent to its own process group only. A
//! `systemctl stop` that fails or overruns escalates to `systemctl kill --signal=SIGKILL`
//! of that unit only: never a `killall` by name, which would hit every process of that
//! name on the machine.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::event::Event;
use super::Options;
use crate::state::VrrpState;

/// How long a timed-out command gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The most stderr kept from a command, for the log.
const STDERR_KEPT: usize = 2048;

/// How a command ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status, `None` if it could not be started.
    pub status: Option<ExitStatus>,
    /// Whether it was killed for overrunning.
    pub timed_out: bool,
    /// The start of what it wrote on stderr.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
    /// The timeout it was given.
    pub limit: Duration,
}

impl Finished {
    /// Whether it exited 0 in time.
    pub fn ok(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// "exit 0 in 12 ms", "timed out after 30 s, killed", "killed by signal 9", ...
    pub fn describe(&self) -> String {
        let took = crate::deadline::format_ms(self.elapsed);
        let mut text = match (self.timed_out, self.status) {
            (true, _) => format!(
                "timed out after {}, killed",
                crate::deadline::format_ms(self.limit)
            ),
            (false, Some(s)) => match (s.code(), s.signal()) {
                (Some(code), _) => format!("exit {code} in {took}"),
                (None, Some(sig)) => format!("killed by signal {sig} after {took}"),
                _ => format!("ended after {took}"),
            },
            (false, None) => "could not be started".into(),
        };
        let err = self.stderr.trim();
        if !err.is_empty() {
            text.push_str(": ");
            text.push_str(&err.replace('\n', " | "));
        }
        text
    }
}

/// Runs `argv` in its own process group with stdin and stdout on /dev/null, waiting at
/// most `timeout`; an overrun sends SIGTERM to the group, then SIGKILL after [`KILL_GRACE`].
pub fn run(argv: &[String], timeout: Duration) -> Finished {
    let started = Instant::now();
    let Some((program, args)) = argv.split_first() else {
        return Finished {
            status: None,
            timed_out: false,
            stderr: "empty command".into(),
            elapsed: Duration::ZERO,
            limit: timeout,
        };
    };
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return Finished {
                status: None,
                timed_out: false,
                stderr: format!("{program}: {e}"),
                elapsed: started.elapsed(),
                limit: timeout,
            }
        }
    };
    // Drain stderr in a thread so a chatty command cannot block on a full pipe; keep the start.
    let reader = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut chunk = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            String::from_utf8_lossy(&kept).into_owned()
        })
    });
    let pgid = i32::try_from(child.id()).unwrap_or(0);
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        let waited = started.elapsed();
        if !timed_out && waited >= timeout {
            timed_out = true;
            signal_group(pgid, libc::SIGTERM);
        } else if timed_out && waited >= timeout + KILL_GRACE {
            signal_group(pgid, libc::SIGKILL);
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if timed_out {
        // Whatever the command left behind in its group goes too.
        signal_group(pgid, libc::SIGKILL);
    }
    let stderr = match reader {
        // The reader ends when every writer of the pipe is gone; a daemon the command
        // left behind may hold it, so do not wait for it past a short moment.
        Some(handle) => join_with_timeout(handle, Duration::from_millis(200)),
        None => String::new(),
    };
    Finished {
        status,
        timed_out,
        stderr,
        elapsed: started.elapsed(),
        limit: timeout,
    }
}

fn join_with_timeout(handle: std::thread::JoinHandle<String>, wait: Duration) -> String {
    let until = Instant::now() + wait;
    while !handle.is_finished() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
    if handle.is_finished() {
        handle.join().unwrap_or_default()
    } else {
        String::new()
    }
}

/// The actions `event` sets off, run in order: `systemctl start|stop` of `--service`,
/// then the state's hooks. Each result is the action's name and how it went.
pub fn for_event(event: &Event, opts: &Options) -> Vec<(String, Result<String, String>)> {
    let mut results = Vec::new();
    if let Some(unit) = &opts.service {
        if opts.start_on.contains(&event.state) {
            results.push(systemctl("start", unit, opts.action_timeout));
        } else if opts.stop_on.contains(&event.state) {
            results.push(systemctl("stop", unit, opts.action_timeout));
        }
    }
    let hooks = match event.state {
        VrrpState::Master => &opts.on_master,
        VrrpState::Backup => &opts.on_backup,
        VrrpState::Fault => &opts.on_fault,
        VrrpState::Stop => &opts.on_stop,
        VrrpState::Deleted => return results,
    };
    for argv in hooks {
        let finished = run(argv, opts.action_timeout);
        let what = format!("hook {}", argv.join(" "));
        let described = finished.describe();
        results.push((
            what,
            if finished.ok() {
                Ok(described)
            } else {
                Err(described)
            },
        ));
    }
    results
}

/// `systemctl VERB UNIT`; a stop that fails or overruns escalates to killing the unit.
fn systemctl(verb: &str, unit: &str, timeout: Duration) -> (String, Result<String, String>) {
    let what = format!("systemctl {verb} {unit}");
    let argv: Vec<String> = vec!["systemctl".into(), verb.into(), unit.into()];
    let finished = run(&argv, timeout);
    if finished.ok() {
        return (what, Ok(finished.describe()));
    }
    if verb != "stop" {
        return (what, Err(finished.describe()));
    }
    let kill: Vec<String> = vec![
        "systemctl".into(),
        "kill".into(),
        "--signal=SIGKILL".into(),
        unit.into(),
    ];
    let killed = run(&kill, timeout);
    let how = if killed.ok() {
        "escalated: systemctl kill --signal=SIGKILL succeeded"
    } else {
        "escalated: systemctl kill --signal=SIGKILL failed too"
    };
    (
        what,
        Err(format!(
            "{}; {how} ({})",
            finished.describe(),
            killed.describe()
        )),
    )
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) on the process group this module created for its own child.
        unsafe { libc::kill(-pgid, signal) };
    }
}

/// Splits a hook the way keepalived splits its script strings ([`crate::words::split`]);
/// the program must be an absolute path.
pub fn split_command(s: &str) -> Result<Vec<String>, String> {
    let words = crate::words::split(s)?;
    if words.is_empty() {
        return Err("an empty command".into());
    }
    if !words[0].starts_with('/') {
        return Err(format!(
            "'{}' is not an absolute path: keepalived's PATH is minimal under systemd",
            words[0]
        ));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splitting_is_keepalived_like() {
        assert_eq!(
            split_command("/usr/bin/systemctl  start 'my unit' \"x y\"z").unwrap(),
            argv(&["/usr/bin/systemctl", "start", "my unit", "x yz"])
        );
        assert!(split_command("/bin/echo 'oops")
            .unwrap_err()
            .contains("unterminated"));
        assert!(split_command("   ").unwrap_err().contains("empty"));
        assert!(split_command("echo hi")
            .unwrap_err()
            .contains("absolute path"));
    }

    #[test]
    fn success_failure_and_stderr() {
        let ok = run(&argv(&["/bin/true"]), Duration::from_secs(5));
        assert!(ok.ok(), "{ok:?}");
        let bad = run(
            &argv(&["/bin/sh", "-c", "echo broken >&2; exit 3"]),
            Duration::from_secs(5),
        );
        assert!(!bad.ok());
        assert!(
            bad.describe().starts_with("exit 3 in "),
            "{}",
            bad.describe()
        );
        assert!(bad.describe().ends_with(": broken"), "{}", bad.describe());
        let missing = run(&argv(&["/nonexistent/cmd"]), Duration::from_secs(5));
        assert!(!missing.ok());
        assert!(
            missing.describe().contains("could not be started"),
            "{}",
            missing.describe()
        );
    }

    #[test]
    fn overruns_are_killed_with_their_whole_group() {
        // The shell starts a grandchild that would outlive a kill of the shell alone.
        let marker = std::env::temp_dir().join(format!("kc-action-{}", std::process::id()));
        let script = format!("sleep 30 & echo $! > {}; wait", marker.display());
        let r = run(
            &argv(&["/bin/sh", "-c", &script]),
            Duration::from_millis(200),
        );
        assert!(r.timed_out && !r.ok(), "{r:?}");
        assert!(
            r.describe().starts_with("timed out after"),
            "{}",
            r.describe()
        );
        let grandchild: i32 = std::fs::read_to_string(&marker)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(grandchild, 0) } == 0
            && !std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "the grandchild {grandchild} survived");
        let _ = std::fs::remove_file(&marker);
    }
}
