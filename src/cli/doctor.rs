//! `keepalived-checks doctor`'s command line, and the program: examine keepalived.conf
//! ([`crate::doctor`]) and print the findings. Our programs' command lines found in it are
//! parsed here, by the programs' own definitions.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use super::check_rtsp::CheckRtsp;
use super::check_sip::CheckSip;
use super::check_tcp::CheckTcp;
use super::ka_notify::{self, KaNotify};
use super::shell::{
    self, clap_message, install_panic_hook, parse_program, print_line, report_internal_error, Check,
};
use crate::doctor::ours::{NotifyLine, OurLine};
use crate::doctor::{self, Options, Parsers};
use crate::report::Format;

/// The program name.
const PROGRAM: &str = "keepalived-checks";

/// keepalived-checks' tools for the operator.
#[derive(Debug, Parser)]
#[command(name = "keepalived-checks", version)]
pub struct KeepalivedChecks {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: Tool,
}

/// The tools.
#[derive(Debug, Subcommand)]
pub enum Tool {
    /// Read keepalived.conf and say what will silently go wrong.
    #[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
    Doctor(DoctorArgs),
}

const LONG_ABOUT: &str = "\
Read keepalived's configuration as keepalived does (includes, comments, $NAME definitions, \
@ID lines) and say what will silently go wrong: scripts keepalived will drop (missing, not \
executable for the user that runs them, insecure under enable_script_security), commands \
that need a shell, exit statuses misc_dynamic reads as up (timeout's 124, Nagios' 2 and 3), \
keepalived-checks' own command lines that do not parse or whose --timeout outlives \
keepalived's, --only-if-master names and state directories nobody writes, notify scripts \
run out of order, track files keepalived-checkd does not write, and timing.

Findings are printed as FILE:LINE: error|warning|hint: text [rule], then a summary line. \
Files are named as keepalived sees them (inside --root).";

const AFTER_HELP: &str = "\
Exit status: 0 when there is no error (warnings and hints allowed), 1 when there is one or \
the arguments are wrong.";

/// `keepalived-checks doctor`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// keepalived's configuration file (as keepalived's -f).
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = doctor::DEFAULT_CONFIG)]
    pub config: PathBuf,

    /// Examine the system installed under DIR (an image, a container's root, a test):
    /// every path, link, user and group is looked up there.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// keepalived's --config-id, which selects @ID lines (default: the short host name).
    #[arg(short = 'i', long, value_name = "ID")]
    pub config_id: Option<String>,

    /// keepalived-checkd's configuration, for the track-file rules (ignored when absent).
    #[arg(long, value_name = "FILE", default_value = crate::checkd::config::DEFAULT_CONFIG)]
    pub checkd_config: PathBuf,

    /// Output: findings for people, or one JSON object.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: DoctorFormat,
}

/// `doctor --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One line per finding and a summary.
    Text,
    /// One JSON object.
    Json,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    KeepalivedChecks::command()
}

/// Parses `argv` (program first, as keepalived will run it) if it runs one of our
/// programs, by that program's own definition.
pub fn parse_ours(argv: &[String]) -> Option<Result<OurLine, String>> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    let args = || argv.iter().map(OsString::from);
    match program {
        CheckTcp::PROGRAM => Some(check_line::<CheckTcp>(argv)),
        CheckSip::PROGRAM => Some(check_line::<CheckSip>(argv)),
        CheckRtsp::PROGRAM => Some(check_line::<CheckRtsp>(argv)),
        "ka-notify" => Some(match KaNotify::try_parse_from(args()) {
            Err(e) => Err(format!("ka-notify: {}", clap_message(&e))),
            Ok(cli) => match cli.command {
                Some(ka_notify::Mode::Fifo { options, .. }) => Ok(notify_line(&options, true)),
                None => Ok(notify_line(&cli.options, false)),
                Some(ka_notify::Mode::Status { .. }) => {
                    Err("ka-notify status prints the recorded states; it handles no event".into())
                }
            },
        }),
        _ => None,
    }
}

fn notify_line(options: &ka_notify::NotifyOptions, fifo: bool) -> OurLine {
    OurLine {
        program: "ka-notify",
        timeout: None,
        only_if_master: None,
        state_dir: options.state_dir.clone(),
        nagios: false,
        notify: Some(NotifyLine {
            fifo,
            named: options.instance.clone().or_else(|| options.group.clone()),
        }),
    }
}

fn check_line<C: Check>(argv: &[String]) -> Result<OurLine, String> {
    let check = shell::parse_check_words::<C>(argv)?;
    let common = check.common();
    Ok(OurLine {
        program: C::PROGRAM,
        timeout: Some(common.timeout()),
        only_if_master: common.only_if_master.clone(),
        state_dir: common.state_dir(),
        nagios: common.format() == Format::Nagios,
        notify: None,
    })
}

/// Runs `keepalived-checks` with the process's arguments.
pub fn main() -> ExitCode {
    install_panic_hook(|message| report_internal_error(PROGRAM, &message));
    let cli = match parse_program::<KeepalivedChecks>(PROGRAM) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    let Tool::Doctor(args) = cli.command;
    // On the running system a relative file is relative to here, as for keepalived -f.
    let here = |p: PathBuf| match std::env::current_dir() {
        Ok(dir) if p.is_relative() && args.root == Path::new("/") => dir.join(p),
        _ => p,
    };
    let opts = Options {
        config: here(args.config),
        checkd_config: here(args.checkd_config),
        root: args.root,
        config_id: args.config_id,
    };
    let parsers = Parsers {
        ours: &parse_ours,
        check: &super::checkd::parse_check_line,
    };
    let report = doctor::examine(&opts, parsers);
    match args.format {
        DoctorFormat::Text => {
            for f in &report.findings {
                print_line(&f.line());
            }
            print_line(&report.summary());
        }
        DoctorFormat::Json => print_line(&report.json()),
    }
    if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
