//! `check-tcp`'s command line.

use clap::{CommandFactory, Parser};

use super::{parse_wire_bytes, CommonArgs, WireBytes, EXIT_STATUS_HELP};

/// TCP health check for keepalived: connects, optionally sends a string and expects one.
///
/// Healthy when the connection opens (and, with --expect, the reply contains the expected
/// string) within the timeout. Like monitoring-plugins check_tcp -s/-e, but with
/// keepalived's exit statuses and a hard deadline.
#[derive(Debug, Parser)]
#[command(name = "check-tcp", version, after_help = EXIT_STATUS_HELP)]
pub struct CheckTcp {
    /// Where to connect: HOST:PORT, [IPV6]:PORT or tcp://HOST:PORT.
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// Send this after connecting; \r \n \t \0 \\ and \xHH escapes are understood.
    #[arg(short = 's', long, value_name = "STRING", value_parser = parse_wire_bytes)]
    pub send: Option<WireBytes>,

    /// Healthy only if the reply contains this (same escapes as --send).
    #[arg(short = 'e', long, value_name = "STRING", value_parser = parse_wire_bytes)]
    pub expect: Option<WireBytes>,

    /// Read at most this many bytes while looking for --expect.
    #[arg(long, value_name = "BYTES", default_value_t = 65536,
          value_parser = clap::value_parser!(u32).range(1..=16 * 1024 * 1024))]
    pub max_bytes: u32,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    CheckTcp::command()
}
