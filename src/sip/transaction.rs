//! The OPTIONS client transaction, sans I/O: bytes and an explicit `now` in, what to send
//! and when to be woken out (the shape of quinn-proto's `Connection`).
//!
//! RFC 3261 section 17.1.2 (non-INVITE client transaction): over an unreliable transport
//! the request is retransmitted after T1, 2*T1, 4*T1, ... capped at T2 (Timer E) until a
//! response arrives; a provisional (1xx) response moves the transaction to Proceeding,
//! where it is retransmitted at the cap only. A health probe has a deadline of a second or
//! so, in which RFC 3261's T1 of 500 ms fits two transmissions: one lost datagram each
//! way and the check fails. So by default the [`Schedule`] is spread over the deadline
//! ([`Schedule::within`]); `--t1` gives RFC 3261's ([`Schedule::rfc3261`]). Over a reliable transport it is sent once. Only
//! a response echoing our Via branch, Call-ID and CSeq belongs to this transaction;
//! anything else is counted, logged and ignored. The transaction has no timeout of its
//! own: the probe's deadline ends it, and [`Transaction::waiting_text`] says what it had
//! seen by then.
//!
//! The driver (`sip::probe`) loops: [`Transaction::poll_transmit`] and send while it says
//! so, sleep until [`Transaction::poll_timeout`] or a message arrives, hand the message to
//! [`Transaction::handle`].

use std::time::{Duration, Instant};

use tracing::debug;

use super::message::{parse_message, Message, Response};
use super::request::RequestIds;
use crate::decimal::push_decimal;

/// RFC 3261 T2: the longest retransmission interval for non-INVITE requests.
pub const T2: Duration = Duration::from_secs(4);

/// RFC 3261 T1, the default first retransmission interval.
pub const RFC3261_T1: Duration = Duration::from_millis(500);

/// The shortest interval between transmissions, so that a tiny deadline never floods.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// When a request is retransmitted over an unreliable transport: after `first`, then at
/// doubling intervals up to `cap`, then every `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The first interval (Timer E's T1).
    pub first: Duration,
    /// The longest interval (T2); also the interval once a 1xx arrived.
    pub cap: Duration,
}

impl Schedule {
    /// RFC 3261's: `t1`, doubling, capped at T2 (4 s).
    pub fn rfc3261(t1: Duration) -> Schedule {
        Schedule {
            first: t1,
            cap: T2.max(t1),
        }
    }

    /// Spread over a deadline `budget` away: the first retransmission after a twentieth of
    /// it, doubling up to an eighth of it (each between [`MIN_INTERVAL`] and RFC 3261's T1
    /// and T2). Nine transmissions fit in any budget up to 10 s (1 s: at 0, 50, 150, 275,
    /// 400 ... 900 ms), so at 30 % loss each way a healthy server fails one probe in
    /// about 400 instead of one in four; a long budget gets RFC 3261's schedule.
    pub fn within(budget: Duration) -> Schedule {
        let first = (budget / 20).clamp(MIN_INTERVAL, RFC3261_T1);
        Schedule {
            first,
            cap: (budget / 8).clamp(first, T2),
        }
    }
}

/// Where the transaction is (RFC 3261 figure 6, without the states after the final answer,
/// which a health check does not need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Request sent (or about to be), no response yet.
    Trying,
    /// A provisional response arrived: the server has the request.
    Proceeding,
    /// The final response arrived.
    Completed,
}

/// A (re)transmission the driver must make now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// 1 for the first transmission, 2 for the first retransmission, ...
    pub number: u32,
}

/// What a received message meant for the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received<'a> {
    /// The final response to our request.
    Final(Response<'a>),
    /// Not (yet) the answer: a provisional response, someone else's response, or a request.
    Pending,
}

/// One OPTIONS client transaction.
#[derive(Debug)]
pub struct Transaction {
    ids: RequestIds,
    request: Vec<u8>,
    reliable: bool,
    state: State,
    schedule: Schedule,
    interval: Duration,
    next_send: Option<Instant>,
    sent: u32,
    ignored: u32,
    provisional: Option<String>,
}

impl Transaction {
    /// A transaction for `request` (which carries `ids`), first sent at `now`. `reliable`
    /// is TCP (sent once); otherwise it is retransmitted on `schedule`.
    pub fn new(
        request: Vec<u8>,
        ids: RequestIds,
        reliable: bool,
        schedule: Schedule,
        now: Instant,
    ) -> Self {
        Transaction {
            ids,
            request,
            reliable,
            state: State::Trying,
            schedule,
            interval: schedule.first,
            next_send: Some(now),
            sent: 0,
            ignored: 0,
            provisional: None,
        }
    }

