//! The daemon's I/O driver: one task per check on the caller's (current-thread) runtime,
//! the track file writes the [`Board`] asks for, the status socket, the metrics file,
//! systemd's notify protocol, and SIGHUP (reload), SIGTERM and SIGINT (every track file to
//! failed, then exit).

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::task::AbortHandle;
use tracing::{debug, error, info, warn};

use super::board::{Board, Entry};
use super::config::{CheckConfig, Config, ConfigError};
use super::hysteresis::{Change, Health};
use super::schedule::Ticks;
use crate::sd_notify;
use crate::signals::{Signal, Signals};
use crate::small_file;

/// Loads a configuration (on SIGHUP): [`super::config::load`] with the check-line parser.
pub type Loader<'a> = &'a dyn Fn(&Path) -> Result<Config, Vec<ConfigError>>;

/// The track files and their failed values, kept up to date across reloads, so that a
/// panic hook can still set them to failed before the process dies.
#[derive(Debug, Clone, Default)]
pub struct FailSafe(Arc<Mutex<Vec<(PathBuf, i32)>>>);

impl FailSafe {
    fn set(&self, config: &Config) {
        let files = config
            .checks
            .iter()
            .map(|c| (c.file.clone(), c.failed_value))
            .collect();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }

    /// Writes every failed value, best effort; never blocks on its own lock (a panic may
    /// have come while it was held).
    pub fn fail_all(&self) {
        if let Ok(files) = self.0.try_lock() {
            for (file, value) in files.iter() {
                let _ = small_file::replace(file, track_text(*value).as_bytes());
            }
        }
    }
}

