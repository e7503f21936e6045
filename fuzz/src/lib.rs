//! What the fuzz targets share.

/// Runs `f` on a thread with a 1 GiB stack (the compiler and optimizer
/// recurse on deep inputs as the real tools do, which run on such a
/// thread too) and re-raises its panic in the fuzzer's thread, so libFuzzer
/// records the input as a crash.
pub fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawn a thread for the target");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}
