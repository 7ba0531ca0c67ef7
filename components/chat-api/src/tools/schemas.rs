//! The tools' JSON Schemas, derived from the OpenAPI document so a tool's
//! arguments and results cannot drift from the REST API they go through.
//! Each schema is self-contained: the component schemas it refers to are
//! copied into its `$defs` (MCP clients resolve `$ref`s within the one
//! document).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// What a tool is, as `tools/list` and a model see it.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input: Value,
    pub output: Value,
    /// Changes nothing (MCP's `readOnlyHint`).
    pub read_only: bool,
    /// May remove data (MCP's `destructiveHint`).
    pub destructive: bool,
}

fn components() -> &'static Map<String, Value> {
    static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let doc: Value = serde_json::from_str(crate::api::OPENAPI).expect("openapi.json parses");
        let schemas = doc["components"]["schemas"].as_object().cloned();
        schemas.expect("openapi.json has component schemas")
    })
}

const OPENAPI_REF: &str = "#/components/schemas/";

/// `schema` with its references pointed at `$defs`, collecting the names.
fn relink(schema: &Value, used: &mut BTreeSet<String>) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match (
                    k.as_str(),
                    v.as_str().and_then(|r| r.strip_prefix(OPENAPI_REF)),
                ) {
                    ("$ref", Some(name)) => {
                        used.insert(name.to_owned());
                        out.insert(k.clone(), Value::String(format!("#/$defs/{name}")));
                    }
                    _ => {
                        out.insert(k.clone(), relink(v, used));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| relink(v, used)).collect()),
        other => other.clone(),
    }
}

/// `root` made self-contained: every component schema it reaches, directly
/// or through another, in its `$defs`.
fn standalone(root: Value) -> Value {
    let mut used = BTreeSet::new();
    let mut root = relink(&root, &mut used);
    let mut defs = Map::new();
    while let Some(name) = used.iter().find(|n| !defs.contains_key(*n)).cloned() {
        let schema = components()
            .get(&name)
            .unwrap_or_else(|| panic!("openapi.json defines {name}"));
        defs.insert(name, relink(schema, &mut used));
    }
    if !defs.is_empty() {
        root["$defs"] = Value::Object(defs);
    }
    root
}

fn component(name: &str) -> Value {
    components()
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("openapi.json defines {name}"))
}

fn id_argument() -> Value {
    json!({"type": "string", "description": "The task's id (from add_task, list_tasks or get_task)."})
}

fn by_id(extra: Value) -> Value {
    let mut properties = json!({"id": id_argument()});
    if let Value::Object(more) = extra {
        properties.as_object_mut().expect("an object").extend(more);
    }
    json!({"type": "object", "required": ["id"], "additionalProperties": false, "properties": properties})
}

fn task_result() -> Value {
    standalone(json!({
        "type": "object",
        "required": ["task"],
        "properties": {"task": {"$ref": "#/components/schemas/Task"}}
    }))
}

/// The fields of a new task, all optional, plus `id`: a merge patch.
fn update_input() -> Value {
    let mut create = component("TaskCreate");
    let fields = create["properties"].take();
    let mut properties = json!({"id": id_argument()});
    properties
        .as_object_mut()
        .expect("an object")
        .extend(fields.as_object().cloned().unwrap_or_default());
    standalone(json!({
        "type": "object",
        "required": ["id"],
        "additionalProperties": false,
        "description": "Fields present replace the task's; null clears one (a merge patch).",
        "properties": properties
    }))
}

fn list_input() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "query": {"type": "string", "maxLength": 500,
                "description": "Case-insensitive text over title, description and tags."},
            "filter": {"type": "string",
                "description": "The filter language, e.g. `status:open due<=+7d priority>=high tag:work`."},
            "sort": {"type": "string",
                "description": "Comma list of due, priority, created, updated, title; `-` for descending."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            "cursor": {"type": "string", "description": "`next_cursor` of the previous page."}
        }
    })
}

fn build() -> Vec<Spec> {
    vec![
        Spec {
            name: "add_task",
            title: "Add a task",
            description: "Creates a task. Dues are wall-clock dates and times in an IANA zone \
                (the user's by default); reminders are minutes before the due or an instant; \
                recurrence is an RFC 5545 RRULE.",
            input: standalone(component("TaskCreate")),
            output: task_result(),
            read_only: false,
            destructive: false,
        },
        Spec {
            name: "list_tasks",
            title: "List tasks",
            description: "One page of the user's tasks, filtered, searched and sorted.",
            input: list_input(),
            output: standalone(component("TaskPage")),
            read_only: true,
            destructive: false,
        },
        Spec {
            name: "get_task",
            title: "Get a task",
            description: "One task by id.",
            input: by_id(Value::Null),
            output: task_result(),
            read_only: true,
            destructive: false,
        },
        Spec {
            name: "update_task",
            title: "Update a task",
            description: "Changes the fields given (null clears one): title, description, \
                priority, tags, due, reminders, recurrence.",
            input: update_input(),
            output: task_result(),
            read_only: false,
            destructive: false,
        },
        Spec {
            name: "complete_task",
            title: "Complete a task",
            description: "Marks a task completed (a recurring one brings its next occurrence).",
            input: by_id(Value::Null),
            output: task_result(),
            read_only: false,
            destructive: false,
        },
        Spec {
            name: "uncomplete_task",
            title: "Reopen a task",
            description: "Marks a completed task open again.",
            input: by_id(Value::Null),
            output: task_result(),
            read_only: false,
            destructive: false,
        },
        Spec {
            name: "delete_task",
            title: "Delete a task",
            description: "Deletes a task; scope `series` also ends its recurring series.",
            input: by_id(
                json!({"scope": {"enum": ["occurrence", "series"], "default": "occurrence"}}),
            ),
            output: json!({
                "type": "object",
                "required": ["id", "deleted", "scope"],
                "properties": {
                    "id": {"type": "string"},
                    "deleted": {"const": true},
                    "scope": {"enum": ["occurrence", "series"]}
                }
            }),
            read_only: false,
            destructive: true,
        },
    ]
}

/// Every tool's name, in the order of [`specs`].
pub const NAMES: [&str; 7] = [
    "add_task",
    "list_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "uncomplete_task",
    "delete_task",
];

/// Every tool, in a stable order.
pub fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(build)
}

pub fn spec(name: &str) -> Option<&'static Spec> {
    specs().iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "$ref" {
                        out.push(v.as_str().unwrap().to_owned());
                    }
                    refs(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_is_self_contained() {
        for spec in specs() {
            for schema in [&spec.input, &spec.output] {
                assert_eq!(schema["type"], "object", "{}", spec.name);
                let mut found = Vec::new();
                refs(schema, &mut found);
                for r in found {
                    let name = r.strip_prefix("#/$defs/").expect("local refs only");
                    assert!(schema["$defs"].get(name).is_some(), "{}: {r}", spec.name);
                }
            }
        }
    }

    #[test]
    fn the_names_are_the_specs_names() {
        let names: Vec<&str> = specs().iter().map(|s| s.name).collect();
        assert_eq!(names, NAMES);
    }

    #[test]
    fn update_takes_the_create_fields_and_an_id() {
        let input = &spec("update_task").unwrap().input;
        assert_eq!(input["required"], json!(["id"]));
        for field in [
            "title",
            "due",
            "reminders",
            "recurrence",
            "priority",
            "tags",
        ] {
            assert!(input["properties"].get(field).is_some(), "{field}");
        }
    }
}
