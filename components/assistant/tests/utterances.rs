//! The utterance table: what each request must turn into (tool calls with
//! their exact arguments, or the question asked), against a fixed clock
//! (Friday 27 November 2026, 14:30 in Paris) and a fixed task list. Multi-
//! turn cases carry the conversation's memory from one message to the
//! next; tool results are simulated from the fixed list.

use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use todo_assistant::dialogue::{Memory, World, conclude, respond};
use todo_assistant::when::Clock;

#[derive(Deserialize)]
struct Table {
    tasks: Vec<Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    turns: Vec<Step>,
    /// The user's zone (default Europe/Paris).
    #[serde(default)]
    zone: Option<String>,
    #[serde(flatten)]
    expect: Expect,
}

#[derive(Deserialize, Default, Clone)]
struct Expect {
    /// The tool calls, in order (absent: none).
    #[serde(default)]
    calls: Vec<Value>,
    #[serde(default)]
    awaiting: Option<String>,
    /// Words the reply must contain.
    #[serde(default)]
    reply: Vec<String>,
    /// The ids a list call returns (default: every open task).
    #[serde(default)]
    listed: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Step {
    say: String,
    #[serde(flatten)]
    expect: Expect,
}

fn clock(zone: Option<&str>) -> Clock {
    Clock::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 13, 30, 0).unwrap(),
        zone.map_or(chrono_tz::Europe::Paris, |z| {
            z.parse().expect("an IANA zone")
        }),
    )
}

/// What the tools would answer, from the fixed list.
fn simulate(tasks: &[Value], call: &Value, listed: &Option<Vec<String>>) -> Result<Value, String> {
    let args = &call["arguments"];
    let by_id = |id: &Value| tasks.iter().find(|t| &t["id"] == id).cloned();
    match call["tool"].as_str().unwrap() {
        "list_tasks" => {
            let out: Vec<Value> = match listed {
                Some(ids) => ids.iter().filter_map(|i| by_id(&json!(i))).collect(),
                None => tasks
                    .iter()
                    .filter(|t| t["status"] == "open")
                    .cloned()
                    .collect(),
            };
            Ok(json!({"tasks": out, "next_cursor": null}))
        }
        "add_task" => {
            let mut t = args.clone();
            t["id"] = json!("new");
            t["status"] = json!("open");
            Ok(json!({ "task": t }))
        }
        "delete_task" => Ok(json!({"id": args["id"], "deleted": true, "scope": "occurrence"})),
        _ => {
            let mut t = by_id(&args["id"]).ok_or("no such task")?;
            for (k, v) in args.as_object().unwrap() {
                t[k] = v.clone();
            }
            Ok(json!({ "task": t }))
        }
    }
}

fn check(
    label: &str,
    clock: Clock,
    tasks: &[Value],
    say: &str,
    expect: &Expect,
    memory: &Memory,
) -> Memory {
    let world = World { clock, tasks };
    let turn = respond(say, memory, &world);
    let calls: Vec<Value> = turn
        .calls
        .iter()
        .map(|c| json!({"tool": c.tool, "arguments": c.arguments}))
        .collect();
    assert_eq!(
        calls, expect.calls,
        "{label}: {say:?} (reply: {})",
        turn.reply
    );
    assert_eq!(
        turn.awaiting.map(|a| a.as_str().to_owned()),
        expect.awaiting,
        "{label}: {say:?} awaiting (reply: {})",
        turn.reply
    );
    let results: Vec<_> = calls
        .iter()
        .map(|c| simulate(tasks, c, &expect.listed))
        .collect();
    let (reply, memory) = conclude(&turn, &results);
    assert!(!reply.is_empty(), "{label}: {say:?}: an empty reply");
    for want in &expect.reply {
        assert!(
            reply.contains(want.as_str()),
            "{label}: {say:?}: {want:?} not in {reply:?}"
        );
    }
    memory
}

#[test]
fn every_utterance_gives_its_calls() {
    let table: Table =
        serde_json::from_str(include_str!("utterances.json")).expect("the table parses");
    let mut count = 0;
    for (n, case) in table.cases.iter().enumerate() {
        let mut memory = Memory::default();
        let clock = clock(case.zone.as_deref());
        if let Some(say) = &case.say {
            check(
                &format!("case {n}"),
                clock,
                &table.tasks,
                say,
                &case.expect,
                &memory,
            );
            count += 1;
        }
        for (k, step) in case.turns.iter().enumerate() {
            memory = check(
                &format!("case {n} turn {k}"),
                clock,
                &table.tasks,
                &step.say,
                &step.expect,
                &memory,
            );
            count += 1;
        }
    }
    assert!(count >= 200, "the table has {count} utterances");
}
