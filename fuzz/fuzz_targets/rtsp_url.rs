//! RTSP URLs: whatever is given, the displayed form and every error message never contain
//! the password; a URL without one prints as it parsed and parses again to the same value.
#![no_main]

use keepalived_checks::rtsp::url::RtspUrl;
use libfuzzer_sys::fuzz_target;

// The input is USER, PASSWORD and REST on three lines (what the seeds hold).
fuzz_target!(|data: &str| {
    let mut parts = data.splitn(3, '\n');
    let (user, password, rest) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    if let Ok(url) = RtspUrl::parse(rest) {
        if url.credentials.is_none() {
            let again = RtspUrl::parse(&url.to_string()).expect("its own display parses");
            assert_eq!(again, url);
        }
    }
    if password.len() < 4 || user.contains(password) || rest.contains(password) {
        return;
    }
    for input in [
        format!("rtsp://{user}:{password}@{rest}"),
        format!("{user}:{password}@{rest}"),
    ] {
        let shown = match RtspUrl::parse(&input) {
            Ok(url) => format!("{url} {url:?}"),
            Err(e) => format!("{e} {e:?}"),
        };
        assert!(!shown.contains(password), "{shown:?} shows {password:?}");
    }
});
