//! The check-sip I/O driver: sockets on one side, [`Transaction`] on the other.
//!
//! Over UDP the request goes out whenever the transaction says so and each datagram is
//! handed to it; over TCP the stream is framed by Content-Length and each message handed
//! to it. Everything about timers, matching and 1xx lives in the transaction.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use super::message::{frame, SIP};
use super::request::{options, RequestIds};
use super::transaction::{status_text, Received, Schedule, Transaction, Transmit};
use super::uri::Transport;
use super::Options;
use crate::deadline::format_ms;
use crate::decimal::{decimal_text, push_ms};
use crate::escape::printable;
use crate::net::{self, ProbeContext, SHOWN_BYTES};
use crate::target::mask_userinfo;
use crate::tls;
use crate::{Outcome, Stage};

/// Pings `opts.uri` with OPTIONS and judges the final response. Runs until it has a
/// verdict; the caller bounds it with the deadline in `ctx`.
pub async fn probe(opts: &Options, ctx: &ProbeContext) -> Outcome {
    let request_uri = opts.uri.request_uri(opts.user.as_deref());
    // Only a user part can hold a password (the masking copies, so skip it without one).
    let masked_uri = request_uri
        .contains('@')
        .then(|| mask_userinfo(&request_uri, "sip"))
        .filter(|masked| *masked != request_uri);
    let driver = Driver {
        opts,
        request_uri,
        masked_uri,
    };
    let outcome = match opts.transport {
        Transport::Udp => driver.over_udp(ctx).await,
        Transport::Tcp | Transport::Tls => driver.over_stream(ctx).await,
    };
    let shown_uri = driver.masked_uri.unwrap_or(driver.request_uri);
    outcome
        .unwrap_or_else(|failed| failed)
        .with_detail("transport", opts.transport.as_str())
        .with_detail("request_uri", shown_uri)
}

struct Driver<'a> {
    opts: &'a Options,
    request_uri: String,
    /// The Request-URI with its password masked, when it has one.
    masked_uri: Option<String>,
}

