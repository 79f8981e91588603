//! `ka-notify`'s command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::logging::LogTarget;
use crate::notify::actions::split_command;
use crate::state::{VrrpState, DEFAULT_STATE_DIR};

/// keepalived's notify handler: records each state change atomically and in order, and
/// starts or stops a service.
///
/// As `notify`:            ka-notify [OPTIONS]   (keepalived appends INSTANCE|GROUP NAME STATE PRIORITY)
/// As `notify_master` ...: ka-notify [OPTIONS] --instance VI_1 MASTER
/// As `notify_fifo_script` (recommended, the only mode keepalived delivers in order):
///                         ka-notify fifo [OPTIONS]   (keepalived appends the FIFO path)
#[derive(Debug, Parser)]
#[command(
    name = "ka-notify",
    version,
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

    /// More log detail.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Where log records go; auto = journald when not on a terminal and journald runs.
    #[arg(long, value_enum, value_name = "TARGET", default_value_t = LogTarget::Auto)]
    pub log: LogTarget,
}

fn parse_state(s: &str) -> Result<VrrpState, String> {
    VrrpState::parse(s.trim())
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    KaNotify::command()
}
