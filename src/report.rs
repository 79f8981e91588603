//! Turning an outcome into what keepalived and the operator see: one status line on
//! stdout and an exit status.
//!
//! The exit status is the contract with keepalived and is decided in exactly one place,
//! [`exit_code`]: 0 healthy, 1 anything else. Exit statuses 2..255 would be read as "up with
//! a weight" by `MISC_CHECK misc_dynamic`, so they only appear when the operator asks for
//! Nagios semantics with `--format nagios`.

use std::fmt::Write as _;

use crate::{CheckError, Outcome, Verdict};

/// How the result is printed, and which exit statuses are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One monitoring-plugins style line; exit 0 healthy, 1 otherwise.
    #[default]
    Text,
    /// One JSON object on one line; exit 0 healthy, 1 otherwise.
    Json,
    /// The text line with Nagios/Icinga exit statuses: 0 OK, 2 CRITICAL, 3 UNKNOWN.
    Nagios,
}

/// Everything needed to print the result of one check.
#[derive(Debug)]
pub struct Report<'a> {
    /// The protocol label at the start of the line: `TCP`, `SIP`, `RTSP`.
    pub label: &'a str,
    /// The program name, e.g. `check-tcp`.
    pub program: &'a str,
    /// The target as the operator wrote it (empty when the arguments did not parse).
    pub target: &'a str,
    /// What the probe found, or why it could not run.
    pub result: &'a Result<Outcome, CheckError>,
}

/// The exit status for a result under a format. The only place that decides it.
pub fn exit_code(result: &Result<Outcome, CheckError>, format: Format) -> u8 {
    match (result, format) {
        (Ok(o), _) if matches!(o.verdict, Verdict::Healthy | Verdict::Skipped) => 0,
        (_, Format::Text | Format::Json) => 1,
        (Ok(_), Format::Nagios) => 2,
        (Err(_), Format::Nagios) => 3,
    }
}

impl Report<'_> {
    /// The Nagios-style status word: OK, CRITICAL or UNKNOWN.
    pub fn status_word(&self) -> &'static str {
        match self.result {
            Ok(o) if o.verdict == Verdict::Healthy => "OK",
            Ok(o) if o.verdict == Verdict::Skipped => "SKIPPED",
            Ok(_) => "CRITICAL",
            Err(_) => "UNKNOWN",
        }
    }

    /// The verdict name used in JSON and the journal: healthy, unhealthy or error.
    pub fn verdict_name(&self) -> &'static str {
        match self.result {
            Ok(o) => o.verdict.as_str(),
            Err(_) => "error",
        }
    }

    /// The stage name used in JSON and the journal.
    pub fn stage_name(&self) -> &'static str {
        match self.result {
            Ok(o) => o.stage.as_str(),
            Err(_) => "setup",
        }
    }

    /// The reason as one line: for an unhealthy outcome prefixed with the stage that failed.
    pub fn reason(&self) -> String {
        let line = match self.result {
            Ok(o) if o.verdict != Verdict::Unhealthy => o.reason.clone(),
            Ok(o) => format!("{}: {}", o.stage, o.reason),
            Err(e) => e.to_string(),
        };
        // A status line is one line, whatever a server or an error message contained.
        line.replace(['\r', '\n'], " ")
    }

    /// `LABEL STATUS - target reason | time=...s`, the shape monitoring-plugins use.
    pub fn text_line(&self) -> String {
        let mut line = format!("{} {} - ", self.label, self.status_word());
        if !self.target.is_empty() {
            line.push_str(self.target);
            line.push(' ');
        }
        line.push_str(&self.reason());
        // Perfdata: the round-trip time, and a TLS certificate's days left.
        if let Ok(outcome) = self.result {
            let mut perfdata = " |";
            if let Some(rtt) = outcome.rtt {
                let _ = write!(line, "{perfdata} time={:.6}s", rtt.as_secs_f64());
                perfdata = "";
            }
            if let Some(days) = outcome.detail("cert_days_left") {
                let _ = write!(line, "{perfdata} cert_days={days}");
            }
        }
        line
    }

    /// One JSON object: check, target, verdict, stage, reason, rtt (seconds or null),
    /// details (an object of strings).
    pub fn json_line(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        let _ = write!(
            out,
            "\"check\":{},\"target\":{},\"verdict\":{},\"stage\":{},\"reason\":{},\"rtt\":",
            json_string(self.program),
            json_string(self.target),
            json_string(self.verdict_name()),
            json_string(self.stage_name()),
            json_string(&self.reason()),
        );
        match self.result {
            Ok(Outcome { rtt: Some(rtt), .. }) => {
                let _ = write!(out, "{:.6}", rtt.as_secs_f64());
            }
            _ => out.push_str("null"),
        }
        out.push_str(",\"details\":{");
        if let Ok(o) = self.result {
            for (i, (k, v)) in o.details.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:{}", json_string(k), json_string(v));
            }
        }
        out.push_str("}}");
        out
    }

    /// The line to print on stdout for `format`.
    pub fn line(&self, format: Format) -> String {
        match format {
            Format::Text | Format::Nagios => self.text_line(),
            Format::Json => self.json_line(),
        }
    }
}

