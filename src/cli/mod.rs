//! Command-line definitions, kept in the library so man pages and completions can be
//! generated from the same clap definitions the programs parse with.
//!
//! [`CommonArgs`] is flattened into every check, so `--timeout`, `--source`, `-v`,
//! `--format` and `--log` read the same in all of them.

pub mod check_rtsp;
pub mod check_sip;
pub mod check_tcp;
pub mod ka_notify;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::logging::LogTarget;
use crate::report::Format;

/// The default deadline. keepalived's default script timeout is one second (the
/// `interval`); ending at 800 ms leaves room to report before keepalived's SIGTERM.
pub const DEFAULT_TIMEOUT: &str = "800ms";

/// Text appended to every check's `--help`: the exit contract, which keepalived relies on.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  healthy
  1  anything else: unhealthy, timed out, bad arguments, resolve failure, internal error
  With --format nagios: 0 OK, 2 CRITICAL, 3 UNKNOWN (bad arguments still exit 1).";

/// Options every check shares.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Hard end-to-end deadline over resolve, connect, send and receive (e.g. 800ms, 2s).
    /// The process exits by then whatever the server does.
    #[arg(short = 't', long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT,
          value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Local address to connect from (LVS and VIP-on-loopback setups).
    #[arg(long, value_name = "ADDR")]
    pub source: Option<IpAddr>,

    /// More log detail: -v shows each stage, -vv the bytes on the wire.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Output: one text line, one JSON object, or the text line with Nagios exit statuses.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,

    /// Where log records go; auto = journald when not on a terminal and journald runs.
    #[arg(long, value_enum, value_name = "TARGET", default_value_t = LogTarget::Auto)]
    pub log: LogTarget,

    /// Check only while ka-notify's state file says this node is MASTER for the VRRP
    /// instance (or sync group) NAME; otherwise print SKIPPED and exit 0. A missing or
    /// corrupt state file counts as not MASTER (logged as a warning).
    #[arg(long, value_name = "NAME")]
    pub only_if_master: Option<String>,

    /// Where ka-notify keeps its state files (for --only-if-master).
    #[arg(long, value_name = "DIR", default_value = crate::state::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

/// Parses a `--timeout` value: a humantime duration ("800ms", "2s", "1s 500ms"), more than
/// zero and at most an hour (a longer one is surely a typo for a check).
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration like 800ms or 2s ({e})"))?;
    if d.is_zero() {
        return Err("a timeout of zero leaves no time to check anything".into());
    }
    if d > Duration::from_secs(3600) {
        return Err(format!("'{s}' is longer than an hour"));
    }
    Ok(d)
}

/// Bytes given on the command line with `\r\n`-style escapes (see [`crate::escape`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBytes(pub Vec<u8>);

/// Parses a `--send`/`--expect` value.
pub fn parse_wire_bytes(s: &str) -> Result<WireBytes, String> {
    let bytes = crate::escape::unescape(s)?;
    if bytes.is_empty() {
        return Err("an empty string".into());
    }
    Ok(WireBytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_and_refuse_nonsense() {
        assert_eq!(parse_timeout("800ms"), Ok(Duration::from_millis(800)));
        assert_eq!(parse_timeout("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout("1s 500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_timeout("0s").unwrap_err().contains("zero"));
        assert!(parse_timeout("5").unwrap_err().contains("not a duration"));
        assert!(parse_timeout("2h").unwrap_err().contains("hour"));
    }

    #[test]
    fn wire_bytes_unescape() {
        assert_eq!(
            parse_wire_bytes(r"QUIT\r\n"),
            Ok(WireBytes(b"QUIT\r\n".to_vec()))
        );
        assert!(parse_wire_bytes("").is_err());
        assert!(parse_wire_bytes(r"\q").is_err());
    }
}
