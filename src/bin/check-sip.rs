//! `check-sip`: see `check-sip --help` and the README.
#![no_main]

keepalived_checks::check_main!(keepalived_checks::cli::check_sip::CheckSip);
