//! A cache hint for the bar loop.
//!
//! Between two signals the loop fast-forwards and reads only closes; the
//! bar where the strategy acts next, and the sub-bar its order fills in,
//! are far ahead in memory and would each cost a cache miss when reached.
//! Asking for them when the fast-forward starts lets the memory system
//! fetch them while the stretch is marked to market. On targets without a
//! prefetch instruction this does nothing.

/// Hints that `values[index]` will be read soon. Out-of-range indices are
/// ignored.
#[inline(always)]
pub(crate) fn prefetch<T>(values: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(v) = values.get(index) {
        prefetch_x86(std::ptr::from_ref(v).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, index);
}

/// The one `unsafe` of the engine, allowed here only.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code, reason = "a prefetch hint cannot fault; see SAFETY below")]
fn prefetch_x86(p: *const i8) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: PREFETCHT0 is part of SSE, which every x86_64 CPU has; it is
    // a hint that never faults and has no effect a program can observe,
    // and `p` points into a live slice anyway.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p) }
}
