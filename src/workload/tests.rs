//! The driver with a fake client run: shapes of the four patterns, counted, in paused time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::*;
use crate::sut::{Error, RunReport};

/// Records, for each request, how many were in flight and how many had finished when it
/// started; serves in a time that depends on the index (so completions interleave).
#[derive(Default)]
struct Recorder {
    in_flight: AtomicUsize,
    finished: AtomicUsize,
    peak: AtomicUsize,
    starts: Mutex<Vec<(u64, usize, usize)>>,
}

impl Run for Recorder {
    async fn call(&self, request: Request) -> OpReport {
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.peak.fetch_max(now, SeqCst);
        self.starts
            .lock()
            .unwrap()
            .push((request.index, now, self.finished.load(SeqCst)));
        tokio::time::sleep(Duration::from_millis(1 + (request.index * 7) % 13)).await;
        self.in_flight.fetch_sub(1, SeqCst);
        self.finished.fetch_add(1, SeqCst);
        OpReport {
            bytes: request.body.len() as u64,
            ..OpReport::default()
        }
    }

    async fn finish(self) -> Result<RunReport, Error> {
        Ok(RunReport::default())
    }
}

fn workload(pacing: Pacing, objects: u64) -> Workload {
    Workload {
        pacing,
        ops: OpMix::Put,
        sizes: SizeDist::Fixed { bytes: 1024 },
        objects,
        prefixes: 4,
        time_budget: Duration::from_secs(3600),
        seed: 1,
        first_index: 0,
        pause: Duration::ZERO,
    }
}

async fn run(w: &Workload) -> (Arc<Recorder>, Vec<Sample>, Driven) {
    let target = Arc::new(Recorder::default());
    let mut samples = Vec::new();
    let driven = drive(w, target.clone(), |s| samples.push(s)).await;
    (target, samples, driven)
}

#[tokio::test(start_paused = true)]
async fn batch_waits_for_the_whole_batch() {
    let (t, samples, driven) = run(&workload(Pacing::Batch { size: 10 }, 95)).await;
    assert_eq!((driven.started, samples.len()), (95, 95));
    assert_eq!(t.peak.load(SeqCst), 10);
    for &(index, _, finished) in t.starts.lock().unwrap().iter() {
        // Request i starts only after every request of the previous batches finished.
        assert!(
            finished >= (index as usize / 10) * 10,
            "request {index} started with {finished} done"
        );
        assert!(finished < (index as usize / 10) * 10 + 10);
    }
    assert!(samples.iter().all(|s| s.reply.bytes == 1024));
}

#[tokio::test(start_paused = true)]
async fn window_keeps_the_window_full() {
    let (t, samples, _) = run(&workload(Pacing::Window { size: 8 }, 100)).await;
    assert_eq!(samples.len(), 100);
    assert_eq!(t.peak.load(SeqCst), 8);
    // Unlike a batch, a window starts the next request before the others finish.
    let overlapped = t
        .starts
        .lock()
        .unwrap()
        .iter()
        .any(|&(index, _, finished)| index >= 8 && finished % 8 != 0);
    assert!(overlapped);
}

#[tokio::test(start_paused = true)]
async fn burst_starts_everything_at_once() {
    let (t, samples, _) = run(&workload(Pacing::Burst, 300)).await;
    assert_eq!(samples.len(), 300);
    assert_eq!(t.peak.load(SeqCst), 300);
}

#[tokio::test(start_paused = true)]
async fn rate_is_open_loop_and_latency_counts_from_the_intended_start() {
    let w = workload(Pacing::Rate { per_s: 100.0 }, 50);
    let start = Instant::now();
    let (_, samples, driven) = run(&w).await;
    assert_eq!(samples.len(), 50);
    // 50 requests at 100/s: the last starts at 490 ms.
    assert!(driven.elapsed >= Duration::from_millis(490));
    for s in &samples {
        let intended = start + Duration::from_millis(10 * s.index);
        assert!(
            s.intended_start.duration_since(intended) < Duration::from_millis(2),
            "{}",
            s.index
        );
        assert!(s.latency() >= Duration::from_millis(1));
    }
}

#[tokio::test(start_paused = true)]
async fn the_time_budget_stops_starting_requests_and_keeps_every_sample() {
    let mut w = workload(Pacing::Window { size: 2 }, 10_000);
    w.time_budget = Duration::from_millis(200);
    let (_, samples, driven) = run(&w).await;
    assert!(driven.cut_by_budget);
    assert!(driven.started < 10_000);
    assert_eq!(samples.len() as u64, driven.started);
}

#[tokio::test(start_paused = true)]
async fn mixed_ops_follow_the_fraction_and_sizes_stay_in_range() {
    let mut w = workload(Pacing::Window { size: 4 }, 2000);
    w.ops = OpMix::Mixed { get_fraction: 0.25 };
    w.sizes = SizeDist::Uniform { min: 100, max: 200 };
    let (_, samples, _) = run(&w).await;
    let gets = samples.iter().filter(|s| s.op == OpKind::Get).count();
    assert!((400..600).contains(&gets), "{gets} GETs of 2000");
    for s in samples.iter().filter(|s| s.op == OpKind::Put) {
        assert!((100..=200).contains(&s.reply.bytes), "{}", s.reply.bytes);
    }
}

#[test]
fn invalid_pacing_is_rejected() {
    assert!(Pacing::Batch { size: 0 }.validate().is_err());
    assert!(Pacing::Rate { per_s: 0.0 }.validate().is_err());
    assert!(Pacing::Rate { per_s: f64::NAN }.validate().is_err());
    assert!(Pacing::Window { size: 3 }.validate().is_ok());
}

#[test]
fn pattern_and_op_have_one_name_in_files_reports_and_flags() {
    use clap::ValueEnum as _;
    for &p in Pattern::value_variants() {
        assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        assert_eq!(p.to_possible_value().unwrap().get_name(), p.as_str());
    }
    for &op in Op::value_variants() {
        assert_eq!(serde_json::to_value(op).unwrap(), op.as_str());
        assert_eq!(op.to_possible_value().unwrap().get_name(), op.as_str());
    }
    let mixed = OpMix::Mixed { get_fraction: 0.3 };
    assert_eq!(
        (OpMix::Put.op(), OpMix::Get.op(), mixed.op()),
        (Op::Put, Op::Get, Op::Mixed)
    );
    assert_eq!(Pattern::Window.pacing(7, 1.0), Pacing::Window { size: 7 });
    assert_eq!(
        Pattern::Rate.pacing(7, 250.0),
        Pacing::Rate { per_s: 250.0 }
    );
}

#[tokio::test(start_paused = true)]
async fn bursts_pause_between_batches_and_parts_continue_the_keys() {
    let w = Workload {
        pause: Duration::from_millis(300),
        first_index: 40,
        ..workload(Pacing::Batch { size: 10 }, 30)
    };
    let (t, samples, driven) = run(&w).await;
    assert_eq!(driven.started, 30);
    // Two pauses: before the second and the third batch, none before the first.
    assert_eq!(driven.paused, Duration::from_millis(600));
    assert!(driven.elapsed >= driven.paused);
    let mut indices: Vec<u64> = samples.iter().map(|s| s.index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (40..70).collect::<Vec<u64>>());
    assert_eq!(t.peak.load(SeqCst), 10);
}
