//! FIFO mode: `notify_fifo_script`. keepalived writes one line per event, in order, to its
//! notify FIFO, and passes the FIFO's path to the script as the last argument.
//!
//! keepalived starts the script before opening its own end (read-write, non-blocking), so
//! the FIFO is opened blocking here: the open returns when keepalived's end is there. It
//! ends on SIGTERM (keepalived's reload or exit) or on EOF (every writer gone). An event in
//! progress finishes first; its actions are bounded by --action-timeout.

use std::path::Path;
use std::process::ExitCode;

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tracing::{debug, error, info, warn};

use super::event::{from_fifo_line, FifoLine, FifoStamps};
use super::{handle, Options};
use crate::signals::{Signal, Signals};

/// Longest line kept; keepalived's are under 100 bytes, so more is not keepalived.
const MAX_LINE: usize = 4096;

/// Reads and handles events until SIGTERM, SIGINT or EOF; run it on the program's
/// runtime, with SIGTERM and SIGINT blocked ([`crate::signals::block`]) from the start.
pub async fn read_events(path: &Path, opts: &Options) -> ExitCode {
    let Ok(signals) = Signals::new() else {
        error!("cannot watch SIGTERM/SIGINT");
        return ExitCode::FAILURE;
    };
    let stop = |signal: std::io::Result<Signal>| match signal {
        Ok(signal) => signal.as_str().to_string(),
        Err(e) => format!("cannot read SIGTERM/SIGINT any more ({e})"),
    };
    // A state directory that cannot be trusted would fail every event: say so once and
    // exit 1, which keepalived logs, rather than read on.
    if let Err(e) = crate::state::StateDir::create(&opts.state_dir) {
        error!("{e}");
        println!("ka-notify: {e}");
        return ExitCode::FAILURE;
    }
    let owned = path.to_path_buf();
    let opening = tokio::task::spawn_blocking(move || std::fs::File::open(owned));
    let file = tokio::select! {
        signal = signals.recv() => {
            return stopped(&format!("{} before keepalived opened the FIFO", stop(signal)))
        }
        opened = opening => opened,
    };
    let shown = path.display();
    let receiver = match file
        .map_err(|e| e.to_string())
        .and_then(|f| f.map_err(|e| e.to_string()))
        .and_then(|f| pipe::Receiver::from_file(f).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            error!("cannot read FIFO {shown}: {e}");
            println!("ka-notify: cannot read FIFO {shown}: {e}");
            return ExitCode::FAILURE;
        }
    };
    info!("reading events from {shown}");
    let mut reader = receiver;
    let mut pending: Vec<u8> = Vec::new();
    let mut discarding = false;
    let mut line_no: u64 = 0;
    let mut stamps = FifoStamps::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::select! {
            biased;
            signal = signals.recv() => return stopped(&stop(signal)),
            read = reader.read(&mut chunk) => match read {
                Ok(n) => n,
                Err(e) => {
                    error!("reading {shown}: {e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        if n == 0 {
            return stopped("EOF: keepalived closed the FIFO");
        }
        for &b in &chunk[..n] {
            if b != b'\n' {
                if pending.len() < MAX_LINE {
                    pending.push(b);
                } else if !discarding {
                    discarding = true;
                    warn!("a line longer than {MAX_LINE} bytes: dropped");
                }
                continue;
            }
            line_no += 1;
            if !std::mem::take(&mut discarding) {
                let seq = stamps.stamp();
                let line = String::from_utf8_lossy(&pending).into_owned();
                match from_fifo_line(&line, seq) {
                    Ok(FifoLine::Event(event)) => {
                        let handled = handle(&event, opts);
                        debug!("line {line_no}: {}", handled.summary);
                    }
                    Ok(FifoLine::Ignored(what)) => debug!("line {line_no}: ignored {what}"),
                    Err(why) => warn!("line {line_no}: {why}"),
                }
            }
            pending.clear();
        }
    }
}

fn stopped(why: &str) -> ExitCode {
    info!("stopping: {why}");
    ExitCode::SUCCESS
}
