//! The check-rtsp I/O driver: OPTIONS, then DESCRIBE (and PLAY) if asked, on one
//! connection, through a [`Session`](super::session::Session); and the verdict on the
//! replies.
//!
//! The connection is closed as soon as the verdict is known: RTSP servers never close
//! first, which is why `nc`-based scripts hang until keepalived kills them.

use std::time::{Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite};

use super::link::Link;
use super::message::Response;
use super::{play, sdp, Options};
use crate::deadline::format_ms;
use crate::net::{self, ProbeContext};
use crate::tls;
use crate::{Outcome, Stage};

/// Asks `opts.url` for OPTIONS (and DESCRIBE) and judges the replies. Runs until it has a
/// verdict; the caller bounds it with the deadline in `ctx`.
pub async fn probe(opts: &Options, ctx: &ProbeContext) -> Outcome {
    converse(opts, ctx).await.unwrap_or_else(|failed| failed)
}

async fn converse(opts: &Options, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
    let addrs = net::resolve(&opts.url.target, ctx).await?;
    let conn = net::connect_tcp(&addrs, ctx).await?;
    // Where RTP over UDP is to be received, and whose datagrams count.
    let ends = conn
        .stream
        .local_addr()
        .ok()
        .map(|local| (local.ip(), conn.peer.ip()));
    // Dropping the link on return closes the connection; the server never would. The
    // round-trip time counts from the first request, after any TLS handshake.
    if !opts.url.secure {
        let mut link = Link::new(conn.stream, opts, ends);
        return verdict(opts, &mut link, Instant::now(), ctx).await;
    }
    let host = &opts.url.target.host;
    let (stream, negotiated) = tls::handshake(conn.stream, host, &opts.tls, ctx).await?;
    let outcome = verdict(
        opts,
        &mut Link::new(stream, opts, ends),
        Instant::now(),
        ctx,
    )
    .await?;
    Ok(negotiated.judge(outcome, SystemTime::now()))
}

async fn verdict<S: AsyncRead + AsyncWrite + Unpin>(
    opts: &Options,
    link: &mut Link<S>,
    started: Instant,
    ctx: &ProbeContext,
) -> Result<Outcome, Outcome> {
    let options = link.exchange("OPTIONS", "", ctx).await?;
    let rtt = started.elapsed();
    if !opts.accept.accepts(options.code) {
        let accepted = format!(" (accepted: {})", opts.accept);
        let reason = link.session.refusal("OPTIONS", &options, &accepted);
        return Err(details(
            Outcome::unhealthy(Stage::Match, reason).with_rtt(rtt),
            &options,
        ));
    }
    if !opts.describes() {
        let reason = format!("{} in {}", options.status(), format_ms(rtt));
        return Ok(details(Outcome::healthy(reason, rtt), &options));
    }
    if !(200..300).contains(&options.code) {
        if opts.play.is_some() {
            // --play is healthy only on media, which a server refusing OPTIONS will not
            // send.
            let reason = format!(
                "OPTIONS {} is accepted, but --play needs a 2xx to go on",
                options.status()
            );
            return Err(details(
                Outcome::unhealthy(Stage::Match, reason).with_rtt(rtt),
                &options,
            ));
        }
        // --accept let a non-2xx OPTIONS answer through (a 401 without credentials):
        // there is nothing to DESCRIBE with.
        let reason = format!(
            "{} in {} (accepted; DESCRIBE skipped)",
            options.status(),
            format_ms(rtt)
        );
        return Ok(details(Outcome::healthy(reason, rtt), &options));
    }
    let describe = link
        .exchange("DESCRIBE", "Accept: application/sdp\r\n", ctx)
        .await?;
    let rtt = started.elapsed();
    let failed = |why: String| {
        Err(details(
            Outcome::unhealthy(Stage::Match, why).with_rtt(rtt),
            &describe,
        ))
    };
    if describe.code != 200 {
        return failed(link.session.refusal("DESCRIBE", &describe, ""));
    }
    match describe.content_type.as_deref() {
        Some("application/sdp") => {}
        other => {
            return failed(format!(
                "DESCRIBE 200 but Content-Type is {}, not application/sdp",
                other.unwrap_or("missing")
            ))
        }
    }
    let sdp = sdp::parse(&describe.body);
    if sdp.media.is_empty() {
        return failed(format!(
            "DESCRIBE 200 but the {}-byte SDP has no m= line: stream not published?",
            describe.body.len()
        ));
    }
    if let Some(asked) = &opts.play {
        // Boxed: inline, the play path's state would enlarge every check's future, which
        // is moved (and copied) several times at each start.
        return Box::pin(play::play(link, &sdp, &describe, asked, started, ctx)).await;
    }
    let media: Vec<&str> = sdp.media.iter().map(|m| m.kind.as_str()).collect();
    let reason = format!(
        "{}, DESCRIBE {} with {} media ({}) in {}",
        options.status(),
        describe.status(),
        media.len(),
        media.join(", "),
        format_ms(rtt)
    );
    Ok(details(Outcome::healthy(reason, rtt), &describe).with_detail("media", media.join(",")))
}

/// `outcome` with the reply's code, reason phrase and Server header as JSON details.
pub(super) fn details(outcome: Outcome, resp: &Response) -> Outcome {
    let outcome = outcome
        .with_detail("code", resp.code.to_string())
        .with_detail("reason_phrase", &resp.reason);
    match &resp.server {
        Some(server) => outcome.with_detail("server", server),
        None => outcome,
    }
}
