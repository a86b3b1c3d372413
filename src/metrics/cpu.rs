//! The client's CPU time in nanoseconds, from per-thread clocks.
//!
//! The threads that run the client register themselves ([`client_runtime`] does it for the
//! thread that calls it and every thread of the runtime it builds), and the client's CPU time
//! is the sum of their per-thread clocks (`/proc/thread-self/schedstat`, the clock of
//! `CLOCK_THREAD_CPUTIME_ID`, see [`mock_s3::cpu`]), exited threads included. The embedded
//! mock's threads count in the mock's own metrics, the progress bar's thread nowhere. Where
//! no thread registered (a test on its own runtime), every thread of the process that is not
//! the mock's counts.

use std::sync::LazyLock;

use mock_s3::cpu::ThreadCpu;

/// The threads registered as the client's.
static CLIENT: LazyLock<ThreadCpu> = LazyLock::new(ThreadCpu::default);

/// Whether any thread registered.
static REGISTERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Counts the calling thread's CPU time as the client's from now on.
pub fn register_client_thread() {
    REGISTERED.store(true, std::sync::atomic::Ordering::Relaxed);
    CLIENT.register_current();
}

/// The runtime the client runs on, its threads counted as the client's: with `threads == 1` a
/// current-thread runtime on the calling thread (one thread, as a Node.js process runs its
/// JavaScript on one), else a multi-thread runtime with `threads` workers (the calling thread
/// drives it too, and is counted).
pub fn client_runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    register_client_thread();
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("client")
            .on_thread_start(|| CLIENT.register_current())
            .on_thread_stop(|| CLIENT.unregister_current())
            .enable_all()
            .build()
    }
}

/// The client's CPU time so far, ns; `None` where /proc is unavailable.
pub fn client_cpu_ns() -> Option<u64> {
    if REGISTERED.load(std::sync::atomic::Ordering::Relaxed) {
        return CLIENT.total_ns();
    }
    // Nothing registered: every thread but the mock's.
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.starts_with("mock-s3") {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("schedstat")) else {
            continue; // the thread exited meanwhile
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_in_nanoseconds() {
        let before = client_cpu_ns().unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        // Spin until the thread's clock says 20 ms (bounded by 10 s of wall time).
        while client_cpu_ns().unwrap() < before + 20_000_000
            && start.elapsed() < std::time::Duration::from_secs(10)
        {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
        }
        std::hint::black_box(x);
        let after = client_cpu_ns().unwrap();
        assert!(after >= before + 20_000_000, "{before} -> {after}");
    }
}
