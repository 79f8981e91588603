//! The one process shell every program runs in: the part of the contract they share.
//!
//! - Usage errors exit 1, never clap's 2, with the message shown once: one status line on
//!   stdout (and the journal when not on a terminal), clap's usage hint on a terminal.
//! - A panic prints a status line and exits 1 rather than 101 (which `misc_dynamic`
//!   would read as "up").
//! - Logging from one [`LogArgs`](super::LogArgs).
//! - For checks ([`process_main`], through [`check_main!`](crate::check_main)): std's
//!   runtime start-up is skipped, SIGTERM and SIGINT are blocked from the first
//!   instruction and read from a signalfd, every argument is validated (and turned into the probe's
//!   options) before `--only-if-master` is consulted, so a typo exits 1 on every node;
//!   the deadline and a watchdog are armed; the probe runs on a current-thread runtime
//!   under the deadline and SIGTERM/SIGINT; exactly one status line is printed, the
//!   verdict logged, and the exit status comes from [`report::exit_code`].

use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::CommonArgs;
use crate::logging::{self, LogSink, LogTarget};
use crate::net::ProbeContext;
use crate::report::{self, Format, Report};
use crate::signals::{self, Signal, Signals};
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

/// The `--format` asked for, for the panic hook, which cannot be handed it; set once the
/// arguments parsed.
static FORMAT: OnceLock<Format> = OnceLock::new();

/// The `main` of a check program: `check_main!(CheckTcp);` in a `#![no_main]` binary.
///
/// Skipping std's runtime start-up (`lang_start`) matters for a program that keepalived
/// starts every second: its main-thread stack-guard probe alone (`pthread_getattr_np`
/// parsing /proc/self/maps) costs more instructions than the rest of a check's own start.
/// std still captures argv itself (glibc hands it to `.init_array`), so `args_os` works.
#[macro_export]
macro_rules! check_main {
    ($check:ty) => {
        /// Start-up allocations are bumps in a static region (see `arena`).
        #[global_allocator]
        static ALLOCATOR: $crate::arena::Arena<{ 1 << 20 }> = $crate::arena::Arena::new();

        /// Blocks SIGTERM and SIGINT before any other code of the program runs: the
        /// dynamic loader calls `.preinit_array` before libc's and std's initialisers.
        #[used]
        #[link_section = ".preinit_array"]
        static BLOCK_SIGNALS_FIRST: extern "C" fn() = {
            extern "C" fn block() {
                $crate::signals::block();
            }
            block
        };

        #[no_mangle]
        pub extern "C" fn main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::cli::shell::process_main::<$check>()
        }
    };
}

/// Runs check `C` as a whole process, with the process's arguments, and returns its exit
/// status; called from the C `main` that [`check_main!`](crate::check_main) defines.
pub fn process_main<C: Check>() -> i32 {
    // SIGTERM and SIGINT wait in the signalfd from here on, so one that comes during
    // start-up still ends the check with a status line, not silently by the signal.
    // check_main!'s .preinit_array has blocked them already, before any initialiser ran;
    // again here, before any thread starts, for a caller that did not use the macro.
    signals::block();
    // The deadline counts from here: keepalived's timeout counts from the fork.
    let started = Instant::now();
    // SAFETY: plain libc calls at the start of a single-threaded process. These are the
    // two things lang_start does that matter here: fds 0-2 are open (so a socket can never
    // become "stdout"), and SIGPIPE is ignored (a closed stdout or a reset peer is EPIPE,
    // not death by a signal).
    unsafe {
        for fd in 0..3 {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && libc::open(b"/dev/null\0".as_ptr().cast(), libc::O_RDWR) != fd
            {
                libc::abort();
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = run_check::<C>(started);
    // lang_start would flush stdout at exit; --help output goes there.
    let _ = std::io::stdout().flush();
    i32::from(code)
}

fn run_check<C: Check>(started: Instant) -> u8 {
    install_panic_hook(move |message| {
        let format = FORMAT.get().copied().unwrap_or_default();
        let result = Err(CheckError::Internal(message));
        finish::<C>("", &result, format)
    });
    let check = match parse::<C>() {
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
    let format = common.format();
    let _ = FORMAT.set(format);
    let target = check.target();
    logging::init(C::PROGRAM, common.log.target(), common.log.verbose);

    let deadline = Deadline::new(started, common.timeout());
    arm_watchdog::<C>(deadline, target.clone(), format);
    let result = check
        .options()
        .and_then(|opts| run_gated::<C>(&opts, common, deadline));
    finish::<C>(&target, &result, format)
}

/// Parses the process's arguments with clap's defaults removed; the accessors apply them
/// (see "Defaults in code" in [`super`]). `--help` and `--version` are rendered by a
/// plain parse, so they still show the defaults.
pub fn parse<C: clap::Parser>() -> Result<C, clap::Error> {
    parse_from(std::env::args_os())
}

/// A check's command line found in a configuration file (a keepalived-checkd check line,
/// a script in keepalived.conf), program first, parsed as the program parses it; the
/// error is one line naming the program.
pub fn parse_check_words<C: Check>(words: &[String]) -> Result<C, String> {
    use clap::error::ErrorKind;
    parse_from::<C>(words.iter().map(std::ffi::OsString::from)).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            format!(
                "{}: --help and --version have no place in a configured command line",
                C::PROGRAM
            )
        }
        _ => format!("{}: {}", C::PROGRAM, clap_message(&e)),
    })
}

/// [`parse`] from `args`.
pub fn parse_from<C: clap::Parser>(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<C, clap::Error> {
    use clap::error::ErrorKind;
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let mut cmd = C::command().mut_args(|arg| arg.default_value(None::<&'static str>));
    match cmd.try_get_matches_from_mut(&args) {
        Ok(mut matches) => C::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd)),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            C::try_parse_from(&args)
        }
        Err(e) => Err(e),
    }
}

/// The `--only-if-master` gate, then the probe under the deadline.
fn run_gated<C: Check>(
    opts: &C::Options,
    common: &CommonArgs,
    deadline: Deadline,
) -> Result<Outcome, CheckError> {
    if let Some(name) = &common.only_if_master {
        // An untrusted state directory fails the check (a misconfiguration, like a typo).
        let gate = master_gate(&common.state_dir(), name)
            .map_err(|e| CheckError::Option(format!("--only-if-master {name}: {e}")))?;
        match gate {
            Gate::Run => {}
            Gate::Skip(why) => return Ok(Outcome::skipped(why)),
            Gate::Unknown(why) => {
                tracing::warn!("--only-if-master {name}: {why}");
                return Ok(Outcome::skipped(why));
            }
        }
    }
    let ctx = ProbeContext::new(deadline, common.source);
    block_on(supervise(C::probe(opts, &ctx), &ctx))?
}

/// Runs `work` to its end on the runtime every program's async work runs on: one thread,
/// the caller's. A name lookup may still be running on a blocking thread at the end; it
/// is never waited for.
pub fn block_on<F: Future>(work: F) -> Result<F::Output, CheckError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::Internal(format!("cannot start runtime: {e}")))?;
    let output = runtime.block_on(work);
    runtime.shutdown_background();
    Ok(output)
}

