//! Load + validate + plan time for every shipped profile, as the CLI does
//! it (embedded profiles, the real host facts). Run: `cargo bench --bench plan`.
//! Target: well under 1 ms for the largest profile.

use sandbox::host::RealHost;
use sandbox::plan::{Invocation, compile};
use sandbox::profile::{Location, SearchPath, Vars, load, validate};
use std::time::{Duration, Instant};

fn once(name: &'static str, vars: &Vars, host: &RealHost, search: &SearchPath) -> Duration {
    let start = Instant::now();
    let mut l = load(Location::Builtin(name), search);
    validate(&mut l, vars, host);
    let plan = compile(
        &l,
        host,
        &Invocation {
            command: vec!["/bin/true".into()],
            ..Invocation::default()
        },
    );
    let elapsed = start.elapsed();
    std::hint::black_box(plan.ok());
    elapsed
}

fn main() {
    let vars = Vars::from_process();
    let host = RealHost::new();
    let search = SearchPath::builtin_only();
    println!("| profile | bytes | mean | min | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, text) in sandbox::profile::resolve::BUILTIN {
        for _ in 0..50 {
            once(name, &vars, &host, &search);
        }
        let runs: Vec<Duration> = (0..500)
            .map(|_| once(name, &vars, &host, &search))
            .collect();
        let mean = runs.iter().sum::<Duration>() / runs.len() as u32;
        let (min, max) = (runs.iter().min().unwrap(), runs.iter().max().unwrap());
        println!(
            "| {name} | {} | {:.1} µs | {:.1} µs | {:.1} µs |",
            text.len(),
            mean.as_secs_f64() * 1e6,
            min.as_secs_f64() * 1e6,
            max.as_secs_f64() * 1e6
        );
    }
}
