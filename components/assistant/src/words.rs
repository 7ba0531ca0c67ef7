//! The message as words: lower-cased for matching, each with its byte
//! range in the original so what is left (the title) keeps its spelling.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Characters that end or start a word without being part of it.
fn is_edge_punctuation(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | ';' | ':' | '!' | '?' | '"' | '(' | ')' | '“' | '”'
    )
}

pub fn words(s: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    for piece in s.split_inclusive(char::is_whitespace) {
        let start = i;
        i += piece.len();
        let trimmed = piece.trim_end();
        let lead = trimmed.len() - trimmed.trim_start_matches(is_edge_punctuation).len();
        let core = trimmed
            .trim_start_matches(is_edge_punctuation)
            .trim_end_matches(is_edge_punctuation);
        let lower = core.to_lowercase().replace(['’', '‘'], "'");
        let text = match lower.as_str() {
            "a.m" => "am".to_owned(),
            "p.m" => "pm".to_owned(),
            _ => lower,
        };
        out.push(Word {
            text,
            start: start + lead,
            end: start + lead + core.len(),
        });
    }
    out
}

/// The original text of words `from..to`.
pub fn span<'a>(original: &'a str, words: &[Word], from: usize, to: usize) -> &'a str {
    if from >= to || to > words.len() {
        return "";
    }
    &original[words[from].start..words[to - 1].end]
}

/// Small numbers as words, and digits.
pub fn number(word: &str) -> Option<u32> {
    const NAMES: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    if let Some(n) = NAMES.iter().position(|n| *n == word) {
        return u32::try_from(n).ok();
    }
    match word {
        "a" | "an" => Some(1),
        "couple" => Some(2),
        "fifteen" => Some(15),
        "twenty" => Some(20),
        "thirty" => Some(30),
        "forty-five" => Some(45),
        _ => word.parse().ok().filter(|_| word.len() <= 6),
    }
}

/// "1st", "2nd", "3rd", "4th", "21st" and "first" .. "fifth", "last".
pub fn ordinal(word: &str) -> Option<u32> {
    const NAMES: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];
    if let Some(n) = NAMES.iter().position(|n| *n == word) {
        return u32::try_from(n + 1).ok();
    }
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))?;
    digits.parse().ok().filter(|n| (1..=31).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_place_in_the_original() {
        let s = "Call Mom, tomorrow at 5 p.m. (urgent!)";
        let w = words(s);
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            texts,
            ["call", "mom", "tomorrow", "at", "5", "pm", "urgent"]
        );
        assert_eq!(span(s, &w, 0, 2), "Call Mom");
        assert_eq!(&s[w[6].start..w[6].end], "urgent");
    }

    #[test]
    fn numbers_and_ordinals() {
        assert_eq!(number("two"), Some(2));
        assert_eq!(number("30"), Some(30));
        assert_eq!(number("an"), Some(1));
        assert_eq!(ordinal("3rd"), Some(3));
        assert_eq!(ordinal("21st"), Some(21));
        assert_eq!(ordinal("second"), Some(2));
        assert_eq!(ordinal("32nd"), None);
    }
}
