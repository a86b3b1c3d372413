//! Mock vs floor: what one small request costs the mock beyond a bare hyper + rustls server.
//!
//! 1 KiB PUTs (auth off, and with SigV4 verification) and 1 KiB GETs over 50 keep-alive TLS
//! connections, against the standalone `mock-s3` (`--profile ideal`, PUTs with
//! `--storage discard`) and the floor (a bare hyper + tokio-rustls server that reads the body
//! and answers 200 with an ETag, [`floor`]), each a process of its own with one worker thread
//! per core. Rounds alternate floor and mock, each on a fresh server; every round reports
//! requests per second and the CPU time per request of the server process and of the client
//! threads. The summary gives medians with their spread, the mock/floor ratio (goal: at
//! least 0.90 for PUT with auth off), and for each server the cores that it and the client
//! kept busy, with what limited the rounds: the client's threads, the server's, or the cores
//! both share on this machine.
//!
//! The client ([`load`]) is lean, so that the server saturates first: it sends the same
//! pre-encoded (and pre-signed) request bytes again and again and skips responses without
//! parsing them into header maps. `-- --client oha` runs the same rounds with oha (1.16, not
//! a dependency: `cargo install oha --version '~1.16' --locked`, found on PATH or in `$OHA`) as
//! the load generator, to check that the lean client is not the bottleneck: against the floor
//! it must serve at least as many requests per second as oha.
//!
//! `-- instructions` counts the instructions each server executes per request instead
//! (valgrind's callgrind, after a warm-up, on a fixed number of requests): the same figures
//! however busy the machine is, and the files `callgrind_annotate` attributes by function.
//!
//! Run: `cargo bench -p mock-s3 --bench serve` (`-- --quick` for shorter rounds; `-- --help`).

mod floor;
mod load;
mod process;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use load::{Load, Request};
use process::Server;

/// Body size of PUTs and GETs.
pub(crate) const BODY: usize = 1024;
const PATH: &str = "/bench/obj";

/// One kind of request, and how the mock is started for it.
struct Scenario {
    name: &'static str,
    method: &'static str,
    mock_args: &'static [&'static str],
    signed: bool,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "put_1KiB",
        method: "PUT",
        mock_args: &["--no-auth", "--profile", "ideal", "--storage", "discard"],
        signed: false,
    },
    Scenario {
        name: "put_1KiB_sigv4",
        method: "PUT",
        mock_args: &["--profile", "ideal", "--storage", "discard"],
        signed: true,
    },
    Scenario {
        name: "get_1KiB",
        method: "GET",
        mock_args: &["--no-auth", "--profile", "ideal"],
        signed: false,
    },
];

/// The two servers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Floor,
    Mock,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Floor => "floor",
            Target::Mock => "mock",
        }
    }

    /// The program and arguments that start it for `scenario`.
    fn command(self, scenario: &Scenario, threads: Option<usize>) -> (PathBuf, Vec<String>) {
        let (program, mut args) = match self {
            Target::Floor => (std::env::current_exe().unwrap(), vec!["floor".to_owned()]),
            // SERVE_MOCK_BIN measures another build of the mock (an older commit's, say).
            Target::Mock => (
                std::env::var_os("SERVE_MOCK_BIN").map_or_else(
                    || PathBuf::from(env!("CARGO_BIN_EXE_mock-s3")),
                    PathBuf::from,
                ),
                scenario.mock_args.iter().map(|a| (*a).to_owned()).collect(),
            ),
        };
        if let Some(n) = threads {
            args.extend(["--worker-threads".to_owned(), n.to_string()]);
        }
        (program, args)
    }
}

/// The load generator.
#[derive(Clone)]
enum Client {
    /// [`load`], on this many threads.
    Lean { threads: usize },
    /// oha, at this path.
    Oha(PathBuf),
}

struct Options {
    rounds: usize,
    warmup: Duration,
    secs: Duration,
    connections: usize,
    client: Client,
    only: Option<String>,
    /// `--worker-threads` of both servers (default: theirs, one per core).
    server_threads: Option<usize>,
    /// `instructions`: requests measured and requests before.
    requests: u64,
    warmup_requests: u64,
}

