//! Integration tests: the real binaries against real sockets on loopback.
//!
//! - `support`: running a binary, and small fault-injecting peers.
//! - `contract`: what every check promises keepalived (exit statuses, deadline, signals).
//! - `check_tcp`: check-tcp's own behaviour.
//! - `check_rtsp`: check-rtsp against GStreamer's RTSP server and a fault-injecting peer.
//! - `check_rtsp_play`: check-rtsp --play against GStreamer, VLC, Perl's RTSP::Server fed by
//!   ffmpeg, and the fault peer.
//! - `check_sip`: check-sip against a real Kamailio and a fault-injecting SIP peer.
//! - `checkd`: keepalived-checkd against fault peers: track files follow, reload, signals,
//!   status, metrics, systemd's notify protocol.
//! - `ka_notify`: ka-notify's modes, ordering, atomicity, actions; --only-if-master.
//! - `keepalived_e2e`: real keepalived in network namespaces, failover and nopreempt.
//! - `contrib`: the example keepalived configurations pass `keepalived -t`.
//! - `docs`: man pages and completions match the clap definitions.
//! - `doctor`: keepalived-checks doctor on whole systems in a temporary root.
//! - `hardening`: hostile local users, broken files, signals at start, refused sends.
//! - `journald`: verdicts reach a journal socket with structured fields.
//! - `library`: the probes called from Rust, many on one runtime, as a daemon would.
//!
//! `tests/lvs_vm` is a test binary of its own (keepalived's checker with real IPVS in a
//! qemu VM), so that it never runs beside these timing-sensitive tests.

mod support;

mod check_rtsp;
mod check_rtsp_play;
mod check_sip;
mod check_tcp;
mod checkd;
mod contract;
mod contrib;
mod docs;
mod doctor;
mod hardening;
mod journald;
mod ka_notify;
mod keepalived_e2e;
mod library;
