//! keepalived-checkd: one long-running prober that writes keepalived's track files.
//!
//! - [`config`]: the TOML configuration, every error with its file and line.
//! - [`probe`]: a check line as the daemon runs it (the one-shot programs' probes).
//! - [`hysteresis`]: rise and fall, sans I/O.
//! - [`schedule`]: fixed ticks, no creep, sans I/O.
//! - [`board`]: every check's state, and the status and metrics views of it.
//! - [`daemon`]: the I/O driver: tasks, track files, status socket, signals, systemd.

pub mod board;
pub mod config;
pub mod daemon;
pub mod hysteresis;
pub mod probe;
pub mod schedule;
