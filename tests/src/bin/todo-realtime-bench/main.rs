//! The real-time benchmark: 1,000 WebSocket clients across 100 users
//! while 1,000 changes/s go through the REST API; push latency from the
//! REST response to each frame's arrival (p50 / p99 / max) and frames
//! lost, next to a bare axum WebSocket broadcast measured in the same run.
//!
//! `cargo xtask bench --only realtime` (in-process: `todo-host up`) and
//! `cargo xtask bench --real --only realtime` (two websocket pods on the
//! real stack, clients split between them). Options: `--users`,
//! `--clients`, `--rate`, `--seconds`.

mod baseline;
mod clients;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use todo_tests::account::{Session, sign_up};
use todo_tests::bench::arg;
use todo_tests::stack::{InProcess, Stack};

use clients::{Listener, listen};

pub struct Load {
    pub users: usize,
    pub clients: usize,
    pub rate: usize,
    pub seconds: usize,
}

pub struct Figures {
    pub offered: f64,
    pub expected: usize,
    pub received: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs `f(i)` for i in 0..total at `rate` per second, each as its own
/// task (at most 256 at once), and waits for all of them.
pub async fn pace<F, Fut>(rate: usize, total: usize, f: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due).await;
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let fut = f(i);
        tasks.push(tokio::spawn(async move {
            fut.await;
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Waits for every frame, then computes latencies against
/// `sent` (when each change was acknowledged / sent).
pub async fn collect(
    clients: &[Listener],
    sent: &HashMap<String, Instant>,
    per_user: usize,
    offered: f64,
) -> Figures {
    let expected = sent.len() * per_user;
    let count = || {
        clients
            .iter()
            .map(|c| {
                let a = c.arrivals.lock().unwrap();
                a.iter().filter(|(k, _)| sent.contains_key(k)).count()
            })
            .sum::<usize>()
    };
    // Until every frame is in, or none has come for 15 s (a backlog still
    // draining keeps the wait going).
    let mut seen = count();
    let mut progress = Instant::now();
    while seen < expected && progress.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = count();
        if now > seen {
            seen = now;
            progress = Instant::now();
        }
    }
    let mut latencies: Vec<f64> = Vec::with_capacity(expected);
    for c in clients {
        for (k, at) in c.arrivals.lock().unwrap().iter() {
            if let Some(t) = sent.get(k) {
                // A frame can beat the HTTP response to the client: 0.
                latencies.push(at.saturating_duration_since(*t).as_secs_f64() * 1e3);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |p: f64| {
        if latencies.is_empty() {
            return f64::NAN;
        }
        latencies[((latencies.len() - 1) as f64 * p).round() as usize]
    };
    Figures {
        offered,
        expected,
        received: latencies.len(),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
    }
}

fn task_key(text: &str) -> Option<String> {
    let frame: Value = serde_json::from_str(text).ok()?;
    (frame["type"] == "event").then(|| frame["event"]["subject"].as_str().map(str::to_owned))?
}

async fn product(stack: &dyn Stack, load: &Load) -> Result<Figures> {
    let mut sessions: Vec<Session> = Vec::new();
    for _ in 0..load.users {
        sessions.push(sign_up(stack).await);
    }
    let mut clients = Vec::new();
    for c in 0..load.clients {
        let user = c % load.users;
        let url = stack.ws_url(c, &format!("/ws?device=bench{c}"));
        let resume = json!({"type": "resume"}).to_string();
        let token = sessions[user].access_token.clone();
        clients.push(listen(&url, Some(&token), Some(resume), user, task_key).await?);
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let url = stack.url("/api/tasks");
    // Warm-up: one change per user, every frame of it seen.
    let warm: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    for (u, s) in sessions.iter().enumerate() {
        let (id, at) = create(&http, &url, &s.access_token, &format!("warm-up {u}")).await?;
        warm.lock().unwrap().insert(id, at);
    }
    let warm = Arc::try_unwrap(warm)
        .map(|m| m.into_inner().unwrap())
        .unwrap_or_default();
    let per_user = load.clients / load.users;
    let w = collect(&clients, &warm, per_user, 0.0).await;
    anyhow::ensure!(
        w.received == w.expected,
        "warm-up: {} of {} frames",
        w.received,
        w.expected
    );

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let tokens: Arc<Vec<String>> =
        Arc::new(sessions.iter().map(|s| s.access_token.clone()).collect());
    let total = load.rate * load.seconds;
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    pace(load.rate, total, |i| {
        let (http, url, tokens, sent, failures) = (
            http.clone(),
            url.clone(),
            tokens.clone(),
            sent.clone(),
            failures.clone(),
        );
        let users = load.users;
        async move {
            match create(&http, &url, &tokens[i % users], &format!("change {i}")).await {
                Ok((id, at)) => {
                    sent.lock().unwrap().insert(id, at);
                }
                Err(_) => {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    })
    .await;
    let offered = total as f64 / started.elapsed().as_secs_f64();
    let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(failed == 0, "{failed} REST changes failed");
    let sent = Arc::try_unwrap(sent)
        .map(|m| m.into_inner().unwrap())
        .unwrap_or_default();
    Ok(collect(&clients, &sent, per_user, offered).await)
}

/// Creates a task: its id and when the response arrived.
async fn create(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    title: &str,
) -> Result<(String, Instant)> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({"title": title}))
        .send()
        .await?;
    let at = Instant::now();
    anyhow::ensure!(resp.status() == 201, "POST /api/tasks: {}", resp.status());
    let body: Value = resp.json().await?;
    Ok((body["id"].as_str().context("an id")?.to_owned(), at))
}

/// Where the host's time went: calls and time in each component's
/// handlers over the whole run (its Prometheus histograms).
async fn handler_time(pod: &str, metrics_url: &str) -> Result<()> {
    let text = reqwest::get(metrics_url).await?.text().await?;
    let mut rows: HashMap<String, (f64, f64)> = HashMap::new();
    for line in text.lines() {
        let (name, value) = match line.rsplit_once(' ') {
            Some(p) => p,
            None => continue,
        };
        let value: f64 = value.parse().unwrap_or(0.0);
        let field = if name.starts_with("todo_handler_seconds_sum{") {
            0
        } else if name.starts_with("todo_handler_seconds_count{") {
            1
        } else {
            continue;
        };
        let labels = &name[name.find('{').unwrap_or(0)..];
        let row = rows.entry(labels.to_owned()).or_default();
        if field == 0 {
            row.0 = value;
        } else {
            row.1 = value;
        }
    }
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    println!("  time in component handlers over the run ({pod} metrics):");
    for (labels, (sum, count)) in rows {
        println!(
            "    {labels:<48} {count:>8.0} calls  {sum:7.2} s  mean {:6.3} ms",
            sum / count.max(1.0) * 1e3
        );
    }
    Ok(())
}

fn print(label: &str, f: &Figures) {
    println!(
        "  {label:<28} {:7.0}/s offered  frames {:>7}/{:<7} lost {:>5}  p50 {:8.2} ms  p99 {:8.2} ms  max {:8.2} ms",
        f.offered,
        f.received,
        f.expected,
        f.expected - f.received.min(f.expected),
        f.p50_ms,
        f.p99_ms,
        f.max_ms
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let load = Load {
        users: arg("--users", 100),
        clients: arg("--clients", 1_000),
        rate: arg("--rate", 1_000),
        seconds: arg("--seconds", 10),
    };
    let real = std::env::args().any(|a| a == "--real");
    println!(
        "real-time push: {} clients of {} users, {} changes/s for {} s through POST /api/tasks ({})",
        load.clients,
        load.users,
        load.rate,
        load.seconds,
        if real {
            "real stack, 2 websocket pods"
        } else {
            "in-process"
        }
    );
    let base = baseline::run(&load).await?;
    let figures = if real {
        let infra = todo_tests::real_stack::Infra::from_env()
            .context("TODO_STACK_* not set: run `cargo xtask bench --real --only realtime`")?;
        let manifest = todo_tests::workspace_root().join("spin.toml");
        let stack = tokio::task::block_in_place(|| {
            todo_tests::real_stack::RealStack::start(infra, &manifest)
        })?;
        let f = product(&stack, &load).await?;
        for (component, replica) in [
            ("chat-api", 0),
            ("websocket", 0),
            ("websocket", 1),
            ("audit", 0),
        ] {
            let url = stack.metrics_url(component, replica);
            handler_time(&format!("{component}-{replica}"), &url).await?;
        }
        tokio::task::block_in_place(|| drop(stack));
        f
    } else {
        let stack = tokio::task::block_in_place(InProcess::start)?;
        let f = product(&stack, &load).await?;
        handler_time("host", &stack.url("/metrics")).await?;
        f
    };
    print("product (REST -> frame)", &figures);
    print("bare axum broadcast", &base);
    println!(
        "  ratio product/baseline: p50 {:.1}x  p99 {:.1}x",
        figures.p50_ms / base.p50_ms,
        figures.p99_ms / base.p99_ms
    );
    Ok(())
}