/// A JSON string literal. Server bytes reach reasons only through `escape::printable`, but
/// errors and targets are operator text, so everything below U+0020 is escaped here too.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stage;
    use std::time::Duration;

    fn report<'a>(result: &'a Result<Outcome, CheckError>) -> Report<'a> {
        Report {
            label: "TCP",
            program: "check-tcp",
            target: "127.0.0.1:22",
            result,
        }
    }

    #[test]
    fn exit_codes_are_0_or_1_unless_nagios_is_asked_for() {
        let healthy = Ok(Outcome::healthy("connected", Duration::from_micros(200)));
        let unhealthy = Ok(Outcome::unhealthy(Stage::Connect, "connection refused"));
        let error: Result<Outcome, CheckError> = Err(CheckError::Usage("x".into()));
        for format in [Format::Text, Format::Json] {
            assert_eq!(exit_code(&healthy, format), 0);
            assert_eq!(exit_code(&unhealthy, format), 1);
            assert_eq!(exit_code(&error, format), 1);
        }
        assert_eq!(exit_code(&healthy, Format::Nagios), 0);
        assert_eq!(exit_code(&unhealthy, Format::Nagios), 2);
        assert_eq!(exit_code(&error, Format::Nagios), 3);
        let skipped = Ok(Outcome::skipped("not MASTER"));
        assert_eq!(exit_code(&skipped, Format::Text), 0);
        assert_eq!(exit_code(&skipped, Format::Nagios), 0);
        assert_eq!(
            report(&skipped).text_line(),
            "TCP SKIPPED - 127.0.0.1:22 not MASTER"
        );
    }

    #[test]
    fn text_line_has_the_monitoring_plugins_shape() {
        let healthy = Ok(Outcome::healthy(
            "connected in 0.213 ms",
            Duration::from_micros(213),
        ));
        assert_eq!(
            report(&healthy).text_line(),
            "TCP OK - 127.0.0.1:22 connected in 0.213 ms | time=0.000213s"
        );
        let tls = Ok(
            Outcome::healthy("TLS handshake in 1.2 ms", Duration::from_micros(1200))
                .with_detail("cert_days_left", "89"),
        );
        assert_eq!(
            report(&tls).text_line(),
            "TCP OK - 127.0.0.1:22 TLS handshake in 1.2 ms | time=0.001200s cert_days=89"
        );
        let refused = Ok(Outcome::unhealthy(Stage::Connect, "connection refused"));
        assert_eq!(
            report(&refused).text_line(),
            "TCP CRITICAL - 127.0.0.1:22 connect: connection refused"
        );
        let error = Err(CheckError::Usage("unexpected argument '--bogus'".into()));
        let r = Report {
            target: "",
            ..report(&error)
        };
        assert_eq!(
            r.text_line(),
            "TCP UNKNOWN - bad arguments: unexpected argument '--bogus'"
        );
    }

    #[test]
    fn reasons_never_span_lines() {
        let odd = Ok(Outcome::unhealthy(Stage::Match, "got a\r\nb"));
        assert_eq!(report(&odd).reason(), "match: got a  b");
    }

    #[test]
    fn json_line_is_one_escaped_object() {
        let o = Ok(
            Outcome::unhealthy(Stage::Match, "expected \"SSH\"\tnot found")
                .with_detail("peer", "127.0.0.1:22"),
        );
        let line = report(&o).json_line();
        assert_eq!(
            line,
            r#"{"check":"check-tcp","target":"127.0.0.1:22","verdict":"unhealthy","stage":"match","reason":"match: expected \"SSH\"\tnot found","rtt":null,"details":{"peer":"127.0.0.1:22"}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["details"]["peer"], "127.0.0.1:22");
        assert_eq!(json_string("\u{1}"), "\"\\u0001\"");
    }
}
