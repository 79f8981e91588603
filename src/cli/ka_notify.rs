//! `ka-notify`'s command line, and the program: one event from the arguments, the FIFO
//! mode, or `status`, each in the shell's process ([`super::shell`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use tracing::error;

use super::shell::{
    block_on, install_panic_hook, parse_program, print_line, report_internal_error,
};
use super::LogArgs;
use crate::notify::actions::split_command;
use crate::notify::{self, event, fifo, status};
use crate::state::{Kind, VrrpState, DEFAULT_STATE_DIR};
use crate::{logging, signals};

/// The program name, for logging identity and its lines on stdout.
const PROGRAM: &str = "ka-notify";

/// keepalived's notify handler: records each state change atomically and in order, and
/// starts or stops a service.
#[derive(Debug, Parser)]
#[command(
    name = "ka-notify",
    version,
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 when the event was recorded and every action succeeded (or the event was older than the one on record), 1 otherwise."
)]
pub struct KaNotify {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: Option<Mode>,

    /// The event: INSTANCE|GROUP NAME STATE PRIORITY, or STATE with --instance/--group.
    #[arg(value_name = "EVENT")]
    pub event: Vec<String>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub options: NotifyOptions,
}

/// `--help`'s description, with the three ways keepalived runs it on lines of their own.
const LONG_ABOUT: &str = "\
keepalived's notify handler: records each state change atomically and in order, and \
starts or stops a service.

As notify (keepalived appends INSTANCE|GROUP NAME STATE PRIORITY):
    ka-notify [OPTIONS]
As notify_master, notify_backup, notify_fault, notify_stop:
    ka-notify [OPTIONS] --instance VI_1 MASTER
As notify_fifo_script (recommended: the only mode keepalived delivers in order;
keepalived appends the FIFO path):
    ka-notify fifo [OPTIONS]";

/// The modes other than handling one event from the arguments.
#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Read events from keepalived's notify FIFO, in order, until SIGTERM or EOF.
    Fifo {
        /// The FIFO (keepalived passes it as the last argument).
        #[arg(value_name = "FIFO")]
        fifo: PathBuf,
        #[command(flatten)]
        #[allow(missing_docs)]
        options: Box<NotifyOptions>,
    },
    /// Print every instance's and group's recorded state, age and priority.
    Status {
        /// Where the state files are.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
        state_dir: PathBuf,
    },
}

/// Options for handling events, in argument and FIFO mode alike.
#[derive(Debug, Clone, Args)]
pub struct NotifyOptions {
    /// Where state files are written (under /run, so no MASTER survives a reboot).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,

    /// The instance this invocation is about (with a lone STATE); in the other modes, only
    /// this instance's events drive the marker and actions (all are recorded).
    #[arg(long, value_name = "NAME", conflicts_with = "group")]
    pub instance: Option<String>,

    /// As --instance, for a sync group.
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,

    /// A file that exists only while MASTER (what the seed's notify script touched).
    #[arg(long, value_name = "PATH")]
    pub marker: Option<PathBuf>,

    /// Append one line per event to this file.
    #[arg(long, value_name = "PATH")]
    pub history: Option<PathBuf>,

    /// A systemd unit to start and stop through systemctl.
    #[arg(long, value_name = "UNIT")]
    pub service: Option<String>,

    /// States that start --service.
    #[arg(long, value_name = "STATES", value_delimiter = ',', default_value = "MASTER", value_parser = parse_state)]
    pub start_on: Vec<VrrpState>,

    /// States that stop --service.
    #[arg(long, value_name = "STATES", value_delimiter = ',', default_value = "BACKUP,FAULT,STOP", value_parser = parse_state)]
    pub stop_on: Vec<VrrpState>,

    /// Run this command on MASTER: an absolute path and arguments, split like keepalived
    /// splits scripts (quotes keep spaces), run without a shell. Repeatable.
    #[arg(long, value_name = "COMMAND", value_parser = split_command)]
    pub on_master: Vec<Vec<String>>,

    /// As --on-master, on BACKUP.
    #[arg(long, value_name = "COMMAND", value_parser = split_command)]
    pub on_backup: Vec<Vec<String>>,

    /// As --on-master, on FAULT.
    #[arg(long, value_name = "COMMAND", value_parser = split_command)]
    pub on_fault: Vec<Vec<String>>,

    /// As --on-master, on STOP.
    #[arg(long, value_name = "COMMAND", value_parser = split_command)]
    pub on_stop: Vec<Vec<String>>,

    /// Longest any one action may run; then its process group is killed (a stop of
    /// --service escalates to `systemctl kill --signal=SIGKILL UNIT`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_timeout)]
    pub action_timeout: Duration,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub log: LogArgs,
}

impl NotifyOptions {
    /// The handler's plain options.
    pub fn options(&self) -> notify::Options {
        notify::Options {
            state_dir: self.state_dir.clone(),
            instance: self.instance.clone(),
            group: self.group.clone(),
            marker: self.marker.clone(),
            history: self.history.clone(),
            service: self.service.clone(),
            start_on: self.start_on.clone(),
            stop_on: self.stop_on.clone(),
            on_master: self.on_master.clone(),
            on_backup: self.on_backup.clone(),
            on_fault: self.on_fault.clone(),
            on_stop: self.on_stop.clone(),
            action_timeout: self.action_timeout,
        }
    }
}

fn parse_state(s: &str) -> Result<VrrpState, String> {
    VrrpState::parse(s.trim())
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    KaNotify::command()
}

/// Runs ka-notify with the process's arguments.
pub fn main() -> ExitCode {
    install_panic_hook(|message| report_internal_error(PROGRAM, &message));
    let cli = match parse_program::<KaNotify>(PROGRAM) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    match cli.command {
        Some(Mode::Status { state_dir }) => {
            let (lines, ok) = status::report(&state_dir);
            for line in lines {
                print_line(&line);
            }
            exit(ok)
        }
        Some(Mode::Fifo { fifo, options }) => {
            // Before the runtime starts its threads, so SIGTERM and SIGINT wait for the
            // signalfd. (One event from the arguments keeps the default: keepalived's
            // SIGTERM at shutdown ends it, the state file being replaced atomically.)
            signals::block();
            logging::init(PROGRAM, options.log.target(), options.log.verbose);
            let opts = options.options();
            match block_on(fifo::read_events(&fifo, &opts)) {
                Ok(code) => code,
                Err(e) => {
                    error!("{e}");
                    print_line(&format!("{PROGRAM}: {e}"));
                    ExitCode::FAILURE
                }
            }
        }
        None => {
            let args = &cli.options;
            logging::init(PROGRAM, args.log.target(), args.log.verbose);
            let named = match (&args.instance, &args.group) {
                (Some(name), _) => Some((Kind::Instance, name.as_str())),
                (_, Some(name)) => Some((Kind::Group, name.as_str())),
                _ => None,
            };
            let event = match event::from_args(&cli.event, named, event::seq_of_this_process()) {
                Ok(event) => event,
                Err(why) => {
                    error!(result = "failed", "bad event: {why}");
                    print_line(&format!("{PROGRAM}: bad event: {why}"));
                    return ExitCode::FAILURE;
                }
            };
            let handled = notify::handle(&event, &args.options());
            print_line(&format!("{PROGRAM}: {}", handled.summary));
            exit(handled.ok)
        }
    }
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handlers_defaults_are_the_command_lines() {
        let cli = KaNotify::try_parse_from(["ka-notify", "MASTER"]).unwrap();
        assert_eq!(cli.options.options(), notify::Options::default());
    }
}
