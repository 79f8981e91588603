//! Sockets under the deadline: resolving, connecting, sending and bounded reading.
//!
//! Protocol modules decide what to send and what a reply means; this module does the I/O
//! and turns every failure into an unhealthy [`Outcome`] naming the stage and what the
//! socket said. It also keeps [`Progress`], so that when the deadline or a SIGTERM cuts a
//! probe short, the status line can still say which stage was running and what it was
//! waiting for.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tracing::{debug, trace};

use crate::deadline::format_ms;
use crate::escape::printable;
use crate::target::{Host, Target};
use crate::textproto::Frame;
use crate::{Deadline, Outcome, Stage};

/// How many bytes of a server's reply a status line or log record shows.
pub const SHOWN_BYTES: usize = 96;

/// The most bytes one read asks for.
const READ_CHUNK: usize = 8192;

/// How many bytes of each read or write `-vv` shows.
const TRACED_BYTES: usize = 4096;

/// What a running probe has reached; read when the probe is cut short.
///
/// Behind a mutex so that a [`ProbeContext`] is `Sync` and a probe's future is `Send`: a
/// long-running caller may spawn probes on a multi-threaded runtime. Only the probe
/// writes it and nobody holds the lock across an await, so it is never contended.
#[derive(Debug, Default)]
pub struct Progress {
    inner: Mutex<ProgressInner>,
}

#[derive(Debug)]
struct ProgressInner {
    stage: Stage,
    waiting_for: String,
    received: usize,
    peer: Option<SocketAddr>,
}

impl Default for ProgressInner {
    fn default() -> Self {
        ProgressInner {
            stage: Stage::Setup,
            waiting_for: String::new(),
            received: 0,
            peer: None,
        }
    }
}

impl Progress {
    fn with<T>(&self, f: impl FnOnce(&mut ProgressInner) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update; the record is still
        // the best account of where the probe was.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut inner)
    }

    /// Marks the start of `stage`; `waiting_for` completes "timed out ... waiting for X".
    pub fn enter(&self, stage: Stage, waiting_for: impl Into<String>) {
        let waiting_for = waiting_for.into();
        debug!(stage = stage.as_str(), "{stage}: {waiting_for}");
        self.with(|p| {
            p.stage = stage;
            p.waiting_for = waiting_for;
        });
    }

    /// Updates what the current stage is waiting for, without logging.
    pub fn note(&self, waiting_for: impl Into<String>) {
        let waiting_for = waiting_for.into();
        self.with(|p| p.waiting_for = waiting_for);
    }

    /// Records the address the probe is talking to, once connected.
    pub fn connected_to(&self, peer: SocketAddr) {
        self.with(|p| p.peer = Some(peer));
    }

    /// Adds the `peer` detail to an outcome that does not carry one yet: every outcome
    /// reached after connecting, timeouts and signals included, names the address.
    pub fn with_peer(&self, outcome: Outcome) -> Outcome {
        match self.with(|p| p.peer) {
            Some(peer) if outcome.detail("peer").is_none() => {
                outcome.with_detail("peer", crate::target::socket_addr_text(peer))
            }
            _ => outcome,
        }
    }

    /// Counts bytes received so far, for the timeout message.
    pub fn add_received(&self, n: usize) {
        self.with(|p| p.received += n);
    }

    /// An unhealthy outcome for a probe that was stopped by `cause` (a timeout or a
    /// signal) after `elapsed`, naming the peer once one was reached.
    pub fn cut_short(&self, cause: &str, elapsed: Duration) -> Outcome {
        let mut reason = format!("{cause} after {}", format_ms(elapsed));
        let (stage, received) = self.with(|p| {
            if !p.waiting_for.is_empty() {
                reason.push_str(" while ");
                reason.push_str(&p.waiting_for);
            }
            (p.stage, p.received)
        });
        if received > 0 {
            reason.push_str(&format!(" ({received} bytes received)"));
        }
        self.with_peer(Outcome::unhealthy(stage, reason))
    }
}