impl Driver<'_> {
    async fn over_udp(&self, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
        let addrs = net::resolve(&self.opts.uri.target, ctx).await?;
        // A datagram cannot tell a dead address from a slow one before the deadline, so
        // UDP uses the first address; the status line names it.
        let peer = addrs[0];
        let (socket, local) = net::open_udp(peer, ctx).await?;
        let ids = RequestIds::fresh();
        let request = options(&self.request_uri, Transport::Udp, local, &ids);
        let shown = self.shown(Transport::Udp, local, &ids);
        ctx.progress.enter(Stage::Send, {
            let mut text = String::with_capacity(64);
            text.push_str("sending OPTIONS to ");
            crate::target::push_socket_addr(&mut text, peer);
            text
        });
        let started = Instant::now();
        let schedule = match self.opts.t1 {
            Some(t1) => Schedule::rfc3261(t1),
            None => Schedule::within(ctx.deadline.remaining_at(started)),
        };
        let mut tx = Transaction::new(request, ids, false, schedule, started);
        let mut buf = Vec::new();
        // Transmissions refused by this host, and the last reason.
        let mut refused: Option<(u32, String)> = None;
        loop {
            while let Some(Transmit { number }) = tx.poll_transmit(Instant::now()) {
                let logged = shown.as_deref().unwrap_or(tx.request());
                match net::send_datagram(&socket, tx.request(), logged).await {
                    Ok(()) => {}
                    // Retried at the next tick of the schedule, as a lost datagram is.
                    Err(e) if net::refused_locally(&e) => {
                        let why = net::describe_io(&e);
                        debug!("transmission {number} refused by this host: {why}");
                        let count = refused.as_ref().map_or(0, |(n, _)| *n) + 1;
                        refused = Some((count, why));
                    }
                    Err(e) => {
                        return Err(Outcome::unhealthy(
                            Stage::Send,
                            net::describe_datagram_io(&e),
                        ))
                    }
                }
                let mut waiting = tx.waiting_text(Transport::Udp.as_str());
                if let Some((count, why)) = &refused {
                    waiting.push_str(&format!("; {count} refused by this host: {why}"));
                }
                if number > 1 {
                    debug!(
                        "retransmission {} at {}",
                        number - 1,
                        format_ms(started.elapsed())
                    );
                }
                ctx.progress.enter(Stage::Receive, waiting);
            }
            let wake = tx.poll_timeout();
            tokio::select! {
                received = net::recv_datagram(&socket, &mut buf, ctx) => {
                    let bytes = &buf[..received?];
                    if let Some(verdict) = self.consider(&mut tx, bytes, started, ctx)? {
                        net::keep_udp(ctx, peer, socket, local);
                        return Ok(verdict);
                    }
                }
                _ = sleep_until(wake) => {}
            }
        }
    }

    /// Over TCP, or TLS over TCP: connect (and the handshake), one request, messages framed
    /// by Content-Length until the final answer.
    async fn over_stream(&self, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
        let addrs = net::resolve(&self.opts.uri.target, ctx).await?;
        let conn = net::connect_tcp(&addrs, ctx).await?;
        let local = conn
            .stream
            .local_addr()
            .map_err(|e| Outcome::unhealthy(Stage::Connect, net::describe_io(&e)))?;
        if self.opts.transport != Transport::Tls {
            return self.converse(conn.stream, local, ctx).await;
        }
        let host = &self.opts.uri.target.host;
        let (stream, negotiated) = tls::handshake(conn.stream, host, &self.opts.tls, ctx).await?;
        let outcome = self.converse(stream, local, ctx).await?;
        let now = SystemTime::now();
        Ok(negotiated.judge(outcome, now))
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
        local: SocketAddr,
        ctx: &ProbeContext,
    ) -> Result<Outcome, Outcome> {
        let transport = self.opts.transport;
        let ids = RequestIds::fresh();
        let request = options(&self.request_uri, transport, local, &ids);
        let shown = self.shown(transport, local, &ids);
        let started = Instant::now();
        let schedule = Schedule::rfc3261(self.opts.t1.unwrap_or_default());
        let mut tx = Transaction::new(request, ids, true, schedule, started);
        if tx.poll_transmit(started).is_some() {
            let logged = shown.as_deref().unwrap_or(tx.request());
            net::send_logged_as(&mut stream, tx.request(), logged, ctx).await?;
        }
        ctx.progress
            .enter(Stage::Receive, tx.waiting_text(transport.as_str()));
        let mut buf = Vec::new();
        let max = SIP.max_buffered();
        loop {
            let next = net::next_message(&mut stream, &mut buf, max, frame, ctx).await;
            let Some((start, end)) = next? else {
                let reason = format!("connection closed without a final response{}", tx.seen());
                return Err(Outcome::unhealthy(Stage::Receive, reason));
            };
            if let Some(verdict) = self.consider(&mut tx, &buf[start..end], started, ctx)? {
                return Ok(verdict);
            }
            buf.drain(..end);
        }
    }

    /// Hands one whole message to the transaction: the verdict once the final response
    /// is in, `None` to keep waiting, `Err` for bytes that are not SIP.
    fn consider(
        &self,
        tx: &mut Transaction,
        bytes: &[u8],
        started: Instant,
        ctx: &ProbeContext,
    ) -> Result<Option<Outcome>, Outcome> {
        match tx.handle(bytes, Instant::now()) {
            Ok(Received::Final(resp)) => Ok(Some(self.verdict(&resp, started.elapsed(), tx))),
            Ok(Received::Pending) => {
                ctx.progress
                    .note(tx.waiting_text(self.opts.transport.as_str()));
                Ok(None)
            }
            Err(why) => Err(unparsable(&why, bytes)),
        }
    }

    /// The request as `-vv` logs it when the Request-URI holds a password (it is in the
    /// Request-URI and the To header): the same request with the password masked.
    fn shown(&self, transport: Transport, local: SocketAddr, ids: &RequestIds) -> Option<Vec<u8>> {
        let masked = self.masked_uri.as_deref()?;
        Some(options(masked, transport, local, ids))
    }

    fn verdict(
        &self,
        resp: &super::message::Response<'_>,
        rtt: Duration,
        tx: &Transaction,
    ) -> Outcome {
        let mut status = status_text(resp);
        let accept = &self.opts.accept;
        let outcome = if accept.accepts(resp.code) {
            status.push_str(" in ");
            push_ms(&mut status, rtt);
            status.push_str(" over ");
            status.push_str(self.opts.transport.as_str());
            Outcome::healthy(status, rtt)
        } else {
            let mut reason = format!("{status} (accepted: {accept})");
            let has_user = self.opts.user.is_some() || self.opts.uri.user.is_some();
            if resp.code == 404 && has_user {
                reason.push_str(
                    "; stock Kamailio answers 404 to a Request-URI with a user part, try sip:HOST",
                );
            }
            Outcome::unhealthy(Stage::Match, reason).with_rtt(rtt)
        };
        let mut outcome = outcome
            .with_detail("code", decimal_text(u64::from(resp.code)))
            .with_detail("reason_phrase", resp.reason)
            .with_detail("sent", decimal_text(u64::from(tx.sent())));
        if let Some(server) = &resp.server {
            outcome = outcome.with_detail("server", server.as_ref());
        }
        outcome
    }
}

fn unparsable(why: &str, bytes: &[u8]) -> Outcome {
    Outcome::unhealthy(
        Stage::Parse,
        format!("{why}: \"{}\"", printable(bytes, SHOWN_BYTES)),
    )
}

/// Sleeps until `wake`, or forever when nothing is scheduled (the deadline ends it).
async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
