//! keepalived-checks: health checks and a notify handler for keepalived.
//!
//! Every check honours one contract (see the README): exit 0 when healthy and 1 for
//! anything else, a hard end-to-end deadline, one monitoring-plugins style status line on
//! stdout, and every verdict in the journal with the reason, because keepalived runs
//! checks with stdout and stderr on /dev/null.
//!
//! # Layout
//! - [`deadline`]: the one deadline type all I/O runs under.
//! - [`outcome`]: the one outcome type ([`Outcome`], [`Verdict`], [`Stage`]).
//! - [`error`]: [`CheckError`], for checks that could not run as configured.
//! - [`target`]: host and port parsing (`host:port`, `[v6]:port`, `tcp://host:port`).
//! - [`token`]: random identifiers (SIP branch and Call-ID, Digest cnonce).
//! - [`escape`]: `\r\n` escapes in arguments, safe rendering of server bytes.
//! - [`textproto`]: framing of HTTP-like text messages (SIP, RTSP), sans I/O.
//! - [`net`]: resolve, connect, send and bounded read, with progress for timeouts.
//! - [`report`]: status line, JSON, and the single exit-status mapping.
//! - [`journal`]: a journald native-protocol `tracing` layer.
//! - [`logging`]: choosing journald, stderr or nothing.
//! - [`cli`]: each program's clap definition and the shared options.
//! - [`accept`]: `--accept` status-code policies (SIP, RTSP).
//! - [`tcp`]: the `check-tcp` probe.
//! - [`sip`]: the `check-sip` probe: URI, request, response parsing, conversation.
//! - [`state`]: ka-notify's state files, and the `--only-if-master` gate.
//! - [`notify`]: `ka-notify`: events, ordering, actions, FIFO mode.
//! - [`rtsp`]: the `check-rtsp` probe: URL, responses and SDP, authentication, conversation.

pub mod accept;
pub mod cli;
pub mod deadline;
pub mod error;
pub mod escape;
pub mod journal;
pub mod logging;
pub mod net;
pub mod notify;
pub mod outcome;
pub mod report;
pub mod rtsp;
pub mod sip;
pub mod state;
pub mod target;
pub mod tcp;
pub mod textproto;
pub mod token;

pub use deadline::Deadline;
pub use error::CheckError;
pub use outcome::{Outcome, Stage, Verdict};
