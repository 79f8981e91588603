//! Handling one event: lock the state directory, compare with the record, write the new
//! record, then the marker, the actions and the history line.

use std::time::SystemTime;

use tracing::{error, info, warn};

use super::event::boottime_ns;
use super::event::Event;
use super::{actions, history, marker, Options};
use crate::state::{Kind, StateDir, StateError, StateRecord};

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
pub fn handle(event: &Event, opts: &Options) -> Handled {
    let dir = match StateDir::create(&opts.state_dir) {
        Ok(dir) => dir,
        Err(e) => {
            history::append(opts, event, "failed");
            return failed(event, e.to_string());
        }
    };
    let _lock = match dir.lock() {
        Ok(lock) => lock,
        Err(e) => {
            history::append(opts, event, "failed");
            return failed(
                event,
                format!("cannot lock {}: {e}", opts.state_dir.display()),
            );
        }
    };
    match dir.read(event.kind, &event.name) {
        Ok(Some(on_record)) if !event.seq.supersedes(&on_record.seq, boottime_ns()) => {
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
            history::append(opts, event, "stale");
            return Handled { summary, ok: true };
        }
        Ok(_) => {}
        // A corrupt record is replaced by this event's; the log says what was lost.
        Err(e @ StateError::Corrupt { .. }) => warn!("{e}; replacing it"),
        // What an unreadable record holds is unknown: it may be newer than this event, so
        // it is neither overwritten nor acted upon.
        Err(e) => {
            history::append(opts, event, "failed");
            return failed(event, format!("{e}; left as it is, nothing done"));
        }
    }
    let record = StateRecord {
        kind: event.kind,
        name: event.name.clone(),
        state: event.state,
        priority: event.priority,
        time: SystemTime::now(),
        seq: event.seq,
    };
    if let Err(e) = dir.write_atomic(&record) {
        return failed(event, format!("cannot write the state file {e}"));
    }
    let mut done = vec!["recorded".to_string()];
    let mut ok = true;
    if drives_actions(event, opts) {
        for (what, result) in marker::update(event, opts)
            .into_iter()
            .chain(actions::for_event(event, opts))
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
    history::append(opts, event, result);
    Handled { summary, ok }
}

fn failed(event: &Event, why: String) -> Handled {
    let summary = format!("{}: FAILED: {why}", event.describe());
    error!(name = event.name.as_str(), result = "failed", "{summary}");
    Handled { summary, ok: false }
}

/// Whether this event drives the marker and actions: every event unless --instance or
/// --group names the one that does.
fn drives_actions(event: &Event, opts: &Options) -> bool {
    match (&opts.instance, &opts.group) {
        (Some(name), _) => event.kind == Kind::Instance && &event.name == name,
        (_, Some(name)) => event.kind == Kind::Group && &event.name == name,
        (None, None) => true,
    }
}
