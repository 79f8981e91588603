//! `check-rtsp`: OPTIONS and DESCRIBE against an RTSP server.
//!
//! - [`url`]: the target URL and credentials.
//! - [`message`]: responses and SDP, sans I/O, on [`crate::textproto`] framing.
//! - [`auth`]: answering Basic and Digest challenges.
//! - [`probe`]: the conversation, on top of [`crate::net`].

pub mod auth;
pub mod message;
pub mod probe;
pub mod url;