    /// The request's bytes, to send whenever [`Self::poll_transmit`] says so.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Whether a (re)transmission is due at `now`; if so, schedules the next one.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let due = self.next_send.filter(|at| *at <= now)?;
        self.sent += 1;
        self.next_send = if self.reliable || self.state == State::Completed {
            None
        } else {
            // Counted from when it was due, not from when the driver got round to it,
            // so a late wake-up does not stretch the schedule.
            let next = due + self.interval;
            self.interval = match self.state {
                State::Proceeding => self.schedule.cap,
                _ => (self.interval * 2).min(self.schedule.cap),
            };
            Some(next)
        };
        Some(Transmit { number: self.sent })
    }

    /// When the transaction next wants to send, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_send
    }

    /// Takes one whole message (a datagram, or one framed off the stream) received at
    /// `now`. `Err` is bytes that are not SIP at all, which no amount of waiting fixes.
    pub fn handle<'a>(&mut self, bytes: &'a [u8], now: Instant) -> Result<Received<'a>, String> {
        let resp = match parse_message(bytes)? {
            Message::Request(method) => {
                debug!("ignored a {method} request from the server");
                return Ok(Received::Pending);
            }
            Message::Response(resp) => resp,
        };
        if let Some(why) = self.ids.mismatch(&resp) {
            self.ignored += 1;
            debug!("ignored {}: not ours ({why})", status_text(&resp));
            return Ok(Received::Pending);
        }
        if resp.code < 200 {
            debug!("provisional {}", status_text(&resp));
            self.provisional = Some(status_text(&resp));
            if self.state == State::Trying {
                self.state = State::Proceeding;
                self.interval = self.schedule.cap;
                // Proceeding: the server has the request; retransmit at the cap only.
                self.next_send = self.next_send.map(|at| at.max(now + self.schedule.cap));
            }
            return Ok(Received::Pending);
        }
        self.state = State::Completed;
        self.next_send = None;
        Ok(Received::Final(resp))
    }

    /// Where the transaction is.
    pub fn state(&self) -> State {
        self.state
    }

    /// How many times the request was sent.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// "waiting for a final response (2 sent over udp; got 100 Trying)", for the status
    /// line of a probe cut short.
    pub fn waiting_text(&self, transport: &str) -> String {
        let mut text = String::with_capacity(64);
        text.push_str("waiting for a final response (");
        push_decimal(&mut text, u64::from(self.sent));
        text.push_str(" sent over ");
        text.push_str(transport);
        self.push_seen(&mut text);
        text.push(')');
        text
    }

    /// What arrived that was not the answer ("; got 180 Ringing; ignored 1 response(s)
    /// ..."), or nothing.
    pub fn seen(&self) -> String {
        let mut seen = String::new();
        self.push_seen(&mut seen);
        seen
    }

    fn push_seen(&self, out: &mut String) {
        if let Some(p) = &self.provisional {
            out.push_str("; got ");
            out.push_str(p);
        }
        if self.ignored > 0 {
            out.push_str("; ignored ");
            push_decimal(out, u64::from(self.ignored));
            out.push_str(" response(s) not matching our Via branch, Call-ID and CSeq");
        }
    }
}

