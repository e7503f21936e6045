//! The VM's global allocator: the system allocator with a per-thread cache
//! of freed small blocks, and an opt-in allocation counter for `--stats`.
//!
//! A binary installs it with
//! `#[global_allocator] static A: menai_vm::alloc::VmAlloc = menai_vm::alloc::VmAlloc;`
//! (`menai-vm` and `menai` do).
//!
//! Functional programs allocate and free many small blocks (list buffers,
//! strings, closure environments, `Rc` headers) in quick succession. The
//! system allocator's own per-thread cache holds only a few blocks of each
//! size; past that it falls back to slower bins, and the release of one
//! large block consolidates them all. Here every request of at most
//! [`MAX_SMALL`] bytes (alignment at most [`CLASS`]) is rounded up to a
//! multiple of [`CLASS`] bytes; a freed block goes onto its thread's free
//! list for that size class and the next request of the class takes it
//! back: a push and a pop, no search, nothing to start up. An empty list
//! is refilled with a chunk of blocks carved from one system allocation
//! (a program that builds a long list of strings makes one system call per
//! chunk, not per string). Blocks stay in the lists (memory is returned to
//! the system only at exit), so the peak of small blocks is kept; larger
//! requests go straight to the system.
//!
//! It also keeps, per thread, the bytes the running program may still
//! allocate (`set_limit`, `over_limit`, `room_for`): the run's memory limit.
//!
//! Invariants: a block on list `c` is `(c + 1) * CLASS` bytes, `CLASS`
//! aligned, inside a chunk obtained from the system and never returned to
//! it; it is not in use, and holds the next block of the list in its first
//! word. Freeing a block into another
//! thread's list is fine: blocks of one class are interchangeable.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Size-class granularity (and the alignment every pooled block has).
pub const CLASS: usize = 16;
/// Largest request served from the free lists.
pub const MAX_SMALL: usize = 256;
const CLASSES: usize = MAX_SMALL / CLASS;

thread_local! {
    /// Per size class, the first free block (null: none).
    static FREE: [Cell<*mut u8>; CLASSES] = const { [const { Cell::new(null_mut()) }; CLASSES] };
    /// Bytes this thread may still allocate before its run is over its
    /// memory limit: allocations subtract, frees add (blocks freed by
    /// another thread count for the freeing thread). Negative: over.
    static BUDGET: Cell<isize> = const { Cell::new(isize::MAX / 2) };
}

/// Adds `delta` bytes to this thread's budget (negative: an allocation).
#[inline(always)]
fn track(delta: isize) {
    let _ = BUDGET.try_with(|b| b.set(b.get().wrapping_add(delta)));
}

/// Gives the current thread's run `bytes` to allocate from now on (when
/// `VmAlloc` is installed; otherwise nothing is counted and the run is
/// never over).
pub fn set_limit(bytes: u64) {
    let bytes = isize::try_from(bytes).unwrap_or(isize::MAX / 2);
    let _ = BUDGET.try_with(|b| b.set(bytes));
}

/// Whether the current thread holds more than its run's limit. The
/// interpreter checks it at every call and backward jump: a TLS load and
/// a sign test.
#[inline(always)]
pub fn over_limit() -> bool {
    BUDGET.try_with(|b| b.get() < 0).unwrap_or(false)
}

/// Whether allocating `bytes` more keeps the current thread within its
/// limit: builtins that build a large value in one step (a string, a
/// list) ask first, so running out of memory is an error, not an abort.
pub fn room_for(bytes: usize) -> bool {
    let left = BUDGET.try_with(Cell::get).unwrap_or(isize::MAX);
    isize::try_from(bytes).is_ok_and(|b| b <= left)
}

/// The memory limit a run gets by default: half of the memory available
/// when it starts (`MemAvailable` in `/proc/meminfo`), so that running
/// out is a clean error rather than the kernel's out-of-memory kill (a
/// value being built can briefly need its old and new copies at once);
/// unlimited where that is unknown.
pub fn default_memory_limit() -> u64 {
    let available_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        });
    match available_kib {
        Some(kib) => kib.saturating_mul(1024) / 2,
        None => u64::MAX,
    }
}

static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The allocator (see the module documentation).
pub struct VmAlloc;

/// The size class of a request, if it is pooled.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size != 0 && size <= MAX_SMALL && layout.align() <= CLASS).then(|| (size - 1) / CLASS)
}

/// Pops a free block of class `c` (null if the list is empty or the
/// thread's lists are gone).
#[inline(always)]
fn pop(c: usize) -> *mut u8 {
    FREE.try_with(|lists| {
        let head = lists[c].get();
        if !head.is_null() {
            // SAFETY: a block on the list holds the next one in its first
            // word (module invariants), and is at least one word long and
            // CLASS-aligned.
            lists[c].set(unsafe { *(head as *mut *mut u8) });
        }
        head
    })
    .unwrap_or(null_mut())
}

/// Bytes obtained from the system at once when a class's list is empty.
const CHUNK: usize = 4 * 1024;

/// A fresh block of class `c`: one system allocation of a chunk of blocks,
/// the first handed out and the rest pushed onto the list (null if the
/// system has no memory).
#[cold]
fn refill(c: usize) -> *mut u8 {
    let size = (c + 1) * CLASS;
    let n = (CHUNK / size).max(1);
    // SAFETY: `size * n <= CHUNK.max(MAX_SMALL)` is non-zero and far below
    // `isize::MAX`; `CLASS` is a power of two.
    let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(size * n, CLASS)) };
    if chunk.is_null() {
        return chunk;
    }
    for i in (1..n).rev() {
        // SAFETY: block `i` lies inside the chunk (`i * size + size <=
        // n * size`), is CLASS-aligned (the chunk is, and `size` is a
        // multiple of CLASS) and no one else holds it.
        let _ = push(c, unsafe { chunk.add(i * size) });
    }
    chunk
}

