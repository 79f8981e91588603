//! RTSP bytes from a server: stream framing, parsing, SDP, and the session (with
//! credentials, so that 401 challenges are answered).
#![no_main]

#[path = "frames.rs"]
mod frames;

use keepalived_checks::rtsp::message::{frame, parse_message};
use keepalived_checks::rtsp::sdp;
use keepalived_checks::rtsp::session::{Session, Step};
use keepalived_checks::rtsp::url::Credentials;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message(data);
    let _ = sdp::parse(data);
    let credentials = Credentials {
        user: "user".into(),
        password: "fuzz-secret".into(),
    };
    let mut session = Session::new("rtsp://127.0.0.1/x".into(), Some(credentials));
    session.request("OPTIONS", "");
    frames::each(data, frame, |message| match session.handle(message) {
        Ok(Step::Send(out)) => {
            // What is logged never holds the password.
            let logged = String::from_utf8_lossy(out.logged());
            assert!(!logged.contains("fuzz-secret"), "{logged}");
            true
        }
        Ok(_) => {
            session.request("DESCRIBE", "Accept: application/sdp\r\n");
            true
        }
        Err(_) => false,
    });
});
