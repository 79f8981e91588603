//! `--send`/`--expect` escapes, and the rendering of server bytes for status lines.
#![no_main]

use keepalived_checks::escape::{printable, unescape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = unescape(&String::from_utf8_lossy(data));
    for limit in [0, 1, 16, 200] {
        let shown = printable(data, limit);
        // One status line: nothing that could break it or a terminal.
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    }
});
