//! `keepalived-checkd`'s command line, and the program: the daemon, `check-config` and
//! `status`, in the shell's process ([`super::shell`]). Check lines in its configuration are
//! parsed here, by the one-shot programs' own definitions.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use tracing::error;

use super::check_rtsp::CheckRtsp;
use super::check_sip::CheckSip;
use super::check_tcp::CheckTcp;
use super::shell::{
    self, block_on, install_panic_hook, parse_program, print_line, report_internal_error, Check,
};
use super::LogArgs;
use crate::checkd::config::{self, Config, ConfigError, DEFAULT_CONFIG};
use crate::checkd::daemon::{self, FailSafe};
use crate::checkd::probe::{CheckLine, ProbeOptions};
use crate::{logging, signals};

/// The program name, for logging identity and its lines on stdout.
const PROGRAM: &str = "keepalived-checkd";

/// One long-running prober that writes keepalived's track files: sub-second detection
/// without a process per check.
#[derive(Debug, Parser)]
#[command(
    name = "keepalived-checkd",
    version,
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true,
    after_help = AFTER_HELP,
    after_long_help = AFTER_LONG_HELP
)]
pub struct Checkd {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: Option<Mode>,

    /// The configuration file (TOML).
    #[arg(short = 'c', long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub log: LogArgs,
}

const LONG_ABOUT: &str = "\
One long-running prober that writes keepalived's track files: sub-second detection \
without a process per check.

Each [[check]] in the configuration runs the one-shot program's probe (its `check` line is \
that program's command line, e.g. \"check-sip sip:127.0.0.1 --timeout 500ms\") every \
`interval`, and writes `healthy_value` (0) or `failed_value` (1) to its track file when \
`rise` successes or `fall` failures in a row change the verdict. Until the first verdict \
the file says failed (unless the check says `initial = \"healthy\"`); on SIGTERM or SIGINT every file is set to failed before exit. SIGHUP \
reloads the configuration: checks whose `name`, `check` and `file` are unchanged keep their \
verdict and counts; a configuration with errors is refused and the running one stays.

Use keepalived's vrrp_track_process on this daemon as well (see the README): a daemon \
killed with SIGKILL cannot write, so only keepalived can notice that it is gone.";

const AFTER_HELP: &str = "\
Exit status: the daemon exits 0 after SIGTERM/SIGINT and 1 when it cannot start (a \
configuration error, a track file or status socket it cannot write). check-config exits 0 \
for a usable configuration and 1 otherwise, printing FILE:LINE: reason for every error. \
status exits 0 when the daemon answered, 1 otherwise.";

const AFTER_LONG_HELP: &str = "\
Configuration (TOML), one [[check]] table per check:

    status_socket = \"/run/keepalived-checks/checkd.sock\"   # default; for `status`
    metrics_file = \"/var/lib/prometheus/node-exporter/keepalived-checkd.prom\"  # optional

    [[check]]
    name = \"kamailio\"            # letters, digits, _ - . (journal, status, metrics)
    check = \"check-sip sip:10.10.10.11:5060 --timeout 500ms\"   # a one-shot command line
    interval = \"100ms\"           # default 1s, at least 100ms
    rise = 2                      # successes in a row to become healthy (default 1)
    fall = 2                      # failures in a row to become failed (default 1)
    file = \"/run/keepalived-checks/kamailio.track\"   # the track file (required)
    healthy_value = 0             # default 0
    failed_value = 1              # default 1; -254..254
    initial = \"failed\"           # the file until the first verdict (or \"healthy\")
    only_if_master = \"SBC_1\"     # as --only-if-master: not MASTER counts as healthy

keepalived reads it with track_file (weight 0: a nonzero value is FAULT; with a weight W \
the priority moves by value x W):

    track_file kamailio { file /run/keepalived-checks/kamailio.track  weight 0 }
    vrrp_track_process checkd { process /usr/libexec/keepalived/keepalived-checkd  full_command  weight 0 }
    vrrp_instance SBC_1 { ... track_file { kamailio }  track_process { checkd } }

