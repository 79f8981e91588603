//! `ka-notify`: see `ka-notify --help` and the README.
fn main() -> std::process::ExitCode {
    keepalived_checks::cli::ka_notify::main()
}
