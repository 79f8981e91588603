//! SIP URIs: whatever is given, the displayed form and every error message never contain
//! the password; a URI without one prints as it parsed and parses again to the same value.
#![no_main]

#[path = "password_property.rs"]
mod password_property;

use keepalived_checks::sip::uri::SipUri;
use libfuzzer_sys::fuzz_target;

// The input is USER, PASSWORD and REST on three lines (what the seeds hold).
fuzz_target!(|data: &str| {
    let (user, password, rest) = password_property::parts(data);
    if let Ok(uri) = SipUri::parse(rest) {
        if !rest.contains('@') {
            let again = SipUri::parse(&uri.to_string()).expect("its own display parses");
            assert_eq!(again, uri);
        }
    }
    // A user part ends at the first ':' and holds no '@'.
    if user.contains([':', '@']) {
        return;
    }
    password_property::never_shown(
        password,
        |p| format!("sip:{user}:{p}@{rest}"),
        |input| match SipUri::parse(input) {
            Ok(uri) => format!("{uri} {uri:?}"),
            Err(e) => format!("{e} {e:?}"),
        },
    );
});
