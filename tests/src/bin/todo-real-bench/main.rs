//! `cargo xtask bench --real`: throughput and publish → consumer latency of
//! the real stack, host → daprd → Kafka → daprd → host, printed next to
//! Kafka's own tools run on the same broker in the same run (the machine
//! is shared and noisy, so only ratios within one run mean much).
//!
//! Two pods of the probe fixture component: `publisher` (its `/cmd`
//! publishes batches) and `subscriber` (subscribed to the bench topic; the
//! `.noop` events it gets cost nothing but the path). Counts and latency
//! come from the hosts' own metrics. Phases: (a) as fast as the path
//! sustains, (b) a fixed rate (default 1,000/s); each publishes for
//! `--seconds`, then waits for the consumer to catch up.
//!
//! Needs the shared servers `cargo xtask bench --real` starts
//! (`TODO_STACK_*`), the release `todo-host` (`TODO_HOST_BIN`) and the
//! built probe fixture.

mod baseline;
mod cpu;
// The lateness figures and tokio baseline of the in-process bench.
#[path = "../../../../host/benches/todo-bench/lateness.rs"]
mod lateness;
mod load;
mod prom;
mod reminders;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use todo_tests::manifest::AppManifest;
use todo_tests::real_stack::{Infra, RealStack};
use todo_tests::{Scratch, wasm, workspace_root};

use crate::baseline::Kafka;
use crate::prom::{Snapshot, Target};

const TOPIC: &str = "bench-events";
const BASELINE_TOPIC: &str = "bench-baseline";
const LATENCY_TOPIC: &str = "bench-latency";
/// Give up waiting for the consumer after this long without progress.
const STALL: Duration = Duration::from_secs(30);
const USAGE: &str = "usage: cargo xtask bench --real [options]
  --seconds 60              publishing time of each phase
  --rate 1000               events/s of the paced phase (b)
  --clients 8               concurrent HTTP clients of the publisher
  --batch 100               events per publish_batch in the max-rate phase (a)
  --rate-batch 10           events per publish_batch in the paced phase (b)
  --partitions 4            partitions of the bench topic (Dapr delivers each in order, one at a time)
  --max-backlog 1000        (a) pauses publishing while more events than this are unhandled
  --record-size 270         bytes per record for Kafka's tools (a bench event as Dapr writes it)
  --baseline-records 200000 records for ProducerPerformance
  --latency-records 5000    records for EndToEndLatency
  --reminders 10000         reminders through Dapr Jobs (0: none)
  --window 10               seconds the reminders are due within
  --lead 30                 seconds from scheduling to the first reminder
  --only events|reminders   one part of the bench";

struct Options {
    seconds: u64,
    rate: f64,
    clients: usize,
    batch: usize,
    rate_batch: usize,
    partitions: u32,
    max_backlog: u64,
    record_size: u64,
    baseline_records: u64,
    latency_records: u64,
    reminders: usize,
    window: u64,
    lead: u64,
    only: Option<String>,
}

fn options() -> Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let known = [
        "--seconds",
        "--rate",
        "--clients",
        "--batch",
        "--rate-batch",
        "--partitions",
        "--max-backlog",
        "--record-size",
        "--baseline-records",
        "--latency-records",
        "--reminders",
        "--window",
        "--lead",
        "--only",
    ];
    for pair in args.chunks(2) {
        if !known.contains(&pair[0].as_str()) || pair.len() < 2 {
            bail!("unexpected argument {:?}\n{USAGE}", pair[0]);
        }
    }
    let only = args
        .chunks(2)
        .find(|p| p[0] == "--only")
        .map(|p| p[1].clone());
    if only
        .as_deref()
        .is_some_and(|o| o != "events" && o != "reminders")
    {
        bail!("--only takes `events` or `reminders`\n{USAGE}");
    }
    let get = |name: &str, default: f64| -> Result<f64> {
        if name == "--only" {
            return Ok(default);
        }
        match args.chunks(2).find(|p| p[0] == name) {
            Some(p) => p[1]
                .parse()
                .with_context(|| format!("{name} takes a number\n{USAGE}")),
            None => Ok(default),
        }
    };
    Ok(Options {
        seconds: get("--seconds", 60.0)? as u64,
        rate: get("--rate", 1000.0)?,
        clients: get("--clients", 8.0)?.max(1.0) as usize,
        batch: get("--batch", 100.0)?.max(1.0) as usize,
        rate_batch: get("--rate-batch", 10.0)?.max(1.0) as usize,
        partitions: get("--partitions", 4.0)?.max(1.0) as u32,
        max_backlog: get("--max-backlog", 1000.0)? as u64,
        // The size of one bench event as Dapr writes it to Kafka (the
        // CloudEvent plus the trace and topic attributes daprd adds).
        record_size: get("--record-size", 270.0)? as u64,
        baseline_records: get("--baseline-records", 200_000.0)? as u64,
        latency_records: get("--latency-records", 5000.0)? as u64,
        reminders: get("--reminders", 10_000.0)? as usize,
        window: get("--window", 10.0)?.max(1.0) as u64,
        lead: get("--lead", 30.0)? as u64,
        only,
    })
}

