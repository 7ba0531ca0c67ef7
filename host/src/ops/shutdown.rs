//! Serving until a stop signal, then a bounded grace period.

use axum::Router;

/// A listener whose accepted sockets have `TCP_NODELAY`. A response leaves
/// in several writes (the head, then the body chunks a component streams);
/// with Nagle's algorithm on, the last small write waits for the client's
/// delayed ACK, about 40 ms on Linux, on every request.
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt as _;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// How long open connections (WebSockets above all) get to finish after a
/// stop signal before the host exits anyway (a pod's grace period is 30 s).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` until SIGINT or SIGTERM (what Kubernetes sends a pod),
/// then lets in-flight requests finish for up to [`SHUTDOWN_GRACE`].
pub async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: Router,
) -> anyhow::Result<()> {
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(without_nagle(listener), app).with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!("stop signal: finishing in-flight requests");
        let _ = stopping.send(true);
    });
    tokio::select! {
        served = server => served?,
        _ = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; exiting"),
    }
    Ok(())
}

async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
