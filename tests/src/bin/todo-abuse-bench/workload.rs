//! The signed-in user's side: 16 connections alternating a list and a
//! create, and a probe on `/healthz`, for one phase.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};
use todo_tests::account::Session;
use todo_tests::stack::Stack;

const CONNECTIONS: usize = 16;

/// Latencies of one kind of request, sorted.
#[derive(Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    fn at(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i].as_secs_f64() * 1e3
    }

    pub fn p99_ms(&self) -> f64 {
        self.at(0.99)
    }
}

impl fmt::Display for Latencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} p50 {:.1} ms p99 {:.1} ms",
            self.0.len(),
            self.at(0.5),
            self.at(0.99)
        )
    }
}

pub struct Phase {
    pub list: Latencies,
    pub create: Latencies,
    pub health: Latencies,
    /// Creates answered 201.
    pub created: usize,
    /// Requests of the user (or the probe) that failed or were refused.
    pub failed: usize,
    pub max_rss_mib: f64,
}

pub async fn create(user: &Session, stack: &dyn Stack, title: &str) -> Result<bool> {
    let resp = user
        .http
        .post(stack.url("/api/tasks"))
        .json(&json!({ "title": title }))
        .send()
        .await?;
    Ok(resp.status() == 201)
}

/// Every task of `user` (pages of 200).
pub async fn count_tasks(user: &Session, stack: &dyn Stack) -> Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = stack.url("/api/tasks?limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = user
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        count += page["tasks"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(count),
        }
    }
}

/// One phase of `length`: the user's 16 connections, the `/healthz` probe
/// and an RSS sampler of process `pid`.
pub async fn run(user: &Session, stack: &dyn Stack, length: Duration, pid: u32) -> Result<Phase> {
    let deadline = Instant::now() + length;
    let mut workers = Vec::new();
    for w in 0..CONNECTIONS {
        let (http, list_url, create_url) = (
            user.http.clone(),
            stack.url("/api/tasks?limit=50"),
            stack.url("/api/tasks"),
        );
        workers.push(tokio::spawn(async move {
            let (mut list, mut create, mut created, mut failed) = (vec![], vec![], 0, 0);
            let mut i = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                let read = match http.get(&list_url).send().await {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                };
                if read {
                    list.push(t.elapsed());
                } else {
                    failed += 1;
                }
                let t = Instant::now();
                let body = json!({"title": format!("w{w} #{i}")});
                match http.post(&create_url).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        create.push(t.elapsed());
                        created += 1;
                    }
                    _ => failed += 1,
                }
                i += 1;
            }
            (list, create, created, failed)
        }));
    }
    let probe = {
        let (http, url) = (reqwest::Client::new(), stack.url("/healthz"));
        tokio::spawn(async move {
            let (mut seen, mut failed) = (vec![], 0);
            while Instant::now() < deadline {
                let t = Instant::now();
                match http.get(&url).send().await {
                    Ok(r) if r.status() == 200 => seen.push(t.elapsed()),
                    _ => failed += 1,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (seen, failed)
        })
    };
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut max = 0f64;
            while sampling.load(Ordering::Relaxed) {
                if let Ok(rss) = super::rss_mib(pid) {
                    max = max.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            max
        })
    };
    let mut phase = Phase {
        list: Latencies::default(),
        create: Latencies::default(),
        health: Latencies::default(),
        created: 0,
        failed: 0,
        max_rss_mib: 0.0,
    };
    for w in workers {
        let (list, create, created, failed) = w.await?;
        phase.list.0.extend(list);
        phase.create.0.extend(create);
        phase.created += created;
        phase.failed += failed;
    }
    let (health, failed) = probe.await?;
    phase.health.0 = health;
    phase.failed += failed;
    sampling.store(false, Ordering::Relaxed);
    phase.max_rss_mib = sampler.await?;
    for l in [&mut phase.list, &mut phase.create, &mut phase.health] {
        l.0.sort();
    }
    Ok(phase)
}
