//! WWW-Authenticate header values: parsing, choosing among several, and answering.
#![no_main]

use keepalived_checks::rtsp::auth::{authorization, choose, parse};
use keepalived_checks::rtsp::url::Credentials;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let credentials = Credentials {
        user: "user".into(),
        password: "secret".into(),
    };
    if let Ok(challenge) = parse(&text) {
        let _ = challenge.scheme();
        let _ = authorization(&challenge, &credentials, "DESCRIBE", "rtsp://h/x", 1);
    }
    let several: Vec<String> = text.split('\n').map(str::to_string).collect();
    if let Ok(challenge) = choose(&several) {
        let _ = authorization(&challenge, &credentials, "OPTIONS", "rtsp://h/x", 2);
    }
});