/// What every probe is given: the deadline, the local address to bind, and the progress
/// record [`ProbeContext::within_deadline`] (or a signal handler) reads if the probe is
/// cut short.
#[derive(Debug)]
pub struct ProbeContext {
    /// The end-to-end deadline.
    pub deadline: Deadline,
    /// `--source`: the local address to send from.
    pub source: Option<IpAddr>,
    /// Where the probe is.
    pub progress: Progress,
    /// A UDP socket kept from the last probe of the same check, if the caller keeps one.
    pub udp_reuse: Option<std::sync::Arc<UdpReuse>>,
}

impl ProbeContext {
    /// A context with a fresh progress record.
    pub fn new(deadline: Deadline, source: Option<IpAddr>) -> Self {
        ProbeContext {
            deadline,
            source,
            progress: Progress::default(),
            udp_reuse: None,
        }
    }

    /// This context, keeping its UDP socket in `reuse` for the next probe of the same
    /// check (see [`UdpReuse`]).
    pub fn reusing_udp(mut self, reuse: std::sync::Arc<UdpReuse>) -> Self {
        self.udp_reuse = Some(reuse);
        self
    }

    /// Runs `probe` (a probe given this context) to its verdict or to the deadline,
    /// whichever comes first. Past the deadline the outcome says what the probe was
    /// waiting for ("timed out after 800.0 ms while waiting for a final response (2 sent
    /// over udp)"); either way it names the peer once one was reached.
    pub async fn within_deadline(
        &self,
        probe: impl std::future::Future<Output = Outcome>,
    ) -> Outcome {
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(self.deadline.end().into()) => {
                self.progress.cut_short("timed out", self.deadline.budget())
            }
            outcome = probe => self.progress.with_peer(outcome),
        }
    }
}

/// Turns an I/O error into the words a status line uses: "connection refused", not
/// "Connection refused (os error 111)".
pub fn describe_io(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    // "Connection refused" reads "connection refused" mid-line; "TLS alert" stays.
    let mut chars = text.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), second) if !second.is_some_and(|c| c.is_uppercase()) => {
            first.to_lowercase().chain(chars).collect()
        }
        (Some(_), _) => text.to_string(),
        (None, _) => "unknown error".into(),
    }
}

/// Resolves `target` to socket addresses, keeping only those of `source`'s family when a
/// source address is set. An address literal needs no resolver and costs nothing.
pub async fn resolve(target: &Target, ctx: &ProbeContext) -> Result<Vec<SocketAddr>, Outcome> {
    let addrs = match &target.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        Host::Name(name) => {
            ctx.progress
                .enter(Stage::Resolve, format!("resolving {name}"));
            let found = tokio::net::lookup_host((name.as_str(), target.port))
                .await
                .map_err(|e| {
                    Outcome::unhealthy(
                        Stage::Resolve,
                        format!("cannot resolve {name}: {}", describe_io(&e)),
                    )
                })?;
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for a in found {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            if addrs.is_empty() {
                return Err(Outcome::unhealthy(
                    Stage::Resolve,
                    format!("{name} has no addresses"),
                ));
            }
            debug!("{name} resolved to {}", list(&addrs));
            addrs
        }
    };
    let Some(source) = ctx.source else {
        return Ok(addrs);
    };
    let usable: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| a.is_ipv4() == source.is_ipv4())
        .collect();
    if usable.is_empty() {
        return Err(Outcome::unhealthy(
            Stage::Resolve,
            format!(
                "no address of --source {source}'s family among {}",
                list(&addrs)
            ),
        ));
    }
    Ok(usable)
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An open TCP connection and when it was asked for.
#[derive(Debug)]
pub struct Connected {
    /// The stream.
    pub stream: TcpStream,
    /// The address that answered.
    pub peer: SocketAddr,
    /// When the first connection attempt started: round-trip times count from here.
    pub started: Instant,
    /// How long the successful connect took.
    pub connect_time: Duration,
}

