//! `ka-notify status`: every recorded instance and group, with its age.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::state::StateDir;

/// The lines `ka-notify status` prints, and whether every state file was usable.
pub fn report(dir: &Path) -> (Vec<String>, bool) {
    let records = match StateDir::open(dir).and_then(|d| d.list()) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let line = format!(
                "no state recorded in {} (ka-notify has not run yet)",
                dir.display()
            );
            return (vec![line], true);
        }
        Err(e) => return (vec![format!("ka-notify: {e}")], false),
    };
    let mut lines = Vec::new();
    if records.is_empty() {
        lines.push(format!("no state recorded in {}", dir.display()));
    }
    let mut ok = true;
    let now = SystemTime::now();
    for r in records {
        match r {
            Ok(rec) => {
                let age = now.duration_since(rec.time).unwrap_or_default();
                let age = humantime::format_duration(Duration::from_secs(age.as_secs()));
                lines.push(format!(
                    "{:<8} {:<20} {:<7} priority {:<3} since {} ({age} ago)",
                    rec.kind.as_str(),
                    rec.name,
                    rec.state.as_str(),
                    rec.priority,
                    humantime::format_rfc3339_seconds(rec.time)
                ));
            }
            Err(why) => {
                ok = false;
                lines.push(format!("unreadable: {why}"));
            }
        }
    }
    (lines, ok)
}