fn lock(board: &Mutex<Board>) -> MutexGuard<'_, Board> {
    // A panic ends the process (the hook exits), so a poisoned lock is never seen in
    // practice; taking the data is still right.
    board.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the daemon on `config` until SIGTERM or SIGINT. `Err` when it cannot start (a
/// track file or the status socket that cannot be written); after that it runs on,
/// logging what fails.
pub async fn serve(config: Config, load: Loader<'_>, fail_safe: FailSafe) -> Result<(), String> {
    let signals =
        Signals::with_hangup().map_err(|e| format!("cannot watch SIGTERM/SIGINT/SIGHUP: {e}"))?;
    let board = Arc::new(Mutex::new(Board::default()));
    let mut daemon = Daemon {
        status: StatusServer::bind(&config.status_socket, board.clone())?,
        board,
        tasks: HashMap::new(),
        config,
        fail_safe,
    };
    if let Err(e) = daemon.start() {
        daemon.stop();
        return Err(e);
    }
    if let Some(every) = sd_notify::watchdog_interval() {
        tokio::spawn(async move {
            loop {
                let _ = sd_notify::notify("WATCHDOG=1");
                tokio::time::sleep(every).await;
            }
        });
    }
    tokio::spawn(write_metrics(daemon.board.clone()));
    let summary = format!(
        "probing {} checks from {}",
        daemon.config.checks.len(),
        daemon.config.path.display()
    );
    info!("{summary}");
    notify(&format!("READY=1\nSTATUS={summary}"));
    loop {
        match signals.recv().await {
            Ok(Signal::Hup) => daemon.reload(load),
            Ok(signal) => {
                info!(
                    "{}: setting every track file to its failed value and exiting",
                    signal.as_str()
                );
                break;
            }
            Err(e) => {
                error!("cannot read signals any more ({e}); exiting");
                break;
            }
        }
    }
    notify("STOPPING=1");
    daemon.stop();
    Ok(())
}

fn notify(message: &str) {
    if let Err(e) = sd_notify::notify(message) {
        warn!("cannot notify systemd ({e})");
    }
}

struct Daemon {
    config: Config,
    board: Arc<Mutex<Board>>,
    tasks: HashMap<String, AbortHandle>,
    status: StatusServer,
    fail_safe: FailSafe,
}

impl Daemon {
    /// Writes every initial value, then starts the probes; a track file that cannot be
    /// written stops the start.
    fn start(&mut self) -> Result<(), String> {
        let now = SystemTime::now();
        self.fail_safe.set(&self.config);
        let mut board = lock(&self.board);
        board.metrics_file = self.config.metrics_file.clone();
        for cfg in &self.config.checks {
            let mut entry = Entry::new(Arc::new(cfg.clone()), now);
            let value = entry.value();
            write_track(&mut entry, value);
            if let Some(e) = entry.write_error {
                return Err(e);
            }
            info!(
                check = cfg.name.as_str(),
                "{}: {} = {value} ({}) until the first verdict",
                cfg.name,
                cfg.file.display(),
                cfg.initial.as_str()
            );
            board.checks.insert(cfg.name.clone(), entry);
        }
        for (name, entry) in &board.checks {
            let task = spawn_probe(entry.config.clone(), self.board.clone());
            self.tasks.insert(name.clone(), task);
        }
        Ok(())
    }

    /// SIGHUP: the new configuration, or the old one kept with the reasons logged.
    fn reload(&mut self, load: Loader<'_>) {
        notify("RELOADING=1");
        let new = match load(&self.config.path) {
            Ok(new) => new,
            Err(errors) => {
                for e in &errors {
                    error!("reload refused: {e}");
                }
                let why = format!(
                    "reload refused ({} errors, first: {}); the running configuration stays",
                    errors.len(),
                    errors.first().map(ToString::to_string).unwrap_or_default()
                );
                warn!("{why}");
                notify(&format!("READY=1\nSTATUS={why}"));
                return;
            }
        };
        let now = SystemTime::now();
        for task in self.tasks.values() {
            task.abort();
        }
        self.tasks.clear();
        let mut board = lock(&self.board);
        let mut old = std::mem::take(&mut board.checks);
        let files: HashSet<&Path> = new.checks.iter().map(|c| c.file.as_path()).collect();
        let (mut kept, mut fresh) = (0, 0);
        for cfg in &new.checks {
            let cfg = Arc::new(cfg.clone());
            let mut entry = match old.remove(&cfg.name) {
                Some(mut e) if e.config.same_probe(&cfg) => {
                    kept += 1;
                    e.tracker.retune(cfg.rise, cfg.fall);
                    e.config = cfg.clone();
                    e
                }
                changed => {
                    // The same name, another probe or file: the old file must not keep
                    // saying what nobody measures any more.
                    if let Some(mut gone) = changed {
                        fail_unless_kept(&mut gone, &files);
                    }
                    fresh += 1;
                    Entry::new(cfg.clone(), now)
                }
            };
            if let Some(value) = entry.pending_write() {
                write_track(&mut entry, value);
            }
            self.tasks.insert(
                cfg.name.clone(),
                spawn_probe(cfg.clone(), self.board.clone()),
            );
            board.checks.insert(cfg.name.clone(), entry);
        }
        let removed = old.len();
        for (name, mut entry) in old {
            fail_unless_kept(&mut entry, &files);
            info!(check = name.as_str(), "{name}: removed by the reload");
        }
        if board.metrics_file != new.metrics_file {
            if let Some(gone) = &board.metrics_file {
                remove_metrics(gone);
            }
        }
        board.metrics_file = new.metrics_file.clone();
        board.metrics_dirty = true;
        drop(board);
        let mut new = new;
        if new.status_socket != self.config.status_socket {
            match StatusServer::bind(&new.status_socket, self.board.clone()) {
                Ok(server) => std::mem::replace(&mut self.status, server).close(),
                Err(e) => {
                    error!("reload: {e}; status stays on the old socket");
                    new.status_socket = self.config.status_socket.clone();
                }
            }
        }
        self.fail_safe.set(&new);
        let summary = format!(
            "reloaded {}: {kept} checks kept with their state, {fresh} new or changed, {removed} removed",
            new.path.display()
        );
        info!("{summary}");
        notify(&format!("READY=1\nSTATUS={summary}"));
        self.config = new;
    }

    /// Stops every probe, sets every track file to its failed value, and removes the
    /// metrics file (no metrics is better than a stale `up 1`).
    fn stop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
        let mut board = lock(&self.board);
        for entry in board.checks.values_mut() {
            fail_track(entry);
        }
        if let Some(metrics) = board.metrics_file.take() {
            remove_metrics(&metrics);
        }
        self.status.close();
    }
}

