//! keepalived-checkd configurations, check lines parsed by the real command-line
//! definitions: any text gives a configuration or errors, each one line naming the file.
#![no_main]

use std::path::Path;

use keepalived_checks::checkd::config;
use keepalived_checks::cli::checkd::parse_check_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    match config::parse(data, Path::new("f.toml"), &parse_check_line) {
        Ok(c) => assert!(!c.checks.is_empty()),
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                let line = e.to_string();
                assert!(line.starts_with("f.toml"), "{line}");
                assert!(!line.contains('\n'), "{line:?}");
            }
        }
    }
});
