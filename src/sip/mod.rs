//! `check-sip`: an OPTIONS ping over UDP or TCP.
//!
//! - [`uri`]: the target URI and the transport.
//! - [`request`]: the OPTIONS request and the identifiers its answer must echo.
//! - [`message`]: framing and parsing responses, sans I/O.
//! - [`probe`]: the conversation, on top of [`crate::net`].

pub mod message;
pub mod probe;
pub mod request;
pub mod uri;
