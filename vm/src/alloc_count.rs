//! An opt-in counting global allocator for `--stats`.
//!
//! A binary that wants allocation counts installs it with
//! `#[global_allocator] static A: menai_vm::alloc_count::CountingAlloc = menai_vm::alloc_count::CountingAlloc;`
//! (`menai-vm` does). It forwards every request to the system allocator and,
//! only while counting is switched on, bumps one relaxed atomic counter per
//! allocation, so the cost when stats are off is one relaxed load.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The counting allocator (a thin wrapper over `System`).
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the only addition is a relaxed counter update, which neither
// allocates nor touches the returned memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ENABLED.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations counted so far (turns counting on).
pub fn count() -> u64 {
    ENABLED.store(true, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
}

/// Whether `CountingAlloc` is this program's global allocator (checked by
/// making one allocation with counting on).
pub fn installed() -> bool {
    let before = count();
    let probe = std::hint::black_box(Box::new(0u64));
    drop(probe);
    COUNT.load(Ordering::Relaxed) > before
}
