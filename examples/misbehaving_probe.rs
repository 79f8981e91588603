//! A check whose probe misbehaves on purpose, run through the real process shell by the
//! integration tests: `panic` must exit 1 (not 101), `block` (a probe that blocks the
//! runtime thread, which no async timer can interrupt) must be ended by the watchdog.
#![no_main]

use keepalived_checks::cli::shell::Check;
use keepalived_checks::cli::CommonArgs;
use keepalived_checks::net::ProbeContext;
use keepalived_checks::{CheckError, Outcome, Stage};

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
    type Options = String;

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> String {
        self.mode.clone()
    }

    fn options(&self) -> Result<String, CheckError> {
        Ok(self.mode.clone())
    }

    async fn probe(mode: &String, _ctx: &ProbeContext) -> Outcome {
        match mode.as_str() {
            "panic" => panic!("probe exploded"),
            _ => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                Outcome::unhealthy(Stage::Receive, "slept through the deadline")
            }
        }
    }
}

keepalived_checks::check_main!(Misbehave);