const HELP: &str = "\
cargo bench -p mock-s3 --bench serve -- [OPTIONS]
cargo bench -p mock-s3 --bench serve -- instructions [--requests N] [--only NAME]

  --quick              3 rounds of 2 s (default: 5 rounds of 5 s)
  --rounds N           rounds per server
  --secs S             measured seconds per round (after 1 s of warm-up)
  --connections N      keep-alive connections (default 50)
  --client lean|oha    load generator (default lean; oha from $OHA or PATH)
  --client-threads N   lean client threads (default: one per core)
  --server-threads N   worker threads of both servers (default: one per core)
  --only NAME          scenarios whose name contains NAME (put_1KiB, put_1KiB_sigv4, get_1KiB)
  instructions         callgrind instruction counts per request instead of timing
  floor                serve the floor alone (prints endpoint=... ca=...)

SERVE_MOCK_BIN=PATH measures another mock-s3 binary (e.g. an older commit's build).";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if args.first().map(String::as_str) == Some("floor") {
        return floor::main(&args[1..]);
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return;
    }
    mock_s3::tls::install_crypto_provider();
    let instructions = args.iter().any(|a| a == "instructions");
    let options = parse(&args);
    let scenarios: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| options.only.as_deref().is_none_or(|o| s.name.contains(o)))
        .collect();
    if instructions {
        count_instructions(&scenarios, &options);
    } else {
        time_rounds(&scenarios, &options);
    }
}

fn parse(args: &[String]) -> Options {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let quick = args.iter().any(|a| a == "--quick" || a == "--test");
    let mut o = Options {
        rounds: if quick { 3 } else { 5 },
        warmup: Duration::from_secs(1),
        secs: Duration::from_secs(if quick { 2 } else { 5 }),
        connections: 50,
        client: Client::Lean { threads: cores },
        only: None,
        server_threads: None,
        requests: 10_000,
        warmup_requests: 2_500,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{a} needs a value\n{HELP}"))
        };
        let number = |v: String| -> u64 {
            v.parse()
                .unwrap_or_else(|_| panic!("{a}: not a number: {v}\n{HELP}"))
        };
        match a.as_str() {
            "--rounds" => o.rounds = number(value()).max(1) as usize,
            "--secs" => o.secs = Duration::from_secs(number(value()).max(1)),
            "--connections" => o.connections = number(value()).max(1) as usize,
            "--client-threads" => {
                o.client = Client::Lean {
                    threads: number(value()).max(1) as usize,
                };
            }
            "--client" => {
                o.client = match value().as_str() {
                    "lean" => Client::Lean { threads: cores },
                    "oha" => Client::Oha(find_oha()),
                    other => panic!("--client {other}: lean or oha\n{HELP}"),
                }
            }
            "--only" => o.only = Some(value()),
            "--server-threads" => o.server_threads = Some(number(value()).max(1) as usize),
            "--requests" => o.requests = number(value()).max(1),
            "--quick" | "--test" | "--bench" | "instructions" => {}
            other => panic!("unknown argument {other}\n{HELP}"),
        }
    }
    o
}

fn find_oha() -> PathBuf {
    let candidates = std::env::var_os("OHA")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|d| d.join("oha")),
        );
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "--client oha: no oha in $OHA or on PATH (install it outside the project: \
         cargo install oha --version '~1.16' --locked --root DIR, then OHA=DIR/bin/oha)"
    );
}

/// The 1-minute load average, for the record.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// Keys to sign with: the mock's (the floor accepts anything).
fn keys(server: &Server) -> (String, String) {
    server.keys.clone().unwrap_or_else(|| {
        (
            mock_s3::config::DEFAULT_ACCESS_KEY.to_owned(),
            mock_s3::config::DEFAULT_SECRET_KEY.to_owned(),
        )
    })
}

/// Creates the bucket (and, for a GET, the object) with one request each.
fn prepare(server: &Server, scenario: &Scenario) {
    let keys = scenario.signed.then(|| keys(server));
    let body = vec![b'x'; BODY];
    let mut steps = vec![Request::new(
        "PUT",
        "/bench",
        server.addr,
        b"",
        keys.as_ref(),
    )];
    if scenario.method == "GET" {
        steps.push(Request::new("PUT", PATH, server.addr, &body, keys.as_ref()));
    }
    for step in steps {
        Load::connect(server.addr, &server.ca, &step, 1, 1).run(1);
    }
}

