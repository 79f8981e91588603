//! The process around a probe: the part of the contract every check shares.
//!
//! [`main`] parses arguments (usage errors exit 1, never clap's 2), installs logging, arms
//! the deadline, a watchdog and the SIGTERM/SIGINT handlers, runs the probe on a
//! current-thread runtime, prints exactly one status line, logs the verdict, and returns
//! the exit status from [`report::exit_code`]. A panic prints a status line and exits 1
//! rather than 101 (which `misc_dynamic` would read as "up").

use std::borrow::Cow;
use std::future::Future;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};

use crate::cli::CommonArgs;
use crate::logging;
use crate::net::ProbeContext;
use crate::report::{self, Format, Report};
use crate::state::{master_gate, Gate};
use crate::{CheckError, Deadline, Outcome, Verdict};

/// How long after the deadline the watchdog ends the process if the runtime has not.
/// The runtime normally finishes within a millisecond of the deadline; the watchdog is for
/// what no timer can interrupt (a blocked write to stdout or to the journal, a bug).
pub const WATCHDOG_GRACE: Duration = Duration::from_millis(50);

/// A health check program: its command line and its probe.
pub trait Check: clap::Parser {
    /// The protocol label that starts the status line: `TCP`, `SIP`, `RTSP`.
    const LABEL: &'static str;
    /// The program name, used for logging identity.
    const PROGRAM: &'static str;

    /// The options every check shares.
    fn common(&self) -> &CommonArgs;

    /// The target as the operator wrote it, for the status line and the journal (with any
    /// password masked).
    fn target(&self) -> Cow<'_, str>;

    /// Runs the probe. Unhealthy servers are `Ok` outcomes; `Err` is for checks that
    /// could not be carried out as configured.
    fn probe(&self, ctx: &ProbeContext) -> impl Future<Output = Result<Outcome, CheckError>>;
}

/// The format of the running check, for the panic hook and watchdog, which cannot be
/// handed it.
static FORMAT: OnceLock<Format> = OnceLock::new();

/// Runs check `C` as a whole process, with the process's arguments.
pub fn main<C: Check>() -> ExitCode {
    // The deadline counts from here: keepalived's timeout counts from the fork.
    let started = Instant::now();
    install_panic_hook::<C>();

    let check = match C::try_parse() {
        Ok(check) => check,
        Err(e) => return usage_error::<C>(e),
    };
    let common = check.common().clone();
    let target = check.target().into_owned();
    let _ = FORMAT.set(common.format);
    logging::init(C::PROGRAM, common.log, common.verbose);

    if let Some(name) = &common.only_if_master {
        let skip = match master_gate(&common.state_dir, name) {
            Gate::Run => None,
            Gate::Skip(why) => Some(why),
            Gate::Unknown(why) => {
                tracing::warn!("--only-if-master {name}: {why}");
                Some(why)
            }
        };
        if let Some(why) = skip {
            let result = Ok(Outcome::skipped(why));
            return ExitCode::from(finish::<C>(&target, &result, common.format));
        }
    }
    let deadline = Deadline::new(started, common.timeout);
    arm_watchdog::<C>(deadline, target.clone(), common.format);

    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let ctx = ProbeContext::new(deadline, common.source);
            let result = runtime.block_on(supervise(&check, &ctx));
            // A name lookup may still be running on a blocking thread; never wait for it.
            runtime.shutdown_background();
            result
        }
        Err(e) => Err(CheckError::Internal(format!("cannot start runtime: {e}"))),
    };
    ExitCode::from(finish::<C>(&target, &result, common.format))
}

/// Runs the probe until it ends, the deadline passes, or SIGTERM/SIGINT arrives.
async fn supervise<C: Check>(check: &C, ctx: &ProbeContext) -> Result<Outcome, CheckError> {
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CheckError::Internal(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| CheckError::Internal(format!("cannot watch SIGINT: {e}")))?;
    let elapsed = || ctx.deadline.elapsed();
    tokio::select! {
        biased;
        _ = term.recv() => Ok(ctx.progress.cut_short("terminated by SIGTERM", elapsed())),
        _ = int.recv() => Ok(ctx.progress.cut_short("interrupted by SIGINT", elapsed())),
        _ = tokio::time::sleep_until(ctx.deadline.end().into()) => {
            Ok(ctx.progress.cut_short("timed out", ctx.deadline.budget()))
        }
        result = check.probe(ctx) => result,
    }
    .map(|outcome| ctx.progress.with_peer(outcome))
}

