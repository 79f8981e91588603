//! systemd's notify protocol, the few lines of it a `Type=notify` service needs: one
//! datagram per message (`READY=1`, `WATCHDOG=1`, `STATUS=...`, `STOPPING=1`) to the Unix
//! socket in `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without
//! `$NOTIFY_SOCKET` (not started by systemd) every call does nothing.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `message` (`KEY=VALUE` lines) to the service manager, if there is one.
pub fn notify(message: &str) -> io::Result<()> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    let socket = UnixDatagram::unbound()?;
    // A service manager that does not read (its queue is full) must never stop the
    // caller: the message is dropped with EAGAIN instead.
    socket.set_nonblocking(true)?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt as _;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(message.as_bytes(), &addr)?;
    } else {
        socket.send_to(message.as_bytes(), &path)?;
    }
    Ok(())
}

/// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when it is set for this
/// process (`$WATCHDOG_PID` absent or ours).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
