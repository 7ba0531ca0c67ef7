//! Priority and tags in a request: "urgent", "high priority", "p1";
//! "#work", "tag it groceries", "tagged home and errands".

use crate::when::Found;
use crate::words::Word;

fn at(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// The priority a word names, as the task model spells it.
pub fn level(word: &str) -> Option<&'static str> {
    Some(match word {
        "urgent" | "critical" | "asap" | "p1" => "urgent",
        "high" | "important" | "p2" => "high",
        "medium" | "normal" | "moderate" | "p3" => "medium",
        "low" | "minor" | "p4" => "low",
        "no" | "none" => "none",
        _ => return None,
    })
}

/// `<level> priority`, `priority <level>`, `urgent`, `p1`, `important`,
/// with a leading "with" / "as" / "at" taken too.
pub fn find_priority(words: &[Word], from: usize) -> Option<Found<&'static str>> {
    (from..words.len()).find_map(|i| {
        let w = at(words, i);
        let lead =
            usize::from(matches!(at(words, i.wrapping_sub(1)), "with" | "as" | "at") && i > from);
        let start = i - lead;
        if matches!(w, "priority" | "prio") {
            let p = level(at(words, i + 1))?;
            return Some(Found {
                start,
                end: i + 2,
                value: p,
            });
        }
        let p = level(w)?;
        if matches!(at(words, i + 1), "priority" | "prio" | "pri") {
            return Some(Found {
                start,
                end: i + 2,
                value: p,
            });
        }
        // A bare word counts only when it cannot be anything else.
        matches!(
            w,
            "urgent" | "urgently" | "asap" | "p1" | "p2" | "p3" | "p4" | "important"
        )
        .then_some(Found {
            start: i,
            end: i + 1,
            value: p,
        })
    })
}

/// A tag as the task model accepts it (lower case, no spaces or operators).
pub fn clean_tag(s: &str) -> Option<String> {
    let t: String = s
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '&' | '|' | '!' | ':' | ',' | '"'))
        .collect::<String>()
        .to_lowercase();
    (!t.is_empty() && t.len() <= 50).then_some(t)
}

const STOP: [&str; 16] = [
    "and", "with", "due", "on", "by", "at", "every", "remind", "priority", "tomorrow", "today",
    "in", "the", "a", "an", "my",
];

/// Every `#tag`, and the tags after "tag it" / "tagged" / "with tag(s)" /
/// "tags:" (one word, or a list joined by commas or "and"). Spans
/// returned in order, each with its tags.
pub fn find_tags(words: &[Word]) -> Vec<Found<Vec<String>>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = at(words, i);
        if let Some(tag) = w.strip_prefix('#').and_then(clean_tag) {
            out.push(Found {
                start: i,
                end: i + 1,
                value: vec![tag],
            });
            i += 1;
            continue;
        }
        let lead = match (w, at(words, i + 1)) {
            ("tag", "it" | "as" | "with") | ("tagged", "as" | "with") => 2,
            ("with", "tag" | "tags" | "label" | "labels") | ("label", "it") => 2,
            ("tag" | "tagged" | "tags" | "labels" | "labelled" | "labeled", _) => 1,
            _ => 0,
        };
        if lead == 0 || (w == "tag" && i + lead >= words.len()) {
            i += 1;
            continue;
        }
        let mut j = i + lead;
        let mut tags = Vec::new();
        while let Some(tag) = words
            .get(j)
            .filter(|w| !STOP.contains(&w.text.as_str()))
            .and_then(|w| clean_tag(&w.text))
        {
            tags.push(tag);
            j += 1;
            if at(words, j) == "and"
                && words
                    .get(j + 1)
                    .is_some_and(|w| !STOP.contains(&w.text.as_str()))
            {
                j += 1;
            } else {
                break;
            }
        }
        if tags.is_empty() {
            i += 1;
            continue;
        }
        out.push(Found {
            start: i,
            end: j,
            value: tags,
        });
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::words;

    #[test]
    fn priorities() {
        let p = |s: &str| find_priority(&words(s), 0).map(|f| f.value);
        assert_eq!(p("call the bank urgent"), Some("urgent"));
        assert_eq!(p("report high priority"), Some("high"));
        assert_eq!(p("report with low priority"), Some("low"));
        assert_eq!(p("taxes p1"), Some("urgent"));
        assert_eq!(p("priority medium: slides"), Some("medium"));
        assert_eq!(p("climb a high mountain"), None);
        assert_eq!(p("buy milk"), None);
    }

    #[test]
    fn tags() {
        let t = |s: &str| {
            find_tags(&words(s))
                .into_iter()
                .flat_map(|f| f.value)
                .collect::<Vec<_>>()
        };
        assert_eq!(t("buy milk #groceries #home"), ["groceries", "home"]);
        assert_eq!(t("buy milk and tag it groceries"), ["groceries"]);
        assert_eq!(t("slides tagged work and q4"), ["work", "q4"]);
        assert_eq!(t("call bob with tag family due friday"), ["family"]);
        assert!(t("play tag with the kids").is_empty());
    }
}
