import { describe, expect, it } from "vitest";
import { applySuggestion, currentWord, hasTerm, suggestions, toggleTerm } from "@/lib/filter";

describe("filter completion", () => {
  it("finds the word under the caret after operators and parentheses", () => {
    expect(currentWord("status:open (pri", 16)).toEqual({ start: 13, word: "pri" });
    expect(currentWord("a|!du", 5)).toEqual({ start: 3, word: "du" });
    expect(currentWord("", 0)).toEqual({ start: 0, word: "" });
  });

  it("suggests keywords and the user's tags for the word typed", () => {
    expect(suggestions("due:t", 5)).toEqual(["due:today", "due:tomorrow", "due:this-week"]);
    expect(suggestions("tag:w", 5, ["work", "home", "web"])).toEqual(["tag:work", "tag:web"]);
    expect(suggestions("STATUS:O", 8)).toEqual(["status:open"]);
    expect(suggestions("status:open ", 12)).toEqual([]);
    expect(suggestions("zzz", 3)).toEqual([]);
  });

  it("does not suggest the word already complete", () => {
    expect(suggestions("is:recurring", 12)).toEqual([]);
  });

  it("replaces the word and places the caret after it", () => {
    expect(applySuggestion("status:open pri", 15, "priority>=high")).toEqual({
      text: "status:open priority>=high ",
      caret: 27,
    });
    // An open keyword (tag:) keeps the caret right after the colon.
    expect(applySuggestion("ta", 2, "tag:")).toEqual({ text: "tag:", caret: 4 });
    // Text after the caret survives, the rest of the replaced word does not.
    expect(applySuggestion("du x", 2, "due:today").text).toBe("due:today x");
  });

  it("toggles quick-filter terms in the same text", () => {
    expect(toggleTerm("", "due:today")).toBe("due:today");
    expect(toggleTerm("status:open due:today", "due:today")).toBe("status:open");
    expect(hasTerm("status:open due:today", "due:today")).toBe(true);
    expect(hasTerm("status:open due:todayish", "due:today")).toBe(false);
  });
});