/// `200 OK`, or the code alone when the reason phrase is empty.
pub fn status_text(resp: &Response<'_>) -> String {
    // Room for " in 0.123 ms over udp" too: the verdict appends it.
    let mut text = String::with_capacity(resp.reason.len() + 32);
    push_decimal(&mut text, u64::from(resp.code));
    if !resp.reason.is_empty() {
        text.push(' ');
        text.push_str(resp.reason);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Duration = RFC3261_T1;

    fn ids() -> RequestIds {
        RequestIds {
            branch: "z9hG4bKours".into(),
            call_id: "call1".into(),
            cseq: 1,
        }
    }

    fn response(code: u16, reason: &str, branch: &str) -> Vec<u8> {
        format!(
            "SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch={branch}\r\n\
             Call-ID: call1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn udp(now: Instant) -> Transaction {
        Transaction::new(
            b"OPTIONS".to_vec(),
            ids(),
            false,
            Schedule::rfc3261(T1),
            now,
        )
    }

    /// Runs the fake clock from `start` to `until`, waking when the transaction asks, and
    /// returns the offsets (ms) at which it transmitted.
    fn schedule(tx: &mut Transaction, start: Instant, until: Duration) -> Vec<u128> {
        let mut sent = Vec::new();
        let mut now = start;
        while now <= start + until {
            while tx.poll_transmit(now).is_some() {
                sent.push((now - start).as_millis());
            }
            match tx.poll_timeout() {
                Some(at) => now = at,
                None => break,
            }
        }
        sent
    }

    #[test]
    fn retransmits_on_timer_e_doubling_up_to_t2() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        // T1 = 500 ms: 0, 0.5, 1.5, 3.5, 7.5 s, then every T2 = 4 s.
        assert_eq!(
            schedule(&mut tx, t0, Duration::from_secs(16)),
            [0, 500, 1500, 3500, 7500, 11500, 15500]
        );
        assert_eq!(tx.sent(), 7);
    }

    #[test]
    fn by_default_nine_transmissions_fit_in_the_deadline() {
        let t0 = Instant::now();
        let within = |ms| {
            let mut tx = Transaction::new(
                b"OPTIONS".to_vec(),
                ids(),
                false,
                Schedule::within(Duration::from_millis(ms)),
                t0,
            );
            schedule(&mut tx, t0, Duration::from_millis(ms - 1))
        };
        // RFC 3261's T1 fits two transmissions in a second; these fit nine.
        assert_eq!(within(1000), [0, 50, 150, 275, 400, 525, 650, 775, 900]);
        assert_eq!(within(5000).len(), 9);
        assert_eq!(within(10_000).len(), 9);
        // A short deadline never resends more often than every 10 ms ...
        assert_eq!(within(100), [0, 10, 22, 35, 47, 60, 72, 85, 97]);
        // ... and a long one is RFC 3261's schedule.
        assert_eq!(
            Schedule::within(Duration::from_secs(60)),
            Schedule::rfc3261(T1)
        );
    }

    #[test]
    fn over_tcp_the_request_is_sent_once() {
        let t0 = Instant::now();
        let mut tx = Transaction::new(b"OPTIONS".to_vec(), ids(), true, Schedule::rfc3261(T1), t0);
        assert_eq!(schedule(&mut tx, t0, Duration::from_secs(10)), [0]);
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn a_late_wake_up_does_not_stretch_the_schedule() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        assert!(tx.poll_transmit(t0).is_some());
        // Woken 100 ms late for the first retransmission: the next stays at 1.5 s.
        assert_eq!(
            tx.poll_transmit(t0 + Duration::from_millis(600)),
            Some(Transmit { number: 2 })
        );
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(1500)));
    }

    #[test]
    fn trying_then_ok_is_the_final_answer() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.poll_transmit(t0);
        let later = t0 + Duration::from_millis(20);
        let trying = response(100, "Trying", "z9hG4bKours");
        assert_eq!(tx.handle(&trying, later), Ok(Received::Pending));
        assert_eq!(tx.state(), State::Proceeding);
        let ok = response(200, "OK", "z9hG4bKours");
        let ok = tx.handle(&ok, later).unwrap();
        let Received::Final(resp) = ok else {
            panic!("200 is final: {ok:?}")
        };
        assert_eq!((resp.code, tx.state()), (200, State::Completed));
        // Nothing more to send once answered.
        assert_eq!(tx.poll_timeout(), None);
        assert_eq!(tx.poll_transmit(t0 + Duration::from_secs(9)), None);
    }

    #[test]
    fn ringing_then_silence_retransmits_at_t2_and_says_what_it_saw() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.poll_transmit(t0);
        let at = t0 + Duration::from_millis(100);
        assert_eq!(
            tx.handle(&response(180, "Ringing", "z9hG4bKours"), at),
            Ok(Received::Pending)
        );
        // Proceeding: the 500 ms retransmission moves to T2 after the 180.
        assert_eq!(tx.poll_timeout(), Some(at + T2));
        let sent = schedule(&mut tx, t0, Duration::from_secs(13));
        assert_eq!(sent, [4100, 8100, 12100]);
        assert_eq!(
            tx.waiting_text("udp"),
            "waiting for a final response (4 sent over udp; got 180 Ringing)"
        );
    }

    #[test]
    fn a_response_to_another_branch_is_ignored_and_counted() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        tx.poll_transmit(t0);
        let theirs = response(200, "OK", "z9hG4bKtheirs");
        assert_eq!(tx.handle(&theirs, t0), Ok(Received::Pending));
        assert_eq!(tx.state(), State::Trying);
        assert!(tx
            .seen()
            .contains("ignored 1 response(s) not matching our Via branch"));
        // A request from the server is not an answer either.
        let request = b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(tx.handle(request, t0), Ok(Received::Pending));
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let t0 = Instant::now();
        let mut tx = udp(t0);
        assert!(tx.handle(b"\x00\x01garbage", t0).is_err());
        let whole = response(200, "OK", "z9hG4bKours");
        let truncated = &whole[..whole.len() - 4];
        assert!(tx.handle(truncated, t0).unwrap_err().contains("truncated"));
    }
}
