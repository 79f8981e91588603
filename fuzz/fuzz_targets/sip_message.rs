//! SIP bytes from a server: stream framing, parsing, and the client transaction.
#![no_main]

#[path = "frames.rs"]
mod frames;

use std::time::{Duration, Instant};

use keepalived_checks::sip::message::{frame, parse_message};
use keepalived_checks::sip::request::RequestIds;
use keepalived_checks::sip::transaction::{Schedule, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a datagram: one whole message.
    let _ = parse_message(data);
    let ids = RequestIds {
        branch: "z9hG4bKfuzz".into(),
        call_id: "fuzz".into(),
        cseq: 1,
    };
    let t0 = Instant::now();
    let mut tx = Transaction::new(
        b"OPTIONS".to_vec(),
        ids,
        false,
        Schedule::within(Duration::from_secs(1)),
        t0,
    );
    tx.poll_transmit(t0);
    let _ = tx.handle(data, t0);
    let _ = tx.poll_timeout();
    let _ = tx.waiting_text("udp");
    // As a TCP stream.
    frames::each(data, frame, |message| {
        let _ = tx.handle(message, t0);
        true
    });
});
