//! Splitting a fuzzed TCP stream into messages the way the probes do, with the property
//! both stream targets check: every frame lies inside the buffer and consumes bytes.

use keepalived_checks::textproto::Frame;

/// Calls `each` with message after message that `frame` finds in `stream`, until the
/// stream holds no whole message or `each` returns false.
pub fn each(stream: &[u8], frame: fn(&[u8]) -> Frame, mut each: impl FnMut(&[u8]) -> bool) {
    let mut rest = stream;
    while let Frame::Message { start, end } = frame(rest) {
        assert!(
            start <= end && end <= rest.len() && end > 0,
            "{start}..{end} of {}",
            rest.len()
        );
        if !each(&rest[start..end]) {
            break;
        }
        rest = &rest[end..];
    }
}
