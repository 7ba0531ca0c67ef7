//! `wasi:http/outgoing-handler`: a component's own HTTP requests (webhooks,
//! OAuth metadata), the Spin way: only to the hosts its
//! `allowed_outbound_hosts` lists, and, unless the operator allows it
//! (`TODO_OUTBOUND_ALLOW_PRIVATE`), never to a private, loopback or
//! link-local address, whatever the name resolves to. Both modes send
//! directly; the sidecar has no part in it.

mod address;
mod send;

use std::sync::Arc;

use http::uri::Scheme;
use tracing::Instrument;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::app::{AllowedHosts, default_port};

/// The operator's rules for every component's outgoing requests.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    /// Whether private, loopback and link-local addresses may be reached.
    pub allow_private: bool,
}

/// The `wasi:http` hooks of one store: the calling component's allow-list
/// and the operator's rules.
pub struct OutgoingHttp {
    pub component: Arc<str>,
    pub allowed: Arc<AllowedHosts>,
    pub egress: Arc<Egress>,
}

type Pending<T> = Box<dyn Future<Output = T> + Send>;

impl WasiHttpHooks for OutgoingHttp {
    /// Plain HTTP only: there is no TLS client in the host yet, so an
    /// `https` request fails at once instead of being sent in clear.
    fn is_supported_scheme(&mut self, scheme: &Scheme) -> bool {
        *scheme == Scheme::HTTP
    }

    fn default_scheme(&mut self) -> Option<Scheme> {
        None
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Pending<Result<(), Error>>,
    ) -> Pending<wasmtime_wasi_http::Result<send::Sent>> {
        let allowed = self.allowed.clone();
        let egress = self.egress.clone();
        let span = tracing::info_span!(
            "outgoing_http.send",
            component = %self.component,
            method = %request.method(),
            host = request.uri().host().unwrap_or(""),
        );
        Box::new(
            async move {
                let result = checked_send(&allowed, &egress, request, options).await;
                if let Err(e) = &result {
                    tracing::info!(error = ?e, "outgoing request refused or failed");
                }
                result
            }
            .instrument(span),
        )
    }
}

async fn checked_send(
    allowed: &AllowedHosts,
    egress: &Egress,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<send::Sent, Error> {
    let uri = request.uri();
    let scheme = uri.scheme_str().ok_or(Error::HttpRequestUriInvalid)?;
    let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_owned();
    let port = uri
        .port_u16()
        .or_else(|| default_port(scheme))
        .ok_or(Error::HttpRequestUriInvalid)?;
    if !allowed.allows(scheme, &host, port) {
        return Err(Error::HttpRequestDenied);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|_| Error::DestinationNotFound)?
        .collect();
    let addr = address::pick(&addrs, egress.allow_private).map_err(|r| match r {
        address::Refusal::NotFound => Error::DestinationNotFound,
        address::Refusal::Private => Error::DestinationIpProhibited,
    })?;
    send::send(addr, request, options).await
}
