//! Load: 64 concurrent clients on loopback, each sending single commands to `POST
//! /v1/commands` of a server over a sled ledger, against 64 threads calling the in-process
//! library's `execute` on another sled ledger, in the same run. Prints commands/s and p50/p99.
//!
//! `cargo bench -p memberledger-http --bench load` (`MEMBERLEDGER_BENCH_CLIENTS`,
//! `MEMBERLEDGER_BENCH_COMMANDS` per client).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use memberledger::{Clock, Command, Ledger};
use memberledger_http::{AppState, Config, Role, Tokens};

/// As the `memberledger` binary does (see its `main.rs`), for both sides.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Client `c`'s `i`-th command: its own member, times going forward.
fn line(c: usize, i: usize) -> String {
    let id = format!("b0000000-0000-4000-8000-{:06}{:06}", c, i);
    let rest = if i == 0 {
        r#""type":"enroll""#.to_owned()
    } else {
        format!(r#""type":"recharge","amount":"{}.00""#, 10 + i % 90)
    };
    let at = format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        i / 3600,
        (i / 60) % 60,
        i % 60
    );
    format!(
        r#"{{"id":"{id}","at":"{at}","member":"B{c}","store":"S{}",{rest}}}"#,
        c % 8
    )
}

fn clock() -> Clock {
    Clock::fixed("2026-06-01T00:00:00Z".parse().expect("a time"))
}

/// Runs `clients` threads making calls `from..from + per` each; returns (commands/s, sorted
/// latencies).
fn run(
    clients: usize,
    from: usize,
    per: usize,
    call: Arc<dyn Fn(usize, usize) + Send + Sync>,
) -> (f64, Vec<Duration>) {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (call, barrier) = (call.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                (from..from + per)
                    .map(|i| {
                        let t = Instant::now();
                        call(c, i);
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    let took = started.elapsed().as_secs_f64();
    lat.sort();
    (lat.len() as f64 / took, lat)
}

fn pct(lat: &[Duration], p: usize) -> f64 {
    lat[(lat.len() * p / 100).min(lat.len() - 1)].as_secs_f64() * 1000.0
}

fn main() {
    let clients = env("MEMBERLEDGER_BENCH_CLIENTS", 64);
    let per = env("MEMBERLEDGER_BENCH_COMMANDS", 100);
    let dir = tempfile::tempdir().expect("a directory");

    // The library, in process.
    let lib = Arc::new(Ledger::open(dir.path().join("lib")).expect("a ledger"));
    lib.set_clock(clock());
    let lib_call: Arc<dyn Fn(usize, usize) + Send + Sync> = Arc::new(move |c, i| {
        let cmd = Command::from_json(&line(c, i)).expect("a command");
        lib.execute(&cmd).expect("recorded");
    });

    // The server, on loopback.
    let ledger = Ledger::open(dir.path().join("http")).expect("a ledger");
    ledger.set_clock(clock());
    let token = memberledger_http::new_token().expect("a token");
    let mut tokens = Tokens::new();
    tokens.insert(&token, Role::Hq);
    let config = Config {
        rate_per_sec: 0,
        ..Config::default()
    };
    let state = AppState::new(Arc::new(ledger), tokens, config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            memberledger_http::serve(listener, state, std::future::pending()).await
        })
    });
    let url = format!("http://{addr}/v1/commands");
    let auth = format!("Bearer {token}");
    let agents: Arc<Vec<ureq::Agent>> = Arc::new((0..clients).map(|_| ureq::agent()).collect());
    let http_call: Arc<dyn Fn(usize, usize) + Send + Sync> = Arc::new(move |c, i| {
        let r = agents[c]
            .post(&url)
            .set("Authorization", &auth)
            .send_string(&line(c, i))
            .expect("200");
        assert_eq!(r.status(), 200);
        let _ = r.into_string();
    });

    // Rounds alternate the two sides, so a busy machine weighs on both alike.
    let mut rounds = Vec::new();
    for r in 0..env("MEMBERLEDGER_BENCH_ROUNDS", 3) {
        let lib = run(clients, r * per, per, lib_call.clone());
        let http = run(clients, r * per, per, http_call.clone());
        rounds.push((lib, http));
    }
    println!("load: {clients} clients x {per} commands x {} rounds, single commands, sled on disk (fdatasync)", rounds.len());
    println!(
        "{:<28} {:>12} {:>10} {:>10}",
        "", "commands/s", "p50 ms", "p99 ms"
    );
    let mut ratios = Vec::new();
    for (r, ((lib_rate, lib_lat), (http_rate, http_lat))) in rounds.iter().enumerate() {
        for (name, rate, lat) in [
            ("library (in process)", lib_rate, lib_lat),
            ("HTTP (loopback)", http_rate, http_lat),
        ] {
            println!(
                "round {r} {name:<20} {rate:>12.0} {:>10.2} {:>10.2}",
                pct(lat, 50),
                pct(lat, 99)
            );
        }
        ratios.push(http_rate / lib_rate * 100.0);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "HTTP / library, median of the rounds: {:.0} %",
        ratios[ratios.len() / 2]
    );
}
