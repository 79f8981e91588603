//! A bump allocator for the one-shot check processes ([`check_main!`](crate::check_main)).
//!
//! A check lives for one probe, at most its timeout: it allocates a few hundred small
//! blocks (clap's command, the runtime, buffers of bounded size) and frees most of them
//! only at exit. glibc's malloc spends about 150 instructions on each call and free, a
//! sixth of a plain check's start-up; here an allocation is an atomic add in a static
//! region that costs nothing until touched. Freed blocks are given back only when they
//! are the last ones handed out (a `Vec` that grows, a temporary `String`), so the region
//! is spent once; when it runs out, or for a block larger than a quarter of it, the
//! system allocator takes over, so a check that allocates more than expected still works,
//! as before. Long-running programs (keepalived-checkd, `ka-notify fifo`) do not use it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Blocks of at least this many bytes come from the region for large blocks.
const LARGE: usize = 1024;

/// A bump allocator over two static regions of `N` bytes each, falling back to [`System`].
///
/// Small and large blocks bump in regions of their own, so a growing `Vec` of large
/// elements (clap's arguments) is usually the last block of its region and grows in
/// place, instead of being copied at each doubling past the small blocks made in between.
pub struct Arena<const N: usize> {
    small: Region<N>,
    large: Region<N>,
}

/// One bump region: blocks handed out from the start, the last one given back on free.
struct Region<const N: usize> {
    /// Offset of the first free byte of `bytes`.
    next: AtomicUsize,
    bytes: UnsafeCell<[u8; N]>,
}

// SAFETY: `bytes` is only handed out in disjoint blocks, each reserved by one successful
// compare-and-swap on `next`.
unsafe impl<const N: usize> Sync for Region<N> {}

impl<const N: usize> Region<N> {
    const fn new() -> Self {
        Region {
            next: AtomicUsize::new(0),
            bytes: UnsafeCell::new([0; N]),
        }
    }

    fn base(&self) -> usize {
        self.bytes.get() as usize
    }

    /// The offset of `ptr` in the region, if it is one of the region's blocks.
    fn offset_of(&self, ptr: *mut u8) -> Option<usize> {
        (ptr as usize)
            .checked_sub(self.base())
            .filter(|&offset| offset < N)
    }

