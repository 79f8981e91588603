//! A server's certificate bytes: notAfter is read or refused, never a panic, and a date
//! that was read prints as a calendar date.
#![no_main]

use keepalived_checks::tls::validity::{date, days_left, not_after};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(end) = not_after(data) {
        let shown = date(end);
        assert_eq!(shown.len(), 10, "{shown}");
        let _ = days_left(end, 0);
    }
});
