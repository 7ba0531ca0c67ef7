//! Reading the chain: filtered pages of entries.

use serde::Serialize;
use todo_domain::http::bounded_param;
use todo_domain::{ApiError, KeyValue, KvError};

use crate::chain::Entry;
use crate::store::{BULK_CHUNK, Chain, read_entries, read_head, read_seqs, read_task_index};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;
/// Entries examined per request at most, so a filter that matches nothing
/// cannot make one request read the whole log; `next_after` resumes.
pub const MAX_SCAN: u64 = 10_000;

/// `GET /api/audit` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// One task's history: the entries whose subject is this task, of
    /// every topic (read through the task's index, not by scanning).
    pub task: Option<String>,
    pub subject: Option<String>,
    pub ty: Option<String>,
    /// Only entries with a greater seq.
    pub after: u64,
    pub limit: usize,
}

/// The longest id a subject can have (ids are UUIDs: 36 characters).
const MAX_SUBJECT: usize = 128;

/// A task or subject id as a filter: 1-128 printable characters, so that
/// it can name a record; anything else is a 422 naming the parameter.
fn subject_id(name: &str, value: &str) -> Result<String, ApiError> {
    let printable = value.chars().all(|c| c.is_ascii_graphic());
    if value.is_empty() || value.len() > MAX_SUBJECT || !printable {
        return Err(ApiError::validation(
            name,
            format!("{name} must be an id of 1-{MAX_SUBJECT} printable ASCII characters"),
        ));
    }
    Ok(value.to_owned())
}

impl Query {
    /// Parses decoded query pairs. Unknown parameters are refused so a typo
    /// (`subjet=`) is not silently an unfiltered query.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = Query {
            task: None,
            subject: None,
            ty: None,
            after: 0,
            limit: DEFAULT_LIMIT,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "task" => query.task = Some(subject_id("task", value)?),
                "subject" => query.subject = Some(subject_id("subject", value)?),
                "type" => query.ty = Some(value.clone()),
                "after" => {
                    query.after = value.parse().map_err(|_| {
                        ApiError::bad_request("after", "after must be a sequence number (u64)")
                    })?;
                }
                "limit" => query.limit = bounded_param("limit", value, 1, MAX_LIMIT)?,
                other => {
                    return Err(ApiError::bad_request(
                        other,
                        format!("unknown query parameter `{other}`"),
                    ));
                }
            }
        }
        Ok(query)
    }

    fn matches(&self, entry: &Entry) -> bool {
        let attr = |name: &str| entry.event.get(name).and_then(|v| v.as_str());
        self.subject
            .as_deref()
            .is_none_or(|s| attr("subject") == Some(s))
            && self.ty.as_deref().is_none_or(|t| attr("type") == Some(t))
    }
}

/// A page of matching entries.
#[derive(Debug, Serialize)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// The chain's length when the page was read.
    pub head: u64,
    /// Pass as `after` to continue; equals `head` once everything is read.
    pub next_after: u64,
}

/// Matching entries after `query.after`, oldest first, up to `query.limit`.
pub fn page(kv: &impl KeyValue, chain: Chain, query: &Query) -> Result<Page, KvError> {
    let (head, _) = read_head(kv, chain)?;
    if let Some(task) = &query.task {
        return task_page(kv, chain, query, task, head.seq);
    }
    let last = head.seq.min(query.after.saturating_add(MAX_SCAN));
    let mut entries = Vec::new();
    let mut scanned = query.after.min(head.seq);
    while scanned < last && entries.len() < query.limit {
        let to = last.min(scanned + BULK_CHUNK);
        for (seq, entry) in read_entries(kv, chain, scanned + 1, to)? {
            scanned = seq;
            // A missing or unreadable entry is skipped here; `/verify`
            // is where damage is reported.
            if let Some(Ok(entry)) = entry
                && query.matches(&entry)
            {
                entries.push(entry);
                if entries.len() == query.limit {
                    break;
                }
            }
        }
    }
    Ok(Page {
        entries,
        head: head.seq,
        next_after: scanned,
    })
}

