//! `ka-notify`: keepalived's notify handler.
//!
//! keepalived runs notify scripts concurrently and unordered (a stop can finish before the
//! start that preceded it), without a timeout, with stdio on /dev/null. So every event is
//! handled under an exclusive lock on the state directory; an event older than the one on
//! record changes nothing and runs no action; the state file is replaced atomically; and
//! every action is bounded by a timeout. Everything is logged, to the journal under
//! keepalived.
//!
//! - [`event`]: events from arguments and FIFO lines, and their order.
//! - [`actions`]: systemctl and hooks with timeouts and escalation.
//! - [`fifo`]: the FIFO mode.

pub mod actions;
pub mod event;
pub mod fifo;

use std::fs::OpenOptions;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Parser as _;
use tracing::{error, info, warn};

use crate::cli::ka_notify::{KaNotify, Mode, NotifyOptions};
use crate::logging;
use crate::state::{self, Kind, StateRecord, VrrpState};
use event::Event;

/// Logs at info when `ok`, at error otherwise (tracing levels must be constants).
macro_rules! log_result {
    ($ok:expr, $($field:tt)+) => {
        if $ok {
            info!($($field)+)
        } else {
            error!($($field)+)
        }
    };
}

/// What handling one event came to.
#[derive(Debug)]
pub struct Handled {
    /// One line for stdout and the history.
    pub summary: String,
    /// Whether the state file, marker and every action succeeded.
    pub ok: bool,
}

/// Handles one event: lock, compare with the record, write, marker, actions, history.
pub fn handle(event: &Event, opts: &NotifyOptions) -> Handled {
    let dir = &opts.state_dir;
    let _lock = match state::lock(dir) {
        Ok(lock) => lock,
        Err(e) => return failed(event, format!("cannot lock {}: {e}", dir.display())),
    };
    match state::read(dir, event.kind, &event.name) {
        Ok(Some(on_record)) if on_record.seq > event.seq => {
            let summary = format!(
                "{}: ignored, older than the {} on record (seq {} < {})",
                event.describe(),
                on_record.state,
                event.seq,
                on_record.seq
            );
            info!(
                event_type = event.kind.as_str(),
                name = event.name.as_str(),
                state = event.state.as_str(),
                result = "stale",
                "{summary}"
            );
            append_history(opts, event, "stale");
            return Handled { summary, ok: true };
        }
        Ok(_) => {}
        // A corrupt record is replaced by this event's; the log says what was lost.
        Err(why) => warn!("{why}; replacing it"),
    }
    let record = StateRecord {
        kind: event.kind,
        name: event.name.clone(),
        state: event.state,
        priority: event.priority,
        time: SystemTime::now(),
        seq: event.seq,
    };
    if let Err(e) = state::write_atomic(dir, &record) {
        return failed(
            event,
            format!("cannot write the state file in {}: {e}", dir.display()),
        );
    }
    let mut done = vec!["recorded".to_string()];
    let mut ok = true;
    if drives_actions(event, opts) {
        for (what, result) in marker(event, opts)
            .into_iter()
            .chain(run_actions(event, opts))
        {
            let (succeeded, line) = match &result {
                Ok(how) => (true, format!("{what}: {how}")),
                Err(why) => (false, format!("{what}: FAILED: {why}")),
            };
            ok &= succeeded;
            log_result!(
                succeeded,
                name = event.name.as_str(),
                action = what.as_str(),
                result = if succeeded { "ok" } else { "failed" },
                "{line}"
            );
            done.push(line);
        }
    }
    let summary = format!("{}: {}", event.describe(), done.join("; "));
    let result = if ok { "ok" } else { "failed" };
    log_result!(
        ok,
        event_type = event.kind.as_str(),
        name = event.name.as_str(),
        state = event.state.as_str(),
        vrrp_priority = event.priority,
        result,
        "{summary}"
    );
    append_history(opts, event, result);
    Handled { summary, ok }
}

fn failed(event: &Event, why: String) -> Handled {
    let summary = format!("{}: FAILED: {why}", event.describe());
    error!(name = event.name.as_str(), result = "failed", "{summary}");
    Handled { summary, ok: false }
}

/// Whether this event drives the marker and actions: every event unless --instance or
/// --group names the one that does.
fn drives_actions(event: &Event, opts: &NotifyOptions) -> bool {
    match (&opts.instance, &opts.group) {
        (Some(name), _) => event.kind == Kind::Instance && &event.name == name,
        (_, Some(name)) => event.kind == Kind::Group && &event.name == name,
        (None, None) => true,
    }
}

