//! `check-tcp`'s command line.

// The doc comments of the clap struct are --help text for a terminal, where brackets mean
// "optional", not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

use clap::{CommandFactory, Parser};

use super::shell::Check;
use super::{parse_wire_bytes, CommonArgs, Given, TlsArgs, Typed, WireBytes, EXIT_STATUS_HELP};
use crate::net::ProbeContext;
use crate::target::{mask_userinfo, Target};
use crate::{tcp, CheckError, Outcome};

/// TCP health check for keepalived: connects, optionally sends a string and expects one.
///
/// Healthy when the connection opens (and, with --expect, the reply contains the expected
/// string) within the timeout. Like monitoring-plugins check_tcp -s/-e, but with
/// keepalived's exit statuses and a hard deadline.
#[derive(Debug, Parser)]
#[command(name = "check-tcp", version, after_help = EXIT_STATUS_HELP)]
pub struct CheckTcp {
    /// Where to connect: HOST:PORT, [IPV6]:PORT or tcp://HOST:PORT.
    #[arg(value_name = "TARGET", value_parser = Typed(parse_target))]
    pub target: Given<Target>,

    /// Send this after connecting; \r \n \t \0 \\ and \xHH escapes are understood.
    #[arg(short = 's', long, value_name = "STRING", value_parser = parse_wire_bytes)]
    pub send: Option<WireBytes>,

    /// Healthy only if the reply contains this (same escapes as --send). A mismatch is
    /// CRITICAL under --format nagios, where check_tcp says WARNING: a server that answers
    /// the wrong thing is down for a failover.
    #[arg(short = 'e', long, value_name = "STRING", value_parser = parse_wire_bytes)]
    pub expect: Option<WireBytes>,

    /// Read at most this many bytes while looking for --expect.
    #[arg(long, value_name = "BYTES", default_value = "65536",
          value_parser = clap::value_parser!(u32).range(1..=16 * 1024 * 1024))]
    pub max_bytes: Option<u32>,

    /// Speak TLS after connecting (like check_tcp -S): healthy when the handshake succeeds
    /// and the certificate verifies; --send and --expect then go inside TLS.
    #[arg(long)]
    pub tls: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls_args: TlsArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

fn parse_target(s: &str) -> Result<Given<Target>, CheckError> {
    Ok(Given {
        value: Target::parse(s, "tcp", None)?,
        shown: mask_userinfo(s, "tcp"),
    })
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    CheckTcp::command()
}

impl Check for CheckTcp {
    const LABEL: &'static str = "TCP";
    const PROGRAM: &'static str = "check-tcp";
    type Options = tcp::Options;

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> String {
        self.target.to_string()
    }

    fn options(&self) -> Result<tcp::Options, CheckError> {
        let tls = if self.tls {
            Some(self.tls_args.options(&self.target.value.host)?)
        } else {
            self.tls_args.refuse("give --tls")?;
            None
        };
        Ok(tcp::Options {
            target: self.target.value.clone(),
            send: self.send.clone().map(|w| w.0),
            expect: self.expect.clone().map(|w| w.0),
            max_bytes: self
                .max_bytes
                .map_or(tcp::DEFAULT_MAX_BYTES, |n| n as usize),
            tls,
        })
    }

    async fn probe(opts: &tcp::Options, ctx: &ProbeContext) -> Outcome {
        tcp::probe(opts, ctx).await
    }
}
