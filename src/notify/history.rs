//! The history: one line per event, appended.

use std::io::Write as _;
use std::time::SystemTime;

use tracing::error;

use super::event::Event;
use super::Options;

/// Appends `TIME KIND NAME STATE PRIORITY seq=SEQ RESULT` to `--history`, if set.
pub fn append(opts: &Options, event: &Event, result: &str) {
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
    let written = crate::small_file::create_regular(path, true)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        error!("cannot append to history {}: {e}", path.display());
    }
}
