//! The check-sip conversation: send OPTIONS, wait for the final response that answers it.
//!
//! Over UDP the request is retransmitted per RFC 3261 Timer A (T1, 2*T1, 4*T1, ... capped
//! at T2) until a response arrives or the deadline passes, so one lost datagram is not a
//! failover; a provisional (1xx) answer slows retransmission to T2, as in the Proceeding
//! state. Over TCP the stream is framed by Content-Length. On either, only a response
//! echoing our Via branch, Call-ID and CSeq counts; anything else is ignored and logged.

use std::time::{Duration, Instant};

use tracing::debug;

use super::message::{frame, parse_message, Message, Response, MAX_BODY_BYTES, MAX_HEADER_BYTES};
use super::request::{options, RequestIds};
use super::uri::{SipUri, Transport};
use crate::cli::check_sip::CheckSip;
use crate::cli::CommonArgs;
use crate::deadline::format_ms;
use crate::escape::printable;
use crate::net::{self, ProbeContext, SHOWN_BYTES};
use crate::runner::Check;
use crate::target::Target;
use crate::{CheckError, Outcome, Stage};

/// RFC 3261 T2: the longest retransmission interval for non-INVITE requests.
const T2: Duration = Duration::from_secs(4);

impl Check for CheckSip {
    const LABEL: &'static str = "SIP";
    const PROGRAM: &'static str = "check-sip";

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.uri)
    }

    async fn probe(&self, ctx: &ProbeContext) -> Result<Outcome, CheckError> {
        let uri = SipUri::parse(&self.uri)?;
        let transport = self.transport.or(uri.transport).unwrap_or_default();
        let request_uri = uri.request_uri(self.user.as_deref());
        let mut tx = Transaction {
            ids: RequestIds::fresh(),
            request_uri,
            transport,
            has_user: self.user.is_some() || uri.user.is_some(),
            check: self,
            sent: 0,
            ignored: 0,
            provisional: None,
        };
        let outcome = match transport {
            Transport::Udp => tx.over_udp(&uri.target, ctx).await,
            Transport::Tcp => tx.over_tcp(&uri.target, ctx).await,
        };
        Ok(outcome
            .unwrap_or_else(|failed| failed)
            .with_detail("transport", transport.as_str())
            .with_detail("request_uri", tx.request_uri))
    }
}

/// One OPTIONS transaction and what has been seen of it.
struct Transaction<'a> {
    ids: RequestIds,
    request_uri: String,
    transport: Transport,
    has_user: bool,
    check: &'a CheckSip,
    sent: u32,
    ignored: u32,
    provisional: Option<String>,
}

