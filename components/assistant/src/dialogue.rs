//! One turn of a conversation: a message, what the assistant remembers of
//! the conversation and the user's tasks in; tool calls to run (or a
//! question, and nothing run) out. Whatever is unclear is asked, never
//! guessed: several matching tasks → `choice`, a delete or a new
//! recurring task → `confirmation`, a missing title or due → `detail`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::intent::{self, Intent, Target, Verb};
use crate::leftover;
use crate::plan;
use crate::resolve::{self, Resolved, id, title};
use crate::say::{self, quote};
use crate::when::Clock;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub tool: String,
    pub arguments: Value,
}

impl ToolCall {
    fn new(tool: &str, arguments: Value) -> Self {
        ToolCall {
            tool: tool.to_owned(),
            arguments,
        }
    }
}

/// How to word the outcome once the calls ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum After {
    Added,
    Listed { what: String },
    Completed,
    Reopened,
    Deleted { title: String },
    Updated,
    Shown,
}

/// A question the assistant asked and the next message answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// Which of `options` (task ids) `message`, read at `now`, meant.
    Choice {
        message: String,
        now: DateTime<Utc>,
        options: Vec<String>,
    },
    /// Calls that run on "yes".
    Confirm { calls: Vec<ToolCall>, after: After },
    /// A new task waiting for its title.
    Title { arguments: Value },
    /// A new task whose title kept words that look like a date or a
    /// repeat: the next message gives the due date (those words leave the
    /// title), or says to keep them.
    Unplaced {
        arguments: Value,
        without: Option<String>,
    },
}

/// What the assistant keeps between turns of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    #[serde(default)]
    pub pending: Option<Pending>,
    /// Ids of the last list shown, in order ("number 2").
    #[serde(default)]
    pub shown: Vec<String>,
    /// The task last talked about ("it").
    #[serde(default)]
    pub focus: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    Choice,
    Confirmation,
    Detail,
}

impl Awaiting {
    pub fn as_str(self) -> &'static str {
        match self {
            Awaiting::Choice => "choice",
            Awaiting::Confirmation => "confirmation",
            Awaiting::Detail => "detail",
        }
    }
}

/// The assistant's answer to one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Run in order; then [`conclude`] words the outcome.
    pub calls: Vec<ToolCall>,
    pub after: Option<After>,
    /// The reply when nothing runs.
    pub reply: String,
    pub awaiting: Option<Awaiting>,
    pub options: Vec<Value>,
    pub memory: Memory,
}

/// What the assistant can see: the clock and zone, and the user's tasks.
pub struct World<'a> {
    pub clock: Clock,
    pub tasks: &'a [Value],
}

fn say(reply: impl Into<String>, memory: Memory) -> Turn {
    Turn {
        calls: Vec::new(),
        after: None,
        reply: reply.into(),
        awaiting: None,
        options: Vec::new(),
        memory,
    }
}

fn run(call: ToolCall, after: After, memory: Memory) -> Turn {
    Turn {
        calls: vec![call],
        after: Some(after),
        reply: String::new(),
        awaiting: None,
        options: Vec::new(),
        memory,
    }
}

fn confirm(reply: String, call: ToolCall, after: After, mut memory: Memory) -> Turn {
    memory.pending = Some(Pending::Confirm {
        calls: vec![call],
        after,
    });
    Turn {
        calls: Vec::new(),
        after: None,
        reply,
        awaiting: Some(Awaiting::Confirmation),
        options: vec![json!("yes"), json!("no")],
        memory,
    }
}

const NOTHING: &str = "Nothing changed.";

