//! `todo-host publish`: bad input and a missing data directory are clean
//! one-line errors that write nothing; good events land in the log (the
//! recurring scenarios use it to redeliver an event in-process).

use todo_tests::{Scratch, run_host};

fn publish(data: &std::path::Path, file: &std::path::Path) -> (Option<i32>, String) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_todo-host"));
    run_host(
        bin,
        &[
            "publish",
            "--topic",
            "task-events",
            "--data-dir",
            &data.display().to_string(),
            &file.display().to_string(),
        ],
    )
}

const EVENT: &str = r#"{"specversion": "1.0", "id": "e1", "source": "ops",
    "type": "com.todo.task.completed.v1", "data": {}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn appends_valid_events_and_refuses_the_rest() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    let event = scratch.write("event.json", EVENT);

    // No in-process data there yet: nothing is created.
    let (code, out) = publish(&data, &event);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no in-process data"), "{out}");
    assert!(!data.exists());

    // A store that exists (as `todo-host up` leaves it).
    let db = todo_host::capabilities::embedded_store::Db::open(&data).unwrap();
    drop(db);
    for (bad, why) in [
        ("not json", "not JSON"),
        (r#"[{"id": "x"}]"#, "event 0 is not a valid CloudEvent"),
    ] {
        let (code, out) = publish(&data, &scratch.write("bad.json", bad));
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains(why), "{out}");
    }
    let (code, out) = publish(&data, &event);
    assert_eq!(code, Some(0), "{out}");
    let two = format!("[{EVENT}, {}]", EVENT.replace("\"e1\"", "\"e2\""));
    let (code, out) = publish(&data, &scratch.write("two.json", &two));
    assert_eq!(code, Some(0), "{out}");

    let db = todo_host::capabilities::embedded_store::Db::open(&data).unwrap();
    let entries = db
        .read(|txn| {
            todo_host::capabilities::embedded_store::log::read_after(txn, "task-events", 0, 10)
        })
        .await
        .unwrap();
    let ids: Vec<String> = entries
        .iter()
        .map(|(_, bytes)| todo_host::cloudevent::from_bytes(bytes).unwrap().id)
        .collect();
    assert_eq!(ids, ["e1", "e1", "e2"]);
}