/// Connects to each address in turn until one accepts. Each attempt gets a fair share of
/// the time left, so one black-holed address does not use up the deadline.
pub async fn connect_tcp(addrs: &[SocketAddr], ctx: &ProbeContext) -> Result<Connected, Outcome> {
    let started = Instant::now();
    let mut failures = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let attempt = Instant::now();
        let share = ctx.deadline.share_at(attempt, addrs.len() - i);
        ctx.progress
            .enter(Stage::Connect, format!("connecting to {addr}"));
        let failure = match tokio::time::timeout(share, connect_one(*addr, ctx.source)).await {
            Ok(Ok(stream)) => {
                let connect_time = attempt.elapsed();
                debug!("connected to {addr} in {}", format_ms(connect_time));
                ctx.progress.connected_to(*addr);
                return Ok(Connected {
                    stream,
                    peer: *addr,
                    started,
                    connect_time,
                });
            }
            Ok(Err(why)) => why,
            Err(_) => format!("timed out after {}", format_ms(share)),
        };
        debug!("{addr}: {failure}");
        failures.push((addr, failure));
    }
    let reason = match failures.as_slice() {
        [(_, only)] => only.clone(),
        many => format!(
            "all {} addresses failed: {}",
            many.len(),
            many.iter()
                .map(|(a, f)| format!("{a} {f}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let mut outcome = Outcome::unhealthy(Stage::Connect, reason);
    if let [(addr, _)] = failures.as_slice() {
        outcome = outcome.with_detail("peer", addr.to_string());
    }
    Err(outcome)
}

async fn connect_one(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream, String> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("cannot create socket: {}", describe_io(&e)))?;
    if let Some(src) = source {
        socket
            .bind(SocketAddr::new(src, 0))
            .map_err(|e| format!("cannot bind --source {src}: {}", describe_io(&e)))?;
    }
    let stream = socket.connect(addr).await.map_err(|e| describe_io(&e))?;
    // Requests are small and written once; do not let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Writes all of `bytes`, logging them at trace level (`-vv`).
pub async fn send<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    ctx: &ProbeContext,
) -> Result<(), Outcome> {
    send_logged_as(writer, bytes, bytes, ctx).await
}

/// Writes all of `bytes`, logging `shown` in their place: a request carrying credentials
/// is logged with them redacted.
pub async fn send_logged_as<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    shown: &[u8],
    ctx: &ProbeContext,
) -> Result<(), Outcome> {
    ctx.progress
        .enter(Stage::Send, format!("sending {} bytes", bytes.len()));
    trace!(
        "sent {} bytes: \"{}\"",
        bytes.len(),
        printable(shown, TRACED_BYTES)
    );
    // Flushed: over TLS the bytes may sit in the session until then (a no-op over TCP).
    let written = match writer.write_all(bytes).await {
        Ok(()) => writer.flush().await,
        Err(e) => Err(e),
    };
    written.map_err(|e| Outcome::unhealthy(Stage::Send, describe_io(&e)))
}

/// Why [`read_until`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The `done` test said the buffer holds what was wanted.
    Done,
    /// The peer closed the connection first.
    Closed,
    /// `max` bytes arrived without `done` being satisfied.
    Full,
}

