//! `check-rtsp`: OPTIONS, DESCRIBE and PLAY against an RTSP server, over TCP or TLS
//! (`rtsps://`).
//!
//! - [`url`]: the target URL and credentials.
//! - [`message`]: responses and SDP, sans I/O, on [`crate::textproto`] framing.
//! - [`auth`]: answering Basic and Digest challenges.
//! - [`session`]: CSeq, challenges, retries and the RTSP session of one connection, sans I/O.
//! - [`sdp`], [`control`], [`transport`]: what `--play` reads from DESCRIBE and SETUP.
//! - [`interleaved`], [`rtp`]: `$` frames after PLAY, and the first RTP packet, sans I/O.
//! - [`probe`](mod@probe): the thin I/O driver and the verdict, on top of [`crate::net`];
//!   `link` (the connection) and `play` (SETUP, PLAY, TEARDOWN) under it.
//!
//! Call [`probe()`] with [`Options`] and a [`ProbeContext`](crate::net::ProbeContext).

pub mod auth;
pub mod control;
pub mod interleaved;
mod link;
pub mod message;
mod play;
pub mod probe;
pub mod rtp;
pub mod sdp;
pub mod session;
pub mod transport;
pub mod url;

use crate::accept::AcceptPolicy;
use crate::tls::TlsOptions;
use crate::CheckError;
pub use probe::probe;
use sdp::MediaChoice;
use transport::RtpTransport;
use url::{Credentials, RtspUrl};

/// What `--play` plays, and how RTP is to arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Play {
    /// `--media`.
    pub media: MediaChoice,
    /// `--rtp-transport`.
    pub rtp_transport: RtpTransport,
}

/// What to ask and what counts as healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The server and stream.
    pub url: RtspUrl,
    /// After OPTIONS, DESCRIBE the stream: healthy only with an SDP holding media.
    pub describe: bool,
    /// After DESCRIBE, SETUP and PLAY a media: healthy only once its first RTP packet
    /// arrives. Implies `describe`.
    pub play: Option<Play>,
    /// Credentials to answer a 401 with (from the URL or a file).
    pub credentials: Option<Credentials>,
    /// Status codes of the OPTIONS answer that count as healthy.
    pub accept: AcceptPolicy,
    /// Trust, SNI and client certificate, for an `rtsps://` URL.
    pub tls: TlsOptions,
}

impl Options {
    /// Options for `url`: OPTIONS only, 2xx healthy, the URL's credentials if any.
    pub fn new(url: RtspUrl) -> Self {
        Options {
            credentials: url.credentials.clone(),
            url,
            describe: false,
            play: None,
            accept: AcceptPolicy::default(),
            tls: TlsOptions::default(),
        }
    }

    /// Whether the stream is described: `--describe`, or `--play`, which needs the SDP.
    pub fn describes(&self) -> bool {
        self.describe || self.play.is_some()
    }

    /// Checks the combination: DESCRIBE and PLAY need a stream path.
    pub fn validate(&self) -> Result<(), CheckError> {
        if self.describes() && self.url.path.trim_matches('/').is_empty() {
            let option = if self.play.is_some() {
                "--play"
            } else {
                "--describe"
            };
            return Err(CheckError::Option(format!(
                "{option} needs the stream's path in the URL, e.g. rtsp://host/live"
            )));
        }
        Ok(())
    }
}