/// The request a scenario sends.
fn request(server: &Server, scenario: &Scenario) -> Request {
    let keys = scenario.signed.then(|| keys(server));
    let body = if scenario.method == "PUT" {
        vec![b'x'; BODY]
    } else {
        Vec::new()
    };
    Request::new(scenario.method, PATH, server.addr, &body, keys.as_ref())
}

/// What one round measured.
#[derive(Clone, Copy)]
struct Round {
    rps: f64,
    server_us: f64,
    client_us: Option<f64>,
    /// The server's context switches per request.
    switches: f64,
}

fn time_rounds(scenarios: &[&Scenario], o: &Options) {
    let client = match &o.client {
        Client::Lean { threads } => format!("lean client on {threads} threads"),
        Client::Oha(p) => format!("oha ({})", p.display()),
    };
    println!(
        "mock vs floor: {} keep-alive TLS connections, {client}, {} rounds of {} s each, alternating; load average {} at start",
        o.connections,
        o.rounds,
        o.secs.as_secs(),
        load_average()
    );
    let mut results = Vec::new();
    for scenario in scenarios {
        let mut rounds: [Vec<Round>; 2] = [Vec::new(), Vec::new()];
        for i in 0..o.rounds {
            for (t, target) in [Target::Floor, Target::Mock].into_iter().enumerate() {
                let r = one_round(scenario, target, o);
                println!(
                    "{:<15} round {} {:<5} {:>9.0} req/s  server {:>6.2} µs/req, {:.2} switches/req  client {}",
                    scenario.name,
                    i + 1,
                    target.name(),
                    r.rps,
                    r.server_us,
                    r.switches,
                    r.client_us
                        .map_or("?".to_owned(), |c| format!("{c:.2} µs/req")),
                );
                rounds[t].push(r);
            }
        }
        results.push((scenario.name, rounds));
    }
    println!(
        "\nmock vs floor ({client}; medians of {} rounds, [min–max]; load average {} at end)",
        o.rounds,
        load_average()
    );
    println!(
        "{:<15} {:>22} {:>22} {:>18} {:>26}",
        "scenario", "floor req/s", "mock req/s", "ratio [rounds]", "server µs/req floor/mock"
    );
    for (name, [floor, mock]) in &results {
        let (f, m) = (stats(floor, |r| r.rps), stats(mock, |r| r.rps));
        let pair: Vec<f64> = floor.iter().zip(mock).map(|(f, m)| m.rps / f.rps).collect();
        let (fc, mc) = (stats(floor, |r| r.server_us), stats(mock, |r| r.server_us));
        println!(
            "{name:<15} {:>22} {:>22} {:>5.2} [{:.2}–{:.2}] {:>7.2} / {:>5.2} = {:.2}",
            f.show(),
            m.show(),
            m.median / f.median,
            min(&pair),
            max(&pair),
            fc.median,
            mc.median,
            fc.median / mc.median,
        );
    }
    println!(
        "ratio: mock/floor requests per second (goal for put_1KiB: >= 0.90); the last column is \
         the servers' CPU per request and floor/mock"
    );
    // What limited each server's rounds: its own worker threads, the client's threads, or the
    // cores they share (both run on this machine).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    let server_threads = o.server_threads.map_or(cores, |n| n as f64);
    let client_threads = match &o.client {
        Client::Lean { threads } => *threads as f64,
        // oha runs a tokio runtime with a worker per core.
        Client::Oha(_) => cores,
    };
    println!(
        "\nbusy cores (median over rounds: CPU per request x requests per second), of {cores} \
         cores; server threads {server_threads}, client threads {client_threads}"
    );
    for (name, rounds) in &results {
        for (target, rounds) in [Target::Floor, Target::Mock].iter().zip(rounds) {
            let server = stats(rounds, |r| r.server_us * r.rps / 1e6).median;
            let client = rounds
                .iter()
                .all(|r| r.client_us.is_some())
                .then(|| stats(rounds, |r| r.client_us.unwrap_or(0.0) * r.rps / 1e6).median);
            let verdict = match client {
                Some(c) if c >= 0.9 * client_threads => {
                    "client-bound: the client's threads were saturated"
                }
                _ if server >= 0.9 * server_threads => {
                    "server-bound: its worker threads were saturated"
                }
                Some(c) if server + c >= 0.9 * cores => {
                    "cores-bound: server and client together filled the cores (the client was not the bottleneck alone)"
                }
                Some(_) => {
                    "neither saturated: the machine's other load or the connections' round trips limited it"
                }
                None => "client CPU unknown",
            };
            println!(
                "{name:<15} {:<5} server {server:.2}  client {}  {verdict}",
                target.name(),
                client.map_or("?".to_owned(), |c| format!("{c:.2}")),
            );
        }
    }
}

