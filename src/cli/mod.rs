//! The top floor: each program's command line and the process it runs in. Nothing below
//! this module imports it; it turns argv into the plain options structs of the probes
//! ([`crate::tcp::Options`], [`crate::sip::Options`], [`crate::rtsp::Options`],
//! [`crate::notify::Options`]).
//!
//! The clap definitions live in the library so that man pages and completions are
//! generated from the same definitions the programs parse with. [`CommonArgs`] is
//! flattened into every check and [`LogArgs`] into every program, so `--timeout`,
//! `--source`, `-v`, `--format` and `--log` read the same everywhere. Values are parsed
//! once, here, into typed values ([`typed`]); a target that does not parse is a usage
//! error whose message masks any password.
//!
//! - [`shell`]: the one process shell (usage errors, panic hook, logging, deadline,
//!   watchdog, signals, runtime, status line, exit status).
//! - [`check_tcp`], [`check_sip`], [`check_rtsp`], [`ka_notify`], [`checkd`]: the
//!   programs.

pub mod check_rtsp;
pub mod check_sip;
pub mod check_tcp;
pub mod checkd;
pub mod doctor;
pub mod ka_notify;
pub mod shell;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::Args;

use crate::logging::LogTarget;
use crate::report::Format;
use crate::CheckError;

/// The default deadline. keepalived's default script timeout is one second (the
/// `interval`); ending at 800 ms leaves room to report before keepalived's SIGTERM.
pub const DEFAULT_TIMEOUT: &str = "800ms";

// Defaults in code. clap applies a `default_value` by running it through the argument's
// value parser like user input, about 3 500 instructions an argument at every start of a
// program keepalived runs every second. So the checks parse with their defaults removed
// (`shell::parse`), every argument with a default is an `Option`, and an accessor applies
// the same default, declared once in code next to the string `--help` and the man pages
// show. `cli::tests::code_defaults_match_the_declared_ones` holds the two together.

/// Text appended to every check's `--help`: the exit contract, which keepalived relies on.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  healthy
  1  anything else: unhealthy, timed out, bad arguments, resolve failure, internal error
  With --format nagios: 0 OK, 2 CRITICAL (every unhealthy verdict), 3 UNKNOWN (bad
  arguments too, unless --format itself is the typo).";

/// Options every check shares.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Hard end-to-end deadline over resolve, connect, send and receive (e.g. 800ms, 2s).
    /// The process exits by then whatever the server does.
    #[arg(short = 't', long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT,
          value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Local address to connect from (LVS and VIP-on-loopback setups).
    #[arg(long, value_name = "ADDR")]
    pub source: Option<IpAddr>,

    /// Output: one text line, one JSON object, or the text line with Nagios exit statuses.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: Option<Format>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub log: LogArgs,

    /// Check only while ka-notify's state file says this node is MASTER for the VRRP
    /// instance (or sync group) NAME; otherwise print SKIPPED and exit 0. A missing or
    /// corrupt state file counts as not MASTER (logged as a warning).
    #[arg(long, value_name = "NAME")]
    pub only_if_master: Option<String>,

    /// Where ka-notify keeps its state files (for --only-if-master).
    #[arg(long, value_name = "DIR", default_value = crate::state::DEFAULT_STATE_DIR)]
    pub state_dir: Option<PathBuf>,
}

impl CommonArgs {
    /// `--timeout`, by default [`DEFAULT_TIMEOUT`].
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or_else(Self::default_timeout)
    }

    /// [`DEFAULT_TIMEOUT`] as a duration, without parsing it at every start.
    pub fn default_timeout() -> Duration {
        Duration::from_millis(800)
    }

    /// `--format`, by default text.
    pub fn format(&self) -> Format {
        self.format.unwrap_or_default()
    }

    /// `--state-dir`, by default [`crate::state::DEFAULT_STATE_DIR`].
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::state::DEFAULT_STATE_DIR))
    }
}

