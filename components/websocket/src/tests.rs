//! The component's logic end to end, natively: connections, fan-out,
//! resume and reminders over `MemoryKv`, `MemoryPush` and `MemoryJobs`.

use chrono::Utc;
use serde_json::{Value, json};
use todo_auth::{Keys, SIGNING_KEY_SECRET};
use todo_domain::topics::event_type;
use todo_domain::{CloudEvent, EventOrigin, MemoryJobs, MemoryKv, StaticSecrets};

use crate::config::Config;
use crate::push::MemoryPush;
use crate::session::{self, Connect};
use crate::{fanout, reminders};

const KEY: &str = "test-signing-key-of-at-least-32-bytes!";
/// The real clock: events carry their real creation time.
static NOW: std::sync::LazyLock<u64> = std::sync::LazyLock::new(crate::now_ms);

struct World {
    kv: MemoryKv,
    push: MemoryPush,
    jobs: MemoryJobs,
    config: Config,
}

fn secrets() -> StaticSecrets {
    StaticSecrets::default().with(SIGNING_KEY_SECRET, KEY)
}

fn token(user: &str) -> String {
    Keys::from_secret(KEY)
        .unwrap()
        .issue_access(user, Utc::now())
        .0
}

impl World {
    fn new() -> Self {
        World {
            kv: MemoryKv::new(),
            push: MemoryPush::default(),
            jobs: MemoryJobs::default(),
            config: Config::default(),
        }
    }

    fn connect(&self, id: &str, user: &str, query: &str) -> Result<(), session::Rejection> {
        self.push.open(id);
        let headers = vec![(
            "authorization".to_owned(),
            format!("Bearer {}", token(user)),
        )];
        let info = Connect {
            connection: id,
            query,
            headers: &headers,
        };
        session::on_connect(&self.kv, &secrets(), &self.push, &self.config, &info, *NOW).map(drop)
    }

    fn event(&self, user: &str, ty: &str, subject: &str) -> CloudEvent {
        let event = EventOrigin::new("chat-api", user, "c")
            .event(ty)
            .subject(subject)
            .data(&json!({"title": subject}))
            .unwrap()
            .build();
        fanout::on_event(&self.kv, &self.push, &self.jobs, &self.config, &event, *NOW).unwrap();
        event
    }

    /// Event ids delivered in stream order to `id`.
    fn stream(&self, id: &str) -> Vec<(u64, String)> {
        self.push
            .of(id)
            .ordered
            .into_iter()
            .filter_map(|(seq, frame)| {
                let frame: Value = serde_json::from_str(&frame?).unwrap();
                assert_eq!(frame["type"], "event");
                assert_eq!(frame["cursor"], seq.to_string());
                Some((seq, frame["event"]["id"].as_str().unwrap().to_owned()))
            })
            .collect()
    }

    fn plain(&self, id: &str) -> Vec<Value> {
        self.push
            .of(id)
            .plain
            .iter()
            .map(|f| serde_json::from_str(f).unwrap())
            .collect()
    }
}

#[test]
fn each_device_of_a_user_gets_every_event_and_no_one_else_does() {
    let w = World::new();
    w.connect("a1", "alice", "device=phone").unwrap();
    w.connect("a2", "alice", "device=laptop").unwrap();
    w.connect("b1", "bob", "").unwrap();
    let hello = &w.plain("a1")[0];
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["cursor"], "0");
    assert_eq!(hello["device"], "phone");
    assert_eq!(w.push.of("a1").started_after, Some(0));

    let e1 = w.event("alice", event_type::TASK_CREATED, "t1");
    let e2 = w.event("alice", event_type::TASK_COMPLETED, "t1");
    // Not forwarded: internal reminder bookkeeping.
    w.event("alice", event_type::REMINDER_SCHEDULED, "t1");
    let expected = vec![(1, e1.id.clone()), (2, e2.id.clone())];
    assert_eq!(w.stream("a1"), expected);
    assert_eq!(w.stream("a2"), expected);
    assert!(w.stream("b1").is_empty());

    // Redelivered: same position again, which the host drops.
    fanout::on_event(&w.kv, &w.push, &w.jobs, &w.config, &e1, *NOW).unwrap();
    assert_eq!(w.stream("a1"), expected);
}