fn one_round(scenario: &Scenario, target: Target, o: &Options) -> Round {
    let (program, args) = target.command(scenario, o.server_threads);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&program, &args);
    prepare(&server, scenario);
    let request = request(&server, scenario);
    match &o.client {
        Client::Lean { threads } => {
            let load = Load::connect(server.addr, &server.ca, &request, o.connections, *threads);
            load.start();
            std::thread::sleep(o.warmup);
            let (r0, s0, c0, x0, t0) = (
                load.responses(),
                server.cpu_ns(),
                load.cpu_ns(),
                server.switches(),
                Instant::now(),
            );
            std::thread::sleep(o.secs);
            let (r1, s1, c1, x1, t1) = (
                load.responses(),
                server.cpu_ns(),
                load.cpu_ns(),
                server.switches(),
                Instant::now(),
            );
            load.stop();
            let n = (r1 - r0).max(1) as f64;
            Round {
                rps: n / (t1 - t0).as_secs_f64(),
                server_us: (s1 - s0) as f64 / n / 1e3,
                client_us: Some((c1 - c0) as f64 / n / 1e3),
                switches: (x1 - x0) as f64 / n,
            }
        }
        Client::Oha(oha) => run_oha(oha, &server, scenario, o),
    }
}

/// One oha run of `o.secs` against `server`; every answer must be a 200.
fn run_oha(oha: &Path, server: &Server, scenario: &Scenario, o: &Options) -> Round {
    let dir = std::env::temp_dir();
    let body_file = dir.join(format!("serve-oha-body-{}", std::process::id()));
    std::fs::write(&body_file, vec![b'x'; BODY]).unwrap();
    let mut cmd = Command::new(oha);
    cmd.args(["--no-tui", "--insecure", "--output-format", "json"])
        .args(["-z", &format!("{}s", o.secs.as_secs())])
        .args(["-c", &o.connections.to_string()])
        .args(["-m", scenario.method]);
    if scenario.method == "PUT" {
        cmd.arg("-D").arg(&body_file);
    }
    if scenario.signed {
        let host = server.addr.to_string();
        for (k, v) in load::signed_headers(scenario.method, &host, PATH, &keys(server)) {
            cmd.args(["-H", &format!("{k}: {v}")]);
        }
    }
    cmd.arg(format!("https://{}{PATH}", server.addr));
    let (s0, c0, x0) = (server.cpu_ns(), children_cpu_ns(), server.switches());
    let out = cmd.output().expect("oha runs");
    let (s1, c1, x1) = (server.cpu_ns(), children_cpu_ns(), server.switches());
    let _ = std::fs::remove_file(&body_file);
    assert!(
        out.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oha's JSON output");
    let codes = v["statusCodeDistribution"]
        .as_object()
        .expect("statusCodeDistribution");
    let total: u64 = codes.values().filter_map(|n| n.as_u64()).sum();
    let ok = codes.get("200").and_then(|n| n.as_u64()).unwrap_or(0);
    assert!(
        total > 0 && ok == total,
        "oha got other answers than 200: {codes:?}"
    );
    let n = total as f64;
    Round {
        rps: v["summary"]["requestsPerSec"]
            .as_f64()
            .expect("summary.requestsPerSec"),
        server_us: (s1 - s0) as f64 / n / 1e3,
        client_us: c1.zip(c0).map(|(c1, c0)| (c1 - c0) as f64 / n / 1e3),
        switches: (x1 - x0) as f64 / n,
    }
}

/// CPU time of this process's waited-for children (user and system), ns: `/proc/self/stat`
/// counts it in ticks of 1/100 s (USER_HZ).
fn children_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command: state is field 3, cutime 16 and cstime 17.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

/// Median and spread of one figure over rounds.
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn show(&self) -> String {
        format!("{:.0} [{:.0}–{:.0}]", self.median, self.min, self.max)
    }
}

