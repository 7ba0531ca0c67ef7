//! A guest's response after its head: the body it streams is complete only
//! if the guest's call ended well. wasmtime's body ends cleanly when the
//! guest's side is dropped (a trap, a deadline, a guest that never
//! finished), so a client would take a truncated body for a whole one;
//! here such an end is an error, which hyper turns into an aborted
//! response (no final chunk, or fewer bytes than `content-length`).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;
use wasmtime_wasi_http::Error;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Logs and counts a response that could not be completed, once.
pub struct AbortReport {
    component: String,
    reported: AtomicBool,
}

impl AbortReport {
    pub fn new(component: &str) -> Arc<Self> {
        Arc::new(AbortReport {
            component: component.to_owned(),
            reported: AtomicBool::new(false),
        })
    }

    pub fn report(&self, reason: &'static str, why: &str) {
        if self.reported.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(
            component = %self.component,
            reason,
            "response aborted after its head was sent: {why}"
        );
        crate::ops::metrics::METRICS
            .responses_aborted
            .with_label_values(&[&self.component, reason])
            .inc();
    }
}

/// The guest's body, ended by the outcome of its call.
pub struct Streamed {
    inner: HyperOutgoingBody,
    /// `Ok` once the guest's call returned well; `Err(why)` otherwise.
    outcome: oneshot::Receiver<Result<(), (&'static str, String)>>,
    report: Arc<AbortReport>,
    /// The guest's body has ended; what remains is its call's outcome.
    drained: bool,
}

impl Streamed {
    pub fn new(
        inner: HyperOutgoingBody,
        outcome: oneshot::Receiver<Result<(), (&'static str, String)>>,
        report: Arc<AbortReport>,
    ) -> Self {
        Streamed {
            inner,
            outcome,
            report,
            drained: false,
        }
    }
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if !self.drained {
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(None) => self.drained = true,
                other => return other,
            }
        }
        let failed = match Pin::new(&mut self.outcome).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(Ok(()))) => return Poll::Ready(None),
            Poll::Ready(Ok(Err((reason, why)))) => (reason, why),
            Poll::Ready(Err(_)) => ("cancelled", "the component's call was cancelled".into()),
        };
        self.report.report(failed.0, &failed.1);
        Poll::Ready(Some(Err(Error::InternalError(Some(failed.1)))))
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