/// TLS options, the same in every check; they apply when the check speaks TLS (`--tls`,
/// `sips:`, `transport=tls`, `rtsps://`), and are refused otherwise: an option that
/// silently does nothing is a typo waiting to look healthy.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// TLS: trust the CA certificates in this PEM file instead of the system's store.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// TLS: do not verify the server's certificate (the status line says so).
    #[arg(long)]
    pub insecure: bool,

    /// TLS: send NAME as SNI and verify the certificate against it, instead of the
    /// target's host (a check by address of a server whose certificate names the service).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,

    /// TLS: a client certificate chain (PEM), for servers that require one; with --key.
    #[arg(long, value_name = "PEM", requires = "key")]
    pub cert: Option<PathBuf>,

    /// TLS: the client certificate's key (PEM, not encrypted); with --cert.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,

    /// TLS: unhealthy when the server's certificate ends in fewer than DAYS days. Off by
    /// default: both nodes of a pair usually share a certificate, so it would not help a
    /// failover; the days left are in the JSON details and nagios perfdata either way.
    #[arg(long, value_name = "DAYS")]
    pub min_cert_days: Option<u32>,
}

impl TlsArgs {
    /// The options for a check that speaks TLS to `host`. The SNI name, and the files
    /// the operator named (`--ca-file`, `--cert`/`--key`), are read and checked here, with
    /// the other arguments: a missing `--ca-file` exits 1 on every node, not only once
    /// `--only-if-master` lets the probe run (the probe reuses what was built here). The
    /// system's trust store is left to the first handshake: a BACKUP skipping the check
    /// every second does not parse its few hundred KiB each time.
    pub fn options(
        &self,
        host: &crate::target::Host,
    ) -> Result<crate::tls::TlsOptions, CheckError> {
        if self.insecure && self.ca_file.is_some() {
            return Err(CheckError::Option(
                "--insecure and --ca-file: a certificate is either verified against the CA \
                 or not verified at all; give one of them"
                    .into(),
            ));
        }
        let mut tls = crate::tls::TlsOptions::default();
        tls.ca_file.clone_from(&self.ca_file);
        tls.insecure = self.insecure;
        tls.sni.clone_from(&self.sni);
        tls.client_cert = self.cert.clone().zip(self.key.clone());
        tls.min_cert_days = self.min_cert_days;
        tls.server_name(host).map_err(CheckError::Option)?;
        if tls.ca_file.is_some() || tls.client_cert.is_some() {
            tls.client_config().map_err(CheckError::Option)?;
        }
        Ok(tls)
    }

    /// For a check that does not speak TLS: an error naming the first TLS option given.
    pub fn refuse(&self, how_to_ask: &str) -> Result<(), CheckError> {
        let given = [
            ("--ca-file", self.ca_file.is_some()),
            ("--insecure", self.insecure),
            ("--sni", self.sni.is_some()),
            ("--cert", self.cert.is_some()),
            ("--min-cert-days", self.min_cert_days.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((name, _)) => Err(CheckError::Option(format!(
                "{name} applies to TLS only ({how_to_ask})"
            ))),
            None => Ok(()),
        }
    }
}

/// Logging options, the same in every program.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// More log detail: -v shows each stage, -vv the bytes on the wire.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Where log records go; auto = journald when not on a terminal and journald runs.
    #[arg(long, value_enum, value_name = "TARGET", default_value = "auto")]
    pub log: Option<LogTarget>,
}

impl LogArgs {
    /// `--log`, by default auto.
    pub fn target(&self) -> LogTarget {
        self.log.unwrap_or_default()
    }
}

/// A clap value parser for a value that parses into `T` with a [`CheckError`]. Unlike a
/// plain `fn(&str) -> Result<T, String>`, whose failures clap reports as "invalid value
/// 'INPUT' ...", the message is the error's own, so an input holding a password is never
/// echoed: [`CheckError::Target`] masks it.
#[derive(Clone, Copy)]
pub struct Typed<T>(pub fn(&str) -> Result<T, CheckError>);

/// [`Typed`] for `T`'s `FromStr`.
pub fn typed<T>() -> Typed<T>
where
    T: std::str::FromStr<Err = CheckError>,
{
    Typed(|s| s.parse())
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Typed<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let fail = |message: String| {
            let mut cmd = cmd.clone();
            clap::Error::raw(ErrorKind::ValueValidation, format!("{message}\n")).format(&mut cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| fail("the value must be UTF-8 text".into()))?;
        (self.0)(text).map_err(|e| fail(e.to_string()))
    }
}

/// A value together with how the operator wrote it (any password masked), for targets
/// whose status line should read as they appear in keepalived.conf: `tcp://db1:5432`
/// stays `tcp://db1:5432`, not `db1:5432`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given<T> {
    /// The parsed value.
    pub value: T,
    /// The input, password masked.
    pub shown: String,
}