fn manifest(probe: &std::path::Path) -> String {
    AppManifest::new("real-bench")
        .http("/cmd", "publisher")
        .topics("subscriber", &[TOPIC], "")
        .component("publisher", probe, "")
        .component("subscriber", probe, "")
        .build()
}

struct Bench {
    http: reqwest::Client,
    target: Target,
    cmd_url: String,
    watched: Vec<cpu::Watched>,
}

struct Phase {
    load: load::Outcome,
    delta: Snapshot,
    /// From the first publish to the last event handled.
    drained: Duration,
    cpu: String,
}

impl Bench {
    /// Waits until every event published since `before` is handled, or
    /// until the consumer stops making progress.
    async fn catch_up(&self, before: &Snapshot, t0: Instant) -> Result<(Snapshot, Duration)> {
        let mut last = (f64::NAN, Instant::now());
        loop {
            let now = self.target.snapshot(&self.http).await?;
            let d = now.since(before);
            if d.delivered + d.not_ok >= d.published {
                return Ok((now, t0.elapsed()));
            }
            if d.delivered != last.0 {
                last = (d.delivered, Instant::now());
            } else if last.1.elapsed() > STALL {
                return Ok((now, t0.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn phase(
        &self,
        tag: &str,
        rate: Option<f64>,
        batch: usize,
        o: &Options,
    ) -> Result<Phase> {
        self.phase_for(tag, rate, batch, Duration::from_secs(o.seconds), o)
            .await
    }

    async fn phase_for(
        &self,
        tag: &str,
        rate: Option<f64>,
        batch: usize,
        duration: Duration,
        o: &Options,
    ) -> Result<Phase> {
        let before = self.target.snapshot(&self.http).await?;
        let backlog = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let watcher = load::watch_backlog(
            self.http.clone(),
            self.target.clone(),
            backlog.clone(),
            done.clone(),
        );
        let plan = Arc::new(load::Load {
            cmd_url: self.cmd_url.clone(),
            topic: TOPIC.to_owned(),
            tag: tag.to_owned(),
            clients: o.clients,
            batch,
            duration,
            rate,
            max_backlog: o.max_backlog,
        });
        let cpu0 = cpu::sample(&self.watched);
        let t0 = Instant::now();
        let outcome = load::run(&self.http, plan, backlog).await;
        let cpu1 = cpu::sample(&self.watched);
        let (after, drained) = self.catch_up(&before, t0).await?;
        done.store(true, Ordering::Relaxed);
        let _ = watcher.await;
        Ok(Phase {
            load: outcome,
            delta: after.since(&before),
            drained,
            cpu: cpu::report(&self.watched, &cpu0, &cpu1),
        })
    }
}

fn ms(seconds: Option<f64>) -> String {
    match seconds {
        None => "n/a".to_owned(),
        Some(s) if s.is_infinite() => "> 10000 ms".to_owned(),
        Some(s) => format!("{:.1} ms", s * 1e3),
    }
}

/// `ours` (seconds) over `base_ms`.
fn ratio(ours: Option<f64>, base_ms: f64) -> String {
    match ours {
        Some(s) if s.is_finite() && base_ms > 0.0 => format!("{:.1}x", s * 1e3 / base_ms),
        _ => "n/a".to_owned(),
    }
}

/// `ours` over a figure the tool truncated to whole ms: the true value
/// lies in `[whole, whole + 1)` ms, so the ratio is a range.
fn ratio_to_whole_ms(ours: Option<f64>, whole_ms: f64) -> String {
    match ours {
        Some(s) if s.is_finite() && whole_ms > 0.0 => format!(
            "{:.1}x..{:.1}x",
            s * 1e3 / (whole_ms + 1.0),
            s * 1e3 / whole_ms
        ),
        Some(s) if s.is_finite() => format!("> {:.1}x", s * 1e3 / (whole_ms + 1.0)),
        _ => "n/a".to_owned(),
    }
}

fn print_phase(title: &str, offered: &str, p: &Phase) {
    let d = &p.delta;
    let publishing = p.load.elapsed.as_secs_f64();
    let lost = d.published - d.delivered;
    println!("{title}");
    println!("  offered     {offered}");
    println!(
        "  achieved    {:.0} events/s published over {publishing:.1} s; \
         {:.0} events/s handled end to end ({:.1} s from first publish to last handled)",
        d.published / publishing,
        d.delivered / p.drained.as_secs_f64(),
        p.drained.as_secs_f64()
    );
    println!(
        "  published   {:.0} (publisher events_out)   delivered {:.0} (subscriber events_in, success)",
        d.published, d.delivered
    );
    if lost > 0.0 {
        println!(
            "  lost        {lost:.0}  <-- NOT ZERO: published, never handled (no progress for {} s)",
            STALL.as_secs()
        );
    } else if lost < 0.0 {
        println!(
            "  lost        0 ({:.0} more handled than published: redeliveries or partial batch failures)",
            -lost
        );
    } else {
        println!("  lost        0");
    }
    if d.not_ok > 0.0 {
        println!(
            "  not ok      {:.0} deliveries ended in retry/drop/error",
            d.not_ok
        );
    }
    println!(
        "  latency     p50 {}, p99 {} (event time -> handled, {:.0} events; bucket resolution: \
         interpolated within todo_delivery_seconds buckets, event time in whole ms)",
        ms(d.latency_quantile(0.5)),
        ms(d.latency_quantile(0.99)),
        d.observed()
    );
    println!("  histogram   {}", d.shares());
    println!(
        "  client      {} batches ok, {} failed, {} sent >100 ms late",
        p.load.batches_ok, p.load.batches_failed, p.load.late_batches
    );
    if let Some(e) = &p.load.first_error {
        println!("  first error {e}");
    }
    println!("  cpu         {}", p.cpu);
}

fn main() -> Result<()> {
    let o = options()?;
    let infra = Infra::from_env()
        .context("TODO_STACK_* not set: run this through `cargo xtask bench --real`")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if o.only.as_deref() != Some("reminders") {
        events(infra.clone(), &o, &runtime)?;
    }
    if o.only.as_deref() != Some("events") && o.reminders > 0 {
        let (window, lead) = (Duration::from_secs(o.window), Duration::from_secs(o.lead));
        runtime.block_on(reminders::run(
            infra,
            o.reminders,
            window,
            lead,
            o.partitions,
        ))?;
    }
    Ok(())
}

/// Events through the probe pods, then Kafka's own tools.
fn events(infra: Infra, o: &Options, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let root = workspace_root();
    let kafka = Kafka {
        bootstrap: infra.kafka.clone(),
        dir: infra.work.join("kafka"),
    };
    kafka.create_topic(&root, TOPIC, o.partitions)?;
    kafka.create_topic(&root, BASELINE_TOPIC, o.partitions)?;
    kafka.create_topic(&root, LATENCY_TOPIC, 1)?;
    let kafka_pid = infra.work.join("kafka/kafka.pid");

    let scratch = Scratch::new();
    let probe = scratch.install(&wasm("fixtures/probe.wasm"), "probe.wasm");
    let manifest = scratch.write("spin.toml", &manifest(&probe));
    let started = Instant::now();
    let stack = RealStack::start(infra, &manifest).context("starting the bench pods")?;
    let port = |c: &str| stack.pods[stack.pod(c)].app_port;
    let metrics_port = |c: &str| stack.pods[stack.pod(c)].metrics_port;
    eprintln!("pods up in {:.1} s", started.elapsed().as_secs_f64());

    let mut watched = cpu::pod("publisher", port("publisher"));
    watched.extend(cpu::from_pid_file("kafka (java)", &kafka_pid));
    watched.extend(cpu::pod("subscriber", port("subscriber")));
    watched.push(cpu::this_process());
    let bench = Bench {
        http: reqwest::Client::new(),
        target: Target {
            publisher_port: metrics_port("publisher"),
            publisher: "publisher".into(),
            subscriber_port: metrics_port("subscriber"),
            subscriber: "subscriber".into(),
            topic: TOPIC.into(),
        },
        cmd_url: format!("http://127.0.0.1:{}/cmd", port("publisher")),
        watched,
    };

    let result = runtime.block_on(run(&bench, &kafka, o));
    if result.is_err() {
        eprintln!("{}", stack.log_of("subscriber"));
    }
    result
}

async fn run(bench: &Bench, kafka: &Kafka, o: &Options) -> Result<()> {
    println!(
        "real stack: todo-host -> daprd -> Kafka ({} partitions) -> daprd -> todo-host, probe `.noop` events",
        o.partitions
    );
    // Warm-up: the consumer group joins, connections open, code pages
    // fault in; nothing of it is counted.
    let warm = bench
        .phase_for("warm", Some(500.0), o.rate_batch, Duration::from_secs(3), o)
        .await?;
    if warm.delta.delivered < warm.delta.published || warm.delta.published == 0.0 {
        bail!(
            "warm-up: {} published, {} handled; the path does not work",
            warm.delta.published,
            warm.delta.delivered
        );
    }

    let max = bench.phase("max", None, o.batch, o).await?;
    print_phase(
        &format!(
            "(a) max rate: {} s, {} clients x batches of {}, publishing paused above {} unhandled",
            o.seconds, o.clients, o.batch, o.max_backlog
        ),
        "as fast as the path takes it (closed loop)",
        &max,
    );
    let paced = bench.phase("paced", Some(o.rate), o.rate_batch, o).await?;
    print_phase(
        &format!(
            "(b) {:.0} events/s: {} s, batches of {} every {:.1} ms",
            o.rate,
            o.seconds,
            o.rate_batch,
            o.rate_batch as f64 / o.rate * 1e3
        ),
        &format!("{:.0} events/s", o.rate),
        &paced,
    );

    let kafka = Kafka {
        bootstrap: kafka.bootstrap.clone(),
        dir: kafka.dir.clone(),
    };
    let (records, size, lat_records) = (o.baseline_records, o.record_size, o.latency_records);
    let (perf, e2e) = tokio::task::spawn_blocking(move || {
        let perf = kafka.producer_perf(BASELINE_TOPIC, records, size)?;
        let e2e = kafka.end_to_end(LATENCY_TOPIC, lat_records, size)?;
        anyhow::Ok((perf, e2e))
    })
    .await??;
    println!("baseline: Kafka's own tools, same broker, same run ({size}-byte records, acks=all)");
    println!(
        "  ProducerPerformance  {records} records unthrottled: {:.0} records/s \
         (its send -> ack p50 {} ms, p99 {} ms: mostly its own buffering)",
        perf.records_per_sec, perf.p50_ms, perf.p99_ms
    );
    println!(
        "  EndToEndLatency      {lat_records} records one at a time, produce -> consumed: \
         avg {:.2} ms, p50 {} ms, p99 {} ms (percentiles in whole ms, truncated by the tool)",
        e2e.avg_ms, e2e.p50_ms, e2e.p99_ms
    );

    let handled = |p: &Phase| p.delta.delivered / p.drained.as_secs_f64();
    let (p50, p99) = (
        paced.delta.latency_quantile(0.5),
        paced.delta.latency_quantile(0.99),
    );
    println!("ratios (ours / baseline)");
    println!(
        "  throughput  (a) {:.0} handled/s end to end / {:.0} records/s produced = {:.3}x",
        handled(&max),
        perf.records_per_sec,
        handled(&max) / perf.records_per_sec
    );
    println!(
        "  latency     (b) p50 {} / {} ms = {}; p99 {} / {} ms = {}; against its mean {:.2} ms: \
         p50 {}, p99 {}",
        ms(p50),
        e2e.p50_ms,
        ratio_to_whole_ms(p50, e2e.p50_ms),
        ms(p99),
        e2e.p99_ms,
        ratio_to_whole_ms(p99, e2e.p99_ms),
        e2e.avg_ms,
        ratio(p50, e2e.avg_ms),
        ratio(p99, e2e.avg_ms),
    );
    let lost = |p: &Phase| (p.delta.published - p.delta.delivered).max(0.0);
    println!(
        "targets: 5,000 events/s nothing lost: {:.0}/s, lost {:.0} -> {}; \
         p99 <= 25 ms at 1,000/s: {} at {:.0}/s -> {}",
        handled(&max),
        lost(&max),
        if handled(&max) >= 5000.0 && lost(&max) == 0.0 {
            "met"
        } else {
            "not met"
        },
        ms(p99),
        o.rate,
        match p99 {
            Some(p) if p <= 0.025 && lost(&paced) == 0.0 && o.rate >= 1000.0 => "met",
            _ => "not met",
        }
    );
    Ok(())
}