/// Sets a check that a reload dropped to failed, unless a check of the new configuration
/// writes its file.
fn fail_unless_kept(entry: &mut Entry, files: &HashSet<&Path>) {
    if !files.contains(entry.config.file.as_path()) {
        fail_track(entry);
    }
}

fn remove_metrics(path: &Path) {
    if let Err(e) = small_file::remove(path) {
        if e.kind() != io::ErrorKind::NotFound {
            warn!("cannot remove metrics file {}: {e}", path.display());
        }
    }
}

/// Whether `why` differs from the last error recorded in `last` (which it replaces): an
/// error repeated at every probe or every second is logged once.
fn first_time(last: &mut Option<String>, why: &str) -> bool {
    let new = last.as_deref() != Some(why);
    *last = Some(why.to_string());
    new
}

fn spawn_probe(cfg: Arc<CheckConfig>, board: Arc<Mutex<Board>>) -> AbortHandle {
    tokio::spawn(probe_loop(cfg, board)).abort_handle()
}

/// Probes `cfg` at every tick until aborted; one probe at a time, each under its own
/// deadline, so a silent target delays only its own check.
async fn probe_loop(cfg: Arc<CheckConfig>, board: Arc<Mutex<Board>>) {
    let origin = Instant::now();
    let ticks = Ticks::new(origin, cfg.interval);
    let mut due = origin;
    let reuse = Arc::new(crate::net::UdpReuse::default());
    loop {
        tokio::time::sleep_until(due.into()).await;
        let outcome = cfg.check.run(&reuse).await;
        let next = ticks.after(due, Instant::now());
        record(&board, &cfg, outcome, next.skipped);
        due = next.at;
    }
}

fn record(board: &Mutex<Board>, cfg: &Arc<CheckConfig>, outcome: crate::Outcome, skipped: u64) {
    let mut board = lock(board);
    board.metrics_dirty = true;
    let Some(entry) = board.checks.get_mut(&cfg.name) else {
        return;
    };
    // A probe of a configuration a reload replaced.
    if !Arc::ptr_eq(&entry.config, cfg) {
        return;
    }
    let step = entry.record(outcome, SystemTime::now(), skipped);
    if let Some(value) = step.write {
        write_track(entry, value);
    }
    match step.change {
        Some(change) => log_change(entry, change),
        None => debug!(
            check = cfg.name.as_str(),
            "{}: {}",
            cfg.name,
            entry.last_line()
        ),
    }
}

/// One journal record per verdict reached, with the reason and the counts.
fn log_change(entry: &Entry, change: Change) {
    let cfg = &entry.config;
    let name = cfg.name.as_str();
    let (results, key, needed) = match change.to {
        Health::Healthy => ("successes", "rise", cfg.rise),
        Health::Failed => ("failures", "fall", cfg.fall),
    };
    let what = match change.from {
        Some(from) => format!("{} -> {}", from.as_str(), change.to.as_str()),
        None => format!("first verdict {}", change.to.as_str()),
    };
    let last = entry.last_line();
    let reason = last.as_str();
    let file = match &entry.write_error {
        None => format!("{} = {}", cfg.file.display(), entry.value()),
        Some(e) => format!("NOT WRITTEN: {e}"),
    };
    let line = format!(
        "{name}: {what} after {} {results} in a row ({key} {needed}); {file}: {reason}",
        change.run
    );
    let (from, to) = (
        change.from.map_or("pending", Health::as_str),
        change.to.as_str(),
    );
    match change.to {
        Health::Healthy => info!(check = name, from, to, run = change.run, reason, "{line}"),
        Health::Failed => warn!(check = name, from, to, run = change.run, reason, "{line}"),
    }
}

/// A track file's contents: the value on a line, read by keepalived with strtol.
fn track_text(value: i32) -> String {
    format!("{value}\n")
}

/// Sets the entry's track file to its failed value.
fn fail_track(entry: &mut Entry) {
    let failed = entry.config.failed_value;
    write_track(entry, failed);
}

