#![warn(missing_docs)]
//! keepalived-checks: health checks and a notify handler for keepalived.
//!
//! Every check honours one contract (see the README): exit 0 when healthy and 1 for
//! anything else, a hard end-to-end deadline, one monitoring-plugins style status line on
//! stdout, and every verdict in the journal with the reason, because keepalived runs
//! checks with stdout and stderr on /dev/null.
//!
//! # Calling a probe from Rust
//!
//! A probe is a plain async function of typed options and a [`ProbeContext`]: no clap
//! types, no process-wide state, and a `Send` future, so a long-running caller can run
//! hundreds of them on one runtime. The caller owns the deadline:
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//!
//! use keepalived_checks::net::ProbeContext;
//! use keepalived_checks::sip::{self, uri::SipUri};
//! use keepalived_checks::{Deadline, Verdict};
//!
//! # async fn ping() -> Result<(), keepalived_checks::CheckError> {
//! let uri: SipUri = "sip:127.0.0.1:5060".parse()?;
//! let opts = sip::Options::new(uri); // UDP, 2xx healthy, T1 500 ms
//! let ctx = ProbeContext::new(Deadline::new(Instant::now(), Duration::from_millis(800)), None);
//! let outcome = ctx.within_deadline(sip::probe(&opts, &ctx)).await;
//! match outcome.verdict {
//!     Verdict::Healthy => println!("up: {}", outcome.reason), // "200 OK in 0.3 ms over udp"
//!     _ => println!("down at {}: {}", outcome.stage, outcome.reason),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`tcp::probe`] and [`rtsp::probe()`] are called the same way with their `Options`.
//!
//! # Layout
//! - [`deadline`]: the one deadline type all I/O runs under.
//! - [`outcome`]: the one outcome type ([`Outcome`], [`Verdict`], [`Stage`]).
//! - [`error`]: [`CheckError`], for checks that could not run as configured.
//! - [`target`]: host and port parsing (`host:port`, `[v6]:port`, `tcp://host:port`),
//!   addresses as text, and masking passwords in anything shown.
//! - [`token`]: random identifiers (SIP branch and Call-ID, Digest cnonce).
//! - [`decimal`]: numbers, durations and IPv4 addresses appended to text by hand, for the
//!   strings a daemon builds a thousand times a second.
//! - [`escape`]: `\r\n` escapes in arguments, safe rendering of server bytes.
//! - [`textproto`]: framing of HTTP-like text messages (SIP, RTSP), sans I/O.
//! - [`tls`]: TLS under the checks (rustls on ring): trust, SNI, client certificates, the
//!   handshake and its failures in words, certificate lifetimes.
//! - [`net`]: the probe context, and resolve, connect, send and bounded read with progress
//!   for timeouts: the I/O under every driver.
//! - [`accept`]: `--accept` status-code policies (SIP, RTSP).
//! - [`tcp`]: the TCP probe.
//! - [`sip`]: the SIP OPTIONS probe: URI, request, responses, the transaction state machine,
//!   its driver.
//! - [`rtsp`]: the RTSP probe: URL, responses and SDP, authentication, the session state
//!   machine, its driver.
//! - [`small_file`]: reading small files without blocking, bounded, regular files only;
//!   writing the marker and history never through a link.
//! - [`trusted_dir`]: directories root may write in, checked from `/` component by
//!   component, symbolic links included.
//! - [`state`]: ka-notify's state files (a directory checked before it is trusted, the
//!   order of events), and the `--only-if-master` gate.
//! - [`notify`]: the notify handler: events, ordering, actions, FIFO mode.
//! - [`report`]: status line, JSON, and the single exit-status mapping.
//! - [`journal`]: log records to journald over its native protocol.
//! - [`logging`]: choosing journald, stderr or nothing.
//! - [`signals`]: SIGTERM and SIGINT (and SIGHUP), blocked from the start and read from a
//!   signalfd.
//! - [`sd_notify`]: systemd's notify protocol (READY, WATCHDOG, STATUS).
//! - [`words`]: splitting command strings as keepalived does.
//! - [`checkd`]: keepalived-checkd, the long-running prober that writes track files.
//! - [`doctor`]: `keepalived-checks doctor`: keepalived.conf read as keepalived reads it,
//!   and what will silently go wrong.
//! - [`cli`]: the top floor: each program's clap definition and the one process shell
//!   they all run in. Nothing else imports it.

pub mod accept;
pub mod arena;
pub mod checkd;
pub mod cli;
pub mod deadline;
pub mod decimal;
pub mod doctor;
pub mod error;
pub mod escape;
pub mod journal;
pub mod logging;
pub mod net;
pub mod notify;
pub mod outcome;
pub mod report;
pub mod rtsp;
pub mod sd_notify;
pub mod signals;
pub mod sip;
pub mod small_file;
pub mod state;
pub mod target;
pub mod tcp;
pub mod textproto;
pub mod tls;
pub mod token;
pub mod trusted_dir;
#[cfg(kc_static_unwind)]
#[doc(hidden)]
pub mod unwind_shim;
pub mod words;

pub use deadline::Deadline;
pub use error::CheckError;
pub use net::ProbeContext;
pub use outcome::{Outcome, Stage, Verdict};
