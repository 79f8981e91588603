//! `check-tcp`: see `check-tcp --help` and the README.
fn main() -> std::process::ExitCode {
    keepalived_checks::cli::shell::run_check::<keepalived_checks::cli::check_tcp::CheckTcp>()
}