keepalived reads a missing file as 0, and drops a track_file whose directory is missing \
when it starts: the package creates /run/keepalived-checks at boot (tmpfiles.d), and the \
unit starts before keepalived. The name keepalived-checkd is longer than the 15 \
characters keepalived compares without full_command, so vrrp_track_process needs the full \
path and full_command. Files are written by rename within their directory (keepalived \
watches it for IN_MOVED_TO and IN_CLOSE_WRITE), only when a verdict changes, and only in a \
directory root can trust (owned by root, not writable by others).

Probes run concurrently, each with its own deadline (the check line's --timeout); a probe \
never overlaps the one before it: a tick that passes while a probe runs is skipped, and \
ticks stay on their grid. A UDP check keeps its socket between probes. --format, --log and \
-v in a check line are ignored; the daemon's own --log and -v apply.";

/// The modes other than running the daemon.
#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Validate a configuration: every error as FILE:LINE: reason, exit 1 if there is one.
    CheckConfig {
        /// The configuration file.
        #[arg(value_name = "FILE", default_value = DEFAULT_CONFIG)]
        file: PathBuf,
    },
    /// Print each check's verdict, since when, the last probe's status line and rtt, as
    /// the running daemon knows them.
    Status {
        /// The daemon's status socket (default: the configuration's status_socket, or
        /// /run/keepalived-checks/checkd.sock).
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
        /// The configuration file naming the status socket.
        #[arg(short = 'c', long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Output: lines for people, or one JSON object.
        #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
        format: StatusFormat,
    },
}

/// `status --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Two lines per check.
    Text,
    /// One JSON object.
    Json,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    Checkd::command()
}

/// Parses a check line (`check-sip sip:127.0.0.1 --timeout 500ms`, the program by name or
/// by path) with the one-shot program's own definition, defaults applied as the program
/// applies them. `--format`, `--log` and `-v` mean nothing here and are ignored.
pub fn parse_check_line(line: &str) -> Result<CheckLine, String> {
    let words = crate::words::split(line)?;
    let Some(first) = words.first() else {
        return Err("an empty check line".into());
    };
    let program = Path::new(first)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match program {
        CheckTcp::PROGRAM => check_line::<CheckTcp>(&words, ProbeOptions::Tcp),
        CheckSip::PROGRAM => check_line::<CheckSip>(&words, ProbeOptions::Sip),
        CheckRtsp::PROGRAM => check_line::<CheckRtsp>(&words, ProbeOptions::Rtsp),
        _ => Err(format!(
            "'{first}' is not check-tcp, check-sip or check-rtsp (the line starts with the program)"
        )),
    }
}

fn check_line<C: Check>(
    words: &[String],
    wrap: fn(C::Options) -> ProbeOptions,
) -> Result<CheckLine, String> {
    let check = shell::parse_check_words::<C>(words)?;
    let common = check.common();
    let options = check
        .options()
        .map_err(|e| format!("{}: {e}", C::PROGRAM))?;
    Ok(CheckLine {
        probe: wrap(options),
        label: C::LABEL,
        program: C::PROGRAM,
        target: check.target(),
        timeout: common.timeout(),
        source: common.source,
        only_if_master: common.only_if_master.clone(),
        state_dir: common.state_dir(),
    })
}

/// [`config::load`] with [`parse_check_line`].
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    config::load(path, &parse_check_line)
}

/// Runs keepalived-checkd with the process's arguments.
pub fn main() -> ExitCode {
    let fail_safe = FailSafe::default();
    let on_panic = fail_safe.clone();
    install_panic_hook(move |message| {
        // Never leave a track file claiming health nobody measures any more.
        on_panic.fail_all();
        report_internal_error(PROGRAM, &message)
    });
    let cli = match parse_program::<Checkd>(PROGRAM) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    match cli.command {
        Some(Mode::CheckConfig { file }) => match load(&file) {
            Ok(config) => {
                print_line(&format!(
                    "{}: {} checks, OK",
                    file.display(),
                    config.checks.len()
                ));
                ExitCode::SUCCESS
            }
            Err(errors) => {
                for e in &errors {
                    print_line(&e.to_string());
                }
                ExitCode::FAILURE
            }
        },
        Some(Mode::Status {
            socket,
            config,
            format,
        }) => status(socket, &config, format),
        None => run(&cli.config, &cli.log, fail_safe),
    }
}

