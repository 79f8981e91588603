//! State files: any record accepted prints as text that parses again to the same record.
#![no_main]

use keepalived_checks::state::StateRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(record) = StateRecord::parse(data) {
        let text = record.to_text();
        assert_eq!(StateRecord::parse(&text).as_ref(), Ok(&record), "{text}");
    }
});
