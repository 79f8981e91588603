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
//! - [`handle`](mod@handle): one event: lock, compare with the record, write, marker,
//!   actions, history.
//! - [`marker`]: the file that exists only while MASTER.
//! - [`actions`]: systemctl and hooks with timeouts and escalation.
//! - [`history`]: one line per event.
//! - [`status`]: `ka-notify status`.
//! - [`fifo`]: the FIFO mode.

pub mod actions;
pub mod event;
pub mod fifo;
pub mod handle;
pub mod history;
pub mod marker;
pub mod status;

use std::path::PathBuf;
use std::time::Duration;

use crate::state::{VrrpState, DEFAULT_STATE_DIR};
pub use handle::{handle, Handled};

/// How events are recorded and what they set off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where state files are written.
    pub state_dir: PathBuf,
    /// Only this instance's events drive the marker and actions (all are recorded).
    pub instance: Option<String>,
    /// Only this group's events drive the marker and actions.
    pub group: Option<String>,
    /// A file that exists only while MASTER.
    pub marker: Option<PathBuf>,
    /// A file to append one line per event to.
    pub history: Option<PathBuf>,
    /// A systemd unit to start and stop.
    pub service: Option<String>,
    /// States that start `service`.
    pub start_on: Vec<VrrpState>,
    /// States that stop `service`.
    pub stop_on: Vec<VrrpState>,
    /// Commands (argv) to run on MASTER.
    pub on_master: Vec<Vec<String>>,
    /// Commands to run on BACKUP.
    pub on_backup: Vec<Vec<String>>,
    /// Commands to run on FAULT.
    pub on_fault: Vec<Vec<String>>,
    /// Commands to run on STOP.
    pub on_stop: Vec<Vec<String>>,
    /// Longest any one action may run.
    pub action_timeout: Duration,
}

impl Default for Options {
    /// Record only: the default state directory, no marker, history or actions; a
    /// service, if one is set, starts on MASTER and stops on BACKUP, FAULT and STOP.
    fn default() -> Self {
        Options {
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            instance: None,
            group: None,
            marker: None,
            history: None,
            service: None,
            start_on: vec![VrrpState::Master],
            stop_on: vec![VrrpState::Backup, VrrpState::Fault, VrrpState::Stop],
            on_master: Vec::new(),
            on_backup: Vec::new(),
            on_fault: Vec::new(),
            on_stop: Vec::new(),
            action_timeout: Duration::from_secs(30),
        }
    }
}
