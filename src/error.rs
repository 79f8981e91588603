//! Errors in the check itself, as opposed to an unhealthy server.
//!
//! Every one of these means "the check could not be carried out as configured"; they exit
//! 1 (or UNKNOWN, 3, under `--format nagios`) with the message on the status line.

/// A problem with the check's configuration or environment, found before or outside the
/// conversation with the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The command line did not parse.
    #[error("bad arguments: {0}")]
    Usage(String),
    /// The target could not be understood.
    #[error("bad target '{input}': {why}")]
    Target {
        /// What the operator wrote.
        input: String,
        /// Why it was rejected.
        why: String,
    },
    /// An option's value is unusable in combination with the others.
    #[error("bad option: {0}")]
    Option(String),
    /// The process could not set up what every check needs (runtime, signal handlers).
    #[error("internal error: {0}")]
    Internal(String),
}
