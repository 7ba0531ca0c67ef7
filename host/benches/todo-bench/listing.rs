//! List / filter / sort one page for a user with 5,000 tasks, through the
//! real chat-api component over HTTP, next to the same request for a user
//! with 50 tasks (the baseline: the cost of a request that is not the
//! size of the list).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use todo_host::modes::up::InProcess;
use todo_host::triggers::http::{Front, router};

use crate::percentile;

/// Queries a list screen issues: a filtered, sorted page; a search.
const QUERIES: [(&str, &str); 3] = [
    ("sort=due,-priority&limit=50", "sorted page"),
    (
        "filter=status%3Aopen%20%26%20(priority%3E%3Dhigh%20%7C%20due%3C7d)&sort=due&limit=50",
        "filter + sort",
    ),
    ("q=report&sort=-updated&limit=50", "search"),
];

pub async fn list_one_page(tasks: usize, samples: usize) -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir()?;
    let app = tokio::task::block_in_place(|| {
        InProcess::assemble(
            &root.join("spin.toml"),
            &dir.path().join("data"),
            None,
            None,
        )
    })
    .context("assembling the app (run `cargo xtask bench`, which builds the components)")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let front = Arc::new(Front::new(
        app.runtime.clone(),
        1 << 20,
        None,
        app.sockets.clone(),
    ));
    front
        .ready
        .store(true, std::sync::atomic::Ordering::Release);
    let limits = todo_host::ops::listener::ConnLimits {
        header_timeout: std::time::Duration::from_secs(5),
        idle_timeout: std::time::Duration::from_secs(60),
        max_connections: 10_000,
    };
    let (_running, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(todo_host::ops::listener::serve(
        listener,
        router(front),
        limits,
        stopping,
    ));
    let http = reqwest::Client::new();

    let big = sign_up(&http, &base, "big").await?;
    let small = sign_up(&http, &base, "small").await?;
    let started = Instant::now();
    seed(&http, &base, &big, tasks).await?;
    let seeded = started.elapsed();
    seed(&http, &base, &small, 50).await?;
    println!(
        "list one page: {tasks} tasks seeded through POST /api/tasks in {:.1} s ({:.0} creates/s)",
        seeded.as_secs_f64(),
        tasks as f64 / seeded.as_secs_f64()
    );
    for (query, label) in QUERIES {
        let base_times = time_list(&http, &base, &small, query, samples).await?;
        let big_times = time_list(&http, &base, &big, query, samples).await?;
        let (b50, b99) = (percentile(&base_times, 0.5), percentile(&base_times, 0.99));
        let (l50, l99) = (percentile(&big_times, 0.5), percentile(&big_times, 0.99));
        println!(
            "  {label:14} {tasks} tasks: p50 {:7.2} ms  p99 {:7.2} ms",
            l50 / 1e3,
            l99 / 1e3
        );
        println!(
            "  {label:14}   50 tasks: p50 {:7.2} ms  p99 {:7.2} ms   (baseline)  ratio p99 {:.1}x",
            b50 / 1e3,
            b99 / 1e3,
            l99 / b99
        );
    }
    Ok(())
}

async fn sign_up(http: &reqwest::Client, base: &str, who: &str) -> Result<String> {
    let resp: Value = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": format!("{who}@bench.test"), "password": "bench password"}))
        .send()
        .await?
        .json()
        .await?;
    resp["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("sign-up failed: {resp}"))
}

/// A realistic mix: priorities, tags, dues in zones, some reminders.
fn task(i: usize) -> Value {
    let priorities = ["none", "low", "medium", "high", "urgent"];
    let tags: [&[&str]; 4] = [&["work"], &["home"], &["work", "urgent"], &[]];
    let mut body = json!({
        "title": format!("{} {i}", ["write report", "call", "buy milk", "review PR"][i % 4]),
        "description": "x".repeat(i % 200),
        "priority": priorities[i % 5],
        "tags": tags[i % 4],
    });
    if !i.is_multiple_of(3) {
        let day = 1 + i % 28;
        body["due"] = json!({"date": format!("2027-0{}-{day:02}", 1 + i % 9), "time": "09:30",
                             "time_zone": "Europe/London"});
        if i.is_multiple_of(5) {
            body["reminders"] = json!([{"before_minutes": 15}]);
        }
    }
    body
}

async fn seed(http: &reqwest::Client, base: &str, token: &str, n: usize) -> Result<()> {
    const WORKERS: usize = 8;
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (http, url, token) = (http.clone(), format!("{base}/api/tasks"), token.to_owned());
        workers.push(tokio::spawn(async move {
            for i in (w..n).step_by(WORKERS) {
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&task(i))
                    .send()
                    .await?;
                ensure!(resp.status() == 201, "create {i}: {}", resp.text().await?);
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    Ok(())
}

async fn time_list(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    samples: usize,
) -> Result<Vec<Duration>> {
    let url = format!("{base}/api/tasks?{query}");
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples + 10 {
        let t = Instant::now();
        let resp = http.get(&url).bearer_auth(token).send().await?;
        ensure!(resp.status() == 200, "list: {}", resp.text().await?);
        resp.bytes().await?;
        // The first requests warm code pages and caches.
        if i >= 10 {
            times.push(t.elapsed());
        }
    }
    times.sort();
    Ok(times)
}
