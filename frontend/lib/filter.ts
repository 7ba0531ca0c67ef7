// Completion for the filter language (components/model/src/filter): the
// keywords a person is likely to type next, for the word being typed.

export const FILTER_KEYWORDS = [
  "status:open",
  "status:completed",
  "priority:urgent",
  "priority:high",
  "priority:medium",
  "priority:low",
  "priority:none",
  "priority>=high",
  "priority>=medium",
  "due:today",
  "due:tomorrow",
  "due:this-week",
  "due:overdue",
  "due:none",
  "due<7d",
  "due>0h",
  "has:reminder",
  "is:recurring",
  "tag:",
];

/** Characters that end a word of the language. */
const SEPARATORS = /[\s()&|!]/;

/** The word under the caret: its start and its text. */
export function currentWord(text: string, caret: number): { start: number; word: string } {
  let start = caret;
  while (start > 0 && !SEPARATORS.test(text[start - 1])) start--;
  return { start, word: text.slice(start, caret) };
}

/** Suggestions for the word under the caret (none for an empty word). */
export function suggestions(text: string, caret: number, tags: string[] = [], max = 8): string[] {
  const { word } = currentWord(text, caret);
  if (!word) return [];
  const lower = word.toLowerCase();
  const all = [...FILTER_KEYWORDS, ...tags.map((t) => `tag:${t}`)];
  return all
    .filter((k) => k.startsWith(lower) && k !== lower)
    .filter((k, i, list) => list.indexOf(k) === i)
    .slice(0, max);
}

/** The text with the word under the caret replaced by `choice`, and where
 * the caret goes next. */
export function applySuggestion(
  text: string,
  caret: number,
  choice: string,
): { text: string; caret: number } {
  const { start } = currentWord(text, caret);
  const open = choice.endsWith(":");
  const before = text.slice(0, start) + choice + (open ? "" : " ");
  const after = text.slice(caret).replace(/^\S*/, "").replace(/^\s+/, "");
  return { text: before + after, caret: before.length };
}

/** Adds `term` to the filter, or removes it when it is there already (the
 * quick filters toggle their term in the same text box). */
export function toggleTerm(filter: string, term: string): string {
  const words = filter.split(/\s+/).filter(Boolean);
  const at = words.indexOf(term);
  if (at >= 0) words.splice(at, 1);
  else words.push(term);
  return words.join(" ");
}

export function hasTerm(filter: string, term: string): boolean {
  return filter.split(/\s+/).includes(term);
}
