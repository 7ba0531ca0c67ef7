//! Embedded state through a real component: ETag conflicts, all-or-nothing
//! transactions with their outbox events, and TTL expiry.

mod common;

use common::{ProbeHost, WAIT, count};
use serde_json::json;
use todo_tests::eventually;

#[tokio::test(flavor = "multi_thread")]
async fn etag_mismatch_is_a_conflict_and_changes_nothing() {
    let p = ProbeHost::start();
    p.cmd(json!({"op": "set", "key": "k", "value": "one"}))
        .await
        .unwrap();
    let first = p.cmd(json!({"op": "get", "key": "k"})).await.unwrap();
    let etag = first["etag"].as_str().unwrap().to_owned();

    // A write with the current ETag succeeds and changes the ETag.
    p.cmd(json!({"op": "set", "key": "k", "value": "two", "etag": etag}))
        .await
        .unwrap();
    let second = p.cmd(json!({"op": "get", "key": "k"})).await.unwrap();
    assert_eq!(second["value"], "two");
    assert_ne!(second["etag"], first["etag"]);

    // The stale ETag now conflicts, for set and for delete.
    let err = p
        .cmd(json!({"op": "set", "key": "k", "value": "three", "etag": etag}))
        .await
        .unwrap_err();
    assert_eq!(err.0, "conflict", "{err:?}");
    let err = p
        .cmd(json!({"op": "delete", "key": "k", "etag": etag}))
        .await
        .unwrap_err();
    assert_eq!(err.0, "conflict");
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "k"})).await.unwrap()["value"],
        "two"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_applies_fully_or_not_at_all() {
    let p = ProbeHost::start();
    p.cmd(json!({"op": "set", "key": "b", "value": "old-b"}))
        .await
        .unwrap();

    // Second op carries a wrong ETag: nothing may be written or published.
    let failed = p
        .cmd(json!({"op": "transact",
            "ops": [{"set": {"key": "a", "value": "new-a"}},
                    {"set": {"key": "b", "value": "new-b", "etag": "999999"}}],
            "events": [{"topic": "probe-events", "id": "tx-failed", "type": "com.test.ok"}]}))
        .await
        .unwrap_err();
    assert_eq!(failed.0, "conflict");
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "a"})).await.unwrap(),
        json!(null)
    );
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "b"})).await.unwrap()["value"],
        "old-b"
    );

    // The same transaction with the right ETag applies both writes and
    // publishes its event.
    let etag = p.cmd(json!({"op": "get", "key": "b"})).await.unwrap()["etag"].clone();
    p.cmd(json!({"op": "transact",
        "ops": [{"set": {"key": "a", "value": "new-a"}},
                {"set": {"key": "b", "value": "new-b", "etag": etag}},
                {"delete": {"key": "gone"}}],
        "events": [{"topic": "probe-events", "id": "tx-ok", "type": "com.test.ok"}]}))
        .await
        .unwrap();
    let items = p
        .cmd(json!({"op": "get_bulk", "keys": ["a", "b", "gone"]}))
        .await
        .unwrap();
    assert_eq!(items[0]["value"], "new-a");
    assert_eq!(items[1]["value"], "new-b");
    assert_eq!(items[2], json!(null));

    let log = p
        .wait_event("the committed transaction's event", |e| e["id"] == "tx-ok")
        .await;
    assert_eq!(count(&log, "probe-events", "tx-failed"), 0);
    assert_eq!(count(&log, "probe-events", "tx-ok"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn values_expire_after_their_ttl() {
    let p = ProbeHost::start();
    p.cmd(json!({"op": "set", "key": "short", "value": "v", "ttl": 1}))
        .await
        .unwrap();
    p.cmd(json!({"op": "set", "key": "long", "value": "v"}))
        .await
        .unwrap();
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "short"})).await.unwrap()["value"],
        "v"
    );
    eventually("the 1 s TTL to expire", WAIT, || async {
        let v = p.cmd(json!({"op": "get", "key": "short"})).await.unwrap();
        v.is_null().then_some(())
    })
    .await;
    assert_eq!(
        p.cmd(json!({"op": "get", "key": "long"})).await.unwrap()["value"],
        "v"
    );
}
