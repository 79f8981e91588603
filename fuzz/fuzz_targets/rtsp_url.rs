//! RTSP URLs: whatever is given, the displayed form and every error message never contain
//! the password; a URL without one prints as it parsed and parses again to the same value.
#![no_main]

#[path = "password_property.rs"]
mod password_property;

use keepalived_checks::rtsp::url::RtspUrl;
use libfuzzer_sys::fuzz_target;

// The input is USER, PASSWORD and REST on three lines (what the seeds hold).
fuzz_target!(|data: &str| {
    let (user, password, rest) = password_property::parts(data);
    if let Ok(url) = RtspUrl::parse(rest) {
        if url.credentials.is_none() {
            let again = RtspUrl::parse(&url.to_string()).expect("its own display parses");
            assert_eq!(again, url);
        }
    }
    // A user name ends at the first ':' and holds none of the authority's delimiters. A
    // password may hold none of '/', '?' and '#' unencoded either (RFC 3986): with one,
    // `rtsp://cam:8/x@y` is the host cam, port 8 and the path /x@y, which is shown.
    if user.contains([':', '@', '/', '?', '#']) || password.contains(['/', '?', '#']) {
        return;
    }
    let show = |input: &str| match RtspUrl::parse(input) {
        Ok(url) => format!("{url} {url:?}"),
        Err(e) => format!("{e} {e:?}"),
    };
    password_property::never_shown(password, |p| format!("rtsp://{user}:{p}@{rest}"), show);
    password_property::never_shown(password, |p| format!("{user}:{p}@{rest}"), show);
});
