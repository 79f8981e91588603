//! `check-tcp`: see `check-tcp --help` and the README.
#![no_main]

keepalived_checks::check_main!(keepalived_checks::cli::check_tcp::CheckTcp);
