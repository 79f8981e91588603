//! One RTSP connection (TCP, or TLS over it): requests out through the [`Session`],
//! replies framed off the stream, and once media flows, the `$` frames handed to the
//! [`Watch`]. The thin I/O layer under `probe` and `play`.

use std::net::IpAddr;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use super::interleaved;
use super::message::{self, Response, RTSP};
use super::rtp::{FirstRtp, Watch};
use super::session::{Outgoing, Session, Step};
use super::Options;
use crate::net::{self, ProbeContext};
use crate::textproto::Frame;
use crate::{Outcome, Stage};

/// What the watch made of the packets after PLAY: the first RTP packet, or why not.
pub(super) type Seen = Result<FirstRtp, String>;

/// The connection and the conversation on it.
pub(super) struct Link<S> {
    stream: S,
    buf: Vec<u8>,
    pub(super) session: Session,
    /// Set once SETUP granted interleaved transport: `$` frames may arrive from then on.
    interleaved: bool,
    /// Set when PLAY is sent: takes the `$` frames.
    watch: Option<Watch>,
    /// The watch's verdict, once it has one.
    seen: Option<Seen>,
    /// The server closed, the stream stopped framing, or a read failed: nothing more
    /// can be read.
    broken: bool,
    /// The connection's local and the server's address: where RTP over UDP is received,
    /// and from whom.
    pub(super) ends: Option<(IpAddr, IpAddr)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    pub(super) fn new(stream: S, opts: &Options, ends: Option<(IpAddr, IpAddr)>) -> Self {
        Link {
            stream,
            buf: Vec::new(),
            session: Session::new(opts.url.request_uri(), opts.credentials.clone()),
            interleaved: false,
            watch: None,
            seen: None,
            broken: false,
            ends,
        }
    }

    /// From now on `$` frames may arrive between messages.
    pub(super) fn expect_interleaved(&mut self) {
        self.interleaved = true;
    }

    /// From now on `$` frames go to `watch`.
    pub(super) fn watch(&mut self, watch: Watch) {
        self.watch = Some(watch);
    }

    /// Hands a packet that arrived at `now` on `channel` (a `$` frame's, or the stand-in
    /// for a UDP port) to the watch, once PLAY is sent; dropped before.
    pub(super) fn packet(&mut self, channel: u8, packet: &[u8], now: Instant) {
        feed(&mut self.watch, &mut self.seen, channel, packet, now);
    }

    /// The watch's verdict, if it has one (taken).
    pub(super) fn take_seen(&mut self) -> Option<Seen> {
        self.seen.take()
    }

    /// Whether nothing more can be read (closed, unframeable, or a failed read).
    pub(super) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Counts a UDP datagram from another address than the server's, for the reason.
    pub(super) fn foreign_datagram(&mut self) {
        if let Some(watch) = &mut self.watch {
            watch.foreign_datagram();
        }
    }

    /// The watch, to ask why nothing came.
    pub(super) fn watching(&self) -> Option<&Watch> {
        self.watch.as_ref()
    }

    /// Sends `method` on the described URL and returns its reply, answering a challenge
    /// on the way if the session says so.
    pub(super) async fn exchange(
        &mut self,
        method: &'static str,
        extra_headers: &str,
        ctx: &ProbeContext,
    ) -> Result<Response, Outcome> {
        let out = self.session.request(method, extra_headers);
        self.converse(out, method, ctx).await
    }

    /// As [`Link::exchange`], on `uri`.
    pub(super) async fn exchange_to(
        &mut self,
        method: &'static str,
        uri: String,
        extra_headers: &str,
        ctx: &ProbeContext,
    ) -> Result<Response, Outcome> {
        let out = self.session.request_to(method, uri, extra_headers);
        self.converse(out, method, ctx).await
    }

    async fn converse(
        &mut self,
        mut out: Outgoing,
        method: &str,
        ctx: &ProbeContext,
    ) -> Result<Response, Outcome> {
        loop {
            self.send(&out, method, ctx).await?;
            loop {
                let Some(step) = self.next_step(ctx).await? else {
                    return Err(Outcome::unhealthy(
                        Stage::Receive,
                        format!("connection closed without a reply to {method}"),
                    ));
                };
                match step {
                    Step::Reply(resp) => return Ok(*resp),
                    Step::Ignore => continue,
                    Step::Send(next) => {
                        out = next;
                        break;
                    }
                }
            }
        }
    }

    /// Sends a request without waiting for its reply.
    pub(super) async fn send(
        &mut self,
        out: &Outgoing,
        method: &str,
        ctx: &ProbeContext,
    ) -> Result<(), Outcome> {
        net::send_logged_as(&mut self.stream, &out.bytes, out.logged(), ctx).await?;
        ctx.progress
            .enter(Stage::Receive, format!("waiting for the {method} reply"));
        Ok(())
    }

    /// Reads until the watch has a verdict; `None` when the server closed first.
    pub(super) async fn media(&mut self, ctx: &ProbeContext) -> Result<Option<Seen>, Outcome> {
        loop {
            if let Some(seen) = self.seen.take() {
                return Ok(Some(seen));
            }
            if self.next_step(ctx).await?.is_none() {
                return Ok(None);
            }
        }
    }

    /// Reads the next whole message or frame. A message goes to the session; a frame to
    /// the watch, if one is set, and is otherwise dropped. `None`: the server closed the
    /// connection between messages.
    async fn next_step(&mut self, ctx: &ProbeContext) -> Result<Option<Step>, Outcome> {
        let framing: fn(&[u8]) -> Frame = if self.interleaved {
            interleaved::frame
        } else {
            message::frame
        };
        let max = RTSP.max_buffered();
        let next = net::next_message(&mut self.stream, &mut self.buf, max, framing, ctx).await;
        let Ok(Some((start, end))) = next else {
            self.broken = true;
            return next.map(|_| None);
        };
        let frame = &self.buf[start..end];
        let step = match interleaved::data(frame) {
            Some((channel, packet)) => {
                feed(
                    &mut self.watch,
                    &mut self.seen,
                    channel,
                    packet,
                    Instant::now(),
                );
                Ok(Step::Ignore)
            }
            None => self.session.handle(frame),
        };
        self.buf.drain(..end);
        step.map(Some)
    }
}

/// [`Link::packet`], on the fields it needs: the frame it takes is borrowed from the
/// link's buffer.
fn feed(
    watch: &mut Option<Watch>,
    seen: &mut Option<Seen>,
    channel: u8,
    packet: &[u8],
    now: Instant,
) {
    match watch {
        Some(watch) if seen.is_none() => *seen = watch.frame(channel, packet, now).transpose(),
        Some(_) => {}
        None => debug!(
            "ignored a {}-byte packet on channel {channel} before PLAY",
            packet.len()
        ),
    }
}
