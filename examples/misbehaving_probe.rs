//! A check whose probe misbehaves on purpose, run through the real runner by the
//! integration tests: `panic` must exit 1 (not 101), `block` (a probe that blocks the
//! runtime thread, which no async timer can interrupt) must be ended by the watchdog.

use keepalived_checks::cli::CommonArgs;
use keepalived_checks::net::ProbeContext;
use keepalived_checks::runner::{self, Check};
use keepalived_checks::{CheckError, Outcome};

#[derive(Debug, clap::Parser)]
struct Misbehave {
    /// panic | block
    mode: String,
    #[command(flatten)]
    common: CommonArgs,
}

impl Check for Misbehave {
    const LABEL: &'static str = "TEST";
    const PROGRAM: &'static str = "misbehaving-probe";

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.mode)
    }

    async fn probe(&self, _ctx: &ProbeContext) -> Result<Outcome, CheckError> {
        match self.mode.as_str() {
            "panic" => panic!("probe exploded"),
            _ => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                Err(CheckError::Internal("slept through the deadline".into()))
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    runner::main::<Misbehave>()
}