/// Reads what is available (at least one byte) into `buf`, up to `max` bytes in all.
/// Returns 0 when the peer closed. A buffer already at `max` is an oversized reply.
pub async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    ctx: &ProbeContext,
) -> Result<usize, Outcome> {
    if buf.len() >= max {
        return Err(Outcome::unhealthy(
            Stage::Receive,
            format!("oversized: {max} bytes without a complete reply"),
        ));
    }
    // Read straight into `buf`'s spare capacity: an 8 KiB array here would sit inline in
    // every probe's future, and futures are moved by value (supervise, within_deadline,
    // select!), which cost a check ~50 000 instructions of memcpy at every start; and
    // zero-filling the room first would cost another 10 000.
    let start = buf.len();
    let room = (max - start).min(READ_CHUNK);
    buf.reserve(room);
    let mut spare = ReadBuf::uninit(&mut buf.spare_capacity_mut()[..room]);
    let at = spare.filled().as_ptr() as usize; // an address: a pointer would make the future !Send
    let read = std::future::poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut spare)).await;
    let n = spare.filled().len();
    // A reader may swap in a ReadBuf of its own (tokio's read_buf guards the same way):
    // then the bytes are not in `buf` and must not be taken as if they were.
    if spare.filled().as_ptr() as usize != at || n > room {
        return Err(Outcome::unhealthy(
            Stage::Receive,
            "internal error: the reader wrote outside the buffer it was given",
        ));
    }
    // SAFETY: ReadBuf guarantees its first `filled().len()` bytes were initialised, and,
    // checked just above, they are the `n <= room` bytes after `start` in `buf`'s
    // allocation, whose capacity `reserve(room)` made at least `start + room`.
    unsafe { buf.set_len(start + n) };
    read.map_err(|e| Outcome::unhealthy(Stage::Receive, describe_io(&e)))?;
    if n > 0 {
        trace!(
            "received {n} bytes: \"{}\"",
            printable(&buf[start..], TRACED_BYTES)
        );
        ctx.progress.add_received(n);
    }
    Ok(n)
}

/// Reads into `buf` until `done(buf)` is true, the peer closes, or `buf` holds `max` bytes.
/// Never reads more than `max` bytes, whatever the peer sends; the deadline is the
/// caller's to enforce ([`ProbeContext::within_deadline`]).
pub async fn read_until<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    ctx: &ProbeContext,
    mut done: impl FnMut(&[u8]) -> bool,
) -> Result<ReadEnd, Outcome> {
    loop {
        if done(buf) {
            return Ok(ReadEnd::Done);
        }
        if buf.len() >= max {
            return Ok(ReadEnd::Full);
        }
        if read_some(reader, buf, max, ctx).await? == 0 {
            return Ok(ReadEnd::Closed);
        }
    }
}

/// Reads until `frame` finds a whole message in `buf` and returns where it is
/// (`start..end`); the caller consumes it with `buf.drain(..end)`. `Ok(None)` means the
/// peer closed the connection between messages. Bytes that can never frame, a peer that
/// closes mid-message, or more than `max` bytes without a message are unhealthy.
pub async fn next_message<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    frame: fn(&[u8]) -> Frame,
    ctx: &ProbeContext,
) -> Result<Option<(usize, usize)>, Outcome> {
    loop {
        match frame(buf) {
            Frame::Message { start, end } => return Ok(Some((start, end))),
            Frame::Invalid(why) => {
                return Err(Outcome::unhealthy(
                    Stage::Parse,
                    format!("{why}: \"{}\"", printable(buf, SHOWN_BYTES)),
                ))
            }
            Frame::Incomplete => {}
        }
        let partial = !buf.iter().all(|b| matches!(b, b'\r' | b'\n'));
        if partial {
            ctx.progress.note(format!(
                "waiting for the rest of a reply: \"{}\"",
                printable(buf, SHOWN_BYTES)
            ));
        }
        if read_some(reader, buf, max, ctx).await? == 0 {
            if !partial {
                return Ok(None);
            }
            return Err(Outcome::unhealthy(
                Stage::Receive,
                format!(
                    "connection closed mid-reply after {} bytes: \"{}\"",
                    buf.len(),
                    printable(buf, SHOWN_BYTES)
                ),
            ));
        }
    }
}