impl Transaction<'_> {
    async fn over_udp(&mut self, target: &Target, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
        let addrs = net::resolve(target, ctx).await?;
        // A datagram cannot tell a dead address from a slow one before the deadline, so
        // UDP uses the first address; the status line names it.
        let peer = addrs[0];
        let socket = net::connect_udp(peer, ctx).await?;
        let local = socket
            .local_addr()
            .map_err(|e| Outcome::unhealthy(Stage::Connect, net::describe_io(&e)))?;
        let request = options(&self.request_uri, Transport::Udp, local, &self.ids);
        ctx.progress
            .enter(Stage::Send, format!("sending OPTIONS to {peer}"));
        let started = Instant::now();
        let mut interval = self.check.t1;
        let mut next_send = started;
        let mut buf = vec![0u8; MAX_HEADER_BYTES + MAX_BODY_BYTES];
        loop {
            if Instant::now() >= next_send {
                net::send_datagram(&socket, &request).await?;
                self.sent += 1;
                if self.sent > 1 {
                    debug!(
                        "retransmission {} after {}",
                        self.sent - 1,
                        format_ms(interval / 2)
                    );
                }
                next_send += interval;
                interval = (interval * 2).min(T2);
                self.enter_waiting(ctx);
            }
            tokio::select! {
                received = net::recv_datagram(&socket, &mut buf, ctx) => {
                    if let Some(resp) = self.consider(&buf[..received?], ctx)? {
                        return Ok(self.verdict(&resp, started.elapsed()));
                    }
                    if self.provisional.is_some() {
                        // Proceeding: the server has the request; retransmit at T2 only.
                        interval = T2;
                        next_send = next_send.max(Instant::now() + T2);
                    }
                }
                _ = tokio::time::sleep_until(next_send.into()) => {}
            }
        }
    }

    async fn over_tcp(&mut self, target: &Target, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
        let addrs = net::resolve(target, ctx).await?;
        let mut conn = net::connect_tcp(&addrs, ctx).await?;
        let local = conn
            .stream
            .local_addr()
            .map_err(|e| Outcome::unhealthy(Stage::Connect, net::describe_io(&e)))?;
        let request = options(&self.request_uri, Transport::Tcp, local, &self.ids);
        let started = Instant::now();
        net::send(&mut conn.stream, &request, ctx).await?;
        self.sent = 1;
        self.enter_waiting(ctx);
        let mut buf = Vec::new();
        // Room for one maximal message plus a read's worth of the next.
        let max = MAX_HEADER_BYTES + MAX_BODY_BYTES + 8192;
        loop {
            let next = net::next_message(&mut conn.stream, &mut buf, max, frame, ctx).await;
            let Some((start, end)) = next? else {
                let reason = format!("connection closed without a final response{}", self.seen());
                return Err(Outcome::unhealthy(Stage::Receive, reason));
            };
            let found = self.consider(&buf[start..end], ctx);
            buf.drain(..end);
            if let Some(resp) = found? {
                return Ok(self.verdict(&resp, started.elapsed()));
            }
        }
    }

    /// Looks at one message: `Some` is the final answer to our request; `None` means keep
    /// waiting (a provisional answer, someone else's response, a request); `Err` is bytes
    /// that are not SIP, which no amount of waiting will fix.
    fn consider(&mut self, bytes: &[u8], ctx: &ProbeContext) -> Result<Option<Response>, Outcome> {
        let resp = match parse_message(bytes) {
            Err(why) => return Err(self.unparsable(&why, bytes)),
            Ok(Message::Request(method)) => {
                debug!("ignored a {method} request from the server");
                return Ok(None);
            }
            Ok(Message::Response(resp)) => resp,
        };
        if let Some(why) = self.ids.mismatch(&resp) {
            self.ignored += 1;
            debug!("ignored {} {}: not ours ({why})", resp.code, resp.reason);
            self.note_waiting(ctx);
            return Ok(None);
        }
        if resp.code < 200 {
            debug!("provisional {} {}", resp.code, resp.reason);
            self.provisional = Some(status_text(&resp));
            self.note_waiting(ctx);
            return Ok(None);
        }
        Ok(Some(resp))
    }

    fn unparsable(&self, why: &str, bytes: &[u8]) -> Outcome {
        Outcome::unhealthy(
            Stage::Parse,
            format!("{why}: \"{}\"", printable(bytes, SHOWN_BYTES)),
        )
    }

    fn verdict(&self, resp: &Response, rtt: Duration) -> Outcome {
        let status = status_text(resp);
        let accept = &self.check.accept;
        let outcome = if accept.accepts(resp.code) {
            Outcome::healthy(
                format!("{status} in {} over {}", format_ms(rtt), self.transport),
                rtt,
            )
        } else {
            let mut reason = format!("{status} (accepted: {accept})");
            if resp.code == 404 && self.has_user {
                reason.push_str(
                    "; stock Kamailio answers 404 to a Request-URI with a user part, try sip:HOST",
                );
            }
            Outcome::unhealthy(Stage::Match, reason).with_rtt(rtt)
        };
        let mut outcome = outcome
            .with_detail("code", resp.code.to_string())
            .with_detail("reason_phrase", &resp.reason)
            .with_detail("sent", self.sent.to_string());
        if let Some(server) = &resp.server {
            outcome = outcome.with_detail("server", server);
        }
        outcome
    }

    fn enter_waiting(&self, ctx: &ProbeContext) {
        ctx.progress.enter(Stage::Receive, self.waiting_text());
    }

    fn note_waiting(&self, ctx: &ProbeContext) {
        ctx.progress.note(self.waiting_text());
    }

    /// "waiting for a final response (2 sent over udp; got 100 Trying)".
    fn waiting_text(&self) -> String {
        format!(
            "waiting for a final response ({} sent over {}{})",
            self.sent,
            self.transport,
            self.seen()
        )
    }

    /// What arrived that was not the answer, for timeout and close messages.
    fn seen(&self) -> String {
        let mut seen = String::new();
        if let Some(p) = &self.provisional {
            seen.push_str(&format!("; got {p}"));
        }
        if self.ignored > 0 {
            seen.push_str(&format!(
                "; ignored {} response(s) not matching our Via branch, Call-ID and CSeq",
                self.ignored
            ));
        }
        seen
    }
}

fn status_text(resp: &Response) -> String {
    if resp.reason.is_empty() {
        resp.code.to_string()
    } else {
        format!("{} {}", resp.code, resp.reason)
    }
}
