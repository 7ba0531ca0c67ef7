//! The front door's connections: every accepted socket is served by hyper
//! with a deadline for the request head, closed when it has been idle too
//! long, and counted against a cap. At the cap, or when the process runs
//! out of file descriptors, the connection idle the longest is shed so a
//! new client (a probe's `/healthz` above all) still gets in; one that
//! never sent a request is gone after the head deadline anyway.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

/// How the front door treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From a connection's first byte of a request head (or from the end
    /// of the previous response) to the end of that head.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in flight closes after this.
    pub idle_timeout: Duration,
    /// Open HTTP connections (WebSockets, once upgraded, are not counted).
    pub max_connections: usize,
}

impl ConnLimits {
    /// The defaults for `max_connections`: three quarters of the file
    /// descriptors this process may open (after raising its soft limit to
    /// the hard one), leaving the rest to the store, the compiled-code
    /// cache and outgoing connections.
    pub fn default_max_connections() -> usize {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.maximum.is_some_and(|max| limit.current < Some(max)) {
            limit.current = limit.maximum;
            if let Err(e) = setrlimit(Resource::Nofile, limit) {
                tracing::debug!("could not raise the open-file limit: {e}");
            }
        }
        let files = getrlimit(Resource::Nofile).current.unwrap_or(1 << 20);
        (files.min(1 << 20) as usize * 3 / 4).max(16)
    }
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
}

/// What the accept loop knows of one connection.
struct Conn {
    in_flight: AtomicUsize,
    /// Milliseconds since `epoch` at which it last became idle.
    idle_since: AtomicU64,
    shed: Notify,
    shedding: AtomicBool,
    abort: Arc<Notify>,
    epoch: Instant,
}

impl Conn {
    fn new() -> Self {
        Conn {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            shed: Notify::new(),
            shedding: AtomicBool::new(false),
            abort: Arc::new(Notify::new()),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// When it turns idle past `timeout`, if it is idle now.
    fn idle_deadline(&self, timeout: Duration) -> Option<tokio::time::Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| {
            let since = Duration::from_millis(self.idle_since.load(Ordering::Acquire));
            tokio::time::Instant::from_std(self.epoch + since + timeout)
        })
    }
}

/// Closes the connection a request came on, at once (a request extension):
/// for a response that can no longer be completed, whose unsent bytes
/// would otherwise wait for a client that does not read.
#[derive(Clone)]
pub struct AbortConnection(Arc<Notify>);

impl AbortConnection {
    pub fn abort(&self) {
        self.0.notify_one();
    }
}

/// A request in flight on its connection, until its response body is done.
struct InFlight(Arc<Conn>);

impl InFlight {
    fn start(conn: &Arc<Conn>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(conn.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Open {
    fn len(&self) -> usize {
        self.conns.lock().expect("connections lock").len()
    }

    /// Tells the connection idle the longest to close; false if none is.
    fn shed_oldest_idle(&self, reason: &'static str) -> bool {
        let conns = self.conns.lock().expect("connections lock");
        let oldest = conns
            .values()
            .filter(|c| c.in_flight.load(Ordering::Acquire) == 0)
            .filter(|c| !c.shedding.load(Ordering::Acquire))
            .min_by_key(|c| c.epoch + Duration::from_millis(c.idle_since.load(Ordering::Acquire)));
        let Some(conn) = oldest else {
            return false;
        };
        conn.shedding.store(true, Ordering::Release);
        conn.shed.notify_one();
        crate::ops::metrics::METRICS
            .connections_closed
            .with_label_values(&[reason])
            .inc();
        true
    }
}

/// Serves `app` on `listener` until `stopping` turns true, then lets the
/// open connections finish their requests (the caller bounds how long).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let open = Arc::new(Open::default());
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop_asked(&mut stopping) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors: free one, then try again; the pending
                // connection stays in the backlog meanwhile.
                let exhausted = [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
                    .iter()
                    .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()));
                if !(exhausted && open.shed_oldest_idle("out_of_files")) {
                    tracing::warn!("accept error: {e}");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        if open.len() >= limits.max_connections && !open.shed_oldest_idle("connection_cap") {
            // Every connection is busy: this one cannot be served now.
            crate::ops::metrics::METRICS
                .connections_closed
                .with_label_values(&["refused_at_cap"])
                .inc();
            drop(tcp);
            continue;
        }
        let id = open.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new());
        open.conns
            .lock()
            .expect("connections lock")
            .insert(id, conn.clone());
        let (open, app, stopping) = (open.clone(), app.clone(), stopping.clone());
        tasks.spawn(async move {
            connection(tcp, peer, app, limits, &conn, stopping).await;
            open.conns.lock().expect("connections lock").remove(&id);
        });
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

/// One connection, until it closes: its requests through `app`, closed
/// gracefully (after the request in flight) when shed, idle or stopping.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnLimits,
    conn: &Arc<Conn>,
    mut stopping: watch::Receiver<bool>,
) {
    // A response leaves in several writes (the head, then the body chunks
    // a component streams); with Nagle's algorithm on, the last small
    // write waits for the client's delayed ACK, ~40 ms on Linux.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!("could not set TCP_NODELAY: {e}");
    }
    let tracked = conn.clone();
    let service =
        hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
            let in_flight = InFlight::start(&tracked);
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            req.extensions_mut()
                .insert(AbortConnection(tracked.abort.clone()));
            let app = app.clone();
            async move {
                let resp = app.oneshot(req.map(Body::new)).await?;
                // The request stays in flight until hyper has sent its body.
                Ok::<_, std::convert::Infallible>(resp.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _until_sent = &in_flight;
                        frame
                    }))
                }))
            }
        });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(served);
    let mut closing = false;
    loop {
        let idle_deadline = conn.idle_deadline(limits.idle_timeout);
        let recheck =
            idle_deadline.unwrap_or_else(|| tokio::time::Instant::now() + limits.idle_timeout);
        tokio::select! {
            done = served.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                return;
            }
            _ = conn.abort.notified() => {
                tracing::debug!(%peer, "connection aborted: its response cannot be completed");
                return;
            }
            _ = conn.shed.notified(), if !closing => {
                closing = true;
                served.as_mut().graceful_shutdown();
            }
            _ = stop_asked(&mut stopping), if !closing => {
                closing = true;
                served.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(recheck), if !closing => {
                let still_idle = conn
                    .idle_deadline(limits.idle_timeout)
                    .is_some_and(|at| at <= tokio::time::Instant::now());
                if still_idle {
                    crate::ops::metrics::METRICS
                        .connections_closed
                        .with_label_values(&["idle"])
                        .inc();
                    closing = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Resolves once `stopping` turns true; never if its sender is gone.
async fn stop_asked(stopping: &mut watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
