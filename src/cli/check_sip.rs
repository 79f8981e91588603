//! `check-sip`'s command line.

// The doc comments of the clap struct are --help text for a terminal, where brackets mean
// "optional", not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};

use super::shell::Check;
use super::{typed, CommonArgs, TlsArgs, Typed, EXIT_STATUS_HELP};
use crate::accept::{parse_accept, AcceptPolicy};
use crate::net::ProbeContext;
use crate::sip::uri::{valid_user, SipUri, Transport};
use crate::tls::TlsOptions;
use crate::{sip, CheckError, Outcome};

/// SIP OPTIONS health check for keepalived: what `sipsak -s` does, with a hard deadline.
///
/// Sends OPTIONS over UDP (retransmitted per RFC 3261 Timer A within the deadline), TCP or
/// TLS and waits for the final response to it. Healthy on 2xx unless --accept says otherwise.
/// The Request-URI has no user part by default: stock Kamailio answers "200 Keepalive" to
/// sip:HOST and "404" to sip:s@HOST.
#[derive(Debug, Parser)]
#[command(name = "check-sip", version, after_help = EXIT_STATUS_HELP)]
pub struct CheckSip {
    /// sip:HOST[:PORT][;transport=udp|tcp|tls] or sips:HOST[:PORT] (TLS); port 5060 by
    /// default, 5061 over TLS; IPv6 as sip:[::1].
    #[arg(value_name = "URI", value_parser = typed::<SipUri>())]
    pub uri: SipUri,

    /// Transport to use, overriding the URI's ;transport= (default udp; tls for sips:).
    #[arg(long, value_enum, value_name = "TRANSPORT")]
    pub transport: Option<TransportArg>,

    /// Put this user part in the Request-URI (sip:NAME@HOST).
    #[arg(long, value_name = "NAME", value_parser = Typed(parse_user))]
    pub user: Option<String>,

    /// Status codes that count as healthy: codes and classes (200,404,4xx) or "any" (any
    /// final response means the SIP stack is alive).
    #[arg(long, value_name = "LIST", default_value = "2xx", value_parser = parse_accept)]
    pub accept: Option<AcceptPolicy>,

    /// UDP retransmission timer T1, for RFC 3261's schedule: resend after T1, then 2*T1,
    /// 4*T1... capped at 4s. Without it the resends are spread over --timeout: the first
    /// after a twentieth of it, doubling up to an eighth (9 sends in 1s), so one or two
    /// lost datagrams never fail the check.
    #[arg(long, value_name = "DURATION", value_parser = parse_t1)]
    pub t1: Option<Duration>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// `--transport`: the command line's spelling of [`Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// UDP, with RFC 3261 Timer A retransmissions.
    Udp,
    /// TCP, framed by Content-Length.
    Tcp,
    /// TLS over TCP (port 5061 unless the URI gives one).
    Tls,
}

impl From<TransportArg> for Transport {
    fn from(arg: TransportArg) -> Transport {
        match arg {
            TransportArg::Udp => Transport::Udp,
            TransportArg::Tcp => Transport::Tcp,
            TransportArg::Tls => Transport::Tls,
        }
    }
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    CheckSip::command()
}

/// `--user`: parsed with [`Typed`], so a `name:password` that does not parse is not
/// echoed back by clap.
fn parse_user(s: &str) -> Result<String, CheckError> {
    if valid_user(s) {
        Ok(s.to_string())
    } else {
        Err(CheckError::Option(
            "--user wants a SIP user part: letters, digits and punctuation other than < > \" @ ;"
                .into(),
        ))
    }
}

fn parse_t1(s: &str) -> Result<Duration, String> {
    let d = super::parse_timeout(s)?;
    if d < Duration::from_millis(10) {
        return Err("T1 below 10ms would flood the server".into());
    }
    Ok(d)
}

impl Check for CheckSip {
    const LABEL: &'static str = "SIP";
    const PROGRAM: &'static str = "check-sip";
    type Options = sip::Options;

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> String {
        self.uri.to_string()
    }

    fn options(&self) -> Result<sip::Options, CheckError> {
        let transport = self
            .transport
            .map(Transport::from)
            .or(self.uri.transport)
            .unwrap_or_default();
        // A sips: URI over another transport is the error to name first, not the TLS
        // options that then seem out of place.
        let uri = self.uri.over(transport).map_err(CheckError::Option)?;
        let tls = if transport == Transport::Tls {
            self.tls.options(&uri.target.host)?
        } else {
            self.tls
                .refuse("use sips:, ;transport=tls or --transport tls")?;
            TlsOptions::default()
        };
        Ok(sip::Options {
            uri,
            transport,
            user: self.user.clone(),
            accept: self.accept.clone().unwrap_or_default(),
            t1: self.t1,
            tls,
        })
    }

    async fn probe(opts: &sip::Options, ctx: &ProbeContext) -> Outcome {
        sip::probe(opts, ctx).await
    }
}
