//! `--accept` lists: a policy prints in a form that parses again to the same policy.
#![no_main]

use keepalived_checks::accept::AcceptPolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(policy) = data.parse::<AcceptPolicy>() {
        let again: AcceptPolicy = policy
            .to_string()
            .parse()
            .unwrap_or_else(|e| panic!("{policy} does not parse again: {e}"));
        assert_eq!(again, policy);
        for code in [100, 200, 401, 404, 503, 699] {
            assert_eq!(again.accepts(code), policy.accepts(code));
        }
    }
});
