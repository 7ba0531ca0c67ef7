//! `cargo xtask bench`: figures for the in-process host, each printed next
//! to a baseline measured in the same run (this machine is shared and
//! noisy, so only ratios within one run mean much).
//!
//! 1. fresh instance + handle of one event, vs. a call on a reused instance;
//! 2. events/s through publish -> durable log -> one subscriber, vs. the
//!    durable log's own append rate;
//! 3. list / filter / sort one page for a user with 5,000 tasks, vs. the
//!    same request for a user with 50 (`listing`);
//! 4. 10,000 reminders due within 10 s through notification and the
//!    embedded scheduler, vs. plain tokio timers (`reminders`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use todo_host::capabilities::embedded_store::log;
use todo_host::cloudevent::Event;
use todo_host::modes::up::InProcess;

mod lateness;
mod listing;
mod reminders;

fn event(i: usize) -> Event {
    Event {
        id: format!("bench-{i}"),
        source: "bench".into(),
        ty: "com.bench.noop".into(),
        subject: None,
        time: None,
        datacontenttype: None,
        data: b"{}".to_vec(),
        extensions: Vec::new(),
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn fixture() -> Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let probe = root.join("build/fixtures/probe.wasm");
    anyhow::ensure!(
        probe.is_file(),
        "{} missing: run `cargo xtask bench`",
        probe.display()
    );
    Ok(probe.canonicalize()?)
}

fn manifest(probe: &std::path::Path) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "bench"
[[trigger.topic]]
component = "probe"
topics = ["bench"]
[component.probe]
source = "{}"
"#,
        probe.display()
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let samples: usize = arg("--samples").unwrap_or(2_000);
    let events: usize = arg("--events").unwrap_or(50_000);
    let dir = tempfile::tempdir()?;
    let manifest_path = dir.path().join("spin.toml");
    std::fs::write(&manifest_path, manifest(&fixture()?))?;
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(&manifest_path, &dir.path().join("data"), None, None)
    })
    .context("assembling the bench app")?;

    let only = only();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if runs("dispatch") {
        instantiate_and_handle(&app, samples).await?;
        throughput(&app, events).await?;
    }
    if runs("listing") {
        let tasks: usize = arg("--tasks").unwrap_or(5_000);
        listing::list_one_page(tasks, arg("--list-samples").unwrap_or(200)).await?;
    }
    if runs("reminders") {
        let reminders: usize = arg("--reminders").unwrap_or(10_000);
        reminders::fire_reminders(reminders, arg("--window").unwrap_or(10) as u64).await?;
    }
    Ok(())
}

/// `--only dispatch|listing|reminders`: one part of the bench.
fn only() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == "--only")?;
    args.get(i + 1).cloned()
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

async fn instantiate_and_handle(app: &InProcess, samples: usize) -> Result<()> {
    let rt = &app.runtime;
    // Warm-up: first calls fault in code pages and pool slots.
    for i in 0..200 {
        rt.deliver_event("probe", "bench", event(i)).await?;
    }
    let mut fresh = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        rt.deliver_event("probe", "bench", event(i)).await?;
        fresh.push(t.elapsed());
    }
    let slot = rt.slot("probe")?;
    // Where a fresh call's time goes: the store alone, then the instance.
    let mut stores = Vec::with_capacity(samples);
    let mut instances = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        let store = rt.new_store(&slot)?;
        stores.push(t.elapsed());
        drop(store);
        let t = Instant::now();
        let parts = rt.instantiate(&slot).await?;
        instances.push(t.elapsed());
        drop(parts);
    }
    stores.sort();
    instances.sort();
    let (loaded, mut store, instance) = rt.instantiate(&slot).await?;
    let guest = loaded
        .events
        .as_ref()
        .context("probe exports event-handler")?
        .load(&mut store, &instance)?;
    let mut reused = Vec::with_capacity(samples);
    for i in 0..samples {
        store.set_epoch_deadline(1_000);
        let e = event(i).into();
        let t = Instant::now();
        guest.call_handle(&mut store, "bench", &e).await?.ok();
        reused.push(t.elapsed());
    }
    fresh.sort();
    reused.sort();
    let (f50, f99) = (percentile(&fresh, 0.5), percentile(&fresh, 0.99));
    let (r50, r99) = (percentile(&reused, 0.5), percentile(&reused, 0.99));
    println!("fresh instance + handle one event ({samples} samples)");
    println!("  fresh:    p50 {f50:8.1} us   p99 {f99:8.1} us");
    println!("  reused:   p50 {r50:8.1} us   p99 {r99:8.1} us   (baseline)");
    println!(
        "  ratio fresh/reused: p50 {:.2}x   p99 {:.2}x",
        f50 / r50,
        f99 / r99
    );
    println!(
        "  of which: new store p50 {:.1} us, new store + instantiate p50 {:.1} us",
        percentile(&stores, 0.5),
        percentile(&instances, 0.5)
    );
    Ok(())
}

async fn throughput(app: &InProcess, events: usize) -> Result<()> {
    let pubsub = app.runtime.backends.pubsub.clone();
    const BATCH: usize = 100;
    const PUBLISHERS: usize = 8;

    // Baseline: the durable log's append rate alone (no subscriber).
    let rate = publish_all(&pubsub, "bench-baseline", events, BATCH, PUBLISHERS).await?;
    println!("durable log append, {PUBLISHERS} publishers x batches of {BATCH}");
    println!("  {rate:10.0} events/s   (baseline)");

    app.start_background();
    let start = Instant::now();
    let published = publish_all(&pubsub, "bench", events, BATCH, PUBLISHERS).await?;
    let db = app.db.clone();
    loop {
        let d = db.clone();
        let (head, cursor) = d
            .read(|txn| {
                Ok((
                    log::head(txn, "bench")?,
                    log::cursor(txn, "probe", "bench")?,
                ))
            })
            .await?;
        if cursor >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let e2e = events as f64 / start.elapsed().as_secs_f64();
    println!("publish -> durable log -> one subscriber ({events} events)");
    println!("  publish side {published:10.0} events/s");
    println!(
        "  end to end   {e2e:10.0} events/s   ratio to baseline {:.2}x",
        e2e / rate
    );
    Ok(())
}

async fn publish_all(
    pubsub: &Arc<dyn todo_host::capabilities::pubsub::PubSubBackend>,
    topic: &str,
    events: usize,
    batch: usize,
    publishers: usize,
) -> Result<f64> {
    let start = Instant::now();
    let per = events / publishers;
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let (pubsub, topic) = (pubsub.clone(), topic.to_owned());
        tasks.push(tokio::spawn(async move {
            for chunk in (p * per..(p + 1) * per).collect::<Vec<_>>().chunks(batch) {
                let batch = chunk.iter().map(|&i| event(i)).collect();
                pubsub.publish("bench", &topic, batch).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((per * publishers) as f64 / start.elapsed().as_secs_f64())
}
