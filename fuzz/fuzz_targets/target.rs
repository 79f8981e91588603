//! `host:port` targets: a target prints in a form that parses again to the same value.
#![no_main]

use keepalived_checks::target::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for default_port in [None, Some(5060)] {
        if let Ok(target) = Target::parse(data, "tcp", default_port) {
            assert_ne!(target.port, 0);
            let again = Target::parse(&target.to_string(), "tcp", None)
                .unwrap_or_else(|e| panic!("{target} does not parse again: {e}"));
            assert_eq!(again, target);
        }
    }
});
