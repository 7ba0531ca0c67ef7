//! The front door under abuse: guests that never stop computing, a flood on
//! one route, connections that send nothing or sit idle, more connections
//! than it may hold. Each test performs the attack and shows the host still
//! answers everyone else.

mod common;

use std::time::{Duration, Instant};

use todo_tests::manifest::AppManifest;
use todo_tests::{HostProcess, Scratch, wasm};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Longer than any answer here should take; only a broken host reaches it.
const BOUND: Duration = Duration::from_secs(10);

struct Host {
    _scratch: Scratch,
    host: HostProcess,
    http: reqwest::Client,
}

/// The probe on `/version`, `/big` and `/spin` (with `spin_route` settings), its
/// calls limited to `timeout_ms`, the host started with `env`.
fn start(spin_route: &str, timeout_ms: u64, env: &[(&str, &str)]) -> Host {
    let scratch = Scratch::new();
    let source = scratch.install(&wasm("fixtures/probe.wasm"), "probe.wasm");
    let text = AppManifest::new("front-door-abuse")
        .http("/version", "probe")
        .http_with("/spin", "probe", spin_route)
        .http("/big", "probe")
        .component("probe", &source, &format!("timeout_ms = {timeout_ms}"))
        .build();
    let manifest = scratch.write("spin.toml", &text);
    let host = HostProcess::start_with_env(
        &common::host_bin(),
        &manifest,
        &scratch.path("data"),
        &[],
        env,
    )
    .expect("host starts");
    Host {
        _scratch: scratch,
        host,
        http: reqwest::Client::builder().timeout(BOUND).build().unwrap(),
    }
}