/// Pushes a free block of class `c`; false if the thread's lists are gone.
#[inline(always)]
fn push(c: usize, block: *mut u8) -> bool {
    FREE.try_with(|lists| {
        // SAFETY: `block` is a pooled block of class `c` no longer in use:
        // its first word may hold the list link.
        unsafe { *(block as *mut *mut u8) = lists[c].get() };
        lists[c].set(block);
    })
    .is_ok()
}

// SAFETY: every block handed out is either a fresh system allocation of the
// caller's layout (large requests) or a block of at least the requested
// size and alignment that no one else holds (a system allocation of the
// class layout, or one popped off a free list, which holds only freed
// blocks of that class). Blocks come back to the list of the class their
// layout maps to, which is the class they were allocated with (Rust passes
// `dealloc` the layout used to allocate).
unsafe impl GlobalAlloc for VmAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        match class_of(layout) {
            Some(c) => {
                track(-(((c + 1) * CLASS) as isize));
                let block = pop(c);
                if !block.is_null() {
                    return block;
                }
                refill(c)
            }
            None => {
                // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
                let p = unsafe { System.alloc(layout) };
                if !p.is_null() {
                    track((layout.size() as isize).wrapping_neg());
                }
                p
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some(c) => {
                track(((c + 1) * CLASS) as isize);
                // The thread's lists are gone (it is exiting): the block,
                // part of a chunk, cannot go back to the system alone and
                // is left to the process's end.
                let _ = push(c, ptr);
            }
            None => {
                track(layout.size() as isize);
                // SAFETY: forwarded unchanged: `ptr` came from `System` with `layout`.
                unsafe { System.dealloc(ptr, layout) }
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align(new_size, layout.align());
        match (class_of(layout), new.map(class_of)) {
            // Both large: the system resizes in place when it can.
            (None, Ok(None)) => {
                // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
                let p = unsafe { System.realloc(ptr, layout, new_size) };
                if !p.is_null() {
                    track((layout.size() as isize).wrapping_sub(new_size as isize));
                }
                p
            }
            // The same class: the block already has room.
            (Some(a), Ok(Some(b))) if a == b => ptr,
            (_, Ok(_)) => {
                // SAFETY: the caller guarantees `new_size` with `layout`'s
                // alignment is a valid layout (`new` is `Ok`).
                let fresh = unsafe {
                    self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()))
                };
                if !fresh.is_null() {
                    // SAFETY: both blocks are valid for the smaller size and
                    // do not overlap (`fresh` was just allocated).
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                fresh
            }
            (_, Err(_)) => null_mut(),
        }
    }
}

/// Allocations counted so far (turns counting on).
pub fn count() -> u64 {
    COUNTING.store(true, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
}

/// Whether `VmAlloc` is this program's global allocator (checked by making
/// one allocation with counting on).
pub fn installed() -> bool {
    let before = count();
    let probe = std::hint::black_box(Box::new(0u64));
    drop(probe);
    COUNT.load(Ordering::Relaxed) > before
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every class (and large ones) are distinct while in use,
    /// keep their contents, come back from the free list after being
    /// freed, and survive growing and shrinking within and across classes.
    #[test]
    fn pooled_blocks_round_trip() {
        let a = VmAlloc;
        let mut live = Vec::new();
        for size in [1usize, 8, 15, 16, 17, 100, 255, 256, 257, 4096] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            for fill in 0..3u8 {
                // SAFETY: a valid non-zero layout; the block is filled
                // within its size and freed with the same layout below.
                let p = unsafe { a.alloc(layout) };
                assert!(!p.is_null());
                assert_eq!(p as usize % 8, 0);
                let byte = fill.wrapping_add(size as u8);
                unsafe { std::ptr::write_bytes(p, byte, size) };
                live.push((p, layout, byte));
            }
        }
        let mut addrs: Vec<usize> = live.iter().map(|l| l.0 as usize).collect();
        addrs.sort();
        addrs.dedup();
        assert_eq!(addrs.len(), live.len(), "a block handed out twice");
        for &(p, layout, fill) in &live {
            // SAFETY: `p` is a live block of `layout`.
            let bytes = unsafe { std::slice::from_raw_parts(p, layout.size()) };
            assert!(bytes.iter().all(|&b| b == fill));
            unsafe { a.dealloc(p, layout) };
        }
        // A freed small block is reused for its class.
        let layout = Layout::from_size_align(40, 8).unwrap();
        let p = unsafe { a.alloc(layout) };
        unsafe { a.dealloc(p, layout) };
        let q = unsafe { a.alloc(layout) };
        assert_eq!(p, q);
        // Growing keeps the contents, within the class and across classes.
        unsafe { std::ptr::write_bytes(q, 7, 40) };
        let r = unsafe { a.realloc(q, layout, 44) };
        assert_eq!(r, q, "same class: same block");
        let s = unsafe { a.realloc(r, Layout::from_size_align(44, 8).unwrap(), 300) };
        let bytes = unsafe { std::slice::from_raw_parts(s, 40) };
        assert!(bytes.iter().all(|&b| b == 7));
        unsafe { a.dealloc(s, Layout::from_size_align(300, 8).unwrap()) };
    }
}
