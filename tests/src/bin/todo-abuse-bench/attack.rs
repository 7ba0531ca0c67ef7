//! The attackers: idle sockets, slow readers and a sign-in flood, each
//! keeping up its pressure (reconnecting when the host closes it) until
//! stopped.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use todo_tests::stack::Stack;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

const IDLE_SOCKETS: usize = 1_000;
const SLOW_READERS: usize = 100;
const SIGN_IN_FLOOD: usize = 32;
/// How long a slow reader holds its request unread before starting over.
const SLOW_HOLD: Duration = Duration::from_secs(12);

#[derive(Default)]
struct Counts {
    idle_connects: AtomicUsize,
    idle_closed_by_host: AtomicUsize,
    slow_requests: AtomicUsize,
    sign_ins: AtomicUsize,
    sign_ins_busy: AtomicUsize,
    sign_ins_throttled: AtomicUsize,
}

pub struct Attack {
    stop: watch::Sender<bool>,
    counts: Arc<Counts>,
    tasks: JoinSet<()>,
    who: [usize; 3],
}

pub struct Report(Arc<Counts>, [usize; 3]);

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, [idle, slow, sign_in]) = (&self.0, self.1);
        let n = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        write!(
            f,
            "{idle} idle sockets made {} connections ({} closed by the host); \
             {slow} slow readers sent {} requests; \
             {sign_in} sign-in flooders sent {} ({} answered busy, {} throttled)",
            n(&c.idle_connects),
            n(&c.idle_closed_by_host),
            n(&c.slow_requests),
            n(&c.sign_ins),
            n(&c.sign_ins_busy),
            n(&c.sign_ins_throttled),
        )
    }
}

fn host_addr(stack: &dyn Stack) -> String {
    stack.url("").trim_start_matches("http://").to_owned()
}

/// Which attackers run (`--attacks idle,slow,signin`; all by default).
pub struct Attackers {
    pub idle: usize,
    pub slow: usize,
    pub sign_in: usize,
}

impl Attackers {
    pub fn from_args() -> anyhow::Result<Self> {
        let Some(list) = todo_tests::bench::word("--attacks") else {
            return Ok(Attackers {
                idle: IDLE_SOCKETS,
                slow: SLOW_READERS,
                sign_in: SIGN_IN_FLOOD,
            });
        };
        let mut a = Attackers {
            idle: 0,
            slow: 0,
            sign_in: 0,
        };
        for name in list.split(',') {
            match name {
                "idle" => a.idle = IDLE_SOCKETS,
                "slow" => a.slow = SLOW_READERS,
                "signin" => a.sign_in = SIGN_IN_FLOOD,
                // The second phase without attackers: what the quiet
                // phase's own effects (a growing store) cost.
                "none" => {}
                other => {
                    anyhow::bail!(
                        "--attacks: unknown attacker {other:?} (idle, slow, signin, none)"
                    )
                }
            }
        }
        Ok(a)
    }
}

pub fn start(stack: &dyn Stack, attacker_token: &str, who: &Attackers) -> Attack {
    let (stop, stopped) = watch::channel(false);
    let counts = Arc::new(Counts::default());
    let mut tasks = JoinSet::new();
    let addr = host_addr(stack);
    for _ in 0..who.idle {
        let (stop, counts, addr) = (stopped.clone(), counts.clone(), addr.clone());
        tasks.spawn(async move {
            while !*stop.borrow() {
                let Ok(mut tcp) = TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                counts.idle_connects.fetch_add(1, Ordering::Relaxed);
                // Sends nothing; waits for the host to give up on it.
                let mut buf = [0u8; 512];
                let closed = async {
                    while let Ok(n) = tcp.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                };
                tokio::select! {
                    () = closed => {
                        counts.idle_closed_by_host.fetch_add(1, Ordering::Relaxed);
                    }
                    () = until(stop.clone()) => {}
                }
            }
        });
    }
    let request = format!(
        "GET /api/tasks?limit=200 HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {attacker_token}\r\n\r\n"
    );
    for _ in 0..who.slow {
        let (stop, counts, addr, request) = (
            stopped.clone(),
            counts.clone(),
            addr.clone(),
            request.clone(),
        );
        tasks.spawn(async move {
            while !*stop.borrow() {
                let Ok(mut tcp) = slow_socket(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if tcp.write_all(request.as_bytes()).await.is_err() {
                    continue;
                }
                counts.slow_requests.fetch_add(1, Ordering::Relaxed);
                // Never reads: the response stays in the host's hands.
                tokio::select! {
                    () = tokio::time::sleep(SLOW_HOLD) => {}
                    () = until(stop.clone()) => {}
                }
            }
        });
    }
    for _ in 0..who.sign_in {
        let (stop, counts, url) = (
            stopped.clone(),
            counts.clone(),
            stack.url("/api/auth/signin"),
        );
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            while !*stop.borrow() {
                let email = format!("nobody-{}@example.test", uuid::Uuid::new_v4().simple());
                let body = json!({"email": email, "password": "guess-guess"});
                let Ok(resp) = http.post(&url).json(&body).send().await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                counts.sign_ins.fetch_add(1, Ordering::Relaxed);
                match resp.status().as_u16() {
                    503 => counts.sign_ins_busy.fetch_add(1, Ordering::Relaxed),
                    429 => counts.sign_ins_throttled.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
            }
        });
    }
    Attack {
        stop,
        counts,
        tasks,
        who: [who.idle, who.slow, who.sign_in],
    }
}

/// A connection with a tiny receive buffer: the host's writes stall
/// after a few KiB.
async fn slow_socket(addr: &str) -> std::io::Result<TcpStream> {
    let addr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect(addr).await
}

async fn until(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

impl Attack {
    /// Stops every attacker and closes their sockets.
    pub async fn stop(mut self) -> Report {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        Report(self.counts, self.who)
    }
}
