//! keepalived-checks' own programs where the configuration runs them: their arguments
//! parse (by the programs' own definitions, which the command-line layer passes in), their
//! deadline ends before keepalived's, `--only-if-master` names something that exists and
//! whose state a ka-notify records in the same directory, and ka-notify runs in the mode
//! that keeps events in order.

use std::path::PathBuf;
use std::time::Duration;

use super::finding::{Findings, Place, Severity};
use super::model::{Model, Role, Script};
use super::scripts::Runnable;

/// What one of our command lines says, as far as the doctor looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurLine {
    /// `check-sip`, `ka-notify`, ...
    pub program: &'static str,
    /// A check's `--timeout` (its default applied); `None` for the other programs.
    pub timeout: Option<Duration>,
    /// `--only-if-master NAME`.
    pub only_if_master: Option<String>,
    /// `--state-dir` (its default applied).
    pub state_dir: PathBuf,
    /// `--format nagios`: exit statuses 2 and 3.
    pub nagios: bool,
    /// ka-notify's mode and the instance or group it is told about.
    pub notify: Option<NotifyLine>,
}

/// ka-notify's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyLine {
    /// `ka-notify fifo ...`.
    pub fifo: bool,
    /// `--instance NAME` or `--group NAME`.
    pub named: Option<String>,
}

/// Parses a command line (program first) if it runs one of our programs: `None` when it
/// does not, the clap message when it does not parse.
pub type ParseOurs<'a> = &'a dyn Fn(&[String]) -> Option<Result<OurLine, String>>;

/// One of our programs as the configuration runs it.
#[derive(Debug, Clone)]
pub struct Ours<'a> {
    /// The script statement.
    pub script: &'a Script,
    /// Its command line, parsed.
    pub line: OurLine,
}

/// keepalived's command line for `script`: what it appends for a generic `notify` (the
/// event) and for a FIFO script (the FIFO's path).
pub fn argv_as_run(script: &Script, argv: &[String]) -> Vec<String> {
    let mut argv = argv.to_vec();
    match &script.role {
        Role::Notify {
            keyword,
            block,
            name: Some(name),
        } if keyword == "notify" => {
            let kind = if block == "vrrp_sync_group" {
                "GROUP"
            } else {
                "INSTANCE"
            };
            argv.extend([kind.into(), name.clone(), "MASTER".into(), "100".into()]);
        }
        Role::FifoScript { fifo, .. } => {
            argv.push(
                fifo.clone()
                    .unwrap_or_else(|| "/run/keepalived.fifo".into()),
            );
        }
        _ => {}
    }
    argv
}

/// Parses `runnable` if it is ours; a finding when its arguments do not parse.
pub fn recognise<'a>(
    script: &'a Script,
    runnable: &Runnable,
    parse: ParseOurs<'_>,
    findings: &mut Findings,
) -> Option<Ours<'a>> {
    match parse(&argv_as_run(script, &runnable.argv))? {
        Ok(line) => Some(Ours { script, line }),
        Err(why) => {
            findings.push(
                script.at.clone(),
                Severity::Error,
                "arguments",
                format!("{why}: it exits 1 at every run, which keepalived reads as down"),
            );
            None
        }
    }
}