#[test]
fn a_resume_replays_what_followed_the_cursor_and_bad_cursors_resync() {
    let w = World::new();
    let ids: Vec<String> = (0..4)
        .map(|n| {
            w.event("alice", event_type::TASK_CREATED, &format!("t{n}"))
                .id
        })
        .collect();
    w.connect("c", "alice", "").unwrap();
    assert_eq!(w.plain("c")[0]["cursor"], "4");
    session::on_message(
        &w.kv,
        &w.push,
        "c",
        r#"{"type":"resume","cursor":"2"}"#,
        *NOW,
    )
    .unwrap();
    assert_eq!(w.push.of("c").started_after, Some(2));
    assert_eq!(
        w.stream("c"),
        vec![(3, ids[2].clone()), (4, ids[3].clone())]
    );

    // Via the URL at connect.
    w.connect("d", "alice", "cursor=3").unwrap();
    assert_eq!(w.stream("d"), vec![(4, ids[3].clone())]);

    // From the future, or not a cursor at all: resync.
    w.connect("e", "alice", "").unwrap();
    session::on_message(
        &w.kv,
        &w.push,
        "e",
        r#"{"type":"resume","cursor":"99"}"#,
        *NOW,
    )
    .unwrap();
    let last = w.plain("e").pop().unwrap();
    assert_eq!(last, json!({"type": "resync", "cursor": "4"}));
    assert!(w.connect("f", "alice", "cursor=abc").is_err());

    // Unknown messages get an error frame and change nothing.
    session::on_message(&w.kv, &w.push, "e", r#"{"type":"subscribe"}"#, *NOW).unwrap();
    assert_eq!(w.plain("e").pop().unwrap()["error"]["code"], "bad_message");
}

#[test]
fn bad_credentials_are_refused_before_the_upgrade() {
    let w = World::new();
    let info = |query: &'static str, headers: &'static [(String, String)]| Connect {
        connection: "x",
        query,
        headers,
    };
    let none: &'static [(String, String)] = &[];
    let r = session::on_connect(&w.kv, &secrets(), &w.push, &w.config, &info("", none), *NOW);
    assert_eq!(r.unwrap_err().status, 401);
    let r = session::on_connect(
        &w.kv,
        &secrets(),
        &w.push,
        &w.config,
        &info("ticket=nope", none),
        *NOW,
    );
    assert_eq!(r.unwrap_err().status, 401);
    let bad: &'static [(String, String)] = Box::leak(Box::new([(
        "authorization".to_owned(),
        "Bearer x.y.z".to_owned(),
    )]));
    let r = session::on_connect(&w.kv, &secrets(), &w.push, &w.config, &info("", bad), *NOW);
    assert_eq!(r.unwrap_err().status, 401);
    // Nothing was tracked for refused connections.
    assert!(w.kv.keys_with_prefix("conn").is_empty());
}

#[test]
fn reminders_reach_each_device_once_and_acks_publish_once_per_device() {
    let w = World::new();
    let reminder = w.event("alice", event_type::REMINDER_TRIGGERED, "t1");
    // The acknowledgement deadline is scheduled.
    let job = format!("{}{}", reminders::JOB_PREFIX, reminder.id);
    assert!(w.jobs.scheduled().contains_key(&job));

    // The phone connects later: the reminder comes when its stream starts.
    w.connect("p", "alice", "device=phone").unwrap();
    session::on_start(&w.kv, &w.push, "p", 1, *NOW).unwrap();
    let frames = w.plain("p");
    assert_eq!(frames[1]["type"], "reminder");
    assert_eq!(frames[1]["event"]["id"], reminder.id.as_str());

    let ack = format!(r#"{{"type":"ack","reminder":"{}"}}"#, reminder.id);
    session::on_message(&w.kv, &w.push, "p", &ack, *NOW).unwrap();
    session::on_message(&w.kv, &w.push, "p", &ack, *NOW).unwrap();
    let answers: Vec<_> = w.plain("p").into_iter().skip(2).collect();
    assert_eq!(answers[0]["type"], "acked");
    assert_eq!(answers[0]["first"], true);
    assert_eq!(answers[1]["first"], false);
    let delivered: Vec<_> =
        w.kv.published()
            .into_iter()
            .filter(|o| o.event.ty == event_type::REMINDER_DELIVERED)
            .collect();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].event.id,
        format!("delivered.{}.phone", reminder.id)
    );

    // Acknowledged on the phone: the phone does not get it again, the
    // laptop still does.
    w.connect("p2", "alice", "device=phone").unwrap();
    session::on_start(&w.kv, &w.push, "p2", 1, *NOW).unwrap();
    assert_eq!(w.plain("p2").len(), 1);
    w.connect("l", "alice", "device=laptop").unwrap();
    session::on_start(&w.kv, &w.push, "l", 1, *NOW).unwrap();
    assert_eq!(w.plain("l")[1]["type"], "reminder");
    // A stream starting before it gets it in the stream instead.
    w.connect("l2", "alice", "device=laptop").unwrap();
    session::on_start(&w.kv, &w.push, "l2", 0, *NOW).unwrap();
    assert_eq!(w.plain("l2").len(), 1);

    // Acknowledged by one device: no failure at the deadline.
    assert!(!reminders::deadline(&w.kv, "alice", &reminder.id, 1000).unwrap());
}

#[test]
fn a_reminder_no_device_acknowledges_fails_once() {
    let w = World::new();
    let reminder = w.event("alice", event_type::REMINDER_TRIGGERED, "t1");
    assert!(reminders::deadline(&w.kv, "alice", &reminder.id, 300_000).unwrap());
    assert!(!reminders::deadline(&w.kv, "alice", &reminder.id, 300_000).unwrap());
    let failed: Vec<_> =
        w.kv.published()
            .into_iter()
            .filter(|o| o.event.ty == event_type::REMINDER_FAILED)
            .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].event.id, format!("failed.{}", reminder.id));
    assert_eq!(
        failed[0].event.data_as::<Value>().unwrap()["ack_timeout_seconds"],
        300
    );
}

