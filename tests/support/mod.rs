//! Running the binaries, and peers that misbehave on purpose.
#![allow(dead_code)]

pub mod peers;
pub mod tls;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The path of a binary built by this package.
pub fn bin(name: &str) -> &'static str {
    match name {
        "check-tcp" => env!("CARGO_BIN_EXE_check-tcp"),
        "check-sip" => env!("CARGO_BIN_EXE_check-sip"),
        "check-rtsp" => env!("CARGO_BIN_EXE_check-rtsp"),
        "ka-notify" => env!("CARGO_BIN_EXE_ka-notify"),
        "keepalived-checkd" => env!("CARGO_BIN_EXE_keepalived-checkd"),
        "keepalived-checks" => env!("CARGO_BIN_EXE_keepalived-checks"),
        other => panic!("no binary {other}"),
    }
}

/// What a finished run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// A finished process's output, its run having started at `started`.
    fn of(output: Output, started: Instant) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    /// The single status line parsed as JSON (`--format json`); fails the test if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.line()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }

    /// The single status line; fails the test if there is not exactly one.
    pub fn line(&self) -> &str {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one status line, got {:?}",
            self.stdout
        );
        lines[0]
    }
}

/// A command for `name` whose logs go to stderr, never to a journal on the test machine.
pub fn command(name: &str) -> Command {
    let mut cmd = Command::new(bin(name));
    cmd.env(
        "KEEPALIVED_CHECKS_JOURNAL_SOCKET",
        "/nonexistent/journal-socket",
    );
    cmd
}

/// Runs `name` with `args`, stdin closed, output captured.
pub fn run(name: &str, args: &[&str]) -> Run {
    run_command(command(name).args(args))
}

/// Runs a prepared command, output captured.
pub fn run_command(cmd: &mut Command) -> Run {
    let started = Instant::now();
    let output = cmd.stdin(Stdio::null()).output().expect("the binary runs");
    Run::of(output, started)
}

/// Asserts the run exited `code` and its status line starts with `prefix` and contains
/// every one of `parts`.
#[track_caller]
pub fn assert_line(run: &Run, code: i32, prefix: &str, parts: &[&str]) {
    assert_eq!(run.code, Some(code), "exit status; run: {run:#?}");
    let line = run.line();
    assert!(
        line.starts_with(prefix),
        "line {line:?} should start {prefix:?}"
    );
    for part in parts {
        assert!(line.contains(part), "line {line:?} should contain {part:?}");
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A TCP peer on a loopback address that handles each connection with `behaviour` in its
/// own thread. Threads are detached: the peer lives as long as the test process.
pub fn tcp_peer<F>(bind: &str, behaviour: F) -> SocketAddr
where
    F: Fn(TcpStream) + Send + Sync + Clone + 'static,
{
    let listener = TcpListener::bind(bind).expect("bind peer");
    let addr = listener.local_addr().expect("peer addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let b = behaviour.clone();
            thread::spawn(move || b(stream));
        }
    });
    addr
}

/// Accepts and says nothing, holding the connection open for a while.
pub fn silent(stream: TcpStream) {
    thread::sleep(Duration::from_secs(10));
    drop(stream);
}

/// Sends a banner and keeps the connection open.
pub fn banner(text: &'static [u8]) -> impl Fn(TcpStream) + Send + Sync + Clone + 'static {
    move |mut s: TcpStream| {
        let _ = s.write_all(text);
        thread::sleep(Duration::from_secs(5));
    }
}

/// Sends `text` one byte every `gap`.
pub fn slow_bytes(
    text: &'static [u8],
    gap: Duration,
) -> impl Fn(TcpStream) + Send + Sync + Clone + 'static {
    move |mut s: TcpStream| {
        for b in text {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    }
}

/// Sends `A`s as fast as the client reads, until it goes away.
pub fn endless(mut s: TcpStream) {
    let block = [b'A'; 16 * 1024];
    while s.write_all(&block).is_ok() {}
}

/// Writes `text` and closes at once.
pub fn say_and_close(text: &'static [u8]) -> impl Fn(TcpStream) + Send + Sync + Clone + 'static {
    move |mut s: TcpStream| {
        let _ = s.write_all(text);
    }
}

/// Reads one line and echoes it back, then waits (over TCP, or TLS over it).
pub fn echo_line(mut s: impl Read + Write) {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = s.read(&mut byte) {
        got.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    let _ = s.write_all(&got);
    let _ = s.flush();
    thread::sleep(Duration::from_secs(2));
}

/// `--timeout` plus a margin for a loaded CI machine: the process must be gone by then.
/// This bounds correctness (the deadline holds), it is not a performance assertion.
#[track_caller]
pub fn assert_ended_by(run: &Run, timeout: Duration) {
    let limit = timeout + Duration::from_millis(400);
    assert!(
        run.elapsed < limit,
        "ran {:?}, deadline {timeout:?}: {run:#?}",
        run.elapsed
    );
}

/// A listener whose accept queue is full, so the kernel drops further SYNs: a connect to it
/// hangs as it would to a black-holed address, without leaving loopback.
pub struct Blackhole {
    pub addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

pub fn blackhole() -> Blackhole {
    use std::os::fd::AsRawFd;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    // listen() again with a backlog of 0: the queue then holds a single connection.
    // SAFETY: listen(2) on a socket this function owns.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), 0) };
    assert_eq!(rc, 0, "listen");
    let addr = listener.local_addr().expect("addr");
    let queued = (0..3)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok())
        .collect();
    Blackhole {
        addr,
        _listener: listener,
        _queued: queued,
    }
}

/// A scratch directory removed on drop; `state` in it is a state directory.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("kc-notify-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        Scratch(d)
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }

    pub fn state_dir(&self) -> String {
        self.path("state").to_string_lossy().into_owned()
    }

    /// Instance `name`'s record; fails the test if it is missing or unusable.
    pub fn state(&self, name: &str) -> keepalived_checks::state::StateRecord {
        use keepalived_checks::state::{Kind, StateDir};
        StateDir::open(&self.path("state"))
            .expect("state dir")
            .read(Kind::Instance, name)
            .expect("readable")
            .expect("present")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a prepared command like [`run_command`], but kills it (by PID) after `limit` and
/// fails the test: for programs that hung before the fix under test.
#[track_caller]
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Run {
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    Run::of(wait_bounded(child, limit), started)
}

/// Waits for `child` (its output piped, and small) at most `limit`; then kills it by PID
/// and fails the test.
#[track_caller]
pub fn wait_bounded(mut child: std::process::Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!(
                "still running after {limit:?}: killed; stdout {:?}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        thread::sleep(Duration::from_millis(1));
    }
    child.wait_with_output().expect("wait")
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Polls `cond` every 20 ms until it holds, and returns how long that took; fails the test
/// after `limit`.
#[track_caller]
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}
