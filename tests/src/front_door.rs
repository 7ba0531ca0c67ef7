//! The real stack's one public address, as a cluster's ingress is: each
//! request goes to a pod of the component its path routes to in
//! `spin.toml` (the longest matching route, as the host routes), replicas
//! taken in turn; WebSocket upgrades are passed through.
//!
//! It works on the bytes: it reads a request's head, picks the pod, sends
//! the head on and then copies both ways until either side closes. A
//! plain request is sent with `Connection: close`, so every request on a
//! client's connection is routed afresh (the client reconnects).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use todo_manifest::Manifest;

use crate::real_stack::RealStack;

/// The largest request head passed on.
const MAX_HEAD: usize = 64 * 1024;

/// Where each component's pods listen (their app ports).
pub struct Backends {
    /// spin.toml: which component a path routes to.
    pub app: Arc<Manifest>,
    pub ports: HashMap<String, Vec<u16>>,
}

impl Backends {
    /// The routes and pods of `stack`.
    pub fn of(stack: &RealStack) -> Self {
        let mut ports: HashMap<String, Vec<u16>> = HashMap::new();
        for pod in &stack.pods {
            ports
                .entry(pod.component.clone())
                .or_default()
                .push(pod.app_port);
        }
        Backends {
            app: stack.app().clone(),
            ports,
        }
    }
}

pub struct FrontDoor {
    pub addr: SocketAddr,
    pub backends: Arc<RwLock<Backends>>,
    task: tokio::task::JoinHandle<()>,
}

impl FrontDoor {
    /// Listens on `listen` (port 0: any free one) on the current runtime.
    pub async fn start(listen: SocketAddr, backends: Backends) -> Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let backends = Arc::new(RwLock::new(backends));
        let shared = backends.clone();
        let turn = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let (backends, turn) = (shared.clone(), turn.clone());
                // A client or pod closing mid-way is no news.
                tokio::spawn(async move {
                    let _ = pass(client, &backends, &turn).await;
                });
            }
        });
        Ok(FrontDoor {
            addr,
            backends,
            task,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pass(
    mut client: TcpStream,
    backends: &RwLock<Backends>,
    turn: &AtomicUsize,
) -> Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return reply(&mut client, "431 Request Header Fields Too Large").await;
        }
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_owned();
    let port = {
        let backends = backends.read().expect("backends lock");
        backends
            .app
            .serving(&path)
            .and_then(|component| backends.ports.get(component))
            .filter(|ports| !ports.is_empty())
            .map(|ports| ports[turn.fetch_add(1, Ordering::Relaxed) % ports.len()])
    };
    let Some(port) = port else {
        return reply(&mut client, "404 Not Found").await;
    };
    let Ok(mut pod) = TcpStream::connect(("127.0.0.1", port)).await else {
        return reply(&mut client, "502 Bad Gateway").await;
    };
    let _ = pod.set_nodelay(true);
    pod.write_all(forwarded_head(&head).as_bytes()).await?;
    pod.write_all(&buf[head_end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut pod).await?;
    Ok(())
}

/// `head` as sent on: an upgrade keeps its `Connection` header, anything
/// else gets `Connection: close` instead of its own.
fn forwarded_head(head: &str) -> String {
    let lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    let upgrade = lines.iter().skip(1).any(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("upgrade"))
    });
    if upgrade {
        return head.to_owned();
    }
    let mut out = String::with_capacity(head.len() + 20);
    for (i, line) in lines.iter().enumerate() {
        let is_connection = i > 0
            && line
                .split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

async fn reply(client: &mut TcpStream, status: &str) -> Result<()> {
    let body = format!("{{\"error\":{{\"code\":\"front_door\",\"message\":\"{status}\"}}}}");
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(resp.as_bytes()).await?;
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::forwarded_head;

    #[test]
    fn plain_requests_are_closed_after_their_response_and_upgrades_pass() {
        let head = "GET /api/tasks HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
        assert_eq!(
            forwarded_head(head),
            "GET /api/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        let ws = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        assert_eq!(forwarded_head(ws), ws);
    }
}