/// A task's entries after `query.after`, from the task's index.
fn task_page(
    kv: &impl KeyValue,
    chain: Chain,
    query: &Query,
    task: &str,
    head: u64,
) -> Result<Page, KvError> {
    let seqs: Vec<u64> = read_task_index(kv, chain, task)?
        .into_iter()
        .filter(|s| *s > query.after)
        .take(query.limit)
        .collect();
    let entries: Vec<Entry> = read_seqs(kv, chain, &seqs)?
        .into_iter()
        .filter_map(|(_, e)| e.and_then(Result::ok))
        .filter(|e| query.matches(e))
        .collect();
    let next_after = if seqs.len() == query.limit {
        seqs.last().copied().unwrap_or(head)
    } else {
        head
    };
    Ok(Page {
        entries,
        head,
        next_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record;
    use crate::keys::test_secrets;

    use todo_domain::topics::{REMINDER_EVENTS, TASK_EVENTS, event_type};
    use todo_domain::{EventOrigin, MemoryKv};

    /// Records `n` events alternating between two subjects and two types.
    fn log(n: usize) -> MemoryKv {
        let kv = MemoryKv::new();
        let origin = EventOrigin::new("chat-api", "u", "c");
        for i in 0..n {
            let (topic, ty) = if i % 2 == 0 {
                (TASK_EVENTS, event_type::TASK_CREATED)
            } else {
                (REMINDER_EVENTS, event_type::REMINDER_SCHEDULED)
            };
            let subject = if i % 3 == 0 { "a" } else { "b" };
            let event = origin.event(ty).subject(subject).build();
            record(&kv, &test_secrets(), topic, &event).unwrap();
        }
        kv
    }

    fn pairs(q: &str) -> Vec<(String, String)> {
        todo_domain::Request::new("GET", &format!("/?{q}")).query_pairs()
    }

    fn seqs(page: &Page) -> Vec<u64> {
        page.entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn parses_and_validates_parameters() {
        let q = Query::parse(&pairs("subject=a&type=x.v1&after=3&limit=7")).unwrap();
        assert_eq!(
            q,
            Query {
                task: None,
                subject: Some("a".into()),
                ty: Some("x.v1".into()),
                after: 3,
                limit: 7
            }
        );
        assert_eq!(Query::parse(&[]).unwrap().limit, DEFAULT_LIMIT);
        for (bad, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("limit=ten", "limit"),
            ("after=-1", "after"),
            ("subjet=a", "subjet"),
        ] {
            let err = Query::parse(&pairs(bad)).unwrap_err();
            assert_eq!(
                (err.status, err.field.as_deref()),
                (400, Some(field)),
                "{bad}"
            );
        }
    }

    #[test]
    fn pages_filter_by_subject_type_and_cursor() {
        let kv = log(12);
        let all = page(&kv, Chain("u"), &Query::parse(&[]).unwrap()).unwrap();
        assert_eq!(seqs(&all), (1..=12).collect::<Vec<_>>());
        assert_eq!((all.head, all.next_after), (12, 12));

        let a = page(&kv, Chain("u"), &Query::parse(&pairs("subject=a")).unwrap()).unwrap();
        assert_eq!(seqs(&a), [1, 4, 7, 10]);

        let q = format!("type={}&subject=b", event_type::REMINDER_SCHEDULED);
        let reminders_b = page(&kv, Chain("u"), &Query::parse(&pairs(&q)).unwrap()).unwrap();
        assert_eq!(seqs(&reminders_b), [2, 6, 8, 12]);

        let first = page(&kv, Chain("u"), &Query::parse(&pairs("limit=5")).unwrap()).unwrap();
        assert_eq!((seqs(&first), first.next_after), (vec![1, 2, 3, 4, 5], 5));
        let rest = page(
            &kv,
            Chain("u"),
            &Query::parse(&pairs("after=5&limit=5")).unwrap(),
        )
        .unwrap();
        assert_eq!(seqs(&rest), [6, 7, 8, 9, 10]);

        let past_end = page(&kv, Chain("u"), &Query::parse(&pairs("after=99")).unwrap()).unwrap();
        assert!(past_end.entries.is_empty());
        assert_eq!(past_end.next_after, 12);
    }

    #[test]
    fn pages_span_bulk_chunks() {
        let kv = log(250);
        let q = Query::parse(&pairs("after=90&limit=500")).unwrap();
        let p = page(&kv, Chain("u"), &q).unwrap();
        assert_eq!(seqs(&p), (91..=250).collect::<Vec<_>>());
    }
}
