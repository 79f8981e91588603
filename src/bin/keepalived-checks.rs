//! `keepalived-checks doctor`: see `keepalived-checks doctor --help` and the README.
fn main() -> std::process::ExitCode {
    keepalived_checks::cli::doctor::main()
}
