//! `wasi:http` ⇄ the plain `Request` / `Response` the business logic
//! works on.

use crate::bindings::wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::bindings::wasi::io::streams::StreamError;
use todo_domain::http::{ApiError, Request, Response};

/// Larger request bodies are refused with 413 instead of being
/// buffered: every API body is a small JSON document.
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;
/// `blocking-write-and-flush` accepts at most 4096 bytes a call.
const CHUNK: usize = 4096;

/// Reads the request, runs `handle`, writes its response.
pub fn serve(
    request: IncomingRequest,
    out: ResponseOutparam,
    handle: impl FnOnce(Request) -> Response,
) {
    let response = match read_request(request) {
        Ok(request) => handle(request),
        Err(err) => err.into_response(),
    };
    write_response(out, response);
}

/// Buffers the whole request, body included.
pub fn read_request(request: IncomingRequest) -> Result<Request, ApiError> {
    let method = match request.method() {
        Method::Get => "GET".to_owned(),
        Method::Head => "HEAD".to_owned(),
        Method::Post => "POST".to_owned(),
        Method::Put => "PUT".to_owned(),
        Method::Delete => "DELETE".to_owned(),
        Method::Connect => "CONNECT".to_owned(),
        Method::Options => "OPTIONS".to_owned(),
        Method::Trace => "TRACE".to_owned(),
        Method::Patch => "PATCH".to_owned(),
        Method::Other(other) => other,
    };
    let path_and_query = request.path_with_query().unwrap_or_else(|| "/".to_owned());
    let mut plain = Request::new(&method, &path_and_query);
    plain.headers = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect();
    plain.body = read_body(&request)?;
    Ok(plain)
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let body = request
        .consume()
        .map_err(|()| ApiError::internal("request body was already consumed"))?;
    // Declared after `body`, so dropped before it: the stream is a
    // child resource and must go first.
    let stream = body
        .stream()
        .map_err(|()| ApiError::internal("request body stream unavailable"))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(CHUNK as u64) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_REQUEST_BODY {
                    return Err(ApiError::payload_too_large(MAX_REQUEST_BODY));
                }
            }
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(ApiError::bad_request(
                    "body",
                    format!("reading the request body failed: {}", e.to_debug_string()),
                ));
            }
        }
    }
}

/// Sends `response`. A client that went away mid-body is not an
/// error the component can do anything about, so it is ignored.
pub fn write_response(out: ResponseOutparam, response: Response) {
    let entries: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let Ok(headers) = Fields::from_list(&entries) else {
        return write_response(
            out,
            ApiError::internal("the handler produced an invalid header").into_response(),
        );
    };
    let outgoing = OutgoingResponse::new(headers);
    if outgoing.set_status_code(response.status).is_err() {
        return write_response(
            out,
            ApiError::internal(format!("invalid status {}", response.status)).into_response(),
        );
    }
    let body = outgoing.body().expect("a new response has a body");
    // Hand the response over before streaming: the host reads the
    // body only once it has the head, so a large body written
    // first could block forever.
    ResponseOutparam::set(out, Ok(outgoing));
    {
        let stream = body.write().expect("a new body has a stream");
        for chunk in response.body.chunks(CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}
