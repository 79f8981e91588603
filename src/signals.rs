//! SIGTERM and SIGINT (and SIGHUP for keepalived-checkd) read from a signalfd, for the
//! long-lived waits (the checks' shell, ka-notify's FIFO mode, the daemon), instead of `tokio::signal`, whose process-wide registry (one
//! slot per signal number, a socket pair, handlers) costs about 25 000 instructions at
//! every start, more than a check's own work.
//!
//! [`block`] must run before any thread starts, so that every thread inherits the mask and
//! the signals wait in the signalfd instead of being delivered. std's `Command` gives its
//! children an empty signal mask, so commands ka-notify runs are unaffected.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

fn set_of(hangup: bool) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset with valid signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        if hangup {
            libc::sigaddset(&mut set, libc::SIGHUP);
        }
        set
    }
}

fn block_set(set: &libc::sigset_t) {
    // SAFETY: a valid set; the old mask is not wanted.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) };
}

/// Blocks SIGTERM and SIGINT in the calling thread and the threads it starts later; a
/// signal that arrives before a [`Signals`] exists waits for it.
pub fn block() {
    block_set(&set_of(false));
}

/// [`block`], and SIGHUP too (a daemon's reload).
pub fn block_with_hangup() {
    block_set(&set_of(true));
}

/// The signals a program stops on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: keepalived's timeout, reload or exit.
    Term,
    /// SIGINT: Ctrl-C by hand.
    Int,
    /// SIGHUP: reload (only from [`Signals::with_hangup`]).
    Hup,
}

impl Signal {
    /// `SIGTERM` or `SIGINT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
            Signal::Hup => "SIGHUP",
        }
    }
}

/// SIGTERM and SIGINT (blocked with [`block`]), and SIGHUP if asked for, as an async
/// stream.
pub struct Signals {
    fd: AsyncFd<OwnedFd>,
}

impl Signals {
    /// A signalfd for SIGTERM and SIGINT, registered with the current runtime.
    pub fn new() -> io::Result<Self> {
        Signals::of(&set_of(false))
    }

    /// A signalfd for SIGTERM, SIGINT and SIGHUP (blocked with [`block_with_hangup`]).
    pub fn with_hangup() -> io::Result<Self> {
        Signals::of(&set_of(true))
    }

    fn of(set: &libc::sigset_t) -> io::Result<Self> {
        // SAFETY: a valid set; the new descriptor is owned from here on.
        let fd = unsafe { libc::signalfd(-1, set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns; the OwnedFd the AsyncFd keeps
        // stays open as long as the registration.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the AsyncFd owns the descriptor and so keeps it open while registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
        Ok(Signals { fd })
    }

    /// Waits for the next SIGTERM or SIGINT.
    pub async fn recv(&self) -> io::Result<Signal> {
        loop {
            let mut guard = self.fd.readable().await?;
            let read = guard.try_io(|fd| {
                // SAFETY: reading one siginfo record into a buffer of its size.
                let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
                let size = std::mem::size_of::<libc::signalfd_siginfo>();
                let n = unsafe {
                    libc::read(
                        fd.as_raw_fd(),
                        (&mut info as *mut libc::signalfd_siginfo).cast(),
                        size,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(match info.ssi_signo as i32 {
                        libc::SIGINT => Signal::Int,
                        libc::SIGHUP => Signal::Hup,
                        _ => Signal::Term,
                    })
                }
            });
            if let Ok(result) = read {
                return result;
            }
        }
    }
}
