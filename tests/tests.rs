//! Integration tests: the real binaries against real sockets on loopback.
//!
//! - `support`: running a binary, and small fault-injecting peers.
//! - `contract`: what every check promises keepalived (exit statuses, deadline, signals).
//! - `check_tcp`: check-tcp's own behaviour.
//! - `journald`: verdicts reach a journal socket with structured fields.

mod support;

mod check_tcp;
mod contract;
mod journald;
