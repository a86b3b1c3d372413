//! CPU time of a set of threads in nanoseconds, from the kernel's per-thread accounting.
//!
//! Each thread registers itself when it starts (a runtime's `on_thread_start` hook) and
//! unregisters when it stops, adding its final time to a running total, so the sum covers
//! threads that already exited. A thread's time is the first field of
//! `/proc/thread-self/schedstat`: nanoseconds spent on a CPU (user and system), the same clock
//! as `CLOCK_THREAD_CPUTIME_ID`, read without `unsafe`. Not on any request path: threads
//! register once, and the total is read when counters are read.
//!
//! Where `/proc` is not mounted (not Linux), [`ThreadCpu::total_ns`] is `None`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The threads of one runtime and their CPU time.
#[derive(Debug, Default)]
pub struct ThreadCpu {
    /// `/proc/<pid>/task/<tid>` of each live registered thread.
    live: Mutex<Vec<PathBuf>>,
    /// CPU time of registered threads that have exited, ns.
    exited_ns: AtomicU64,
    /// Whether a registration failed (no /proc): totals are then unknown.
    unavailable: std::sync::atomic::AtomicBool,
}

/// This thread's `/proc/<pid>/task/<tid>` directory.
fn this_thread() -> Option<PathBuf> {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .map(|rel| PathBuf::from("/proc").join(rel))
}

/// Nanoseconds on a CPU of the thread whose task directory is `dir`.
fn on_cpu_ns(dir: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("schedstat")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

impl ThreadCpu {
    /// Adds the calling thread (call it first thing on the thread).
    pub fn register_current(&self) {
        match this_thread() {
            Some(dir) => self
                .live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(dir),
            None => self.unavailable.store(true, Relaxed),
        }
    }

    /// Removes the calling thread, keeping its time (call it last thing on the thread).
    pub fn unregister_current(&self) {
        let Some(dir) = this_thread() else { return };
        let ns = on_cpu_ns(&dir).unwrap_or(0);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().position(|d| *d == dir) {
            live.swap_remove(i);
            self.exited_ns.fetch_add(ns, Relaxed);
        }
    }

    /// CPU time of every registered thread, live or exited, in ns; `None` without /proc.
    pub fn total_ns(&self) -> Option<u64> {
        if self.unavailable.load(Relaxed) {
            return None;
        }
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let mut total = self.exited_ns.load(Relaxed);
        for dir in live.iter() {
            // A thread between its exit and its unregistering has no file: its time comes
            // with the unregistering.
            total += on_cpu_ns(dir).unwrap_or(0);
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn spin_until_own_cpu(ns: u64) {
        let dir = this_thread().unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while on_cpu_ns(&dir).unwrap() < ns && start.elapsed() < std::time::Duration::from_secs(10)
        {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
        }
        std::hint::black_box(x);
    }

    #[test]
    fn counts_live_and_exited_threads_but_not_others() {
        let cpu = Arc::new(ThreadCpu::default());
        let before = cpu.total_ns().unwrap();
        assert_eq!(before, 0);
        // A thread that spins 30 ms of CPU and exits: its time stays in the total.
        let c = cpu.clone();
        std::thread::spawn(move || {
            c.register_current();
            spin_until_own_cpu(30_000_000);
            c.unregister_current();
        })
        .join()
        .unwrap();
        let after_exit = cpu.total_ns().unwrap();
        assert!(after_exit >= 30_000_000, "{after_exit}");
        // An unregistered thread's work is not counted.
        std::thread::spawn(|| spin_until_own_cpu(30_000_000))
            .join()
            .unwrap();
        let unrelated = cpu.total_ns().unwrap();
        assert_eq!(unrelated, after_exit);
        // A live registered thread is counted while it runs.
        let c = cpu.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            c.register_current();
            spin_until_own_cpu(20_000_000);
            tx.send(()).unwrap();
            done_rx.recv().unwrap();
        });
        rx.recv().unwrap();
        assert!(cpu.total_ns().unwrap() >= after_exit + 20_000_000);
        done_tx.send(()).unwrap();
        t.join().unwrap();
    }
}
