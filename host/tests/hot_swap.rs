//! Hot swap: a new `.wasm` takes over while requests flow, none of them
//! failing; a corrupt one is refused and the running version keeps serving.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{ProbeHost, WAIT};
use todo_tests::{eventually, wasm};

#[tokio::test(flavor = "multi_thread")]
async fn swap_under_load_and_refuse_a_corrupt_version() {
    let p = Arc::new(ProbeHost::start());
    assert_eq!(p.get("/version").await, (200, "v1".to_owned()));

    // Requests flow for the whole test; every one must succeed.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (p, stop) = (p.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = p.get("/version").await;
                assert_eq!(status, 200, "a request failed during the swap: {body}");
                seen.push(body);
            }
            seen
        })
    };

    // A corrupt file is refused; v1 keeps serving.
    let corrupt = p.scratch.write("corrupt.wasm", "this is not a component");
    p.scratch.install(&corrupt, "probe.wasm");
    eventually("the refusal to be logged", WAIT, || async {
        p.host.log().contains("refused new version").then_some(())
    })
    .await;
    assert_eq!(p.get("/version").await, (200, "v1".to_owned()));

    // v2 replaces it while requests keep flowing.
    p.scratch
        .install(&wasm("fixtures/probe-v2.wasm"), "probe.wasm");
    eventually("v2 to serve", WAIT, || async {
        (p.get("/version").await.1 == "v2").then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let seen = load.await.expect("load task");
    assert!(seen.iter().any(|b| b == "v1"));
    assert!(seen.iter().all(|b| b == "v1" || b == "v2"));
    // Once v2 serves, v1 never answers again.
    let first_v2 = seen.iter().position(|b| b == "v2").unwrap_or(seen.len());
    assert!(seen[first_v2..].iter().all(|b| b == "v2"));
}
