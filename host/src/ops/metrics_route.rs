//! Where `/metrics` is served. Metrics describe every user's traffic
//! (routes, volumes, failures), so they stay off a port the public
//! reaches: on a listener of their own when one is configured, on the app
//! port only for a developer's host bound to loopback, and never on a
//! pod's app port (which the ingress and the sidecar reach).

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;

/// The place chosen for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsPlace {
    /// Merged into the app port's routes.
    AppPort,
    /// A listener of its own (`--metrics-listen`).
    Own(SocketAddr),
    /// Not served at all.
    Nowhere,
}

impl MetricsPlace {
    /// `pod`: pod mode; `app`: the app port's address; `own`: the
    /// configured metrics address, if any.
    pub fn choose(pod: bool, app: SocketAddr, own: Option<SocketAddr>) -> Self {
        match own {
            Some(addr) => MetricsPlace::Own(addr),
            None if !pod && app.ip().is_loopback() => MetricsPlace::AppPort,
            None => MetricsPlace::Nowhere,
        }
    }

    /// The routes to merge into the app port's router.
    pub fn app_routes(self) -> Router {
        match self {
            MetricsPlace::AppPort => routes(),
            MetricsPlace::Own(_) | MetricsPlace::Nowhere => Router::new(),
        }
    }

    /// Binds and serves the own listener, if that is the place; returns
    /// once bound (a taken port fails the start, not a later scrape).
    pub async fn start_own(self) -> anyhow::Result<()> {
        let MetricsPlace::Own(addr) = self else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics listener {addr}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(%bound, "metrics listener");
        // Tests and scripts read this line to learn the port when given `:0`.
        println!("todo-host metrics on http://{bound}/metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, routes()).await {
                tracing::error!("metrics listener stopped: {e}");
            }
        });
        Ok(())
    }
}

fn routes() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async { crate::ops::metrics::METRICS.render() }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_stay_off_ports_the_public_reaches() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let own: SocketAddr = "127.0.0.1:9090".parse().unwrap();
        assert_eq!(
            MetricsPlace::choose(false, local, None),
            MetricsPlace::AppPort
        );
        assert_eq!(
            MetricsPlace::choose(false, public, None),
            MetricsPlace::Nowhere
        );
        assert_eq!(
            MetricsPlace::choose(true, local, None),
            MetricsPlace::Nowhere
        );
        assert_eq!(
            MetricsPlace::choose(true, public, Some(own)),
            MetricsPlace::Own(own)
        );
        assert_eq!(
            MetricsPlace::choose(false, local, Some(own)),
            MetricsPlace::Own(own)
        );
    }
}