/// The rules for our programs, `all` being every one of them in the configuration.
pub fn check(all: &[Ours<'_>], model: &Model, findings: &mut Findings) {
    for ours in all {
        let at = &ours.script.at;
        let line = &ours.line;
        let program = line.program;
        if let Some(timeout) = line.timeout {
            deadline(ours, timeout, findings);
        }
        if line.nagios {
            if let Role::Misc { dynamic: true, .. } = ours.script.role {
                findings.push(
                    at.clone(),
                    Severity::Error,
                    "exit-status",
                    format!("{program} --format nagios exits 2 or 3 when unhealthy, and misc_dynamic reads those as up (weight 0 or 1): drop --format nagios"),
                );
            }
        }
        if let Some(name) = &line.only_if_master {
            gate(at, name, &line.state_dir, all, model, findings);
        }
        if let Some(notify) = &line.notify {
            notify_mode(ours, notify, findings);
        }
    }
}

/// A check's `--timeout` must end before keepalived's own timeout kills it.
fn deadline(ours: &Ours<'_>, timeout: Duration, findings: &mut Findings) {
    let program = ours.line.program;
    let (limit, what) = match &ours.script.role {
        Role::VrrpScript {
            timeout: t,
            timeout_given,
            ..
        } => (
            *t,
            if *timeout_given {
                "the vrrp_script's timeout"
            } else {
                "the vrrp_script's interval (its timeout when none is given)"
            },
        ),
        Role::Misc { timeout: t, .. } => (*t, "misc_timeout (or the virtual server's delay_loop)"),
        _ => return,
    };
    if timeout >= limit {
        findings.push(
            ours.script.at.clone(),
            Severity::Error,
            "timeout-order",
            format!(
                "{program} --timeout {} is not below {what}, {}: keepalived kills the check before it can say why it failed; give --timeout less than {}",
                humantime::format_duration(timeout),
                humantime::format_duration(limit),
                humantime::format_duration(limit)
            ),
        );
    }
}

/// `--only-if-master NAME`: NAME exists, and a ka-notify records its state where the
/// check looks. Otherwise the check finds no state, counts as not MASTER, and skips with
/// exit 0 forever: healthy.
pub fn gate(
    at: &Place,
    name: &str,
    state_dir: &std::path::Path,
    all: &[Ours<'_>],
    model: &Model,
    findings: &mut Findings,
) {
    if model.vrrp(name).is_none() {
        findings.push(
            at.clone(),
            Severity::Error,
            "only-if-master",
            format!("--only-if-master {name}: no vrrp_instance or vrrp_sync_group is called {name}, so the check skips (exit 0, healthy) forever"),
        );
        return;
    }
    let writers: Vec<&Ours<'_>> = all.iter().filter(|o| records(o, name)).collect();
    if writers.is_empty() {
        findings.push(
            at.clone(),
            Severity::Error,
            "only-if-master",
            format!("--only-if-master {name}: no ka-notify in this configuration records {name}'s state, so the check skips (exit 0, healthy) forever; add ka-notify fifo as vrrp_notify_fifo_script"),
        );
        return;
    }
    if !writers.iter().any(|w| w.line.state_dir == state_dir) {
        findings.push(
            at.clone(),
            Severity::Error,
            "state-dir",
            format!(
                "--only-if-master {name} reads {} but ka-notify ({}:{}) writes {}: the check never sees MASTER and skips (healthy) forever",
                state_dir.display(),
                writers[0].script.at.file,
                writers[0].script.at.line,
                writers[0].line.state_dir.display()
            ),
        );
    }
}

/// Whether `ours` is a ka-notify that records the state of the instance or group `name`.
fn records(ours: &Ours<'_>, name: &str) -> bool {
    let Some(notify) = &ours.line.notify else {
        return false;
    };
    match &ours.script.role {
        // Every event comes through the FIFO, and every one is recorded.
        Role::FifoScript { keyword, .. } => notify.fifo && !keyword.starts_with("lvs"),
        Role::Notify {
            keyword,
            name: Some(block),
            ..
        } => {
            !notify.fifo
                && match &notify.named {
                    Some(named) => named == name,
                    None => keyword == "notify" && block == name,
                }
        }
        _ => false,
    }
}

fn notify_mode(ours: &Ours<'_>, notify: &NotifyLine, findings: &mut Findings) {
    let at = &ours.script.at;
    match &ours.script.role {
        Role::FifoScript { fifo, keyword } => {
            if !notify.fifo {
                findings.push(at.clone(), Severity::Error, "notify-mode", format!("{keyword} runs ka-notify without `fifo`: keepalived passes the FIFO's path, which ka-notify then reads as an event and refuses; write `ka-notify fifo ...`"));
            } else if fifo.is_none() {
                let fifo_keyword = keyword.trim_end_matches("_script");
                findings.push(at.clone(), Severity::Error, "notify-mode", format!("{keyword} without {fifo_keyword}: keepalived has no FIFO to write events to, and never runs ka-notify"));
            }
        }
        Role::Notify { keyword, block, .. } if block.starts_with("vrrp") => {
            if notify.fifo {
                findings.push(at.clone(), Severity::Error, "notify-mode", format!("{keyword} runs `ka-notify fifo`, which waits for a FIFO; use it as vrrp_notify_fifo_script"));
            } else if keyword != "notify" && notify.named.is_none() {
                findings.push(at.clone(), Severity::Error, "notify-mode", format!("{keyword} passes only its own arguments, so ka-notify cannot tell which instance the event is about: add --instance NAME (or --group NAME)"));
            }
        }
        Role::Notify { keyword, .. } => {
            findings.push(
                at.clone(),
                Severity::Error,
                "notify-mode",
                format!(
                    "ka-notify handles VRRP events; keepalived's {keyword} passes something else"
                ),
            );
        }
        Role::VrrpScript { .. } | Role::Misc { .. } => {
            findings.push(
                at.clone(),
                Severity::Error,
                "notify-mode",
                "ka-notify is a notify handler, not a check: as a check it fails every run".into(),
            );
        }
    }
}
