//! `check-sip`: an OPTIONS ping over UDP, TCP or TLS.
//!
//! - [`uri`]: the target URI and the transport.
//! - [`request`]: the OPTIONS request and the identifiers its answer must echo.
//! - [`message`]: framing and parsing responses, sans I/O.
//! - [`transaction`]: the client transaction (retransmissions, 1xx, matching), sans I/O.
//! - [`probe`](mod@probe): the thin I/O driver, on top of [`crate::net`].
//!
//! Call [`probe()`] with [`Options`] and a [`ProbeContext`](crate::net::ProbeContext).

pub mod message;
pub mod probe;
pub mod request;
pub mod transaction;
pub mod uri;

use std::time::Duration;

use crate::accept::AcceptPolicy;
use crate::tls::TlsOptions;
pub use probe::probe;
use uri::{SipUri, Transport};

/// What to ping and what counts as healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to send OPTIONS.
    pub uri: SipUri,
    /// The transport (the URI's `;transport=` is a default a caller may override).
    pub transport: Transport,
    /// A user part for the Request-URI instead of the URI's own (none by default: stock
    /// Kamailio answers 404 to `sip:s@host`).
    pub user: Option<String>,
    /// Final status codes that count as healthy.
    pub accept: AcceptPolicy,
    /// UDP retransmission timer T1, for RFC 3261's schedule; `None` (the default) spreads
    /// the retransmissions over the deadline ([`transaction::Schedule::within`]).
    pub t1: Option<Duration>,
    /// Trust, SNI and client certificate, when the transport is TLS.
    pub tls: TlsOptions,
}

impl Options {
    /// Options for pinging `uri` with everything else at its default: the URI's transport
    /// (else UDP), 2xx healthy, retransmissions spread over the deadline.
    pub fn new(uri: SipUri) -> Self {
        Options {
            transport: uri.transport.unwrap_or_default(),
            uri,
            user: None,
            accept: AcceptPolicy::default(),
            t1: None,
            tls: TlsOptions::default(),
        }
    }
}
