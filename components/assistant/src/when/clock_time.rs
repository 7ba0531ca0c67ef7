//! Times of day: "5pm", "5:30 p.m.", "17:00", "1230pm", "5:16p", "at
//! 12.30", "10 o'clock", "noon", "1 in the afternoon", "11 at night".

use chrono::{NaiveTime, Timelike};

use super::at;
use crate::words::Word;

/// A time of day read at some word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub len: usize,
    pub time: NaiveTime,
    /// Said which half of the day (am / pm, a 24-hour time, a part of the
    /// day): a bare "at 8" is not, and "tonight at 8" makes it evening.
    pub explicit: bool,
    /// "this evening", "this morning": today's, even once it has passed.
    pub today: bool,
}

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

fn named(word: &str) -> Option<NaiveTime> {
    match word {
        "noon" | "midday" => hm(12, 0),
        "midnight" => hm(23, 59),
        "morning" => hm(9, 0),
        "afternoon" => hm(14, 0),
        "evening" => hm(18, 0),
        "night" => hm(20, 0),
        _ => None,
    }
}

/// Hours and minutes of "5", "17:00", "12.30", "1230"; whether it was
/// written the 24-hour way (a colon or a dot).
fn digits_of(digits: &str, dotted_ok: bool, compact_ok: bool) -> Option<(u32, u32, bool)> {
    let sep = digits.find([':', '.']);
    if let Some(k) = sep {
        if &digits[k..=k] == "." && !dotted_ok {
            return None;
        }
        let (h, m) = (&digits[..k], &digits[k + 1..]);
        let ok =
            |s: &str, n: usize| (1..=n).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !ok(h, 2) || m.len() != 2 || !ok(m, 2) {
            return None;
        }
        return Some((h.parse().ok()?, m.parse().ok()?, true));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.len() {
        1 | 2 => Some((digits.parse().ok()?, 0, false)),
        3 | 4 if compact_ok => {
            let (h, m) = digits.split_at(digits.len() - 2);
            Some((h.parse().ok()?, m.parse().ok()?, false))
        }
        _ => None,
    }
}

/// A part of the day after a time ("in the afternoon", "at night"): its
/// length and name.
fn part_of_day(words: &[Word], i: usize) -> Option<(usize, &'static str)> {
    match (at(words, i), at(words, i + 1), at(words, i + 2)) {
        ("in", "the", "morning") => Some((3, "morning")),
        ("in", "the", "afternoon") => Some((3, "afternoon")),
        ("in", "the", "evening") => Some((3, "evening")),
        ("at", "night", _) => Some((2, "night")),
        ("tonight", _, _) => Some((1, "tonight")),
        _ => None,
    }
}

/// `h` (1-12) in a part of the day, as a 24-hour hour.
fn in_part(h: u32, part: &str) -> Option<u32> {
    Some(match (part, h) {
        (_, 0) | (_, 13..) => return None,
        ("morning", 12) => 0,
        ("morning", h) => h,
        ("afternoon", 12) => 12,
        ("afternoon" | "evening", h) => h + 12,
        ("night" | "tonight", 12) => 0,
        ("night" | "tonight", 1..=5) => h,
        (_, h) => h + 12,
    })
}

/// A time of day starting at word `i`; `after_at`: the word before was
/// "at" (or "by", ...), so a bare hour counts ("at 10").
pub fn read(words: &[Word], i: usize, after_at: bool) -> Option<Read> {
    let w = at(words, i);
    let plain = |len, time| {
        Some(Read {
            len,
            time,
            explicit: true,
            today: false,
        })
    };
    if let Some(t) = named(w) {
        return plain(1, t);
    }
    // "5pm", "5:30pm", "1230pm", "5p", "5:16p"; or the suffix a word on.
    let (digits, suffix) = match w.find(|c: char| c.is_ascii_alphabetic()) {
        Some(k) => (&w[..k], Some(&w[k..])),
        None => (w, None),
    };
    let (meridiem, mut len) = match suffix {
        Some(s) => (Some(s), 1),
        None => match at(words, i + 1) {
            s @ ("am" | "pm") if !digits.is_empty() => (Some(s), 2),
            "o'clock" | "oclock" => (None, 2),
            _ => (None, 1),
        },
    };
    let meridiem = match meridiem {
        Some("am" | "a") => Some(false),
        Some("pm" | "p") => Some(true),
        Some(_) => return None,
        None => None,
    };
    let (h, m, colon) = digits_of(
        digits,
        meridiem.is_some() || after_at,
        meridiem.is_some() || after_at,
    )?;
    let oclock = len == 2 && meridiem.is_none();
    let part = part_of_day(words, i + len);
    let h = match (meridiem, part) {
        (Some(pm), _) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
        (Some(_), _) => return None,
        (None, Some((_, part))) if !colon || h <= 12 => in_part(h, part)?,
        // 17:00, or "at 10": a bare hour reads as a waking hour.
        (None, _) if colon => h,
        (None, _) if oclock || after_at => match h {
            1..=6 => h + 12,
            7..=23 => h,
            _ => return None,
        },
        (None, _) => return None,
    };
    let explicit = meridiem.is_some() || part.is_some() || colon && h > 12 || h == 0;
    if let Some((n, _)) = part {
        len += n;
    }
    Some(Read {
        len,
        time: hm(h, m)?,
        explicit,
        today: matches!(part, Some((_, "tonight"))),
    })
}

/// The same time, read as the evening's when it did not say ("tonight at
/// 8": 20:00).
pub fn in_evening(read: Read) -> NaiveTime {
    if read.explicit || read.time.hour() >= 12 {
        read.time
    } else {
        read.time + chrono::Duration::hours(12)
    }
}

/// `at 5pm`, `5pm`, `in the morning`, `this evening`: a time at word `i`
/// with its lead-in.
pub fn phrase(words: &[Word], i: usize) -> Option<Read> {
    let w = at(words, i);
    let with = |n: usize, r: Read| Read {
        len: r.len + n,
        ..r
    };
    if w == "at" || w == "@" {
        return read(words, i + 1, true).map(|r| with(1, r));
    }
    if w == "in"
        && at(words, i + 1) == "the"
        && matches!(at(words, i + 2), "morning" | "afternoon" | "evening")
    {
        return read(words, i + 2, false).map(|r| with(2, r));
    }
    if w == "this" && matches!(at(words, i + 1), "morning" | "afternoon" | "evening") {
        return read(words, i + 1, false).map(|r| Read {
            today: true,
            ..with(1, r)
        });
    }
    match w {
        "morning" | "afternoon" | "evening" | "night" => None,
        _ => read(words, i, false),
    }
}
