//! `POST /api/recurrence/preview`: a rule in words and its next dues for a
//! task not saved yet, so the web app's recurrence builder can show them
//! while the person edits. Validated exactly as a task's `due` and
//! `recurrence` are (same messages, same field names); stores nothing.

use serde_json::{Value, json};
use todo_domain::{ApiError, Request, Response};
use todo_model::due::Due;
use todo_model::input::parse_object;
use todo_model::recurrence::{self, Recurrence};

use crate::occurrences::{DEFAULT_COUNT, MAX_COUNT};
use crate::tasks::Caller;

pub const ROUTE: &str = "/api/recurrence/preview";

pub fn handle(req: &Request, caller: &Caller) -> Result<Response, ApiError> {
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed(&req.method, &["POST"]));
    }
    let body = parse_object(&req.body)?;
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "due" | "recurrence" | "count"))
    {
        return Err(ApiError::validation(
            key,
            "is not a field of a preview; it has only due, recurrence and count",
        ));
    }
    let count = match body.get("count") {
        None | Some(Value::Null) => DEFAULT_COUNT,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_COUNT as u64).contains(n))
            .ok_or_else(|| {
                ApiError::validation("count", format!("must be an integer from 1 to {MAX_COUNT}"))
            })? as usize,
    };
    let due = match body.get("due") {
        None | Some(Value::Null) => None,
        Some(v) => Some(Due::from_json(v, &caller.time_zone)?),
    };
    let rule = body.get("recurrence").unwrap_or(&Value::Null);
    if rule.is_null() {
        return Err(ApiError::validation(
            "recurrence",
            "is required: {\"rrule\": \"FREQ=WEEKLY\", \"basis\": \"schedule\"}",
        ));
    }
    let recurrence = Recurrence::from_json(rule, due.as_ref())?;
    let due = due.expect("Recurrence::from_json refuses a rule without a due");
    let occurrences = recurrence::occurrences(&recurrence, &due, 1, count)
        .map_err(|e| ApiError::validation("recurrence.rrule", e))?;
    Ok(Response::json(
        200,
        &json!({"recurrence": recurrence, "occurrences": occurrences}),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use todo_domain::{MemoryKv, Request};

    use crate::api::handle;
    use crate::test_support::{secrets, send, token};

    fn preview(kv: &MemoryKv, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let resp = send(kv, token, "POST", super::ROUTE, Some(body.to_string()), &[]);
        (resp.status, resp.json_body().unwrap())
    }

    #[test]
    fn a_rule_is_described_and_expanded_in_the_users_zone_without_storing_anything() {
        let kv = MemoryKv::new();
        let t = token(&kv, "p@example.test", "Europe/Paris");
        let before = kv.published().len();
        let (status, body) = preview(
            &kv,
            &t,
            json!({"due": {"date": "2026-11-30", "time": "09:00"},
                   "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=MO,WE"}, "count": 3}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["recurrence"]["rrule"], "FREQ=WEEKLY;BYDAY=MO,WE");
        assert!(
            body["recurrence"]["text"]
                .as_str()
                .unwrap()
                .contains("Monday")
        );
        let locals: Vec<&str> = body["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["local"].as_str().unwrap())
            .collect();
        assert_eq!(
            locals,
            [
                "2026-11-30T09:00:00",
                "2026-12-02T09:00:00",
                "2026-12-07T09:00:00"
            ]
        );
        // 09:00 Paris in winter is 08:00Z.
        assert_eq!(body["occurrences"][0]["at"], "2026-11-30T08:00:00Z");
        assert_eq!(kv.published().len(), before);
        let list = send(&kv, &t, "GET", "/api/tasks", None, &[]);
        assert_eq!(list.json_body().unwrap()["tasks"], json!([]));
    }

    #[test]
    fn bad_input_names_the_field() {
        let kv = MemoryKv::new();
        let t = token(&kv, "q@example.test", "UTC");
        let due = json!({"date": "2026-11-30"});
        for (body, field) in [
            (
                json!({"due": due, "recurrence": {"rrule": "FREQ=SOMETIMES"}}),
                "recurrence.rrule",
            ),
            (json!({"recurrence": {"rrule": "FREQ=DAILY"}}), "recurrence"),
            (json!({"due": due}), "recurrence"),
            (
                json!({"due": {"date": "2026-13-01"}, "recurrence": {"rrule": "FREQ=DAILY"}}),
                "due.date",
            ),
            (
                json!({"due": due, "recurrence": {"rrule": "FREQ=DAILY"}, "count": 0}),
                "count",
            ),
            (
                json!({"due": due, "recurrence": {"rrule": "FREQ=DAILY"}, "extra": 1}),
                "extra",
            ),
        ] {
            let (status, resp) = preview(&kv, &t, body.clone());
            assert_eq!(status, 422, "{body} -> {resp}");
            assert_eq!(resp["error"]["field"], field, "{body} -> {resp}");
        }
        let get = send(&kv, &t, "GET", super::ROUTE, None, &[]);
        assert_eq!(get.status, 405);
        let anonymous = handle(&kv, &secrets(), &Request::new("POST", super::ROUTE));
        assert_eq!(anonymous.status, 401);
    }
}