/// Prints the status line, logs the verdict and returns the exit status.
fn finish<C: Check>(target: &str, result: &Result<Outcome, CheckError>, format: Format) -> u8 {
    let report = Report {
        label: C::LABEL,
        program: C::PROGRAM,
        target,
        result,
    };
    // The journal always gets the text line, whatever --format prints.
    log_verdict(&report, &report.text_line());
    let line = report.line(format);
    // stdout may be closed (`| head -0`) or /dev/null; the exit status still counts.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    report::exit_code(result, format)
}

/// One journal/stderr record per run, with the verdict as structured fields.
fn log_verdict(report: &Report<'_>, line: &str) {
    let rtt = match report.result {
        Ok(Outcome { rtt: Some(rtt), .. }) => rtt.as_secs_f64().to_string(),
        _ => String::new(),
    };
    let reason = report.reason();
    macro_rules! verdict_event {
        ($level:ident) => {
            tracing::$level!(
                check = report.program,
                target = report.target,
                verdict = report.verdict_name(),
                stage = report.stage_name(),
                reason = reason.as_str(),
                rtt = rtt.as_str(),
                "{line}"
            )
        };
    }
    match report.result {
        Ok(o) if matches!(o.verdict, Verdict::Healthy | Verdict::Skipped) => verdict_event!(info),
        Ok(_) => verdict_event!(warn),
        Err(_) => verdict_event!(error),
    }
}

/// A command line that did not parse: `--help`/`--version` print and exit 0; anything
/// else prints clap's message (with usage) on stderr, one status line on stdout, logs it,
/// and exits 1.
fn usage_error<C: Check>(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    logging::init(C::PROGRAM, logging::LogTarget::Auto, 0);
    let _ = e.print();
    let message = e
        .to_string()
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    // The format is unknown when the arguments did not parse, so this is always the
    // 0/1 contract's 1: a typo in keepalived.conf must never look healthy.
    ExitCode::from(finish::<C>(
        "",
        &Err(CheckError::Usage(message)),
        Format::Text,
    ))
}

/// Replaces a panic's exit status 101 (up, under `misc_dynamic`) with the contract's.
fn install_panic_hook<C: Check>() {
    std::panic::set_hook(Box::new(|info| {
        let format = FORMAT.get().copied().unwrap_or_default();
        let result = Err(CheckError::Internal(format!("bug: {info}")));
        std::process::exit(i32::from(finish::<C>("", &result, format)));
    }));
}

/// Ends the process `WATCHDOG_GRACE` after the deadline if it is still running, with the
/// status line written straight to fd 1 and `_exit`, which nothing can block.
fn arm_watchdog<C: Check>(deadline: Deadline, target: String, format: Format) {
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let wake = deadline.end() + WATCHDOG_GRACE;
            loop {
                let now = Instant::now();
                if now >= wake {
                    break;
                }
                std::thread::sleep(wake - now);
            }
            let result = Err(CheckError::Internal(format!(
                "deadline watchdog fired {} after the {} timeout",
                crate::deadline::format_ms(WATCHDOG_GRACE),
                crate::deadline::format_ms(deadline.budget())
            )));
            let report = Report {
                label: C::LABEL,
                program: C::PROGRAM,
                target: &target,
                result: &result,
            };
            let line = format!("{}\n", report.line(format));
            // SAFETY: write(2) and _exit(2) on a valid buffer; this thread owns nothing
            // that needs cleaning up, and the point is to skip anything that could block.
            unsafe {
                let flags = libc::fcntl(1, libc::F_GETFL);
                if flags >= 0 {
                    libc::fcntl(1, libc::F_SETFL, flags | libc::O_NONBLOCK);
                }
                libc::write(1, line.as_ptr().cast(), line.len());
                libc::_exit(i32::from(report::exit_code(&result, format)));
            }
        });
    if spawned.is_err() {
        tracing::debug!("no watchdog thread: the runtime's own deadline still applies");
    }
}