impl<T> std::fmt::Display for Given<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The `--format` asked for on `args`, read without clap: when the command line does not
/// parse, a usage error still answers in the format (and exit statuses) asked for, as
/// monitoring-plugins do with UNKNOWN (3). `None` when absent or not a known format.
pub fn format_in_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Option<Format> {
    let mut found = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--format") => args.next(),
            Some(a) => a.strip_prefix("--format=").map(Into::into),
            None => None,
        };
        if let Some(v) = value {
            found = v
                .to_str()
                .and_then(|v| <Format as clap::ValueEnum>::from_str(v, false).ok());
        }
    }
    found
}

/// Parses a `--timeout` value: a humantime duration ("800ms", "2s", "1s 500ms"), more than
/// zero and at most an hour (a longer one is surely a typo for a check).
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = crate::deadline::parse_duration(s)?;
    if d.is_zero() {
        return Err("a timeout of zero leaves no time to check anything".into());
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
    fn clap_messages_keep_the_list_they_introduce_and_drop_the_tip() {
        let message = |argv: &[&str]| {
            let e = shell::parse_from::<check_tcp::CheckTcp>(argv.iter().map(Into::into))
                .expect_err("refused");
            shell::clap_message(&e)
        };
        assert_eq!(
            message(&["check-tcp", "127.0.0.1:1", "--tls", "--cert", "c.pem"]),
            "the following required arguments were not provided: --key <PEM>"
        );
        assert_eq!(
            message(&["check-tcp", "127.0.0.1:1", "--tsl"]),
            "unexpected argument '--tsl' found"
        );
    }

    /// Both parses of `argv`: with clap applying the declared defaults, and as the
    /// programs parse, with the defaults left to code.
    fn both<C: shell::Check>(argv: &[&str]) -> (C, C) {
        let declared = C::try_parse_from(argv).expect("parses with clap's defaults");
        let in_code = shell::parse_from::<C>(argv.iter().map(Into::into))
            .expect("parses without clap's defaults: every defaulted argument is an Option");
        (declared, in_code)
    }

    fn same_common(a: &CommonArgs, b: &CommonArgs) {
        assert!(a.timeout.is_some() && b.timeout.is_none());
        assert_eq!(a.timeout(), b.timeout());
        assert_eq!(a.format(), b.format());
        assert_eq!(a.state_dir(), b.state_dir());
        assert_eq!(a.log.target(), b.log.target());
    }

    #[test]
    fn code_defaults_match_the_declared_ones() {
        use shell::Check as _;
        let (a, b) = both::<check_tcp::CheckTcp>(&["check-tcp", "127.0.0.1:22"]);
        same_common(a.common(), b.common());
        assert_eq!(a.options().unwrap(), b.options().unwrap());
        let (a, b) = both::<check_sip::CheckSip>(&["check-sip", "sip:127.0.0.1"]);
        same_common(a.common(), b.common());
        assert!(a.accept.is_some() && b.accept.is_none());
        assert_eq!(a.options().unwrap(), b.options().unwrap());
        let (a, b) = both::<check_rtsp::CheckRtsp>(&["check-rtsp", "rtsp://127.0.0.1/x"]);
        same_common(a.common(), b.common());
        assert_eq!(a.options().unwrap(), b.options().unwrap());
        // What is given on the command line wins either way.
        let argv = [
            "check-sip",
            "sip:h",
            "--t1",
            "1s",
            "--accept",
            "any",
            "-t",
            "2s",
        ];
        let (a, b) = both::<check_sip::CheckSip>(&argv);
        assert_eq!(a.options().unwrap(), b.options().unwrap());
        assert_eq!(b.options().unwrap().t1, Some(Duration::from_secs(1)));
        assert_eq!(b.common().timeout(), Duration::from_secs(2));
        assert_eq!(
            parse_timeout(DEFAULT_TIMEOUT),
            Ok(CommonArgs::default_timeout())
        );
    }

    #[test]
    fn format_is_found_without_clap() {
        let args = |a: &[&str]| {
            a.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        assert_eq!(
            format_in_args(args(&["x", "--format", "nagios"])),
            Some(Format::Nagios)
        );
        assert_eq!(
            format_in_args(args(&["--format=json", "x"])),
            Some(Format::Json)
        );
        assert_eq!(format_in_args(args(&["x", "--format", "xml"])), None);
        assert_eq!(format_in_args(args(&["x", "--format"])), None);
        assert_eq!(format_in_args(args(&["x"])), None);
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
