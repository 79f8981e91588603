//! `keepalived-checkd`: see `keepalived-checkd --help`, keepalived-checkd(8) and the README.
fn main() -> std::process::ExitCode {
    keepalived_checks::cli::checkd::main()
}
