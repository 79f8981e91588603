//! SIP URIs: whatever is given, the displayed form and every error message never contain
//! the password; a URI without one prints as it parsed and parses again to the same value.
#![no_main]

use keepalived_checks::sip::uri::SipUri;
use libfuzzer_sys::fuzz_target;

// The input is USER, PASSWORD and REST on three lines (what the seeds hold).
fuzz_target!(|data: &str| {
    let mut parts = data.splitn(3, '\n');
    let (user, password, rest) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    // Any input at all.
    if let Ok(uri) = SipUri::parse(rest) {
        if !rest.contains('@') {
            let again = SipUri::parse(&uri.to_string()).expect("its own display parses");
            assert_eq!(again, uri);
        }
    }
    // With a password: never shown. (A password that also occurs elsewhere in the input
    // cannot be told apart, so it must be long and unique.)
    if password.len() < 4 || user.contains(password) || rest.contains(password) {
        return;
    }
    let input = format!("sip:{user}:{password}@{rest}");
    let shown = match SipUri::parse(&input) {
        Ok(uri) => format!("{uri} {uri:?}"),
        Err(e) => format!("{e} {e:?}"),
    };
    assert!(!shown.contains(password), "{shown:?} shows {password:?}");
});
