//! One check as the daemon runs it: the one-shot program's probe and options, its
//! deadline, and its `--only-if-master` gate, built from the same command line.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::net::{ProbeContext, UdpReuse};
use crate::state::{master_gate, Gate};
use crate::{rtsp, sip, tcp, Deadline, Outcome, Stage};

/// The probe of one of the one-shot programs, with its options.
#[derive(Debug, Clone)]
pub enum ProbeOptions {
    /// `check-tcp`.
    Tcp(tcp::Options),
    /// `check-sip`.
    Sip(sip::Options),
    /// `check-rtsp`.
    Rtsp(rtsp::Options),
}

/// A check line (`check-sip sip:127.0.0.1 --timeout 500ms`), parsed by the program's own
/// command line definition.
#[derive(Debug, Clone)]
pub struct CheckLine {
    /// The probe and its options.
    pub probe: ProbeOptions,
    /// The status line's label: `TCP`, `SIP`, `RTSP`.
    pub label: &'static str,
    /// The program the line names: `check-sip`.
    pub program: &'static str,
    /// The target as written, any password masked.
    pub target: String,
    /// `--timeout`: each probe's own deadline.
    pub timeout: Duration,
    /// `--source`.
    pub source: Option<IpAddr>,
    /// `--only-if-master` (or the config's `only_if_master`).
    pub only_if_master: Option<String>,
    /// `--state-dir`, for the gate.
    pub state_dir: PathBuf,
}

impl CheckLine {
    /// Probes once, the deadline counting from now; a UDP socket is kept in `reuse` for
    /// the next probe of the same check. Not MASTER under
    /// `--only-if-master` is [`crate::Verdict::Skipped`], which counts as healthy, as the
    /// one-shot program's exit 0 does; a state directory that cannot be trusted fails.
    pub async fn run(&self, reuse: &Arc<UdpReuse>) -> Outcome {
        let started = Instant::now();
        if let Some(name) = &self.only_if_master {
            match master_gate(&self.state_dir, name) {
                Ok(Gate::Run) => {}
                Ok(Gate::Skip(why) | Gate::Unknown(why)) => return Outcome::skipped(why),
                Err(e) => {
                    return Outcome::unhealthy(
                        Stage::Setup,
                        format!("--only-if-master {name}: {e}"),
                    )
                }
            }
        }
        let ctx = ProbeContext::new(Deadline::new(started, self.timeout), self.source)
            .reusing_udp(reuse.clone());
        match &self.probe {
            ProbeOptions::Tcp(o) => ctx.within_deadline(tcp::probe(o, &ctx)).await,
            ProbeOptions::Sip(o) => ctx.within_deadline(sip::probe(o, &ctx)).await,
            ProbeOptions::Rtsp(o) => ctx.within_deadline(rtsp::probe(o, &ctx)).await,
        }
    }
}