#[test]
fn connections_expire_unless_kept_alive_and_leave_on_disconnect() {
    let w = World::new();
    let ttl = w.config.connection_ttl_ms();
    w.connect("a", "alice", "").unwrap();
    w.connect("b", "alice", "").unwrap();
    let live = |now| {
        crate::connections::live(&w.kv, "alice", now, ttl)
            .unwrap()
            .len()
    };
    assert_eq!(live(*NOW), 2);
    session::on_alive(&w.kv, &w.push, &w.config, &["a".to_owned()], *NOW + ttl / 2).unwrap();
    // `b` was not heard from: gone after the TTL, `a` is kept.
    assert_eq!(live(*NOW + ttl + 1), 1);
    session::on_disconnect(&w.kv, &w.config, "a", *NOW + ttl + 1).unwrap();
    assert_eq!(live(*NOW + ttl + 1), 0);
}

#[test]
fn a_user_past_the_connection_limit_is_refused_and_nothing_is_kept() {
    use crate::connections::MAX_PER_USER;
    let w = World::new();
    let ttl = w.config.connection_ttl_ms();
    for i in 0..MAX_PER_USER {
        w.connect(&format!("c{i}"), "alice", "").unwrap();
    }
    let refused = w.connect("extra", "alice", "").unwrap_err();
    assert_eq!(refused.status, 429, "{}", refused.reason);
    assert!(refused.reason.contains(&MAX_PER_USER.to_string()));
    assert!(crate::connections::get(&w.kv, "extra").unwrap().is_none());
    let live = |now| {
        crate::connections::live(&w.kv, "alice", now, ttl)
            .unwrap()
            .len()
    };
    assert_eq!(live(*NOW), MAX_PER_USER);
    // Another user is not affected; a closed connection makes room.
    w.connect("b", "bob", "").unwrap();
    session::on_disconnect(&w.kv, &w.config, "c0", *NOW).unwrap();
    w.connect("extra", "alice", "").unwrap();
    assert_eq!(live(*NOW), MAX_PER_USER);
}

#[test]
fn a_connection_that_lapsed_while_its_host_stalled_is_told_to_resume() {
    use todo_domain::KeyValue as _;
    let w = World::new();
    let ttl = w.config.connection_ttl_ms();
    for id in ["kept", "stalled", "lost"] {
        w.connect(id, "alice", "").unwrap();
    }
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Heard from in time: nothing to say.
    session::on_alive(&w.kv, &w.push, &w.config, &ids(&["kept"]), *NOW + ttl / 2).unwrap();
    assert_eq!(w.push.of("kept").closed, None);
    // `stalled`'s host said nothing for longer than the TTL: events went
    // past it meanwhile. `lost` also lost its record.
    w.kv.delete("conn:lost", None).unwrap();
    let late = *NOW + ttl + 1;
    session::on_alive(
        &w.kv,
        &w.push,
        &w.config,
        &ids(&["kept", "stalled", "lost"]),
        late,
    )
    .unwrap();
    assert_eq!(w.push.of("kept").closed, None);
    for id in ["stalled", "lost"] {
        let closed = w.push.of(id).closed.expect("told to resume");
        assert_eq!(closed.0, crate::frames::CLOSE_TOO_SLOW, "{id}");
    }
}

#[test]
fn a_client_too_far_behind_is_closed_with_4008() {
    struct Full(MemoryPush);
    impl crate::push::Push for Full {
        fn send(&self, c: &str, m: &str) -> Result<(), todo_domain::KvError> {
            self.0.send(c, m)
        }
        fn send_ordered(
            &self,
            _: &str,
            _: u64,
            _: Option<&str>,
        ) -> Result<(), todo_domain::KvError> {
            Err(todo_domain::KvError::Unavailable("full".into()))
        }
        fn start(&self, c: &str, a: u64, h: u32) -> Result<(), todo_domain::KvError> {
            self.0.start(c, a, h)
        }
        fn close(&self, c: &str, code: u16, r: &str) -> Result<(), todo_domain::KvError> {
            self.0.close(c, code, r)
        }
    }
    let w = World::new();
    w.connect("slow", "alice", "").unwrap();
    let full = Full(MemoryPush::default());
    full.0.open("slow");
    let event = EventOrigin::new("chat-api", "alice", "c")
        .event(event_type::TASK_CREATED)
        .subject("t")
        .build();
    fanout::on_event(&w.kv, &full, &w.jobs, &w.config, &event, *NOW).unwrap();
    assert_eq!(
        full.0.of("slow").closed.unwrap().0,
        crate::frames::CLOSE_TOO_SLOW
    );
}
