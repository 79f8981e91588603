//! `check-rtsp`'s command line.

// The doc comments of the clap struct are --help text for a terminal, where brackets mean
// "optional", not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use super::shell::Check;
use super::{typed, CommonArgs, TlsArgs, EXIT_STATUS_HELP};
use crate::accept::{parse_accept, AcceptPolicy};
use crate::net::ProbeContext;
use crate::rtsp::sdp::MediaChoice;
use crate::rtsp::transport::RtpTransport;
use crate::rtsp::url::{Credentials, RtspUrl};
use crate::small_file::{self, Links};
use crate::tls::TlsOptions;
use crate::{rtsp, CheckError, Outcome};

/// RTSP health check for keepalived: OPTIONS, with --describe a DESCRIBE of the stream, and
/// with --play proof that media flows.
///
/// Sends a well-formed OPTIONS (CRLF line ends, CSeq, User-Agent) and is healthy on
/// "RTSP/1.0 200 OK" with the same CSeq. --describe then asks for the stream's SDP on the
/// same connection, which catches "server up, stream not published". --play goes on to
/// SETUP one media with RTP over the RTSP connection and PLAY it, and is healthy only when
/// its first RTP packet arrives: it catches "stream published, encoder or source gone".
/// Answers a 401 once, with Digest or Basic, when credentials are given. Never waits for
/// the server to close.
#[derive(Debug, Parser)]
#[command(name = "check-rtsp", version, after_help = EXIT_STATUS_HELP)]
pub struct CheckRtsp {
    /// rtsp://[USER[:PASSWORD]@]HOST[:PORT][/PATH], or HOST[:PORT] as the old rtsp.sh took;
    /// rtsps:// for RTSP over TLS. Port 554 by default, 322 for rtsps; IPv6 as
    /// rtsp://[::1]/live.
    #[arg(value_name = "URL", value_parser = typed::<RtspUrl>())]
    pub url: RtspUrl,

    /// After OPTIONS, DESCRIBE the path: healthy only on 200 with an application/sdp body
    /// of exactly Content-Length bytes holding at least one m= line.
    #[arg(long)]
    pub describe: bool,

    /// After DESCRIBE, SETUP a media with RTP interleaved on the RTSP connection
    /// (RTP/AVP/TCP: no UDP ports), PLAY it, and wait for its first RTP packet: version 2,
    /// a payload type the SDP announced, the SSRC SETUP announced. Then TEARDOWN. Implies
    /// --describe.
    #[arg(long)]
    pub play: bool,

    /// With --play: which media to play: "video", "audio" (the first m= line of that type)
    /// or N (the m= line at index N, from 0). The first m= line by default.
    #[arg(long, value_name = "TYPE|N", requires = "play", value_parser = str::parse::<MediaChoice>)]
    pub media: Option<MediaChoice>,

    /// With --play: how RTP is to arrive. "tcp" (the default): interleaved on the RTSP
    /// connection, no ports to open. "udp": to two local UDP ports, for servers that send
    /// RTP over UDP only (VLC's RTSP output answers "461 Unsupported transport" to tcp);
    /// the server's datagrams must be able to reach this host.
    #[arg(long, value_name = "tcp|udp", requires = "play", value_parser = str::parse::<RtpTransport>)]
    pub rtp_transport: Option<RtpTransport>,

    /// Read USER:PASSWORD from the first line of FILE (keeps the password out of `ps` and
    /// keepalived.conf).
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Status codes of the OPTIONS answer that count as healthy: codes and classes or
    /// "any". The list replaces the default: "2xx,401" also treats "authentication
    /// required" as alive.
    #[arg(long, value_name = "LIST", default_value = "2xx", value_parser = parse_accept)]
    pub accept: Option<AcceptPolicy>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// The clap command, for man pages and completions.
pub fn command() -> clap::Command {
    CheckRtsp::command()
}

/// The longest `--credentials-file` read: one `USER:PASSWORD` line.
const MAX_CREDENTIALS: usize = 4096;

impl CheckRtsp {
    /// Credentials from the URL or `--credentials-file`, not both.
    fn credentials(&self) -> Result<Option<Credentials>, CheckError> {
        let Some(path) = &self.credentials_file else {
            return Ok(self.url.credentials.clone());
        };
        if self.url.credentials.is_some() {
            return Err(CheckError::Option(
                "credentials in both the URL and --credentials-file; give one".into(),
            ));
        }
        let shown = path.display();
        // Bounded and non-blocking: a FIFO or /dev/zero given by mistake is an error, not a
        // hang or a gigabyte.
        let bytes = small_file::read(path, Links::Follow, MAX_CREDENTIALS).map_err(|e| {
            CheckError::Option(format!("cannot read --credentials-file {shown}: {e}"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            CheckError::Option(format!("--credentials-file {shown}: not UTF-8 text"))
        })?;
        let line = text.lines().next().unwrap_or("");
        match line.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Some(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            })),
            _ => Err(CheckError::Option(format!(
                "--credentials-file {shown}: the first line must be USER:PASSWORD"
            ))),
        }
    }
}

impl Check for CheckRtsp {
    const LABEL: &'static str = "RTSP";
    const PROGRAM: &'static str = "check-rtsp";
    type Options = rtsp::Options;

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> String {
        self.url.to_string()
    }

    fn options(&self) -> Result<rtsp::Options, CheckError> {
        let tls = if self.url.secure {
            self.tls.options(&self.url.target.host)?
        } else {
            self.tls.refuse("use an rtsps:// URL")?;
            TlsOptions::default()
        };
        let opts = rtsp::Options {
            url: self.url.clone(),
            describe: self.describe,
            play: self.play.then(|| rtsp::Play {
                media: self.media.clone().unwrap_or_default(),
                rtp_transport: self.rtp_transport.unwrap_or_default(),
            }),
            credentials: self.credentials()?,
            accept: self.accept.clone().unwrap_or_default(),
            tls,
        };
        opts.validate()?;
        Ok(opts)
    }

    async fn probe(opts: &rtsp::Options, ctx: &ProbeContext) -> Outcome {
        rtsp::probe(opts, ctx).await
    }
}
