//! What the daemon knows about each check: its rise/fall state, the value its track file
//! holds, the last probe; and the views of it: `status` (text, JSON) and node_exporter's
//! textfile format. Sans I/O: the driver writes the files this says to write.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::config::CheckConfig;
use super::hysteresis::{Change, Health, Tracker};
use super::probe::CheckLine;
use crate::report::{json_string, Report};
use crate::{Outcome, Verdict};

/// The last probe of a check. Its status line is formatted only when asked for (status,
/// the journal on a verdict): a thousand probes a second should not each pay for it.
#[derive(Debug, Clone)]
pub struct LastProbe {
    /// When it ended.
    pub at: SystemTime,
    /// What it found.
    pub outcome: Outcome,
}

impl LastProbe {
    /// The status line the one-shot program prints for this outcome.
    pub fn line(&self, check: &CheckLine) -> String {
        let result = Ok(self.outcome.clone());
        Report {
            label: check.label,
            program: check.program,
            target: &check.target,
            result: &result,
        }
        .text_line()
    }
}

/// One check.
#[derive(Debug)]
pub struct Entry {
    /// Its configuration.
    pub config: Arc<CheckConfig>,
    /// Its rise/fall state.
    pub tracker: Tracker,
    /// When its verdict last changed (or the daemon started it).
    pub since: SystemTime,
    /// The value last written to the track file; `None` before a write succeeded.
    pub written: Option<i32>,
    /// Why the last write failed, until one succeeds.
    pub write_error: Option<String>,
    /// The last probe.
    pub last: Option<LastProbe>,
    /// Ticks skipped because a probe outlasted its interval.
    pub skipped_ticks: u64,
}

/// What recording a probe asks the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The verdict reached, for the journal.
    pub change: Option<Change>,
    /// The value to write to the track file, when it differs from what it holds.
    pub write: Option<i32>,
}

impl Entry {
    /// A check not probed yet, its file to show the initial value.
    pub fn new(config: Arc<CheckConfig>, now: SystemTime) -> Entry {
        Entry {
            tracker: Tracker::new(config.rise, config.fall, config.initial),
            config,
            since: now,
            written: None,
            write_error: None,
            last: None,
            skipped_ticks: 0,
        }
    }

    /// The value the track file should hold.
    pub fn value(&self) -> i32 {
        self.config.value(self.tracker.health())
    }

    /// The value to write, if the file does not hold it (or a write failed).
    pub fn pending_write(&self) -> Option<i32> {
        let value = self.value();
        (self.written != Some(value)).then_some(value)
    }

    /// Records one probe. Skipped (`--only-if-master` on a node that is not MASTER) counts
    /// as healthy, as the one-shot program's exit 0 does.
    pub fn record(&mut self, outcome: Outcome, now: SystemTime, skipped_ticks: u64) -> Step {
        let ok = matches!(outcome.verdict, Verdict::Healthy | Verdict::Skipped);
        let change = self.tracker.observe(ok);
        // The tracker reports a change only when the verdict moves (or the first one).
        if change.is_some() {
            self.since = now;
        }
        self.skipped_ticks += skipped_ticks;
        self.last = Some(LastProbe { at: now, outcome });
        Step {
            change,
            write: self.pending_write(),
        }
    }

    /// The last probe's status line, or why there is none.
    pub fn last_line(&self) -> String {
        self.last.as_ref().map_or_else(
            || "no probe yet".to_string(),
            |l| l.line(&self.config.check),
        )
    }

    /// The last probe's round-trip time, when it measured one.
    pub fn last_rtt(&self) -> Option<Duration> {
        self.last.as_ref().and_then(|l| l.outcome.rtt)
    }

    /// The verdict's name: `healthy`, `failed`, or `pending` before the first verdict.
    pub fn verdict_name(&self) -> &'static str {
        self.tracker.verdict().map_or("pending", Health::as_str)
    }
}

/// A metric family: name, type, help, and each check's sample (none to leave it out).
type Family<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a dyn Fn(&Entry) -> Option<String>,
);