fn run(path: &Path, log: &LogArgs, fail_safe: FailSafe) -> ExitCode {
    // Before any thread exists, so SIGTERM, SIGINT and SIGHUP wait for the signalfd (only
    // here: `status` and `check-config` keep Ctrl-C).
    signals::block_with_hangup();
    logging::init(PROGRAM, log.target(), log.verbose);
    let fail = |line: String| {
        error!("{line}");
        print_line(&format!("{PROGRAM}: {line}"));
        ExitCode::FAILURE
    };
    let config = match load(path) {
        Ok(config) => config,
        Err(errors) => {
            for e in &errors {
                error!("{e}");
                print_line(&e.to_string());
            }
            return fail(format!(
                "{} errors in the configuration; not started",
                errors.len()
            ));
        }
    };
    match block_on(daemon::serve(config, &load, fail_safe)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => fail(format!("cannot start: {e}")),
        Err(e) => fail(e.to_string()),
    }
}

/// The most `status` reads from the daemon.
const MAX_STATUS: u64 = 4 << 20;

fn status(socket: Option<PathBuf>, config: &Path, format: StatusFormat) -> ExitCode {
    let socket = socket.unwrap_or_else(|| config::status_socket_of(config));
    let request = match format {
        StatusFormat::Text => "text\n",
        StatusFormat::Json => "json\n",
    };
    let asked = (|| {
        let mut stream = std::os::unix::net::UnixStream::connect(&socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        stream.set_write_timeout(Some(Duration::from_secs(3)))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.take(MAX_STATUS).read_to_end(&mut answer)?;
        if answer.is_empty() {
            return Err(std::io::Error::other("it closed without an answer"));
        }
        Ok::<_, std::io::Error>(answer)
    })();
    match asked {
        Ok(answer) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&answer);
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(e) => {
            print_line(&format!(
                "{PROGRAM}: cannot reach the daemon at {}: {} (is keepalived-checkd running, and are you its user?)",
                socket.display(),
                crate::net::describe_io(&e)
            ));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkd::config::parse;
    use crate::checkd::hysteresis::Health;

    fn errors(text: &str) -> Vec<String> {
        parse(text, Path::new("c.toml"), &parse_check_line)
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_vrrp_script_line_moves_across_unchanged() {
        let text = r#"
status_socket = "/run/x/checkd.sock"

[[check]]
name = "kamailio"
check = "/usr/libexec/keepalived/check-sip sip:127.0.0.1 --transport tcp --timeout 500ms --only-if-master VI_1"
interval = "100ms"
rise = 2
fall = 3
file = "/run/keepalived-checks/kamailio.track"

[[check]]
name = "db"
check = "check-tcp 127.0.0.1:5432"
file = "/run/keepalived-checks/db.track"
healthy_value = 1
failed_value = 0
initial = "healthy"
"#;
        let c = parse(text, Path::new("c.toml"), &parse_check_line).expect("parses");
        assert_eq!(c.status_socket, PathBuf::from("/run/x/checkd.sock"));
        assert_eq!(c.metrics_file, None);
        let [k, db] = &c.checks[..] else {
            panic!("two checks")
        };
        assert_eq!(k.check.program, "check-sip");
        assert_eq!(k.check.timeout, Duration::from_millis(500));
        assert_eq!(k.check.only_if_master.as_deref(), Some("VI_1"));
        assert!(
            matches!(&k.check.probe, ProbeOptions::Sip(o) if o.transport == crate::sip::uri::Transport::Tcp)
        );
        assert_eq!(
            (k.interval, k.rise, k.fall),
            (Duration::from_millis(100), 2, 3)
        );
        assert_eq!(
            (k.healthy_value, k.failed_value, k.initial),
            (0, 1, Health::Failed)
        );
        // Defaults: keepalived's for interval, rise and fall; the one-shot's timeout.
        assert_eq!(
            (db.interval, db.rise, db.fall),
            (Duration::from_secs(1), 1, 1)
        );
        assert_eq!(db.check.timeout, Duration::from_millis(800));
        assert_eq!(
            (db.healthy_value, db.failed_value, db.initial),
            (1, 0, Health::Healthy)
        );
        assert_eq!(db.value(Health::Failed), 0);
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let text = r#"
[[check]]
name = "a"
check = "check-sip sip:127.0.0.1 --tranport tcp"
file = "/run/a"

[[check]]
name = "b b"
check = "check-tcp 127.0.0.1:1"
interval = "50ms"
rise = 0
file = "relative"
healthy_value = 1
failed_value = 1

[[check]]
name = "c"
check = "curl http://x"
file = "/run/c"
initial = "up"

[[check]]
name = "a"
check = "check-tcp 127.0.0.1:1"
file = "/run/a"
"#;
        let got = errors(text);
        let want = [
            "c.toml:4: check: check-sip: unexpected argument '--tranport'",
            "c.toml:8: name 'b b'",
            "c.toml:10: interval '50ms' is below the 100ms minimum",
            "c.toml:11: rise must be 1 to 1000, not 0",
            "c.toml:14: healthy_value and failed_value are both 1",
            "c.toml:12: file wants an absolute file path",
            "c.toml:18: check: 'curl' is not check-tcp",
            "c.toml:20: initial must be \"failed\" or \"healthy\"",
            "c.toml:23: a second check named 'a' (the first is on line 3)",
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for prefix in want {
            assert!(
                got.iter().any(|g| g.starts_with(prefix)),
                "no error starting {prefix:?} in {got:#?}"
            );
        }
    }

    #[test]
    fn toml_and_schema_errors_have_lines_too() {
        let got = errors("[[check]]\nname = \"a\"\nchek = \"x\"\n");
        assert!(
            got[0].starts_with("c.toml:3: unknown field `chek`"),
            "{got:?}"
        );
        let got = errors("\n\n[[check]\nname = 1\n");
        assert!(got[0].starts_with("c.toml:3:"), "{got:?}");
        let got = errors("[[check]]\nname = \"a\"\ncheck = \"check-tcp h:1\"\n");
        assert!(got[0].contains("missing field `file`"), "{got:?}");
        let got = errors("# nothing\n");
        assert_eq!(got, ["c.toml: no [[check]]: nothing to do"]);
        let got = errors(
            "[[check]]\nname = \"a\"\ncheck = \"check-tcp h:1\"\nfile = \"/run/a\"\n[[check]]\nname = \"b\"\ncheck = \"check-tcp h:2\"\nfile = \"/run/a\"\n",
        );
        assert_eq!(
            got,
            ["c.toml:8: check 'b' writes /run/a, which check 'a' writes too"]
        );
    }

    #[test]
    fn a_password_in_a_bad_check_line_is_not_echoed() {
        let text = "[[check]]\nname = \"cam\"\ncheck = \"check-rtsp rtsp://admin:s3cret@[::1/x\"\nfile = \"/run/cam\"\n";
        let got = errors(text).join("\n");
        assert!(got.starts_with("c.toml:3: check: check-rtsp:"), "{got}");
        assert!(!got.contains("s3cret"), "{got}");
    }

    #[test]
    fn only_if_master_once() {
        let text = "[[check]]\nname = \"a\"\ncheck = \"check-tcp h:1 --only-if-master VI_1\"\nfile = \"/run/a\"\nonly_if_master = \"VI_2\"\n";
        assert_eq!(
            errors(text),
            ["c.toml:5: only_if_master is given twice: here and as --only-if-master in the check line"]
        );
    }
}
