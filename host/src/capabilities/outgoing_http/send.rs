//! Sends one request over HTTP/1.1 to an address already checked, so the
//! connection goes exactly where the allow-list and the address rules
//! said it may (no second DNS lookup between the check and the connect).

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Timeouts when the guest sets none: a call is bounded by its deadline
/// only while the guest runs, not while it waits on the network.
pub const CONNECT: Duration = Duration::from_secs(10);
pub const FIRST_BYTE: Duration = Duration::from_secs(30);
pub const BETWEEN_BYTES: Duration = Duration::from_secs(30);

/// The response and a future that resolves when the connection is done.
pub type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
);

pub async fn send(
    addr: SocketAddr,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<Sent, Error> {
    let connect = options.and_then(|o| o.connect_timeout).unwrap_or(CONNECT);
    let first_byte = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(FIRST_BYTE);
    let between = options
        .and_then(|o| o.between_bytes_timeout)
        .unwrap_or(BETWEEN_BYTES)
        .max(Duration::from_millis(1));

    let stream = tokio::time::timeout(connect, TcpStream::connect(addr))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(connect_error)?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = tokio::time::timeout(
        connect,
        hyper::client::conn::http1::handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;
    let done = tokio::spawn(conn);

    // The request line carries only the path: scheme and authority go on
    // the wire only to a proxy (the Host header names the server).
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;

    let response = tokio::time::timeout(first_byte, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)??;
    let response = response.map(|incoming| {
        let mut timer = tokio::time::interval(between);
        timer.reset();
        Timed { incoming, timer }.boxed_unsync()
    });
    let finished = async move {
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(Error::HttpResponseTimeout),
            Ok(Err(e)) => Err(Error::from(e)),
            Err(e) => Err(Error::InternalError(Some(e.to_string()))),
        }
    };
    Ok((response, Box::new(finished)))
}

fn connect_error(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
        _ => Error::Connect(e),
    }
}

/// The response body, failing when no frame comes for the between-bytes
/// timeout.
struct Timed {
    incoming: hyper::body::Incoming,
    timer: tokio::time::Interval,
}

impl http_body::Body for Timed {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timer.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timer.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.incoming)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.incoming)
    }
}
