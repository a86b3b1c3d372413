//! Client CPU time: the process's CPU time minus the embedded server's threads, read from
//! /proc (Linux). The server runs on threads named `mock-s3`, so its work is not charged to
//! the client.

use std::time::Duration;

/// CPU time of the threads of this process, split into server and the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadCpu {
    /// Threads not named `mock-s3`.
    pub client: Duration,
    /// Threads named `mock-s3`.
    pub server: Duration,
}

fn ticks_per_s() -> u64 {
    // USER_HZ is 100 on every Linux architecture Rust supports.
    100
}

/// Reads the CPU time of every thread of this process. `None` where /proc is unavailable.
pub fn client_cpu() -> Option<ThreadCpu> {
    let mut out = ThreadCpu::default();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = entry.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue; // the thread exited meanwhile
        };
        // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields
            .get(11)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
        let t = Duration::from_millis(ticks * 1000 / ticks_per_s());
        if comm.trim_end().starts_with("mock-s3") {
            out.server += t;
        } else {
            out.client += t;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_client_cpu() {
        let before = client_cpu().unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        // Spin until the kernel has charged at least a few ticks (bounded by 5 s).
        while client_cpu().unwrap().client < before.client + Duration::from_millis(50)
            && start.elapsed() < Duration::from_secs(5)
        {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
        }
        std::hint::black_box(x);
        let after = client_cpu().unwrap();
        assert!(
            after.client >= before.client + Duration::from_millis(50),
            "{before:?} -> {after:?}"
        );
    }
}