    /// Reserves `layout`; `None` when it does not fit in what is left.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let base = self.base();
        let mut next = self.next.load(Ordering::Acquire);
        loop {
            // Align the address, not the offset: the region itself is only byte-aligned.
            let start = (base + next).checked_next_multiple_of(layout.align())? - base;
            let end = start.checked_add(layout.size()).filter(|&end| end <= N)?;
            match self
                .next
                .compare_exchange_weak(next, end, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: start <= end <= N, inside the region.
                Ok(_) => return Some(unsafe { self.bytes.get().cast::<u8>().add(start) }),
                Err(now) => next = now,
            }
        }
    }

    /// Moves the end of the block at `offset` from `size` to `new_size` bytes if it is
    /// the last block and the new end fits; whether it did.
    fn resize_last(&self, offset: usize, size: usize, new_size: usize) -> bool {
        let Some(end) = offset.checked_add(new_size).filter(|&end| end <= N) else {
            return false;
        };
        // Release: whatever this thread did with the bytes given back happens before
        // another thread's bump (Acquire) hands them out again.
        self.next
            .compare_exchange(offset + size, end, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl<const N: usize> Arena<N> {
    /// An empty arena; meant for a `static` (the regions then live in `.bss`).
    pub const fn new() -> Self {
        Arena {
            small: Region::new(),
            large: Region::new(),
        }
    }

    /// The region a block of `size` bytes is made in.
    fn region_for(&self, size: usize) -> &Region<N> {
        if size < LARGE {
            &self.small
        } else {
            &self.large
        }
    }

    /// The region holding `ptr` and its offset there, if it is one of the arena's blocks.
    fn holding(&self, ptr: *mut u8) -> Option<(&Region<N>, usize)> {
        [&self.small, &self.large]
            .into_iter()
            .find_map(|region| Some((region, region.offset_of(ptr)?)))
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block handed out is either a disjoint, suitably aligned part of a region
// (reserved by `bump`) or comes from `System`, and goes back to where it came from.
unsafe impl<const N: usize> GlobalAlloc for Arena<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = if layout.size() > N / 4 {
            None
        } else {
            self.region_for(layout.size()).bump(layout)
        };
        match block {
            Some(block) => block,
            // SAFETY: the caller's contract, passed on.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match self.holding(ptr) {
            // The last block handed out is given back; any other stays spent.
            Some((region, offset)) => {
                region.resize_last(offset, layout.size(), 0);
            }
            // SAFETY: a block from System, with its layout.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some((region, offset)) = self.holding(ptr) else {
            // SAFETY: a block from System, with its layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        // The last block grows in place when it stays in its region's size class, and
        // shrinks in place always (giving the bytes back).
        let stays = ptr::eq(region, self.region_for(new_size)) && new_size <= N / 4;
        if (stays || new_size <= layout.size())
            && region.resize_last(offset, layout.size(), new_size)
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: new_size is non-zero (it exceeds an existing size) and, per the
        // caller's contract, does not overflow isize when rounded to the alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as alloc; the old block is valid for layout.size() bytes.
        unsafe {
            let moved = self.alloc(new_layout);
            if !moved.is_null() {
                ptr::copy_nonoverlapping(ptr, moved, layout.size());
                self.dealloc(ptr, layout);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("valid layout")
    }

    fn region_of<const N: usize>(arena: &Arena<N>, block: *mut u8) -> Option<&'static str> {
        let (region, _) = arena.holding(block)?;
        Some(if ptr::eq(region, &arena.small) {
            "small"
        } else {
            "large"
        })
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_fall_back_when_a_region_is_spent() {
        let arena = Box::new(Arena::<4096>::new());
        let mut blocks = Vec::new();
        for (size, align) in [(3, 1), (8, 8), (1, 64), (100, 16), (900, 8), (1024, 8)] {
            let block = unsafe { arena.alloc(layout(size, align)) };
            assert!(!block.is_null());
            assert_eq!(block as usize % align, 0, "{size} bytes aligned to {align}");
            unsafe { ptr::write_bytes(block, 0xa5, size) };
            blocks.push((block, size, align));
        }
        let mut spans: Vec<_> = blocks
            .iter()
            .map(|&(b, s, _)| (b as usize, b as usize + s))
            .collect();
        spans.sort();
        assert!(
            spans.windows(2).all(|w| w[0].1 <= w[1].0),
            "overlap: {spans:?}"
        );
        let regions: Vec<_> = blocks
            .iter()
            .map(|&(b, _, _)| region_of(&arena, b))
            .collect();
        let small = Some("small");
        assert_eq!(regions, [small, small, small, small, small, Some("large")]);
        // The large region holds three more kilobyte blocks; the fourth is the system's.
        let more: Vec<_> = (0..4)
            .map(|_| unsafe { arena.alloc(layout(1024, 8)) })
            .collect();
        assert!(more[..3].iter().all(|&b| region_of(&arena, b).is_some()));
        assert_eq!(
            region_of(&arena, more[3]),
            None,
            "4 KiB region holds no 5 KiB"
        );
        for &block in more.iter().rev() {
            unsafe { arena.dealloc(block, layout(1024, 8)) };
        }
        for &(block, size, align) in blocks.iter().rev() {
            unsafe { arena.dealloc(block, layout(size, align)) };
        }
        // Padding before an aligned block is not given back; the large blocks had none.
        assert_eq!(
            arena.large.next.load(Ordering::Relaxed),
            0,
            "all given back"
        );
    }

    #[test]
    fn the_last_block_grows_in_place_and_moves_otherwise() {
        let arena = Box::new(Arena::<16384>::new());
        let first = unsafe { arena.alloc(layout(16, 8)) };
        let grown = unsafe { arena.realloc(first, layout(16, 8), 64) };
        assert_eq!(grown, first, "the last block grows where it is");
        let second = unsafe { arena.alloc(layout(8, 8)) };
        unsafe { ptr::write_bytes(grown, 7, 64) };
        // No longer the last block: growing moves it, keeping its bytes.
        let moved = unsafe { arena.realloc(grown, layout(64, 8), 128) };
        assert_ne!(moved, grown);
        assert!(unsafe { std::slice::from_raw_parts(moved, 64) }
            .iter()
            .all(|&b| b == 7));
        let before = arena.small.next.load(Ordering::Relaxed);
        unsafe { arena.dealloc(moved, layout(128, 8)) };
        assert_eq!(arena.small.next.load(Ordering::Relaxed), before - 128);
        // Grown past the small blocks' size, a block moves to the large region, where it
        // grows in place while small blocks are made in between.
        let large = unsafe { arena.realloc(second, layout(8, 8), 1024) };
        assert_eq!(region_of(&arena, large), Some("large"));
        let small = unsafe { arena.alloc(layout(32, 8)) };
        let larger = unsafe { arena.realloc(large, layout(1024, 8), 2048) };
        assert_eq!(larger, large);
        // Shrunk, the last block gives its tail back; past a quarter of the region, a
        // block is the system's.
        let shrunk = unsafe { arena.realloc(larger, layout(2048, 8), 1500) };
        assert_eq!(shrunk, larger);
        assert_eq!(arena.large.next.load(Ordering::Relaxed), 1500);
        let huge = unsafe { arena.realloc(shrunk, layout(1500, 8), 5000) };
        assert_eq!(region_of(&arena, huge), None);
        assert_eq!(
            arena.large.next.load(Ordering::Relaxed),
            0,
            "the moved block given back"
        );
        unsafe { arena.dealloc(small, layout(32, 8)) };
        unsafe { arena.dealloc(huge, layout(5000, 8)) };
    }

    #[test]
    fn threads_get_disjoint_blocks() {
        static ARENA: Arena<{ 1 << 16 }> = Arena::new();
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let blocks: Vec<usize> = (0..200)
                        .map(|_| {
                            let block = unsafe { ARENA.alloc(layout(24, 8)) };
                            unsafe { ptr::write_bytes(block, t, 24) };
                            block as usize
                        })
                        .collect();
                    std::thread::yield_now();
                    for &b in &blocks {
                        let bytes = unsafe { std::slice::from_raw_parts(b as *const u8, 24) };
                        assert!(bytes.iter().all(|&x| x == t), "block overwritten");
                    }
                    blocks
                })
            })
            .collect();
        let mut all: Vec<usize> = threads
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect();
        all.sort();
        assert!(all.windows(2).all(|w| w[0] + 24 <= w[1]));
    }
}
