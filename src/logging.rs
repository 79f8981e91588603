//! Where log records go: the journal, stderr, or nowhere.
//!
//! keepalived starts scripts with stdin, stdout and stderr on /dev/null, so under
//! keepalived the only place an operator can learn *why* a check failed is the journal.
//! By hand on a terminal, the status line on stdout already is the verdict, and stderr
//! carries the stages (`-v`) and the bytes on the wire (`-vv`).

use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write as _};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

use crate::journal::{self, JournalWriter};

/// The `--log` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogTarget {
    /// journald when stderr is not a terminal and the journal socket exists, else stderr;
    /// on a terminal without -v, nothing beyond the status line.
    #[default]
    Auto,
    /// The journal (native protocol), falling back to stderr if its socket is missing.
    Journald,
    /// Standard error.
    Stderr,
    /// No log records at all.
    None,
}

/// Where records actually went, after `Auto` was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSink {
    /// The journal.
    Journal,
    /// Standard error.
    Stderr,
    /// Nowhere.
    Off,
}

/// Decides the sink. Separate from [`init`] so the rule can be tested without touching
/// the process's global subscriber.
pub fn choose_sink(
    target: LogTarget,
    verbosity: u8,
    stderr_is_terminal: bool,
    journal_exists: bool,
) -> LogSink {
    match target {
        LogTarget::None => LogSink::Off,
        LogTarget::Stderr => LogSink::Stderr,
        LogTarget::Journald if journal_exists => LogSink::Journal,
        LogTarget::Journald => LogSink::Stderr,
        LogTarget::Auto if stderr_is_terminal && verbosity == 0 => LogSink::Off,
        LogTarget::Auto if stderr_is_terminal => LogSink::Stderr,
        LogTarget::Auto if journal_exists => LogSink::Journal,
        LogTarget::Auto => LogSink::Stderr,
    }
}

/// The most detailed level logged at `verbosity`: verdicts at 0, stages at 1, bytes at 2.
pub fn level_for(verbosity: u8) -> LevelFilter {
    match verbosity {
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Installs the process-wide subscriber for `program` and returns the sink chosen.
pub fn init(program: &'static str, target: LogTarget, verbosity: u8) -> LogSink {
    let socket = journal::socket_path();
    let mut sink = choose_sink(
        target,
        verbosity,
        std::io::stderr().is_terminal(),
        socket.exists(),
    );
    let journal = match sink {
        LogSink::Journal => match JournalWriter::connect(&socket, program) {
            Ok(writer) => Some(writer),
            Err(_) => {
                // The socket file exists but nobody listens (journald stopped): stderr is
                // the best that is left.
                sink = LogSink::Stderr;
                None
            }
        },
        _ => None,
    };
    let level = level_for(verbosity);
    let write: Box<dyn Fn(&Event<'_>) + Send + Sync> = match (journal, sink) {
        (Some(journal), _) => Box::new(move |event| journal.on_event(event)),
        (None, LogSink::Stderr) => {
            let stderr = StderrWriter {
                started: Instant::now(),
            };
            Box::new(move |event| stderr.on_event(event))
        }
        // No subscriber at all: tracing's default drops every event at the callsite.
        _ => return sink,
    };
    // Fails only if a subscriber was already installed, which would be a bug in a binary
    // that calls this once; the check itself must not die of it.
    let _ = tracing::subscriber::set_global_default(EventSubscriber::new(level, write));
    sink
}

/// A subscriber that hands each event at or above `level` to a function. The programs log
/// events only (no spans), so this is all of tracing-subscriber's Registry and filtered
/// layers they need, for a fraction of their start-up cost.
pub struct EventSubscriber<F> {
    level: LevelFilter,
    write: F,
}

impl<F: Fn(&Event<'_>) + Send + Sync + 'static> EventSubscriber<F> {
    /// Passes events at `level` and more severe to `write`.
    pub fn new(level: LevelFilter, write: F) -> Self {
        EventSubscriber { level, write }
    }
}

impl<F: Fn(&Event<'_>) + Send + Sync + 'static> Subscriber for EventSubscriber<F> {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level)
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= self.level
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        (self.write)(event);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Writes each record to stderr as `+0.000213s LEVEL message`: the time since start shows
/// which stage was slow, and the structured fields, which the message already says in
/// words, are left to the journal.
struct StderrWriter {
    started: Instant,
}

impl StderrWriter {
    fn on_event(&self, event: &Event<'_>) {
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        let line = format!(
            "+{:.6}s {:>5} {}\n",
            self.started.elapsed().as_secs_f64(),
            event.metadata().level(),
            message.0
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

struct MessageOnly(String);

impl Visit for MessageOnly {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_the_journal_under_keepalived_and_stays_quiet_on_a_terminal() {
        use LogTarget::{Auto, Journald};
        // keepalived: stderr is /dev/null, journald running.
        assert_eq!(choose_sink(Auto, 0, false, true), LogSink::Journal);
        // No journald (containers, sysvinit): stderr, wherever it goes.
        assert_eq!(choose_sink(Auto, 0, false, false), LogSink::Stderr);
        // By hand: the status line says it all unless -v is asked for.
        assert_eq!(choose_sink(Auto, 0, true, true), LogSink::Off);
        assert_eq!(choose_sink(Auto, 1, true, true), LogSink::Stderr);
        // Explicit choices win.
        assert_eq!(choose_sink(Journald, 0, true, true), LogSink::Journal);
        assert_eq!(choose_sink(Journald, 0, false, false), LogSink::Stderr);
        assert_eq!(
            choose_sink(LogTarget::Stderr, 0, false, true),
            LogSink::Stderr
        );
        assert_eq!(choose_sink(LogTarget::None, 2, false, true), LogSink::Off);
    }

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_for(0), LevelFilter::INFO);
        assert_eq!(level_for(1), LevelFilter::DEBUG);
        assert_eq!(level_for(7), LevelFilter::TRACE);
    }
}