/// Writes `value` to the entry's track file by replacing it (keepalived watches the
/// directory for IN_CLOSE_WRITE and IN_MOVED_TO on the file's name, so a rename is seen,
/// and a reader never sees an empty file). A failure is logged once, and retried at the
/// next probe.
fn write_track(entry: &mut Entry, value: i32) {
    let cfg = entry.config.clone();
    match small_file::replace(&cfg.file, track_text(value).as_bytes()) {
        Ok(()) => {
            if entry.write_error.take().is_some() {
                info!(
                    check = cfg.name.as_str(),
                    "{}: {} = {value} (writable again)",
                    cfg.name,
                    cfg.file.display()
                );
            }
            entry.written = Some(value);
        }
        Err(e) => {
            let why = format!("cannot write track file {e}");
            if first_time(&mut entry.write_error, &why) {
                error!(check = cfg.name.as_str(), "{}: {why}", cfg.name);
            }
            entry.written = None;
        }
    }
}

/// Writes the metrics file, at most once a second and only after a change, on a blocking
/// thread: a disk that stalls a write must not stall the probes.
async fn write_metrics(board: Arc<Mutex<Board>>) {
    let mut last_error: Option<String> = None;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (file, text) = {
            let mut b = lock(&board);
            if !b.metrics_dirty {
                continue;
            }
            b.metrics_dirty = false;
            let Some(file) = b.metrics_file.clone() else {
                continue;
            };
            (file, b.metrics())
        };
        let written =
            tokio::task::spawn_blocking(move || small_file::replace(&file, text.as_bytes())).await;
        match written {
            Ok(Ok(())) => last_error = None,
            Ok(Err(e)) => {
                let why = format!("cannot write metrics file {e}");
                if first_time(&mut last_error, &why) {
                    error!("{why}");
                }
            }
            Err(e) => error!("metrics writer: {e}"),
        }
    }
}

/// The Unix socket `keepalived-checkd status` reads: a request line (`text` or `json`),
/// answered with the board and closed.
struct StatusServer {
    path: PathBuf,
    task: Option<AbortHandle>,
}

/// The longest a status client may take to send its request or read the answer.
const STATUS_IO_LIMIT: Duration = Duration::from_secs(2);

impl StatusServer {
    fn bind(path: &Path, board: Arc<Mutex<Board>>) -> Result<StatusServer, String> {
        let shown = path.display();
        small_file::parent_dir(path, true).map_err(|e| format!("status socket {shown}: {e}"))?;
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "status socket {shown}: another keepalived-checkd answers there (two daemons would fight over the track files)"
            ));
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                // A socket nobody answers on: a daemon's that died.
                std::fs::remove_file(path).map_err(|e| {
                    format!("status socket {shown}: cannot remove the stale one: {e}")
                })?;
            }
            Ok(_) => {
                return Err(format!(
                    "status socket {shown}: something that is not a socket is there"
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("status socket {shown}: {e}")),
        }
        let listener = tokio::net::UnixListener::bind(path)
            .map_err(|e| format!("status socket {shown}: cannot listen: {e}"))?;
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(answer_status(stream, board.clone()));
                    }
                    Err(e) => {
                        warn!("status socket: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(StatusServer {
            path: path.to_path_buf(),
            task: Some(task.abort_handle()),
        })
    }

    fn close(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn answer_status(mut stream: tokio::net::UnixStream, board: Arc<Mutex<Board>>) {
    let mut request = [0u8; 16];
    let mut n = 0;
    let read = tokio::time::timeout(STATUS_IO_LIMIT, async {
        while n < request.len() && !request[..n].contains(&b'\n') {
            match stream.read(&mut request[n..]).await {
                Ok(0) | Err(_) => break,
                Ok(m) => n += m,
            }
        }
    });
    let _ = read.await;
    let json = request[..n].starts_with(b"json");
    let body = {
        let b = lock(&board);
        if json {
            b.status_json()
        } else {
            b.status_text(SystemTime::now())
        }
    };
    let _ = tokio::time::timeout(STATUS_IO_LIMIT, stream.write_all(body.as_bytes())).await;
    let _ = stream.shutdown().await;
}
