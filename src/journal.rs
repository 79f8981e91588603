//! Log records to journald in its native protocol (the `tracing` subscriber in
//! [`crate::logging`] hands them here).
//!
//! Why not `tracing-journald`: it always sends to `/run/systemd/journal/socket`, so its
//! output cannot be tested on machines without journald, and it sends blocking, so a
//! journald that is backed up would stall a check past its deadline. The protocol is small
//! (one datagram of `KEY=value` lines, a length-prefixed form for values with newlines),
//! so we speak it here: to a configurable socket, without blocking, dropping a record
//! rather than missing a deadline.

use std::fmt::{self, Write as _};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use tracing::field::{Field, Visit};
use tracing::{Event, Level};

/// Where journald listens for native-protocol datagrams.
pub const DEFAULT_SOCKET: &str = "/run/systemd/journal/socket";

/// The environment variable that points the journal writer at another socket (tests, and
/// containers that bind-mount the host journal elsewhere).
pub const SOCKET_ENV: &str = "KEEPALIVED_CHECKS_JOURNAL_SOCKET";

/// The journal socket path in effect: `$KEEPALIVED_CHECKS_JOURNAL_SOCKET` or the default.
pub fn socket_path() -> std::path::PathBuf {
    std::env::var_os(SOCKET_ENV)
        .filter(|p| !p.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| DEFAULT_SOCKET.into())
}

/// Sends each event as one journal entry with `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`
/// and the event's fields upper-cased (`check` becomes `CHECK`).
#[derive(Debug)]
pub struct JournalWriter {
    socket: UnixDatagram,
    identifier: String,
}

impl JournalWriter {
    /// Connects to the journal socket at `path`; entries carry `identifier` as their
    /// `SYSLOG_IDENTIFIER`, so `journalctl -t check-tcp` finds them.
    pub fn connect(path: &Path, identifier: &str) -> io::Result<Self> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        socket.set_nonblocking(true)?;
        Ok(JournalWriter {
            socket,
            identifier: identifier.to_string(),
        })
    }
}

/// syslog priorities, as journald and `journalctl -p` use them.
fn priority(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "3",
        Level::WARN => "4",
        Level::INFO => "6",
        Level::DEBUG | Level::TRACE => "7",
    }
}

impl JournalWriter {
    /// Sends `event` as one journal entry.
    pub fn on_event(&self, event: &Event<'_>) {
        let mut entry = Vec::with_capacity(512);
        put_field(&mut entry, "PRIORITY", priority(event.metadata().level()));
        put_field(&mut entry, "SYSLOG_IDENTIFIER", &self.identifier);
        event.record(&mut EntryVisitor { entry: &mut entry });
        // Non-blocking: if journald cannot take the entry now, the check's deadline wins.
        let _ = self.socket.send(&entry);
    }
}

struct EntryVisitor<'a> {
    entry: &'a mut Vec<u8>,
}

impl Visit for EntryVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // An empty value says nothing (no round-trip time on a refused connection).
        if !value.is_empty() {
            put_field(self.entry, &field_name(field), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        put_field(self.entry, &field_name(field), &text);
    }
}

/// Fields the journal gives a meaning of its own; an event field of the same name would
/// silently change it (a `priority` field would overwrite the syslog level).
const RESERVED: [&str; 10] = [
    "MESSAGE",
    "MESSAGE_ID",
    "PRIORITY",
    "SYSLOG_IDENTIFIER",
    "SYSLOG_FACILITY",
    "SYSLOG_PID",
    "CODE_FILE",
    "CODE_LINE",
    "CODE_FUNC",
    "ERRNO",
];

/// journald accepts field names of upper-case letters, digits and `_`, not starting with
/// `_` (reserved for trusted fields) or a digit. Event fields that would shadow a journal
/// field get an `F_` prefix.
fn field_name(field: &Field) -> String {
    if field.name() == "message" {
        return "MESSAGE".into();
    }
    let mut name: String = field
        .name()
        .chars()
        .map(|c| match c {
            'a'..='z' => c.to_ascii_uppercase(),
            'A'..='Z' | '0'..='9' => c,
            _ => '_',
        })
        .collect();
    while name.starts_with(|c: char| c == '_' || c.is_ascii_digit()) {
        name.remove(0);
    }
    if name.is_empty() {
        name.push_str("FIELD");
    }
    if RESERVED.contains(&name.as_str()) {
        name.insert_str(0, "F_");
    }
    name
}

/// Appends one field in the native protocol: `KEY=value\n`, or for a value containing a
/// newline `KEY\n`, its length as 64-bit little endian, the value, `\n`.
pub fn put_field(entry: &mut Vec<u8>, key: &str, value: &str) {
    entry.extend_from_slice(key.as_bytes());
    if value.contains('\n') {
        entry.push(b'\n');
        entry.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        entry.push(b'=');
    }
    entry.extend_from_slice(value.as_bytes());
    entry.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_multiline_values_use_the_native_framing() {
        let mut e = Vec::new();
        put_field(&mut e, "MESSAGE", "TCP OK");
        put_field(&mut e, "REASON", "a\nb");
        let mut want = b"MESSAGE=TCP OK\nREASON\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"a\nb\n");
        assert_eq!(e, want);
    }

    #[test]
    fn event_fields_cannot_shadow_journal_fields() {
        struct Probe;
        impl Visit for Probe {
            fn record_debug(&mut self, field: &Field, _: &dyn fmt::Debug) {
                let want = match field.name() {
                    "message" => "MESSAGE",
                    "priority" => "F_PRIORITY",
                    "check.name" => "CHECK_NAME",
                    _ => "STAGE",
                };
                assert_eq!(field_name(field), want);
            }
        }
        let subscriber = crate::logging::EventSubscriber::new(
            tracing::level_filters::LevelFilter::TRACE,
            |event: &Event<'_>| event.record(&mut Probe),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(priority = 100, check.name = "x", stage = "done", "hello");
        });
    }

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(priority(&Level::ERROR), "3");
        assert_eq!(priority(&Level::WARN), "4");
        assert_eq!(priority(&Level::INFO), "6");
        assert_eq!(priority(&Level::TRACE), "7");
    }
}