/// Every check, by name.
#[derive(Debug, Default)]
pub struct Board {
    /// The checks.
    pub checks: BTreeMap<String, Entry>,
    /// Whether anything changed since the metrics file was last written.
    pub metrics_dirty: bool,
    /// The metrics file, if configured.
    pub metrics_file: Option<std::path::PathBuf>,
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ago(then: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

impl Board {
    /// `keepalived-checkd status`: one block of two lines per check.
    pub fn status_text(&self, now: SystemTime) -> String {
        let mut out = String::new();
        for (name, e) in &self.checks {
            let verdict = match e.tracker.verdict() {
                Some(h) => h.as_str().to_string(),
                None => format!(
                    "pending (shows {} until the first verdict)",
                    e.tracker.health().as_str()
                ),
            };
            let rtt = match e.last_rtt() {
                Some(rtt) => format!("rtt {}", crate::deadline::format_ms(rtt)),
                None => "rtt -".into(),
            };
            let file = match (&e.written, &e.write_error) {
                (_, Some(err)) => format!("NOT WRITTEN ({err})"),
                (Some(v), None) => format!("= {v}"),
                (None, None) => "not written yet".into(),
            };
            let _ = writeln!(
                out,
                "{name}: {verdict} since {} ({} ago), {rtt}, {} probes, {} transitions, {} ok/{} failed in a row; {} {file}",
                humantime::format_rfc3339_seconds(e.since),
                ago(e.since, now),
                e.tracker.probes(),
                e.tracker.transitions(),
                e.tracker.ok_run(),
                e.tracker.fail_run(),
                e.config.file.display(),
            );
            let _ = writeln!(out, "    last: {}", e.last_line());
        }
        out
    }

    /// `keepalived-checkd status --format json`: one object.
    pub fn status_json(&self) -> String {
        let mut out = String::from("{\"checks\":[");
        for (i, (name, e)) in self.checks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let opt = |v: Option<i32>| v.map_or("null".to_string(), |v| v.to_string());
            let secs =
                |d: Option<Duration>| d.map_or("null".to_string(), |d| d.as_secs_f64().to_string());
            let _ = write!(
                out,
                "{{\"name\":{},\"verdict\":\"{}\",\"health\":\"{}\",\"since\":{},\"file\":{},\"value\":{},\"written\":{},\"write_error\":{},\"probes\":{},\"transitions\":{},\"ok_in_a_row\":{},\"failed_in_a_row\":{},\"skipped_ticks\":{},\"rtt\":{},\"last\":",
                json_string(name),
                e.verdict_name(),
                e.tracker.health().as_str(),
                unix_seconds(e.since),
                json_string(&e.config.file.to_string_lossy()),
                e.value(),
                opt(e.written),
                e.write_error.as_deref().map_or("null".into(), json_string),
                e.tracker.probes(),
                e.tracker.transitions(),
                e.tracker.ok_run(),
                e.tracker.fail_run(),
                e.skipped_ticks,
                secs(e.last_rtt()),
            );
            match &e.last {
                None => out.push_str("null}"),
                Some(l) => {
                    let _ = write!(
                        out,
                        "{{\"at\":{},\"verdict\":\"{}\",\"line\":{}}}}}",
                        unix_seconds(l.at),
                        l.outcome.verdict.as_str(),
                        json_string(&e.last_line())
                    );
                }
            }
        }
        out.push_str("]}\n");
        out
    }

    /// node_exporter's textfile format: per check, up, the last rtt, transitions and
    /// probes.
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        let families: [Family<'_>; 4] = [
            (
                "keepalived_checkd_up",
                "gauge",
                "1 when the check's verdict is healthy, 0 when failed or not reached yet.",
                &|e| Some(u8::from(e.tracker.verdict() == Some(Health::Healthy)).to_string()),
            ),
            (
                "keepalived_checkd_rtt_seconds",
                "gauge",
                "Round-trip time measured by the last probe.",
                &|e| e.last_rtt().map(|d| d.as_secs_f64().to_string()),
            ),
            (
                "keepalived_checkd_transitions_total",
                "counter",
                "Verdict changes since the check was started.",
                &|e| Some(e.tracker.transitions().to_string()),
            ),
            (
                "keepalived_checkd_probes_total",
                "counter",
                "Probes since the check was started.",
                &|e| Some(e.tracker.probes().to_string()),
            ),
        ];
        for (metric, kind, help, value) in families {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} {kind}");
            for (name, e) in &self.checks {
                if let Some(v) = value(e) {
                    // Names are letters, digits, '_', '-', '.': nothing to escape.
                    let _ = writeln!(out, "{metric}{{check=\"{name}\"}} {v}");
                }
            }
        }
        out
    }
}
