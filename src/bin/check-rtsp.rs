//! `check-rtsp`: see `check-rtsp --help` and the README.
#![no_main]

keepalived_checks::check_main!(keepalived_checks::cli::check_rtsp::CheckRtsp);