/// Runs `probe` until it ends, the deadline passes, or SIGTERM/SIGINT arrives.
async fn supervise(
    probe: impl Future<Output = Outcome>,
    ctx: &ProbeContext,
) -> Result<Outcome, CheckError> {
    let signals = Signals::new()
        .map_err(|e| CheckError::Internal(format!("cannot watch SIGTERM/SIGINT: {e}")))?;
    let cut = |why| ctx.progress.cut_short(why, ctx.deadline.elapsed());
    Ok(tokio::select! {
        biased;
        signal = signals.recv() => match signal {
            Ok(Signal::Int) => cut("interrupted by SIGINT"),
            // SIGHUP is not in this signalfd's set.
            Ok(Signal::Term | Signal::Hup) => cut("terminated by SIGTERM"),
            Err(e) => return Err(CheckError::Internal(format!("cannot read SIGTERM/SIGINT: {e}"))),
        },
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
) -> u8 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    let rendered = e.to_string();
    let hint = rendered.split_once('\n').map_or("", |(_, hint)| hint);
    let line = status_line(&clap_message(&e));
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
    code
}

/// clap's message for `e` on one line, without its `error: ` prefix and usage hint. The
/// indented list under the first line is part of it: `the following required arguments
/// were not provided: --key <PEM>` must name what is missing in the journal.
pub fn clap_message(e: &clap::Error) -> String {
    let rendered = e.to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or_default();
    let mut message = first.trim_start_matches("error: ").trim().to_string();
    for item in lines.take_while(|line| line.starts_with("  ")) {
        message.push(' ');
        message.push_str(item.trim());
    }
    message
}

/// The command line of a program that is not a check (ka-notify, keepalived-checkd); on a
/// usage error (or `--help`) it has been reported by [`usage_error`] and the exit status
/// is returned instead.
pub fn parse_program<P: clap::Parser>(program: &'static str) -> Result<P, u8> {
    P::try_parse()
        .map_err(|e| usage_error(program, e, 1, |m| format!("{program}: bad arguments: {m}")))
}

/// A panic in a program that is not a check, reported on one line, logged and printed;
/// the exit status (1), for [`install_panic_hook`].
pub fn report_internal_error(program: &str, message: &str) -> u8 {
    let line = format!("{program}: internal error: {message}").replace('\n', " ");
    tracing::error!("{line}");
    print_line(&line);
    1
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
    let spawned = spawn_detached(move || {
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
    if !spawned {
        tracing::debug!("no watchdog thread: the runtime's own deadline still applies");
    }
}

/// Starts `f` on a detached thread with a 64 KiB stack, without std's thread bookkeeping
/// (handle, name, result packet, stack-overflow handler), which costs more at start-up
/// than the thread itself. `f` must not need `std::thread::current()`; it is never joined.
fn spawn_detached<F: FnOnce() + Send + 'static>(f: F) -> bool {
    extern "C" fn start<F: FnOnce()>(arg: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `arg` is the box leaked below, handed to exactly this thread.
        let f = unsafe { Box::from_raw(arg.cast::<F>()) };
        f();
        std::ptr::null_mut()
    }
    let arg = Box::into_raw(Box::new(f));
    // SAFETY: a valid attribute object and start routine; on failure the box is reclaimed.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let mut thread: libc::pthread_t = 0;
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstacksize(&mut attr, 64 * 1024);
        libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        let rc = libc::pthread_create(&mut thread, &attr, start::<F>, arg.cast());
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            drop(Box::from_raw(arg));
        }
        rc == 0
    }
}
