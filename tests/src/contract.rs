//! Contract checks: events against their JSON Schemas in `schemas/events`
//! (one per event type, sharing `cloudevent.json` and `task.json`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::workspace_root;

/// The `$id` prefix of every schema in `schemas/events`.
const BASE: &str = "https://todo.example/schemas/events/";

struct Schemas {
    by_type: BTreeMap<String, jsonschema::Validator>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = workspace_root().join("schemas/events");
        let mut docs = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("schemas/events exists") {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a readable schema");
            let doc: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            docs.push(doc);
        }
        let mut registry = jsonschema::Registry::new();
        for doc in &docs {
            let id = doc["$id"].as_str().expect("every schema has an $id");
            assert!(id.starts_with(BASE), "{id} is outside {BASE}");
            registry = registry
                .add(id, doc.clone())
                .unwrap_or_else(|e| panic!("schema {id}: {e}"));
        }
        let registry = Box::leak(Box::new(registry.prepare().expect("schemas resolve")));
        let mut by_type = BTreeMap::new();
        for doc in &docs {
            let id = doc["$id"].as_str().unwrap();
            let name = id.trim_start_matches(BASE).trim_end_matches(".json");
            if !name.starts_with("com.todo.") {
                continue;
            }
            let validator = jsonschema::options()
                .with_registry(registry)
                .should_validate_formats(true)
                .build(doc)
                .unwrap_or_else(|e| panic!("schema {id}: {e}"));
            by_type.insert(name.to_owned(), validator);
        }
        Schemas { by_type }
    })
}

/// The event types that have a schema.
pub fn event_types() -> Vec<String> {
    schemas().by_type.keys().cloned().collect()
}

/// Checks `event` (structured-mode JSON) against the schema of its type;
/// an event type without a schema is a failure too.
pub fn check_event(event: &Value) -> Result<(), String> {
    let ty = event["type"].as_str().ok_or("event has no type")?;
    let validator = schemas()
        .by_type
        .get(ty)
        .ok_or_else(|| format!("no schema for event type {ty}"))?;
    let errors: Vec<String> = validator
        .iter_errors(event)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{ty} {}: {}", event["id"], errors.join("; ")))
    }
}
