//! Failover time, Kamailio killed to VIP moved, with real keepalived in network
//! namespaces (the end-to-end test's lab): keepalived-checkd's track file (interval 100ms,
//! fall 2) against check-sip as a vrrp_script (interval 1, fall 2). Needs root.
//!
//!     cargo bench --bench failover                 # 10 runs each
//!     RUNS=5 cargo bench --bench failover
//!
//! Prints a Markdown table (the README's) and exits 1 when keepalived-checkd misses its
//! target: a median of at most 1.0 s, and at most half of the vrrp_script median.

use std::process::ExitCode;
use std::time::Duration;

#[path = "../tests/support/mod.rs"]
mod support;

#[allow(dead_code, unused_imports)]
#[path = "../tests/keepalived_e2e.rs"]
mod keepalived_e2e;

use keepalived_e2e::{failover_times, Tracking};

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> ExitCode {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut rows = Vec::new();
    for (name, tracking) in [
        (
            "keepalived-checkd track_file (interval 100ms, fall 2)",
            Tracking::Checkd,
        ),
        (
            "check-sip vrrp_script (interval 1, fall 2)",
            Tracking::Script,
        ),
    ] {
        let mut times = failover_times(tracking, runs);
        let med = median(&mut times);
        eprintln!(
            "{name}: {:?}",
            times.iter().map(|t| ms(*t)).collect::<Vec<_>>()
        );
        rows.push((name, med, times[0], times[times.len() - 1]));
    }
    println!("| Kamailio killed to VIP moved, {runs} runs | median | min | max |");
    println!("|---|---|---|---|");
    for (name, med, min, max) in &rows {
        println!("| {name} | {} | {} | {} |", ms(*med), ms(*min), ms(*max));
    }
    let (checkd, script) = (rows[0].1, rows[1].1);
    if checkd > Duration::from_secs(1) || checkd * 2 > script {
        eprintln!(
            "keepalived-checkd missed its target: median {} (at most 1.0 s and half of {})",
            ms(checkd),
            ms(script)
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