fn marker(event: &Event, opts: &NotifyOptions) -> Option<(String, Result<String, String>)> {
    let path = opts.marker.as_ref()?;
    let shown = path.display();
    let result = if event.state == VrrpState::Master {
        std::fs::write(path, format!("{}\n", event.describe()))
            .map(|_| format!("created {shown}"))
            .map_err(|e| format!("cannot create {shown}: {e}"))
    } else {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(format!("removed {shown}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(format!("{shown} already absent"))
            }
            Err(e) => Err(format!("cannot remove {shown}: {e}")),
        }
    };
    Some(("marker".into(), result))
}

fn run_actions(event: &Event, opts: &NotifyOptions) -> Vec<(String, Result<String, String>)> {
    let mut results = Vec::new();
    if let Some(unit) = &opts.service {
        if opts.start_on.contains(&event.state) {
            results.push(systemctl("start", unit, opts));
        } else if opts.stop_on.contains(&event.state) {
            results.push(systemctl("stop", unit, opts));
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
        let finished = actions::run(argv, opts.action_timeout);
        let what = format!("hook {}", argv.join(" "));
        results.push((
            what,
            if finished.ok() {
                Ok(finished.describe())
            } else {
                Err(finished.describe())
            },
        ));
    }
    results
}

/// `systemctl VERB UNIT`; a stop that fails or overruns escalates to killing the unit.
fn systemctl(verb: &str, unit: &str, opts: &NotifyOptions) -> (String, Result<String, String>) {
    let what = format!("systemctl {verb} {unit}");
    let argv: Vec<String> = vec!["systemctl".into(), verb.into(), unit.into()];
    let finished = actions::run(&argv, opts.action_timeout);
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
    let killed = actions::run(&kill, opts.action_timeout);
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

fn append_history(opts: &NotifyOptions, event: &Event, result: &str) {
    let Some(path) = &opts.history else { return };
    let line = format!(
        "{} {} {} {} {} seq={} {result}\n",
        humantime::format_rfc3339_seconds(SystemTime::now()),
        event.kind.as_str(),
        event.name,
        event.state,
        event.priority,
        event.seq
    );
    // O_APPEND: concurrent writers' lines do not interleave (one write each).
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        error!("cannot append to history {}: {e}", path.display());
    }
}

/// `ka-notify status`: every record, with its age.
fn status(dir: &std::path::Path) -> ExitCode {
    let records = match state::list(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "no state recorded in {} (ka-notify has not run yet)",
                dir.display()
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            println!("ka-notify: cannot read {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    if records.is_empty() {
        println!("no state recorded in {}", dir.display());
    }
    let mut ok = true;
    let now = SystemTime::now();
    for r in records {
        match r {
            Ok(rec) => {
                let age = now.duration_since(rec.time).unwrap_or_default();
                let age = humantime::format_duration(std::time::Duration::from_secs(age.as_secs()));
                println!(
                    "{:<8} {:<20} {:<7} priority {:<3} since {} ({age} ago)",
                    rec.kind.as_str(),
                    rec.name,
                    rec.state.as_str(),
                    rec.priority,
                    humantime::format_rfc3339_seconds(rec.time)
                );
            }
            Err(why) => {
                ok = false;
                println!("unreadable: {why}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs ka-notify with the process's arguments.
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let line = format!("ka-notify: internal error: bug: {info}").replace('\n', " ");
        error!("{line}");
        println!("{line}");
        std::process::exit(1);
    }));
    let cli = match KaNotify::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            logging::init("ka-notify", logging::LogTarget::Auto, 0);
            let _ = e.print();
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            error!("bad arguments: {first}");
            println!("ka-notify: bad arguments: {first}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Mode::Status { state_dir }) => status(&state_dir),
        Some(Mode::Fifo { fifo, options }) => {
            logging::init("ka-notify", options.log, options.verbose);
            fifo::run(&fifo, &options)
        }
        None => {
            let opts = cli.options;
            logging::init("ka-notify", opts.log, opts.verbose);
            let named = match (&opts.instance, &opts.group) {
                (Some(name), _) => Some((Kind::Instance, name.as_str())),
                (_, Some(name)) => Some((Kind::Group, name.as_str())),
                _ => None,
            };
            let event = match event::from_args(&cli.event, named, event::seq_of_this_process()) {
                Ok(event) => event,
                Err(why) => {
                    error!(result = "failed", "bad event: {why}");
                    println!("ka-notify: bad event: {why}");
                    return ExitCode::FAILURE;
                }
            };
            let handled = handle(&event, &opts);
            println!("ka-notify: {}", handled.summary);
            if handled.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