/// Opens a UDP socket bound to `--source` (or any address of the target's family) and
/// connected to `addr`, so the kernel drops datagrams from anyone else and reports an
/// ICMP port unreachable as an error on the socket.
pub async fn connect_udp(addr: SocketAddr, ctx: &ProbeContext) -> Result<UdpSocket, Outcome> {
    ctx.progress
        .enter(Stage::Connect, format!("opening a UDP socket to {addr}"));
    let socket = match ctx.source {
        Some(ip) => UdpSocket::bind(SocketAddr::new(ip, 0)).await.map_err(|e| {
            Outcome::unhealthy(
                Stage::Connect,
                format!("cannot bind {ip}: {}", describe_io(&e)),
            )
        })?,
        // connect(2) picks the local address and port itself: no bind(2) to pay for.
        None => unbound_udp(addr)
            .and_then(UdpSocket::from_std)
            .map_err(|e| {
                Outcome::unhealthy(
                    Stage::Connect,
                    format!("cannot open a UDP socket: {}", describe_io(&e)),
                )
            })?,
    };
    socket
        .connect(addr)
        .await
        .map_err(|e| Outcome::unhealthy(Stage::Connect, describe_io(&e)))?;
    ctx.progress.connected_to(addr);
    Ok(socket)
}

/// A connected UDP socket kept between the probes of one check, for a caller that probes
/// the same target many times a second (keepalived-checkd): opening, connecting,
/// registering and closing a socket is five or six system calls a probe, more than the
/// probe itself. Only a socket whose probe ended with an answer is kept; before it is used
/// again, whatever arrived in between (a late answer, an ICMP error) is read and dropped,
/// and answers to an earlier request never match the new one's branch anyway.
#[derive(Debug, Default)]
pub struct UdpReuse(std::sync::Mutex<Option<KeptUdp>>);

#[derive(Debug)]
struct KeptUdp {
    peer: SocketAddr,
    source: Option<IpAddr>,
    local: SocketAddr,
    socket: UdpSocket,
}

impl UdpReuse {
    fn take(&self, peer: SocketAddr, source: Option<IpAddr>) -> Option<(UdpSocket, SocketAddr)> {
        let kept = self.0.lock().ok()?.take()?;
        if kept.peer != peer || kept.source != source {
            return None;
        }
        drain(&kept.socket).ok()?;
        Some((kept.socket, kept.local))
    }

    fn keep(&self, peer: SocketAddr, source: Option<IpAddr>, socket: UdpSocket, local: SocketAddr) {
        // The runtime's readable mark is left as it is, though the next drain then pays a
        // system call to learn that nothing came. Dropping it here would leave a datagram
        // already queued (the answer to a retransmission) to be noticed only when another
        // arrival wakes the socket: the answers would be seen only as long as every
        // arrival wakes it, which is the kernel's business, not something to lean on.
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(KeptUdp {
                peer,
                source,
                local,
                socket,
            });
        }
    }
}

/// Reads and drops every datagram and pending error queued on `socket`. Through the
/// runtime, not `recv(2)` directly: the `WouldBlock` that ends the loop also clears its
/// readable mark, so the receive after the next request waits for the answer instead of
/// first trying an empty queue.
fn drain(socket: &UdpSocket) -> io::Result<()> {
    let mut scrap = [0u8; 64];
    for _ in 0..256 {
        // A longer datagram is cut to the buffer and dropped.
        match socket.try_recv(&mut scrap) {
            Ok(_) => {}
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(()),
                // An error left by an earlier datagram (ICMP): read, so it is gone.
                io::ErrorKind::ConnectionRefused => {}
                _ => return Err(e),
            },
        }
    }
    Err(io::Error::other("more queued than an answer can explain"))
}

/// A UDP socket connected to `addr` and its local address: the one the context keeps
/// from the last probe (see [`UdpReuse`]), or a new one.
pub async fn open_udp(
    addr: SocketAddr,
    ctx: &ProbeContext,
) -> Result<(UdpSocket, SocketAddr), Outcome> {
    if let Some(kept) = ctx
        .udp_reuse
        .as_ref()
        .and_then(|r| r.take(addr, ctx.source))
    {
        ctx.progress.connected_to(addr);
        return Ok(kept);
    }
    let socket = connect_udp(addr, ctx).await?;
    let local = socket
        .local_addr()
        .map_err(|e| Outcome::unhealthy(Stage::Connect, describe_io(&e)))?;
    Ok((socket, local))
}

