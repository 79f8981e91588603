//! The one process shell every program runs in: the part of the contract they share.
//!
//! - Usage errors exit 1, never clap's 2, with the message shown once: one status line on
//!   stdout (and the journal when not on a terminal), clap's usage hint on a terminal.
//! - A panic prints a status line and exits 1 rather than 101 (which `misc_dynamic`
//!   would read as "up").
//! - Logging from one [`LogArgs`](super::LogArgs).
//! - For checks ([`run_check`]): every argument is validated (and turned into the probe's
//!   options) before `--only-if-master` is consulted, so a typo exits 1 on every node;
//!   the deadline and a watchdog are armed; the probe runs on a current-thread runtime
//!   under the deadline and SIGTERM/SIGINT; exactly one status line is printed, the
//!   verdict logged, and the exit status comes from [`report::exit_code`].

use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};

use super::CommonArgs;
use crate::logging::{self, LogSink, LogTarget};
use crate::net::ProbeContext;
use crate::report::{self, Format, Report};
use crate::state::{master_gate, Gate};
use crate::{CheckError, Deadline, Outcome, Verdict};

/// How long after the deadline the watchdog ends the process if the runtime has not.
/// The runtime normally finishes within a millisecond of the deadline; the watchdog is for
/// what no timer can interrupt (a blocked write to stdout or to the journal, a bug).
pub const WATCHDOG_GRACE: Duration = Duration::from_millis(50);

/// A health check program: its command line, how it becomes the probe's options, and
/// the probe.
pub trait Check: clap::Parser {
    /// The protocol label that starts the status line: `TCP`, `SIP`, `RTSP`.
    const LABEL: &'static str;
    /// The program name, used for logging identity.
    const PROGRAM: &'static str;
    /// The probe's plain options.
    type Options;

    /// The options every check shares.
    fn common(&self) -> &CommonArgs;

    /// The target for the status line and the journal, any password masked.
    fn target(&self) -> String;

    /// The probe's options; `Err` for a combination of arguments that cannot work or a
    /// file that cannot be read. Called before `--only-if-master` is consulted.
    fn options(&self) -> Result<Self::Options, CheckError>;

    /// Runs the probe.
    fn probe(opts: &Self::Options, ctx: &ProbeContext) -> impl Future<Output = Outcome>;
}

/// What the panic hook needs to print a status line, set once the arguments parsed.
struct PanicContext {
    format: Format,
}

static PANIC_CONTEXT: OnceLock<PanicContext> = OnceLock::new();

/// Runs check `C` as a whole process, with the process's arguments.
pub fn run_check<C: Check>() -> ExitCode {
    // The deadline counts from here: keepalived's timeout counts from the fork.
    let started = Instant::now();
    install_panic_hook(move |message| {
        let format = PANIC_CONTEXT.get().map_or(Format::Text, |c| c.format);
        let result = Err(CheckError::Internal(message));
        finish::<C>("", &result, format)
    });
    let check = match C::try_parse() {
        Ok(check) => check,
        Err(e) => {
            let format = super::format_in_args(std::env::args_os()).unwrap_or_default();
            let result = Err(CheckError::Usage(String::new()));
            let code = report::exit_code(&result, format);
            return usage_error(C::PROGRAM, e, code, |message| {
                let result = Err(CheckError::Usage(message.to_string()));
                Report {
                    label: C::LABEL,
                    program: C::PROGRAM,
                    target: "",
                    result: &result,
                }
                .line(format)
            });
        }
    };
    let common = check.common();
    let format = common.format;
    let _ = PANIC_CONTEXT.set(PanicContext { format });
    let target = check.target();
    logging::init(C::PROGRAM, common.log.log, common.log.verbose);

    let deadline = Deadline::new(started, common.timeout);
    arm_watchdog::<C>(deadline, target.clone(), format);
    let result = check
        .options()
        .and_then(|opts| run_gated::<C>(&opts, common, deadline));
    ExitCode::from(finish::<C>(&target, &result, format))
}

/// The `--only-if-master` gate, then the probe under the deadline.
fn run_gated<C: Check>(
    opts: &C::Options,
    common: &CommonArgs,
    deadline: Deadline,
) -> Result<Outcome, CheckError> {
    if let Some(name) = &common.only_if_master {
        match master_gate(&common.state_dir, name) {
            Gate::Run => {}
            Gate::Skip(why) => return Ok(Outcome::skipped(why)),
            Gate::Unknown(why) => {
                tracing::warn!("--only-if-master {name}: {why}");
                return Ok(Outcome::skipped(why));
            }
        }
    }
    let runtime = runtime()?;
    let ctx = ProbeContext::new(deadline, common.source);
    let result = runtime.block_on(supervise(C::probe(opts, &ctx), &ctx));
    // A name lookup may still be running on a blocking thread; never wait for it.
    runtime.shutdown_background();
    result
}

/// The runtime every program's async work runs on: one thread, the caller's.
pub fn runtime() -> Result<tokio::runtime::Runtime, CheckError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::Internal(format!("cannot start runtime: {e}")))
}

/// Runs `probe` until it ends, the deadline passes, or SIGTERM/SIGINT arrives.
async fn supervise(
    probe: impl Future<Output = Outcome>,
    ctx: &ProbeContext,
) -> Result<Outcome, CheckError> {
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CheckError::Internal(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| CheckError::Internal(format!("cannot watch SIGINT: {e}")))?;
    let elapsed = || ctx.deadline.elapsed();
    let cut = |why| {
        ctx.progress
            .with_peer(ctx.progress.cut_short(why, elapsed()))
    };
    Ok(tokio::select! {
        biased;
        _ = term.recv() => cut("terminated by SIGTERM"),
        _ = int.recv() => cut("interrupted by SIGINT"),
        outcome = ctx.within_deadline(probe) => outcome,
    })
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
    print_line(&report.line(format));
    report::exit_code(result, format)
}

/// Writes one line to stdout. stdout may be closed (`| head -0`) or /dev/null; the exit
/// status still counts.
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
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

/// A command line that did not parse. `--help`/`--version` print and exit 0. Anything
/// else exits `code` (1; 3 under an explicit `--format nagios`, as monitoring-plugins do)
/// and says why once: `status_line(message)` on stdout and in the journal; clap's message
/// with its usage hint on stderr, reduced to the hint when stdout is the same terminal
/// (where the status line already said it).
pub fn usage_error(
    program: &'static str,
    e: clap::Error,
    code: u8,
    status_line: impl FnOnce(&str) -> String,
) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.to_string();
    let (first, hint) = rendered.split_once('\n').unwrap_or((&rendered, ""));
    let message = first.trim_start_matches("error: ").trim();
    let line = status_line(message);
    // stderr gets clap's own message below, so a record goes only to the journal.
    if logging::init(program, LogTarget::Auto, 0) == LogSink::Journal {
        tracing::error!(
            check = program,
            verdict = "error",
            stage = "setup",
            "{line}"
        );
    }
    print_line(&line);
    let on_terminal = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let shown = if on_terminal {
        hint.trim_start_matches('\n')
    } else {
        &rendered
    };
    let _ = std::io::stderr().write_all(shown.as_bytes());
    ExitCode::from(code)
}

/// Replaces a panic's exit status 101 (up, under `misc_dynamic`) with the contract's:
/// `report(message)` prints and logs what it can and returns the exit status.
pub fn install_panic_hook(report: impl Fn(String) -> u8 + Send + Sync + 'static) {
    std::panic::set_hook(Box::new(move |info| {
        let code = report(format!("bug: {info}"));
        std::process::exit(i32::from(code));
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
