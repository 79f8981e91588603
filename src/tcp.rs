//! `check-tcp`: connect, optionally a TLS handshake, optionally send, optionally expect.
//!
//! Call [`probe`] with [`Options`] and a [`ProbeContext`].

use std::time::{Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite};

use crate::deadline::format_ms;
use crate::escape::printable;
use crate::net::{self, ProbeContext, ReadEnd, SHOWN_BYTES};
use crate::target::{Host, Target};
use crate::tls::{self, TlsOptions};
use crate::{Outcome, Stage};

/// The default for [`Options::max_bytes`].
pub const DEFAULT_MAX_BYTES: usize = 65536;

/// What to connect to, what to send, and what to expect back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where to connect.
    pub target: Target,
    /// Bytes to send once connected.
    pub send: Option<Vec<u8>>,
    /// Healthy only if the reply contains these bytes.
    pub expect: Option<Vec<u8>>,
    /// Read at most this many bytes while looking for `expect`.
    pub max_bytes: usize,
    /// `--tls`: a TLS handshake after connecting; `send` and `expect` go inside it.
    pub tls: Option<TlsOptions>,
}

impl Options {
    /// Options for a plain connect to `target`.
    pub fn new(target: Target) -> Self {
        Options {
            target,
            send: None,
            expect: None,
            max_bytes: DEFAULT_MAX_BYTES,
            tls: None,
        }
    }
}

/// Connects to `opts.target` (sends, expects) and judges what happened. Runs until it has
/// a verdict; the caller bounds it with the deadline in `ctx`.
pub async fn probe(opts: &Options, ctx: &ProbeContext) -> Outcome {
    converse(opts, ctx).await.unwrap_or_else(|failed| failed)
}

async fn converse(opts: &Options, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
    let target = &opts.target;
    let addrs = net::resolve(target, ctx).await?;
    let conn = net::connect_tcp(&addrs, ctx).await?;
    // Name the address only when the target did not already: "db1:5432 connected to
    // 10.0.0.5:5432", but "127.0.0.1:22 connected".
    let to = match target.host {
        Host::Name(_) => format!(" to {}", conn.peer),
        Host::Ip(_) => String::new(),
    };
    let Some(tls) = &opts.tls else {
        let expected = exchange(conn.stream, opts, ctx, conn.started, &to, "").await?;
        return Ok(expected.unwrap_or_else(|| {
            let connected = format!("connected{to} in {}", format_ms(conn.connect_time));
            Outcome::healthy(connected, conn.connect_time)
        }));
    };
    let (stream, negotiated) = tls::handshake(conn.stream, &target.host, tls, ctx).await?;
    let handshake_time = conn.started.elapsed();
    let over = format!(" over {}", negotiated.version);
    let expected = exchange(stream, opts, ctx, conn.started, &to, &over).await?;
    let outcome = expected.unwrap_or_else(|| {
        let version = negotiated.version;
        let handshake = format!(
            "TLS handshake{to} in {} ({version})",
            format_ms(handshake_time)
        );
        Outcome::healthy(handshake, handshake_time)
    });
    Ok(negotiated.judge(outcome, SystemTime::now()))
}

/// Sends and expects over `stream` (TCP, or TLS over it); `None` when there is nothing
/// to expect (the caller says what succeeded), `over` names TLS in the line of a match.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    opts: &Options,
    ctx: &ProbeContext,
    started: Instant,
    to: &str,
    over: &str,
) -> Result<Option<Outcome>, Outcome> {
    if let Some(send) = &opts.send {
        net::send(&mut stream, send, ctx).await?;
    }
    let Some(want) = &opts.expect else {
        return Ok(None);
    };

    let shown_want = printable(want, SHOWN_BYTES);
    ctx.progress
        .enter(Stage::Receive, format!("waiting for \"{shown_want}\""));
    let mut reply = Vec::new();
    let max = opts.max_bytes;
    let mut search = Search::new(want);
    let end = net::read_until(&mut stream, &mut reply, max, ctx, |buf| {
        search.found_in(buf)
    })
    .await?;
    let rtt = started.elapsed();
    let got = printable(&reply, SHOWN_BYTES);
    let outcome = match end {
        ReadEnd::Done => Outcome::healthy(
            format!("matched \"{shown_want}\"{to}{over} in {}", format_ms(rtt)),
            rtt,
        ),
        ReadEnd::Closed if reply.is_empty() => Outcome::unhealthy(
            Stage::Receive,
            format!("connection closed without a reply, expected \"{shown_want}\""),
        ),
        ReadEnd::Closed => Outcome::unhealthy(
            Stage::Match,
            format!(
                "expected \"{shown_want}\", connection closed after {} bytes: \"{got}\"",
                reply.len()
            ),
        ),
        ReadEnd::Full => Outcome::unhealthy(
            Stage::Match,
            format!("expected \"{shown_want}\" not in the first {max} bytes: \"{got}\""),
        ),
    };
    Ok(Some(outcome))
}

/// A search for `--expect` in a reply that grows one read at a time. Each call looks only
/// at what is new, plus the needle's length less one before it (a match across two reads),
/// so a peer that streams megabytes costs linear time, not a rescan per read.
struct Search<'a> {
    needle: &'a [u8],
    /// How much of the reply has been searched.
    searched: usize,
}

impl<'a> Search<'a> {
    fn new(needle: &'a [u8]) -> Self {
        Search {
            needle,
            searched: 0,
        }
    }

    /// Whether the needle occurs in `reply`, of which the first bytes were seen before.
    fn found_in(&mut self, reply: &[u8]) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        let from = self.searched.saturating_sub(self.needle.len() - 1);
        self.searched = reply.len();
        reply
            .get(from..)
            .is_some_and(|new| new.windows(self.needle.len()).any(|w| w == self.needle))
    }
}

#[cfg(test)]
mod tests {
    use super::Search;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        Search::new(needle).found_in(haystack)
    }

    #[test]
    fn finds_anywhere() {
        assert!(contains(b"SSH-2.0-OpenSSH\r\n", b"SSH-2.0"));
        assert!(contains(b"220 ready\r\n", b"ready"));
        assert!(!contains(b"220 rea", b"ready"));
        assert!(!contains(b"", b"x"));
        assert!(contains(b"", b""));
    }

    #[test]
    fn finds_across_reads_and_looks_only_at_new_bytes() {
        let mut reply = Vec::new();
        let mut search = Search::new(b"ready");
        for (chunk, found) in [(&b"220 re"[..], false), (b"a", false), (b"dy\r\n", true)] {
            reply.extend_from_slice(chunk);
            assert_eq!(
                search.found_in(&reply),
                found,
                "{:?}",
                String::from_utf8_lossy(&reply)
            );
        }
        // A match wholly inside bytes already searched is not looked for again: the
        // caller stops at the first match, so there is none to miss.
        let mut search = Search::new(b"xyz");
        assert!(!search.found_in(b"aaaa"));
        assert_eq!(search.searched, 4);
        assert!(!search.found_in(b"aaaaxy"));
        assert!(search.found_in(b"aaaaxyz"));
    }
}