/// Hands a socket from [`open_udp`] back after a probe that got its answer, for the next
/// probe of the same check (dropped, so closed, when the context keeps none).
pub fn keep_udp(ctx: &ProbeContext, addr: SocketAddr, socket: UdpSocket, local: SocketAddr) {
    if let Some(reuse) = &ctx.udp_reuse {
        reuse.keep(addr, ctx.source, socket, local);
    }
}

/// A non-blocking, close-on-exec UDP socket of `peer`'s family, not bound yet.
fn unbound_udp(peer: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use std::os::fd::FromRawFd as _;
    let family = match peer {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) with constant arguments; the descriptor is owned from here on.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket nobody else owns.
    Ok(unsafe { std::net::UdpSocket::from_raw_fd(fd) })
}

/// Words for an error on a connected UDP socket: a refused "connection" is the ICMP port
/// unreachable the peer's host sent back.
pub fn describe_datagram_io(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        "port unreachable (ICMP): nothing listens there".into()
    } else {
        describe_io(e)
    }
}

/// Sends one datagram on a connected UDP socket, logging `shown` in its place at trace
/// level (`-vv`): a request carrying a password is logged with it masked. The error is the
/// caller's to judge: [`refused_locally`] ones concern one datagram only.
pub async fn send_datagram(socket: &UdpSocket, bytes: &[u8], shown: &[u8]) -> io::Result<()> {
    trace!(
        "sent {} bytes: \"{}\"",
        bytes.len(),
        printable(shown, TRACED_BYTES)
    );
    socket.send(bytes).await.map(|_| ())
}

/// Whether a send failed on this host for this one datagram: a firewall rule dropped it
/// in the output path (EPERM) or the queue was full (ENOBUFS). Like a datagram lost on
/// the way, a later one may pass.
pub fn refused_locally(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM | libc::ENOBUFS))
}

/// Room for the largest UDP payload (65 507 bytes over IPv4, 65 527 over IPv6), so no
/// datagram is ever cut short.
pub const MAX_DATAGRAM: usize = 65_536;