impl Host {
    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let resp = self
            .http
            .get(self.host.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    fn addr(&self) -> String {
        self.host.url("").trim_start_matches("http://").to_owned()
    }

    /// The value of one Prometheus sample, 0 when absent.
    async fn metric(&self, sample: &str) -> f64 {
        let (_, _, text) = self.get("/metrics").await;
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

/// Reads until the peer closes; false if it is still open after `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_to_end = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_to_end).await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn guests_computing_on_every_worker_leave_the_host_answering() {
    // Six endless loops, more than the host has async workers; each runs
    // until its 4 s deadline. Guests that never gave their worker back
    // would leave none for `/healthz` until then.
    let h = start("", 4_000, &[]);
    let started = Instant::now();
    let spins: Vec<_> = (0..6)
        .map(|_| {
            let (http, url) = (h.http.clone(), h.host.url("/spin"));
            tokio::spawn(async move {
                let status = http.get(url).send().await.unwrap().status().as_u16();
                (status, Instant::now())
            })
        })
        .collect();
    // Let the loops start before asking.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..5 {
        assert_eq!(h.get("/healthz").await.0, 200);
    }
    assert_eq!(h.get("/version").await.0, 200, "a component still answers");
    let answered = Instant::now();
    for spin in spins {
        let (status, ended) = spin.await.unwrap();
        assert_eq!(status, 500, "a loop ends at its deadline");
        assert!(
            ended > answered,
            "the host answered only after the loops ended ({:?} after start)",
            answered - started
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_with_every_place_taken_answers_503_at_once() {
    // One running, none waiting: of two requests at once, one runs (to its
    // deadline) and the other is refused without starting a component.
    let h = start("max_concurrent = 1\nmax_queued = 0", 2_000, &[]);
    let first = {
        let (http, url) = (h.http.clone(), h.host.url("/spin"));
        tokio::spawn(async move { http.get(url).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, body) = h.get("/spin").await;
    let first = first.await.unwrap();
    let mut statuses = [status, first.status().as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [500, 503],
        "one ran to its deadline, one was refused"
    );
    if status == 503 {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "busy", "{body}");
        assert_eq!(headers["retry-after"], "1");
    }
    assert_eq!(h.get("/version").await.0, 200, "other routes are not gated");
    let refused = h
        .metric("todo_requests_refused_total{reason=\"busy\",route=\"/spin\"}")
        .await;
    assert_eq!(refused, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_caller_past_their_share_waits_then_gets_429_while_others_pass() {
    // Two running and one waiting per caller. Caller A opens three calls
    // that compute to their 2 s deadline: two run, one waits; a fourth of
    // theirs is refused at once. Another credential, and a client with
    // none, are not behind A.
    let h = start(
        "",
        2_000,
        &[
            ("TODO_MAX_RUNNING_PER_CALLER", "2"),
            ("TODO_MAX_WAITING_PER_CALLER", "1"),
        ],
    );
    let spin = |credential: &'static str| {
        let (http, url) = (h.http.clone(), h.host.url("/spin"));
        tokio::spawn(async move {
            let resp = http.get(url).bearer_auth(credential).send().await.unwrap();
            (resp.status().as_u16(), Instant::now())
        })
    };
    let a: Vec<_> = (0..3).map(|_| spin("caller-a")).collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = h
        .http
        .get(h.host.url("/version"))
        .bearer_auth("caller-a")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429, "A's fourth call finds no place");
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    let other = h
        .http
        .get(h.host.url("/version"))
        .bearer_auth("caller-b")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "another credential passes");
    assert_eq!(h.get("/version").await.0, 200, "a client without one too");
    let answered = Instant::now();
    let mut ended = vec![];
    for call in a {
        let (status, at) = call.await.unwrap();
        assert_eq!(status, 500, "each of A's calls ran to its deadline");
        assert!(
            at > answered,
            "the others were answered before A's calls ended"
        );
        ended.push(at);
    }
    ended.sort();
    assert!(
        ended[2] - ended[0] >= Duration::from_millis(1_500),
        "the third waited for a place: it ended a deadline after the first two"
    );
    let full = h
        .metric("todo_requests_refused_total{reason=\"caller_full\",route=\"/version\"}")
        .await;
    assert_eq!(full, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_sends_no_complete_head_is_closed_at_its_deadline() {
    let h = start("", 1_000, &[("TODO_HEADER_TIMEOUT_MS", "300")]);
    let mut silent = TcpStream::connect(h.addr()).await.unwrap();
    let mut slow = TcpStream::connect(h.addr()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut silent, BOUND).await,
        "silent connection closed"
    );
    assert!(
        closed_within(&mut slow, BOUND).await,
        "half-sent head closed"
    );
    assert_eq!(h.get("/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed() {
    let h = start(
        "",
        1_000,
        &[
            ("TODO_HEADER_TIMEOUT_MS", "60000"),
            ("TODO_IDLE_TIMEOUT_MS", "300"),
        ],
    );
    let mut tcp = TcpStream::connect(h.addr()).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = vec![0u8; 1024];
    let n = tcp.read(&mut head).await.unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    assert!(
        closed_within(&mut tcp, BOUND).await,
        "idle connection closed"
    );
    assert!(
        h.metric("todo_connections_closed_total{reason=\"idle\"}")
            .await
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_connection_cap_the_longest_idle_connection_makes_room() {
    let h = start(
        "",
        1_000,
        &[
            ("TODO_HEADER_TIMEOUT_MS", "60000"),
            ("TODO_MAX_CONNECTIONS", "8"),
        ],
    );
    // Eight connections that never send anything fill the cap.
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(h.addr()).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A new client still gets in: the oldest idle connection is shed.
    assert_eq!(h.get("/healthz").await.0, 200);
    assert!(
        closed_within(&mut idle[0], BOUND).await,
        "the longest idle connection is closed"
    );
    assert!(
        !closed_within(&mut idle[7], Duration::from_millis(300)).await,
        "the newest idle connection stays open"
    );
    assert!(
        h.metric("todo_connections_closed_total{reason=\"connection_cap\"}")
            .await
            >= 1.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_gets_an_aborted_response_not_a_short_whole_one() {
    // The guest blocks writing a 24 MiB body nobody reads: its deadline
    // (1 s) still stops it, and what the client gets is cut off, not a
    // shorter body that ends as if complete.
    let h = start("", 1_000, &[]);
    let mut tcp = TcpStream::connect(h.addr()).await.unwrap();
    tcp.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let sample = "todo_responses_aborted_total{component=\"probe\",reason=\"deadline\"}";
    todo_tests::eventually("the abort counted", BOUND, || async {
        (h.metric(sample).await >= 1.0).then_some(())
    })
    .await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(BOUND, tcp.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection is closed");
    let head_end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the head was sent")
        + 4;
    let head = String::from_utf8_lossy(&got[..head_end]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let body = &got[head_end..];
    match head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        Some(length) => assert!(
            body.len() < length.trim().parse::<usize>().unwrap(),
            "fewer bytes than announced"
        ),
        None => assert!(
            !body.ends_with(b"0\r\n\r\n"),
            "no final chunk after {} bytes",
            body.len()
        ),
    }
    assert!(h.host.log().contains("response aborted"));
    assert_eq!(h.get("/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_given_their_own_listener_leave_the_app_port() {
    // Metrics name every route and its volume: an operator who gives them
    // a listener of their own has them there and nowhere else.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let own = format!("127.0.0.1:{port}");
    let h = start("", 1_000, &[("TODO_METRICS_LISTEN", &own)]);
    assert_eq!(h.get("/version").await.0, 200);
    assert_eq!(h.get("/metrics").await.0, 404);
    let resp = h
        .http
        .get(format!("http://{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("todo_handler_seconds"), "{text}");
}
