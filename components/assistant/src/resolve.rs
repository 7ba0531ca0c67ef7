//! Which task a request means: a position in the last list shown, the
//! task last talked about, or words matched against titles (each word of
//! the request found in the title, allowing prefixes and small typos).

use serde_json::Value;

use crate::intent::{Target, Verb};

/// What a target resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    One(&'a Value),
    Several(Vec<&'a Value>),
    None(String),
}

const FILLER: [&str; 12] = [
    "the", "a", "an", "my", "task", "todo", "to", "for", "with", "of", "one", "thing",
];

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
        .collect()
}

fn token_matches(wanted: &str, have: &str) -> bool {
    wanted == have
        || (wanted.len() >= 3 && have.starts_with(wanted))
        || (wanted.len() >= 4 && strsim::jaro_winkler(wanted, have) >= 0.9)
        || (wanted.ends_with('s') && wanted.len() >= 4 && have == &wanted[..wanted.len() - 1])
}

/// How well `words` name `title`: 1.0 when every word is found.
fn score(words: &[String], title: &str) -> f64 {
    let have = tokens(title);
    if words.is_empty() {
        return 0.0;
    }
    let found = words
        .iter()
        .filter(|w| have.iter().any(|h| token_matches(w, h)))
        .count();
    found as f64 / words.len() as f64
}

pub fn title(task: &Value) -> &str {
    task["title"].as_str().unwrap_or_default()
}

pub fn id(task: &Value) -> &str {
    task["id"].as_str().unwrap_or_default()
}

fn is_open(task: &Value) -> bool {
    task["status"] == "open"
}

/// Resolves `target` among `tasks` for `verb` (completing prefers open
/// tasks, reopening completed ones). `shown`: ids of the last list;
/// `focus`: the task last talked about.
pub fn resolve<'a>(
    target: &Target,
    verb: Option<Verb>,
    tasks: &'a [Value],
    shown: &[String],
    focus: Option<&str>,
) -> Resolved<'a> {
    let by_id = |wanted: &str| tasks.iter().find(|t| id(t) == wanted);
    match target {
        Target::It => match focus.and_then(by_id) {
            Some(t) => Resolved::One(t),
            None => Resolved::None("I'm not sure which task you mean by that; name it, or ask me to list your tasks first".into()),
        },
        Target::Position(n) => {
            let n = if *n == usize::MAX { shown.len() } else { *n };
            match n.checked_sub(1).and_then(|k| shown.get(k)).and_then(|id| by_id(id)) {
                Some(t) => Resolved::One(t),
                None if shown.is_empty() => Resolved::None(format!(
                    "there is no list to pick number {n} from; ask me to list your tasks first"
                )),
                None => Resolved::None(format!("the last list had {} tasks, so there is no number {n}", shown.len())),
            }
        }
        Target::Named(name) => {
            let lower = name.to_lowercase();
            let exact: Vec<&Value> = tasks.iter().filter(|t| title(t).to_lowercase() == lower).collect();
            let words: Vec<String> = tokens(name).into_iter().filter(|w| !FILLER.contains(&w.as_str())).collect();
            let mut best: Vec<(&Value, f64)> = if exact.is_empty() {
                tasks.iter().map(|t| (t, score(&words, title(t)))).filter(|(_, s)| *s >= 1.0).collect()
            } else {
                exact.into_iter().map(|t| (t, 1.0)).collect()
            };
            // Completing prefers open tasks, reopening completed ones.
            let wanted_open = match verb {
                Some(Verb::Complete) => Some(true),
                Some(Verb::Uncomplete) => Some(false),
                _ => None,
            };
            if let Some(open) = wanted_open
                && best.iter().any(|(t, _)| is_open(t) == open)
            {
                best.retain(|(t, _)| is_open(t) == open);
            }
            // Options in a stable order: soonest due first, then title.
            best.sort_by(|(a, _), (b, _)| {
                let due = |t: &Value| t["due_at"].as_str().map(str::to_owned);
                (due(a).is_none(), due(a), title(a), id(a)).cmp(&(due(b).is_none(), due(b), title(b), id(b)))
            });
            match best.as_slice() {
                [] => Resolved::None(format!("I couldn't find a task matching \u{201c}{name}\u{201d}")),
                [(t, _)] => Resolved::One(t),
                _ => Resolved::Several(best.into_iter().map(|(t, _)| t).collect()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tasks() -> Vec<Value> {
        vec![
            json!({"id": "1", "title": "Dentist appointment", "status": "open"}),
            json!({"id": "2", "title": "Pay dentist bill", "status": "open"}),
            json!({"id": "3", "title": "Buy groceries", "status": "completed"}),
            json!({"id": "4", "title": "Buy groceries", "status": "open"}),
            json!({"id": "5", "title": "Call Mom", "status": "open"}),
        ]
    }

    fn one(r: Resolved) -> String {
        match r {
            Resolved::One(t) => id(t).to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_positions_and_it() {
        let t = tasks();
        let named = |s: &str, v| resolve(&Target::Named(s.into()), v, &t, &[], None);
        assert_eq!(one(named("call mom", None)), "5");
        assert_eq!(one(named("the appointment", None)), "1");
        assert_eq!(one(named("dentst appointment", None)), "1");
        assert!(matches!(named("dentist", None), Resolved::Several(v) if v.len() == 2));
        assert_eq!(one(named("groceries", Some(Verb::Complete))), "4");
        assert_eq!(one(named("groceries", Some(Verb::Uncomplete))), "3");
        assert!(matches!(named("taxes", None), Resolved::None(_)));
        let shown = vec!["2".to_owned(), "5".to_owned()];
        assert_eq!(
            one(resolve(&Target::Position(2), None, &t, &shown, None)),
            "5"
        );
        assert_eq!(
            one(resolve(
                &Target::Position(usize::MAX),
                None,
                &t,
                &shown,
                None
            )),
            "5"
        );
        assert!(matches!(
            resolve(&Target::Position(3), None, &t, &shown, None),
            Resolved::None(_)
        ));
        assert_eq!(one(resolve(&Target::It, None, &t, &[], Some("1"))), "1");
    }
}
