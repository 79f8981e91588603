//! The one outcome type: what a probe found out about a server.
//!
//! A dead server is not an error in this crate; it is the answer the operator asked for.
//! So a probe returns an [`Outcome`] (healthy or unhealthy, with the [`Stage`] it reached
//! and a one-line reason), and only problems with the check itself (bad arguments, a
//! target that cannot be parsed) are errors ([`crate::CheckError`]). `report` turns either
//! into the status line and the exit code.

use std::fmt;
use std::time::Duration;

/// How far a probe got. An unhealthy outcome names the stage that failed so the status
/// line says *where* it broke, not only that it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Checking arguments and preparing the probe.
    Setup,
    /// Turning a host name into addresses.
    Resolve,
    /// Opening the connection (or binding the UDP socket).
    Connect,
    /// The TLS handshake.
    Handshake,
    /// Writing the request.
    Send,
    /// Waiting for and reading the reply.
    Receive,
    /// Making sense of the reply bytes.
    Parse,
    /// Comparing the reply with what was expected.
    Match,
    /// The probe finished.
    Done,
}

impl Stage {
    /// The lower-case name used in status lines, JSON and journal fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::Resolve => "resolve",
            Stage::Connect => "connect",
            Stage::Handshake => "handshake",
            Stage::Send => "send",
            Stage::Receive => "receive",
            Stage::Parse => "parse",
            Stage::Match => "match",
            Stage::Done => "done",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The server answered as a healthy one does.
    Healthy,
    /// The server did not: refused, silent, wrong answer, too slow.
    Unhealthy,
    /// Not checked: `--only-if-master` and this node is not MASTER. Exits 0.
    Skipped,
}

impl Verdict {
    /// The lower-case name used in JSON and journal fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Unhealthy => "unhealthy",
            Verdict::Skipped => "skipped",
        }
    }
}

/// What a probe found: a verdict, the stage it reached, a one-line reason, the round-trip
/// time where one was measured, and protocol details (peer address, status code, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Healthy or not.
    pub verdict: Verdict,
    /// The stage reached; for an unhealthy outcome, the one that failed.
    pub stage: Stage,
    /// One line saying what happened, e.g. `connected to 127.0.0.1:22 in 0.2 ms` or
    /// `connection refused`.
    pub reason: String,
    /// Time from the first connection attempt to the answer that decided the verdict.
    pub rtt: Option<Duration>,
    /// Extra facts as key/value pairs, shown in JSON and the journal.
    pub details: Vec<(&'static str, String)>,
}

impl Outcome {
    /// A healthy outcome.
    pub fn healthy(reason: impl Into<String>, rtt: Duration) -> Self {
        Outcome {
            verdict: Verdict::Healthy,
            stage: Stage::Done,
            reason: reason.into(),
            rtt: Some(rtt),
            details: Vec::new(),
        }
    }

    /// An unhealthy outcome that failed at `stage`.
    pub fn unhealthy(stage: Stage, reason: impl Into<String>) -> Self {
        Outcome {
            verdict: Verdict::Unhealthy,
            stage,
            reason: reason.into(),
            rtt: None,
            details: Vec::new(),
        }
    }

    /// A check that was not run, and why.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome {
            verdict: Verdict::Skipped,
            stage: Stage::Setup,
            reason: reason.into(),
            rtt: None,
            details: Vec::new(),
        }
    }

    /// Adds a detail.
    pub fn with_detail(mut self, key: &'static str, value: impl Into<String>) -> Self {
        // Probes add about half a dozen: one allocation, not three growing ones.
        if self.details.capacity() == 0 {
            self.details.reserve(8);
        }
        self.details.push((key, value.into()));
        self
    }

    /// The value of detail `key`, if the outcome has it.
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets the round-trip time.
    pub fn with_rtt(mut self, rtt: Duration) -> Self {
        self.rtt = Some(rtt);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_verdict_and_stage() {
        let ok = Outcome::healthy("connected", Duration::from_millis(1));
        assert_eq!(ok.verdict, Verdict::Healthy);
        assert_eq!(ok.stage, Stage::Done);
        assert_eq!(ok.rtt, Some(Duration::from_millis(1)));

        let bad = Outcome::unhealthy(Stage::Connect, "connection refused")
            .with_detail("peer", "127.0.0.1:9");
        assert_eq!(bad.verdict, Verdict::Unhealthy);
        assert_eq!(bad.stage.as_str(), "connect");
        assert_eq!(bad.rtt, None);
        assert_eq!(bad.details, vec![("peer", "127.0.0.1:9".to_string())]);
    }
}