thread_local! {
    /// Where datagrams land before they are copied out at their size: one buffer of the
    /// largest size per thread, so a daemon running a hundred probes at once does not keep
    /// a hundred of them.
    static DATAGRAM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Receives one datagram on a connected UDP socket into `buf` (replacing its contents),
/// returning its length.
pub async fn recv_datagram(
    socket: &UdpSocket,
    buf: &mut Vec<u8>,
    ctx: &ProbeContext,
) -> Result<usize, Outcome> {
    let failed = |e: io::Error| Outcome::unhealthy(Stage::Receive, describe_datagram_io(&e));
    let n = loop {
        socket.readable().await.map_err(failed)?;
        let received: io::Result<usize> = DATAGRAM.with(|cell| {
            let mut landing = cell.try_borrow_mut().map_err(io::Error::other)?;
            // Into spare capacity, never zeroed: a one-shot check would otherwise spend
            // 68 000 instructions clearing 64 KiB it reads 400 bytes into.
            landing.clear();
            landing.reserve_exact(MAX_DATAGRAM);
            let n = socket.try_recv_buf(&mut *landing)?;
            buf.clear();
            buf.extend_from_slice(&landing[..n]);
            Ok(n)
        });
        match received {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(failed(e)),
        }
    };
    trace!(
        "received {n} bytes: \"{}\"",
        printable(&buf[..n], TRACED_BYTES)
    );
    ctx.progress.add_received(n);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_like_status_lines() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(describe_io(&e), "connection refused");
        let e = io::Error::other("Odd thing");
        assert_eq!(describe_io(&e), "odd thing");
        // An acronym keeps its capitals.
        let e = io::Error::other("TLS alert from the server: handshake failure");
        assert_eq!(
            describe_io(&e),
            "TLS alert from the server: handshake failure"
        );
        assert_eq!(describe_io(&io::Error::other("")), "unknown error");
    }

    #[test]
    fn cut_short_names_stage_wait_and_bytes() {
        let p = Progress::default();
        p.enter(Stage::Receive, "waiting for \"SSH\"");
        p.add_received(12);
        let o = p.cut_short("timed out", Duration::from_millis(800));
        assert_eq!(o.stage, Stage::Receive);
        assert_eq!(
            o.reason,
            "timed out after 800.0 ms while waiting for \"SSH\" (12 bytes received)"
        );
    }

    fn ctx(budget: Duration) -> ProbeContext {
        ProbeContext::new(Deadline::new(Instant::now(), budget), None)
    }

    /// An address that refuses connections: bound but not listening, and kept bound so
    /// that no test running in parallel can be given the same port.
    fn refused_addr() -> (TcpSocket, SocketAddr) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    }

    #[test]
    fn a_probe_context_can_be_shared_across_threads() {
        // A daemon spawns probes on a multi-threaded runtime: their futures must be Send,
        // which needs the context they borrow to be Sync.
        fn sync<T: Sync + Send>() {}
        sync::<ProbeContext>();
    }

    #[test]
    fn peer_is_added_once_and_only_after_connecting() {
        let p = Progress::default();
        let before = p.with_peer(Outcome::unhealthy(Stage::Connect, "refused"));
        assert!(before.details.is_empty());
        p.connected_to("127.0.0.1:22".parse().unwrap());
        let after = p.with_peer(Outcome::unhealthy(Stage::Receive, "timed out"));
        assert_eq!(after.details, vec![("peer", "127.0.0.1:22".to_string())]);
        assert_eq!(p.with_peer(after.clone()).details.len(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn connect_tries_each_address_in_turn() {
        let live = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let live_addr = live.local_addr().unwrap();
        let (_held, dead) = refused_addr();
        let ctx = ctx(Duration::from_secs(2));
        let conn = connect_tcp(&[dead, live_addr], &ctx).await.unwrap();
        assert_eq!(conn.peer, live_addr);
        assert_eq!(ctx.progress.with(|p| p.peer), Some(live_addr));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn connect_lists_every_failed_address() {
        let ((_held_a, a), (_held_b, b)) = (refused_addr(), refused_addr());
        let ctx = ctx(Duration::from_secs(2));
        let failed = connect_tcp(&[a, b], &ctx).await.unwrap_err();
        assert_eq!(failed.stage, Stage::Connect);
        assert_eq!(
            failed.reason,
            format!("all 2 addresses failed: {a} connection refused; {b} connection refused")
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn source_family_filters_addresses() {
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let target = Target {
            host: Host::Ip(v6.ip()),
            port: 9,
        };
        let mut c = ctx(Duration::from_secs(1));
        c.source = Some("127.0.0.1".parse().unwrap());
        let failed = resolve(&target, &c).await.unwrap_err();
        assert_eq!(failed.stage, Stage::Resolve);
        assert!(failed
            .reason
            .contains("no address of --source 127.0.0.1's family"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn read_until_never_exceeds_max() {
        let ctx = ctx(Duration::from_secs(1));
        let data = vec![b'A'; 50_000];
        let mut reader: &[u8] = &data;
        let mut buf = Vec::new();
        let end = read_until(&mut reader, &mut buf, 1000, &ctx, |b| b.ends_with(b"Z"))
            .await
            .unwrap();
        assert_eq!(end, ReadEnd::Full);
        assert_eq!(buf.len(), 1000);

        let mut reader: &[u8] = b"hello";
        let mut buf = Vec::new();
        let end = read_until(&mut reader, &mut buf, 1000, &ctx, |b| b.ends_with(b"Z"))
            .await
            .unwrap();
        assert_eq!(end, ReadEnd::Closed);
        assert_eq!(buf, b"hello");
    }
}