/// Answers `message`.
pub fn respond(message: &str, memory: &Memory, world: &World) -> Turn {
    let mut memory = memory.clone();
    let pending = memory.pending.take();
    let intent = intent::read(message, &world.clock);
    if let Some(pending) = pending {
        match (pending, &intent) {
            (_, Intent::No) => {
                return say(
                    format!("OK, I left everything as it was. {NOTHING}"),
                    memory,
                );
            }
            (Pending::Confirm { calls, after }, Intent::Yes) => {
                return Turn {
                    calls,
                    after: Some(after),
                    reply: String::new(),
                    awaiting: None,
                    options: Vec::new(),
                    memory,
                };
            }
            (
                Pending::Choice {
                    message: asked,
                    now,
                    options,
                },
                _,
            ) => {
                let picked = match &intent {
                    Intent::Pick(n) => {
                        let n = if *n == usize::MAX { options.len() } else { *n };
                        n.checked_sub(1).and_then(|k| options.get(k)).cloned()
                    }
                    Intent::Act(_, Target::Named(_)) | Intent::Unclear { .. }
                        if !options.is_empty() =>
                    {
                        let name = match &intent {
                            Intent::Act(_, Target::Named(n)) => n.clone(),
                            _ => message.to_owned(),
                        };
                        let among: Vec<Value> = world
                            .tasks
                            .iter()
                            .filter(|t| options.iter().any(|o| o == id(t)))
                            .cloned()
                            .collect();
                        match resolve::resolve(&Target::Named(name), None, &among, &[], None) {
                            Resolved::One(t) => Some(id(t).to_owned()),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(chosen) = picked {
                    let clock = Clock { now, ..world.clock };
                    let again = intent::read(&asked, &clock);
                    return act_on(
                        &asked,
                        again,
                        Some(&chosen),
                        memory,
                        &World {
                            clock,
                            tasks: world.tasks,
                        },
                    );
                }
                if matches!(intent, Intent::Pick(_)) {
                    memory.pending = Some(Pending::Choice {
                        message: asked,
                        now,
                        options: options.clone(),
                    });
                    return Turn {
                        calls: Vec::new(),
                        after: None,
                        reply: format!("Please pick a number from 1 to {}.", options.len()),
                        awaiting: Some(Awaiting::Choice),
                        options: choice_options(world.tasks, &options),
                        memory,
                    };
                }
            }
            (Pending::Unplaced { arguments, without }, _) => {
                if let Some(turn) = leftover::answer(message, arguments, without, &memory, world) {
                    return turn;
                }
            }
            (Pending::Title { mut arguments }, Intent::Unclear { .. } | Intent::Add(_)) => {
                let text = match &intent {
                    Intent::Add(d) => d.title.clone(),
                    _ => Some(message.trim().to_owned()).filter(|t| !t.is_empty()),
                };
                if let Some(t) = text {
                    arguments["title"] = json!(t);
                    return add_or_confirm(arguments, memory, world);
                }
            }
            _ => {}
        }
    }
    act_on(message, intent, None, memory, world)
}

fn choice_options(tasks: &[Value], ids: &[String]) -> Vec<Value> {
    ids.iter()
        .enumerate()
        .filter_map(|(i, wanted)| {
            let t = tasks.iter().find(|t| id(t) == wanted)?;
            Some(json!({"id": wanted, "title": title(t), "label": format!("{}. {}", i + 1, say::line(t))}))
        })
        .collect()
}

/// Resolves a target, or (`forced`) takes the task the user picked.
fn pick<'a>(
    target: &Target,
    verb: Option<Verb>,
    forced: Option<&str>,
    memory: &Memory,
    world: &'a World,
) -> Resolved<'a> {
    if let Some(f) = forced {
        return match world.tasks.iter().find(|t| id(t) == f) {
            Some(t) => Resolved::One(t),
            None => Resolved::None("that task no longer exists".into()),
        };
    }
    resolve::resolve(
        target,
        verb,
        world.tasks,
        &memory.shown,
        memory.focus.as_deref(),
    )
}

fn ask_which(message: String, several: &[&Value], mut memory: Memory, world: &World) -> Turn {
    let options: Vec<String> = several.iter().map(|t| id(t).to_owned()).collect();
    let reply = format!(
        "Several tasks match. Which one do you mean?\n{}",
        say::numbered(several)
    );
    let shown = choice_options(world.tasks, &options);
    memory.pending = Some(Pending::Choice {
        message,
        now: world.clock.now,
        options,
    });
    Turn {
        calls: Vec::new(),
        after: None,
        reply,
        awaiting: Some(Awaiting::Choice),
        options: shown,
        memory,
    }
}

/// Creates the task, or asks first when it repeats (the rule in words and
/// its next three dates).
pub(crate) fn add_or_confirm(arguments: Value, memory: Memory, world: &World) -> Turn {
    let call = ToolCall::new("add_task", arguments.clone());
    let Some(rule) = arguments["recurrence"]["rrule"].as_str() else {
        return run(call, After::Added, memory);
    };
    let words = say::lower_first(&todo_model::recurrence::describe(rule));
    let dates = plan::preview(&arguments, &world.clock, 3);
    let title = arguments["title"].as_str().unwrap_or_default();
    let reply = format!(
        "{} will repeat {words}. The next dates: {}. Shall I add it?",
        quote(title),
        dates.join(", ")
    );
    confirm(reply, call, After::Added, memory)
}

fn act_on(
    message: &str,
    intent: Intent,
    forced: Option<&str>,
    mut memory: Memory,
    world: &World,
) -> Turn {
    match intent {
        Intent::Help => say(say::HELP, memory),
        Intent::Yes | Intent::No | Intent::Pick(_) => say(
            format!(
                "There is no question of mine waiting for an answer. {}",
                say::HELP
            ),
            memory,
        ),
        Intent::Unclear { heard } => {
            let mut reply = "I didn't understand that, so I changed nothing.".to_owned();
            if !heard.is_empty() {
                reply.push_str(&format!(" I understood: {}.", heard.join(", ")));
            }
            reply.push_str(" I can add, list, complete, reopen, change and delete tasks, for example \u{201c}add call mom tomorrow at 5pm\u{201d} or \u{201c}what's due this week?\u{201d}.");
            say(reply, memory)
        }
        Intent::Add(draft) => {
            let arguments =
                plan::add_arguments(&draft, draft.title.as_deref().unwrap_or(""), &world.clock);
            if matches!(draft.remind, Some(crate::remind::Remind::Before(_)))
                && arguments.get("due").is_none()
            {
                return say(
                    format!(
                        "When is it due? I need a due date and time to remind you before it. {NOTHING}"
                    ),
                    Memory {
                        pending: None,
                        ..memory
                    },
                );
            }
            if draft.title.is_none() {
                let mut arguments = arguments;
                if let Some(o) = arguments.as_object_mut() {
                    o.remove("title");
                }
                memory.pending = Some(Pending::Title { arguments });
                return Turn {
                    calls: Vec::new(),
                    after: None,
                    reply: "What should the task be called?".into(),
                    awaiting: Some(Awaiting::Detail),
                    options: Vec::new(),
                    memory,
                };
            }
            if !draft.unplaced.is_empty() {
                return leftover::ask(&draft, arguments, memory);
            }
            add_or_confirm(arguments, memory, world)
        }
        Intent::List(mut query) => {
            // Words that are tags the user has: "show my work tasks".
            if query.text.is_none() {
                for word in intent::tag_words(message) {
                    let term = format!("tag:{word}");
                    let known = world.tasks.iter().any(|t| {
                        t["tags"]
                            .as_array()
                            .is_some_and(|tags| tags.iter().any(|x| x == word.as_str()))
                    });
                    if known && !query.filter.contains(&term) {
                        query.filter.push(term);
                    }
                }
            }
            let what = describe_query(&query);
            let mut args = json!({"limit": 20});
            if !query.filter.is_empty() {
                args["filter"] = json!(query.filter.join(" "));
            }
            if let Some(t) = query.text.take() {
                args["query"] = json!(t);
            }
            if let Some(s) = query.sort {
                args["sort"] = json!(s);
            }
            run(
                ToolCall::new("list_tasks", args),
                After::Listed { what },
                memory,
            )
        }
        Intent::Act(verb, target) => match pick(&target, Some(verb), forced, &memory, world) {
            Resolved::One(task) => {
                let args = json!({"id": id(task)});
                match verb {
                    Verb::Complete => run(
                        ToolCall::new("complete_task", args),
                        After::Completed,
                        memory,
                    ),
                    Verb::Uncomplete => run(
                        ToolCall::new("uncomplete_task", args),
                        After::Reopened,
                        memory,
                    ),
                    Verb::Show => run(ToolCall::new("get_task", args), After::Shown, memory),
                    Verb::Delete => {
                        let reply =
                            format!("Delete {}? This cannot be undone here.", say::line(task));
                        let after = After::Deleted {
                            title: title(task).to_owned(),
                        };
                        memory.focus = Some(id(task).to_owned());
                        confirm(reply, ToolCall::new("delete_task", args), after, memory)
                    }
                }
            }
            Resolved::Several(several) => ask_which(message.to_owned(), &several, memory, world),
            Resolved::None(why) => say(format!("{}. {NOTHING}", capitalize(&why)), memory),
        },
        Intent::Change(target, edit) => match pick(&target, None, forced, &memory, world) {
            Resolved::One(task) => {
                let args = plan::update_arguments(task, &edit, &world.clock);
                run(ToolCall::new("update_task", args), After::Updated, memory)
            }
            Resolved::Several(several) => ask_which(message.to_owned(), &several, memory, world),
            Resolved::None(why) => say(format!("{}. {NOTHING}", capitalize(&why)), memory),
        },
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "open tasks due this week, high priority, tagged #work".
fn describe_query(q: &intent::Query) -> String {
    if let Some(t) = &q.text {
        return format!("tasks matching {}", quote(t));
    }
    let mut head = "tasks".to_owned();
    let mut tail = Vec::new();
    for term in &q.filter {
        match term.as_str() {
            "status:open" => head = "open tasks".into(),
            "status:completed" => head = "completed tasks".into(),
            "due:overdue" => tail.push("overdue".to_owned()),
            "due:today" => tail.push("due today".into()),
            "due:tomorrow" => tail.push("due tomorrow".into()),
            "due:this-week" => tail.push("due this week".into()),
            "due<7d" => tail.push("due in the next 7 days".into()),
            "due:none" => tail.push("without a due date".into()),
            "is:recurring" => tail.push("recurring".into()),
            "has:reminder" => tail.push("with reminders".into()),
            t => {
                if let Some(p) = t.strip_prefix("priority:") {
                    tail.push(format!("{p} priority"));
                } else if let Some(tag) = t.strip_prefix("tag:") {
                    tail.push(format!("tagged #{tag}"));
                }
            }
        }
    }
    if tail.is_empty() {
        head
    } else {
        format!("{head} {}", tail.join(", "))
    }
}

/// Words the outcome of `turn`'s calls (`results`, in order; `Err` is the
/// tool's refusal) and the memory after it.
pub fn conclude(turn: &Turn, results: &[Result<Value, String>]) -> (String, Memory) {
    let mut memory = turn.memory.clone();
    let Some(after) = &turn.after else {
        return (turn.reply.clone(), memory);
    };
    let mut lines = Vec::new();
    for result in results {
        let value = match result {
            Ok(v) => v,
            Err(why) => {
                lines.push(format!("I couldn't do that: {why}. {NOTHING}"));
                continue;
            }
        };
        let task = &value["task"];
        match after {
            After::Added => {
                lines.push(format!("Added {}.", say::line(task)));
                memory.focus = task["id"].as_str().map(str::to_owned);
            }
            After::Completed => {
                let mut line = format!("Marked {} as done.", quote(title(task)));
                if !task["recurrence"].is_null() {
                    line.push_str(" It repeats, so the next one will appear in your list.");
                }
                lines.push(line);
                memory.focus = task["id"].as_str().map(str::to_owned);
            }
            After::Reopened => {
                lines.push(format!("Reopened {}.", quote(title(task))));
                memory.focus = task["id"].as_str().map(str::to_owned);
            }
            After::Updated => {
                lines.push(format!("Updated: {}.", say::line(task)));
                memory.focus = task["id"].as_str().map(str::to_owned);
            }
            After::Shown => {
                lines.push(say::line(task));
                memory.focus = task["id"].as_str().map(str::to_owned);
            }
            After::Deleted { title } => {
                lines.push(format!("Deleted {}.", quote(title)));
                memory.focus = None;
            }
            After::Listed { what } => {
                let tasks: Vec<&Value> = value["tasks"]
                    .as_array()
                    .map(|t| t.iter().collect())
                    .unwrap_or_default();
                if tasks.is_empty() {
                    lines.push(format!("You have no {what}."));
                } else {
                    let more = if value["next_cursor"].is_null() {
                        ""
                    } else {
                        " (the first 20)"
                    };
                    lines.push(format!("Your {what}{more}:\n{}", say::numbered(&tasks)));
                }
                memory.shown = tasks.iter().map(|t| id(t).to_owned()).collect();
            }
        }
    }
    (lines.join("\n"), memory)
}
