//! Writes the man pages and shell completions from the same clap definitions the programs
//! parse with, so they cannot drift from `--help`:
//!
//!     cargo run --example generate_docs -- .      # regenerate man/ and contrib/completions/
//!
//! Writes `DIR/man/PROGRAM.1` (`.8` for keepalived-checkd and keepalived-checks-doctor) and `DIR/contrib/completions/{bash,zsh,fish}/...`. The
//! hand-written `man/keepalived-checks.7` is not touched. `tests/docs.rs` runs this into a
//! scratch directory and fails when the committed files differ.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use clap_complete::Shell;
use keepalived_checks::cli;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: generate_docs DIR");
        return ExitCode::from(1);
    };
    match generate(Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate_docs: {e}");
            ExitCode::from(1)
        }
    }
}

fn generate(out: &Path) -> std::io::Result<()> {
    // (command, man section): the daemon is an administration program (8).
    let programs = [
        (cli::check_tcp::command(), "1"),
        (cli::check_sip::command(), "1"),
        (cli::check_rtsp::command(), "1"),
        (cli::ka_notify::command(), "1"),
        (cli::checkd::command(), "8"),
        // `keepalived-checks doctor`: a page of its own, as git's subcommands have
        // (keepalived-checks.7 is the package's overview).
        (doctor_page(), "8"),
    ];
    let man = out.join("man");
    fs::create_dir_all(&man)?;
    for (cmd, section) in &programs {
        let name = cmd.get_name().to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .section(*section)
            .manual("keepalived-checks")
            .source(format!("keepalived-checks {}", env!("CARGO_PKG_VERSION")))
            .render(&mut page)?;
        fs::write(man.join(format!("{name}.{section}")), page)?;
        if name == DOCTOR_PAGE {
            continue;
        }
        for (shell, dir, file) in [
            (Shell::Bash, "bash", name.clone()),
            (Shell::Zsh, "zsh", format!("_{name}")),
            (Shell::Fish, "fish", format!("{name}.fish")),
        ] {
            let dir = out.join("contrib/completions").join(dir);
            fs::create_dir_all(&dir)?;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), name.clone(), &mut script);
            fs::write(dir.join(file), script)?;
        }
    }
    let mut top = cli::doctor::command();
    let name = top.get_name().to_string();
    for (shell, dir, file) in [
        (Shell::Bash, "bash", name.clone()),
        (Shell::Zsh, "zsh", format!("_{name}")),
        (Shell::Fish, "fish", format!("{name}.fish")),
    ] {
        let dir = out.join("contrib/completions").join(dir);
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut top, name.clone(), &mut script);
        fs::write(dir.join(file), script)?;
    }
    Ok(())
}

/// The doctor's man page name.
const DOCTOR_PAGE: &str = "keepalived-checks-doctor";

/// `keepalived-checks doctor` as a command of its own, for its man page.
fn doctor_page() -> clap::Command {
    let top = cli::doctor::command();
    let doctor = top
        .find_subcommand("doctor")
        .cloned()
        .expect("keepalived-checks has a doctor");
    doctor
        .name(DOCTOR_PAGE)
        .bin_name("keepalived-checks doctor")
        .version(env!("CARGO_PKG_VERSION"))
}
