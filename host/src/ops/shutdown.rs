//! Serving until a stop signal, then a bounded grace period.

use axum::Router;

use crate::ops::listener::{self, ConnLimits};

/// How long open connections (WebSockets above all) get to finish after a
/// stop signal before the host exits anyway (a pod's grace period is 30 s).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` until SIGINT or SIGTERM (what Kubernetes sends a pod),
/// then lets in-flight requests finish for up to [`SHUTDOWN_GRACE`].
pub async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
) -> anyhow::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let server = listener::serve(listener, app, limits, stopped);
    tokio::pin!(server);
    tokio::select! {
        _ = &mut server => return Ok(()),
        _ = stop_signal() => {}
    }
    tracing::info!("stop signal: finishing in-flight requests");
    let _ = stopping.send(true);
    tokio::select! {
        _ = server => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; exiting");
        }
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
