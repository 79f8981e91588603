//! `check-rtsp`: OPTIONS and DESCRIBE against an RTSP server, over TCP or TLS (`rtsps://`).
//!
//! - [`url`]: the target URL and credentials.
//! - [`message`]: responses and SDP, sans I/O, on [`crate::textproto`] framing.
//! - [`auth`]: answering Basic and Digest challenges.
//! - [`session`]: CSeq, challenges and retries of one connection, sans I/O.
//! - [`probe`](mod@probe): the thin I/O driver and the verdict, on top of [`crate::net`].
//!
//! Call [`probe()`] with [`Options`] and a [`ProbeContext`](crate::net::ProbeContext).

pub mod auth;
pub mod message;
pub mod probe;
pub mod session;
pub mod url;

use crate::accept::AcceptPolicy;
use crate::tls::TlsOptions;
use crate::CheckError;
pub use probe::probe;
use url::{Credentials, RtspUrl};

/// What to ask and what counts as healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The server and stream.
    pub url: RtspUrl,
    /// After OPTIONS, DESCRIBE the stream: healthy only with an SDP holding media.
    pub describe: bool,
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
            accept: AcceptPolicy::default(),
            tls: TlsOptions::default(),
        }
    }

    /// Checks the combination: DESCRIBE needs a stream path.
    pub fn validate(&self) -> Result<(), CheckError> {
        if self.describe && self.url.path.trim_matches('/').is_empty() {
            return Err(CheckError::Option(
                "--describe needs the stream's path in the URL, e.g. rtsp://host/live".into(),
            ));
        }
        Ok(())
    }
}
