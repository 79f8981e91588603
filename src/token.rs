//! Random identifiers for protocol fields: SIP branches, tags and Call-IDs, Digest cnonces.

use std::cell::RefCell;

/// Random bytes fetched from getrandom(2) at a time: one system call serves 64 tokens, so
/// a daemon probing a thousand times a second pays one call per 32 SIP requests, not two
/// per request (and a one-shot check spends a microsecond on the bytes it does not use).
const POOL: usize = 1024;

thread_local! {
    /// Kernel randomness not handed out yet, and how much of it is used.
    static RANDOM: RefCell<([u8; POOL], usize)> = const { RefCell::new(([0; POOL], POOL)) };
}

/// 16 random bytes from the kernel's generator (fetched [`POOL`] bytes at a time); from
/// the time and PID if getrandom fails, which is unique enough for these fields (they are
/// identifiers, not secrets).
fn random_bytes() -> [u8; 16] {
    let mut out = [0u8; 16];
    let taken = RANDOM.with(|cell| {
        let Ok(mut pool) = cell.try_borrow_mut() else {
            return false;
        };
        let (bytes, used) = &mut *pool;
        if *used + out.len() > POOL {
            // SAFETY: getrandom(2) writes at most `POOL` bytes into the buffer.
            let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), POOL, 0) };
            if usize::try_from(n).ok() != Some(POOL) {
                return false;
            }
            *used = 0;
        }
        out.copy_from_slice(&bytes[*used..*used + 16]);
        *used += 16;
        true
    });
    if !taken {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        out = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    out
}

/// 128 random bits as 32 hex digits.
pub fn random_hex() -> String {
    let mut s = String::with_capacity(32);
    push_random_hex(&mut s);
    s
}

/// Appends 128 random bits as 32 hex digits (a SIP branch is a prefix and these).
pub fn push_random_hex(out: &mut String) {
    // By table, not `write!("{b:02x}")`: formatting machinery costs ~250 instructions a byte.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in random_bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_32_hex_digits_and_differ() {
        let (a, b) = (super::random_hex(), super::random_hex());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_pool_refills_without_repeating() {
        let tokens: std::collections::HashSet<String> = (0..3 * super::POOL / 16)
            .map(|_| super::random_hex())
            .collect();
        assert_eq!(tokens.len(), 3 * super::POOL / 16);
    }
}