fn stats(rounds: &[Round], f: impl Fn(&Round) -> f64) -> Stats {
    let mut v: Vec<f64> = rounds.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    Stats {
        median,
        min: v[0],
        max: v[v.len() - 1],
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// Instructions per request of each server (callgrind), after a warm-up, on the same
/// connections.
fn count_instructions(scenarios: &[&Scenario], o: &Options) {
    let valgrind = Command::new("valgrind").arg("--version").output();
    assert!(
        valgrind.is_ok_and(|v| v.status.success()),
        "instructions: valgrind is not installed"
    );
    let dir = target_dir().join("serve-instructions");
    std::fs::create_dir_all(&dir).unwrap();
    let per_conn = o.requests.div_ceil(o.connections as u64);
    let warm = o.warmup_requests.div_ceil(o.connections as u64);
    let measured = per_conn * o.connections as u64;
    println!(
        "instructions per request (callgrind): {} keep-alive TLS connections, {} requests after {} of warm-up",
        o.connections,
        measured,
        warm * o.connections as u64
    );
    let mut rows = Vec::new();
    for scenario in scenarios {
        let mut per_request = [0.0; 2];
        for (t, target) in [Target::Floor, Target::Mock].into_iter().enumerate() {
            let out = dir.join(format!("{}-{}.callgrind", scenario.name, target.name()));
            for old in dumps(&out) {
                let _ = std::fs::remove_file(old);
            }
            let (program, args) = target.command(scenario, o.server_threads);
            let mut vg = vec![
                "-q".to_owned(),
                "--tool=callgrind".to_owned(),
                format!("--callgrind-out-file={}", out.display()),
                program.display().to_string(),
            ];
            vg.extend(args);
            let vg: Vec<&str> = vg.iter().map(String::as_str).collect();
            let server = Server::start(Path::new("valgrind"), &vg);
            prepare(&server, scenario);
            let load = Load::connect(
                server.addr,
                &server.ca,
                &request(&server, scenario),
                o.connections,
                1,
            );
            load.run(warm);
            callgrind_control(&["-z"], &server);
            load.run(per_conn);
            callgrind_control(&["-d"], &server);
            drop(load);
            drop(server);
            let dump = dumps(&out)
                .into_iter()
                .max()
                .expect("callgrind wrote a dump");
            let total = callgrind_total(&dump);
            per_request[t] = total as f64 / measured as f64;
            println!(
                "{:<15} {:<5} {:>9.0} instructions/request   (callgrind_annotate {})",
                scenario.name,
                target.name(),
                per_request[t],
                dump.display()
            );
        }
        rows.push((scenario.name, per_request));
    }
    println!(
        "\n{:<15} {:>12} {:>12} {:>12}",
        "scenario", "floor", "mock", "mock/floor"
    );
    for (name, [f, m]) in rows {
        println!("{name:<15} {f:>12.0} {m:>12.0} {:>12.2}", m / f);
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The dump files callgrind wrote for `out` (`out.1`, `out.2`, ...).
fn dumps(out: &Path) -> Vec<PathBuf> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{name}.")))
        })
        .collect()
}

fn callgrind_control(args: &[&str], server: &Server) {
    let status = Command::new("callgrind_control")
        .args(args)
        .arg(server.pid().to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("callgrind_control runs");
    assert!(status.success(), "callgrind_control {args:?} failed");
}

/// The `totals:` (or `summary:`) line of a callgrind dump.
fn callgrind_total(dump: &Path) -> u64 {
    let text = std::fs::read_to_string(dump).unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no totals in {}", dump.display()))
}
